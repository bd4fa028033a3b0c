/*
 * x509 keystore and trust, against a PKI made by t/data/mkpki.sh with
 * the openssl command line (once per test case, in a temporary
 * directory).  Verdicts are checked at a pinned time, 2027-01-01.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "secret.h"
#include "store.h"
#include "store_x509.h"
#include "testutil.h"
#include "x509.h"

#define AT ((time_t)1798761600)		/* 2027-01-01T00:00:00Z */

static char *pki;			/* per test case */
static char *dir;			/* per test */
static struct store *st;
static struct secret_key *mkey;
static struct x509_ks *ks;

static void
pki_make(void)
{
	char cmd[512];

	pki = tu_tmpdir();
	ck_assert_ptr_nonnull(pki);
	snprintf(cmd, sizeof(cmd), "t/data/mkpki.sh %s", pki);
	ck_assert_msg(system(cmd) == 0, "mkpki.sh failed (see %s/mkpki.log)",
	    pki);
}

static void
pki_free(void)
{
	tu_tmpdir_free(&pki);
}

static unsigned char *
slurp(const char *name, size_t *len_r)
{
	char *p = tu_path(pki, name);
	unsigned char *d = (unsigned char *)tu_read_file(p, len_r);

	ck_assert_msg(d != NULL, "cannot read %s", p);
	free(p);
	return d;
}

static void
imp(enum x509_where where, const char *name)
{
	struct x509_import_result r = { 0 };
	const char *error = NULL;
	size_t len;
	unsigned char *d = slurp(name, &len);

	ck_assert_msg(x509_import_certs(ks, where, d, len, &r, &error) == 0,
	    "import %s: %s", name, error);
	x509_import_result_release(&r);
	free(d);
}

static void
imp_p12(const char *name, const char *pass)
{
	struct x509_import_result r = { 0 };
	const char *error = NULL;
	size_t len;
	unsigned char *d = slurp(name, &len);

	ck_assert_msg(x509_import_pkcs12(ks, d, len, pass, &r, &error) == 0,
	    "import %s: %s", name, error);
	x509_import_result_release(&r);
	free(d);
}

static void
imp_crl(const char *name)
{
	struct x509_import_result r = { 0 };
	const char *error = NULL;
	size_t len;
	unsigned char *d = slurp(name, &len);

	ck_assert_msg(x509_import_crls(ks, d, len, &r, &error) == 0,
	    "import %s: %s", name, error);
	x509_import_result_release(&r);
	free(d);
}

static X509 *
load(const char *name)
{
	char *p = tu_path(pki, name);
	FILE *fp = fopen(p, "r");
	X509 *c;

	ck_assert_msg(fp != NULL, "cannot open %s", p);
	c = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	ck_assert_msg(c != NULL, "cannot parse %s", p);
	free(p);
	return c;
}

static void
thumb_of(const char *name, char out[X509_THUMB_LEN + 1])
{
	X509 *c = load(name);

	ck_assert_int_eq(x509_thumbprint(c, out), 0);
	X509_free(c);
}

static void
setup(void)
{
	static const unsigned char raw[32] = { 1, 2, 3 };
	const char *error = NULL;
	char *db;

	dir = tu_tmpdir();
	db = tu_path(dir, "p.db");
	ck_assert_msg(store_open(&st, db, 1000, STORE_CREATE, &error) == 0,
	    "%s", error);
	free(db);
	mkey = secret_key_from_bytes(raw, sizeof(raw));
	ck_assert_int_eq(x509_ks_new(st, mkey, &ks, &error), 0);
}

/* The usual population: root trusted, both CAs untrusted, CRLs. */
static void
setup_pki(void)
{
	char thumb[X509_THUMB_LEN + 1];
	const char *error = NULL;

	setup();
	imp(X509KS_ROOTS, "root.crt");
	imp(X509KS_CERTS, "inter.crt");
	imp(X509KS_CERTS, "black-ca.crt");
	imp(X509KS_CERTS, "revoked-ca.crt");
	imp_crl("inter.crl");
	imp_crl("root.crl");
	imp_crl("inter-bad.crl");
	thumb_of("black-ca.crt", thumb);
	ck_assert_int_eq(x509_ctl_set(ks, thumb, X509_CTL_BLACK, 0, &error),
	    0);
}

static void
teardown(void)
{
	x509_ks_free(&ks);
	ck_assert_ptr_null(ks);
	store_free(&st);
	secret_key_free(&mkey);
	tu_tmpdir_free(&dir);
}

static const struct verdict_case {
	const char *file;
	enum x509_use use;
	time_t at;
	int valid;
	const char *reason;
} verdicts[] = {
	{ "alice.crt", X509_USE_ENCRYPT, AT, 1, "valid" },
	{ "alice.crt", X509_USE_SIGN, AT, 1, "valid" },
	{ "expired.crt", X509_USE_ENCRYPT, AT, 0, "expired 2024-03-01" },
	{ "notyet.crt", X509_USE_ENCRYPT, AT, 0, "not yet valid" },
	{ "revoked.crt", X509_USE_ENCRYPT, AT, 0,
	    "revoked by Test Intermediate CRL" },
	{ "badcrl.crt", X509_USE_ENCRYPT, AT, 1,
	    "valid; ignored CRL of Test Intermediate: bad signature" },
	{ "signonly.crt", X509_USE_ENCRYPT, AT, 0,
	    "key usage does not allow encryption" },
	{ "signonly.crt", X509_USE_SIGN, AT, 1, "valid" },
	{ "serveronly.crt", X509_USE_ENCRYPT, AT, 0,
	    "extended key usage does not allow email protection" },
	{ "serveronly.crt", X509_USE_PATH, AT, 1, "valid" },
	{ "eve.crt", X509_USE_ENCRYPT, AT, 0,
	    "black-listed via Blacklisted CA" },
	{ "ec.crt", X509_USE_ENCRYPT, AT, 1, "valid" },
	{ "victim.crt", X509_USE_SIGN, AT, 0,
	    "issuer Revoked CA revoked by Test Root CRL" },
	{ "orphan.crt", X509_USE_ENCRYPT, AT, 0, "no path to a trusted root" },
	{ "inter.crt", X509_USE_PATH, AT, 1, "valid" },
	/* limits: notBefore of alice2 is 2025-06-01T00:00:00Z, notAfter of
	 * expired 2024-03-01T00:00:00Z (OpenSSL counts the notAfter
	 * second as expired; the CRLs, from 2026, are then not yet valid
	 * and ignored) */
	{ "alice2.crt", X509_USE_ENCRYPT, 1748736000, 1, "valid; ignored" },
	{ "alice2.crt", X509_USE_ENCRYPT, 1748736000 - 1, 0, "not yet valid" },
	{ "expired.crt", X509_USE_ENCRYPT, 1709251200 - 1, 1, "valid; ignored" },
	{ "expired.crt", X509_USE_ENCRYPT, 1709251200, 0,
	    "expired 2024-03-01" },
};

START_TEST(verdict_table)
{
	const struct verdict_case *c = &verdicts[_i];
	struct x509_verdict v;
	const char *error = NULL;
	X509 *cert = load(c->file);

	x509_verdict_init(&v);
	ck_assert_msg(x509_verify(ks, cert, NULL, c->at, c->use, &v,
	    &error) == 0, "%s", error);
	ck_assert_msg(v.valid == c->valid && strncmp(v.reason, c->reason,
	    strlen(c->reason)) == 0, "%s use %d: got %d '%s', want %d '%s'",
	    c->file, c->use, v.valid, v.reason, c->valid, c->reason);
	x509_verdict_release(&v);
	X509_free(cert);
}
END_TEST

static void
verdict_of(const char *file, time_t at, int *valid_r, char *reason,
    size_t sz)
{
	struct x509_verdict v;
	const char *error = NULL;
	X509 *cert = load(file);

	x509_verdict_init(&v);
	ck_assert_msg(x509_verify(ks, cert, NULL, at, X509_USE_ENCRYPT, &v,
	    &error) == 0, "%s", error);
	*valid_r = v.valid;
	snprintf(reason, sz, "%s", v.reason);
	x509_verdict_release(&v);
	X509_free(cert);
}

START_TEST(ctl_white_black)
{
	char t[X509_THUMB_LEN + 1], reason[X509_REASON_MAX];
	const char *error = NULL;
	int valid;

	/* white: no path needed, but dates count unless allow-expired */
	thumb_of("orphan.crt", t);
	ck_assert_int_eq(x509_ctl_set(ks, t, X509_CTL_WHITE, 0, &error), 0);
	verdict_of("orphan.crt", AT, &valid, reason, sizeof(reason));
	ck_assert_msg(valid && strcmp(reason, "white-listed") == 0, "got %s",
	    reason);
	thumb_of("expired.crt", t);
	ck_assert_int_eq(x509_ctl_set(ks, t, X509_CTL_WHITE, 0, &error), 0);
	verdict_of("expired.crt", AT, &valid, reason, sizeof(reason));
	ck_assert_msg(!valid && strcmp(reason, "expired 2024-03-01") == 0,
	    "got %s", reason);
	ck_assert_int_eq(x509_ctl_set(ks, t, X509_CTL_WHITE, 1, &error), 0);
	verdict_of("expired.crt", AT, &valid, reason, sizeof(reason));
	ck_assert_msg(valid && strncmp(reason,
	    "white-listed (expired allowed)", 30) == 0, "got %s", reason);
	/* allow-expired is for white entries only */
	ck_assert_int_eq(x509_ctl_set(ks, t, X509_CTL_BLACK, 1, &error), -1);
	/* white is not inherited: white-listing the black CA's issuer... */
	thumb_of("alice.crt", t);
	ck_assert_int_eq(x509_ctl_set(ks, t, X509_CTL_BLACK, 0, &error), 0);
	verdict_of("alice.crt", AT, &valid, reason, sizeof(reason));
	ck_assert_msg(!valid && strcmp(reason, "black-listed") == 0,
	    "got %s", reason);
	ck_assert_int_eq(x509_ctl_remove(ks, t, &error), 0);
	ck_assert_int_eq(x509_ctl_remove(ks, t, &error), 1);
	verdict_of("alice.crt", AT, &valid, reason, sizeof(reason));
	ck_assert_msg(valid, "got %s", reason);
	/* white-listing an intermediate does not make its orphans valid,
	 * and does not lift the black entry of the CA below */
	thumb_of("inter.crt", t);
	ck_assert_int_eq(x509_ctl_set(ks, t, X509_CTL_WHITE, 0, &error), 0);
	verdict_of("revoked.crt", AT, &valid, reason, sizeof(reason));
	ck_assert_msg(!valid, "got %s", reason);
	/* bad thumbprints */
	ck_assert_int_eq(x509_ctl_set(ks, "abc", X509_CTL_WHITE, 0, &error),
	    -1);
	ck_assert_ptr_nonnull(strstr(error, "bad thumbprint"));
}
END_TEST

START_TEST(import_formats)
{
	struct x509_import_result r = { 0 };
	const char *error = NULL;
	unsigned char *d;
	size_t len;

	/* PEM with two certificates */
	d = slurp("chain.pem", &len);
	ck_assert_int_eq(x509_import_certs(ks, X509KS_CERTS, d, len, &r,
	    &error), 0);
	ck_assert_uint_eq(r.added, 2);
	ck_assert_uint_eq(r.n, 2);
	x509_import_result_release(&r);
	/* again: a no-op */
	ck_assert_int_eq(x509_import_certs(ks, X509KS_CERTS, d, len, &r,
	    &error), 0);
	ck_assert_uint_eq(r.added, 0);
	ck_assert_uint_eq(r.existed, 2);
	x509_import_result_release(&r);
	free(d);
	/* PKCS#7 with the same two: existing */
	d = slurp("chain.p7b", &len);
	ck_assert_msg(x509_import_certs(ks, X509KS_CERTS, d, len, &r,
	    &error) == 0, "%s", error);
	ck_assert_uint_eq(r.existed, 2);
	x509_import_result_release(&r);
	free(d);
	/* DER */
	d = slurp("alice.der", &len);
	ck_assert_int_eq(x509_import_certs(ks, X509KS_CERTS, d, len, &r,
	    &error), 0);
	ck_assert_uint_eq(r.added, 1);
	x509_import_result_release(&r);
	/* truncated DER: refused, nothing stored */
	ck_assert_int_eq(x509_import_certs(ks, X509KS_CERTS, d, len - 1, &r,
	    &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "not a certificate"));
	x509_import_result_release(&r);
	free(d);
	/* a key alone is no certificate */
	d = slurp("alice.key", &len);
	ck_assert_int_eq(x509_import_certs(ks, X509KS_CERTS, d, len, &r,
	    &error), -1);
	ck_assert_str_eq(error, "no certificate in input");
	free(d);
}
END_TEST

START_TEST(import_limit)
{
	struct x509_import_result r = { 0 };
	const char *error = NULL;
	unsigned char *big = calloc(1, (size_t)X509_INPUT_MAX + 1);

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(x509_import_certs(ks, X509KS_CERTS, big,
	    (size_t)X509_INPUT_MAX + 1, &r, &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "larger than"));
	/* exactly the limit is parsed (and is no certificate) */
	ck_assert_int_eq(x509_import_certs(ks, X509KS_CERTS, big,
	    (size_t)X509_INPUT_MAX, &r, &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "not a certificate"));
	free(big);
}
END_TEST

START_TEST(pkcs12_keys)
{
	static const char *const files[] = { "alice.p12",
		"alice-legacy.p12" };
	struct x509_import_result r = { 0 };
	const char *error = NULL;
	unsigned char *d, *out = NULL;
	size_t len, olen;
	EVP_PKEY *k = NULL, *want;
	char t[X509_THUMB_LEN + 1], *kp;
	FILE *fp;
	int i;

	for (i = 0; i < 2; i++) {
		d = slurp(files[i], &len);
		ck_assert_int_eq(x509_import_pkcs12(ks, d, len, "wrong", &r,
		    &error), -1);
		ck_assert_msg(strstr(error, "wrong password") != NULL,
		    "%s: got %s", files[i], error);
		ck_assert_msg(x509_import_pkcs12(ks, d, len, "secret", &r,
		    &error) == 0, "%s: %s", files[i], error);
		ck_assert_uint_eq(r.keys_added, 1);
		ck_assert_uint_eq(r.n, 3);	/* alice, inter, root */
		x509_import_result_release(&r);
		free(d);
	}
	thumb_of("alice.crt", t);
	ck_assert_int_eq(x509_get_key(ks, t, &k, &error), 0);
	kp = tu_path(pki, "alice.key");
	fp = fopen(kp, "r");
	want = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	free(kp);
	ck_assert_int_eq(EVP_PKEY_eq(k, want), 1);
	EVP_PKEY_free(k);
	EVP_PKEY_free(want);
	/* export and import into a second keystore */
	ck_assert_msg(x509_export_pkcs12(ks, t, "pw", 0, &out, &olen,
	    &error) == 0, "%s", error);
	teardown();
	setup();
	ck_assert_msg(x509_import_pkcs12(ks, out, olen, "pw", &r,
	    &error) == 0, "%s", error);
	ck_assert_uint_eq(r.keys_added, 1);
	ck_assert_str_eq(r.thumbs[0], t);
	x509_import_result_release(&r);
	free(out);
	/* a certificate without key has none */
	thumb_of("root.crt", t);
	ck_assert_int_eq(x509_get_key(ks, t, &k, &error), 1);
}
END_TEST

START_TEST(key_sealed)
{
	const char *error = NULL;
	unsigned char *sealed = NULL;
	size_t slen;
	char t[X509_THUMB_LEN + 1];
	struct secret_key *other;
	static const unsigned char raw2[32] = { 9 };
	struct x509_ks *ks2 = NULL;
	EVP_PKEY *k = NULL;

	imp_p12("alice.p12", "secret");
	thumb_of("alice.crt", t);
	ck_assert_int_eq(store_x509_key_get(st, t, &sealed, &slen, &error),
	    0);
	ck_assert_int_eq(memcmp(sealed, "P1", 2), 0);
	free(sealed);
	/* another master key cannot open it */
	other = secret_key_from_bytes(raw2, sizeof(raw2));
	ck_assert_int_eq(x509_ks_new(st, other, &ks2, &error), 0);
	ck_assert_int_eq(x509_get_key(ks2, t, &k, &error), -1);
	ck_assert_ptr_null(k);
	x509_ks_free(&ks2);
	secret_key_free(&other);
}
END_TEST

static size_t
count_origin(struct x509_certlist *l, enum x509_origin o)
{
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		n += l->e[i].origin == o;
	return n;
}

START_TEST(encryption_selection)
{
	struct x509_certlist *l = NULL;
	const char *error = NULL;
	char ec[X509_THUMB_LEN + 1], rv[X509_THUMB_LEN + 1];
	char al[X509_THUMB_LEN + 1];

	imp_p12("alice.p12", "secret");
	imp_p12("alice2.p12", "secret");
	imp_p12("ec.p12", "secret");
	imp(X509KS_CERTS, "revoked.crt");
	imp(X509KS_CERTS, "expired.crt");
	thumb_of("ec.crt", ec);
	thumb_of("revoked.crt", rv);
	thumb_of("alice.crt", al);

	/* auto: both alice certs, case-insensitively */
	ck_assert_int_eq(x509_encryption_certs(ks, "Alice@Example.COM", AT,
	    X509_POL_AUTO_SELECT, &l, &error), 0);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_uint_eq(count_origin(l, X509_ORIGIN_AUTO), 2);
	x509_certlist_free(&l);
	ck_assert_ptr_null(l);
	/* auto off: none, not an error */
	ck_assert_int_eq(x509_encryption_certs(ks, "alice@example.com", AT,
	    0, &l, &error), 0);
	ck_assert_uint_eq(l->n, 0);
	x509_certlist_free(&l);
	/* expired with email match: skipped and said */
	ck_assert_int_eq(x509_encryption_certs(ks, "old@example.com", AT,
	    X509_POL_AUTO_SELECT, &l, &error), 0);
	ck_assert_uint_eq(l->n, 0);
	ck_assert_uint_eq(l->nskipped, 1);
	ck_assert_ptr_nonnull(strstr(l->skipped[0], "expired 2024-03-01"));
	x509_certlist_free(&l);

	/* domain selection inherited by a user of the domain */
	ck_assert_int_eq(x509_select(ks, ADDRESS_LEVEL_DOMAIN, "Example.com",
	    ec, X509_SEL_ENCRYPTION, &error), 0);
	ck_assert_int_eq(x509_select(ks, ADDRESS_LEVEL_DOMAIN, "example.com",
	    ec, X509_SEL_ENCRYPTION, &error), 0);	/* twice: no-op */
	ck_assert_int_eq(x509_encryption_certs(ks, "bob@example.com", AT,
	    X509_POL_AUTO_SELECT, &l, &error), 0);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_str_eq(l->e[0].thumb, ec);
	ck_assert_int_eq(l->e[0].level, ADDRESS_LEVEL_DOMAIN);
	x509_certlist_free(&l);
	/* a user-level selection wins over the domain's (not merged); an
	 * invalid selected certificate is skipped */
	ck_assert_int_eq(x509_select(ks, ADDRESS_LEVEL_USER,
	    "bob@example.com", rv, X509_SEL_ENCRYPTION, &error), 0);
	ck_assert_int_eq(x509_encryption_certs(ks, "bob@example.com", AT,
	    X509_POL_AUTO_SELECT, &l, &error), 0);
	ck_assert_uint_eq(l->n, 0);
	ck_assert_uint_eq(l->nskipped, 1);
	ck_assert_ptr_nonnull(strstr(l->skipped[0], "revoked by"));
	x509_certlist_free(&l);
	/* wildcard selection reaches a subdomain */
	ck_assert_int_eq(x509_select(ks, ADDRESS_LEVEL_WILDCARD,
	    "*.example.org", ec, X509_SEL_ENCRYPTION, &error), 0);
	ck_assert_int_eq(x509_encryption_certs(ks, "x@a.example.org", AT,
	    X509_POL_AUTO_SELECT, &l, &error), 0);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_int_eq(l->e[0].level, ADDRESS_LEVEL_WILDCARD);
	x509_certlist_free(&l);
	/* additional: global, only with the policy flag, not twice */
	ck_assert_int_eq(x509_select(ks, ADDRESS_LEVEL_GLOBAL, NULL, al,
	    X509_SEL_ADDITIONAL, &error), 0);
	ck_assert_int_eq(x509_encryption_certs(ks, "x@a.example.org", AT,
	    X509_POL_AUTO_SELECT, &l, &error), 0);
	ck_assert_uint_eq(l->n, 1);
	x509_certlist_free(&l);
	ck_assert_int_eq(x509_encryption_certs(ks, "x@a.example.org", AT,
	    X509_POL_AUTO_SELECT | X509_POL_ADDITIONAL, &l, &error), 0);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_uint_eq(count_origin(l, X509_ORIGIN_ADDITIONAL), 1);
	x509_certlist_free(&l);
	ck_assert_int_eq(x509_encryption_certs(ks, "alice@example.com", AT,
	    X509_POL_AUTO_SELECT | X509_POL_ADDITIONAL, &l, &error), 0);
	/* alice once (auto, also additional), alice2, ec (domain) */
	ck_assert_uint_eq(l->n, 3);
	x509_certlist_free(&l);

	/* delete refused while selected, then forced */
	ck_assert_int_eq(x509_delete(ks, X509KS_CERTS, ec, 0, &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "selected"));
	ck_assert_int_eq(x509_delete(ks, X509KS_CERTS, ec, 1, &error), 0);
	ck_assert_int_eq(x509_delete(ks, X509KS_CERTS, ec, 1, &error), 1);
	ck_assert_int_eq(x509_deselect(ks, ADDRESS_LEVEL_DOMAIN,
	    "example.com", ec, X509_SEL_ENCRYPTION, &error), 1);
	/* bad owners */
	ck_assert_int_eq(x509_select(ks, ADDRESS_LEVEL_USER, "nobody", al,
	    X509_SEL_ENCRYPTION, &error), -1);
	ck_assert_int_eq(x509_select(ks, ADDRESS_LEVEL_DOMAIN, "*.x.org", al,
	    X509_SEL_ENCRYPTION, &error), -1);
}
END_TEST

START_TEST(signing_selection)
{
	const char *error = NULL;
	char reason[X509_REASON_MAX], t[X509_THUMB_LEN + 1];
	char want[X509_THUMB_LEN + 1];
	STACK_OF(X509) *chain = NULL;
	X509 *c = NULL;
	EVP_PKEY *k = NULL;

	imp_p12("alice.p12", "secret");
	imp_p12("alice2.p12", "secret");
	imp_p12("signonly.p12", "secret");
	imp(X509KS_CERTS, "revoked.crt");

	/* first stored valid one */
	ck_assert_int_eq(x509_signing_cert(ks, "alice@example.com", AT, 0,
	    &c, &k, &chain, reason, sizeof(reason), &error), 0);
	x509_thumbprint(c, t);
	thumb_of("alice.crt", want);
	ck_assert_str_eq(t, want);
	ck_assert_int_eq(sk_X509_num(chain), 1);	/* the intermediate */
	ck_assert_int_eq(X509_check_private_key(c, k), 1);
	X509_free(c);
	EVP_PKEY_free(k);
	sk_X509_pop_free(chain, X509_free);
	chain = NULL;
	/* freshest: alice2 (notBefore 2025-06-01) */
	ck_assert_int_eq(x509_signing_cert(ks, "alice@example.com", AT,
	    X509_POL_FRESHEST, &c, &k, NULL, reason, sizeof(reason), &error),
	    0);
	x509_thumbprint(c, t);
	thumb_of("alice2.crt", want);
	ck_assert_str_eq(t, want);
	X509_free(c);
	EVP_PKEY_free(k);
	/* manual selection wins */
	thumb_of("signonly.crt", want);
	ck_assert_int_eq(x509_select(ks, ADDRESS_LEVEL_USER,
	    "alice@example.com", want, X509_SEL_SIGNING, &error), 0);
	ck_assert_int_eq(x509_signing_cert(ks, "alice@example.com", AT,
	    X509_POL_FRESHEST, &c, &k, NULL, reason, sizeof(reason), &error),
	    0);
	x509_thumbprint(c, t);
	ck_assert_str_eq(t, want);
	X509_free(c);
	EVP_PKEY_free(k);
	/* no key: cannot be selected for signing */
	thumb_of("revoked.crt", t);
	ck_assert_int_eq(x509_select(ks, ADDRESS_LEVEL_USER,
	    "alice@example.com", t, X509_SEL_SIGNING, &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "private key"));
	/* nobody */
	ck_assert_int_eq(x509_signing_cert(ks, "revoked@example.com", AT, 0,
	    &c, &k, NULL, reason, sizeof(reason), &error), 1);
	ck_assert_ptr_null(c);
	/* at a time when alice is not yet valid and alice2 neither */
	ck_assert_int_eq(x509_signing_cert(ks, "alice2@example.com", AT, 0,
	    &c, &k, NULL, reason, sizeof(reason), &error), 1);
}
END_TEST

START_TEST(decrypt_lookup)
{
	struct x509_rid rid = { 0 };
	const char *error = NULL;
	char t[X509_THUMB_LEN + 1], want[X509_THUMB_LEN + 1];
	X509 *a = load("alice.crt"), *e = load("ec.crt"), *c = NULL;
	X509 *r = load("revoked.crt");
	EVP_PKEY *k = NULL;

	imp_p12("alice.p12", "secret");
	imp_p12("ec.p12", "secret");
	imp(X509KS_CERTS, "revoked.crt");
	rid.issuer = X509_get_issuer_name(a);
	rid.serial = X509_get0_serialNumber(a);
	ck_assert_int_eq(x509_key_by_rid(ks, &rid, &c, &k, t, &error), 0);
	thumb_of("alice.crt", want);
	ck_assert_str_eq(t, want);
	ck_assert_int_eq(X509_check_private_key(c, k), 1);
	X509_free(c);
	EVP_PKEY_free(k);
	/* same serial, other issuer: none */
	rid.issuer = X509_get_subject_name(a);
	ck_assert_int_eq(x509_key_by_rid(ks, &rid, &c, &k, t, &error), 1);
	/* a certificate without key: none */
	rid.issuer = X509_get_issuer_name(r);
	rid.serial = X509_get0_serialNumber(r);
	ck_assert_int_eq(x509_key_by_rid(ks, &rid, &c, &k, t, &error), 1);
	/* subject key identifier */
	memset(&rid, 0, sizeof(rid));
	rid.skid = X509_get0_subject_key_id(e);
	ck_assert_int_eq(x509_key_by_rid(ks, &rid, &c, &k, t, &error), 0);
	thumb_of("ec.crt", want);
	ck_assert_str_eq(t, want);
	X509_free(c);
	EVP_PKEY_free(k);
	X509_free(a);
	X509_free(e);
	X509_free(r);
}
END_TEST

START_TEST(strict_rules)
{
	static const struct {
		const char *rcpt;
		int allow;
		const char *reason;
	} cases[] = {
		{ "alice@EXAMPLE.com", 1, "(a) email match" },
		{ "bob@example.com", 1, "(b) selected for user" },
		{ "carol@other.org", 1, "(c) selected for domain other.org" },
		{ "dan@x.wild.net", 1, "(c) selected for domain *.wild.net" },
		{ "eve@example.com", 0, "not associated with eve@example.com" },
	};
	const char *error = NULL;
	char t[X509_THUMB_LEN + 1], reason[X509_REASON_MAX];
	size_t i;
	int allow;

	imp_p12("alice.p12", "secret");
	thumb_of("alice.crt", t);
	ck_assert_int_eq(x509_select(ks, ADDRESS_LEVEL_USER,
	    "bob@example.com", t, X509_SEL_ENCRYPTION, &error), 0);
	ck_assert_int_eq(x509_select(ks, ADDRESS_LEVEL_DOMAIN, "other.org", t,
	    X509_SEL_ENCRYPTION, &error), 0);
	ck_assert_int_eq(x509_select(ks, ADDRESS_LEVEL_WILDCARD,
	    "*.wild.net", t, X509_SEL_ENCRYPTION, &error), 0);
	/* global is not a rule of strict mode */
	ck_assert_int_eq(x509_select(ks, ADDRESS_LEVEL_GLOBAL, NULL, t,
	    X509_SEL_ENCRYPTION, &error), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(x509_strict_allows(ks, cases[i].rcpt, t, AT,
		    &allow, reason, sizeof(reason), &error), 0);
		ck_assert_msg(allow == cases[i].allow &&
		    strcmp(reason, cases[i].reason) == 0,
		    "%s: got %d '%s', want %d '%s'", cases[i].rcpt, allow,
		    reason, cases[i].allow, cases[i].reason);
	}
	/* valid only: black-listed now */
	ck_assert_int_eq(x509_ctl_set(ks, t, X509_CTL_BLACK, 0, &error), 0);
	ck_assert_int_eq(x509_strict_allows(ks, "alice@example.com", t, AT,
	    &allow, reason, sizeof(reason), &error), 0);
	ck_assert_msg(!allow && strcmp(reason, "black-listed") == 0, "got %s",
	    reason);
	/* a certificate without key never allows */
	imp(X509KS_CERTS, "alice2.crt");
	thumb_of("alice2.crt", t);
	ck_assert_int_eq(x509_strict_allows(ks, "alice@example.com", t, AT,
	    &allow, reason, sizeof(reason), &error), 0);
	ck_assert_msg(!allow && strcmp(reason, "no private key") == 0,
	    "got %s", reason);
}
END_TEST

START_TEST(export_formats)
{
	const char *error = NULL;
	char t[2][X509_THUMB_LEN + 1];
	const char *th[2] = { t[0], t[1] };
	struct x509_import_result r = { 0 };
	unsigned char *out = NULL;
	size_t len;
	static const enum x509_format fmts[] = { X509F_PEM, X509F_P7B };
	size_t i;

	imp(X509KS_CERTS, "inter.crt");
	imp(X509KS_CERTS, "black-ca.crt");
	thumb_of("inter.crt", t[0]);
	thumb_of("black-ca.crt", t[1]);
	for (i = 0; i < 2; i++) {
		ck_assert_msg(x509_export_certs(ks, X509KS_CERTS, th, 2,
		    fmts[i], &out, &len, &error) == 0, "%s", error);
		teardown();
		setup();
		ck_assert_int_eq(x509_import_certs(ks, X509KS_CERTS, out, len,
		    &r, &error), 0);
		ck_assert_uint_eq(r.added, 2);
		ck_assert_str_eq(r.thumbs[0], t[0]);
		x509_import_result_release(&r);
		free(out);
		out = NULL;
	}
	ck_assert_int_eq(x509_export_certs(ks, X509KS_CERTS, th, 2, X509F_DER,
	    &out, &len, &error), -1);
	ck_assert_int_eq(x509_export_certs(ks, X509KS_CERTS, th, 1, X509F_DER,
	    &out, &len, &error), 0);
	free(out);
}
END_TEST

START_TEST(email_index_used)
{
	char plan[1024];
	const char *error = NULL;

	ck_assert_int_eq(store_x509_explain_email(st, plan, sizeof(plan),
	    &error), 0);
	ck_assert_msg(strstr(plan, "SEARCH e USING") != NULL &&
	    strstr(plan, "(email=?)") != NULL && strstr(plan, "SCAN") == NULL,
	    "plan: %s", plan);
}
END_TEST

START_TEST(crl_list)
{
	struct x509_import_result r = { 0 };
	const char *error = NULL;
	size_t len;
	unsigned char *d = slurp("inter.crl", &len);

	/* again: no-op */
	ck_assert_int_eq(x509_import_crls(ks, d, len, &r, &error), 0);
	ck_assert_uint_eq(r.crls_added, 0);
	ck_assert_uint_eq(r.existed, 1);
	free(d);
	d = slurp("alice.crt", &len);
	ck_assert_int_eq(x509_import_crls(ks, d, len, &r, &error), -1);
	ck_assert_str_eq(error, "no CRL in input");
	free(d);
}
END_TEST

Suite *
x509_suite(void)
{
	Suite *s = suite_create("x509");
	TCase *tc = tcase_create("pki");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, pki_make, pki_free);
	tcase_add_checked_fixture(tc, setup_pki, teardown);
	tcase_add_loop_test(tc, verdict_table, 0,
	    sizeof(verdicts) / sizeof(verdicts[0]));
	tcase_add_test(tc, ctl_white_black);
	tcase_add_test(tc, encryption_selection);
	tcase_add_test(tc, signing_selection);
	tcase_add_test(tc, decrypt_lookup);
	tcase_add_test(tc, strict_rules);
	tcase_add_test(tc, crl_list);
	suite_add_tcase(s, tc);

	tc = tcase_create("io");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, pki_make, pki_free);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, import_formats);
	tcase_add_test(tc, import_limit);
	tcase_add_test(tc, pkcs12_keys);
	tcase_add_test(tc, key_sealed);
	tcase_add_test(tc, export_formats);
	tcase_add_test(tc, email_index_used);
	suite_add_tcase(s, tc);
	return s;
}
