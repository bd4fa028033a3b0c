/* x509 trust: path validation with CRLs and the trust list, usage rules,
 * certificate selection, decryption key lookup and strict mode.  See
 * x509.h for the rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "store.h"
#include "store_x509.h"
#include "x509_int.h"

void
x509_verdict_init(struct x509_verdict *v)
{
	memset(v, 0, sizeof(*v));
}

void
x509_verdict_release(struct x509_verdict *v)
{
	sk_X509_pop_free(v->chain, X509_free);
	memset(v, 0, sizeof(*v));
}

int
x509_usage_allows(X509 *cert, enum x509_use use, char *reason,
    size_t reasonsz)
{
	uint32_t f = X509_get_extension_flags(cert);
	uint32_t ku = X509_get_key_usage(cert);
	uint32_t xku = X509_get_extended_key_usage(cert);

	if (use == X509_USE_PATH)
		return 1;
	if (use == X509_USE_ENCRYPT) {
		/* whatever the key usage claims, these keys only sign */
		static const char *const sign_only[] = { "DSA", "ED25519",
			"ED448" };
		EVP_PKEY *pk = X509_get0_pubkey(cert);
		size_t i;

		for (i = 0; pk != NULL && i < sizeof(sign_only) /
		    sizeof(sign_only[0]); i++)
			if (EVP_PKEY_is_a(pk, sign_only[i])) {
				snprintf(reason, reasonsz, "a %s key cannot "
				    "encrypt", sign_only[i]);
				return 0;
			}
	}
	if (f & EXFLAG_KUSAGE) {
		if (use == X509_USE_ENCRYPT) {
			EVP_PKEY *pk = X509_get0_pubkey(cert);
			uint32_t want = KU_KEY_ENCIPHERMENT;

			if (pk != NULL && EVP_PKEY_is_a(pk, "EC"))
				want |= KU_KEY_AGREEMENT;
			if ((ku & want) == 0) {
				snprintf(reason, reasonsz, "key usage does "
				    "not allow encryption");
				return 0;
			}
		} else if ((ku & (KU_DIGITAL_SIGNATURE |
		    KU_NON_REPUDIATION)) == 0) {
			snprintf(reason, reasonsz, "key usage does not allow "
			    "signing");
			return 0;
		}
	}
	if ((f & EXFLAG_XKUSAGE) && (xku & (XKU_SMIME | XKU_ANYEKU)) == 0) {
		snprintf(reason, reasonsz, "extended key usage does not allow "
		    "email protection");
		return 0;
	}
	return 1;
}

/* Verification --------------------------------------------------------- */

struct vctx {
	struct x509_ks *ks;
	int err, depth;			/* first significant error */
	X509 *err_cert;			/* borrowed from the chain */
	int leaf_white, leaf_allow_expired;
};

static int
ignorable(int err)
{
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_CRL:	/* no CRL: not checked */
	case X509_V_ERR_CRL_HAS_EXPIRED:	/* still lists revocations */
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
		return 1;
	}
	return 0;
}

static int is_path_error(int err);

static int
verify_cb(int ok, X509_STORE_CTX *ctx)
{
	struct vctx *v = X509_STORE_CTX_get_app_data(ctx);
	int err = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);

	if (ok || v == NULL)
		return ok;
	if (ignorable(err))
		return 1;
	if (depth == 0 && err == X509_V_ERR_CERT_HAS_EXPIRED &&
	    v->leaf_white && v->leaf_allow_expired)
		return 1;
	/* The first error is the reason, except that the certificate's
	 * own dates beat a missing path: "expired 2018-01-28" stays true
	 * whatever root is imported, "no path" does not. */
	if (v->err == 0 || (is_path_error(v->err) && depth == 0 &&
	    (err == X509_V_ERR_CERT_HAS_EXPIRED ||
	    err == X509_V_ERR_CERT_NOT_YET_VALID))) {
		v->err = err;
		v->depth = depth;
		v->err_cert = X509_STORE_CTX_get_current_cert(ctx);
	}
	return 1;	/* go on: build the whole chain for the CTL check */
}

static int
is_path_error(int err)
{
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
		return 1;
	}
	return 0;
}

static int
sk_has(STACK_OF(X509) *sk, X509 *c)
{
	int i;

	for (i = 0; i < sk_X509_num(sk); i++)
		if (X509_cmp(sk_X509_value(sk, i), c) == 0)
			return 1;
	return 0;
}

struct collect {
	STACK_OF(X509) *sk;
	int failed;
};

static int
collect_cb(const struct store_x509_cert *row, void *arg)
{
	struct collect *c = arg;
	const unsigned char *p = row->der;
	X509 *x = d2i_X509(NULL, &p, (long)row->der_len);

	if (x == NULL) {
		ERR_clear_error();
		return 0;
	}
	if (sk_X509_num(c->sk) >= X509_PATH_MAX || sk_has(c->sk, x)) {
		X509_free(x);
		return 0;
	}
	if (!sk_X509_push(c->sk, x)) {
		X509_free(x);
		c->failed = 1;
		return 1;
	}
	return 0;
}

/*
 * Untrusted candidates: extra, plus the issuers (by subject name) of the
 * certificate and of every candidate found, from the certificates store.
 */
static int
collect_untrusted(struct x509_ks *ks, X509 *cert, STACK_OF(X509) *extra,
    STACK_OF(X509) *out, const char **error_r)
{
	struct collect c = { out, 0 };
	int i, done = -1;

	for (i = 0; i < sk_X509_num(extra); i++) {
		X509 *x = sk_X509_value(extra, i);

		if (sk_X509_num(out) < X509_PATH_MAX && !sk_has(out, x) &&
		    X509_up_ref(x) && !sk_X509_push(out, x)) {
			X509_free(x);
			return err_set(error_r, "out of memory");
		}
	}
	/* done: index of the last candidate whose issuers were fetched;
	 * -1 is the certificate itself. */
	for (; done < sk_X509_num(out); done++) {
		X509 *cur = done < 0 ? cert : sk_X509_value(out, done);
		unsigned char *id = NULL;
		int n;

		if (X509_check_issued(cur, cur) == X509_V_OK)
			continue;
		if ((n = i2d_X509_NAME(X509_get_issuer_name(cur), &id)) <= 0)
			return err_set(error_r, "cannot encode issuer name");
		n = store_x509_by_subject(ks->st, X509KS_CERTS, id, (size_t)n,
		    collect_cb, &c, error_r);
		OPENSSL_free(id);
		if (n < 0)
			return -1;
		if (c.failed)
			return err_set(error_r, "out of memory");
		if (sk_X509_num(out) >= X509_PATH_MAX)
			break;
	}
	return 0;
}

struct crlcol {
	STACK_OF(X509_CRL) *crls;
	STACK_OF(X509) *issuers;	/* candidates that may sign CRLs */
	time_t at;
	char *notes;
	size_t notesz;
	int failed;
};

static void
note(struct crlcol *c, const char *fmt, const char *arg)
{
	size_t n = strlen(c->notes);

	if (n + 2 < c->notesz)
		snprintf(c->notes + n, c->notesz - n, fmt, arg);
}

static int
crl_cb(const struct store_x509_crl *row, void *arg)
{
	struct crlcol *c = arg;
	const unsigned char *p = row->der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)row->der_len);
	char cn[128];
	int i, sig_ok = 0, have_issuer = 0;

	if (crl == NULL) {
		ERR_clear_error();
		return 0;
	}
	for (i = 0; i < sk_X509_CRL_num(c->crls); i++)
		if (X509_CRL_cmp(sk_X509_CRL_value(c->crls, i), crl) == 0 &&
		    X509_CRL_match(sk_X509_CRL_value(c->crls, i), crl) == 0) {
			X509_CRL_free(crl);
			return 0;
		}
	x509_name_short(X509_CRL_get_issuer(crl), cn, sizeof(cn));
	for (i = 0; i < sk_X509_num(c->issuers) && !sig_ok; i++) {
		X509 *x = sk_X509_value(c->issuers, i);

		if (X509_NAME_cmp(X509_get_subject_name(x),
		    X509_CRL_get_issuer(crl)) != 0)
			continue;
		have_issuer = 1;
		sig_ok = X509_CRL_verify(crl, X509_get0_pubkey(x)) == 1;
	}
	ERR_clear_error();
	if (!have_issuer) {
		X509_CRL_free(crl);	/* issuer not on the path: unused */
		return 0;
	}
	if (!sig_ok) {
		note(c, "; ignored CRL of %s: bad signature", cn);
		X509_CRL_free(crl);
		return 0;
	}
	if (X509_cmp_time(X509_CRL_get0_lastUpdate(crl), &c->at) > 0) {
		note(c, "; ignored CRL of %s: not yet valid", cn);
		X509_CRL_free(crl);
		return 0;
	}
	if (!sk_X509_CRL_push(c->crls, crl)) {
		X509_CRL_free(crl);
		c->failed = 1;
		return 1;
	}
	return 0;
}

/* CRLs for the issuers of cert and of every candidate, checked. */
static int
collect_crls(struct x509_ks *ks, X509 *cert, STACK_OF(X509) *untrusted,
    struct crlcol *c, const char **error_r)
{
	int i, n;

	for (i = -1; i < sk_X509_num(untrusted); i++) {
		X509 *x = i < 0 ? cert : sk_X509_value(untrusted, i);
		unsigned char *id = NULL;

		if ((n = i2d_X509_NAME(X509_get_issuer_name(x), &id)) <= 0)
			return err_set(error_r, "cannot encode issuer name");
		n = store_x509_crls_by_issuer(ks->st, id, (size_t)n, crl_cb, c,
		    error_r);
		OPENSSL_free(id);
		if (n < 0)
			return -1;
		if (c->failed)
			return err_set(error_r, "out of memory");
	}
	return 0;
}

static void
reason_for(struct vctx *vc, char *buf, size_t bufsz)
{
	char cn[128], date[32];
	X509 *x = vc->err_cert;

	cn[0] = '\0';
	if (x != NULL)
		x509_name_short(X509_get_subject_name(x), cn, sizeof(cn));
	switch (vc->err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		x509_asn1_date(x != NULL ? X509_get0_notAfter(x) : NULL, date,
		    sizeof(date));
		if (vc->depth == 0)
			snprintf(buf, bufsz, "expired %s", date);
		else
			snprintf(buf, bufsz, "issuer %s expired %s", cn, date);
		return;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		if (vc->depth == 0)
			snprintf(buf, bufsz, "not yet valid");
		else
			snprintf(buf, bufsz, "issuer %s not yet valid", cn);
		return;
	case X509_V_ERR_CERT_REVOKED: {
		char icn[128];

		x509_name_short(x != NULL ? X509_get_issuer_name(x) : NULL,
		    icn, sizeof(icn));
		if (vc->depth == 0)
			snprintf(buf, bufsz, "revoked by %s CRL", icn);
		else
			snprintf(buf, bufsz, "issuer %s revoked by %s CRL",
			    cn, icn);
		return;
	}
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		snprintf(buf, bufsz, "bad signature on %s", cn);
		return;
	}
	if (is_path_error(vc->err)) {
		snprintf(buf, bufsz, "no path to a trusted root");
		return;
	}
	snprintf(buf, bufsz, "%s (%s)", X509_verify_cert_error_string(
	    vc->err), cn);
}

/* Is some certificate of the chain (from index from) black-listed?
 * Names it into via. */
static int
chain_black(struct x509_ks *ks, STACK_OF(X509) *chain, int from, char *via,
    size_t viasz, const char **error_r)
{
	int i;

	for (i = from; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		char thumb[X509_THUMB_LEN + 1];
		enum x509_ctl_kind k;
		int ae, r;

		if (x509_thumbprint(x, thumb) < 0)
			return err_set(error_r, "cannot hash certificate");
		r = x509_ctl_get(ks, thumb, &k, &ae, error_r);
		if (r < 0)
			return -1;
		if (r == 0 && k == X509_CTL_BLACK) {
			x509_name_short(X509_get_subject_name(x), via, viasz);
			return 1;
		}
	}
	return 0;
}

int
x509_verify(struct x509_ks *ks, X509 *cert, STACK_OF(X509) *extra,
    time_t at, enum x509_use use, struct x509_verdict *v,
    const char **error_r)
{
	struct vctx vc;
	struct crlcol cc;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	STACK_OF(X509) *untrusted = NULL;
	char thumb[X509_THUMB_LEN + 1], notes[X509_REASON_MAX], via[128];
	enum x509_ctl_kind kind;
	int ae = 0, r, i, rc = -1;

	x509_verdict_release(v);
	memset(&vc, 0, sizeof(vc));
	memset(&cc, 0, sizeof(cc));
	notes[0] = '\0';
	vc.ks = ks;
	if (x509_thumbprint(cert, thumb) < 0)
		return err_set(error_r, "cannot hash certificate");
	r = x509_ctl_get(ks, thumb, &kind, &ae, error_r);
	if (r < 0)
		return -1;
	if (r == 0 && kind == X509_CTL_BLACK) {
		snprintf(v->reason, sizeof(v->reason), "black-listed");
		return 0;
	}
	vc.leaf_white = r == 0 && kind == X509_CTL_WHITE;
	vc.leaf_allow_expired = vc.leaf_white && ae;
	if (x509_ks_roots(ks, error_r) < 0)
		return -1;
	if ((untrusted = sk_X509_new_null()) == NULL ||
	    (cc.crls = sk_X509_CRL_new_null()) == NULL ||
	    (cc.issuers = sk_X509_new_null()) == NULL) {
		err_set(error_r, "out of memory");
		goto out;
	}
	if (collect_untrusted(ks, cert, extra, untrusted, error_r) < 0)
		goto out;
	/* CRL signers: the certificate's possible issuers and the roots */
	for (i = 0; i < sk_X509_num(untrusted); i++)
		if (!sk_X509_push(cc.issuers, sk_X509_value(untrusted, i)))
			goto oom;
	for (i = 0; i < sk_X509_num(ks->roots_sk); i++)
		if (!sk_X509_push(cc.issuers, sk_X509_value(ks->roots_sk, i)))
			goto oom;
	cc.at = at;
	cc.notes = notes;
	cc.notesz = sizeof(notes);
	if (collect_crls(ks, cert, untrusted, &cc, error_r) < 0)
		goto out;

	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, ks->roots, cert, untrusted) != 1)
		goto ossl;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, at);
	if (sk_X509_CRL_num(cc.crls) > 0) {
		X509_STORE_CTX_set0_crls(ctx, cc.crls);
		X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK |
		    X509_V_FLAG_CRL_CHECK_ALL);
	}
	X509_STORE_CTX_set_app_data(ctx, &vc);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	r = X509_verify_cert(ctx);
	if (r < 0 && vc.err == 0)
		goto ossl;
	if (r == 0 && vc.err == 0) {
		/* refused without going through the callback */
		vc.err = X509_STORE_CTX_get_error(ctx);
		if (vc.err == X509_V_OK)
			vc.err = X509_V_ERR_UNSPECIFIED;
		vc.depth = X509_STORE_CTX_get_error_depth(ctx);
		vc.err_cert = X509_STORE_CTX_get_current_cert(ctx);
	}
	ERR_clear_error();
	v->chain = X509_STORE_CTX_get1_chain(ctx);

	r = chain_black(ks, v->chain, 1, via, sizeof(via), error_r);
	if (r < 0)
		goto out;
	if (r == 1) {
		snprintf(v->reason, sizeof(v->reason), "black-listed via %s",
		    via);
		rc = 0;
		goto out;
	}
	if (vc.leaf_white) {
		/* the admin vouched for it: only its own dates count */
		if (X509_cmp_time(X509_get0_notBefore(cert), &at) > 0) {
			snprintf(v->reason, sizeof(v->reason),
			    "not yet valid");
			rc = 0;
			goto out;
		}
		if (!vc.leaf_allow_expired &&
		    X509_cmp_time(X509_get0_notAfter(cert), &at) < 0) {
			char date[32];

			x509_asn1_date(X509_get0_notAfter(cert), date,
			    sizeof(date));
			snprintf(v->reason, sizeof(v->reason), "expired %s",
			    date);
			rc = 0;
			goto out;
		}
		v->white = 1;
	} else if (vc.err != 0) {
		reason_for(&vc, v->reason, sizeof(v->reason));
		goto done;
	}
	if (!x509_usage_allows(cert, use, v->reason, sizeof(v->reason)))
		goto done;
	v->valid = 1;
	snprintf(v->reason, sizeof(v->reason), "%s", v->white ?
	    (vc.leaf_allow_expired && X509_cmp_time(X509_get0_notAfter(cert),
	    &at) < 0 ? "white-listed (expired allowed)" : "white-listed") :
	    "valid");
done:
	if (notes[0] != '\0') {
		size_t n = strlen(v->reason);

		snprintf(v->reason + n, sizeof(v->reason) - n, "%s", notes);
	}
	rc = 0;
	goto out;
oom:
	err_set(error_r, "out of memory");
	goto out;
ossl:
	{
		char buf[256];

		ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
		ERR_clear_error();
		err_set(error_r, "cannot verify certificate: %s", buf);
	}
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	sk_X509_CRL_pop_free(cc.crls, X509_CRL_free);
	sk_X509_free(cc.issuers);
	return rc;
}

/* Selection -------------------------------------------------------------- */

void
x509_certlist_free(struct x509_certlist **lp)
{
	struct x509_certlist *l;
	size_t i;

	if (lp == NULL || *lp == NULL)
		return;
	l = *lp;
	for (i = 0; i < l->n; i++)
		X509_free(l->e[i].cert);
	free(l->e);
	for (i = 0; i < l->nskipped; i++)
		free(l->skipped[i]);
	free(l->skipped);
	free(l);
	*lp = NULL;
}

static int
list_has(const struct x509_certlist *l, const char *thumb)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->e[i].thumb, thumb) == 0)
			return 1;
	return 0;
}

/* Verify cert and add it (taking it) or note it as skipped (freeing it). */
static int
consider(struct x509_ks *ks, struct x509_certlist *l, X509 *cert,
    const char *thumb, time_t at, enum x509_origin origin,
    enum address_level level, const char **error_r)
{
	struct x509_verdict v;
	void *p;

	if (list_has(l, thumb)) {
		X509_free(cert);
		return 0;
	}
	x509_verdict_init(&v);
	if (x509_verify(ks, cert, NULL, at, X509_USE_ENCRYPT, &v,
	    error_r) < 0) {
		X509_free(cert);
		return -1;
	}
	if (!v.valid) {
		char *s = NULL;

		if (asprintf(&s, "%.16s: %s", thumb, v.reason) < 0 ||
		    (p = realloc(l->skipped, (l->nskipped + 1) *
		    sizeof(char *))) == NULL) {
			free(s);
			goto oom;
		}
		l->skipped = p;
		l->skipped[l->nskipped++] = s;
		X509_free(cert);
		x509_verdict_release(&v);
		return 0;
	}
	x509_verdict_release(&v);
	if ((p = realloc(l->e, (l->n + 1) * sizeof(*l->e))) == NULL)
		goto oom;
	l->e = p;
	l->e[l->n].cert = cert;
	memcpy(l->e[l->n].thumb, thumb, X509_THUMB_LEN + 1);
	l->e[l->n].origin = origin;
	l->e[l->n].level = level;
	l->n++;
	return 0;
oom:
	X509_free(cert);
	x509_verdict_release(&v);
	return err_set(error_r, "out of memory");
}

struct rows {
	size_t n;
	char (*thumb)[X509_THUMB_LEN + 1];
	int has_key[X509_PATH_MAX];
	unsigned char *der[X509_PATH_MAX];
	size_t len[X509_PATH_MAX];
	int failed;
};

/* Collect up to X509_PATH_MAX rows (DER copied) so that verification,
 * which runs more queries, happens after the statement is done. */
static int
rows_cb(const struct store_x509_cert *row, void *arg)
{
	struct rows *r = arg;

	if (r->n >= X509_PATH_MAX)
		return 1;
	if ((r->der[r->n] = malloc(row->der_len)) == NULL) {
		r->failed = 1;
		return 1;
	}
	memcpy(r->der[r->n], row->der, row->der_len);
	r->len[r->n] = row->der_len;
	r->has_key[r->n] = row->has_key;
	r->n++;
	return 0;
}

static void
rows_release(struct rows *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->der[i]);
	r->n = 0;
}

static X509 *
row_cert(struct rows *r, size_t i, char thumb[X509_THUMB_LEN + 1])
{
	const unsigned char *p = r->der[i];
	X509 *c = d2i_X509(NULL, &p, (long)r->len[i]);

	if (c != NULL && x509_thumbprint(c, thumb) < 0) {
		X509_free(c);
		c = NULL;
	}
	ERR_clear_error();
	return c;
}

struct sel_rows {
	size_t n;
	char thumb[X509_PATH_MAX][X509_THUMB_LEN + 1];
};

static int
sel_cb(const char *level, const char *owner, const char *thumb,
    const char *kind, void *arg)
{
	struct sel_rows *s = arg;

	(void)level;
	(void)owner;
	(void)kind;
	if (s->n >= X509_PATH_MAX)
		return 1;
	snprintf(s->thumb[s->n++], X509_THUMB_LEN + 1, "%s", thumb);
	return 0;
}

/* Selections of kind at the most specific level of chain that has any. */
static int
chain_selections(struct x509_ks *ks, const struct address_chain *chain,
    enum x509_sel_kind kind, struct sel_rows *s, enum address_level *lvl_r,
    const char **error_r)
{
	size_t i;

	s->n = 0;
	for (i = 0; i < chain->n; i++) {
		if (store_x509_sel_list(ks->st,
		    address_level_name(chain->item[i].level),
		    chain->item[i].owner, x509_sel_kind_name(kind), NULL,
		    sel_cb, s, error_r) < 0)
			return -1;
		if (s->n > 0) {
			*lvl_r = chain->item[i].level;
			return 0;
		}
	}
	return 0;
}

static int
add_selected(struct x509_ks *ks, struct x509_certlist *l,
    const struct address_chain *chain, enum x509_sel_kind kind, time_t at,
    enum x509_origin origin, const char **error_r)
{
	struct sel_rows *s = malloc(sizeof(*s));
	enum address_level lvl = ADDRESS_LEVEL_GLOBAL;
	size_t i;
	int rc = -1;

	if (s == NULL)
		return err_set(error_r, "out of memory");
	if (chain_selections(ks, chain, kind, s, &lvl, error_r) < 0)
		goto out;
	for (i = 0; i < s->n; i++) {
		X509 *c;
		int r = x509_get(ks, X509KS_CERTS, s->thumb[i], &c, NULL,
		    error_r);

		if (r < 0)
			goto out;
		if (r == 1)
			continue;	/* deleted with --force meanwhile */
		if (consider(ks, l, c, s->thumb[i], at, origin, lvl,
		    error_r) < 0)
			goto out;
	}
	rc = 0;
out:
	free(s);
	return rc;
}

int
x509_encryption_certs(struct x509_ks *ks, const char *rcpt, time_t at,
    unsigned policy, struct x509_certlist **list_r, const char **error_r)
{
	struct x509_certlist *l;
	struct address_chain *chain = NULL;
	struct rows r;
	char low[ADDRESS_MAX + 1];
	size_t i;
	int rc = -1;

	*list_r = NULL;
	memset(&r, 0, sizeof(r));
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (chain = malloc(sizeof(*chain))) == NULL) {
		free(l);
		return err_set(error_r, "out of memory");
	}
	if (address_chain_user(rcpt, chain) < 0 ||
	    x509_lower(chain->item[0].owner, low, sizeof(low)) < 0) {
		err_set(error_r, "bad recipient address '%s'", rcpt);
		goto out;
	}
	if (policy & X509_POL_AUTO_SELECT) {
		if (store_x509_by_email(ks->st, X509KS_CERTS, low, rows_cb, &r,
		    error_r) < 0)
			goto out;
		if (r.failed) {
			err_set(error_r, "out of memory");
			goto out;
		}
		for (i = 0; i < r.n; i++) {
			char thumb[X509_THUMB_LEN + 1];
			X509 *c = row_cert(&r, i, thumb);

			if (c != NULL && consider(ks, l, c, thumb, at,
			    X509_ORIGIN_AUTO, ADDRESS_LEVEL_USER,
			    error_r) < 0)
				goto out;
		}
	}
	if (add_selected(ks, l, chain, X509_SEL_ENCRYPTION, at,
	    X509_ORIGIN_SELECTED, error_r) < 0)
		goto out;
	if ((policy & X509_POL_ADDITIONAL) && add_selected(ks, l, chain,
	    X509_SEL_ADDITIONAL, at, X509_ORIGIN_ADDITIONAL, error_r) < 0)
		goto out;
	*list_r = l;
	l = NULL;
	rc = 0;
out:
	rows_release(&r);
	x509_certlist_free(&l);
	free(chain);
	return rc;
}

/* Valid for signing and keyed?  Returns 1 yes (key in *key_r), 0 no. */
static int
signing_ok(struct x509_ks *ks, X509 *c, const char *thumb, time_t at,
    EVP_PKEY **key_r, STACK_OF(X509) **chain_r, char *reason,
    size_t reasonsz, const char **error_r)
{
	struct x509_verdict v;
	int r;

	x509_verdict_init(&v);
	if (x509_verify(ks, c, NULL, at, X509_USE_SIGN, &v, error_r) < 0)
		return -1;
	if (!v.valid) {
		if (reason != NULL)
			snprintf(reason, reasonsz, "%s", v.reason);
		x509_verdict_release(&v);
		return 0;
	}
	r = x509_get_key(ks, thumb, key_r, error_r);
	if (r != 0) {
		x509_verdict_release(&v);
		if (r == 1 && reason != NULL)
			snprintf(reason, reasonsz, "no private key");
		return r < 0 ? -1 : 0;
	}
	if (chain_r != NULL) {
		/* intermediates: drop the leaf and a self-signed top */
		STACK_OF(X509) *ch = v.chain;
		int n = sk_X509_num(ch);

		X509_free(sk_X509_shift(ch));
		n--;
		if (n > 0 && X509_check_issued(sk_X509_value(ch, n - 1),
		    sk_X509_value(ch, n - 1)) == X509_V_OK)
			X509_free(sk_X509_pop(ch));
		*chain_r = ch;
		v.chain = NULL;
	}
	x509_verdict_release(&v);
	return 1;
}

int
x509_signing_cert(struct x509_ks *ks, const char *sender, time_t at,
    unsigned policy, X509 **cert_r, EVP_PKEY **key_r,
    STACK_OF(X509) **chain_r, char *reason, size_t reasonsz,
    const char **error_r)
{
	struct address_chain *chain = NULL;
	struct sel_rows *s = NULL;
	struct rows r;
	enum address_level lvl;
	char low[ADDRESS_MAX + 1], thumb[X509_THUMB_LEN + 1];
	X509 *best = NULL;
	time_t best_nb = 0;
	size_t i;
	int ok, rc = -1;

	*cert_r = NULL;
	*key_r = NULL;
	if (chain_r != NULL)
		*chain_r = NULL;
	if (reason != NULL && reasonsz > 0)
		snprintf(reason, reasonsz, "no certificate with a key for "
		    "this sender");
	memset(&r, 0, sizeof(r));
	if ((chain = malloc(sizeof(*chain))) == NULL ||
	    (s = malloc(sizeof(*s))) == NULL) {
		err_set(error_r, "out of memory");
		goto out;
	}
	if (address_chain_user(sender, chain) < 0 ||
	    x509_lower(chain->item[0].owner, low, sizeof(low)) < 0) {
		err_set(error_r, "bad sender address '%s'", sender);
		goto out;
	}
	if (chain_selections(ks, chain, X509_SEL_SIGNING, s, &lvl,
	    error_r) < 0)
		goto out;
	for (i = 0; i < s->n; i++) {
		X509 *c;
		int g = x509_get(ks, X509KS_CERTS, s->thumb[i], &c, NULL,
		    error_r);

		if (g < 0)
			goto out;
		if (g == 1)
			continue;
		ok = signing_ok(ks, c, s->thumb[i], at, key_r, chain_r, reason,
		    reasonsz, error_r);
		if (ok < 0) {
			X509_free(c);
			goto out;
		}
		if (ok == 1) {
			*cert_r = c;
			rc = 0;
			goto out;
		}
		X509_free(c);	/* invalid selection: fall back to auto */
	}
	if (store_x509_by_email(ks->st, X509KS_CERTS, low, rows_cb, &r,
	    error_r) < 0)
		goto out;
	for (i = 0; i < r.n; i++) {
		struct x509_verdict v;
		X509 *c;

		if (!r.has_key[i] || (c = row_cert(&r, i, thumb)) == NULL)
			continue;
		x509_verdict_init(&v);
		if (x509_verify(ks, c, NULL, at, X509_USE_SIGN, &v,
		    error_r) < 0) {
			X509_free(c);
			goto out;
		}
		if (!v.valid) {
			if (reason != NULL)
				snprintf(reason, reasonsz, "%s", v.reason);
			X509_free(c);
		} else if (best == NULL || ((policy & X509_POL_FRESHEST) &&
		    X509_cmp_time(X509_get0_notBefore(c), &best_nb) > 0)) {
			struct tm tm;

			X509_free(best);
			best = c;
			ASN1_TIME_to_tm(X509_get0_notBefore(c), &tm);
			best_nb = timegm(&tm);
		} else {
			X509_free(c);
		}
		x509_verdict_release(&v);
		if (best != NULL && !(policy & X509_POL_FRESHEST))
			break;
	}
	if (best == NULL) {
		rc = 1;
		goto out;
	}
	if (x509_thumbprint(best, thumb) < 0) {
		err_set(error_r, "cannot hash certificate");
		goto out;
	}
	ok = signing_ok(ks, best, thumb, at, key_r, chain_r, reason, reasonsz,
	    error_r);
	if (ok < 0)
		goto out;
	if (ok == 0) {
		rc = 1;
		goto out;
	}
	*cert_r = best;
	best = NULL;
	rc = 0;
out:
	X509_free(best);
	rows_release(&r);
	free(s);
	free(chain);
	return rc;
}

/* Decryption ------------------------------------------------------------- */

int
x509_key_by_rid(struct x509_ks *ks, const struct x509_rid *rid,
    X509 **cert_r, EVP_PKEY **key_r, char thumb_r[X509_THUMB_LEN + 1],
    const char **error_r)
{
	struct rows r;
	char *hex = NULL, thumb[X509_THUMB_LEN + 1];
	size_t i;
	int q, rc = -1;

	*cert_r = NULL;
	*key_r = NULL;
	memset(&r, 0, sizeof(r));
	if (rid->skid != NULL) {
		hex = x509_hex(ASN1_STRING_get0_data(rid->skid),
		    (size_t)ASN1_STRING_length(rid->skid));
		q = hex == NULL ? err_set(error_r, "out of memory") :
		    store_x509_keyed_by_skid(ks->st, hex, rows_cb, &r, error_r);
	} else if (rid->issuer != NULL && rid->serial != NULL) {
		hex = x509_serial_hex(rid->serial);
		q = hex == NULL ? err_set(error_r, "out of memory") :
		    store_x509_keyed_by_serial(ks->st, hex, rows_cb, &r,
		    error_r);
	} else {
		return 1;
	}
	if (q < 0)
		goto out;
	rc = 1;
	for (i = 0; i < r.n; i++) {
		X509 *c = row_cert(&r, i, thumb);

		if (c == NULL)
			continue;
		if (rid->skid == NULL && X509_NAME_cmp(rid->issuer,
		    X509_get_issuer_name(c)) != 0) {
			X509_free(c);
			continue;
		}
		q = x509_get_key(ks, thumb, key_r, error_r);
		if (q != 0) {
			X509_free(c);
			if (q < 0) {
				rc = -1;
				goto out;
			}
			continue;
		}
		*cert_r = c;
		if (thumb_r != NULL)
			memcpy(thumb_r, thumb, X509_THUMB_LEN + 1);
		rc = 0;
		break;
	}
out:
	free(hex);
	rows_release(&r);
	return rc;
}

int
x509_key_by_recipientinfo(struct x509_ks *ks, CMS_RecipientInfo *ri,
    X509 **cert_r, EVP_PKEY **key_r, char thumb_r[X509_THUMB_LEN + 1],
    const char **error_r)
{
	struct x509_rid rid;
	ASN1_OCTET_STRING *keyid = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *sno = NULL;
	int i, r;

	*cert_r = NULL;
	*key_r = NULL;
	switch (CMS_RecipientInfo_type(ri)) {
	case CMS_RECIPINFO_TRANS:
		if (CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid, &issuer,
		    &sno) != 1)
			return 1;
		rid.issuer = issuer;
		rid.serial = sno;
		rid.skid = keyid;
		return x509_key_by_rid(ks, &rid, cert_r, key_r, thumb_r,
		    error_r);
	case CMS_RECIPINFO_AGREE: {
		STACK_OF(CMS_RecipientEncryptedKey) *reks =
		    CMS_RecipientInfo_kari_get0_reks(ri);

		for (i = 0; i < sk_CMS_RecipientEncryptedKey_num(reks); i++) {
			ASN1_GENERALIZEDTIME *tm;
			CMS_OtherKeyAttribute *other;

			keyid = NULL;
			issuer = NULL;
			sno = NULL;
			if (CMS_RecipientEncryptedKey_get0_id(
			    sk_CMS_RecipientEncryptedKey_value(reks, i),
			    &keyid, &tm, &other, &issuer, &sno) != 1)
				continue;
			rid.issuer = issuer;
			rid.serial = sno;
			rid.skid = keyid;
			r = x509_key_by_rid(ks, &rid, cert_r, key_r, thumb_r,
			    error_r);
			if (r != 1)
				return r;
		}
		return 1;
	}
	default:
		return 1;
	}
}

/* Strict mode ------------------------------------------------------------ */

struct found {
	int n;
};

static int
found_cb(const char *level, const char *owner, const char *thumb,
    const char *kind, void *arg)
{
	(void)level;
	(void)owner;
	(void)thumb;
	(void)kind;
	((struct found *)arg)->n++;
	return 1;
}

int
x509_strict_allows(struct x509_ks *ks, const char *rcpt, const char *thumb,
    time_t at, int *allow_r, char *reason, size_t reasonsz,
    const char **error_r)
{
	struct address_chain *chain = NULL;
	struct x509_info *in = NULL;
	struct x509_verdict v;
	char low[ADDRESS_MAX + 1];
	X509 *c = NULL;
	size_t i;
	int r, rc = -1;

	*allow_r = 0;
	x509_verdict_init(&v);
	if ((chain = malloc(sizeof(*chain))) == NULL)
		return err_set(error_r, "out of memory");
	if (address_chain_user(rcpt, chain) < 0 ||
	    x509_lower(chain->item[0].owner, low, sizeof(low)) < 0) {
		err_set(error_r, "bad recipient address '%s'", rcpt);
		goto out;
	}
	r = x509_get(ks, X509KS_CERTS, thumb, &c, &in, error_r);
	if (r < 0)
		goto out;
	if (r == 1) {
		snprintf(reason, reasonsz, "certificate not in the store");
		rc = 0;
		goto out;
	}
	if (!in->has_key) {
		snprintf(reason, reasonsz, "no private key");
		rc = 0;
		goto out;
	}
	if (x509_verify(ks, c, NULL, at, X509_USE_ENCRYPT, &v, error_r) < 0)
		goto out;
	if (!v.valid) {
		snprintf(reason, reasonsz, "%s", v.reason);
		rc = 0;
		goto out;
	}
	for (i = 0; i < in->nemails; i++)
		if (strcmp(in->emails[i], low) == 0) {
			*allow_r = 1;
			snprintf(reason, reasonsz, "(a) email match");
			rc = 0;
			goto out;
		}
	for (i = 0; i < chain->n; i++) {
		struct found f = { 0 };
		enum address_level lv = chain->item[i].level;

		if (lv == ADDRESS_LEVEL_GLOBAL)
			continue;
		if (store_x509_sel_list(ks->st, address_level_name(lv),
		    chain->item[i].owner, "encryption", thumb, found_cb, &f,
		    error_r) < 0)
			goto out;
		if (f.n > 0) {
			*allow_r = 1;
			if (lv == ADDRESS_LEVEL_USER)
				snprintf(reason, reasonsz, "(b) selected for "
				    "user");
			else
				snprintf(reason, reasonsz, "(c) selected for "
				    "domain %s", chain->item[i].owner);
			rc = 0;
			goto out;
		}
	}
	snprintf(reason, reasonsz, "not associated with %s", low);
	rc = 0;
out:
	x509_verdict_release(&v);
	x509_info_free(&in);
	X509_free(c);
	free(chain);
	return rc;
}
