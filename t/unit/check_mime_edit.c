/*
 * mime editing, replacing, building, emission and inspection.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "mime_codec.h"
#include "mimetest.h"
#include "testutil.h"

static const char plain_msg[] =
    "Received: from x\n"
    "  by y; Mon, 1 Jan 2024 00:00:00 +0000\n"
    "From: a@example.org\n"
    "Subject: old subject\n"
    "To: b@example.org\n"
    "Subject: second\n"
    "\n"
    "body\n";

/* ---- header editing ------------------------------------------------------ */

START_TEST(header_replace_keeps_rest)
{
	struct mime_message *m = mt_parse(plain_msg);
	const char *error;
	char *out;

	ck_assert_int_eq(mime_header_replace(m, m->root, "subject",
	    "[SUSPECT] Gr\xc3\xbc\xc3\x9f" "e", &error), 0);
	out = mt_emit(m, 0);
	ck_assert_str_eq(out,
	    "Received: from x\n"
	    "  by y; Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "From: a@example.org\n"
	    "subject: [SUSPECT] =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\n"
	    "To: b@example.org\n"
	    "\n"
	    "body\n");
	free(out);
	mime_message_free(&m);
}
END_TEST

START_TEST(header_add_delete_crlf)
{
	char *c, *out;
	struct mime_message *m;
	const char *error;
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; plain_msg[i] != '\0'; i++) {
		if (plain_msg[i] == '\n')
			buf_putc(&b, '\r');
		buf_putc(&b, plain_msg[i]);
	}
	c = buf_steal(&b, NULL);
	m = mt_parse(c);
	ck_assert_int_eq(mime_header_delete(m, m->root, "SUBJECT"), 2);
	ck_assert_int_eq(mime_header_delete(m, m->root, "X-None"), 0);
	ck_assert_int_eq(mime_header_add(m, m->root, "X-Top", "1", MIME_TOP,
	    &error), 0);
	ck_assert_int_eq(mime_header_add(m, m->root, "X-Bottom", "2",
	    MIME_BOTTOM, &error), 0);
	ck_assert_int_eq(mime_header_add_raw(m, m->root, "X-Raw",
	    "a;\r\n\tb=c", MIME_BOTTOM, &error), 0);
	out = mt_emit(m, 0);
	ck_assert_str_eq(out,
	    "X-Top: 1\r\n"
	    "Received: from x\r\n"
	    "  by y; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
	    "From: a@example.org\r\n"
	    "To: b@example.org\r\n"
	    "X-Bottom: 2\r\n"
	    "X-Raw: a;\r\n\tb=c\r\n"
	    "\r\n"
	    "body\r\n");
	free(out);
	/* LF output on request */
	out = mt_emit(m, MIME_EMIT_LF);
	ck_assert(strncmp(out, "X-Top: 1\nReceived: from x\r\n", 27) == 0);
	free(out);
	mime_message_free(&m);
	free(c);
}
END_TEST

static const struct {
	const char *name;
	const char *raw;
	const char *error;
} bad_edit_cases[] = {
	{ "Bad Name", "x", "bad header name 'Bad Name'" },
	{ "", "x", "bad header name ''" },
	{ "X:y", "x", "bad header name 'X:y'" },
	{ "X-Ok", "a\nInjected: 1", "line break without folding white "
	  "space in header value" },
	{ "X-Ok", "a\rb", "bare CR in header value" },
};

START_TEST(header_edit_errors)
{
	struct mime_message *m = mt_parse(plain_msg);
	const char *error = NULL;
	char *out;

	ck_assert_int_eq(mime_header_add_raw(m, m->root,
	    bad_edit_cases[_i].name, bad_edit_cases[_i].raw, MIME_TOP,
	    &error), -1);
	ck_assert_msg(strcmp(error, bad_edit_cases[_i].error) == 0,
	    "got '%s', want '%s'", error, bad_edit_cases[_i].error);
	out = mt_emit(m, 0);
	ck_assert_str_eq(out, plain_msg);	/* unchanged */
	free(out);
	mime_message_free(&m);
}
END_TEST

START_TEST(header_value_newline_is_folded_away)
{
	struct mime_message *m = mt_parse(plain_msg);
	const char *error;
	struct buf v;

	/* a value with a line break cannot inject a field */
	ck_assert_int_eq(mime_header_add(m, m->root, "X-Tag",
	    "a\nInjected: 1", MIME_BOTTOM, &error), 0);
	ck_assert_uint_eq(mime_field_count(m->root, "Injected"), 0);
	buf_init(&v, 0);
	ck_assert_int_eq(mime_header_get(m->root, "X-Tag", &v), 0);
	ck_assert_str_eq(v.data, "a Injected: 1");
	buf_release(&v);
	mime_message_free(&m);
}
END_TEST

/* ---- replacing ----------------------------------------------------------- */

static const char mixed_msg[] =
    "From: a@example.org\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "first part, untouched\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAEC\r\n"
    "--b1--\r\n"
    "epilogue\r\n";

START_TEST(replace_subtree)
{
	struct mime_message *m = mt_parse(mixed_msg);
	struct mime_entity *second = m->root->children->next, *n;
	const char *error;
	char *out;

	n = mime_build_leaf("text/plain; charset=utf-8", MIME_CTE_QP,
	    "caf\xc3\xa9\n", 6, &error);
	ck_assert(n != NULL);
	ck_assert_int_eq(mime_entity_replace(m, second, n, &error), 0);
	out = mt_emit(m, 0);
	ck_assert_str_eq(out,
	    "From: a@example.org\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
	    "\r\n"
	    "preamble\r\n"
	    "--b1\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "first part, untouched\r\n"
	    "--b1\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n"
	    "caf=C3=A9\r\n"
	    "\r\n"
	    "--b1--\r\n"
	    "epilogue\r\n");
	free(out);
	ck_assert_uint_eq(m->nparts, 3);
	mime_message_free(&m);
}
END_TEST

START_TEST(replace_root_content)
{
	const char *outer =
	    "From: a@example.org\n"
	    "To: b@example.org\n"
	    "Subject: secret\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: application/pkcs7-mime; smime-type=enveloped-data;\n"
	    " name=smime.p7m\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "MIAGCSqGSIb3DQEHA6CAMIACAQAx\n";
	const char *inner =
	    "Content-Type: multipart/alternative; boundary=\"in\"\n"
	    "\n"
	    "--in\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "decrypted\n"
	    "--in--\n";
	struct mime_message *m = mt_parse(outer), *d;
	struct mime_entity *copy;
	const char *error;
	char *out;

	d = mt_parse(inner);
	copy = mime_entity_copy(d, d->root, &error);
	ck_assert(copy != NULL);
	mime_message_free(&d);	/* the copy survives its message */
	ck_assert_int_eq(mime_entity_replace_content(m, m->root, copy,
	    &error), 0);
	ck_assert_str_eq(m->root->subtype, "alternative");
	ck_assert_uint_eq(m->root->nchildren, 1);
	out = mt_emit(m, 0);
	ck_assert_str_eq(out,
	    "From: a@example.org\n"
	    "To: b@example.org\n"
	    "Subject: secret\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=\"in\"\n"
	    "\n"
	    "--in\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "decrypted\n"
	    "--in--\n");
	free(out);
	mime_message_free(&m);
}
END_TEST

/* ---- building ------------------------------------------------------------- */

START_TEST(build_mixed_roundtrip)
{
	unsigned char bin[300];
	struct mime_entity *mp, *text, *att;
	struct mime_message *m, *back;
	const char *error;
	struct buf out, dec, fn;
	size_t i;
	int crlf;

	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 13);
	for (crlf = 0; crlf < 2; crlf++) {
		mp = mime_build_multipart("mixed", NULL, &error);
		text = mime_build_leaf("text/plain; charset=utf-8",
		    MIME_CTE_QP, "hello\nworld\n", 12, &error);
		att = mime_build_attachment("application/octet-stream",
		    "r\xc3\xa9sum\xc3\xa9.bin", bin, sizeof(bin), &error);
		ck_assert(mp != NULL && text != NULL && att != NULL);
		ck_assert_int_eq(mime_entity_add_child(mp, text, &error), 0);
		ck_assert_int_eq(mime_entity_add_child(mp, att, &error), 0);
		ck_assert_int_eq(mime_entity_add_child(mp, att, &error), -1);
		ck_assert_str_eq(error, "entity is already attached");
		m = mime_message_new_built(mp, crlf ? MIME_EOL_CRLF :
		    MIME_EOL_LF);
		ck_assert_int_eq(mime_header_add(m, m->root, "Subject",
		    "built", MIME_TOP, &error), 0);
		buf_init(&out, 0);
		ck_assert_int_eq(mime_emit_buf(m, NULL, 0, &out, &error), 0);
		/* line ends as asked, every line at most 78 */
		{
			size_t col = 0;

			for (i = 0; i < out.len; i++) {
				if (out.data[i] == '\n') {
					ck_assert_int_eq(i > 0 &&
					    out.data[i - 1] == '\r', crlf);
					ck_assert_msg(col <= 79, "line %zu",
					    col);
					col = 0;
				} else
					col++;
			}
		}
		back = mime_parse(out.data, out.len, NULL, &error);
		ck_assert(back != NULL);
		ck_assert_msg(back->damage == 0, "damage %x", back->damage);
		ck_assert_uint_eq(back->root->nchildren, 2);
		ck_assert_str_eq(back->root->subtype, "mixed");
		ck_assert(strstr(mp->boundary, "=_postern_") == mp->boundary);
		buf_init(&dec, 0);
		ck_assert_int_eq(mime_entity_decode(back->root->children->next,
		    &dec, NULL, &error), 0);
		ck_assert_uint_eq(dec.len, sizeof(bin));
		ck_assert(memcmp(dec.data, bin, sizeof(bin)) == 0);
		buf_reset(&dec);
		ck_assert_int_eq(mime_entity_text(back->root->children, 0,
		    &dec, NULL, &error), 0);
		ck_assert_str_eq(dec.data, crlf ? "hello\r\nworld\r\n" :
		    "hello\nworld\n");
		buf_init(&fn, 0);
		ck_assert_int_eq(mime_entity_filename(
		    back->root->children->next, &fn), 0);
		ck_assert_str_eq(fn.data, "r\xc3\xa9sum\xc3\xa9.bin");
		buf_release(&fn);
		buf_release(&dec);
		buf_release(&out);
		mime_message_free(&back);
		mime_message_free(&m);
	}
}
END_TEST

static const char *const attach_names[] = {
	"short.pdf",
	"a \"quoted\" name; with specials.txt",
	"r\xc3\xa9sum\xc3\xa9.pdf",
	"a very long ascii file name that certainly needs more than one "
	"header line to be written out.txt",
	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe9\x95"
	"\xb7\xe3\x81\x84\xe3\x83\x95\xe3\x82\xa1\xe3\x82\xa4\xe3"
	"\x83\xab\xe5\x90\x8d\xe3\x81\xa7\xe3\x81\x99.docx",
};

START_TEST(build_attachment_names)
{
	struct mime_entity *a;
	struct mime_message *m, *back;
	const char *error;
	struct buf out, fn;
	size_t i, col = 0;

	a = mime_build_attachment("application/octet-stream",
	    attach_names[_i], "x", 1, &error);
	ck_assert(a != NULL);
	m = mime_message_new_built(a, MIME_EOL_LF);
	buf_init(&out, 0);
	ck_assert_int_eq(mime_emit_buf(m, NULL, 0, &out, &error), 0);
	for (i = 0; i < out.len; i++) {
		if (out.data[i] == '\n') {
			ck_assert_msg(col <= 78, "line of %zu: %s", col,
			    out.data);
			col = 0;
		} else
			col++;
	}
	back = mime_parse(out.data, out.len, NULL, &error);
	buf_init(&fn, 0);
	ck_assert_int_eq(mime_entity_filename(back->root, &fn), 0);
	ck_assert_msg(strcmp(fn.data, attach_names[_i]) == 0,
	    "got '%s', want '%s'", fn.data, attach_names[_i]);
	ck_assert_uint_eq(back->damage, 0);
	buf_release(&fn);
	buf_release(&out);
	mime_message_free(&back);
	mime_message_free(&m);
}
END_TEST

START_TEST(build_boundary_collision)
{
	struct mime_entity *mp, *leaf;
	struct mime_message *m, *back;
	const char *error;
	char evil[200], old[64];
	struct buf out;

	mp = mime_build_multipart("mixed", NULL, &error);
	snprintf(old, sizeof(old), "%s", mp->boundary);
	snprintf(evil, sizeof(evil), "line\n--%s--\nmore\n", mp->boundary);
	leaf = mime_build_leaf("text/plain", MIME_CTE_7BIT, evil,
	    strlen(evil), &error);
	ck_assert_int_eq(mime_entity_add_child(mp, leaf, &error), 0);
	m = mime_message_new_built(mp, MIME_EOL_LF);
	buf_init(&out, 0);
	ck_assert_int_eq(mime_emit_buf(m, NULL, 0, &out, &error), 0);
	ck_assert_str_ne(mp->boundary, old);
	back = mime_parse(out.data, out.len, NULL, &error);
	ck_assert_uint_eq(back->root->nchildren, 1);
	ck_assert_str_eq(back->root->boundary, mp->boundary);
	{
		size_t len;
		const char *b = mime_entity_body(back->root->children, &len);

		ck_assert_uint_eq(len, strlen(evil));
		ck_assert(memcmp(b, evil, len) == 0);
	}
	mime_message_free(&back);
	mime_message_free(&m);
	buf_release(&out);
}
END_TEST

START_TEST(build_signed_and_pkcs7)
{
	struct mime_entity *s, *p7;
	struct mime_message *m;
	const char *error;
	struct buf v;

	s = mime_build_multipart("signed",
	    "protocol=\"application/pkcs7-signature\"; micalg=sha-256",
	    &error);
	ck_assert(s != NULL);
	buf_init(&v, 0);
	ck_assert_int_eq(mime_entity_ctype_param(s, "protocol", &v), 0);
	ck_assert_str_eq(v.data, "application/pkcs7-signature");
	buf_reset(&v);
	ck_assert_int_eq(mime_entity_ctype_param(s, "micalg", &v), 0);
	ck_assert_str_eq(v.data, "sha-256");
	mime_entity_free(&s);
	ck_assert(s == NULL);
	p7 = mime_build_pkcs7_mime("enveloped-data", "\x30\x80\x06\x09", 4,
	    &error);
	ck_assert(p7 != NULL);
	m = mime_message_new_built(p7, MIME_EOL_CRLF);
	ck_assert_uint_eq(mime_entity_kind(m->root), MIME_K_SMIME_ENVELOPED);
	buf_reset(&v);
	ck_assert_int_eq(mime_entity_filename(m->root, &v), 0);
	ck_assert_str_eq(v.data, "smime.p7m");
	buf_reset(&v);
	ck_assert_int_eq(mime_entity_decode(m->root, &v, NULL, &error), 0);
	ck_assert_uint_eq(v.len, 4);
	ck_assert(memcmp(v.data, "\x30\x80\x06\x09", 4) == 0);
	buf_release(&v);
	mime_message_free(&m);
	ck_assert(mime_build_multipart("bad subtype", NULL, &error) == NULL);
	ck_assert(mime_build_leaf("nonsense", MIME_CTE_7BIT, "", 0,
	    &error) == NULL);
	ck_assert_str_eq(error, "bad content type 'nonsense'");
}
END_TEST

/* ---- emission ----------------------------------------------------------- */

START_TEST(emit_canonical_entity)
{
	const char *msg =
	    "Content-Type: multipart/signed; boundary=s;\n"
	    " protocol=\"application/pkcs7-signature\"; micalg=sha-256\n"
	    "\n"
	    "--s\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "signed text\n"
	    "--s\n"
	    "Content-Type: application/pkcs7-signature\n"
	    "\n"
	    "sig\n"
	    "--s--\n";
	struct mime_message *m = mt_parse(msg);
	struct buf out;
	const char *error;

	buf_init(&out, 0);
	/* the signed part, as it is hashed: CRLF, without the EOL that
	 * belongs to the delimiter */
	ck_assert_int_eq(mime_emit_buf(m, m->root->children,
	    MIME_EMIT_CANONICAL, &out, &error), 0);
	ck_assert_str_eq(out.data, "Content-Type: text/plain\r\n\r\n"
	    "signed text");
	buf_reset(&out);
	ck_assert_int_eq(mime_emit_buf(m, m->root->children,
	    MIME_EMIT_BODY_ONLY, &out, &error), 0);
	ck_assert_str_eq(out.data, "signed text");
	buf_release(&out);
	mime_message_free(&m);
}
END_TEST

struct failing {
	size_t left;
	struct buf got;
};

static int
failing_write(void *ctx, const void *data, size_t len)
{
	struct failing *f = ctx;

	if (len > f->left)
		return -1;
	f->left -= len;
	return buf_append(&f->got, data, len);
}

START_TEST(emit_stream_and_failure)
{
	struct mime_message *m = mt_parse(mixed_msg);
	struct failing f;
	const char *error;
	struct mime_entity *n;

	n = mime_build_leaf("text/plain", MIME_CTE_7BIT, "x\n", 2, &error);
	ck_assert_int_eq(mime_entity_replace(m, m->root->children, n, &error),
	    0);
	buf_init(&f.got, 0);
	f.left = (size_t)-1;
	ck_assert_int_eq(mime_emit(m, NULL, 0, failing_write, &f, &error), 0);
	{
		char *whole = mt_emit(m, 0);

		ck_assert_str_eq(f.got.data, whole);
		free(whole);
	}
	/* a writer failing at every possible point */
	{
		size_t total = f.got.len, k;

		for (k = 0; k < total; k += 7) {
			buf_reset(&f.got);
			f.left = k;
			ck_assert_int_eq(mime_emit(m, NULL, 0, failing_write,
			    &f, &error), -1);
			ck_assert_str_eq(error, "write failed");
		}
	}
	buf_release(&f.got);
	mime_message_free(&m);
}
END_TEST

/* ---- inspection -------------------------------------------------------- */

static const struct {
	const char *name;
	const char *msg;
	unsigned kinds;
	const char *first_path;	/* path of parts[0] */
	int first_root;
} insp_cases[] = {
	{ "plain", "Subject: x\n\nhello\n", 0, NULL, 0 },
	{ "enveloped", "Content-Type: application/pkcs7-mime; "
	  "smime-type=enveloped-data; name=smime.p7m\n\nx\n",
	  MIME_K_SMIME_ENVELOPED, "", 1 },
	{ "x-pkcs7", "Content-Type: application/x-pkcs7-mime; "
	  "smime-type=\"enveloped-data\"\n\nx\n", MIME_K_SMIME_ENVELOPED, "", 1 },
	{ "auth", "Content-Type: application/pkcs7-mime; "
	  "smime-type=authEnveloped-data\n\nx\n",
	  MIME_K_SMIME_AUTH_ENVELOPED, "", 1 },
	{ "opaque", "Content-Type: application/pkcs7-mime; "
	  "smime-type=signed-data\n\nx\n", MIME_K_SMIME_OPAQUE_SIGNED, "", 1 },
	{ "certs", "Content-Type: application/pkcs7-mime; "
	  "smime-type=certs-only\n\nx\n", MIME_K_SMIME_CERTS_ONLY, "", 1 },
	{ "no smime-type", "Content-Type: application/pkcs7-mime; "
	  "name=smime.p7m\n\nx\n", MIME_K_SMIME_UNKNOWN, "", 1 },
	{ "octet p7m", "Content-Type: application/octet-stream; "
	  "name=\"smime.p7m\"\n\nx\n", MIME_K_SMIME_UNKNOWN, "", 1 },
	{ "signed", "Content-Type: multipart/signed; boundary=s; "
	  "protocol=\"application/x-pkcs7-signature\"\n\n--s\n\nt\n--s\n"
	  "Content-Type: application/x-pkcs7-signature\n\nsig\n--s--\n",
	  MIME_K_SMIME_SIGNED, "", 1 },
	{ "signed by child type", "Content-Type: multipart/signed; boundary=s"
	  "\n\n--s\n\nt\n--s\nContent-Type: application/pkcs7-signature\n\n"
	  "sig\n--s--\n", MIME_K_SMIME_SIGNED, "", 1 },
	{ "pgp encrypted", "Content-Type: multipart/encrypted; boundary=e; "
	  "protocol=\"application/pgp-encrypted\"\n\n--e\n"
	  "Content-Type: application/pgp-encrypted\n\nVersion: 1\n--e\n"
	  "Content-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE"
	  "-----\n--e--\n", MIME_K_PGP_ENCRYPTED, "", 1 },
	{ "pgp signed", "Content-Type: multipart/signed; boundary=s; "
	  "protocol=\"application/pgp-signature\"; micalg=pgp-sha256\n\n--s\n"
	  "\nt\n--s\nContent-Type: application/pgp-signature\n\nsig\n--s--\n",
	  MIME_K_PGP_SIGNED, "", 1 },
	{ "nested enveloped", "Content-Type: multipart/mixed; boundary=m\n\n"
	  "--m\n\nhi\n--m\nContent-Type: message/rfc822\n\n"
	  "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n"
	  "\nx\n--m--\n", MIME_K_SMIME_ENVELOPED, "2.1", 0 },
	{ "inline pgp", "Subject: x\n\nHi\n-----BEGIN PGP MESSAGE-----\n\nhQ\n"
	  "-----END PGP MESSAGE-----\n", MIME_K_PGP_INLINE_ENCRYPTED, "", 1 },
	{ "inline pgp qp", "Content-Transfer-Encoding: quoted-printable\n\n"
	  "=2D----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n",
	  MIME_K_PGP_INLINE_SIGNED, "", 1 },
	{ "armor not at line start", "Subject: x\n\nsee -----BEGIN PGP "
	  "MESSAGE-----\n", 0, NULL, 0 },
	{ "calendar", "Content-Type: multipart/alternative; boundary=a\n\n"
	  "--a\n\ntext\n--a\nContent-Type: text/calendar; method=REQUEST\n\n"
	  "BEGIN:VCALENDAR\n--a--\n", MIME_K_CALENDAR, "2", 0 },
};

START_TEST(inspect_table)
{
	struct mime_message *m = mt_parse(insp_cases[_i].msg);
	struct mime_inspect r;

	mime_inspect(m, &r);
	ck_assert_msg(r.kinds == insp_cases[_i].kinds, "%s: got %x, want %x",
	    insp_cases[_i].name, r.kinds, insp_cases[_i].kinds);
	if (insp_cases[_i].first_path != NULL) {
		ck_assert_uint_ge(r.nparts, 1);
		ck_assert_msg(strcmp(r.parts[0].path,
		    insp_cases[_i].first_path) == 0, "%s: got path '%s', "
		    "want '%s'", insp_cases[_i].name, r.parts[0].path,
		    insp_cases[_i].first_path);
		ck_assert_int_eq(r.parts[0].is_root, insp_cases[_i].first_root);
		ck_assert(mime_entity_at(m->root, r.parts[0].path) ==
		    r.parts[0].entity);
	} else
		ck_assert_uint_eq(r.nparts, 0);
	mime_message_free(&m);
}
END_TEST

static const struct {
	const char *file;
	unsigned kinds;
	int root;
} corpus_insp[] = {
	{ "thunderbird/smime/alice.env.eml", MIME_K_SMIME_ENVELOPED, 1 },
	{ "thunderbird/smime/alice.dsig.SHA256.multipart.eml",
	  MIME_K_SMIME_SIGNED, 1 },
	{ "thunderbird/smime/alice.sig.SHA256.opaque.eml",
	  MIME_K_SMIME_OPAQUE_SIGNED, 1 },
	{ "protected-headers/pgpmime-layered.eml", MIME_K_PGP_ENCRYPTED, 1 },
	{ "thunderbird/openpgp/eml/alice-signed.eml",
	  MIME_K_PGP_INLINE_SIGNED, 1 },
};

START_TEST(inspect_corpus)
{
	const char *top = tu_corpora();
	char path[4096];
	char *data;
	size_t len;
	struct mime_message *m;
	struct mime_inspect r;
	const char *error;

	if (top == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", top, corpus_insp[_i].file);
	data = tu_read_file(path, &len);
	if (data == NULL)
		return;
	m = mime_parse(data, len, NULL, &error);
	mime_inspect(m, &r);
	ck_assert_msg(r.kinds == corpus_insp[_i].kinds, "%s: got %x, want %x",
	    corpus_insp[_i].file, r.kinds, corpus_insp[_i].kinds);
	ck_assert_int_eq(r.parts[0].is_root, corpus_insp[_i].root);
	mime_message_free(&m);
	free(data);
}
END_TEST

/* ---- text extraction ------------------------------------------------------ */

START_TEST(message_text)
{
	const char *msg =
	    "Subject: =?UTF-8?Q?R=C3=A9union?=\n"
	    "Content-Type: multipart/mixed; boundary=m\n\n"
	    "--m\n"
	    "Content-Type: multipart/alternative; boundary=a\n\n"
	    "--a\n"
	    "Content-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "Caf=E9 at 10\n"
	    "--a\n"
	    "Content-Type: text/html; charset=utf-8\n\n"
	    "<html><head><style>p{}</style><title>T</title></head><body>"
	    "<p>Hello <b>bold</b></p><script>evil()</script><p>two</p>"
	    "</body></html>\n"
	    "--a--\n"
	    "--m\n"
	    "Content-Type: application/pdf; name=\"plan.pdf\"\n"
	    "Content-Disposition: attachment\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "JVBERi0=\n"
	    "--m\n"
	    "Content-Type: application/pkcs7-mime; smime-type=enveloped-data"
	    "\n\nx\n"
	    "--m--\n";
	struct mime_message *m = mt_parse(msg);
	struct buf out;
	unsigned damage = 0;
	const char *error;

	buf_init(&out, 0);
	ck_assert_int_eq(mime_message_text(m, &out, &damage, &error), 0);
	ck_assert_str_eq(out.data,
	    "R\xc3\xa9union\n\n"
	    "Caf\xc3\xa9 at 10\n\n"
	    "Hello bold\ntwo\n\n\n"
	    "[attachment: plan.pdf]\n\n");
	ck_assert_uint_eq(damage, 0);
	buf_release(&out);
	mime_message_free(&m);
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

Suite *
mime_edit_suite(void)
{
	Suite *s = suite_create("mime_edit");
	TCase *tc = tcase_create("edit");

	tcase_add_test(tc, header_replace_keeps_rest);
	tcase_add_test(tc, header_add_delete_crlf);
	tcase_add_loop_test(tc, header_edit_errors, 0, N(bad_edit_cases));
	tcase_add_test(tc, header_value_newline_is_folded_away);
	tcase_add_test(tc, replace_subtree);
	tcase_add_test(tc, replace_root_content);
	suite_add_tcase(s, tc);
	tc = tcase_create("build");
	tcase_add_test(tc, build_mixed_roundtrip);
	tcase_add_test(tc, build_boundary_collision);
	tcase_add_loop_test(tc, build_attachment_names, 0, N(attach_names));
	tcase_add_test(tc, build_signed_and_pkcs7);
	tcase_add_test(tc, emit_canonical_entity);
	tcase_add_test(tc, emit_stream_and_failure);
	suite_add_tcase(s, tc);
	tc = tcase_create("inspect");
	tcase_add_loop_test(tc, inspect_table, 0, N(insp_cases));
	tcase_add_loop_test(tc, inspect_corpus, 0, N(corpus_insp));
	tcase_add_test(tc, message_text);
	suite_add_tcase(s, tc);
	return s;
}
