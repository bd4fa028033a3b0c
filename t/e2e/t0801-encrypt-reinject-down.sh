#!/bin/bash
# t0801-encrypt-reinject-down: losing the reinjection listener loses no
# mail.  postern-encrypt reinjects through a relay in front of the
# reinjection smtpd:
# 1. the relay dies right after the first of three outputs was accepted:
#    postern-encrypt exits 75, Postfix defers the message (one output is
#    already out: the documented duplicate window);
# 2. a second message arrives while nothing listens: deferred, nothing out;
# 3. the relay comes back, the queue is flushed: every recipient of both
#    messages gets its copy (the first output of message 1 twice).
set -eu
cd "$(dirname "$0")/../.."
. t/e2e/lib.sh
e2e_require postfix postconf postqueue smtp-sink swaks script ss useradd \
    openssl gpg gpgconf python3

E2E_DIR=$(mktemp -d /tmp/postern-e2e.XXXXXX)
E2E_DIR_CREATED=1
chmod 755 "$E2E_DIR"
. t/e2e/encrypt-lib.sh
trap 'enc_cleanup; e2e_cleanup' EXIT
E2E_SMTP_PORT=$(e2e_pick_port)
E2E_REINJECT_PORT=$(e2e_pick_port "$E2E_SMTP_PORT")
RELAY_PORT=$(e2e_pick_port "$E2E_SMTP_PORT" "$E2E_REINJECT_PORT")
ENC_REINJECT="smtp:[127.0.0.1]:$RELAY_PORT"
enc_setup
E2E_FILTER_ARGV=$(enc_filter_argv)
E2E_NO_TRAP=1 pf_init "$E2E_DIR"
sink_start
pf_start
fail_enc() { sed 's/^/    encrypt.log: /' "$ENC_LOG" | tail -30 >&2; e2e_fail "$*"; }
count_for() { grep -l "^X-Rcpt-Args: <$1>" $(e2e_mail_files) 2>/dev/null | wc -l; }

# --- 1. the listener dies after the first output -------------------------
e2e_spawn python3 t/e2e/smtp-relay.py "$RELAY_PORT" "$E2E_REINJECT_PORT" die-after-first
RELAY_PID=$E2E_LAST_PID
e2e_wait_port "$RELAY_PORT" 10 || e2e_fail "relay did not start"
e2e_send --from sender@corp.test \
    --to alice@example.com,pgpuser@example.net,plain@example.org \
    --header 'Subject: first' --body 'first message' || e2e_fail "swaks failed"
for _ in $(seq 100); do
	grep -q 'status=deferred' "$E2E_MAILLOG" && break
	sleep 0.1
done
grep -q 'relay=postern-filter.*status=deferred' "$E2E_MAILLOG" ||
    fail_enc "message 1 not deferred"
grep -q 'status=deferred reason="hand-off 2 of 3 .*will be sent again' "$ENC_LOG" ||
    fail_enc "postern-encrypt did not log the partial hand-off"
e2e_alive "$RELAY_PID" && e2e_fail "relay still alive"
sleep 1
[ "$(e2e_mail_count)" -le 1 ] || e2e_fail "more than the first output got out"
echo "ok: listener died mid-run: exit 75, message deferred"

# --- 2. nothing listens --------------------------------------------------
e2e_send --from sender@corp.test --to alice@example.com,plain@example.org \
    --header 'Subject: second' --body 'second message' || e2e_fail "swaks failed"
for _ in $(seq 100); do
	grep -q 'hand-off 1 of 2' "$ENC_LOG" && break
	sleep 0.1
done
grep -q 'status=deferred reason="hand-off 1 of 2 .*cannot connect' "$ENC_LOG" ||
    fail_enc "message 2 not deferred for the missing listener"
pf_queue_empty && e2e_fail "the queue is empty while the listener is down"
echo "ok: no listener: deferred, kept in the queue"

# --- 3. back: everything arrives ------------------------------------------
e2e_spawn python3 t/e2e/smtp-relay.py "$RELAY_PORT" "$E2E_REINJECT_PORT"
e2e_wait_port "$RELAY_PORT" 10 || e2e_fail "relay did not restart"
postqueue -c "$E2E_DIR/etc" -f
for _ in $(seq 300); do
	[ "$(count_for pgpuser@example.net)" -ge 1 ] && [ "$(count_for plain@example.org)" -ge 2 ] &&
	    [ "$(count_for alice@example.com)" -ge 2 ] && pf_queue_empty && break
	sleep 0.1
done
pf_queue_empty || e2e_fail "queue not empty after the listener came back"
for r in alice@example.com pgpuser@example.net plain@example.org; do
	[ "$(count_for $r)" -ge 1 ] || e2e_fail "$r lost its copy"
done
grep -l 'second message' $(grep -l '^X-Rcpt-Args: <plain@example.org>' $(e2e_mail_files)) >/dev/null ||
    e2e_fail "plain@example.org lost message 2"
s2=$(grep -l '^Subject: second' $(e2e_mail_files) | xargs grep -l '^X-Rcpt-Args: <alice@example.com>' | wc -l)
[ "$s2" -eq 1 ] || e2e_fail "alice: want message 2 once, got $s2"
total=$(e2e_mail_count)
echo "ok: listener back: every recipient has its copies ($total messages, duplicates from the window: $((total - 5)))"
echo "t0801: ok"
