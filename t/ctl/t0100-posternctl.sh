#!/bin/bash
# t0100-posternctl: posternctl init, users, domains, set/unset/get at
# every level, the inheritance example with origins, --json, exit codes
# and one-line errors.  Exit 0 pass, 77 skip, 1 fail.
set -u
top=${POSTERN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
ctl=$top/${O:-build}/bin/posternctl
[ -x "$ctl" ] || { echo "skip: $ctl not built"; exit 77; }
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/postern.conf" <<CONF
state_directory = $tmp/state
master_key_file = $tmp/master.key
CONF
failures=0
out=$tmp/out err=$tmp/err

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# run WANT_RC ARGS...: run posternctl, check the exit status
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
# has FILE REGEX: grep -E, reporting what was looked for
has() { grep -Eq -- "$2" "$1" || { fail "want /$2/ in: $(cat "$1")"; return 1; }; }
hasnt() { ! grep -Eq -- "$2" "$1" || { fail "unwanted /$2/ in: $(cat "$1")"; return 1; }; }
one_line_err() {
	[ "$(wc -l < "$err")" -eq 1 ] || fail "want one error line, got: $(cat "$err")"
	[ ! -s "$out" ] || fail "want no stdout on error, got: $(cat "$out")"
}
json_ok() { python3 -c 'import json,sys; json.load(sys.stdin)' < "$out" || fail "bad JSON: $(cat "$out")"; }
# jq-less field check: jget PYEXPR WANT (d is the parsed JSON)
jget() {
	local got
	got=$(python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" < "$out") ||
	    { fail "cannot evaluate $1 on $(cat "$out")"; return 1; }
	[ "$got" = "$2" ] || fail "$1: got '$got', want '$2'"
}

# --- init: idempotent, creates key, database and server-secret -------------
run 0 init && has "$out" "master key: .* \(created\)" && has "$out" "server-secret: created"
[ "$(stat -c %a "$tmp/master.key")" = 600 ] || fail "master key mode $(stat -c %a "$tmp/master.key")"
key1=$(cat "$tmp/master.key")
run 0 init && has "$out" "\(exists\)" && has "$out" "server-secret: exists"
[ "$(cat "$tmp/master.key")" = "$key1" ] || fail "init changed the master key"
run 0 --json init && json_ok && jget 'd["server_secret"]' exists

# --- usage errors: exit 2 -------------------------------------------------
run 2 || true
run 2 frobnicate && one_line_err && has "$err" "unknown command 'frobnicate'"
run 2 user && one_line_err
run 2 user frob && has "$err" "unknown user subcommand 'frob'"
run 2 set encrypt-mode allow && one_line_err && has "$err" "needs one of --global"
run 2 set encrypt-mode allow --global --user a@example.com && has "$err" "only one of"
run 2 set encrypt-mode --global && one_line_err
run 2 get encrypt-mode --bogus && has "$err" "unknown option '--bogus'"
run 2 set encrypt-mode allow --domain && has "$err" "option '--domain' needs a value"

# --- refused: exit 1, one line naming the property and allowed values -----
run 1 set encrypt-mode sometimes --global && one_line_err &&
    has "$err" "^posternctl: bad value 'sometimes' for 'encrypt-mode': want one of no-encryption\|allow\|mandatory\|force$"
run 1 set smime.strict maybe --domain example.com && one_line_err &&
    has "$err" "'smime.strict': want true or false"
run 1 set no-such-thing 1 --global && one_line_err && has "$err" "unknown property 'no-such-thing'"
run 1 set server-secret x --user a@example.com && one_line_err &&
    has "$err" "'server-secret' cannot be set for a user"
run 1 set locality internal --user not-an-address && has "$err" "bad address 'not-an-address'"
run 1 set locality internal --domain 'a..b' && has "$err" "bad domain 'a..b'"
run 1 get no-such-thing && one_line_err

# --- users and domains ----------------------------------------------------
run 0 user add Alice@EXAMPLE.com && has "$out" "user Alice@example.com added"
run 1 user add alice@example.com.invalid.. && one_line_err
run 1 user add Alice@example.com && has "$err" "user 'Alice@example.com' exists"
run 0 user add bob@a.example.com
run 0 domain add Example.COM && has "$out" "domain example.com added"
run 0 domain add '*.example.com'
run 1 domain add example.com && has "$err" "domain 'example.com' exists"
run 0 user list && has "$out" "^Alice@example.com +example.com$" && has "$out" "^bob@a.example.com +a.example.com$"
run 0 user list --domain '*.example.com' && has "$out" "bob@a.example.com" && hasnt "$out" "Alice"
run 0 --json user list && json_ok && jget 'len(d)' 2
run 0 domain list && has "$out" "^\*\.example\.com +1 " && has "$out" "^example\.com +1 "
run 0 --json domain list && json_ok && jget '[x["users"] for x in d if x["domain"]=="example.com"][0]' 1
run 1 user show alice@example.com && has "$err" "no user 'alice@example.com'"
run 0 user show Alice@example.com && has "$out" "^address +Alice@example.com" && has "$out" "^locality +external \(factory\)"
run 0 --json domain show example.com && json_ok && jget 'd["users"]' 1

# a domain in use is not deleted without --force
run 1 domain delete example.com && one_line_err && has "$err" "domain 'example.com' has 1 user .*--force"
run 1 domain delete '*.example.com' && has "$err" "has 1 user"
run 2 domain delete --forc example.com
run 0 domain add unused.org && run 0 domain delete unused.org
run 1 domain delete unused.org && has "$err" "no domain 'unused.org'"

# --- the inheritance example ----------------------------------------------
run 0 set encrypt-mode mandatory --global && has "$out" "set at global"
run 0 set encrypt-mode force --domain EXAMPLE.com && has "$out" "set at domain example.com"
run 0 set encrypt-mode no-encryption --domain '*.example.com' && has "$out" "set at wildcard \*.example.com"
run 0 set encrypt-mode allow --user Alice@example.com && has "$out" "set at user Alice@example.com"
run 0 set locality internal --domain '*.a.example.com'

while read -r addr value level owner; do
	run 0 get encrypt-mode --user "$addr" &&
	    has "$out" "^encrypt-mode +$value +$level +$owner$"
	run 0 --json get encrypt-mode --user "$addr" && json_ok &&
	    jget 'd[0]["value"], d[0]["level"], d[0]["owner"] or "-"' "$value $level ${owner//\\/}"
done <<'CASES'
Alice@example.com allow user Alice@example.com
carol@Example.com force domain example.com
bob@a.example.com no-encryption wildcard \*.example.com
dave@b.a.example.com no-encryption wildcard \*.example.com
erin@other.org mandatory global -
CASES

run 0 get --effective --user dave@b.a.example.com &&
    has "$out" "^encrypt-mode +no-encryption +wildcard +\*\.example\.com$" &&
    has "$out" "^locality +internal +wildcard +\*\.a\.example\.com$" &&
    has "$out" "^smime\.strict +false +factory +-$" &&
    has "$out" "^server-secret +\(secret\) +global +-$"
run 0 --json get --effective --user Alice@example.com && json_ok &&
    jget '{x["name"]: (x["value"], x["level"]) for x in d}["encrypt-mode"]' "('allow', 'user')" &&
    jget '{x["name"]: x["level"] for x in d}["locality"]' factory &&
    jget 'len(d)' "$("$ctl" -c "$tmp/postern.conf" --json settings list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
run 0 get encrypt-mode --domain b.a.example.com && has "$out" "no-encryption +wildcard"
run 0 get encrypt-mode && has "$out" "^encrypt-mode +mandatory +global +-$"
run 0 user show Alice@example.com && has "$out" "^encrypt-mode +allow$"

# unset: inherited again, level by level
run 0 unset encrypt-mode --user Alice@example.com
run 0 get encrypt-mode --user Alice@example.com && has "$out" "force +domain +example.com"
run 0 unset encrypt-mode --domain example.com
run 0 get encrypt-mode --user Alice@example.com && has "$out" "mandatory +global"
run 0 unset encrypt-mode --global
run 0 get encrypt-mode --user Alice@example.com && has "$out" "^encrypt-mode +allow +factory +-$"
run 0 unset encrypt-mode --global    # not set: still fine
run 0 --json unset encrypt-mode --domain '*.example.com' && json_ok && jget 'd["level"]' wildcard

# force deletes the domain and its settings, keeps the users
run 0 domain delete --force '*.a.example.com'
run 0 domain delete example.com --force
run 0 user list && has "$out" "Alice@example.com"
run 0 user delete Alice@example.com
run 1 user delete Alice@example.com && has "$err" "no user 'Alice@example.com'"

# --- secrets are never printed nor stored in plaintext --------------------
sentinel=plain-sentinel-4b1d
run 0 set server-secret "$sentinel" --global && hasnt "$out" "$sentinel"
run 0 get --effective && hasnt "$out" "$sentinel"
run 0 --json get server-secret && jget 'd[0]["value"]' "(secret)"
if grep -rq "$sentinel" "$tmp/state"; then fail "secret in plaintext under $tmp/state"; fi
# from standard input, so it is not in the process list
echo "$sentinel-2" | "$ctl" -c "$tmp/postern.conf" set server-secret - --global >"$out" 2>"$err" ||
    fail "set server-secret - from stdin: $(cat "$err")"
hasnt "$out" "$sentinel"
if grep -rq "$sentinel" "$tmp/state"; then fail "secret in plaintext under $tmp/state"; fi
# init keeps a secret that is set
run 0 init && has "$out" "server-secret: exists"

# --- two posternctl processes writing at once both succeed ----------------
writer() {
	local i
	for i in $(seq 1 15); do
		"$ctl" -c "$tmp/postern.conf" set encrypt-mode force --global >/dev/null || return 1
		"$ctl" -c "$tmp/postern.conf" set locality internal --user "w$1-$i@par.example" >/dev/null || return 1
	done
}
writer 1 & p1=$!
writer 2 & p2=$!
wait $p1 || fail "concurrent writer 1 failed"
wait $p2 || fail "concurrent writer 2 failed"
run 0 user list --domain par.example && [ "$(grep -c '@par.example' "$out")" -eq 30 ] ||
    fail "want 30 users from the concurrent writers, got: $(cat "$out")"

# --- registry and its page -------------------------------------------------
run 0 settings list && has "$out" "^locality +enum +external +internal\|external +all +both "
run 0 --json settings list && json_ok && jget '[x["default"] for x in d if x["name"]=="encrypt-mode"][0]' allow
run 0 settings man && cmp -s "$out" "$top/man/postern-settings.5" ||
    fail "posternctl settings man differs from man/postern-settings.5 (run make man)"
run 2 settings frob

# --- store errors are one line, exit 1 ---------------------------------------
cat > "$tmp/missing.conf" <<CONF
state_directory = $tmp/nothing-here
master_key_file = $tmp/master.key
CONF
"$ctl" -c "$tmp/missing.conf" user list >"$out" 2>"$err"
[ $? -eq 1 ] || fail "user list without a database: want exit 1"
one_line_err; has "$err" "run 'posternctl init' first"

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all passed"
exit 0
