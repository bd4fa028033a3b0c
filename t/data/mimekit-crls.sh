#!/bin/sh
# mimekit-crls.sh CORPORA DIR: the CRLs MimeKit makes at test time (not
# in the corpus, see mimekit/PROVENANCE.md), made here with the CA keys
# of the corpus and the openssl command line:
#   DIR/inter2.crl  Secondary Intermediate CA revokes revoked@mimekit.net
#                   and revokednochain@mimekit.net
#   DIR/root.crl    Root CA revokes the Revoked Intermediate CA
# Both have lastUpdate 2026-06-01 and nextUpdate 2034-01-01.
set -eu
S=$1/mimekit/smime
D=$2
mkdir -p "$D"
cd "$D"
exec 3>mimekit-crls.log
serial() {
	openssl pkcs12 -legacy -in "$1" -passin pass:no.secret -nokeys \
	    -clcerts 2>&3 | openssl x509 -noout -serial 2>&3 | sed 's/serial=//'
}
crl() {	# crl NAME CAPFX CAKEY REVOKED-PFX...
	n=$1 capfx=$2 cakey=$3
	shift 3
	mkdir -p "$n.db"
	openssl pkcs12 -legacy -in "$capfx" -passin pass:no.secret -nokeys \
	    -clcerts 2>&3 | openssl x509 -out "$n.db/ca.pem" 2>&3
	: > "$n.db/index.txt"
	for r in "$@"; do
		printf 'R\t340101000000Z\t260301000000Z\t%s\tunknown\t/CN=%s\n' \
		    "$(serial "$r")" "$(basename "$(dirname "$r")")" >> "$n.db/index.txt"
	done
	set -- "$n" "$capfx" "$cakey"
	cat > "$1.db/ca.cnf" <<CNF
[ ca ]
default_ca = this
[ this ]
database = $1.db/index.txt
default_md = sha256
CNF
	openssl ca -batch -gencrl -config "$1.db/ca.cnf" -keyfile "$3" \
	    -cert "$1.db/ca.pem" -crl_lastupdate 20260601000000Z \
	    -crl_nextupdate 20340101000000Z -out "$1.crl" 2>&3
}
crl inter2 "$S/intermediate2.pfx" "$S/intermediate2.key" "$S/revoked/smime.pfx" \
    "$S/revokednochain/smime.pfx"
crl root "$S/certificate-authority.pfx" "$S/certificate-authority.key" \
    "$S/revoked-intermediate.pfx"
