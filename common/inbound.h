/*
 * inbound: what happens to a message arriving for internal recipients,
 * shared by postern-milter (before queueing) and postern-encrypt (for
 * internal recipients when no milter ran).
 *
 * inbound_process() edits a parsed message in place:
 *   1. removes every header whose name is the info prefix (config
 *      info_header_prefix) or a legacy prefix (legacy_info_header_
 *      prefixes), alone or followed by "-": no sender can forge ours;
 *   2. finds the crypto parts (mime_inspect);
 *   3. decides whether it may decrypt: only when every envelope
 *      recipient is internal (setting "locality"): a milter cannot split
 *      recipients, so a mixed message stays encrypted and says so in
 *      PREFIX-Decryption-Skipped;
 *   4. hands the message to the S/MIME and OpenPGP handlers, which add
 *      their info headers and replace the body when they decrypt
 *      (OpenPGP: pgp_msg_inbound_edit(), when S/MIME did not decrypt;
 *      keys found in the mail are imported untrusted with
 *      pgp.import-keys-from-mail; an import failure is logged, the
 *      mail is not at fault);
 *   5. applies the security-info subject tags and the subject filter.
 * A message that is too large (the caller's spool refused it) is passed
 * with PREFIX-Skipped: message too large, and nothing else is done.
 *
 * Never claims what was not proven: a handler failure on bad input
 * leaves the message as it was (plus an info header); only an internal
 * failure (store, memory) returns INBOUND_TEMPFAIL, and the caller then
 * applies its failure action.
 *
 * res->log gets one line of key=value fields for the caller to log after
 * the queue ID: found=... action=... rcpt=<...> reason="...".
 *
 * Ownership: env members are borrowed; res is caller-embedded
 * (inbound_result_init/_release).  Nothing is logged here.
 */
#ifndef POSTERN_INBOUND_H
#define POSTERN_INBOUND_H

#include <stddef.h>

#include "buf.h"

struct config;
struct mime_message;
struct pgp_keyring;
struct secret_key;
struct store;

struct inbound_env {
	const struct config *cfg;
	struct store *st;
	const struct secret_key *mkey;
	long key_cache_ttl;	/* seconds private keys stay cached in this
				 * process; 0: none (see inbound.c) */
	/* The OpenPGP keyring (config gnupg_home), opened with the
	 * passphrase of mkey, used by this thread only (its flock is per
	 * struct); NULL when it could not be opened: OpenPGP mail then
	 * tempfails with kr_error as the reason, other mail is handled. */
	struct pgp_keyring *kr;
	const char *kr_error;
};

struct inbound_msg {
	const char *qid;
	const char *env_from;		/* MAIL FROM, may be "" */
	char *const *rcpts;		/* RCPT TO addresses */
	size_t nrcpts;
	int too_big;			/* spool refused it: pass unchanged */
};

enum inbound_action {
	INBOUND_NONE = 0,		/* nothing found, nothing done */
	INBOUND_PASSED,			/* crypto found, left as it was */
	INBOUND_DECRYPTED,
	INBOUND_VERIFIED,		/* signature checked (any verdict) */
};

struct inbound_result {
	enum inbound_action action;
	unsigned kinds;			/* enum mime_kind bits found */
	int stripped;			/* forged info headers removed */
	unsigned smime_flags;		/* enum smime_result_flags */
	unsigned pgp_flags;		/* enum pgp_msg_result_flags */
	char signer_email[320];		/* first signer, for the tag */
	struct buf log;
};

enum inbound_status {
	INBOUND_OK = 0,
	INBOUND_TEMPFAIL = -1,
};

void inbound_result_init(struct inbound_result *res);
void inbound_result_release(struct inbound_result *res);

int inbound_process(const struct inbound_env *env,
    const struct inbound_msg *im, struct mime_message *m,
    struct inbound_result *res, const char **error_r);

/* Drop every cached private key (tests, shutdown). */
void inbound_key_cache_flush(void);

/* Step 1 alone: remove headers named prefix or prefix-*; returns how
 * many (also used by postern-encrypt on outbound mail). */
int inbound_strip_info(const struct config *cfg, struct mime_message *m);

#endif
