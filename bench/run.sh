#!/bin/bash
# bench/run.sh: Postern's benchmark framework (make bench).
# Runs every bench/bNNNN-*.sh in order (BENCH_ONLY=pattern selects by
# path), after a header with machine information.  A benchmark prints
# free text plus result lines of the form
#   result NAME key=value ...
# (e.g. "result b0001 path=postfix size=4k msgs_per_s=512.3 ratio=0.91");
# the framework collects every result line into a summary at the end and
# keeps the whole output in $O/bench/bench-YYYYmmdd-HHMMSS.txt.
# A benchmark exits 0 (done), 77 (skipped: a tool is missing) or anything
# else (failed); run.sh exits 1 when one failed.
# Benchmarks use loopback only and bounded message counts; the machine may
# be shared, so numbers are noisy: compare ratios taken in the same run.
set -u
cd "$(dirname "$0")/.." || exit 1
O=${O:-build}
export O POSTERN_TOP=$PWD
mkdir -p "$O/bench"
out=$O/bench/bench-$(date -u +%Y%m%d-%H%M%S).txt
failed=0

{
	echo "# Postern benchmarks $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "# commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (modified)')"
	echo "# host: $(uname -srm), nproc $(nproc)"
	echo "# cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "# mem: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# postfix: $(postconf -d -h mail_version 2>/dev/null || echo missing), openssl: $(openssl version 2>/dev/null | cut -d' ' -f2), gpg: $(gpg --version 2>/dev/null | sed -n '1s/.* //p')"
} | tee "$out"

for b in bench/b[0-9][0-9][0-9][0-9]-*.sh; do
	[ -e "$b" ] || continue
	case "$b" in *"${BENCH_ONLY:-}"*) ;; *) continue ;; esac
	echo "--- $b" | tee -a "$out"
	start=$(date +%s)
	bash "$b" 2>&1 | tee -a "$out"
	rc=${PIPESTATUS[0]}
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) echo "--- ok $b (${secs}s)" | tee -a "$out" ;;
	77) echo "--- skip $b" | tee -a "$out" ;;
	*) echo "--- FAIL $b (rc=$rc)" | tee -a "$out"; failed=1 ;;
	esac
done

{
	echo "# summary"
	grep '^result ' "$out" || echo "(no results)"
} | tee -a "$out.sum"
cat "$out.sum" >> "$out" && rm -f "$out.sum"
echo "# full output: $out"
exit "$failed"
