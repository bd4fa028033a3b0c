# t/e2e/encrypt-lib.sh: the Postern side of the postern-encrypt tests,
# sourced after t/e2e/lib.sh (and after E2E_DIR exists).
#
# enc_setup: under $E2E_DIR/p: the shipped templates in templates/,
#   postern.conf (reinject to
#   127.0.0.1:$E2E_REINJECT_PORT unless ENC_REINJECT is set; extra lines in
#   ENC_CONF_EXTRA), posternctl init, the test PKI of t/data/mkpki.sh in
#   $E2E_DIR/pki with root and intermediate trusted and alice.crt
#   (alice@example.com) as an S/MIME recipient; an OpenPGP key for
#   pgpuser@example.net made with gpg in its own home $E2E_DIR/gx, whose
#   public key is imported and trusted; the filter wrapper
#   $E2E_DIR/enc.sh that logs postern-encrypt's stderr to $ENC_LOG.
# enc_ctl ARGS: posternctl on that configuration (fails the test).
# enc_filter_argv: the pipe(8) argv for E2E_FILTER_ARGV.
# enc_cleanup: stop the gpg-agents of both homes.
O=${O:-build}
ENC_BIN=$PWD/$O/bin
ENC_CONF=$E2E_DIR/p/postern.conf
ENC_LOG=$E2E_DIR/encrypt.log
ENC_GX=$E2E_DIR/gx

enc_ctl() {
	"$ENC_BIN/posternctl" -c "$ENC_CONF" "$@" >/dev/null 2>"$E2E_DIR/ctl.err" ||
	    { cat "$E2E_DIR/ctl.err" >&2; e2e_fail "posternctl $*"; }
}

enc_cleanup() {
	gpgconf --homedir "$ENC_GX" --kill gpg-agent >/dev/null 2>&1 || true
	gpgconf --homedir "$E2E_DIR/p/state/gnupg" --kill gpg-agent >/dev/null 2>&1 || true
}

enc_setup() {
	local fpr
	e2e_ensure_user postern
	mkdir -p "$E2E_DIR/p"
	{
		echo "state_directory = $E2E_DIR/p/state"
		echo "master_key_file = $E2E_DIR/p/master.key"
		echo "log_destination = stderr"
		echo "reinject = ${ENC_REINJECT:-smtp:[127.0.0.1]:$E2E_REINJECT_PORT}"
		echo "reinject_timeout = 10s"
		echo "template_directory = $E2E_DIR/p/templates"
		[ -n "${ENC_CONF_EXTRA:-}" ] && printf '%s\n' "$ENC_CONF_EXTRA"
	} > "$ENC_CONF"
	mkdir -p "$E2E_DIR/p/templates"
	cp conf/templates/*.eml "$E2E_DIR/p/templates/"
	sh t/data/mkpki.sh "$E2E_DIR/pki" >/dev/null || e2e_fail "mkpki"
	enc_ctl init
	enc_ctl root import "$E2E_DIR/pki/root.crt"
	enc_ctl cert import "$E2E_DIR/pki/inter.crt" "$E2E_DIR/pki/alice.crt"
	# the PGP recipient's own keyring, apart from Postern's
	mkdir -m 700 "$ENC_GX"
	gpg --homedir "$ENC_GX" --batch --pinentry-mode loopback --passphrase '' \
	    --quick-gen-key 'PGP User <pgpuser@example.net>' ed25519 sign never \
	    2>/dev/null || e2e_fail "gpg key generation"
	fpr=$(gpg --homedir "$ENC_GX" --list-keys --with-colons 2>/dev/null |
	    awk -F: '/^fpr/ { print $10; exit }')
	gpg --homedir "$ENC_GX" --batch --pinentry-mode loopback --passphrase '' \
	    --quick-add-key "$fpr" cv25519 encr never 2>/dev/null ||
	    e2e_fail "gpg subkey"
	gpg --homedir "$ENC_GX" --armor --export pgpuser@example.net \
	    > "$E2E_DIR/pgpuser.asc"
	enc_ctl pgp import "$E2E_DIR/pgpuser.asc"
	enc_ctl pgp trust "$fpr"
	ENC_PGP_FPR=$fpr
	chown -R postern:postern "$E2E_DIR/p"
	: > "$ENC_LOG"
	chown postern "$ENC_LOG"
	cat > "$E2E_DIR/enc.sh" <<EOS
#!/bin/sh
exec "$ENC_BIN/postern-encrypt" -c "$ENC_CONF" "\$@" 2>>"$ENC_LOG"
EOS
	chmod 755 "$E2E_DIR/enc.sh"
}

enc_filter_argv() {
	printf '%s' "$E2E_DIR/enc.sh -f \${sender} -- \${recipient}"
}

# enc_file_for RCPT: the captured message whose envelope has exactly RCPT
enc_file_for() {
	local f n
	for f in $(e2e_mail_files); do
		n=$(grep -c '^X-Rcpt-Args: ' "$f")
		[ "$n" -eq 1 ] && grep -q "^X-Rcpt-Args: <$1>" "$f" && { echo "$f"; return 0; }
	done
	return 1
}

# enc_mark / enc_new: the captures that arrived since enc_mark (one a line)
enc_mark() { ENC_BEFORE=$(e2e_mail_files); }
enc_new() { comm -13 <(printf '%s\n' "$ENC_BEFORE") <(e2e_mail_files) | grep -v '^$'; }

# enc_message FILE: the message part of a capture (after smtp-sink's own
# X-* lines and Received field), CRLF made LF
enc_message() {
	tr -d '\r' < "$1" | awk '
	    s == 0 && /^X-/ { next }
	    s == 0 && /^Received:/ { s = 1; next }
	    s == 1 && /^[ \t]/ { next }
	    { s = 2; print }'
}
