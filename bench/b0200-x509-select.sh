#!/bin/sh
# b0200-x509-select: encryption certificate selection for one recipient
# in a keystore of N certificates (default 100000), and the import rate.
# The selection (indexed email lookup + full path validation of the
# match) is reported next to the bare indexed query, and the query plan
# is printed (it must SEARCH the email index, never SCAN).
#   bench/b0200-x509-select.sh [N] [LOOKUPS]
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
N=${1:-100000}
L=${2:-1000}
cd "$TOP"
[ -f "$O/libpostern.a" ] || make -s "$O/libpostern.a"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
${CC:-cc} -std=gnu11 -O2 -D_GNU_SOURCE -Icommon -I"$O/gen" \
    bench/b0200-x509gen.c "$O/libpostern.a" \
    $(pkg-config --libs libcrypto sqlite3) -lpthread -o "$W/gen"
"$W/gen" "$W/b.db" "$N" "$L" > "$W/out"
cat "$W/out"
sel=$(sed -n 's/^select_ms //p' "$W/out")
raw=$(sed -n 's/^raw_email_query_ms //p' "$W/out")
echo "db_bytes $(stat -c %s "$W/b.db")"
echo "ratio select/raw_query $(echo "$sel $raw" | awk '{ printf "%.1f", $1 / $2 }')"
grep -q 'SEARCH e USING' "$W/out" || { echo "email lookup is not indexed"; exit 1; }
