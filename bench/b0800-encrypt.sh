#!/bin/bash
# b0800-encrypt: messages/second through the private Postfix with
# postern-encrypt as the pipe(8) content filter, S/MIME-encrypting every
# message for one recipient (AES-128-CBC, RSA-2048), for 4 KB and 100 KB
# messages, beside a pass-through pipe(8) filter in the same run
# (bench/passthru.c: reads the message and hands it back with the same
# SMTP code, nothing else).  Both filters run with the same process limit
# (4) and re-inject into the same smtpd.
#   ratio = encrypt / passthru: what the policy, the database, the
#   keystore and the S/MIME encryption cost on top of being a pipe(8)
#   filter at all.
# Counts: BENCH_N4K (default 200), BENCH_N100K (default 100).
set -eu
cd "$(dirname "$0")/.."
. t/e2e/lib.sh
. bench/lib.sh
O=${O:-build}

e2e_require postfix postconf smtp-sink smtp-source script ss timeout openssl gpg cc
E2E_DIR=$(mktemp -d /tmp/postern-e2e.XXXXXX)
E2E_DIR_CREATED=1
chmod 755 "$E2E_DIR"
. t/e2e/encrypt-lib.sh
trap 'enc_cleanup; e2e_cleanup' EXIT
E2E_SMTP_PORT=$(e2e_pick_port)
E2E_REINJECT_PORT=$(e2e_pick_port "$E2E_SMTP_PORT")
PASS_PORT=$(e2e_pick_port "$E2E_SMTP_PORT" "$E2E_REINJECT_PORT")
ENC_CONF_EXTRA="log_level = warn"
enc_setup
cc -O2 -std=gnu11 -Icommon -Iencryptor -o "$E2E_DIR/passthru" bench/passthru.c \
    "$O/encryptor/reinject.o" "$O/libpostern.a" || e2e_fail "cannot build passthru"
E2E_FILTER_ARGV=$(enc_filter_argv)
E2E_NO_TRAP=1 pf_init "$E2E_DIR"
# the pass-through filter on a second inbound smtpd
cat >> "$E2E_DIR/etc/master.cf" <<MCF
127.0.0.1:$PASS_PORT inet n - n - - smtpd
  -o content_filter=passthru:dummy
passthru unix - n n - $E2E_FILTER_MAXPROC pipe
  flags=Rq user=postern null_sender= argv=$E2E_DIR/passthru smtp:[127.0.0.1]:$E2E_REINJECT_PORT -f \${sender} -- \${recipient}
MCF
touch -d '-10 seconds' "$E2E_DIR/etc/master.cf"
sink_start nodump
pf_start
e2e_wait_port "$PASS_PORT" 10 || e2e_fail "pass-through smtpd does not listen"

# rate PORT N SIZE: msgs/s for N messages to alice (S/MIME certificate)
rate() {
	local base want t0 t1 _
	base=$(bench_sent_count)
	want=$((base + $2))
	t0=$(bench_now)
	timeout 600 smtp-source -s "$BENCH_SESSIONS" -m "$2" -l "$3" \
	    -M client.postern.test -f sender@corp.test -t alice@example.com \
	    "127.0.0.1:$1" || { e2e_fail_log "smtp-source failed"; return 1; }
	for _ in $(seq 12000); do
		[ "$(bench_sent_count)" -ge "$want" ] && break
		sleep 0.05
	done
	t1=$(bench_now)
	[ "$(bench_sent_count)" -ge "$want" ] || { e2e_fail_log "timeout"; return 1; }
	bench_rate "$2" "$t0" "$t1"
}

# warm up both paths
rate "$PASS_PORT" 10 4096 >/dev/null
rate "$E2E_SMTP_PORT" 10 4096 >/dev/null
grep -q 'status=deferred' "$ENC_LOG" && e2e_fail "postern-encrypt deferred mail during the warm-up"
# the encrypting path really encrypts: what it handed to the reinjection
# smtpd is S/MIME (the sizes in the maillog grow by the envelope)
"$ENC_BIN/posternctl" -c "$ENC_CONF" policy explain --from sender@corp.test \
    --to alice@example.com | grep -q '^  decision: smime-encrypt' ||
    e2e_fail "alice@example.com is not an S/MIME recipient"

for spec in "4k 4096 ${BENCH_N4K:-200}" "100k 102400 ${BENCH_N100K:-100}"; do
	# shellcheck disable=SC2086
	set -- $spec
	pass=$(rate "$PASS_PORT" "$3" "$2")
	enc=$(rate "$E2E_SMTP_PORT" "$3" "$2")
	echo "b0800: size=$1 n=$3 pass-through pipe filter $pass msg/s, postern-encrypt S/MIME $enc msg/s"
	bench_result "b0800 path=encrypt-smime size=$1 n=$3 msgs_per_s=$enc passthru_msgs_per_s=$pass ratio=$(bench_ratio "$enc" "$pass")"
done
