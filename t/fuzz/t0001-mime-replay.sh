#!/bin/bash
# t0001-mime-replay: the MIME fuzz target, built without libFuzzer, over
# every seed in t/fuzz/seeds (hand-written messages and past crashers),
# natively and under valgrind, then natively over the MIME corpora when
# present.  The target aborts on any broken invariant (chunking changes
# the tree, emission differs from the input, a re-parse fails).
set -u
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
san=
[ "${ASAN:-}" = 1 ] && san="-fsanitize=address,undefined -fno-sanitize-recover=all"
# shellcheck disable=SC2086
cc -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE $san -Icommon \
  $(pkg-config --cflags libxml-2.0) -o "$out/replay" \
  t/fuzz/fuzz_mime.c t/fuzz/replay.c common/mime_parse.c common/mime_codec.c \
  common/mime_emit.c common/mime_inspect.c common/buf.c common/err.c \
  common/config.c common/log.c common/str.c \
  $(pkg-config --libs libxml-2.0) || exit 1
"$out/replay" t/fuzz/seeds || exit 1
if [ -z "$san" ] && command -v valgrind >/dev/null; then
	valgrind -q --error-exitcode=99 --leak-check=full \
	  --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	  --suppressions=t/valgrind.supp "$out/replay" t/fuzz/seeds || exit 1
fi
corp=${POSTERN_CORPORA:-../shared/corpora}
if [ -d "$corp" ]; then
	find "$corp/thunderbird" "$corp/gmime" "$corp/mimekit" \
	  "$corp/mime-is-broken" "$corp/rfc4134" "$corp/protected-headers" \
	  -type f -print0 2>/dev/null | xargs -0 "$out/replay" || exit 1
fi
exit 0
