#!/bin/bash
# t0003-hooks: the harness hooks later issues plug Postern into.
# 1. content_filter: a shell pipe(8) filter run as the unprivileged user
#    postern adds a header and reinjects over SMTP to the reinjection smtpd;
#    the message arrives exactly once with exactly one filter header (no
#    loop), with both envelope recipients, and the filter saw the sender
#    and the recipients as separate arguments.
# 2. smtpd_milters with milter_default_action=tempfail and no milter
#    listening: the client gets a 4xx and nothing is delivered; the
#    reinjection smtpd (no_milters) still accepts.
# 3. the same with milter_default_action=accept: delivered.
set -eu
cd "$(dirname "$0")/../.."
. t/e2e/lib.sh

e2e_require postfix postconf postqueue smtp-sink swaks script ss useradd

# --- 1. content filter ---------------------------------------------------
E2E_DIR=$(mktemp -d /tmp/postern-e2e.XXXXXX)
chmod 755 "$E2E_DIR"
filter=$E2E_DIR/filter.sh
cat > "$filter" <<'EOF'
#!/bin/sh
# test content filter: filter.sh REINJECT_PORT ARGS_LOG SENDER -- RCPT...
port=$1 log=$2 sender=$3
shift 4
printf 'uid=%s sender=%s nrcpt=%s rcpts=%s\n' "$(id -u)" "$sender" "$#" "$*" >> "$log"
rcpts=$(printf '%s,' "$@")
{ printf 'X-Postern-Hook: filtered\n'; cat; } |
    swaks --silent 2 --timeout 30 --server "127.0.0.1:$port" --helo filter.postern.test \
    --from "$sender" --to "${rcpts%,}" --data - || exit 75
EOF
chmod 755 "$filter"
argslog=$E2E_DIR/filter-args.log
touch "$argslog"
E2E_FILTER_USER=postern
# ports are chosen here so the filter's argv can name the reinjection port
E2E_SMTP_PORT=$(e2e_pick_port)
E2E_REINJECT_PORT=$(e2e_pick_port "$E2E_SMTP_PORT")
E2E_FILTER_ARGV="$filter $E2E_REINJECT_PORT $argslog \${sender} -- \${recipient}"
created_dir=$E2E_DIR
pf_init "$E2E_DIR"
E2E_DIR_CREATED=1
chown postern "$argslog"
sink_start
pf_start

e2e_send --from alice@src.test --to bob@dest.test,carol@dest.test \
    --header "Subject: hook" --body "filtered body" || e2e_fail "swaks failed"
e2e_wait_mail 1 || e2e_fail "filtered message not delivered"
sleep 1    # a looping message would show up as a second capture
n=$(e2e_mail_count)
[ "$n" -eq 1 ] || e2e_fail "captured $n files, want exactly 1 (loop?)"
f=$(e2e_mail_files)
h=$(grep -c '^X-Postern-Hook: filtered' "$f" || true)
[ "$h" -eq 1 ] || e2e_fail "filter header $h times, want 1"
grep -q '^X-Rcpt-Args: <bob@dest.test>' "$f" || e2e_fail "bob missing in envelope"
grep -q '^X-Rcpt-Args: <carol@dest.test>' "$f" || e2e_fail "carol missing in envelope"
grep -q '^filtered body' "$f" || e2e_fail "body lost"
uid=$(id -u postern)
grep -qx "uid=$uid sender=alice@src.test nrcpt=2 rcpts=bob@dest.test carol@dest.test" \
    "$argslog" || { cat "$argslog" >&2; e2e_fail "filter arguments wrong"; }
[ "$(wc -l < "$argslog")" -eq 1 ] || e2e_fail "filter ran more than once"
grep -q 'relay=postern-filter, .*status=sent (delivered via postern-filter service)' \
    "$E2E_MAILLOG" || e2e_fail "no pipe delivery in maillog"
e2e_cleanup
[ ! -e "$created_dir" ] || e2e_fail "e2e_cleanup left $created_dir"

# --- 2. milter down, tempfail ---------------------------------------------
unset E2E_FILTER_ARGV E2E_SMTP_PORT E2E_REINJECT_PORT E2E_SINK_PORT
E2E_DIR_CREATED=0
E2E_MILTER=/nonexistent/postern-milter.sock
E2E_MILTER_DEFAULT_ACTION=tempfail
pf_init
sink_start
pf_start
out=$(e2e_send --silent 0 --from alice@src.test --to bob@dest.test \
    --body "milter down" 2>&1) && e2e_fail "accepted with the milter down (tempfail)"
printf '%s\n' "$out" | grep -Eq '<\*\* +451 4\.7\.1' ||
    { printf '%s\n' "$out" >&2; e2e_fail "no 451 4.7.1 with the milter down"; }
E2E_PORT=$E2E_REINJECT_PORT e2e_send --from alice@src.test --to bob@dest.test \
    --header "Subject: via reinject" --body "no milter here" ||
    e2e_fail "the reinjection smtpd refused (it must not use milters)"
e2e_wait_mail 1 || e2e_fail "reinjected message not delivered"
[ "$(e2e_mail_count)" -eq 1 ] || e2e_fail "want only the reinjected message"
grep -q '^Subject: via reinject' "$(e2e_mail_files)" || e2e_fail "wrong message delivered"
e2e_cleanup

# --- 3. milter down, accept -----------------------------------------------
unset E2E_SMTP_PORT E2E_REINJECT_PORT E2E_SINK_PORT
E2E_DIR_CREATED=0
E2E_MILTER_DEFAULT_ACTION=accept
pf_init
sink_start
pf_start
e2e_send --from alice@src.test --to bob@dest.test --body "milter down, accept" ||
    e2e_fail "refused with milter_default_action=accept"
e2e_wait_mail 1 || e2e_fail "not delivered with milter_default_action=accept"
grep -q 'milter' "$E2E_MAILLOG" || e2e_fail "maillog does not mention the milter"
echo "t0003: ok"
