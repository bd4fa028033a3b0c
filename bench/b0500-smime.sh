#!/bin/sh
# b0500-smime: S/MIME decrypt, verify, encrypt and sign through smime.h
# on 4 KB, 100 KB, 1 MB and 10 MB messages, each as a ratio to a bare
# OpenSSL CMS S/MIME loop on the same bytes in the same run (in process).
# Target: ratio <= 1.3 at 100 KB and above.
#   bench/b0500-smime.sh
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
cd "$TOP"
command -v openssl >/dev/null 2>&1 || { echo "openssl missing"; exit 77; }
[ -f "$O/libpostern.a" ] || make -s "$O/libpostern.a"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
${CC:-cc} -std=gnu11 -O2 -D_GNU_SOURCE -Icommon -I"$O/gen" \
    bench/b0500-smime.c "$O/libpostern.a" \
    $(pkg-config --libs libcrypto sqlite3 libxml-2.0 gpgme) -lm -lpthread \
    -o "$W/b0500"
(
	cd "$W"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt \
	    -subj '/CN=Bench CA' -days 30 \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign 2>/dev/null
	printf '%s\n' 'subjectAltName=email:ee@example.org' \
	    'keyUsage=critical,digitalSignature,keyEncipherment' \
	    'extendedKeyUsage=emailProtection' > ee.ext
	openssl req -newkey rsa:2048 -nodes -keyout ee.key \
	    -subj '/CN=ee/emailAddress=ee@example.org' 2>/dev/null |
	    openssl x509 -req -CA ca.crt -CAkey ca.key -set_serial 7 -days 30 \
	    -extfile ee.ext -out ee.crt 2>/dev/null
)
"$W/b0500" "$W"
