#!/bin/bash
# t0810-policy-explain: posternctl policy explain against a real database
# and X.509 keystore: the decision per recipient, the settings behind it
# with their origin (text and --json), triggers, calendar, usage errors.
# Exit 0 pass, 77 skip, 1 fail.
set -u
top=${POSTERN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
ctl=$top/${O:-build}/bin/posternctl
[ -x "$ctl" ] || { echo "skip: $ctl not built"; exit 77; }
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/postern.conf" <<CONF
state_directory = $tmp/state
master_key_file = $tmp/master.key
CONF
sh "$top/t/data/mkpki.sh" "$tmp/pki" >/dev/null || { echo "FAIL: mkpki"; exit 1; }
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
has() { grep -Eq -- "$2" "$1" || fail "want /$2/ in: $(cat "$1")"; }
jget() {
	local got
	got=$(python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" < "$out") ||
	    { fail "cannot evaluate $1 on $(cat "$out")"; return 1; }
	[ "$got" = "$2" ] || fail "$1: got '$got', want '$2'"
}

run 0 init
run 0 root import "$tmp/pki/root.crt"
run 0 cert import "$tmp/pki/inter.crt" "$tmp/pki/alice.crt" "$tmp/pki/expired.crt"

# an S/MIME recipient, everything at factory defaults
run 0 policy explain --from 'Sender <s@corp.test>' --to alice@example.com
has "$out" '^originator: s@corp.test \(From\)'
has "$out" '^  decision: smime-encrypt \(output 1\)'
has "$out" 'encrypt-mode +recipient += allow +\(factory\)'
has "$out" 'S/MIME certificates: 1 valid'

# mandatory for a domain without certificates: blocked, and why
run 0 set --domain example.org encrypt-mode mandatory
run 0 --json policy explain --from s@corp.test --to bob@example.org --to alice@example.com
jget 'd["recipients"][0]["action"]' block
jget 'd["recipients"][0]["output"]' None
jget '[s["level"]+":"+s["owner"]+":"+s["value"] for s in d["recipients"][0]["settings"] if s["name"]=="encrypt-mode" and s["for"]=="recipient"][0]' 'domain:example.org:mandatory'
jget 'd["recipients"][1]["action"]' smime-encrypt
jget 'd["outputs"]' 1

# the expired certificate does not count, and the facts say so
run 0 policy explain --from s@corp.test --to old@example.com
has "$out" '^  decision: plain'
has "$out" 'S/MIME certificates: 0 valid'

# subject trigger (seed 003 §4.1.5): forced, match removed
run 0 set --user s@corp.test subject-trigger.enabled true
run 0 set --user s@corp.test subject-trigger.regex true
run 0 set --user s@corp.test subject-trigger.pattern '(?i)(\[secure\]|\[encrypt\])'
run 0 --json policy explain --from s@corp.test --to x@example.net --subject 'offer [SECURE] now'
jget 'd["subject_trigger"]' True
jget 'd["new_subject"]' 'offer now'
jget 'd["recipients"][0]["action"]' block
jget 'd["recipients"][0]["encryption"]' must
jget '[s["level"] for s in d["recipients"][0]["settings"] if s["name"]=="subject-trigger.pattern"][0]' user

# header trigger (seed 003 §4.2.1), only when allowed
run 0 --json policy explain --from t@corp.test --to alice@example.com --header 'X-Postern-Encrypt: true'
jget 'd["force_encrypt_trigger"]' False
run 0 set --global force-encrypt.allowed true
run 0 --json policy explain --from t@corp.test --to alice@example.com --header 'X-Postern-Encrypt: true'
jget 'd["force_encrypt_trigger"]' True
jget 'd["recipients"][0]["encryption"]' must

# calendar with skip-calendar: plain even where encryption is possible
run 0 set --domain example.com skip-calendar true
run 0 policy explain --from t@corp.test --to alice@example.com --calendar
has "$out" '^  decision: plain'
has "$out" 'calendar: text/calendar message'

# size: over smime.max-size, no OpenPGP key: plain
run 0 unset --domain example.com skip-calendar
run 0 set --domain example.com smime.max-size 1k
run 0 policy explain --from t@corp.test --to alice@example.com --size 5000
has "$out" '^  decision: plain'
has "$out" 'larger than smime.max-size'

# an internal recipient
run 0 set --domain corp.test locality internal
run 0 policy explain --from x@example.net --to t@corp.test
has "$out" '^  decision: inbound'

# a message file
printf 'From: s@corp.test\nSubject: [encrypt] file\n\nbody\n' > "$tmp/m.eml"
run 0 --json policy explain --message "$tmp/m.eml" --to alice@example.com
jget 'd["subject_trigger"]' True
jget 'd["new_subject"]' file

# usage
run 2 policy
run 2 policy explain --to a@b.test
run 2 policy explain --from a@b.test
run 2 policy explain --from a@b.test --to c@d.test --header nocolon
run 2 policy explain --from a@b.test --to c@d.test --size lots
run 2 policy explain --message "$tmp/m.eml" --to c@d.test --subject x
run 1 policy explain --from a@b.test --to not-an-address
run 1 policy explain --message /nonexistent --to c@d.test

[ "$failures" -eq 0 ] || { echo "t0810: $failures failure(s)"; exit 1; }
echo "t0810: ok"
