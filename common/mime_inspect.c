/*
 * mime_inspect: body decoding, text extraction and classification of
 * crypto parts (see mime.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "err.h"
#include "mime.h"
#include "mime_codec.h"

#define INLINE_SCAN_MAX (1024 * 1024)

const char *
mime_entity_body(const struct mime_entity *e, size_t *len_r)
{
	if (e->from_input) {
		*len_r = e->end - e->body_start;
		return e->src + e->body_start;
	}
	if (e->children != NULL || e->boundary != NULL) {
		*len_r = 0;
		return NULL;
	}
	*len_r = e->built_body.len;
	return e->built_body.data != NULL ? e->built_body.data : "";
}

int
mime_entity_decode(const struct mime_entity *e, struct buf *out,
    unsigned *damage_r, const char **error_r)
{
	size_t len;
	const char *b = mime_entity_body(e, &len);
	int rc;

	if (b == NULL)
		return err_set(error_r, "entity has no leaf body");
	switch (e->cte) {
	case MIME_CTE_BASE64:
		rc = mime_base64_decode(b, len, out, damage_r);
		break;
	case MIME_CTE_QP:
		rc = mime_qp_decode(b, len, out, damage_r);
		break;
	default:
		rc = buf_append(out, b, len);
		break;
	}
	if (rc == 0 && out->data == NULL)
		rc = buf_append(out, "", 0);
	if (rc < 0)
		return err_set(error_r, "decoded body too large");
	return 0;
}

/* ---- HTML to text ---------------------------------------------------- */

static int
is_block(const char *n)
{
	static const char *const blocks[] = {
		"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5",
		"h6", "table", "ul", "ol", "blockquote", "pre", "hr", "title",
	};
	size_t i;

	for (i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		if (strcasecmp(n, blocks[i]) == 0)
			return 1;
	return 0;
}

static int
html_walk(xmlNode *n, struct buf *out, unsigned depth)
{
	for (; n != NULL; n = n->next) {
		if (n->type == XML_TEXT_NODE && n->content != NULL) {
			const char *t = (const char *)n->content;
			size_t i;

			/* collapse white space as a browser does */
			for (i = 0; t[i] != '\0'; i++) {
				char c = t[i];

				if (c == '\r' || c == '\n' || c == '\t')
					c = ' ';
				if (c == ' ' && (out->len == 0 ||
				    out->data[out->len - 1] == ' ' ||
				    out->data[out->len - 1] == '\n'))
					continue;
				if (buf_putc(out, c) < 0)
					return -1;
			}
		} else if (n->type == XML_ELEMENT_NODE && n->name != NULL) {
			const char *name = (const char *)n->name;
			int block = is_block(name);

			if (strcasecmp(name, "script") == 0 ||
			    strcasecmp(name, "style") == 0 ||
			    strcasecmp(name, "head") == 0)
				continue;
			if (block && out->len > 0 &&
			    out->data[out->len - 1] != '\n' &&
			    buf_putc(out, '\n') < 0)
				return -1;
			if (depth < 256 &&
			    html_walk(n->children, out, depth + 1) < 0)
				return -1;
			if (block && out->len > 0 &&
			    out->data[out->len - 1] != '\n' &&
			    buf_putc(out, '\n') < 0)
				return -1;
		}
	}
	return 0;
}

static int
html_to_text(const char *utf8, size_t len, struct buf *out)
{
	htmlDocPtr doc;
	struct buf tmp;
	int rc = 0;

	if (len == 0 || len > (size_t)0x7fffffff)
		return 0;
	doc = htmlReadMemory(utf8, (int)len, NULL, "UTF-8",
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	    HTML_PARSE_RECOVER);
	if (doc == NULL)
		return 0;
	buf_init(&tmp, out->max);
	rc = html_walk(xmlDocGetRootElement(doc), &tmp, 0);
	if (rc == 0)
		rc = buf_append(out, tmp.data != NULL ? tmp.data : "",
		    tmp.len);
	buf_release(&tmp);
	xmlFreeDoc(doc);
	return rc;
}

int
mime_entity_text(const struct mime_entity *e, int html, struct buf *out,
    unsigned *damage_r, const char **error_r)
{
	struct buf raw, charset, utf8;
	int rc = -1;

	buf_init(&raw, out->max);
	buf_init(&charset, 256);
	buf_init(&utf8, out->max);
	if (mime_entity_decode(e, &raw, damage_r, error_r) < 0)
		goto out;
	(void)mime_entity_ctype_param(e, "charset", &charset);
	if (mime_charset_to_utf8(charset.data, raw.data, raw.len, &utf8,
	    damage_r) < 0) {
		err_set(error_r, "text too large");
		goto out;
	}
	if (html && mime_entity_is(e, "text", "html")) {
		if (html_to_text(utf8.data, utf8.len, out) < 0) {
			err_set(error_r, "text too large");
			goto out;
		}
	} else if (buf_append(out, utf8.data != NULL ? utf8.data : "",
	    utf8.len) < 0) {
		err_set(error_r, "text too large");
		goto out;
	}
	if (out->data == NULL)
		(void)buf_append(out, "", 0);
	rc = 0;
out:
	buf_release(&raw);
	buf_release(&charset);
	buf_release(&utf8);
	return rc;
}

static int
is_crypto_container(const struct mime_entity *e)
{
	return mime_entity_kind(e) != 0;
}

/* Pre-order successor of e that skips e's children. */
static struct mime_entity *
skip_subtree(struct mime_entity *root, struct mime_entity *e)
{
	while (e != NULL && e != root) {
		if (e->next != NULL)
			return e->next;
		e = e->parent;
	}
	return NULL;
}

int
mime_message_text(const struct mime_message *m, struct buf *out,
    unsigned *damage_r, const char **error_r)
{
	struct mime_entity *e, *root = m->root;
	struct buf tmp, disp;
	int rc = -1;

	buf_init(&tmp, 0);
	buf_init(&disp, 256);
	if (mime_header_get(root, "Subject", &tmp) == 0) {
		if (buf_append(out, tmp.data, tmp.len) < 0 ||
		    buf_puts(out, "\n\n") < 0)
			goto toolarge;
	}
	for (e = root; e != NULL;) {
		/* crypto payloads are not descended */
		int opaque = is_crypto_container(e);

		if (e->children != NULL && !opaque) {
			e = e->children;
			continue;
		}
		buf_reset(&tmp);
		buf_reset(&disp);
		(void)mime_entity_disposition(e, &disp);
		if (mime_entity_filename(e, &tmp) == 0) {
			if (buf_printf(out, "[attachment: %s]\n\n",
			    tmp.data) < 0)
				goto toolarge;
		} else if (!(disp.len > 0 &&
		    strcmp(disp.data, "attachment") == 0) &&
		    e->children == NULL &&
		    (mime_entity_is(e, "text", "plain") ||
		    mime_entity_is(e, "text", "html"))) {
			buf_reset(&tmp);
			if (mime_entity_text(e, 1, &tmp, damage_r,
			    error_r) < 0)
				goto out;
			if (buf_append(out, tmp.data, tmp.len) < 0 ||
			    buf_puts(out, "\n\n") < 0)
				goto toolarge;
		}
		e = skip_subtree(root, e);
	}
	if (out->data == NULL)
		(void)buf_append(out, "", 0);
	rc = 0;
	goto out;
toolarge:
	err_set(error_r, "text too large");
out:
	buf_release(&tmp);
	buf_release(&disp);
	return rc;
}

/* ---- classification ------------------------------------------------- */

static int
param_is(const struct mime_entity *e, const char *param, const char *value)
{
	struct buf v;
	int r;

	buf_init(&v, 1024);
	r = mime_entity_ctype_param(e, param, &v) == 0 &&
	    strcasecmp(v.data, value) == 0;
	buf_release(&v);
	return r;
}

static int
name_ends_p7m(const struct mime_entity *e)
{
	struct buf v;
	int r = 0;

	buf_init(&v, 4096);
	if (mime_entity_filename(e, &v) == 0 && v.len >= 4)
		r = strcasecmp(v.data + v.len - 4, ".p7m") == 0;
	buf_release(&v);
	return r;
}

unsigned
mime_entity_kind(const struct mime_entity *e)
{
	struct buf v;
	unsigned k = 0;

	if (mime_entity_is(e, "application", "pkcs7-mime") ||
	    mime_entity_is(e, "application", "x-pkcs7-mime")) {
		buf_init(&v, 1024);
		if (mime_entity_ctype_param(e, "smime-type", &v) == 0) {
			if (strcasecmp(v.data, "enveloped-data") == 0)
				k = MIME_K_SMIME_ENVELOPED;
			else if (strcasecmp(v.data, "authenveloped-data") == 0)
				k = MIME_K_SMIME_AUTH_ENVELOPED;
			else if (strcasecmp(v.data, "signed-data") == 0)
				k = MIME_K_SMIME_OPAQUE_SIGNED;
			else if (strcasecmp(v.data, "certs-only") == 0)
				k = MIME_K_SMIME_CERTS_ONLY;
			else
				k = MIME_K_SMIME_UNKNOWN;
		} else
			k = MIME_K_SMIME_UNKNOWN;
		buf_release(&v);
		return k;
	}
	if (mime_entity_is(e, "application", "octet-stream") &&
	    name_ends_p7m(e))
		return MIME_K_SMIME_UNKNOWN;
	if (mime_entity_is(e, "multipart", "signed")) {
		const struct mime_entity *sig = e->children != NULL ?
		    e->children->next : NULL;

		if (param_is(e, "protocol", "application/pkcs7-signature") ||
		    param_is(e, "protocol", "application/x-pkcs7-signature") ||
		    (sig != NULL && (mime_entity_is(sig, "application",
		    "pkcs7-signature") || mime_entity_is(sig, "application",
		    "x-pkcs7-signature"))))
			return MIME_K_SMIME_SIGNED;
		if (param_is(e, "protocol", "application/pgp-signature") ||
		    (sig != NULL && mime_entity_is(sig, "application",
		    "pgp-signature")))
			return MIME_K_PGP_SIGNED;
		return 0;
	}
	if (mime_entity_is(e, "multipart", "encrypted")) {
		if (param_is(e, "protocol", "application/pgp-encrypted") ||
		    (e->children != NULL && mime_entity_is(e->children,
		    "application", "pgp-encrypted")))
			return MIME_K_PGP_ENCRYPTED;
	}
	return 0;
}

/* Does the text contain "-----BEGIN PGP <what>-----" at a line start? */
static int
has_armor(const char *t, size_t len, const char *what)
{
	char needle[64];
	size_t nl, i;

	nl = (size_t)snprintf(needle, sizeof(needle), "-----BEGIN PGP %s-----",
	    what);
	for (i = 0; i + nl <= len; i++) {
		const char *p = memchr(t + i, '-', len - i);

		if (p == NULL)
			break;
		i = (size_t)(p - t);
		if (i + nl > len)
			break;
		if ((i == 0 || t[i - 1] == '\n') &&
		    memcmp(t + i, needle, nl) == 0)
			return 1;
	}
	return 0;
}

static void
add_part(struct mime_inspect *r, enum mime_kind kind, struct mime_entity *e)
{
	struct buf path;
	struct mime_crypto_part *p;

	r->kinds |= kind;
	if (r->nparts >= MIME_INSPECT_MAX) {
		r->truncated = 1;
		return;
	}
	p = &r->parts[r->nparts++];
	p->kind = kind;
	p->entity = e;
	p->is_root = e->parent == NULL;
	buf_init(&path, sizeof(p->path) - 1);
	mime_entity_path(e, &path);
	snprintf(p->path, sizeof(p->path), "%s",
	    path.data != NULL ? path.data : "");
	buf_release(&path);
}

static void
inline_pgp(struct mime_inspect *r, struct mime_entity *e)
{
	struct buf t;
	const char *text;
	size_t n;

	buf_init(&t, INLINE_SCAN_MAX + 8192);
	if (e->cte == MIME_CTE_BASE64 || e->cte == MIME_CTE_QP) {
		(void)mime_entity_decode(e, &t, NULL, NULL);
		text = t.data;
		n = t.len;
	} else
		text = mime_entity_body(e, &n);
	if (text != NULL) {
		if (n > INLINE_SCAN_MAX)
			n = INLINE_SCAN_MAX;
		if (has_armor(text, n, "MESSAGE"))
			add_part(r, MIME_K_PGP_INLINE_ENCRYPTED, e);
		if (has_armor(text, n, "SIGNED MESSAGE"))
			add_part(r, MIME_K_PGP_INLINE_SIGNED, e);
	}
	buf_release(&t);
}

void
mime_inspect(const struct mime_message *m, struct mime_inspect *r)
{
	struct mime_entity *e;

	memset(r, 0, sizeof(*r));
	for (e = m->root; e != NULL; e = mime_entity_walk(m->root, e)) {
		unsigned k = mime_entity_kind(e);

		if (k != 0)
			add_part(r, (enum mime_kind)k, e);
		if (mime_entity_is(e, "text", "calendar"))
			add_part(r, MIME_K_CALENDAR, e);
		if (mime_entity_is(e, "text", "plain") && e->children == NULL)
			inline_pgp(r, e);
	}
}
