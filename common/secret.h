/*
 * secret: the master key, and sealing of secrets under it.
 *
 * The master key is 32 random bytes kept hex-encoded in master_key_file
 * (mode 0600, created by "posternctl init").  Every value of type secret
 * and every private key is stored sealed: AES-256-GCM under the master
 * key with a fresh 96-bit nonce and an "additional data" string that
 * names what the value is (e.g. "setting:server-secret@global"), so a
 * sealed value cannot be moved to another row unnoticed.  A database
 * copied without the key file reveals no secret.
 *
 * Sealed format: "P1" | nonce(12) | ciphertext | tag(16), binary.
 *
 * Ownership: secret_key_load() returns a key the caller frees with
 * secret_key_free() (wipes it, accepts NULL).  secret_seal()/secret_open()
 * return malloc'd buffers the caller frees; secret_open()'s result is
 * NUL-terminated for convenience and should be wiped with
 * secret_wipe_free().  Nothing is logged.
 */
#ifndef POSTERN_SECRET_H
#define POSTERN_SECRET_H

#include <stddef.h>

#define SECRET_KEY_LEN 32
#define SECRET_NONCE_LEN 12
#define SECRET_TAG_LEN 16
#define SECRET_OVERHEAD (2 + SECRET_NONCE_LEN + SECRET_TAG_LEN)

struct secret_key;

/* Create a new key file (refuses to overwrite one). */
int secret_key_create(const char *path, const char **error_r);
/* Refuses a file readable by group or others, or of the wrong form. */
int secret_key_load(struct secret_key **key_r, const char *path,
    const char **error_r);
/* A key from raw bytes (tests). */
struct secret_key *secret_key_from_bytes(const unsigned char *raw,
    size_t len);
void secret_key_free(struct secret_key **key);

int secret_seal(const struct secret_key *key, const char *aad,
    const void *plain, size_t len, unsigned char **sealed_r,
    size_t *sealed_len_r, const char **error_r);
int secret_open(const struct secret_key *key, const char *aad,
    const unsigned char *sealed, size_t len, unsigned char **plain_r,
    size_t *plain_len_r, const char **error_r);

/*
 * A subkey for another purpose: HMAC-SHA256(master key, label) as 64
 * lowercase hex digits in hex_r (65 bytes with the NUL).  Used for the
 * passphrase of the OpenPGP keyring (label "postern-pgp").
 */
int secret_derive_hex(const struct secret_key *key, const char *label,
    char hex_r[65], const char **error_r);

/* Cryptographically random bytes; -1 on failure. */
int secret_random(void *buf, size_t len);
void secret_wipe_free(void *p, size_t len);

#endif
