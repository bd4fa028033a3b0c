/*
 * smime_cms: the CMS layer of smime.h (DER + content bytes in, results
 * out).  See smime.h for the contract.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "smime.h"
#include "smime_int.h"

/* The last OpenSSL error as text (and clear the queue). */
const char *
smime_ossl_err(void)
{
	static __thread char text[256];
	unsigned long e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last == 0)
		return "unknown OpenSSL error";
	ERR_error_string_n(last, text, sizeof(text));
	return text;
}

/* ---- identifiers as text ---- */

static void
name_text(const X509_NAME *name, char *out, size_t size)
{
	BIO *b;
	long n;
	char *p;

	out[0] = '\0';
	if (name == NULL)
		return;
	b = BIO_new(BIO_s_mem());
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, (XN_FLAG_RFC2253 &
	    ~XN_FLAG_SEP_MASK) | XN_FLAG_SEP_CPLUS_SPC) >= 0) {
		n = BIO_get_mem_data(b, &p);
		if (n < 0)
			n = 0;
		if ((size_t)n >= size)
			n = (long)size - 1;
		if (n > 0)	/* an empty BIO may give a NULL pointer */
			memcpy(out, p, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
}

static void
hex_bytes(const unsigned char *p, size_t n, char *out, size_t size)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < n && o + 3 <= size; i++, o += 2)
		snprintf(out + o, 3, "%02X", p[i]);
}

static void
serial_text(const ASN1_INTEGER *sn, char *out, size_t size)
{
	BIGNUM *bn;
	char *h;

	out[0] = '\0';
	if (sn == NULL)
		return;
	bn = ASN1_INTEGER_to_BN(sn, NULL);
	if (bn == NULL)
		return;
	h = BN_bn2hex(bn);
	if (h != NULL) {
		/* BN_bn2hex gives "0" for zero and no leading zeros */
		snprintf(out, size, "%s", h);
		OPENSSL_free(h);
	}
	BN_free(bn);
}

/* "issuer DN/serial hex/SKI hex" */
static void
id_text(const X509_NAME *issuer, const ASN1_INTEGER *sn,
    const ASN1_OCTET_STRING *ski, char *out, size_t size)
{
	char dn[700], serial[160], kid[160];

	name_text(issuer, dn, sizeof(dn));
	serial_text(sn, serial, sizeof(serial));
	kid[0] = '\0';
	if (ski != NULL)
		hex_bytes(ASN1_STRING_get0_data(ski),
		    (size_t)ASN1_STRING_length(ski), kid, sizeof(kid));
	snprintf(out, size, "%s/%s/%s", dn, serial, kid);
}

/* ---- the content encryption algorithm, by walking the DER ---- */

/* Skip one TLV (definite or indefinite length). */
static int
asn1_skip(const unsigned char **pp, const unsigned char *end, int depth)
{
	const unsigned char *p = *pp;
	long len;
	int tag, cls, r;

	if (depth > 32 || p >= end)
		return -1;
	r = ASN1_get_object(&p, &len, &tag, &cls, end - p);
	if (r & 0x80)
		return -1;
	if (r == 0x21) {
		for (;;) {
			if (end - p >= 2 && p[0] == 0 && p[1] == 0) {
				p += 2;
				break;
			}
			if (asn1_skip(&p, end, depth + 1) < 0)
				return -1;
		}
	} else {
		p += len;
	}
	*pp = p;
	return 0;
}

/* Enter a constructed TLV: *pp moves to its content, *end_r its end. */
static int
asn1_enter(const unsigned char **pp, const unsigned char *end,
    const unsigned char **end_r, int *tag_r, int *cls_r)
{
	const unsigned char *p = *pp;
	long len;
	int r;

	if (p >= end)
		return -1;
	r = ASN1_get_object(&p, &len, tag_r, cls_r, end - p);
	if ((r & 0x80) || !(r & V_ASN1_CONSTRUCTED))
		return -1;
	*end_r = r == 0x21 ? end : p + len;
	*pp = p;
	return 0;
}

static int
asn1_peek(const unsigned char *p, const unsigned char *end, int *tag_r,
    int *cls_r)
{
	long len;
	int r;

	if (p >= end)
		return -1;
	r = ASN1_get_object(&p, &len, tag_r, cls_r, end - p);
	return (r & 0x80) ? -1 : 0;
}

/* The contentEncryptionAlgorithm OID (new object) of (Auth)EnvelopedData. */
static ASN1_OBJECT *
content_alg(const unsigned char *der, size_t len)
{
	const unsigned char *p = der, *end = der + len, *e;
	int tag, cls;

	if (asn1_enter(&p, end, &e, &tag, &cls) < 0)	/* ContentInfo */
		return NULL;
	end = e;
	if (asn1_skip(&p, end, 0) < 0)			/* contentType */
		return NULL;
	if (asn1_enter(&p, end, &e, &tag, &cls) < 0)	/* [0] */
		return NULL;
	end = e;
	if (asn1_enter(&p, end, &e, &tag, &cls) < 0)	/* EnvelopedData */
		return NULL;
	end = e;
	if (asn1_skip(&p, end, 0) < 0)			/* version */
		return NULL;
	if (asn1_peek(p, end, &tag, &cls) < 0)
		return NULL;
	if (cls == V_ASN1_CONTEXT_SPECIFIC && tag == 0 &&
	    asn1_skip(&p, end, 0) < 0)			/* originatorInfo */
		return NULL;
	if (asn1_skip(&p, end, 0) < 0)			/* recipientInfos */
		return NULL;
	if (asn1_enter(&p, end, &e, &tag, &cls) < 0)	/* EncryptedContentInfo */
		return NULL;
	end = e;
	if (asn1_skip(&p, end, 0) < 0)			/* contentType */
		return NULL;
	if (asn1_enter(&p, end, &e, &tag, &cls) < 0)	/* AlgorithmIdentifier */
		return NULL;
	return d2i_ASN1_OBJECT(NULL, &p, e - p);
}

static const struct {
	int nid;
	const char *name;
	int bits;
} cipher_names[] = {
	{ NID_aes_128_cbc, "AES128", 128 },
	{ NID_aes_192_cbc, "AES192", 192 },
	{ NID_aes_256_cbc, "AES256", 256 },
	{ NID_aes_128_gcm, "AES128-GCM", 128 },
	{ NID_aes_192_gcm, "AES192-GCM", 192 },
	{ NID_aes_256_gcm, "AES256-GCM", 256 },
	{ NID_des_ede3_cbc, "3DES", 192 },
	{ NID_des_cbc, "DES", 64 },
	{ NID_rc2_cbc, "RC2", 128 },
	{ NID_cast5_cbc, "CAST5", 128 },
	{ NID_camellia_128_cbc, "CAMELLIA128", 128 },
	{ NID_camellia_192_cbc, "CAMELLIA192", 192 },
	{ NID_camellia_256_cbc, "CAMELLIA256", 256 },
	{ NID_seed_cbc, "SEED", 128 },
	{ NID_chacha20_poly1305, "CHACHA20-POLY1305", 256 },
};

static void
algorithm_text(const unsigned char *der, size_t len, char *out, size_t size)
{
	ASN1_OBJECT *oid = content_alg(der, len);
	int nid;
	size_t i;

	snprintf(out, size, "unknown");
	if (oid == NULL)
		return;
	nid = OBJ_obj2nid(oid);
	for (i = 0; i < sizeof(cipher_names) / sizeof(cipher_names[0]); i++)
		if (cipher_names[i].nid == nid) {
			snprintf(out, size, "%s, Key size: %d",
			    cipher_names[i].name, cipher_names[i].bits);
			goto out;
		}
	OBJ_obj2txt(out, (int)size, oid, 1);
out:
	ASN1_OBJECT_free(oid);
}

/* ---- type ---- */

static enum smime_cms_type
type_of(const CMS_ContentInfo *cms)
{
	switch (OBJ_obj2nid(CMS_get0_type(cms))) {
	case NID_pkcs7_enveloped:
		return SMIME_CMS_ENVELOPED;
	case NID_id_smime_ct_authEnvelopedData:
		return SMIME_CMS_AUTH_ENVELOPED;
	case NID_pkcs7_signed:
		return SMIME_CMS_SIGNED;
	case NID_id_smime_ct_compressedData:
		return SMIME_CMS_COMPRESSED;
	case NID_pkcs7_data:
		return SMIME_CMS_DATA;
	default:
		return SMIME_CMS_OTHER;
	}
}

static CMS_ContentInfo *
cms_parse(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;

	if (len > LONG_MAX_SAFE)
		return NULL;
	return d2i_CMS_ContentInfo(NULL, &p, (long)len);
}

/* The type from the contentType OID alone: no full parse (that is done
 * once, by the operation). */
enum smime_cms_type
smime_cms_type(const unsigned char *der, size_t len)
{
	const unsigned char *p = der, *end = der + len, *e;
	ASN1_OBJECT *oid;
	int tag, cls, nid;

	if (asn1_enter(&p, end, &e, &tag, &cls) < 0 ||
	    tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL)
		goto bad;
	oid = d2i_ASN1_OBJECT(NULL, &p, e - p);
	if (oid == NULL)
		goto bad;
	nid = OBJ_obj2nid(oid);
	ASN1_OBJECT_free(oid);
	switch (nid) {
	case NID_pkcs7_enveloped:
		return SMIME_CMS_ENVELOPED;
	case NID_id_smime_ct_authEnvelopedData:
		return SMIME_CMS_AUTH_ENVELOPED;
	case NID_pkcs7_signed:
		return SMIME_CMS_SIGNED;
	case NID_id_smime_ct_compressedData:
		return SMIME_CMS_COMPRESSED;
	case NID_pkcs7_data:
		return SMIME_CMS_DATA;
	default:
		return SMIME_CMS_OTHER;
	}
bad:
	ERR_clear_error();
	return SMIME_CMS_UNKNOWN;
}

/* ---- decrypt ---- */

void
smime_decrypt_info_release(struct smime_decrypt_info *di)
{
	free(di->recipients);
	memset(di, 0, sizeof(*di));
}

static int
add_recipient(struct smime_decrypt_info *di, const char *id)
{
	struct smime_recipient *v;

	v = realloc(di->recipients, (di->nrecipients + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	di->recipients = v;
	memset(&v[di->nrecipients], 0, sizeof(*v));
	smime_strlcpy(v[di->nrecipients].id, id, sizeof(v->id));
	di->nrecipients++;
	return 0;
}

static void
oid_text(const X509_ALGOR *alg, char *out, size_t size)
{
	const ASN1_OBJECT *obj = NULL;

	out[0] = '\0';
	if (alg == NULL)
		return;
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (obj != NULL)
		OBJ_obj2txt(out, (int)size, obj, 1);
}

/* One recipient: record it, and ask for the key unless we have one. */
static int
try_recipient(const struct smime_keys *keys, struct smime_decrypt_info *di,
    const X509_NAME *issuer, const ASN1_INTEGER *sn,
    const ASN1_OCTET_STRING *ski, const X509_ALGOR *alg, EVP_PKEY **pkey,
    X509 **cert, const char **error_r)
{
	char id[900], oid[80], full[1024];
	struct smime_rid rid = { issuer, sn, ski };
	int r;

	id_text(issuer, sn, ski, id, sizeof(id));
	oid_text(alg, oid, sizeof(oid));
	snprintf(full, sizeof(full), "%s/%s", id, oid);
	if (add_recipient(di, full) < 0)
		return err_set(error_r, "out of memory");
	if (*pkey != NULL || keys == NULL || keys->find_key == NULL)
		return 0;
	r = keys->find_key(keys->arg, &rid, pkey, cert, error_r);
	if (r < 0)
		return -1;
	if (r > 0)
		di->recipients[di->nrecipients - 1].matched = 1;
	return 0;
}

int
smime_cms_decrypt(const unsigned char *der, size_t len,
    const struct smime_keys *keys, struct smime_decrypt_info *info,
    struct buf *out, const char **error_r)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_RecipientInfo) *ris;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	BIO *mem = NULL;
	unsigned char kek[64], kek_id[64];
	size_t kek_len = 0, kek_id_len = 0;
	char *data;
	long n;
	int i, rc = -1;

	memset(info, 0, sizeof(*info));
	cms = cms_parse(der, len);
	if (cms == NULL) {
		rc = 0;
		err_set(error_r, "cannot parse CMS: %s", smime_ossl_err());
		goto out;
	}
	info->type = type_of(cms);
	if (info->type != SMIME_CMS_ENVELOPED &&
	    info->type != SMIME_CMS_AUTH_ENVELOPED) {
		rc = 0;
		err_set(error_r, "not enveloped data");
		goto out;
	}
	algorithm_text(der, len, info->algorithm, sizeof(info->algorithm));
	ris = CMS_get0_RecipientInfos(cms);
	for (i = 0; i < sk_CMS_RecipientInfo_num(ris); i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);
		ASN1_OCTET_STRING *kid = NULL;
		X509_NAME *issuer = NULL;
		ASN1_INTEGER *sn = NULL;
		X509_ALGOR *alg = NULL;

		switch (CMS_RecipientInfo_type(ri)) {
		case CMS_RECIPINFO_TRANS:
			if (CMS_RecipientInfo_ktri_get0_signer_id(ri, &kid,
			    &issuer, &sn) <= 0)
				break;
			CMS_RecipientInfo_ktri_get0_algs(ri, NULL, NULL, &alg);
			if (try_recipient(keys, info, issuer, sn, kid, alg,
			    &pkey, &cert, error_r) < 0)
				goto out;
			break;
		case CMS_RECIPINFO_AGREE: {
			STACK_OF(CMS_RecipientEncryptedKey) *reks;
			int j;

			CMS_RecipientInfo_kari_get0_alg(ri, &alg, NULL);
			reks = CMS_RecipientInfo_kari_get0_reks(ri);
			for (j = 0; j < sk_CMS_RecipientEncryptedKey_num(reks);
			    j++) {
				CMS_RecipientEncryptedKey *rek =
				    sk_CMS_RecipientEncryptedKey_value(reks, j);

				kid = NULL;
				issuer = NULL;
				sn = NULL;
				if (CMS_RecipientEncryptedKey_get0_id(rek, &kid,
				    NULL, NULL, &issuer, &sn) <= 0)
					continue;
				if (try_recipient(keys, info, issuer, sn, kid,
				    alg, &pkey, &cert, error_r) < 0)
					goto out;
			}
			break;
		}
		case CMS_RECIPINFO_KEK: {
			X509_ALGOR *kalg = NULL;
			char hex[160], oid[80], full[300];
			int r;

			if (CMS_RecipientInfo_kekri_get0_id(ri, &kalg, &kid,
			    NULL, NULL, NULL) <= 0 || kid == NULL)
				break;
			hex_bytes(ASN1_STRING_get0_data(kid),
			    (size_t)ASN1_STRING_length(kid), hex, sizeof(hex));
			oid_text(kalg, oid, sizeof(oid));
			snprintf(full, sizeof(full), "kek/%s/%s", hex, oid);
			if (add_recipient(info, full) < 0) {
				err_set(error_r, "out of memory");
				goto out;
			}
			if (pkey != NULL || kek_len > 0 || keys == NULL ||
			    keys->find_kek == NULL)
				break;
			r = keys->find_kek(keys->arg,
			    ASN1_STRING_get0_data(kid),
			    (size_t)ASN1_STRING_length(kid), kek, &kek_len,
			    error_r);
			if (r < 0)
				goto out;
			if (r > 0) {
				if (kek_len > sizeof(kek))
					kek_len = sizeof(kek);
				memcpy(kek_id, ASN1_STRING_get0_data(kid),
				    (size_t)ASN1_STRING_length(kid) <
				    sizeof(kek_id) ? (size_t)ASN1_STRING_length(
				    kid) : sizeof(kek_id));
				kek_id_len = (size_t)ASN1_STRING_length(kid) <
				    sizeof(kek_id) ? (size_t)ASN1_STRING_length(
				    kid) : sizeof(kek_id);
				info->recipients[info->nrecipients - 1].matched
				    = 1;
			} else {
				kek_len = 0;
			}
			break;
		}
		case CMS_RECIPINFO_PASS:
			if (add_recipient(info, "password") < 0) {
				err_set(error_r, "out of memory");
				goto out;
			}
			break;
		default:
			if (add_recipient(info, "other") < 0) {
				err_set(error_r, "out of memory");
				goto out;
			}
			break;
		}
	}
	ERR_clear_error();
	if (pkey == NULL && kek_len == 0) {
		rc = 0;
		err_set(error_r, "no decryption key for any recipient");
		goto out;
	}
	info->key_found = 1;
	if (pkey == NULL) {
		if (CMS_decrypt_set1_key(cms, kek, kek_len, kek_id,
		    kek_id_len) <= 0) {
			rc = 0;
			err_set(error_r, "cannot unwrap the content key: %s",
			    smime_ossl_err());
			goto out;
		}
	} else if (CMS_decrypt_set1_pkey_and_peer(cms, pkey, cert, NULL) <= 0) {
		rc = 0;
		err_set(error_r, "cannot decrypt the content key: %s",
		    smime_ossl_err());
		goto out;
	}
	mem = BIO_new(BIO_s_mem());
	if (mem == NULL) {
		err_set(error_r, "out of memory");
		goto out;
	}
	if (CMS_decrypt(cms, NULL, NULL, NULL, mem, CMS_BINARY) <= 0) {
		rc = 0;
		err_set(error_r, "cannot decrypt: %s", smime_ossl_err());
		goto out;
	}
	n = BIO_get_mem_data(mem, &data);
	if (n < 0 || buf_append(out, data, (size_t)n) < 0) {
		err_set(error_r, "decrypted content too large");
		goto out;
	}
	rc = 1;
out:
	BIO_free(mem);
	EVP_PKEY_free(pkey);
	X509_free(cert);
	CMS_ContentInfo_free(cms);
	OPENSSL_cleanse(kek, sizeof(kek));
	ERR_clear_error();
	return rc;
}

/* ---- verify ---- */

void
smime_verify_info_release(struct smime_verify_info *vi)
{
	size_t i;

	for (i = 0; i < vi->nsigners; i++)
		X509_free(vi->signers[i].cert);
	free(vi->signers);
	sk_X509_pop_free(vi->certs, X509_free);
	memset(vi, 0, sizeof(*vi));
}

/* The e-mail addresses of a certificate (SAN rfc822Name, subject
 * emailAddress), ", " separated; match: does one equal from? */
static void
cert_emails(X509 *cert, const char *from, char *out, size_t size,
    int *match_r)
{
	STACK_OF(OPENSSL_STRING) *emails = X509_get1_email(cert);
	size_t o = 0;
	int i;

	out[0] = '\0';
	*match_r = from != NULL && *from != '\0' ? 0 : -1;
	for (i = 0; i < sk_OPENSSL_STRING_num(emails); i++) {
		const char *e = sk_OPENSSL_STRING_value(emails, i);
		int n;

		if (*match_r == 0 && strcasecmp(e, from) == 0)
			*match_r = 1;
		n = snprintf(out + o, size - o, "%s%s", o > 0 ? ", " : "", e);
		if (n < 0 || (size_t)n >= size - o)
			break;
		o += (size_t)n;
	}
	X509_email_free(emails);
}

static void
digest_text(const X509_ALGOR *alg, char *out, size_t size)
{
	const ASN1_OBJECT *obj = NULL;
	int nid;

	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	nid = obj != NULL ? OBJ_obj2nid(obj) : NID_undef;
	if (nid != NID_undef)
		snprintf(out, size, "%s", OBJ_nid2sn(nid));
	else
		oid_text(alg, out, size);
}

/* MD2, MD4, MD5: never good enough for a signature. */
static int
weak_digest(const X509_ALGOR *alg)
{
	const ASN1_OBJECT *obj = NULL;
	int nid;

	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	nid = obj != NULL ? OBJ_obj2nid(obj) : NID_undef;
	return nid == NID_md2 || nid == NID_md4 || nid == NID_md5;
}

int
smime_cms_verify(const unsigned char *der, size_t len,
    const unsigned char *content, size_t content_len,
    const struct smime_keys *keys, time_t at, const char *from,
    struct smime_verify_info *info, struct buf *out, const char **error_r)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	ASN1_OCTET_STRING **pos;
	BIO *dcont = NULL, *cmsbio = NULL;
	char chunk[16384];
	int i, n, nsig, rc = -1, have_content;

	memset(info, 0, sizeof(*info));
	if (at == 0)
		at = time(NULL);
	cms = cms_parse(der, len);
	if (cms == NULL || type_of(cms) != SMIME_CMS_SIGNED) {
		rc = 0;
		err_set(error_r, "not signed data%s%s", cms == NULL ? ": " : "",
		    cms == NULL ? smime_ossl_err() : "");
		goto out;
	}
	info->certs = CMS_get1_certs(cms);
	if (info->certs == NULL)
		info->certs = sk_X509_new_null();
	if (info->certs == NULL) {
		err_set(error_r, "out of memory");
		goto out;
	}
	sis = CMS_get0_SignerInfos(cms);
	nsig = sk_CMS_SignerInfo_num(sis);
	if (nsig < 0)
		nsig = 0;
	if (nsig > 0) {
		info->signers = calloc((size_t)nsig, sizeof(*info->signers));
		if (info->signers == NULL) {
			err_set(error_r, "out of memory");
			goto out;
		}
	}
	info->nsigners = (size_t)nsig;
	/* Attach the signer certificates found in the signature. */
	CMS_set1_signers_certs(cms, NULL, 0);
	ERR_clear_error();

	pos = CMS_get0_content(cms);
	have_content = pos != NULL && *pos != NULL;
	if (content != NULL && have_content)
		info->detached_had_econtent = 1;

	for (i = 0; i < nsig; i++) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, i);
		struct smime_signer *s = &info->signers[i];
		ASN1_OCTET_STRING *kid = NULL;
		X509_NAME *issuer = NULL;
		ASN1_INTEGER *sn = NULL;
		X509_ALGOR *dig = NULL, *sig = NULL;
		EVP_PKEY *pk = NULL;
		X509 *signer = NULL;

		s->from_match = -1;
		CMS_SignerInfo_get0_signer_id(si, &kid, &issuer, &sn);
		id_text(issuer, sn, kid, s->id, sizeof(s->id));
		CMS_SignerInfo_get0_algs(si, &pk, &signer, &dig, &sig);
		digest_text(dig, s->digest, sizeof(s->digest));
		s->verified = 1;	/* cleared below on any failure */
		if (weak_digest(dig)) {
			/* collisions are cheap: whatever the legacy provider
			 * could compute, it proves nothing */
			s->verified = 0;
			snprintf(s->verify_info, sizeof(s->verify_info),
			    "weak digest algorithm %s", s->digest);
		}
		if (signer == NULL) {
			s->verified = 0;
			snprintf(s->verify_info, sizeof(s->verify_info),
			    "signer certificate not found");
			snprintf(s->trust_info, sizeof(s->trust_info),
			    "signer certificate not found");
			continue;
		}
		X509_up_ref(signer);
		s->cert = signer;
		cert_emails(signer, from, s->email, sizeof(s->email),
		    &s->from_match);
		if (CMS_signed_get_attr_count(si) >= 0 &&
		    CMS_SignerInfo_verify(si) <= 0) {
			s->verified = 0;
			snprintf(s->verify_info, sizeof(s->verify_info),
			    "signature over the signed attributes is invalid: %.150s",
			    smime_ossl_err());
		}
	}

	if (nsig == 0) {
		/* nothing to verify; hand the eContent on, never "signed" */
		if (content == NULL && have_content && out != NULL &&
		    buf_append(out, ASN1_STRING_get0_data(*pos),
		    (size_t)ASN1_STRING_length(*pos)) < 0) {
			err_set(error_r, "signed content too large");
			goto out;
		}
	} else if (content == NULL && !have_content) {
		for (i = 0; i < nsig; i++)
			if (info->signers[i].verified) {
				info->signers[i].verified = 0;
				snprintf(info->signers[i].verify_info,
				    sizeof(info->signers[i].verify_info),
				    "no signed content");
			}
	} else {
		if (content != NULL) {
			dcont = BIO_new_mem_buf(content, (int)content_len);
			if (dcont == NULL) {
				err_set(error_r, "out of memory");
				goto out;
			}
		}
		cmsbio = CMS_dataInit(cms, dcont);
		if (cmsbio == NULL) {
			rc = 0;
			err_set(error_r, "cannot read the signed content: %s",
			    smime_ossl_err());
			goto out;
		}
		while ((n = BIO_read(cmsbio, chunk, sizeof(chunk))) > 0)
			if (content == NULL && out != NULL &&
			    buf_append(out, chunk, (size_t)n) < 0) {
				err_set(error_r, "signed content too large");
				goto out;
			}
		for (i = 0; i < nsig; i++) {
			struct smime_signer *s = &info->signers[i];

			if (!s->verified)
				continue;
			if (CMS_SignerInfo_verify_content(
			    sk_CMS_SignerInfo_value(sis, i), cmsbio) <= 0) {
				s->verified = 0;
				snprintf(s->verify_info, sizeof(s->verify_info),
				    "message digest mismatch: %.150s",
				    smime_ossl_err());
			}
		}
	}
	ERR_clear_error();

	for (i = 0; i < nsig; i++) {
		struct smime_signer *s = &info->signers[i];

		if (s->cert == NULL)
			continue;
		if (keys == NULL || keys->validate == NULL) {
			snprintf(s->trust_info, sizeof(s->trust_info),
			    "no trust store");
			continue;
		}
		if (keys->validate(keys->arg, s->cert, info->certs, at,
		    &s->trusted, s->trust_info, sizeof(s->trust_info),
		    error_r) < 0)
			goto out;
	}
	rc = 1;
out:
	if (cmsbio != NULL) {
		if (dcont != NULL) {
			while (cmsbio != NULL && cmsbio != dcont) {
				BIO *next = BIO_pop(cmsbio);

				BIO_free(cmsbio);
				cmsbio = next;
			}
		} else {
			BIO_free_all(cmsbio);
		}
	}
	BIO_free(dcont);
	CMS_ContentInfo_free(cms);
	if (rc <= 0)
		smime_verify_info_release(info);
	ERR_clear_error();
	return rc;
}

/* ---- outbound ---- */

static const struct {
	enum smime_cipher c;
	const char *name;
	int legacy;
} cipher_fetch[] = {
	{ SMIME_AES128_CBC, "AES-128-CBC", 0 },
	{ SMIME_AES192_CBC, "AES-192-CBC", 0 },
	{ SMIME_AES256_CBC, "AES-256-CBC", 0 },
	{ SMIME_AES128_GCM, "AES-128-GCM", 0 },
	{ SMIME_AES192_GCM, "AES-192-GCM", 0 },
	{ SMIME_AES256_GCM, "AES-256-GCM", 0 },
	{ SMIME_DES_EDE3_CBC, "DES-EDE3-CBC", 0 },
	{ SMIME_RC2_128_CBC, "RC2-CBC", 1 },
	{ SMIME_CAST5_CBC, "CAST5-CBC", 1 },
	{ SMIME_CAMELLIA128_CBC, "CAMELLIA-128-CBC", 0 },
	{ SMIME_CAMELLIA256_CBC, "CAMELLIA-256-CBC", 0 },
	{ SMIME_SEED_CBC, "SEED-CBC", 1 },
};

static EVP_CIPHER *
fetch_cipher(const struct smime_opts *o, const char **error_r)
{
	EVP_CIPHER *c;
	size_t i;

	for (i = 0; i < sizeof(cipher_fetch) / sizeof(cipher_fetch[0]); i++)
		if (cipher_fetch[i].c == o->cipher)
			break;
	if (i == sizeof(cipher_fetch) / sizeof(cipher_fetch[0])) {
		err_set(error_r, "unknown cipher");
		return NULL;
	}
	if (cipher_fetch[i].legacy && !o->legacy) {
		err_set(error_r, "cipher '%s' needs the legacy setting",
		    cipher_fetch[i].name);
		return NULL;
	}
	c = EVP_CIPHER_fetch(NULL, cipher_fetch[i].name, NULL);
	if (c == NULL)
		err_set(error_r, "cipher '%s' not available: %s",
		    cipher_fetch[i].name, smime_ossl_err());
	return c;
}

static const EVP_MD *
scheme_md(enum smime_scheme s)
{
	switch (s) {
	case SMIME_RSA_OAEP_SHA1:
		return EVP_sha1();
	case SMIME_RSA_OAEP_SHA256:
		return EVP_sha256();
	case SMIME_RSA_OAEP_SHA384:
		return EVP_sha384();
	case SMIME_RSA_OAEP_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

static const EVP_MD *
digest_md(enum smime_digest d)
{
	switch (d) {
	case SMIME_SHA384:
		return EVP_sha384();
	case SMIME_SHA512:
		return EVP_sha512();
	case SMIME_SHA1:
		return EVP_sha1();
	default:
		return EVP_sha256();
	}
}

const char *
smime_micalg(enum smime_digest d)
{
	switch (d) {
	case SMIME_SHA384:
		return "sha-384";
	case SMIME_SHA512:
		return "sha-512";
	case SMIME_SHA1:
		return "sha-1";
	default:
		return "sha-256";
	}
}

/* DER straight into out: length first, then encode in place */
static int
cms_to_buf(CMS_ContentInfo *cms, struct buf *out, const char **error_r)
{
	unsigned char *p;
	int n;

	n = i2d_CMS_ContentInfo(cms, NULL);
	if (n <= 0)
		return err_set(error_r, "cannot encode CMS: %s",
		    smime_ossl_err());
	if (buf_reserve(out, (size_t)n + 1) < 0)
		return err_set(error_r, "CMS output too large");
	p = (unsigned char *)out->data + out->len;
	if (i2d_CMS_ContentInfo(cms, &p) != n)
		return err_set(error_r, "cannot encode CMS: %s",
		    smime_ossl_err());
	out->len += (size_t)n;
	out->data[out->len] = '\0';
	return 0;
}

int
smime_cms_encrypt(const unsigned char *content, size_t len,
    STACK_OF(X509) *recipients, const struct smime_opts *opts,
    struct buf *out, const char **error_r)
{
	CMS_ContentInfo *cms = NULL;
	EVP_CIPHER *cipher = NULL;
	BIO *in = NULL;
	int i, rc = -1;
	const unsigned int flags = CMS_BINARY | CMS_PARTIAL;

	if (sk_X509_num(recipients) <= 0)
		return err_set(error_r, "no recipient certificates");
	cipher = fetch_cipher(opts, error_r);
	if (cipher == NULL)
		goto out;
	cms = CMS_encrypt(NULL, NULL, cipher, flags);
	if (cms == NULL) {
		err_set(error_r, "CMS_encrypt: %s", smime_ossl_err());
		goto out;
	}
	for (i = 0; i < sk_X509_num(recipients); i++) {
		X509 *cert = sk_X509_value(recipients, i);
		EVP_PKEY *pub = X509_get0_pubkey(cert);
		CMS_RecipientInfo *ri;
		EVP_PKEY_CTX *pctx;
		const EVP_MD *md;

		if (pub == NULL) {
			err_set(error_r, "recipient %d: no public key", i);
			goto out;
		}
		ri = CMS_add1_recipient_cert(cms, cert, flags | CMS_KEY_PARAM);
		if (ri == NULL) {
			err_set(error_r, "recipient %d: %s", i,
			    smime_ossl_err());
			goto out;
		}
		pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
		if (pctx == NULL) {
			err_set(error_r, "recipient %d: no key context", i);
			goto out;
		}
		if (EVP_PKEY_is_a(pub, "RSA")) {
			md = scheme_md(opts->scheme);
			if (md != NULL &&
			    (EVP_PKEY_CTX_set_rsa_padding(pctx,
			    RSA_PKCS1_OAEP_PADDING) <= 0 ||
			    EVP_PKEY_CTX_set_rsa_oaep_md(pctx, md) <= 0 ||
			    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0)) {
				err_set(error_r, "recipient %d: OAEP: %s", i,
				    smime_ossl_err());
				goto out;
			}
		} else if (EVP_PKEY_is_a(pub, "EC")) {
			if (EVP_PKEY_CTX_set_ecdh_kdf_md(pctx,
			    EVP_sha256()) <= 0) {
				err_set(error_r, "recipient %d: ECDH KDF: %s",
				    i, smime_ossl_err());
				goto out;
			}
		}
	}
	in = BIO_new_mem_buf(content, (int)len);
	if (in == NULL || CMS_final(cms, in, NULL, flags) <= 0) {
		err_set(error_r, "cannot encrypt: %s", smime_ossl_err());
		goto out;
	}
	if (cms_to_buf(cms, out, error_r) < 0)
		goto out;
	rc = 0;
out:
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	EVP_CIPHER_free(cipher);
	ERR_clear_error();
	return rc;
}

int
smime_cms_sign(const unsigned char *content, size_t len, X509 *cert,
    EVP_PKEY *key, STACK_OF(X509) *chain, const struct smime_opts *opts,
    int detached, struct buf *out, const char **error_r)
{
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	BIO *in = NULL;
	unsigned int flags = CMS_BINARY | CMS_PARTIAL;
	int rc = -1;

	if (detached)
		flags |= CMS_DETACHED;
	cms = CMS_sign(NULL, NULL, chain, NULL, flags);
	if (cms == NULL) {
		err_set(error_r, "CMS_sign: %s", smime_ossl_err());
		goto out;
	}
	si = CMS_add1_signer(cms, cert, key, digest_md(opts->digest),
	    flags | (opts->pss ? CMS_KEY_PARAM : 0));
	if (si == NULL) {
		err_set(error_r, "cannot add signer: %s", smime_ossl_err());
		goto out;
	}
	if (opts->pss) {
		EVP_PKEY_CTX *pctx = CMS_SignerInfo_get0_pkey_ctx(si);

		if (pctx == NULL || !EVP_PKEY_is_a(key, "RSA") ||
		    EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) <= 0) {
			err_set(error_r, "RSASSA-PSS needs an RSA key: %s",
			    smime_ossl_err());
			goto out;
		}
	}
	in = BIO_new_mem_buf(content, (int)len);
	if (in == NULL || CMS_final(cms, in, NULL, flags) <= 0) {
		err_set(error_r, "cannot sign: %s", smime_ossl_err());
		goto out;
	}
	if (cms_to_buf(cms, out, error_r) < 0)
		goto out;
	rc = 0;
out:
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return rc;
}

/* ---- the simple key source ---- */

static int
simple_find_key(void *arg, const struct smime_rid *rid, EVP_PKEY **pkey_r,
    X509 **cert_r, const char **error_r)
{
	struct smime_simple_keys *sk = arg;
	size_t i;

	(void)error_r;
	for (i = 0; i < sk->nkeys; i++) {
		X509 *c = sk_X509_value(sk->certs, (int)i);
		const ASN1_OCTET_STRING *ski;
		int match = 0;

		if (c == NULL)
			continue;
		if (rid->issuer != NULL && rid->serial != NULL)
			match = X509_NAME_cmp(rid->issuer,
			    X509_get_issuer_name(c)) == 0 &&
			    ASN1_INTEGER_cmp(rid->serial,
			    X509_get0_serialNumber(c)) == 0;
		else if (rid->ski != NULL) {
			ski = X509_get0_subject_key_id(c);
			match = ski != NULL &&
			    ASN1_OCTET_STRING_cmp(ski, rid->ski) == 0;
		}
		if (match) {
			EVP_PKEY_up_ref(sk->keys[i]);
			X509_up_ref(c);
			*pkey_r = sk->keys[i];
			*cert_r = c;
			return 1;
		}
	}
	return 0;
}

static int
simple_validate(void *arg, X509 *signer, STACK_OF(X509) *untrusted,
    time_t at, int *trusted_r, char *reason, size_t size,
    const char **error_r)
{
	struct smime_simple_keys *sk = arg;
	X509_STORE_CTX *ctx;
	int r;

	*trusted_r = 0;
	reason[0] = '\0';
	if (sk->store == NULL) {
		snprintf(reason, size, "no trust anchors");
		return 0;
	}
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL ||
	    !X509_STORE_CTX_init(ctx, sk->store, signer, untrusted)) {
		X509_STORE_CTX_free(ctx);
		return err_set(error_r, "cannot init the validation: %s",
		    smime_ossl_err());
	}
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SMIME_SIGN);
	X509_STORE_CTX_set_time(ctx, 0, at);
	if (sk->vflags != 0)
		X509_STORE_CTX_set_flags(ctx, sk->vflags);
	r = X509_verify_cert(ctx);
	if (r > 0)
		*trusted_r = 1;
	else
		snprintf(reason, size, "%s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return 0;
}

void
smime_simple_keys_init(struct smime_keys *k, struct smime_simple_keys *sk)
{
	k->find_key = simple_find_key;
	k->validate = simple_validate;
	k->find_kek = NULL;
	k->arg = sk;
}

static OSSL_PROVIDER *prov_legacy, *prov_default;

static void
legacy_unload(void)
{
	if (prov_legacy != NULL)
		OSSL_PROVIDER_unload(prov_legacy);
	if (prov_default != NULL)
		OSSL_PROVIDER_unload(prov_default);
	prov_legacy = prov_default = NULL;
}

int
smime_legacy_enable(const char **error_r)
{
	static int done;

	if (done)
		return 0;
	prov_legacy = OSSL_PROVIDER_load(NULL, "legacy");
	prov_default = OSSL_PROVIDER_load(NULL, "default");
	if (prov_legacy == NULL || prov_default == NULL) {
		legacy_unload();
		return err_set(error_r, "cannot load the legacy provider: %s",
		    smime_ossl_err());
	}
	/* unloaded before OpenSSL's own exit handler runs */
	atexit(legacy_unload);
	done = 1;
	return 0;
}
