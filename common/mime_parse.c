/*
 * mime_parse: the push parser, the tree and header access (see mime.h).
 *
 * The parser is line driven: feed() cuts the input at LF and hands each
 * line (its first LINE_KEEP bytes, its full length and its EOL length)
 * to line(); nothing else depends on chunk borders, so every chunking
 * gives the same tree.  Entities record offsets only; field bytes are
 * copied for Content-Type and Content-Transfer-Encoding (needed to know
 * the boundary before the input is contiguous) and are bounded by the
 * header limits.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "err.h"
#include "mime.h"
#include "mime_codec.h"
#include "mime_int.h"
#include "str.h"

#define BODY_LINE_KEEP 1024	/* enough for any delimiter line we match */
#define BOUNDARY_RFC_MAX 70
#define FIELDS_TOTAL_MAX 100000	/* fields recorded per message */

enum pstate {
	P_HEADER,
	P_BODY,
};

struct open_mp {
	struct mime_entity *e;
	size_t blen;
};

struct mime_parser {
	struct mime_limits lim;
	struct mime_message *m;
	size_t off;		/* bytes fed */
	int failed;

	/* current line */
	char *line;
	size_t line_cap;	/* bytes kept of a line */
	size_t line_alloc;	/* bytes allocated for line (grows) */
	size_t line_kept;
	size_t line_len;	/* full length so far (LF excluded) */
	size_t line_start;
	int last_cr;		/* the last byte of the line so far is CR */

	size_t prev_eol;	/* EOL length of the previous line */
	int seen_lf, seen_crlf, first_eol_done;

	/* where we are */
	struct mime_entity *cur;
	enum pstate state;
	struct open_mp *stack;
	size_t nstack, stack_cap;
	int stop_splitting;	/* part limit reached */
	size_t nfields_total;

	/* current header block */
	size_t hdr_bytes;
	int hdr_full;		/* stop recording fields */
	int cur_field;		/* index of the open field, -1 none */
	int keep_field;		/* 0 none, 1 content-type, 2 cte */
	struct buf ct, cte;	/* copies of the two fields' values */
	unsigned nct, ncte;
};

void
mime_limits_default(struct mime_limits *lim)
{
	lim->max_depth = 32;
	lim->max_parts = 2000;
	lim->max_header_line = 64 * 1024;
	lim->max_header_size = 1024 * 1024;
}

void
mime_limits_from_config(struct mime_limits *lim, const struct config *cfg)
{
	lim->max_depth = (unsigned)config_int(cfg, "mime_max_depth");
	lim->max_parts = (unsigned)config_int(cfg, "mime_max_parts");
	lim->max_header_line = (size_t)config_int(cfg, "mime_max_header_line");
	lim->max_header_size = (size_t)config_int(cfg, "mime_max_header_size");
}

static const char *const damage_names[] = {
	"header-line-long", "header-too-big", "header-garbage",
	"header-no-end", "depth", "parts", "no-boundary", "no-close",
	"bad-content-type", "bad-transfer-encoding", "dup-content-type",
	"base64", "quoted-printable", "charset", "encoded-word",
	"mixed-eol", "nul", "8bit-header", "boundary-long", "no-parts",
};

void
mime_damage_names(unsigned damage, struct buf *out)
{
	size_t i;
	int first = 1;

	for (i = 0; i < sizeof(damage_names) / sizeof(damage_names[0]); i++)
		if (damage & (1u << i)) {
			if (!first)
				(void)buf_putc(out, ',');
			(void)buf_puts(out, damage_names[i]);
			first = 0;
		}
}

/* ---- entities --------------------------------------------------------- */

struct mime_entity *
mime_entity_alloc(void)
{
	struct mime_entity *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	buf_init(&e->built_body, 0);
	return e;
}

void
mime_entity_free(struct mime_entity **ep)
{
	struct mime_entity *e = *ep, *c, *n;
	size_t i;

	if (e == NULL)
		return;
	for (c = e->children; c != NULL; c = n) {
		n = c->next;
		mime_entity_free(&c);
	}
	for (i = 0; i < e->nfields; i++)
		if (e->fields[i].owned)
			free((char *)e->fields[i].raw);
	free(e->fields);
	free(e->type);
	free(e->subtype);
	free(e->boundary);
	buf_release(&e->built_body);
	free(e->src_owned);
	free(e);
	*ep = NULL;
}

void
mime_message_free(struct mime_message **mp)
{
	struct mime_message *m = *mp;

	if (m == NULL)
		return;
	mime_entity_free(&m->root);
	free(m);
	*mp = NULL;
}

static void
append_child(struct mime_entity *parent, struct mime_entity *c)
{
	struct mime_entity **pp = &parent->children;

	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = c;
	c->parent = parent;
	c->depth = parent->depth + 1;
	parent->nchildren++;
}

static char *
xstrdup_lower(const char *s)
{
	char *r = strdup(s);

	return r != NULL ? str_lower(r) : NULL;
}

static enum mime_cte
cte_parse(const char *v, size_t len, unsigned *damage)
{
	static const struct {
		const char *name;
		enum mime_cte cte;
	} t[] = {
		{ "7bit", MIME_CTE_7BIT }, { "8bit", MIME_CTE_8BIT },
		{ "binary", MIME_CTE_BINARY },
		{ "quoted-printable", MIME_CTE_QP },
		{ "base64", MIME_CTE_BASE64 },
	};
	size_t a = 0, b = len, i;

	while (a < b && isspace((unsigned char)v[a]))
		a++;
	while (b > a && (isspace((unsigned char)v[b - 1]) || v[b - 1] == ';'))
		b--;
	/* drop a comment: "base64 (foo)" */
	for (i = a; i < b; i++)
		if (v[i] == '(' || isspace((unsigned char)v[i])) {
			b = i;
			break;
		}
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strlen(t[i].name) == b - a &&
		    strncasecmp(v + a, t[i].name, b - a) == 0)
			return t[i].cte;
	*damage |= MIME_D_BAD_CTE;
	return MIME_CTE_UNKNOWN;
}

/*
 * Set type/subtype/boundary/cte of e from the values of its (first)
 * Content-Type and Content-Transfer-Encoding fields; NULL when absent.
 * RFC 2045 defaults: text/plain, or message/rfc822 in multipart/digest;
 * an unparsable Content-Type is text/plain (5.2).  -1 on no memory.
 */
int
mime_entity_interpret(struct mime_entity *e, const char *ct, size_t ctlen,
    const char *cte, size_t ctelen)
{
	struct mime_ctype c;
	int digest = e->parent != NULL &&
	    mime_entity_is(e->parent, "multipart", "digest");
	const char *b;

	free(e->type);
	free(e->subtype);
	free(e->boundary);
	e->type = e->subtype = e->boundary = NULL;
	memset(&c, 0, sizeof(c));
	if (ct != NULL) {
		if (mime_ctype_parse(ct, ctlen, 1, &c) < 0)
			return -1;
		e->damage |= c.damage & MIME_D_BAD_CTYPE;
	}
	if (c.type != NULL) {
		e->type = c.type;
		e->subtype = c.subtype;
		c.type = c.subtype = NULL;
	} else {
		e->type = strdup(digest && ct == NULL ? "message" : "text");
		e->subtype = strdup(digest && ct == NULL ? "rfc822" : "plain");
	}
	if (e->type == NULL || e->subtype == NULL) {
		mime_ctype_release(&c);
		return -1;
	}
	if (strcmp(e->type, "multipart") == 0) {
		b = mime_ctype_param(&c, "boundary");
		if (b == NULL || *b == '\0')
			e->damage |= MIME_D_NO_BOUNDARY;
		else {
			if (strlen(b) > BOUNDARY_RFC_MAX)
				e->damage |= MIME_D_BOUNDARY_LONG;
			if (strlen(b) + 4 < BODY_LINE_KEEP &&
			    (e->boundary = strdup(b)) == NULL) {
				mime_ctype_release(&c);
				return -1;
			}
		}
	}
	mime_ctype_release(&c);
	e->cte = cte != NULL ? cte_parse(cte, ctelen, &e->damage) :
	    MIME_CTE_7BIT;
	if (e->type == NULL || e->subtype == NULL)
		return -1;
	(void)xstrdup_lower;
	return 0;
}

/* ---- parser --------------------------------------------------------- */

struct mime_parser *
mime_parser_new(const struct mime_limits *lim)
{
	struct mime_parser *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if (lim != NULL)
		p->lim = *lim;
	else
		mime_limits_default(&p->lim);
	if (p->lim.max_header_line < 1)
		p->lim.max_header_line = 1;
	p->line_cap = p->lim.max_header_line > BODY_LINE_KEEP ?
	    p->lim.max_header_line : BODY_LINE_KEEP;
	buf_init(&p->ct, p->lim.max_header_size + 1);
	buf_init(&p->cte, p->lim.max_header_size + 1);
	p->line_alloc = BODY_LINE_KEEP;
	p->line = malloc(p->line_alloc + 1);
	p->m = calloc(1, sizeof(*p->m));
	if (p->line == NULL || p->m == NULL ||
	    (p->m->root = mime_entity_alloc()) == NULL) {
		mime_parser_free(&p);
		return NULL;
	}
	p->m->root->from_input = 1;
	p->m->nparts = 1;
	p->cur = p->m->root;
	p->state = P_HEADER;
	p->cur_field = -1;
	return p;
}

void
mime_parser_free(struct mime_parser **pp)
{
	struct mime_parser *p = *pp;

	if (p == NULL)
		return;
	mime_message_free(&p->m);
	free(p->line);
	free(p->stack);
	buf_release(&p->ct);
	buf_release(&p->cte);
	free(p);
	*pp = NULL;
}

static int
field_add(struct mime_parser *p, struct mime_entity *e, size_t off,
    size_t name_len)
{
	struct mime_field *n;

	if ((e->nfields & (e->nfields - 1)) == 0 || e->nfields == 0) {
		size_t cap = e->nfields == 0 ? 8 : e->nfields * 2;

		if (e->nfields == 0 || e->nfields >= 8) {
			n = realloc(e->fields, cap * sizeof(*n));
			if (n == NULL)
				return -1;
			e->fields = n;
		}
	}
	memset(&e->fields[e->nfields], 0, sizeof(e->fields[0]));
	e->fields[e->nfields].offset = off;
	e->fields[e->nfields].name_len = name_len;
	e->nfields++;
	p->nfields_total++;
	return 0;
}

/* The header block of p->cur ends at hend (the body starts at bstart). */
static int
header_end(struct mime_parser *p, size_t hend, size_t bstart)
{
	struct mime_entity *e = p->cur;

	if (p->cur_field >= 0)
		e->fields[p->cur_field].raw_len =
		    hend - e->fields[p->cur_field].offset;
	p->cur_field = -1;
	p->keep_field = 0;
	e->header_len = hend - e->start;
	e->body_start = bstart;
	if (p->nct > 1)
		e->damage |= MIME_D_DUP_CTYPE;
	if (mime_entity_interpret(e, p->nct > 0 ? p->ct.data : NULL,
	    p->ct.len, p->ncte > 0 ? p->cte.data : NULL, p->cte.len) < 0)
		return -1;
	buf_reset(&p->ct);
	buf_reset(&p->cte);
	p->nct = p->ncte = 0;
	p->hdr_bytes = 0;
	p->hdr_full = 0;
	p->state = P_BODY;
	return 0;
}

static struct mime_entity *
new_child(struct mime_parser *p, struct mime_entity *parent, size_t start)
{
	struct mime_entity *c;

	if (p->m->nparts >= p->lim.max_parts) {
		parent->damage |= MIME_D_PARTS;
		p->stop_splitting = 1;
		return NULL;
	}
	if ((c = mime_entity_alloc()) == NULL) {
		p->failed = 1;
		return NULL;
	}
	c->from_input = 1;
	c->start = c->body_start = c->end = start;
	append_child(parent, c);
	p->m->nparts++;
	return c;
}

/* After the header of p->cur: decide how its body is parsed. */
static int
body_begin(struct mime_parser *p)
{
	struct mime_entity *e = p->cur, *c;

	if (strcmp(e->type, "multipart") == 0 && e->boundary != NULL &&
	    !p->stop_splitting) {
		struct open_mp *n;

		if (e->depth + 1 > p->lim.max_depth) {
			e->damage |= MIME_D_DEPTH;
			return 0;
		}
		if (p->nstack == p->stack_cap) {
			size_t cap = p->stack_cap ? p->stack_cap * 2 : 8;

			if ((n = realloc(p->stack, cap * sizeof(*n))) == NULL)
				return -1;
			p->stack = n;
			p->stack_cap = cap;
		}
		p->stack[p->nstack].e = e;
		p->stack[p->nstack].blen = strlen(e->boundary);
		p->nstack++;
		return 0;
	}
	if (strcmp(e->type, "message") == 0 &&
	    (strcmp(e->subtype, "rfc822") == 0 ||
	    strcmp(e->subtype, "global") == 0) &&
	    e->cte != MIME_CTE_BASE64 && e->cte != MIME_CTE_QP &&
	    !p->stop_splitting) {
		if (e->depth + 1 > p->lim.max_depth) {
			e->damage |= MIME_D_DEPTH;
			return 0;
		}
		c = new_child(p, e, e->body_start);
		if (c == NULL)
			return p->failed ? -1 : 0;
		p->cur = c;
		p->state = P_HEADER;
	}
	return 0;
}

/* Close every open entity from p->cur up to (not including) upto at
 * offset end; entities still in their header get it closed there. */
static int
close_to(struct mime_parser *p, struct mime_entity *upto, size_t end)
{
	struct mime_entity *e;

	for (e = p->cur; e != NULL && e != upto; e = e->parent) {
		size_t x = end < e->start ? e->start : end;

		if (e == p->cur && p->state == P_HEADER) {
			if (x > e->start)
				e->damage |= MIME_D_HEADER_NO_END;
			if (header_end(p, x, x) < 0)
				return -1;
		}
		if (x < e->body_start)
			x = e->body_start;
		e->end = x;
	}
	return 0;
}

/* Is the line a delimiter of stack entry k? 1 open, 2 close, 0 no. */
static int
delim_match(struct mime_parser *p, size_t k, const char *l, size_t len)
{
	const struct open_mp *o = &p->stack[k];
	size_t i;

	if (len < o->blen + 2 || memcmp(l + 2, o->e->boundary, o->blen) != 0)
		return 0;
	i = o->blen + 2;
	if (len - i >= 2 && l[i] == '-' && l[i + 1] == '-')
		return 2;
	for (; i < len; i++)
		if (l[i] != ' ' && l[i] != '\t' && l[i] != '\r')
			return 0;
	return 1;
}

static int
is_field_start(const char *l, size_t len, size_t *name_len_r)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)l[i];

		if (c == ':')
			break;
		if (c <= 32 || c >= 127)
			break;
	}
	if (i == 0)
		return 0;
	*name_len_r = i;
	/* tolerate "Name :" */
	while (i < len && (l[i] == ' ' || l[i] == '\t'))
		i++;
	return i < len && l[i] == ':';
}

static int
header_line(struct mime_parser *p, const char *l, size_t kept, size_t len,
    size_t eol)
{
	struct mime_entity *e = p->cur;
	size_t name_len, i;
	struct buf *keep = NULL;

	if (len == 0) {
		if (header_end(p, p->line_start, p->line_start + eol) < 0)
			return -1;
		return body_begin(p);
	}
	if (len > p->lim.max_header_line)
		e->damage |= MIME_D_HEADER_LINE_LONG;
	p->hdr_bytes += len + eol;
	if (p->hdr_bytes > p->lim.max_header_size && !p->hdr_full) {
		e->damage |= MIME_D_HEADER_TOO_BIG;
		p->hdr_full = 1;
	}
	for (i = 0; i < kept; i++) {
		if (l[i] == '\0')
			e->damage |= MIME_D_NUL;
		else if ((unsigned char)l[i] >= 0x80)
			e->damage |= MIME_D_8BIT_HEADER;
	}
	if (l[0] == ' ' || l[0] == '\t') {
		if (p->cur_field < 0 && !p->hdr_full) {
			/* continuation of nothing: kept as garbage field */
			e->damage |= MIME_D_HEADER_GARBAGE;
		}
		keep = p->keep_field == 1 ? &p->ct :
		    p->keep_field == 2 ? &p->cte : NULL;
		if (keep != NULL) {
			size_t n = kept < p->lim.max_header_line ? kept :
			    p->lim.max_header_line;

			if (buf_putc(keep, ' ') < 0 ||
			    buf_append(keep, l, n) < 0) {
				/* limit: keep what we have */
				p->keep_field = 0;
			}
		}
		return 0;
	}
	if (!is_field_start(l, kept, &name_len)) {
		if (e->nfields == 0 && len >= 5 && memcmp(l, "From ", 5) == 0 &&
		    e == p->m->root && p->line_start == 0) {
			/* mbox separator: a pseudo field no name matches */
			name_len = 0;
		} else {
			/* not a field: the body starts here */
			e->damage |= MIME_D_HEADER_GARBAGE;
			if (header_end(p, p->line_start, p->line_start) < 0)
				return -1;
			return body_begin(p);
		}
	}
	if (p->cur_field >= 0)
		e->fields[p->cur_field].raw_len =
		    p->line_start - e->fields[p->cur_field].offset;
	p->cur_field = -1;
	p->keep_field = 0;
	if (p->hdr_full || p->nfields_total >= FIELDS_TOTAL_MAX) {
		e->damage |= MIME_D_HEADER_TOO_BIG;
		return 0;
	}
	if (field_add(p, e, p->line_start, name_len) < 0)
		return -1;
	p->cur_field = (int)e->nfields - 1;
	if (name_len == 12 && strncasecmp(l, "content-type", 12) == 0) {
		if (p->nct++ == 0)
			p->keep_field = 1;
	} else if (name_len == 25 &&
	    strncasecmp(l, "content-transfer-encoding", 25) == 0 &&
	    p->ncte++ == 0)
		p->keep_field = 2;
	if (p->keep_field != 0) {
		keep = p->keep_field == 1 ? &p->ct : &p->cte;
		i = name_len;
		while (i < kept && l[i] != ':')
			i++;
		if (i < kept)
			i++;
		if (buf_append(keep, l + i, kept - i) < 0)
			p->keep_field = 0;
		else if (keep->data == NULL)
			(void)buf_append(keep, "", 0);
	}
	return 0;
}

/* One line: l[0..kept) of len bytes (EOL excluded), then eol bytes. */
static int
line(struct mime_parser *p, const char *l, size_t kept, size_t len,
    size_t eol)
{
	size_t k;

	if (eol > 0 && !p->first_eol_done) {
		p->m->eol = eol == 2 ? MIME_EOL_CRLF : MIME_EOL_LF;
		p->first_eol_done = 1;
	}
	if (eol == 2)
		p->seen_crlf = 1;
	else if (eol == 1)
		p->seen_lf = 1;
	/* a boundary delimiter of an open multipart, innermost first */
	if (p->nstack > 0 && !p->stop_splitting && kept == len && len >= 3 &&
	    l[0] == '-' && l[1] == '-') {
		for (k = p->nstack; k-- > 0;) {
			int r = delim_match(p, k, l, len);
			struct mime_entity *mp = p->stack[k].e, *c;
			size_t j;

			if (r == 0)
				continue;
			/* the EOL before the delimiter belongs to it */
			if (close_to(p, mp, p->line_start - p->prev_eol) < 0)
				return -1;
			for (j = k + 1; j < p->nstack; j++)
				p->stack[j].e->damage |= MIME_D_NO_CLOSE;
			p->nstack = k;
			p->cur = mp;
			p->state = P_BODY;
			if (r == 2) {
				if (mp->nchildren == 0)
					mp->damage |= MIME_D_NO_PARTS;
				return 0;	/* now in the epilogue */
			}
			p->nstack = k + 1;	/* still open */
			c = new_child(p, mp, p->line_start + len + eol);
			if (c == NULL)
				return p->failed ? -1 : 0;
			p->cur = c;
			p->state = P_HEADER;
			return 0;
		}
	}
	if (p->state == P_HEADER)
		return header_line(p, l, kept, len, eol);
	return 0;
}

/* Grow the line buffer towards line_cap (most lines are short). */
static int
line_grow(struct mime_parser *p, size_t need)
{
	size_t n = p->line_alloc;
	char *l;

	while (n < need)
		n *= 2;
	if (n > p->line_cap)
		n = p->line_cap;
	if ((l = realloc(p->line, n + 1)) == NULL)
		return -1;
	p->line = l;
	p->line_alloc = n;
	return 0;
}

int
mime_parser_feed(struct mime_parser *p, const void *vdata, size_t len,
    const char **error_r)
{
	const char *d = vdata;
	size_t i = 0;

	if (p->failed)
		return err_set(error_r, "mime parser failed earlier");
	while (i < len) {
		const char *nl = memchr(d + i, '\n', len - i);
		size_t n = nl != NULL ? (size_t)(nl - (d + i)) : len - i;
		size_t room = p->line_cap - p->line_kept;
		size_t take = n < room ? n : room;

		if (p->line_kept + take > p->line_alloc &&
		    line_grow(p, p->line_kept + take) < 0) {
			p->failed = 1;
			return err_set(error_r, "out of memory");
		}

		if (p->line_len == 0)
			p->line_start = p->off + i;
		memcpy(p->line + p->line_kept, d + i, take);
		p->line_kept += take;
		p->line_len += n;
		i += n;
		if (n > 0)
			p->last_cr = d[i - 1] == '\r';
		if (nl != NULL) {
			size_t eol = 1, full = p->line_len, kept = p->line_kept;

			/* a CR before the LF is part of the EOL */
			if (full > 0 && p->last_cr) {
				eol = 2;
				full--;
				if (kept > full)
					kept = full;
			}
			if (line(p, p->line, kept, full, eol) < 0) {
				p->failed = 1;
				return err_set(error_r, "out of memory");
			}
			p->prev_eol = eol;
			p->line_kept = 0;
			p->line_len = 0;
			p->last_cr = 0;
			i++;	/* the LF */
		}
	}
	p->off += len;
	return 0;
}

static void
resolve(struct mime_entity *e, const char *data)
{
	struct mime_entity *c;
	size_t i;

	e->src = data;
	e->slot_start = e->start;
	e->slot_end = e->end;
	for (i = 0; i < e->nfields; i++)
		e->fields[i].raw = data + e->fields[i].offset;
	for (c = e->children; c != NULL; c = c->next)
		resolve(c, data);
}

struct mime_message *
mime_parser_finish(struct mime_parser **pp, const char *data, size_t len,
    const char **error_r)
{
	struct mime_parser *p = *pp;
	struct mime_message *m = NULL;
	struct mime_entity *e;
	size_t k;

	if (p == NULL) {
		err_set(error_r, "no parser");
		return NULL;
	}
	if (p->failed) {
		err_set(error_r, "out of memory");
		goto out;
	}
	if (len != p->off || (data == NULL && len > 0)) {
		err_set(error_r, "finish with %zu bytes, %zu were fed", len,
		    p->off);
		goto out;
	}
	if (p->line_len > 0) {
		p->last_cr = 0;
		if (line(p, p->line, p->line_kept, p->line_len, 0) < 0) {
			err_set(error_r, "out of memory");
			goto out;
		}
	}
	if (close_to(p, NULL, len) < 0) {
		err_set(error_r, "out of memory");
		goto out;
	}
	for (k = 0; k < p->nstack && !p->stop_splitting; k++)
		p->stack[k].e->damage |= MIME_D_NO_CLOSE;
	m = p->m;
	p->m = NULL;
	m->data = data;
	m->len = len;
	resolve(m->root, data != NULL ? data : "");
	if (p->seen_lf && p->seen_crlf)
		m->root->damage |= MIME_D_MIXED_EOL;
	if (!p->first_eol_done)
		m->eol = MIME_EOL_CRLF;
	m->damage = 0;
	for (e = m->root; e != NULL; e = mime_entity_walk(m->root, e))
		m->damage |= e->damage;
out:
	mime_parser_free(pp);
	return m;
}

struct mime_message *
mime_parse(const char *data, size_t len, const struct mime_limits *lim,
    const char **error_r)
{
	struct mime_parser *p = mime_parser_new(lim);

	if (p == NULL) {
		err_set(error_r, "out of memory");
		return NULL;
	}
	if (mime_parser_feed(p, data, len, error_r) < 0) {
		mime_parser_free(&p);
		return NULL;
	}
	return mime_parser_finish(&p, data, len, error_r);
}

/* ---- navigation --------------------------------------------------- */

struct mime_entity *
mime_entity_walk(struct mime_entity *root, struct mime_entity *e)
{
	if (e->children != NULL)
		return e->children;
	while (e != NULL && e != root) {
		if (e->next != NULL)
			return e->next;
		e = e->parent;
	}
	return NULL;
}

void
mime_entity_path(const struct mime_entity *e, struct buf *out)
{
	unsigned idx[1024];
	size_t n = 0;
	const struct mime_entity *c;

	for (; e != NULL && e->parent != NULL && n < 1024; e = e->parent) {
		unsigned i = 1;

		for (c = e->parent->children; c != NULL && c != e; c = c->next)
			i++;
		idx[n++] = i;
	}
	while (n-- > 0)
		(void)buf_printf(out, "%u%s", idx[n], n > 0 ? "." : "");
	if (out->data == NULL)
		(void)buf_append(out, "", 0);
}

struct mime_entity *
mime_entity_at(struct mime_entity *root, const char *path)
{
	struct mime_entity *e = root;

	while (e != NULL && *path != '\0') {
		char *end;
		unsigned long i = strtoul(path, &end, 10);

		if (end == path || i == 0)
			return NULL;
		for (e = e->children; e != NULL && i > 1; e = e->next)
			i--;
		path = *end == '.' ? end + 1 : end;
		if (*end != '\0' && *end != '.')
			return NULL;
	}
	return e;
}

int
mime_entity_is(const struct mime_entity *e, const char *type,
    const char *subtype)
{
	if (e->type == NULL || strcasecmp(e->type, type) != 0)
		return 0;
	return subtype == NULL || strcmp(subtype, "*") == 0 ||
	    (e->subtype != NULL && strcasecmp(e->subtype, subtype) == 0);
}

/* ---- header access ---------------------------------------------------- */

const struct mime_field *
mime_field_find(const struct mime_entity *e, const char *name, size_t idx)
{
	size_t i, nl = strlen(name);

	for (i = 0; i < e->nfields; i++) {
		const struct mime_field *f = &e->fields[i];

		if (f->name_len == nl && strncasecmp(f->raw, name, nl) == 0 &&
		    idx-- == 0)
			return f;
	}
	return NULL;
}

size_t
mime_field_count(const struct mime_entity *e, const char *name)
{
	size_t n = 0;

	while (mime_field_find(e, name, n) != NULL)
		n++;
	return n;
}

/* The value part of f: after the colon, up to the end of the field. */
static void
field_value_span(const struct mime_field *f, const char **v_r,
    size_t *len_r)
{
	size_t i = f->name_len;

	while (i < f->raw_len && f->raw[i] != ':')
		i++;
	if (i < f->raw_len)
		i++;
	*v_r = f->raw + i;
	*len_r = f->raw_len - i;
}

int
mime_field_value(const struct mime_field *f, struct buf *out)
{
	const char *v;
	size_t len, i, start = out->len;

	field_value_span(f, &v, &len);
	for (i = 0; i < len; i++) {
		if (v[i] == '\r' || v[i] == '\n')
			continue;
		if (out->len == start && (v[i] == ' ' || v[i] == '\t'))
			continue;
		if (buf_putc(out, v[i]) < 0)
			return -1;
	}
	while (out->len > start && (out->data[out->len - 1] == ' ' ||
	    out->data[out->len - 1] == '\t'))
		out->data[--out->len] = '\0';
	if (out->data == NULL && buf_append(out, "", 0) < 0)
		return -1;
	return 0;
}

int
mime_field_decoded(const struct mime_field *f, struct buf *out,
    unsigned *damage_r)
{
	struct buf raw;
	int rc;

	buf_init(&raw, 0);
	rc = mime_field_value(f, &raw);
	if (rc == 0)
		rc = mime_header_decode(raw.data, raw.len, out, damage_r);
	if (rc == 0 && out->data == NULL)
		rc = buf_append(out, "", 0);
	buf_release(&raw);
	return rc;
}

int
mime_header_get(const struct mime_entity *e, const char *name,
    struct buf *out)
{
	const struct mime_field *f = mime_field_find(e, name, 0);

	if (f == NULL)
		return -1;
	return mime_field_decoded(f, out, NULL);
}

static int
param_of(const struct mime_entity *e, const char *field, int with_subtype,
    const char *param, struct buf *out)
{
	const struct mime_field *f = mime_field_find(e, field, 0);
	struct mime_ctype ct;
	const char *v;
	size_t len;
	int rc = -1;

	if (f == NULL)
		return -1;
	field_value_span(f, &v, &len);
	if (mime_ctype_parse(v, len, with_subtype, &ct) < 0)
		return -1;
	if (param == NULL) {
		if (ct.type != NULL)
			rc = buf_puts(out, ct.type);
	} else if ((v = mime_ctype_param(&ct, param)) != NULL)
		rc = buf_puts(out, v);
	mime_ctype_release(&ct);
	return rc;
}

int
mime_entity_ctype_param(const struct mime_entity *e, const char *param,
    struct buf *out)
{
	return param_of(e, "Content-Type", 1, param, out);
}

int
mime_entity_disp_param(const struct mime_entity *e, const char *param,
    struct buf *out)
{
	return param_of(e, "Content-Disposition", 0, param, out);
}

int
mime_entity_disposition(const struct mime_entity *e, struct buf *out)
{
	if (param_of(e, "Content-Disposition", 0, NULL, out) < 0)
		return buf_puts(out, "");
	return 0;
}

int
mime_entity_filename(const struct mime_entity *e, struct buf *out)
{
	struct buf raw;
	int rc;

	buf_init(&raw, 0);
	rc = mime_entity_disp_param(e, "filename", &raw);
	if (rc < 0 || raw.len == 0) {
		buf_reset(&raw);
		rc = mime_entity_ctype_param(e, "name", &raw);
	}
	if (rc == 0 && raw.len == 0)
		rc = -1;
	/* RFC 2047 inside a quoted name, as MUAs write it */
	if (rc == 0)
		rc = strstr(raw.data, "=?") != NULL ?
		    mime_header_decode(raw.data, raw.len, out, NULL) :
		    buf_append(out, raw.data, raw.len);
	buf_release(&raw);
	return rc;
}
