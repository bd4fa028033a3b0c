#!/bin/bash
# t0711-offline-corpus: malformed, ambiguous and hostile mail through
# the offline milter (the end-of-message path of the daemon): every file
# of mime-is-broken (548 broken or ambiguous messages), johnny-fired,
# covert-content and the Thunderbird S/MIME folders, for an internal
# recipient, with no keys and no roots in the store.  Each must exit 0
# (processed, never tempfail on bad input), and nothing may come out
# decrypted, trusted or carrying a forged header.  Skips without the
# corpora.
set -u
top=${POSTERN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
O=${O:-build}
milter=$top/$O/bin/postern-milter
ctl=$top/$O/bin/posternctl
corp=${POSTERN_CORPORA:-$top/../shared/corpora}
[ -d "$corp/mime-is-broken" ] || { echo "skip: no corpora"; exit 77; }
tmp=$(mktemp -d /tmp/postern-oc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/p.conf" <<EOC
state_directory = $tmp/state
master_key_file = $tmp/master.key
log_destination = stderr
EOC
"$ctl" -c "$tmp/p.conf" init >/dev/null || exit 1
"$ctl" -c "$tmp/p.conf" set --domain example.org locality internal >/dev/null || exit 1

n=0 fails=0
while IFS= read -r -d '' f; do
	case "$f" in */PROVENANCE.md|*.p12|*.pfx|*.key|*.pem|*.crt|*.cer|*.der|*.asc|*.gpg|*.sec|*.pub) continue ;; esac
	n=$((n + 1))
	"$milter" -c "$tmp/p.conf" -t "$f" -f sender@example.net \
	    -r bob@example.org >"$tmp/out" 2>"$tmp/log"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: $f: exit $rc: $(tail -2 "$tmp/log")"
		fails=$((fails + 1))
		continue
	fi
	if grep -q 'action=decrypted' "$tmp/log" ||
	    grep -qiE '^X-Postern-Info-Signer-Trusted-[0-9-]+: True' "$tmp/out"; then
		echo "FAIL: $f: decrypted or trusted without keys or roots"
		fails=$((fails + 1))
	fi
	# a header of ours in the output was put there by us: only the ones
	# the milter adds may appear, and never a forged verdict
	if grep -qE '^(X-CipherMail-Info|X-Djigzo-Info)' "$tmp/out"; then
		echo "FAIL: $f: a legacy info header survived"
		fails=$((fails + 1))
	fi
done < <(find "$corp/mime-is-broken" "$corp/johnny-fired" "$corp/covert-content" \
    "$corp/thunderbird/smime" "$corp/thunderbird/smime-manual" \
    "$corp/thunderbird/smime-browser" "$corp/thunderbird/mime" \
    -type f -print0 2>/dev/null | sort -z)
echo "t0711: $n messages, $fails failure(s)"
[ "$n" -ge 600 ] || { echo "FAIL: only $n messages"; exit 1; }
[ $fails -eq 0 ]
