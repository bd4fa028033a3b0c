/*
 * policy: what postern-encrypt does with a message for each of its
 * envelope recipients, and why; the CipherMail mail flow of seed 003 §4
 * and appendix E, restricted to S/MIME, OpenPGP and plain mail.
 *
 * Identities (§4.1): the originator is the first mailbox of From, else
 * of Sender, else the envelope sender; its settings view gives every
 * sender-role property.  Each envelope recipient has its own view.
 *
 * Per recipient, in this order (policy_decide()):
 *  1. locality internal: POLICY_INBOUND (the inbound path, inbound.h);
 *  2. already encrypted (S/MIME or PGP/MIME at the root, or an inline
 *     PGP message): POLICY_PASS;
 *  3. the encryption level from encrypt-mode of the originator and of
 *     the recipient, policy_combine_modes() (the §4.1.1 table): force on
 *     either side gives MUST; mandatory against no-encryption is a
 *     CONFLICT (not sent, originator notified); mandatory gives MUST;
 *     no-encryption on either side NONE; else ALLOW;
 *  4. triggers raise the level to MUST: the subject trigger
 *     (subject-trigger.*, §4.1.5) and, when force-encrypt.allowed, the
 *     force-encrypt.trigger header (§4.2.1);
 *  5. calendar messages (text/calendar anywhere) with skip-calendar set
 *     for the originator or the recipient: POLICY_PASS, neither signed
 *     nor encrypted (CipherMail's rule: it wins over the level);
 *  6. the method, for ALLOW and MUST: S/MIME when smime.enabled (both
 *     sides), the message is not larger than smime.max-size (both), it is
 *     not a calendar message with smime.skip-calendar, and the recipient
 *     has valid encryption certificates (x509_encryption_certs());
 *     else OpenPGP with the same checks (pgp.enabled, pgp.max-size) and
 *     valid trusted keys (store_pgp_select_encrypt()); else nothing:
 *     MUST (and CONFLICT) gives POLICY_BLOCK, ALLOW falls through to 7;
 *  7. signing: an encrypted message is signed by the same method when
 *     the originator has a signing certificate or key; a plain one only
 *     unless sign.only-when-encrypting (or when the force-sign trigger
 *     matched and force-sign.allowed): S/MIME first, then OpenPGP
 *     unless pgp.skip-sign-only.  Calendar messages are not signed with
 *     skip-signing-calendar (either side) or smime.skip-signing-calendar
 *     (S/MIME); messages already signed at the root are not signed again.
 *
 * Grouping: recipients with the same action, signer, options and subject
 * share one output; policy_decide() numbers the outbound groups (group
 * >= 0) in order of first appearance.  POLICY_INBOUND and POLICY_BLOCK
 * decisions have group -1: the caller groups internal recipients by
 * the message the inbound path made for them, and notifies for blocked
 * ones.
 *
 * Every decision keeps a trace: each setting it read, with value, level
 * and owner (whose view: originator or recipient), and the facts that
 * counted (certificates found, trigger matched).  "posternctl policy
 * explain" prints it.
 *
 * Key lookups go through struct policy_keys, so the rules can be tested
 * without a keystore; policy_keys_store() is the real one.
 *
 * Ownership: policy_decide() returns a result freed with
 * policy_result_free() (accepts NULL, clears the pointer); everything in
 * it belongs to it.  The message, store and keys are borrowed.  Nothing
 * is logged; errors come back through error_r (an internal failure: the
 * caller tempfails).
 */
#ifndef POSTERN_POLICY_H
#define POSTERN_POLICY_H

#include <stddef.h>
#include <time.h>

#include "address.h"
#include "buf.h"
#include "smime.h"

struct mime_message;
struct secret_key;
struct store;
struct x509_ks;

#define POLICY_REASON_MAX 512
#define POLICY_ID_MAX 129	/* an X.509 thumbprint or a PGP fingerprint */
#define POLICY_OPT_MAX 24

enum policy_level {
	POLICY_LEVEL_NONE = 0,	/* not encrypted */
	POLICY_LEVEL_ALLOW,	/* encrypted when possible */
	POLICY_LEVEL_MUST,	/* encrypted, or not sent */
	POLICY_LEVEL_CONFLICT,	/* must be encrypted and may not be */
};

enum policy_action {
	POLICY_INBOUND = 0,	/* internal recipient: the inbound path */
	POLICY_PASS,		/* sent without signing or encryption */
	POLICY_SMIME_SIGN,
	POLICY_PGP_SIGN,
	POLICY_SMIME_ENCRYPT,	/* signed too when sign is set */
	POLICY_PGP_ENCRYPT,
	POLICY_BLOCK,		/* not sent; the originator is notified */
};

enum policy_trace_kind {
	POLICY_T_SETTING = 0,
	POLICY_T_FACT,
};

/* One row of a decision's trace. */
struct policy_trace {
	enum policy_trace_kind kind;
	char *name;		/* setting name, or a fact's label */
	char *value;		/* setting value (secrets masked), or text */
	int sender;		/* read from the originator's view */
	enum address_level level;	/* settings: where it came from */
	char *owner;		/* user, domain or wildcard; "" global */
};

struct policy_decision {
	char rcpt[ADDRESS_MAX + 1];
	enum policy_action action;
	enum policy_level level;
	int sign;		/* encrypt actions: signed as well */
	int group;		/* output number; -1 for INBOUND and BLOCK */
	char reason[POLICY_REASON_MAX];
	/* keys: S/MIME encryption certificate thumbprints or OpenPGP
	 * fingerprints of this recipient (encrypt actions) */
	char **keys;
	size_t nkeys;
	char signer[POLICY_ID_MAX];	/* thumbprint / fingerprint or "" */
	unsigned signer_flags;		/* S/MIME: the x509_policy_flags the
					 * signer was looked up with */
	/* S/MIME options from smime.* (prefixes left NULL) */
	struct smime_opts smime;
	/* OpenPGP options, as setting values ("" when not read) */
	char pgp_encoding[POLICY_OPT_MAX];	/* pgp.encoding */
	char pgp_cipher[POLICY_OPT_MAX];	/* pgp.encryption-algorithm */
	char pgp_digest[POLICY_OPT_MAX];	/* pgp.signing-algorithm */
	int pgp_compress;			/* pgp.compression, both */
	int pgp_html_to_text;			/* pgp.convert-html-to-text */
	struct policy_trace *trace;
	size_t ntrace;
};

struct policy_result {
	char originator[ADDRESS_MAX + 1];	/* "" when none is known */
	const char *originator_from;	/* "From", "Sender", "envelope", "none" */
	unsigned kinds;			/* enum mime_kind of the message */
	int encrypted;			/* step 2 */
	int subject_trigger;		/* the subject trigger matched */
	int header_encrypt;		/* force-encrypt trigger matched */
	int header_sign;		/* force-sign trigger matched */
	char *subject;			/* new Subject (UTF-8) when the
					 * trigger removed its match; NULL:
					 * unchanged */
	struct policy_decision *d;	/* one per envelope recipient */
	size_t n;
	size_t ngroups;
};

/* Lookups; each returns -1 only on an internal error (*error_r). */
struct policy_keys {
	/* Valid encryption certificates of rcpt, as thumbprints (malloc'd
	 * array of malloc'd strings, freed by the caller; may be empty).
	 * x509_flags: enum x509_policy_flags.  why (may be NULL) gets a
	 * short text about skipped candidates. */
	int (*smime_certs)(void *arg, const char *rcpt, unsigned x509_flags,
	    char ***ids_r, size_t *n_r, struct buf *why, const char **error_r);
	/* Valid, trusted OpenPGP encryption keys of rcpt (fingerprints). */
	int (*pgp_keys)(void *arg, const char *rcpt, char ***ids_r,
	    size_t *n_r, const char **error_r);
	/* Signing certificate (thumbprint) / key (fingerprint) of the
	 * originator: 1 found (id set), 0 none, -1 error. */
	int (*smime_signer)(void *arg, const char *sender, unsigned x509_flags,
	    char id[POLICY_ID_MAX], const char **error_r);
	int (*pgp_signer)(void *arg, const char *sender,
	    char id[POLICY_ID_MAX], const char **error_r);
	void *arg;
};

/* The real lookups: the X.509 keystore and the OpenPGP key table at
 * time now.  ks and st are borrowed and must outlive k. */
struct policy_keystore {
	struct x509_ks *ks;
	struct store *st;
	time_t now;
};
void policy_keys_store(struct policy_keys *k, struct policy_keystore *pks,
    struct x509_ks *ks, struct store *st, time_t now);

struct policy_env {
	struct store *st;
	const struct secret_key *mkey;	/* may be NULL: no secret is read */
	const struct policy_keys *keys;
};

struct policy_msg {
	const struct mime_message *m;	/* headers and kinds are read */
	size_t size;			/* message bytes */
	const char *env_from;		/* envelope sender; "" null sender */
	char *const *rcpts;		/* envelope recipients */
	size_t nrcpts;
};

int policy_decide(const struct policy_env *env, const struct policy_msg *pm,
    struct policy_result **res_r, const char **error_r);
void policy_result_free(struct policy_result **res);

/* Step 3 alone: encrypt-mode values of originator and recipient. */
enum policy_level policy_combine_modes(const char *sender_mode,
    const char *rcpt_mode);

/*
 * The subject trigger (§4.1.5) on a decoded (UTF-8) subject: pattern is
 * a keyword, matched without regard to case, or with is_regex a POSIX
 * extended expression (leading "(?i)": any case).  Returns 1 matched, 0
 * not, -1 bad regex (*error_r).  With remove and a match, new_subject
 * (may be NULL) gets the subject without every match, white space
 * around the removed text collapsed and the ends trimmed.
 */
int policy_subject_trigger(const char *subject, const char *pattern,
    int is_regex, int remove, struct buf *new_subject, const char **error_r);

/*
 * A header trigger HEADER[:REGEX] (§4.2.1) against m's top-level header:
 * 1 when a field named HEADER exists (any value when REGEX is absent,
 * empty, "*" or "*.") whose unfolded, RFC 2047-decoded value matches
 * REGEX; 0 not; -1 bad trigger (*error_r).
 */
int policy_header_trigger(const struct mime_message *m, const char *spec,
    const char **error_r);

/* The first mailbox address of a From/Sender value (raw, unfolded):
 * "Name <a@b>", "a@b (c)", "\"x, y\" <a@b>".  0 with out normalised,
 * -1 when there is none. */
int policy_mailbox(const char *value, char *out, size_t outsz);

const char *policy_action_name(enum policy_action a);
const char *policy_level_name(enum policy_level l);

#endif
