/*
 * pgp_keyring: Postern's private GnuPG home, driven through gpgme.
 *
 * Home: config gnupg_home, created mode 0700 (refused when group or
 * others can read it, or when the path is longer than PGP_HOME_MAX: the
 * agent socket S.gpg-agent lives inside it and unix socket paths are
 * limited to about 107 bytes).  The home gets its own gpg.conf
 * (trust-model always: trust is Postern's admin flag, never gpg's
 * trustdb, so readers never write a trustdb; no key retrieval) and
 * gpg-agent.conf.  Never the user's ~/.gnupg, never a TTY: every
 * context uses loopback pinentry with a passphrase callback.
 *
 * Key protection (design (a)): every secret key in the home is
 * protected by the keyring passphrase, HMAC-SHA256(master key,
 * "postern-pgp") in hex (secret_derive_hex()), handed to gpg-agent
 * through loopback pinentry.  Generated keys get it at creation;
 * imported secret keys are re-protected with it (gpgme passwd) using the
 * passphrase given at import ("" for unprotected keys).  So no private
 * key ever sits unencrypted on disk, and a copy of the home without the
 * master key file reveals nothing.  The passphrase has 256 bits of
 * entropy, so gpg-agent.conf sets s2k-count 65536 (the minimum): key
 * stretching adds nothing to a random passphrase and costs 2 s per key.
 * The passphrase is only ever offered for a public-key prompt; password
 * (symmetric) prompts are refused during pgp_decrypt/pgp_verify.
 *
 * Concurrency: feasibility §3 measured that gpg readers fail (no secret
 * key, unusable public key, bad signature) while another process imports
 * or deletes keys.  Every gpgme operation on the home runs under an
 * flock(2) on HOME/postern.lock: shared for readers (encrypt, decrypt,
 * sign, verify, list, export), exclusive for writers (import, delete,
 * generate, trust-independent key edits, gpg.conf rewrites).  flock is
 * per open file description, so each struct pgp_keyring opens its own
 * and threads use one struct each.  A turnstile file (postern.turn)
 * gives writers preference: Linux flock lets new readers overtake a
 * waiting writer, which starved imports under load.  The lock is held only for the
 * duration of one operation; a lock wait is bounded by
 * PGP_LOCK_TIMEOUT_MS, then the operation fails (callers tempfail).
 *
 * gpg-agent is started on demand by gpg; pgp_keyring_stop_agent() stops
 * it (tests and "posternctl" must call it when they created the home).
 *
 * Ownership: pgp_keyring_open() returns an object freed with
 * pgp_keyring_free() (accepts NULL, clears the pointer; does not stop
 * the agent).  Key lists are freed with pgp_keyinfo_free_array().
 * Nothing is logged; errors come back through error_r.
 */
#ifndef POSTERN_PGP_KEYRING_H
#define POSTERN_PGP_KEYRING_H

#include <stddef.h>
#include <time.h>

#include <gpgme.h>

#include "str.h"		/* str_array_free() for the string arrays */

#define PGP_HOME_MAX 80
#define PGP_FPR_MAX 64		/* hex fingerprint incl. NUL (v4: 40, v5: 64) */
#define PGP_LOCK_TIMEOUT_MS 30000

struct pgp_keyring;
struct secret_key;

enum pgp_caps {
	PGP_CAP_ENCRYPT = 1 << 0,
	PGP_CAP_SIGN = 1 << 1,
	PGP_CAP_CERTIFY = 1 << 2,
};

struct pgp_subkeyinfo {
	char fpr[PGP_FPR_MAX + 1];
	char keyid[17];
	unsigned caps;		/* enum pgp_caps of this subkey */
	time_t created;
	time_t expires;		/* 0: never */
	int revoked, expired, invalid, disabled;
	int secret;
	char algo[24];		/* "ed25519", "rsa3072", ... */
};

struct pgp_keyinfo {
	char fpr[PGP_FPR_MAX + 1];	/* primary key */
	char keyid[17];
	char *uid;			/* first valid user ID, or NULL */
	/* Emails (normalised) of valid, self-signed, non-revoked user IDs. */
	char **emails;
	size_t nemails;
	unsigned caps;		/* union of usable (valid) subkeys' caps */
	time_t created;
	time_t expires;		/* primary key; 0: never */
	int revoked, expired, invalid, disabled;
	int secret;		/* a secret primary or subkey is present */
	struct pgp_subkeyinfo *subkeys;	/* [0] is the primary */
	size_t nsubkeys;
};

/*
 * Open (creating if missing) the home.  passphrase: the keyring
 * passphrase (64 hex digits from secret_derive_hex()), or NULL when
 * only public-key operations are wanted.  Copied.
 */
int pgp_keyring_open(struct pgp_keyring **kr_r, const char *home,
    const char *passphrase, const char **error_r);
/* The passphrase derived from the master key (hex_r: 65 bytes). */
int pgp_keyring_passphrase(const struct secret_key *mkey, char hex_r[65],
    const char **error_r);
void pgp_keyring_free(struct pgp_keyring **kr);
const char *pgp_keyring_home(const struct pgp_keyring *kr);
/* For the operation under the lock held now: refuse symmetric
 * (password) prompts.  Reset by every pgp_keyring_lock(). */
void pgp_keyring_pubkey_only(struct pgp_keyring *kr);
/* Stop the home's gpg-agent (gpgconf --kill); 0 also if none ran. */
int pgp_keyring_stop_agent(const char *home, const char **error_r);

/*
 * Locking, for pgp.c and for callers that chain operations: take the
 * shared (exclusive=0) or exclusive lock; the lock is not recursive.
 */
int pgp_keyring_lock(struct pgp_keyring *kr, int exclusive,
    const char **error_r);
void pgp_keyring_unlock(struct pgp_keyring *kr);
/* Lock wait bound in ms (default PGP_LOCK_TIMEOUT_MS). */
void pgp_keyring_set_lock_timeout(struct pgp_keyring *kr, long ms);

/*
 * A new gpgme context on the home: OpenPGP, loopback pinentry, the
 * passphrase callback, offline.  The caller frees it with gpgme_release()
 * and must hold the lock while using it.
 */
int pgp_keyring_ctx(struct pgp_keyring *kr, gpgme_ctx_t *ctx_r,
    const char **error_r);
/* Look a key up by fingerprint (primary or subkey) with ctx; secret=1
 * for the secret key.  The caller unrefs it.  -2 (error_r set) when the
 * keyring has no such key, -1 on other errors. */
int pgp_keyring_getkey(gpgme_ctx_t ctx, const char *fpr, int secret,
    gpgme_key_t *key_r, const char **error_r);
/*
 * The same through the keyring's key cache (lock held): PGP_KEY_PUBLIC,
 * PGP_KEY_SECRET, or PGP_KEY_SIGS (public, listed with signatures, for
 * pgp_keyinfo_from_key()).  Saves one gpg process per lookup.  Every
 * writer bumps a generation counter kept in postern.lock before it
 * drops the exclusive lock; a reader whose cache is older flushes it
 * when it takes the lock, so no process uses a key another one deleted
 * or revoked through Postern.  (Changes made with the gpg CLI behind
 * Postern's back are not seen until a Postern writer runs: use
 * "posternctl pgp sync".)  Returns as pgp_keyring_getkey().
 */
enum pgp_key_mode { PGP_KEY_PUBLIC, PGP_KEY_SECRET, PGP_KEY_SIGS };
int pgp_keyring_key(struct pgp_keyring *kr, gpgme_ctx_t ctx, const char *id,
    int mode, gpgme_key_t *key_r, const char **error_r);
/* Fill info from a gpgme key listed with GPGME_KEYLIST_MODE_SIGS. */
int pgp_keyinfo_from_key(gpgme_key_t key, struct pgp_keyinfo *info,
    const char **error_r);

/*
 * List keys (shared lock).  pattern NULL lists all; otherwise a
 * fingerprint (primary or subkey).  Secret flags are filled in.
 */
int pgp_keyring_list(struct pgp_keyring *kr, const char *pattern,
    struct pgp_keyinfo **keys_r, size_t *n_r, const char **error_r);
void pgp_keyinfo_release(struct pgp_keyinfo *k);
void pgp_keyinfo_free_array(struct pgp_keyinfo **keys, size_t n);

/*
 * Import public or secret keys (armored or binary), exclusive lock.
 * Secret keys are re-protected with the keyring passphrase, unlocking
 * them with import_passphrase (NULL or "" for unprotected keys); when
 * that fails the whole import fails and that key is deleted again, so
 * no secret key is ever kept under a passphrase Postern does not know.  fprs_r (may be NULL) gets the
 * primary fingerprints seen (imported or unchanged), malloc'd array of
 * malloc'd strings, freed by the caller (str_array_free()).
 */
int pgp_keyring_import(struct pgp_keyring *kr, const void *data, size_t len,
    const char *import_passphrase, char ***fprs_r, size_t *n_r,
    const char **error_r);

/* Export one key (public, or with secret=1 the secret key protected by
 * the keyring passphrase).  *out_r malloc'd, NUL-terminated. */
int pgp_keyring_export(struct pgp_keyring *kr, const char *fpr, int secret,
    int armor, char **out_r, size_t *len_r, const char **error_r);

/*
 * Generate a key: primary sign+certify and an encryption subkey, no
 * expiry, protected by the keyring passphrase.  algo: "ed25519"
 * (cv25519 subkey) or "rsa3072".  uid: "Name <addr>" or "<addr>".
 */
int pgp_keyring_generate(struct pgp_keyring *kr, const char *uid,
    const char *algo, char fpr_r[PGP_FPR_MAX + 1], const char **error_r);

/* Delete a key with its secret parts (exclusive lock). */
int pgp_keyring_delete(struct pgp_keyring *kr, const char *fpr,
    const char **error_r);

/* Revoke a key we hold the secret of (primary key revocation). */
int pgp_keyring_revoke(struct pgp_keyring *kr, const char *fpr,
    const char **error_r);

/*
 * Cipher and digest preferences (gpg names, "AES256", "SHA512"; NULL
 * or "" for gpg's default), kept in the home's gpg.conf.  With the lock
 * held by the caller: *changed_r tells whether gpg.conf was rewritten
 * (which needs the exclusive lock: the function fails with the shared
 * one when a rewrite is needed, setting *need_exclusive_r).
 */
int pgp_keyring_prefs_locked(struct pgp_keyring *kr, const char *cipher,
    const char *digest, int *need_exclusive_r, const char **error_r);

/* gpgme error text ("what: gpg error"), via err_fmt. */
const char *pgp_strerror(const char *what, gpgme_error_t e);

#endif
