/*
 * pgp_msg: the OpenPGP message layer: whole RFC 5322 messages in and
 * out, PGP/MIME (RFC 3156) and PGP/INLINE, on top of the primitives of
 * pgp.h and the MIME engine (mime.h).
 *
 * Outbound (this file's first half):
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
 *    sign them).
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

#endif
