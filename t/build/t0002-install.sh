#!/bin/bash
# t0002-install: `make install DESTDIR=tmp PREFIX=/usr` installs exactly
# the expected files with sane modes: every built program in /usr/sbin
# (0755, identical to the build), every man page man/NAME.N in
# /usr/share/man/manN (0644), conf/postern.conf as /etc/postern/postern.conf
# (0644) when it exists, /var/lib/postern 0750; nothing else.  A second
# install keeps an edited postern.conf; the default PREFIX is /usr/local.
set -eu
cd "$(dirname "$0")/../.."
O=${O:-build}
tmp=$(mktemp -d /tmp/postern-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "t0002: FAIL: $*" >&2; exit 1; }

dest=$tmp/root
if ! make -s install DESTDIR="$dest" PREFIX=/usr ASAN="${ASAN:-}" >"$tmp/log" 2>&1; then
	cat "$tmp/log" >&2
	fail "make install failed"
fi

# mode_is PATH MODE: PATH exists with octal MODE.
mode_is() {
	[ -e "$1" ] || fail "missing $1"
	local m
	m=$(stat -c %a "$1")
	[ "$m" = "$2" ] || fail "$1: mode $m, want $2"
}

expected=$tmp/expected
: > "$expected"
progs=0
for p in posternctl postern-milter postern-encrypt; do
	[ -x "$O/bin/$p" ] || continue
	f=$dest/usr/sbin/$p
	mode_is "$f" 755
	cmp -s "$O/bin/$p" "$f" || fail "$f differs from $O/bin/$p"
	echo "usr/sbin/$p" >> "$expected"
	progs=$((progs + 1))
done
[ -x "$O/bin/posternctl" ] || fail "$O/bin/posternctl was not built"
[ "$progs" -ge 1 ] || fail "no program installed"

# the installed posternctl runs: no command is a usage error (exit 2)
rc=0
"$dest/usr/sbin/posternctl" >"$tmp/out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "installed posternctl without command: exit $rc, want 2"
grep -q '^usage: posternctl' "$tmp/out" || fail "installed posternctl prints no usage"

pages=0
for m in man/*.[0-9]; do
	[ -f "$m" ] || continue
	b=${m##*/}
	f=$dest/usr/share/man/man${b##*.}/$b
	mode_is "$f" 644
	cmp -s "$m" "$f" || fail "$f differs from $m"
	echo "usr/share/man/man${b##*.}/$b" >> "$expected"
	pages=$((pages + 1))
done

if [ -f conf/postern.conf ]; then
	f=$dest/etc/postern/postern.conf
	mode_is "$f" 644
	cmp -s conf/postern.conf "$f" || fail "$f differs from conf/postern.conf"
	echo "etc/postern/postern.conf" >> "$expected"
fi
if [ -d conf/templates ]; then
	for t in conf/templates/*; do
		[ -f "$t" ] || continue
		mode_is "$dest/etc/postern/templates/${t##*/}" 644
		echo "etc/postern/templates/${t##*/}" >> "$expected"
	done
fi
mode_is "$dest/var/lib/postern" 750
[ -z "$(ls -A "$dest/var/lib/postern")" ] || fail "/var/lib/postern is not empty"
mode_is "$dest/etc/postern" 755

# nothing else was installed
(cd "$dest" && find . -type f -o -type l) | sed 's|^\./||' | sort > "$tmp/got"
sort -o "$expected" "$expected"
if ! diff -u "$expected" "$tmp/got" >&2; then
	fail "installed files differ from the expected list (- want, + got)"
fi

# a second install keeps a locally edited postern.conf
if [ -f conf/postern.conf ]; then
	echo "# local edit" >> "$dest/etc/postern/postern.conf"
	make -s install DESTDIR="$dest" PREFIX=/usr ASAN="${ASAN:-}" >"$tmp/log" 2>&1 ||
	    { cat "$tmp/log" >&2; fail "second make install failed"; }
	tail -1 "$dest/etc/postern/postern.conf" | grep -q '^# local edit$' ||
	    fail "second install overwrote the edited postern.conf"
fi

# default PREFIX is /usr/local; config and state stay in /etc, /var/lib
dest2=$tmp/root2
make -s install DESTDIR="$dest2" ASAN="${ASAN:-}" >"$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; fail "make install (default PREFIX) failed"; }
mode_is "$dest2/usr/local/sbin/posternctl" 755
mode_is "$dest2/var/lib/postern" 750
[ -d "$dest2/etc/postern" ] || fail "default PREFIX: no /etc/postern"

echo "t0002: ok ($progs program(s), $pages man page(s))"
