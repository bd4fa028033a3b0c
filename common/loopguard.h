/*
 * loopguard: the marker header on every message postern-encrypt emits
 * (re-queued outputs and notifications), so a message that comes back to
 * it (sendmail reinjection through pickup, a second gateway pass) goes
 * straight through instead of being processed twice.
 *
 *	X-Postern-Loop: v1; t=TIME; h=HEX
 *
 * HEX is HMAC-SHA256 under the server secret (setting server-secret) of
 * "postern-loop-v1", TIME, the envelope recipients (normalised, sorted)
 * and SHA-256 of the body.  The body is taken from the first blank line
 * on, with every CR removed and trailing line ends dropped, so the CRLF
 * of SMTP, the LF of pipe(8) and a final line end added by the MTA do not
 * change it.  Binding body and recipients means a marker copied onto
 * another message, or the same message sent to other recipients, is
 * invalid: such a message is treated as new mail.  TIME is informative;
 * markers do not expire (a message may sit in the queue for days).
 *
 * Ownership: everything is caller-owned; nothing is logged.
 */
#ifndef POSTERN_LOOPGUARD_H
#define POSTERN_LOOPGUARD_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

#define LOOPGUARD_HEADER "X-Postern-Loop"
#define LOOPGUARD_VALUE_MAX 128

enum loopguard_verdict {
	LOOPGUARD_NONE = 0,	/* no marker */
	LOOPGUARD_VALID,	/* a marker made with this secret */
	LOOPGUARD_INVALID,	/* marker(s), none valid: new mail */
};

/*
 * The marker value for a message: body is everything after the header
 * block (may be NULL with len 0).  value gets at most
 * LOOPGUARD_VALUE_MAX bytes.  -1 only when the HMAC fails.
 */
int loopguard_value(const char *secret, time_t t, const char *body,
    size_t body_len, char *const *rcpts, size_t nrcpts,
    char value[LOOPGUARD_VALUE_MAX], const char **error_r);

/* Append msg to out with the marker as its first header field (in the
 * message's line ends). */
int loopguard_add(const char *secret, time_t t, const char *msg, size_t len,
    char *const *rcpts, size_t nrcpts, struct buf *out, const char **error_r);

/* Look for markers in the header block of msg and check them. */
enum loopguard_verdict loopguard_check(const char *secret, const char *msg,
    size_t len, char *const *rcpts, size_t nrcpts);

/* Where the body of msg starts (after the blank line; len when none). */
size_t loopguard_body_offset(const char *msg, size_t len);

#endif
