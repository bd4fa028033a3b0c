/*
 * pgp_msg outbound: PGP/MIME and PGP/INLINE messages made by Postern,
 * taken apart by the MIME engine and decrypted/verified by tools we did
 * not write: the gpg CLI in a separate home, and sqop (Sequoia's
 * stateless OpenPGP CLI).  The recipient "bob" is a key made by sqop;
 * the signer "alice" lives in our keyring.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "mime.h"
#include "mime_codec.h"
#include "pgp.h"
#include "pgp_keyring.h"
#include "pgp_msg.h"
#include "settings.h"
#include "testutil.h"

#define PW "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"

static char *tdir, *home, *ext;
static struct pgp_keyring *kr;
static char alice[PGP_FPR_MAX + 1], bob[PGP_FPR_MAX + 1];
static int have_sqop;

static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
put(const char *name, const void *p, size_t len)
{
	char *path = tu_path(tdir, name);
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, len, f), len);
	fclose(f);
	free(path);
}

static char *
get(const char *name, size_t *len_r)
{
	char *path = tu_path(tdir, name), *d;

	d = tu_read_file(path, len_r);
	free(path);
	ck_assert_msg(d != NULL, "cannot read %s", name);
	return d;
}

static void
setup(void)
{
	const char *error;
	char **fprs = NULL, *cert, *path;
	size_t n = 0, len;

	tdir = tu_tmpdir();
	home = tu_path(tdir, "g");
	ext = tu_path(tdir, "x");
	ck_assert_int_eq(mkdir(ext, 0700), 0);
	ck_assert_msg(pgp_keyring_open(&kr, home, PW, &error) == 0, "%s",
	    error);
	ck_assert_msg(pgp_keyring_generate(kr, "Alice <alice@example.org>",
	    "ed25519", alice, &error) == 0, "%s", error);
	have_sqop = sh("command -v sqop >/dev/null 2>&1") == 0;
	/* bob: made by sqop when there is one, else by the gpg CLI */
	if (have_sqop)
		ck_assert_int_eq(sh("cd %s && sqop generate-key "
		    "'Bob <bob@example.net>' > bob.key && sqop extract-cert "
		    "< bob.key > bob.cert", tdir), 0);
	else
		ck_assert_int_eq(sh("cd %s && gpg --homedir %s --batch -q "
		    "--passphrase '' --quick-gen-key 'Bob <bob@example.net>' "
		    "ed25519 default never 2>/dev/null && gpg --homedir %s "
		    "--batch -q --quick-add-key $(gpg --homedir %s --list-keys "
		    "--with-colons | awk -F: '/^fpr/ { print $10; exit }') "
		    "cv25519 encr never 2>/dev/null && gpg --homedir %s "
		    "--armor --export > bob.cert", tdir, ext, ext, ext, ext),
		    0);
	path = tu_path(tdir, "bob.cert");
	cert = tu_read_file(path, &len);
	free(path);
	ck_assert_ptr_nonnull(cert);
	ck_assert_msg(pgp_keyring_import(kr, cert, len, NULL, &fprs, &n,
	    &error) == 0, "%s", error);
	ck_assert_uint_eq(n, 1);
	snprintf(bob, sizeof(bob), "%s", fprs[0]);
	pgp_strv_free(&fprs, n);
	free(cert);
	/* the external gpg home knows bob's secret and alice's cert */
	ck_assert_int_eq(sh("cd %s && gpg --homedir %s --batch -q --armor "
	    "--export %s > alice.cert 2>/dev/null && gpg --homedir %s "
	    "--batch -q --import alice.cert 2>/dev/null", tdir, home, alice,
	    ext), 0);
	if (have_sqop)
		ck_assert_int_eq(sh("cd %s && gpg --homedir %s --batch -q "
		    "--import bob.key 2>/dev/null", tdir, ext), 0);
}

static void
teardown(void)
{
	const char *error;

	pgp_keyring_free(&kr);
	pgp_keyring_stop_agent(home, &error);
	sh("gpgconf --homedir %s --kill gpg-agent >/dev/null 2>&1", ext);
	free(home);
	free(ext);
	tu_tmpdir_free(&tdir);
}

/* Decrypt FILE with bob's key through gpg (and sqop), into OUT; both
 * must agree.  verify: alice's signature must be good. */
static void
tool_decrypt(const char *file, const char *out, int verify)
{
	ck_assert_msg(sh("cd %s && gpg --homedir %s --batch --trust-model "
	    "always --status-fd 3 -d %s > %s 3>st 2>/dev/null", tdir, ext,
	    file, out) == 0, "gpg cannot decrypt %s", file);
	ck_assert_int_eq(sh("grep -q DECRYPTION_OKAY %s/st", tdir), 0);
	ck_assert_int_eq(sh("grep -q GOODMDC %s/st", tdir), 0);
	ck_assert_int_eq(sh("grep -q GOODSIG %s/st", tdir), verify ? 0 : 1);
	if (!have_sqop)
		return;
	if (verify) {
		ck_assert_msg(sh("cd %s && rm -f ver && sqop decrypt "
		    "--verifications-out ver --verify-with alice.cert bob.key "
		    "< %s > sq.out 2>/dev/null && cmp -s sq.out %s", tdir, file,
		    out) == 0, "sqop disagrees on %s", file);
		ck_assert_int_eq(sh("grep -qi %s %s/ver", alice, tdir), 0);
	} else
		ck_assert_msg(sh("cd %s && sqop decrypt bob.key < %s > sq.out "
		    "2>/dev/null && cmp -s sq.out %s", tdir, file, out) == 0,
		    "sqop disagrees on %s", file);
}

/* Detached signature over data, checked by gpg and sqop. */
static void
tool_verify(const char *sig, const char *data)
{
	ck_assert_msg(sh("cd %s && gpg --homedir %s --batch --trust-model "
	    "always --status-fd 1 --verify %s %s 2>/dev/null | grep -q "
	    "GOODSIG", tdir, ext, sig, data) == 0, "gpg: bad signature");
	if (have_sqop)
		ck_assert_msg(sh("cd %s && sqop verify %s alice.cert < %s | "
		    "grep -qi %s", tdir, sig, data, alice) == 0,
		    "sqop: bad signature");
}

static char *
file_text(const char *name)
{
	size_t len;

	return get(name, &len);
}

/* The entity at path as bytes (header and body) from the output. */
static void
entity_bytes(const struct mime_message *m, const char *path, int canon,
    struct buf *out)
{
	const char *error;
	struct mime_entity *e = mime_entity_at(m->root, path);

	ck_assert_msg(e != NULL, "no entity %s", path);
	ck_assert_int_eq(mime_emit_buf(m, e, canon ? MIME_EMIT_CANONICAL : 0,
	    out, &error), 0);
}

static void
decoded(const struct mime_message *m, const char *path, struct buf *out)
{
	const char *error;
	struct mime_entity *e = mime_entity_at(m->root, path);

	ck_assert_msg(e != NULL, "no entity %s", path);
	ck_assert_int_eq(mime_entity_decode(e, out, NULL, &error), 0);
}

static int
all_crlf(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return 0;
	return 1;
}

static int
no_cr(const char *p, size_t len)
{
	return memchr(p, '\r', len) == NULL;
}

static const char plain_msg[] =
    "From: Alice <alice@example.org>\n"
    "To: Bob <bob@example.net>\n"
    "Subject: quarterly figures\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Gr\xc3\xbc\xc3\x9f" "e, Bob.   \n"
    "From here on it is secret.\n";

static const char plain_entity[] =
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Gr\xc3\xbc\xc3\x9f" "e, Bob.   \r\n"
    "From here on it is secret.\r\n";

/* --- PGP/MIME --------------------------------------------------------- */

static void
check_encrypted(const char *msg, int crlf, int signer)
{
	struct pgp_msg_opts o;
	struct mime_message *m;
	const char *fprs[1] = { bob };
	const char *error = "";
	struct buf out, part;
	char *pt;
	size_t len;

	pgp_msg_opts_init(&o);
	buf_init(&out, 0);
	buf_init(&part, 0);
	ck_assert_msg(pgp_msg_encrypt(kr, msg, strlen(msg), fprs, 1,
	    signer ? alice : NULL, &o, &out, &error) == PGP_MSG_OK, "%s",
	    error);
	ck_assert(crlf ? all_crlf(out.data, out.len) :
	    no_cr(out.data, out.len));
	ck_assert_ptr_null(strstr(out.data, "secret"));
	m = mime_parse(out.data, out.len, NULL, &error);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(mime_entity_kind(m->root), MIME_K_PGP_ENCRYPTED);
	ck_assert_uint_eq(m->root->nchildren, 2);
	ck_assert_uint_eq(mime_field_count(m->root, "MIME-Version"), 1);
	ck_assert_uint_eq(mime_field_count(m->root, "Content-Type"), 1);
	ck_assert_uint_eq(mime_field_count(m->root,
	    "Content-Transfer-Encoding"), 0);
	ck_assert_uint_eq(mime_field_count(m->root, "Subject"), 1);
	ck_assert_uint_eq(mime_field_count(m->root, "From"), 1);
	ck_assert(mime_entity_is(mime_entity_at(m->root, "1"), "application",
	    "pgp-encrypted"));
	ck_assert(mime_entity_is(mime_entity_at(m->root, "2"), "application",
	    "octet-stream"));
	decoded(m, "1", &part);
	ck_assert_ptr_nonnull(strstr(part.data, "Version: 1"));
	buf_reset(&part);
	decoded(m, "2", &part);
	ck_assert_int_eq(strncmp(part.data, "-----BEGIN PGP MESSAGE-----",
	    27), 0);
	put("enc.asc", part.data, part.len);
	tool_decrypt("enc.asc", "enc.out", signer);
	pt = get("enc.out", &len);
	ck_assert_msg(len == strlen(plain_entity) &&
	    memcmp(pt, plain_entity, len) == 0, "got entity '%s'", pt);
	free(pt);
	mime_message_free(&m);
	buf_release(&out);
	buf_release(&part);
}

START_TEST(mime_encrypt_lf)
{
	check_encrypted(plain_msg, 0, 0);
}
END_TEST

START_TEST(mime_encrypt_crlf_signed)
{
	struct buf crlf;

	buf_init(&crlf, 0);
	{
		const char *p;

		for (p = plain_msg; *p != '\0'; p++) {
			if (*p == '\n')
				buf_putc(&crlf, '\r');
			buf_putc(&crlf, *p);
		}
	}
	check_encrypted(crlf.data, 1, 1);
	buf_release(&crlf);
}
END_TEST

/* A message without Content-Type gets text/plain inside. */
START_TEST(mime_encrypt_no_ctype)
{
	const char *msg = "From: a@example.org\nSubject: x\n\nplain body\n";
	const char *fprs[1] = { bob };
	const char *error = "";
	struct buf out, part;
	struct mime_message *m;
	char *pt;

	buf_init(&out, 0);
	buf_init(&part, 0);
	ck_assert_int_eq(pgp_msg_encrypt(kr, msg, strlen(msg), fprs, 1, NULL,
	    NULL, &out, &error), PGP_MSG_OK);
	m = mime_parse(out.data, out.len, NULL, &error);
	decoded(m, "2", &part);
	put("nct.asc", part.data, part.len);
	tool_decrypt("nct.asc", "nct.out", 0);
	pt = file_text("nct.out");
	ck_assert_str_eq(pt, "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\nplain body\r\n");
	free(pt);
	mime_message_free(&m);
	buf_release(&out);
	buf_release(&part);
}
END_TEST

static const struct {
	const char *digest;
	const char *micalg;
} sign_cases[] = {
	{ "SHA256", "micalg=pgp-sha256" },
	{ "SHA512", "micalg=pgp-sha512" },
	{ "SHA384", "micalg=pgp-sha384" },
};

START_TEST(mime_sign)
{
	static const char msg[] =
	    "From: Alice <alice@example.org>\n"
	    "To: bob@example.net\n"
	    "Subject: signed\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"xx\"\n"
	    "\n"
	    "--xx\n"
	    "Content-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "\n"
	    "Gr\xfc\xdf" "e   \n"
	    "From the desk of Alice.\n"
	    "--xx\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "clean 7bit\n"
	    "--xx\n"
	    "Content-Type: application/octet-stream; name=x.bin\n"
	    "Content-Transfer-Encoding: binary\n"
	    "\n"
	    "\x01\x02\xff\x00zz\n"
	    "--xx--\n";
	struct pgp_msg_opts o;
	struct mime_message *m;
	const char *error = "";
	struct buf out, part, ent;

	pgp_msg_opts_init(&o);
	ck_assert_int_eq(pgp_msg_opts_set(&o, "pgp.signing-algorithm",
	    sign_cases[_i].digest, &error), 0);
	buf_init(&out, 0);
	buf_init(&part, 0);
	buf_init(&ent, 0);
	ck_assert_msg(pgp_msg_sign(kr, msg, sizeof(msg) - 1, alice, &o, &out,
	    &error) == PGP_MSG_OK, "%s", error);
	ck_assert_ptr_nonnull(strstr(out.data, sign_cases[_i].micalg));
	ck_assert(no_cr(out.data, out.len));
	m = mime_parse(out.data, out.len, NULL, &error);
	ck_assert_uint_eq(mime_entity_kind(m->root), MIME_K_PGP_SIGNED);
	ck_assert_uint_eq(m->root->nchildren, 2);
	/* the signed entity: 7bit clean after re-encoding */
	entity_bytes(m, "1", 1, &ent);
	{
		size_t i;

		for (i = 0; i < ent.len; i++)
			ck_assert_msg((unsigned char)ent.data[i] < 0x80 &&
			    ent.data[i] != 0, "8-bit byte in signed part");
	}
	ck_assert_ptr_null(strstr(ent.data, "e   \r\n"));
	ck_assert_ptr_null(strstr(ent.data, "\nFrom "));
	ck_assert_ptr_nonnull(strstr(ent.data, "clean 7bit"));
	put("signed.data", ent.data, ent.len);
	decoded(m, "2", &part);
	put("signed.sig", part.data, part.len);
	tool_verify("signed.sig", "signed.data");
	/* the re-encoded parts still hold the original bytes */
	buf_reset(&part);
	decoded(m, "1.1", &part);
	ck_assert_uint_eq(part.len, 32);
	ck_assert_int_eq(memcmp(part.data, "Gr\xfc\xdf" "e   \n"
	    "From the desk of Alice.", 32), 0);
	buf_reset(&part);
	decoded(m, "1.3", &part);
	ck_assert_uint_eq(part.len, 6);
	ck_assert_int_eq(memcmp(part.data, "\x01\x02\xff\x00zz", 6), 0);
	/* a changed byte in the signed part: gpg says BAD */
	ent.data[ent.len - 10] ^= 1;
	put("signed.bad", ent.data, ent.len);
	ck_assert_int_eq(sh("cd %s && gpg --homedir %s --batch --status-fd 1 "
	    "--verify signed.sig signed.bad 2>/dev/null | grep -q BADSIG",
	    tdir, ext), 0);
	mime_message_free(&m);
	buf_release(&out);
	buf_release(&part);
	buf_release(&ent);
}
END_TEST

/* --- PGP/INLINE ------------------------------------------------------- */

static const char inline_msg[] =
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.net\r\n"
    "Subject: inline\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"out\"\r\n"
    "\r\n"
    "--out\r\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
    "\r\n"
    "--alt\r\n"
    "Content-Type: text/plain; charset=iso-8859-1; format=flowed\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Hall=F6chen, the secret text.\r\n"
    "--alt\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>the secret <b>html</b></p>\r\n"
    "--alt--\r\n"
    "--out\r\n"
    "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
    "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0xLjQKc2VjcmV0IHBkZgo=\r\n"
    "--out--\r\n";

START_TEST(inline_encrypt)
{
	struct pgp_msg_opts o;
	struct mime_message *m;
	const char *fprs[1] = { bob };
	const char *error = "";
	struct buf out, part, name;
	char *pt;
	size_t len;

	pgp_msg_opts_init(&o);
	ck_assert_int_eq(pgp_msg_opts_set(&o, "pgp.encoding", "pgp-inline",
	    &error), 0);
	buf_init(&out, 0);
	buf_init(&part, 0);
	buf_init(&name, 0);
	ck_assert_msg(pgp_msg_encrypt(kr, inline_msg, sizeof(inline_msg) - 1,
	    fprs, 1, alice, &o, &out, &error) == PGP_MSG_OK, "%s", error);
	ck_assert(all_crlf(out.data, out.len));
	ck_assert_ptr_null(strstr(out.data, "secret"));
	ck_assert_ptr_null(strstr(out.data, "text/html"));
	m = mime_parse(out.data, out.len, NULL, &error);
	ck_assert(mime_entity_is(m->root, "multipart", "mixed"));
	ck_assert_uint_eq(m->root->nchildren, 2);
	/* the alternative became its text part, armored, charset kept */
	ck_assert(mime_entity_is(mime_entity_at(m->root, "1"), "text",
	    "plain"));
	ck_assert_int_eq(mime_entity_ctype_param(mime_entity_at(m->root,
	    "1"), "charset", &name), 0);
	ck_assert_str_eq(name.data, "iso-8859-1");
	buf_reset(&name);
	ck_assert_int_eq(mime_entity_ctype_param(mime_entity_at(m->root,
	    "1"), "format", &name), -1);
	decoded(m, "1", &part);
	ck_assert_int_eq(strncmp(part.data, "-----BEGIN PGP MESSAGE-----",
	    27), 0);
	put("t.asc", part.data, part.len);
	tool_decrypt("t.asc", "t.out", 1);
	pt = get("t.out", &len);
	ck_assert_uint_eq(len, 27);
	ck_assert_int_eq(memcmp(pt, "Hall\xf6" "chen, the secret text.", len),
	    0);
	free(pt);
	/* the attachment: report.pdf.pgp, binary OpenPGP in base64 */
	buf_reset(&name);
	ck_assert_int_eq(mime_entity_filename(mime_entity_at(m->root, "2"),
	    &name), 0);
	ck_assert_str_eq(name.data, "report.pdf.pgp");
	buf_reset(&part);
	decoded(m, "2", &part);
	ck_assert_uint_ne((unsigned char)part.data[0] & 0x80, 0);
	put("a.pgp", part.data, part.len);
	tool_decrypt("a.pgp", "a.out", 1);
	pt = file_text("a.out");
	ck_assert_str_eq(pt, "%PDF-1.4\nsecret pdf\n");
	free(pt);
	mime_message_free(&m);
	buf_release(&out);
	buf_release(&part);
	buf_release(&name);
}
END_TEST

START_TEST(inline_html_only)
{
	static const char msg[] =
	    "From: a@example.org\nSubject: h\nMIME-Version: 1.0\n"
	    "Content-Type: text/html; charset=utf-8\n\n"
	    "<html><body><p>Top secret</p><p>plan</p></body></html>\n";
	struct pgp_msg_opts o;
	struct mime_message *m;
	const char *fprs[1] = { bob };
	const char *error = "";
	struct buf out, part;
	char *pt;

	pgp_msg_opts_init(&o);
	o.encoding = PGP_MSG_INLINE;
	buf_init(&out, 0);
	buf_init(&part, 0);
	/* html_to_text (default): text/plain, utf-8 */
	ck_assert_int_eq(pgp_msg_encrypt(kr, msg, sizeof(msg) - 1, fprs, 1,
	    NULL, &o, &out, &error), PGP_MSG_OK);
	m = mime_parse(out.data, out.len, NULL, &error);
	ck_assert(mime_entity_is(m->root, "text", "plain"));
	ck_assert_uint_eq(mime_field_count(m->root, "Subject"), 1);
	decoded(m, "", &part);
	put("h.asc", part.data, part.len);
	tool_decrypt("h.asc", "h.out", 0);
	pt = file_text("h.out");
	ck_assert_msg(strstr(pt, "Top secret") != NULL &&
	    strstr(pt, "<p>") == NULL, "got '%s'", pt);
	free(pt);
	mime_message_free(&m);
	/* without: an attachment message.html.pgp */
	buf_reset(&out);
	buf_reset(&part);
	ck_assert_int_eq(pgp_msg_opts_set(&o, "pgp.convert-html-to-text",
	    "false", &error), 0);
	ck_assert_int_eq(pgp_msg_encrypt(kr, msg, sizeof(msg) - 1, fprs, 1,
	    NULL, &o, &out, &error), PGP_MSG_OK);
	m = mime_parse(out.data, out.len, NULL, &error);
	ck_assert_int_eq(mime_entity_filename(m->root, &part), 0);
	ck_assert_str_eq(part.data, "message.html.pgp");
	buf_reset(&part);
	decoded(m, "", &part);
	put("h2.pgp", part.data, part.len);
	tool_decrypt("h2.pgp", "h2.out", 0);
	pt = file_text("h2.out");
	ck_assert_ptr_nonnull(strstr(pt, "<p>Top secret</p>"));
	free(pt);
	mime_message_free(&m);
	buf_release(&out);
	buf_release(&part);
}
END_TEST

START_TEST(inline_sign)
{
	struct pgp_msg_opts o;
	struct mime_message *m;
	const char *error = "";
	struct buf out, part;
	char *pt;

	pgp_msg_opts_init(&o);
	o.encoding = PGP_MSG_INLINE;
	buf_init(&out, 0);
	buf_init(&part, 0);
	ck_assert_msg(pgp_msg_sign(kr, plain_msg, strlen(plain_msg), alice,
	    &o, &out, &error) == PGP_MSG_OK, "%s", error);
	m = mime_parse(out.data, out.len, NULL, &error);
	ck_assert(mime_entity_is(m->root, "text", "plain"));
	/* 8-bit text in a cleartext signature: quoted-printable */
	ck_assert_int_eq(m->root->cte, MIME_CTE_QP);
	decoded(m, "", &part);
	ck_assert_int_eq(strncmp(part.data,
	    "-----BEGIN PGP SIGNED MESSAGE-----", 34), 0);
	ck_assert_ptr_nonnull(strstr(part.data, "- From here on"));
	put("cs.asc", part.data, part.len);
	ck_assert_int_eq(sh("cd %s && gpg --homedir %s --batch --status-fd 1 "
	    "--verify cs.asc 2>/dev/null | grep -q GOODSIG", tdir, ext), 0);
	if (have_sqop) {
		ck_assert_int_eq(sh("cd %s && rm -f ver && sqop inline-verify "
		    "--verifications-out ver alice.cert < cs.asc > cs.out && "
		    "grep -qi %s ver", tdir, alice), 0);
		pt = file_text("cs.out");
		ck_assert_ptr_nonnull(strstr(pt, "From here on it is secret."));
		free(pt);
	}
	mime_message_free(&m);
	buf_release(&out);
	buf_release(&part);
}
END_TEST

/* --- failures --------------------------------------------------------- */

START_TEST(refusals)
{
	struct pgp_msg_opts o;
	const char *fprs[1] = { bob };
	const char *unknown[1] = { "0123456789ABCDEF0123456789ABCDEF01234567" };
	const char *error = "";
	struct buf out;
	struct pgp_keyring *other = NULL;

	pgp_msg_opts_init(&o);
	buf_init(&out, 0);
	/* the exact limit passes, one byte more is refused */
	o.max_size = strlen(plain_msg);
	ck_assert_int_eq(pgp_msg_encrypt(kr, plain_msg, strlen(plain_msg),
	    fprs, 1, NULL, &o, &out, &error), PGP_MSG_OK);
	buf_reset(&out);
	o.max_size = strlen(plain_msg) - 1;
	ck_assert_int_eq(pgp_msg_encrypt(kr, plain_msg, strlen(plain_msg),
	    fprs, 1, NULL, &o, &out, &error), PGP_MSG_REFUSED);
	ck_assert_msg(strstr(error, "too large") != NULL, "got %s", error);
	ck_assert_int_eq(pgp_msg_sign(kr, plain_msg, strlen(plain_msg),
	    alice, &o, &out, &error), PGP_MSG_REFUSED);
	ck_assert_uint_eq(out.len, 0);
	o.max_size = 0;
	/* no recipient, an unknown key, a signer without secret key */
	ck_assert_int_eq(pgp_msg_encrypt(kr, plain_msg, strlen(plain_msg),
	    fprs, 0, NULL, &o, &out, &error), PGP_MSG_REFUSED);
	ck_assert_int_eq(pgp_msg_encrypt(kr, plain_msg, strlen(plain_msg),
	    unknown, 1, NULL, &o, &out, &error), PGP_MSG_REFUSED);
	ck_assert_int_eq(pgp_msg_sign(kr, plain_msg, strlen(plain_msg), bob,
	    &o, &out, &error), PGP_MSG_REFUSED);
	o.encoding = PGP_MSG_INLINE;
	ck_assert_int_eq(pgp_msg_encrypt(kr, inline_msg,
	    sizeof(inline_msg) - 1, unknown, 1, NULL, &o, &out, &error),
	    PGP_MSG_REFUSED);
	ck_assert_uint_eq(out.len, 0);
	/* the keyring lock is held by a writer: internal, tempfail */
	ck_assert_int_eq(pgp_keyring_open(&other, home, PW, &error), 0);
	ck_assert_int_eq(pgp_keyring_lock(other, 1, &error), 0);
	pgp_keyring_set_lock_timeout(kr, 200);
	o.encoding = PGP_MSG_MIME;
	ck_assert_int_eq(pgp_msg_encrypt(kr, plain_msg, strlen(plain_msg),
	    fprs, 1, NULL, &o, &out, &error), PGP_MSG_TEMPFAIL);
	ck_assert_int_eq(pgp_msg_sign(kr, plain_msg, strlen(plain_msg),
	    alice, &o, &out, &error), PGP_MSG_TEMPFAIL);
	ck_assert_uint_eq(out.len, 0);
	pgp_keyring_unlock(other);
	pgp_keyring_free(&other);
	pgp_keyring_set_lock_timeout(kr, PGP_LOCK_TIMEOUT_MS);
	buf_release(&out);
}
END_TEST

/* Every pgp.* setting of the registry is accepted with its default. */
START_TEST(opts_registry)
{
	struct pgp_msg_opts o;
	const char *error = "";
	size_t i, n = 0;

	pgp_msg_opts_init(&o);
	for (i = 0; i < settings_count(); i++) {
		const struct setting_def *d = settings_at(i);

		if (strncmp(d->name, "pgp.", 4) != 0)
			continue;
		n++;
		ck_assert_msg(pgp_msg_opts_set(&o, d->name, d->def, &error) ==
		    0, "%s=%s: %s", d->name, d->def, error);
		if (d->type == SETTING_ENUM) {
			char v[256], *p, *save = NULL;

			snprintf(v, sizeof(v), "%s", d->values);
			for (p = strtok_r(v, "|", &save); p != NULL;
			    p = strtok_r(NULL, "|", &save))
				ck_assert_msg(pgp_msg_opts_set(&o, d->name, p,
				    &error) == 0, "%s=%s: %s", d->name, p,
				    error);
		}
	}
	ck_assert_uint_ge(n, 13);
	pgp_msg_opts_init(&o);
	ck_assert_int_eq(pgp_msg_opts_set(&o, "pgp.max-size", "2m", &error),
	    0);
	ck_assert_uint_eq(o.max_size, 2u * 1024 * 1024);
	ck_assert_int_eq(pgp_msg_opts_set(&o, "pgp.max-size", "1023", &error),
	    -1);
	ck_assert_int_eq(pgp_msg_opts_set(&o, "pgp.compression", "false",
	    &error), 0);
	ck_assert_int_eq(o.pgp.no_compress, 1);
	ck_assert_int_eq(pgp_msg_opts_set(&o, "pgp.encryption-algorithm",
	    "aes128", &error), 0);
	ck_assert_str_eq(o.pgp.cipher, "AES128");
	ck_assert_int_eq(pgp_msg_opts_set(&o, "pgp.encryption-algorithm",
	    "IDEA", &error), -1);
	ck_assert_msg(strstr(error, "IDEA") != NULL, "got %s", error);
	ck_assert_int_eq(pgp_msg_opts_set(&o, "pgp.encoding", "smime",
	    &error), -1);
	ck_assert_int_eq(pgp_msg_opts_set(&o, "pgp.scan-html", "maybe",
	    &error), -1);
	ck_assert_int_eq(pgp_msg_opts_set(&o, "pgp.nonsense", "true",
	    &error), -1);
	ck_assert_msg(strstr(error, "unknown") != NULL, "got %s", error);
}
END_TEST

Suite *
pgp_msg_suite(void)
{
	Suite *s = suite_create("pgp_msg");
	TCase *tc = tcase_create("outbound");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mime_encrypt_lf);
	tcase_add_test(tc, mime_encrypt_crlf_signed);
	tcase_add_test(tc, mime_encrypt_no_ctype);
	tcase_add_loop_test(tc, mime_sign, 0,
	    sizeof(sign_cases) / sizeof(*sign_cases));
	tcase_add_test(tc, inline_encrypt);
	tcase_add_test(tc, inline_html_only);
	tcase_add_test(tc, inline_sign);
	tcase_add_test(tc, refusals);
	suite_add_tcase(s, tc);
	tc = tcase_create("opts");
	tcase_add_test(tc, opts_registry);
	suite_add_tcase(s, tc);
	return s;
}
