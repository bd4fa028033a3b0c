#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "infohdr.h"

struct infohdr_entry {
	char *name;	/* full name */
	char *value;
};

struct infohdr {
	char *prefix;
	struct infohdr_entry *v;
	size_t n, cap;
};

struct infohdr *
infohdr_new(const char *prefix)
{
	struct infohdr *ih;

	ih = calloc(1, sizeof(*ih));
	if (ih == NULL)
		return NULL;
	ih->prefix = strdup(prefix != NULL ? prefix : "X-Postern-Info");
	if (ih->prefix == NULL) {
		free(ih);
		return NULL;
	}
	return ih;
}

void
infohdr_free(struct infohdr **ihp)
{
	struct infohdr *ih = *ihp;
	size_t i;

	if (ih == NULL)
		return;
	for (i = 0; i < ih->n; i++) {
		free(ih->v[i].name);
		free(ih->v[i].value);
	}
	free(ih->v);
	free(ih->prefix);
	free(ih);
	*ihp = NULL;
}

int
infohdr_add(struct infohdr *ih, const char *name, int index, int level,
    const char *fmt, ...)
{
	char value[INFOHDR_VALUE_MAX];
	char nbuf[256];
	va_list ap;
	int n;
	size_t i;

	if (ih->n >= INFOHDR_MAX)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(value))
		memcpy(value + sizeof(value) - 4, "...", 4);
	for (i = 0; value[i] != '\0'; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c < 0x20 || c == 0x7f)
			value[i] = c == '\t' ? ' ' : '?';
	}
	if (index >= 0 && level >= 0)
		n = snprintf(nbuf, sizeof(nbuf), "%s-%s-%d-%d", ih->prefix,
		    name, index, level);
	else if (level >= 0)
		n = snprintf(nbuf, sizeof(nbuf), "%s-%s-%d", ih->prefix, name,
		    level);
	else if (index >= 0)
		n = snprintf(nbuf, sizeof(nbuf), "%s-%s-%d", ih->prefix, name,
		    index);
	else
		n = snprintf(nbuf, sizeof(nbuf), "%s-%s", ih->prefix, name);
	if (n < 0 || (size_t)n >= sizeof(nbuf))
		return -1;
	if (ih->n == ih->cap) {
		size_t cap = ih->cap == 0 ? 16 : ih->cap * 2;
		struct infohdr_entry *v = realloc(ih->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		ih->v = v;
		ih->cap = cap;
	}
	ih->v[ih->n].name = strdup(nbuf);
	ih->v[ih->n].value = strdup(value);
	if (ih->v[ih->n].name == NULL || ih->v[ih->n].value == NULL) {
		free(ih->v[ih->n].name);
		free(ih->v[ih->n].value);
		return -1;
	}
	ih->n++;
	return 0;
}

size_t
infohdr_count(const struct infohdr *ih)
{
	return ih->n;
}

const char *
infohdr_name(const struct infohdr *ih, size_t i)
{
	return i < ih->n ? ih->v[i].name : NULL;
}

const char *
infohdr_value(const struct infohdr *ih, size_t i)
{
	return i < ih->n ? ih->v[i].value : NULL;
}

const char *
infohdr_prefix(const struct infohdr *ih)
{
	return ih->prefix;
}

const char *
infohdr_get(const struct infohdr *ih, const char *short_name)
{
	size_t plen = strlen(ih->prefix), i;

	for (i = 0; i < ih->n; i++) {
		const char *nm = ih->v[i].name;

		if (strncasecmp(nm, ih->prefix, plen) == 0 &&
		    nm[plen] == '-' && strcasecmp(nm + plen + 1, short_name) == 0)
			return ih->v[i].value;
	}
	return NULL;
}

/*
 * "Name: value" folded: break before a space when the line would pass
 * INFOHDR_FOLD columns.  The space stays (it becomes the folding white
 * space), so unfolding gives the value back exactly.
 */
static int
render_one(struct buf *out, const char *name, const char *value,
    const char *eol)
{
	size_t col, len, i;
	const char *p = value;

	if (buf_printf(out, "%s:", name) < 0)
		return -1;
	col = strlen(name) + 1;
	if (*p != '\0') {
		if (buf_putc(out, ' ') < 0)
			return -1;
		col++;
	}
	while (*p != '\0') {
		/* the next word: up to (not including) the next space */
		len = 0;
		while (p[len] != '\0' && p[len] != ' ')
			len++;
		if (col + len > INFOHDR_FOLD && p != value && p[-1] == ' ') {
			/* fold: the space before this word starts the line */
			out->len--;
			out->data[out->len] = '\0';
			if (buf_puts(out, eol) < 0 || buf_putc(out, ' ') < 0)
				return -1;
			col = 1;
		}
		if (buf_append(out, p, len) < 0)
			return -1;
		col += len;
		p += len;
		i = 0;
		while (p[i] == ' ')
			i++;
		if (i > 0) {
			if (buf_append(out, p, i) < 0)
				return -1;
			col += i;
			p += i;
		}
	}
	return buf_puts(out, eol);
}

int
infohdr_render(const struct infohdr *ih, struct buf *out, const char *eol)
{
	size_t i;

	for (i = 0; i < ih->n; i++)
		if (render_one(out, ih->v[i].name, ih->v[i].value, eol) < 0)
			return -1;
	return 0;
}

static int
prefix_match(const char *name, size_t len, const char *pfx, size_t plen)
{
	return plen > 0 && len > plen && strncasecmp(name, pfx, plen) == 0 &&
	    name[plen] == '-';
}

int
infohdr_is_ours(const char *name, size_t len, const char *prefix,
    const char *legacy)
{
	const char *p, *e;

	if (prefix != NULL && prefix_match(name, len, prefix, strlen(prefix)))
		return 1;
	for (p = legacy; p != NULL && *p != '\0'; p = e) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		e = p;
		while (*e != '\0' && *e != ' ' && *e != '\t' && *e != ',')
			e++;
		if (e > p && prefix_match(name, len, p, (size_t)(e - p)))
			return 1;
	}
	return 0;
}

int
infohdr_strip(const char *hdr, size_t len, const char *prefix,
    const char *legacy, struct buf *out, size_t *removed_r)
{
	size_t pos = 0, removed = 0;
	int drop = 0;

	while (pos < len) {
		const char *line = hdr + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl != NULL ? (size_t)(nl - line) + 1 : len - pos;

		if (*line == ' ' || *line == '\t') {
			/* continuation: belongs to the previous field */
		} else {
			const char *colon = memchr(line, ':', llen);

			drop = colon != NULL && infohdr_is_ours(line,
			    (size_t)(colon - line), prefix, legacy);
			if (drop)
				removed++;
		}
		if (!drop && buf_append(out, line, llen) < 0)
			return -1;
		pos += llen;
	}
	if (removed_r != NULL)
		*removed_r = removed;
	return 0;
}
