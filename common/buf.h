/*
 * buf: a growable byte buffer with a hard maximum (OpenSMTPD rfc5322.c,
 * Postfix vstring).
 *
 * A struct buf is embedded by its owner: buf_init() / buf_release().
 * The data is always NUL-terminated (the NUL is not counted in len), so
 * text can be used as a C string.  Appends that would pass max fail with
 * -1 and leave the buffer unchanged; max 0 means SIZE_MAX/2.  Allocation
 * failure also returns -1.  Nothing is logged.
 */
#ifndef POSTERN_BUF_H
#define POSTERN_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Append p[0..len) with every line end (LF or CRLF) turned into eol,
 * which is "\r\n" or "\n"; a lone CR is kept as it is.  Runs of lines
 * that already end in eol are copied in one go.  Room for len + 2 bytes
 * is reserved first.  -1 when that or the result passes out's maximum, or
 * on allocation failure; out may then hold part of p. */
int buf_append_eol(struct buf *out, const char *p, size_t len,
    const char *eol);
/* Hand the data to the caller (free() it); the buf is left empty. */
char *buf_steal(struct buf *b, size_t *len_r);

#endif
