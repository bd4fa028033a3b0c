/*
 * pgp_msg_out: outbound OpenPGP messages, PGP/MIME (RFC 3156) and
 * PGP/INLINE (see pgp_msg.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "mime.h"
#include "mime_codec.h"
#include "pgp_msg.h"
#include "pgp_msg_int.h"

#define ONE_MIB (1024u * 1024)

struct out_ctx {
	struct pgp_keyring *kr;
	const struct pgp_msg_opts *o;
	struct pgp_opts po;		/* o->pgp with our armor and cap */
	const char *const *fprs;
	size_t nfprs;
	const char *signer;
	int encrypt;			/* 0: sign only */
	size_t max;			/* buffer limit */
	enum pgp_status st;		/* of the last failed operation */
};

static const char *
hash_micalg(int id)
{
	switch (id) {
	case 1:
		return "pgp-md5";
	case 2:
		return "pgp-sha1";
	case 3:
		return "pgp-ripemd160";
	case 8:
		return "pgp-sha256";
	case 9:
		return "pgp-sha384";
	case 10:
		return "pgp-sha512";
	case 11:
		return "pgp-sha224";
	default:
		return NULL;
	}
}

/* One OpenPGP operation on data, armored or binary, into out. */
static int
run_op(struct out_ctx *c, const char *data, size_t len, int armor,
    int clearsign, struct buf *out, const char **error_r)
{
	struct pgp_opts po = c->po;
	int r;

	po.armor = armor;
	if (c->encrypt)
		r = pgp_encrypt_ex(c->kr, c->fprs, c->nfprs, c->signer, &po,
		    data, len, out, &c->st, error_r);
	else
		r = pgp_sign_ex(c->kr, c->signer, clearsign ? PGP_SIG_CLEAR :
		    PGP_SIG_DETACH, &po, data, len, out, &c->st, error_r);
	return r;
}

/* ---- the protected entity (PGP/MIME) ------------------------------------- */

static int
is_content_field(const struct mime_field *f)
{
	return f->name_len >= 8 && strncasecmp(f->raw, "Content-", 8) == 0;
}

/*
 * The outer fields (all but Content-* and MIME-Version, in eol) and the
 * entity (Content-* fields, blank line, body; canonical CRLF).
 */
static int
split_entity(const struct mime_message *m, const char *eol,
    struct buf *outer, struct buf *ent, const char **error_r)
{
	const struct mime_entity *root = m->root;
	size_t i;
	int have_ctype = 0;

	for (i = 0; i < root->nfields; i++) {
		const struct mime_field *f = &root->fields[i];
		int content = is_content_field(f);
		struct buf *b = content ? ent : outer;
		const char *e = content ? "\r\n" : eol;

		if (!content && pgp_msg_field_is(f, "MIME-Version"))
			continue;
		if (pgp_msg_field_is(f, "Content-Type"))
			have_ctype = 1;
		if (buf_append_eol(b, f->raw, f->raw_len, e) < 0 ||
		    ((f->raw_len == 0 || f->raw[f->raw_len - 1] != '\n') &&
		    buf_puts(b, e) < 0))
			return err_set(error_r, "message too large");
	}
	if (!have_ctype && buf_puts(ent,
	    "Content-Type: text/plain; charset=us-ascii\r\n") < 0)
		return err_set(error_r, "message too large");
	if (buf_puts(ent, "\r\n") < 0)
		return err_set(error_r, "message too large");
	if (mime_emit_buf(m, root, MIME_EMIT_CANONICAL | MIME_EMIT_BODY_ONLY,
	    ent, error_r) < 0)
		return err_set(error_r, "message too large");
	return 0;
}

static int
put_lines(struct buf *out, const char *eol, const char *text)
{
	return buf_append_eol(out, text, strlen(text), eol);
}

/* A part's body p[0..len), then the delimiter that ends it: eol "--b",
 * or after the last part the close delimiter eol "--b--" eol. */
static int
put_part(struct buf *out, const char *p, size_t len, const char *b,
    int last, const char *eol)
{
	if (buf_append_eol(out, p, len, eol) < 0 || buf_puts(out, eol) < 0 ||
	    buf_printf(out, last ? "--%s--" : "--%s", b) < 0)
		return -1;
	return last ? buf_puts(out, eol) : 0;
}

static int
mime_encrypt(struct out_ctx *c, const struct mime_message *m,
    struct buf *out, const char **error_r)
{
	const char *eol = pgp_msg_eol(m);
	struct buf outer, ent, arm, res;
	char b[64], hdr[1024];
	int rc = PGP_MSG_TEMPFAIL;

	buf_init(&outer, c->max);
	buf_init(&ent, c->max);
	buf_init(&arm, 0);
	buf_init(&res, 0);
	if (split_entity(m, eol, &outer, &ent, error_r) < 0) {
		rc = PGP_MSG_REFUSED;
		goto out;
	}
	if (run_op(c, ent.data, ent.len, 1, 0, &arm, error_r) < 0) {
		rc = pgp_msg_fail_rc(c->st);
		goto out;
	}
	if (pgp_msg_boundary(b, sizeof(b), arm.data, arm.len) < 0) {
		err_set(error_r, "no random bytes");
		goto out;
	}
	snprintf(hdr, sizeof(hdr), "MIME-Version: 1.0\n"
	    "Content-Type: multipart/encrypted;\n"
	    "\tprotocol=\"application/pgp-encrypted\";\n"
	    "\tboundary=\"%s\"\n\n"
	    "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n"
	    "--%s\n"
	    "Content-Type: application/pgp-encrypted\n"
	    "Content-Description: PGP/MIME version identification\n\n"
	    "Version: 1\n\n"
	    "--%s\n"
	    "Content-Type: application/octet-stream; name=\"encrypted.asc\"\n"
	    "Content-Description: OpenPGP encrypted message\n"
	    "Content-Disposition: inline; filename=\"encrypted.asc\"\n\n",
	    b, b, b);
	if (buf_append(&res, outer.data, outer.len) < 0 ||
	    put_lines(&res, eol, hdr) < 0 ||
	    put_part(&res, arm.data, arm.len, b, 1, eol) < 0 ||
	    buf_append(out, res.data, res.len) < 0) {
		err_set(error_r, "encrypted message too large");
		rc = PGP_MSG_REFUSED;
		goto out;
	}
	rc = PGP_MSG_OK;
out:
	buf_release(&outer);
	buf_release(&ent);
	buf_release(&arm);
	buf_release(&res);
	return rc;
}

/* ---- 7bit-safe re-encoding before signing (RFC 3156 section 5) ------- --- */

/* Would a transport change these bytes: 8-bit, NUL, bare CR, trailing
 * white space, "From " at a line start, lines over 998 octets? */
static int
fragile(const char *p, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - p) : len, i;

		if (nl != NULL && end > pos && p[end - 1] == '\r')
			end--;
		if (end - pos > 998 || (end - pos >= 5 &&
		    memcmp(p + pos, "From ", 5) == 0))
			return 1;
		if (end > pos && (p[end - 1] == ' ' || p[end - 1] == '\t'))
			return 1;
		for (i = pos; i < end; i++)
			if ((unsigned char)p[i] >= 0x80 || p[i] == '\0' ||
			    p[i] == '\r')
				return 1;
		pos = nl != NULL ? (size_t)(nl - p) + 1 : len;
	}
	return 0;
}

static int
harden_leaf(struct mime_message *m, struct mime_entity *e,
    const char **error_r)
{
	const struct mime_field *ct = mime_field_find(e, "Content-Type", 0);
	struct mime_entity *n = NULL;
	struct buf type, body;
	const char *raw;
	size_t len;
	int rc = -1;

	raw = mime_entity_body(e, &len);
	if (raw == NULL || e->cte == MIME_CTE_QP || e->cte == MIME_CTE_BASE64 ||
	    e->cte == MIME_CTE_UNKNOWN || !fragile(raw, len))
		return 0;
	buf_init(&type, 64 * 1024);
	buf_init(&body, 0);
	if (ct == NULL || mime_field_value(ct, &type) < 0 || type.len == 0) {
		buf_reset(&type);
		buf_puts(&type, "text/plain; charset=us-ascii");
	}
	if (mime_entity_decode(e, &body, NULL, error_r) < 0)
		goto out;
	n = mime_build_leaf(type.data, mime_entity_is(e, "text", "*") ?
	    MIME_CTE_QP : MIME_CTE_BASE64, body.data, body.len, error_r);
	if (n == NULL)
		goto out;
	if (pgp_msg_copy_fields(e, n, e->parent == NULL, error_r) < 0)
		goto out;
	if (pgp_msg_replace(m, e, n, error_r) < 0) {
		n = NULL;
		goto out;
	}
	n = NULL;
	rc = 0;
out:
	mime_entity_free(&n);
	buf_release(&type);
	buf_release(&body);
	return rc;
}

/* Leaves of the tree (message/rfc822 included: its leaves are leaves). */
static int
collect_leaves(struct mime_entity *e, struct mime_entity ***v, size_t *n,
    int into_rfc822)
{
	struct mime_entity *c, **nv;

	if (e->children == NULL || (!into_rfc822 &&
	    mime_entity_is(e, "message", "*"))) {
		nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (nv == NULL)
			return -1;
		*v = nv;
		(*v)[(*n)++] = e;
		return 0;
	}
	for (c = e->children; c != NULL; c = c->next)
		if (collect_leaves(c, v, n, into_rfc822) < 0)
			return -1;
	return 0;
}

static int
harden(struct mime_message *m, const char **error_r)
{
	struct mime_entity **v = NULL;
	size_t n = 0, i;
	int rc = -1;

	if (collect_leaves(m->root, &v, &n, 1) < 0) {
		err_set(error_r, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (harden_leaf(m, v[i], error_r) < 0)
			goto out;
	rc = 0;
out:
	free(v);
	return rc;
}

static int
mime_sign(struct out_ctx *c, struct mime_message *m, struct buf *out,
    const char **error_r)
{
	const char *eol = pgp_msg_eol(m);
	struct buf outer, ent, sig, res;
	const char *micalg;
	char b[64], hdr[1024];
	int rc = PGP_MSG_TEMPFAIL;

	buf_init(&outer, c->max);
	buf_init(&ent, c->max);
	buf_init(&sig, 0);
	buf_init(&res, 0);
	if (harden(m, error_r) < 0)
		goto out;
	if (split_entity(m, eol, &outer, &ent, error_r) < 0) {
		rc = PGP_MSG_REFUSED;
		goto out;
	}
	if (run_op(c, ent.data, ent.len, 1, 0, &sig, error_r) < 0) {
		rc = pgp_msg_fail_rc(c->st);
		goto out;
	}
	micalg = hash_micalg(pgp_msg_sig_hash(sig.data, sig.len));
	if (micalg == NULL) {
		err_set(error_r, "cannot read the hash algorithm of the "
		    "signature");
		goto out;
	}
	if (pgp_msg_boundary(b, sizeof(b), ent.data, ent.len) < 0) {
		err_set(error_r, "no random bytes");
		goto out;
	}
	snprintf(hdr, sizeof(hdr), "MIME-Version: 1.0\n"
	    "Content-Type: multipart/signed; micalg=%s;\n"
	    "\tprotocol=\"application/pgp-signature\";\n"
	    "\tboundary=\"%s\"\n\n"
	    "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\n"
	    "--%s\n", micalg, b, b);
	if (buf_append(&res, outer.data, outer.len) < 0 ||
	    put_lines(&res, eol, hdr) < 0 ||
	    put_part(&res, ent.data, ent.len, b, 0, eol) < 0 ||
	    put_lines(&res, eol, "\n"
	    "Content-Type: application/pgp-signature; name=\"signature.asc\"\n"
	    "Content-Description: OpenPGP digital signature\n"
	    "Content-Disposition: attachment; filename=\"signature.asc\"\n"
	    "\n") < 0 ||
	    put_part(&res, sig.data, sig.len, b, 1, eol) < 0 ||
	    buf_append(out, res.data, res.len) < 0) {
		err_set(error_r, "signed message too large");
		rc = PGP_MSG_REFUSED;
		goto out;
	}
	rc = PGP_MSG_OK;
out:
	buf_release(&outer);
	buf_release(&ent);
	buf_release(&sig);
	buf_release(&res);
	return rc;
}

/* ---- PGP/INLINE ---------------------------------------------------------- */

static int
is_body_text(const struct mime_entity *e)
{
	return e->children == NULL && mime_entity_is(e, "text", "plain") &&
	    !pgp_msg_is_attachment(e);
}

/* A multipart/alternative with a text/plain alternative, or NULL. */
static struct mime_entity *
find_alternative(struct mime_entity *root, struct mime_entity **text_r)
{
	struct mime_entity *e, *c;

	for (e = root; e != NULL; e = mime_entity_walk(root, e)) {
		if (mime_entity_is(e, "message", "*"))
			continue;
		if (!mime_entity_is(e, "multipart", "alternative"))
			continue;
		/* the last text/plain alternative is the preferred one */
		*text_r = NULL;
		for (c = e->children; c != NULL; c = c->next)
			if (is_body_text(c))
				*text_r = c;
		if (*text_r != NULL)
			return e;
	}
	return NULL;
}

static int
collapse_alternatives(struct mime_message *m, const char **error_r)
{
	struct mime_entity *alt, *text, *copy;
	unsigned guard = 0;

	while ((alt = find_alternative(m->root, &text)) != NULL) {
		if (++guard > 1000)
			return err_set(error_r, "too many alternatives");
		copy = mime_entity_copy(m, text, error_r);
		if (copy == NULL)
			return -1;
		if (pgp_msg_replace(m, alt, copy, error_r) < 0)
			return -1;
	}
	return 0;
}

/* "text/plain; charset=X" with e's charset (or utf-8 when converted). */
static int
text_type(const struct mime_entity *e, int utf8, struct buf *out)
{
	struct buf cs;
	int rc = 0;

	buf_init(&cs, 256);
	if (buf_puts(out, "text/plain") < 0)
		rc = -1;
	if (utf8) {
		if (buf_puts(out, "; charset=utf-8") < 0)
			rc = -1;
	} else if (mime_entity_ctype_param(e, "charset", &cs) == 0 &&
	    cs.len > 0) {
		if (buf_puts(out, "; charset=") < 0 ||
		    mime_param_quote(cs.data, out) < 0)
			rc = -1;
	}
	buf_release(&cs);
	return rc;
}

/* Encrypt or clear-sign one text leaf in place. */
static int
inline_text(struct out_ctx *c, struct mime_message *m, struct mime_entity *e,
    int from_html, const char **error_r)
{
	struct buf text, canon, res, type;
	struct mime_entity *n = NULL;
	int rc = PGP_MSG_TEMPFAIL;

	buf_init(&text, c->max);
	buf_init(&canon, c->max);
	buf_init(&res, 0);
	buf_init(&type, 64 * 1024);
	if ((from_html ? mime_entity_text(e, 1, &text, NULL, error_r) :
	    mime_entity_decode(e, &text, NULL, error_r)) < 0) {
		rc = PGP_MSG_REFUSED;
		goto out;
	}
	if (buf_append_eol(&canon, text.data, text.len, "\r\n") < 0 ||
	    buf_append(&canon, "", 0) < 0) {
		err_set(error_r, "text part too large");
		rc = PGP_MSG_REFUSED;
		goto out;
	}
	if (run_op(c, canon.data, canon.len, 1, !c->encrypt, &res,
	    error_r) < 0) {
		rc = pgp_msg_fail_rc(c->st);
		goto out;
	}
	if (text_type(e, from_html, &type) < 0) {
		err_set(error_r, "out of memory");
		goto out;
	}
	n = mime_build_leaf(type.data, mime_has_8bit_or_nul(res.data, res.len) ?
	    MIME_CTE_QP : MIME_CTE_7BIT, res.data, res.len, error_r);
	if (n == NULL)
		goto out;
	if (pgp_msg_copy_fields(e, n, 1, error_r) < 0)
		goto out;
	rc = pgp_msg_replace(m, e, n, error_r) < 0 ? PGP_MSG_TEMPFAIL :
	    PGP_MSG_OK;
	n = NULL;
out:
	mime_entity_free(&n);
	buf_release(&text);
	buf_release(&canon);
	buf_release(&res);
	buf_release(&type);
	return rc;
}

/* Encrypt one attachment leaf into NAME.pgp. */
static int
inline_attachment(struct out_ctx *c, struct mime_message *m,
    struct mime_entity *e, const char **error_r)
{
	struct buf data, res, name;
	struct mime_entity *n = NULL;
	int rc = PGP_MSG_TEMPFAIL;

	buf_init(&data, c->max);
	buf_init(&res, 0);
	buf_init(&name, 4096);
	if (mime_entity_is(e, "message", "*")) {
		size_t len;
		const char *b = mime_entity_body(e, &len);

		if (b == NULL || buf_append(&data, b, len) < 0) {
			err_set(error_r, "attachment too large");
			rc = PGP_MSG_REFUSED;
			goto out;
		}
	} else if (mime_entity_decode(e, &data, NULL, error_r) < 0) {
		rc = PGP_MSG_REFUSED;
		goto out;
	}
	if (run_op(c, data.data != NULL ? data.data : "", data.len, 0, 0,
	    &res, error_r) < 0) {
		rc = pgp_msg_fail_rc(c->st);
		goto out;
	}
	if (mime_entity_filename(e, &name) < 0 || name.len == 0) {
		buf_reset(&name);
		buf_puts(&name, mime_entity_is(e, "message", "*") ?
		    "message.eml" : mime_entity_is(e, "text", "html") ?
		    "message.html" : "attachment");
	}
	if (buf_puts(&name, ".pgp") < 0) {
		err_set(error_r, "file name too long");
		rc = PGP_MSG_REFUSED;
		goto out;
	}
	n = mime_build_attachment("application/octet-stream", name.data,
	    res.data, res.len, error_r);
	if (n == NULL)
		goto out;
	rc = pgp_msg_replace(m, e, n, error_r) < 0 ? PGP_MSG_TEMPFAIL :
	    PGP_MSG_OK;
	n = NULL;
out:
	mime_entity_free(&n);
	buf_release(&data);
	buf_release(&res);
	buf_release(&name);
	return rc;
}

static int
inline_all(struct out_ctx *c, struct mime_message *m, struct buf *out,
    const char **error_r)
{
	struct mime_entity **v = NULL;
	size_t n = 0, i;
	int rc = PGP_MSG_TEMPFAIL, r;

	if (collapse_alternatives(m, error_r) < 0)
		goto out;
	if (collect_leaves(m->root, &v, &n, 0) < 0) {
		err_set(error_r, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct mime_entity *e = v[i];
		int html = e->children == NULL &&
		    mime_entity_is(e, "text", "html") &&
		    !pgp_msg_is_attachment(e);

		if (is_body_text(e) || (html && c->o->html_to_text))
			r = inline_text(c, m, e, html, error_r);
		else if (c->encrypt)
			r = inline_attachment(c, m, e, error_r);
		else
			r = PGP_MSG_OK;
		if (r != PGP_MSG_OK) {
			rc = r;
			goto out;
		}
	}
	if (mime_emit_buf(m, m->root, 0, out, error_r) < 0) {
		rc = PGP_MSG_REFUSED;
		goto out;
	}
	rc = PGP_MSG_OK;
out:
	free(v);
	return rc;
}

/* ---- entry points -------------------------------------------------------- */

/* Does m hold a multipart/signed anywhere?  PGP/INLINE handles parts
 * one by one, which would break such a signature. */
static int
holds_signed(struct mime_message *m)
{
	struct mime_entity *e;

	for (e = m->root; e != NULL; e = mime_entity_walk(m->root, e))
		if (mime_entity_is(e, "multipart", "signed"))
			return 1;
	return 0;
}

static int
outbound(struct pgp_keyring *kr, const char *msg, size_t len,
    const char *const *fprs, size_t nfprs, const char *signer,
    int encrypt, const struct pgp_msg_opts *o, struct buf *out,
    const char **error_r)
{
	struct pgp_msg_opts defopts;
	struct mime_message *m = NULL;
	struct out_ctx c;
	struct buf res;
	int rc;

	if (o == NULL) {
		pgp_msg_opts_init(&defopts);
		o = &defopts;
	}
	memset(&c, 0, sizeof(c));
	c.kr = kr;
	c.o = o;
	c.po = o->pgp;
	c.fprs = fprs;
	c.nfprs = nfprs;
	c.signer = signer;
	c.encrypt = encrypt;
	c.max = o->max_size != 0 ? o->max_size : PGP_MSG_DEFAULT_MAX_SIZE;
	if (len > c.max) {
		err_set(error_r, "message too large (%zu > %zu bytes)", len,
		    c.max);
		return PGP_MSG_REFUSED;
	}
	if (encrypt && nfprs == 0) {
		err_set(error_r, "no recipient key");
		return PGP_MSG_REFUSED;
	}
	if (!encrypt && signer == NULL) {
		err_set(error_r, "no signing key");
		return PGP_MSG_REFUSED;
	}
	/* the whole message may grow: CRLF, base64, armor */
	c.max = c.max * 3 + ONE_MIB;
	if (c.po.max_out == 0)
		c.po.max_out = c.max;
	m = mime_parse(msg, len, NULL, error_r);
	if (m == NULL)
		return PGP_MSG_TEMPFAIL;
	buf_init(&res, c.max);
	if (o->encoding == PGP_MSG_INLINE && !holds_signed(m))
		rc = inline_all(&c, m, &res, error_r);
	else if (encrypt)
		rc = mime_encrypt(&c, m, &res, error_r);
	else
		rc = mime_sign(&c, m, &res, error_r);
	if (rc == PGP_MSG_OK && buf_append(out, res.data, res.len) < 0) {
		err_set(error_r, "output buffer full");
		rc = PGP_MSG_REFUSED;
	}
	buf_release(&res);
	mime_message_free(&m);
	return rc;
}

int
pgp_msg_encrypt(struct pgp_keyring *kr, const char *msg, size_t len,
    const char *const *fprs, size_t nfprs, const char *signer_fpr,
    const struct pgp_msg_opts *o, struct buf *out, const char **error_r)
{
	return outbound(kr, msg, len, fprs, nfprs, signer_fpr, 1, o, out,
	    error_r);
}

int
pgp_msg_sign(struct pgp_keyring *kr, const char *msg, size_t len,
    const char *signer_fpr, const struct pgp_msg_opts *o, struct buf *out,
    const char **error_r)
{
	return outbound(kr, msg, len, NULL, 0, signer_fpr, 0, o, out,
	    error_r);
}
