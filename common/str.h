/*
 * str: small edits of a NUL-terminated string in place.
 *
 * The string is the caller's and must be writable; nothing is
 * allocated, nothing fails and nothing is logged.  White space is what
 * isspace(3) says, case is tolower(3), both on the byte as unsigned char.
 */
#ifndef POSTERN_STR_H
#define POSTERN_STR_H

/* Cut the white space at the end of s (by writing NULs) and return s past
 * the white space at its start: "  a b \n" gives "a b", s itself keeps
 * its leading white space.  Use the result. */
char *str_trim(char *s) __attribute__((warn_unused_result));
/* Lowercase s; returns s. */
char *str_lower(char *s);

#endif
