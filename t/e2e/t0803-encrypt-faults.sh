#!/bin/bash
# t0803-encrypt-faults: postern-encrypt run directly (as user postern, the
# way pipe(8) runs it) against an smtp-sink, with injected failures.  Every
# internal failure must exit 75 with nothing handed off; exit 0 must mean
# every output arrived.
# 1. the database locked by another process longer than store_busy_timeout;
# 2. gpg cannot run (execve of gpg fails, t/data/faultinject.c);
# 3. out of memory: allocation N and all later ones fail, for N over the
#    whole run (every N up to 120, then about 150 more spread to the end);
# 4. the temporary directory unusable (not private; under a file) for a
#    message that must spill;
# 5. the permanent cases: larger than message_size_limit (69), an envelope
#    address that is no address (65); bad usage (75).
set -eu
cd "$(dirname "$0")/../.."
. t/e2e/lib.sh
e2e_require smtp-sink openssl gpg gpgconf python3 cc runuser useradd

E2E_DIR=$(mktemp -d /tmp/postern-e2e.XXXXXX)
E2E_DIR_CREATED=1
chmod 755 "$E2E_DIR"
E2E_SINK_DIR=$E2E_DIR/sink
mkdir -p "$E2E_SINK_DIR"
chown nobody "$E2E_SINK_DIR"
. t/e2e/encrypt-lib.sh
trap 'enc_cleanup; e2e_stop_pids; [ "${E2E_KEEP:-0}" = 1 ] || rm -rf "$E2E_DIR"' EXIT
E2E_SINK_PORT=$(e2e_pick_port)
E2E_SMTP_PORT=0 E2E_REINJECT_PORT=0 E2E_MAILLOG=/dev/null	# no Postfix here
ENC_REINJECT="smtp:[127.0.0.1]:$E2E_SINK_PORT"
ENC_CONF_EXTRA="log_level = warn"
enc_setup
sink_start
cc -shared -fPIC -O2 -o "$E2E_DIR/fi.so" t/data/faultinject.c || e2e_fail "cannot build faultinject.so"
chmod 755 "$E2E_DIR/fi.so"

RCPTS="alice@example.com pgpuser@example.net plain@example.org"
printf 'From: Sender <sender@corp.test>\nTo: all\nSubject: faults\n\nsome text\n' > "$E2E_DIR/msg.eml"
chmod 644 "$E2E_DIR/msg.eml"
# run [ENV=V ...] -- ARGS...: postern-encrypt as postern; sets $rc, $out
run() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	rc=0
	out=$(runuser -u postern -- env "${envs[@]}" "$ENC_BIN/postern-encrypt" \
	    -c "$ENC_CONF" "$@" < "${MSG:-$E2E_DIR/msg.eml}" 2>&1) || rc=$?
}
sent() { e2e_mail_count; }
conf_set() {	# conf_set KEY VALUE: replace or add a line of postern.conf
	sed -i "/^$1 = /d" "$ENC_CONF"
	[ -n "$2" ] && echo "$1 = $2" >> "$ENC_CONF"
	return 0
}

# sanity: the fault-free run sends three outputs
run -- -f sender@corp.test -- $RCPTS
[ "$rc" -eq 0 ] || { echo "$out"; e2e_fail "fault-free run: exit $rc"; }
sleep 0.3
[ "$(sent)" -eq 3 ] || e2e_fail "fault-free run: $(sent) outputs, want 3"

# --- 1. database locked -----------------------------------------------
conf_set store_busy_timeout 300ms
python3 - "$E2E_DIR/p/state/postern.db" > "$E2E_DIR/lock.out" <<'PY' &
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA locking_mode=EXCLUSIVE")
con.execute("BEGIN EXCLUSIVE")
con.execute("CREATE TABLE t0803_lock(x)")
print("locked", flush=True)
time.sleep(3)
PY
lockpid=$!
for _ in $(seq 50); do grep -q locked "$E2E_DIR/lock.out" && break; sleep 0.1; done
n0=$(sent)
run -- -f sender@corp.test -- $RCPTS
wait "$lockpid" || true
[ "$rc" -eq 75 ] || { echo "$out"; e2e_fail "store locked: exit $rc, want 75"; }
echo "$out" | grep -q 'database is locked' || { echo "$out"; e2e_fail "store locked: reason not given"; }
[ "$(sent)" -eq "$n0" ] || e2e_fail "store locked: something was sent"
conf_set store_busy_timeout ""
echo "ok: database locked: 75, nothing sent"

# --- 2. gpg cannot run ----------------------------------------------------
n0=$(sent)
run LD_PRELOAD="$E2E_DIR/fi.so" POSTERN_FAULT_EXEC=gpg -- -f sender@corp.test -- $RCPTS
[ "$rc" -eq 75 ] || { echo "$out"; e2e_fail "gpg failure: exit $rc, want 75"; }
sleep 0.3
[ "$(sent)" -eq "$n0" ] || e2e_fail "gpg failure: the S/MIME or plain output went out"
echo "ok: gpg cannot run: 75, nothing sent (not even the other outputs)"

# --- 3. out of memory -------------------------------------------------------
rm -f "$E2E_DIR/count"
touch "$E2E_DIR/count"; chown postern "$E2E_DIR/count"
run LD_PRELOAD="$E2E_DIR/fi.so" POSTERN_FAULT_COUNT="$E2E_DIR/count" -- -f sender@corp.test -- $RCPTS
[ "$rc" -eq 0 ] || e2e_fail "counting run: exit $rc"
total=$(tail -1 "$E2E_DIR/count")
step=$(( total / 150 + 1 ))
runs=0 ok0=0 ok75=0
for n in $(seq 1 120) $(seq 121 "$step" "$total"); do
	sleep 0.05	# the sink finishes the previous transaction
	n0=$(sent)
	run LD_PRELOAD="$E2E_DIR/fi.so" POSTERN_FAULT_MALLOC=$n -- -f sender@corp.test -- $RCPTS
	runs=$((runs + 1))
	case $rc in
	0)
		for _ in $(seq 50); do [ "$(sent)" -ge $((n0 + 3)) ] && break; sleep 0.02; done
		[ "$(sent)" -eq $((n0 + 3)) ] || e2e_fail "allocation $n fails: exit 0 but $(( $(sent) - n0 )) of 3 outputs sent"
		ok0=$((ok0 + 1)) ;;
	75)
		ok75=$((ok75 + 1)) ;;
	*)
		echo "$out" | tail -3
		e2e_fail "allocation $n of $total fails: exit $rc (want 0 or 75)" ;;
	esac
done
[ "$ok75" -gt 100 ] || e2e_fail "out of memory: only $ok75 runs failed"
echo "ok: out of memory at $runs points of $total allocations: $ok75 x 75, $ok0 x 0 with every output sent"

# --- 4. temporary directory ------------------------------------------------
head -c 30000 /dev/urandom | base64 > "$E2E_DIR/big.txt"
{ printf 'From: sender@corp.test\nSubject: big\n\n'; cat "$E2E_DIR/big.txt"; } > "$E2E_DIR/big.eml"
chmod 644 "$E2E_DIR/big.eml"
conf_set spool_memory_max 4k
install -d -o postern -m 0755 "$E2E_DIR/opentmp"
conf_set temp_directory "$E2E_DIR/opentmp"
n0=$(sent)
MSG=$E2E_DIR/big.eml run -- -f sender@corp.test -- plain@example.org
[ "$rc" -eq 75 ] || { echo "$out"; e2e_fail "group-readable temp dir: exit $rc, want 75"; }
conf_set temp_directory "$E2E_DIR/msg.eml/tmp"
MSG=$E2E_DIR/big.eml run -- -f sender@corp.test -- plain@example.org
[ "$rc" -eq 75 ] || { echo "$out"; e2e_fail "temp dir under a file: exit $rc, want 75"; }
[ "$(sent)" -eq "$n0" ] || e2e_fail "temp dir: something was sent"
chmod 0700 "$E2E_DIR/opentmp"
conf_set temp_directory "$E2E_DIR/opentmp"
MSG=$E2E_DIR/big.eml run -- -f sender@corp.test -- plain@example.org
[ "$rc" -eq 0 ] || { echo "$out"; e2e_fail "private temp dir: exit $rc"; }
conf_set spool_memory_max ""
conf_set temp_directory ""
echo "ok: unusable temporary directory: 75; a private one works"

# --- 5. permanent failures and usage ----------------------------------------
conf_set message_size_limit 1k
MSG=$E2E_DIR/big.eml run -- -f sender@corp.test -- plain@example.org
[ "$rc" -eq 69 ] || { echo "$out"; e2e_fail "too large: exit $rc, want 69"; }
echo "$out" | grep -q 'larger than message_size_limit' || e2e_fail "too large: no reason"
conf_set message_size_limit ""
run -- -f sender@corp.test -- not-an-address
[ "$rc" -eq 65 ] || e2e_fail "bad recipient: exit $rc, want 65"
run -- -f sender@corp.test
[ "$rc" -eq 75 ] || e2e_fail "no recipients: exit $rc, want 75"
run -- -x -f a@b.test -- plain@example.org
[ "$rc" -eq 75 ] || e2e_fail "bad option: exit $rc, want 75"
echo "ok: 69 too large, 65 bad address, 75 bad usage"
echo "t0803: ok"
