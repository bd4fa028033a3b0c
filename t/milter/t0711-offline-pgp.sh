#!/bin/bash
# postern-milter -t (offline mode) on real OpenPGP mail made with the gpg
# command line in its own home: PGP/MIME and PGP/INLINE decryption for
# internal recipients, none for external ones, signatures checked against
# the keystore's trust and the From address, no key, tampering, no MDC
# (rnp corpus), pgp.enabled, keys imported from mail, forged info
# headers, and a broken keyring that must tempfail.
set -u
top=${POSTERN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-build}
milter=$top/$O/bin/postern-milter
ctl=$top/$O/bin/posternctl
command -v gpg >/dev/null || exit 77
[ -x "$milter" ] || { echo "skip: $milter not built"; exit 77; }
tmp=$(mktemp -d /tmp/postern-pgp.XXXXXX)
home=$tmp/state/gnupg
ext=$tmp/ext
cleanup() {
	gpgconf --homedir "$home" --kill gpg-agent >/dev/null 2>&1
	gpgconf --homedir "$ext" --kill gpg-agent >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
has() { grep -qiF -- "$2" "$1" || { bad "$3: no '$2' in output"; sed 's/^/    /' "$1" | head -40; return 1; }; }
hasnt() { ! grep -qiF -- "$2" "$1" || { bad "$3: unexpected '$2'"; return 1; }; }

cat > "$tmp/p.conf" <<EOC
state_directory = $tmp/state
master_key_file = $tmp/master.key
log_destination = stderr
EOC
c() { "$ctl" -c "$tmp/p.conf" "$@" > "$tmp/ctl.out" || bad "posternctl $*"; }
c init
c domain add example.com
c set --domain example.com locality internal
# alice: an internal user, her key made by Postern
c --json pgp generate --email alice@example.com --name Alice
alice=$(sed -n 's/.*"fpr": *"\([0-9A-F]*\)".*/\1/p' "$tmp/ctl.out" | head -1)
[ ${#alice} -eq 40 ] || { echo "no fingerprint"; cat "$tmp/ctl.out"; exit 1; }
c pgp export "$alice"
cp "$tmp/ctl.out" "$tmp/alice.asc"
# bob: an outside sender with his own GnuPG home
mkdir -m 700 "$ext"
g() { gpg --homedir "$ext" --batch -q --yes --trust-model always "$@" 2>/dev/null; }
g --passphrase '' --pinentry-mode loopback --quick-gen-key \
    'Bob <bob@example.net>' future-default default never || { echo "gpg keygen failed"; exit 1; }
g --import "$tmp/alice.asc"
g --armor --export bob@example.net > "$tmp/bob.asc"
c pgp import "$tmp/bob.asc"
bob=$(gpg --homedir "$ext" --batch --with-colons --list-keys bob@example.net 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
c pgp trust "$bob"

# run NAME FILE SENDER RCPT...: the milter's result in $tmp/NAME.out/.log/.rc
run() {
	local name=$1 file=$2 from=$3; shift 3
	local args=()
	for r in "$@"; do args+=(-r "$r"); done
	"$milter" -c "$tmp/p.conf" -t "$file" -f "$from" "${args[@]}" \
	    >"$tmp/$name.out" 2>"$tmp/$name.log"
	echo $? > "$tmp/$name.rc"
}
rc_is() { [ "$(cat "$tmp/$1.rc")" = "$2" ] || { bad "$1: exit $(cat "$tmp/$1.rc"), want $2"; sed 's/^/    /' "$tmp/$1.log"; }; }
crlf() { sed 's/\r*$/\r/'; }

printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\nThe launch code is 1234.\r\n' > "$tmp/inner.eml"
# pgpmime FROM SUBJECT GPGARGS...: a PGP/MIME message of inner.eml
pgpmime() {
	local from=$1 subj=$2; shift 2
	g --armor "$@" -o "$tmp/ct.asc" -e "$tmp/inner.eml" || { bad "gpg encrypt"; return; }
	{
		printf 'From: %s\r\nTo: alice@example.com\r\nSubject: %s\r\n' "$from" "$subj"
		printf 'X-Postern-Info-PGP-Signature-Valid-0-0: True\r\nMIME-Version: 1.0\r\n'
		printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"\r\n\r\n'
		printf -- '--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n'
		printf -- '--b\r\nContent-Type: application/octet-stream; name="encrypted.asc"\r\n\r\n'
		crlf < "$tmp/ct.asc"
		printf -- '\r\n--b--\r\n'
	}
}
pgpmime 'Bob <bob@example.net>' 'secret plan' -r alice@example.com -u bob@example.net -s > "$tmp/enc.eml"

# 1. internal recipient: decrypted, verified, headers, tag, no forgeries
run dec "$tmp/enc.eml" bob@example.net alice@example.com
rc_is dec 0
has "$tmp/dec.out" "The launch code is 1234." dec && ok "PGP/MIME decrypted for an internal recipient"
has "$tmp/dec.out" "X-Postern-Info-PGP-Encoding: PGP/MIME" dec
has "$tmp/dec.out" "X-Postern-Info-PGP-Encrypted: True" dec
has "$tmp/dec.out" "X-Postern-Info-PGP-Encryption-Algorithm-0: AES256" dec
has "$tmp/dec.out" "X-Postern-Info-PGP-Signer-KeyID-0-0: ${bob: -16}" dec
has "$tmp/dec.out" "X-Postern-Info-PGP-Signer-Email-0-0: bob@example.net" dec
has "$tmp/dec.out" "X-Postern-Info-PGP-Signature-Valid-0-0: True" dec
has "$tmp/dec.out" "X-Postern-Info-PGP-Signed: True" dec && ok "signature by a trusted key, From matches"
has "$tmp/dec.out" "Subject: secret plan [decrypted]" dec && ok "decrypted tag"
[ "$(grep -ci 'PGP-Signature-Valid-0-0' "$tmp/dec.out")" = 1 ] &&
    ok "forged info header removed" || bad "forged PGP-Signature-Valid survived"
hasnt "$tmp/dec.out" "BEGIN PGP MESSAGE" dec
has "$tmp/dec.log" "OFFLINE: milter: found=pgp-mime-encrypted" dec
has "$tmp/dec.log" "pgp=decrypted,signed-valid" dec && ok "log line"

# 2. one external recipient: left encrypted, says why
run ext "$tmp/enc.eml" bob@example.net alice@example.com carol@example.net
has "$tmp/ext.out" "BEGIN PGP MESSAGE" ext
hasnt "$tmp/ext.out" "launch code" ext
has "$tmp/ext.out" "X-Postern-Info-Decryption-Skipped: recipient carol@example.net is not internal" ext &&
    ok "external recipient: stays encrypted"

# 3. PGP/INLINE
g --armor -r alice@example.com -o "$tmp/inl.asc" -e "$tmp/inner.eml"
{ printf 'From: bob@example.net\r\nTo: alice@example.com\r\nSubject: inline\r\n\r\n'; crlf < "$tmp/inl.asc"; } > "$tmp/inl.eml"
run inl "$tmp/inl.eml" bob@example.net alice@example.com
has "$tmp/inl.out" "The launch code is 1234." inl
has "$tmp/inl.out" "X-Postern-Info-PGP-Encoding: PGP/INLINE" inl && ok "PGP/INLINE decrypted"

# 4. bob's valid signature under another From: mismatch, "signed by"
pgpmime 'Mallory <mallory@example.org>' 'wire money' -r alice@example.com -u bob@example.net -s > "$tmp/mis.eml"
run mis "$tmp/mis.eml" mallory@example.org alice@example.com
has "$tmp/mis.out" "X-Postern-Info-PGP-Signer-Mismatch: True" mis
has "$tmp/mis.out" "Subject: wire money [decrypted]" mis && ok "signer/From mismatch reported"
has "$tmp/mis.log" "signer-mismatch" mis

# 5. encrypted for bob only: no key, unchanged, said so
pgpmime 'Bob <bob@example.net>' 'not for us' -r bob@example.net > "$tmp/nokey.eml"
run nokey "$tmp/nokey.eml" bob@example.net alice@example.com
rc_is nokey 0
has "$tmp/nokey.out" "X-Postern-Info-PGP-Decryption-Key-Not-Found: True" nokey
has "$tmp/nokey.out" "BEGIN PGP MESSAGE" nokey
hasnt "$tmp/nokey.out" "[decrypted]" nokey && ok "no key: passed encrypted, said so"

# 6. damaged ciphertext: unchanged, never marked decrypted or signed
awk '/^-----BEGIN PGP MESSAGE/ { n = NR } n && NR == n + 4 { gsub(/[A-Za-z]/, "Q") } { print }' \
    "$tmp/enc.eml" > "$tmp/bad.eml"
run bad "$tmp/bad.eml" bob@example.net alice@example.com
rc_is bad 0
has "$tmp/bad.out" "BEGIN PGP MESSAGE" bad
hasnt "$tmp/bad.out" "[decrypted]" bad
hasnt "$tmp/bad.out" "Signature-Valid-0-0: True" bad
grep -qE "X-Postern-Info-PGP-Decryption-(Failed|Key-Not-Found)" "$tmp/bad.out" &&
    ok "damaged ciphertext: passed unchanged with an info header" || bad "bad: no info header"

# 7. no MDC (rnp corpus): refused, nothing released
corp=${POSTERN_CORPORA:-$top/../shared/corpora}
if [ -f "$corp/rnp/test_messages/message.txt.enc-no-mdc" ]; then
	printf 'password\n' > "$tmp/rnp.pw"
	c pgp import "$corp/rnp/keyrings/1/secring.gpg" --passphrase-file "$tmp/rnp.pw"
	{
		printf 'From: x@example.net\r\nSubject: nomdc\r\nMIME-Version: 1.0\r\n'
		printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"\r\n\r\n'
		printf -- '--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n'
		printf -- '--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n'
		base64 < "$corp/rnp/test_messages/message.txt.enc-no-mdc" | crlf
		printf -- '--b--\r\n'
	} > "$tmp/nomdc.eml"
	run nomdc "$tmp/nomdc.eml" x@example.net alice@example.com
	rc_is nomdc 0
	has "$tmp/nomdc.out" "X-Postern-Info-PGP-Decryption-Failed: not integrity protected" nomdc
	hasnt "$tmp/nomdc.out" "This is test message" nomdc && ok "no MDC: refused, no plaintext"
	has "$tmp/nomdc.log" "no-mdc" nomdc
else
	echo "skip: corpora absent, no no-MDC case"
fi

# 8. pgp.enabled false: left encrypted
c set --domain example.com pgp.enabled false
run off "$tmp/enc.eml" bob@example.net alice@example.com
has "$tmp/off.out" "X-Postern-Info-Decryption-Skipped: OpenPGP is disabled" off
hasnt "$tmp/off.out" "launch code" off && ok "pgp.enabled false: not decrypted"
c unset --domain example.com pgp.enabled

# 9. a key sent by mail, imported untrusted with pgp.import-keys-from-mail
g --passphrase '' --pinentry-mode loopback --quick-gen-key \
    'Dave <dave@example.net>' future-default default never
dave=$(gpg --homedir "$ext" --batch --with-colons --list-keys dave@example.net 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
{
	printf 'From: dave@example.net\r\nTo: alice@example.com\r\nSubject: my key\r\n'
	printf 'Content-Type: multipart/mixed; boundary="k"\r\n\r\n--k\r\n\r\nMy new key.\r\n'
	printf -- '--k\r\nContent-Type: application/pgp-keys; name="dave.asc"\r\n\r\n'
	g --armor --export dave@example.net | crlf
	printf -- '\r\n--k--\r\n'
} > "$tmp/key.eml"
c set --domain example.com pgp.import-keys-from-mail true
run key "$tmp/key.eml" dave@example.net alice@example.com
has "$tmp/key.log" "pgp-imported=1" key
"$ctl" -c "$tmp/p.conf" pgp show "$dave" > "$tmp/dave" 2>&1 || bad "dave's key not in the store"
grep -qiE "^trusted +no" "$tmp/dave" && ok "key from mail imported, untrusted" || { bad "dave: not untrusted"; cat "$tmp/dave"; }

# 10. larger than milter_max_message_size: untouched but for our header
echo "milter_max_message_size = 1k" >> "$tmp/p.conf"
{ cat "$tmp/enc.eml"; head -c 2000 /dev/zero | tr '\0' x; printf '\r\n'; } > "$tmp/big.eml"
run big "$tmp/big.eml" bob@example.net alice@example.com
has "$tmp/big.log" "larger than milter_max_message_size" big && ok "too large: passes unchanged"
sed -i '/^milter_max_message_size/d' "$tmp/p.conf"

# 11. the keyring is broken (the secret keys are gone while the store
#     says we hold alice's): tempfail, exit 75, never "no key"
gpgconf --homedir "$home" --kill gpg-agent >/dev/null 2>&1
mv "$home/private-keys-v1.d" "$home/private-keys-v1.d.away"
run broken "$tmp/enc.eml" bob@example.net alice@example.com
rc_is broken 75
has "$tmp/broken.log" "status=tempfail" broken
has "$tmp/broken.log" "keyring or agent failure" broken && ok "broken keyring: tempfail"
[ -s "$tmp/broken.out" ] && bad "broken: a message was written"
gpgconf --homedir "$home" --kill gpg-agent >/dev/null 2>&1
rm -rf "$home/private-keys-v1.d"
mv "$home/private-keys-v1.d.away" "$home/private-keys-v1.d"
run fixed "$tmp/enc.eml" bob@example.net alice@example.com
has "$tmp/fixed.out" "The launch code is 1234." fixed && ok "repaired keyring decrypts again"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
