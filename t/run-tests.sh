#!/bin/bash
# t/run-tests.sh: run every test of Postern and print one summary line.
#   unit    the Check suites (t/unit/), under valgrind, or natively in an
#           ASAN=1 build (AddressSanitizer + UBSan)
#   man     mandoc -Tlint on every page in man/
#   scripts every t/*/tNNNN-*.sh (milter, e2e, fuzz replay, ...):
#           exit 0 pass, 77 skip, anything else fail
# Environment: O (build dir, default build), ASAN=1, T_ONLY=pattern to run
# only scripts whose path matches.  Exit 0 only when nothing failed.
set -u
cd "$(dirname "$0")/.."
O=${O:-build}
export O POSTERN_TOP=$PWD
pass=0 fail=0 skip=0
failed_names=()

note() { printf '%s\n' "$*"; }

# --- unit -----------------------------------------------------------------
if [ -z "${T_ONLY:-}" ]; then
	log=$(mktemp)
	vgdir=$(mktemp -d)
	if [ "${ASAN:-}" = 1 ]; then
		CK_FORK=no "$O/t/unit/runner" >"$log" 2>&1
		rc=$?
	else
		# Leaks are judged in the runner process only: forked test
		# children and gpgme's double-forked spawner exit without
		# freeing the copied heap, which is no leak.  Memory errors
		# (invalid access, uninitialised use, bad free) fail in any
		# process.  One log per process; the runner's parent is us.
		CK_FORK=no valgrind --error-exitcode=99 --leak-check=full \
		    --errors-for-leak-kinds=none --show-leak-kinds=definite \
		    --suppressions=t/valgrind.supp --log-file="$vgdir/vg.%p" \
		    "$O/t/unit/runner" >"$log" 2>&1
		rc=$?
		for f in "$vgdir"/vg.*; do
			if grep -qE 'Invalid (read|write|free)|uninitialised|Mismatched free|overlap' "$f"; then
				cat "$f" >>"$log"; rc=99
			fi
			if grep -q "Parent PID: $$\$" "$f" &&
			    grep -q 'definitely lost in loss record' "$f"; then
				cat "$f" >>"$log"; rc=98
			fi
		done
	fi
	rm -rf "$vgdir"
	cat "$log"
	line=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -1)
	checks=$(echo "$line" | sed -n 's/.*Checks: \([0-9]*\).*/\1/p')
	fails=$(echo "$line" | sed -n 's/.*Failures: \([0-9]*\).*/\1/p')
	errs=$(echo "$line" | sed -n 's/.*Errors: \([0-9]*\).*/\1/p')
	checks=${checks:-0} fails=${fails:-0} errs=${errs:-0}
	pass=$((pass + checks - fails - errs))
	fail=$((fail + fails + errs))
	if [ "$rc" -ne 0 ] && [ $((fails + errs)) -eq 0 ]; then
		note "unit: runner exited $rc (valgrind/sanitizer error or crash)"
		fail=$((fail + 1)); failed_names+=("unit runner (rc=$rc)")
	fi
	[ $((fails + errs)) -gt 0 ] && failed_names+=("unit: $((fails + errs)) checks")
	rm -f "$log"

	# --- man --------------------------------------------------------------
	for m in man/*.[0-9]; do
		[ -e "$m" ] || continue
		out=$(mandoc -Tlint -Wwarning "$m" 2>&1)
		if [ -z "$out" ]; then
			pass=$((pass + 1))
		else
			note "$out"; fail=$((fail + 1)); failed_names+=("lint $m")
		fi
	done
fi

# --- scripts --------------------------------------------------------------
for t in t/*/t[0-9][0-9][0-9][0-9]-*.sh; do
	[ -e "$t" ] || continue
	case "$t" in *"${T_ONLY:-}"*) ;; *) continue ;; esac
	note "--- $t"
	start=$(date +%s)
	bash "$t"
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); note "ok   $t (${secs}s)" ;;
	77) skip=$((skip + 1)); note "skip $t" ;;
	*) fail=$((fail + 1)); failed_names+=("$t"); note "FAIL $t (rc=$rc)" ;;
	esac
done

for n in "${failed_names[@]}"; do note "failed: $n"; done
note "total: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
