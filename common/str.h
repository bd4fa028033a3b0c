/*
 * str: small helpers for C strings.
 *
 * str_trim() and str_lower() edit a NUL-terminated string in place: it is
 * the caller's and must be writable.  White space is what isspace(3)
 * says, case is tolower(3), both on the byte as unsigned char.
 * str_array_free() is the one destructor of a malloc'd array of malloc'd
 * strings (as the keyring, the stores and the policy return them).
 * Nothing is allocated, nothing fails, nothing is logged.
 */
#ifndef POSTERN_STR_H
#define POSTERN_STR_H

#include <stddef.h>

/* Cut the white space at the end of s (by writing NULs) and return s past
 * the white space at its start: "  a b \n" gives "a b", s itself keeps
 * its leading white space.  Use the result. */
char *str_trim(char *s) __attribute__((warn_unused_result));
/* Lowercase s; returns s. */
char *str_lower(char *s);

/* Free an array of n malloc'd strings (NULL entries allowed) and the
 * array itself, and set *v to NULL.  *v may be NULL. */
void str_array_free(char ***v, size_t n);

#endif
