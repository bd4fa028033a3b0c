/*
 * mime_codec: base64, quoted-printable, charsets, RFC 2047, RFC 2231
 * (see mime_codec.h).
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_codec.h"

#define ENCWORD_MAX 75	/* RFC 2047 2: an encoded-word is at most 75 */
#define FOLD_AT 78
#define PLAIN_WORD_MAX 900
#define ENCTEXT_SCAN 2048	/* longest encoded text we look for */
#define PARAMS_MAX 256		/* parameters kept per header */

static void
flag(unsigned *damage_r, unsigned bit)
{
	if (damage_r != NULL)
		*damage_r |= bit;
}

static const char *eol_str(enum mime_eol eol)
{
	return eol == MIME_EOL_LF ? "\n" : "\r\n";
}

/* ---- base64 ---------------------------------------------------------- */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
mime_base64_decode(const char *in, size_t len, struct buf *out,
    unsigned *damage_r)
{
	unsigned acc = 0;
	int n = 0, pad = 0;
	size_t i;
	unsigned char tmp[3];

	if (buf_reserve(out, len / 4 * 3 + 3) < 0 ||
	    buf_append(out, "", 0) < 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v = b64val(c);

		if (v < 0) {
			if (c == '=') {
				/* end of a quantum: flush what it holds */
				if (n == 2 || n == 3) {
					tmp[0] = (unsigned char)(n == 2 ?
					    acc >> 4 : acc >> 10);
					tmp[1] = (unsigned char)(acc >> 2);
					if (buf_append(out, tmp,
					    (size_t)n - 1) < 0)
						return -1;
				} else if (n == 1)
					flag(damage_r, MIME_D_BASE64);
				n = 0;
				acc = 0;
				pad = 1;
				continue;
			}
			if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
				flag(damage_r, MIME_D_BASE64);
			continue;
		}
		if (pad) {
			/* data after padding: a second base64 stream glued
			 * on (seen in the wild); restart the quantum. */
			flag(damage_r, MIME_D_BASE64);
			pad = 0;
			acc = 0;
			n = 0;
		}
		acc = (acc << 6) | (unsigned)v;
		if (++n == 4) {
			tmp[0] = (unsigned char)(acc >> 16);
			tmp[1] = (unsigned char)(acc >> 8);
			tmp[2] = (unsigned char)acc;
			if (buf_append(out, tmp, 3) < 0)
				return -1;
			acc = 0;
			n = 0;
		}
	}
	if (n == 1)
		flag(damage_r, MIME_D_BASE64);
	else if (n == 2 || n == 3) {
		/* missing padding */
		tmp[0] = (unsigned char)(n == 2 ? acc >> 4 : acc >> 10);
		tmp[1] = (unsigned char)(acc >> 2);
		if (buf_append(out, tmp, (size_t)n - 1) < 0)
			return -1;
		flag(damage_r, MIME_D_BASE64);
	}
	return 0;
}

int
mime_base64_encode(const void *vin, size_t len, enum mime_eol eol,
    struct buf *out)
{
	const unsigned char *in = vin;
	const char *e = eol_str(eol);
	size_t elen = strlen(e), i, col = 0;
	char q[4];

	if (buf_reserve(out, (len + 2) / 3 * 4 + (len / 57 + 1) * elen) < 0 ||
	    buf_append(out, "", 0) < 0)
		return -1;
	for (i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		size_t rest = len - i;

		if (rest > 1)
			v |= (unsigned)in[i + 1] << 8;
		if (rest > 2)
			v |= in[i + 2];
		q[0] = b64chars[(v >> 18) & 63];
		q[1] = b64chars[(v >> 12) & 63];
		q[2] = rest > 1 ? b64chars[(v >> 6) & 63] : '=';
		q[3] = rest > 2 ? b64chars[v & 63] : '=';
		if (buf_append(out, q, 4) < 0)
			return -1;
		col += 4;
		if (col == 76) {
			if (buf_append(out, e, elen) < 0)
				return -1;
			col = 0;
		}
	}
	if (col > 0 && buf_append(out, e, elen) < 0)
		return -1;
	return 0;
}

/* ---- quoted-printable ------------------------------------------------- */

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
mime_qp_decode(const char *in, size_t len, struct buf *out,
    unsigned *damage_r)
{
	size_t i = 0;

	if (buf_reserve(out, len) < 0 || buf_append(out, "", 0) < 0)
		return -1;
	while (i < len) {
		/* one line: [i, eol) */
		size_t eol = i, next, end, body_end;
		int crlf = 0, soft = 0;

		while (eol < len && in[eol] != '\n')
			eol++;
		next = eol < len ? eol + 1 : eol;
		end = eol;
		if (end > i && in[end - 1] == '\r') {
			end--;
			crlf = 1;
		}
		/* transport padding: trailing white space is dropped */
		while (end > i && (in[end - 1] == ' ' || in[end - 1] == '\t'))
			end--;
		body_end = end;
		if (body_end > i && in[body_end - 1] == '=') {
			soft = 1;	/* soft line break */
			body_end--;
		}
		while (i < body_end) {
			unsigned char c = (unsigned char)in[i];

			if (c == '=' && i + 2 < body_end &&
			    hexval((unsigned char)in[i + 1]) >= 0 &&
			    hexval((unsigned char)in[i + 2]) >= 0) {
				c = (unsigned char)(hexval((unsigned char)
				    in[i + 1]) * 16 +
				    hexval((unsigned char)in[i + 2]));
				i += 2;
			} else if (c == '=')
				flag(damage_r, MIME_D_QP);	/* kept as is */
			if (buf_putc(out, (char)c) < 0)
				return -1;
			i++;
		}
		if (!soft && eol < len &&
		    buf_append(out, crlf ? "\r\n" : "\n", crlf ? 2 : 1) < 0)
			return -1;
		i = next;
	}
	return 0;
}

int
mime_qp_encode(const void *vin, size_t len, enum mime_eol eol,
    struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *in = vin;
	const char *e = eol_str(eol);
	size_t elen = strlen(e), i = 0, col = 0;

	while (i < len) {
		unsigned char c = in[i];
		char tok[3];
		size_t tlen;
		int at_eol;

		if (c == '\n' || (c == '\r' && i + 1 < len && in[i + 1] == '\n')) {
			if (buf_append(out, e, elen) < 0)
				return -1;
			i += c == '\r' ? 2 : 1;
			col = 0;
			continue;
		}
		at_eol = i + 1 == len || in[i + 1] == '\n' ||
		    (in[i + 1] == '\r' && i + 2 < len && in[i + 2] == '\n');
		if ((c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && !at_eol)) {
			tok[0] = (char)c;
			tlen = 1;
			/* "From " and a lone "." at line start are protected */
			if (col == 0 && (c == '.' ||
			    (c == 'F' && len - i >= 5 &&
			    memcmp(in + i, "From ", 5) == 0)))
				goto escape;
		} else {
escape:
			tok[0] = '=';
			tok[1] = hex[c >> 4];
			tok[2] = hex[c & 15];
			tlen = 3;
		}
		/* keep room for the soft break '=' within 76 columns */
		if (col + tlen > 75 && !(at_eol && col + tlen <= 76)) {
			if (buf_putc(out, '=') < 0 ||
			    buf_append(out, e, elen) < 0)
				return -1;
			col = 0;
		}
		if (buf_append(out, tok, tlen) < 0)
			return -1;
		col += tlen;
		i++;
	}
	return 0;
}

/* ---- 8-bit scan ------------------------------------------------------- */

/* Eight bytes at a time: a word with a high bit set, or (with nul) a zero
 * byte, ends the scan; the tail goes byte by byte. */
static int
scan_8bit(const char *p, size_t n, int nul)
{
	const uint64_t hi = 0x8080808080808080ULL, lo = 0x0101010101010101ULL;

	for (; n >= 8; p += 8, n -= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		if ((w & hi) != 0 || (nul && ((w - lo) & ~w & hi) != 0))
			return 1;
	}
	for (; n > 0; p++, n--)
		if ((unsigned char)*p >= 0x80 || (nul && *p == '\0'))
			return 1;
	return 0;
}

int
mime_has_8bit(const char *p, size_t len)
{
	return scan_8bit(p, len, 0);
}

int
mime_has_8bit_or_nul(const char *p, size_t len)
{
	return scan_8bit(p, len, 1);
}

/* ---- charsets --------------------------------------------------------- */

static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n, k;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		    || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += n + 1;
	}
	return 1;
}

static int
is_ascii_charset(const char *cs)
{
	return cs == NULL || *cs == '\0' || strcasecmp(cs, "us-ascii") == 0 ||
	    strcasecmp(cs, "ascii") == 0 || strcasecmp(cs, "ansi_x3.4-1968") == 0;
}

static int
is_utf8_charset(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0;
}

/* Bytes >= 0x80 become U+FFFD. */
static int
put_replacing(const char *in, size_t len, struct buf *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)in[i] < 0x80) {
			if (buf_putc(out, in[i]) < 0)
				return -1;
		} else if (buf_append(out, "\xef\xbf\xbd", 3) < 0)
			return -1;
	}
	return 0;
}

static int
iconv_convert(iconv_t cd, const char *in, size_t len, struct buf *out,
    unsigned *damage_r)
{
	char *ip = (char *)in;
	size_t il = len;
	char tmp[4096];

	while (il > 0) {
		char *op = tmp;
		size_t ol = sizeof(tmp);
		size_t r = iconv(cd, &ip, &il, &op, &ol);

		if (buf_append(out, tmp, (size_t)(op - tmp)) < 0)
			return -1;
		if (r != (size_t)-1)
			continue;
		if (errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL: replace one byte and go on */
		flag(damage_r, MIME_D_CHARSET);
		if (buf_append(out, "\xef\xbf\xbd", 3) < 0)
			return -1;
		ip++;
		il--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	/* flush shift state */
	{
		char *op = tmp;
		size_t ol = sizeof(tmp);

		iconv(cd, NULL, NULL, &op, &ol);
		if (buf_append(out, tmp, (size_t)(op - tmp)) < 0)
			return -1;
	}
	return 0;
}

int
mime_charset_to_utf8(const char *charset, const char *in, size_t len,
    struct buf *out, unsigned *damage_r)
{
	char cs[64];
	iconv_t cd;
	size_t i, n;
	int rc;

	if (is_ascii_charset(charset) || is_utf8_charset(charset)) {
		if (utf8_valid((const unsigned char *)in, len)) {
			if (is_ascii_charset(charset)) {
				for (i = 0; i < len; i++)
					if ((unsigned char)in[i] >= 0x80) {
						flag(damage_r, MIME_D_CHARSET);
						break;
					}
			}
			return buf_append(out, in, len);
		}
		flag(damage_r, MIME_D_CHARSET);
		charset = "WINDOWS-1252";
	}
	/* strip quotes/space, cap the length, map common aliases */
	n = 0;
	for (i = 0; charset[i] != '\0' && n + 1 < sizeof(cs); i++) {
		unsigned char c = (unsigned char)charset[i];

		if (isalnum(c) || c == '-' || c == '_' || c == '.' ||
		    c == ':')
			cs[n++] = (char)c;
	}
	cs[n] = '\0';
	if (strcasecmp(cs, "iso-8859-1") == 0 || strcasecmp(cs, "latin1") == 0)
		strcpy(cs, "WINDOWS-1252");	/* what senders mean */
	if (strcasecmp(cs, "ks_c_5601-1987") == 0)
		strcpy(cs, "CP949");
	cd = n > 0 ? iconv_open("UTF-8", cs) : (iconv_t)-1;
	if (cd == (iconv_t)-1) {
		flag(damage_r, MIME_D_CHARSET);
		if (utf8_valid((const unsigned char *)in, len))
			return buf_append(out, in, len);
		return put_replacing(in, len, out);
	}
	rc = iconv_convert(cd, in, len, out, damage_r);
	iconv_close(cd);
	return rc;
}

/* ---- RFC 2047 decoding ------------------------------------------------ */

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Raw (not encoded) header text: UTF-8 if valid, else windows-1252. */
static int
put_raw_text(const char *in, size_t len, struct buf *out,
    unsigned *damage_r)
{
	if (!mime_has_8bit(in, len))
		return buf_append(out, in, len);
	flag(damage_r, MIME_D_8BIT_HEADER);
	if (utf8_valid((const unsigned char *)in, len))
		return buf_append(out, in, len);
	return mime_charset_to_utf8("windows-1252", in, len, out, damage_r);
}

/* Parse "=?cs?e?text?=" at in[0..len); on success *wlen_r is its length. */
static int
encword_parse(const char *in, size_t len, size_t *wlen_r, size_t *cs_r,
    size_t *cslen_r, char *enc_r, size_t *text_r, size_t *textlen_r)
{
	size_t i = 2, cs, q1, q2;

	if (len < 8 || in[0] != '=' || in[1] != '?')
		return -1;
	cs = i;
	while (i < len && in[i] != '?' && !is_wsp(in[i]) && i < 66)
		i++;
	if (i >= len || in[i] != '?' || i == cs)
		return -1;
	q1 = i;
	if (q1 + 2 >= len || in[q1 + 2] != '?')
		return -1;
	*enc_r = (char)toupper((unsigned char)in[q1 + 1]);
	if (*enc_r != 'B' && *enc_r != 'Q')
		return -1;
	q2 = q1 + 3;
	i = q2;
	/* text: up to "?=" (no white space, but be lenient about '?') */
	while (i + 1 < len && !(in[i] == '?' && in[i + 1] == '=')) {
		/* bounded, so a value full of "=?" stays linear */
		if (in[i] == '\n' || in[i] == '\r' || i - q2 > ENCTEXT_SCAN)
			return -1;
		i++;
	}
	if (i + 1 >= len)
		return -1;
	*cs_r = cs;
	*cslen_r = q1 - cs;
	*text_r = q2;
	*textlen_r = i - q2;
	*wlen_r = i + 2;
	return 0;
}

static int
q_decode(const char *in, size_t len, struct buf *out, unsigned *damage_r)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '_')
			c = ' ';
		else if (c == '=' && i + 2 < len &&
		    hexval((unsigned char)in[i + 1]) >= 0 &&
		    hexval((unsigned char)in[i + 2]) >= 0) {
			c = (char)(hexval((unsigned char)in[i + 1]) * 16 +
			    hexval((unsigned char)in[i + 2]));
			i += 2;
		} else if (c == '=')
			flag(damage_r, MIME_D_ENCWORD);
		if (buf_putc(out, c) < 0)
			return -1;
	}
	return 0;
}

int
mime_header_decode(const char *in, size_t len, struct buf *out,
    unsigned *damage_r)
{
	struct buf unf, pend;
	char pend_cs[64] = "";
	size_t i = 0, plain_start = 0;
	int rc = -1, last_was_word = 0;

	buf_init(&unf, 0);
	buf_init(&pend, 0);
	/* unfold: drop CR and LF (folding keeps the following WSP) */
	for (i = 0; i < len; i++) {
		if (in[i] == '\r' || in[i] == '\n')
			continue;
		if (in[i] == '\0') {
			flag(damage_r, MIME_D_NUL);
			continue;
		}
		if (buf_putc(&unf, in[i]) < 0)
			goto out;
	}
	if (buf_append(&unf, "", 0) < 0)
		goto out;
	in = unf.data;
	len = unf.len;
	i = 0;
	while (i < len) {
		size_t wlen, cs, cslen, text, textlen, j;
		char enc, csname[64];
		unsigned char *star;

		if (!(in[i] == '=' && i + 1 < len && in[i + 1] == '?') ||
		    encword_parse(in + i, len - i, &wlen, &cs, &cslen, &enc,
		    &text, &textlen) < 0) {
			i++;
			continue;
		}
		/* the plain text before it: dropped when only WSP between
		 * two encoded words */
		for (j = plain_start; j < i; j++)
			if (!is_wsp(in[j]))
				break;
		if (!(last_was_word && j == i)) {
			if (pend.len > 0) {
				if (mime_charset_to_utf8(pend_cs, pend.data,
				    pend.len, out, damage_r) < 0)
					goto out;
				buf_reset(&pend);
			}
			if (put_raw_text(in + plain_start, i - plain_start,
			    out, damage_r) < 0)
				goto out;
		}
		if (cslen >= sizeof(csname))
			cslen = sizeof(csname) - 1;
		memcpy(csname, in + i + cs, cslen);
		csname[cslen] = '\0';
		if ((star = (unsigned char *)strchr(csname, '*')) != NULL)
			*star = '\0';	/* RFC 2231 language */
		if (pend.len > 0 && strcasecmp(pend_cs, csname) != 0) {
			if (mime_charset_to_utf8(pend_cs, pend.data, pend.len,
			    out, damage_r) < 0)
				goto out;
			buf_reset(&pend);
		}
		strcpy(pend_cs, csname);
		if (enc == 'B') {
			unsigned d = 0;

			if (mime_base64_decode(in + i + text, textlen, &pend,
			    &d) < 0)
				goto out;
			if (d != 0)
				flag(damage_r, MIME_D_ENCWORD);
		} else if (q_decode(in + i + text, textlen, &pend,
		    damage_r) < 0)
			goto out;
		i += wlen;
		plain_start = i;
		last_was_word = 1;
	}
	if (pend.len > 0 && mime_charset_to_utf8(pend_cs, pend.data, pend.len,
	    out, damage_r) < 0)
		goto out;
	if (put_raw_text(in + plain_start, len - plain_start, out,
	    damage_r) < 0)
		goto out;
	rc = 0;
out:
	buf_release(&unf);
	buf_release(&pend);
	return rc;
}

/* ---- RFC 2047 encoding ------------------------------------------------ */

static int
needs_encoding(const char *w, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c < 0x20 || c >= 0x7f)
			return 1;
		if (c == '=' && i + 1 < len && w[i + 1] == '?')
			return 1;
	}
	return len > PLAIN_WORD_MAX;
}

/* Length of the UTF-8 sequence starting with c. */
static size_t
u8len(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

struct folder {
	struct buf *out;
	const char *eol;
	size_t col;
	int first;
};

/* Append unit with the separator sep before it, folding before sep. */
static int
fold_put(struct folder *f, const char *sep, size_t seplen,
    const char *unit, size_t ulen)
{
	if (!f->first && f->col + seplen + ulen > FOLD_AT) {
		if (buf_puts(f->out, f->eol) < 0)
			return -1;
		f->col = 0;
		if (seplen == 0) {
			sep = " ";
			seplen = 1;
		}
	}
	if (buf_append(f->out, sep, seplen) < 0 ||
	    buf_append(f->out, unit, ulen) < 0)
		return -1;
	f->col += seplen + ulen;
	f->first = 0;
	return 0;
}

/* Encode text as Q encoded-words, each at most ENCWORD_MAX, never
 * splitting a UTF-8 sequence; the first is put after sep. */
static int
encode_run(struct folder *f, const char *sep, size_t seplen,
    const char *text, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char prefix[] = "=?UTF-8?Q?";
	char word[ENCWORD_MAX + 1];
	size_t wl = 0, i = 0;
	int first = 1;

	memcpy(word, prefix, sizeof(prefix) - 1);
	wl = sizeof(prefix) - 1;
	while (i < len) {
		size_t n = u8len((unsigned char)text[i]), k, need = 0;
		char enc[16];

		if (n > len - i)
			n = len - i;
		for (k = 0; k < n; k++) {
			unsigned char c = (unsigned char)text[i + k];

			if (c == ' ')
				enc[need++] = '_';
			else if (isalnum(c) || c == '!' || c == '*' ||
			    c == '+' || c == '-' || c == '/')
				enc[need++] = (char)c;
			else {
				enc[need++] = '=';
				enc[need++] = hex[c >> 4];
				enc[need++] = hex[c & 15];
			}
		}
		if (wl + need + 2 > ENCWORD_MAX) {
			word[wl++] = '?';
			word[wl++] = '=';
			if (fold_put(f, first ? sep : " ", first ? seplen : 1,
			    word, wl) < 0)
				return -1;
			first = 0;
			wl = sizeof(prefix) - 1;
		}
		memcpy(word + wl, enc, need);
		wl += need;
		i += n;
	}
	word[wl++] = '?';
	word[wl++] = '=';
	return fold_put(f, first ? sep : " ", first ? seplen : 1, word, wl);
}

int
mime_header_encode(const char *name, const char *value, enum mime_eol eol,
    struct buf *out)
{
	struct folder f;
	size_t len, i = 0;
	const char *sep = "";
	size_t seplen = 0;

	if (buf_puts(out, name) < 0 || buf_puts(out, ":") < 0)
		return -1;
	f.out = out;
	f.eol = eol_str(eol);
	f.col = strlen(name) + 1;
	f.first = 0;
	len = strlen(value);
	while (len > 0 && is_wsp(value[len - 1]))
		len--;
	while (i < len && is_wsp(value[i]))
		i++;
	sep = " ";
	seplen = 1;
	while (i < len) {
		size_t ws = i, we, run_start, run_end;

		/* one word */
		we = i;
		while (we < len && !is_wsp(value[we]))
			we++;
		if (!needs_encoding(value + i, we - i)) {
			if (fold_put(&f, sep, seplen, value + i, we - i) < 0)
				return -1;
		} else {
			/* a run of words needing encoding, with the WSP
			 * between them (encoded as '_') */
			run_start = i;
			run_end = we;
			for (;;) {
				size_t a = run_end, b;

				while (a < len && is_wsp(value[a]))
					a++;
				if (a == len)
					break;
				b = a;
				while (b < len && !is_wsp(value[b]))
					b++;
				if (!needs_encoding(value + a, b - a))
					break;
				run_end = b;
			}
			if (encode_run(&f, sep, seplen, value + run_start,
			    run_end - run_start) < 0)
				return -1;
			we = run_end;
		}
		/* separator: the WSP run after the word (CR/LF dropped) */
		i = we;
		ws = i;
		while (i < len && is_wsp(value[i]))
			i++;
		sep = value + ws;
		seplen = i - ws;
		if (memchr(sep, '\n', seplen) || memchr(sep, '\r', seplen)) {
			sep = " ";
			seplen = 1;
		}
	}
	return buf_puts(out, f.eol);
}

/* ---- Content-Type and RFC 2231 ---------------------------------------- */

struct rawparam {
	char *name;	/* lowercase base name */
	int section;	/* -1 when none */
	int extended;	/* trailing '*' */
	char *value;
};

static int
is_tspecial(char c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static char *
lower_dup(const char *s, size_t len)
{
	char *r = malloc(len + 1);
	size_t i;

	if (r == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		r[i] = (char)tolower((unsigned char)s[i]);
	r[len] = '\0';
	return r;
}

/* Skip white space and (nested) comments. */
static size_t
skip_cfws(const char *in, size_t len, size_t i)
{
	while (i < len) {
		if (is_wsp(in[i]))
			i++;
		else if (in[i] == '(') {
			int depth = 0;

			while (i < len) {
				if (in[i] == '\\' && i + 1 < len)
					i++;
				else if (in[i] == '(')
					depth++;
				else if (in[i] == ')' && --depth == 0) {
					i++;
					break;
				}
				i++;
			}
		} else
			break;
	}
	return i;
}

static int
pct_decode(const char *s, struct buf *out)
{
	size_t i, len = strlen(s);

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%' && i + 2 < len &&
		    hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0) {
			c = (char)(hexval((unsigned char)s[i + 1]) * 16 +
			    hexval((unsigned char)s[i + 2]));
			i += 2;
		}
		if (buf_putc(out, c) < 0)
			return -1;
	}
	return 0;
}

static int
rawparam_cmp(const void *a, const void *b)
{
	const struct rawparam *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->section - y->section;
}

static int
add_param(struct mime_ctype *ct, char *name, char *value)
{
	struct mime_param *n;
	size_t i;

	for (i = 0; i < ct->nparams; i++)
		if (strcmp(ct->params[i].name, name) == 0) {
			free(name);
			free(value);
			return 0;	/* first wins */
		}
	if (ct->nparams >= PARAMS_MAX) {
		ct->damage |= MIME_D_BAD_CTYPE;
		free(name);
		free(value);
		return 0;
	}
	n = realloc(ct->params, (ct->nparams + 1) * sizeof(*n));
	if (n == NULL) {
		free(name);
		free(value);
		return -1;
	}
	ct->params = n;
	n[ct->nparams].name = name;
	n[ct->nparams].value = value;
	ct->nparams++;
	return 0;
}

/* Join the RFC 2231 pieces of one name (sorted, [a, b)) into ct. */
static int
join_2231(struct mime_ctype *ct, struct rawparam *rp, size_t a, size_t b)
{
	struct buf bytes, utf8;
	char charset[64] = "";
	size_t k;
	int rc = -1, expect = 0;

	buf_init(&bytes, 0);
	buf_init(&utf8, 0);
	for (k = a; k < b; k++) {
		const char *v = rp[k].value;

		if (rp[k].section != expect && rp[k].section >= 0)
			ct->damage |= MIME_D_BAD_CTYPE;	/* gap: join anyway */
		expect = rp[k].section + 1;
		if (rp[k].extended) {
			if (k == a) {
				const char *q1 = strchr(v, '\''), *q2;

				if (q1 != NULL &&
				    (q2 = strchr(q1 + 1, '\'')) != NULL) {
					size_t cl = (size_t)(q1 - v);

					if (cl >= sizeof(charset))
						cl = sizeof(charset) - 1;
					memcpy(charset, v, cl);
					charset[cl] = '\0';
					v = q2 + 1;
				}
			}
			if (pct_decode(v, &bytes) < 0)
				goto out;
		} else if (buf_puts(&bytes, v) < 0)
			goto out;
	}
	if (charset[0] != '\0') {
		if (mime_charset_to_utf8(charset, bytes.data, bytes.len, &utf8,
		    &ct->damage) < 0)
			goto out;
	} else if (put_raw_text(bytes.data, bytes.len, &utf8, NULL) < 0)
		goto out;
	{
		char *name = strdup(rp[a].name);
		char *value = buf_steal(&utf8, NULL);

		if (name == NULL || value == NULL) {
			free(name);
			free(value);
			goto out;
		}
		/* a 2231 value wins over a plain one of the same name */
		for (k = 0; k < ct->nparams; k++)
			if (strcmp(ct->params[k].name, name) == 0) {
				free(ct->params[k].value);
				ct->params[k].value = value;
				free(name);
				rc = 0;
				goto out;
			}
		rc = add_param(ct, name, value);
	}
out:
	buf_release(&bytes);
	buf_release(&utf8);
	return rc;
}

int
mime_ctype_parse(const char *in, size_t len, int with_subtype,
    struct mime_ctype *ct)
{
	struct rawparam *rp = NULL;
	size_t nrp = 0, i, a, b, k;
	struct buf val;
	int rc = -1;

	memset(ct, 0, sizeof(*ct));
	buf_init(&val, 0);
	i = skip_cfws(in, len, 0);
	a = i;
	while (i < len && !is_wsp(in[i]) && !is_tspecial(in[i]))
		i++;
	if (i > a && (ct->type = lower_dup(in + a, i - a)) == NULL)
		goto out;
	i = skip_cfws(in, len, i);
	if (with_subtype) {
		if (i < len && in[i] == '/') {
			i = skip_cfws(in, len, i + 1);
			a = i;
			while (i < len && !is_wsp(in[i]) &&
			    !is_tspecial(in[i]))
				i++;
			if (i > a &&
			    (ct->subtype = lower_dup(in + a, i - a)) == NULL)
				goto out;
		}
		if (ct->type == NULL || ct->subtype == NULL) {
			ct->damage |= MIME_D_BAD_CTYPE;
			free(ct->type);
			free(ct->subtype);
			ct->type = ct->subtype = NULL;
		}
	} else if (ct->type == NULL)
		ct->damage |= MIME_D_BAD_CTYPE;
	/* parameters */
	while (i < len) {
		size_t ns, ne;
		struct rawparam p;
		struct rawparam *n;

		i = skip_cfws(in, len, i);
		if (i < len && in[i] != ';') {
			ct->damage |= MIME_D_BAD_CTYPE;
			while (i < len && in[i] != ';')
				i++;
		}
		if (i >= len)
			break;
		i = skip_cfws(in, len, i + 1);
		ns = i;
		while (i < len && !is_wsp(in[i]) && in[i] != '=' &&
		    in[i] != ';' && in[i] != '"')
			i++;
		ne = i;
		i = skip_cfws(in, len, i);
		if (ne == ns || i >= len || in[i] != '=') {
			if (ne > ns)
				ct->damage |= MIME_D_BAD_CTYPE;
			continue;
		}
		i = skip_cfws(in, len, i + 1);
		buf_reset(&val);
		if (i < len && in[i] == '"') {
			i++;
			while (i < len && in[i] != '"') {
				if (in[i] == '\\' && i + 1 < len)
					i++;
				if (in[i] != '\r' && in[i] != '\n' &&
				    buf_putc(&val, in[i]) < 0)
					goto out;
				i++;
			}
			if (i < len)
				i++;
			else
				ct->damage |= MIME_D_BAD_CTYPE;
		} else {
			/* token; lenient: up to ';', trailing WSP cut */
			a = i;
			while (i < len && in[i] != ';')
				i++;
			b = i;
			while (b > a && is_wsp(in[b - 1]))
				b--;
			for (k = a; k < b; k++)
				if (in[k] != '\r' && in[k] != '\n' &&
				    buf_putc(&val, in[k]) < 0)
					goto out;
		}
		memset(&p, 0, sizeof(p));
		p.section = -1;
		/* name*N* / name*N / name* */
		if (ne > ns && in[ne - 1] == '*') {
			p.extended = 1;
			ne--;
		}
		{
			size_t s = ne;

			while (s > ns && isdigit((unsigned char)in[s - 1]))
				s--;
			if (s < ne && s > ns + 1 && in[s - 1] == '*' &&
			    ne - s < 6) {
				p.section = atoi(in + s);
				ne = s - 1;
			}
		}
		if ((p.name = lower_dup(in + ns, ne - ns)) == NULL)
			goto out;
		if ((p.value = strdup(val.data != NULL ? val.data : "")) ==
		    NULL) {
			free(p.name);
			goto out;
		}
		if (p.section < 0 && !p.extended) {
			if (add_param(ct, p.name, p.value) < 0)
				goto out;
			continue;
		}
		if (nrp >= PARAMS_MAX) {
			ct->damage |= MIME_D_BAD_CTYPE;
			free(p.name);
			free(p.value);
			continue;
		}
		n = realloc(rp, (nrp + 1) * sizeof(*rp));
		if (n == NULL) {
			free(p.name);
			free(p.value);
			goto out;
		}
		rp = n;
		rp[nrp++] = p;
	}
	if (nrp > 0) {
		for (k = 0; k < nrp; k++)
			if (rp[k].section < 0)
				rp[k].section = 0;
		qsort(rp, nrp, sizeof(*rp), rawparam_cmp);
		for (a = 0; a < nrp; a = b) {
			for (b = a + 1; b < nrp &&
			    strcmp(rp[b].name, rp[a].name) == 0; b++)
				;
			if (join_2231(ct, rp, a, b) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	for (k = 0; k < nrp; k++) {
		free(rp[k].name);
		free(rp[k].value);
	}
	free(rp);
	buf_release(&val);
	if (rc < 0)
		mime_ctype_release(ct);
	return rc;
}

void
mime_ctype_release(struct mime_ctype *ct)
{
	size_t i;

	for (i = 0; i < ct->nparams; i++) {
		free(ct->params[i].name);
		free(ct->params[i].value);
	}
	free(ct->params);
	free(ct->type);
	free(ct->subtype);
	memset(ct, 0, sizeof(*ct));
}

const char *
mime_ctype_param(const struct mime_ctype *ct, const char *name)
{
	size_t i;

	for (i = 0; i < ct->nparams; i++)
		if (strcasecmp(ct->params[i].name, name) == 0)
			return ct->params[i].value;
	return NULL;
}

int
mime_param_quote(const char *value, struct buf *out)
{
	size_t i, len = strlen(value);
	int quote = len == 0;

	for (i = 0; i < len; i++)
		if (is_tspecial(value[i]) || is_wsp(value[i]) ||
		    (unsigned char)value[i] < 0x20)
			quote = 1;
	if (!quote)
		return buf_append(out, value, len);
	if (buf_putc(out, '"') < 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (value[i] == '\r' || value[i] == '\n')
			continue;
		if ((value[i] == '"' || value[i] == '\\') &&
		    buf_putc(out, '\\') < 0)
			return -1;
		if (buf_putc(out, value[i]) < 0)
			return -1;
	}
	return buf_putc(out, '"');
}
