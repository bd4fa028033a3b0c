/*
 * x509 verdicts on PKIs written by others (../shared/corpora): the
 * Thunderbird/NSS test CA, MimeKit's chains (revoked end entity, revoked
 * sub-CA; the CRLs MimeKit makes at test time are made here from the
 * corpus CA keys by t/data/mimekit-crls.sh), RFC 4134's Carl with its
 * CRLs, OpenSSL's S/MIME test PKI.  Expected verdicts come from the
 * PROVENANCE.md files; times are pinned.  Skips without the corpora.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "secret.h"
#include "store.h"
#include "testutil.h"
#include "x509.h"

#define AT ((time_t)1798761600)		/* 2027-01-01 */
#define AT_2031 ((time_t)1927670400)	/* 2031-02-01 */
#define AT_2013 ((time_t)1383350400)	/* 2013-11-02 */

static const char *corp;
static char *crldir;
static char *dir;
static struct store *st;
static struct secret_key *mkey;
static struct x509_ks *ks;

static void
corpus_setup(void)
{
	char cmd[1024];

	corp = tu_corpora();
	if (corp == NULL)
		return;
	crldir = tu_tmpdir();
	snprintf(cmd, sizeof(cmd), "t/data/mimekit-crls.sh '%s' '%s'", corp,
	    crldir);
	ck_assert_msg(system(cmd) == 0, "mimekit-crls.sh failed");
}

static void
corpus_teardown(void)
{
	tu_tmpdir_free(&crldir);
}

static unsigned char *
slurp(const char *base, const char *name, size_t *len_r)
{
	char *p = tu_path(base, name);
	unsigned char *d = (unsigned char *)tu_read_file(p, len_r);

	ck_assert_msg(d != NULL, "cannot read %s", p);
	free(p);
	return d;
}

/* Import a file: kind 'r' root certs, 'c' certs, 'p' PKCS#12 (the
 * certificate and key into certs), 'R' the key certificate of a PKCS#12
 * as root, 'l' CRLs.  base NULL: the corpora. */
static void
imp(char kind, const char *base, const char *name, const char *pass)
{
	struct x509_import_result r = { 0 };
	const char *error = NULL;
	size_t len, olen;
	unsigned char *d = slurp(base != NULL ? base : corp, name, &len);
	unsigned char *out = NULL;
	int rc = -1;

	switch (kind) {
	case 'r':
	case 'c':
		rc = x509_import_certs(ks, kind == 'r' ? X509KS_ROOTS :
		    X509KS_CERTS, d, len, &r, &error);
		break;
	case 'p':
	case 'R':
		rc = x509_import_pkcs12(ks, d, len, pass, &r, &error);
		if (rc == 0 && kind == 'R') {
			const char *t = r.thumbs[0];

			rc = x509_export_certs(ks, X509KS_CERTS, &t, 1,
			    X509F_DER, &out, &olen, &error);
			if (rc == 0)
				rc = x509_import_certs(ks, X509KS_ROOTS, out,
				    olen, NULL, &error);
			free(out);
		}
		break;
	case 'l':
		rc = x509_import_crls(ks, d, len, &r, &error);
		break;
	}
	ck_assert_msg(rc == 0, "import %s: %s", name, error);
	x509_import_result_release(&r);
	free(d);
}

/* The certificate of a file: PEM, DER, or the key's certificate of a
 * PKCS#12 when pass is not NULL. */
static X509 *
load(const char *name, const char *pass)
{
	size_t len;
	unsigned char *d = slurp(corp, name, &len);
	const unsigned char *p = d;
	X509 *c = NULL;

	if (pass != NULL) {
		PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
		EVP_PKEY *k = NULL;

		ck_assert_ptr_nonnull(p12);
		ck_assert_int_eq(PKCS12_parse(p12, pass, &k, &c, NULL), 1);
		EVP_PKEY_free(k);
		PKCS12_free(p12);
	} else if (memmem(d, len, "-----BEGIN", 10) != NULL) {
		BIO *b = BIO_new_mem_buf(d, (int)len);

		c = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	} else {
		c = d2i_X509(NULL, &p, (long)len);
	}
	ck_assert_msg(c != NULL, "cannot load %s", name);
	free(d);
	return c;
}

static void
setup(void)
{
	static const unsigned char raw[32] = { 7 };
	const char *error = NULL;
	char *db;

	if (corp == NULL)
		return;
	dir = tu_tmpdir();
	db = tu_path(dir, "p.db");
	ck_assert_int_eq(store_open(&st, db, 1000, STORE_CREATE, &error), 0);
	free(db);
	mkey = secret_key_from_bytes(raw, sizeof(raw));
	ck_assert_int_eq(x509_ks_new(st, mkey, &ks, &error), 0);
	/* Thunderbird / NSS */
	imp('r', NULL, "thunderbird/smime/TestCA.pem", NULL);
	imp('p', NULL, "thunderbird/smime/Alice.p12", "nss");
	imp('p', NULL, "thunderbird/smime/Bob.p12", "nss");
	imp('p', NULL, "thunderbird/smime/Dave.p12", "nss");
	imp('p', NULL, "thunderbird/smime/Fran.p12", "nss");
	/* MimeKit: legacy RC2/3DES PKCS#12 throughout */
	imp('R', NULL, "mimekit/smime/certificate-authority.pfx", "no.secret");
	imp('p', NULL, "mimekit/smime/intermediate1.pfx", "no.secret");
	imp('p', NULL, "mimekit/smime/intermediate2.pfx", "no.secret");
	imp('p', NULL, "mimekit/smime/revoked-intermediate.pfx", "no.secret");
	imp('p', NULL, "mimekit/smime/rsa/smime.pfx", "no.secret");
	imp('p', NULL, "mimekit/smime/revoked/smime.pfx", "no.secret");
	imp('p', NULL, "mimekit/smime/revokedsubca/smime.pfx", "no.secret");
	imp('p', NULL, "mimekit/smime/nochain/smime.pfx", "no.secret");
	imp('p', NULL, "mimekit/smime/revokednochain/smime.pfx", "no.secret");
	imp('p', NULL, "mimekit/smime/ec/smime.pfx", "no.secret");
	imp('p', NULL, "mimekit/smime/dsa/smime.pfx", "no.secret");
	imp('p', NULL, "mimekit/smime/dnsnames/smime.pfx", "no.secret");
	/* GMime: the MimeKit UnitTests key of 2017, expired 2018-01-28 */
	imp('p', NULL, "gmime/smime/smime.p12", "no.secret");
	imp('l', crldir, "inter2.crl", NULL);
	imp('l', crldir, "root.crl", NULL);
	/* RFC 4134 */
	imp('r', NULL, "rfc4134/CarlRSASelf.cer", NULL);
	imp('c', NULL, "rfc4134/AliceRSASignByCarl.cer", NULL);
	imp('c', NULL, "rfc4134/BobRSASignByCarl.cer", NULL);
	/* OpenSSL (PEM files carry the key too: skipped on import) */
	imp('r', NULL, "openssl/smime-certs/smroot.pem", NULL);
	imp('c', NULL, "openssl/smime-certs/smrsa1.pem", NULL);
	imp('c', NULL, "openssl/smime-certs/smec3.pem", NULL);
	imp('c', NULL, "openssl/smime-certs/csrsa1.pem", NULL);
}

static void
teardown(void)
{
	x509_ks_free(&ks);
	store_free(&st);
	secret_key_free(&mkey);
	if (dir != NULL)
		tu_tmpdir_free(&dir);
}

static const struct corpus_case {
	const char *file;
	const char *pass;	/* PKCS#12 */
	enum x509_use use;
	time_t at;
	int valid;
	const char *reason;
} cases[] = {
	{ "thunderbird/smime/Alice.p12", "nss", X509_USE_SIGN, AT, 1,
	    "valid" },
	{ "thunderbird/smime/Bob.p12", "nss", X509_USE_ENCRYPT, AT, 1,
	    "valid" },
	{ "thunderbird/smime/Dave.p12", "nss", X509_USE_SIGN, AT, 1,
	    "valid" },
	/* expiration.txt: end entities expire 2031-01-26 */
	{ "thunderbird/smime/Bob.p12", "nss", X509_USE_ENCRYPT, AT_2031, 0,
	    "expired 2031-01-26" },
	/* Fran's issuer, "NSS Pregenerated Test CA", is not in the set */
	{ "thunderbird/smime/Fran.p12", "nss", X509_USE_ENCRYPT, AT, 0,
	    "no path to a trusted root" },
	{ "mimekit/smime/rsa/smime.pfx", "no.secret", X509_USE_ENCRYPT, AT, 1,
	    "valid" },
	{ "mimekit/smime/nochain/smime.pfx", "no.secret", X509_USE_SIGN, AT,
	    1, "valid" },
	{ "mimekit/smime/revoked/smime.pfx", "no.secret", X509_USE_ENCRYPT,
	    AT, 0, "revoked by MimeKit Secondary Intermediate CA CRL" },
	{ "mimekit/smime/revoked-intermediate.pfx", "no.secret",
	    X509_USE_PATH, AT, 0,
	    "revoked by MimeKit Root Certification Authority CRL" },
	/* PROVENANCE says revokedsubca is under the revoked intermediate,
	 * but its pfx chain is Root -> Tertiary -> EE: the revoked CA is
	 * not on its path, so it is valid (checked with openssl verify) */
	{ "mimekit/smime/revokedsubca/smime.pfx", "no.secret", X509_USE_SIGN,
	    AT, 1, "valid" },
	{ "rfc4134/AliceRSASignByCarl.cer", NULL, X509_USE_SIGN, AT, 1,
	    "valid" },
	{ "rfc4134/AliceRSASignByCarl.cer", NULL, X509_USE_ENCRYPT, AT, 0,
	    "key usage does not allow encryption" },
	{ "rfc4134/BobRSASignByCarl.cer", NULL, X509_USE_ENCRYPT, AT, 1,
	    "valid" },
	{ "openssl/smime-certs/smrsa1.pem", NULL, X509_USE_ENCRYPT, AT, 1,
	    "valid" },
	/* smec3 is of the 2017 generation; its root is not in the corpus */
	{ "openssl/smime-certs/smec3.pem", NULL, X509_USE_ENCRYPT, AT, 0,
	    "no path to a trusted root" },
	{ "openssl/smime-certs/csrsa1.pem", NULL, X509_USE_SIGN, AT, 0,
	    "extended key usage does not allow email protection" },
	/* a root of another PKI is no anchor for this one (2013: while the
	 * StartCom intermediate was within its dates) */
	{ "mimekit/smime/StartComClass1PrimaryIntermediateClientCA.crt", NULL,
	    X509_USE_PATH, AT_2013, 0, "no path to a trusted root" },
	/* "StartCom certs expired / distrusted": its own expiry is the
	 * reason, whatever root might be imported */
	{ "mimekit/smime/StartComClass1PrimaryIntermediateClientCA.crt", NULL,
	    X509_USE_PATH, AT, 0, "expired 2017-10-24" },
	/* revoked, no chain in the pfx: the path comes from the store */
	{ "mimekit/smime/revokednochain/smime.pfx", "no.secret",
	    X509_USE_ENCRYPT, AT, 0,
	    "revoked by MimeKit Secondary Intermediate CA CRL" },
	/* its key has explicit curve parameters, which RFC 5480 forbids
	 * and OpenSSL 3 refuses */
	{ "mimekit/smime/ec/smime.pfx", "no.secret", X509_USE_SIGN, AT, 0,
	    "Certificate public key has explicit ECC parameters "
	    "(MimeKit UnitTests)" },
	{ "mimekit/smime/dsa/smime.pfx", "no.secret", X509_USE_SIGN, AT, 1,
	    "valid" },
	/* its key usage says keyEncipherment, but DSA only signs */
	{ "mimekit/smime/dsa/smime.pfx", "no.secret", X509_USE_ENCRYPT, AT, 0,
	    "a DSA key cannot encrypt" },
	/* no e-mail address: a valid certificate, but never selected (see
	 * dnsnames_never_selected) */
	{ "mimekit/smime/dnsnames/smime.pfx", "no.secret", X509_USE_SIGN, AT,
	    1, "valid" },
	/* gmime/PROVENANCE.md: "must report expired, not valid" (its CA
	 * is not in the corpus: the expiry is still the reason) */
	{ "gmime/smime/smime.p12", "no.secret", X509_USE_SIGN, AT, 0,
	    "expired 2018-01-28" },
	{ "gmime/smime/smime.p12", "no.secret", X509_USE_SIGN,
	    (time_t)1500000000, 0, "no path to a trusted root" },
};

START_TEST(corpus_verdicts)
{
	const struct corpus_case *c = &cases[_i];
	struct x509_verdict v;
	const char *error = NULL;
	X509 *cert;

	if (corp == NULL)
		return;
	cert = load(c->file, c->pass);
	x509_verdict_init(&v);
	ck_assert_msg(x509_verify(ks, cert, NULL, c->at, c->use, &v,
	    &error) == 0, "%s", error);
	ck_assert_msg(v.valid == c->valid && strcmp(v.reason, c->reason) == 0,
	    "%s use %d: got %d '%s', want %d '%s'", c->file, c->use, v.valid,
	    v.reason, c->valid, c->reason);
	x509_verdict_release(&v);
	X509_free(cert);
}
END_TEST

/*
 * mimekit/PROVENANCE.md: dnsnames has DNS SANs only, "a cert that must
 * not be accepted as the sender's S/MIME cert": no address selects it,
 * neither for signing (it has a key) nor for encryption, not even one
 * built from its DNS names; the e-mail certificates next to it are (the
 * DSA one for signing only).
 */
START_TEST(dnsnames_never_selected)
{
	static const char *const addrs[] = {
		"mimekit@domain-wide.mimekit.net",
		"unittests@domain-wide.mimekit.net",
		"postmaster@xn--lothlrien-96a.com",
	};
	struct x509_certlist *l = NULL;
	const char *error = NULL;
	char reason[X509_REASON_MAX];
	X509 *c = NULL;
	EVP_PKEY *k = NULL;
	size_t i;

	if (corp == NULL)
		return;
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		ck_assert_int_eq(x509_signing_cert(ks, addrs[i], AT,
		    X509_POL_AUTO_SELECT, &c, &k, NULL, reason,
		    sizeof(reason), &error), 1);
		ck_assert_int_eq(x509_encryption_certs(ks, addrs[i], AT,
		    X509_POL_AUTO_SELECT, &l, &error), 0);
		ck_assert_msg(l->n == 0, "%s: %zu certificates", addrs[i], l->n);
		x509_certlist_free(&l);
	}
	/* the RSA certificate of the same CA is found by its address;
	 * the DSA one only for signing */
	ck_assert_int_eq(x509_encryption_certs(ks, "rsa@mimekit.net", AT,
	    X509_POL_AUTO_SELECT, &l, &error), 0);
	ck_assert_uint_eq(l->n, 1);
	x509_certlist_free(&l);
	ck_assert_int_eq(x509_encryption_certs(ks, "dsa@mimekit.net", AT,
	    X509_POL_AUTO_SELECT, &l, &error), 0);
	ck_assert_uint_eq(l->n, 0);
	x509_certlist_free(&l);
	ck_assert_int_eq(x509_signing_cert(ks, "dsa@mimekit.net", AT,
	    X509_POL_AUTO_SELECT, &c, &k, NULL, reason, sizeof(reason),
	    &error), 0);
	X509_free(c);
	EVP_PKEY_free(k);
}
END_TEST

/* RFC 4134: CarlRSACRLForAll revokes Alice and Bob. */
START_TEST(rfc4134_crl)
{
	struct x509_verdict v;
	const char *error = NULL;
	X509 *bob;

	if (corp == NULL)
		return;
	imp('l', NULL, "rfc4134/CarlRSACRLEmpty.crl", NULL);
	bob = load("rfc4134/BobRSASignByCarl.cer", NULL);
	x509_verdict_init(&v);
	ck_assert_int_eq(x509_verify(ks, bob, NULL, AT, X509_USE_ENCRYPT, &v,
	    &error), 0);
	ck_assert_msg(v.valid, "got %s", v.reason);
	imp('l', NULL, "rfc4134/CarlRSACRLForAll.crl", NULL);
	ck_assert_int_eq(x509_verify(ks, bob, NULL, AT, X509_USE_ENCRYPT, &v,
	    &error), 0);
	ck_assert_msg(!v.valid && strcmp(v.reason, "revoked by CarlRSA CRL")
	    == 0, "got %s", v.reason);
	x509_verdict_release(&v);
	X509_free(bob);
}
END_TEST

/* Thunderbird: Bob's key found by the RecipientInfo of a real message's
 * recipient (issuer+serial), strict mode (a) for Bob, not for Alice. */
START_TEST(thunderbird_strict)
{
	struct x509_rid rid = { 0 };
	const char *error = NULL;
	char t[X509_THUMB_LEN + 1], reason[X509_REASON_MAX];
	X509 *bob, *c = NULL;
	EVP_PKEY *k = NULL;
	int allow;

	if (corp == NULL)
		return;
	bob = load("thunderbird/smime/Bob.p12", "nss");
	rid.issuer = X509_get_issuer_name(bob);
	rid.serial = X509_get0_serialNumber(bob);
	ck_assert_int_eq(x509_key_by_rid(ks, &rid, &c, &k, t, &error), 0);
	ck_assert_int_eq(X509_cmp(c, bob), 0);
	ck_assert_int_eq(x509_strict_allows(ks, "Bob@example.com", t, AT,
	    &allow, reason, sizeof(reason), &error), 0);
	ck_assert_msg(allow && strcmp(reason, "(a) email match") == 0,
	    "got %s", reason);
	ck_assert_int_eq(x509_strict_allows(ks, "alice@example.com", t, AT,
	    &allow, reason, sizeof(reason), &error), 0);
	ck_assert_msg(!allow, "got %s", reason);
	X509_free(c);
	EVP_PKEY_free(k);
	X509_free(bob);
}
END_TEST

/* Find the key of a real message's RecipientInfo (KTRI: Bob, NSS; KARI:
 * Fran-ec, ECDH) and decrypt with it: the lookup the S/MIME code uses. */
static const struct {
	const char *mail, *p12;
	int type;
} rimails[] = {
	{ "thunderbird/smime/alice.env.eml", NULL, CMS_RECIPINFO_TRANS },
	{ "thunderbird/smime-interop/fran-ec_ossl-aes128-sha256.env",
	    "thunderbird/smime-interop/Fran-ec.p12", CMS_RECIPINFO_AGREE },
};

START_TEST(recipientinfo_decrypts)
{
	STACK_OF(CMS_RecipientInfo) *ris;
	const char *error = NULL;
	char t[X509_THUMB_LEN + 1];
	CMS_ContentInfo *cms;
	BIO *in, *out;
	char *path;
	int i, found = 0;

	if (corp == NULL)
		return;
	if (rimails[_i].p12 != NULL)
		imp('p', NULL, rimails[_i].p12, "nss");
	path = tu_path(corp, rimails[_i].mail);
	in = BIO_new_file(path, "r");
	free(path);
	ck_assert_ptr_nonnull(in);
	cms = SMIME_read_CMS(in, NULL);
	BIO_free(in);
	ck_assert_ptr_nonnull(cms);
	ris = CMS_get0_RecipientInfos(cms);
	for (i = 0; i < sk_CMS_RecipientInfo_num(ris) && !found; i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);
		X509 *c = NULL;
		EVP_PKEY *k = NULL;
		int r;

		r = x509_key_by_recipientinfo(ks, ri, &c, &k, t, &error);
		ck_assert_int_ne(r, -1);
		if (r == 1)
			continue;
		ck_assert_int_eq(CMS_RecipientInfo_type(ri),
		    rimails[_i].type);
		ck_assert_int_eq(CMS_decrypt_set1_pkey_and_peer(cms, k, c,
		    NULL), 1);
		out = BIO_new(BIO_s_mem());
		ck_assert_int_eq(CMS_decrypt(cms, NULL, NULL, NULL, out, 0),
		    1);
		ck_assert_int_gt(BIO_pending(out), 0);
		BIO_free(out);
		found = 1;
		X509_free(c);
		EVP_PKEY_free(k);
	}
	ck_assert_msg(found, "%s: no RecipientInfo matched a stored key",
	    rimails[_i].mail);
	CMS_ContentInfo_free(cms);
}
END_TEST

Suite *
x509_corpus_suite(void)
{
	Suite *s = suite_create("x509_corpus");
	TCase *tc = tcase_create("corpus");

	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, corpus_setup, corpus_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, corpus_verdicts, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, rfc4134_crl);
	tcase_add_test(tc, dnsnames_never_selected);
	tcase_add_test(tc, thunderbird_strict);
	tcase_add_loop_test(tc, recipientinfo_decrypts, 0,
	    sizeof(rimails) / sizeof(rimails[0]));
	suite_add_tcase(s, tc);
	return s;
}
