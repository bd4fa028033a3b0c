/*
 * infohdr: the security information headers ("X-Postern-Info-...")
 * Postern adds to mail it handled, in the CipherMail/Djigzo model
 * (seeds 000/001):
 *
 *	PREFIX-NAME[-INDEX]-LEVEL: value
 *
 * LEVEL counts CMS layers from 0 (outermost), INDEX the item within the
 * layer (recipient, signer).  Either may be omitted (-1) for headers that
 * have none ("X-Postern-Info-SMIME-Encrypted: True").
 *
 * A struct infohdr is an ordered list of name/value pairs; the owner
 * creates it with infohdr_new() and frees it with infohdr_free() (accepts
 * NULL, clears the pointer).  Names and values are copied.  Values are
 * sanitised on add: control characters (CR, LF, NUL...) become '?', so a
 * value taken from a certificate cannot inject a header.  infohdr_render()
 * folds long values at whitespace so no line passes INFOHDR_FOLD columns
 * when the value allows it (a value without whitespace is never split).
 *
 * Incoming headers with our prefix or any legacy prefix (config keys
 * info_header_prefix and legacy_info_header_prefixes) must be removed
 * before ours are added, so no sender can forge them: infohdr_is_ours()
 * tells whether one field name matches, infohdr_strip() removes all such
 * fields (with their continuation lines) from a raw header block.
 *
 * Limits: at most INFOHDR_MAX entries, values at most INFOHDR_VALUE_MAX
 * bytes (longer ones are cut and end in "...").  Nothing is logged.
 */
#ifndef POSTERN_INFOHDR_H
#define POSTERN_INFOHDR_H

#include <stddef.h>

#include "buf.h"

#define INFOHDR_MAX 512
#define INFOHDR_VALUE_MAX 4096
#define INFOHDR_FOLD 76

struct infohdr;

/* prefix is copied; NULL means "X-Postern-Info". */
struct infohdr *infohdr_new(const char *prefix);
void infohdr_free(struct infohdr **ih);

/* Add PREFIX-name[-index][-level]: value.  index/level < 0: omitted.
 * Returns -1 when full or out of memory. */
int infohdr_add(struct infohdr *ih, const char *name, int index, int level,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

size_t infohdr_count(const struct infohdr *ih);
/* Full field name (with prefix) and value of entry i, or NULL. */
const char *infohdr_name(const struct infohdr *ih, size_t i);
const char *infohdr_value(const struct infohdr *ih, size_t i);
/* Value of the entry whose name without the prefix is short_name
 * ("Signer-Verified-0-1"), case-insensitive; NULL when absent. */
const char *infohdr_get(const struct infohdr *ih, const char *short_name);
const char *infohdr_prefix(const struct infohdr *ih);

/* Append every entry as a folded header field, lines ended with eol
 * ("\r\n" or "\n").  -1 when out (buf limit). */
int infohdr_render(const struct infohdr *ih, struct buf *out,
    const char *eol);

/*
 * Does field name (len bytes, no colon) start with prefix + "-" for the
 * prefix or one of the space-separated legacy prefixes?  Case-insensitive.
 * legacy may be NULL.
 */
int infohdr_is_ours(const char *name, size_t len, const char *prefix,
    const char *legacy);

/*
 * Copy the header block hdr[0..len) to out without the fields
 * infohdr_is_ours() matches.  *removed_r (may be NULL) gets how many
 * fields were dropped.  The block may or may not include the blank line;
 * bytes are kept as they are (CRLF or LF).
 */
int infohdr_strip(const char *hdr, size_t len, const char *prefix,
    const char *legacy, struct buf *out, size_t *removed_r);

#endif
