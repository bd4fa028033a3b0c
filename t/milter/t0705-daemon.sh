#!/bin/bash
# t0705-daemon: postern-milter as a daemon, the real binary.
#  1. configuration errors are fatal at start, name file:line, exit 1,
#     and leave no socket behind: with -c, with POSTERN_CONF, and -c
#     winning over POSTERN_CONF; posternctl reads both the same way;
#  2. without -F it detaches (the starting process exits 0), writes the
#     pidfile (-P, as root), opens the unix socket (-p) owned by the -u
#     user and group with mode 0770, runs as that user, answers a
#     message over the socket (miltertest), answers eight concurrent
#     clients (threads sharing the store pool), and on SIGTERM removes
#     the socket and the pidfile and exits;
#  3. -p inet:PORT@127.0.0.1 in the foreground answers too, and SIGTERM
#     ends it with exit status 0;
#  4. milter_socket and milter_pidfile from the configuration are used
#     when -p and -P are not given.
# Needs root (for -u) and miltertest; exit 77 otherwise.
set -u
top=${POSTERN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-build}
milter=$top/$O/bin/postern-milter
ctl=$top/$O/bin/posternctl
[ -x "$milter" ] || { echo "no $milter"; exit 1; }
command -v miltertest >/dev/null || { echo "skip: no miltertest"; exit 77; }
command -v ss >/dev/null || { echo "skip: no ss"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "skip: needs root for -u"; exit 77; }
user=nobody
group=$(id -gn "$user") || { echo "skip: no user $user"; exit 77; }

tmp=$(mktemp -d /tmp/postern-d.XXXXXX)
pids=()
cpids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

cat > "$tmp/p.conf" <<EOC
state_directory = $tmp/state
master_key_file = $tmp/master.key
EOC
"$ctl" -c "$tmp/p.conf" init >/dev/null || { echo "init failed"; exit 1; }
mkdir -p "$tmp/state/tmp" "$tmp/run"
chown -R "$user:$group" "$tmp/state" "$tmp/run"
chmod 700 "$tmp/state/tmp"

# wait_for COND-COMMAND...: up to 10 s
wait_for() {
	local i
	for i in $(seq 100); do "$@" && return 0; sleep 0.1; done
	return 1
}
gone() { ! kill -0 "$1" 2>/dev/null; }

# --- 1. configuration errors ----------------------------------------------
printf 'log_level = info\nno_such_key = 1\n' > "$tmp/bad.conf"
printf 'log_level = loud\n' > "$tmp/bad2.conf"
# fatal CONF-FILE LINE-TEXT ARGS...: exit 1, one line naming file:line
fatal() {
	local want=$1; shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	[ "$rc" -eq 1 ] || { bad "$*: exit $rc, want 1"; return; }
	grep -qF -- "$want" "$tmp/err" || { bad "$*: no '$want' in: $(cat "$tmp/err")"; return; }
	[ "$(wc -l < "$tmp/err")" -eq 1 ] || { bad "$*: not one line: $(cat "$tmp/err")"; return; }
	ok "config error: $want"
}
fatal "$tmp/bad.conf:2: unknown parameter 'no_such_key'" \
    "$milter" -c "$tmp/bad.conf" -F -p "unix:$tmp/run/e.sock"
fatal "$tmp/bad.conf:2: unknown parameter 'no_such_key'" \
    "$milter" -c "$tmp/bad.conf" -p "unix:$tmp/run/e.sock"
fatal "$tmp/bad.conf:2: unknown parameter 'no_such_key'" \
    env POSTERN_CONF="$tmp/bad.conf" "$milter" -F -p "unix:$tmp/run/e.sock"
fatal "$tmp/bad2.conf:1: bad value 'loud' for 'log_level'" \
    env POSTERN_CONF="$tmp/bad.conf" "$milter" -c "$tmp/bad2.conf" -F -p "unix:$tmp/run/e.sock"
fatal "$tmp/bad.conf:2: unknown parameter 'no_such_key'" \
    env POSTERN_CONF="$tmp/bad.conf" "$ctl" user list
fatal "$tmp/bad2.conf:1: bad value 'loud' for 'log_level'" \
    env POSTERN_CONF="$tmp/bad.conf" "$ctl" -c "$tmp/bad2.conf" user list
[ ! -e "$tmp/run/e.sock" ] && ok "no socket after a config error" ||
    bad "a config error left $tmp/run/e.sock"
# POSTERN_CONF alone is enough for a working posternctl
POSTERN_CONF="$tmp/p.conf" "$ctl" domain add example.org >/dev/null &&
    ok "posternctl reads POSTERN_CONF" || bad "posternctl with POSTERN_CONF"
POSTERN_CONF="$tmp/p.conf" "$ctl" set --domain example.org locality internal \
    >/dev/null || bad "posternctl set"
chown -R "$user:$group" "$tmp/state"

# one message over SOCK: the forged header must be deleted
cat > "$tmp/one.lua" <<'LUA'
local conn = mt.connect(SOCK, 40, 0.25)
assert(conn ~= nil, "connect " .. SOCK)
assert(mt.conninfo(conn, "mx.example.com", "192.0.2.1") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
mt.macro(conn, SMFIC_MAIL, "i", "5D00BB")
assert(mt.mailfrom(conn, "<alice@example.com>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.rcptto(conn, "<bob@example.org>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.header(conn, "From", "alice@example.com") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.header(conn, "X-Postern-Info-SMIME-Signed", "True") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, "hello\r\n") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.eom(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.eom_check(conn, MT_HDRDELETE, "X-Postern-Info-SMIME-Signed"),
  "forged header not deleted")
mt.disconnect(conn)
mt.echo("ok: message answered")
LUA
one_message() {
	miltertest -s "$tmp/one.lua" -D SOCK="$1" >"$tmp/mt.out" 2>&1 </dev/null &&
	    grep -q "ok: message answered" "$tmp/mt.out"
}

# --- 2. daemon mode with -u, -P, unix socket --------------------------------
sock=$tmp/run/m.sock pidf=$tmp/run/m.pid
"$milter" -c "$tmp/p.conf" -p "unix:$sock" -P "$pidf" -u "$user:$group" \
    >"$tmp/d.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ok "starting process exits 0" || bad "daemon start: exit $rc: $(cat "$tmp/d.out")"
wait_for test -s "$pidf" || bad "no pidfile $pidf"
pid=$(cat "$pidf" 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
	pids+=("$pid")
	ok "daemon runs, pid $pid from the pidfile"
	grep -q postern-milter "/proc/$pid/cmdline" || bad "pid $pid is not postern-milter"
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
	gid=$(awk '/^Gid:/ { print $2 }' "/proc/$pid/status")
	[ "$uid" = "$(id -u "$user")" ] && [ "$gid" = "$(getent group "$group" | cut -d: -f3)" ] &&
	    ok "runs as $user:$group" || bad "runs as uid $uid gid $gid"
	[ "$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status")" = 1 ] ||
	    [ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ] &&
	    ok "detached (own session)" || bad "not detached"
	wait_for test -S "$sock" || bad "no socket $sock"
	[ "$(stat -c '%U:%G %a' "$sock")" = "$user:$group 770" ] &&
	    ok "socket $user:$group mode 770" || bad "socket: $(stat -c '%U:%G %a' "$sock")"
	one_message "unix:$sock" && ok "daemon answers over the unix socket" ||
	    bad "daemon: $(cat "$tmp/mt.out")"
	# eight connections at once, three messages each: one thread per
	# connection, store connections from the pool
	for i in $(seq 8); do
		( for j in 1 2 3; do
			miltertest -s "$tmp/one.lua" -D SOCK="unix:$sock" \
			    </dev/null 2>&1 | grep -q "ok: message answered" || exit 1
		  done ) &
		cpids+=($!)
	done
	cfail=0
	for p in "${cpids[@]}"; do wait "$p" || cfail=$((cfail + 1)); done
	[ "$cfail" -eq 0 ] && ok "8 concurrent connections x 3 messages answered" ||
	    bad "$cfail of 8 concurrent clients failed"
	kill -0 "$pid" 2>/dev/null || bad "daemon died under concurrent load"
	kill -TERM "$pid"
	wait_for gone "$pid" && ok "SIGTERM stops it" || bad "still running after SIGTERM"
	[ ! -e "$pidf" ] && ok "pidfile removed" || bad "pidfile left behind"
	[ ! -e "$sock" ] && ok "socket removed" || bad "socket left behind"
else
	bad "no daemon running (pid '$pid'): $(cat "$tmp/d.out")"
fi

# --- 3. foreground, inet socket, exit status on SIGTERM ----------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 38765)
POSTERN_CONF="$tmp/p.conf" "$milter" -F -p "inet:$port@127.0.0.1" -u "$user" \
    >"$tmp/f.out" 2>&1 &
fpid=$!
pids+=("$fpid")
wait_for bash -c "ss -ltn | grep -q '127.0.0.1:$port '" || bad "inet socket not listening"
one_message "inet:$port@127.0.0.1" && ok "answers over inet:$port@127.0.0.1" ||
    bad "inet: $(cat "$tmp/mt.out")"
kill -TERM "$fpid"
wait "$fpid"
rc=$?
[ "$rc" -eq 0 ] && ok "foreground: exit 0 after SIGTERM" || bad "foreground exit $rc: $(cat "$tmp/f.out")"
grep -q "stopping" "$tmp/f.out" && ok "logs stopping" || bad "no stopping line: $(cat "$tmp/f.out")"

# --- 4. socket and pidfile from the configuration ---------------------------
{ cat "$tmp/p.conf"
  echo "milter_socket = unix:$tmp/run/conf.sock"
  echo "milter_pidfile = $tmp/run/conf.pid"; } > "$tmp/c.conf"
"$milter" -c "$tmp/c.conf" -u "$user:$group" >"$tmp/c.out" 2>&1 ||
    bad "start from config: $(cat "$tmp/c.out")"
wait_for test -s "$tmp/run/conf.pid" || bad "milter_pidfile not written"
cpid=$(cat "$tmp/run/conf.pid" 2>/dev/null)
[ -n "$cpid" ] && pids+=("$cpid")
wait_for test -S "$tmp/run/conf.sock" && ok "milter_socket and milter_pidfile used" ||
    bad "milter_socket not created"
[ -n "$cpid" ] && kill -TERM "$cpid" && wait_for gone "$cpid" || bad "config daemon did not stop"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
