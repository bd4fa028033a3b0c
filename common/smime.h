/*
 * smime: S/MIME (RFC 8551) on top of OpenSSL 3 CMS: decrypt and verify
 * inbound mail, encrypt and sign outbound mail, and describe what was
 * found in the info headers (infohdr.h).
 *
 * Two layers:
 *
 *  1. CMS on bytes (smime_cms_*): DER in, content bytes out.  No MIME,
 *     no base64.  The key store and the trust decisions come in through
 *     struct smime_keys (callbacks), so this layer needs neither the
 *     keystore nor the database.
 *
 *  2. Messages (smime_inbound, smime_encrypt, smime_sign): a whole RFC
 *     5322 message in memory (CRLF or LF line ends; the output keeps the
 *     input's convention).  The S/MIME structure is found by its own small
 *     MIME splitter that only looks at the root entity and, through
 *     signature layers, at the single entity they protect; other parts
 *     are never touched.
 *
 * Inbound rules (security):
 *  - Layers are walked from the root: enveloped-data / authEnveloped-data
 *    (application/(x-)pkcs7-mime, or name=smime.p7m without smime-type),
 *    opaque signed-data, multipart/signed (application/(x-)pkcs7-signature).
 *    LEVEL 0 is the outermost layer.  A multipart/signed of another
 *    protocol (PGP/MIME) is looked through without a level and without
 *    verification (SMIME_R_FOREIGN_SIGNATURE); it never counts as signed.
 *  - Decryption only happens when the encrypted entity is the root or the
 *    content of signature layers at the root.  A pkcs7-mime part anywhere
 *    else (inside multipart/mixed ...) is reported as mixed content
 *    (SMIME_R_MIXED, header SMIME-Mixed-Content) and left alone.
 *  - A signature counts for the delivered message (SMIME_R_SIGNED) only
 *    when it covers all of it: a signature on the root (or inside the
 *    last decrypted layer).  Signatures over ciphertext are reported per
 *    signer but do not make the result "signed"; signatures on a part
 *    (inside multipart/mixed) are ignored.
 *  - A signer whose digest is MD2, MD4 or MD5 is never verified ("weak
 *    digest algorithm"), whatever the providers could compute.
 *  - SMIME_R_SIGNED_VALID needs at least one SignerInfo in every counted
 *    signature layer, and every signer verified (digest + signature) and
 *    trusted (struct smime_keys validate callback).  Zero SignerInfos is
 *    never "signed".  For multipart/signed the signature is checked over
 *    the exact bytes of the first part (CRLF canonical); an eContent in a
 *    detached signature is ignored (the MIME part is what is shown).
 *  - compressed-data is never decompressed: SMIME_R_COMPRESSED, header
 *    SMIME-Compressed, message unchanged from that layer on.
 *  - AuthEnvelopedData (GCM) whose tag does not match yields no plaintext.
 *  - After decryption, 8-bit bytes (or NUL) in a part declared 7bit (or
 *    with no transfer encoding) give SMIME-Illegal-Chars-Found (a CBC
 *    block changed by an attacker shows up this way); with
 *    abort_on_illegal_7bit the ciphertext is delivered unchanged.
 *
 * What is delivered (result->changed): only decryption changes the
 * message.  The outer header minus Content-* / MIME-Version (and minus
 * the fields the decrypted entity repeats: protected headers win), then
 * the decrypted entity.  Signature layers inside it stay as they are, so
 * the recipient can still verify them; signature layers outside it are
 * consumed (reported at their level).  A message without an encryption
 * layer is never changed by smime_inbound().
 *
 * Info headers (PREFIX-NAME[-INDEX]-LEVEL, see infohdr.h):
 *   Encryption-Algorithm-L          "AES128, Key size: 128"
 *   Encryption-Recipient-I-L        "issuer DN/serial hex/SKI hex/OID"
 *   Signer-ID-I-L                   "issuer DN/serial hex/SKI hex"
 *   Signer-Email-I-L                e-mail addresses of the certificate
 *   Signer-Verified-I-L             True/False (digest and signature)
 *   Signer-Verification-Info-I-L    why not (when False)
 *   Signer-Trusted-I-L              True/False (validate callback)
 *   Signer-Trusted-Info-I-L         the keystore's reason (when False)
 *   Signer-Mismatch                 True: a counted signer is not From
 *   SMIME-Encrypted                 True: an encryption layer was found
 *   SMIME-Signed                    True/False: the delivered content is
 *                                   covered by a signature
 *   SMIME-Decryption-Key-Not-Found  True
 *   SMIME-Decryption-Failed         the reason (corrupt, tag, cipher)
 *   SMIME-Illegal-Chars-Found       True
 *   SMIME-Mixed-Content             True: S/MIME part not at the root
 *   SMIME-Compressed                True
 *   SMIME-Skipped                   why (message larger than max_size)
 * SMIME-Signed True never means valid: check the per-signer headers or
 * SMIME_R_SIGNED_VALID.
 *
 * Ownership: smime_inbound() fills a struct smime_result the caller
 * releases with smime_result_release().  Its message (when changed) is
 * malloc'd, its info headers and certificates belong to the result until
 * released; take a reference (X509_up_ref) to keep a certificate (the
 * caller decides whether to import them into the keystore).  Callbacks
 * get borrowed pointers and return new references as stated.  Outbound
 * functions append to a caller's struct buf; certificates and keys are
 * borrowed.
 *
 * Limits: messages up to smime_opts.max_size bytes (default 50 MiB;
 * larger ones: inbound unchanged with SMIME-Skipped, outbound error); at
 * most SMIME_MAX_LAYERS layers (deeper ones are left as they are).  Peak
 * memory is about three times the message (one buffer per decrypted or
 * unwrapped layer, plus the rebuilt message).
 *
 * Legacy ciphers (RC2, CAST5, SEED): setting smime.legacy-algorithms;
 * the caller calls smime_legacy_enable() once at startup and sets
 * smime_opts.legacy.  Without the provider such mail fails to decrypt
 * cleanly (SMIME-Decryption-Failed) and is delivered unchanged.
 *
 * Logging: nothing; errors go to *error_r, the caller logs once.
 * An internal failure (out of memory, callback error) returns -1; the
 * caller tempfails.  Bad or undecryptable input is not an error: the
 * result says what was found and the message is unchanged.
 */
#ifndef POSTERN_SMIME_H
#define POSTERN_SMIME_H

#include <stddef.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "infohdr.h"

#define SMIME_MAX_LAYERS 8
#define SMIME_REASON_MAX 256

/* A recipient identifier (borrowed OpenSSL objects; any may be NULL). */
struct smime_rid {
	const X509_NAME *issuer;
	const ASN1_INTEGER *serial;
	const ASN1_OCTET_STRING *ski;
};

/* The keystore as seen by this module. */
struct smime_keys {
	/*
	 * Find the private key for one recipient.  Return 1 with *pkey_r
	 * and *cert_r set (new references, the cert may be NULL when the
	 * key alone is known), 0 when no key is known, -1 on an internal
	 * error (*error_r set).
	 */
	int (*find_key)(void *arg, const struct smime_rid *rid,
	    EVP_PKEY **pkey_r, X509 **cert_r, const char **error_r);
	/*
	 * Validate a signer certificate at time at: path to a trust anchor
	 * using untrusted (the certificates in the signature plus any extra)
	 * as intermediates, revocation, key usage.  Return 0 with
	 * *trusted_r and reason (NUL-terminated, "" when trusted; the
	 * keystore's human wording otherwise), -1 on internal error.
	 */
	int (*validate)(void *arg, X509 *signer, STACK_OF(X509) *untrusted,
	    time_t at, int *trusted_r, char *reason, size_t reason_size,
	    const char **error_r);
	/*
	 * Optional: a symmetric key-encryption key (KEKRecipientInfo) by its
	 * identifier.  Return 1 with the key copied to key (*keylen_r set,
	 * at most 64 bytes), 0 when unknown, -1 on error.
	 */
	int (*find_kek)(void *arg, const unsigned char *id, size_t idlen,
	    unsigned char *key, size_t *keylen_r, const char **error_r);
	void *arg;
};

/*
 * A ready-made struct smime_keys over an X509_STORE (trust anchors) and
 * a list of key pairs, for tests and the bench until the keystore is
 * wired in.  The struct smime_simple_keys is owned by the caller; store,
 * certs and keys are borrowed.  validate() uses X509_V_FLAG_USE_CHECK_TIME
 * with purpose smimesign; the reason is X509_verify_cert_error_string().
 */
struct smime_simple_keys {
	X509_STORE *store;
	STACK_OF(X509) *certs;		/* certs[i] goes with keys[i] */
	EVP_PKEY **keys;
	size_t nkeys;
	unsigned long vflags;		/* extra X509_V_FLAG_* (partial chain) */
};
void smime_simple_keys_init(struct smime_keys *k,
    struct smime_simple_keys *sk);

/*
 * The real thing: keys and trust from the X.509 keystore (x509.h).  ks
 * is borrowed and must outlive k.  Signer trust is x509_verify() for
 * signing; Signer-Trusted-Info is its reason ("expired 2024-03-01",
 * "no path to a trusted root", "revoked by ... CRL", "black-listed"...).
 * Strict mode (x509_strict_allows) is the caller's check on the
 * decrypting certificate before it delivers the plaintext.
 */
struct x509_ks;
void smime_keys_from_ks(struct smime_keys *k, struct x509_ks *ks);

/*
 * Strict mode (seed 003 §4.1.4, smime.strict): a key is only used when
 * x509_strict_allows() accepts its certificate for recipient rcpt at
 * time at (0: now); a refused key counts as not found (the mail stays
 * encrypted, SMIME-Decryption-Key-Not-Found) and st->refused /
 * st->reason say why, for the caller's log line.  st is owned by the
 * caller and must outlive k; ks and rcpt are borrowed.
 */
struct smime_ks_strict {
	struct x509_ks *ks;
	const char *rcpt;
	time_t at;
	int refused;			/* keys refused by the rule */
	char reason[SMIME_REASON_MAX];	/* the last refusal */
};
void smime_keys_from_ks_strict(struct smime_keys *k,
    struct smime_ks_strict *st, struct x509_ks *ks, const char *rcpt,
    time_t at);

/* ---- CMS on bytes ---- */

enum smime_cms_type {
	SMIME_CMS_UNKNOWN = 0,
	SMIME_CMS_ENVELOPED,
	SMIME_CMS_AUTH_ENVELOPED,
	SMIME_CMS_SIGNED,
	SMIME_CMS_COMPRESSED,
	SMIME_CMS_DATA,
	SMIME_CMS_OTHER,
};

/* The type of a DER/BER ContentInfo from its contentType alone (the
 * rest is not parsed: an operation may still find it corrupt). */
enum smime_cms_type smime_cms_type(const unsigned char *der, size_t len);

struct smime_recipient {
	char id[1024];		/* issuer DN/serial hex/SKI hex/key-enc OID */
	int matched;		/* the key came from this one */
};

struct smime_decrypt_info {
	enum smime_cms_type type;
	char algorithm[64];	/* "AES128, Key size: 128" */
	struct smime_recipient *recipients;	/* malloc'd array */
	size_t nrecipients;
	int key_found;
};
void smime_decrypt_info_release(struct smime_decrypt_info *di);

/*
 * Decrypt EnvelopedData / AuthEnvelopedData.  Returns 1 with the
 * plaintext in out (appended), 0 when it cannot be decrypted (no key:
 * key_found 0; or bad data/tag: reason in *error_r), -1 on internal error.
 * info is filled in all cases where the structure could be parsed.
 */
int smime_cms_decrypt(const unsigned char *der, size_t len,
    const struct smime_keys *keys, struct smime_decrypt_info *info,
    struct buf *out, const char **error_r);

struct smime_signer {
	char id[1024];		/* issuer DN/serial hex/SKI hex */
	char email[512];	/* e-mail addresses of the cert, ", " separated */
	int verified;		/* digest and signature correct */
	char verify_info[SMIME_REASON_MAX];
	int trusted;
	char trust_info[SMIME_REASON_MAX];
	int from_match;		/* -1 unknown (no From), 0 mismatch, 1 match */
	char digest[32];	/* "SHA256" */
	X509 *cert;		/* owned by the struct; NULL when not found */
};

struct smime_verify_info {
	struct smime_signer *signers;	/* malloc'd array */
	size_t nsigners;
	STACK_OF(X509) *certs;	/* every certificate in the signature */
	int detached_had_econtent;
};
void smime_verify_info_release(struct smime_verify_info *vi);

/*
 * Verify SignedData.  content: the detached content (exact bytes), or
 * NULL to use the eContent (which is then appended to out, when out is
 * not NULL).  from: the From address to compare signers with (NULL:
 * not compared).  Returns 1 when the structure was parsed (see the
 * per-signer results; release info with smime_verify_info_release()),
 * 0 when it is not SignedData or is corrupt (*error_r), -1 on internal
 * error; on 0 and -1 info is left empty.
 */
int smime_cms_verify(const unsigned char *der, size_t len,
    const unsigned char *content, size_t content_len,
    const struct smime_keys *keys, time_t at, const char *from,
    struct smime_verify_info *info, struct buf *out, const char **error_r);

/* ---- outbound options (settings smime.*) ---- */

enum smime_cipher {
	SMIME_AES128_CBC = 0,
	SMIME_AES192_CBC,
	SMIME_AES256_CBC,
	SMIME_AES128_GCM,
	SMIME_AES192_GCM,
	SMIME_AES256_GCM,
	SMIME_DES_EDE3_CBC,
	SMIME_RC2_128_CBC,	/* legacy provider */
	SMIME_CAST5_CBC,	/* legacy provider */
	SMIME_CAMELLIA128_CBC,
	SMIME_CAMELLIA256_CBC,
	SMIME_SEED_CBC,		/* legacy provider */
};

enum smime_scheme {
	SMIME_RSA_PKCS1 = 0,
	SMIME_RSA_OAEP_SHA1,
	SMIME_RSA_OAEP_SHA256,
	SMIME_RSA_OAEP_SHA384,
	SMIME_RSA_OAEP_SHA512,
};

enum smime_digest {
	SMIME_SHA256 = 0,
	SMIME_SHA384,
	SMIME_SHA512,
	SMIME_SHA1,
};

struct smime_opts {
	enum smime_cipher cipher;	/* default AES128-CBC */
	enum smime_scheme scheme;	/* default PKCS#1 v1.5 */
	enum smime_digest digest;	/* default SHA-256 */
	int pss;			/* RSASSA-PSS signatures */
	int opaque;			/* opaque signed-data instead of
					 * multipart/signed */
	int protect_headers;		/* copy Subject/From/To/Cc/Reply-To
					 * into the protected entity */
	int legacy;			/* allow legacy-provider ciphers */
	int abort_on_illegal_7bit;	/* keep ciphertext if 8-bit in 7bit */
	size_t max_size;		/* 0: 50 MiB */
	const char *prefix;		/* info header prefix; NULL default */
	const char *legacy_prefixes;	/* removed too; may be NULL */
};
void smime_opts_init(struct smime_opts *o);
/* Apply one setting by name ("smime.encryption-algorithm", value
 * "AES-256-CBC" ...).  Returns 0, or -1 with *error_r for an unknown
 * name or value. */
int smime_opts_set(struct smime_opts *o, const char *name,
    const char *value, const char **error_r);

/* The info header prefixes from postern.conf (info_header_prefix,
 * legacy_info_header_prefixes); the strings stay owned by cfg, which
 * must outlive o. */
struct config;
void smime_opts_config(struct smime_opts *o, const struct config *cfg);

/*
 * Load the legacy provider (RC2, CAST5, SEED) next to the default one,
 * once per process.  Returns 0 or -1 (*error_r).  Decryption of those
 * ciphers fails cleanly ("unsupported cipher") without it.
 */
int smime_legacy_enable(const char **error_r);

/* ---- messages ---- */

enum smime_result_flags {
	SMIME_R_ENCRYPTED = 1 << 0,	/* an encryption layer was found */
	SMIME_R_DECRYPTED = 1 << 1,	/* ...and removed */
	SMIME_R_SIGNED = 1 << 2,	/* the delivered content is signed */
	SMIME_R_SIGNED_VALID = 1 << 3,	/* ...every signer verified+trusted */
	SMIME_R_MIXED = 1 << 4,		/* S/MIME part not at the root */
	SMIME_R_KEY_NOT_FOUND = 1 << 5,
	SMIME_R_COMPRESSED = 1 << 6,
	SMIME_R_ILLEGAL_7BIT = 1 << 7,
	SMIME_R_DECRYPT_FAILED = 1 << 8,	/* corrupt, bad tag, cipher */
	SMIME_R_SIGNER_MISMATCH = 1 << 9,
	SMIME_R_PARTIAL_SIGNED = 1 << 10,	/* signature on a part only */
	SMIME_R_FOREIGN_SIGNATURE = 1 << 11,	/* a non-S/MIME multipart/signed
						 * layer was passed through */
};

enum smime_layer_kind {
	SMIME_LAYER_ENVELOPED = 1,
	SMIME_LAYER_AUTH_ENVELOPED,
	SMIME_LAYER_OPAQUE_SIGNED,
	SMIME_LAYER_DETACHED_SIGNED,
	SMIME_LAYER_COMPRESSED,
};

/* One CMS layer, LEVEL = index in smime_result.layer. */
struct smime_layer {
	enum smime_layer_kind kind;
	int decrypted;		/* enveloped: plaintext obtained */
	int key_found;
	int nsigners;		/* signed: SignerInfos */
	int nverified;		/* ...with digest and signature correct */
	int ntrusted;		/* ...with a trusted certificate */
};

struct smime_result {
	struct smime_layer layer[SMIME_MAX_LAYERS];
	unsigned flags;
	int changed;			/* message below is the new one */
	char *message;			/* malloc'd, when changed */
	size_t message_len;
	int levels;			/* CMS layers seen */
	struct infohdr *info;		/* always set on success */
	STACK_OF(X509) *certs;		/* certificates from signatures */
};
void smime_result_release(struct smime_result *r);

/*
 * Inbound: decrypt and verify msg[0..len).  from: the address signers
 * are compared with (NULL: the addr-spec of the message's single From
 * mailbox, or with no From field at all of its single Sender mailbox;
 * several fields or mailboxes, or neither field, count as a mismatch;
 * the caller passes the envelope sender when there is neither).  at:
 * validation time (0: now).  The info headers in result->info are not
 * yet in the message: the caller strips incoming ones (infohdr_strip) and
 * adds these; smime_inbound_apply() does both on the result message.
 * Returns 0 (see result) or -1 on internal error.
 */
int smime_inbound(const char *msg, size_t len, const struct smime_keys *keys,
    const struct smime_opts *opts, const char *from, time_t at,
    struct smime_result *result, const char **error_r);

/*
 * The final message: the result's (or the original) message with every
 * incoming info header (our prefix and legacy ones) removed and the
 * result's info headers added at the top.  Appended to out.
 */
int smime_inbound_apply(const char *msg, size_t len,
    const struct smime_result *result, const struct smime_opts *opts,
    struct buf *out, const char **error_r);

/*
 * The same on a message parsed by the MIME engine (mime.h): the walk runs
 * over the message's input bytes (m->data, m->len; a built message with
 * no input is an error), and mime_inspect() is consulted as a second
 * opinion: an S/MIME part (pkcs7-mime of any kind, or an S/MIME
 * multipart/signed) that is neither the root nor reached only through
 * S/MIME (or PGP/MIME) multipart/signed first parts from the root sets
 * SMIME_R_MIXED
 * (or SMIME_R_PARTIAL_SIGNED) even if the splitter here missed it.
 * When the result is changed and new_r is not NULL, *new_r gets the new
 * message parsed with lim (may be NULL); it points into result->message,
 * so free it (mime_message_free) before releasing the result.
 */
struct mime_message;
struct mime_limits;
int smime_inbound_mime(const struct mime_message *m,
    const struct smime_keys *keys, const struct smime_opts *opts,
    const char *from, time_t at, const struct mime_limits *lim,
    struct smime_result *result, struct mime_message **new_r,
    const char **error_r);

/*
 * The handler for an inbound pipeline that edits a parsed message in
 * place (common/inbound.c): smime_inbound_mime() on m's input bytes,
 * then, when decrypted, m's root takes the decrypted Content-* fields
 * and body (mime_entity_replace_content) and the protected Subject /
 * From / To / Cc / Reply-To of the decrypted entity (or of the signed
 * part inside it, after sign-then-encrypt) replace the outer ones;
 * finally every info header of the result is added at the top of
 * m's root (in order, folded by the MIME engine).  Incoming info
 * headers are not removed here (inbound_strip_info() does that first).
 * The result is filled as by smime_inbound() (release it).  Returns 0 or
 * -1 (internal error; m may then be partly edited: tempfail).
 */
int smime_inbound_edit(struct mime_message *m, const struct smime_keys *keys,
    const struct smime_opts *opts, const char *from, time_t at,
    struct smime_result *result, const char **error_r);

/*
 * Outbound: encrypt msg for recipients (+ the caller adds its additional
 * certificates to the same stack).  The message headers stay outside
 * (minus Content-*); the Content-* headers and the body are encrypted.
 * Output appended to out, same line ends as the input.  Returns 0 or -1.
 */
int smime_encrypt(const char *msg, size_t len, STACK_OF(X509) *recipients,
    const struct smime_opts *opts, struct buf *out, const char **error_r);

/* Sign msg with cert/key; chain (may be NULL) is included. */
int smime_sign(const char *msg, size_t len, X509 *cert, EVP_PKEY *key,
    STACK_OF(X509) *chain, const struct smime_opts *opts, struct buf *out,
    const char **error_r);

/* Sign, then encrypt the signed entity, in one pass. */
int smime_sign_encrypt(const char *msg, size_t len, X509 *cert,
    EVP_PKEY *key, STACK_OF(X509) *chain, STACK_OF(X509) *recipients,
    const struct smime_opts *opts, struct buf *out, const char **error_r);

/* Lower level, for the bench and tests: CMS encrypt/sign of content bytes
 * to DER (appended to out). */
int smime_cms_encrypt(const unsigned char *content, size_t len,
    STACK_OF(X509) *recipients, const struct smime_opts *opts,
    struct buf *out, const char **error_r);
int smime_cms_sign(const unsigned char *content, size_t len, X509 *cert,
    EVP_PKEY *key, STACK_OF(X509) *chain, const struct smime_opts *opts,
    int detached, struct buf *out, const char **error_r);

#endif
