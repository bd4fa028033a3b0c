#!/bin/bash
# b0001-postfix-baseline: messages/second through the private Postfix with
# no milter and no content filter (smtp-source -> smtpd -> queue -> smtp ->
# smtp-sink), for 4 KB and 100 KB messages, beside smtp-source straight to
# the same smtp-sink in the same run.  ratio = postfix / raw.  Later
# benchmarks (milter, encryptor) compare against the postfix figure.
# Counts: BENCH_N4K (default 300), BENCH_N100K (default 100).
set -eu
cd "$(dirname "$0")/.."
. t/e2e/lib.sh
. bench/lib.sh

e2e_require postfix postconf smtp-sink smtp-source script ss timeout
pf_init
sink_start nodump
pf_start

# warm up: let master start smtpd/cleanup/smtp processes
bench_pf_rate 20 4096 60 >/dev/null

for spec in "4k 4096 ${BENCH_N4K:-300}" "100k 102400 ${BENCH_N100K:-100}"; do
	# shellcheck disable=SC2086 # split "name bytes count"
	set -- $spec
	raw=$(bench_raw_rate "$E2E_SINK_PORT" "$3" "$2")
	pf=$(bench_pf_rate "$3" "$2")
	echo "b0001: size=$1 n=$3 raw smtp-sink $raw msg/s, through Postfix $pf msg/s"
	bench_result "b0001 path=postfix-nofilter size=$1 n=$3 msgs_per_s=$pf raw_sink_msgs_per_s=$raw ratio=$(bench_ratio "$pf" "$raw")"
done
