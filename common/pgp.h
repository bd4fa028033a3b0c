/*
 * pgp: OpenPGP crypto primitives on memory buffers (gpgme), over a
 * struct pgp_keyring.  No MIME here: PGP/MIME and PGP/INLINE are built
 * on these by the message layer.
 *
 * Every operation takes the keyring's shared lock for its duration
 * (exclusive only when the cipher/digest preference in the home's
 * gpg.conf must change first: see pgp_keyring_prefs_locked()).
 *
 * Output: written into a caller-owned struct buf; the output size is
 * capped at opts->max_out bytes (0: PGP_DEFAULT_MAX_OUT) through a gpgme
 * data callback that fails past the cap, so compression bombs and zlib
 * quines stop there (PGP_E_TOO_LARGE).  On any failure the buf is left
 * empty: plaintext of a message that did not fully decrypt with
 * integrity protection is never released.
 *
 * Integrity: encryption always uses MDC (gpg always emits it for
 * modern ciphers; we never ask for otherwise).  Decryption refuses
 * messages without integrity protection (PGP_E_NO_MDC) and tampered or
 * truncated ones (PGP_E_BAD_DATA), with no plaintext.
 *
 * Results: struct pgp_result, filled as far as known even on failure
 * (recipients of an undecryptable message, "no key"), released with
 * pgp_result_release().  Signatures: each with a status; a message
 * whose signature packets are missing is not signed (nsigs == 0).
 * Signer emails come from the signer key's valid self-signed user IDs.
 *
 * Nothing is logged; errors come back through error_r and res->status.
 */
#ifndef POSTERN_PGP_H
#define POSTERN_PGP_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "pgp_keyring.h"

#define PGP_DEFAULT_MAX_OUT (64u * 1024 * 1024)

enum pgp_status {
	PGP_E_OK = 0,
	PGP_E_NO_KEY,		/* no secret key for any recipient */
	PGP_E_NO_MDC,		/* not integrity protected: refused */
	PGP_E_BAD_DATA,		/* malformed, tampered, truncated */
	PGP_E_TOO_LARGE,	/* output passed max_out */
	PGP_E_BAD_PASSPHRASE,	/* secret key locked */
	PGP_E_NOT_ENCRYPTED,	/* decrypt of non-encrypted input */
	PGP_E_INTERNAL,		/* gpg/gpgme/lock failure: tempfail */
};

enum pgp_sig_status {
	PGP_SIG_VALID,
	PGP_SIG_BAD,		/* signature does not match */
	PGP_SIG_NO_PUBKEY,
	PGP_SIG_EXPIRED_KEY,
	PGP_SIG_REVOKED_KEY,
	PGP_SIG_EXPIRED_SIG,
	PGP_SIG_ERROR,		/* unsupported algorithm, other */
};

enum pgp_sig_mode {
	PGP_SIG_DETACH,
	PGP_SIG_CLEAR,		/* cleartext signature (text) */
	PGP_SIG_INLINE,		/* one-pass signed message */
};

struct pgp_opts {
	int armor;		/* ASCII armor output */
	int no_compress;	/* encrypt without compression */
	const char *cipher;	/* "AES256", "AES128"...; NULL: default */
	const char *digest;	/* "SHA256", "SHA512"...; NULL: default */
	size_t max_out;		/* output cap; 0: PGP_DEFAULT_MAX_OUT */
};

struct pgp_sig {
	enum pgp_sig_status status;
	char fpr[PGP_FPR_MAX + 1];	/* signing (sub)key as reported */
	char keyid[17];
	char primary_fpr[PGP_FPR_MAX + 1];	/* "" when the key is unknown */
	char **emails;			/* signer's valid UID emails */
	size_t nemails;
	time_t created;
	char hash[16];			/* "SHA256" */
};

struct pgp_result {
	enum pgp_status status;
	int encrypted;		/* the input was encrypted */
	int signed_;		/* the input carried at least one signature */
	char **recipients;	/* key IDs the message was encrypted to */
	size_t nrecipients;
	char decrypt_keyid[17];	/* the (sub)key that decrypted it, or "" */
	char cipher[24];	/* "AES256", ... or "" */
	struct pgp_sig *sigs;
	size_t nsigs;
};

const char *pgp_status_name(enum pgp_status s);
const char *pgp_sig_status_name(enum pgp_sig_status s);
void pgp_result_release(struct pgp_result *res);
/* All signatures valid and at least one. */
int pgp_result_all_valid(const struct pgp_result *res);

/*
 * Encrypt in to the keys fprs (fingerprints of primaries or subkeys;
 * gpg picks each key's encryption subkey), and sign with signer_fpr
 * when not NULL.  Keys are used as given: selection and trust are the
 * caller's (pgp_keystore).
 */
int pgp_encrypt(struct pgp_keyring *kr, const char *const *fprs,
    size_t nfprs, const char *signer_fpr, const struct pgp_opts *opts,
    const void *in, size_t len, struct buf *out, const char **error_r);

int pgp_sign(struct pgp_keyring *kr, const char *signer_fpr,
    enum pgp_sig_mode mode, const struct pgp_opts *opts, const void *in,
    size_t len, struct buf *out, const char **error_r);

/*
 * The same, telling the caller why it failed through *status_r (may be
 * NULL): PGP_E_OK; PGP_E_NO_KEY when a recipient or signer key is not
 * in the keyring or gpg finds it unusable (expired, revoked, no
 * encryption or signing subkey), or no recipient was given;
 * PGP_E_TOO_LARGE when the output passed max_out; PGP_E_INTERNAL for
 * everything else (gpg or gpgme failed, lock timeout, memory): retry
 * later.
 */
int pgp_encrypt_ex(struct pgp_keyring *kr, const char *const *fprs,
    size_t nfprs, const char *signer_fpr, const struct pgp_opts *opts,
    const void *in, size_t len, struct buf *out, enum pgp_status *status_r,
    const char **error_r);
int pgp_sign_ex(struct pgp_keyring *kr, const char *signer_fpr,
    enum pgp_sig_mode mode, const struct pgp_opts *opts, const void *in,
    size_t len, struct buf *out, enum pgp_status *status_r,
    const char **error_r);

/* Decrypt and verify any signatures inside.  res is always filled. */
int pgp_decrypt(struct pgp_keyring *kr, const struct pgp_opts *opts,
    const void *in, size_t len, struct buf *out, struct pgp_result *res,
    const char **error_r);

/*
 * Verify: detached (sig + data), or inline/cleartext (sig only, data
 * NULL: the signed text goes to out, which may then not be NULL).
 * Returns 0 when verification ran (look at res->sigs; nsigs 0 means not
 * signed), -1 on error.
 */
int pgp_verify(struct pgp_keyring *kr, const struct pgp_opts *opts,
    const void *sig, size_t siglen, const void *data, size_t datalen,
    struct buf *out, struct pgp_result *res, const char **error_r);

#endif
