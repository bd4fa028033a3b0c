#!/bin/bash
# t0003-mime-memory: "parsing does not copy bodies; a 50 MB message
# parses in well under 2x its size of memory".  Three 50 MB messages,
# CRLF as the milter sees them, go the milter's way (spool: 1 MiB in
# memory, then a 0600 temp file, mmap'd), are parsed, get a new Subject
# and are emitted; the peak resident set of that process (file pages
# included) must stay under 1.5x the message size:
#   one 50 MB base64 attachment;
#   2000 parts of 25 KB (the default mime_max_parts);
#   50 MB of short text lines in nested multiparts.
set -u
cd "$(dirname "$0")/../.."
command -v python3 >/dev/null || exit 77
# sanitizers multiply memory: the bound is measured on the plain build
[ "${ASAN:-}" = 1 ] && { echo "skip: ASAN build"; exit 77; }
O=${O:-build}
[ -e "$O/libpostern.a" ] || { echo "no $O/libpostern.a"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -m 700 "$tmp/spool"
cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Icommon \
  -o "$tmp/mime_tool" t/mime/mime_tool.c "$O/libpostern.a" \
  $(pkg-config --libs libxml-2.0) || exit 1
python3 - "$tmp" <<'PY' || exit 1
import sys, os, base64
d = sys.argv[1]
size = 50 * 1000 * 1000
head = ("From: alice@example.org\r\nTo: bob@example.net\r\nSubject: big\r\n"
        "MIME-Version: 1.0\r\n")
def b64(n):
    return base64.encodebytes(os.urandom(n * 3 // 4)).replace(b"\n", b"\r\n")
with open(d + "/one.eml", "wb") as f:
    f.write((head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
             "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
             "--b\r\nContent-Type: application/octet-stream\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n").encode())
    f.write(b64(size))
    f.write(b"--b--\r\n")
with open(d + "/many.eml", "wb") as f:
    f.write((head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n').encode())
    chunk = b64(25000)
    for i in range(1998):
        f.write(b"--b\r\nContent-Type: application/octet-stream; name=\"p%d\"\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n" % i)
        f.write(chunk)
    f.write(b"--b--\r\n")
with open(d + "/text.eml", "wb") as f:
    f.write((head + 'Content-Type: multipart/mixed; boundary="o"\r\n\r\n'
             '--o\r\nContent-Type: multipart/alternative; boundary="a"\r\n\r\n'
             "--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n").encode())
    line = b"The quick brown fox jumps over the lazy dog, again and again.\r\n"
    f.write(line * (size // len(line)))
    f.write(b"--a--\r\n--o--\r\n")
PY
fails=0
for m in one many text; do
	f=$tmp/$m.eml
	out=$("$tmp/mime_tool" mem "$f" "$tmp/spool") || { echo "FAIL: $m: mime_tool"; fails=$((fails + 1)); continue; }
	bytes=$(echo "$out" | sed -n 's/.*bytes=\([0-9]*\).*/\1/p')
	hwm=$(echo "$out" | sed -n 's/.*hwm_kb=\([0-9]*\).*/\1/p')
	ratio=$(awk -v h="$hwm" -v b="$bytes" 'BEGIN { printf "%.2f", h * 1024 / b }')
	echo "$m: $out ratio=$ratio"
	if awk -v r="$ratio" 'BEGIN { exit !(r < 1.5) }'; then
		echo "ok: $m: peak memory ${ratio}x the message"
	else
		echo "FAIL: $m: peak memory ${ratio}x the message, want < 1.5x"
		fails=$((fails + 1))
	fi
done
[ -z "$(ls -A "$tmp/spool")" ] || { echo "FAIL: spool file left behind"; fails=$((fails + 1)); }
[ $fails -eq 0 ]
