#!/bin/bash
# t0001-harness: prove the e2e harness itself.  swaks -> private Postfix
# (127.0.0.1, no filter) -> smtp-sink capture file; check the envelope, the
# headers (From, Subject, a custom X- header, Received from 127.0.0.1), the
# body lines, and that the maillog shows status=sent to the sink.  A second
# message checks that two deliveries give two separate capture files and
# that a dot-stuffed line survives.  Cleanup must stop every process, free
# the ports, remove the temp dir and leave /etc/postfix unchanged.
set -eu
cd "$(dirname "$0")/../.."
. t/e2e/lib.sh

e2e_require postfix postconf postqueue smtp-sink swaks script ss
etc_before=$(find /etc/postfix -printf '%p %s %T@ %m\n' 2>/dev/null | sort | md5sum)
pf_init
sink_start
pf_start

tag="t0001-$$-$RANDOM"
e2e_send --from alice@src.test --to bob@dest.test \
    --header "Subject: harness $tag" --header "X-Postern-Test: $tag" \
    --body "first body line $tag
second line with  two  spaces
.leading dot line" || e2e_fail "swaks could not send"
e2e_wait_mail 1 || e2e_fail "message 1 not delivered"

n=$(e2e_mail_count)
[ "$n" -eq 1 ] || e2e_fail "captured $n files, want 1"
f=$(e2e_mail_files)

# want LINE-REGEX DESCRIPTION: the capture file has a matching line.
want() {
	tr -d '\r' < "$f" | grep -Eq -- "$1" ||
	    { sed 's/^/e2e: capture: /' "$f" >&2; e2e_fail "no $2 (regex '$1') in $f"; }
}
want '^From: alice@src\.test$' "From header"
want "^Subject: harness $tag\$" "Subject header"
want "^X-Postern-Test: $tag\$" "custom X- header"
want '^Received: from client\.postern\.test \(localhost \[127\.0\.0\.1\]\)$' \
    "Received header from 127.0.0.1"
want '^[[:space:]]+by gw\.postern\.test \(Postfix\) with ESMTP id [0-9A-F]+' \
    "Received by the private instance"
want "^first body line $tag\$" "body line 1"
want '^second line with  two  spaces$' "body line 2"
want '^\.leading dot line$' "dot-stuffed body line"
# smtp-sink records the envelope it got from Postfix's smtp client
want '^X-Mail-Args: <alice@src\.test>' "envelope sender"
want '^X-Rcpt-Args: <bob@dest\.test>' "envelope recipient"

grep -q "to=<bob@dest.test>, relay=127.0.0.1\[127.0.0.1\]:$E2E_SINK_PORT.* status=sent" \
    "$E2E_MAILLOG" || e2e_fail "maillog shows no status=sent to the sink"

# a second message gives a second, separate file
e2e_send --from carol@src.test --to dave@dest.test,erin@dest.test \
    --header "Subject: second $tag" --body "second message" ||
    e2e_fail "swaks could not send message 2"
e2e_wait_mail 2 || e2e_fail "message 2 not delivered"
n=$(e2e_mail_count)
[ "$n" -eq 2 ] || e2e_fail "captured $n files, want 2"
f=$(e2e_mail_files | xargs grep -l "^Subject: second $tag") ||
    e2e_fail "no capture file holds message 2"
want '^X-Rcpt-Args: <dave@dest\.test>' "first recipient of message 2"
want '^X-Rcpt-Args: <erin@dest\.test>' "second recipient of message 2"
if grep -q "first body line" "$f"; then
	e2e_fail "message 2 file also holds message 1"
fi
# cleanup stops everything and leaves /etc/postfix alone
ports="$E2E_SMTP_PORT $E2E_REINJECT_PORT $E2E_SINK_PORT" dir=$E2E_DIR
master=$(e2e_master_pid) || e2e_fail "no master pid"
e2e_cleanup
pf_group_alive "$master" && e2e_fail "Postfix master $master still runs after cleanup"
for p in $ports; do
	e2e_port_free "$p" || e2e_fail "port $p still listens after cleanup"
done
[ ! -e "$dir" ] || e2e_fail "cleanup left $dir"
etc_after=$(find /etc/postfix -printf '%p %s %T@ %m\n' 2>/dev/null | sort | md5sum)
[ "$etc_before" = "$etc_after" ] || e2e_fail "/etc/postfix changed"
echo "t0001: ok (ports $ports)"
