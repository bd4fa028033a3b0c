#!/bin/bash
# t0800-encrypt-fanout: postern-encrypt as the content filter of a private
# Postfix, reinjecting over SMTP.
# 1. One message to an S/MIME recipient, an OpenPGP recipient and a plain
#    recipient arrives in the sink as three messages, each with exactly
#    its own envelope recipient: the S/MIME one decrypts with `openssl cms`
#    and alice's key, the OpenPGP one with `gpg` in the recipient's own
#    home, the plain one is the original body and subject.
# 2. Two S/MIME recipients with identical decisions share one envelope.
# 3. Encryption mandatory but impossible: no delivery to that recipient,
#    exactly one "encryption failed" notification to the originator,
#    from the null sender; the other recipient still gets the mail.
# 4. Loop guard: a delivered output sent again to the same recipient
#    passes unchanged (even where the policy would now block it); the
#    same marked message to another recipient is treated as new mail.
# 5. reinject = sendmail: Postfix's own sendmail -C (postern-encrypt run
#    directly as root, which may use another config directory) hands off
#    an S/MIME output and a notification with the null sender ("-f <>").
set -eu
cd "$(dirname "$0")/../.."
. t/e2e/lib.sh
e2e_require postfix postconf smtp-sink swaks script ss useradd openssl gpg gpgconf

E2E_DIR=$(mktemp -d /tmp/postern-e2e.XXXXXX)
E2E_DIR_CREATED=1
chmod 755 "$E2E_DIR"
. t/e2e/encrypt-lib.sh
trap 'enc_cleanup; e2e_cleanup' EXIT
E2E_SMTP_PORT=$(e2e_pick_port)
E2E_REINJECT_PORT=$(e2e_pick_port "$E2E_SMTP_PORT")
enc_setup
E2E_FILTER_ARGV=$(enc_filter_argv)
E2E_NO_TRAP=1 pf_init "$E2E_DIR"
sink_start
pf_start

fail_enc() { sed 's/^/    encrypt.log: /' "$ENC_LOG" | tail -30 >&2; e2e_fail "$*"; }

# --- 1. three recipients, three messages --------------------------------
e2e_send --from sender@corp.test \
    --to alice@example.com,pgpuser@example.net,plain@example.org \
    --header 'Subject: quarterly figures' --header 'From: Sender <sender@corp.test>' \
    --body 'The figures are fine.' || e2e_fail "swaks failed"
e2e_wait_mail 3 || fail_enc "three messages not delivered"
sleep 1
[ "$(e2e_mail_count)" -eq 3 ] || fail_enc "want 3 messages, got $(e2e_mail_count)"

f=$(enc_file_for alice@example.com) || fail_enc "no message for alice alone"
grep -q '^Content-Type: application/pkcs7-mime' "$f" || e2e_fail "alice's copy is not S/MIME"
grep -q 'The figures are fine' "$f" && e2e_fail "alice's copy has plaintext"
enc_message "$f" > "$E2E_DIR/alice.eml"
openssl cms -decrypt -in "$E2E_DIR/alice.eml" -recip "$E2E_DIR/pki/alice.crt" \
    -inkey "$E2E_DIR/pki/alice.key" > "$E2E_DIR/alice.out" 2>"$E2E_DIR/cms.err" ||
    { cat "$E2E_DIR/cms.err"; e2e_fail "openssl cms cannot decrypt alice's copy"; }
grep -q 'The figures are fine' "$E2E_DIR/alice.out" || e2e_fail "alice's plaintext wrong"
grep -q '^Subject: quarterly figures' "$f" || e2e_fail "alice's subject lost"
echo "ok: S/MIME copy decrypts with openssl cms"

f=$(enc_file_for pgpuser@example.net) || fail_enc "no message for pgpuser alone"
grep -q '^Content-Type: multipart/encrypted' "$f" || e2e_fail "pgpuser's copy is not PGP/MIME"
grep -q 'The figures are fine' "$f" && e2e_fail "pgpuser's copy has plaintext"
sed -n '/BEGIN PGP MESSAGE/,/END PGP MESSAGE/p' "$f" | tr -d '\r' |
    gpg --homedir "$ENC_GX" --batch --decrypt > "$E2E_DIR/pgp.out" 2>"$E2E_DIR/gpg.err" ||
    { cat "$E2E_DIR/gpg.err"; e2e_fail "gpg cannot decrypt pgpuser's copy"; }
grep -q 'The figures are fine' "$E2E_DIR/pgp.out" || e2e_fail "pgpuser's plaintext wrong"
echo "ok: OpenPGP copy decrypts with gpg"

f=$(enc_file_for plain@example.org) || fail_enc "no message for plain alone"
grep -q '^The figures are fine' "$f" || e2e_fail "plain copy lost its body"
grep -q '^Subject: quarterly figures' "$f" || e2e_fail "plain copy lost its subject"
grep -q 'pkcs7\|PGP' "$f" && e2e_fail "plain copy was changed"
grep -q '^X-Postern-Loop: v1; ' "$f" || e2e_fail "plain copy has no loop marker"
PLAIN=$f
echo "ok: plain copy untouched"
grep -q 'status=done outputs=3 blocked=0' "$ENC_LOG" || fail_enc "no done line"
grep -qE '^postern-encrypt: [0-9A-Za-z]+: encrypt: status=sent output=1 ' "$ENC_LOG" ||
    fail_enc "log lines do not start with the queue ID"

# PGP/INLINE for that recipient: the text part itself is the armored message
enc_ctl set --user pgpuser@example.net pgp.encoding pgp-inline
enc_mark
e2e_send --from sender@corp.test --to pgpuser@example.net \
    --header 'Subject: inline' --body 'inline secret' || e2e_fail "swaks failed"
e2e_wait_mail 4 || fail_enc "PGP/INLINE message not delivered"
f=$(enc_new | tail -1)
grep -q '^Content-Type: multipart/encrypted' "$f" && e2e_fail "PGP/INLINE copy is PGP/MIME"
grep -q '^-----BEGIN PGP MESSAGE-----' "$f" || e2e_fail "no inline PGP block"
sed -n '/BEGIN PGP MESSAGE/,/END PGP MESSAGE/p' "$f" | tr -d '\r' |
    gpg --homedir "$ENC_GX" --batch --decrypt 2>/dev/null | grep -q 'inline secret' ||
    e2e_fail "gpg cannot decrypt the PGP/INLINE copy"
enc_ctl unset --user pgpuser@example.net pgp.encoding
echo "ok: PGP/INLINE copy decrypts with gpg"

# --- 2. identical decisions share one envelope ---------------------------
enc_ctl cert import "$E2E_DIR/pki/alice2.crt"
enc_ctl cert select "$(openssl x509 -in "$E2E_DIR/pki/alice2.crt" -noout -fingerprint -sha512 | sed 's/.*=//')" \
    --user second@example.com --as encryption
enc_mark
n0=$(e2e_mail_count)
e2e_send --from sender@corp.test --to alice@example.com,second@example.com \
    --header 'Subject: shared' --body 'one envelope' || e2e_fail "swaks failed"
e2e_wait_mail $((n0 + 1)) || fail_enc "shared message not delivered"
sleep 1
[ "$(e2e_mail_count)" -eq $((n0 + 1)) ] || fail_enc "want one message for both"
f=$(enc_new | tail -1)
[ "$(enc_new | wc -l)" -eq 1 ] || e2e_fail "want one new message, got $(enc_new | wc -l)"
grep -q '^X-Rcpt-Args: <alice@example.com>' "$f" && grep -q '^X-Rcpt-Args: <second@example.com>' "$f" ||
    e2e_fail "shared envelope lacks a recipient"
enc_message "$f" > "$E2E_DIR/shared.eml"
openssl cms -decrypt -in "$E2E_DIR/shared.eml" -recip "$E2E_DIR/pki/alice2.crt" \
    -inkey "$E2E_DIR/pki/alice2.key" | grep -q 'one envelope' ||
    e2e_fail "second recipient cannot decrypt the shared envelope"
openssl cms -decrypt -in "$E2E_DIR/shared.eml" -recip "$E2E_DIR/pki/alice.crt" \
    -inkey "$E2E_DIR/pki/alice.key" | grep -q 'one envelope' ||
    e2e_fail "alice cannot decrypt the shared envelope"
echo "ok: two S/MIME recipients, one envelope both can decrypt"

# --- 3. mandatory but impossible ---------------------------------------
enc_ctl set --domain blocked.test encrypt-mode mandatory
enc_mark
n0=$(e2e_mail_count)
e2e_send --from sender@corp.test --to nobody@blocked.test,plain@example.org \
    --header 'From: Sender <sender@corp.test>' --header 'Subject: secret plans' \
    --body 'must not leak' || e2e_fail "swaks failed"
e2e_wait_mail $((n0 + 2)) || fail_enc "notification and plain copy not delivered"
sleep 2
[ "$(e2e_mail_count)" -eq $((n0 + 2)) ] || fail_enc "want 2 more messages, got $(( $(e2e_mail_count) - n0 ))"
for f in $(e2e_mail_files); do
	grep -q '^X-Rcpt-Args: <nobody@blocked.test>' "$f" && e2e_fail "delivered to the blocked recipient"
done
nn=$(grep -l 'Not delivered, could not be encrypted' $(e2e_mail_files) | wc -l)
[ "$nn" -eq 1 ] || e2e_fail "want exactly one notification, got $nn"
f=$(grep -l 'Not delivered, could not be encrypted' $(e2e_mail_files))
grep -q '^X-Rcpt-Args: <sender@corp.test>' "$f" || e2e_fail "notification not to the originator"
grep -q '^X-Mail-Args: <>' "$f" || e2e_fail "notification not from the null sender"
grep -q 'nobody@blocked.test: encryption is required' "$f" || e2e_fail "notification lacks the reason"
grep -q 'must not leak' "$f" && e2e_fail "notification carries the message"
grep -q '^Auto-Submitted: auto-generated' "$f" || e2e_fail "notification not auto-submitted"
grep -q '^X-Postern-Loop: v1' "$f" || e2e_fail "notification has no loop marker"
grep -q 'blocked=1' "$ENC_LOG" || fail_enc "no blocked=1 in the log"
grep -q 'using the built-in' "$ENC_LOG" && fail_enc "the template file was not used"
echo "ok: mandatory but impossible: one notification, no delivery"

# a template of the originator's own (per-user setting)
printf 'From: gw <${system_sender}>\nTo: ${originator}\nSubject: Custom: ${recipients}\n\nCustom ${reason}\n' \
    > "$E2E_DIR/p/templates/custom.eml"
enc_ctl set --user boss@corp.test template.encryption-failed custom.eml
enc_mark
n0=$(e2e_mail_count)
e2e_send --from boss@corp.test --to nobody@blocked.test --header 'Subject: x' --body 'y' ||
    e2e_fail "swaks failed"
e2e_wait_mail $((n0 + 1)) || fail_enc "custom notification not delivered"
f=$(enc_new | tail -1)
[ "$(enc_new | wc -l)" -eq 1 ] || e2e_fail "want one new message, got $(enc_new | wc -l)"
grep -q '^Subject: Custom: nobody@blocked.test' "$f" || e2e_fail "the user's template was not used"
grep -q '^X-Rcpt-Args: <boss@corp.test>' "$f" || e2e_fail "custom notification to the wrong address"
echo "ok: per-user notification template"

# --- 4. loop guard -------------------------------------------------------
enc_ctl set --user plain@example.org encrypt-mode force
enc_message "$PLAIN" > "$E2E_DIR/again.eml"
enc_mark
n0=$(e2e_mail_count)
e2e_send --from sender@corp.test --to plain@example.org --data "@$E2E_DIR/again.eml" ||
    e2e_fail "swaks failed"
e2e_wait_mail $((n0 + 1)) || fail_enc "marked message not passed"
sleep 1
[ "$(e2e_mail_count)" -eq $((n0 + 1)) ] || fail_enc "marked message: want 1 message"
f=$(enc_new | tail -1)
[ "$(enc_new | wc -l)" -eq 1 ] || e2e_fail "want one new message, got $(enc_new | wc -l)"
grep -q '^X-Rcpt-Args: <plain@example.org>' "$f" || e2e_fail "marked message to the wrong recipient"
grep -q '^The figures are fine' "$f" || e2e_fail "marked message changed"
grep -q 'loop marker valid: passed unchanged' "$ENC_LOG" || fail_enc "loop marker not recognised"
echo "ok: a valid loop marker passes straight through"

# the same marked message to someone else: new mail (forced, no key: blocked)
enc_ctl set --user other@example.org encrypt-mode force
enc_mark
n0=$(e2e_mail_count)
e2e_send --from sender@corp.test --to other@example.org --data "@$E2E_DIR/again.eml" ||
    e2e_fail "swaks failed"
e2e_wait_mail $((n0 + 1)) || fail_enc "copied-marker message: nothing delivered"
sleep 1
f=$(enc_new | tail -1)
[ "$(enc_new | wc -l)" -eq 1 ] || e2e_fail "want one new message, got $(enc_new | wc -l)"
grep -q '^X-Rcpt-Args: <other@example.org>' "$f" && e2e_fail "copied marker let the message pass"
grep -q 'Not delivered, could not be encrypted' "$f" || e2e_fail "copied marker: no notification"
echo "ok: a marker copied to other recipients is treated as new mail"

# --- 5. sendmail re-injection ---------------------------------------------
sed "s|^reinject = .*|reinject = sendmail:/usr/sbin/sendmail -C $E2E_DIR/etc -G|" \
    "$ENC_CONF" > "$E2E_DIR/sendmail.conf"
enc_mark
n0=$(e2e_mail_count)
printf 'From: Sender <sender@corp.test>\nSubject: via sendmail\n\nthrough pickup\n' |
    "$ENC_BIN/postern-encrypt" -c "$E2E_DIR/sendmail.conf" -f sender@corp.test -- \
    alice@example.com nobody@blocked.test 2>>"$ENC_LOG" || fail_enc "sendmail re-injection failed"
e2e_wait_mail $((n0 + 2)) || fail_enc "sendmail outputs not delivered"
f=$(grep -l '^Subject: via sendmail' $(e2e_mail_files) | xargs grep -l '^X-Rcpt-Args: <alice@example.com>')
grep -q '^Content-Type: application/pkcs7-mime' "$f" || e2e_fail "sendmail output not S/MIME"
f=$(grep -l 'Not delivered, could not be encrypted: via sendmail' $(e2e_mail_files)) ||
    e2e_fail "no notification through sendmail"
grep -q '^X-Mail-Args: <>' "$f" || e2e_fail "sendmail notification not from the null sender"
echo "ok: sendmail re-injection, null sender included"

echo "t0800: ok"
