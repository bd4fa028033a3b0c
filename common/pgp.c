/* pgp: OpenPGP primitives on buffers (see pgp.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pgp.h"

static const char *const status_names[] = {
	[PGP_E_OK] = "ok",
	[PGP_E_NO_KEY] = "no key",
	[PGP_E_NO_MDC] = "no integrity protection",
	[PGP_E_BAD_DATA] = "bad data",
	[PGP_E_TOO_LARGE] = "too large",
	[PGP_E_BAD_PASSPHRASE] = "bad passphrase",
	[PGP_E_NOT_ENCRYPTED] = "not encrypted",
	[PGP_E_INTERNAL] = "internal error",
};

static const char *const sig_names[] = {
	[PGP_SIG_VALID] = "valid",
	[PGP_SIG_BAD] = "bad",
	[PGP_SIG_NO_PUBKEY] = "no public key",
	[PGP_SIG_EXPIRED_KEY] = "expired key",
	[PGP_SIG_REVOKED_KEY] = "revoked key",
	[PGP_SIG_EXPIRED_SIG] = "expired signature",
	[PGP_SIG_ERROR] = "error",
};

const char *
pgp_status_name(enum pgp_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(*status_names) ?
	    status_names[s] : "?";
}

const char *
pgp_sig_status_name(enum pgp_sig_status s)
{
	return (unsigned)s < sizeof(sig_names) / sizeof(*sig_names) ?
	    sig_names[s] : "?";
}

void
pgp_result_release(struct pgp_result *res)
{
	size_t i, j;

	if (res == NULL)
		return;
	for (i = 0; i < res->nrecipients; i++)
		free(res->recipients[i]);
	free(res->recipients);
	for (i = 0; i < res->nsigs; i++) {
		for (j = 0; j < res->sigs[i].nemails; j++)
			free(res->sigs[i].emails[j]);
		free(res->sigs[i].emails);
	}
	free(res->sigs);
	memset(res, 0, sizeof(*res));
}

int
pgp_result_all_valid(const struct pgp_result *res)
{
	size_t i;

	if (res->nsigs == 0)
		return 0;
	for (i = 0; i < res->nsigs; i++)
		if (res->sigs[i].status != PGP_SIG_VALID)
			return 0;
	return 1;
}

/* --- capped output ------------------------------------------------- */

struct sink {
	struct buf *b;
	size_t max;
	int over;
};

static ssize_t
sink_write(void *handle, const void *data, size_t size)
{
	struct sink *s = handle;

	if (s->b->len + size > s->max || size > s->max) {
		s->over = 1;
		errno = EFBIG;
		return -1;
	}
	if (buf_append(s->b, data, size) < 0) {
		errno = ENOMEM;
		return -1;
	}
	return (ssize_t)size;
}

static struct gpgme_data_cbs sink_cbs = { NULL, sink_write, NULL, NULL };

static int
sink_open(struct sink *s, struct buf *b, const struct pgp_opts *opts,
    gpgme_data_t *d_r, const char **error_r)
{
	gpgme_error_t e;

	s->b = b;
	s->max = opts != NULL && opts->max_out > 0 ? opts->max_out :
	    PGP_DEFAULT_MAX_OUT;
	s->over = 0;
	buf_reset(b);
	if ((e = gpgme_data_new_from_cbs(d_r, &sink_cbs, s)) != 0)
		return err_set(error_r, "%s", pgp_strerror("gpgme data", e));
	return 0;
}

/* --- locking with algorithm preferences ----------------------------- */

static int
lock_for(struct pgp_keyring *kr, const struct pgp_opts *opts,
    const char **error_r)
{
	const char *cipher = opts != NULL ? opts->cipher : NULL;
	const char *digest = opts != NULL ? opts->digest : NULL;
	int need_ex = 0;

	if (pgp_keyring_lock(kr, 0, error_r) < 0)
		return -1;
	if (pgp_keyring_prefs_locked(kr, cipher, digest, &need_ex,
	    error_r) == 0)
		return 0;
	pgp_keyring_unlock(kr);
	if (!need_ex)
		return -1;
	/* Rare: another preference is in gpg.conf; switch it and run
	 * this operation under the exclusive lock. */
	if (pgp_keyring_lock(kr, 1, error_r) < 0)
		return -1;
	if (pgp_keyring_prefs_locked(kr, cipher, digest, &need_ex,
	    error_r) < 0) {
		pgp_keyring_unlock(kr);
		return -1;
	}
	return 0;
}

static void
free_keys(gpgme_key_t *keys, size_t n)
{
	size_t i;

	if (keys == NULL)
		return;
	for (i = 0; i < n; i++)
		gpgme_key_unref(keys[i]);
	free(keys);
}

static int
add_signer(struct pgp_keyring *kr, gpgme_ctx_t ctx, const char *fpr,
    const char **error_r)
{
	gpgme_key_t key = NULL;
	gpgme_error_t e;
	int r;

	if ((r = pgp_keyring_key(kr, ctx, fpr, PGP_KEY_SECRET, &key,
	    error_r)) < 0)
		return r;
	e = gpgme_signers_add(ctx, key);
	gpgme_key_unref(key);
	if (e != 0)
		return err_set(error_r, "%s", pgp_strerror("signer", e));
	return 0;
}

int
pgp_encrypt(struct pgp_keyring *kr, const char *const *fprs, size_t nfprs,
    const char *signer_fpr, const struct pgp_opts *opts, const void *in,
    size_t len, struct buf *out, const char **error_r)
{
	return pgp_encrypt_ex(kr, fprs, nfprs, signer_fpr, opts, in, len, out,
	    NULL, error_r);
}

int
pgp_encrypt_ex(struct pgp_keyring *kr, const char *const *fprs,
    size_t nfprs, const char *signer_fpr, const struct pgp_opts *opts,
    const void *in, size_t len, struct buf *out, enum pgp_status *status_r,
    const char **error_r)
{
	enum pgp_status dummy;
	gpgme_ctx_t ctx = NULL;
	gpgme_data_t din = NULL, dout = NULL;
	gpgme_key_t *keys = NULL;
	gpgme_encrypt_result_t er;
	gpgme_error_t e;
	struct sink sink;
	size_t i, nk = 0;
	int flags, rc = -1, locked = 0, r;

	if (status_r == NULL)
		status_r = &dummy;
	*status_r = PGP_E_INTERNAL;
	buf_reset(out);
	if (nfprs == 0) {
		*status_r = PGP_E_NO_KEY;
		return err_set(error_r, "no recipient key");
	}
	if (pgp_keyring_ctx(kr, &ctx, error_r) < 0)
		return -1;
	gpgme_set_armor(ctx, opts != NULL && opts->armor);
	if ((keys = calloc(nfprs + 1, sizeof(*keys))) == NULL) {
		err_set(error_r, "out of memory");
		goto out;
	}
	if ((e = gpgme_data_new_from_mem(&din, in, len, 0)) != 0) {
		err_set(error_r, "%s", pgp_strerror("gpgme data", e));
		goto out;
	}
	if (sink_open(&sink, out, opts, &dout, error_r) < 0)
		goto out;
	if (lock_for(kr, opts, error_r) < 0)
		goto out;
	locked = 1;
	for (i = 0; i < nfprs; i++, nk++)
		if ((r = pgp_keyring_key(kr, ctx, fprs[i], PGP_KEY_PUBLIC,
		    &keys[i], error_r)) < 0) {
			if (r == -2)
				*status_r = PGP_E_NO_KEY;
			goto out;
		}
	if (signer_fpr != NULL &&
	    (r = add_signer(kr, ctx, signer_fpr, error_r)) < 0) {
		if (r == -2)
			*status_r = PGP_E_NO_KEY;
		goto out;
	}
	flags = GPGME_ENCRYPT_ALWAYS_TRUST | GPGME_ENCRYPT_NO_ENCRYPT_TO;
	if (opts != NULL && opts->no_compress)
		flags |= GPGME_ENCRYPT_NO_COMPRESS;
	if (signer_fpr != NULL)
		e = gpgme_op_encrypt_sign(ctx, keys, flags, din, dout);
	else
		e = gpgme_op_encrypt(ctx, keys, flags, din, dout);
	er = gpgme_op_encrypt_result(ctx);
	if (er != NULL && er->invalid_recipients != NULL) {
		*status_r = PGP_E_NO_KEY;
		err_set(error_r, "unusable recipient key '%s': %s",
		    er->invalid_recipients->fpr ?
		    er->invalid_recipients->fpr : "?",
		    gpgme_strerror(er->invalid_recipients->reason));
		goto out;
	}
	if (e != 0) {
		if (sink.over)
			*status_r = PGP_E_TOO_LARGE;
		err_set(error_r, "%s", sink.over ? "encrypted output too "
		    "large" : pgp_strerror("encrypt", e));
		goto out;
	}
	if (signer_fpr != NULL) {
		gpgme_sign_result_t sr = gpgme_op_sign_result(ctx);

		if (sr == NULL || sr->signatures == NULL ||
		    sr->invalid_signers != NULL) {
			if (sr != NULL && sr->invalid_signers != NULL)
				*status_r = PGP_E_NO_KEY;
			err_set(error_r, "signing with '%s' failed",
			    signer_fpr);
			goto out;
		}
	}
	*status_r = PGP_E_OK;
	rc = 0;
out:
	if (locked)
		pgp_keyring_unlock(kr);
	if (rc < 0)
		buf_reset(out);
	free_keys(keys, nk);
	gpgme_data_release(din);
	gpgme_data_release(dout);
	gpgme_release(ctx);
	return rc;
}

int
pgp_sign(struct pgp_keyring *kr, const char *signer_fpr,
    enum pgp_sig_mode mode, const struct pgp_opts *opts, const void *in,
    size_t len, struct buf *out, const char **error_r)
{
	return pgp_sign_ex(kr, signer_fpr, mode, opts, in, len, out, NULL,
	    error_r);
}

int
pgp_sign_ex(struct pgp_keyring *kr, const char *signer_fpr,
    enum pgp_sig_mode mode, const struct pgp_opts *opts, const void *in,
    size_t len, struct buf *out, enum pgp_status *status_r,
    const char **error_r)
{
	enum pgp_status dummy;
	gpgme_ctx_t ctx = NULL;
	gpgme_data_t din = NULL, dout = NULL;
	gpgme_sign_result_t sr;
	gpgme_error_t e;
	gpgme_sig_mode_t gm;
	struct sink sink;
	int rc = -1, locked = 0, r;

	if (status_r == NULL)
		status_r = &dummy;
	*status_r = PGP_E_INTERNAL;
	buf_reset(out);
	switch (mode) {
	case PGP_SIG_DETACH:
		gm = GPGME_SIG_MODE_DETACH;
		break;
	case PGP_SIG_CLEAR:
		gm = GPGME_SIG_MODE_CLEAR;
		break;
	case PGP_SIG_INLINE:
		gm = GPGME_SIG_MODE_NORMAL;
		break;
	default:
		return err_set(error_r, "bad signature mode %d", (int)mode);
	}
	if (pgp_keyring_ctx(kr, &ctx, error_r) < 0)
		return -1;
	gpgme_set_armor(ctx, (opts != NULL && opts->armor) ||
	    mode == PGP_SIG_CLEAR);
	if ((e = gpgme_data_new_from_mem(&din, in, len, 0)) != 0) {
		err_set(error_r, "%s", pgp_strerror("gpgme data", e));
		goto out;
	}
	if (sink_open(&sink, out, opts, &dout, error_r) < 0)
		goto out;
	if (lock_for(kr, opts, error_r) < 0)
		goto out;
	locked = 1;
	if ((r = add_signer(kr, ctx, signer_fpr, error_r)) < 0) {
		if (r == -2)
			*status_r = PGP_E_NO_KEY;
		goto out;
	}
	e = gpgme_op_sign(ctx, din, dout, gm);
	sr = gpgme_op_sign_result(ctx);
	if (e != 0 || sr == NULL || sr->signatures == NULL ||
	    sr->invalid_signers != NULL) {
		if (sink.over)
			*status_r = PGP_E_TOO_LARGE;
		else if (sr != NULL && sr->invalid_signers != NULL)
			*status_r = PGP_E_NO_KEY;
		err_set(error_r, "%s", sink.over ? "signed output too large" :
		    pgp_strerror(err_fmt("signing with '%s'", signer_fpr),
		    e ? e : gpg_error(GPG_ERR_GENERAL)));
		goto out;
	}
	*status_r = PGP_E_OK;
	rc = 0;
out:
	if (locked)
		pgp_keyring_unlock(kr);
	if (rc < 0)
		buf_reset(out);
	gpgme_data_release(din);
	gpgme_data_release(dout);
	gpgme_release(ctx);
	return rc;
}

/* --- results -------------------------------------------------------- */

static enum pgp_sig_status
map_sig(gpgme_signature_t s)
{
	switch (gpgme_err_code(s->status)) {
	case GPG_ERR_NO_ERROR:
		if (s->summary & GPGME_SIGSUM_KEY_REVOKED)
			return PGP_SIG_REVOKED_KEY;
		if (s->summary & GPGME_SIGSUM_KEY_EXPIRED)
			return PGP_SIG_EXPIRED_KEY;
		if (s->summary & GPGME_SIGSUM_SIG_EXPIRED)
			return PGP_SIG_EXPIRED_SIG;
		if (s->summary & (GPGME_SIGSUM_RED | GPGME_SIGSUM_BAD_POLICY |
		    GPGME_SIGSUM_SYS_ERROR))
			return PGP_SIG_ERROR;
		return PGP_SIG_VALID;
	case GPG_ERR_BAD_SIGNATURE:
		return PGP_SIG_BAD;
	case GPG_ERR_NO_PUBKEY:
		return PGP_SIG_NO_PUBKEY;
	case GPG_ERR_KEY_EXPIRED:
		return PGP_SIG_EXPIRED_KEY;
	case GPG_ERR_CERT_REVOKED:
		return PGP_SIG_REVOKED_KEY;
	case GPG_ERR_SIG_EXPIRED:
		return PGP_SIG_EXPIRED_SIG;
	default:
		return PGP_SIG_ERROR;
	}
}

static int
collect_sigs(struct pgp_keyring *kr, gpgme_ctx_t ctx, struct pgp_result *res,
    const char **error_r)
{
	gpgme_verify_result_t vr = gpgme_op_verify_result(ctx);
	gpgme_signature_t s;
	size_t n = 0, i;

	if (vr == NULL)
		return 0;
	for (s = vr->signatures; s != NULL; s = s->next)
		n++;
	if (n == 0)
		return 0;
	res->sigs = calloc(n, sizeof(*res->sigs));
	if (res->sigs == NULL)
		return err_set(error_r, "out of memory");
	res->nsigs = n;
	res->signed_ = 1;
	for (s = vr->signatures, i = 0; s != NULL; s = s->next, i++) {
		struct pgp_sig *ps = &res->sigs[i];
		const char *h = gpgme_hash_algo_name(s->hash_algo);
		gpgme_key_t key = NULL;
		const char *ignored_lookup;
		size_t fl;

		ps->status = map_sig(s);
		snprintf(ps->fpr, sizeof(ps->fpr), "%s", s->fpr ? s->fpr : "");
		fl = strlen(ps->fpr);
		memcpy(ps->keyid, fl >= 16 ? ps->fpr + fl - 16 : ps->fpr,
		    fl >= 16 ? 16 : fl);
		ps->keyid[fl >= 16 ? 16 : fl] = '\0';
		ps->created = s->timestamp;
		snprintf(ps->hash, sizeof(ps->hash), "%s", h ? h : "");
		if (ps->fpr[0] == '\0' || pgp_keyring_key(kr, ctx, ps->fpr,
		    PGP_KEY_SIGS, &key, &ignored_lookup) < 0)
			continue;
		{
			struct pgp_keyinfo ki;
			const char *ignored;

			if (pgp_keyinfo_from_key(key, &ki, &ignored) == 0) {
				snprintf(ps->primary_fpr,
				    sizeof(ps->primary_fpr), "%s", ki.fpr);
				ps->emails = ki.emails;
				ps->nemails = ki.nemails;
				ki.emails = NULL;
				ki.nemails = 0;
				pgp_keyinfo_release(&ki);
			}
		}
		gpgme_key_unref(key);
	}
	return 0;
}

static void
collect_decrypt(gpgme_ctx_t ctx, struct pgp_result *res)
{
	gpgme_decrypt_result_t dr = gpgme_op_decrypt_result(ctx);
	gpgme_recipient_t r;
	size_t n = 0, i;

	if (dr == NULL)
		return;
	if (dr->symkey_algo != NULL) {
		const char *dot = strchr(dr->symkey_algo, '.');
		size_t l = dot ? (size_t)(dot - dr->symkey_algo) :
		    strlen(dr->symkey_algo);

		if (l >= sizeof(res->cipher))
			l = sizeof(res->cipher) - 1;
		if (strncmp(dr->symkey_algo, "?", 1) != 0) {
			memcpy(res->cipher, dr->symkey_algo, l);
			res->cipher[l] = '\0';
		}
	}
	for (r = dr->recipients; r != NULL; r = r->next)
		n++;
	if (n == 0)
		return;
	res->recipients = calloc(n, sizeof(*res->recipients));
	if (res->recipients == NULL)
		return;
	for (r = dr->recipients, i = 0; r != NULL; r = r->next) {
		if (r->keyid == NULL)
			continue;
		if ((res->recipients[i] = strdup(r->keyid)) == NULL)
			break;
		i++;
		if (r->status == 0 && res->decrypt_keyid[0] == '\0')
			snprintf(res->decrypt_keyid,
			    sizeof(res->decrypt_keyid), "%s", r->keyid);
	}
	res->nrecipients = i;
}

int
pgp_decrypt(struct pgp_keyring *kr, const struct pgp_opts *opts,
    const void *in, size_t len, struct buf *out, struct pgp_result *res,
    const char **error_r)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_data_t din = NULL, dout = NULL;
	gpgme_decrypt_result_t dr;
	gpgme_error_t e;
	struct sink sink;
	int rc = -1, locked = 0;

	memset(res, 0, sizeof(*res));
	res->status = PGP_E_INTERNAL;
	buf_reset(out);
	if (pgp_keyring_ctx(kr, &ctx, error_r) < 0)
		return -1;
	if ((e = gpgme_data_new_from_mem(&din, in, len, 0)) != 0) {
		err_set(error_r, "%s", pgp_strerror("gpgme data", e));
		goto out;
	}
	if (sink_open(&sink, out, opts, &dout, error_r) < 0)
		goto out;
	if (pgp_keyring_lock(kr, 0, error_r) < 0)
		goto out;
	locked = 1;
	pgp_keyring_pubkey_only(kr);
	e = gpgme_op_decrypt_verify(ctx, din, dout);
	dr = gpgme_op_decrypt_result(ctx);
	collect_decrypt(ctx, res);
	/* gpgme names the cipher "?.?" when it saw no encryption at all */
	if (dr != NULL && (dr->recipients != NULL ||
	    (dr->symkey_algo != NULL && dr->symkey_algo[0] != '?')))
		res->encrypted = 1;
	if (sink.over) {
		res->status = PGP_E_TOO_LARGE;
		err_set(error_r, "decrypted data larger than %zu bytes",
		    sink.max);
		goto out;
	}
	if (dr != NULL && dr->legacy_cipher_nomdc) {
		res->status = PGP_E_NO_MDC;
		err_set(error_r, "message is not integrity protected (no "
		    "MDC): refused");
		goto out;
	}
	if (e != 0) {
		switch (gpgme_err_code(e)) {
		case GPG_ERR_NO_SECKEY:
			res->status = PGP_E_NO_KEY;
			break;
		case GPG_ERR_BAD_PASSPHRASE:
		case GPG_ERR_CANCELED:
		case GPG_ERR_NO_PIN_ENTRY:
			/* password-only (symmetric) message: no key of ours */
			res->status = res->nrecipients == 0 ? PGP_E_NO_KEY :
			    PGP_E_BAD_PASSPHRASE;
			break;
		case GPG_ERR_NO_DATA:
			res->status = res->encrypted ? PGP_E_BAD_DATA :
			    PGP_E_NOT_ENCRYPTED;
			break;
		case GPG_ERR_DECRYPT_FAILED:
			res->status = PGP_E_BAD_DATA;
			if (res->decrypt_keyid[0] == '\0' &&
			    res->nrecipients > 0)
				res->status = PGP_E_NO_KEY;
			break;
		case GPG_ERR_NO_AGENT:
		case GPG_ERR_AGENT:
		case GPG_ERR_INV_ENGINE:
		case GPG_ERR_ENOMEM:
		case GPG_ERR_TIMEOUT:
		case GPG_ERR_EPIPE:
		case GPG_ERR_CONFIGURATION:
			/* the engine or the agent failed, not the data */
			res->status = PGP_E_INTERNAL;
			break;
		default:
			res->status = PGP_E_BAD_DATA;
			break;
		}
		/*
		 * gpg fails a no-MDC (SED) packet with DECRYPT_FAILED and
		 * no legacy flag for modern ciphers ("decryption forced to
		 * fail"); gpgme names the mode "PGPCFB" (plain CFB, no
		 * MDC) where an integrity-protected packet says "CFB" or
		 * an AEAD mode.  Tampering with an MDC packet stays
		 * PGP_E_BAD_DATA.
		 */
		if (gpgme_err_code(e) == GPG_ERR_DECRYPT_FAILED &&
		    dr != NULL && dr->symkey_algo != NULL &&
		    strstr(dr->symkey_algo, ".PGPCFB") != NULL)
			res->status = PGP_E_NO_MDC;
		err_set(error_r, "%s", pgp_strerror("decrypt", e));
		goto out;
	}
	if (!res->encrypted) {
		res->status = PGP_E_NOT_ENCRYPTED;
		err_set(error_r, "input is not encrypted");
		goto out;
	}
	if (collect_sigs(kr, ctx, res, error_r) < 0)
		goto out;
	res->status = PGP_E_OK;
	rc = 0;
out:
	if (locked)
		pgp_keyring_unlock(kr);
	if (rc < 0)
		buf_reset(out);
	gpgme_data_release(din);
	gpgme_data_release(dout);
	gpgme_release(ctx);
	return rc;
}

int
pgp_verify(struct pgp_keyring *kr, const struct pgp_opts *opts,
    const void *sig, size_t siglen, const void *data, size_t datalen,
    struct buf *out, struct pgp_result *res, const char **error_r)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_data_t dsig = NULL, ddata = NULL, dout = NULL;
	gpgme_error_t e;
	struct sink sink;
	struct buf scratch;
	int rc = -1, locked = 0;

	memset(res, 0, sizeof(*res));
	res->status = PGP_E_INTERNAL;
	buf_init(&scratch, 0);
	if (out == NULL)
		out = &scratch;
	buf_reset(out);
	if (pgp_keyring_ctx(kr, &ctx, error_r) < 0)
		goto out;
	if ((e = gpgme_data_new_from_mem(&dsig, sig, siglen, 0)) != 0 ||
	    (data != NULL &&
	    (e = gpgme_data_new_from_mem(&ddata, data, datalen, 0)) != 0)) {
		err_set(error_r, "%s", pgp_strerror("gpgme data", e));
		goto out;
	}
	if (data == NULL && sink_open(&sink, out, opts, &dout, error_r) < 0)
		goto out;
	if (pgp_keyring_lock(kr, 0, error_r) < 0)
		goto out;
	locked = 1;
	pgp_keyring_pubkey_only(kr);
	e = gpgme_op_verify(ctx, dsig, ddata, dout);
	if (data == NULL && sink.over) {
		res->status = PGP_E_TOO_LARGE;
		err_set(error_r, "signed data larger than %zu bytes",
		    sink.max);
		goto out;
	}
	if (e != 0) {
		res->status = PGP_E_BAD_DATA;
		err_set(error_r, "%s", pgp_strerror("verify", e));
		goto out;
	}
	if (collect_sigs(kr, ctx, res, error_r) < 0)
		goto out;
	res->status = PGP_E_OK;
	rc = 0;
out:
	if (locked)
		pgp_keyring_unlock(kr);
	if (rc < 0 && out != NULL)
		buf_reset(out);
	buf_release(&scratch);
	gpgme_data_release(dsig);
	gpgme_data_release(ddata);
	gpgme_data_release(dout);
	gpgme_release(ctx);
	return rc;
}
