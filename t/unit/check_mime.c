/*
 * mime codecs and header rules: base64, quoted-printable, charsets,
 * RFC 2047 decode/encode with folding, RFC 2231, Content-Type defaults,
 * file names.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "mime_codec.h"
#include "mimetest.h"

/* ---- base64 ------------------------------------------------------------ */

static const struct {
	const char *in;
	const char *want;
	size_t want_len;
	unsigned damage;
} b64_cases[] = {
	{ "", "", 0, 0 },
	{ "Zg==", "f", 1, 0 },			/* RFC 4648 10 */
	{ "Zm8=", "fo", 2, 0 },
	{ "Zm9v", "foo", 3, 0 },
	{ "Zm9vYg==", "foob", 4, 0 },
	{ "Zm9vYmE=", "fooba", 5, 0 },
	{ "Zm9vYmFy", "foobar", 6, 0 },
	{ "Zm9v\r\nYmFy\r\n", "foobar", 6, 0 },	/* line breaks */
	{ " Zm 9v\tYmFy ", "foobar", 6, 0 },	/* white space */
	{ "Zm9v!YmFy", "foobar", 6, MIME_D_BASE64 },	/* garbage */
	{ "Zm9vYg", "foob", 4, MIME_D_BASE64 },	/* no padding */
	{ "Zm9vY", "foo", 3, MIME_D_BASE64 },	/* dangling 6 bits */
	{ "Zg==Zg==", "ff", 2, MIME_D_BASE64 },	/* data after pad */
	{ "AP8=", "\x00\xff", 2, 0 },
};

START_TEST(base64_decode_table)
{
	struct buf out;
	unsigned damage = 0;

	buf_init(&out, 0);
	ck_assert_int_eq(mime_base64_decode(b64_cases[_i].in,
	    strlen(b64_cases[_i].in), &out, &damage), 0);
	ck_assert_msg(out.len == b64_cases[_i].want_len &&
	    memcmp(out.data, b64_cases[_i].want, out.len) == 0,
	    "'%s': got %zu bytes '%s', want '%s'", b64_cases[_i].in, out.len,
	    out.data ? out.data : "", b64_cases[_i].want);
	ck_assert_msg(damage == b64_cases[_i].damage,
	    "'%s': got damage %x, want %x", b64_cases[_i].in, damage,
	    b64_cases[_i].damage);
	buf_release(&out);
}
END_TEST

START_TEST(base64_encode_76)
{
	unsigned char data[1000];
	struct buf enc, dec;
	size_t i, n, col;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	for (n = 0; n <= 200; n += (n < 70 ? 1 : 13)) {
		buf_init(&enc, 0);
		buf_init(&dec, 0);
		ck_assert_int_eq(mime_base64_encode(data, n, MIME_EOL_CRLF,
		    &enc), 0);
		/* every line 76 chars except the last; CRLF ends */
		col = 0;
		for (i = 0; i < enc.len; i++) {
			if (enc.data[i] == '\r') {
				ck_assert_int_eq(enc.data[i + 1], '\n');
				ck_assert_msg(col == 76 || i + 2 == enc.len,
				    "n=%zu: line of %zu", n, col);
				col = 0;
				i++;
			} else
				col++;
		}
		ck_assert_uint_eq(col, 0);
		ck_assert_int_eq(mime_base64_decode(enc.data, enc.len, &dec,
		    NULL), 0);
		ck_assert_uint_eq(dec.len, n);
		ck_assert(n == 0 || memcmp(dec.data, data, n) == 0);
		buf_release(&enc);
		buf_release(&dec);
	}
	buf_init(&enc, 0);
	ck_assert_int_eq(mime_base64_encode("foobar", 6, MIME_EOL_LF, &enc),
	    0);
	ck_assert_str_eq(enc.data, "Zm9vYmFy\n");
	buf_release(&enc);
}
END_TEST

/* ---- quoted-printable --------------------------------------------------- */

static const struct {
	const char *in;
	const char *want;
	unsigned damage;
} qp_cases[] = {
	{ "abc", "abc", 0 },
	{ "a=3Db", "a=b", 0 },
	{ "caf=E9", "caf\xe9", 0 },
	{ "caf=e9", "caf\xe9", 0 },		/* lowercase hex accepted */
	{ "soft=\r\nbreak", "softbreak", 0 },
	{ "soft=\nbreak", "softbreak", 0 },
	{ "soft=  \r\nbreak", "softbreak", 0 },	/* padding after '=' */
	{ "hard  \r\nline\r\n", "hard\r\nline\r\n", 0 },	/* trailing WSP */
	{ "lf\nonly\n", "lf\nonly\n", 0 },
	{ "bad=G1", "bad=G1", MIME_D_QP },
	{ "end=4", "end=4", MIME_D_QP },
	{ "=", "", 0 },				/* soft break at the end */
	{ "a=\r\n", "a", 0 },
};

START_TEST(qp_decode_table)
{
	struct buf out;
	unsigned damage = 0;

	buf_init(&out, 0);
	ck_assert_int_eq(mime_qp_decode(qp_cases[_i].in,
	    strlen(qp_cases[_i].in), &out, &damage), 0);
	ck_assert_msg(strcmp(out.data ? out.data : "", qp_cases[_i].want) == 0,
	    "'%s': got '%s', want '%s'", qp_cases[_i].in, out.data,
	    qp_cases[_i].want);
	ck_assert_msg(damage == qp_cases[_i].damage, "'%s': got %x, want %x",
	    qp_cases[_i].in, damage, qp_cases[_i].damage);
	buf_release(&out);
}
END_TEST

static const struct {
	const char *in;
	const char *want;
} qpe_cases[] = {
	{ "plain text\n", "plain text\r\n" },
	{ "trailing space \n", "trailing space=20\r\n" },
	{ "trailing tab\t", "trailing tab=09" },
	{ "From me\n", "=46rom me\r\n" },
	{ ".\n", "=2E\r\n" },
	{ "a=b", "a=3Db" },
	{ "caf\xc3\xa9", "caf=C3=A9" },
	{ "crlf\r\nkept\r\n", "crlf\r\nkept\r\n" },
	{ "0123456789012345678901234567890123456789012345678901234567890"
	  "1234567890123456789",
	  "012345678901234567890123456789012345678901234567890123456789012"
	  "345678901234=\r\n56789" },
};

START_TEST(qp_encode_table)
{
	struct buf out;

	buf_init(&out, 0);
	ck_assert_int_eq(mime_qp_encode(qpe_cases[_i].in,
	    strlen(qpe_cases[_i].in), MIME_EOL_CRLF, &out), 0);
	ck_assert_msg(strcmp(out.data ? out.data : "", qpe_cases[_i].want) == 0,
	    "got '%s', want '%s'", out.data, qpe_cases[_i].want);
	buf_release(&out);
}
END_TEST

START_TEST(qp_roundtrip_random)
{
	unsigned char data[600];
	struct buf enc, dec;
	size_t i, col;
	unsigned seed = 12345;
	int round;

	for (round = 0; round < 50; round++) {
		for (i = 0; i < sizeof(data); i++) {
			seed = seed * 1103515245 + 12345;
			/* mostly text, some 8-bit, spaces and LF */
			data[i] = (seed >> 16) % 5 == 0 ? ' ' :
			    (seed >> 16) % 17 == 0 ? '\n' :
			    (unsigned char)(seed >> 20);
			if (data[i] == '\r')
				data[i] = 'r';
		}
		buf_init(&enc, 0);
		buf_init(&dec, 0);
		ck_assert_int_eq(mime_qp_encode(data, sizeof(data),
		    MIME_EOL_LF, &enc), 0);
		col = 0;
		for (i = 0; i < enc.len; i++) {
			unsigned char c = (unsigned char)enc.data[i];

			if (c == '\n') {
				ck_assert_msg(col <= 76, "line of %zu", col);
				col = 0;
				continue;
			}
			ck_assert(c == '\t' || (c >= 32 && c < 127));
			col++;
		}
		ck_assert_int_eq(mime_qp_decode(enc.data, enc.len, &dec,
		    NULL), 0);
		ck_assert_uint_eq(dec.len, sizeof(data));
		ck_assert(memcmp(dec.data, data, sizeof(data)) == 0);
		buf_release(&enc);
		buf_release(&dec);
	}
}
END_TEST

/* ---- charsets ------------------------------------------------------------- */

static const struct {
	const char *charset;
	const char *in;
	const char *want;
	unsigned damage;
} cs_cases[] = {
	{ "us-ascii", "plain", "plain", 0 },
	{ NULL, "plain", "plain", 0 },
	{ "utf-8", "caf\xc3\xa9", "caf\xc3\xa9", 0 },
	{ "UTF8", "caf\xc3\xa9", "caf\xc3\xa9", 0 },
	{ "iso-8859-1", "caf\xe9", "caf\xc3\xa9", 0 },
	{ "\"ISO-8859-15\"", "\xa4", "\xe2\x82\xac", 0 },
	{ "windows-1252", "\x80", "\xe2\x82\xac", 0 },
	{ "koi8-r", "\xf0\xd2\xc9", "\xd0\x9f\xd1\x80\xd0\xb8", 0 },
	{ "utf-8", "bad\xff", "bad\xc3\xbf", MIME_D_CHARSET },
	{ "us-ascii", "caf\xc3\xa9", "caf\xc3\xa9", MIME_D_CHARSET },
	{ "x-no-such-charset", "caf\xe9", "caf\xef\xbf\xbd",
	  MIME_D_CHARSET },
	{ "shift_jis", "\x82\xa0", "\xe3\x81\x82", 0 },
	{ "shift_jis", "a\x82", "a\xef\xbf\xbd", MIME_D_CHARSET },
};

START_TEST(charset_table)
{
	struct buf out;
	unsigned damage = 0;

	buf_init(&out, 0);
	ck_assert_int_eq(mime_charset_to_utf8(cs_cases[_i].charset,
	    cs_cases[_i].in, strlen(cs_cases[_i].in), &out, &damage), 0);
	ck_assert_msg(strcmp(out.data ? out.data : "", cs_cases[_i].want) == 0,
	    "%s: got '%s', want '%s'", cs_cases[_i].charset, out.data,
	    cs_cases[_i].want);
	ck_assert_msg(damage == cs_cases[_i].damage, "%s: got %x, want %x",
	    cs_cases[_i].charset, damage, cs_cases[_i].damage);
	buf_release(&out);
}
END_TEST

/* ---- RFC 2047 ------------------------------------------------------------- */

static const struct {
	const char *in;
	const char *want;
	unsigned damage;
} ew_cases[] = {
	/* RFC 2047 section 8 */
	{ "(=?ISO-8859-1?Q?a?=)", "(a)", 0 },
	{ "(=?ISO-8859-1?Q?a?= b)", "(a b)", 0 },
	{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)", 0 },
	{ "(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)", 0 },
	{ "(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)", 0 },
	{ "(=?ISO-8859-1?Q?a_b?=)", "(a b)", 0 },
	{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)", 0 },
	{ "=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=",
	  "Keld J\xc3\xb8rn Simonsen", 0 },
	{ "=?US-ASCII?Q?Keith_Moore?=", "Keith Moore", 0 },
	{ "=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore", 0 },	/* 2231 */
	{ "=?UTF-8?B?R3LDvMOfZQ==?=", "Gr\xc3\xbc\xc3\x9f" "e", 0 },
	{ "=?utf-8?b?R3LDvMOfZQ==?=", "Gr\xc3\xbc\xc3\x9f" "e", 0 },
	/* a UTF-8 sequence split over two words */
	{ "=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?=", "\xc3\xa9", 0 },
	{ "=?UTF-8?B?w6k=?= plain =?UTF-8?Q?=C3=A9?=",
	  "\xc3\xa9 plain \xc3\xa9", 0 },
	{ "no encoded words", "no encoded words", 0 },
	{ "folded\r\n line", "folded line", 0 },
	{ "=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=", 0 },	/* bad encoding */
	{ "=?UTF-8?Q?unterminated", "=?UTF-8?Q?unterminated", 0 },
	{ "=??Q?x?=", "=??Q?x?=", 0 },
	{ "=?x-bogus?Q?caf=E9?=", "caf\xef\xbf\xbd", MIME_D_CHARSET },
	{ "=?UTF-8?B?!!!?=", "", MIME_D_ENCWORD },
	{ "caf\xe9 raw latin1", "caf\xc3\xa9 raw latin1",
	  MIME_D_8BIT_HEADER },
	{ "caf\xc3\xa9 raw utf8", "caf\xc3\xa9 raw utf8",
	  MIME_D_8BIT_HEADER },
	{ "a=?UTF-8?Q?b?=c", "abc", 0 },	/* inside a word, as MUAs do */
};

START_TEST(encoded_word_decode_table)
{
	struct buf out;
	unsigned damage = 0;

	buf_init(&out, 0);
	ck_assert_int_eq(mime_header_decode(ew_cases[_i].in,
	    strlen(ew_cases[_i].in), &out, &damage), 0);
	ck_assert_msg(strcmp(out.data ? out.data : "", ew_cases[_i].want) == 0,
	    "'%s': got '%s', want '%s'", ew_cases[_i].in, out.data,
	    ew_cases[_i].want);
	ck_assert_msg(damage == ew_cases[_i].damage, "'%s': got %x, want %x",
	    ew_cases[_i].in, damage, ew_cases[_i].damage);
	buf_release(&out);
}
END_TEST

static const struct {
	const char *value;
	const char *want;	/* NULL: only check the round trip */
} enc_cases[] = {
	{ "hello world", "Subject: hello world\n" },
	{ "[SUSPECT] Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln",
	  "Subject: [SUSPECT] =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus "
	  "=?UTF-8?Q?K=C3=B6ln?=\n" },
	{ "  trimmed  ", "Subject: trimmed\n" },
	{ "looks =?like?= a word", "Subject: looks =?UTF-8?Q?=3D=3Flike=3F=3D?= a word\n" },
	{ "a long subject line that goes on and on and on past the seventy "
	  "eight column limit for sure", "Subject: a long subject line that "
	  "goes on and on and on past the seventy eight\n column limit for "
	  "sure\n" },
	{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe4\xbb\xb6\xe5"
	  "\x90\x8d\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82\xe9\x95\xb7\xe3\x81"
	  "\x84\xe4\xbb\xb6\xe5\x90\x8d\xe3\x82\x92\xe6\x8a\x98\xe3\x82\x8a"
	  "\xe8\xbf\x94\xe3\x81\x97\xe3\x81\xbe\xe3\x81\x99", NULL },
	{ "mixed \xc3\xa9t\xc3\xa9 and plain words and \xc3\xa9t\xc3\xa9 "
	  "again with a long tail of ascii words to fold somewhere", NULL },
	{ "", "Subject:\n" },
};

START_TEST(header_encode_table)
{
	struct buf out, dec;
	const char *v;
	size_t i, col = 0;

	buf_init(&out, 0);
	buf_init(&dec, 0);
	ck_assert_int_eq(mime_header_encode("Subject", enc_cases[_i].value,
	    MIME_EOL_LF, &out), 0);
	if (enc_cases[_i].want != NULL)
		ck_assert_msg(strcmp(out.data, enc_cases[_i].want) == 0,
		    "got '%s', want '%s'", out.data, enc_cases[_i].want);
	for (i = 0; i < out.len; i++) {
		if (out.data[i] == '\n') {
			ck_assert_msg(col <= 78, "line of %zu in '%s'", col,
			    out.data);
			col = 0;
		} else {
			ck_assert((unsigned char)out.data[i] < 0x80);
			col++;
		}
	}
	/* decoding gives the value back (white space trimmed) */
	v = strchr(out.data, ':') + 1;
	ck_assert_int_eq(mime_header_decode(v, strlen(v), &dec, NULL), 0);
	{
		char *want = strdup(enc_cases[_i].value), *w = want, *e;

		while (*w == ' ')
			w++;
		e = w + strlen(w);
		while (e > w && e[-1] == ' ')
			*--e = '\0';
		/* the decoder keeps the folding white space */
		ck_assert_msg(strcmp(dec.data + (dec.data[0] == ' '), w) == 0,
		    "round trip: got '%s', want '%s'", dec.data, w);
		free(want);
	}
	buf_release(&out);
	buf_release(&dec);
}
END_TEST

/* ---- Content-Type, RFC 2231 ---------------------------------------------- */

static const struct {
	const char *in;
	const char *type, *subtype;
	const char *param, *value;
	unsigned damage;
} ct_cases[] = {
	{ "text/plain", "text", "plain", "charset", NULL, 0 },
	{ "TEXT/Plain; CHARSET=\"UTF-8\"", "text", "plain", "charset",
	  "UTF-8", 0 },
	{ "multipart/mixed; boundary=\"a b\"", "multipart", "mixed",
	  "boundary", "a b", 0 },
	{ "multipart/mixed;\r\n boundary=simple (comment)", "multipart",
	  "mixed", "boundary", "simple (comment)", 0 },
	{ "text/plain (a comment) ; charset=us-ascii", "text", "plain",
	  "charset", "us-ascii", 0 },
	{ "text/plain; name=\"quoted \\\"x\\\"\"", "text", "plain", "name",
	  "quoted \"x\"", 0 },
	/* RFC 2231 3, 4, 4.1 */
	{ "message/external-body; access-type=URL;\r\n URL*0=\"ftp://\";\r\n"
	  " URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
	  "message", "external-body", "url",
	  "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar", 0 },
	{ "application/x-stuff;\r\n title*=us-ascii'en-us'This%20is%20%2A%2A"
	  "%2Afun%2A%2A%2A", "application", "x-stuff", "title",
	  "This is ***fun***", 0 },
	{ "application/x-stuff;\r\n title*0*=us-ascii'en'This%20is%20even%20"
	  "more%20;\r\n title*1*=%2A%2A%2Afun%2A%2A%2A%20;\r\n"
	  " title*2=\"isn't it!\"", "application", "x-stuff", "title",
	  "This is even more ***fun*** isn't it!", 0 },
	{ "text/plain; name*=iso-8859-1''caf%E9.txt", "text", "plain", "name",
	  "caf\xc3\xa9.txt", 0 },
	{ "text/plain; name*=utf-8''%C3%A9t%C3%A9.pdf", "text", "plain",
	  "name", "\xc3\xa9t\xc3\xa9.pdf", 0 },
	/* out of order sections are sorted */
	{ "text/plain; n*1=b; n*0=a; n*2=c", "text", "plain", "n", "abc", 0 },
	/* 2231 beats the plain form */
	{ "text/plain; name=\"plain.txt\"; name*=utf-8''better.txt", "text",
	  "plain", "name", "better.txt", 0 },
	/* first of duplicates wins */
	{ "text/plain; charset=a; charset=b", "text", "plain", "charset",
	  "a", 0 },
	/* broken */
	{ "text", NULL, NULL, "charset", NULL, MIME_D_BAD_CTYPE },
	{ "", NULL, NULL, "charset", NULL, MIME_D_BAD_CTYPE },
	{ "/plain", NULL, NULL, "charset", NULL, MIME_D_BAD_CTYPE },
	{ "text/plain; charset=\"unterminated", "text", "plain", "charset",
	  "unterminated", MIME_D_BAD_CTYPE },
	{ "text/plain garbage; charset=x", "text", "plain", "charset", "x",
	  MIME_D_BAD_CTYPE },
	{ "text/plain; name=unquoted file.txt", "text", "plain", "name",
	  "unquoted file.txt", 0 },
	{ "text/plain;;; charset=x;", "text", "plain", "charset", "x", 0 },
	{ "text/plain; n*0=a; n*2=c", "text", "plain", "n", "ac",
	  MIME_D_BAD_CTYPE },
};

START_TEST(ctype_table)
{
	struct mime_ctype ct;
	const char *v;

	ck_assert_int_eq(mime_ctype_parse(ct_cases[_i].in,
	    strlen(ct_cases[_i].in), 1, &ct), 0);
	if (ct_cases[_i].type == NULL)
		ck_assert_msg(ct.type == NULL, "'%s': got type %s, want none",
		    ct_cases[_i].in, ct.type);
	else {
		ck_assert_str_eq(ct.type, ct_cases[_i].type);
		ck_assert_str_eq(ct.subtype, ct_cases[_i].subtype);
	}
	v = mime_ctype_param(&ct, ct_cases[_i].param);
	if (ct_cases[_i].value == NULL)
		ck_assert_msg(v == NULL, "'%s': got %s=%s, want none",
		    ct_cases[_i].in, ct_cases[_i].param, v);
	else
		ck_assert_msg(v != NULL && strcmp(v, ct_cases[_i].value) == 0,
		    "'%s': got %s='%s', want '%s'", ct_cases[_i].in,
		    ct_cases[_i].param, v, ct_cases[_i].value);
	ck_assert_msg(ct.damage == ct_cases[_i].damage,
	    "'%s': got damage %x, want %x", ct_cases[_i].in, ct.damage,
	    ct_cases[_i].damage);
	mime_ctype_release(&ct);
}
END_TEST

/* ---- entity defaults and file names --------------------------------------- */

static const struct {
	const char *msg;
	const char *type;	/* "type/subtype" */
	enum mime_cte cte;
	unsigned damage;
} def_cases[] = {
	{ "Subject: x\n\nbody\n", "text/plain", MIME_CTE_7BIT, 0 },
	{ "Content-Type: text\n\nbody\n", "text/plain", MIME_CTE_7BIT,
	  MIME_D_BAD_CTYPE },
	{ "Content-Type: ;;;\n\nbody\n", "text/plain", MIME_CTE_7BIT,
	  MIME_D_BAD_CTYPE },
	{ "Content-Type: image/png\nContent-Transfer-Encoding: BASE64\n\n",
	  "image/png", MIME_CTE_BASE64, 0 },
	{ "Content-Transfer-Encoding: Quoted-Printable (comment)\n\n",
	  "text/plain", MIME_CTE_QP, 0 },
	{ "Content-Transfer-Encoding: x-uuencode\n\n", "text/plain",
	  MIME_CTE_UNKNOWN, MIME_D_BAD_CTE },
	{ "Content-Transfer-Encoding:\n\n", "text/plain", MIME_CTE_UNKNOWN,
	  MIME_D_BAD_CTE },
	{ "Content-Type: text/html\nContent-Type: text/plain\n\n",
	  "text/html", MIME_CTE_7BIT, MIME_D_DUP_CTYPE },
	{ "Content-Type: multipart/mixed\n\nno boundary\n",
	  "multipart/mixed", MIME_CTE_7BIT, MIME_D_NO_BOUNDARY },
	{ "content-type   :  Text/HTML\n\n", "text/html", MIME_CTE_7BIT, 0 },
	{ "Content-Type: text/plain;\n charset=utf-8\nContent-Transfer-"
	  "Encoding: 8bit\n\n", "text/plain", MIME_CTE_8BIT, 0 },
};

START_TEST(entity_defaults_table)
{
	struct mime_message *m = mt_parse(def_cases[_i].msg);
	char got[128];

	snprintf(got, sizeof(got), "%s/%s", m->root->type, m->root->subtype);
	ck_assert_msg(strcmp(got, def_cases[_i].type) == 0,
	    "'%s': got %s, want %s", def_cases[_i].msg, got,
	    def_cases[_i].type);
	ck_assert_int_eq(m->root->cte, def_cases[_i].cte);
	ck_assert_msg(m->root->damage == def_cases[_i].damage,
	    "'%s': got damage %x, want %x", def_cases[_i].msg,
	    m->root->damage, def_cases[_i].damage);
	mime_message_free(&m);
}
END_TEST

START_TEST(digest_default)
{
	struct mime_message *m = mt_parse(
	    "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	    "Subject: inner\n\nx\n--d\nContent-Type: text/plain\n\ny\n--d--\n");
	struct mime_entity *a = m->root->children, *b = a->next;

	ck_assert_str_eq(a->type, "message");
	ck_assert_str_eq(a->subtype, "rfc822");
	ck_assert_uint_eq(a->nchildren, 1);
	ck_assert_str_eq(b->type, "text");
	mime_message_free(&m);
}
END_TEST

static const struct {
	const char *hdr;
	const char *want;	/* NULL: none */
} fn_cases[] = {
	{ "Content-Disposition: attachment; filename=\"a.pdf\"", "a.pdf" },
	{ "Content-Type: application/pdf; name=\"n.pdf\"", "n.pdf" },
	{ "Content-Type: application/pdf; name=n.pdf\n"
	  "Content-Disposition: attachment; filename=d.pdf", "d.pdf" },
	{ "Content-Disposition: attachment;\n filename*=utf-8''%C3%A9t%C3%A9"
	  ".pdf", "\xc3\xa9t\xc3\xa9.pdf" },
	{ "Content-Disposition: attachment;\n filename*0*=utf-8''%C3%A9;\n"
	  " filename*1=\"t\xc3\xa9.pdf\"", "\xc3\xa9t\xc3\xa9.pdf" },
	{ "Content-Type: application/pdf;\n name=\"=?UTF-8?B?w6l0w6kucGRm?=\"",
	  "\xc3\xa9t\xc3\xa9.pdf" },
	{ "Content-Disposition: attachment; filename=\"=?iso-8859-1?Q?"
	  "caf=E9?=.txt\"", "caf\xc3\xa9.txt" },
	{ "Content-Disposition: inline", NULL },
	{ "Content-Disposition: attachment; filename=\"\"", NULL },
	{ "X-Other: 1", NULL },
};

START_TEST(filename_table)
{
	char msg[512];
	struct mime_message *m;
	struct buf out;
	int rc;

	snprintf(msg, sizeof(msg), "%s\n\nbody\n", fn_cases[_i].hdr);
	m = mt_parse(msg);
	buf_init(&out, 0);
	rc = mime_entity_filename(m->root, &out);
	if (fn_cases[_i].want == NULL)
		ck_assert_msg(rc == -1, "'%s': got '%s', want none",
		    fn_cases[_i].hdr, out.data);
	else
		ck_assert_msg(rc == 0 && strcmp(out.data, fn_cases[_i].want) ==
		    0, "'%s': got '%s', want '%s'", fn_cases[_i].hdr,
		    out.data, fn_cases[_i].want);
	buf_release(&out);
	mime_message_free(&m);
}
END_TEST

START_TEST(header_lookup)
{
	struct mime_message *m = mt_parse(
	    "Received: one\nSUBJECT: =?UTF-8?Q?h=C3=A9?=\n folded\n"
	    "received: two\n\nbody\n");
	const struct mime_field *f;
	struct buf out;

	buf_init(&out, 0);
	ck_assert_uint_eq(mime_field_count(m->root, "Received"), 2);
	f = mime_field_find(m->root, "RECEIVED", 1);
	ck_assert(f != NULL);
	ck_assert_int_eq(mime_field_value(f, &out), 0);
	ck_assert_str_eq(out.data, "two");
	buf_reset(&out);
	ck_assert_int_eq(mime_header_get(m->root, "subject", &out), 0);
	ck_assert_str_eq(out.data, "h\xc3\xa9 folded");
	ck_assert_int_eq(mime_header_get(m->root, "X-None", &out), -1);
	ck_assert(mime_field_find(m->root, "Received", 2) == NULL);
	buf_release(&out);
	mime_message_free(&m);
}
END_TEST

START_TEST(params_capped)
{
	struct buf in;
	struct mime_ctype ct;
	int i;

	buf_init(&in, 0);
	buf_puts(&in, "text/plain");
	for (i = 0; i < 300; i++)
		buf_printf(&in, "; p%d=%d", i, i);
	for (i = 0; i < 300; i++)
		buf_printf(&in, "; q*%d=x", i);
	ck_assert_int_eq(mime_ctype_parse(in.data, in.len, 1, &ct), 0);
	ck_assert_uint_eq(ct.nparams, 256);
	ck_assert_str_eq(mime_ctype_param(&ct, "p255"), "255");
	ck_assert(mime_ctype_param(&ct, "p256") == NULL);
	ck_assert_uint_eq(ct.damage, MIME_D_BAD_CTYPE);
	mime_ctype_release(&ct);
	buf_release(&in);
}
END_TEST

START_TEST(encoded_word_scan_bounded)
{
	struct buf in, out;
	int i;

	/* many openers without a close: stays linear and literal */
	buf_init(&in, 0);
	buf_init(&out, 0);
	for (i = 0; i < 20000; i++)
		buf_puts(&in, "=?utf-8?q?a");
	ck_assert_int_eq(mime_header_decode(in.data, in.len, &out, NULL), 0);
	ck_assert_str_eq(out.data, in.data);
	buf_release(&in);
	buf_release(&out);
}
END_TEST

START_TEST(damage_names)
{
	struct buf out;

	buf_init(&out, 0);
	mime_damage_names(MIME_D_NO_CLOSE | MIME_D_HEADER_LINE_LONG, &out);
	ck_assert_str_eq(out.data, "header-line-long,no-close");
	buf_release(&out);
}
END_TEST

/* Every length up to 20 and every place of the one odd byte, so both
 * the eight-byte words and the tail see it. */
START_TEST(eight_bit_scan)
{
	char p[24];
	size_t len, at;

	memset(p, 'a', sizeof(p));
	p[0] = 0x7f;
	for (len = 0; len <= 20; len++) {
		ck_assert_int_eq(mime_has_8bit(p, len), 0);
		ck_assert_int_eq(mime_has_8bit_or_nul(p, len), 0);
		for (at = 0; at < len; at++) {
			char save = p[at];

			p[at] = (char)0x80;
			ck_assert_msg(mime_has_8bit(p, len) == 1 &&
			    mime_has_8bit_or_nul(p, len) == 1,
			    "0x80 at %zu of %zu: got 0, want 1", at, len);
			p[at] = (char)0xff;
			ck_assert(mime_has_8bit(p, len) == 1);
			p[at] = '\0';
			ck_assert_msg(mime_has_8bit(p, len) == 0 &&
			    mime_has_8bit_or_nul(p, len) == 1,
			    "NUL at %zu of %zu: got %d/%d, want 0/1", at, len,
			    mime_has_8bit(p, len),
			    mime_has_8bit_or_nul(p, len));
			p[at] = save;
		}
		/* Beyond len does not count. */
		p[len] = (char)0x80;
		ck_assert_int_eq(mime_has_8bit(p, len), 0);
		p[len] = '\0';
		ck_assert_int_eq(mime_has_8bit_or_nul(p, len), 0);
		p[len] = 'a';
	}
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

Suite *
mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("codec");

	tcase_add_loop_test(tc, base64_decode_table, 0, N(b64_cases));
	tcase_add_test(tc, base64_encode_76);
	tcase_add_loop_test(tc, qp_decode_table, 0, N(qp_cases));
	tcase_add_loop_test(tc, qp_encode_table, 0, N(qpe_cases));
	tcase_add_test(tc, qp_roundtrip_random);
	tcase_add_loop_test(tc, charset_table, 0, N(cs_cases));
	tcase_add_test(tc, eight_bit_scan);
	suite_add_tcase(s, tc);
	tc = tcase_create("header");
	tcase_add_loop_test(tc, encoded_word_decode_table, 0, N(ew_cases));
	tcase_add_loop_test(tc, header_encode_table, 0, N(enc_cases));
	tcase_add_loop_test(tc, ctype_table, 0, N(ct_cases));
	tcase_add_loop_test(tc, entity_defaults_table, 0, N(def_cases));
	tcase_add_test(tc, digest_default);
	tcase_add_loop_test(tc, filename_table, 0, N(fn_cases));
	tcase_add_test(tc, header_lookup);
	tcase_add_test(tc, damage_names);
	tcase_add_test(tc, params_capped);
	tcase_add_test(tc, encoded_word_scan_bounded);
	suite_add_tcase(s, tc);
	return s;
}
