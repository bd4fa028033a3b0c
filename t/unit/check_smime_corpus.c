/*
 * S/MIME messages written by others (../shared/corpora): each gives the
 * result recorded in its PROVENANCE.md.  Table-driven; the validation
 * time is pinned (2026-06-01) so the certificates' validity does not
 * depend on the day the test runs.  Skips when the corpora are absent.
 *
 * The trace is one token per CMS layer, outermost first, in the words of
 * the "OpenSSL 3.0 observed" column: "dec" (decrypted), "nokey",
 * "decfail", "sig:OK" (every signer verified and trusted), "sig:FAIL",
 * "comp"; then the verdict flags that matter for the delivered message.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "smime.h"
#include "testutil.h"

#define PINNED_TIME ((time_t)1780272000)	/* 2026-06-01 */

struct keyset {
	X509_STORE *store;
	STACK_OF(X509) *certs;
	EVP_PKEY *keys[16];
	struct smime_simple_keys sk;
	struct smime_keys k;
};

static int
add_p12(struct keyset *ks, const char *path, const char *pass)
{
	FILE *fp = fopen(path, "rb");
	PKCS12 *p12;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int ok;

	if (fp == NULL)
		return -1;
	p12 = d2i_PKCS12_fp(fp, NULL);
	fclose(fp);
	if (p12 == NULL)
		return -1;
	ok = PKCS12_parse(p12, pass, &key, &cert, NULL);
	PKCS12_free(p12);
	if (!ok || ks->sk.nkeys >= 16)
		return -1;
	sk_X509_push(ks->certs, cert);
	ks->keys[ks->sk.nkeys++] = key;
	return 0;
}

static int __attribute__((unused))
add_pem_key(struct keyset *ks, const char *certpath, const char *keypath)
{
	FILE *fp;
	X509 *cert;
	EVP_PKEY *key;

	fp = fopen(certpath, "r");
	if (fp == NULL)
		return -1;
	cert = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	fp = fopen(keypath, "r");
	if (fp == NULL) {
		X509_free(cert);
		return -1;
	}
	key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (cert == NULL || key == NULL || ks->sk.nkeys >= 16) {
		X509_free(cert);
		EVP_PKEY_free(key);
		return -1;
	}
	sk_X509_push(ks->certs, cert);
	ks->keys[ks->sk.nkeys++] = key;
	return 0;
}

static int
add_anchor(struct keyset *ks, const char *path)
{
	FILE *fp = fopen(path, "r");
	X509 *c;
	int n = 0;

	if (fp == NULL)
		return -1;
	while ((c = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
		X509_STORE_add_cert(ks->store, c);
		X509_free(c);
		n++;
	}
	fclose(fp);
	ERR_clear_error();
	return n > 0 ? 0 : -1;
}

static void
keyset_init(struct keyset *ks)
{
	memset(ks, 0, sizeof(*ks));
	ks->store = X509_STORE_new();
	ks->certs = sk_X509_new_null();
	ks->sk.store = ks->store;
	ks->sk.certs = ks->certs;
	ks->sk.keys = ks->keys;
	smime_simple_keys_init(&ks->k, &ks->sk);
}

static void
keyset_release(struct keyset *ks)
{
	size_t i;

	for (i = 0; i < ks->sk.nkeys; i++)
		EVP_PKEY_free(ks->keys[i]);
	sk_X509_pop_free(ks->certs, X509_free);
	X509_STORE_free(ks->store);
}

static void
trace_of(const struct smime_result *r, char *out, size_t size)
{
	size_t o = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < r->levels && i < SMIME_MAX_LAYERS; i++) {
		const struct smime_layer *l = &r->layer[i];
		const char *t = "?";

		switch (l->kind) {
		case SMIME_LAYER_ENVELOPED:
		case SMIME_LAYER_AUTH_ENVELOPED:
			t = l->decrypted ? "dec" : l->key_found ? "decfail" :
			    "nokey";
			break;
		case SMIME_LAYER_OPAQUE_SIGNED:
		case SMIME_LAYER_DETACHED_SIGNED:
			t = l->nsigners > 0 && l->nverified == l->nsigners &&
			    l->ntrusted == l->nsigners ? "sig:OK" : "sig:FAIL";
			break;
		case SMIME_LAYER_COMPRESSED:
			t = "comp";
			break;
		}
		o += (size_t)snprintf(out + o, size - o, "%s%s", o ? " " : "",
		    t);
		if (o >= size)
			return;
	}
	/* verdict for the delivered message */
	snprintf(out + o, size - o, "%s|%s%s%s%s", o ? " " : "",
	    (r->flags & SMIME_R_SIGNED_VALID) ? "valid" :
	    (r->flags & SMIME_R_SIGNED) ? "signed-bad" : "unsigned",
	    (r->flags & SMIME_R_MIXED) ? ",mixed" : "",
	    (r->flags & SMIME_R_PARTIAL_SIGNED) ? ",partial" : "",
	    (r->flags & SMIME_R_DECRYPTED) ? ",decrypted" : "");
}

struct corpus_case {
	const char *file;
	const char *want;	/* trace */
	const char *text;	/* delivered message must contain; NULL */
};

#define ALICE_TEXT "This is a test message from Alice to Bob."
#define FRAN_TEXT "This is a test message to Fran."

/*
 * Opaque-signed inner layers are delivered as they are (still signed,
 * so the text is base64 inside): no text check there.
 *
 * From thunderbird/PROVENANCE.md, "OpenSSL 3.0 observed (trust=TestCA)"
 * (layers outer -> inner), plus the verdict Thunderbird expects for the
 * delivered message: signatures over ciphertext are reported but do not
 * make it signed; partial signatures and nested ciphertexts are not
 * followed.
 */
static const struct corpus_case tb_cases[] = {
#define DSIG(h) \
	{ "smime/alice.dsig." h ".multipart.bad.eml", "sig:FAIL |signed-bad", NULL }, \
	{ "smime/alice.dsig." h ".multipart.eml", "sig:OK |valid", NULL }, \
	{ "smime/alice.dsig." h ".multipart.env.eml", "dec sig:OK |valid,decrypted", ALICE_TEXT }, \
	{ "smime/alice.dsig." h ".multipart.mismatch-econtent.eml", "sig:FAIL |signed-bad", NULL }, \
	{ "smime/alice.env.dsig." h ".multipart.dave.sig." h ".opaque.eml", "sig:OK sig:FAIL dec |unsigned,decrypted", ALICE_TEXT }, \
	{ "smime/alice.env.dsig." h ".multipart.eml", "sig:FAIL dec |unsigned,decrypted", ALICE_TEXT }, \
	{ "smime/alice.env.sig." h ".opaque.dave.sig." h ".opaque.eml", "sig:OK sig:OK dec |unsigned,decrypted", ALICE_TEXT }, \
	{ "smime/alice.env.sig." h ".opaque.eml", "sig:OK dec |unsigned,decrypted", ALICE_TEXT }, \
	{ "smime/alice.html.sig." h ".opaque.eml", "sig:OK |valid", NULL }, \
	{ "smime/alice.html.sig." h ".opaque.env.eml", "dec sig:OK |valid,decrypted", NULL }, \
	{ "smime/alice.plain.dsig." h ".multipart.dave.dsig." h ".multipart.eml", "sig:OK sig:OK |valid", NULL }, \
	{ "smime/alice.plain.dsig." h ".multipart.dave.sig." h ".opaque.eml", "sig:OK sig:OK |valid", NULL }, \
	{ "smime/alice.plain.sig." h ".opaque.dave.dsig." h ".multipart.eml", "sig:OK sig:OK |valid", NULL }, \
	{ "smime/alice.plain.sig." h ".opaque.dave.sig." h ".opaque.eml", "sig:OK sig:OK |valid", NULL }, \
	{ "smime/alice.sig." h ".opaque.eml", "sig:OK |valid", NULL }, \
	{ "smime/alice.sig." h ".opaque.env.eml", "dec sig:OK |valid,decrypted", NULL }
	DSIG("SHA1"), DSIG("SHA256"), DSIG("SHA384"), DSIG("SHA512"),
#undef DSIG
	{ "smime/alice.env.eml", "dec |unsigned,decrypted", ALICE_TEXT },
	{ "smime/alice.future.dsig.SHA256.multipart.eml", "sig:OK |valid", NULL },
	{ "smime-manual/alice.dsig.SHA256.multipart.env.dsig.eml",
	    "sig:FAIL dec sig:OK |valid,decrypted", ALICE_TEXT },
	{ "smime-manual/alice.env.mixed.dsig.SHA256.multipart.eml",
	    "sig:FAIL |signed-bad,mixed", NULL },
	/* the inner ciphertext is for the stale "NSS Test CA" serial 0x40
	 * (no key in the corpus): reached through the PGP layer, no key */
	{ "smime-manual/outer-pgp-sig-inner-smime-enc-sig.eml",
	    "nokey |unsigned", NULL },
	{ "smime-manual/outer-pgp-sig-inner-smime-enc.eml",
	    "nokey |unsigned", NULL },
	{ "smime-manual/outer-smime-bad-sig-inner-smime-enc-sig.eml",
	    "sig:FAIL dec sig:OK |valid,decrypted", NULL },
	{ "smime-manual/outer-smime-bad-sig-inner-smime-enc.eml",
	    "sig:FAIL dec |unsigned,decrypted", NULL },
	{ "smime-browser/alice.dsig.SHA256.multipart.in.mixed.eml",
	    "|unsigned,partial", NULL },
	{ "smime-browser/alice.dsig.SHA256.multipart.in.mixed.with.header.eml",
	    "|unsigned,partial", NULL },
	/* two ciphertexts inside multipart/alternative: not the root */
	{ "smime-browser/multipart-alternative.eml", "|unsigned,mixed", NULL },
	{ "smime-browser/nested-sigs.eml", "sig:FAIL |signed-bad", NULL },
	{ "smime-interop/fran-ec_ossl-aes128-sha256.env", "dec |unsigned,decrypted", FRAN_TEXT },
	{ "smime-interop/fran-ec_ossl-aes256-sha512.env", "dec |unsigned,decrypted", FRAN_TEXT },
	{ "smime-interop/fran-oaep-label_ossl.env", "dec |unsigned,decrypted", FRAN_TEXT },
	{ "smime-interop/fran-oaep-sha256hash-sha256mgf_ossl.env", "dec |unsigned,decrypted", FRAN_TEXT },
	{ "smime-interop/fran-oaep-sha256hash_ossl.env", "dec |unsigned,decrypted", FRAN_TEXT },
	{ "smime-interop/fran-oaep_ossl.env", "dec |unsigned,decrypted", FRAN_TEXT },
};

static struct keyset tb;
static int tb_ok;

static void
tb_setup(void)
{
	const char *c = tu_corpora();
	char a[1024], b[1024], d[1024], e[1024];

	if (c == NULL)
		return;
	keyset_init(&tb);
	snprintf(a, sizeof(a), "%s/thunderbird/smime/Bob.p12", c);
	snprintf(b, sizeof(b), "%s/thunderbird/smime/Fran.p12", c);
	snprintf(d, sizeof(d), "%s/thunderbird/smime-interop/Fran-ec.p12", c);
	snprintf(e, sizeof(e), "%s/thunderbird/smime/TestCA.pem", c);
	tb_ok = add_p12(&tb, a, "nss") == 0 && add_p12(&tb, b, "nss") == 0 &&
	    add_p12(&tb, d, "nss") == 0 && add_anchor(&tb, e) == 0;
}

static void
tb_teardown(void)
{
	if (tu_corpora() != NULL)
		keyset_release(&tb);
	tb_ok = 0;
}

static void
run_case(const struct smime_keys *k, const char *dir,
    const struct corpus_case *cc)
{
	struct smime_result r;
	const char *error;
	char *path, *msg, trace[256];
	size_t len;

	if (asprintf(&path, "%s/%s", dir, cc->file) < 0)
		ck_abort();
	msg = tu_read_file(path, &len);
	ck_assert_msg(msg != NULL, "cannot read %s", path);
	ck_assert_msg(smime_inbound(msg, len, k, NULL, NULL, PINNED_TIME, &r,
	    &error) == 0, "%s: %s", cc->file, error);
	trace_of(&r, trace, sizeof(trace));
	ck_assert_msg(strcmp(trace, cc->want) == 0, "%s: got '%s', want '%s'",
	    cc->file, trace, cc->want);
	if (cc->text != NULL)
		ck_assert_msg(r.changed && memmem(r.message, r.message_len,
		    cc->text, strlen(cc->text)) != NULL,
		    "%s: plaintext not delivered", cc->file);
	if (!(r.flags & SMIME_R_DECRYPTED))
		ck_assert_int_eq(r.changed, 0);
	smime_result_release(&r);
	free(msg);
	free(path);
}

START_TEST(thunderbird)
{
	char dir[1024];

	if (tu_corpora() == NULL)
		return;
	ck_assert_msg(tb_ok, "cannot load the thunderbird keys");
	snprintf(dir, sizeof(dir), "%s/thunderbird", tu_corpora());
	run_case(&tb.k, dir, &tb_cases[_i]);
}
END_TEST

Suite *
smime_corpus_suite(void)
{
	Suite *s = suite_create("smime_corpus");
	TCase *tc;

	tc = tcase_create("thunderbird");
	tcase_add_unchecked_fixture(tc, tb_setup, tb_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, thunderbird, 0,
	    sizeof(tb_cases) / sizeof(tb_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}
