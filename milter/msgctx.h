/*
 * msgctx: one message as the milter receives it, and its end-of-message
 * processing without libmilter (the callbacks in mlfi.c and the offline
 * mode "-t FILE" both use it, so they run the same code).
 *
 * The header fields arrive one by one (name, value) and the body in
 * chunks; both go into a spool (memory, then a 0600 temp file) as the
 * message would look on the wire, CRLF.  msgctx_eom() parses it, runs
 * inbound_process() and computes the edits (edit.h) the milter applies.
 * The header block is also kept apart (up to mime_max_header_size), so
 * that forged info headers can be removed even when the message itself
 * cannot be processed (too large, or an internal failure answered with
 * milter_failure_action = accept: msgctx_strip_only()).
 *
 * A failure while collecting (the spool cannot spill, out of memory) is
 * returned by the call that hit it and remembered in m->error; later
 * calls still collect the header block, and msgctx_eom() returns
 * INBOUND_TEMPFAIL with that error.
 *
 * Ownership: msgctx_new() returns an object freed with msgctx_free()
 * (NULL-safe, clears the pointer).  Strings are copied.  Nothing is
 * logged; msgctx_eom() leaves the log line in m->result.log.
 */
#ifndef POSTERN_MILTER_MSGCTX_H
#define POSTERN_MILTER_MSGCTX_H

#include <stddef.h>

#include "edit.h"
#include "inbound.h"

struct config;
struct spool;

struct msgctx {
	char qid[64];			/* "NOQUEUE" until {i} is known */
	char *env_from;
	char **rcpts;
	size_t nrcpts;
	struct spool *sp;
	size_t body_off;		/* header block + blank line */
	struct buf hdrs;		/* the header block alone */
	int hdrs_truncated;		/* hdrs passed its maximum */
	int eoh_seen;
	int too_big;
	char error[256];		/* first internal failure while
					 * collecting; "" none */
	struct inbound_result result;
	struct edits edits;
};

struct msgctx *msgctx_new(const struct config *cfg, const char *env_from);
void msgctx_free(struct msgctx **m);

void msgctx_set_qid(struct msgctx *m, const char *qid);
int msgctx_rcpt(struct msgctx *m, const char *rcpt, const char **error_r);
int msgctx_header(struct msgctx *m, const char *name, const char *value,
    const char **error_r);
int msgctx_eoh(struct msgctx *m, const char **error_r);
int msgctx_body(struct msgctx *m, const void *data, size_t len,
    const char **error_r);
/* Offline mode: the whole message at once (LF or CRLF). */
int msgctx_raw(struct msgctx *m, const void *data, size_t len,
    const char **error_r);

/*
 * Run the end-of-message path.  Returns INBOUND_OK with m->edits filled
 * (possibly empty) or INBOUND_TEMPFAIL with *error_r.  When out is not
 * NULL the whole resulting message is appended to it as well, with the
 * line ends of the input (offline mode).
 */
int msgctx_eom(struct msgctx *m, const struct inbound_env *env,
    struct buf *out, const char **error_r);

/*
 * What an internal failure with milter_failure_action = accept still
 * does: m->edits become the removal of every forged info header (as
 * inbound_strip_info() decides, from the header block alone), nothing
 * else.  Returns 0, or -1 with *error_r when that cannot be promised
 * (the header block was not kept whole, or out of memory): the caller
 * must then tempfail instead of accepting.
 */
int msgctx_strip_only(struct msgctx *m, const struct config *cfg,
    const char **error_r);

#endif
