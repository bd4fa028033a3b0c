#!/bin/bash
# b0300-pgp: Postern's OpenPGP primitives (common/pgp.c through gpgme:
# encrypt, decrypt, detached sign, verify; armored; ed25519/cv25519;
# compression on as gpg's default, plus encrypt with compression off)
# and the message layer (common/pgp_msg.h: msg-enc = PGP/MIME encrypt,
# msg-dec = inbound decryption of it, msg-sign = PGP/MIME sign,
# msg-verify = inbound verification, each on a whole mail around the
# data) at 4 KB, 100 KB, 1 MB and 10 MB, as ratios to the gpg command line
# on the same data, key and keyring in the same run (ratio = ours / gpg:
# below 1 is faster; the msg- rows compare a whole mail with gpg on the
# bare data, so the difference is the message layer's cost).  Median of
# RUNS per size (20, 20, 10, 5).
# The keyring's gpg-agent is stopped at the end.
set -eu
cd "$(dirname "$0")/.."
O=${O:-build}
command -v gpg >/dev/null || { echo "skip: no gpg"; exit 77; }
[ -f "$O/libpostern.a" ] || { echo "skip: $O/libpostern.a not built"; exit 77; }
# shellcheck disable=SC2046 # pkg-config output is a word list
cc -std=gnu11 -O2 -D_GNU_SOURCE -Icommon -I"$O/gen" \
    $(pkg-config --cflags gpgme) -o "$O/bench/pgp-bench" \
    bench/pgp-bench.c "$O/libpostern.a" \
    $(pkg-config --libs gpgme libcrypto libxml-2.0 sqlite3) -pthread

tmp=$(mktemp -d /tmp/pb.XXXXXX)
home=$tmp/g
pw=bench0123456789abcdef0123456789abcdef0123456789abcdef0123456789a
trap 'gpgconf --homedir "$home" --kill gpg-agent >/dev/null 2>&1; rm -rf "$tmp"' EXIT
fpr=$("$O/bench/pgp-bench" "$home" "$pw" genkey)
g() { gpg --homedir "$home" --batch -q --yes --pinentry-mode loopback \
    --passphrase "$pw" --trust-model always "$@"; }

now_ms() { date +%s%N | awk '{ printf "%.3f", $1 / 1e6 }'; }
# gpg_median RUNS CMD...: median wall ms of the shell command
gpg_median() {
	local runs=$1 i t0 t1; shift
	for i in $(seq "$runs"); do
		t0=$(now_ms); "$@" >/dev/null 2>&1; t1=$(now_ms)
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
	done | sort -n | awk '{ v[NR] = $1 } END {
	    if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }

printf '%-6s %-12s %10s %10s %7s\n' size op postern_ms gpg_ms ratio
for spec in "4k 4096 20" "100k 102400 20" "1m 1048576 10" "10m 10485760 5"; do
	# shellcheck disable=SC2086 # split "name bytes runs"
	set -- $spec
	name=$1 bytes=$2 runs=$3
	head -c $((bytes * 3 / 4)) /dev/urandom | base64 -w 76 | head -c "$bytes" > "$tmp/data"
	g --armor -r "$fpr" -o "$tmp/data.asc" -e "$tmp/data"
	g --armor -u "$fpr" -o "$tmp/data.sig" --detach-sign "$tmp/data"
	for op in enc enc-nocomp dec sign verify msg-enc msg-dec msg-sign msg-verify; do
		case $op in
		enc) ours=$("$O/bench/pgp-bench" "$home" "$pw" enc "$fpr" "$tmp/data" "$runs")
		     theirs=$(gpg_median "$runs" g --armor -r "$fpr" -o "$tmp/out" -e "$tmp/data") ;;
		enc-nocomp) ours=$("$O/bench/pgp-bench" "$home" "$pw" enc "$fpr" "$tmp/data" "$runs" nocompress)
		     theirs=$(gpg_median "$runs" g --armor -z 0 -r "$fpr" -o "$tmp/out" -e "$tmp/data") ;;
		dec) ours=$("$O/bench/pgp-bench" "$home" "$pw" dec "$fpr" "$tmp/data" "$runs")
		     theirs=$(gpg_median "$runs" g -o "$tmp/out" -d "$tmp/data.asc") ;;
		sign) ours=$("$O/bench/pgp-bench" "$home" "$pw" sign "$fpr" "$tmp/data" "$runs")
		     theirs=$(gpg_median "$runs" g --armor -u "$fpr" -o "$tmp/out" --detach-sign "$tmp/data") ;;
		verify) ours=$("$O/bench/pgp-bench" "$home" "$pw" verify "$fpr" "$tmp/data" "$runs")
		     theirs=$(gpg_median "$runs" g --verify "$tmp/data.sig" "$tmp/data") ;;
		msg-enc) ours=$("$O/bench/pgp-bench" "$home" "$pw" msg-enc "$fpr" "$tmp/data" "$runs")
		     theirs=$(gpg_median "$runs" g --armor -r "$fpr" -o "$tmp/out" -e "$tmp/data") ;;
		msg-dec) ours=$("$O/bench/pgp-bench" "$home" "$pw" msg-dec "$fpr" "$tmp/data" "$runs")
		     theirs=$(gpg_median "$runs" g -o "$tmp/out" -d "$tmp/data.asc") ;;
		msg-sign) ours=$("$O/bench/pgp-bench" "$home" "$pw" msg-sign "$fpr" "$tmp/data" "$runs")
		     theirs=$(gpg_median "$runs" g --armor -u "$fpr" -o "$tmp/out" --detach-sign "$tmp/data") ;;
		msg-verify) ours=$("$O/bench/pgp-bench" "$home" "$pw" msg-verify "$fpr" "$tmp/data" "$runs")
		     theirs=$(gpg_median "$runs" g --verify "$tmp/data.sig" "$tmp/data") ;;
		esac
		r=$(ratio "$ours" "$theirs")
		printf '%-6s %-12s %10s %10s %7s\n' "$name" "$op" "$ours" "$theirs" "$r"
		printf 'result b0300 op=%s size=%s runs=%s postern_ms=%s gpg_ms=%s ratio=%s\n' \
		    "$op" "$name" "$runs" "$ours" "$theirs" "$r"
	done
done
