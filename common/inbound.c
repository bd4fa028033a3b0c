#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "config.h"
#include "err.h"
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "inbound.h"
#include "infohdr.h"
#include "mime.h"
#include "pgp_keystore.h"
#include "pgp_msg.h"
#include "settings.h"
#include "smime.h"
#include "x509.h"

void
inbound_result_init(struct inbound_result *res)
{
	memset(res, 0, sizeof(*res));
	buf_init(&res->log, 8192);
}

void
inbound_result_release(struct inbound_result *res)
{
	buf_release(&res->log);
}

/* Does field name n (length l) equal prefix or start with "prefix-"? */
static int
has_prefix(const char *n, size_t l, const char *prefix, size_t pl)
{
	if (pl == 0 || l < pl || strncasecmp(n, prefix, pl) != 0)
		return 0;
	return l == pl || n[pl] == '-';
}

static int
strip_one(struct mime_message *m, const char *prefix, size_t pl)
{
	struct mime_entity *root = m->root;
	int removed = 0;
	size_t i;

	for (;;) {
		char name[256];
		size_t nl;

		for (i = 0; i < root->nfields; i++) {
			const struct mime_field *f = &root->fields[i];

			nl = f->name_len;
			while (nl > 0 && (f->raw[nl - 1] == ' ' ||
			    f->raw[nl - 1] == '\t'))
				nl--;
			if (has_prefix(f->raw, nl, prefix, pl))
				break;
		}
		if (i == root->nfields)
			return removed;
		if (nl >= sizeof(name))
			nl = sizeof(name) - 1;
		memcpy(name, root->fields[i].raw, nl);
		name[nl] = '\0';
		/* deletes every field of that exact name */
		removed += mime_header_delete(m, root, name);
	}
}

int
inbound_strip_info(const struct config *cfg, struct mime_message *m)
{
	const char *prefix = config_str(cfg, "info_header_prefix");
	const char *legacy = config_str(cfg, "legacy_info_header_prefixes");
	const char *p;
	int removed;

	removed = strip_one(m, prefix, strlen(prefix));
	for (p = legacy; *p != '\0';) {
		size_t l;

		p += strspn(p, " \t,");
		l = strcspn(p, " \t,");
		if (l > 0)
			removed += strip_one(m, p, l);
		p += l;
	}
	return removed;
}

static int
info_add(const struct config *cfg, struct mime_message *m, const char *name,
    const char *value, const char **error_r)
{
	char full[256];

	snprintf(full, sizeof(full), "%s-%s",
	    config_str(cfg, "info_header_prefix"), name);
	return mime_header_add(m, m->root, full, value, MIME_BOTTOM, error_r);
}

static void
kinds_text(unsigned kinds, struct buf *out)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ MIME_K_SMIME_ENVELOPED, "smime-enveloped" },
		{ MIME_K_SMIME_AUTH_ENVELOPED, "smime-authenveloped" },
		{ MIME_K_SMIME_SIGNED, "smime-signed" },
		{ MIME_K_SMIME_OPAQUE_SIGNED, "smime-opaque-signed" },
		{ MIME_K_SMIME_CERTS_ONLY, "smime-certs-only" },
		{ MIME_K_SMIME_UNKNOWN, "smime-p7m" },
		{ MIME_K_PGP_ENCRYPTED, "pgp-mime-encrypted" },
		{ MIME_K_PGP_SIGNED, "pgp-mime-signed" },
		{ MIME_K_PGP_INLINE_ENCRYPTED, "pgp-inline-encrypted" },
		{ MIME_K_PGP_INLINE_SIGNED, "pgp-inline-signed" },
	};
	size_t i;
	int first = 1;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(kinds & names[i].bit))
			continue;
		buf_printf(out, "%s%s", first ? "" : ",", names[i].name);
		first = 0;
	}
	if (first)
		buf_puts(out, "none");
}

#define SMIME_KINDS (MIME_K_SMIME_ENVELOPED | MIME_K_SMIME_AUTH_ENVELOPED | \
	MIME_K_SMIME_SIGNED | MIME_K_SMIME_OPAQUE_SIGNED | MIME_K_SMIME_UNKNOWN)
#define PGP_KINDS (MIME_K_PGP_ENCRYPTED | MIME_K_PGP_SIGNED | \
	MIME_K_PGP_INLINE_ENCRYPTED | MIME_K_PGP_INLINE_SIGNED)
#define CRYPTO_KINDS (MIME_K_SMIME_ENVELOPED | MIME_K_SMIME_AUTH_ENVELOPED | \
	MIME_K_SMIME_SIGNED | MIME_K_SMIME_OPAQUE_SIGNED | \
	MIME_K_SMIME_UNKNOWN | MIME_K_PGP_ENCRYPTED | MIME_K_PGP_SIGNED | \
	MIME_K_PGP_INLINE_ENCRYPTED | MIME_K_PGP_INLINE_SIGNED)

/*
 * One settings view per recipient, looked up once per message: locality
 * decides whether the message may be decrypted at all, smime.strict
 * which recipients demand strict mode, and the first recipient's view
 * gives the inbound settings.
 */
struct rcpt_views {
	struct settings_view **v;	/* v[i] for rcpts[i]; NULL: malformed */
	size_t n;
	const char *external;		/* first non-internal recipient */
	char **strict;			/* recipients with smime.strict */
	size_t nstrict;
};

static void
rcpt_views_release(struct rcpt_views *rv)
{
	size_t i;

	for (i = 0; i < rv->n; i++)
		settings_view_free(&rv->v[i]);
	free(rv->v);
	free(rv->strict);
	memset(rv, 0, sizeof(*rv));
}

static int
rcpt_views_load(const struct inbound_env *env, const struct inbound_msg *im,
    struct rcpt_views *rv, const char **error_r)
{
	size_t i;

	memset(rv, 0, sizeof(*rv));
	rv->v = calloc(im->nrcpts + 1, sizeof(*rv->v));
	rv->strict = calloc(im->nrcpts + 1, sizeof(*rv->strict));
	if (rv->v == NULL || rv->strict == NULL) {
		rcpt_views_release(rv);
		return err_set(error_r, "out of memory");
	}
	rv->n = im->nrcpts;
	if (im->nrcpts == 0)
		rv->external = "(none)";
	for (i = 0; i < im->nrcpts; i++) {
		char norm[ADDRESS_MAX + 1];

		if (address_normalize(im->rcpts[i], norm, sizeof(norm)) < 0) {
			if (rv->external == NULL)
				rv->external = im->rcpts[i];
			continue;
		}
		/* no master key: no inbound setting is a secret, and
		 * opening secrets costs a decryption per view */
		if (settings_view_user(env->st, NULL, norm, &rv->v[i],
		    error_r) < 0) {
			rcpt_views_release(rv);
			return -1;
		}
		if (rv->external == NULL && strcmp(settings_get(rv->v[i],
		    "locality", NULL, NULL), "internal") != 0)
			rv->external = im->rcpts[i];
		if (settings_get_bool(rv->v[i], "smime.strict"))
			rv->strict[rv->nstrict++] = im->rcpts[i];
	}
	return 0;
}

/*
 * The key cache (daemons only, env->key_cache_ttl > 0): unsealing,
 * parsing and preparing a private key costs more than the RSA
 * operation itself for small mail, and a milter decrypts with the same
 * few keys all day.  Entries are found by the RecipientInfo identifier
 * (SHA-256 of issuer, serial and subject key identifier), hold a
 * reference to the key and its certificate, and expire after the TTL,
 * so a key deleted with posternctl is gone at most that long after.
 * Only successful lookups are cached.
 */
#define KEYCACHE_MAX 32

struct keycache_ent {
	unsigned char id[SHA256_DIGEST_LENGTH];
	EVP_PKEY *pkey;
	X509 *cert;
	time_t at;
};

static pthread_mutex_t kc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct keycache_ent kc[KEYCACHE_MAX];

struct cached_keys {
	struct smime_keys base;
	long ttl;
};

static int
rid_digest(const struct smime_rid *rid, unsigned char *md)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	int len, ok = 0;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	if (rid->issuer != NULL) {
		len = i2d_X509_NAME(rid->issuer, &der);
		if (len <= 0 || EVP_DigestUpdate(ctx, der, (size_t)len) != 1)
			goto out;
		OPENSSL_free(der);
		der = NULL;
	}
	EVP_DigestUpdate(ctx, "|", 1);
	if (rid->serial != NULL)
		EVP_DigestUpdate(ctx, ASN1_STRING_get0_data(rid->serial),
		    (size_t)ASN1_STRING_length(rid->serial));
	EVP_DigestUpdate(ctx, "|", 1);
	if (rid->ski != NULL)
		EVP_DigestUpdate(ctx, ASN1_STRING_get0_data(rid->ski),
		    (size_t)ASN1_STRING_length(rid->ski));
	ok = EVP_DigestFinal_ex(ctx, md, NULL) == 1;
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int
cached_find_key(void *arg, const struct smime_rid *rid, EVP_PKEY **pkey_r,
    X509 **cert_r, const char **error_r)
{
	struct cached_keys *ck = arg;
	unsigned char id[SHA256_DIGEST_LENGTH];
	time_t now = time(NULL);
	size_t i, slot = 0;
	int rc;

	if (rid_digest(rid, id) < 0)
		return ck->base.find_key(ck->base.arg, rid, pkey_r, cert_r,
		    error_r);
	pthread_mutex_lock(&kc_lock);
	for (i = 0; i < KEYCACHE_MAX; i++) {
		if (kc[i].pkey == NULL || memcmp(kc[i].id, id, sizeof(id)))
			continue;
		if (now - kc[i].at >= ck->ttl)
			break;
		EVP_PKEY_up_ref(kc[i].pkey);
		*pkey_r = kc[i].pkey;
		*cert_r = kc[i].cert;
		if (*cert_r != NULL)
			X509_up_ref(*cert_r);
		pthread_mutex_unlock(&kc_lock);
		return 1;
	}
	pthread_mutex_unlock(&kc_lock);
	rc = ck->base.find_key(ck->base.arg, rid, pkey_r, cert_r, error_r);
	if (rc != 1)
		return rc;
	pthread_mutex_lock(&kc_lock);
	/* the same id (expired), a free slot, else the oldest */
	for (i = 0; i < KEYCACHE_MAX; i++) {
		if (kc[i].pkey != NULL && memcmp(kc[i].id, id, sizeof(id)) == 0) {
			slot = i;
			break;
		}
		if (kc[i].pkey == NULL || kc[i].at < kc[slot].at)
			slot = i;
	}
	EVP_PKEY_free(kc[slot].pkey);
	X509_free(kc[slot].cert);
	memcpy(kc[slot].id, id, sizeof(id));
	EVP_PKEY_up_ref(*pkey_r);
	kc[slot].pkey = *pkey_r;
	kc[slot].cert = *cert_r;
	if (*cert_r != NULL)
		X509_up_ref(*cert_r);
	kc[slot].at = now;
	pthread_mutex_unlock(&kc_lock);
	return 1;
}

static int
cached_validate(void *arg, X509 *signer, STACK_OF(X509) *untrusted,
    time_t at, int *trusted_r, char *reason, size_t reason_size,
    const char **error_r)
{
	struct cached_keys *ck = arg;

	return ck->base.validate(ck->base.arg, signer, untrusted, at,
	    trusted_r, reason, reason_size, error_r);
}

void
inbound_key_cache_flush(void)
{
	size_t i;

	pthread_mutex_lock(&kc_lock);
	for (i = 0; i < KEYCACHE_MAX; i++) {
		EVP_PKEY_free(kc[i].pkey);
		X509_free(kc[i].cert);
		memset(&kc[i], 0, sizeof(kc[i]));
	}
	pthread_mutex_unlock(&kc_lock);
}

/*
 * Strict mode over several recipients: a key found by the keystore is
 * only used when x509_strict_allows() accepts its certificate for every
 * recipient that has smime.strict on.  A refused key counts as not found.
 */
struct strict_keys {
	struct smime_keys base;		/* the keystore's callbacks */
	struct x509_ks *ks;
	char *const *rcpts;		/* the strict recipients */
	size_t n;
	int refused;
	char reason[SMIME_REASON_MAX + ADDRESS_MAX];
};

static int
strict_find_key(void *arg, const struct smime_rid *rid, EVP_PKEY **pkey_r,
    X509 **cert_r, const char **error_r)
{
	struct strict_keys *sk = arg;
	char thumb[X509_THUMB_LEN + 1], why[SMIME_REASON_MAX];
	size_t i;
	int rc, allow;

	rc = sk->base.find_key(sk->base.arg, rid, pkey_r, cert_r, error_r);
	if (rc != 1)
		return rc;
	if (*cert_r == NULL || x509_thumbprint(*cert_r, thumb) < 0) {
		snprintf(sk->reason, sizeof(sk->reason), "strict mode: the "
		    "decryption key has no certificate");
		goto refuse;
	}
	for (i = 0; i < sk->n; i++) {
		if (x509_strict_allows(sk->ks, sk->rcpts[i], thumb,
		    time(NULL), &allow, why, sizeof(why), error_r) < 0) {
			EVP_PKEY_free(*pkey_r);
			X509_free(*cert_r);
			*pkey_r = NULL;
			*cert_r = NULL;
			return -1;
		}
		if (!allow) {
			snprintf(sk->reason, sizeof(sk->reason),
			    "strict mode: %s: %s", sk->rcpts[i], why);
			goto refuse;
		}
	}
	return 1;
refuse:
	sk->refused++;
	EVP_PKEY_free(*pkey_r);
	X509_free(*cert_r);
	*pkey_r = NULL;
	*cert_r = NULL;
	return 0;
}

static int
strict_validate(void *arg, X509 *signer, STACK_OF(X509) *untrusted,
    time_t at, int *trusted_r, char *reason, size_t reason_size,
    const char **error_r)
{
	struct strict_keys *sk = arg;

	return sk->base.validate(sk->base.arg, signer, untrusted, at,
	    trusted_r, reason, reason_size, error_r);
}

/*
 * Import the certificates of a signature into the certificates store
 * (smime.import-certificates); with smime.skip-untrusted-import only
 * those valid for signing now.  Failures are returned: the caller logs
 * them as warnings and goes on (the mail is not at fault).
 */
static int
import_signer_certs(struct x509_ks *ks, STACK_OF(X509) *certs,
    int skip_untrusted, int *imported_r, const char **error_r)
{
	int i, rc = 0;

	*imported_r = 0;
	for (i = 0; certs != NULL && i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);
		struct x509_import_result ir;
		unsigned char *der = NULL;
		int len;

		if (skip_untrusted) {
			struct x509_verdict vd;
			int ok;

			x509_verdict_init(&vd);
			if (x509_verify(ks, c, certs, time(NULL),
			    X509_USE_SIGN, &vd, error_r) < 0) {
				x509_verdict_release(&vd);
				return -1;
			}
			ok = vd.valid;
			x509_verdict_release(&vd);
			if (!ok)
				continue;
		}
		len = i2d_X509(c, &der);
		if (len <= 0)
			return err_set(error_r, "cannot encode certificate");
		memset(&ir, 0, sizeof(ir));
		rc = x509_import_certs(ks, X509KS_CERTS, der, (size_t)len, &ir,
		    error_r);
		OPENSSL_free(der);
		if (rc < 0)
			return -1;
		*imported_r += ir.added;
		x509_import_result_release(&ir);
	}
	return 0;
}

/* smime.remove-signature: a root multipart/signed becomes its content. */
static int
remove_root_signature(struct mime_message *m, const char **error_r)
{
	struct mime_entity *root = m->root, *copy;

	if (!(mime_entity_kind(root) & MIME_K_SMIME_SIGNED) ||
	    root->children == NULL)
		return 0;
	copy = mime_entity_copy(m, root->children, error_r);
	if (copy == NULL)
		return -1;
	if (mime_entity_replace_content(m, root, copy, error_r) < 0)
		return -1;
	return 1;
}

/*
 * The S/MIME step for an all-internal message.  Settings are read for
 * the first recipient (a milter cannot treat recipients differently),
 * except smime.strict, which every recipient can demand.
 */
/*
 * The originator the signers are compared with (seed 003 section 4.1):
 * From, then Sender (the S/MIME and OpenPGP layers decide both from the
 * message: NULL), then the envelope sender when the message has neither
 * field.
 */
static const char *
originator(const struct inbound_msg *im, struct mime_message *m)
{
	size_t i;

	for (i = 0; i < m->root->nfields; i++) {
		const struct mime_field *f = &m->root->fields[i];
		size_t nl = f->name_len;

		while (nl > 0 && (f->raw[nl - 1] == ' ' ||
		    f->raw[nl - 1] == '\t'))
			nl--;
		if ((nl == 4 && strncasecmp(f->raw, "From", 4) == 0) ||
		    (nl == 6 && strncasecmp(f->raw, "Sender", 6) == 0))
			return NULL;	/* present, even if empty or odd */
	}
	if (im->env_from == NULL || im->env_from[0] == '\0')
		return NULL;
	return im->env_from;
}

static int
do_smime(const struct inbound_env *env, const struct inbound_msg *im,
    const struct rcpt_views *rv, struct settings_view *v,
    struct mime_message *m, struct inbound_result *res, const char **error_r)
{
	struct x509_ks *ks = NULL;
	struct smime_opts opts;
	struct smime_result sres;
	struct strict_keys sk;
	struct cached_keys ck;
	struct smime_keys keys;
	int rc = -1, r;

	memset(&sres, 0, sizeof(sres));
	memset(&sk, 0, sizeof(sk));
	memset(&ck, 0, sizeof(ck));
	if (x509_ks_new(env->st, env->mkey, &ks, error_r) < 0)
		goto out;
	smime_opts_init(&opts);
	smime_opts_config(&opts, env->cfg);
	opts.legacy = settings_get_bool(v, "smime.legacy-algorithms");
	opts.abort_on_illegal_7bit = settings_get_bool(v,
	    "smime.abort-on-illegal-7bit");
	opts.max_size = (size_t)settings_get_int(v, "smime.max-size");
	smime_keys_from_ks(&sk.base, ks);
	if (env->key_cache_ttl > 0) {
		ck.base = sk.base;
		ck.ttl = env->key_cache_ttl;
		sk.base.find_key = cached_find_key;
		sk.base.validate = cached_validate;
		sk.base.find_kek = NULL;
		sk.base.arg = &ck;
	}
	keys = sk.base;
	if (rv->nstrict > 0) {
		sk.ks = ks;
		sk.rcpts = rv->strict;
		sk.n = rv->nstrict;
		keys.find_key = strict_find_key;
		keys.validate = strict_validate;
		keys.find_kek = NULL;
		keys.arg = &sk;
	}
	if (smime_inbound_edit(m, &keys, &opts, originator(im, m), 0,
	    &sres, error_r) < 0)
		goto out;
	res->smime_flags = sres.flags;
	if (sres.flags == 0 && (sres.info == NULL ||
	    infohdr_count(sres.info) == 0)) {
		/* the MIME engine saw S/MIME, the CMS layer could not read
		 * it: pass it on unchanged, but say so */
		buf_puts(&res->log, " smime=unreadable");
		if (info_add(env->cfg, m, "SMIME-Decryption-Failed",
		    "unreadable S/MIME data", error_r) < 0)
			goto out;
		res->action = INBOUND_PASSED;
		rc = 0;
		goto out;
	}
	if (sres.flags & SMIME_R_DECRYPTED)
		res->action = INBOUND_DECRYPTED;
	else if (sres.flags & SMIME_R_SIGNED)
		res->action = INBOUND_VERIFIED;
	else
		res->action = INBOUND_PASSED;
	buf_printf(&res->log, " smime=%s%s%s%s%s%s",
	    sres.flags & SMIME_R_DECRYPTED ? "decrypted" :
	    sres.flags & SMIME_R_ENCRYPTED ? "encrypted" : "none",
	    sres.flags & SMIME_R_SIGNED_VALID ? ",signed-valid" :
	    sres.flags & SMIME_R_SIGNED ? ",signed-invalid" : "",
	    sres.flags & SMIME_R_MIXED ? ",mixed" : "",
	    sres.flags & SMIME_R_KEY_NOT_FOUND ? ",key-not-found" : "",
	    sres.flags & SMIME_R_DECRYPT_FAILED ? ",decrypt-failed" : "",
	    sres.flags & SMIME_R_SIGNER_MISMATCH ? ",signer-mismatch" : "");
	if (sk.refused > 0) {
		buf_printf(&res->log, " reason=\"%s\"", sk.reason);
		if (info_add(env->cfg, m, "Decryption-Skipped", sk.reason,
		    error_r) < 0)
			goto out;
	}
	/* the signer's e-mail for the "signed by" tag */
	{
		const char *em = infohdr_get(sres.info, "Signer-Email-0-0");
		size_t l;

		if (em != NULL) {
			l = strcspn(em, ", ");
			if (l >= sizeof(res->signer_email))
				l = sizeof(res->signer_email) - 1;
			memcpy(res->signer_email, em, l);
			res->signer_email[l] = '\0';
		}
	}
	if ((sres.flags & SMIME_R_SIGNED) && sres.certs != NULL &&
	    settings_get_bool(v, "smime.import-certificates")) {
		int added;
		const char *why;

		if (import_signer_certs(ks, sres.certs, settings_get_bool(v,
		    "smime.skip-untrusted-import"), &added, &why) < 0)
			buf_printf(&res->log, " import=failed(%s)", why);
		else if (added > 0)
			buf_printf(&res->log, " imported=%d", added);
	}
	if ((sres.flags & SMIME_R_SIGNED) &&
	    settings_get_bool(v, "smime.remove-signature")) {
		r = remove_root_signature(m, error_r);
		if (r < 0)
			goto out;
		if (r > 0)
			buf_puts(&res->log, " signature=removed");
	}
	rc = 0;
out:
	smime_result_release(&sres);
	x509_ks_free(&ks);
	return rc;
}

/*
 * The OpenPGP step (pgp_msg.h), with the pgp.* settings of the first
 * recipient.  Runs when the MIME engine saw OpenPGP or the message layer
 * finds armored blocks, .pgp attachments or keys.
 */
static const char *const pgp_settings[] = {
	"pgp.enabled", "pgp.max-size", "pgp.scan-html",
	"pgp.partitioned-fixup", "pgp.import-keys-from-mail",
	"pgp.remove-keys-from-mail", "pgp.remove-signature",
};

static int
do_pgp(const struct inbound_env *env, const struct inbound_msg *im,
    struct settings_view *v, struct mime_message *m,
    struct inbound_result *res, const char **error_r)
{
	struct pgp_msg_opts o;
	struct pgp_msg_result pres;
	struct pgp_msg_keys keys;
	unsigned f;
	size_t i;
	int rc = -1;

	memset(&pres, 0, sizeof(pres));
	pgp_msg_opts_init(&o);
	for (i = 0; i < sizeof(pgp_settings) / sizeof(*pgp_settings); i++) {
		const char *why;

		if (pgp_msg_opts_set(&o, pgp_settings[i], settings_get(v,
		    pgp_settings[i], NULL, NULL), &why) < 0)
			buf_printf(&res->log, " pgp-setting=bad(%s)", why);
	}
	o.prefix = config_str(env->cfg, "info_header_prefix");
	if (!(res->kinds & PGP_KINDS) && !pgp_msg_inbound_wanted(m, &o))
		return 0;
	if (!o.enabled) {
		buf_puts(&res->log, " pgp=disabled");
		if (res->action == INBOUND_NONE)
			res->action = INBOUND_PASSED;
		return info_add(env->cfg, m, "Decryption-Skipped",
		    "OpenPGP is disabled (pgp.enabled)", error_r);
	}
	if (env->kr == NULL)
		return err_set(error_r, "no OpenPGP keyring: %s",
		    env->kr_error != NULL ? env->kr_error : "not opened");
	pgp_msg_keys_from_store(&keys, env->st);
	if (pgp_msg_inbound_edit(env->kr, m, &keys, &o, originator(im, m),
	    &pres, error_r) < 0)
		goto out;
	f = res->pgp_flags = pres.flags;
	if (f & PGP_MSG_R_DECRYPTED)
		res->action = INBOUND_DECRYPTED;
	else if ((f & PGP_MSG_R_SIGNED) && res->action != INBOUND_DECRYPTED)
		res->action = INBOUND_VERIFIED;
	else if (res->action == INBOUND_NONE)
		res->action = INBOUND_PASSED;
	buf_printf(&res->log, " pgp=%s%s%s%s%s%s%s%s%s",
	    f & PGP_MSG_R_SKIPPED ? "skipped" :
	    f & PGP_MSG_R_DECRYPTED ? "decrypted" :
	    f & PGP_MSG_R_ENCRYPTED ? "encrypted" : "none",
	    f & PGP_MSG_R_SIGNED_VALID ? ",signed-valid" :
	    f & PGP_MSG_R_SIGNED ? ",signed-invalid" : "",
	    f & PGP_MSG_R_PARTIAL_SIGNED ? ",partly-signed" : "",
	    f & PGP_MSG_R_MIXED ? ",mixed" : "",
	    f & PGP_MSG_R_KEY_NOT_FOUND ? ",key-not-found" : "",
	    f & PGP_MSG_R_NO_MDC ? ",no-mdc" : "",
	    f & PGP_MSG_R_DECRYPT_FAILED ? ",decrypt-failed" : "",
	    f & PGP_MSG_R_DECRYPT_SKIPPED ? ",html-beside" : "",
	    f & PGP_MSG_R_SIGNER_MISMATCH ? ",signer-mismatch" : "");
	if (pres.reason[0] != '\0' && (f & (PGP_MSG_R_DECRYPT_FAILED |
	    PGP_MSG_R_KEY_NOT_FOUND)))
		buf_printf(&res->log, " pgp-reason=\"%s\"", pres.reason);
	if ((f & PGP_MSG_R_SIGNED) && res->signer_email[0] == '\0')
		snprintf(res->signer_email, sizeof(res->signer_email), "%s",
		    pres.signer_email);
	if (f & PGP_MSG_R_SIGNATURE_REMOVED)
		buf_puts(&res->log, " pgp-signature=removed");
	if (f & PGP_MSG_R_KEYS_REMOVED)
		buf_puts(&res->log, " pgp-keys=removed");
	if (pres.nkeys > 0 && o.import_keys) {
		size_t n = 0;

		for (i = 0; i < pres.nkeys; i++) {
			char **fprs = NULL;
			size_t nf = 0;
			const char *why;

			/* imported untrusted; a bad key is not the mail's
			 * fault, and not a reason to tempfail it */
			if (pgp_keystore_import(env->kr, env->st,
			    pres.keyv[i].data, pres.keyv[i].len, NULL, &fprs,
			    &nf, &why) < 0) {
				buf_printf(&res->log, " pgp-import=failed(%s)",
				    why);
				continue;
			}
			n += nf;
			str_array_free(&fprs, nf);
		}
		buf_printf(&res->log, " pgp-imported=%zu", n);
	}
	rc = 0;
out:
	pgp_msg_result_release(&pres);
	return rc;
}

/* Replace the Subject with value (UTF-8), or add one. */
static int
set_subject(struct mime_message *m, const char *value, const char **error_r)
{
	return mime_header_replace(m, m->root, "Subject", value, error_r);
}

/*
 * subject-filter.filter: "/REGEX/ VALUE" (VALUE may be empty): every
 * match in the subject is replaced by VALUE.
 */
static int
apply_subject_filter(struct settings_view *v, struct mime_message *m,
    struct inbound_result *res, const char **error_r)
{
	const char *spec = settings_get(v, "subject-filter.filter", NULL, NULL);
	const char *end;
	char pattern[1024];
	struct buf subj, out;
	regex_t re;
	regmatch_t mt;
	const char *p, *value;
	int changed = 0, rc = -1;

	if (!settings_get_bool(v, "subject-filter.enabled") || spec == NULL ||
	    spec[0] != '/')
		return 0;
	end = strrchr(spec + 1, '/');
	if (end == NULL || (size_t)(end - spec - 1) >= sizeof(pattern))
		return 0;
	memcpy(pattern, spec + 1, (size_t)(end - spec - 1));
	pattern[end - spec - 1] = '\0';
	value = end + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	buf_init(&subj, 64 * 1024);
	buf_init(&out, 64 * 1024);
	if (mime_header_get(m->root, "Subject", &subj) < 0) {
		rc = 0;
		goto out_nore;
	}
	if (settings_regcomp(&re, pattern, 0, error_r) < 0) {
		/* a bad filter is the admin's mistake: say so, go on */
		buf_puts(&res->log, " subject-filter=bad-regex");
		rc = 0;
		goto out_nore;
	}
	for (p = subj.data; *p != '\0';) {
		if (regexec(&re, p, 1, &mt, p == subj.data ? 0 : REG_NOTBOL) != 0 ||
		    mt.rm_eo == 0) {
			buf_puts(&out, p);
			break;
		}
		buf_append(&out, p, (size_t)mt.rm_so);
		buf_puts(&out, value);
		p += mt.rm_eo;
		changed = 1;
	}
	if (changed) {
		/* trim what the removal left at the ends */
		while (out.len > 0 && (out.data[out.len - 1] == ' ' ||
		    out.data[out.len - 1] == '\t'))
			out.data[--out.len] = '\0';
		if (set_subject(m, out.data != NULL ? out.data : "",
		    error_r) < 0)
			goto out;
		buf_puts(&res->log, " subject=filtered");
	}
	rc = 0;
out:
	regfree(&re);
out_nore:
	buf_release(&subj);
	buf_release(&out);
	return rc;
}

/*
 * The S/MIME and OpenPGP verdicts as one set of SMIME_R_* bits for the
 * tags: mixed when either is, signed when either is, valid only when
 * every protocol that signed is valid.
 */
static unsigned
tag_flags(const struct inbound_result *res)
{
	unsigned s = res->smime_flags, p = res->pgp_flags, f;
	int valid = 1;

	f = s & (SMIME_R_MIXED | SMIME_R_PARTIAL_SIGNED | SMIME_R_SIGNED |
	    SMIME_R_SIGNER_MISMATCH);
	if (p & PGP_MSG_R_MIXED)
		f |= SMIME_R_MIXED;
	if (p & PGP_MSG_R_PARTIAL_SIGNED)
		f |= SMIME_R_PARTIAL_SIGNED;
	if (p & PGP_MSG_R_SIGNED)
		f |= SMIME_R_SIGNED;
	if (p & PGP_MSG_R_SIGNER_MISMATCH)
		f |= SMIME_R_SIGNER_MISMATCH;
	if ((s & SMIME_R_SIGNED) && !(s & SMIME_R_SIGNED_VALID))
		valid = 0;
	if ((p & PGP_MSG_R_SIGNED) && !(p & PGP_MSG_R_SIGNED_VALID))
		valid = 0;
	if ((f & SMIME_R_SIGNED) && valid)
		f |= SMIME_R_SIGNED_VALID;
	return f;
}

/* security-info.*: one tag appended to the subject. */
static int
apply_security_tags(struct settings_view *v, struct mime_message *m,
    struct inbound_result *res, const char **error_r)
{
	const unsigned f = tag_flags(res);
	char tag[512];
	struct buf subj, out;
	int rc;

	if (!settings_get_bool(v, "security-info.enabled"))
		return 0;
	tag[0] = '\0';
	if (f & (SMIME_R_MIXED | SMIME_R_PARTIAL_SIGNED)) {
		snprintf(tag, sizeof(tag), "%s", settings_get(v,
		    "security-info.mixed-content-tag", NULL, NULL));
	} else if (res->action == INBOUND_DECRYPTED) {
		snprintf(tag, sizeof(tag), "%s", settings_get(v,
		    "security-info.decrypted-tag", NULL, NULL));
	}
	if (tag[0] == '\0' && (f & SMIME_R_SIGNED)) {
		if (!(f & SMIME_R_SIGNED_VALID))
			snprintf(tag, sizeof(tag), "%s", settings_get(v,
			    "security-info.invalid-signature-tag", NULL, NULL));
		else if (f & SMIME_R_SIGNER_MISMATCH) {
			const char *fmt = settings_get(v,
			    "security-info.signed-by-tag", NULL, NULL);
			const char *pct = strstr(fmt, "%s");

			if (pct != NULL)
				snprintf(tag, sizeof(tag), "%.*s%s%s",
				    (int)(pct - fmt), fmt, res->signer_email,
				    pct + 2);
			else
				snprintf(tag, sizeof(tag), "%s", fmt);
		} else
			snprintf(tag, sizeof(tag), "%s", settings_get(v,
			    "security-info.signed-tag", NULL, NULL));
	}
	if (tag[0] == '\0')
		return 0;
	buf_init(&subj, 64 * 1024);
	buf_init(&out, 64 * 1024);
	(void)mime_header_get(m->root, "Subject", &subj);
	buf_printf(&out, "%s%s%s", subj.data != NULL ? subj.data : "",
	    subj.len > 0 ? " " : "", tag);
	rc = set_subject(m, out.data, error_r);
	buf_release(&subj);
	buf_release(&out);
	if (rc == 0)
		buf_printf(&res->log, " tag=\"%s\"", tag);
	return rc;
}

int
inbound_process(const struct inbound_env *env, const struct inbound_msg *im,
    struct mime_message *m, struct inbound_result *res,
    const char **error_r)
{
	struct rcpt_views rv = { 0 };
	struct settings_view *v;
	struct mime_inspect ins;
	size_t i;
	int rc = INBOUND_TEMPFAIL;

	res->stripped = inbound_strip_info(env->cfg, m);
	if (im->too_big) {
		res->action = INBOUND_PASSED;
		buf_puts(&res->log, "found=unknown action=pass "
		    "reason=\"message too large\"");
		if (info_add(env->cfg, m, "Skipped", "message too large",
		    error_r) < 0)
			return INBOUND_TEMPFAIL;
		return INBOUND_OK;
	}
	mime_inspect(m, &ins);
	res->kinds = ins.kinds & CRYPTO_KINDS;
	buf_puts(&res->log, "found=");
	kinds_text(res->kinds, &res->log);
	if (rcpt_views_load(env, im, &rv, error_r) < 0)
		return INBOUND_TEMPFAIL;
	if (rv.external != NULL) {
		char why[ADDRESS_MAX + 64];

		if (res->kinds == 0) {
			res->action = INBOUND_NONE;
			buf_puts(&res->log, " action=none");
			goto done;
		}
		res->action = INBOUND_PASSED;
		snprintf(why, sizeof(why), "recipient %s is not internal",
		    rv.external);
		buf_printf(&res->log, " action=pass reason=\"%s\"", why);
		if (info_add(env->cfg, m, "Decryption-Skipped", why,
		    error_r) < 0)
			goto out;
		goto done;
	}
	/* every recipient is internal: the inbound settings of the first */
	v = rv.v[0];
	/* the subject filter comes first, so forged tags go before ours */
	if (apply_subject_filter(v, m, res, error_r) < 0)
		goto out;
	if (res->kinds & SMIME_KINDS) {
		if (!settings_get_bool(v, "smime.enabled")) {
			buf_puts(&res->log, " smime=disabled");
			if (info_add(env->cfg, m, "Decryption-Skipped",
			    "S/MIME is disabled (smime.enabled)", error_r) < 0)
				goto out;
		} else if (do_smime(env, im, &rv, v, m, res, error_r) < 0) {
			goto out;
		}
	}
	if (res->action != INBOUND_DECRYPTED &&
	    do_pgp(env, im, v, m, res, error_r) < 0)
		goto out;
	if (apply_security_tags(v, m, res, error_r) < 0)
		goto out;
	buf_printf(&res->log, " action=%s",
	    res->action == INBOUND_DECRYPTED ? "decrypted" :
	    res->action == INBOUND_VERIFIED ? "verified" :
	    res->action == INBOUND_PASSED ? "pass" : "none");
done:
	if (res->stripped > 0)
		buf_printf(&res->log, " stripped=%d", res->stripped);
	for (i = 0; i < im->nrcpts; i++)
		buf_printf(&res->log, " rcpt=<%s>", im->rcpts[i]);
	rc = INBOUND_OK;
out:
	rcpt_views_release(&rv);
	return rc;
}
