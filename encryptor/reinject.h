/*
 * reinject: hand one output message of postern-encrypt back to the MTA,
 * each with its own envelope (Postfix FILTER_README, "simple" filter).
 *
 * Two ways, from config key "reinject":
 *   smtp:[HOST]:PORT   SMTP to an smtpd with content_filter= and no
 *                      milters.  One connection serves every hand-off of
 *                      a message (a transaction each: MAIL, RCPT..., DATA);
 *                      the message is sent with CRLF line ends and dot
 *                      stuffing; BODY=8BITMIME when it has 8-bit bytes and
 *                      the server offers it; SMTPUTF8 likewise for non-ASCII
 *                      addresses.  A hand-off is done when the server
 *                      answers 250 to the end of the data.
 *   sendmail:CMD ARGS  run CMD ARGS -i -f SENDER -- RCPT... with the
 *                      message on standard input (LF); done when it exits
 *                      with status 0.  The null sender is passed as
 *                      "-f <>" (understood by Postfix and Sendmail).
 *
 * Every step is bounded by the timeout (connect, each SMTP reply, the
 * whole sendmail run; the child is killed when it passes).  After any
 * failure the SMTP connection is dropped, and the next hand-off opens a
 * new one.
 *
 * Results: REINJECT_OK, REINJECT_TEMP (retry later: 4xx, timeouts, I/O,
 * a sendmail exit status other than 0) or REINJECT_PERM (a 5xx reply to
 * MAIL, RCPT or DATA: the MTA refuses the message for good).  reply gets
 * the server's last reply or the command's output, sanitised for a log.
 *
 * Ownership: reinject_new() returns an object freed with reinject_free()
 * (accepts NULL, clears the pointer; ends an open SMTP session with
 * QUIT).  Messages are borrowed.  Nothing is logged.
 */
#ifndef POSTERN_REINJECT_H
#define POSTERN_REINJECT_H

#include <stddef.h>

#define REINJECT_REPLY_MAX 512

enum reinject_status {
	REINJECT_OK = 0,
	REINJECT_TEMP = -1,
	REINJECT_PERM = -2,
};

struct reinject_msg {
	const char *sender;		/* "" for the null sender */
	char *const *rcpts;
	size_t nrcpts;
	const char *data;		/* the message, LF or CRLF */
	size_t len;
};

struct reinject;

/* Parse spec ("smtp:[127.0.0.1]:10026", "sendmail:/usr/sbin/sendmail
 * -G"); -1 when it is malformed.  Nothing is connected yet. */
int reinject_new(struct reinject **r_r, const char *spec, long timeout_ms,
    const char **error_r);
/* One hand-off; returns an enum reinject_status. */
int reinject_send(struct reinject *r, const struct reinject_msg *m,
    char reply[REINJECT_REPLY_MAX], const char **error_r);
void reinject_free(struct reinject **r);

#endif
