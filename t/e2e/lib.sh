# t/e2e/lib.sh: a private Postfix instance for Postern's end-to-end tests,
# the demo and the benchmarks.  Source it from bash; it defines functions
# and E2E_* variables and starts nothing by itself.
#
# What it builds (pf_init), all under one directory E2E_DIR (a fresh
# mktemp -d under /tmp unless given):
#   etc/      config_directory: main.cf, master.cf (every service chroot n)
#   spool/    queue_directory        data/  data_directory (owned by postfix)
#   maillog   Postfix log (maillog_file + postlogd; there is no syslogd)
#   sink/     smtp-sink capture files, one file per delivered transaction
#   e2e.env   the chosen ports and started pids, for pf_attach (demo stop)
# Mail flow:
#   client -> 127.0.0.1:E2E_SMTP_PORT smtpd  [smtpd_milters, content_filter]
#          -> queue -> smtp -> 127.0.0.1:E2E_SINK_PORT smtp-sink -> sink/
#   content filter (pipe(8), user E2E_FILTER_USER) reinjects over SMTP to
#          127.0.0.1:E2E_REINJECT_PORT smtpd (content_filter=, no_milters)
# Nothing touches /etc/postfix: `postfix -c DIR` run as root does not need
# /etc/postfix/main.cf, and reinjection is SMTP, so no
# alternate_config_directories entry is needed (sendmail -C would need it).
#
# Knobs, set before pf_init (all optional):
#   E2E_SMTP_PORT E2E_REINJECT_PORT E2E_SINK_PORT
#                         ports; default: free random ports in 20000-39999
#   E2E_MILTER            milter socket path; sets smtpd_milters=unix:PATH
#   E2E_MILTER_DEFAULT_ACTION   milter_default_action (default tempfail)
#   E2E_FILTER_ARGV       pipe(8) argv= words (may use ${sender} and
#                         ${recipient}); sets content_filter on the inbound
#                         smtpd only (loop avoidance)
#   E2E_FILTER_USER       pipe(8) user (default postern; created as a system
#                         user with nologin shell when missing)
#   E2E_FILTER_FLAGS      pipe(8) flags (default Rq)
#   E2E_FILTER_MAXPROC    pipe(8) process limit (default 4)
#   E2E_SINK_USER         user smtp-sink runs as (default nobody)
#   E2E_MAIN_EXTRA        main.cf settings, one "name = value" a line,
#                         applied with postconf -e (they replace defaults)
#   E2E_KEEP=1            keep E2E_DIR after e2e_cleanup
#   E2E_TIMEOUT           default wait in seconds (default 30)
#   E2E_FULL_CHECK=1      let `postfix start` run its own (2 s) checks
# Functions: e2e_require, e2e_pick_port, e2e_port_free, e2e_ensure_user,
#   pf_init, pf_start, pf_stop, pf_postfix ARGS (postfix -c with a tty),
#   pf_queue_empty, sink_start [nodump], e2e_spawn CMD (background, stopped
#   by cleanup), e2e_send SWAKS-ARGS (E2E_PORT=port to send elsewhere),
#   e2e_wait_mail N [TIMEOUT], e2e_mail_count, e2e_mail_files, e2e_fail MSG,
#   e2e_fail_log MSG, e2e_cleanup, pf_attach DIR.  pf_init installs
#   `trap e2e_cleanup EXIT` unless E2E_NO_TRAP=1, so whatever was started is
#   stopped even when a test fails.
# A milter under test: start it with e2e_spawn before pf_start, on the
#   socket E2E_MILTER, which user postfix must be able to connect to.
# Speed: an instance starts in about 0.1 s and stops in about 0.05 s
#   (config files dated back, queue directories made here, quick-start).
# Requirements: root (Postfix master), bash, postfix, smtp-sink, swaks,
#   script(1), ss(8).  A missing tool is a skip (exit 77), nothing else is.

E2E_TIMEOUT=${E2E_TIMEOUT:-30}
E2E_FILTER_USER=${E2E_FILTER_USER:-postern}
E2E_FILTER_FLAGS=${E2E_FILTER_FLAGS:-Rq}
E2E_FILTER_MAXPROC=${E2E_FILTER_MAXPROC:-4}
E2E_SINK_USER=${E2E_SINK_USER:-nobody}
E2E_MILTER_DEFAULT_ACTION=${E2E_MILTER_DEFAULT_ACTION:-tempfail}
E2E_PIDS=${E2E_PIDS:-}
E2E_PF_STARTED=${E2E_PF_STARTED:-0}
E2E_DIR_CREATED=${E2E_DIR_CREATED:-0}

e2e_log() { printf 'e2e: %s\n' "$*" >&2; }

# e2e_require TOOL...: exit 77 (skip) when a tool is missing, or when not
# root (the Postfix master must start as root).
e2e_require() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$t" ]; then
			e2e_log "skip: '$t' not found (run contrib/install-deps)"
			exit 77
		fi
	done
	if [ "$(id -u)" -ne 0 ]; then
		e2e_log "skip: the private Postfix needs root"
		exit 77
	fi
}

# e2e_port_free PORT: true when nothing listens on 127.0.0.1:PORT/tcp.
e2e_port_free() {
	[ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# e2e_pick_port [EXCLUDE...]: print a free random port not in EXCLUDE.
e2e_pick_port() {
	local p x _ ok
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 20000))
		ok=1
		for x in "$@"; do [ "$p" = "$x" ] && ok=0; done
		[ "$ok" = 1 ] && e2e_port_free "$p" && { echo "$p"; return 0; }
	done
	e2e_log "no free port found"
	return 1
}

# e2e_wait_port PORT TIMEOUT: wait until something listens on PORT.
e2e_wait_port() {
	local _ n=$(($2 * 10))
	for _ in $(seq "$n"); do
		e2e_port_free "$1" || return 0
		sleep 0.1
	done
	return 1
}

# e2e_ensure_user NAME: create a system user with no login and no home
# when it does not exist (pipe(8) refuses root and the postfix user).
e2e_ensure_user() {
	id "$1" >/dev/null 2>&1 && return 0
	e2e_log "creating system user '$1' (nologin, no home)"
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin "$1"
}

# pf_postfix ARGS...: run postfix(1) on the private instance.  postfix
# prints its errors only on a terminal, so give it one with script(1).
pf_postfix() {
	local out rc=0
	out=$(script -qec "postfix -c '$E2E_DIR/etc' $*" /dev/null 2>&1) || rc=$?
	out=$(printf '%s' "$out" | tr -d '\r' |
	    grep -v -e 'backwards-compatible' -e 'COMPATIBILITY_README' \
	    -e "To disable backwards" -e "starting the Postfix mail system" \
	    -e "stopping the Postfix mail system" -e "waiting for the Postfix" || true)
	[ -n "$out" ] && printf '%s\n' "$out" >&2
	return "$rc"
}

# e2e_save_env: write the ports and pids to E2E_DIR/e2e.env (pf_attach).
e2e_save_env() {
	{
		printf 'E2E_SMTP_PORT=%q\n' "$E2E_SMTP_PORT"
		printf 'E2E_REINJECT_PORT=%q\n' "$E2E_REINJECT_PORT"
		printf 'E2E_SINK_PORT=%q\n' "$E2E_SINK_PORT"
		printf 'E2E_PIDS=%q\n' "$E2E_PIDS"
		printf 'E2E_PF_STARTED=%q\n' "$E2E_PF_STARTED"
		printf 'E2E_DIR_CREATED=%q\n' "$E2E_DIR_CREATED"
	} > "$E2E_DIR/e2e.env.tmp" && mv "$E2E_DIR/e2e.env.tmp" "$E2E_DIR/e2e.env"
}

# pf_attach DIR: load the state of an instance made earlier (demo stop).
pf_attach() {
	E2E_DIR=$1
	[ -f "$E2E_DIR/e2e.env" ] || return 1
	# shellcheck disable=SC1091
	. "$E2E_DIR/e2e.env"
	E2E_SINK_DIR=$E2E_DIR/sink
	E2E_MAILLOG=$E2E_DIR/maillog
}

# pf_mkqueue: create the queue and data directories with the owners and
# modes of /etc/postfix/postfix-files.  `postfix start` would do that too
# (post-install create-missing), but that costs 2 s per start; with the
# directories in place pf_start skips Postfix's own checks through the
# quick-start file, unless E2E_FULL_CHECK=1.
pf_mkqueue() {
	local q=$E2E_DIR/spool d sg
	sg=$(postconf -dh setgid_group 2>/dev/null || echo postdrop)
	install -d -o root -m 755 "$q" "$q/pid"
	install -d -o postfix -m 700 "$E2E_DIR/data"
	for d in active bounce corrupt defer deferred flush hold incoming \
	    private saved trace; do
		install -d -o postfix -m 700 "$q/$d"
	done
	install -d -o postfix -g "$sg" -m 730 "$q/maildrop"
	install -d -o postfix -g "$sg" -m 710 "$q/public"
}

# pf_init [DIR]: create the instance's directories and configuration.
pf_init() {
	if [ -n "${1:-}" ]; then
		E2E_DIR=$1
		mkdir -p "$E2E_DIR"
	else
		E2E_DIR=$(mktemp -d /tmp/postern-e2e.XXXXXX)
		E2E_DIR_CREATED=1
	fi
	[ "${E2E_NO_TRAP:-0}" = 1 ] || trap e2e_cleanup EXIT
	chmod 755 "$E2E_DIR"
	E2E_SINK_DIR=$E2E_DIR/sink
	E2E_MAILLOG=$E2E_DIR/maillog
	rm -rf "${E2E_DIR:?}/etc" "${E2E_DIR:?}/spool" "${E2E_DIR:?}/data"
	mkdir -p "$E2E_DIR/etc" "$E2E_SINK_DIR"
	pf_mkqueue
	chown "$E2E_SINK_USER" "$E2E_SINK_DIR"
	chmod 755 "$E2E_SINK_DIR"
	: > "$E2E_MAILLOG"

	E2E_SMTP_PORT=${E2E_SMTP_PORT:-$(e2e_pick_port)}
	E2E_REINJECT_PORT=${E2E_REINJECT_PORT:-$(e2e_pick_port "$E2E_SMTP_PORT")}
	E2E_SINK_PORT=${E2E_SINK_PORT:-$(e2e_pick_port "$E2E_SMTP_PORT" \
	    "$E2E_REINJECT_PORT")}

	local etc=$E2E_DIR/etc
	cat > "$etc/main.cf" <<EOF
# private Postfix instance made by t/e2e/lib.sh; loopback only
compatibility_level = 3.6
config_directory = $etc
queue_directory = $E2E_DIR/spool
data_directory = $E2E_DIR/data
myhostname = gw.postern.test
mydomain = postern.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
maillog_file_prefixes = /var, /dev/stdout, $E2E_DIR
maillog_file = $E2E_MAILLOG
relayhost = [127.0.0.1]:$E2E_SINK_PORT
smtp_dns_support_level = disabled
message_size_limit = 60000000
default_destination_concurrency_limit = 20
# retry deferred mail quickly: tests stop a listener and expect recovery
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
EOF
	if [ -n "${E2E_MILTER:-}" ]; then
		cat >> "$etc/main.cf" <<EOF
smtpd_milters = unix:$E2E_MILTER
non_smtpd_milters =
milter_default_action = $E2E_MILTER_DEFAULT_ACTION
EOF
	fi

	{
		echo "# made by t/e2e/lib.sh: every service chroot n"
		echo "127.0.0.1:$E2E_SMTP_PORT inet n - n - - smtpd"
		if [ -n "${E2E_FILTER_ARGV:-}" ]; then
			echo "  -o content_filter=postern-filter:dummy"
		fi
		cat <<EOF
127.0.0.1:$E2E_REINJECT_PORT inet n - n - 10 smtpd
  -o content_filter=
  -o smtpd_milters=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters
  -o smtpd_helo_restrictions=
  -o smtpd_client_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o mynetworks=127.0.0.0/8
  -o smtpd_authorized_xforward_hosts=127.0.0.0/8
EOF
		if [ -n "${E2E_FILTER_ARGV:-}" ]; then
			e2e_ensure_user "$E2E_FILTER_USER" || return 1
			echo "postern-filter unix - n n - $E2E_FILTER_MAXPROC pipe"
			echo "  flags=$E2E_FILTER_FLAGS user=$E2E_FILTER_USER null_sender= argv=$E2E_FILTER_ARGV"
		fi
		cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	} > "$etc/master.cf"
	# Postfix re-reads a config file whose mtime is this second (it may be
	# being edited), for up to 2 s; files written now would cost that delay
	# in every postfix/postconf run, so date them back.
	touch -d '-10 seconds' "$etc/main.cf" "$etc/master.cf"
	if [ -n "${E2E_MAIN_EXTRA:-}" ]; then
		local extra=() line
		while IFS= read -r line; do
			case "$line" in ''|'#'*) continue ;; esac
			extra+=("$line")
		done <<< "$E2E_MAIN_EXTRA"
		postconf -c "$etc" -e "${extra[@]}" || return 1
		touch -d '-10 seconds' "$etc/main.cf"
	fi
	e2e_save_env
}

# e2e_master_pid: print the running master's pid, or fail.
e2e_master_pid() {
	local pid
	pid=$(sed -n '1s/ //gp' "$E2E_DIR/spool/pid/master.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	# master.pid stays behind after a stop: make sure the pid is still a
	# Postfix master, not a process that reused the number
	tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'postfix/sbin/master' ||
	    return 1
	echo "$pid"
}

# pf_start: start the instance (quick start: see pf_mkqueue); wait until
# both smtpd ports listen.  Fails with the log tail
# when Postfix does not come up.
pf_start() {
	[ "${E2E_FULL_CHECK:-0}" = 1 ] || touch "$E2E_DIR/spool/quick-start"
	if ! pf_postfix start; then
		e2e_fail_log "postfix start failed"
		return 1
	fi
	E2E_PF_STARTED=1
	e2e_save_env
	if ! e2e_wait_port "$E2E_SMTP_PORT" 10 ||
	    ! e2e_wait_port "$E2E_REINJECT_PORT" 10; then
		e2e_fail_log "Postfix does not listen on 127.0.0.1:$E2E_SMTP_PORT/$E2E_REINJECT_PORT"
		return 1
	fi
}

# pf_group_alive PGID: true while a process of the group runs (zombies do
# not count: the master is reparented to PID 1, which may reap late).
pf_group_alive() {
	ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'
}

# pf_stop: stop the instance if it runs.  Like `postfix stop` this sends
# SIGTERM to the master (which terminates its children), but it polls
# every 50 ms instead of sleeping whole seconds, and waits until the
# master's whole process group is gone (10 s at most, then SIGKILL).
pf_stop() {
	local pid _
	[ -n "${E2E_DIR:-}" ] && [ -d "$E2E_DIR/etc" ] || return 0
	pid=$(e2e_master_pid) || { E2E_PF_STARTED=0; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 200); do
		pf_group_alive "$pid" || break
		sleep 0.05
	done
	if pf_group_alive "$pid"; then
		e2e_log "postfix master $pid did not stop; killing its process group"
		kill -KILL -- "-$pid" 2>/dev/null || true
	fi
	E2E_PF_STARTED=0
	e2e_save_env 2>/dev/null || true
}

# pf_queue_empty: true when the private queue holds no message.
pf_queue_empty() {
	local n
	n=$(find "$E2E_DIR/spool/incoming" "$E2E_DIR/spool/active" \
	    "$E2E_DIR/spool/deferred" "$E2E_DIR/spool/hold" \
	    "$E2E_DIR/spool/maildrop" -type f 2>/dev/null | wc -l)
	[ "$n" -eq 0 ]
}

# e2e_spawn CMD...: start CMD in the background and remember its pid so
# e2e_cleanup stops it.  Sets E2E_LAST_PID.
e2e_spawn() {
	"$@" &
	E2E_LAST_PID=$!
	E2E_PIDS="$E2E_PIDS $E2E_LAST_PID"
	e2e_save_env
}

# sink_start [nodump]: start smtp-sink on 127.0.0.1:E2E_SINK_PORT; each
# transaction lands in E2E_SINK_DIR/<time>.<random hex> (not with nodump,
# which the benchmarks use to measure Postfix and not the disk).
sink_start() {
	local dump=(-d "$E2E_SINK_DIR/%Y%m%d%H%M%S.")
	[ "${1:-}" = nodump ] && dump=()
	e2e_spawn smtp-sink -u "$E2E_SINK_USER" "${dump[@]}" \
	    "127.0.0.1:$E2E_SINK_PORT" 256
	E2E_SINK_PID=$E2E_LAST_PID    # for tests that stop the sink
	export E2E_SINK_PID
	if ! e2e_wait_port "$E2E_SINK_PORT" 10; then
		e2e_log "smtp-sink does not listen on 127.0.0.1:$E2E_SINK_PORT"
		return 1
	fi
}

# e2e_send SWAKS-ARGS...: send one message to the inbound smtpd with swaks
# (errors only; add --silent 0 or others to override).
e2e_send() {
	swaks --silent 2 --timeout 30 --server "127.0.0.1:${E2E_PORT:-$E2E_SMTP_PORT}" \
	    --helo client.postern.test "$@"
}

# e2e_mail_files: print the captured files, oldest first.
e2e_mail_files() {
	find "$E2E_SINK_DIR" -type f 2>/dev/null | sort
}

# e2e_mail_count: print how many messages were captured.
e2e_mail_count() {
	e2e_mail_files | wc -l
}

# e2e_fail_log MSG: print MSG, the queue and the tail of the maillog.
e2e_fail_log() {
	e2e_log "$*"
	E2E_LOG_SHOWN=1
	if [ -n "${E2E_DIR:-}" ]; then
		e2e_log "captured: $(e2e_mail_count) file(s) in $E2E_SINK_DIR"
		if [ -d "$E2E_DIR/spool/pid" ] && e2e_master_pid >/dev/null; then
			postqueue -c "$E2E_DIR/etc" -p 2>&1 | tail -20 | sed 's/^/e2e: queue: /' >&2
		fi
		e2e_log "tail of $E2E_MAILLOG:"
		tail -n 25 "$E2E_MAILLOG" 2>/dev/null | sed 's/^/e2e: log: /' >&2
	fi
}

# e2e_fail MSG: e2e_fail_log (unless a failed wait just printed the log
# tail) and exit 1 (the EXIT trap cleans up).
e2e_fail() {
	if [ "${E2E_LOG_SHOWN:-0}" = 1 ]; then
		e2e_log "FAIL: $*"    # the log tail was just printed
	else
		e2e_fail_log "FAIL: $*"
	fi
	exit 1
}

# e2e_wait_mail N [TIMEOUT]: wait until at least N messages were captured
# and the queue is empty (every delivery finished, so every capture file
# is complete).  Fails with the queue and log tail after TIMEOUT seconds.
e2e_wait_mail() {
	local n=$1 t=${2:-$E2E_TIMEOUT} _
	for _ in $(seq $((t * 10))); do
		if [ "$(e2e_mail_count)" -ge "$n" ] && pf_queue_empty; then
			return 0
		fi
		sleep 0.1
	done
	e2e_fail_log "timeout after ${t}s: want $n message(s), got $(e2e_mail_count)"
	return 1
}

# e2e_alive PID: true while PID runs (a zombie does not count: processes
# left by an earlier shell, like the demo's, are reaped by PID 1 late).
e2e_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case "$st" in Z*) return 1 ;; esac
}

# e2e_stop_pids: TERM every spawned process, wait up to 10 s (a libmilter
# program needs about 5 s to leave), then KILL what is left.
e2e_stop_pids() {
	local p _ alive
	for p in $E2E_PIDS; do kill "$p" 2>/dev/null || true; done
	for _ in $(seq 100); do
		alive=0
		for p in $E2E_PIDS; do e2e_alive "$p" && alive=1; done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for p in $E2E_PIDS; do kill -9 "$p" 2>/dev/null || true; done
	for p in $E2E_PIDS; do wait "$p" 2>/dev/null || true; done
	E2E_PIDS=
}

# e2e_cleanup: stop Postfix and everything spawned; remove E2E_DIR when
# we created it, unless E2E_KEEP=1.  Safe to call more than once.
e2e_cleanup() {
	local rc=$?
	[ -n "${E2E_DIR:-}" ] || return "$rc"
	pf_stop
	e2e_stop_pids
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		e2e_log "kept $E2E_DIR"
	elif [ "$E2E_DIR_CREATED" = 1 ]; then
		case "$E2E_DIR" in /tmp/postern-e2e.*) rm -rf "$E2E_DIR" ;; esac
	fi
	E2E_DIR=
	return "$rc"
}
