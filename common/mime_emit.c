/*
 * mime_emit: header editing, replacing subtrees, building entities and
 * emitting a (possibly edited) message (see mime.h).
 *
 * Generated text (edited fields, built bodies) is kept with LF line ends
 * and written with the chosen EOL; input bytes are written as they are
 * (or with bare LF made CRLF for MIME_EMIT_CANONICAL).
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "err.h"
#include "mime.h"
#include "mime_codec.h"
#include "mime_int.h"

#define E_HDR 1		/* fields changed */
#define E_DIRTY 2	/* something in the subtree changed */

#define BOUNDARY_RANDOM 12	/* bytes of randomness, hex encoded */

/* ---- writer ----------------------------------------------------------- */

struct writer {
	mime_write_fn *fn;
	void *ctx;
	int canon;
	int lf;		/* generated lines end in LF */
	char last;	/* last byte written */
};

static int
w_out(struct writer *w, const char *d, size_t len)
{
	if (len == 0)
		return 0;
	if (w->fn(w->ctx, d, len) < 0)
		return -1;
	w->last = d[len - 1];
	return 0;
}

/* Input bytes: as they are, or bare LF -> CRLF when canonical. */
static int
w_raw(struct writer *w, const char *d, size_t len)
{
	size_t i, s = 0;

	if (!w->canon)
		return w_out(w, d, len);
	for (i = 0; i < len; i++) {
		char prev = i > 0 ? d[i - 1] : w->last;

		if (d[i] == '\n' && prev != '\r') {
			if (w_out(w, d + s, i - s) < 0 ||
			    w_out(w, "\r\n", 2) < 0)
				return -1;
			s = i + 1;
		}
	}
	return w_out(w, d + s, len - s);
}

/* Generated text with LF line ends (a CR before LF is dropped). */
static int
w_gen(struct writer *w, const char *d, size_t len)
{
	size_t i, s = 0;
	const char *eol = w->lf && !w->canon ? "\n" : "\r\n";

	for (i = 0; i < len; i++) {
		if (d[i] != '\n')
			continue;
		if (w_out(w, d + s, (i > s && d[i - 1] == '\r') ? i - 1 - s :
		    i - s) < 0 || w_out(w, eol, strlen(eol)) < 0)
			return -1;
		s = i + 1;
	}
	return w_out(w, d + s, len - s);
}

/* ---- small helpers -------------------------------------------------------- */

static void
mark_dirty(struct mime_entity *e)
{
	for (; e != NULL; e = e->parent)
		e->edit |= E_DIRTY;
}

static void
set_depths(struct mime_entity *e, unsigned depth)
{
	struct mime_entity *c;

	e->depth = depth;
	for (c = e->children; c != NULL; c = c->next)
		set_depths(c, depth + 1);
}

static unsigned
count_parts(struct mime_entity *root)
{
	struct mime_entity *e;
	unsigned n = 0;

	for (e = root; e != NULL; e = mime_entity_walk(root, e))
		n++;
	return n;
}

/* LF-only copy of s (CRLF -> LF), malloc'd. */
static char *
lf_dup(const char *s, size_t len, size_t *len_r)
{
	char *r = malloc(len + 1);
	size_t i, n = 0;

	if (r == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
			continue;
		r[n++] = s[i];
	}
	r[n] = '\0';
	*len_r = n;
	return r;
}

static int
valid_name(const char *name)
{
	const char *p;

	if (*name == '\0')
		return 0;
	for (p = name; *p != '\0'; p++)
		if ((unsigned char)*p <= 32 || (unsigned char)*p >= 127 ||
		    *p == ':')
			return 0;
	return 1;
}

/* Insert an owned field (raw with LF EOLs, taken) at index idx. */
static int
field_insert(struct mime_entity *e, size_t idx, char *raw, size_t len,
    size_t name_len)
{
	struct mime_field *n;

	n = realloc(e->fields, (e->nfields + 1) * sizeof(*n));
	if (n == NULL) {
		free(raw);
		return -1;
	}
	e->fields = n;
	memmove(&n[idx + 1], &n[idx], (e->nfields - idx) * sizeof(*n));
	n[idx].raw = raw;
	n[idx].raw_len = len;
	n[idx].name_len = name_len;
	n[idx].offset = (size_t)-1;
	n[idx].owned = 1;
	e->nfields++;
	return 0;
}

static void
field_remove(struct mime_entity *e, size_t idx)
{
	if (e->fields[idx].owned)
		free((char *)e->fields[idx].raw);
	memmove(&e->fields[idx], &e->fields[idx + 1],
	    (e->nfields - idx - 1) * sizeof(e->fields[0]));
	e->nfields--;
}

static int
field_is(const struct mime_field *f, const char *name)
{
	size_t nl = strlen(name);

	return f->name_len == nl && strncasecmp(f->raw, name, nl) == 0;
}

/* Re-read type/cte after Content-* fields changed. */
static int
reinterpret(struct mime_entity *e)
{
	const struct mime_field *ct = mime_field_find(e, "Content-Type", 0);
	const struct mime_field *cte =
	    mime_field_find(e, "Content-Transfer-Encoding", 0);
	struct buf a, b;
	int rc = -1;

	buf_init(&a, 0);
	buf_init(&b, 0);
	if (ct != NULL && mime_field_value(ct, &a) < 0)
		goto out;
	if (cte != NULL && mime_field_value(cte, &b) < 0)
		goto out;
	rc = mime_entity_interpret(e, ct != NULL ? a.data : NULL, a.len,
	    cte != NULL ? b.data : NULL, b.len);
out:
	buf_release(&a);
	buf_release(&b);
	return rc;
}

static int
is_content_field(const char *name)
{
	return strncasecmp(name, "content-", 8) == 0;
}

/* ---- header editing ---------------------------------------------------- */

static int
add_encoded(struct mime_message *m, struct mime_entity *e, const char *name,
    struct buf *field, enum mime_where where, int replace_at,
    const char **error_r)
{
	size_t len, idx;
	char *raw = buf_steal(field, &len);

	(void)m;
	if (raw == NULL)
		return err_set(error_r, "out of memory");
	if (replace_at >= 0) {
		idx = (size_t)replace_at;
		field_remove(e, idx);
	} else if (where == MIME_TOP) {
		idx = 0;
		/* after an mbox "From " pseudo field */
		if (e->nfields > 0 && e->fields[0].name_len == 0)
			idx = 1;
	} else
		idx = e->nfields;
	if (field_insert(e, idx, raw, len, strlen(name)) < 0)
		return err_set(error_r, "out of memory");
	e->edit |= E_HDR;
	mark_dirty(e);
	if (is_content_field(name) && reinterpret(e) < 0)
		return err_set(error_r, "out of memory");
	return 0;
}

int
mime_header_add(struct mime_message *m, struct mime_entity *e,
    const char *name, const char *value, enum mime_where where,
    const char **error_r)
{
	struct buf f;
	int rc;

	if (!valid_name(name))
		return err_set(error_r, "bad header name '%s'", name);
	buf_init(&f, 0);
	if (mime_header_encode(name, value, MIME_EOL_LF, &f) < 0) {
		buf_release(&f);
		return err_set(error_r, "out of memory");
	}
	rc = add_encoded(m, e, name, &f, where, -1, error_r);
	buf_release(&f);
	return rc;
}

int
mime_header_add_raw(struct mime_message *m, struct mime_entity *e,
    const char *name, const char *raw_value, enum mime_where where,
    const char **error_r)
{
	struct buf f;
	size_t i, len = strlen(raw_value);
	int rc;

	if (!valid_name(name))
		return err_set(error_r, "bad header name '%s'", name);
	for (i = 0; i < len; i++) {
		if (raw_value[i] == '\r' && !(i + 1 < len &&
		    raw_value[i + 1] == '\n'))
			return err_set(error_r, "bare CR in header value");
		if (raw_value[i] == '\n' && !(i + 1 < len &&
		    (raw_value[i + 1] == ' ' || raw_value[i + 1] == '\t')))
			return err_set(error_r, "line break without folding "
			    "white space in header value");
	}
	buf_init(&f, 0);
	if (buf_printf(&f, "%s: ", name) < 0 ||
	    buf_append(&f, raw_value, len) < 0 || buf_putc(&f, '\n') < 0) {
		buf_release(&f);
		return err_set(error_r, "out of memory");
	}
	rc = add_encoded(m, e, name, &f, where, -1, error_r);
	buf_release(&f);
	return rc;
}

int
mime_header_delete(struct mime_message *m, struct mime_entity *e,
    const char *name)
{
	size_t i = 0;
	int n = 0;

	(void)m;
	while (i < e->nfields) {
		if (field_is(&e->fields[i], name)) {
			field_remove(e, i);
			n++;
		} else
			i++;
	}
	if (n > 0) {
		e->edit |= E_HDR;
		mark_dirty(e);
		if (is_content_field(name))
			(void)reinterpret(e);
	}
	return n;
}

int
mime_header_replace(struct mime_message *m, struct mime_entity *e,
    const char *name, const char *value, const char **error_r)
{
	struct buf f;
	size_t i;
	int first = -1, rc;

	if (!valid_name(name))
		return err_set(error_r, "bad header name '%s'", name);
	for (i = 0; i < e->nfields; i++)
		if (field_is(&e->fields[i], name)) {
			first = (int)i;
			break;
		}
	if (first < 0)
		return mime_header_add(m, e, name, value, MIME_BOTTOM,
		    error_r);
	/* delete later ones first, so first keeps its index */
	for (i = e->nfields; i-- > (size_t)first + 1;)
		if (field_is(&e->fields[i], name))
			field_remove(e, i);
	buf_init(&f, 0);
	if (mime_header_encode(name, value, MIME_EOL_LF, &f) < 0) {
		buf_release(&f);
		return err_set(error_r, "out of memory");
	}
	rc = add_encoded(m, e, name, &f, MIME_BOTTOM, first, error_r);
	buf_release(&f);
	return rc;
}

/* ---- building ------------------------------------------------------------- */

static const char *
cte_name(enum mime_cte cte)
{
	switch (cte) {
	case MIME_CTE_8BIT:
		return "8bit";
	case MIME_CTE_BINARY:
		return "binary";
	case MIME_CTE_QP:
		return "quoted-printable";
	case MIME_CTE_BASE64:
		return "base64";
	default:
		return "7bit";
	}
}

static int
add_field_text(struct mime_entity *e, const char *name, const char *value)
{
	struct buf f;
	size_t len;
	char *raw;

	buf_init(&f, 0);
	if (buf_printf(&f, "%s: %s\n", name, value) < 0) {
		buf_release(&f);
		return -1;
	}
	raw = buf_steal(&f, &len);
	return field_insert(e, e->nfields, raw, len, strlen(name));
}

static struct mime_entity *
leaf_new(const char *content_type, enum mime_cte cte, const char **error_r)
{
	struct mime_entity *e = mime_entity_alloc();

	if (e == NULL) {
		err_set(error_r, "out of memory");
		return NULL;
	}
	if (add_field_text(e, "Content-Type", content_type) < 0 ||
	    add_field_text(e, "Content-Transfer-Encoding",
	    cte_name(cte)) < 0 || reinterpret(e) < 0) {
		mime_entity_free(&e);
		err_set(error_r, "out of memory");
		return NULL;
	}
	if (e->damage & MIME_D_BAD_CTYPE) {
		mime_entity_free(&e);
		err_set(error_r, "bad content type '%s'", content_type);
		return NULL;
	}
	return e;
}

/* Store body (already encoded): LF line ends unless binary. */
static int
store_body(struct mime_entity *e, const char *body, size_t len, int binary)
{
	size_t i;

	if (binary)
		return buf_append(&e->built_body, body, len);
	for (i = 0; i < len; i++) {
		if (body[i] == '\r' && i + 1 < len && body[i + 1] == '\n')
			continue;
		if (buf_putc(&e->built_body, body[i]) < 0)
			return -1;
	}
	return 0;
}

struct mime_entity *
mime_build_leaf_encoded(const char *content_type, enum mime_cte cte,
    const void *body, size_t len, const char **error_r)
{
	struct mime_entity *e = leaf_new(content_type, cte, error_r);

	if (e == NULL)
		return NULL;
	if (store_body(e, body, len, cte == MIME_CTE_BINARY) < 0) {
		mime_entity_free(&e);
		err_set(error_r, "out of memory");
		return NULL;
	}
	return e;
}

struct mime_entity *
mime_build_leaf(const char *content_type, enum mime_cte cte,
    const void *body, size_t len, const char **error_r)
{
	struct mime_entity *e = leaf_new(content_type, cte, error_r);
	int rc;

	if (e == NULL)
		return NULL;
	if (cte == MIME_CTE_BASE64)
		rc = mime_base64_encode(body, len, MIME_EOL_LF,
		    &e->built_body);
	else if (cte == MIME_CTE_QP)
		rc = mime_qp_encode(body, len, MIME_EOL_LF, &e->built_body);
	else
		rc = store_body(e, body, len, cte == MIME_CTE_BINARY);
	if (rc < 0) {
		mime_entity_free(&e);
		err_set(error_r, "out of memory");
		return NULL;
	}
	return e;
}

static int
random_boundary(char *out, size_t size)
{
	unsigned char r[BOUNDARY_RANDOM];
	size_t i;
	static const char hex[] = "0123456789abcdef";

	if (size < sizeof("=_postern_") + 2 * BOUNDARY_RANDOM)
		return -1;
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	strcpy(out, "=_postern_");
	for (i = 0; i < sizeof(r); i++) {
		out[10 + 2 * i] = hex[r[i] >> 4];
		out[11 + 2 * i] = hex[r[i] & 15];
	}
	out[10 + 2 * sizeof(r)] = '\0';
	return 0;
}

struct mime_entity *
mime_build_multipart(const char *subtype, const char *params,
    const char **error_r)
{
	struct mime_entity *e;
	char b[64];
	struct buf v;

	if (random_boundary(b, sizeof(b)) < 0) {
		err_set(error_r, "cannot get random bytes");
		return NULL;
	}
	if ((e = mime_entity_alloc()) == NULL) {
		err_set(error_r, "out of memory");
		return NULL;
	}
	buf_init(&v, 0);
	if (buf_printf(&v, "multipart/%s;\n\tboundary=\"%s\"", subtype, b) < 0 ||
	    (params != NULL && *params != '\0' &&
	    buf_printf(&v, ";\n\t%s", params) < 0) ||
	    add_field_text(e, "Content-Type", v.data) < 0 ||
	    reinterpret(e) < 0) {
		buf_release(&v);
		mime_entity_free(&e);
		err_set(error_r, "out of memory");
		return NULL;
	}
	buf_release(&v);
	if (e->boundary == NULL || !mime_entity_is(e, "multipart", "*") ||
	    (e->damage & MIME_D_BAD_CTYPE)) {
		mime_entity_free(&e);
		err_set(error_r, "bad multipart subtype '%s'", subtype);
		return NULL;
	}
	return e;
}

int
mime_entity_add_child(struct mime_entity *parent, struct mime_entity *child,
    const char **error_r)
{
	struct mime_entity **pp;

	if (parent->from_input || parent->boundary == NULL)
		return err_set(error_r, "not a built multipart");
	if (child->parent != NULL)
		return err_set(error_r, "entity is already attached");
	for (pp = &parent->children; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = child;
	child->parent = parent;
	parent->nchildren++;
	set_depths(child, parent->depth + 1);
	mark_dirty(parent);
	return 0;
}

#define PARAM_CHUNK 50	/* RFC 2231 sections keep lines under 78 */

/* Content-Disposition: attachment with the file name as one parameter,
 * or RFC 2231 sections (filename*0*=utf-8''%XX...; filename*1*=...) when
 * it is not printable ASCII or too long for one line. */
static int
disposition_value(const char *filename, struct buf *v)
{
	struct buf enc;
	size_t i, len = strlen(filename), pos, n, sec;
	int ascii = 1, rc = -1;

	for (i = 0; i < len; i++)
		if ((unsigned char)filename[i] < 0x20 ||
		    (unsigned char)filename[i] >= 0x7f)
			ascii = 0;
	if (buf_puts(v, "attachment;\n\t") < 0)
		return -1;
	if (ascii && len <= PARAM_CHUNK)
		return buf_puts(v, "filename=") < 0 ? -1 :
		    mime_param_quote(filename, v);
	/* percent-encode everything but attribute-chars */
	buf_init(&enc, 0);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)filename[i];

		if (isalnum(c) || strchr("!#$&+-.^_`|~", c) != NULL) {
			if (buf_putc(&enc, (char)c) < 0)
				goto out;
		} else if (buf_printf(&enc, "%%%02X", c) < 0)
			goto out;
	}
	for (pos = 0, sec = 0; pos < enc.len; pos += n, sec++) {
		n = enc.len - pos < PARAM_CHUNK ? enc.len - pos : PARAM_CHUNK;
		/* never cut a %XX */
		if (pos + n < enc.len) {
			if (enc.data[pos + n - 1] == '%')
				n -= 1;
			else if (n >= 2 && enc.data[pos + n - 2] == '%')
				n -= 2;
		}
		if (buf_printf(v, "%sfilename*%zu*=%s", sec > 0 ? ";\n\t" : "",
		    sec, sec == 0 ? "utf-8''" : "") < 0 ||
		    buf_append(v, enc.data + pos, n) < 0)
			goto out;
	}
	rc = 0;
out:
	buf_release(&enc);
	return rc;
}

struct mime_entity *
mime_build_attachment(const char *content_type, const char *filename,
    const void *body, size_t len, const char **error_r)
{
	struct mime_entity *e;
	struct buf v;

	e = mime_build_leaf(content_type, MIME_CTE_BASE64, body, len, error_r);
	if (e == NULL)
		return NULL;
	buf_init(&v, 0);
	if (disposition_value(filename, &v) < 0 ||
	    add_field_text(e, "Content-Disposition", v.data) < 0) {
		buf_release(&v);
		mime_entity_free(&e);
		err_set(error_r, "out of memory");
		return NULL;
	}
	buf_release(&v);
	return e;
}

struct mime_entity *
mime_build_pkcs7_mime(const char *smime_type, const void *der, size_t len,
    const char **error_r)
{
	struct buf ct;
	struct mime_entity *e;

	buf_init(&ct, 0);
	if (buf_printf(&ct, "application/pkcs7-mime; smime-type=%s;\n"
	    "\tname=\"smime.p7m\"", smime_type) < 0) {
		buf_release(&ct);
		err_set(error_r, "out of memory");
		return NULL;
	}
	e = mime_build_leaf(ct.data, MIME_CTE_BASE64, der, len, error_r);
	buf_release(&ct);
	if (e != NULL && add_field_text(e, "Content-Disposition",
	    "attachment; filename=\"smime.p7m\"") < 0) {
		mime_entity_free(&e);
		err_set(error_r, "out of memory");
	}
	return e;
}

struct mime_message *
mime_message_new_built(struct mime_entity *root, enum mime_eol eol)
{
	struct mime_message *m = calloc(1, sizeof(*m));
	struct mime_entity *e;

	if (m == NULL)
		return NULL;
	m->root = root;
	m->eol = eol;
	set_depths(root, 0);
	m->nparts = count_parts(root);
	for (e = root; e != NULL; e = mime_entity_walk(root, e))
		m->damage |= e->damage;
	return m;
}

/* ---- replacing ------------------------------------------------------------ */

static int
ensure_standalone(struct mime_entity **newp, const char **error_r)
{
	struct mime_entity *n = *newp, *c;

	if (!n->from_input || n->src_owned != NULL)
		return 0;
	/* bytes owned by someone else: take a copy */
	c = mime_entity_copy(NULL, n, error_r);
	if (c == NULL)
		return -1;
	mime_entity_free(newp);
	*newp = c;
	return 0;
}

int
mime_entity_replace(struct mime_message *m, struct mime_entity *old,
    struct mime_entity *new, const char **error_r)
{
	struct mime_entity **pp;

	if (new->parent != NULL)
		return err_set(error_r, "entity is already attached");
	if (ensure_standalone(&new, error_r) < 0)
		return -1;
	new->slot_start = old->slot_start;
	new->slot_end = old->slot_end;
	new->parent = old->parent;
	if (old->parent == NULL) {
		m->root = new;
	} else {
		for (pp = &old->parent->children; *pp != old;
		    pp = &(*pp)->next)
			;
		*pp = new;
		new->next = old->next;
	}
	old->next = NULL;
	old->parent = NULL;
	set_depths(new, new->parent != NULL ? new->parent->depth + 1 : 0);
	new->edit |= E_DIRTY;
	mark_dirty(new);
	mime_entity_free(&old);
	m->nparts = count_parts(m->root);
	return 0;
}

int
mime_entity_replace_content(struct mime_message *m, struct mime_entity *e,
    struct mime_entity *new, const char **error_r)
{
	struct mime_entity *c;
	size_t i;
	int rc = -1;

	if (new->parent != NULL)
		return err_set(error_r, "entity is already attached");
	if (ensure_standalone(&new, error_r) < 0)
		return -1;
	/* e's fields without Content-*, then new's Content-* (copied) */
	i = 0;
	while (i < e->nfields) {
		if (e->fields[i].name_len >= 8 &&
		    strncasecmp(e->fields[i].raw, "content-", 8) == 0)
			field_remove(e, i);
		else
			i++;
	}
	for (i = 0; i < new->nfields; i++) {
		const struct mime_field *f = &new->fields[i];
		size_t len;
		char *raw;

		if (!(f->name_len >= 8 &&
		    strncasecmp(f->raw, "content-", 8) == 0))
			continue;
		if ((raw = lf_dup(f->raw, f->raw_len, &len)) == NULL ||
		    field_insert(e, e->nfields, raw, len, f->name_len) < 0) {
			err_set(error_r, "out of memory");
			goto out;
		}
	}
	/* the body */
	for (c = e->children; c != NULL;) {
		struct mime_entity *n = c->next;

		mime_entity_free(&c);
		c = n;
	}
	e->children = new->children;
	e->nchildren = new->nchildren;
	new->children = NULL;
	for (c = e->children; c != NULL; c = c->next)
		c->parent = e;
	set_depths(e, e->depth);
	buf_release(&e->built_body);
	e->built_body = new->built_body;
	buf_init(&new->built_body, 0);
	free(e->src_owned);
	e->src_owned = new->src_owned;
	new->src_owned = NULL;
	e->src = new->src;
	e->from_input = new->from_input;
	e->start = new->start;
	e->header_len = new->header_len;
	e->body_start = new->body_start;
	e->end = new->end;
	free(e->type);
	free(e->subtype);
	free(e->boundary);
	e->type = new->type;
	e->subtype = new->subtype;
	e->boundary = new->boundary;
	new->type = new->subtype = new->boundary = NULL;
	e->cte = new->cte;
	e->damage = new->damage;
	e->edit |= E_HDR;
	mark_dirty(e);
	m->nparts = count_parts(m->root);
	rc = 0;
out:
	mime_entity_free(&new);
	return rc;
}

/* ---- emission ----------------------------------------------------------- */

static int
contains(const char *hay, size_t len, const char *needle, size_t nlen)
{
	return len >= nlen && memmem(hay, len, needle, nlen) != NULL;
}

/* Does "--boundary" occur anywhere under e (headers included)? */
static int
collides(const struct mime_entity *e, const char *b, size_t blen)
{
	const struct mime_entity *c;
	size_t i;

	if (e->from_input && !(e->edit & (E_HDR | E_DIRTY)))
		return contains(e->src + e->start, e->end - e->start, b, blen);
	for (i = 0; i < e->nfields; i++)
		if (contains(e->fields[i].raw, e->fields[i].raw_len, b, blen))
			return 1;
	if (e->built_body.len > 0 &&
	    contains(e->built_body.data, e->built_body.len, b, blen))
		return 1;
	if (e->from_input && e->children == NULL &&
	    contains(e->src + e->body_start, e->end - e->body_start, b, blen))
		return 1;
	if (e->boundary != NULL && !e->from_input &&
	    strstr(e->boundary, b + 2) != NULL)
		return 1;
	for (c = e->children; c != NULL; c = c->next)
		if (collides(c, b, blen))
			return 1;
	return 0;
}

/* A built multipart's boundary must not occur in its content; pick a
 * new one (same length, so the field is patched in place) if it does. */
static int
check_boundary(struct mime_entity *e, const char **error_r)
{
	char dash[80], nb[64];
	const struct mime_entity *c;
	size_t i, blen = strlen(e->boundary);
	int tries;

	for (tries = 0; tries < 8; tries++) {
		int hit = 0;

		if (blen + 3 > sizeof(dash))
			return 0;
		dash[0] = dash[1] = '-';
		memcpy(dash + 2, e->boundary, blen + 1);
		for (c = e->children; c != NULL && !hit; c = c->next)
			hit = collides(c, dash, blen + 2);
		if (!hit)
			return 0;
		if (random_boundary(nb, sizeof(nb)) < 0 || strlen(nb) != blen)
			return err_set(error_r, "cannot choose a boundary");
		for (i = 0; i < e->nfields; i++) {
			struct mime_field *f = &e->fields[i];
			char *p;

			if (f->owned && field_is(f, "Content-Type") &&
			    (p = memmem(f->raw, f->raw_len, e->boundary,
			    blen)) != NULL)
				memcpy(p, nb, blen);
		}
		memcpy(e->boundary, nb, blen);
	}
	return err_set(error_r, "cannot choose a boundary");
}

static int emit_entity(struct writer *w, struct mime_entity *e,
    int body_only, const char **error_r);

static int
emit_fields(struct writer *w, const struct mime_entity *e)
{
	size_t i;

	for (i = 0; i < e->nfields; i++) {
		const struct mime_field *f = &e->fields[i];

		if (f->owned) {
			if (w_gen(w, f->raw, f->raw_len) < 0)
				return -1;
		} else if (w_raw(w, f->raw, f->raw_len) < 0)
			return -1;
		if (f->raw_len == 0 || f->raw[f->raw_len - 1] != '\n')
			if (w_gen(w, "\n", 1) < 0)
				return -1;
	}
	return 0;
}

static int
emit_entity(struct writer *w, struct mime_entity *e, int body_only,
    const char **error_r)
{
	struct mime_entity *c;
	size_t pos;

	if (e->from_input && !(e->edit & (E_HDR | E_DIRTY))) {
		size_t s = body_only ? e->body_start : e->start;

		return w_raw(w, e->src + s, e->end - s);
	}
	/* a built multipart's boundary is settled before its header goes */
	if (!e->from_input && e->boundary != NULL &&
	    check_boundary(e, error_r) < 0)
		return -2;
	if (!body_only) {
		if (e->from_input && !(e->edit & E_HDR)) {
			if (w_raw(w, e->src + e->start,
			    e->body_start - e->start) < 0)
				return -1;
		} else {
			size_t sep = e->start + e->header_len;

			if (emit_fields(w, e) < 0)
				return -1;
			if (e->from_input && e->body_start > sep) {
				if (w_raw(w, e->src + sep,
				    e->body_start - sep) < 0)
					return -1;
			} else if (w_gen(w, "\n", 1) < 0)
				return -1;
		}
	}
	if (!e->from_input) {
		if (e->children == NULL && e->boundary == NULL) {
			if (e->cte == MIME_CTE_BINARY)
				return w_raw(w, e->built_body.data,
				    e->built_body.len);
			return w_gen(w, e->built_body.data, e->built_body.len);
		}
		if (e->boundary == NULL)
			return 0;
		for (c = e->children; c != NULL; c = c->next) {
			int r;

			if (w_gen(w, "--", 2) < 0 ||
			    w_gen(w, e->boundary, strlen(e->boundary)) < 0 ||
			    w_gen(w, "\n", 1) < 0)
				return -1;
			if ((r = emit_entity(w, c, 0, error_r)) < 0)
				return r;
			if (w_gen(w, "\n", 1) < 0)
				return -1;
		}
		if (w_gen(w, "--", 2) < 0 ||
		    w_gen(w, e->boundary, strlen(e->boundary)) < 0 ||
		    w_gen(w, "--\n", 3) < 0)
			return -1;
		return 0;
	}
	/* input entity with an edit below or in its header */
	pos = e->body_start;
	for (c = e->children; c != NULL; c = c->next) {
		int r;

		if (c->slot_start > pos &&
		    w_raw(w, e->src + pos, c->slot_start - pos) < 0)
			return -1;
		if ((r = emit_entity(w, c, 0, error_r)) < 0)
			return r;
		if (c->slot_end > pos)
			pos = c->slot_end;
	}
	if (e->end > pos && w_raw(w, e->src + pos, e->end - pos) < 0)
		return -1;
	return 0;
}

int
mime_emit(const struct mime_message *m, const struct mime_entity *e,
    unsigned flags, mime_write_fn *fn, void *ctx, const char **error_r)
{
	struct writer w;
	int r;

	memset(&w, 0, sizeof(w));
	w.fn = fn;
	w.ctx = ctx;
	w.canon = (flags & MIME_EMIT_CANONICAL) != 0;
	if (flags & MIME_EMIT_LF)
		w.lf = 1;
	else if (flags & MIME_EMIT_CRLF)
		w.lf = 0;
	else
		w.lf = m != NULL && m->eol == MIME_EOL_LF;
	if (e == NULL)
		e = m->root;
	r = emit_entity(&w, (struct mime_entity *)e,
	    (flags & MIME_EMIT_BODY_ONLY) != 0, error_r);
	if (r == -1)
		return err_set(error_r, "write failed");
	return r < 0 ? -1 : 0;
}

static int
buf_writer(void *ctx, const void *data, size_t len)
{
	return buf_append(ctx, data, len);
}

int
mime_emit_buf(const struct mime_message *m, const struct mime_entity *e,
    unsigned flags, struct buf *out, const char **error_r)
{
	if (mime_emit(m, e, flags, buf_writer, out, error_r) < 0)
		return -1;
	if (out->data == NULL && buf_append(out, "", 0) < 0)
		return err_set(error_r, "out of memory");
	return 0;
}

/* ---- copies --------------------------------------------------------------- */

struct mime_entity *
mime_entity_copy(const struct mime_message *m, const struct mime_entity *e,
    const char **error_r)
{
	struct buf b;
	struct mime_message *c;
	struct mime_entity *r;
	char *data;
	size_t len;

	buf_init(&b, 0);
	if (mime_emit_buf(m, e, 0, &b, error_r) < 0) {
		buf_release(&b);
		return NULL;
	}
	data = buf_steal(&b, &len);
	c = mime_parse(data, len, NULL, error_r);
	if (c == NULL) {
		free(data);
		return NULL;
	}
	r = c->root;
	c->root = NULL;
	mime_message_free(&c);
	r->src_owned = data;
	return r;
}
