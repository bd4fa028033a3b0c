#!/bin/bash
# b0100-mime: MIME parse+emit throughput (MB/s) and peak memory for
# 4 KB, 1 MB and 50 MB messages, beside memcpy and read(2) of the same
# bytes.  Standalone: bench/b0100-mime.sh (uses $O, default build; runs
# "make all" when the library is missing).
set -eu
cd "$(dirname "$0")/.."
O=${O:-build}
[ -e "$O/libpostern.a" ] || make -s -j2 all O="$O" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -std=gnu11 -O2 -g -D_GNU_SOURCE -Icommon $(pkg-config --cflags libxml-2.0) \
  -o "$tmp/mime_bench" bench/mime_bench.c "$O/libpostern.a" \
  $(pkg-config --libs libxml-2.0)

# A realistic message: headers, a text part, an HTML part and a base64
# attachment filling the rest, CRLF line ends (what the milter sees).
gen() { # size file
	python3 - "$1" "$2" <<'PY'
import sys, base64, os
size, path = int(sys.argv[1]), sys.argv[2]
head = ("Received: from mx.example.org by gw.example.net; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
        "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\n"
        "Subject: =?UTF-8?Q?Quarterly_r=C3=A9sum=C3=A9?=\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
        "--outer\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
        "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Bob,\r\nsee attached.\r\n"
        "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello Bob,<br>see attached.</p>\r\n"
        "--alt--\r\n--outer\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n"
        "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n")
tail = "--outer--\r\n"
room = max(0, size - len(head) - len(tail))
raw = os.urandom(room * 57 // 78 + 57)
b = base64.encodebytes(raw).replace(b"\n", b"\r\n")[:room]
b = b[:len(b) - len(b) % 78] if len(b) > 78 else b
body = b.decode() + "A" * (room - len(b) - 2) + "\r\n" if room > len(b) + 2 else b.decode()
open(path, "w", newline="").write(head + body + tail)
PY
}
gen 4096 "$tmp/4k.eml"
gen 1048576 "$tmp/1m.eml"
gen 52428800 "$tmp/50m.eml"
echo "b0100-mime: MIME parse + edit Subject + emit, against memcpy/read"
"$tmp/mime_bench" "$tmp/4k.eml" "$tmp/1m.eml" "$tmp/50m.eml"
