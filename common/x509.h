/*
 * x509: the S/MIME keystore and trust engine (seed 003 §7-§12).
 *
 * What it keeps (schema/0010-x509.sql, all SQL in store_x509.c):
 *  - two certificate stores, X509KS_CERTS (end entities and untrusted
 *    intermediates) and X509KS_ROOTS (trust anchors); a certificate is
 *    identified by its thumbprint, the SHA-512 of its DER as 128 uppercase
 *    hex digits (as CipherMail shows it).  Importing a certificate that is
 *    already in that store is a no-op;
 *  - private keys, linked to the thumbprint of their certificate and
 *    stored sealed under the master key (secret_seal(), additional data
 *    "x509-key:<thumbprint>"); never plaintext in the database;
 *  - CRLs (DER, issuer, this/next update, the revoked serials indexed);
 *  - the certificate trust list (CTL): white or black entries by
 *    thumbprint, "allow expired" on white entries; an entry may name a
 *    certificate that is not in any store;
 *  - selections: (level, owner, thumbprint, kind) rows where level/owner
 *    follow address.h (global: owner ""), kind is encryption, signing or
 *    additional.
 *
 * Trust (x509_verify()): the path is built with OpenSSL X509_verify_cert()
 * at the given time, from the certificate through the certificates store
 * (untrusted) and any extra certificates the caller passes (e.g. those
 * inside a CMS message) to a certificate of the roots store.  Then:
 *  - revocation: every stored CRL whose issuer is the subject of a
 *    certificate on or near the path is first checked itself (signature by
 *    that issuer, thisUpdate not after the time); a CRL that fails is
 *    ignored and the reason says so ("ignored CRL of <CN>: bad
 *    signature").  Valid CRLs are given to OpenSSL with CRL_CHECK |
 *    CRL_CHECK_ALL.  A certificate whose issuer has no stored CRL is not
 *    revocation-checked (soft fail, as CipherMail without "CRL required");
 *    an expired CRL (nextUpdate passed) still counts (revocation is
 *    permanent);
 *  - CTL: a black-listed certificate anywhere on the built chain makes the
 *    certificate invalid ("black-listed", "black-listed via <CN>");
 *    black-listing is so inherited by everything the entry issued.  A
 *    white-listed certificate is trusted without a path to a root and
 *    without revocation check (the admin vouched for it); it is still
 *    refused when expired or not yet valid, unless the entry allows
 *    expired.  White-listing is not inherited.  Black wins over white;
 *  - usage (seed 003 §8.2), on the certificate itself: for encryption,
 *    when key usage is present it must have keyEncipherment (or
 *    keyAgreement for an EC key); for signing digitalSignature or
 *    nonRepudiation; when extended key usage is present it must have
 *    emailProtection or anyExtendedKeyUsage; a DSA, Ed25519 or Ed448
 *    key never encrypts, whatever its key usage says.  X509_USE_PATH
 *    checks the path only.
 *  - the reason is the first problem OpenSSL reports, except that the
 *    certificate's own expiry ("expired DATE", "not yet valid") wins
 *    over a missing path: it stays true whatever root is imported.
 * Every verdict has a short human reason (at most X509_REASON_MAX - 1
 * bytes): "valid", "expired 2024-03-01", "not yet valid", "no path to a
 * trusted root", "revoked by <issuer CN> CRL", "black-listed",
 * "black-listed via <issuer CN>", "key usage does not allow encryption",
 * "a DSA key cannot encrypt",
 * "extended key usage does not allow email protection".  These are the
 * Signer-Trusted-Info header values.
 *
 * Selection (seed 003 §9): see x509_encryption_certs() and
 * x509_signing_cert().  Manual selections are inherited like settings:
 * the most specific level of address_chain_user() that has at least one
 * selection of the kind wins (user, else domain, else the wildcards from
 * the longest, else global); levels are not merged, so a user can
 * override a domain-wide choice.  Additional (escrow) certificates follow
 * the same rule with their own kind.
 *
 * Ownership: struct x509_ks borrows the store and the master key (which
 * must outlive it); it caches the roots store and is freed with
 * x509_ks_free() (accepts NULL, clears the pointer).  One ks is used by
 * one thread; the roots cache is dropped by any change made through this
 * ks, not by changes made by other processes (build one per message or
 * per command).  Every X509 / EVP_PKEY / STACK_OF(X509) returned belongs
 * to the caller.  Private keys returned are in memory only; the sealed
 * plaintext buffer is wiped.
 *
 * Limits: imports are refused above X509_INPUT_MAX bytes; at most
 * X509_PATH_MAX certificates are fetched from the store while building
 * one path.  Nothing is logged: every function returns 0 or -1 with
 * *error_r (a verdict of "invalid" is not an error).
 */
#ifndef POSTERN_X509_H
#define POSTERN_X509_H

#include <stddef.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "address.h"

struct store;
struct secret_key;
struct x509_ks;

#define X509_THUMB_LEN 128		/* hex digits of SHA-512 */
#define X509_REASON_MAX 256
#define X509_INPUT_MAX (16L * 1024 * 1024)
#define X509_PATH_MAX 64

enum x509_where {
	X509KS_CERTS = 0,
	X509KS_ROOTS = 1,
};

enum x509_use {
	X509_USE_PATH = 0,		/* path, time, revocation, CTL only */
	X509_USE_ENCRYPT,
	X509_USE_SIGN,
};

enum x509_sel_kind {
	X509_SEL_ENCRYPTION = 0,
	X509_SEL_SIGNING,
	X509_SEL_ADDITIONAL,
};

enum x509_ctl_kind {
	X509_CTL_WHITE = 0,
	X509_CTL_BLACK,
};

/* Selection policy, resolved by the caller from settings. */
enum x509_policy_flags {
	X509_POL_AUTO_SELECT = 1 << 0,		/* smime.auto-select */
	X509_POL_FRESHEST = 1 << 1,	/* smime.always-use-freshest-signing-cert */
	X509_POL_ADDITIONAL = 1 << 2,	/* smime.add-additional-certificates */
};

/* Import input: what the bytes were (detected). */
enum x509_format {
	X509F_PEM = 0,
	X509F_DER,
	X509F_P7B,
	X509F_P12,
};

enum x509_p12_flags {
	/* PBE-SHA1-3DES keys and certificates with a SHA-1 MAC, for gpgsm
	 * and old clients; the default is PBES2 AES-256-CBC + SHA-256. */
	X509_P12_LEGACY = 1 << 0,
};

/* Metadata of one stored certificate (copied; owned by whoever got it). */
struct x509_info {
	char thumb[X509_THUMB_LEN + 1];
	enum x509_where where;
	char *subject;		/* one-line RFC 2253 */
	char *issuer;
	char *serial;		/* uppercase hex, no separators */
	char *skid;		/* hex, NULL when absent */
	char **emails;		/* lowercased, nemails of them */
	size_t nemails;
	time_t not_before, not_after;
	long key_usage;		/* X509v3_KU_* bits; -1 when absent */
	long ext_key_usage;	/* XKU_* bits; -1 when absent */
	int is_ca;
	int has_key;		/* a private key is stored */
};

void x509_info_free(struct x509_info **info);

struct x509_verdict {
	int valid;
	int white;		/* accepted through a white CTL entry */
	char reason[X509_REASON_MAX];
	STACK_OF(X509) *chain;	/* leaf first, as built; may be NULL */
};

void x509_verdict_init(struct x509_verdict *v);
void x509_verdict_release(struct x509_verdict *v);

/* Result of an import: counts, and the thumbprints of the certificates
 * seen (new or existing), in input order. */
struct x509_import_result {
	size_t added, existed, keys_added, crls_added;
	size_t n;
	char (*thumbs)[X509_THUMB_LEN + 1];
};

void x509_import_result_release(struct x509_import_result *r);

/* Keystore handle. */
int x509_ks_new(struct store *st, const struct secret_key *mkey,
    struct x509_ks **ks_r, const char **error_r);
void x509_ks_free(struct x509_ks **ks);

/* Helpers. */
int x509_thumbprint(X509 *cert, char out[X509_THUMB_LEN + 1]);
/* The CN of a name, else the whole one-line name; into buf. */
const char *x509_name_short(const X509_NAME *name, char *buf, size_t bufsz);

/* Import / export ----------------------------------------------------- */

/*
 * Certificates in PEM (any number), DER or PKCS#7 (.p7b, PEM or DER) into
 * the given store.  Other PEM blocks (private keys, CRLs) are skipped:
 * keys are imported as PKCS#12.  An input with no certificate is an error.
 */
int x509_import_certs(struct x509_ks *ks, enum x509_where where,
    const unsigned char *data, size_t len, struct x509_import_result *res,
    const char **error_r);
/*
 * PKCS#12 (DER, or PEM-armoured) with password (may be NULL or "").
 * Legacy RC2/3DES files are read with OpenSSL's legacy provider.  The
 * certificate matching the key goes into the certificates store with its
 * key (sealed); the other certificates (chain) go into the certificates
 * store as untrusted.  Wrong password: error "wrong password or corrupt
 * PKCS#12".
 */
int x509_import_pkcs12(struct x509_ks *ks, const unsigned char *data,
    size_t len, const char *password, struct x509_import_result *res,
    const char **error_r);
/* CRLs in PEM (many) or DER.  Re-import of the same CRL is a no-op. */
int x509_import_crls(struct x509_ks *ks, const unsigned char *data,
    size_t len, struct x509_import_result *res, const char **error_r);

/* Certificates by thumbprint as PEM, DER (exactly one) or P7B (DER). */
int x509_export_certs(struct x509_ks *ks, enum x509_where where,
    const char *const *thumbs, size_t n, enum x509_format fmt,
    unsigned char **out_r, size_t *len_r, const char **error_r);
/* Certificate + key + the chain found in the stores, as PKCS#12. */
int x509_export_pkcs12(struct x509_ks *ks, const char *thumb,
    const char *password, unsigned flags, unsigned char **out_r,
    size_t *len_r, const char **error_r);

/* Lookup / list / delete -------------------------------------------- */

/* Fetch by thumbprint: cert_r and/or info_r (either may be NULL).
 * Returns 0 found, 1 not found, -1 error. */
int x509_get(struct x509_ks *ks, enum x509_where where, const char *thumb,
    X509 **cert_r, struct x509_info **info_r, const char **error_r);
/*
 * A full thumbprint from what a user typed: hex digits in any case,
 * colons ignored ("openssl x509 -fingerprint -sha512" output works), a
 * unique prefix of at least 8 digits is enough.  where -1: both stores.
 * Returns 0 (out filled), 1 no such certificate, -1 bad or ambiguous.
 * With a full 128-digit thumbprint nothing is looked up (the CTL may
 * name certificates that are not stored).
 */
int x509_thumb_resolve(struct x509_ks *ks, int where, const char *in,
    char out[X509_THUMB_LEN + 1], const char **error_r);
/* Every certificate of a store, or those with an email equal to email
 * (lowercased, index lookup) when email is not NULL; cb stops on non-0. */
int x509_list(struct x509_ks *ks, enum x509_where where, const char *email,
    int (*cb)(const struct x509_info *info, X509 *cert, void *arg),
    void *arg, const char **error_r);
/* Refused while selected anywhere, or while it has a private key, unless
 * force (then the selections go too).  Deleting from the certificates
 * store deletes the key.  Returns 0 deleted, 1 not found, -1
 * refused/error. */
int x509_delete(struct x509_ks *ks, enum x509_where where,
    const char *thumb, int force, const char **error_r);
/* Private key of a certificate: 0 found, 1 none, -1 error. */
int x509_get_key(struct x509_ks *ks, const char *thumb, EVP_PKEY **key_r,
    const char **error_r);

/* CRLs: list (cb per CRL) and the DER of one (by thumbprint). */
struct x509_crl_info {
	char thumb[X509_THUMB_LEN + 1];
	const char *issuer;
	time_t this_update, next_update;	/* next_update 0: none */
	size_t nrevoked;
};
int x509_crl_list(struct x509_ks *ks,
    int (*cb)(const struct x509_crl_info *info, void *arg), void *arg,
    const char **error_r);
int x509_crl_get(struct x509_ks *ks, const char *thumb, X509_CRL **crl_r,
    const char **error_r);

/* Trust list ------------------------------------------------------------ */

int x509_ctl_set(struct x509_ks *ks, const char *thumb,
    enum x509_ctl_kind kind, int allow_expired, const char **error_r);
/* 0 removed, 1 no such entry, -1 error. */
int x509_ctl_remove(struct x509_ks *ks, const char *thumb,
    const char **error_r);
/* 0 entry found (kind_r, allow_expired_r set), 1 none, -1 error. */
int x509_ctl_get(struct x509_ks *ks, const char *thumb,
    enum x509_ctl_kind *kind_r, int *allow_expired_r, const char **error_r);
int x509_ctl_list(struct x509_ks *ks,
    int (*cb)(const char *thumb, enum x509_ctl_kind kind, int allow_expired,
    void *arg), void *arg, const char **error_r);

/* Trust ----------------------------------------------------------------- */

/*
 * Is cert usable for purpose at time at?  extra: more untrusted
 * certificates for path building (borrowed, may be NULL).  Fills *v
 * (x509_verdict_init() first; release with x509_verdict_release()).
 * Returns 0 with a verdict, -1 on an internal error (tempfail).
 */
int x509_verify(struct x509_ks *ks, X509 *cert, STACK_OF(X509) *extra,
    time_t at, enum x509_use purpose, struct x509_verdict *v,
    const char **error_r);
/* The usage rules alone (no path); 1 allowed, 0 not (reason filled). */
int x509_usage_allows(X509 *cert, enum x509_use purpose, char *reason,
    size_t reasonsz);

/* Selection ------------------------------------------------------------- */

/* level/owner as in address.h (owner "" for global); the certificate must
 * be in the certificates store; signing selections need a key and replace
 * the previous one of that level/owner.  Selecting twice is a no-op. */
int x509_select(struct x509_ks *ks, enum address_level level,
    const char *owner, const char *thumb, enum x509_sel_kind kind,
    const char **error_r);
/* 0 removed, 1 was not selected, -1 error. */
int x509_deselect(struct x509_ks *ks, enum address_level level,
    const char *owner, const char *thumb, enum x509_sel_kind kind,
    const char **error_r);
/* Every selection row (level, owner, thumb, kind); for listing. */
int x509_selection_list(struct x509_ks *ks, const char *thumb,
    int (*cb)(enum address_level level, const char *owner,
    const char *thumb, enum x509_sel_kind kind, void *arg), void *arg,
    const char **error_r);

enum x509_origin {
	X509_ORIGIN_AUTO = 0,		/* email match */
	X509_ORIGIN_SELECTED,		/* manual selection (level in entry) */
	X509_ORIGIN_ADDITIONAL,		/* additional (escrow) */
};

struct x509_cert_entry {
	X509 *cert;
	char thumb[X509_THUMB_LEN + 1];
	enum x509_origin origin;
	enum address_level level;	/* of the selection; USER for auto */
};

struct x509_certlist {
	size_t n;
	struct x509_cert_entry *e;
	/* invalid certificates that were candidates, with the reason, for
	 * logging: "thumb-prefix: reason" lines */
	size_t nskipped;
	char **skipped;
};

void x509_certlist_free(struct x509_certlist **l);

/*
 * Encryption certificates for recipient rcpt at time at: the valid
 * certificates of the certificates store with an email equal to rcpt
 * (lowercased) when X509_POL_AUTO_SELECT, plus the valid manually
 * selected ones of the most specific level of rcpt's chain that has
 * encryption selections, plus (X509_POL_ADDITIONAL) the valid additional
 * ones of the most specific level with additional selections.  Each
 * certificate appears once (first origin wins, in that order).  Invalid
 * candidates are left out and listed in skipped.  An empty list is not
 * an error.
 */
int x509_encryption_certs(struct x509_ks *ks, const char *rcpt, time_t at,
    unsigned policy, struct x509_certlist **list_r, const char **error_r);

/*
 * Signing certificate for sender: the selection of the most specific
 * level of sender's chain, if it is valid for signing and has a key;
 * else (auto) among valid signing certificates with a key and an email
 * equal to sender: the first stored one, or with X509_POL_FRESHEST the
 * one with the latest notBefore.  Returns 0 found (cert_r, key_r, and
 * chain_r when not NULL: the intermediates up to but excluding the root),
 * 1 none usable (reason filled when not NULL), -1 error.
 */
int x509_signing_cert(struct x509_ks *ks, const char *sender, time_t at,
    unsigned policy, X509 **cert_r, EVP_PKEY **key_r,
    STACK_OF(X509) **chain_r, char *reason, size_t reasonsz,
    const char **error_r);

/* Decryption ------------------------------------------------------------ */

/* A recipient identifier: issuer+serial, or a subject key identifier. */
struct x509_rid {
	const X509_NAME *issuer;
	const ASN1_INTEGER *serial;
	const ASN1_OCTET_STRING *skid;
};

/*
 * The certificate and private key a recipient identifier names, from the
 * certificates store (only certificates with a key).  Returns 0 found,
 * 1 none, -1 error.  thumb_r (may be NULL) gets the thumbprint.
 */
int x509_key_by_rid(struct x509_ks *ks, const struct x509_rid *rid,
    X509 **cert_r, EVP_PKEY **key_r, char thumb_r[X509_THUMB_LEN + 1],
    const char **error_r);
/* The same for a CMS KeyTransRecipientInfo or KeyAgreeRecipientInfo
 * (each recipient encrypted key of a KARI is tried).  Other types: 1. */
int x509_key_by_recipientinfo(struct x509_ks *ks, CMS_RecipientInfo *ri,
    X509 **cert_r, EVP_PKEY **key_r, char thumb_r[X509_THUMB_LEN + 1],
    const char **error_r);

/*
 * Strict mode, seed 003 §4.1.4: may a message that the key of
 * certificate thumb can decrypt be decrypted for recipient rcpt?  Yes
 * when the certificate is valid for encryption at time at, has a key, and
 * (a) one of its emails equals rcpt (lowercased), or (b) it is selected
 * for rcpt as encryption certificate at user level, or (c) it is selected
 * for rcpt's domain (or a wildcard domain matching it) at domain level.
 * *allow_r is 1 or 0 and reason says which rule matched or why not
 * ("(a) email match", "(b) selected for user", "(c) selected for domain
 * example.com", "not associated with <rcpt>", "expired 2024-03-01").
 */
int x509_strict_allows(struct x509_ks *ks, const char *rcpt,
    const char *thumb, time_t at, int *allow_r, char *reason,
    size_t reasonsz, const char **error_r);

const char *x509_sel_kind_name(enum x509_sel_kind kind);
int x509_sel_kind_parse(const char *s, enum x509_sel_kind *kind_r);

#endif
