#!/bin/sh
# t0200-x509: posternctl cert/root/key/ctl/crl against the PKI of
# t/data/mkpki.sh; outputs checked with jq and the openssl command line.
set -u
TOP=${POSTERN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
P=$TOP/${O:-build}/bin/posternctl
[ -x "$P" ] || { echo "skip: no $P"; exit 77; }
command -v jq >/dev/null || { echo "skip: no jq"; exit 77; }
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
fails=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; fails=$((fails + 1)); }
# check WHAT GOT WANT
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi; }

printf 'state_directory = %s\nmaster_key_file = %s/master.key\n' "$D" "$D" \
    > "$D/p.conf"
pc() { "$P" -c "$D/p.conf" "$@"; }
"$TOP/t/data/mkpki.sh" "$D/pki" || { echo "mkpki.sh failed"; exit 1; }
K=$D/pki
AT=2027-01-01
pc init >/dev/null || { echo "init failed"; exit 1; }
fp() {	# SHA-512 thumbprint as openssl prints it, colons dropped
	openssl x509 -in "$1" -noout -fingerprint -sha512 | sed 's/.*=//; s/://g'
}
ALICE=$(fp "$K/alice.crt")
INTER=$(fp "$K/inter.crt")
BLACK=$(fp "$K/black-ca.crt")

pc root import "$K/root.crt" >/dev/null
got=$(pc --json cert import "$K/chain.pem" | jq -r 'length')
check "import --json is valid JSON with two thumbprints" "$got" 2
got=$(pc --json cert import "$K/inter.crt" "$K/black-ca.crt" "$K/revoked.crt" \
    "$K/expired.crt" "$K/eve.crt" "$K/signonly.crt" | jq -r '.[0]')
check "import returns thumbprints (openssl fingerprint)" "$got" "$INTER"
got=$(pc cert import "$K/inter.crt")
check "re-import is a no-op" "$got" "0 imported, 1 already present"
pc crl import "$K/inter.crl" "$K/inter-bad.crl" >/dev/null

# key import/export round trip
echo secret > "$D/pw"
pc key import "$K/alice-legacy.p12" --password-file "$D/pw" >/dev/null
check "legacy PKCS#12 import" $? 0
echo wrong > "$D/bad"
pc key import "$K/alice.p12" --password-file "$D/bad" 2>"$D/err"
check "wrong password refused" $? 1
grep -q "wrong password" "$D/err" && ok "wrong password said" || not_ok "wrong password said"
POSTERN_PASSWORD= pc key import "$K/alice.p12" 2>/dev/null
check "no password: usage" $? 1
echo out > "$D/pw2"
pc key export "$ALICE" --out "$D/out.p12" --password-file "$D/pw2"
check "key export" $? 0
check "export mode 0600" "$(stat -c %a "$D/out.p12")" 600
got=$(openssl pkcs12 -in "$D/out.p12" -passin pass:out -nokeys -clcerts \
    2>/dev/null | openssl x509 -noout -fingerprint -sha512 | sed 's/.*=//; s/://g')
check "exported cert is alice (openssl pkcs12)" "$got" "$ALICE"
openssl pkcs12 -in "$D/out.p12" -passin pass:out -info -nokeys -noout \
    2>"$D/info" >/dev/null
grep -q "AES-256-CBC" "$D/info" && ok "export uses AES-256" || not_ok "export uses AES-256: $(cat "$D/info")"
openssl pkcs12 -in "$D/out.p12" -passin pass:out -nocerts -nodes 2>/dev/null \
    | openssl pkey -pubout > "$D/k1"
openssl pkey -in "$K/alice.key" -pubout > "$D/k2"
cmp -s "$D/k1" "$D/k2" && ok "exported key matches" || not_ok "exported key matches"
pc key export "$ALICE" --out "$D/legacy.p12" --password-file "$D/pw2" --legacy
openssl pkcs12 -legacy -in "$D/legacy.p12" -passin pass:out -info -nokeys \
    -noout 2>"$D/info" >/dev/null
grep -q "TripleDES" "$D/info" && ok "--legacy uses 3DES" || not_ok "--legacy: $(cat "$D/info")"

# list and filters
got=$(pc --json cert list --email ALICE@example.com --at $AT | jq -r '.[0].thumbprint')
check "list --email (case-insensitive)" "$got" "$ALICE"
got=$(pc --json cert list --invalid --at $AT | jq -r '[.[].emails] | sort | join(" ")')
check "list --invalid" "$got" "old@example.com revoked@example.com"
got=$(pc --json cert list --valid --at $AT | jq length)
check "list --valid count (root came with the PKCS#12)" "$got" 6

# verify reasons
v() { pc cert verify "$@" --at $AT; }
check "verify alice" "$(v "$ALICE")" "valid; ignored CRL of Test Intermediate: bad signature"
check "verify expired" "$(v "$(fp "$K/expired.crt")" | cut -d';' -f1)" "expired 2024-03-01"
check "verify revoked" "$(v "$(fp "$K/revoked.crt")" | cut -d';' -f1)" "revoked by Test Intermediate CRL"
check "verify signonly for encryption" "$(v "$(fp "$K/signonly.crt")" | cut -d';' -f1)" "key usage does not allow encryption"
v "$(fp "$K/signonly.crt")" --as signing >/dev/null
check "verify signonly for signing: exit 0" $? 0
v "$(fp "$K/revoked.crt")" >/dev/null
check "verify invalid: exit 1" $? 1
check "verify --file (not stored)" "$(v --file "$K/notyet.crt" | cut -d';' -f1)" "not yet valid"
check "verify prefix" "$(v "$(echo "$ALICE" | cut -c1-12)" | cut -d';' -f1)" "valid"
pc ctl add "$BLACK" --black >/dev/null
check "black-listed via" "$(v "$(fp "$K/eve.crt")")" "black-listed via Blacklisted CA"
pc ctl add "$(fp "$K/orphan.crt")" --white >/dev/null
check "ctl entry without certificate" "$(pc --json ctl list | jq length)" 2
check "white-listed orphan" "$(v --file "$K/orphan.crt")" "white-listed"
pc ctl add "$ALICE" --black --allow-expired 2>/dev/null
check "allow-expired with black: usage" $? 2
pc ctl remove "$BLACK" >/dev/null
check "removed from CTL" "$(v "$(fp "$K/eve.crt")" | cut -d';' -f1)" "valid"
got=$(pc --json cert verify "$ALICE" --at $AT | jq -r '.chain | length')
check "verify --json chain" "$got" 3
pc cert verify "$ALICE" --at 2027-13-01 2>/dev/null
check "bad --at: usage" $? 2

# show: the fields agree with openssl
got=$(pc --json cert show "$ALICE" --at $AT | jq -r '"\(.serial) \(.emails) \(.private_key) \(.encryption | split(";")[0]) \(.signing | split(";")[0])"')
check "cert show --json" "$got" "$(openssl x509 -in "$K/alice.crt" -noout -serial | sed 's/serial=//') alice@example.com yes valid valid"
got=$(pc cert show "$ALICE" | awk '$1 == "not_after" { print $2 }')
check "cert show not_after" "$got" "$(date -u -d "$(openssl x509 -in "$K/alice.crt" -noout -enddate | sed 's/notAfter=//')" +%Y-%m-%dT%H:%M:%SZ)"
pc cert export "$ALICE" --out "$D/alice.pem"
check "export PEM (openssl)" "$(fp "$D/alice.pem")" "$ALICE"

# a certificate with a private key is in use
pc cert delete "$ALICE" 2>"$D/err"
check "delete with a private key refused" $? 1
grep -q "private key" "$D/err" && ok "refusal says private key" || not_ok "refusal: $(cat "$D/err")"
pc cert show "$ALICE" >/dev/null
check "still there after the refusal" $? 0

# selection and delete
pc cert select "$ALICE" --user a@example.com --as signing >/dev/null
check "signing selection for a user (has a key)" $? 0
got=$(pc --json cert selections "$ALICE" | jq -r '.[] | select(.kind == "signing") | "\(.level) \(.owner)"')
check "signing selection listed" "$got" "user a@example.com"
pc cert deselect "$ALICE" --user a@example.com --as signing >/dev/null
pc cert select "$ALICE" --domain example.org --as encryption >/dev/null
check "select" $? 0
got=$(pc --json cert selections "$ALICE" | jq -r '.[0] | "\(.level) \(.owner) \(.kind)"')
check "selections" "$got" "domain example.org encryption"
pc cert select "$(fp "$K/revoked.crt")" --user a@example.com --as signing 2>/dev/null
check "signing selection needs a key" $? 1
pc cert select "$ALICE" --user a@example.com --domain x.org --as encryption 2>/dev/null
check "two levels: usage" $? 2
pc cert delete "$ALICE" 2>"$D/err"
check "delete while selected refused" $? 1
grep -q "selected" "$D/err" && ok "refusal says selected" || not_ok "refusal says selected"
pc cert deselect "$ALICE" --domain example.org --as encryption >/dev/null
check "deselect" $? 0
pc cert deselect "$ALICE" --domain example.org --as encryption 2>/dev/null
check "deselect again" $? 1
pc cert select "$ALICE" --global --as additional >/dev/null
pc cert delete "$ALICE" --force >/dev/null
check "delete --force" $? 0
check "selection gone with it" "$(pc --json cert selections | jq length)" 0
pc cert show "$ALICE" 2>/dev/null
check "deleted certificate: not found" $? 1

# roots and CRLs
check "root list" "$(pc --json root list | jq -r '.[0].thumbprint')" "$(fp "$K/root.crt")"
CRL=$(pc --json crl list | jq -r '.[] | select(.revoked == "1") | .thumbprint' | head -1)
check "crl show" "$(pc --json crl show "$CRL" | jq -r '.[0].serial' | grep -c .)" 1
pc root delete "$(fp "$K/root.crt")" >/dev/null
check "without the root" "$(v "$INTER" --as path)" "no path to a trusted root"
pc cert export "$INTER" --format der --out "$D/inter.der"
check "export DER (openssl)" "$(openssl x509 -inform DER -in "$D/inter.der" -noout -fingerprint -sha512 | sed 's/.*=//; s/://g')" "$INTER"
pc cert export "$INTER" "$BLACK" --format p7b --out "$D/x.p7b"
check "export p7b (openssl)" "$(openssl pkcs7 -inform DER -in "$D/x.p7b" -print_certs | grep -c '^subject')" 2
pc frobnicate 2>/dev/null; [ $? -ne 0 ] && ok "unknown command" || not_ok "unknown command"
pc cert frob 2>/dev/null
check "unknown subcommand: usage" $? 2

[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
