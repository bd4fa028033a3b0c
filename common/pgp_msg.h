/*
 * pgp_msg: the OpenPGP message layer: whole RFC 5322 messages in and
 * out, PGP/MIME (RFC 3156) and PGP/INLINE, on top of the primitives of
 * pgp.h and the MIME engine (mime.h).
 *
 * Outbound (the inbound half is described further down):
 *
 *   pgp_msg_encrypt()  encrypt, or sign and encrypt in one pass;
 *   pgp_msg_sign()     sign only.
 *
 * Input: a whole message (CRLF or LF line ends); output: a whole
 * message appended to the caller's buf, with the input's line ends (the
 * ones of its first line; generated lines use them too).
 *
 * PGP/MIME (encoding PGP_MSG_MIME):
 *  - the outer header fields are kept as they are, except Content-* and
 *    MIME-Version, which move into the protected entity (the entity is
 *    its Content-* fields, or "Content-Type: text/plain;
 *    charset=us-ascii" when the message has none, a blank line and the
 *    body, in canonical CRLF form);
 *  - encrypt: multipart/encrypted; protocol="application/pgp-encrypted"
 *    with the "Version: 1" part and an application/octet-stream part
 *    holding the armored message (RFC 3156 section 4); with a signer the
 *    entity is signed and encrypted in one OpenPGP message (section
 *    6.2, the combined method);
 *  - sign: multipart/signed; micalg=pgp-<hash>;
 *    protocol="application/pgp-signature" (section 5).  Before signing,
 *    every leaf that a transport could change is re-encoded, as section
 *    5 asks: 8-bit or binary bodies, and 7bit bodies with trailing white
 *    space or lines starting "From ", become quoted-printable (text) or
 *    base64 (anything else).  The signed part in the output is then the
 *    signed entity byte for byte (in the message's line ends; the
 *    signature is over the CRLF form).  micalg names the hash the
 *    signature really uses (read from the signature packet).
 *
 * PGP/INLINE (encoding PGP_MSG_INLINE): the MIME structure stays; every
 * leaf is handled on its own:
 *  - text/plain that is not an attachment: its decoded text (in its own
 *    charset, line ends made CRLF) becomes an armored OpenPGP message
 *    (encrypt) or a cleartext signature (sign); the part keeps its
 *    charset, other Content-* fields (Disposition, ID, Description) are
 *    kept, format=flowed and the like are dropped;
 *  - multipart/alternative with a text/plain alternative: only that
 *    text part is kept (inline OpenPGP cannot carry the HTML; the text
 *    alternative holds the same content);
 *  - text/html on its own: with html_to_text it is turned into text and
 *    handled as text/plain (UTF-8); otherwise it is an attachment;
 *  - encrypt: every other leaf (attachments, message/rfc822, HTML
 *    without html_to_text) is encrypted on its own (binary OpenPGP) and
 *    becomes application/octet-stream "NAME.pgp" (NAME: its file name,
 *    or "attachment"/"message.eml"/"message.html");
 *  - sign: other leaves are left as they are (PGP/INLINE has no way to
 *    sign them);
 *  - a message that holds a multipart/signed anywhere (an S/MIME or
 *    PGP/MIME signature the sender's client made) is sent as PGP/MIME
 *    instead: treating its parts one by one would break that signature.
 *
 * Keys: fprs are the recipients' key fingerprints (primary or subkey),
 * selected by the caller (store_pgp_select_encrypt()); signer_fpr is the
 * sender's signing key (store_pgp_select_signer()) or NULL.  Keys are
 * used as given; trust and selection are the caller's.  Integrity
 * protection is always on (pgp.h).  Compression follows
 * o->pgp.no_compress, cipher and hash o->pgp.cipher / o->pgp.digest.
 *
 * Return values (enum pgp_msg_status): PGP_MSG_OK (0); PGP_MSG_TEMPFAIL
 * (-1): an internal failure (gpg or gpgme failed, keyring lock timeout,
 * out of memory): nothing is wrong with the message, try again later
 * (postern-encrypt exits EX_TEMPFAIL); PGP_MSG_REFUSED (-2): this
 * message cannot be handled this way and retrying will not help: larger
 * than max_size (or the output past o->pgp.max_out), a recipient or
 * signer key missing from the keyring or unusable for gpg (expired,
 * revoked, no usable subkey), no recipient.  The mapping from pgp.h:
 * PGP_E_TOO_LARGE and PGP_E_NO_KEY give PGP_MSG_REFUSED, every other
 * failure PGP_MSG_TEMPFAIL.  *error_r says what happened in both cases.
 * A caller that only tests "< 0" treats both as failure.  Nothing is
 * appended to out on failure.
 *
 * Limits: messages up to max_size bytes (0: PGP_MSG_DEFAULT_MAX_SIZE);
 * the MIME tree is parsed with the default limits of mime.h; peak memory
 * is about four times the message.
 *
 * Ownership: every argument is borrowed; out is the caller's.  The
 * keyring lock is taken per gpg operation (pgp.h), so a PGP/INLINE
 * message with n parts takes it n times.  Nothing is logged.
 */
#ifndef POSTERN_PGP_MSG_H
#define POSTERN_PGP_MSG_H

#include <stddef.h>

#include "buf.h"
#include "pgp.h"

#define PGP_MSG_DEFAULT_MAX_SIZE (50u * 1024 * 1024)

enum pgp_msg_encoding {
	PGP_MSG_MIME = 0,
	PGP_MSG_INLINE,
};

enum pgp_msg_status {
	PGP_MSG_OK = 0,
	PGP_MSG_TEMPFAIL = -1,
	PGP_MSG_REFUSED = -2,
};

struct pgp_msg_opts {
	enum pgp_msg_encoding encoding;	/* setting pgp.encoding */
	struct pgp_opts pgp;		/* cipher, digest, no_compress,
					 * max_out (armor is set here) */
	size_t max_size;		/* pgp.max-size; 0: default */
	int html_to_text;		/* pgp.convert-html-to-text */
	/* inbound settings (pgp.*), kept here so one struct carries
	 * every pgp.* setting */
	int enabled;			/* pgp.enabled */
	int skip_sign_only;		/* pgp.skip-sign-only (caller) */
	int scan_html;			/* pgp.scan-html */
	int partitioned_fixup;		/* pgp.partitioned-fixup */
	int import_keys;		/* pgp.import-keys-from-mail */
	int remove_keys;		/* pgp.remove-keys-from-mail */
	int remove_signature;		/* pgp.remove-signature */
	const char *prefix;		/* info header prefix; NULL default */
};

/* The factory defaults of the pgp.* settings. */
void pgp_msg_opts_init(struct pgp_msg_opts *o);
/*
 * One pgp.* setting by name and value (as the settings registry holds
 * them: "pgp.encryption-algorithm" = "AES256", "pgp.max-size" = "50m",
 * booleans "true"/"false").  Every pgp.* setting of the registry is
 * accepted.  String values are not kept: algorithm names are mapped to
 * constants.  Returns 0, or -1 with *error_r for an unknown name or a
 * bad value.
 */
int pgp_msg_opts_set(struct pgp_msg_opts *o, const char *name,
    const char *value, const char **error_r);

int pgp_msg_encrypt(struct pgp_keyring *kr, const char *msg, size_t len,
    const char *const *fprs, size_t nfprs, const char *signer_fpr,
    const struct pgp_msg_opts *o, struct buf *out, const char **error_r);

int pgp_msg_sign(struct pgp_keyring *kr, const char *msg, size_t len,
    const char *signer_fpr, const struct pgp_msg_opts *o, struct buf *out,
    const char **error_r);

/*
 * ---- Inbound ----------------------------------------------------------
 *
 * pgp_msg_inbound_edit() decrypts and verifies a parsed message in place
 * (the inbound pipeline, common/inbound.c), as smime_inbound_edit() does
 * for S/MIME.  What it handles:
 *
 *  1. PGP/MIME layers from the root: multipart/signed
 *     (application/pgp-signature; the signature over the exact bytes of
 *     the first part, CRLF canonical) and multipart/encrypted
 *     (application/pgp-encrypted), nested in any order, LEVEL 0 the
 *     outermost.  S/MIME multipart/signed layers are looked through
 *     without a level.  The PGP/MIME structure that MS Exchange makes of
 *     it (multipart/mixed: an empty text/plain, application/pgp-encrypted,
 *     application/octet-stream) is recognised at the root.  Ciphertext is
 *     only decrypted when it is the root or reached from the root through
 *     the first parts of signature layers; anywhere else (the Efail and
 *     decryption-oracle layouts: attacker parts around a captured
 *     ciphertext) it is left alone and reported as mixed content.  A
 *     decrypted layer becomes the message body (the root keeps its
 *     header fields but Content-*; protected Subject/From/To/Cc/Reply-To
 *     of the decrypted entity, or of the signed part inside it, replace
 *     the outer ones); signature layers outside it are consumed,
 *     multipart/signed layers inside it stay so the recipient can verify
 *     them again.
 *  2. PGP/INLINE: armored blocks ("-----BEGIN PGP MESSAGE-----",
 *     "... SIGNED MESSAGE-----", "... PUBLIC KEY BLOCK-----" at a line
 *     start, white space before them allowed) in text/plain parts that
 *     are not attachments, and in text/html parts when o->scan_html; and
 *     attachments named *.pgp, *.gpg or *.asc holding an OpenPGP message
 *     (armored or binary), anywhere except inside message/rfc822 parts
 *     and undecrypted PGP/MIME parts.  Each block or attachment is one
 *     layer.  A decrypted text block replaces the block; when the part
 *     has text outside its blocks (prefix, suffix) or several blocks,
 *     the part becomes a multipart/mixed of separate text/plain parts,
 *     each labelled by Content-Description ("unprotected text",
 *     "OpenPGP decrypted text", "OpenPGP signed text"): decrypted text is
 *     never merged with text that was not encrypted, and never put in an
 *     HTML context (an HTML part with a block becomes text/plain).  The
 *     charset of decrypted text is the armor's "Charset:" header, else
 *     the part's.  A decrypted attachment loses its .pgp/.gpg/.asc.
 *     Cleartext-signed blocks stay as they are (with o->remove_signature
 *     they become the signed text).  When the message also has a text/
 *     html part with content outside any armor (not an attachment), no
 *     inline block or attachment is decrypted (Efail: the plaintext
 *     could land in the attacker's HTML): PGP-Decryption-Skipped, mixed.
 *     With o->partitioned_fixup, a Symantec/PGP Desktop "partitioned"
 *     message (text part with an inline block plus the encrypted HTML
 *     version PGPexch.htm.pgp) becomes multipart/alternative of the
 *     decrypted text and HTML; without it PGPexch.htm is an attachment.
 *  3. Keys: application/pgp-keys parts, key blocks in text parts and
 *     *.asc attachments holding keys are collected in result->keyv (at
 *     most PGP_MSG_MAX_KEYS, each at most PGP_MSG_KEY_MAX bytes; public
 *     key material only: a block with a secret key packet, whatever its
 *     armor says, is never collected); the
 *     caller imports them (untrusted) when pgp.import-keys-from-mail is
 *     on.  With o->remove_keys they are removed from the message (key
 *     parts inside a kept signature layer too: the caller chose).
 *  4. o->remove_signature: a root multipart/signed whose signature
 *     counted becomes its first part.
 *
 * Never claims what was not proven:
 *  - no integrity protection (no MDC), a failed MDC or AEAD tag, bad
 *    data: nothing decrypted, the ciphertext stays, PGP-Decryption-Failed;
 *  - no key: PGP-Decryption-Key-Not-Found, the ciphertext stays;
 *  - a signature counts for the message (PGP_MSG_R_SIGNED, PGP-Signed:
 *    True) only when it covers all delivered content: a PGP/MIME
 *    signature at the root or inside the last decrypted layer (or made
 *    with it), or inline signatures over every content part; otherwise
 *    the signed parts are reported per layer and PGP_MSG_R_PARTIAL_SIGNED
 *    is set.  Signatures around ciphertext do not count;
 *  - a signature is valid (PGP-Signature-Valid: True) only when the math
 *    is right, the key is known, not expired or revoked, trusted by the
 *    admin (keys->trusted: keys from mail are never trusted), the hash
 *    is not MD5, SHA-1 or RIPEMD-160, and it was made within a day of
 *    the Date header (when there is one: a replayed signed body under a
 *    new Date is not the sender's message); otherwise
 *    PGP-Signature-Failure says why;
 *  - the signer is checked against the single From address (addr-spec,
 *    display names ignored; no From, several From fields or several
 *    mailboxes match nobody): a counted signature by a key without that
 *    address sets PGP_MSG_R_SIGNER_MISMATCH and PGP-Signer-Mismatch;
 *  - mixed content (protected and unprotected content side by side,
 *    PGP/MIME below the root, or several separately encrypted inline
 *    texts) sets PGP_MSG_R_MIXED (or _PARTIAL_SIGNED) and
 *    PGP-Mixed-Content: True; a signature layer whose content holds
 *    ciphertext left undecrypted does not count.
 *  - password-encrypted (SKESK-only) messages count as "no key": the
 *    gateway holds no passwords.
 *
 * Info headers (PREFIX-NAME[-INDEX]-LEVEL as S/MIME, infohdr.h), added
 * at the top of the root in this order:
 *   PGP-Encoding                    PGP/MIME, PGP/INLINE or both
 *   PGP-Encryption-Algorithm-L      "AES256" (decrypted layers)
 *   PGP-Encryption-Recipient-I-L    key IDs the layer was encrypted to
 *   PGP-Signer-KeyID-I-L            signing (sub)key ID
 *   PGP-Signer-Email-I-L            e-mail addresses of the signer key
 *   PGP-Signature-Valid-I-L         True/False
 *   PGP-Signature-Failure-I-L       why not (when False)
 *   PGP-Encrypted                   True: encrypted content was found
 *   PGP-Decryption-Key-Not-Found    True
 *   PGP-Decryption-Failed           reason (no MDC, bad data...)
 *   PGP-Decryption-Skipped          reason (unprotected HTML beside it)
 *   PGP-Signed                      True/False (see above)
 *   PGP-Signer-Mismatch             True
 *   PGP-Mixed-Content               True
 *   PGP-Skipped                     message too large (max_size)
 *
 * Errors: 0, or -1 on an internal failure (tempfail): out of memory, the
 * keyring lock or gpg failed, or gpg says "no secret key" for a key the
 * store says we hold (keys->has_secret: the agent or the home is
 * broken).  m may then be partly edited.  Bad input is never an error.
 * Ownership: kr, keys, o and m are borrowed; result is the caller's,
 * released with pgp_msg_result_release().  Nothing is logged.
 */
#define PGP_MSG_MAX_LAYERS 16
#define PGP_MSG_MAX_KEYS 16
#define PGP_MSG_KEY_MAX (1024u * 1024)

struct mime_message;
struct infohdr;
struct store;

enum pgp_msg_result_flags {
	PGP_MSG_R_ENCRYPTED = 1 << 0,	/* encrypted content was found */
	PGP_MSG_R_DECRYPTED = 1 << 1,	/* ...and (some of it) decrypted */
	PGP_MSG_R_SIGNED = 1 << 2,	/* the delivered content is signed */
	PGP_MSG_R_SIGNED_VALID = 1 << 3,	/* ...every signature valid */
	PGP_MSG_R_MIXED = 1 << 4,	/* protected beside unprotected */
	PGP_MSG_R_KEY_NOT_FOUND = 1 << 5,
	PGP_MSG_R_DECRYPT_FAILED = 1 << 6,	/* bad data, tag, size */
	PGP_MSG_R_NO_MDC = 1 << 7,	/* refused: no integrity protection */
	PGP_MSG_R_SIGNER_MISMATCH = 1 << 8,
	PGP_MSG_R_PARTIAL_SIGNED = 1 << 9,	/* a signature on a part only */
	PGP_MSG_R_KEYS_FOUND = 1 << 10,
	PGP_MSG_R_KEYS_REMOVED = 1 << 11,
	PGP_MSG_R_SIGNATURE_REMOVED = 1 << 12,
	PGP_MSG_R_SKIPPED = 1 << 13,	/* larger than max_size */
	PGP_MSG_R_PGP_MIME = 1 << 14,	/* PGP/MIME found */
	PGP_MSG_R_INLINE = 1 << 15,	/* PGP/INLINE or .pgp found */
	PGP_MSG_R_DECRYPT_SKIPPED = 1 << 16,	/* Efail guard */
	PGP_MSG_R_CHANGED = 1 << 17,	/* the message was edited */
};

/* The key store as seen by this module (the SQLite mirror). */
struct pgp_msg_keys {
	/* 1 when the primary key fpr is trusted by the admin (and not
	 * revoked), 0 when not or unknown, -1 on error (*error_r). */
	int (*trusted)(void *arg, const char *primary_fpr,
	    const char **error_r);
	/* 1 when we hold the secret key of key ID keyid (16 hex digits,
	 * a primary or subkey), 0 when not, -1 on error. */
	int (*has_secret)(void *arg, const char *keyid, const char **error_r);
	void *arg;
};
/* Over the store's OpenPGP mirror (store_pgp.h); st borrowed. */
void pgp_msg_keys_from_store(struct pgp_msg_keys *k, struct store *st);

struct pgp_msg_keyblock {
	char *data;		/* armored or binary key material */
	size_t len;
};

struct pgp_msg_result {
	unsigned flags;			/* enum pgp_msg_result_flags */
	int levels;			/* layers reported */
	struct infohdr *info;		/* always set on success */
	char signer_email[320];		/* of the first counted signature */
	char signer_keyid[17];
	char reason[256];		/* decryption failure, for the log */
	struct pgp_msg_keyblock *keyv;	/* keys found in the mail */
	size_t nkeys;
};
void pgp_msg_result_release(struct pgp_msg_result *r);

/* Is there anything for the inbound handler: PGP/MIME, armored blocks
 * in text parts (and HTML ones with scan_html), .pgp/.gpg/.asc
 * attachments or application/pgp-keys parts?  No gpg call. */
int pgp_msg_inbound_wanted(const struct mime_message *m,
    const struct pgp_msg_opts *o);

/*
 * Decrypt and verify m in place.  from: the address signers are
 * compared with (NULL: the addr-spec of m's single From mailbox, or of
 * its single Sender mailbox when there is no From field, read after
 * decryption so protected headers win).  keys may be NULL (no key
 * is trusted, no secret-key cross-check).  The info headers of the
 * result are added at the top of m's root; incoming ones are not
 * removed here (inbound_strip_info() does that first).
 */
int pgp_msg_inbound_edit(struct pgp_keyring *kr, struct mime_message *m,
    const struct pgp_msg_keys *keys, const struct pgp_msg_opts *o,
    const char *from, struct pgp_msg_result *r, const char **error_r);

/* The same on raw bytes (CRLF or LF): parsed with the default limits,
 * edited, emitted to out (appended, the input's line ends).  For tests
 * and the bench. */
int pgp_msg_inbound(struct pgp_keyring *kr, const char *msg, size_t len,
    const struct pgp_msg_keys *keys, const struct pgp_msg_opts *o,
    const char *from, struct pgp_msg_result *r, struct buf *out,
    const char **error_r);

#endif
