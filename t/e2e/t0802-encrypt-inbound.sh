#!/bin/bash
# t0802-encrypt-inbound: internal recipients through postern-encrypt (no
# milter in front: encrypt_after_milter = no).
# 1. An S/MIME message for three internal recipients and one external:
#    strict mode is on for carol only, so alice and dave share one
#    decrypted output, carol keeps the ciphertext (with the reason), and
#    the external recipient gets the ciphertext without info headers.
# 2. Forged info headers on plain mail: removed with encrypt_after_milter
#    = no; kept (the milter's) with yes.
# 3. A PGP/MIME message made by the gpg CLI for an internal recipient whose
#    secret key is in Postern's keyring arrives decrypted, with the PGP
#    info headers.
set -eu
cd "$(dirname "$0")/../.."
. t/e2e/lib.sh
e2e_require postfix postconf smtp-sink swaks script ss useradd openssl gpg gpgconf runuser

E2E_DIR=$(mktemp -d /tmp/postern-e2e.XXXXXX)
E2E_DIR_CREATED=1
chmod 755 "$E2E_DIR"
. t/e2e/encrypt-lib.sh
trap 'enc_cleanup; e2e_cleanup' EXIT
E2E_SMTP_PORT=$(e2e_pick_port)
E2E_REINJECT_PORT=$(e2e_pick_port "$E2E_SMTP_PORT")
ENC_CONF_EXTRA="encrypt_after_milter = no"
enc_setup
echo secret > "$E2E_DIR/pw"
enc_ctl key import "$E2E_DIR/pki/alice.p12" --password-file "$E2E_DIR/pw"
enc_ctl set --domain example.com locality internal
enc_ctl set --user carol@example.com smime.strict true
# eve@example.com: an internal recipient with an OpenPGP key in Postern's
# keyring (made as the filter's user, who owns the state since enc_setup);
# the outside sender (the gx home) encrypts to her
runuser -u postern -- "$ENC_BIN/posternctl" -c "$ENC_CONF" --json pgp generate \
    --email eve@example.com --name Eve > "$E2E_DIR/eve.json" ||
    e2e_fail "pgp generate"
eve=$(sed -n 's/.*"fpr": *"\([0-9A-F]*\)".*/\1/p' "$E2E_DIR/eve.json" | head -1)
[ ${#eve} -eq 40 ] || e2e_fail "no key for eve"
runuser -u postern -- "$ENC_BIN/posternctl" -c "$ENC_CONF" pgp export "$eve" > "$E2E_DIR/eve.asc" ||
    e2e_fail "pgp export"
gpg --homedir "$ENC_GX" --batch -q --import "$E2E_DIR/eve.asc" 2>/dev/null ||
    e2e_fail "gpg import"
gpgconf --homedir "$E2E_DIR/p/state/gnupg" --kill gpg-agent >/dev/null 2>&1 || true
chown -R postern:postern "$E2E_DIR/p"
E2E_FILTER_ARGV=$(enc_filter_argv)
E2E_NO_TRAP=1 pf_init "$E2E_DIR"
sink_start
pf_start
fail_enc() { sed 's/^/    encrypt.log: /' "$ENC_LOG" | tail -30 >&2; e2e_fail "$*"; }

printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\nInternal figures.\r\n' > "$E2E_DIR/inner"
{
	printf 'From: Bob <bob@ext.test>\r\nTo: alice@example.com\r\nSubject: figures\r\n'
	printf 'X-Postern-Info-Signer-Verified-0-0: True\r\n'
	openssl cms -encrypt -aes128 -in "$E2E_DIR/inner" "$E2E_DIR/pki/alice.crt" |
	    tr -d '\r' | sed 's/$/\r/'
} > "$E2E_DIR/enc.eml"

# --- 1. per-recipient strict mode ------------------------------------------
e2e_send --from bob@ext.test \
    --to alice@example.com,carol@example.com,dave@example.com,ext@partner.test \
    --data "@$E2E_DIR/enc.eml" || e2e_fail "swaks failed"
e2e_wait_mail 3 || fail_enc "three outputs not delivered"
sleep 1
[ "$(e2e_mail_count)" -eq 3 ] || fail_enc "want 3 outputs, got $(e2e_mail_count)"
f=$(grep -l '^X-Rcpt-Args: <alice@example.com>' $(e2e_mail_files))
grep -q '^X-Rcpt-Args: <dave@example.com>' "$f" || e2e_fail "alice and dave do not share the decrypted output"
grep -q '^Internal figures' "$f" || e2e_fail "alice's copy not decrypted"
grep -q '^X-Postern-Info-SMIME-Encrypted: True' "$f" || e2e_fail "no info header on the decrypted copy"
grep -q '^X-Postern-Info-Signer-Verified' "$f" && e2e_fail "forged info header survived"
grep -q '^Subject: figures \[decrypted\]' "$f" || e2e_fail "no [decrypted] tag"
echo "ok: non-strict internal recipients share one decrypted output"
f=$(enc_file_for carol@example.com) || fail_enc "carol has no output of her own"
grep -q '^Content-Type: application/pkcs7-mime' "$f" || e2e_fail "carol's copy was decrypted"
grep -q 'Decryption-Skipped: strict mode: carol@example.com' "$f" ||
    e2e_fail "carol's copy does not say why"
echo "ok: strict recipient keeps the ciphertext, with the reason"
f=$(enc_file_for ext@partner.test) || fail_enc "external recipient has no output"
grep -q '^Content-Type: application/pkcs7-mime' "$f" || e2e_fail "external copy changed"
grep -q '^X-Postern-Info' "$f" && e2e_fail "external copy carries info headers"
enc_message "$f" > "$E2E_DIR/ext.eml"
openssl cms -decrypt -in "$E2E_DIR/ext.eml" -recip "$E2E_DIR/pki/alice.crt" \
    -inkey "$E2E_DIR/pki/alice.key" | grep -q 'Internal figures' ||
    e2e_fail "external copy is not the original ciphertext"
echo "ok: external recipient: already encrypted, passed without info headers"

# --- 2. encrypt_after_milter ---------------------------------------------
enc_mark
n0=$(e2e_mail_count)
e2e_send --from bob@ext.test --to dave@example.com \
    --header 'Subject: forged' --header 'X-Postern-Info-Signer-Verified-0-0: True' \
    --body 'plain text' || e2e_fail "swaks failed"
e2e_wait_mail $((n0 + 1)) || fail_enc "forged plain mail not delivered"
f=$(enc_new | tail -1)
[ "$(enc_new | wc -l)" -eq 1 ] || e2e_fail "want one new message, got $(enc_new | wc -l)"
grep -q '^X-Postern-Info-Signer-Verified' "$f" && e2e_fail "forged header kept without a milter"
sed -i 's/^encrypt_after_milter = no/encrypt_after_milter = yes/' "$ENC_CONF"
e2e_send --from bob@ext.test --to dave@example.com \
    --header 'Subject: from the milter' --header 'X-Postern-Info-Signer-Verified-0-0: True' \
    --body 'plain text' || e2e_fail "swaks failed"
e2e_wait_mail $((n0 + 2)) || fail_enc "second plain mail not delivered"
f=$(grep -l '^Subject: from the milter' $(e2e_mail_files))
grep -q '^X-Postern-Info-Signer-Verified-0-0: True' "$f" ||
    e2e_fail "the milter's info header was removed with encrypt_after_milter = yes"
grep -q 'reason="handled by postern-milter"' "$ENC_LOG" || fail_enc "no pass line"
echo "ok: encrypt_after_milter decides who removes info headers"

# --- 3. OpenPGP for an internal recipient ---------------------------------
sed -i 's/^encrypt_after_milter = yes/encrypt_after_milter = no/' "$ENC_CONF"
printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\nPGP figures.\r\n' > "$E2E_DIR/pinner"
gpg --homedir "$ENC_GX" --batch -q --yes --trust-model always --armor \
    -r eve@example.com -o "$E2E_DIR/pinner.asc" -e "$E2E_DIR/pinner" 2>/dev/null ||
    e2e_fail "gpg encrypt"
{
	printf 'From: Bob <bob@ext.test>\r\nTo: eve@example.com\r\nSubject: pgp figures\r\n'
	printf 'MIME-Version: 1.0\r\n'
	printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"\r\n\r\n'
	printf -- '--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n'
	printf -- '--b\r\nContent-Type: application/octet-stream; name="encrypted.asc"\r\n\r\n'
	sed 's/\r*$/\r/' "$E2E_DIR/pinner.asc"
	printf -- '\r\n--b--\r\n'
} > "$E2E_DIR/penc.eml"
n0=$(e2e_mail_count)
e2e_send --from bob@ext.test --to eve@example.com --data "@$E2E_DIR/penc.eml" ||
    e2e_fail "swaks failed"
e2e_wait_mail $((n0 + 1)) || fail_enc "PGP message not delivered"
f=$(grep -l '^Subject: pgp figures' $(e2e_mail_files)) || fail_enc "PGP message not found"
grep -q '^PGP figures' "$f" || fail_enc "eve's copy not decrypted"
grep -q 'BEGIN PGP MESSAGE' "$f" && e2e_fail "ciphertext left in eve's copy"
grep -q '^X-Postern-Info-PGP-Encrypted.*: True' "$f" || e2e_fail "no PGP-Encrypted info header"
echo "ok: OpenPGP mail for an internal recipient decrypted by postern-encrypt"
echo "t0802: ok"
