/*
 * pgp_msg_inline: the PGP/INLINE half of the inbound message layer
 * (pgp_msg.h): armored blocks in text parts, .pgp/.gpg/.asc
 * attachments, keys in mail, and the structural edits that follow
 * (key parts removed, alternatives collapsed, the partitioned fix-up).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "infohdr.h"
#include "mime.h"
#include "mime_codec.h"
#include "pgp_msg.h"
#include "pgp_msg_int.h"

#define MAX_BLOCKS 32
#define MAX_ITEMS 256
#define FIELD_MAX 8192

/* ---- armored blocks ------------------------------------------------------ */

enum bkind { B_OUT = 0, B_MSG, B_SIG, B_KEY };

struct block {
	enum bkind kind;
	size_t start, end;	/* [start, end) of the text */
};

/* Length of white space (incl. NBSP as UTF-8 or Latin-1) at p. */
static size_t
ws_len(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == ' ' || ch == '\t' || ch == '\r')
			i++;
		else if (ch == 0xa0)
			i++;
		else if (ch == 0xc2 && i + 1 < len &&
		    (unsigned char)p[i + 1] == 0xa0)
			i += 2;
		else
			break;
	}
	return i;
}

static int
line_is(const char *l, size_t n, const char *marker)
{
	size_t w = ws_len(l, n), ml = strlen(marker);

	return n - w >= ml && memcmp(l + w, marker, ml) == 0;
}

/*
 * Split text into armored blocks and the text around them.  Blocks start
 * at a line that is (after white space) one of the BEGIN markers and end
 * after the matching END line; a block without its END is text.
 */
static size_t
find_blocks(const char *t, size_t len, struct block *b, size_t max)
{
	static const struct {
		const char *begin, *end;
		enum bkind kind;
	} mk[] = {
		{ "-----BEGIN PGP MESSAGE-----", "-----END PGP MESSAGE-----",
		    B_MSG },
		{ "-----BEGIN PGP SIGNED MESSAGE-----",
		    "-----END PGP SIGNATURE-----", B_SIG },
		{ "-----BEGIN PGP PUBLIC KEY BLOCK-----",
		    "-----END PGP PUBLIC KEY BLOCK-----", B_KEY },
	};
	size_t pos = 0, n = 0, out_start = 0, k;

	while (pos < len && n + 2 < max) {
		const char *nl = memchr(t + pos, '\n', len - pos);
		size_t ll = (nl != NULL ? (size_t)(nl - t) + 1 : len) - pos;

		for (k = 0; k < sizeof(mk) / sizeof(*mk); k++) {
			size_t q = pos + ll, end = 0;

			if (!line_is(t + pos, ll, mk[k].begin))
				continue;
			while (q < len) {
				const char *nl2 = memchr(t + q, '\n', len - q);
				size_t l2 = (nl2 != NULL ?
				    (size_t)(nl2 - t) + 1 : len) - q;

				if (line_is(t + q, l2, mk[k].end)) {
					end = q + l2;
					break;
				}
				q += l2;
			}
			if (end == 0)
				continue;
			if (pos > out_start) {
				b[n].kind = B_OUT;
				b[n].start = out_start;
				b[n++].end = pos;
			}
			b[n].kind = mk[k].kind;
			b[n].start = pos;
			b[n++].end = end;
			out_start = end;
			ll = end - pos;
			break;
		}
		pos += ll;
	}
	if (out_start < len) {
		b[n].kind = B_OUT;
		b[n].start = out_start;
		b[n++].end = len;
	}
	return n;
}

static int
is_blank(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += ws_len(p + i, len - i) > 0 ?
	    ws_len(p + i, len - i) : 1)
		if (ws_len(p + i, len - i) == 0 && p[i] != '\n')
			return 0;
	return 1;
}

/*
 * A canonical armor from a block that went through mail and HTML: lines
 * trimmed (NBSP too), blank lines dropped but the one after the armor
 * headers, LF line ends.  charset_r gets the "Charset:" header.
 */
static int
armor_clean(const char *p, size_t len, struct buf *out, char *charset_r,
    size_t csize)
{
	size_t pos = 0;
	int state = 0;		/* 0 BEGIN, 1 headers, 2 body */

	charset_r[0] = '\0';
	while (pos < len) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		size_t ll = (nl != NULL ? (size_t)(nl - p) : len) - pos;
		size_t w = ws_len(p + pos, ll), e = ll;

		/* trailing white space, NBSP included */
		while (e > w) {
			unsigned char ch = (unsigned char)p[pos + e - 1];

			if (ch == ' ' || ch == '\t' || ch == '\r') {
				e--;
			} else if (ch == 0xa0) {
				e--;
				if (e > w && (unsigned char)p[pos + e - 1] ==
				    0xc2)
					e--;
			} else {
				break;
			}
		}
		if (e > w) {
			const char *l = p + pos + w;
			size_t n = e - w;

			if (state == 1 && memchr(l, ':', n) == NULL) {
				if (buf_putc(out, '\n') < 0)
					return -1;
				state = 2;
			}
			if (state == 1 && n > 8 &&
			    strncasecmp(l, "Charset:", 8) == 0) {
				size_t s = 8;

				while (s < n && l[s] == ' ')
					s++;
				snprintf(charset_r, csize, "%.*s",
				    (int)(n - s), l + s);
			}
			if (buf_append(out, l, n) < 0 || buf_putc(out,
			    '\n') < 0)
				return -1;
			if (state == 0)
				state = 1;
		} else if (state == 1) {
			if (buf_putc(out, '\n') < 0)
				return -1;
			state = 2;
		}
		pos += ll + (nl != NULL);
	}
	return 0;
}

/* HTML to the text a reader sees, keeping line structure: tags dropped,
 * <br>, <p>, <div>, <tr>, <li> and </pre> as line breaks, the common
 * entities decoded.  Only used to find and read armored blocks. */
static int
html_armor_text(const char *h, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		if (h[i] == '<') {
			const char *gt = memchr(h + i, '>', len - i);
			size_t tl = gt != NULL ? (size_t)(gt - (h + i)) + 1 :
			    len - i;
			const char *t = h + i + 1;
			size_t n = tl > 1 ? tl - 1 : 0;

			if (n > 0 && *t == '/')
				t++, n--;
			if ((n >= 2 && strncasecmp(t, "br", 2) == 0) ||
			    (n >= 1 && strncasecmp(t, "p", 1) == 0 &&
			    (n == 1 || !isalpha((unsigned char)t[1]))) ||
			    (n >= 3 && strncasecmp(t, "div", 3) == 0) ||
			    (n >= 2 && strncasecmp(t, "tr", 2) == 0) ||
			    (n >= 2 && strncasecmp(t, "li", 2) == 0) ||
			    (n >= 3 && strncasecmp(t, "pre", 3) == 0)) {
				if (buf_putc(out, '\n') < 0)
					return -1;
			}
			i += tl;
			continue;
		}
		if (h[i] == '&') {
			static const struct {
				const char *ent;
				const char *rep;
			} ents[] = {
				{ "&nbsp;", " " }, { "&lt;", "<" },
				{ "&gt;", ">" }, { "&amp;", "&" },
				{ "&quot;", "\"" }, { "&#39;", "'" },
				{ "&#43;", "+" }, { "&#47;", "/" },
				{ "&#61;", "=" }, { "&#x2B;", "+" },
				{ "&#x2F;", "/" }, { "&#x3D;", "=" },
			};
			size_t k;

			for (k = 0; k < sizeof(ents) / sizeof(*ents); k++) {
				size_t el = strlen(ents[k].ent);

				if (len - i >= el &&
				    strncasecmp(h + i, ents[k].ent, el) == 0)
					break;
			}
			if (k < sizeof(ents) / sizeof(*ents)) {
				if (buf_puts(out, ents[k].rep) < 0)
					return -1;
				i += strlen(ents[k].ent);
				continue;
			}
		}
		if (h[i] != '\r' && buf_putc(out, h[i]) < 0)
			return -1;
		i++;
	}
	return buf_append(out, "", 0);
}

/* ---- PGP/INLINE items ---------------------------------------------------- */

enum ikind { I_TEXT = 1, I_HTML, I_ATTACH, I_KEYS };

struct item {
	enum ikind kind;
	struct mime_entity *e;
};

struct walk {
	struct item v[MAX_ITEMS];
	size_t n;
	int truncated;
};

static int
name_is_pgp(const struct mime_entity *e)
{
	struct buf n;
	int r = 0;

	buf_init(&n, 4096);
	if (mime_entity_filename(e, &n) == 0 && n.len >= 4) {
		const char *x = n.data + n.len - 4;

		r = strcasecmp(x, ".pgp") == 0 || strcasecmp(x, ".gpg") == 0 ||
		    strcasecmp(x, ".asc") == 0;
	}
	buf_release(&n);
	return r;
}

enum sniff { S_NONE = 0, S_MSG, S_KEY, S_SIG };

/* What OpenPGP data (armored or binary) is this? */
static enum sniff
sniff(const char *p, size_t len)
{
	size_t w = 0;
	int tag;

	while (w < len && isspace((unsigned char)p[w]))
		w++;
	if (len - w >= 15 && memcmp(p + w, "-----BEGIN PGP ", 15) == 0) {
		const char *k = p + w + 15;
		size_t n = len - w - 15;

		if (n >= 13 && memcmp(k, "MESSAGE-----", 12) == 0)
			return S_MSG;
		if (n >= 22 && memcmp(k, "PUBLIC KEY BLOCK-----", 21) == 0)
			return S_KEY;
		if (n >= 15 && memcmp(k, "SIGNATURE-----", 14) == 0)
			return S_SIG;
		return S_NONE;
	}
	if (len < 2 || !((unsigned char)p[0] & 0x80))
		return S_NONE;
	tag = ((unsigned char)p[0] & 0x40) ? (unsigned char)p[0] & 0x3f :
	    ((unsigned char)p[0] >> 2) & 0x0f;
	switch (tag) {
	case 1:		/* PKESK */
	case 3:		/* SKESK */
	case 8:		/* compressed */
	case 9:		/* SED */
	case 18:	/* SEIPD */
	case 20:	/* AEAD */
		return S_MSG;
	case 6:		/* public key */
		return S_KEY;
	case 4:		/* one-pass signature: a signed message */
	case 11:	/* literal data */
		return S_MSG;
	case 2:		/* signature: detached */
		return S_SIG;
	default:
		return S_NONE;
	}
}

static int
item_add(struct walk *w, enum ikind k, struct mime_entity *e)
{
	if (w->n >= MAX_ITEMS) {
		w->truncated = 1;
		return 0;
	}
	w->v[w->n].kind = k;
	w->v[w->n++].e = e;
	return 0;
}

/* Does the text have blocks / text outside blocks? */
static void
text_shape(const char *t, size_t len, int *blocks_r, int *outside_r,
    int *enc_r, int *sig_r)
{
	struct block b[MAX_BLOCKS];
	size_t n = find_blocks(t, len, b, MAX_BLOCKS), i;

	*blocks_r = *outside_r = *enc_r = *sig_r = 0;
	for (i = 0; i < n; i++) {
		if (b[i].kind == B_OUT) {
			if (!is_blank(t + b[i].start, b[i].end - b[i].start))
				*outside_r = 1;
			continue;
		}
		(*blocks_r)++;
		if (b[i].kind == B_MSG)
			(*enc_r)++;
		else if (b[i].kind == B_SIG)
			(*sig_r)++;
	}
}

static int
html_text(const struct mime_entity *e, struct buf *out)
{
	struct buf raw, cs, utf8;
	int rc = -1;

	buf_init(&raw, 0);
	buf_init(&cs, 256);
	buf_init(&utf8, 0);
	if (mime_entity_decode(e, &raw, NULL, NULL) < 0)
		goto out;
	(void)mime_entity_ctype_param(e, "charset", &cs);
	if (mime_charset_to_utf8(cs.data, raw.data, raw.len, &utf8, NULL) < 0)
		goto out;
	rc = html_armor_text(utf8.data != NULL ? utf8.data : "", utf8.len,
	    out);
out:
	buf_release(&raw);
	buf_release(&cs);
	buf_release(&utf8);
	return rc;
}

/* Classify the leaves; count content for the mixed-content rule. */
static int
classify(struct pgp_msg_in_ctx *c, struct mime_entity *e, struct walk *w,
    int depth)
{
	struct mime_entity *ch;
	struct buf t;
	int blocks, outside, enc, sig;
	unsigned k = mime_entity_kind(e);

	if (depth > 64)
		return 0;
	if ((k & MIME_K_PGP_ENCRYPTED) || (e == c->m->root && c->exchange_root))
		return 0;	/* not decrypted: phase 1 reported it */
	if (mime_entity_is(e, "message", "*")) {
		c->n_unprot++;	/* an attached message: never ours */
		return 0;
	}
	if (e->children != NULL) {
		if (k & (MIME_K_PGP_SIGNED | MIME_K_SMIME_SIGNED))
			return classify(c, e->children, w, depth + 1);
		for (ch = e->children; ch != NULL; ch = ch->next)
			if (classify(c, ch, w, depth + 1) < 0)
				return -1;
		return 0;
	}
	if (e->boundary != NULL)
		return 0;	/* a multipart without parts */
	if (mime_entity_is(e, "application", "pgp-keys"))
		return item_add(w, I_KEYS, e);
	if (mime_entity_is(e, "application", "pgp-signature") ||
	    mime_entity_is(e, "application", "pgp-encrypted"))
		return 0;
	buf_init(&t, 0);
	if (mime_entity_is(e, "text", "plain") && !pgp_msg_is_attachment(e)) {
		if (mime_entity_decode(e, &t, NULL, NULL) < 0) {
			buf_release(&t);
			c->n_unprot++;
			return 0;
		}
		text_shape(t.data != NULL ? t.data : "", t.len, &blocks,
		    &outside, &enc, &sig);
		buf_release(&t);
		c->n_unprot += outside;
		c->n_enc += enc;
		c->inline_msgs += enc;
		c->n_sigonly += sig;
		if (blocks > 0)
			return item_add(w, I_TEXT, e);
		return 0;
	}
	if (mime_entity_is(e, "text", "html") && !pgp_msg_is_attachment(e)) {
		if (html_text(e, &t) < 0) {
			buf_release(&t);
			c->n_unprot++;
			c->html_unprot++;
			return 0;
		}
		text_shape(t.data, t.len, &blocks, &outside, &enc, &sig);
		buf_release(&t);
		if (c->o->scan_html && blocks > 0) {
			c->n_unprot += outside;
			c->n_enc += enc;
			c->inline_msgs += enc;
			c->n_sigonly += sig;
			return item_add(w, I_HTML, e);
		}
		if (outside) {
			c->n_unprot++;
			c->html_unprot++;
		}
		return 0;
	}
	if (name_is_pgp(e)) {
		enum sniff s;

		if (mime_entity_decode(e, &t, NULL, NULL) < 0) {
			buf_release(&t);
			c->n_unprot++;
			return 0;
		}
		s = sniff(t.data != NULL ? t.data : "", t.len);
		buf_release(&t);
		if (s == S_MSG) {
			c->n_enc++;
			return item_add(w, I_ATTACH, e);
		}
		if (s == S_KEY)
			return item_add(w, I_KEYS, e);
		if (s == S_SIG)
			return 0;
		c->n_unprot++;
		return 0;
	}
	{
		size_t len;
		const char *b = mime_entity_body(e, &len);

		if (b != NULL && !is_blank(b, len))
			c->n_unprot++;
	}
	buf_release(&t);
	return 0;
}

static int
keep_key(struct pgp_msg_in_ctx *c, const char *p, size_t len)
{
	struct pgp_msg_keyblock *v;

	c->r->flags |= PGP_MSG_R_KEYS_FOUND;
	/* never secret key material from mail, whatever the armor says */
	if (c->r->nkeys >= PGP_MSG_MAX_KEYS || len == 0 ||
	    len > PGP_MSG_KEY_MAX || !pgp_msg_key_is_public(p, len))
		return 0;
	v = realloc(c->r->keyv, (c->r->nkeys + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	c->r->keyv = v;
	if ((v[c->r->nkeys].data = malloc(len + 1)) == NULL)
		return -1;
	memcpy(v[c->r->nkeys].data, p, len);
	v[c->r->nkeys].data[len] = '\0';
	v[c->r->nkeys].len = len;
	c->r->nkeys++;
	return 0;
}

/* One piece of a rewritten text part. */
struct piece {
	const char *desc;
	char charset[64];
	struct buf text;
};

static struct mime_entity *
text_leaf(const struct piece *pc, const char **error_r)
{
	struct mime_entity *n;
	struct buf ct;

	buf_init(&ct, 1024);
	buf_puts(&ct, "text/plain");
	if (pc->charset[0] != '\0') {
		buf_puts(&ct, "; charset=");
		mime_param_quote(pc->charset, &ct);
	}
	n = mime_build_leaf(ct.data,
	    mime_has_8bit_or_nul(pc->text.data, pc->text.len) ?
	    MIME_CTE_QP : MIME_CTE_7BIT, pc->text.data != NULL ?
	    pc->text.data : "", pc->text.len, error_r);
	buf_release(&ct);
	if (n != NULL && mime_header_add(NULL, n, "Content-Description",
	    pc->desc, MIME_BOTTOM, error_r) < 0)
		mime_entity_free(&n);
	return n;
}

/* Replace e by the pieces: one leaf, or a multipart/mixed of them. */
static int
replace_with_pieces(struct pgp_msg_in_ctx *c, struct mime_entity *e,
    struct piece *pc, size_t n, const char **error_r)
{
	struct mime_entity *nw = NULL, *leaf;
	size_t i;

	if (n == 1) {
		nw = text_leaf(&pc[0], error_r);
		if (nw == NULL)
			return -1;
		if (e->parent != NULL && pgp_msg_copy_fields(e, nw, 0,
		    error_r) < 0)
			goto fail;
		/* the description is ours */
		mime_header_delete(NULL, nw, "Content-Description");
		if (mime_header_add(NULL, nw, "Content-Description",
		    pc[0].desc, MIME_BOTTOM, error_r) < 0)
			goto fail;
	} else {
		nw = mime_build_multipart("mixed", NULL, error_r);
		if (nw == NULL)
			return -1;
		for (i = 0; i < n; i++) {
			leaf = text_leaf(&pc[i], error_r);
			if (leaf == NULL)
				goto fail;
			if (mime_entity_add_child(nw, leaf, error_r) < 0) {
				mime_entity_free(&leaf);
				goto fail;
			}
		}
	}
	if (pgp_msg_replace(c->m, e, nw, error_r) < 0)
		return -1;
	c->r->flags |= PGP_MSG_R_CHANGED;
	return 0;
fail:
	mime_entity_free(&nw);
	return -1;
}

/*
 * Verify an inline-signed block (a cleartext signature, or a signed
 * "PGP MESSAGE"); text gets the signed text.  One layer.  0, or -1 on an
 * internal failure.
 */
static int
verify_inline(struct pgp_msg_in_ctx *c, const char *p, size_t len,
    struct buf *text,
    struct pgp_msg_tally *tl, const char **error_r)
{
	struct pgp_result res;
	const char *err = "";
	int r;

	memset(&res, 0, sizeof(res));
	r = pgp_verify(c->kr, &c->po, p, len, NULL, 0, text, &res, &err);
	if (r < 0 && res.status == PGP_E_INTERNAL) {
		pgp_result_release(&res);
		return err_set(error_r, "verify: %s", err);
	}
	if (r < 0 || res.nsigs == 0)
		r = pgp_msg_in_report_nosig(c, c->level, r < 0 ?
		    err_fmt("unreadable signature: %s", err) :
		    "no signature", error_r);
	else
		r = pgp_msg_in_report_sigs(c, &res, c->level, tl, error_r);
	pgp_result_release(&res);
	if (r < 0)
		return -1;
	c->level++;
	c->r->flags |= PGP_MSG_R_INLINE;
	if (tl->n > 0) {
		c->n_signed++;
		if (tl->valid != tl->n)
			c->inl_all_valid = 0;
		pgp_msg_in_tally_merge(&c->inl, tl);
	} else {
		c->inl_all_valid = 0;
	}
	return 0;
}

/* A verified block: the signed text (pgp.remove-signature) or the block
 * as it was, so the reader can verify it again. */
static int
keep_signed(struct pgp_msg_in_ctx *c, struct piece *q, const char *p,
    size_t len,
    const struct pgp_msg_tally *tl, int *changed)
{
	q->desc = PGP_MSG_DESC_SIG;
	if (c->o->remove_signature && tl->n > 0) {
		*changed = 1;
		c->r->flags |= PGP_MSG_R_SIGNATURE_REMOVED;
		return 0;
	}
	buf_reset(&q->text);
	return buf_append(&q->text, p, len);
}

/* Decrypt or verify the blocks of one text (or HTML) part. */
static int
do_text(struct pgp_msg_in_ctx *c, struct item *it, int decrypt_ok,
    const char **error_r)
{
	struct block b[MAX_BLOCKS];
	struct piece pc[MAX_BLOCKS];
	struct buf t, cs;
	char pcharset[64];
	size_t nb, np = 0, i;
	int changed = 0, rc = -1;

	buf_init(&t, 0);
	buf_init(&cs, 256);
	memset(pc, 0, sizeof(pc));
	pcharset[0] = '\0';
	if (it->kind == I_HTML) {
		/* HTML becomes text/plain pieces (UTF-8) when it changes */
		if (html_text(it->e, &t) < 0) {
			rc = 0;
			goto out;
		}
		snprintf(pcharset, sizeof(pcharset), "utf-8");
	} else {
		if (mime_entity_decode(it->e, &t, NULL, error_r) < 0)
			goto out;
		if (mime_entity_ctype_param(it->e, "charset", &cs) == 0 &&
		    cs.len < sizeof(pcharset))
			snprintf(pcharset, sizeof(pcharset), "%s", cs.data);
	}
	if (t.data == NULL && buf_append(&t, "", 0) < 0)
		goto out;
	nb = find_blocks(t.data, t.len, b, MAX_BLOCKS);
	for (i = 0; i < nb; i++) {
		const char *p = t.data + b[i].start;
		size_t len = b[i].end - b[i].start;
		struct piece *q = &pc[np];
		struct pgp_result res;
		struct pgp_msg_tally tl;
		const char *err = "";
		char charset[64];
		struct buf arm;
		int r;

		memset(&res, 0, sizeof(res));
		memset(&tl, 0, sizeof(tl));
		buf_init(&q->text, 0);
		snprintf(q->charset, sizeof(q->charset), "%s", pcharset);
		switch (b[i].kind) {
		case B_OUT:
			if (is_blank(p, len)) {
				buf_release(&q->text);
				continue;
			}
			q->desc = PGP_MSG_DESC_OUT;
			if (buf_append(&q->text, p, len) < 0)
				goto nomem_out;
			np++;
			continue;
		case B_KEY:
			buf_init(&arm, 0);
			if (armor_clean(p, len, &arm, charset,
			    sizeof(charset)) < 0 || keep_key(c, arm.data,
			    arm.len) < 0) {
				buf_release(&arm);
				goto nomem_out;
			}
			buf_release(&arm);
			if (c->o->remove_keys) {
				c->r->flags |= PGP_MSG_R_KEYS_REMOVED;
				changed = 1;
				buf_release(&q->text);
				continue;
			}
			q->desc = PGP_MSG_DESC_KEY;
			if (buf_append(&q->text, p, len) < 0)
				goto nomem_out;
			np++;
			continue;
		case B_SIG:
			if (verify_inline(c, p, len, &q->text, &tl,
			    error_r) < 0)
				goto out_piece;
			if (keep_signed(c, q, p, len, &tl, &changed) < 0)
				goto nomem_out;
			np++;
			continue;
		case B_MSG:
			q->desc = PGP_MSG_DESC_ENC;
			if (!decrypt_ok) {
				c->r->flags |= PGP_MSG_R_INLINE |
				    PGP_MSG_R_ENCRYPTED;
				if (buf_append(&q->text, p, len) < 0)
					goto nomem_out;
				np++;
				continue;
			}
			buf_init(&arm, 0);
			if (armor_clean(p, len, &arm, charset,
			    sizeof(charset)) < 0) {
				buf_release(&arm);
				goto nomem_out;
			}
			r = pgp_decrypt(c->kr, &c->po, arm.data, arm.len,
			    &q->text, &res, &err);
			if (r < 0 && res.status == PGP_E_NOT_ENCRYPTED) {
				/* a signed (not encrypted) "PGP MESSAGE" */
				pgp_result_release(&res);
				c->n_enc--;
				c->n_sigonly++;
				r = verify_inline(c, arm.data, arm.len,
				    &q->text, &tl, error_r);
				buf_release(&arm);
				if (r < 0)
					goto out_piece;
				if (keep_signed(c, q, p, len, &tl,
				    &changed) < 0)
					goto nomem_out;
				np++;
				continue;
			}
			buf_release(&arm);
			c->r->flags |= PGP_MSG_R_INLINE;
			if (res.encrypted || pgp_msg_is_encrypted(p, len))
				c->r->flags |= PGP_MSG_R_ENCRYPTED;
			if (pgp_msg_in_report_recipients(c, &res, c->level,
			    error_r) < 0) {
				pgp_result_release(&res);
				goto out_piece;
			}
			if (r < 0) {
				r = pgp_msg_in_decrypt_failed(c, &res, err,
				    error_r);
				pgp_result_release(&res);
				if (r < 0)
					goto out_piece;
				c->level++;
				c->inl_all_valid = 0;
				buf_reset(&q->text);
				if (buf_append(&q->text, p, len) < 0)
					goto nomem_out;
				np++;
				continue;
			}
			if (res.nsigs > 0 && pgp_msg_in_report_sigs(c, &res,
			    c->level,
			    &tl, error_r) < 0) {
				pgp_result_release(&res);
				goto out_piece;
			}
			pgp_result_release(&res);
			c->level++;
			if (tl.n > 0) {
				c->n_signed++;
				if (tl.valid != tl.n)
					c->inl_all_valid = 0;
				pgp_msg_in_tally_merge(&c->inl, &tl);
			}
			c->r->flags |= PGP_MSG_R_DECRYPTED;
			q->desc = PGP_MSG_DESC_DEC;
			/* the armor's charset describes the plaintext */
			if (charset[0] != '\0')
				snprintf(q->charset, sizeof(q->charset), "%s",
				    charset);
			changed = 1;
			np++;
			continue;
		}
	}
	rc = 0;
	if (changed && np == 0) {
		/* only keys, removed: an empty text part */
		pc[0].desc = PGP_MSG_DESC_OUT;
		snprintf(pc[0].charset, sizeof(pc[0].charset), "us-ascii");
		buf_init(&pc[0].text, 0);
		np = 1;
	}
	if (changed)
		rc = replace_with_pieces(c, it->e, pc, np, error_r);
	goto out;
nomem_out:
	pgp_msg_in_nomem(error_r);
out_piece:
out:
	for (i = 0; i < MAX_BLOCKS; i++)
		buf_release(&pc[i].text);
	buf_release(&t);
	buf_release(&cs);
	return rc;
}

static const char *
guess_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} tab[] = {
		{ ".txt", "text/plain" }, { ".htm", "text/html" },
		{ ".html", "text/html" }, { ".pdf", "application/pdf" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" }, { ".gif", "image/gif" },
		{ ".zip", "application/zip" },
	};
	size_t l = strlen(name), i;

	for (i = 0; i < sizeof(tab) / sizeof(*tab); i++) {
		size_t el = strlen(tab[i].ext);

		if (l > el && strcasecmp(name + l - el, tab[i].ext) == 0)
			return tab[i].type;
	}
	return "application/octet-stream";
}

static int
do_attach(struct pgp_msg_in_ctx *c, struct item *it, int decrypt_ok,
    const char **error_r)
{
	struct mime_entity *n = NULL;
	struct pgp_result res;
	struct pgp_msg_tally tl;
	struct buf in, plain, name;
	const char *err = "";
	int rc = -1, r;

	memset(&res, 0, sizeof(res));
	memset(&tl, 0, sizeof(tl));
	buf_init(&in, 0);
	buf_init(&plain, 0);
	buf_init(&name, 4096);
	c->r->flags |= PGP_MSG_R_INLINE;
	if (!decrypt_ok) {
		c->r->flags |= PGP_MSG_R_ENCRYPTED;
		rc = 0;
		goto out;
	}
	if (mime_entity_decode(it->e, &in, NULL, error_r) < 0)
		goto out;
	r = pgp_decrypt(c->kr, &c->po, in.data, in.len, &plain, &res, &err);
	if (r < 0 && res.status == PGP_E_NOT_ENCRYPTED) {
		/* a signed file: reported, left as it is */
		c->n_enc--;
		c->n_sigonly++;
		buf_reset(&plain);
		rc = verify_inline(c, in.data, in.len, &plain, &tl, error_r);
		goto out;
	}
	if (res.encrypted || pgp_msg_is_encrypted(in.data, in.len))
		c->r->flags |= PGP_MSG_R_ENCRYPTED;
	if (pgp_msg_in_report_recipients(c, &res, c->level, error_r) < 0)
		goto out;
	if (r < 0) {
		rc = pgp_msg_in_decrypt_failed(c, &res, err, error_r);
		c->level++;
		c->inl_all_valid = 0;
		goto out;
	}
	if (res.nsigs > 0 && pgp_msg_in_report_sigs(c, &res, c->level, &tl,
	    error_r) < 0)
		goto out;
	c->level++;
	if (tl.n > 0) {
		c->n_signed++;
		if (tl.valid != tl.n)
			c->inl_all_valid = 0;
		pgp_msg_in_tally_merge(&c->inl, &tl);
	}
	if (mime_entity_filename(it->e, &name) < 0 || name.len < 4) {
		buf_reset(&name);
		buf_puts(&name, "attachment");
	} else {
		name.data[name.len - 4] = '\0';
		name.len -= 4;
		if (name.len == 0)
			buf_puts(&name, "attachment");
	}
	n = mime_build_attachment(guess_type(name.data), name.data,
	    plain.data != NULL ? plain.data : "", plain.len, error_r);
	if (n == NULL)
		goto out;
	if (mime_header_add(NULL, n, "Content-Description", PGP_MSG_DESC_ATT,
	    MIME_BOTTOM, error_r) < 0)
		goto out;
	if (pgp_msg_replace(c->m, it->e, n, error_r) < 0) {
		n = NULL;
		goto out;
	}
	n = NULL;
	c->r->flags |= PGP_MSG_R_DECRYPTED | PGP_MSG_R_CHANGED;
	rc = 0;
out:
	mime_entity_free(&n);
	pgp_result_release(&res);
	buf_release(&in);
	buf_release(&plain);
	buf_release(&name);
	return rc;
}

static int
collect_key_part(struct pgp_msg_in_ctx *c, struct item *it,
    const char **error_r)
{
	struct buf d;
	int rc;

	buf_init(&d, PGP_MSG_KEY_MAX + 1);
	rc = mime_entity_decode(it->e, &d, NULL, NULL) < 0 ? 0 :
	    keep_key(c, d.data != NULL ? d.data : "", d.len);
	buf_release(&d);
	if (rc < 0)
		return pgp_msg_in_nomem(error_r);
	return 0;
}

/* ---- structural edits after the items ------------------------------------ */

/* Rebuild parent (a multipart) without the children marked in drop[]. */
static int
rebuild_without(struct mime_message *m, struct mime_entity *parent,
    struct mime_entity *const *drop, size_t ndrop, const char **error_r)
{
	struct mime_entity *nw = NULL, *ch, *copy;
	struct mime_ctype ct;
	const struct mime_field *f;
	struct buf v, params;
	size_t i;
	int rc = -1, kept = 0;

	memset(&ct, 0, sizeof(ct));
	buf_init(&v, FIELD_MAX);
	buf_init(&params, FIELD_MAX);
	f = mime_field_find(parent, "Content-Type", 0);
	if (f != NULL && mime_field_value(f, &v) == 0 &&
	    mime_ctype_parse(v.data != NULL ? v.data : "", v.len, 1,
	    &ct) < 0) {
		err_set(error_r, "out of memory");
		goto out;
	}
	for (i = 0; i < ct.nparams; i++) {
		if (strcmp(ct.params[i].name, "boundary") == 0)
			continue;
		if (params.len > 0)
			buf_puts(&params, "; ");
		buf_printf(&params, "%s=", ct.params[i].name);
		mime_param_quote(ct.params[i].value, &params);
	}
	nw = mime_build_multipart(parent->subtype != NULL ? parent->subtype :
	    "mixed", params.data, error_r);
	if (nw == NULL)
		goto out;
	for (ch = parent->children; ch != NULL; ch = ch->next) {
		for (i = 0; i < ndrop && drop[i] != ch; i++)
			;
		if (i < ndrop)
			continue;
		if ((copy = mime_entity_copy(m, ch, error_r)) == NULL)
			goto out;
		if (mime_entity_add_child(nw, copy, error_r) < 0) {
			mime_entity_free(&copy);
			goto out;
		}
		kept++;
	}
	if (kept == 0) {
		mime_entity_free(&nw);
		nw = mime_build_leaf("text/plain; charset=us-ascii",
		    MIME_CTE_7BIT, "", 0, error_r);
		if (nw == NULL)
			goto out;
	}
	if (pgp_msg_copy_fields(parent, nw, parent->parent == NULL,
	    error_r) < 0)
		goto out;
	rc = pgp_msg_replace(m, parent, nw, error_r);
	nw = NULL;
out:
	mime_entity_free(&nw);
	mime_ctype_release(&ct);
	buf_release(&v);
	buf_release(&params);
	return rc;
}

/* Key parts gone (pgp.remove-keys-from-mail), deepest parents first. */
static int
remove_key_parts(struct pgp_msg_in_ctx *c, struct walk *w, const char **error_r)
{
	struct mime_entity *drop[MAX_ITEMS];
	size_t i, j, n;
	int done[MAX_ITEMS];

	memset(done, 0, sizeof(done));
	for (;;) {
		struct mime_entity *parent = NULL;
		unsigned depth = 0;

		for (i = 0; i < w->n; i++)
			if (w->v[i].kind == I_KEYS && !done[i] &&
			    (parent == NULL || w->v[i].e->depth > depth)) {
				parent = w->v[i].e->parent;
				depth = w->v[i].e->depth;
			}
		if (depth == 0 && parent == NULL) {
			/* the root itself is a key: an empty message */
			for (i = 0; i < w->n; i++)
				if (w->v[i].kind == I_KEYS && !done[i])
					break;
			if (i == w->n)
				return 0;
			{
				struct mime_entity *e;

				e = mime_build_leaf("text/plain; "
				    "charset=us-ascii", MIME_CTE_7BIT, "", 0,
				    error_r);
				if (e == NULL || pgp_msg_replace(c->m,
				    c->m->root,
				    e, error_r) < 0)
					return -1;
			}
			c->r->flags |= PGP_MSG_R_KEYS_REMOVED |
			    PGP_MSG_R_CHANGED;
			return 0;
		}
		for (i = 0, n = 0; i < w->n; i++)
			if (w->v[i].kind == I_KEYS && !done[i] &&
			    w->v[i].e->parent == parent) {
				drop[n++] = w->v[i].e;
				done[i] = 1;
			}
		if (rebuild_without(c->m, parent, drop, n, error_r) < 0)
			return -1;
		c->r->flags |= PGP_MSG_R_KEYS_REMOVED | PGP_MSG_R_CHANGED;
		/* entities under the rebuilt parent are gone */
		for (j = 0; j < w->n; j++)
			if (!done[j] && w->v[j].kind == I_KEYS) {
				const struct mime_entity *a;

				for (a = w->v[j].e; a != NULL; a = a->parent)
					if (a == parent)
						break;
				if (a != NULL)
					done[j] = 1;
			}
	}
}

static int
has_desc(const struct mime_entity *e, const char *desc)
{
	struct buf v;
	int r;

	buf_init(&v, 1024);
	r = mime_header_get(e, "Content-Description", &v) == 0 &&
	    strcmp(v.data, desc) == 0;
	buf_release(&v);
	return r;
}

/* An HTML alternative that is nothing but armored ciphertext. */
static int
html_only_armor(const struct mime_entity *e)
{
	struct buf t;
	int blocks, outside, enc, sig, r = 0;

	if (!mime_entity_is(e, "text", "html") || e->children != NULL)
		return 0;
	buf_init(&t, 0);
	if (html_text(e, &t) == 0) {
		text_shape(t.data, t.len, &blocks, &outside, &enc, &sig);
		r = blocks > 0 && !outside;
	}
	buf_release(&t);
	return r;
}

/*
 * multipart/alternative whose text alternative we decrypted and whose
 * other alternatives are armored ciphertext in HTML: the decrypted text
 * alone (a reader would otherwise be shown the ciphertext).
 */
static int
collapse_alternatives(struct pgp_msg_in_ctx *c, const char **error_r)
{
	struct mime_entity *e, *ch, *text, *copy;
	unsigned guard = 0;

again:
	for (e = c->m->root; e != NULL; e = mime_entity_walk(c->m->root, e)) {
		int others_armor = 1;

		if (!mime_entity_is(e, "multipart", "alternative"))
			continue;
		text = NULL;
		for (ch = e->children; ch != NULL; ch = ch->next) {
			if (mime_entity_is(ch, "text", "plain") &&
			    has_desc(ch, PGP_MSG_DESC_DEC))
				text = ch;
			else if (!html_only_armor(ch))
				others_armor = 0;
		}
		if (text == NULL || !others_armor)
			continue;
		if (++guard > 100)
			return 0;
		copy = mime_entity_copy(c->m, text, error_r);
		if (copy == NULL || pgp_msg_replace(c->m, e, copy,
		    error_r) < 0)
			return -1;
		goto again;
	}
	return 0;
}

static struct mime_entity *
find_named(struct mime_entity *root, const char *name, const char *desc)
{
	struct mime_entity *e;
	struct buf n;

	buf_init(&n, 4096);
	for (e = root; e != NULL; e = mime_entity_walk(root, e)) {
		buf_reset(&n);
		if (e->children == NULL && has_desc(e, desc) &&
		    mime_entity_filename(e, &n) == 0 &&
		    strcasecmp(n.data, name) == 0)
			break;
	}
	buf_release(&n);
	return e;
}

/*
 * pgp.partitioned-fixup: PGP Desktop / Symantec sends the HTML version
 * of an inline-encrypted text body as the attachment PGPexch.htm.pgp.
 * Once both are decrypted, the text part and that HTML become one
 * multipart/alternative, and the attachment goes.
 */
static int
partitioned_fixup(struct pgp_msg_in_ctx *c, const char **error_r)
{
	struct mime_entity *html, *text, *alt = NULL, *a, *b;
	struct buf body;
	int rc = -1;

	html = find_named(c->m->root, "PGPexch.htm", PGP_MSG_DESC_ATT);
	if (html == NULL || html->parent == NULL)
		return 0;
	for (text = html->parent->children; text != NULL; text = text->next)
		if (mime_entity_is(text, "text", "plain") &&
		    has_desc(text, PGP_MSG_DESC_DEC))
			break;
	if (text == NULL)
		return 0;
	buf_init(&body, 0);
	if (mime_entity_decode(html, &body, NULL, error_r) < 0)
		goto out;
	alt = mime_build_multipart("alternative", NULL, error_r);
	if (alt == NULL)
		goto out;
	a = mime_entity_copy(c->m, text, error_r);
	if (a == NULL)
		goto out;
	if (mime_entity_add_child(alt, a, error_r) < 0) {
		mime_entity_free(&a);
		goto out;
	}
	b = mime_build_leaf("text/html", MIME_CTE_BASE64, body.data != NULL ?
	    body.data : "", body.len, error_r);
	if (b == NULL)
		goto out;
	if (mime_header_add(NULL, b, "Content-Description", PGP_MSG_DESC_DEC,
	    MIME_BOTTOM, error_r) < 0 || mime_entity_add_child(alt, b,
	    error_r) < 0) {
		mime_entity_free(&b);
		goto out;
	}
	if (pgp_msg_replace(c->m, text, alt, error_r) < 0) {
		alt = NULL;
		goto out;
	}
	alt = NULL;
	html = find_named(c->m->root, "PGPexch.htm", PGP_MSG_DESC_ATT);
	if (html != NULL && html->parent != NULL &&
	    rebuild_without(c->m, html->parent, &html, 1, error_r) < 0)
		goto out;
	c->r->flags |= PGP_MSG_R_CHANGED;
	rc = 0;
out:
	mime_entity_free(&alt);
	buf_release(&body);
	return rc;
}

int
pgp_msg_in_phase_inline(struct pgp_msg_in_ctx *c, const char **error_r)
{
	struct walk *w;
	size_t i;
	int decrypt_ok = 1, rc = -1, r;

	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return err_set(error_r, "out of memory");
	c->inl_all_valid = 1;
	if (classify(c, c->m->root, w, 0) < 0)
		goto out;
	if (w->n == 0) {
		rc = 0;
		goto out;
	}
	/* Efail: plaintext must not appear beside attacker HTML */
	if (!c->protected_root && c->html_unprot > 0 && c->n_enc > 0) {
		decrypt_ok = 0;
		c->r->flags |= PGP_MSG_R_DECRYPT_SKIPPED | PGP_MSG_R_MIXED;
	}
	for (i = 0; i < w->n; i++) {
		struct item *it = &w->v[i];

		switch (it->kind) {
		case I_TEXT:
		case I_HTML:
			r = do_text(c, it, decrypt_ok, error_r);
			break;
		case I_ATTACH:
			r = do_attach(c, it, decrypt_ok, error_r);
			break;
		case I_KEYS:
			r = collect_key_part(c, it, error_r);
			break;
		default:
			r = 0;
		}
		if (r < 0)
			goto out;
	}
	if (c->o->remove_keys && remove_key_parts(c, w, error_r) < 0)
		goto out;
	if ((c->r->flags & PGP_MSG_R_DECRYPTED) &&
	    collapse_alternatives(c, error_r) < 0)
		goto out;
	if (c->o->partitioned_fixup && (c->r->flags & PGP_MSG_R_DECRYPTED) &&
	    partitioned_fixup(c, error_r) < 0)
		goto out;
	rc = 0;
out:
	free(w);
	return rc;
}

/* ---- is there anything for us? ------------------------------------------- */

int
pgp_msg_inbound_wanted(const struct mime_message *m,
    const struct pgp_msg_opts *o)
{
	struct mime_entity *e;
	struct buf t;
	int want = 0, blocks, outside, enc, sig;

	buf_init(&t, 0);
	for (e = m->root; e != NULL && !want;
	    e = mime_entity_walk(m->root, e)) {
		if (mime_entity_kind(e) & (MIME_K_PGP_ENCRYPTED |
		    MIME_K_PGP_SIGNED)) {
			want = 1;
			break;
		}
		if (e->children != NULL || e->boundary != NULL)
			continue;
		if (mime_entity_is(e, "application", "pgp-keys") ||
		    mime_entity_is(e, "application", "pgp-encrypted") ||
		    name_is_pgp(e)) {
			want = 1;
			break;
		}
		buf_reset(&t);
		if (mime_entity_is(e, "text", "plain") &&
		    !pgp_msg_is_attachment(e) &&
		    mime_entity_decode(e, &t, NULL, NULL) == 0) {
			text_shape(t.data != NULL ? t.data : "", t.len, &blocks,
			    &outside, &enc, &sig);
			want = blocks > 0;
		} else if (o != NULL && o->scan_html &&
		    mime_entity_is(e, "text", "html") &&
		    !pgp_msg_is_attachment(e) && html_text(e, &t) == 0) {
			text_shape(t.data, t.len, &blocks, &outside, &enc,
			    &sig);
			want = blocks > 0;
		}
	}
	buf_release(&t);
	return want;
}

