#!/bin/sh
# mkpki.sh DIR: a test PKI made with the openssl command line, for the
# x509 unit tests and t/ctl/t0200-x509.sh.  Dates are fixed, so verdicts
# are checked at a pinned time (2027-01-01, PKI_AT below); nothing
# depends on the clock.
#
#   root.crt            Test Root (self-signed)
#   inter.crt           Test Intermediate (root)
#   black-ca.crt        Blacklisted CA (root)  - tests put it on the CTL
#   revoked-ca.crt      Revoked CA (root), revoked in root.crl
#   <name>.crt/.key     end entities, issued by inter unless said:
#     alice             alice@example.com, RSA, KU sig+keyEnc, EKU email
#     alice2            alice@example.com, later notBefore (freshest)
#     expired           expired 2024-03-01
#     notyet            valid from 2035-01-01
#     revoked           revoked in inter.crl
#     badcrl            revoked only in inter-bad.crl (bad signature)
#     signonly          KU digitalSignature only
#     serveronly        EKU serverAuth only
#     eve               issued by black-ca
#     victim            issued by revoked-ca
#     ec                EC P-256, KU digitalSignature+keyAgreement
#     orphan            self-signed, no path
#   inter.crl           revokes "revoked" (PEM)
#   root.crl            revokes revoked-ca (PEM)
#   inter-bad.crl       revokes "badcrl", signature broken (DER)
#   alice.p12           alice + chain, password "secret" (AES)
#   alice-legacy.p12    the same with -legacy (RC2/3DES), password "secret"
#   chain.p7b           root + inter as PKCS#7 (DER)
#   alice.der           alice.crt as DER
set -eu
D=${1:?usage: mkpki.sh DIR}
mkdir -p "$D"
cd "$D"
exec 3>mkpki.log
o() { openssl "$@" 2>&3; }

ca_init() {	# ca_init NAME
	mkdir -p "$1.db"
	: > "$1.db/index.txt"
	echo 1000 > "$1.db/serial"
	cat > "$1.cnf" <<CNF
[ ca ]
default_ca = this
[ this ]
dir = $1.db
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
default_crl_days = 30
[ any ]
commonName = supplied
emailAddress = optional
organizationName = optional
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ee ]
basicConstraints = CA:false
keyUsage = digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:copy
[ signonly ]
basicConstraints = CA:false
keyUsage = digitalSignature
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
subjectAltName = email:copy
[ serveronly ]
basicConstraints = CA:false
keyUsage = digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = email:copy
[ ec ]
basicConstraints = CA:false
keyUsage = digitalSignature,keyAgreement
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
subjectAltName = email:copy
CNF
}

key() { o genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key"; }

# issue CA NAME SUBJ EXT START END
issue() {
	o req -new -key "$2.key" -subj "$3" -out "$2.csr"
	o ca -batch -config "$1.cnf" -keyfile "$1.key" -cert "$1.crt" \
	    -extensions "$4" -startdate "$5" \
	    -enddate "$6" -notext -in "$2.csr" -out "$2.crt"
}

key root
ca_init root
o req -new -key root.key -subj "/CN=Test Root/O=Postern Test" -out root.csr
o ca -batch -selfsign -config root.cnf -keyfile root.key -extensions v3_ca \
    -startdate 20200101000000Z -enddate 20400101000000Z -notext \
    -in root.csr -out root.crt

for c in inter:Test_Intermediate black-ca:Blacklisted_CA \
    revoked-ca:Revoked_CA; do
	n=${c%%:*}
	cn=$(echo "${c#*:}" | tr _ ' ')
	key $n
	issue root $n "/CN=$cn/O=Postern Test" v3_ca 20200101000000Z \
	    20390101000000Z
	ca_init $n
done
# the -keyfile/-cert of each CA
ica() { c=$1; shift; o ca -batch -config $c.cnf -keyfile $c.key -cert $c.crt "$@"; }
ee() {	# ee CA NAME EMAIL EXT START END
	[ -f "$2.key" ] || key "$2"
	o req -new -key "$2.key" -subj "/CN=$2/emailAddress=$3" -out "$2.csr"
	ica "$1" -extensions "$4" -startdate "$5" -enddate "$6" -notext \
	    -in "$2.csr" -out "$2.crt"
}
ee inter alice alice@example.com ee 20240101000000Z 20300101000000Z
ee inter alice2 alice@example.com ee 20250601000000Z 20300101000000Z
ee inter expired old@example.com ee 20200101000000Z 20240301000000Z
ee inter notyet later@example.com ee 20350101000000Z 20360101000000Z
ee inter revoked revoked@example.com ee 20240101000000Z 20300101000000Z
ee inter badcrl badcrl@example.com ee 20240101000000Z 20300101000000Z
ee inter signonly signonly@example.com signonly 20240101000000Z 20300101000000Z
ee inter serveronly server@example.com serveronly 20240101000000Z 20300101000000Z
ee black-ca eve eve@example.com ee 20240101000000Z 20300101000000Z
ee revoked-ca victim victim@example.com ee 20240101000000Z 20300101000000Z
o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key
ee inter ec ec@example.com ec 20240101000000Z 20300101000000Z
key orphan
o req -x509 -new -key orphan.key -subj "/CN=orphan/emailAddress=orphan@example.com" \
    -days 3650 -out orphan.crt

# CRLs: the good one revokes "revoked"; the bad one "badcrl", then its
# signature is broken (last byte of the DER flipped).
cp inter.db/index.txt inter.db/index.clean
ica inter -revoke revoked.crt -crl_reason keyCompromise
ica inter -gencrl -crl_lastupdate 20260101000000Z \
    -crl_nextupdate 20300101000000Z -out inter.crl
cp inter.db/index.clean inter.db/index.txt
ica inter -revoke badcrl.crt
ica inter -gencrl -crl_lastupdate 20260101000000Z \
    -crl_nextupdate 20300101000000Z -out inter-bad.pem
o crl -in inter-bad.pem -outform DER -out inter-bad.good.der
python3 - inter-bad.good.der inter-bad.crl <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[-1] ^= 0x55
open(sys.argv[2], 'wb').write(bytes(b))
PY
cp inter.db/index.clean inter.db/index.txt
# the root revokes Revoked CA
o ca -batch -config root.cnf -keyfile root.key -cert root.crt \
    -revoke revoked-ca.crt
o ca -batch -config root.cnf -keyfile root.key -cert root.crt -gencrl \
    -crl_lastupdate 20260101000000Z -crl_nextupdate 20300101000000Z \
    -out root.crl

cat inter.crt root.crt > chain.pem
o pkcs12 -export -in alice.crt -inkey alice.key -certfile chain.pem \
    -passout pass:secret -out alice.p12
o pkcs12 -export -legacy -in alice.crt -inkey alice.key -certfile chain.pem \
    -passout pass:secret -out alice-legacy.p12
o pkcs12 -export -in alice2.crt -inkey alice2.key -passout pass:secret \
    -out alice2.p12
o pkcs12 -export -in ec.crt -inkey ec.key -passout pass:secret -out ec.p12
o pkcs12 -export -in signonly.crt -inkey signonly.key -passout pass:secret \
    -out signonly.p12
o crl2pkcs7 -nocrl -certfile chain.pem -outform DER -out chain.p7b
o x509 -in alice.crt -outform DER -out alice.der
echo ok > done
