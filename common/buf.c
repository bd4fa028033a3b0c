#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max != 0 ? max : SIZE_MAX / 2;
}

void
buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

int
buf_reserve(struct buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap != 0 ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 4 ? need : ncap * 2;
	p = realloc(b->data, ncap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_append(struct buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) < 0)
		return -1;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int
buf_append_eol(struct buf *out, const char *p, size_t len, const char *eol)
{
	int crlf = eol[0] == '\r';
	size_t run = 0, pos = 0;

	if (buf_reserve(out, len + 2) < 0)
		return -1;
	while (pos < len) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		size_t i, end;
		int has_cr;

		if (nl == NULL)
			break;
		i = (size_t)(nl - p);
		has_cr = i > run && p[i - 1] == '\r';
		pos = i + 1;
		if (has_cr == crlf)
			continue;
		end = has_cr ? i - 1 : i;
		if (buf_append(out, p + run, end - run) < 0 ||
		    buf_puts(out, eol) < 0)
			return -1;
		run = pos;
	}
	return buf_append(out, p + run, len - run);
}

char *
buf_steal(struct buf *b, size_t *len_r)
{
	char *p = b->data;

	if (p == NULL) {
		p = calloc(1, 1);
		if (len_r != NULL)
			*len_r = 0;
		return p;
	}
	if (len_r != NULL)
		*len_r = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
