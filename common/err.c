#include <stdarg.h>
#include <stdio.h>

#include "err.h"

static __thread char err_ring[ERR_RING][ERR_MAX];
static __thread unsigned err_next;

static const char *
err_vfmt(const char *fmt, va_list ap)
{
	char *buf = err_ring[err_next++ % ERR_RING];

	vsnprintf(buf, ERR_MAX, fmt, ap);
	return buf;
}

const char *
err_fmt(const char *fmt, ...)
{
	va_list ap;
	const char *s;

	va_start(ap, fmt);
	s = err_vfmt(fmt, ap);
	va_end(ap);
	return s;
}

int
err_set(const char **error_r, const char *fmt, ...)
{
	va_list ap;
	const char *s;

	va_start(ap, fmt);
	s = err_vfmt(fmt, ap);
	va_end(ap);
	if (error_r != NULL)
		*error_r = s;
	return -1;
}
