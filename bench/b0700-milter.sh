#!/bin/bash
# b0700-milter: messages/second through the private Postfix with
# postern-milter (unix socket) for 4 KB, 100 KB and 1 MB messages:
#   noop     postern-milter on plain messages of the same size (it
#            collects, parses and checks them, finds nothing to do): the
#            cost of being a milter at all;
#   decrypt  postern-milter on S/MIME-encrypted messages (AES-128,
#            RSA-2048) it decrypts for the internal recipient.
# The decryption's cost per message (1/decrypt - 1/noop) is printed beside
# a bare in-process OpenSSL SMIME_read_CMS + CMS_decrypt of the same
# message (bench/cmsdec.c), as overhead = milter cost / raw CMS time.
# Target (issue 7): overhead <= 1.2.
# Counts: BENCH_N4K (default 300), BENCH_N100K (150), BENCH_N1M (40).
set -eu
cd "$(dirname "$0")/.."
. t/e2e/lib.sh
. bench/lib.sh
O=${O:-build}
MILTER=$PWD/$O/bin/postern-milter
CTL=$PWD/$O/bin/posternctl

e2e_require postfix postconf smtp-sink smtp-source script ss timeout openssl
E2E_DIR=$(mktemp -d /tmp/postern-e2e.XXXXXX)
E2E_DIR_CREATED=1
chmod 755 "$E2E_DIR"
e2e_ensure_user postern
st=$E2E_DIR/postern
mkdir -p "$st"
sh t/data/mkpki.sh "$E2E_DIR/pki" >/dev/null
printf 'state_directory = %s/state\nmaster_key_file = %s/master.key\nlog_destination = stderr\nlog_level = warn\n' \
    "$st" "$st" > "$st/postern.conf"
ctl() { "$CTL" -c "$st/postern.conf" "$@" >/dev/null; }
ctl init
ctl set --domain dest.test locality internal
ctl set --global security-info.enabled false
echo secret > "$E2E_DIR/pw"
ctl key import "$E2E_DIR/pki/alice.p12" --password-file "$E2E_DIR/pw"
chown -R postern:postern "$st"
cc -O2 -o "$E2E_DIR/cmsdec" bench/cmsdec.c $(pkg-config --cflags --libs libcrypto)

E2E_MAIN_EXTRA="smtpd_milters = unix:$E2E_DIR/postern.sock
milter_default_action = tempfail"
pf_init "$E2E_DIR"
e2e_spawn "$MILTER" -F -c "$st/postern.conf" -p "unix:$E2E_DIR/postern.sock" \
    -u postern:postfix 2>"$E2E_DIR/milter.log"
for _ in $(seq 100); do [ -S "$E2E_DIR/postern.sock" ] && break; sleep 0.1; done
sink_start nodump
pf_start

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

warm=$(msgfile 4096 encrypt)
rate "$warm" 20 >/dev/null
grep -q "action=decrypted" "$E2E_DIR/milter.log" 2>/dev/null ||
    ctl set --global log_level info 2>/dev/null || true

for spec in "4k 4096 ${BENCH_N4K:-300}" "100k 102400 ${BENCH_N100K:-150}" \
    "1m 1048576 ${BENCH_N1M:-40}"; do
	# shellcheck disable=SC2086
	set -- $spec
	plain=$(msgfile "$2" plain)
	enc=$(msgfile "$2" encrypt)
	noop=$(rate "$plain" "$3")
	dec=$(rate "$enc" "$3")
	cms=$("$E2E_DIR/cmsdec" "$enc" "$E2E_DIR/pki/alice.crt" "$E2E_DIR/pki/alice.key" 50)
	cost=$(awk -v a="$dec" -v b="$noop" 'BEGIN { c = 1000 / a - 1000 / b; printf "%.3f", c < 0 ? 0 : c }')
	echo "b0700: size=$1 n=$3 noop-milter $noop msg/s, decrypting milter $dec msg/s; decrypt cost ${cost} ms/msg vs raw CMS ${cms} ms/msg"
	bench_result "b0700 path=milter size=$1 n=$3 noop_msgs_per_s=$noop decrypt_msgs_per_s=$dec cost_ms=$cost raw_cms_ms=$cms overhead=$(bench_ratio "$cost" "$cms")"
done
