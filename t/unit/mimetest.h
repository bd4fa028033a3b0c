/*
 * Helpers for the MIME suites: a printable form of a parsed tree (so
 * two parses can be compared), parsing in given chunks, and the list of
 * corpus message files.
 */
#ifndef POSTERN_MIMETEST_H
#define POSTERN_MIMETEST_H

#include <stddef.h>

#include "buf.h"
#include "mime.h"

/* "type/sub[start,hlen,body,end,slot]cte dmg nf{children}" of every
 * entity, appended to out. */
void mt_tree_str(const struct mime_message *m, struct buf *out);
/* Parse data fed in pieces of the given sizes (cuts: ncuts sizes, the
 * rest in one piece at the end).  ck_asserts on failure. */
struct mime_message *mt_parse_chunks(const char *data, size_t len,
    const struct mime_limits *lim, const size_t *cuts, size_t ncuts);
struct mime_message *mt_parse(const char *s);
/* Emit the whole message into a malloc'd string. */
char *mt_emit(const struct mime_message *m, unsigned flags);
/* Message files under the corpus folders used for MIME (NULL-terminated,
 * malloc'd, free with mt_files_free); NULL when there is no corpus. */
char **mt_corpus_files(size_t *n_r);
void mt_files_free(char **files);

#endif
