#!/bin/bash
# b0700-milter: messages/second through the private Postfix with a milter
# on a unix socket, for 4 KB, 100 KB and 1 MB messages, in one run:
#   noop     bench/noop-milter.c: a libmilter filter that takes every
#            callback postern-milter takes and does nothing (the cost of
#            being a milter at all), on the S/MIME-encrypted messages and
#            on plain ones of the same size;
#   noop -r  the same, handing the body back unchanged with
#            smfi_replacebody(): what Postfix pays for any milter that
#            replaces the body, as a decrypting one must;
#   postern  postern-milter on the same encrypted messages, which it
#            decrypts for the internal recipient (AES-128, RSA-2048), and
#            on the plain ones (parsed, checked, nothing to do).
# What postern-milter adds per encrypted message over the no-op milter
# (1/postern - 1/noop, in ms) is printed beside a bare in-process OpenSSL
# SMIME_read_CMS + CMS_decrypt of the same message (bench/cmsdec.c), as
# overhead = added cost / raw CMS time; likewise over the body-replacing
# no-op (overhead_vs_replace), and postern-milter's own end-of-message
# work measured in process without Postfix (bench/milter-eom.c, eom_ratio).
# Target (issue 7): the decrypting milter costs no more than the raw CMS
# decrypt + 20% (overhead <= 1.2).
# One SMTP session at a time (B0700_SESSIONS, default 1): the per-message
# cost is a latency, not spread over parallel sessions on the cores.
# Counts: BENCH_N4K (default 300), BENCH_N100K (150), BENCH_N1M (40).
set -eu
cd "$(dirname "$0")/.."
. t/e2e/lib.sh
. bench/lib.sh
O=${O:-build}
MILTER=$PWD/$O/bin/postern-milter
CTL=$PWD/$O/bin/posternctl

e2e_require postfix postconf smtp-sink smtp-source script ss timeout openssl runuser
BENCH_SESSIONS=${B0700_SESSIONS:-1}
E2E_DIR=$(mktemp -d /tmp/postern-e2e.XXXXXX)
E2E_DIR_CREATED=1
chmod 755 "$E2E_DIR"
e2e_ensure_user postern
st=$E2E_DIR/postern
mkdir -p "$st"
sh t/data/mkpki.sh "$E2E_DIR/pki" >/dev/null
printf 'state_directory = %s/state\nmaster_key_file = %s/master.key\nlog_destination = stderr\nlog_level = info\n' \
    "$st" "$st" > "$st/postern.conf"
ctl() { "$CTL" -c "$st/postern.conf" "$@" >/dev/null; }
ctl init
ctl set --domain dest.test locality internal
ctl set --global security-info.enabled false
echo secret > "$E2E_DIR/pw"
ctl key import "$E2E_DIR/pki/alice.p12" --password-file "$E2E_DIR/pw"
chown -R postern:postern "$st"
cc -O2 -o "$E2E_DIR/cmsdec" bench/cmsdec.c $(pkg-config --cflags --libs libcrypto)
cc -O2 -o "$E2E_DIR/noop-milter" bench/noop-milter.c -lmilter -pthread
[ -f "$O/libpostern.a" ] || make -s "$O/libpostern.a"
cc -std=gnu11 -O2 -D_GNU_SOURCE -Icommon -Imilter $(pkg-config --cflags libxml-2.0) \
    -o "$E2E_DIR/milter-eom" bench/milter-eom.c milter/msgctx.c milter/edit.c \
    "$O/libpostern.a" $(pkg-config --libs libcrypto gpgme sqlite3 libxml-2.0 libqpdf) \
    -lhpdf -lm -pthread

# one socket; the milter behind it changes between the two phases
SOCK=$E2E_DIR/milter.sock
E2E_MAIN_EXTRA="smtpd_milters = unix:$SOCK
milter_default_action = tempfail"
pf_init "$E2E_DIR"
sink_start nodump
pf_start

wait_sock() { for _ in $(seq 100); do [ -S "$SOCK" ] && return 0; sleep 0.1; done; return 1; }
# stop_milter PID: end one milter, wait, and free the socket
stop_milter() {
	kill "$1" 2>/dev/null || true
	for _ in $(seq 100); do e2e_alive "$1" || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	rm -f "$SOCK"
}

# msgfile SIZE plain|encrypt: a message file for smtp-source -F (LF lines)
msgfile() {
	local size=$1 how=$2 f=$E2E_DIR/m.$1.$2
	{
		printf 'Content-Type: text/plain; charset=us-ascii\n\n'
		head -c $((size * 3 / 4)) /dev/urandom | base64 -w 76
	} > "$f.inner"
	{
		printf 'From: alice@src.test\nTo: bob@dest.test\nSubject: bench\n'
		if [ "$how" = encrypt ]; then
			openssl cms -encrypt -aes128 -in "$f.inner" "$E2E_DIR/pki/alice.crt"
		else
			printf 'MIME-Version: 1.0\n'; cat "$f.inner"
		fi
	} > "$f"
	echo "$f"
}
# rate FILE N: messages/second for N copies of FILE through Postfix
rate() {
	local base want t0 t1 _
	base=$(bench_sent_count)
	want=$((base + $2))
	t0=$(bench_now)
	timeout 600 smtp-source -s "$BENCH_SESSIONS" -m "$2" -F "$1" \
	    -M client.postern.test -f alice@src.test -t bob@dest.test \
	    "127.0.0.1:$E2E_SMTP_PORT" || { e2e_fail_log "smtp-source failed"; return 1; }
	for _ in $(seq 6000); do
		[ "$(bench_sent_count)" -ge "$want" ] && break
		sleep 0.05
	done
	t1=$(bench_now)
	[ "$(bench_sent_count)" -ge "$want" ] || { e2e_fail_log "timeout"; return 1; }
	bench_rate "$2" "$t0" "$t1"
}

specs=("4k 4096 ${BENCH_N4K:-300}" "100k 102400 ${BENCH_N100K:-150}"
    "1m 1048576 ${BENCH_N1M:-40}")
declare -A noop_enc noop_plain noop_repl
for spec in "${specs[@]}"; do
	# shellcheck disable=SC2086
	set -- $spec
	msgfile "$2" plain >/dev/null
	msgfile "$2" encrypt >/dev/null
done

# start_noop [-r]: the no-op milter on SOCK (world-writable socket: it
# runs as root), warmed up; its pid in noop_pid
start_noop() {
	( umask 0111; exec "$E2E_DIR/noop-milter" "$@" "unix:$SOCK" ) \
	    2>>"$E2E_DIR/noop.log" &
	noop_pid=$!
	E2E_PIDS="$E2E_PIDS $noop_pid"
	wait_sock || { e2e_fail_log "noop-milter $* did not start"; exit 1; }
	rate "$E2E_DIR/m.4096.encrypt" 20 >/dev/null
}

# phase 1: the no-op milter
start_noop
for spec in "${specs[@]}"; do
	# shellcheck disable=SC2086
	set -- $spec
	noop_enc[$1]=$(rate "$E2E_DIR/m.$2.encrypt" "$3")
	noop_plain[$1]=$(rate "$E2E_DIR/m.$2.plain" "$3")
done
stop_milter "$noop_pid"

# phase 1b: the no-op milter that replaces the body
start_noop -r
for spec in "${specs[@]}"; do
	# shellcheck disable=SC2086
	set -- $spec
	noop_repl[$1]=$(rate "$E2E_DIR/m.$2.encrypt" "$3")
done
stop_milter "$noop_pid"

# phase 2: postern-milter on the same socket
e2e_spawn "$MILTER" -F -c "$st/postern.conf" -p "unix:$SOCK" \
    -u postern:postfix 2>"$E2E_DIR/milter.log"
wait_sock || { e2e_fail_log "postern-milter did not start"; exit 1; }
rate "$E2E_DIR/m.4096.encrypt" 20 >/dev/null

for spec in "${specs[@]}"; do
	# shellcheck disable=SC2086
	set -- $spec
	enc=$E2E_DIR/m.$2.encrypt
	dec=$(rate "$enc" "$3")
	pplain=$(rate "$E2E_DIR/m.$2.plain" "$3")
	cms=$("$E2E_DIR/cmsdec" "$enc" "$E2E_DIR/pki/alice.crt" "$E2E_DIR/pki/alice.key" 50)
	# as postern: its temp_directory must be private to the user
	eom=$(runuser -u postern -- "$E2E_DIR/milter-eom" "$st/postern.conf" "$enc" bob@dest.test 50)
	cost=$(awk -v a="$dec" -v b="${noop_enc[$1]}" 'BEGIN { c = 1000 / a - 1000 / b; printf "%.3f", c < 0 ? 0 : c }')
	costr=$(awk -v a="$dec" -v b="${noop_repl[$1]}" 'BEGIN { c = 1000 / a - 1000 / b; printf "%.3f", c < 0 ? 0 : c }')
	echo "b0700: size=$1 n=$3 noop milter ${noop_enc[$1]} msg/s (plain ${noop_plain[$1]}, replacing the body ${noop_repl[$1]}), postern-milter decrypting $dec msg/s (plain $pplain)"
	echo "b0700:   added ${cost} ms/msg over the no-op (${costr} over the body-replacing no-op); raw CMS decrypt ${cms} ms/msg; postern's end of message in process ${eom} ms/msg"
	bench_result "b0700 path=milter size=$1 n=$3 sessions=$BENCH_SESSIONS noop_msgs_per_s=${noop_enc[$1]} noop_plain_msgs_per_s=${noop_plain[$1]} noop_replace_msgs_per_s=${noop_repl[$1]} decrypt_msgs_per_s=$dec postern_plain_msgs_per_s=$pplain cost_ms=$cost cost_vs_replace_ms=$costr raw_cms_ms=$cms eom_ms=$eom overhead=$(bench_ratio "$cost" "$cms") overhead_vs_replace=$(bench_ratio "$costr" "$cms") eom_ratio=$(bench_ratio "$eom" "$cms")"
done
# the decryptions really happened
n=$(grep -c "action=decrypted" "$E2E_DIR/milter.log" 2>/dev/null || echo 0)
echo "b0700: postern-milter logged $n decryptions"
[ "$n" -gt 0 ] || { e2e_fail_log "postern-milter decrypted nothing"; exit 1; }
