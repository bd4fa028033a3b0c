/*
 * err: thread-local error strings for the "const char **error_r" convention.
 *
 * common/ functions return 0 or -1 and report the reason through
 * error_r.  err_fmt() formats into one of a small ring of thread-local
 * buffers and returns it, so a callee can hand a message up without the
 * caller freeing anything.  The string stays valid until ERR_RING further
 * err_fmt() calls on the same thread; callers that keep it longer copy it.
 * Messages are lowercase, the error first, names in quotes (git style):
 * "cannot open '/x': No such file or directory".
 */
#ifndef POSTERN_ERR_H
#define POSTERN_ERR_H

#include <stddef.h>

#define ERR_RING 8
#define ERR_MAX 1024

const char *err_fmt(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Set *error_r (when error_r is not NULL) and return -1. */
int err_set(const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
