#!/bin/bash
# The real postern-milter binary driven by miltertest(8): forged info
# headers removed, external recipients leave the message encrypted, abort
# and bare connections, tempfail when the database is unreadable or the
# spool cannot spill; with milter_failure_action = accept the same
# failures pass the message, with the forged info headers removed.
set -u
top=${POSTERN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-build}
milter=$top/$O/bin/postern-milter
ctl=$top/$O/bin/posternctl
command -v miltertest >/dev/null || { echo "miltertest missing"; exit 77; }
[ -x "$milter" ] || { echo "no $milter"; exit 1; }

tmp=$(mktemp -d /tmp/postern-mt.XXXXXX)
stop_milters() {
	pkill -f "postern-milter -F -c $tmp" 2>/dev/null || return 0
	for _ in $(seq 60); do
		pgrep -f "postern-milter -F -c $tmp" >/dev/null || return 0
		sleep 0.1
	done
	pkill -KILL -f "postern-milter -F -c $tmp" 2>/dev/null
}
trap 'stop_milters; rm -rf "$tmp"' EXIT
cat > "$tmp/p.conf" <<EOC
state_directory = $tmp/state
master_key_file = $tmp/master.key
log_destination = stderr
EOC
sed "s|^state_directory.*|state_directory = $tmp/nostate|" "$tmp/p.conf" > "$tmp/bad.conf"
{ cat "$tmp/bad.conf"; echo "milter_failure_action = accept"; } > "$tmp/accept.conf"
# the spool must spill past 4k into temp_directory, which is a file
: > "$tmp/not-a-dir"
{ cat "$tmp/p.conf"; echo "spool_memory_max = 4k"
  echo "temp_directory = $tmp/not-a-dir"; } > "$tmp/spool.conf"
{ cat "$tmp/spool.conf"; echo "milter_failure_action = accept"; } > "$tmp/spool-accept.conf"
"$ctl" -c "$tmp/p.conf" init >/dev/null || exit 1
"$ctl" -c "$tmp/p.conf" set --domain example.org locality internal || exit 1

miltertest -s "$top/t/milter/basic.lua" \
    -D MILTER="$milter" -D CONF="$tmp/p.conf" -D SOCK="unix:$tmp/m.sock" \
    -D BADCONF="$tmp/bad.conf" -D BADSOCK="unix:$tmp/bad.sock" \
    -D ACCEPTCONF="$tmp/accept.conf" -D ACCEPTSOCK="unix:$tmp/accept.sock" \
    -D SPOOLCONF="$tmp/spool.conf" -D SPOOLSOCK="unix:$tmp/spool.sock" \
    -D SPOOLACCEPTCONF="$tmp/spool-accept.conf" \
    -D SPOOLACCEPTSOCK="unix:$tmp/spool-accept.sock" \
    >"$tmp/out" 2>&1 </dev/null
rc=$?
# miltertest stops only the filter it started last
stop_milters
cat "$tmp/out"
grep -q "ok: all milter cases passed" "$tmp/out" || rc=1
exit $rc
