/*
 * smime_int: helpers shared by smime_cms.c, smime.c and
 * smime_opts.c; not for use outside the smime module.
 */
#ifndef POSTERN_SMIME_INT_H
#define POSTERN_SMIME_INT_H

#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "buf.h"
#include "smime.h"

#define LONG_MAX_SAFE ((size_t)INT_MAX)

/* Copy with truncation (always NUL-terminated when size > 0). */
static inline void
smime_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The last OpenSSL error as text (thread-local); clears the queue. */
const char *smime_ossl_err(void);
/* "sha-256" ... for micalg. */
const char *smime_micalg(enum smime_digest d);

#endif
