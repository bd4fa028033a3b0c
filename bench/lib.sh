# bench/lib.sh: helpers for bench/bNNNN-*.sh, on top of t/e2e/lib.sh.
# Source after t/e2e/lib.sh, with a private Postfix and a sink started
# (pf_init, sink_start nodump, pf_start).  Messages come from smtp-source
# (BENCH_SESSIONS parallel sessions, default 4) on loopback.
#   bench_raw_rate PORT N SIZE   smtp-source straight to PORT (the sink):
#                                print messages/second
#   bench_pf_rate N SIZE [TMO]   smtp-source to the inbound smtpd; the clock
#                                stops when N more messages were logged
#                                status=sent to the sink: print msgs/second
#   bench_ratio A B              print A/B with 2 decimals
#   bench_result NAME k=v ...    print one result line for bench/run.sh
# Every wait is bounded (TMO, default 300 s); a timeout fails with the
# maillog tail.

BENCH_SESSIONS=${BENCH_SESSIONS:-4}

bench_now() { date +%s.%N; }

bench_rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }

bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }

bench_result() { printf 'result %s\n' "$*"; }

# bench_source PORT N SIZE: send N messages of SIZE bytes, bounded time.
bench_source() {
	timeout 600 smtp-source -s "$BENCH_SESSIONS" -m "$2" -l "$3" \
	    -M client.postern.test -f alice@src.test -t bob@dest.test \
	    "127.0.0.1:$1"
}

bench_raw_rate() {
	local t0 t1
	t0=$(bench_now)
	bench_source "$1" "$2" "$3" || { e2e_log "smtp-source to :$1 failed"; return 1; }
	t1=$(bench_now)
	bench_rate "$2" "$t0" "$t1"
}

# bench_sent_count: messages logged status=sent to the sink so far.
bench_sent_count() {
	grep -c "relay=127\.0\.0\.1\[127\.0\.0\.1\]:$E2E_SINK_PORT,.* status=sent" \
	    "$E2E_MAILLOG" || true
}

bench_pf_rate() {
	local n=$1 size=$2 tmo=${3:-300} base want t0 t1 _
	base=$(bench_sent_count)
	want=$((base + n))
	t0=$(bench_now)
	bench_source "$E2E_SMTP_PORT" "$n" "$size" ||
	    { e2e_fail_log "smtp-source to :$E2E_SMTP_PORT failed"; return 1; }
	for _ in $(seq $((tmo * 20))); do
		[ "$(bench_sent_count)" -ge "$want" ] && break
		sleep 0.05
	done
	t1=$(bench_now)
	if [ "$(bench_sent_count)" -lt "$want" ]; then
		e2e_fail_log "timeout: $(( $(bench_sent_count) - base )) of $n delivered after ${tmo}s"
		return 1
	fi
	bench_rate "$n" "$t0" "$t1"
}
