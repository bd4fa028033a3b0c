/*
 * mime_codec: the encodings of MIME, independent of the tree.
 *
 *   base64 (RFC 2045 6.8)   decode skips white space and flags other
 *                           garbage, stops at '=' padding; encode at 76
 *                           columns.
 *   quoted-printable (6.7)  decode keeps a bad "=XY" literally and
 *                           flags it; soft breaks removed; encode at 76
 *                           columns, CRLF/LF line ends kept as hard
 *                           breaks, trailing white space and "From "
 *                           and "." protected.
 *   RFC 2047                encoded-words (B and Q) in unstructured
 *                           text decoded to UTF-8; adjacent words joined
 *                           (the white space between them dropped);
 *                           encode a UTF-8 value as "=?UTF-8?Q?...?=" or
 *                           B words folded at 78 columns.
 *   RFC 2231                parameters: name*0*=, name*1=, charset'lang'
 *                           and %XX, joined and converted to UTF-8.
 *   charsets                iconv(3) to UTF-8; an unknown charset or a
 *                           bad byte gives best effort (bytes >= 0x80
 *                           become U+FFFD) and MIME_D_CHARSET.
 *   8-bit scan              does text need more than 7bit (RFC 2045 2.7)?
 *
 * Bounds that keep hostile input linear: at most 256 parameters are kept
 * per structured value (more: MIME_D_BAD_CTYPE), and an encoded-word
 * whose text passes 2048 bytes or a charset name past 64 is left as
 * plain text.
 *
 * Every function but the 8-bit scan (a predicate: 1 or 0) appends to a
 * caller-owned struct buf and returns 0, or -1 when the buf's maximum or
 * memory is hit (nothing else fails: bad input is decoded best effort
 * and flagged through *damage_r, which may be NULL, with enum
 * mime_damage bits from mime.h).  Nothing is logged.
 */
#ifndef POSTERN_MIME_CODEC_H
#define POSTERN_MIME_CODEC_H

#include <stddef.h>

#include "buf.h"
#include "mime.h"

int mime_base64_decode(const char *in, size_t len, struct buf *out,
    unsigned *damage_r);
/* Lines of 76 characters ending in eol; the last line ends in eol too. */
int mime_base64_encode(const void *in, size_t len, enum mime_eol eol,
    struct buf *out);

int mime_qp_decode(const char *in, size_t len, struct buf *out,
    unsigned *damage_r);
/* Input line ends (LF or CRLF) become eol. */
int mime_qp_encode(const void *in, size_t len, enum mime_eol eol,
    struct buf *out);

/* Is there a byte >= 0x80 in p[0..len)?  Such text needs 8BITMIME, or
 * in a header RFC 2047. */
int mime_has_8bit(const char *p, size_t len);
/* Is there a byte >= 0x80 or a NUL in p[0..len)?  Such a body cannot be
 * sent as 7bit: it needs quoted-printable or base64. */
int mime_has_8bit_or_nul(const char *p, size_t len);

/* Convert len bytes in charset (NULL/"" = us-ascii) to UTF-8. */
int mime_charset_to_utf8(const char *charset, const char *in, size_t len,
    struct buf *out, unsigned *damage_r);

/* Unfold and decode an unstructured header value (RFC 2047); raw 8-bit
 * bytes are taken as UTF-8 when valid, else as windows-1252. */
int mime_header_decode(const char *in, size_t len, struct buf *out,
    unsigned *damage_r);
/* "Name: value" + eol, value (UTF-8) encoded with RFC 2047 when it has
 * bytes outside printable ASCII or a line would pass 78 columns
 * unbreakably, folded at 78 columns (folding at white space first). */
int mime_header_encode(const char *name, const char *value,
    enum mime_eol eol, struct buf *out);

/* A parsed structured value: "type/subtype; a=b; c*0*=..." */
struct mime_param {
	char *name;		/* lowercase, without the *N* suffix */
	char *value;		/* joined, decoded, UTF-8 */
};

struct mime_ctype {
	char *type;		/* lowercase; NULL when missing */
	char *subtype;		/* lowercase; NULL when missing/not split */
	struct mime_param *params;
	size_t nparams;
	unsigned damage;	/* MIME_D_BAD_CTYPE, MIME_D_CHARSET */
};

/* Parse a Content-Type (with_subtype 1) or Content-Disposition (0)
 * value.  Always fills ct (possibly with type NULL and damage set);
 * -1 only on allocation failure.  Release with mime_ctype_release(). */
int mime_ctype_parse(const char *in, size_t len, int with_subtype,
    struct mime_ctype *ct);
void mime_ctype_release(struct mime_ctype *ct);
/* A parameter's value (case-insensitive name), or NULL. */
const char *mime_ctype_param(const struct mime_ctype *ct, const char *name);

/* Quote a parameter value for a header if it needs it (tspecials/space):
 * appended to out as token or "quoted\"string". */
int mime_param_quote(const char *value, struct buf *out);

#endif
