/* x509: keystore handle, certificate metadata, import and export, CRLs,
 * trust list and selection rows.  See x509.h. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "secret.h"
#include "store.h"
#include "store_x509.h"
#include "str.h"
#include "x509_int.h"

static pthread_once_t providers_once = PTHREAD_ONCE_INIT;
static int providers_ok;
/* kept for the life of the process, unloaded at exit */
static OSSL_PROVIDER *prov_default, *prov_legacy;

/* PKCS#12 files from before OpenSSL 3 use RC2/3DES; those live in the
 * legacy provider, and loading one provider stops the implicit loading
 * of the default one, so both are loaded (once, for the process). */
static void
providers_unload(void)
{
	OSSL_PROVIDER_unload(prov_legacy);
	OSSL_PROVIDER_unload(prov_default);
	prov_legacy = prov_default = NULL;
}

static void
providers_load(void)
{
	prov_default = OSSL_PROVIDER_load(NULL, "default");
	prov_legacy = OSSL_PROVIDER_load(NULL, "legacy");
	providers_ok = prov_default != NULL && prov_legacy != NULL;
	/* registered after OpenSSL's own atexit handler, so it runs first */
	atexit(providers_unload);
	ERR_clear_error();
}

static const char *
ossl_err(const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256];

	if (e == 0)
		return err_fmt("%s", what);
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return err_fmt("%s: %s", what, buf);
}

int
x509_ks_new(struct store *st, const struct secret_key *mkey,
    struct x509_ks **ks_r, const char **error_r)
{
	struct x509_ks *ks;

	*ks_r = NULL;
	pthread_once(&providers_once, providers_load);
	if (!providers_ok)
		return err_set(error_r, "cannot load the OpenSSL default and "
		    "legacy providers");
	if ((ks = calloc(1, sizeof(*ks))) == NULL)
		return err_set(error_r, "out of memory");
	ks->st = st;
	ks->mkey = mkey;
	*ks_r = ks;
	return 0;
}

void
x509_ks_roots_drop(struct x509_ks *ks)
{
	X509_STORE_free(ks->roots);
	ks->roots = NULL;
	sk_X509_pop_free(ks->roots_sk, X509_free);
	ks->roots_sk = NULL;
}

void
x509_ks_free(struct x509_ks **ksp)
{
	if (ksp == NULL || *ksp == NULL)
		return;
	x509_ks_roots_drop(*ksp);
	free(*ksp);
	*ksp = NULL;
}

static int
roots_cb(const struct store_x509_cert *row, void *arg)
{
	struct x509_ks *ks = arg;
	const unsigned char *p = row->der;
	X509 *c = d2i_X509(NULL, &p, (long)row->der_len);

	if (c == NULL)
		return 0;	/* stored DER was parsed once; skip */
	if (X509_STORE_add_cert(ks->roots, c) != 1 ||
	    sk_X509_push(ks->roots_sk, c) == 0) {
		X509_free(c);
		ERR_clear_error();
		return 0;
	}
	return 0;
}

int
x509_ks_roots(struct x509_ks *ks, const char **error_r)
{
	if (ks->roots != NULL)
		return 0;
	ks->roots = X509_STORE_new();
	ks->roots_sk = sk_X509_new_null();
	if (ks->roots == NULL || ks->roots_sk == NULL) {
		x509_ks_roots_drop(ks);
		return err_set(error_r, "out of memory");
	}
	if (store_x509_all(ks->st, X509KS_ROOTS, roots_cb, ks, error_r) < 0) {
		x509_ks_roots_drop(ks);
		return -1;
	}
	return 0;
}

/* Helpers ---------------------------------------------------------------- */

char *
x509_hex(const unsigned char *p, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";
	char *s = malloc(2 * n + 1);
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		s[2 * i] = hx[p[i] >> 4];
		s[2 * i + 1] = hx[p[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

char *
x509_serial_hex(const ASN1_INTEGER *serial)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *h, *s;

	if (bn == NULL)
		return NULL;
	h = BN_bn2hex(bn);
	BN_free(bn);
	if (h == NULL)
		return NULL;
	s = strdup(h[0] == '-' ? h : h);
	OPENSSL_free(h);
	return s;
}

int
x509_lower(const char *s, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= outsz)
			return -1;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	if (outsz == 0)
		return -1;
	out[i] = '\0';
	return 0;
}

void
x509_asn1_date(const ASN1_TIME *t, char *buf, size_t bufsz)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, bufsz, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, bufsz, "?");
}

static time_t
asn1_time_t(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

int
x509_thumbprint(X509 *cert, char out[X509_THUMB_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;
	char *h;

	if (X509_digest(cert, EVP_sha512(), md, &n) != 1 || n != 64)
		return -1;
	if ((h = x509_hex(md, n)) == NULL)
		return -1;
	memcpy(out, h, X509_THUMB_LEN + 1);
	free(h);
	return 0;
}

const char *
x509_name_short(const X509_NAME *name, char *buf, size_t bufsz)
{
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	unsigned char *u = NULL;
	char *line;

	if (bufsz == 0)
		return buf;
	buf[0] = '\0';
	if (i >= 0 && ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(name, i))) >= 0 && u != NULL) {
		snprintf(buf, bufsz, "%s", (char *)u);
		OPENSSL_free(u);
		return buf;
	}
	line = X509_NAME_oneline(name, NULL, 0);
	snprintf(buf, bufsz, "%s", line != NULL ? line : "?");
	OPENSSL_free(line);
	return buf;
}

static char *
name_line(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s = NULL;
	long n;

	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 &
	    ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_get_mem_data(b, &p);
		if (n < 0)
			n = 0;
		if ((s = malloc((size_t)n + 1)) != NULL) {
			if (n > 0)	/* an empty name: p may be NULL */
				memcpy(s, p, (size_t)n);
			s[n] = '\0';
		}
	}
	BIO_free(b);
	return s;
}

/* Emails of a certificate, lowercased; a NULL-terminated malloc'd array. */
static char **
cert_emails(X509 *cert, size_t *n_r)
{
	STACK_OF(OPENSSL_STRING) *sk = X509_get1_email(cert);
	char **v;
	int i, n = sk_OPENSSL_STRING_num(sk);
	size_t k = 0;

	if (n < 0)
		n = 0;
	if ((v = calloc((size_t)n + 1, sizeof(char *))) == NULL) {
		X509_email_free(sk);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		const char *e = sk_OPENSSL_STRING_value(sk, i);
		size_t j, len = strlen(e);
		char *l;
		int dup = 0;

		if ((l = malloc(len + 1)) == NULL)
			continue;
		x509_lower(e, l, len + 1);
		for (j = 0; j < k; j++)
			dup |= strcmp(v[j], l) == 0;
		if (dup)
			free(l);
		else
			v[k++] = l;
	}
	X509_email_free(sk);
	*n_r = k;
	return v;
}

struct x509_info *
x509_info_from(X509 *cert, enum x509_where where, int has_key)
{
	struct x509_info *in = calloc(1, sizeof(*in));
	const ASN1_OCTET_STRING *skid;
	uint32_t f;

	if (in == NULL)
		return NULL;
	if (x509_thumbprint(cert, in->thumb) < 0)
		goto fail;
	in->where = where;
	in->has_key = has_key;
	in->subject = name_line(X509_get_subject_name(cert));
	in->issuer = name_line(X509_get_issuer_name(cert));
	in->serial = x509_serial_hex(X509_get0_serialNumber(cert));
	if (in->subject == NULL || in->issuer == NULL || in->serial == NULL)
		goto fail;
	skid = X509_get0_subject_key_id(cert);
	if (skid != NULL && (in->skid = x509_hex(ASN1_STRING_get0_data(skid),
	    (size_t)ASN1_STRING_length(skid))) == NULL)
		goto fail;
	if ((in->emails = cert_emails(cert, &in->nemails)) == NULL)
		goto fail;
	in->not_before = asn1_time_t(X509_get0_notBefore(cert));
	in->not_after = asn1_time_t(X509_get0_notAfter(cert));
	f = X509_get_extension_flags(cert);
	in->key_usage = (f & EXFLAG_KUSAGE) ?
	    (long)X509_get_key_usage(cert) : -1;
	in->ext_key_usage = (f & EXFLAG_XKUSAGE) ?
	    (long)X509_get_extended_key_usage(cert) : -1;
	in->is_ca = X509_check_ca(cert) != 0;
	return in;
fail:
	x509_info_free(&in);
	return NULL;
}

void
x509_info_free(struct x509_info **info)
{
	struct x509_info *in;

	if (info == NULL || *info == NULL)
		return;
	in = *info;
	free(in->subject);
	free(in->issuer);
	free(in->serial);
	free(in->skid);
	str_array_free(&in->emails, in->nemails);
	free(in);
	*info = NULL;
}

void
x509_import_result_release(struct x509_import_result *r)
{
	free(r->thumbs);
	memset(r, 0, sizeof(*r));
}

static int
result_push(struct x509_import_result *r, const char *thumb)
{
	void *p;

	if (r == NULL)
		return 0;
	p = realloc(r->thumbs, (r->n + 1) * sizeof(*r->thumbs));
	if (p == NULL)
		return -1;
	r->thumbs = p;
	memcpy(r->thumbs[r->n++], thumb, X509_THUMB_LEN + 1);
	return 0;
}

/* Import ----------------------------------------------------------------- */

/* Store one certificate (within the caller's transaction). */
static int
add_cert(struct x509_ks *ks, enum x509_where where, X509 *cert,
    struct x509_import_result *res, char thumb_r[X509_THUMB_LEN + 1],
    const char **error_r)
{
	struct store_x509_cert row;
	struct x509_info *in = NULL;
	unsigned char *der = NULL, *sd = NULL, *id = NULL;
	int n, sn, in_, added, rc = -1;

	memset(&row, 0, sizeof(row));
	if ((in = x509_info_from(cert, where, 0)) == NULL) {
		err_set(error_r, "cannot read certificate fields");
		goto out;
	}
	if ((n = i2d_X509(cert, &der)) <= 0 ||
	    (sn = i2d_X509_NAME(X509_get_subject_name(cert), &sd)) <= 0 ||
	    (in_ = i2d_X509_NAME(X509_get_issuer_name(cert), &id)) <= 0) {
		err_set(error_r, "%s", ossl_err("cannot encode certificate"));
		goto out;
	}
	row.where = where;
	row.thumb = in->thumb;
	row.der = der;
	row.der_len = (size_t)n;
	row.subject = in->subject;
	row.issuer = in->issuer;
	row.subject_der = sd;
	row.subject_der_len = (size_t)sn;
	row.issuer_der = id;
	row.issuer_der_len = (size_t)in_;
	row.serial = in->serial;
	row.skid = in->skid;
	row.not_before = in->not_before;
	row.not_after = in->not_after;
	row.key_usage = in->key_usage;
	row.ext_key_usage = in->ext_key_usage;
	row.is_ca = in->is_ca;
	row.emails = (const char *const *)in->emails;
	row.nemails = in->nemails;
	if (store_x509_cert_add(ks->st, &row, &added, error_r) < 0)
		goto out;
	if (res != NULL) {
		if (added)
			res->added++;
		else
			res->existed++;
		if (result_push(res, in->thumb) < 0) {
			err_set(error_r, "out of memory");
			goto out;
		}
	}
	if (thumb_r != NULL)
		memcpy(thumb_r, in->thumb, X509_THUMB_LEN + 1);
	if (where == X509KS_ROOTS && added)
		x509_ks_roots_drop(ks);
	rc = 0;
out:
	OPENSSL_free(der);
	OPENSSL_free(sd);
	OPENSSL_free(id);
	x509_info_free(&in);
	return rc;
}

static int
is_pem(const unsigned char *data, size_t len)
{
	return len >= 11 && memmem(data, len > 4096 ? 4096 : len,
	    "-----BEGIN ", 11) != NULL;
}

/* Certificates of a PKCS#7 (any type carrying certificates). */
static STACK_OF(X509) *
p7_certs(PKCS7 *p7)
{
	if (p7 == NULL)
		return NULL;
	if (PKCS7_type_is_signed(p7) && p7->d.sign != NULL)
		return p7->d.sign->cert;
	if (PKCS7_type_is_signedAndEnveloped(p7) &&
	    p7->d.signed_and_enveloped != NULL)
		return p7->d.signed_and_enveloped->cert;
	return NULL;
}

static int
collect_p7(const unsigned char *der, long len, STACK_OF(X509) *out)
{
	const unsigned char *p = der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, len);
	STACK_OF(X509) *sk = p7_certs(p7);
	int i, rc = -1;

	if (p7 == NULL)
		return -1;
	for (i = 0; i < sk_X509_num(sk); i++) {
		X509 *c = sk_X509_value(sk, i);

		if (!X509_up_ref(c) || !sk_X509_push(out, c)) {
			X509_free(c);
			goto out;
		}
	}
	rc = 0;
out:
	PKCS7_free(p7);
	return rc;
}

/* Parse certificate input into a stack. */
static int
parse_certs(const unsigned char *data, size_t len, STACK_OF(X509) *out,
    const char **error_r)
{
	BIO *b = NULL;
	char *name = NULL, *hdr = NULL;
	unsigned char *der = NULL;
	long dlen;
	int rc = -1;

	if (!is_pem(data, len)) {
		const unsigned char *p = data;
		X509 *c = d2i_X509(NULL, &p, (long)len);

		if (c != NULL && p == data + len) {
			if (!sk_X509_push(out, c)) {
				X509_free(c);
				return err_set(error_r, "out of memory");
			}
			return 0;
		}
		X509_free(c);
		ERR_clear_error();
		if (collect_p7(data, (long)len, out) == 0)
			return 0;
		ERR_clear_error();
		return err_set(error_r, "not a certificate (PEM, DER or "
		    "PKCS#7)");
	}
	if ((b = BIO_new_mem_buf(data, (int)len)) == NULL)
		return err_set(error_r, "out of memory");
	while (PEM_read_bio(b, &name, &hdr, &der, &dlen) == 1) {
		const unsigned char *p = der;

		if (strcmp(name, "CERTIFICATE") == 0 ||
		    strcmp(name, "X509 CERTIFICATE") == 0 ||
		    strcmp(name, "TRUSTED CERTIFICATE") == 0) {
			X509 *c = strcmp(name, "TRUSTED CERTIFICATE") == 0 ?
			    d2i_X509_AUX(NULL, &p, dlen) :
			    d2i_X509(NULL, &p, dlen);

			if (c == NULL) {
				err_set(error_r, "%s",
				    ossl_err("bad PEM certificate"));
				goto out;
			}
			if (!sk_X509_push(out, c)) {
				X509_free(c);
				err_set(error_r, "out of memory");
				goto out;
			}
		} else if (strcmp(name, "PKCS7") == 0) {
			if (collect_p7(der, dlen, out) < 0) {
				err_set(error_r, "%s",
				    ossl_err("bad PEM PKCS#7"));
				goto out;
			}
		}	/* anything else (keys, CRLs) is skipped */
		OPENSSL_free(name);
		OPENSSL_free(hdr);
		OPENSSL_free(der);
		name = hdr = NULL;
		der = NULL;
	}
	ERR_clear_error();
	rc = 0;
out:
	OPENSSL_free(name);
	OPENSSL_free(hdr);
	OPENSSL_free(der);
	BIO_free(b);
	return rc;
}

int
x509_import_certs(struct x509_ks *ks, enum x509_where where,
    const unsigned char *data, size_t len, struct x509_import_result *res,
    const char **error_r)
{
	STACK_OF(X509) *sk = NULL;
	int i, rc = -1;

	if (len > (size_t)X509_INPUT_MAX)
		return err_set(error_r, "input larger than %ld bytes",
		    X509_INPUT_MAX);
	if ((sk = sk_X509_new_null()) == NULL)
		return err_set(error_r, "out of memory");
	if (parse_certs(data, len, sk, error_r) < 0)
		goto out;
	if (sk_X509_num(sk) == 0) {
		err_set(error_r, "no certificate in input");
		goto out;
	}
	if (store_begin(ks->st, error_r) < 0)
		goto out;
	for (i = 0; i < sk_X509_num(sk); i++) {
		if (add_cert(ks, where, sk_X509_value(sk, i), res,
		    NULL, error_r) < 0) {
			store_rollback(ks->st);
			goto out;
		}
	}
	if (store_commit(ks->st, error_r) < 0)
		goto out;
	rc = 0;
out:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static int
store_key(struct x509_ks *ks, const char *thumb, EVP_PKEY *pkey,
    const char **error_r)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	unsigned char *der = NULL, *sealed = NULL;
	size_t sealed_len = 0;
	char aad[16 + X509_THUMB_LEN];
	int n = 0, rc = -1;

	if (ks->mkey == NULL)
		return err_set(error_r, "no master key to seal the key");
	snprintf(aad, sizeof(aad), "x509-key:%s", thumb);
	if ((p8 = EVP_PKEY2PKCS8(pkey)) == NULL ||
	    (n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0) {
		err_set(error_r, "%s", ossl_err("cannot encode private key"));
		goto out;
	}
	if (secret_seal(ks->mkey, aad, der, (size_t)n, &sealed, &sealed_len,
	    error_r) < 0)
		goto out;
	rc = store_x509_key_put(ks->st, thumb, sealed, sealed_len, error_r);
out:
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)n);
	PKCS8_PRIV_KEY_INFO_free(p8);
	free(sealed);
	return rc;
}

int
x509_get_key(struct x509_ks *ks, const char *thumb, EVP_PKEY **key_r,
    const char **error_r)
{
	unsigned char *sealed = NULL, *plain = NULL;
	size_t slen, plen = 0;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	const unsigned char *p;
	char aad[16 + X509_THUMB_LEN];
	int r, rc = -1;

	*key_r = NULL;
	r = store_x509_key_get(ks->st, thumb, &sealed, &slen, error_r);
	if (r != 0)
		return r;
	if (ks->mkey == NULL) {
		err_set(error_r, "no master key to open the key");
		goto out;
	}
	snprintf(aad, sizeof(aad), "x509-key:%s", thumb);
	if (secret_open(ks->mkey, aad, sealed, slen, &plain, &plen,
	    error_r) < 0)
		goto out;
	p = plain;
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)plen)) == NULL ||
	    (*key_r = EVP_PKCS82PKEY(p8)) == NULL) {
		err_set(error_r, "%s", ossl_err("cannot decode stored key"));
		goto out;
	}
	rc = 0;
out:
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (plain != NULL)
		secret_wipe_free(plain, plen);
	free(sealed);
	return rc;
}

/* PKCS#12 input may be PEM-armoured ("PKCS12"); return DER (maybe data). */
static PKCS12 *
p12_parse(const unsigned char *data, size_t len)
{
	const unsigned char *p = data;
	PKCS12 *p12 = NULL;

	if (is_pem(data, len)) {
		BIO *b = BIO_new_mem_buf(data, (int)len);
		char *name = NULL, *hdr = NULL;
		unsigned char *der = NULL;
		long dlen;

		while (b != NULL && p12 == NULL &&
		    PEM_read_bio(b, &name, &hdr, &der, &dlen) == 1) {
			p = der;
			if (strstr(name, "PKCS12") != NULL)
				p12 = d2i_PKCS12(NULL, &p, dlen);
			OPENSSL_free(name);
			OPENSSL_free(hdr);
			OPENSSL_free(der);
		}
		BIO_free(b);
		return p12;
	}
	return d2i_PKCS12(NULL, &p, (long)len);
}

int
x509_import_pkcs12(struct x509_ks *ks, const unsigned char *data, size_t len,
    const char *password, struct x509_import_result *res,
    const char **error_r)
{
	PKCS12 *p12 = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	char thumb[X509_THUMB_LEN + 1];
	int i, ok, rc = -1;

	if (len > (size_t)X509_INPUT_MAX)
		return err_set(error_r, "input larger than %ld bytes",
		    X509_INPUT_MAX);
	if ((p12 = p12_parse(data, len)) == NULL) {
		err_set(error_r, "%s", ossl_err("not a PKCS#12 file"));
		goto out;
	}
	if (password == NULL)
		password = "";
	ok = PKCS12_verify_mac(p12, password, -1) == 1;
	if (!ok && password[0] == '\0')
		ok = PKCS12_verify_mac(p12, NULL, 0) == 1;
	if (!ok && PKCS12_mac_present(p12)) {
		ERR_clear_error();
		err_set(error_r, "wrong password or corrupt PKCS#12");
		goto out;
	}
	if (PKCS12_parse(p12, password, &pkey, &cert, &ca) != 1) {
		err_set(error_r, "%s", ossl_err("cannot decrypt PKCS#12 "
		    "(wrong password or unsupported algorithm)"));
		goto out;
	}
	if (pkey == NULL || cert == NULL) {
		err_set(error_r, "PKCS#12 has no private key with its "
		    "certificate");
		goto out;
	}
	if (store_begin(ks->st, error_r) < 0)
		goto out;
	if (add_cert(ks, X509KS_CERTS, cert, res, thumb, error_r) < 0 ||
	    store_key(ks, thumb, pkey, error_r) < 0) {
		store_rollback(ks->st);
		goto out;
	}
	if (res != NULL)
		res->keys_added++;
	for (i = 0; i < sk_X509_num(ca); i++) {
		if (add_cert(ks, X509KS_CERTS, sk_X509_value(ca, i), res, NULL,
		    error_r) < 0) {
			store_rollback(ks->st);
			goto out;
		}
	}
	if (store_commit(ks->st, error_r) < 0)
		goto out;
	rc = 0;
out:
	EVP_PKEY_free(pkey);
	X509_free(cert);
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
	ERR_clear_error();
	return rc;
}

/* CRLs ------------------------------------------------------------------- */

static int
add_crl(struct x509_ks *ks, X509_CRL *crl, struct x509_import_result *res,
    const char **error_r)
{
	struct store_x509_crl row;
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL, *id = NULL;
	unsigned int mdn;
	char *thumb = NULL, *issuer = NULL, **serials = NULL;
	long long *at = NULL;
	int i, n, idn, nrev = sk_X509_REVOKED_num(rev), added, rc = -1;

	memset(&row, 0, sizeof(row));
	if (nrev < 0)
		nrev = 0;
	if ((n = i2d_X509_CRL(crl, &der)) <= 0 ||
	    (idn = i2d_X509_NAME(X509_CRL_get_issuer(crl), &id)) <= 0 ||
	    EVP_Digest(der, (size_t)n, md, &mdn, EVP_sha512(), NULL) != 1) {
		err_set(error_r, "%s", ossl_err("cannot encode CRL"));
		goto out;
	}
	thumb = x509_hex(md, mdn);
	issuer = name_line(X509_CRL_get_issuer(crl));
	serials = calloc((size_t)nrev + 1, sizeof(char *));
	at = calloc((size_t)nrev + 1, sizeof(long long));
	if (thumb == NULL || issuer == NULL || serials == NULL || at == NULL) {
		err_set(error_r, "out of memory");
		goto out;
	}
	for (i = 0; i < nrev; i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(rev, i);

		if ((serials[i] = x509_serial_hex(
		    X509_REVOKED_get0_serialNumber(r))) == NULL) {
			err_set(error_r, "out of memory");
			goto out;
		}
		at[i] = asn1_time_t(X509_REVOKED_get0_revocationDate(r));
	}
	row.thumb = thumb;
	row.der = der;
	row.der_len = (size_t)n;
	row.issuer = issuer;
	row.issuer_der = id;
	row.issuer_der_len = (size_t)idn;
	row.this_update = asn1_time_t(X509_CRL_get0_lastUpdate(crl));
	row.next_update = asn1_time_t(X509_CRL_get0_nextUpdate(crl));
	row.serials = (const char *const *)serials;
	row.revoked_at = at;
	row.nrevoked = (size_t)nrev;
	if (store_x509_crl_add(ks->st, &row, &added, error_r) < 0)
		goto out;
	if (res != NULL) {
		if (added)
			res->crls_added++;
		else
			res->existed++;
	}
	rc = 0;
out:
	OPENSSL_free(der);
	OPENSSL_free(id);
	free(thumb);
	free(issuer);
	str_array_free(&serials, (size_t)nrev);
	free(at);
	return rc;
}

int
x509_import_crls(struct x509_ks *ks, const unsigned char *data, size_t len,
    struct x509_import_result *res, const char **error_r)
{
	STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();
	BIO *b = NULL;
	X509_CRL *crl;
	int i, rc = -1;

	if (len > (size_t)X509_INPUT_MAX)
		return err_set(error_r, "input larger than %ld bytes",
		    X509_INPUT_MAX);
	if (sk == NULL)
		return err_set(error_r, "out of memory");
	if (is_pem(data, len)) {
		if ((b = BIO_new_mem_buf(data, (int)len)) == NULL)
			goto oom;
		while ((crl = PEM_read_bio_X509_CRL(b, NULL, NULL,
		    NULL)) != NULL)
			if (!sk_X509_CRL_push(sk, crl)) {
				X509_CRL_free(crl);
				goto oom;
			}
		ERR_clear_error();
	} else {
		const unsigned char *p = data;

		if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) != NULL &&
		    !sk_X509_CRL_push(sk, crl)) {
			X509_CRL_free(crl);
			goto oom;
		}
		ERR_clear_error();
	}
	if (sk_X509_CRL_num(sk) == 0) {
		err_set(error_r, "no CRL in input");
		goto out;
	}
	if (store_begin(ks->st, error_r) < 0)
		goto out;
	for (i = 0; i < sk_X509_CRL_num(sk); i++) {
		if (add_crl(ks, sk_X509_CRL_value(sk, i), res, error_r) < 0) {
			store_rollback(ks->st);
			goto out;
		}
	}
	if (store_commit(ks->st, error_r) < 0)
		goto out;
	rc = 0;
	goto out;
oom:
	err_set(error_r, "out of memory");
out:
	BIO_free(b);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	return rc;
}

struct crl_list_arg {
	int (*cb)(const struct x509_crl_info *, void *);
	void *arg;
};

static int
crl_list_cb(const struct store_x509_crl *row, void *arg)
{
	struct crl_list_arg *a = arg;
	struct x509_crl_info in;

	memset(&in, 0, sizeof(in));
	snprintf(in.thumb, sizeof(in.thumb), "%s", row->thumb);
	in.issuer = row->issuer;
	in.this_update = (time_t)row->this_update;
	in.next_update = (time_t)row->next_update;
	in.nrevoked = row->nrevoked;
	return a->cb(&in, a->arg);
}

int
x509_crl_list(struct x509_ks *ks,
    int (*cb)(const struct x509_crl_info *info, void *arg), void *arg,
    const char **error_r)
{
	struct crl_list_arg a = { cb, arg };

	return store_x509_crl_list(ks->st, NULL, crl_list_cb, &a, error_r);
}

static int
crl_get_cb(const struct store_x509_crl *row, void *arg)
{
	X509_CRL **crl = arg;
	const unsigned char *p = row->der;

	*crl = d2i_X509_CRL(NULL, &p, (long)row->der_len);
	return 1;
}

int
x509_crl_get(struct x509_ks *ks, const char *thumb, X509_CRL **crl_r,
    const char **error_r)
{
	*crl_r = NULL;
	if (store_x509_crl_list(ks->st, thumb, crl_get_cb, crl_r,
	    error_r) < 0)
		return -1;
	return *crl_r != NULL ? 0 : 1;
}

/* Lookup, list, delete ---------------------------------------------------- */

struct get_arg {
	X509 *cert;
	int has_key;
	int where;
};

static int
get_cb(const struct store_x509_cert *row, void *arg)
{
	struct get_arg *g = arg;
	const unsigned char *p = row->der;

	g->cert = d2i_X509(NULL, &p, (long)row->der_len);
	g->has_key = row->has_key;
	g->where = row->where;
	return 1;
}

int
x509_get(struct x509_ks *ks, enum x509_where where, const char *thumb,
    X509 **cert_r, struct x509_info **info_r, const char **error_r)
{
	struct get_arg g = { NULL, 0, 0 };

	if (cert_r != NULL)
		*cert_r = NULL;
	if (info_r != NULL)
		*info_r = NULL;
	if (store_x509_by_thumb(ks->st, (int)where, thumb, get_cb, &g,
	    error_r) < 0)
		return -1;
	if (g.cert == NULL)
		return 1;
	if (info_r != NULL && (*info_r = x509_info_from(g.cert,
	    (enum x509_where)g.where,
	    g.has_key)) == NULL) {
		X509_free(g.cert);
		return err_set(error_r, "out of memory");
	}
	if (cert_r != NULL)
		*cert_r = g.cert;
	else
		X509_free(g.cert);
	return 0;
}

struct list_arg {
	int (*cb)(const struct x509_info *, X509 *, void *);
	void *arg;
	int failed;
};

static int
list_cb(const struct store_x509_cert *row, void *arg)
{
	struct list_arg *a = arg;
	const unsigned char *p = row->der;
	X509 *c = d2i_X509(NULL, &p, (long)row->der_len);
	struct x509_info *in;
	int r;

	if (c == NULL) {
		ERR_clear_error();
		return 0;
	}
	if ((in = x509_info_from(c, (enum x509_where)row->where,
	    row->has_key)) == NULL) {
		X509_free(c);
		a->failed = 1;
		return 1;
	}
	r = a->cb(in, c, a->arg);
	x509_info_free(&in);
	X509_free(c);
	return r;
}

int
x509_list(struct x509_ks *ks, enum x509_where where, const char *email,
    int (*cb)(const struct x509_info *info, X509 *cert, void *arg),
    void *arg, const char **error_r)
{
	struct list_arg a = { cb, arg, 0 };
	char low[ADDRESS_MAX + 1];
	int r;

	if (email != NULL) {
		if (x509_lower(email, low, sizeof(low)) < 0)
			return err_set(error_r, "email too long");
		r = store_x509_by_email(ks->st, (int)where, low, list_cb, &a,
		    error_r);
	} else {
		r = store_x509_all(ks->st, (int)where, list_cb, &a, error_r);
	}
	if (r == 0 && a.failed)
		return err_set(error_r, "out of memory");
	return r;
}

static int
count_cb(const char *level, const char *owner, const char *thumb,
    const char *kind, void *arg)
{
	(void)level;
	(void)owner;
	(void)thumb;
	(void)kind;
	(*(int *)arg)++;
	return 0;
}

static int
has_key_cb(const struct store_x509_cert *row, void *arg)
{
	*(int *)arg = row->has_key;
	return 0;
}

int
x509_delete(struct x509_ks *ks, enum x509_where where, const char *thumb,
    int force, const char **error_r)
{
	int nsel = 0, has_key = 0, r;

	if (store_begin(ks->st, error_r) < 0)
		return -1;
	if (where == X509KS_CERTS) {
		if (store_x509_sel_list(ks->st, NULL, NULL, NULL, thumb,
		    count_cb, &nsel, error_r) < 0)
			goto fail;
		if (nsel > 0 && !force) {
			err_set(error_r, "certificate is selected %d time%s: "
			    "deselect it first or force", nsel,
			    nsel == 1 ? "" : "s");
			goto fail;
		}
		if (store_x509_by_thumb(ks->st, X509KS_CERTS, thumb,
		    has_key_cb, &has_key, error_r) < 0)
			goto fail;
		if (has_key && !force) {
			err_set(error_r, "certificate has a private key (mail "
			    "encrypted to it could no longer be decrypted): "
			    "force to delete both");
			goto fail;
		}
	}
	r = store_x509_cert_delete(ks->st, (int)where, thumb, error_r);
	if (r < 0)
		goto fail;
	if (r == 0 && where == X509KS_CERTS && nsel > 0 &&
	    store_x509_sel_delete_thumb(ks->st, thumb, error_r) < 0)
		goto fail;
	if (store_commit(ks->st, error_r) < 0)
		return -1;
	if (where == X509KS_ROOTS)
		x509_ks_roots_drop(ks);
	return r;
fail:
	store_rollback(ks->st);
	return -1;
}

/* Export ----------------------------------------------------------------- */

static int
bio_take(BIO *b, unsigned char **out_r, size_t *len_r, const char **error_r)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	if (n < 0 || (*out_r = malloc((size_t)n + 1)) == NULL)
		return err_set(error_r, "out of memory");
	if (n > 0)
		memcpy(*out_r, p, (size_t)n);
	(*out_r)[n] = 0;
	*len_r = (size_t)n;
	return 0;
}

int
x509_export_certs(struct x509_ks *ks, enum x509_where where,
    const char *const *thumbs, size_t n, enum x509_format fmt,
    unsigned char **out_r, size_t *len_r, const char **error_r)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	PKCS7 *p7 = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	size_t i;
	int r, rc = -1;

	*out_r = NULL;
	*len_r = 0;
	if (sk == NULL || b == NULL) {
		err_set(error_r, "out of memory");
		goto out;
	}
	if (fmt == X509F_DER && n != 1) {
		err_set(error_r, "DER holds exactly one certificate");
		goto out;
	}
	for (i = 0; i < n; i++) {
		X509 *c;

		r = x509_get(ks, where, thumbs[i], &c, NULL, error_r);
		if (r < 0)
			goto out;
		if (r == 1) {
			err_set(error_r, "no certificate '%s'", thumbs[i]);
			goto out;
		}
		if (!sk_X509_push(sk, c)) {
			X509_free(c);
			err_set(error_r, "out of memory");
			goto out;
		}
	}
	switch (fmt) {
	case X509F_PEM:
		for (i = 0; i < n; i++)
			if (PEM_write_bio_X509(b, sk_X509_value(sk,
			    (int)i)) != 1)
				goto ossl;
		break;
	case X509F_DER:
		if (i2d_X509_bio(b, sk_X509_value(sk, 0)) != 1)
			goto ossl;
		break;
	case X509F_P7B:
		if ((p7 = PKCS7_new()) == NULL ||
		    PKCS7_set_type(p7, NID_pkcs7_signed) != 1 ||
		    PKCS7_content_new(p7, NID_pkcs7_data) != 1)
			goto ossl;
		for (i = 0; i < n; i++)
			if (PKCS7_add_certificate(p7, sk_X509_value(sk,
			    (int)i)) != 1)
				goto ossl;
		if (i2d_PKCS7_bio(b, p7) != 1)
			goto ossl;
		break;
	default:
		err_set(error_r, "unsupported export format");
		goto out;
	}
	rc = bio_take(b, out_r, len_r, error_r);
	goto out;
ossl:
	err_set(error_r, "%s", ossl_err("cannot encode certificates"));
out:
	PKCS7_free(p7);
	BIO_free(b);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* The issuers of cert found in both stores, up to a root (for export). */
static STACK_OF(X509) *
chain_of(struct x509_ks *ks, X509 *cert)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *cur = cert;
	int depth;

	for (depth = 0; sk != NULL && depth < 10; depth++) {
		unsigned char *id = NULL;
		struct get_arg g = { NULL, 0, 0 };
		int n;

		if (X509_check_issued(cur, cur) == X509_V_OK)
			break;
		if ((n = i2d_X509_NAME(X509_get_issuer_name(cur), &id)) <= 0)
			break;
		store_x509_by_subject(ks->st, -1, id, (size_t)n, get_cb, &g,
		    NULL);
		OPENSSL_free(id);
		if (g.cert == NULL)
			break;
		if (!sk_X509_push(sk, g.cert)) {
			X509_free(g.cert);
			break;
		}
		cur = g.cert;
	}
	return sk;
}

int
x509_export_pkcs12(struct x509_ks *ks, const char *thumb,
    const char *password, unsigned flags, unsigned char **out_r,
    size_t *len_r, const char **error_r)
{
	X509 *cert = NULL;
	EVP_PKEY *pkey = NULL;
	STACK_OF(X509) *ca = NULL;
	PKCS12 *p12 = NULL;
	BIO *b = NULL;
	int legacy = (flags & X509_P12_LEGACY) != 0, nid, r, rc = -1;

	*out_r = NULL;
	*len_r = 0;
	r = x509_get(ks, X509KS_CERTS, thumb, &cert, NULL, error_r);
	if (r != 0) {
		if (r == 1)
			err_set(error_r, "no certificate '%s'", thumb);
		goto out;
	}
	r = x509_get_key(ks, thumb, &pkey, error_r);
	if (r != 0) {
		if (r == 1)
			err_set(error_r, "no private key for '%s'", thumb);
		goto out;
	}
	ca = chain_of(ks, cert);
	nid = legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC :
	    NID_aes_256_cbc;
	p12 = PKCS12_create(password, NULL, pkey, cert, ca, nid, nid,
	    PKCS12_DEFAULT_ITER, -1, 0);
	if (p12 == NULL || PKCS12_set_mac(p12, password, -1, NULL, 0,
	    PKCS12_DEFAULT_ITER, legacy ? EVP_sha1() : EVP_sha256()) != 1) {
		err_set(error_r, "%s", ossl_err("cannot build PKCS#12"));
		goto out;
	}
	if ((b = BIO_new(BIO_s_mem())) == NULL || i2d_PKCS12_bio(b, p12) != 1) {
		err_set(error_r, "%s", ossl_err("cannot encode PKCS#12"));
		goto out;
	}
	rc = bio_take(b, out_r, len_r, error_r);
out:
	BIO_free(b);
	PKCS12_free(p12);
	sk_X509_pop_free(ca, X509_free);
	EVP_PKEY_free(pkey);
	X509_free(cert);
	return rc;
}

int
x509_thumb_resolve(struct x509_ks *ks, int where, const char *in,
    char out[X509_THUMB_LEN + 1], const char **error_r)
{
	char hex[X509_THUMB_LEN + 1], found[2][129];
	size_t i, n = 0;

	for (i = 0; in[i] != '\0'; i++) {
		if (in[i] == ':')
			continue;
		if (!isxdigit((unsigned char)in[i]) || n >= X509_THUMB_LEN)
			return err_set(error_r, "bad thumbprint '%.40s': want "
			    "the SHA-512 fingerprint in hex", in);
		hex[n++] = (char)toupper((unsigned char)in[i]);
	}
	hex[n] = '\0';
	if (n == X509_THUMB_LEN) {
		memcpy(out, hex, sizeof(hex));
		return 0;
	}
	if (n < 8)
		return err_set(error_r, "thumbprint prefix '%s' too short "
		    "(at least 8 hex digits)", hex);
	if (store_x509_thumbs_by_prefix(ks->st, where, hex, found, 2, &n,
	    error_r) < 0)
		return -1;
	if (n == 0)
		return 1;
	if (n > 1)
		return err_set(error_r, "thumbprint prefix '%s' is ambiguous",
		    hex);
	memcpy(out, found[0], X509_THUMB_LEN + 1);
	return 0;
}

/* Trust list and selections ---------------------------------------------- */

static int
thumb_ok(const char *thumb, const char **error_r)
{
	size_t i;

	for (i = 0; thumb[i] != '\0'; i++)
		if (!isxdigit((unsigned char)thumb[i]) || islower(
		    (unsigned char)thumb[i]))
			break;
	if (i != X509_THUMB_LEN || thumb[i] != '\0')
		return err_set(error_r, "bad thumbprint '%.20s': want 128 "
		    "uppercase hex digits (SHA-512)", thumb);
	return 0;
}

int
x509_ctl_set(struct x509_ks *ks, const char *thumb, enum x509_ctl_kind kind,
    int allow_expired, const char **error_r)
{
	if (thumb_ok(thumb, error_r) < 0)
		return -1;
	if (kind == X509_CTL_BLACK && allow_expired)
		return err_set(error_r, "allow-expired applies to white "
		    "entries only");
	return store_x509_ctl_set(ks->st, thumb, kind == X509_CTL_BLACK,
	    allow_expired, error_r);
}

int
x509_ctl_remove(struct x509_ks *ks, const char *thumb, const char **error_r)
{
	return store_x509_ctl_remove(ks->st, thumb, error_r);
}

int
x509_ctl_get(struct x509_ks *ks, const char *thumb, enum x509_ctl_kind *kind_r,
    int *allow_expired_r, const char **error_r)
{
	int black = 0, ae = 0, r;

	r = store_x509_ctl_get(ks->st, thumb, &black, &ae, error_r);
	if (r == 0) {
		*kind_r = black ? X509_CTL_BLACK : X509_CTL_WHITE;
		*allow_expired_r = ae;
	}
	return r;
}

struct ctl_list_arg {
	int (*cb)(const char *, enum x509_ctl_kind, int, void *);
	void *arg;
};

static int
ctl_list_cb(const char *thumb, int black, int ae, void *arg)
{
	struct ctl_list_arg *a = arg;

	return a->cb(thumb, black ? X509_CTL_BLACK : X509_CTL_WHITE, ae,
	    a->arg);
}

int
x509_ctl_list(struct x509_ks *ks,
    int (*cb)(const char *thumb, enum x509_ctl_kind kind, int allow_expired,
    void *arg), void *arg, const char **error_r)
{
	struct ctl_list_arg a = { cb, arg };

	return store_x509_ctl_list(ks->st, ctl_list_cb, &a, error_r);
}

static const char *const kind_names[] = { "encryption", "signing",
	"additional" };

const char *
x509_sel_kind_name(enum x509_sel_kind kind)
{
	return (unsigned)kind < 3 ? kind_names[kind] : "?";
}

int
x509_sel_kind_parse(const char *s, enum x509_sel_kind *kind_r)
{
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(s, kind_names[i]) == 0) {
			*kind_r = (enum x509_sel_kind)i;
			return 0;
		}
	return -1;
}

/* Normalised owner for a level. */
static int
owner_norm(enum address_level level, const char *owner, char *out,
    size_t outsz, const char **error_r)
{
	switch (level) {
	case ADDRESS_LEVEL_GLOBAL:
		out[0] = '\0';
		return 0;
	case ADDRESS_LEVEL_USER:
		if (owner == NULL || address_normalize(owner, out, outsz) < 0)
			return err_set(error_r, "bad address '%s'",
			    owner != NULL ? owner : "");
		return 0;
	case ADDRESS_LEVEL_DOMAIN:
	case ADDRESS_LEVEL_WILDCARD:
		if (owner == NULL || domain_normalize(owner, out, outsz) < 0 ||
		    (level == ADDRESS_LEVEL_WILDCARD) != domain_is_wildcard(out))
			return err_set(error_r, "bad domain '%s'",
			    owner != NULL ? owner : "");
		return 0;
	default:
		return err_set(error_r, "bad selection level");
	}
}

int
x509_select(struct x509_ks *ks, enum address_level level, const char *owner,
    const char *thumb, enum x509_sel_kind kind, const char **error_r)
{
	char own[ADDRESS_MAX + 1];
	struct x509_info *in = NULL;
	int r;

	if (owner_norm(level, owner, own, sizeof(own), error_r) < 0)
		return -1;
	r = x509_get(ks, X509KS_CERTS, thumb, NULL, &in, error_r);
	if (r < 0)
		return -1;
	if (r == 1)
		return err_set(error_r, "no certificate '%.16s...' in the "
		    "certificates store", thumb);
	if (kind == X509_SEL_SIGNING && !in->has_key) {
		x509_info_free(&in);
		return err_set(error_r, "a signing certificate needs a "
		    "private key");
	}
	x509_info_free(&in);
	if (store_begin(ks->st, error_r) < 0)
		return -1;
	if (store_x509_sel_add(ks->st, address_level_name(level), own, thumb,
	    x509_sel_kind_name(kind), kind == X509_SEL_SIGNING,
	    error_r) < 0) {
		store_rollback(ks->st);
		return -1;
	}
	return store_commit(ks->st, error_r);
}

int
x509_deselect(struct x509_ks *ks, enum address_level level,
    const char *owner, const char *thumb, enum x509_sel_kind kind,
    const char **error_r)
{
	char own[ADDRESS_MAX + 1];

	if (owner_norm(level, owner, own, sizeof(own), error_r) < 0)
		return -1;
	return store_x509_sel_remove(ks->st, address_level_name(level), own,
	    thumb, x509_sel_kind_name(kind), error_r);
}

struct sel_list_arg {
	int (*cb)(enum address_level, const char *, const char *,
	    enum x509_sel_kind, void *);
	void *arg;
};

static enum address_level
level_parse(const char *s)
{
	if (strcmp(s, "user") == 0)
		return ADDRESS_LEVEL_USER;
	if (strcmp(s, "domain") == 0)
		return ADDRESS_LEVEL_DOMAIN;
	if (strcmp(s, "wildcard") == 0)
		return ADDRESS_LEVEL_WILDCARD;
	return ADDRESS_LEVEL_GLOBAL;
}

static int
sel_list_cb(const char *level, const char *owner, const char *thumb,
    const char *kind, void *arg)
{
	struct sel_list_arg *a = arg;
	enum x509_sel_kind k = X509_SEL_ENCRYPTION;

	x509_sel_kind_parse(kind, &k);
	return a->cb(level_parse(level), owner, thumb, k, a->arg);
}

int
x509_selection_list(struct x509_ks *ks, const char *thumb,
    int (*cb)(enum address_level level, const char *owner,
    const char *thumb, enum x509_sel_kind kind, void *arg), void *arg,
    const char **error_r)
{
	struct sel_list_arg a = { cb, arg };

	return store_x509_sel_list(ks->st, NULL, NULL, NULL, thumb,
	    sel_list_cb, &a, error_r);
}
