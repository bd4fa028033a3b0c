#!/bin/bash
# t0004-demo: what make demo runs (t/e2e/demo.sh), in a private
# POSTERN_DEMO_DIR: it comes up, delivers its swaks message, and a second
# message sent with the swaks command it prints arrives too, through
# postern-milter when it is built (a forged info header is removed);
# with postern-encrypt built, alice's copy arrives S/MIME-encrypted and
# decrypts with openssl cms (the demo prints the plaintext);
# status says running; start again restarts; stop ends every process it
# started and status then says not running.
set -u
cd "$(dirname "$0")/../.."
. t/e2e/lib.sh
e2e_require postfix postconf postqueue smtp-sink swaks script ss
O=${O:-build}
export O
demo=$(mktemp -d /tmp/postern-demo-t.XXXXXX)
export POSTERN_DEMO_DIR=$demo
trap 't/e2e/demo.sh stop >/dev/null 2>&1; rm -rf "$demo"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

t/e2e/demo.sh > "$demo/start.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ok "demo starts" || bad "demo start: exit $rc: $(cat "$demo/start.out")"
grep -q '^demo: delivered ' "$demo/start.out" && ok "its test message was delivered" ||
    bad "no delivery in: $(cat "$demo/start.out")"
if [ -x "$O/bin/postern-encrypt" ]; then
	grep -q "^demo:   decrypted with alice's key" "$demo/start.out" &&
	    grep -q '^demo:     | Hello from the Postern demo' "$demo/start.out" &&
	    ok "postern-encrypt in the path: alice's copy S/MIME-encrypted, openssl cms decrypts it" ||
	    bad "no encrypted copy for alice in: $(cat "$demo/start.out")"
fi
t/e2e/demo.sh status > "$demo/status.out" 2>&1 && grep -q "demo: running" "$demo/status.out" &&
    ok "status: running" || bad "status: $(cat "$demo/status.out")"

# the swaks command it prints, with a forged info header added
cmd=$(sed -n 's/^ *\(swaks --server 127\.0\.0\.1:[0-9]* .*\)$/\1/p' "$demo/start.out" | head -1)
[ -n "$cmd" ] || bad "no swaks command printed"
sink=$demo/postfix/sink
before=$(ls "$sink" | wc -l)
eval "$cmd --header 'X-Postern-Info-SMIME-Signed: True' --header 'Subject: t0004 second'" \
    >"$demo/swaks.out" 2>&1 || bad "printed swaks command failed: $(tail -5 "$demo/swaks.out")"
for _ in $(seq 300); do [ "$(ls "$sink" | wc -l)" -gt "$before" ] && break; sleep 0.1; done
f=$(grep -l '^Subject: t0004 second' "$sink"/* 2>/dev/null | head -1)
if [ -n "$f" ]; then
	ok "a message sent with the printed command arrived"
	if [ -x "$O/bin/postern-milter" ]; then
		grep -q '^X-Postern-Info-SMIME-Signed' "$f" &&
		    bad "forged info header delivered: postern-milter not in the path" ||
		    ok "postern-milter in the path: forged info header removed"
	fi
else
	bad "second message not delivered"
fi

# start again: a restart, still delivering
t/e2e/demo.sh > "$demo/restart.out" 2>&1 &&
    grep -q 'restarting' "$demo/restart.out" && grep -q '^demo: delivered ' "$demo/restart.out" &&
    ok "start again restarts and delivers" || bad "restart: $(cat "$demo/restart.out")"

master=$(pf_attach "$demo/postfix" && e2e_master_pid)
pids=$(. "$demo/postfix/e2e.env" 2>/dev/null; echo "${E2E_PIDS:-}")
t/e2e/demo.sh stop > "$demo/stop.out" 2>&1 || bad "stop failed: $(cat "$demo/stop.out")"
t/e2e/demo.sh status >/dev/null 2>&1 && bad "status: still running after stop" || ok "stopped"
[ -n "$master" ] && pf_group_alive "$master" && bad "Postfix master $master still runs"
for p in $pids; do
	e2e_alive "$p" && bad "process $p of the demo still runs"
done
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
