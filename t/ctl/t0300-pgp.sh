#!/bin/bash
# t0300-pgp: posternctl pgp: generate, import (public and protected
# secret keys, armored and binary), list/show with --json, trust and the
# mirror, email associations, export checked by gpg and sqop, revoke,
# delete, sync, exit codes 0/1/2.  Exit 0 pass, 77 skip, 1 fail.
set -u
top=${POSTERN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
ctl=$top/${O:-build}/bin/posternctl
[ -x "$ctl" ] || { echo "skip: $ctl not built"; exit 77; }
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
command -v gpg >/dev/null || { echo "skip: no gpg"; exit 77; }

tmp=$(mktemp -d)
home=$tmp/state/gnupg
ext=$tmp/x
cleanup() {
	gpgconf --homedir "$home" --kill gpg-agent >/dev/null 2>&1
	gpgconf --homedir "$ext" --kill gpg-agent >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
cat > "$tmp/postern.conf" <<CONF
state_directory = $tmp/state
master_key_file = $tmp/master.key
CONF
failures=0
out=$tmp/out err=$tmp/err
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
run() {
	local want=$1; shift
	"$ctl" -c "$tmp/postern.conf" "$@" >"$out" 2>"$err"
	local rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "posternctl $*: exit $rc, want $want"
		sed 's/^/  stdout: /' "$out"; sed 's/^/  stderr: /' "$err"
		return 1
	fi
	return 0
}
has() { grep -Eq -- "$2" "$1" || { fail "want /$2/ in: $(cat "$1")"; return 1; }; }
json_ok() { python3 -c 'import json,sys; json.load(sys.stdin)' < "$out" || fail "bad JSON: $(cat "$out")"; }
jget() {
	local got
	got=$(python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" < "$out") ||
	    { fail "cannot evaluate $1 on $(cat "$out")"; return 1; }
	[ "$got" = "$2" ] || fail "$1: got '$got', want '$2'"
}

run 0 init >/dev/null

# --- usage: exit 2 ----------------------------------------------------------
run 2 pgp
run 2 pgp frobnicate && has "$err" "unknown pgp command"
run 2 pgp generate --name X
run 2 pgp generate --email a@example.org --algo dsa
run 2 pgp email add X
run 2 pgp show

# --- generate: ed25519 primary + cv25519 subkey, untrusted ---------------
run 0 --json pgp generate --email alice@example.org --name Alice && json_ok
alice=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["fpr"])' < "$out")
[ ${#alice} -eq 40 ] || fail "fingerprint '$alice'"
[ "$(stat -c %a "$home")" = 700 ] || fail "gnupg home mode $(stat -c %a "$home")"
run 0 --json pgp show "$alice" && json_ok && jget 'd["trusted"]' no &&
    jget 'd["caps"]' esc && jget 'd["emails"]' alice@example.org &&
    jget 'd["secret"]' yes && jget 'd["state"]' valid
run 0 --json pgp list --trusted && jget 'len(d)' 0
run 0 pgp trust "${alice: -16}" && has "$out" "$alice trusted"
run 0 --json pgp list --trusted && jget 'len(d)' 1 && jget 'd[0]["fpr"]' "$alice"

# --- the gpg CLI agrees: key in the home, protected by a passphrase ------
gpg --homedir "$home" --batch --with-colons --list-secret-keys "$alice" >/dev/null 2>&1 ||
    fail "gpg does not see the secret key"
gpgconf --homedir "$home" --reload gpg-agent
echo x | gpg --homedir "$home" --batch -q --pinentry-mode loopback \
    --passphrase '' -u "$alice" --sign >/dev/null 2>&1 &&
    fail "secret key usable without the passphrase"

# --- export: public key verified with gpg and sqop ------------------------
run 0 pgp export "$alice" && has "$out" "BEGIN PGP PUBLIC KEY BLOCK" && cp "$out" "$tmp/alice.asc"
mkdir -m 700 "$ext"
gpg --homedir "$ext" --batch -q --import "$tmp/alice.asc" 2>/dev/null || fail "gpg cannot import export"
gpg --homedir "$ext" --batch --with-colons --list-keys alice@example.org 2>/dev/null | grep -q "^fpr:*$alice:" ||
    fail "export has another key"
run 0 pgp export "$alice" --secret && has "$out" "BEGIN PGP PRIVATE KEY BLOCK"
if command -v sqop >/dev/null; then
	echo hello > "$tmp/msg"
	sqop encrypt "$tmp/alice.asc" < "$tmp/msg" > "$tmp/msg.asc" || fail "sqop cannot encrypt to export"
fi

# --- import: public (armored), secret (binary, passphrase-protected) -----
gpg --homedir "$ext" --batch -q --passphrase '' --pinentry-mode loopback \
    --quick-gen-key 'Bob <bob@example.net>' ed25519 default never 2>/dev/null
bob=$(gpg --homedir "$ext" --batch --with-colons --list-keys bob@example.net 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
gpg --homedir "$ext" --batch -q --armor --export "$bob" > "$tmp/bob.asc"
run 0 --json pgp import "$tmp/bob.asc" && json_ok && jget 'd[0]["fpr"]' "$bob" &&
    jget 'd[0]["secret"]' no && jget 'd[0]["trusted"]' no
run 0 pgp import - < "$tmp/bob.asc"		# again, from stdin: unchanged
gpg --homedir "$ext" --batch -q --passphrase 'carol pw' --pinentry-mode loopback \
    --quick-gen-key 'Carol <carol@example.net>' ed25519 default never 2>/dev/null
gpg --homedir "$ext" --batch -q --passphrase 'carol pw' --pinentry-mode loopback \
    --export-secret-keys carol@example.net > "$tmp/carol.gpg"
run 1 pgp import "$tmp/carol.gpg" && has "$err" "cannot protect"
printf 'wrong\n' > "$tmp/pw.bad"; printf 'carol pw\n' > "$tmp/pw"
run 1 pgp import "$tmp/carol.gpg" --passphrase-file "$tmp/pw.bad"
run 0 --json pgp import "$tmp/carol.gpg" --passphrase-file "$tmp/pw" && jget 'd[0]["secret"]' yes
carol=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["fpr"])' < "$out")
run 1 pgp import /nonexistent && has "$err" "cannot open"
echo "not a key" > "$tmp/junk"
run 1 pgp import "$tmp/junk"

# --- list filters and email associations -----------------------------------
run 0 --json pgp list && jget 'len(d)' 3
run 0 --json pgp list --email BOB@example.net && jget 'len(d)' 1
run 0 pgp email add "$bob" example.com
run 0 pgp email add "$bob" boss@example.org
run 0 --json pgp list --email example.com && jget 'd[0]["fpr"]' "$bob"
run 0 --json pgp show "$bob" && jget 'd["associations"]' "boss@example.org,example.com"
run 1 pgp email remove "$bob" other.org
run 0 pgp email remove "$bob" example.com
run 1 pgp email add "$bob" 'not valid!'
run 1 pgp trust 0000000000000000 && has "$err" "no such key"

# --- sync: the mirror follows a change made behind our back ----------------
gpg --homedir "$home" --batch -q --yes --delete-keys "$bob" 2>/dev/null
run 0 --json pgp sync && jget 'd["removed"]' 1 && jget 'd["keys"]' 2
run 0 --json pgp list && jget 'len(d)' 2
run 0 --json pgp show "$alice" && jget 'd["trusted"]' yes	# trust kept

# --- revoke and delete -------------------------------------------------------
run 0 pgp revoke "$carol"
run 0 --json pgp show "$carol" && jget 'd["state"]' revoked && jget 'd["caps"]' ''
gpg --homedir "$home" --batch --with-colons --list-keys "$carol" | grep -q '^pub:r:' ||
    fail "gpg does not see carol revoked"
run 0 pgp delete "$carol"
run 1 pgp show "$carol"
gpg --homedir "$home" --batch --list-keys "$carol" >/dev/null 2>&1 && fail "carol still in the keyring"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
