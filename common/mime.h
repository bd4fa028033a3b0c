/*
 * mime: parse a message into a tree of entities, inspect it, edit
 * headers, replace subtrees, build new entities and emit the result
 * (RFC 5322, 2045-2049, 2046 boundaries, 3156, 8551).  Codecs (base64,
 * quoted-printable, RFC 2047, RFC 2231, charsets) are in mime_codec.h.
 *
 * Model.  A struct mime_message owns a tree of struct mime_entity.  An
 * entity that came from the input records byte offsets into the input:
 *
 *   start .. start+header_len      the header fields (with their EOLs)
 *   start+header_len .. body_start the blank line ending the header
 *                                  (0, 1 or 2 bytes)
 *   body_start .. end              the body; for a multipart this is
 *                                  preamble, delimiters, children and
 *                                  epilogue.  The EOL before a boundary
 *                                  delimiter belongs to the delimiter
 *                                  (RFC 2046 5.1.1), not to the body.
 *
 * Emission re-uses the input bytes of every entity that was not edited,
 * and the input bytes between children (delimiter lines, transport
 * padding, preamble, epilogue), so "parse then emit" gives the input
 * back byte for byte, and an untouched signed part stays byte-exact by
 * construction.  Bodies are never copied by the parser.
 *
 * Input.  The parser is push-style: mime_parser_feed() any chunking, then
 * mime_parser_finish() with the whole input as one contiguous buffer (the
 * spool view, see spool.h).  The tree does not depend on the chunking.
 * The parser buffers only the current line (cut at the header-line
 * limit, or 1 KiB in bodies) and the current header block (cut at the
 * header-size limit).  LF, CRLF and a mix of both are accepted; a line
 * ends at LF.  The input buffer must outlive the message (the message
 * keeps a pointer to it, never a copy, and never frees it).
 *
 * Limits (struct mime_limits, from config keys mime_max_depth,
 * mime_max_parts, mime_max_header_line, mime_max_header_size).  Passing
 * one never fails the parse: the entity is kept, flagged (enum
 * mime_damage), and treated as opaque (too deep, too many parts) or its
 * header is cut for interpretation (header line, header size) while the
 * original bytes stay intact for emission.  mime_parser_finish() fails
 * only on allocation failure.  Malformed input gives a best-effort tree
 * with per-entity damage flags; the union is in mime_message.damage.
 *
 * Ownership.  mime_message_free() frees the tree and every entity that
 * was attached to it (built or parsed).  A built entity is owned by the
 * caller until it is attached (mime_entity_add_child, mime_entity_replace,
 * mime_message_new_built); after that by the message.  Strings returned
 * as const char * belong to the entity or message.  Results into a
 * struct buf are appended (the caller owns and releases the buf).
 *
 * Threads: a message is not shared; distinct messages are independent.
 * Logging: nothing is logged here; callers log damage flags they care
 * about (mime_damage_names()).
 */
#ifndef POSTERN_MIME_H
#define POSTERN_MIME_H

#include <stddef.h>

#include "buf.h"

struct config;

/* ---- limits ----------------------------------------------------------- */

struct mime_limits {
	unsigned max_depth;	/* nesting; root is depth 0 */
	unsigned max_parts;	/* entities in the whole message, root included */
	size_t max_header_line;	/* one physical header line, EOL excluded */
	size_t max_header_size;	/* one entity's header block */
};

/* The compiled-in defaults of the config table. */
void mime_limits_default(struct mime_limits *lim);
void mime_limits_from_config(struct mime_limits *lim,
    const struct config *cfg);

/* ---- damage flags (per entity; union per message) -------------------- */

enum mime_damage {
	MIME_D_HEADER_LINE_LONG = 1 << 0,	/* a header line > limit */
	MIME_D_HEADER_TOO_BIG = 1 << 1,		/* header block > limit */
	MIME_D_HEADER_GARBAGE = 1 << 2,		/* line that is no field */
	MIME_D_HEADER_NO_END = 1 << 3,		/* no blank line after header */
	MIME_D_DEPTH = 1 << 4,			/* too deep: kept opaque */
	MIME_D_PARTS = 1 << 5,			/* part limit: kept opaque */
	MIME_D_NO_BOUNDARY = 1 << 6,		/* multipart without boundary */
	MIME_D_NO_CLOSE = 1 << 7,		/* closing delimiter missing */
	MIME_D_BAD_CTYPE = 1 << 8,		/* unparsable Content-Type */
	MIME_D_BAD_CTE = 1 << 9,		/* unknown transfer encoding */
	MIME_D_DUP_CTYPE = 1 << 10,		/* two Content-Type fields */
	MIME_D_BASE64 = 1 << 11,		/* garbage in base64 (decode) */
	MIME_D_QP = 1 << 12,			/* bad quoted-printable (decode) */
	MIME_D_CHARSET = 1 << 13,		/* unknown/bad charset (decode) */
	MIME_D_ENCWORD = 1 << 14,		/* bad RFC 2047 word (decode) */
	MIME_D_MIXED_EOL = 1 << 15,		/* LF and CRLF in one message */
	MIME_D_NUL = 1 << 16,			/* NUL byte in header */
	MIME_D_8BIT_HEADER = 1 << 17,		/* raw 8-bit header bytes */
	MIME_D_BOUNDARY_LONG = 1 << 18,		/* boundary > 70 (RFC 2046) */
	MIME_D_NO_PARTS = 1 << 19,		/* multipart with no part */
};

/* "header-line-long,no-close" for logs; into out (appended). */
void mime_damage_names(unsigned damage, struct buf *out);

/* ---- tree ------------------------------------------------------------- */

enum mime_cte {
	MIME_CTE_7BIT = 0,	/* also the default for missing/unknown */
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_QP,
	MIME_CTE_BASE64,
	MIME_CTE_UNKNOWN,	/* x-uuencode etc.: body treated as 7bit */
};

enum mime_eol {
	MIME_EOL_CRLF = 0,
	MIME_EOL_LF = 1,
};

/* One header field.  raw is the field as it appears (name, colon, value
 * with folding, final EOL); it points into the input or into memory
 * owned by the entity (edited/built fields). */
struct mime_field {
	const char *raw;
	size_t raw_len;
	size_t name_len;	/* raw[0..name_len) is the field name */
	size_t offset;		/* offset in the input; (size_t)-1 if new */
	int owned;		/* private: raw is malloc'd by the entity */
};

/* Read-only for callers: change an entity only through the functions
 * below.  Parsed fields are set for built entities too. */
struct mime_entity {
	struct mime_entity *parent;
	struct mime_entity *children;	/* first child */
	struct mime_entity *next;	/* next sibling */
	unsigned depth;
	unsigned nchildren;

	/* Offsets into src: the input of the message, or a private copy
	 * (mime_entity_copy(), replaced content).  from_input 0: a built
	 * entity; start/end then only keep the place of the entity it
	 * replaced in its parent (for the bytes between parts). */
	int from_input;
	const char *src;
	size_t start, header_len, body_start, end;

	struct mime_field *fields;
	size_t nfields;

	/* From Content-Type / -Transfer-Encoding, with RFC 2045 defaults
	 * (text/plain; charset=us-ascii; 7bit; inside multipart/digest
	 * message/rfc822).  Lowercase. */
	char *type;		/* "text" */
	char *subtype;		/* "plain" */
	char *boundary;		/* multipart only, else NULL */
	enum mime_cte cte;

	unsigned damage;	/* enum mime_damage */
	unsigned edit;		/* private: edit state (mime.c) */
	struct buf built_body;	/* private: body of a built leaf (CRLF) */
	char *src_owned;	/* private: src when it is a copy */
	size_t slot_start;	/* private: bytes in the parent's src */
	size_t slot_end;
};

struct mime_message {
	struct mime_entity *root;
	const char *data;	/* the input, not owned (NULL if built) */
	size_t len;
	enum mime_eol eol;	/* of the first input line; CRLF if none */
	unsigned damage;	/* union of all entities' damage */
	unsigned nparts;	/* entities in the tree */
};

/* ---- parsing ---------------------------------------------------------- */

struct mime_parser;

/* lim NULL: mime_limits_default().  NULL on allocation failure. */
struct mime_parser *mime_parser_new(const struct mime_limits *lim);
/* Feed the next chunk (any size, 0 allowed).  -1 only on allocation
 * failure, after which the parser only accepts finish/free. */
int mime_parser_feed(struct mime_parser *p, const void *data, size_t len,
    const char **error_r);
/* End of input.  data/len must be exactly the bytes fed, contiguous;
 * the message keeps the pointer.  Always frees *p and clears it.
 * Returns NULL (error_r set) only on allocation failure or when len
 * differs from what was fed. */
struct mime_message *mime_parser_finish(struct mime_parser **p,
    const char *data, size_t len, const char **error_r);
void mime_parser_free(struct mime_parser **p);

/* Feed all of data in one go and finish. */
struct mime_message *mime_parse(const char *data, size_t len,
    const struct mime_limits *lim, const char **error_r);

void mime_message_free(struct mime_message **m);

/* ---- navigation and headers ------------------------------------------ */

/* Depth-first pre-order walk: root, its children, ... (NULL at end). */
struct mime_entity *mime_entity_walk(struct mime_entity *root,
    struct mime_entity *e);
/* Path like IMAP sections: "" for the root, "1", "1.2" ...; into out. */
void mime_entity_path(const struct mime_entity *e, struct buf *out);
/* The entity at a path from mime_entity_path(), or NULL. */
struct mime_entity *mime_entity_at(struct mime_entity *root,
    const char *path);
/* Is it type/subtype (case-insensitive; subtype "*" matches any)? */
int mime_entity_is(const struct mime_entity *e, const char *type,
    const char *subtype);

/* The idx-th field (0-based) named name (case-insensitive), or NULL. */
const struct mime_field *mime_field_find(const struct mime_entity *e,
    const char *name, size_t idx);
size_t mime_field_count(const struct mime_entity *e, const char *name);
/* The value of f, unfolded (EOLs removed, leading white space of the
 * value dropped, trailing dropped), raw bytes; appended to out. */
int mime_field_value(const struct mime_field *f, struct buf *out);
/* Unfolded and RFC 2047-decoded to UTF-8 (see mime_codec.h); *damage_r
 * (may be NULL) gets MIME_D_ENCWORD/MIME_D_CHARSET when best effort. */
int mime_field_decoded(const struct mime_field *f, struct buf *out,
    unsigned *damage_r);
/* Shorthand: first field named name, decoded; -1 when absent. */
int mime_header_get(const struct mime_entity *e, const char *name,
    struct buf *out);

/* A parameter of Content-Type ("charset", "boundary", "protocol",
 * "smime-type", "name") or of Content-Disposition ("filename"), RFC
 * 2231 continuations joined and charset'lang' decoded to UTF-8; -1 when
 * absent. */
int mime_entity_ctype_param(const struct mime_entity *e, const char *param,
    struct buf *out);
int mime_entity_disp_param(const struct mime_entity *e, const char *param,
    struct buf *out);
/* "inline", "attachment" (lowercase) or "" when absent. */
int mime_entity_disposition(const struct mime_entity *e, struct buf *out);
/* Attachment file name in UTF-8: Content-Disposition filename (2231),
 * then Content-Type name, with RFC 2047 inside quotes decoded as MUAs
 * do; -1 when none. */
int mime_entity_filename(const struct mime_entity *e, struct buf *out);

/* ---- bodies ------------------------------------------------------------ */

/* The raw body bytes of an entity as in the input or as built (no
 * transfer decoding).  For a built entity with children, NULL. */
const char *mime_entity_body(const struct mime_entity *e, size_t *len_r);
/* Transfer-decoded body (base64, QP, else as is) appended to out;
 * *damage_r (may be NULL) gets MIME_D_BASE64/MIME_D_QP when best effort.
 * -1 only when out's limit or memory is hit. */
int mime_entity_decode(const struct mime_entity *e, struct buf *out,
    unsigned *damage_r, const char **error_r);
/* Decoded and converted from its charset to UTF-8 (text/html is turned
 * into text when html_to_text).  Bad charset: best effort, flagged. */
int mime_entity_text(const struct mime_entity *e, int html_to_text,
    struct buf *out, unsigned *damage_r, const char **error_r);
/* Text of a whole message for DLP/PDF: the decoded Subject, every text
 * part (HTML as text), one "[attachment: NAME]" line per named part;
 * parts separated by blank lines.  Crypto payloads are not descended. */
int mime_message_text(const struct mime_message *m, struct buf *out,
    unsigned *damage_r, const char **error_r);

/* ---- inspection ------------------------------------------------------- */

enum mime_kind {
	MIME_K_SMIME_ENVELOPED = 1 << 0,	/* pkcs7-mime enveloped-data */
	MIME_K_SMIME_AUTH_ENVELOPED = 1 << 1,	/* authEnveloped-data */
	MIME_K_SMIME_SIGNED = 1 << 2,		/* multipart/signed pkcs7 */
	MIME_K_SMIME_OPAQUE_SIGNED = 1 << 3,	/* pkcs7-mime signed-data */
	MIME_K_SMIME_CERTS_ONLY = 1 << 4,	/* pkcs7-mime certs-only */
	MIME_K_SMIME_UNKNOWN = 1 << 5,		/* p7m without smime-type */
	MIME_K_PGP_ENCRYPTED = 1 << 6,		/* RFC 3156 multipart/enc. */
	MIME_K_PGP_SIGNED = 1 << 7,		/* RFC 3156 multipart/signed */
	MIME_K_PGP_INLINE_ENCRYPTED = 1 << 8,	/* BEGIN PGP MESSAGE */
	MIME_K_PGP_INLINE_SIGNED = 1 << 9,	/* BEGIN PGP SIGNED MESSAGE */
	MIME_K_CALENDAR = 1 << 10,		/* text/calendar */
};

struct mime_crypto_part {
	enum mime_kind kind;		/* one bit */
	struct mime_entity *entity;	/* the multipart/signed, the p7m... */
	char path[64];			/* mime_entity_path(); "" = root */
	int is_root;			/* entity is the message root */
};

#define MIME_INSPECT_MAX 64

struct mime_inspect {
	unsigned kinds;			/* union of enum mime_kind */
	size_t nparts;			/* entries used in parts[] */
	int truncated;			/* more than MIME_INSPECT_MAX found */
	struct mime_crypto_part parts[MIME_INSPECT_MAX];
};

/* Classify every entity (pre-order; the first entry of a kind is the
 * outermost).  Inline PGP blocks are looked for in the transfer-decoded
 * text/plain parts (first 1 MiB of each).  Never fails. */
void mime_inspect(const struct mime_message *m, struct mime_inspect *r);
/* The kind of one entity by its own headers (0 if none of the MIME
 * crypto kinds; the inline and calendar kinds are not set here). */
unsigned mime_entity_kind(const struct mime_entity *e);

/* ---- editing ----------------------------------------------------------- */

/* m may be NULL in the header functions (an entity being built).  An
 * edited entity re-emits its fields: untouched fields byte for byte,
 * new ones in the message's line ends. */

enum mime_where {
	MIME_TOP = 0,		/* before the first field */
	MIME_BOTTOM = 1,	/* after the last field */
};

/* Add "Name: value" to e.  value is UTF-8; it is RFC 2047-encoded when it
 * is not printable ASCII, and folded at 78 columns.  Every other field
 * keeps its bytes.  -1 on a bad name or allocation failure. */
int mime_header_add(struct mime_message *m, struct mime_entity *e,
    const char *name, const char *value, enum mime_where where,
    const char **error_r);
/* Delete every field named name; returns how many. */
int mime_header_delete(struct mime_message *m, struct mime_entity *e,
    const char *name);
/* Replace the first field named name in place (deleting further ones),
 * or add it at the bottom when absent. */
int mime_header_replace(struct mime_message *m, struct mime_entity *e,
    const char *name, const char *value, const char **error_r);
/* Add an already encoded, unfolded-or-folded raw value verbatim
 * (e.g. a Content-Type with parameters).  Checked for CR/LF misuse. */
int mime_header_add_raw(struct mime_message *m, struct mime_entity *e,
    const char *name, const char *raw_value, enum mime_where where,
    const char **error_r);

/* Replace old (any entity of m, root included) by new (a built entity,
 * or a copy from mime_entity_copy(); never an entity or root that still
 * belongs to a message).  old is freed; new becomes owned
 * by m; the bytes around old (delimiters) are kept. */
int mime_entity_replace(struct mime_message *m, struct mime_entity *old,
    struct mime_entity *new, const char **error_r);

/* Keep e's header fields except Content-* and take new's Content-*
 * fields and its body (and children): how a decrypted or unwrapped
 * entity becomes the message body under the outer From/To/Subject.
 * new (built or from mime_entity_copy()) is consumed. */
int mime_entity_replace_content(struct mime_message *m,
    struct mime_entity *e, struct mime_entity *new, const char **error_r);

/* ---- building ----------------------------------------------------------- */

/* A new leaf: content_type is the full value ("text/plain;
 * charset=utf-8"); the body is encoded with cte (base64 at 76 columns,
 * QP, or as is for 7bit/8bit/binary) and stored with CRLF line ends
 * (7bit/8bit/qp input may use LF or CRLF).  Caller owns it until
 * attached; mime_entity_free() otherwise. */
struct mime_entity *mime_build_leaf(const char *content_type,
    enum mime_cte cte, const void *body, size_t len, const char **error_r);
/* A leaf whose body is already encoded (e.g. a base64 p7m from OpenSSL);
 * the Content-Transfer-Encoding header says cte. */
struct mime_entity *mime_build_leaf_encoded(const char *content_type,
    enum mime_cte cte, const void *body, size_t len, const char **error_r);
/* A multipart: "mixed", "signed", "encrypted", "alternative"...; extra
 * params appended raw, e.g. "protocol=\"application/pkcs7-signature\";
 * micalg=sha-256".  A fresh random boundary is chosen; at emission it is
 * checked not to occur in the children and changed if it does. */
struct mime_entity *mime_build_multipart(const char *subtype,
    const char *params, const char **error_r);
/* Append child (caller-owned, not attached) to a built multipart. */
int mime_entity_add_child(struct mime_entity *parent,
    struct mime_entity *child, const char **error_r);
/* An attachment: base64 leaf with Content-Disposition: attachment and
 * filename (UTF-8; RFC 2231-encoded when not ASCII). */
struct mime_entity *mime_build_attachment(const char *content_type,
    const char *filename, const void *body, size_t len,
    const char **error_r);
/* application/pkcs7-mime; smime-type=...; name=smime.p7m, base64 of
 * the DER, with Content-Disposition: attachment; filename=smime.p7m. */
struct mime_entity *mime_build_pkcs7_mime(const char *smime_type,
    const void *der, size_t len, const char **error_r);
/* A message whose root is e (takes ownership), emitted with eol. */
struct mime_message *mime_message_new_built(struct mime_entity *root,
    enum mime_eol eol);
/* An independent copy of e as it would be emitted now (edits included),
 * parsed again with default limits; the copy owns its bytes, so it
 * survives m and can be given to mime_entity_replace*() of another
 * message.  e is left in place. */
struct mime_entity *mime_entity_copy(const struct mime_message *m,
    const struct mime_entity *e, const char **error_r);
void mime_entity_free(struct mime_entity **e);

/* ---- emission --------------------------------------------------------- */

enum mime_emit_flags {
	MIME_EMIT_LF = 1 << 0,		/* generated lines end in LF */
	MIME_EMIT_CRLF = 1 << 1,	/* generated lines end in CRLF */
	/* neither: the message's eol */
	MIME_EMIT_CANONICAL = 1 << 2,	/* every line CRLF, input bytes too
					 * (the form that is signed) */
	MIME_EMIT_BODY_ONLY = 1 << 3,	/* skip e's own header block */
};

/* Called with consecutive pieces; return 0, or -1 to stop (the emit
 * call then fails with "write failed"). */
typedef int mime_write_fn(void *ctx, const void *data, size_t len);

/* Emit e (the message root or any entity) with its header.  Untouched
 * input entities and the bytes between parts come from the input. */
int mime_emit(const struct mime_message *m, const struct mime_entity *e,
    unsigned flags, mime_write_fn *fn, void *ctx, const char **error_r);
int mime_emit_buf(const struct mime_message *m, const struct mime_entity *e,
    unsigned flags, struct buf *out, const char **error_r);

#endif
