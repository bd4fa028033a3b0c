#!/bin/bash
# t/e2e/demo.sh [start|stop|status]: Postern's demo gateway (make demo,
# make demo-stop).
#
# start: initialise a demo state directory with `posternctl init`, start a
#   private Postfix on 127.0.0.1 (ports printed) relaying everything to an
#   smtp-sink that writes each delivered message to a file, send one test
#   message with swaks and show that it arrived.  When the programs exist
#   (build/bin/postern-milter, build/bin/postern-encrypt) they are plugged
#   in: the milter on a unix socket as smtpd_milters, the encryptor as a
#   pipe(8) content_filter on the inbound smtpd that reinjects over SMTP to
#   a second smtpd (content_filter=, no_milters).  With the encryptor, the
#   test PKI of t/data/mkpki.sh is made in $DEMO/pki and alice@example.com's
#   certificate imported, so the test message to alice@example.com and
#   bob@example.net arrives as two messages: S/MIME-encrypted for alice
#   (decrypted on screen with openssl cms and alice's key), plain for bob.
#   Processes keep running after the script exits; `stop` ends them.
#   Starting again restarts.
# stop: stop Postfix, the sink and the Postern daemons of the demo.
# status: print where things are and whether they run.
#
# Everything lives in POSTERN_DEMO_DIR (default /tmp/postern-demo), outside
# the git tree: postern.conf, state/ (database, master key), postfix/
# (config, queue, maillog), postfix/sink/ (delivered mail).  Preferred ports
# 2525 (inbound), 10026 (reinjection), 2526 (sink); a random free port
# replaces any that is taken.  Needs root (Postfix's master).  The pipe(8)
# user `postern` (system user, nologin) is created when the encryptor is
# plugged in.
set -eu
cd "$(dirname "$0")/../.."
TOP=$PWD
O=${O:-build}
DEMO=${POSTERN_DEMO_DIR:-/tmp/postern-demo}
CONF=$DEMO/postern.conf
PFDIR=$DEMO/postfix
case "$O" in /*) BIN=$O/bin ;; *) BIN=$TOP/$O/bin ;; esac
CTL=$BIN/posternctl
MILTER=$BIN/postern-milter
ENCRYPT=$BIN/postern-encrypt
E2E_NO_TRAP=1
. t/e2e/lib.sh

say() { printf '%s\n' "$*"; }

demo_running() {
	[ -d "$PFDIR/etc" ] && pf_attach "$PFDIR" && e2e_master_pid >/dev/null
}

demo_stop() {
	if ! pf_attach "$PFDIR" 2>/dev/null; then
		say "demo: nothing to stop in $PFDIR"
		return 0
	fi
	pf_stop
	# only the demo's own daemons, in case a pid was reused since
	local p keep=
	for p in $E2E_PIDS; do
		tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null |
		    grep -Eq 'smtp-sink|postern-' && keep="$keep $p"
	done
	E2E_PIDS=$keep
	e2e_stop_pids
	e2e_save_env
	say "demo: stopped (state and delivered mail kept in $DEMO)"
}

demo_status() {
	if demo_running; then
		say "demo: running: smtpd 127.0.0.1:$E2E_SMTP_PORT, reinjection 127.0.0.1:$E2E_REINJECT_PORT, sink 127.0.0.1:$E2E_SINK_PORT"
		say "demo: delivered messages: $(e2e_mail_count) in $E2E_SINK_DIR"
	else
		say "demo: not running"
		return 1
	fi
}

# demo_port PREFERRED [EXCLUDE...]: the preferred port when free, else a
# random free one.
demo_port() {
	local p=$1
	shift
	if e2e_port_free "$p"; then echo "$p"; else e2e_pick_port "$@"; fi
}

demo_fail() {
	local rc=$?
	[ "$rc" -eq 0 ] && return 0
	e2e_fail_log "demo: start failed (rc=$rc); stopping what was started"
	pf_stop
	e2e_stop_pids
	e2e_save_env 2>/dev/null || true
	exit "$rc"
}

demo_start() {
	e2e_require postfix postconf postqueue smtp-sink swaks script ss
	[ -x "$CTL" ] || { say "demo: $CTL missing; run make demo" >&2; exit 1; }
	if demo_running; then
		say "demo: already running; restarting"
		demo_stop
	fi
	mkdir -p "$DEMO"
	chmod 755 "$DEMO"
	rm -rf "$PFDIR/sink"

	E2E_SMTP_PORT=$(demo_port 2525)
	E2E_REINJECT_PORT=$(demo_port 10026 "$E2E_SMTP_PORT")
	E2E_SINK_PORT=$(demo_port 2526 "$E2E_SMTP_PORT" "$E2E_REINJECT_PORT")

	cat > "$CONF.tmp" <<EOF
# postern.conf for the demo (written by t/e2e/demo.sh; see postern.conf(5))
state_directory = $DEMO/state
database = $DEMO/state/postern.db
master_key_file = $DEMO/state/master.key
log_destination = stderr
log_level = info
EOF
	if [ -x "$ENCRYPT" ]; then
		echo "reinject = smtp:[127.0.0.1]:$E2E_REINJECT_PORT" >> "$CONF.tmp"
	fi
	mv "$CONF.tmp" "$CONF"

	trap demo_fail EXIT
	say "demo: posternctl init ($CONF)"
	"$CTL" -c "$CONF" init | sed 's/^/demo:   /'

	if [ -x "$MILTER" ] || [ -x "$ENCRYPT" ]; then
		# the daemons run as the unprivileged user postern
		e2e_ensure_user postern
		chown -R postern:postern "$DEMO/state"
		chown postern:postern "$CONF"
		chmod 0640 "$CONF"
	fi
	if [ -x "$MILTER" ]; then
		E2E_MILTER=$PFDIR/milter.sock
	fi
	if [ -x "$ENCRYPT" ]; then
		# a recipient with an S/MIME certificate, so the demo shows
		# encryption: the test PKI, its root trusted
		[ -f "$DEMO/pki/done" ] || sh t/data/mkpki.sh "$DEMO/pki" >/dev/null
		"$CTL" -c "$CONF" root import "$DEMO/pki/root.crt" >/dev/null
		"$CTL" -c "$CONF" cert import "$DEMO/pki/inter.crt" \
		    "$DEMO/pki/alice.crt" >/dev/null
		chown -R postern:postern "$DEMO/state"
		say "demo: S/MIME certificate of alice@example.com imported (test PKI in $DEMO/pki)"
		# the filter's log lines go to a file (pipe(8) drops the
		# output of a command that succeeds)
		cat > "$DEMO/encrypt.sh" <<EOS
#!/bin/sh
exec "$ENCRYPT" -c "$CONF" "\$@" 2>>"$PFDIR/encrypt.log"
EOS
		chmod 755 "$DEMO/encrypt.sh"
		E2E_FILTER_USER=postern
		E2E_FILTER_ARGV="$DEMO/encrypt.sh -f \${sender} -- \${recipient}"
	fi
	pf_init "$PFDIR"
	if [ -x "$ENCRYPT" ]; then
		: > "$PFDIR/encrypt.log"
		chown postern "$PFDIR/encrypt.log"
	fi

	if [ -x "$MILTER" ]; then
		rm -f "$E2E_MILTER"
		# unix socket, never inet (feasibility.md section 6: 44-88 ms
		# stall per message); the socket belongs to postern:postfix
		# so Postfix's smtpd can connect
		# shellcheck disable=SC2086
		(exec setsid "$MILTER" -F -c "$CONF" -p "unix:$E2E_MILTER" \
		    -u postern:postfix ${POSTERN_DEMO_MILTER_ARGS:-} \
		    </dev/null >>"$PFDIR/milter.log" 2>&1) &
		E2E_PIDS="$E2E_PIDS $!"
		e2e_save_env
		for _ in $(seq 100); do [ -S "$E2E_MILTER" ] && break; sleep 0.1; done
		[ -S "$E2E_MILTER" ] || { cat "$PFDIR/milter.log" >&2; say "demo: postern-milter did not create $E2E_MILTER" >&2; exit 1; }
		say "demo: postern-milter on unix:$E2E_MILTER (log $PFDIR/milter.log)"
	fi

	(exec setsid smtp-sink -u "$E2E_SINK_USER" -d "$E2E_SINK_DIR/%Y%m%d%H%M%S." \
	    "127.0.0.1:$E2E_SINK_PORT" 256 </dev/null >>"$PFDIR/sink.log" 2>&1) &
	E2E_PIDS="$E2E_PIDS $!"
	e2e_save_env
	e2e_wait_port "$E2E_SINK_PORT" 10 || { say "demo: smtp-sink did not start" >&2; exit 1; }
	pf_start

	say "demo: Postfix listens on 127.0.0.1:$E2E_SMTP_PORT (reinjection 127.0.0.1:$E2E_REINJECT_PORT, sink 127.0.0.1:$E2E_SINK_PORT)"
	[ -x "$ENCRYPT" ] && say "demo: postern-encrypt is the content_filter (pipe(8), user postern)"
	if [ -x "$ENCRYPT" ]; then
		say "demo: sending a test message to alice@example.com (S/MIME certificate) and bob@example.net (none)"
		e2e_send --from sender@example.org --to alice@example.com,bob@example.net \
		    --header "From: Sender <sender@example.org>" \
		    --header "Subject: Postern demo" --body "Hello from the Postern demo."
		e2e_wait_mail 2 30
	else
		say "demo: sending a test message"
		e2e_send --from alice@example.org --to bob@example.net \
		    --header "Subject: Postern demo" --body "Hello from the Postern demo."
		e2e_wait_mail 1 30
	fi
	for f in $(e2e_mail_files); do
		say "demo: delivered $f:"
		grep -E '^(X-Rcpt-Args|From|To|Subject|Content-Type|X-Postern[^:]*):' "$f" |
		    sed 's/^/demo:   /'
		if grep -q '^Content-Type: application/pkcs7-mime' "$f"; then
			say "demo:   decrypted with alice's key: openssl cms -decrypt -in $f -recip $DEMO/pki/alice.crt -inkey $DEMO/pki/alice.key"
			openssl cms -decrypt -in "$f" -recip "$DEMO/pki/alice.crt" \
			    -inkey "$DEMO/pki/alice.key" 2>&1 | sed 's/^/demo:     | /'
		fi
	done
	[ -x "$ENCRYPT" ] && grep ': encrypt: ' "$PFDIR/encrypt.log" | sed 's/^/demo: log: /'
	trap - EXIT

	cat <<EOF

Postern demo is running (state in $DEMO).
  Send a message:
    swaks --server 127.0.0.1:$E2E_SMTP_PORT --from sender@example.org --to alice@example.com,bob@example.net --header 'Subject: test' --body 'hello'
  Delivered mail (one file per message, envelope in X-Mail-Args/X-Rcpt-Args):
    ls $E2E_SINK_DIR
  Postfix log:     $E2E_MAILLOG
  Encryptor log:   $PFDIR/encrypt.log
  Why (not) encrypted:
    $CTL -c $CONF policy explain --from sender@example.org --to alice@example.com
  Postern config:  posternctl -c $CONF ...   ($CTL)
  Stop it:         t/e2e/demo.sh stop   (or: make demo-stop)
EOF
}

case "${1:-start}" in
start) demo_start ;;
stop) demo_stop ;;
status) demo_status ;;
*) say "usage: t/e2e/demo.sh [start|stop|status]" >&2; exit 2 ;;
esac
