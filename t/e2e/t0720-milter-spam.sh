#!/bin/bash
# t0720-milter-spam: postern-milter in front of SpamAssassin in a real
# private Postfix (smtpd_milters = postern-milter, spamass-milter).
# 1. an S/MIME-encrypted GTUBE message to an internal recipient is
#    rejected with 5xx at SMTP time: postern-milter decrypted it before
#    spamass-milter looked (the plain GTUBE control is rejected too; the
#    same ciphertext to an external recipient is not decrypted, so it
#    passes: the milter only decrypts for internal mail);
# 2. an encrypted harmless message arrives decrypted with info headers;
# 3. a forged X-Postern-Info-Signer-Verified header never survives;
# 4. mixed internal/external recipients and strict mode leave the
#    message encrypted, with the reason in a header.
set -eu
cd "$(dirname "$0")/../.."
. t/e2e/lib.sh
O=${O:-build}
MILTER=$PWD/$O/bin/postern-milter
CTL=$PWD/$O/bin/posternctl

e2e_require postfix postconf smtp-sink swaks script ss useradd spamd \
    spamass-milter spamc openssl
[ -x "$MILTER" ] || e2e_fail "no $MILTER"

E2E_DIR=$(mktemp -d /tmp/postern-e2e.XXXXXX)
E2E_DIR_CREATED=1
chmod 755 "$E2E_DIR"
e2e_ensure_user postern
st=$E2E_DIR/postern
mkdir -p "$st"
sh t/data/mkpki.sh "$E2E_DIR/pki" >/dev/null
cat > "$st/postern.conf" <<EOC
state_directory = $st/state
master_key_file = $st/master.key
log_destination = stderr
EOC
ctl() { "$CTL" -c "$st/postern.conf" "$@" >/dev/null || e2e_fail "posternctl $*"; }
ctl init
ctl domain add example.com
ctl set --domain example.com locality internal
ctl root import "$E2E_DIR/pki/root.crt"
ctl cert import "$E2E_DIR/pki/inter.crt"
echo secret > "$E2E_DIR/pw"
ctl key import "$E2E_DIR/pki/alice.p12" --password-file "$E2E_DIR/pw"
chown -R postern:postern "$st"

spamd_port=$(e2e_pick_port)
E2E_SMTP_PORT=$(e2e_pick_port "$spamd_port")
E2E_MAIN_EXTRA="smtpd_milters = unix:$E2E_DIR/postern.sock, unix:$E2E_DIR/spamass.sock
milter_default_action = tempfail"
pf_init "$E2E_DIR"

# spamd with the rules shipped in the package (no network, no sa-update)
e2e_spawn spamd --listen="127.0.0.1:$spamd_port" -u nobody --max-children=2 \
    --syslog=stderr --pidfile="$E2E_DIR/spamd.pid" 2>"$E2E_DIR/spamd.log"
e2e_wait_port "$spamd_port" 60 || { tail "$E2E_DIR/spamd.log"; e2e_fail "spamd did not start"; }
# -r -1: reject what SpamAssassin tags as spam
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
sink_start
pf_start

gtube='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
# mail TO SUBJECT INNER_BODY [encrypt|plain] [EXTRA_HEADER]: a message file
mail() {
	local to=$1 subj=$2 body=$3 how=$4 extra=${5:-}
	local f
	f=$(mktemp "$E2E_DIR/msg.XXXXXX")
	printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n' "$body" > "$f.inner"
	{
		printf 'From: Bob <bob@example.net>\r\nTo: %s\r\nSubject: %s\r\n' "$to" "$subj"
		printf 'Date: %s\r\nMessage-ID: <%s.%s@example.net>\r\n' "$(date -R)" "${f##*.}" "$$"
		[ -n "$extra" ] && printf '%s\r\n' "$extra"
		if [ "$how" = encrypt ]; then
			openssl cms -encrypt -aes128 -in "$f.inner" "$E2E_DIR/pki/alice.crt" |
			    tr -d '\r' | sed 's/$/\r/'
		else
			printf 'MIME-Version: 1.0\r\n'
			cat "$f.inner"
		fi
	} > "$f"
	echo "$f"
}
# send FILE RCPTS: swaks output in FILE.out, exit status returned
send() {
	e2e_send --from bob@example.net --to "$2" --data "$1" --silent 0 \
	    >"$1.out" 2>&1
}
# the captured message whose Subject starts with $1
captured() {
	local f
	f=$(grep -l "^Subject: $1" $(e2e_mail_files) 2>/dev/null | head -1)
	[ -n "$f" ] || e2e_fail "no delivered message with subject '$1'"
	echo "$f"
}
delivered_with() {	# SUBJECT PATTERN...: that message has every pattern
	local f
	f=$(captured "$1")
	shift
	for p in "$@"; do
		grep -qF -- "$p" "$f" || { sed 's/^/    /' "$f" | head -40; e2e_fail "delivered mail lacks '$p'"; }
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

# --- 1. GTUBE rejected at SMTP time ------------------------------------
f=$(mail alice@example.com "plain gtube" "$gtube" plain)
if send "$f" alice@example.com; then e2e_fail "plain GTUBE accepted"; fi
grep -qE '<\*\* +5[0-9][0-9]' "$f.out" || { cat "$f.out"; e2e_fail "plain GTUBE: no 5xx"; }
echo "ok: plain GTUBE rejected (control)"

f=$(mail alice@example.com "encrypted gtube" "$gtube" encrypt)
if send "$f" alice@example.com; then e2e_fail "S/MIME-encrypted GTUBE accepted"; fi
grep -qE '<\*\* +5[0-9][0-9]' "$f.out" || { cat "$f.out"; e2e_fail "encrypted GTUBE: no 5xx"; }
grep -q 'action=decrypted' "$E2E_DIR/milter.log" || e2e_fail "milter did not decrypt"
echo "ok: S/MIME-encrypted GTUBE rejected with 5xx at SMTP time"
[ "$(e2e_mail_count)" -eq 0 ] || e2e_fail "a GTUBE message was delivered"

# --- 2. harmless encrypted mail arrives decrypted ----------------------
f=$(mail alice@example.com "quarterly figures" "The figures are fine." encrypt)
send "$f" alice@example.com || { cat "$f.out"; e2e_fail "harmless mail refused"; }
e2e_wait_mail 1 || e2e_fail "decrypted mail not delivered"
delivered_with "quarterly figures" "The figures are fine." "X-Postern-Info-SMIME-Encrypted: True" \
    "X-Postern-Info-Encryption-Algorithm-0: AES128" "Subject: quarterly figures [decrypted]"
delivered_without "quarterly figures" "application/pkcs7-mime"
echo "ok: encrypted mail delivered decrypted with info headers"

# --- 3. forged info header -----------------------------------------------
f=$(mail alice@example.com "trust me" "I am signed, honestly." plain \
    "X-Postern-Info-Signer-Verified-0-0: True")
send "$f" alice@example.com || e2e_fail "plain mail refused"
e2e_wait_mail 2 || e2e_fail "plain mail not delivered"
delivered_with "trust me" "I am signed, honestly."
delivered_without "trust me" "X-Postern-Info-Signer-Verified"
echo "ok: forged X-Postern-Info-Signer-Verified removed"

# --- 4. mixed recipients and strict mode stay encrypted ----------------
f=$(mail "alice@example.com, carol@example.net" "mixed" "For both of you." encrypt)
send "$f" alice@example.com,carol@example.net || e2e_fail "mixed mail refused"
e2e_wait_mail 3 || e2e_fail "mixed mail not delivered"
delivered_with mixed "application/pkcs7-mime" \
    "X-Postern-Info-Decryption-Skipped: recipient carol@example.net is not"
delivered_without mixed "For both of you."
echo "ok: mixed internal/external recipients: left encrypted"

ctl set --domain example.com smime.strict true
f=$(mail "alice@example.com, carol@example.com" "strict" "Strictly for alice." encrypt)
send "$f" alice@example.com,carol@example.com || e2e_fail "strict mail refused"
e2e_wait_mail 4 || e2e_fail "strict mail not delivered"
delivered_with strict "application/pkcs7-mime" \
    "X-Postern-Info-Decryption-Skipped: strict mode: carol@example.com"
delivered_without strict "Strictly for alice."
echo "ok: strict mode: left encrypted for a recipient without a claim to the key"

grep -E '^postern-milter: [0-9A-F]+: milter: ' "$E2E_DIR/milter.log" | head -8
echo "t0720: ok"
