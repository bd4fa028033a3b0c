#!/bin/bash
# t0002-mime-external: MIME output checked by tools we did not write.
#  1. a message built by our builder (multipart/mixed, alternative, QP,
#     base64, RFC 2047 subject folded, RFC 2231 file name), LF and CRLF,
#     parsed by python3's email package: subject, file name, bytes.
#  2. the signed part of a Thunderbird S/MIME multipart/signed message,
#     cut out by our parser in canonical form, verifies with
#     "openssl cms -verify" against the detached signature we decode;
#     and still does after we rewrite the outer Subject (untouched parts
#     are byte-exact).
# Skips (77) when python3 or openssl is missing.
set -u
cd "$(dirname "$0")/../.."
command -v python3 >/dev/null || exit 77
command -v openssl >/dev/null || exit 77
O=${O:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -e "$O/libpostern.a" ] || { echo "no $O/libpostern.a"; exit 1; }
san=
[ "${ASAN:-}" = 1 ] && san="-fsanitize=address,undefined -fno-sanitize-recover=all"
# shellcheck disable=SC2086
cc -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE $san -Icommon \
  -o "$tmp/mime_tool" t/mime/mime_tool.c "$O/libpostern.a" \
  $(pkg-config --libs libxml-2.0) || exit 1
T=$tmp/mime_tool

for eol in lf crlf; do
	"$T" build $eol > "$tmp/built.eml" || exit 1
	python3 - "$tmp/built.eml" "$eol" <<'PY' || exit 1
import sys, email
from email import policy
raw = open(sys.argv[1], "rb").read()
if sys.argv[2] == "crlf":
    assert raw.count(b"\r\n") == raw.count(b"\n"), "bare LF in CRLF output"
else:
    assert b"\r" not in raw, "CR in LF output"
for line in raw.splitlines():
    assert len(line) <= 78, "line of %d: %r" % (len(line), line)
m = email.message_from_bytes(raw, policy=policy.default)
want_subj = "[SECURE] \u00dcber die Grenze: ein sehr langer Betreff, der gefaltet werden muss, weil er l\u00e4nger als 78 Zeichen ist"
assert str(m["subject"]) == want_subj, repr(str(m["subject"]))
assert m.get_content_type() == "multipart/mixed"
parts = list(m.iter_parts())
assert len(parts) == 2, len(parts)
alt = list(parts[0].iter_parts())
assert [p.get_content_type() for p in alt] == ["text/plain", "text/html"]
# python keeps the message's line ends in decoded text
assert alt[0].get_content().replace("\r\n", "\n") == "Gr\u00fc\u00dfe aus K\u00f6ln\nFrom here.\n", repr(alt[0].get_content())
assert alt[1].get_content() == "<p>Gr\u00fc\u00dfe</p>\n", repr(alt[1].get_content())
att = parts[1]
assert att.get_filename() == "r\u00e9sum\u00e9 2024 \u2013 quarterly report for the board of directors (final).pdf", att.get_filename()
assert att.get_content() == b"%PDF-1.4\n\x00\x01\x02\xff binary tail"
assert not m.defects and not any(p.defects for p in m.walk()), [p.defects for p in m.walk()]
print("python3 email: built %s message ok" % sys.argv[2])
PY
done

corp=${POSTERN_CORPORA:-../shared/corpora}
signed=$corp/thunderbird/smime/alice.dsig.SHA256.multipart.eml
if [ -f "$signed" ]; then
	check_sig() { # message
		"$T" part "$1" 1 > "$tmp/content" || return 1
		"$T" decode "$1" 2 > "$tmp/sig.der" || return 1
		openssl cms -verify -binary -inform DER -in "$tmp/sig.der" \
		  -content "$tmp/content" -noverify -out /dev/null \
		  2>"$tmp/err" || { cat "$tmp/err"; return 1; }
		grep -q "Verification successful" "$tmp/err"
	}
	check_sig "$signed" || { echo "signed part does not verify"; exit 1; }
	"$T" subject "$signed" "[SIGNED] tag added" > "$tmp/edited.eml" || exit 1
	grep -q '^Subject: \[SIGNED\] tag added' "$tmp/edited.eml" || exit 1
	check_sig "$tmp/edited.eml" || { echo "edited: no longer verifies"; exit 1; }
	# and a tampered part must fail (the check can fail)
	sed 's/test message/TEST message/' "$signed" > "$tmp/tampered.eml"
	if check_sig "$tmp/tampered.eml" >/dev/null; then
		echo "tampered message verified"; exit 1
	fi
	echo "openssl cms: signed part byte-exact before and after editing"
else
	echo "no corpus: openssl part skipped"
fi
exit 0
