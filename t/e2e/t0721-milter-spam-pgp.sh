#!/bin/bash
# t0721-milter-spam-pgp: OpenPGP through postern-milter in front of
# SpamAssassin in a real private Postfix (smtpd_milters = postern-milter,
# spamass-milter).
# 1. a PGP/MIME-encrypted GTUBE message (made by the gpg CLI) to an
#    internal recipient is rejected with 5xx at SMTP time: postern-milter
#    decrypted it before spamass-milter looked; the same ciphertext to an
#    external recipient is not decrypted and passes;
# 2. a harmless PGP/MIME message, signed and encrypted, is delivered
#    decrypted with its info headers (valid signature, [decrypted] tag);
#    a PGP/INLINE one too;
# 3. a forged X-Postern-Info-PGP-Signature-Valid header never survives;
# 4. when the keyring is broken (its secret keys gone), encrypted mail
#    gets 4xx at SMTP time (milter_failure_action tempfail) and is never
#    delivered, let alone marked decrypted; once repaired it decrypts.
set -eu
cd "$(dirname "$0")/../.."
. t/e2e/lib.sh
O=${O:-build}
MILTER=$PWD/$O/bin/postern-milter
CTL=$PWD/$O/bin/posternctl

e2e_require postfix postconf smtp-sink swaks script ss useradd spamd \
    spamass-milter spamc gpg gpgconf
[ -x "$MILTER" ] || e2e_fail "no $MILTER"

E2E_DIR=$(mktemp -d /tmp/postern-e2e.XXXXXX)
E2E_DIR_CREATED=1
chmod 755 "$E2E_DIR"
e2e_ensure_user postern
st=$E2E_DIR/postern
home=$st/state/gnupg
ext=$E2E_DIR/ext
mkdir -p "$st"
cat > "$st/postern.conf" <<EOC
state_directory = $st/state
master_key_file = $st/master.key
log_destination = stderr
EOC
ctl() { "$CTL" -c "$st/postern.conf" "$@" || e2e_fail "posternctl $*"; }
ctl init >/dev/null
ctl domain add example.com >/dev/null
ctl set --domain example.com locality internal >/dev/null
alice=$(ctl --json pgp generate --email alice@example.com --name Alice |
    sed -n 's/.*"fpr": *"\([0-9A-F]*\)".*/\1/p' | head -1)
[ ${#alice} -eq 40 ] || e2e_fail "no key for alice"
ctl pgp export "$alice" > "$E2E_DIR/alice.asc"
# bob, an outside sender, in his own GnuPG home
mkdir -m 700 "$ext"
g() { gpg --homedir "$ext" --batch -q --yes --trust-model always "$@" 2>/dev/null; }
g --passphrase '' --pinentry-mode loopback --quick-gen-key \
    'Bob <bob@example.net>' future-default default never || e2e_fail "gpg keygen"
g --import "$E2E_DIR/alice.asc"
g --armor --export bob@example.net > "$E2E_DIR/bob.asc"
ctl pgp import "$E2E_DIR/bob.asc" >/dev/null
bob=$(gpg --homedir "$ext" --batch --with-colons --list-keys bob@example.net 2>/dev/null |
    awk -F: '/^fpr/{print $10; exit}')
ctl pgp trust "$bob" >/dev/null
# posternctl ran gpg as root: its agent goes, the milter's user owns all
gpgconf --homedir "$home" --kill gpg-agent >/dev/null 2>&1 || true
chown -R postern:postern "$st"

spamd_port=$(e2e_pick_port)
E2E_SMTP_PORT=$(e2e_pick_port "$spamd_port")
E2E_MAIN_EXTRA="smtpd_milters = unix:$E2E_DIR/postern.sock, unix:$E2E_DIR/spamass.sock
milter_default_action = tempfail"
pf_init "$E2E_DIR"
trap 'gpgconf --homedir "$home" --kill gpg-agent >/dev/null 2>&1;
    gpgconf --homedir "$ext" --kill gpg-agent >/dev/null 2>&1; e2e_cleanup' EXIT

e2e_spawn spamd --listen="127.0.0.1:$spamd_port" -u nobody --max-children=2 \
    --syslog=stderr --pidfile="$E2E_DIR/spamd.pid" 2>"$E2E_DIR/spamd.log"
e2e_wait_port "$spamd_port" 60 || { tail "$E2E_DIR/spamd.log"; e2e_fail "spamd did not start"; }
e2e_spawn sh -c "umask 0; exec spamass-milter -p '$E2E_DIR/spamass.sock' -r -1 -- -d 127.0.0.1 -p $spamd_port" \
    2>"$E2E_DIR/spamass.log"
e2e_spawn "$MILTER" -F -c "$st/postern.conf" -p "unix:$E2E_DIR/postern.sock" \
    -u postern:postfix 2>"$E2E_DIR/milter.log"
for _ in $(seq 100); do
	[ -S "$E2E_DIR/postern.sock" ] && [ -S "$E2E_DIR/spamass.sock" ] && break
	sleep 0.1
done
[ -S "$E2E_DIR/postern.sock" ] || { cat "$E2E_DIR/milter.log"; e2e_fail "no postern-milter socket"; }
[ -S "$E2E_DIR/spamass.sock" ] || { cat "$E2E_DIR/spamass.log"; e2e_fail "no spamass-milter socket"; }
grep -q "OpenPGP keyring" "$E2E_DIR/milter.log" && { cat "$E2E_DIR/milter.log"; e2e_fail "keyring did not open"; }
sink_start
pf_start

gtube='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
# mail TO SUBJECT BODY mime|inline|plain [GPG-ARGS] [EXTRA_HEADER]: a file
mail() {
	local to=$1 subj=$2 body=$3 how=$4 args=${5:-} extra=${6:-}
	local f
	f=$(mktemp "$E2E_DIR/msg.XXXXXX")
	printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n' "$body" > "$f.inner"
	printf '%s\r\n' "$body" > "$f.text"
	{
		printf 'From: Bob <bob@example.net>\r\nTo: %s\r\nSubject: %s\r\n' "$to" "$subj"
		printf 'Date: %s\r\nMessage-ID: <%s.%s@example.net>\r\n' "$(date -R)" "${f##*.}" "$$"
		[ -n "$extra" ] && printf '%s\r\n' "$extra"
		printf 'MIME-Version: 1.0\r\n'
		case $how in
		mime)
			# shellcheck disable=SC2086 # gpg options, word split
			g --armor -r alice@example.com $args -o "$f.asc" -e "$f.inner"
			printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"\r\n\r\n'
			printf -- '--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n'
			printf -- '--b\r\nContent-Type: application/octet-stream; name="encrypted.asc"\r\n\r\n'
			sed 's/\r*$/\r/' "$f.asc"
			printf -- '\r\n--b--\r\n' ;;
		inline)
			# shellcheck disable=SC2086
			g --armor -r alice@example.com $args -o "$f.asc" -e "$f.text"
			printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\n'
			sed 's/\r*$/\r/' "$f.asc" ;;
		*)
			cat "$f.inner" ;;
		esac
	} > "$f"
	echo "$f"
}
send() {
	e2e_send --from bob@example.net --to "$2" --data "$1" --silent 0 \
	    >"$1.out" 2>&1
}
captured() {
	local f
	f=$(grep -l "^Subject: $1" $(e2e_mail_files) 2>/dev/null | head -1)
	[ -n "$f" ] || e2e_fail "no delivered message with subject '$1'"
	echo "$f"
}
delivered_with() {
	local f
	f=$(captured "$1")
	shift
	for p in "$@"; do
		grep -qF -- "$p" "$f" || { sed 's/^/    /' "$f" | head -50; e2e_fail "delivered mail lacks '$p'"; }
	done
}
delivered_without() {
	local f
	f=$(captured "$1")
	shift
	for p in "$@"; do
		! grep -qF -- "$p" "$f" || e2e_fail "delivered mail has '$p'"
	done
}

# --- 1. PGP/MIME GTUBE rejected at SMTP time -------------------------------
f=$(mail alice@example.com "plain gtube" "$gtube" plain)
if send "$f" alice@example.com; then e2e_fail "plain GTUBE accepted"; fi
grep -qE '<\*\* +5[0-9][0-9]' "$f.out" || { cat "$f.out"; e2e_fail "plain GTUBE: no 5xx"; }
echo "ok: plain GTUBE rejected (control)"

f=$(mail alice@example.com "pgp gtube" "$gtube" mime)
grep -q "GTUBE" "$f" && e2e_fail "the test message is not encrypted"
if send "$f" alice@example.com; then e2e_fail "PGP/MIME-encrypted GTUBE accepted"; fi
grep -qE '<\*\* +5[0-9][0-9]' "$f.out" || { cat "$f.out"; e2e_fail "PGP GTUBE: no 5xx"; }
grep -q 'pgp=decrypted' "$E2E_DIR/milter.log" || { cat "$E2E_DIR/milter.log"; e2e_fail "milter did not decrypt"; }
echo "ok: PGP/MIME-encrypted GTUBE rejected with 5xx at SMTP time"
[ "$(e2e_mail_count)" -eq 0 ] || e2e_fail "a GTUBE message was delivered"

# the same ciphertext to an outside recipient: not decrypted, passes
f=$(mail carol@example.net "pgp gtube outside" "$gtube" mime)
send "$f" carol@example.net || { cat "$f.out"; e2e_fail "external PGP mail refused"; }
e2e_wait_mail 1 || e2e_fail "external PGP mail not delivered"
delivered_with "pgp gtube outside" "BEGIN PGP MESSAGE" \
    "X-Postern-Info-Decryption-Skipped: recipient carol@example.net is not internal"
delivered_without "pgp gtube outside" "GTUBE"
echo "ok: external recipient: left encrypted, passes"

# --- 2. harmless mail arrives decrypted ------------------------------------
f=$(mail alice@example.com "quarterly figures" "The figures are fine." mime \
    "-u bob@example.net -s" "X-Postern-Info-PGP-Signature-Valid-0-0: True")
send "$f" alice@example.com || { cat "$f.out"; e2e_fail "harmless PGP mail refused"; }
e2e_wait_mail 2 || e2e_fail "decrypted mail not delivered"
delivered_with "quarterly figures" "The figures are fine." \
    "X-Postern-Info-PGP-Encoding: PGP/MIME" \
    "X-Postern-Info-PGP-Encrypted: True" \
    "X-Postern-Info-PGP-Encryption-Algorithm-0: AES256" \
    "X-Postern-Info-PGP-Signer-Email-0-0: bob@example.net" \
    "X-Postern-Info-PGP-Signature-Valid-0-0: True" \
    "X-Postern-Info-PGP-Signed: True" \
    "Subject: quarterly figures [decrypted]"
delivered_without "quarterly figures" "BEGIN PGP MESSAGE"
n=$(grep -c "PGP-Signature-Valid-0-0" "$(captured "quarterly figures")")
[ "$n" = 1 ] || e2e_fail "the forged signature header survived ($n)"
echo "ok: PGP/MIME mail delivered decrypted with info headers; forged header gone"

f=$(mail alice@example.com "inline note" "Meet at noon." inline)
send "$f" alice@example.com || { cat "$f.out"; e2e_fail "PGP/INLINE mail refused"; }
e2e_wait_mail 3 || e2e_fail "PGP/INLINE mail not delivered"
delivered_with "inline note" "Meet at noon." "X-Postern-Info-PGP-Encoding: PGP/INLINE"
delivered_without "inline note" "BEGIN PGP MESSAGE"
echo "ok: PGP/INLINE mail delivered decrypted"

# --- 4. broken keyring: tempfail at SMTP time ------------------------------
gpgconf --homedir "$home" --kill gpg-agent >/dev/null 2>&1 || true
mv "$home/private-keys-v1.d" "$E2E_DIR/keys.away"
f=$(mail alice@example.com "keyring broken" "Try again later." mime)
if send "$f" alice@example.com; then e2e_fail "mail accepted with a broken keyring"; fi
grep -qE '<\*\* +4[0-9][0-9]' "$f.out" || { cat "$f.out"; e2e_fail "broken keyring: no 4xx"; }
grep -q 'status=tempfail reason=.*keyring or agent failure' "$E2E_DIR/milter.log" ||
    { tail "$E2E_DIR/milter.log"; e2e_fail "no tempfail log line"; }
sleep 1
[ "$(e2e_mail_count)" -eq 3 ] || e2e_fail "mail delivered with a broken keyring"
echo "ok: broken keyring: 4xx at SMTP time, nothing delivered"
gpgconf --homedir "$home" --kill gpg-agent >/dev/null 2>&1 || true
rm -rf "$home/private-keys-v1.d"
mv "$E2E_DIR/keys.away" "$home/private-keys-v1.d"
send "$f" alice@example.com || { cat "$f.out"; e2e_fail "repaired: mail refused"; }
e2e_wait_mail 4 || e2e_fail "repaired: mail not delivered"
delivered_with "keyring broken" "Try again later." "Subject: keyring broken [decrypted]"
echo "ok: repaired keyring: decrypted again"

grep -E '^postern-milter: [0-9A-F]+: milter: ' "$E2E_DIR/milter.log" | head -8
echo "t0721: ok"
