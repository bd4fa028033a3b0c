/*
 * S/MIME round trips and negative cases on a throwaway PKI; every output
 * is also checked with the openssl command line (and gpgsm where Debian
 * 12's gpgsm supports the algorithm: CBC + RSA PKCS#1 v1.5).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>

#include "config.h"
#include "err.h"
#include "infohdr.h"
#include "mime.h"
#include "secret.h"
#include "settings.h"
#include "store.h"
#include "x509.h"
#include "smime.h"
#include "testutil.h"
#include "tu_smime.h"

static const char MSG[] =
    "From: Alice <alice@example.org>\r\n"
    "To: Bob <bob@example.org>\r\n"
    "Subject: quarterly numbers\r\n"
    "X-Postern-Info-SMIME-Signed: True\r\n"
    "X-CipherMail-Info-Signer-Verified-0-0: True\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "Content-Transfer-Encoding: 7bit\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "this is the secret text.\r\n"
    "-- \r\n"
    "Alice\r\n";

#define SECRET "this is the secret text."

static const char *const cipher_names[] = {
	"AES-128-CBC", "AES-192-CBC", "AES-256-CBC", "AES-128-GCM",
	"AES-192-GCM", "AES-256-GCM", "3DES", "CAMELLIA-128-CBC",
	"CAMELLIA-256-CBC", "RC2", "CAST5", "SEED",
};
static const char *const cipher_hdr[] = {
	"AES128, Key size: 128", "AES192, Key size: 192",
	"AES256, Key size: 256", "AES128-GCM, Key size: 128",
	"AES192-GCM, Key size: 192", "AES256-GCM, Key size: 256",
	"3DES, Key size: 192", "CAMELLIA128, Key size: 128",
	"CAMELLIA256, Key size: 256", "RC2, Key size: 128",
	"CAST5, Key size: 128", "SEED, Key size: 128",
};
#define NCIPHERS 12
#define FIRST_LEGACY 9

/* scheme 5 is "EC recipient" */
static const char *const scheme_names[] = {
	"rsaes-pkcs1-v1_5", "rsaes-oaep-sha1", "rsaes-oaep-sha256",
	"rsaes-oaep-sha384", "rsaes-oaep-sha512", "ecdh",
};
static const char *const scheme_oid[] = {
	"/1.2.840.113549.1.1.1", "/1.2.840.113549.1.1.7",
	"/1.2.840.113549.1.1.7", "/1.2.840.113549.1.1.7",
	"/1.2.840.113549.1.1.7", "/1.3.132.1.11.1",
};
#define NSCHEMES 6

static void
keys_for(struct smime_keys *k, struct smime_simple_keys *sk,
    STACK_OF(X509) **certs, EVP_PKEY **keys, int trust)
{
	struct tu_pki *p = tu_pki();

	memset(sk, 0, sizeof(*sk));
	*certs = sk_X509_new_null();
	sk_X509_push(*certs, p->bob);
	sk_X509_push(*certs, p->carol);
	keys[0] = p->bob_key;
	keys[1] = p->carol_key;
	sk->store = trust ? p->store : NULL;
	sk->certs = *certs;
	sk->keys = keys;
	sk->nkeys = 2;
	smime_simple_keys_init(k, sk);
}

static void
opts_for(struct smime_opts *o, int cipher, int scheme)
{
	const char *error;

	smime_opts_init(o);
	ck_assert_msg(smime_opts_set(o, "smime.encryption-algorithm",
	    cipher_names[cipher], &error) == 0, "%s", error);
	if (scheme < 5)
		ck_assert_msg(smime_opts_set(o, "smime.encryption-scheme",
		    scheme_names[scheme], &error) == 0, "%s", error);
	if (cipher >= FIRST_LEGACY) {
		o->legacy = 1;
		ck_assert_msg(smime_legacy_enable(&error) == 0, "%s", error);
	}
}

/* Every cipher x scheme: ours encrypts, openssl cms and we decrypt. */
START_TEST(encrypt_roundtrip)
{
	struct tu_pki *p = tu_pki();
	int cipher = _i / NSCHEMES, scheme = _i % NSCHEMES;
	const char *rname = scheme == 5 ? "carol" : "bob";
	struct smime_opts o;
	struct smime_keys k;
	struct smime_simple_keys sk;
	struct smime_result r;
	STACK_OF(X509) *rcpt, *kc;
	EVP_PKEY *keys[2];
	struct buf out;
	const char *error, *v;
	char *dir, *f, *plain, want[300];
	size_t plen;

	ck_assert_ptr_nonnull(p);
	opts_for(&o, cipher, scheme);
	rcpt = sk_X509_new_null();
	sk_X509_push(rcpt, scheme == 5 ? p->carol : p->bob);
	buf_init(&out, 0);
	ck_assert_msg(smime_encrypt(MSG, strlen(MSG), rcpt, &o, &out,
	    &error) == 0, "%s/%s: %s", cipher_names[cipher],
	    scheme_names[scheme], error);
	ck_assert_ptr_null(strstr(out.data, SECRET));
	ck_assert_ptr_nonnull(strstr(out.data, "Subject: quarterly numbers"));

	/* openssl cms decrypts it */
	dir = tu_tmpdir();
	f = tu_put(dir, "m.eml", out.data, out.len);
	ck_assert_int_eq(tu_sh("openssl cms -decrypt %s -in %s/m.eml "
	    "-recip %s/%s.crt -inkey %s/%s.key -out %s/plain 2>%s/err",
	    cipher >= FIRST_LEGACY ? "-provider legacy -provider default" : "",
	    dir, p->dir, rname, p->dir, rname, dir, dir), 0);
	free(f);
	f = tu_path(dir, "plain");
	plain = tu_read_file(f, &plen);
	ck_assert_ptr_nonnull(plain);
	ck_assert_msg(strstr(plain, SECRET) != NULL &&
	    strstr(plain, "Content-Type: text/plain") != NULL,
	    "openssl cms plaintext: got %s", plain);
	free(plain);
	free(f);

	/* and so do we, with the info headers */
	keys_for(&k, &sk, &kc, keys, 1);
	ck_assert_msg(smime_inbound(out.data, out.len, &k, &o, NULL, 0, &r,
	    &error) == 0, "%s", error);
	ck_assert_msg(r.flags & SMIME_R_DECRYPTED, "flags %#x", r.flags);
	ck_assert(r.changed);
	ck_assert_ptr_nonnull(strstr(r.message, SECRET));
	ck_assert_ptr_nonnull(strstr(r.message, "Subject: quarterly numbers"));
	v = infohdr_get(r.info, "Encryption-Algorithm-0");
	ck_assert_msg(v != NULL && strcmp(v, cipher_hdr[cipher]) == 0,
	    "got %s, want %s", v, cipher_hdr[cipher]);
	v = infohdr_get(r.info, "Encryption-Recipient-0-0");
	snprintf(want, sizeof(want), "CN=Postern Test CA, O=Postern Test/%s//",
	    scheme == 5 ? "1002" : "1001");
	ck_assert_msg(v != NULL && strncmp(v, want, strlen(want)) == 0 &&
	    strstr(v, scheme_oid[scheme]) != NULL, "got %s, want %s...%s", v,
	    want, scheme_oid[scheme]);
	ck_assert_str_eq(infohdr_get(r.info, "SMIME-Encrypted"), "True");
	smime_result_release(&r);
	sk_X509_free(kc);
	sk_X509_free(rcpt);
	buf_release(&out);
	tu_tmpdir_free(&dir);
}
END_TEST

/*
 * gpgsm (GnuPG 2.2) reads CBC content encryption with RSA PKCS#1 v1.5
 * key transport (not OAEP, not GCM, not ECDH): every cipher of ours it
 * knows (AES-128/192/256, 3DES, Camellia, SEED; not RC2 nor CAST5).
 * The whole message we produce is handed to it (its base64 body).
 */
static const int gpgsm_ciphers[] = { 0, 1, 2, 6, 7, 8, 11 };

START_TEST(encrypt_gpgsm)
{
	int cipher = gpgsm_ciphers[_i];
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	STACK_OF(X509) *rcpt;
	struct buf out;
	const char *error;
	char *dir, *plain, *f;
	size_t plen;
	int rc;

	ck_assert_ptr_nonnull(p);
	if (!tu_have_gpgsm()) {
		fprintf(stderr, "smime: no gpgsm, encrypt_gpgsm skipped\n");
		return;
	}
	opts_for(&o, cipher, 0);
	rcpt = sk_X509_new_null();
	sk_X509_push(rcpt, p->bob);
	buf_init(&out, 0);
	ck_assert_msg(smime_encrypt(MSG, strlen(MSG), rcpt, &o, &out,
	    &error) == 0, "%s", error);
	dir = tu_tmpdir();
	f = tu_put(dir, "m.eml", out.data, out.len);
	free(f);
	/*
	 * Body only: gpgsm reads the base64 CMS.  A fresh gpg-agent under
	 * load (valgrind next door) sometimes leaves gpgsm unable to find
	 * the certificate or the key it just imported ("Unknown system
	 * error", "failed to find the certificate", a failed key lookup
	 * after "encrypted to rsa2048 key"): the whole import and
	 * decryption is tried up to three times, each in a new home; a real
	 * failure (a cipher gpgsm cannot read) fails all three.
	 */
	rc = tu_sh("cd %s && "
	    "openssl pkcs12 -export -inkey %s/bob.key -in %s/bob.crt "
	    "-certfile %s/ca.crt -out bob.p12 -passout pass:test "
	    "-keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 && "
	    "sed '1,/^\\r*$/d' m.eml | tr -d '\\r' | openssl base64 -d "
	    "> body.der || exit 1; "
	    "for i in 1 2 3; do rm -rf g; mkdir -m 700 g; "
	    "export GNUPGHOME=%s/g; "
	    "echo test | gpgsm --batch --pinentry-mode loopback "
	    "--passphrase-fd 0 --import bob.p12 >/dev/null 2>&1; "
	    "echo test | gpgsm --batch --pinentry-mode loopback "
	    "--passphrase-fd 0 --disable-crl-checks --decrypt "
	    "body.der > plain 2>err; r=$?; gpgconf --kill gpg-agent; "
	    "[ $r -eq 0 ] && break; "
	    "sleep 1; done; exit $r",
	    dir, p->dir, p->dir, p->dir, dir);
	if (rc != 0) {
		char *t = tu_path(dir, "err"), *txt;
		size_t n;

		txt = tu_read_file(t, &n);
		ck_abort_msg("gpgsm decrypt %s: exit %d: %s",
		    cipher_names[cipher], rc, txt != NULL ? txt : "");
	}
	f = tu_path(dir, "plain");
	plain = tu_read_file(f, &plen);
	ck_assert_ptr_nonnull(plain);
	ck_assert_msg(strstr(plain, SECRET) != NULL, "gpgsm %s got %s",
	    cipher_names[cipher], plain);
	free(plain);
	free(f);
	sk_X509_free(rcpt);
	buf_release(&out);
	tu_tmpdir_free(&dir);
}
END_TEST

static const char *const digest_names[] = { "sha-256", "sha-384",
	"sha-512", "sha-1" };

/* digest x detached/opaque x PKCS#1/PSS: openssl cms -verify and we. */
START_TEST(sign_roundtrip)
{
	struct tu_pki *p = tu_pki();
	int digest = _i / 4, opaque = (_i / 2) % 2, pss = _i % 2;
	struct smime_opts o;
	struct smime_keys k;
	struct smime_simple_keys sk;
	struct smime_result r;
	STACK_OF(X509) *kc;
	EVP_PKEY *keys[2];
	struct buf out;
	const char *error, *v;
	char *dir, *f, *plain;
	size_t plen;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	ck_assert_int_eq(smime_opts_set(&o, "smime.signing-digest",
	    digest_names[digest], &error), 0);
	ck_assert_int_eq(smime_opts_set(&o, "smime.signing-mode",
	    opaque ? "opaque" : "detached", &error), 0);
	ck_assert_int_eq(smime_opts_set(&o, "smime.signing-pss",
	    pss ? "true" : "false", &error), 0);
	buf_init(&out, 0);
	ck_assert_msg(smime_sign(MSG, strlen(MSG), p->alice, p->alice_key,
	    NULL, &o, &out, &error) == 0, "%s", error);
	if (!opaque) {
		ck_assert_ptr_nonnull(strstr(out.data, SECRET));
		ck_assert_ptr_nonnull(strstr(out.data, digest_names[digest]));
	}
	dir = tu_tmpdir();
	f = tu_put(dir, "m.eml", out.data, out.len);
	free(f);
	ck_assert_msg(tu_sh("openssl cms -verify -in %s/m.eml -CAfile "
	    "%s/ca.crt -purpose smimesign -out %s/plain 2>%s/err", dir,
	    p->dir, dir, dir) == 0, "openssl cms -verify failed (%s %s %s)",
	    digest_names[digest], opaque ? "opaque" : "detached",
	    pss ? "pss" : "pkcs1");
	f = tu_path(dir, "plain");
	plain = tu_read_file(f, &plen);
	ck_assert_ptr_nonnull(plain);
	ck_assert_ptr_nonnull(strstr(plain, SECRET));
	free(plain);
	free(f);

	keys_for(&k, &sk, &kc, keys, 1);
	ck_assert_msg(smime_inbound(out.data, out.len, &k, &o, NULL, 0, &r,
	    &error) == 0, "%s", error);
	ck_assert_msg((r.flags & (SMIME_R_SIGNED | SMIME_R_SIGNED_VALID)) ==
	    (SMIME_R_SIGNED | SMIME_R_SIGNED_VALID), "flags %#x", r.flags);
	ck_assert_str_eq(infohdr_get(r.info, "Signer-Verified-0-0"), "True");
	ck_assert_str_eq(infohdr_get(r.info, "Signer-Trusted-0-0"), "True");
	ck_assert_str_eq(infohdr_get(r.info, "Signer-Email-0-0"),
	    "alice@example.org");
	v = infohdr_get(r.info, "Signer-ID-0-0");
	ck_assert_msg(v != NULL && strcmp(v,
	    "CN=Postern Test CA, O=Postern Test/1003/") == 0, "got %s", v);
	ck_assert_ptr_null(infohdr_get(r.info, "Signer-Mismatch"));
	ck_assert_int_eq(sk_X509_num(r.certs), 1);
	ck_assert_int_eq(r.changed, 0);
	smime_result_release(&r);
	sk_X509_free(kc);
	buf_release(&out);
	tu_tmpdir_free(&dir);
}
END_TEST

/*
 * gpgsm verifies what smime_sign() writes, for every digest, detached
 * (multipart/signed: the first part's exact bytes against the decoded
 * signature part) and opaque (the base64 body), RSA PKCS#1 v1.5.
 * RSASSA-PSS is left to openssl cms (sign_roundtrip): GnuPG 2.2's gpgsm
 * answers BADSIG to any PSS signature, even one openssl made.
 */
START_TEST(sign_gpgsm)
{
	int digest = _i / 2, opaque = _i % 2;
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	struct mime_message *m;
	struct buf out, part, sig;
	const char *error;
	char *dir;
	int rc;

	ck_assert_ptr_nonnull(p);
	if (!tu_have_gpgsm()) {
		fprintf(stderr, "smime: no gpgsm, sign_gpgsm skipped\n");
		return;
	}
	smime_opts_init(&o);
	ck_assert_int_eq(smime_opts_set(&o, "smime.signing-digest",
	    digest_names[digest], &error), 0);
	ck_assert_int_eq(smime_opts_set(&o, "smime.signing-mode",
	    opaque ? "opaque" : "detached", &error), 0);
	buf_init(&out, 0);
	buf_init(&part, 0);
	buf_init(&sig, 0);
	ck_assert_msg(smime_sign(MSG, strlen(MSG), p->alice, p->alice_key,
	    NULL, &o, &out, &error) == 0, "%s", error);
	m = mime_parse(out.data, out.len, NULL, &error);
	ck_assert_msg(m != NULL, "%s", error);
	if (opaque) {
		ck_assert_int_eq(mime_entity_decode(m->root, &sig, NULL,
		    &error), 0);
	} else {
		ck_assert_uint_eq(m->root->nchildren, 2);
		ck_assert_int_eq(mime_emit_buf(m, m->root->children,
		    MIME_EMIT_CANONICAL, &part, &error), 0);
		ck_assert_int_eq(mime_entity_decode(m->root->children->next,
		    &sig, NULL, &error), 0);
	}
	dir = tu_tmpdir();
	free(tu_put(dir, "sig.der", sig.data, sig.len));
	free(tu_put(dir, "data", part.data != NULL ? part.data : "",
	    part.len));
	rc = tu_sh("cd %s && mkdir -m 700 g && export GNUPGHOME=%s/g && "
	    "gpgsm --batch --import %s/ca.crt >/dev/null 2>&1 && "
	    "fpr=$(gpgsm --with-colons --fingerprint 'Postern Test CA' | "
	    "awk -F: '/^fpr/ {print $10; exit}') && "
	    "echo \"$fpr S relax\" > g/trustlist.txt && "
	    "gpgsm --batch --disable-crl-checks --status-fd 1 --verify "
	    "sig.der %s >out 2>&1; r=$?; gpgconf --kill gpg-agent; "
	    "[ $r -eq 0 ] && grep -q '^\\[GNUPG:\\] GOODSIG' out && "
	    "grep -q '^\\[GNUPG:\\] VALIDSIG' out", dir, dir, p->dir,
	    opaque ? "" : "data");
	if (rc != 0) {
		char *t = tu_path(dir, "out"), *txt;
		size_t n;

		txt = tu_read_file(t, &n);
		ck_abort_msg("gpgsm --verify %s %s: exit %d: %s",
		    digest_names[digest], opaque ? "opaque" : "detached", rc,
		    txt != NULL ? txt : "");
	}
	mime_message_free(&m);
	buf_release(&sig);
	buf_release(&part);
	buf_release(&out);
	tu_tmpdir_free(&dir);
}
END_TEST

/*
 * "chain included": the chain handed to smime_sign() travels in the
 * signature (openssl cms finds both certificates in it), next to the
 * signer's, and the verifier gets them all (r.certs).
 */
START_TEST(sign_with_chain)
{
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	struct smime_keys k;
	struct smime_simple_keys sk;
	struct smime_result r;
	STACK_OF(X509) *kc, *chain;
	EVP_PKEY *keys[2];
	struct buf out;
	const char *error;
	char *dir;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	chain = sk_X509_new_null();
	sk_X509_push(chain, p->ca);
	buf_init(&out, 0);
	ck_assert_msg(smime_sign(MSG, strlen(MSG), p->alice, p->alice_key,
	    chain, &o, &out, &error) == 0, "%s", error);
	dir = tu_tmpdir();
	free(tu_put(dir, "m.eml", out.data, out.len));
	ck_assert_int_eq(tu_sh("cd %s && openssl cms -verify -in m.eml "
	    "-CAfile %s/ca.crt -purpose smimesign -certsout certs.pem "
	    "-out /dev/null 2>err && "
	    "[ \"$(grep -c 'BEGIN CERTIFICATE' certs.pem)\" = 2 ]", dir,
	    p->dir), 0);
	keys_for(&k, &sk, &kc, keys, 1);
	ck_assert_int_eq(smime_inbound(out.data, out.len, &k, &o, NULL, 0,
	    &r, &error), 0);
	ck_assert(r.flags & SMIME_R_SIGNED_VALID);
	ck_assert_int_eq(sk_X509_num(r.certs), 2);
	smime_result_release(&r);
	sk_X509_free(kc);
	sk_X509_free(chain);
	buf_release(&out);
	tu_tmpdir_free(&dir);
}
END_TEST

/*
 * The originator the signer is checked against (seed 003 section 4.1):
 * From; with no From field at all, Sender; with neither, the address
 * the caller passes (the milter: MAIL FROM); several or none: mismatch.
 */
static const struct {
	const char *hdrs;	/* replaces "From: ...\r\n" */
	const char *from;	/* smime_inbound's from argument */
	int mismatch;
} originator_cases[] = {
	{ "From: Alice <alice@example.org>\r\n", NULL, 0 },
	{ "Sender: alice@example.org\r\n", NULL, 0 },
	{ "Sender: mallory@example.org\r\n", NULL, 1 },
	{ "From: mallory@example.org\r\nSender: alice@example.org\r\n", NULL, 1 },
	{ "From: \r\nSender: alice@example.org\r\n", NULL, 1 },
	{ "Sender: a@example.org\r\nSender: alice@example.org\r\n", NULL, 1 },
	{ "", NULL, 1 },
	{ "", "alice@example.org", 0 },
	{ "", "mallory@example.org", 1 },
};

START_TEST(signer_originator)
{
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	struct smime_keys k;
	struct smime_simple_keys sk;
	struct smime_result r;
	STACK_OF(X509) *kc;
	EVP_PKEY *keys[2];
	struct buf out, v;
	const char *error, *from_line = "From: Alice <alice@example.org>\r\n";
	char *at;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	buf_init(&out, 0);
	ck_assert_int_eq(smime_sign(MSG, strlen(MSG), p->alice, p->alice_key,
	    NULL, &o, &out, &error), 0);
	at = strstr(out.data, from_line);
	ck_assert_ptr_nonnull(at);
	buf_init(&v, 0);
	buf_append(&v, out.data, (size_t)(at - out.data));
	buf_puts(&v, originator_cases[_i].hdrs);
	buf_puts(&v, at + strlen(from_line));
	keys_for(&k, &sk, &kc, keys, 1);
	ck_assert_int_eq(smime_inbound(v.data, v.len, &k, &o,
	    originator_cases[_i].from, 0, &r, &error), 0);
	ck_assert(r.flags & SMIME_R_SIGNED_VALID);
	ck_assert_msg(!!(r.flags & SMIME_R_SIGNER_MISMATCH) ==
	    originator_cases[_i].mismatch, "'%s' from %s: mismatch got %d, "
	    "want %d", originator_cases[_i].hdrs, originator_cases[_i].from,
	    !!(r.flags & SMIME_R_SIGNER_MISMATCH),
	    originator_cases[_i].mismatch);
	smime_result_release(&r);
	sk_X509_free(kc);
	buf_release(&v);
	buf_release(&out);
}
END_TEST

/* Sign, then encrypt, in one pass: two layers, both reported. */
START_TEST(sign_encrypt)
{
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	struct smime_keys k;
	struct smime_simple_keys sk;
	struct smime_result r;
	STACK_OF(X509) *rcpt, *kc;
	EVP_PKEY *keys[2];
	struct buf out;
	const char *error;
	char *dir;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	rcpt = sk_X509_new_null();
	sk_X509_push(rcpt, p->bob);
	sk_X509_push(rcpt, p->carol);
	buf_init(&out, 0);
	ck_assert_msg(smime_sign_encrypt(MSG, strlen(MSG), p->alice,
	    p->alice_key, NULL, rcpt, &o, &out, &error) == 0, "%s", error);
	dir = tu_tmpdir();
	free(tu_put(dir, "m.eml", out.data, out.len));
	ck_assert_int_eq(tu_sh("cd %s && openssl cms -decrypt -in m.eml "
	    "-recip %s/carol.crt -inkey %s/carol.key 2>err | "
	    "openssl cms -verify -CAfile %s/ca.crt -purpose smimesign "
	    "-out plain 2>err2 && grep -q '%s' plain", dir, p->dir, p->dir,
	    p->dir, SECRET), 0);

	keys_for(&k, &sk, &kc, keys, 1);
	ck_assert_msg(smime_inbound(out.data, out.len, &k, &o, NULL, 0, &r,
	    &error) == 0, "%s", error);
	ck_assert_uint_eq(r.flags & (SMIME_R_DECRYPTED | SMIME_R_SIGNED |
	    SMIME_R_SIGNED_VALID), SMIME_R_DECRYPTED | SMIME_R_SIGNED |
	    SMIME_R_SIGNED_VALID);
	ck_assert_int_eq(r.levels, 2);
	ck_assert_str_eq(infohdr_get(r.info, "Encryption-Algorithm-0"),
	    "AES128, Key size: 128");
	ck_assert_ptr_nonnull(infohdr_get(r.info, "Encryption-Recipient-1-0"));
	ck_assert_str_eq(infohdr_get(r.info, "Signer-Verified-0-1"), "True");
	ck_assert_str_eq(infohdr_get(r.info, "SMIME-Signed"), "True");
	/* the delivered message is the signed entity, still verifiable */
	ck_assert(r.changed);
	ck_assert_ptr_nonnull(strstr(r.message, "multipart/signed"));
	free(tu_put(dir, "dec.eml", r.message, r.message_len));
	ck_assert_int_eq(tu_sh("cd %s && openssl cms -verify -in dec.eml "
	    "-CAfile %s/ca.crt -purpose smimesign -out /dev/null 2>err3", dir,
	    p->dir), 0);
	smime_result_release(&r);
	sk_X509_free(kc);
	sk_X509_free(rcpt);
	buf_release(&out);
	tu_tmpdir_free(&dir);
}
END_TEST

/* Negative cases on signatures: tampered, untrusted, From mismatch. */
START_TEST(sign_negative)
{
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	struct smime_keys k;
	struct smime_simple_keys sk;
	struct smime_result r;
	STACK_OF(X509) *kc;
	EVP_PKEY *keys[2];
	struct buf out;
	const char *error;
	char *hit;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	buf_init(&out, 0);
	ck_assert_int_eq(smime_sign(MSG, strlen(MSG), p->alice, p->alice_key,
	    NULL, &o, &out, &error), 0);

	/* untrusted: no trust anchors */
	keys_for(&k, &sk, &kc, keys, 0);
	ck_assert_int_eq(smime_inbound(out.data, out.len, &k, &o, NULL, 0, &r,
	    &error), 0);
	ck_assert_uint_eq(r.flags & (SMIME_R_SIGNED | SMIME_R_SIGNED_VALID),
	    SMIME_R_SIGNED);
	ck_assert_str_eq(infohdr_get(r.info, "Signer-Verified-0-0"), "True");
	ck_assert_str_eq(infohdr_get(r.info, "Signer-Trusted-0-0"), "False");
	ck_assert_ptr_nonnull(infohdr_get(r.info, "Signer-Trusted-Info-0-0"));
	smime_result_release(&r);
	sk_X509_free(kc);

	/* From is someone else: reported, never hidden */
	keys_for(&k, &sk, &kc, keys, 1);
	ck_assert_int_eq(smime_inbound(out.data, out.len, &k, &o,
	    "mallory@example.net", 0, &r, &error), 0);
	ck_assert(r.flags & SMIME_R_SIGNER_MISMATCH);
	ck_assert_str_eq(infohdr_get(r.info, "Signer-Mismatch"), "True");
	smime_result_release(&r);

	/* one byte of the signed text changed */
	hit = strstr(out.data, "secret");
	ck_assert_ptr_nonnull(hit);
	hit[0] = 'S';
	ck_assert_int_eq(smime_inbound(out.data, out.len, &k, &o, NULL, 0, &r,
	    &error), 0);
	ck_assert_uint_eq(r.flags & (SMIME_R_SIGNED | SMIME_R_SIGNED_VALID),
	    SMIME_R_SIGNED);
	ck_assert_str_eq(infohdr_get(r.info, "Signer-Verified-0-0"), "False");
	ck_assert_ptr_nonnull(strstr(infohdr_get(r.info,
	    "Signer-Verification-Info-0-0"), "digest"));
	smime_result_release(&r);
	sk_X509_free(kc);
	buf_release(&out);
}
END_TEST

/* No key, tampered GCM, mixed content, 8-bit in a 7bit part. */
START_TEST(decrypt_negative)
{
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	struct smime_keys k;
	struct smime_simple_keys sk;
	struct smime_result r;
	STACK_OF(X509) *rcpt, *kc;
	EVP_PKEY *keys[2];
	struct buf out, der, mixed;
	const char *error;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	rcpt = sk_X509_new_null();
	sk_X509_push(rcpt, p->alice);	/* we hold no key for Alice */
	buf_init(&out, 0);
	ck_assert_int_eq(smime_encrypt(MSG, strlen(MSG), rcpt, &o, &out,
	    &error), 0);
	keys_for(&k, &sk, &kc, keys, 1);
	ck_assert_int_eq(smime_inbound(out.data, out.len, &k, &o, NULL, 0, &r,
	    &error), 0);
	ck_assert_uint_eq(r.flags, SMIME_R_ENCRYPTED | SMIME_R_KEY_NOT_FOUND);
	ck_assert_int_eq(r.changed, 0);
	ck_assert_str_eq(infohdr_get(r.info,
	    "SMIME-Decryption-Key-Not-Found"), "True");
	smime_result_release(&r);

	/* GCM with one flipped byte in the tag: no plaintext */
	sk_X509_set(rcpt, 0, p->bob);
	ck_assert_int_eq(smime_opts_set(&o, "smime.encryption-algorithm",
	    "AES-256-GCM", &error), 0);
	buf_init(&der, 0);
	ck_assert_int_eq(smime_cms_encrypt((const unsigned char *)MSG,
	    strlen(MSG), rcpt, &o, &der, &error), 0);
	{
		struct smime_decrypt_info di;
		struct buf plain;

		buf_init(&plain, 0);
		ck_assert_int_eq(smime_cms_decrypt((unsigned char *)der.data,
		    der.len, &k, &di, &plain, &error), 1);
		smime_decrypt_info_release(&di);
		buf_reset(&plain);
		der.data[der.len - 3] ^= 0x01;	/* in the mac */
		ck_assert_int_eq(smime_cms_decrypt((unsigned char *)der.data,
		    der.len, &k, &di, &plain, &error), 0);
		ck_assert_uint_eq(plain.len, 0);
		ck_assert_int_eq(di.key_found, 1);
		smime_decrypt_info_release(&di);
		buf_release(&plain);
	}
	buf_release(&der);

	/* ciphertext as the second part of multipart/mixed: not touched */
	buf_reset(&out);
	ck_assert_int_eq(smime_encrypt(MSG, strlen(MSG), rcpt, &o, &out,
	    &error), 0);
	buf_init(&mixed, 0);
	buf_puts(&mixed, "From: Mallory <alice@example.org>\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
	    "boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/html\r\n\r\n"
	    "<img src=\"http://evil/?\r\n--b1\r\n");
	buf_append(&mixed, strstr(out.data, "Content-Type: application"),
	    out.len - (size_t)(strstr(out.data, "Content-Type: application") -
	    out.data));
	buf_puts(&mixed, "\r\n--b1--\r\n");
	ck_assert_int_eq(smime_inbound(mixed.data, mixed.len, &k, &o, NULL, 0,
	    &r, &error), 0);
	ck_assert_uint_eq(r.flags, SMIME_R_MIXED);
	ck_assert_int_eq(r.changed, 0);
	ck_assert_str_eq(infohdr_get(r.info, "SMIME-Mixed-Content"), "True");
	smime_result_release(&r);
	buf_release(&mixed);

	/* 8-bit bytes in a part declared 7bit */
	{
		static const char bad7[] = "From: a@example.org\r\n"
		    "Content-Type: text/plain\r\n"
		    "Content-Transfer-Encoding: 7bit\r\n\r\nGr\xc3\xbc\xc3\x9f"
		    "e\r\n";
		buf_reset(&out);
		ck_assert_int_eq(smime_opts_set(&o,
		    "smime.encryption-algorithm", "AES-128-CBC", &error), 0);
		ck_assert_int_eq(smime_encrypt(bad7, strlen(bad7), rcpt, &o,
		    &out, &error), 0);
		ck_assert_int_eq(smime_inbound(out.data, out.len, &k, &o,
		    NULL, 0, &r, &error), 0);
		ck_assert_uint_eq(r.flags & (SMIME_R_ILLEGAL_7BIT |
		    SMIME_R_DECRYPTED), SMIME_R_ILLEGAL_7BIT |
		    SMIME_R_DECRYPTED);
		ck_assert_str_eq(infohdr_get(r.info,
		    "SMIME-Illegal-Chars-Found"), "True");
		smime_result_release(&r);
		ck_assert_int_eq(smime_opts_set(&o,
		    "smime.abort-on-illegal-7bit", "true", &error), 0);
		ck_assert_int_eq(smime_inbound(out.data, out.len, &k, &o,
		    NULL, 0, &r, &error), 0);
		ck_assert_uint_eq(r.flags & (SMIME_R_ILLEGAL_7BIT |
		    SMIME_R_DECRYPTED), SMIME_R_ILLEGAL_7BIT);
		ck_assert_int_eq(r.changed, 0);
		smime_result_release(&r);
	}
	sk_X509_free(kc);
	sk_X509_free(rcpt);
	buf_release(&out);
}
END_TEST

/* A SignedData with zero SignerInfos is never "signed valid". */
START_TEST(zero_signers)
{
	/* SignedData { 1, {}, { id-data, "hello" }, {} } by hand */
	static const unsigned char der[] = {
		0x30, 0x2c, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
		0x01, 0x07, 0x02, 0xa0, 0x1f, 0x30, 0x1d, 0x02, 0x01, 0x01,
		0x31, 0x00, 0x30, 0x14, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
		0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x07, 0x04, 0x05, 'h',
		'e', 'l', 'l', 'o', 0x31, 0x00,
	};
	struct smime_verify_info vi;
	struct smime_result r;
	struct buf content, msg;
	const char *error;

	buf_init(&content, 0);
	ck_assert_int_eq(smime_cms_type(der, sizeof(der)), SMIME_CMS_SIGNED);
	ck_assert_msg(smime_cms_verify(der, sizeof(der), NULL, 0, NULL, 0,
	    NULL, &vi, &content, &error) == 1, "%s", error);
	ck_assert_uint_eq(vi.nsigners, 0);
	ck_assert_str_eq(content.data, "hello");
	smime_verify_info_release(&vi);
	buf_release(&content);

	/* as a message: signed layer, but never valid */
	buf_init(&msg, 0);
	buf_puts(&msg, "From: a@example.org\r\nContent-Type: application/"
	    "pkcs7-mime; smime-type=signed-data\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    "MCwGCSqGSIb3DQEHAqAfMB0CAQExADAUBgkqhkiG9w0BBwGgBwQFaGVsbG8xAA==\r\n");
	ck_assert_int_eq(smime_inbound(msg.data, msg.len, NULL, NULL, NULL, 0,
	    &r, &error), 0);
	ck_assert_uint_eq(r.flags & SMIME_R_SIGNED_VALID, 0);
	ck_assert_str_eq(infohdr_get(r.info, "SMIME-Signed"), "False");
	smime_result_release(&r);
	buf_release(&msg);
}
END_TEST

/* smime.protect-headers: the copies travel inside; on the way in the
 * inner ones win over the (possibly changed) outer ones. */
START_TEST(protect_headers)
{
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	struct smime_keys k;
	struct smime_simple_keys sk;
	struct smime_result r;
	STACK_OF(X509) *rcpt, *kc;
	EVP_PKEY *keys[2];
	struct buf out, plain, tampered;
	const char *error;
	char *dir, *hit;
	size_t plen;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	ck_assert_int_eq(smime_opts_set(&o, "smime.protect-headers", "true",
	    &error), 0);
	rcpt = sk_X509_new_null();
	sk_X509_push(rcpt, p->bob);
	buf_init(&out, 0);
	ck_assert_int_eq(smime_encrypt(MSG, strlen(MSG), rcpt, &o, &out,
	    &error), 0);
	dir = tu_tmpdir();
	free(tu_put(dir, "m.eml", out.data, out.len));
	ck_assert_int_eq(tu_sh("openssl cms -decrypt -in %s/m.eml -recip "
	    "%s/bob.crt -inkey %s/bob.key -out %s/plain 2>/dev/null", dir,
	    p->dir, p->dir, dir), 0);
	hit = tu_path(dir, "plain");
	buf_init(&plain, 0);
	{
		char *t = tu_read_file(hit, &plen);

		ck_assert_ptr_nonnull(t);
		buf_append(&plain, t, plen);
		free(t);
	}
	free(hit);
	ck_assert_ptr_nonnull(strstr(plain.data, "Subject: quarterly numbers\r\n"));
	ck_assert_ptr_nonnull(strstr(plain.data, "From: Alice <alice@example.org>\r\n"));
	ck_assert_ptr_nonnull(strstr(plain.data, "To: Bob <bob@example.org>\r\n"));

	/* an attacker rewrites the outer Subject: the inner one is kept */
	buf_init(&tampered, 0);
	hit = strstr(out.data, "Subject: quarterly numbers");
	ck_assert_ptr_nonnull(hit);
	buf_append(&tampered, out.data, (size_t)(hit - out.data));
	buf_puts(&tampered, "Subject: URGENT wire money");
	buf_puts(&tampered, hit + strlen("Subject: quarterly numbers"));
	keys_for(&k, &sk, &kc, keys, 1);
	ck_assert_int_eq(smime_inbound(tampered.data, tampered.len, &k, &o,
	    NULL, 0, &r, &error), 0);
	ck_assert(r.changed);
	ck_assert_ptr_null(strstr(r.message, "URGENT"));
	ck_assert_ptr_nonnull(strstr(r.message, "Subject: quarterly numbers"));
	smime_result_release(&r);
	sk_X509_free(kc);
	sk_X509_free(rcpt);
	buf_release(&out);
	buf_release(&plain);
	buf_release(&tampered);
	tu_tmpdir_free(&dir);
}
END_TEST

/* A CBC ciphertext with one modified block (Efail gadget material):
 * the garbled block shows up as 8-bit bytes in a 7bit part, and with
 * abort-on-illegal-7bit the ciphertext is delivered, not the result. */
START_TEST(cbc_tamper)
{
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	struct smime_keys k;
	struct smime_simple_keys sk;
	struct smime_result r;
	STACK_OF(X509) *rcpt, *kc;
	EVP_PKEY *keys[2];
	struct buf ent, der, msg;
	unsigned char line[80];
	const char *error;
	size_t i;
	int w;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	rcpt = sk_X509_new_null();
	sk_X509_push(rcpt, p->bob);
	buf_init(&ent, 0);
	buf_puts(&ent, "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n");
	for (i = 0; i < 20; i++)
		buf_printf(&ent, "line %02zu of a plain 7bit text body\r\n", i);
	buf_init(&der, 0);
	ck_assert_int_eq(smime_cms_encrypt((unsigned char *)ent.data, ent.len,
	    rcpt, &o, &der, &error), 0);
	der.data[der.len - 48] ^= 0x5a;	/* third block from the end */
	buf_init(&msg, 0);
	buf_puts(&msg, "From: a@example.org\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	for (i = 0; i < der.len; i += 57) {
		w = EVP_EncodeBlock(line, (unsigned char *)der.data + i,
		    (int)(der.len - i < 57 ? der.len - i : 57));
		buf_append(&msg, line, (size_t)w);
		buf_puts(&msg, "\r\n");
	}
	keys_for(&k, &sk, &kc, keys, 1);
	ck_assert_int_eq(smime_inbound(msg.data, msg.len, &k, &o, NULL, 0, &r,
	    &error), 0);
	ck_assert_uint_eq(r.flags & (SMIME_R_DECRYPTED | SMIME_R_ILLEGAL_7BIT),
	    SMIME_R_DECRYPTED | SMIME_R_ILLEGAL_7BIT);
	smime_result_release(&r);
	o.abort_on_illegal_7bit = 1;
	ck_assert_int_eq(smime_inbound(msg.data, msg.len, &k, &o, NULL, 0, &r,
	    &error), 0);
	ck_assert_uint_eq(r.flags & (SMIME_R_DECRYPTED | SMIME_R_ILLEGAL_7BIT),
	    SMIME_R_ILLEGAL_7BIT);
	ck_assert_int_eq(r.changed, 0);
	smime_result_release(&r);
	sk_X509_free(kc);
	sk_X509_free(rcpt);
	buf_release(&ent);
	buf_release(&der);
	buf_release(&msg);
}
END_TEST

static int
failing_find_key(void *arg, const struct smime_rid *rid, EVP_PKEY **pkey_r,
    X509 **cert_r, const char **error_r)
{
	(void)arg;
	(void)rid;
	(void)pkey_r;
	(void)cert_r;
	return err_set(error_r, "keystore unreadable");
}

static int
failing_validate(void *arg, X509 *signer, STACK_OF(X509) *untrusted,
    time_t at, int *trusted_r, char *reason, size_t size,
    const char **error_r)
{
	(void)arg;
	(void)signer;
	(void)untrusted;
	(void)at;
	(void)trusted_r;
	(void)reason;
	(void)size;
	return err_set(error_r, "trust store unreadable");
}

/* Internal failures (keystore errors) are -1, never "not signed" or
 * "no key": the caller tempfails and no mail is lost. */
START_TEST(injected_failures)
{
	struct tu_pki *p = tu_pki();
	struct smime_keys k = { failing_find_key, failing_validate, NULL,
		NULL };
	struct smime_opts o;
	struct smime_result r;
	STACK_OF(X509) *rcpt;
	struct buf enc, sig;
	const char *error = NULL;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	rcpt = sk_X509_new_null();
	sk_X509_push(rcpt, p->bob);
	buf_init(&enc, 0);
	buf_init(&sig, 0);
	ck_assert_int_eq(smime_encrypt(MSG, strlen(MSG), rcpt, &o, &enc,
	    &error), 0);
	ck_assert_int_eq(smime_sign(MSG, strlen(MSG), p->alice, p->alice_key,
	    NULL, &o, &sig, &error), 0);
	ck_assert_int_eq(smime_inbound(enc.data, enc.len, &k, &o, NULL, 0, &r,
	    &error), -1);
	ck_assert_str_eq(error, "keystore unreadable");
	ck_assert_ptr_null(r.info);
	ck_assert_int_eq(smime_inbound(sig.data, sig.len, &k, &o, NULL, 0, &r,
	    &error), -1);
	ck_assert_str_eq(error, "trust store unreadable");
	/* encrypting to nobody, or with a legacy cipher not allowed */
	sk_X509_pop(rcpt);
	ck_assert_int_eq(smime_encrypt(MSG, strlen(MSG), rcpt, &o, &enc,
	    &error), -1);
	ck_assert_str_eq(error, "no recipient certificates");
	sk_X509_push(rcpt, p->bob);
	ck_assert_int_eq(smime_opts_set(&o, "smime.encryption-algorithm",
	    "RC2", &error), 0);
	ck_assert_int_eq(smime_encrypt(MSG, strlen(MSG), rcpt, &o, &enc,
	    &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "legacy"));
	/* PSS with an EC key is refused */
	smime_opts_init(&o);
	o.pss = 1;
	ck_assert_int_eq(smime_sign(MSG, strlen(MSG), p->carol, p->carol_key,
	    NULL, &o, &sig, &error), -1);
	sk_X509_free(rcpt);
	buf_release(&enc);
	buf_release(&sig);
}
END_TEST

/* The in-place handler on a parsed message, as common/inbound.c uses it:
 * decrypted content, protected Subject, info headers on top. */
START_TEST(inbound_edit)
{
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	struct smime_keys k;
	struct smime_simple_keys sk;
	struct smime_result r;
	STACK_OF(X509) *rcpt, *kc;
	EVP_PKEY *keys[2];
	struct mime_message *m;
	struct buf out, tampered, emitted;
	const char *error;
	char *hit;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	o.protect_headers = 1;
	rcpt = sk_X509_new_null();
	sk_X509_push(rcpt, p->bob);
	buf_init(&out, 0);
	ck_assert_int_eq(smime_sign_encrypt(MSG, strlen(MSG), p->alice,
	    p->alice_key, NULL, rcpt, &o, &out, &error), 0);
	buf_init(&tampered, 0);
	hit = strstr(out.data, "Subject: quarterly numbers");
	ck_assert_ptr_nonnull(hit);
	buf_append(&tampered, out.data, (size_t)(hit - out.data));
	buf_puts(&tampered, "Subject: URGENT wire money");
	buf_puts(&tampered, hit + strlen("Subject: quarterly numbers"));

	m = mime_parse(tampered.data, tampered.len, NULL, &error);
	ck_assert_ptr_nonnull(m);
	keys_for(&k, &sk, &kc, keys, 1);
	ck_assert_msg(smime_inbound_edit(m, &k, &o, NULL, 0, &r, &error) == 0,
	    "%s", error);
	ck_assert_uint_eq(r.flags & (SMIME_R_DECRYPTED | SMIME_R_SIGNED_VALID),
	    SMIME_R_DECRYPTED | SMIME_R_SIGNED_VALID);
	buf_init(&emitted, 0);
	ck_assert_int_eq(mime_emit_buf(m, NULL, 0, &emitted, &error), 0);
	ck_assert_msg(strncmp(emitted.data,
	    "X-Postern-Info-Encryption-Algorithm-0: AES128, Key size: 128\r\n",
	    61) == 0, "got %.200s", emitted.data);
	ck_assert_ptr_nonnull(strstr(emitted.data,
	    "X-Postern-Info-Signer-Verified-0-1: True\r\n"));
	ck_assert_ptr_nonnull(strstr(emitted.data,
	    "X-Postern-Info-SMIME-Signed: True\r\n"));
	ck_assert_ptr_nonnull(strstr(emitted.data, "multipart/signed"));
	ck_assert_ptr_null(strstr(emitted.data, "application/pkcs7-mime"));
	ck_assert_ptr_null(strstr(emitted.data, "URGENT"));
	ck_assert_ptr_nonnull(strstr(emitted.data,
	    "Subject: quarterly numbers\r\n"));
	ck_assert_ptr_nonnull(strstr(emitted.data, SECRET));
	smime_result_release(&r);
	mime_message_free(&m);

	/* the emitted message still verifies with openssl */
	{
		char *dir = tu_tmpdir();

		free(tu_put(dir, "e.eml", emitted.data, emitted.len));
		ck_assert_int_eq(tu_sh("openssl cms -verify -in %s/e.eml "
		    "-CAfile %s/ca.crt -purpose smimesign -out /dev/null "
		    "2>/dev/null", dir, p->dir), 0);
		tu_tmpdir_free(&dir);
	}
	sk_X509_free(kc);
	sk_X509_free(rcpt);
	buf_release(&out);
	buf_release(&tampered);
	buf_release(&emitted);
}
END_TEST

/* The other spellings of an encrypted part are recognised too. */
START_TEST(content_type_variants)
{
	static const char *const ctypes[] = {
		"application/x-pkcs7-mime; smime-type=enveloped-data; "
		    "name=\"smime.p7m\"",
		"application/pkcs7-mime; name=smime.p7m",
		"application/octet-stream; name=\"smime.p7m\"",
		"Application/PKCS7-MIME; SMIME-Type=\"enveloped-data\"",
	};
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	struct smime_keys k;
	struct smime_simple_keys sk;
	struct smime_result r;
	STACK_OF(X509) *rcpt, *kc;
	EVP_PKEY *keys[2];
	struct buf out, v;
	const char *error;
	char *start, *end;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	rcpt = sk_X509_new_null();
	sk_X509_push(rcpt, p->bob);
	buf_init(&out, 0);
	ck_assert_int_eq(smime_encrypt(MSG, strlen(MSG), rcpt, &o, &out,
	    &error), 0);
	start = strstr(out.data, "Content-Type: application/pkcs7-mime");
	ck_assert_ptr_nonnull(start);
	end = strstr(start, "\r\n");
	buf_init(&v, 0);
	buf_append(&v, out.data, (size_t)(start - out.data));
	buf_printf(&v, "Content-Type: %s", ctypes[_i]);
	buf_puts(&v, end);
	keys_for(&k, &sk, &kc, keys, 1);
	ck_assert_int_eq(smime_inbound(v.data, v.len, &k, &o, NULL, 0, &r,
	    &error), 0);
	ck_assert_msg(r.flags & SMIME_R_DECRYPTED, "%s: flags %#x",
	    ctypes[_i], r.flags);
	smime_result_release(&r);
	sk_X509_free(kc);
	sk_X509_free(rcpt);
	buf_release(&out);
	buf_release(&v);
}
END_TEST

/*
 * multipart/signed under the old x- names (protocol parameter and the
 * signature part): verified like the standard spelling; and a
 * multipart/signed of an unknown protocol is never an S/MIME signature.
 */
START_TEST(signature_type_variants)
{
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	struct smime_keys k;
	struct smime_simple_keys sk;
	struct smime_result r;
	STACK_OF(X509) *kc;
	EVP_PKEY *keys[2];
	struct buf out, v;
	const char *error, *q;
	int i;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	buf_init(&out, 0);
	ck_assert_int_eq(smime_sign(MSG, strlen(MSG), p->alice, p->alice_key,
	    NULL, &o, &out, &error), 0);
	keys_for(&k, &sk, &kc, keys, 1);
	for (i = 0; i < 2; i++) {
		const char *from = "application/pkcs7-signature";
		const char *to = i == 0 ? "application/x-pkcs7-signature" :
		    "application/x-unknown-signature";
		int n = 0;

		buf_init(&v, 0);
		for (q = out.data; *q != '\0';) {
			const char *h = strstr(q, from);

			if (h == NULL) {
				buf_puts(&v, q);
				break;
			}
			buf_append(&v, q, (size_t)(h - q));
			buf_puts(&v, to);
			q = h + strlen(from);
			n++;
		}
		ck_assert_int_eq(n, 2);	/* protocol= and the part */
		ck_assert_int_eq(smime_inbound(v.data, v.len, &k, &o, NULL, 0,
		    &r, &error), 0);
		if (i == 0)
			ck_assert_msg((r.flags & SMIME_R_SIGNED_VALID) &&
			    r.levels == 1, "%s: flags %#x", to, r.flags);
		else
			ck_assert_msg(!(r.flags & SMIME_R_SIGNED) &&
			    r.levels == 0, "%s: flags %#x levels %d", to,
			    r.flags, r.levels);
		smime_result_release(&r);
		buf_release(&v);
	}
	sk_X509_free(kc);
	buf_release(&out);
}
END_TEST

/* compressed-data (a 179-byte zlib bomb of 100000 'A') is reported and
 * passed on, never inflated. */
START_TEST(compressed)
{
	static const char msg[] = "From: a@example.org\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: application/pkcs7-mime; smime-type=compressed-data;"
	    " name=smime.p7z\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	    "MIGwBgsqhkiG9w0BCRABCaCBoDCBnQIBADANBgsqhkiG9w0BCRADCDCBiAYJKoZI"
	    "hvcNAQcBoHsEeXic7cExAQAAAMKgbOtfyhoeQAEAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACvBuIMNG4=\r\n";
	struct smime_result r;
	const char *error;

	ck_assert_int_eq(smime_inbound(msg, strlen(msg), NULL, NULL, NULL, 0,
	    &r, &error), 0);
	ck_assert_uint_eq(r.flags, SMIME_R_COMPRESSED);
	ck_assert_int_eq(r.changed, 0);
	ck_assert_int_eq(r.levels, 1);
	ck_assert_int_eq(r.layer[0].kind, SMIME_LAYER_COMPRESSED);
	ck_assert_str_eq(infohdr_get(r.info, "SMIME-Compressed"), "True");
	smime_result_release(&r);
}
END_TEST

/* smime.max-size: exact limit passes, limit + 1 does not. */
START_TEST(max_size)
{
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	STACK_OF(X509) *rcpt;
	struct smime_result r;
	struct buf out, big;
	const char *error;
	char lim[32];
	int i;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	buf_init(&big, 0);
	buf_puts(&big, MSG);
	for (i = 0; i < 40; i++)
		buf_puts(&big, "padding padding padding padding padding\r\n");
#define MSG big.data
	snprintf(lim, sizeof(lim), "%zu", strlen(MSG));
	ck_assert_int_eq(smime_opts_set(&o, "smime.max-size", lim, &error), 0);
	rcpt = sk_X509_new_null();
	sk_X509_push(rcpt, p->bob);
	buf_init(&out, 0);
	ck_assert_int_eq(smime_encrypt(MSG, strlen(MSG), rcpt, &o, &out,
	    &error), 0);
	snprintf(lim, sizeof(lim), "%zu", strlen(MSG) - 1);
	ck_assert_int_eq(smime_opts_set(&o, "smime.max-size", lim, &error), 0);
	ck_assert_int_eq(smime_encrypt(MSG, strlen(MSG), rcpt, &o, &out,
	    &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "too large"));
	ck_assert_int_eq(smime_inbound(MSG, strlen(MSG), NULL, &o, NULL, 0, &r,
	    &error), 0);
	ck_assert_int_eq(r.changed, 0);
	ck_assert_ptr_nonnull(infohdr_get(r.info, "SMIME-Skipped"));
	smime_result_release(&r);
	ck_assert_int_eq(smime_opts_set(&o, "smime.max-size", "10", &error),
	    -1);
	ck_assert_int_eq(smime_opts_set(&o, "smime.nope", "1", &error), -1);
	ck_assert_int_eq(smime_opts_set(&o, "smime.encryption-scheme",
	    "rsaes-oaep-md5", &error), -1);
#undef MSG
	sk_X509_free(rcpt);
	buf_release(&out);
	buf_release(&big);
}
END_TEST

/* Forged incoming info headers go, ours come in, LF mail stays LF. */
START_TEST(apply_strips_forged)
{
	struct tu_pki *p = tu_pki();
	struct smime_opts o;
	struct smime_keys k;
	struct smime_simple_keys sk;
	struct smime_result r;
	STACK_OF(X509) *rcpt, *kc;
	EVP_PKEY *keys[2];
	struct buf out, lf, fin;
	const char *error;
	size_t i;

	ck_assert_ptr_nonnull(p);
	smime_opts_init(&o);
	o.legacy_prefixes = "X-CipherMail-Info X-Djigzo-Info";
	rcpt = sk_X509_new_null();
	sk_X509_push(rcpt, p->bob);
	buf_init(&out, 0);
	buf_init(&lf, 0);
	buf_init(&fin, 0);
	ck_assert_int_eq(smime_encrypt(MSG, strlen(MSG), rcpt, &o, &out,
	    &error), 0);
	for (i = 0; i < out.len; i++)
		if (out.data[i] != '\r')
			buf_putc(&lf, out.data[i]);
	keys_for(&k, &sk, &kc, keys, 1);
	ck_assert_int_eq(smime_inbound(lf.data, lf.len, &k, &o, NULL, 0, &r,
	    &error), 0);
	ck_assert(r.flags & SMIME_R_DECRYPTED);
	ck_assert_int_eq(smime_inbound_apply(lf.data, lf.len, &r, &o, &fin,
	    &error), 0);
	ck_assert_ptr_null(strchr(fin.data, '\r'));
	ck_assert_ptr_null(strstr(fin.data, "X-CipherMail-Info"));
	ck_assert_ptr_null(strstr(fin.data, "X-Postern-Info-SMIME-Signed"));
	ck_assert_ptr_nonnull(strstr(fin.data,
	    "X-Postern-Info-SMIME-Encrypted: True\n"));
	ck_assert_ptr_nonnull(strstr(fin.data, "\n\nHello Bob,\nthis is"));
	smime_result_release(&r);
	sk_X509_free(kc);
	sk_X509_free(rcpt);
	buf_release(&out);
	buf_release(&lf);
	buf_release(&fin);
}
END_TEST

/* Through the real keystore: key by RecipientInfo, trust with reasons. */
START_TEST(keystore)
{
	static const unsigned char raw[32] = { 7, 7, 7 };
	struct tu_pki *p = tu_pki();
	struct store *st = NULL;
	struct secret_key *mkey;
	struct x509_ks *ks = NULL;
	struct x509_import_result ir;
	struct smime_opts o;
	struct smime_keys k;
	struct smime_result r;
	STACK_OF(X509) *rcpt;
	struct buf out;
	const char *error = NULL;
	char *dir, *db, *path, *data, thumb[X509_THUMB_LEN + 1];
	size_t len;

	ck_assert_ptr_nonnull(p);
	dir = tu_tmpdir();
	db = tu_path(dir, "p.db");
	ck_assert_msg(store_open(&st, db, 1000, STORE_CREATE, &error) == 0,
	    "%s", error);
	mkey = secret_key_from_bytes(raw, sizeof(raw));
	ck_assert_int_eq(x509_ks_new(st, mkey, &ks, &error), 0);

	/* root, and Bob's key as PKCS#12 */
	ck_assert_int_eq(tu_sh("cd %s && openssl pkcs12 -export -inkey "
	    "bob.key -in bob.crt -out %s/bob.p12 -passout pass:pw", p->dir,
	    dir), 0);
	path = tu_path(p->dir, "ca.crt");
	data = tu_read_file(path, &len);
	memset(&ir, 0, sizeof(ir));
	ck_assert_msg(x509_import_certs(ks, X509KS_ROOTS,
	    (unsigned char *)data, len, &ir, &error) == 0, "%s", error);
	x509_import_result_release(&ir);
	free(data);
	free(path);
	path = tu_path(dir, "bob.p12");
	data = tu_read_file(path, &len);
	memset(&ir, 0, sizeof(ir));
	ck_assert_msg(x509_import_pkcs12(ks, (unsigned char *)data, len, "pw",
	    &ir, &error) == 0, "%s", error);
	x509_import_result_release(&ir);
	free(data);
	free(path);

	smime_opts_init(&o);
	rcpt = sk_X509_new_null();
	sk_X509_push(rcpt, p->bob);
	buf_init(&out, 0);
	ck_assert_int_eq(smime_sign_encrypt(MSG, strlen(MSG), p->alice,
	    p->alice_key, NULL, rcpt, &o, &out, &error), 0);
	smime_keys_from_ks(&k, ks);
	ck_assert_msg(smime_inbound(out.data, out.len, &k, &o, NULL, 0, &r,
	    &error) == 0, "%s", error);
	ck_assert_uint_eq(r.flags & (SMIME_R_DECRYPTED | SMIME_R_SIGNED_VALID),
	    SMIME_R_DECRYPTED | SMIME_R_SIGNED_VALID);
	ck_assert_str_eq(infohdr_get(r.info, "Signer-Trusted-0-1"), "True");
	/* the signer's certificate is offered to the caller */
	ck_assert_int_eq(sk_X509_num(r.certs), 1);
	ck_assert_int_eq(X509_cmp(sk_X509_value(r.certs, 0), p->alice), 0);
	smime_result_release(&r);

	/* black-list Alice: verified, but not trusted, with the reason */
	ck_assert_int_eq(x509_thumbprint(p->alice, thumb), 0);
	ck_assert_msg(x509_ctl_set(ks, thumb, X509_CTL_BLACK, 0, &error) == 0,
	    "%s", error);
	ck_assert_int_eq(smime_inbound(out.data, out.len, &k, &o, NULL, 0, &r,
	    &error), 0);
	ck_assert_uint_eq(r.flags & (SMIME_R_DECRYPTED | SMIME_R_SIGNED |
	    SMIME_R_SIGNED_VALID), SMIME_R_DECRYPTED | SMIME_R_SIGNED);
	ck_assert_str_eq(infohdr_get(r.info, "Signer-Verified-0-1"), "True");
	ck_assert_str_eq(infohdr_get(r.info, "Signer-Trusted-0-1"), "False");
	ck_assert_str_eq(infohdr_get(r.info, "Signer-Trusted-Info-0-1"),
	    "black-listed");
	smime_result_release(&r);

	/* strict mode: Bob's key only for bob@example.org */
	{
		struct smime_ks_strict strict;

		smime_keys_from_ks_strict(&k, &strict, ks, "bob@example.org",
		    0);
		ck_assert_int_eq(smime_inbound(out.data, out.len, &k, &o, NULL,
		    0, &r, &error), 0);
		ck_assert(r.flags & SMIME_R_DECRYPTED);
		ck_assert_int_eq(strict.refused, 0);
		smime_result_release(&r);
		smime_keys_from_ks_strict(&k, &strict, ks,
		    "postmaster@example.org", 0);
		ck_assert_int_eq(smime_inbound(out.data, out.len, &k, &o, NULL,
		    0, &r, &error), 0);
		ck_assert_uint_eq(r.flags, SMIME_R_ENCRYPTED |
		    SMIME_R_KEY_NOT_FOUND);
		ck_assert_int_eq(r.changed, 0);
		ck_assert_int_eq(strict.refused, 1);
		ck_assert_msg(strstr(strict.reason, "not associated") != NULL,
		    "got %s", strict.reason);
		smime_result_release(&r);
		smime_keys_from_ks(&k, ks);
	}

	/* no key in the keystore for Carol */
	sk_X509_set(rcpt, 0, p->carol);
	buf_reset(&out);
	ck_assert_int_eq(smime_encrypt(MSG, strlen(MSG), rcpt, &o, &out,
	    &error), 0);
	ck_assert_int_eq(smime_inbound(out.data, out.len, &k, &o, NULL, 0, &r,
	    &error), 0);
	ck_assert_uint_eq(r.flags, SMIME_R_ENCRYPTED | SMIME_R_KEY_NOT_FOUND);
	smime_result_release(&r);

	sk_X509_free(rcpt);
	buf_release(&out);
	x509_ks_free(&ks);
	secret_key_free(&mkey);
	store_free(&st);
	free(db);
	tu_tmpdir_free(&dir);
}
END_TEST

/* Every smime.* operation setting parses with its default and values. */
START_TEST(settings_rows)
{
	extern const struct setting_def settings_defs_smime[];
	extern const size_t settings_ndefs_smime;
	const struct setting_def *d;
	size_t i;
	struct smime_opts o;
	const char *error;
	int n = 0;

	smime_opts_init(&o);
	for (i = 0; i < settings_ndefs_smime; i++) {
		char vals[512], *v, *save;

		d = &settings_defs_smime[i];
		ck_assert_ptr_eq(settings_find(d->name), d);

		if (strcmp(d->name, "smime.auto-select") == 0 ||
		    strcmp(d->name, "smime.always-use-freshest-signing-cert") == 0 ||
		    strcmp(d->name, "smime.add-additional-certificates") == 0 ||
		    strcmp(d->name, "smime.skip-calendar") == 0 ||
		    strcmp(d->name, "smime.skip-signing-calendar") == 0 ||
		    /* read by the inbound pipeline (inbound.c) */
		    strcmp(d->name, "smime.remove-signature") == 0 ||
		    strcmp(d->name, "smime.import-certificates") == 0 ||
		    strcmp(d->name, "smime.skip-untrusted-import") == 0)
			continue;
		n++;
		ck_assert_msg(smime_opts_set(&o, d->name, d->def, &error) == 0,
		    "%s default '%s': %s", d->name, d->def, error);
		if (d->type != SETTING_ENUM)
			continue;
		snprintf(vals, sizeof(vals), "%s", d->values);
		for (v = strtok_r(vals, "|", &save); v != NULL;
		    v = strtok_r(NULL, "|", &save))
			ck_assert_msg(smime_opts_set(&o, d->name, v, &error) ==
			    0, "%s '%s': %s", d->name, v, error);
	}
	ck_assert_int_eq(n, 9);
	{
		struct config *cfg = config_defaults();

		ck_assert_int_eq(config_set(cfg, "info_header_prefix",
		    "X-CipherMail-Info", &error), 0);
		smime_opts_config(&o, cfg);
		ck_assert_str_eq(o.prefix, "X-CipherMail-Info");
		ck_assert_str_eq(o.legacy_prefixes,
		    "X-CipherMail-Info X-Djigzo-Info");
		config_free(&cfg);
	}
	/* the defaults are the gpgsm-compatible ones */
	smime_opts_init(&o);
	ck_assert_int_eq(o.cipher, SMIME_AES128_CBC);
	ck_assert_int_eq(o.scheme, SMIME_RSA_PKCS1);
	ck_assert_int_eq(o.opaque, 0);
}
END_TEST

/* Info headers: numbering, folding, sanitising, stripping. */
START_TEST(infohdr_model)
{
	struct infohdr *ih = infohdr_new("X-CipherMail-Info");
	struct buf out, stripped;
	size_t removed, i;
	char *line;
	const char *hdr =
	    "Received: x\r\n"
	    "X-CipherMail-Info-Signer-Verified-0-0: True\r\n"
	    "x-djigzo-info-smime-signed: True\r\n"
	    "\tcontinued\r\n"
	    "X-CipherMail-Information: not ours\r\n"
	    "Subject: hi\r\n";

	ck_assert_ptr_nonnull(ih);
	ck_assert_int_eq(infohdr_add(ih, "Encryption-Algorithm", -1, 0,
	    "AES128, Key size: 128"), 0);
	ck_assert_int_eq(infohdr_add(ih, "Encryption-Recipient", 1, 0, "%s",
	    "CN=Thawte Personal Freemail Issuing CA, O=Thawte Consulting "
	    "(Pty) Ltd., C=ZA/6683C//1.2.840.113549.1.1.1"), 0);
	ck_assert_int_eq(infohdr_add(ih, "Signer-ID", 0, 1, "evil\r\nBcc: x"),
	    0);
	ck_assert_int_eq(infohdr_add(ih, "SMIME-Encrypted", -1, -1, "True"), 0);
	ck_assert_str_eq(infohdr_name(ih, 0),
	    "X-CipherMail-Info-Encryption-Algorithm-0");
	ck_assert_str_eq(infohdr_name(ih, 1),
	    "X-CipherMail-Info-Encryption-Recipient-1-0");
	ck_assert_str_eq(infohdr_name(ih, 3), "X-CipherMail-Info-SMIME-Encrypted");
	ck_assert_str_eq(infohdr_get(ih, "Signer-ID-0-1"), "evil??Bcc: x");
	buf_init(&out, 0);
	ck_assert_int_eq(infohdr_render(ih, &out, "\r\n"), 0);
	/* every line within 76 columns, and it unfolds to the value */
	for (line = out.data; *line != '\0';) {
		char *e = strstr(line, "\r\n");

		ck_assert_ptr_nonnull(e);
		ck_assert_msg(e - line <= INFOHDR_FOLD, "line of %d: %.*s",
		    (int)(e - line), (int)(e - line), line);
		line = e + 2;
	}
	ck_assert_ptr_nonnull(strstr(out.data,
	    "X-CipherMail-Info-Encryption-Recipient-1-0: CN=Thawte Personal "
	    "Freemail\r\n Issuing CA, O=Thawte Consulting (Pty) Ltd.,\r\n "
	    "C=ZA/6683C//1.2.840.113549.1.1.1\r\n"));
	buf_release(&out);

	buf_init(&stripped, 0);
	ck_assert_int_eq(infohdr_strip(hdr, strlen(hdr), "X-Postern-Info",
	    "X-CipherMail-Info X-Djigzo-Info", &stripped, &removed), 0);
	ck_assert_uint_eq(removed, 2);
	ck_assert_str_eq(stripped.data, "Received: x\r\n"
	    "X-CipherMail-Information: not ours\r\nSubject: hi\r\n");
	buf_release(&stripped);
	/* limit: INFOHDR_MAX entries, then -1 */
	for (i = infohdr_count(ih); i < INFOHDR_MAX; i++)
		ck_assert_int_eq(infohdr_add(ih, "X", (int)i, 0, "v"), 0);
	ck_assert_int_eq(infohdr_add(ih, "X", 0, 0, "v"), -1);
	infohdr_free(&ih);
	ck_assert_ptr_null(ih);
	infohdr_free(&ih);
}
END_TEST

Suite *
smime_suite(void)
{
	Suite *s = suite_create("smime");
	TCase *tc;

	tc = tcase_create("roundtrip");
	tcase_add_unchecked_fixture(tc, tu_pki_setup, tu_pki_teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, encrypt_roundtrip, 0, NCIPHERS * NSCHEMES);
	tcase_add_loop_test(tc, encrypt_gpgsm, 0,
	    sizeof(gpgsm_ciphers) / sizeof(gpgsm_ciphers[0]));
	tcase_add_loop_test(tc, sign_roundtrip, 0, 16);
	tcase_add_loop_test(tc, sign_gpgsm, 0, 8);
	tcase_add_test(tc, sign_encrypt);
	tcase_add_test(tc, sign_with_chain);
	suite_add_tcase(s, tc);

	tc = tcase_create("negative");
	tcase_add_unchecked_fixture(tc, tu_pki_setup, tu_pki_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, sign_negative);
	tcase_add_loop_test(tc, signer_originator, 0,
	    sizeof(originator_cases) / sizeof(originator_cases[0]));
	tcase_add_test(tc, decrypt_negative);
	tcase_add_test(tc, zero_signers);
	tcase_add_test(tc, compressed);
	tcase_add_test(tc, protect_headers);
	tcase_add_test(tc, cbc_tamper);
	tcase_add_test(tc, injected_failures);
	tcase_add_test(tc, inbound_edit);
	tcase_add_loop_test(tc, content_type_variants, 0, 4);
	tcase_add_test(tc, signature_type_variants);
	tcase_add_test(tc, max_size);
	tcase_add_test(tc, apply_strips_forged);
	tcase_add_test(tc, keystore);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_test(tc, settings_rows);
	tcase_add_test(tc, infohdr_model);
	suite_add_tcase(s, tc);
	return s;
}
