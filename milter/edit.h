/*
 * edit: turn "the message as received" and "the message as it should
 * leave" into the operations a milter may perform: change or delete a
 * header by name and occurrence index, add a header, replace the body.
 *
 * Header fields are matched by name (case-insensitive) and unfolded value
 * (runs of white space compared as one space), each original matched at
 * most once, regardless of order: a milter cannot reorder headers, and
 * the processing code may rebuild a root entity instead of editing it.
 * An original without a match becomes a change when an unmatched new
 * field of the same name is left, else a delete; new fields left over
 * are adds (appended, as smfi_addheader does).  Deletes are listed from
 * the highest occurrence index down, so the indexes stay right whether
 * the MTA renumbers after a delete (Postfix) or not (sendmail).
 *
 * The body is replaced only when the emitted new body differs from the
 * original body bytes.
 *
 * Ownership: edits_compute() fills a caller-embedded struct edits, which
 * edits_release() frees.  Values keep their folding as "\n" followed by
 * the continuation's white space (the form libmilter expects).  Nothing
 * is logged.
 */
#ifndef POSTERN_MILTER_EDIT_H
#define POSTERN_MILTER_EDIT_H

#include <stddef.h>

#include "buf.h"

struct mime_message;

enum edit_op {
	EDIT_CHANGE,
	EDIT_DELETE,
	EDIT_ADD,
};

struct edit {
	enum edit_op op;
	char *name;
	int index;		/* 1-based occurrence among the originals */
	char *value;		/* NULL for EDIT_DELETE */
};

/* One header field: name and value (after the colon). */
struct edit_field {
	char *name;
	char *value;
};

struct edit_fields {
	struct edit_field *v;
	size_t n;
};

struct edits {
	struct edit *v;
	size_t n;
	int replace_body;
	struct buf body;	/* the new body, CRLF, when replace_body */
};

/* Snapshot the root header fields of m (before processing changes m). */
int edit_fields_snapshot(const struct mime_message *m,
    struct edit_fields *f, const char **error_r);
void edit_fields_release(struct edit_fields *f);

/*
 * orig: the snapshot; orig_body/orig_body_len: the body bytes as
 * received; m: the processed message.
 */
int edits_compute(const struct edit_fields *orig, const char *orig_body,
    size_t orig_body_len, const struct mime_message *m, struct edits *e,
    const char **error_r);
void edits_release(struct edits *e);

#endif
