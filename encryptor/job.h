/*
 * job: one message through postern-encrypt, up to the moment of the
 * first hand-off.  job_run() does all the work that can fail for
 * internal reasons (database, keystore, crypto, templates) and leaves a
 * list of finished output messages, each with its envelope, marked with
 * the loop guard; nothing is handed to the MTA here, so a failure never
 * leaves part of a message delivered.
 *
 *  1. A valid loop marker (loopguard.h): one output, the message as it
 *     is, for every recipient.
 *  2. The policy (policy.h) decides per recipient.
 *  3. Internal recipients: the inbound path (inbound.h) once per
 *     recipient, so strict mode and per-recipient settings apply to each;
 *     recipients whose resulting messages are byte-identical share one
 *     output.  With config encrypt_after_milter, mail the milter already
 *     handled (no encrypted part left, and no signed part it had to skip
 *     for an external recipient) is passed as it is.
 *  4. External recipients: the base message (info headers and loop
 *     markers removed, the subject trigger's match removed) is signed
 *     and/or encrypted once per policy group: one S/MIME envelope with
 *     the certificates of every recipient of the group, one OpenPGP
 *     message for all their keys.
 *  5. Blocked recipients (encryption required, impossible): not sent;
 *     one "encryption failed" notification (template) to the originator,
 *     or to the system sender when the message has the null envelope
 *     sender.  An OpenPGP group whose keys gpg refuses (PGP_MSG_REFUSED)
 *     becomes blocked when encryption was required, and is sent
 *     unencrypted when it was only allowed.
 *  6. With encryption-notification for the originator and at least one
 *     encrypted group: one "encryption notification".
 * Notifications have the null envelope sender.
 *
 * Results: 0 with *job_r set, or -1 with *error_r (the caller exits 75).
 * job->lines are the log lines (without the queue ID) for the caller.
 *
 * Ownership: job_run() returns a job freed with job_free() (accepts
 * NULL, clears the pointer); the message and env are borrowed.
 */
#ifndef POSTERN_JOB_H
#define POSTERN_JOB_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

struct config;
struct secret_key;
struct store;

struct job_env {
	const struct config *cfg;
	struct store *st;
	const struct secret_key *mkey;
	time_t now;
	const char *qid;
};

struct job_output {
	const char *kind;	/* "plain", "smime-encrypt", "inbound",
				 * "loop", "notification" ... (static) */
	char *sender;		/* envelope sender, "" null */
	char **rcpts;
	size_t nrcpts;
	struct buf data;	/* the message, marked */
};

struct job {
	struct job_output *out;
	size_t nout;
	char **lines;		/* log lines, in order */
	size_t nlines;
	size_t nblocked;	/* recipients not sent to */
};

int job_run(const struct job_env *env, const char *msg, size_t len,
    const char *env_from, char *const *rcpts, size_t nrcpts,
    struct job **job_r, const char **error_r);
void job_free(struct job **job);

/*
 * The queue ID for log lines: the "id" of the topmost Received field
 * (the MTA's queue ID of this message), else a random one; returns 1
 * when generated.  out gets at most 31 characters.
 */
int job_qid(const char *msg, size_t len, char out[32]);

#endif
