/*
 * pgp_msg outbound: PGP/MIME and PGP/INLINE messages made by Postern,
 * taken apart by the MIME engine and decrypted/verified by tools we did
 * not write: the gpg CLI in a separate home, and sqop (Sequoia's
 * stateless OpenPGP CLI).  The recipient "bob" is a key made by sqop;
 * the signer "alice" lives in our keyring.
 */
#include <sys/stat.h>

#include <check.h>
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
#include "pgp_msg_int.h"
#include "settings.h"
#include "testutil.h"

#define PW "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"

static char *tdir, *home, *ext;
static struct pgp_keyring *kr;
static char alice[PGP_FPR_MAX + 1], bob[PGP_FPR_MAX + 1];
static int have_sqop;

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
	have_sqop = tu_sh("command -v sqop >/dev/null 2>&1") == 0;
	/* bob: made by sqop when there is one, else by the gpg CLI */
	if (have_sqop)
		ck_assert_int_eq(tu_sh("cd %s && sqop generate-key "
		    "'Bob <bob@example.net>' > bob.key && sqop extract-cert "
		    "< bob.key > bob.cert", tdir), 0);
	else
		ck_assert_int_eq(tu_sh("cd %s && gpg --homedir %s --batch -q "
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
	str_array_free(&fprs, n);
	free(cert);
	/* the external gpg home knows bob's secret and alice's cert */
	ck_assert_int_eq(tu_sh("cd %s && gpg --homedir %s --batch -q --armor "
	    "--export %s > alice.cert 2>/dev/null && gpg --homedir %s "
	    "--batch -q --import alice.cert 2>/dev/null", tdir, home, alice,
	    ext), 0);
	if (have_sqop)
		ck_assert_int_eq(tu_sh("cd %s && gpg --homedir %s --batch -q "
		    "--import bob.key 2>/dev/null", tdir, ext), 0);
}

static void
teardown(void)
{
	const char *error;

	pgp_keyring_free(&kr);
	pgp_keyring_stop_agent(home, &error);
	tu_sh("gpgconf --homedir %s --kill gpg-agent >/dev/null 2>&1", ext);
	free(home);
	free(ext);
	tu_tmpdir_free(&tdir);
}

/* Decrypt FILE with bob's key through gpg (and sqop), into OUT; both
 * must agree.  verify: alice's signature must be good. */
static void
tool_decrypt(const char *file, const char *out, int verify)
{
	ck_assert_msg(tu_sh("cd %s && gpg --homedir %s --batch --trust-model "
	    "always --status-fd 3 -d %s > %s 3>st 2>/dev/null", tdir, ext,
	    file, out) == 0, "gpg cannot decrypt %s", file);
	ck_assert_int_eq(tu_sh("grep -q DECRYPTION_OKAY %s/st", tdir), 0);
	ck_assert_int_eq(tu_sh("grep -q GOODMDC %s/st", tdir), 0);
	ck_assert_int_eq(tu_sh("grep -q GOODSIG %s/st", tdir), verify ? 0 : 1);
	if (!have_sqop)
		return;
	if (verify) {
		ck_assert_msg(tu_sh("cd %s && rm -f ver && sqop decrypt "
		    "--verifications-out ver --verify-with alice.cert bob.key "
		    "< %s > sq.out 2>/dev/null && cmp -s sq.out %s", tdir, file,
		    out) == 0, "sqop disagrees on %s", file);
		ck_assert_int_eq(tu_sh("grep -qi %s %s/ver", alice, tdir), 0);
	} else
		ck_assert_msg(tu_sh("cd %s && sqop decrypt bob.key < %s > "
		    "sq.out 2>/dev/null && cmp -s sq.out %s", tdir, file,
		    out) == 0,
		    "sqop disagrees on %s", file);
}

/* Detached signature over data, checked by gpg and sqop. */
static void
tool_verify(const char *sig, const char *data)
{
	ck_assert_msg(tu_sh("cd %s && gpg --homedir %s --batch --trust-model "
	    "always --status-fd 1 --verify %s %s 2>/dev/null | grep -q "
	    "GOODSIG", tdir, ext, sig, data) == 0, "gpg: bad signature");
	if (have_sqop)
		ck_assert_msg(tu_sh("cd %s && sqop verify %s alice.cert < %s | "
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
	ck_assert_int_eq(tu_sh("cd %s && gpg --homedir %s --batch "
	    "--status-fd 1 --verify signed.sig signed.bad 2>/dev/null | "
	    "grep -q BADSIG", tdir, ext), 0);
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

/* A message holding a multipart/signed (here an S/MIME signature made by
 * the sender's client, inside multipart/mixed) asked for PGP/INLINE:
 * sent as PGP/MIME, the signed part byte for byte inside. */
static const char signed_inside_msg[] =
    "From: Alice <alice@example.org>\r\n"
    "To: Bob <bob@example.net>\r\n"
    "Subject: signed by the client\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"out\"\r\n"
    "\r\n"
    "--out\r\n"
    "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";"
    " micalg=sha-256; boundary=\"sig\"\r\n"
    "\r\n"
    "--sig\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "The signed secret text.\r\n"
    "--sig\r\n"
    "Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0B\r\n"
    "--sig--\r\n"
    "--out\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "A note beside it.\r\n"
    "--out--\r\n";

START_TEST(inline_keeps_signature)
{
	const char *signed_part =
	    "--sig\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n"
	    "The signed secret text.\r\n"
	    "--sig\r\n";
	struct pgp_msg_opts o;
	struct mime_message *m;
	const char *fprs[1] = { bob };
	const char *error = "";
	struct buf out, part;
	char *pt;
	size_t len;

	pgp_msg_opts_init(&o);
	ck_assert_int_eq(pgp_msg_opts_set(&o, "pgp.encoding", "pgp-inline",
	    &error), 0);
	buf_init(&out, 0);
	buf_init(&part, 0);
	ck_assert_msg(pgp_msg_encrypt(kr, signed_inside_msg,
	    sizeof(signed_inside_msg) - 1, fprs, 1, NULL, &o, &out, &error) ==
	    PGP_MSG_OK, "%s", error);
	ck_assert_ptr_null(strstr(out.data, "secret"));
	m = mime_parse(out.data, out.len, NULL, &error);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(mime_entity_kind(m->root), MIME_K_PGP_ENCRYPTED);
	decoded(m, "2", &part);
	put("sig.asc", part.data, part.len);
	tool_decrypt("sig.asc", "sig.out", 0);
	pt = get("sig.out", &len);
	ck_assert_msg(memmem(pt, len, signed_part, strlen(signed_part)) != NULL,
	    "signed part not intact in '%s'", pt);
	free(pt);
	mime_message_free(&m);
	buf_release(&out);
	buf_release(&part);
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
	ck_assert_int_eq(tu_sh("cd %s && gpg --homedir %s --batch "
	    "--status-fd 1 --verify cs.asc 2>/dev/null | grep -q GOODSIG",
	    tdir, ext), 0);
	if (have_sqop) {
		ck_assert_int_eq(tu_sh("cd %s && rm -f ver && sqop "
		    "inline-verify --verifications-out ver alice.cert < cs.asc "
		    "> cs.out && grep -qi %s ver", tdir, alice), 0);
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



/* Only public key material is collected from mail: armored in every
 * base64 padding, binary, and a secret key that calls itself public. */
START_TEST(key_is_public)
{
	static const char marker[] = "\xa8\x03PGP";
	const char *error = "";
	char *pub, *sec;
	size_t pl, sl, k;
	struct buf bin, arm;

	ck_assert_int_eq(pgp_keyring_export(kr, alice, 0, 0, &pub, &pl,
	    &error), 0);
	buf_init(&bin, 0);
	buf_init(&arm, 0);
	ck_assert(pgp_msg_key_is_public(pub, pl));
	buf_append(&bin, pub, pl);
	for (k = 0; k < 3; k++) {
		/* one more marker packet each round: every length mod 3 */
		buf_reset(&arm);
		buf_puts(&arm, "-----BEGIN PGP PUBLIC KEY BLOCK-----\r\n\r\n");
		mime_base64_encode(bin.data, bin.len, MIME_EOL_CRLF, &arm);
		buf_puts(&arm, "=AAAA\r\n-----END PGP PUBLIC KEY BLOCK-----\r\n");
		ck_assert_msg(pgp_msg_key_is_public(arm.data, arm.len),
		    "armored key of %zu bytes", bin.len);
		buf_append(&bin, marker, 5);
	}
	ck_assert_int_eq(pgp_keyring_export(kr, alice, 1, 1, &sec, &sl,
	    &error), 0);
	memcpy(strstr(sec, "PRIVATE KEY BLOCK-----"), "PUBLIC KEY BLOCK-----", 21);
	ck_assert(!pgp_msg_key_is_public(sec, sl));
	ck_assert(!pgp_msg_key_is_public("not a key", 9));
	ck_assert(!pgp_msg_key_is_public("", 0));
	free(pub);
	free(sec);
	buf_release(&bin);
	buf_release(&arm);
}
END_TEST

/* --- inbound ---------------------------------------------------------- */

static char trusted_fpr[2][PGP_FPR_MAX + 1];
static int secret_claim;	/* has_secret() answer */

static int
t_trusted(void *arg, const char *fpr, const char **error_r)
{
	(void)arg;
	(void)error_r;
	return strcasecmp(fpr, trusted_fpr[0]) == 0 ||
	    strcasecmp(fpr, trusted_fpr[1]) == 0;
}

static int
t_has_secret(void *arg, const char *keyid, const char **error_r)
{
	(void)arg;
	(void)keyid;
	(void)error_r;
	return secret_claim;
}

static struct pgp_msg_keys tkeys = { t_trusted, t_has_secret, NULL };

static void
trust(const char *a, const char *b)
{
	snprintf(trusted_fpr[0], sizeof(trusted_fpr[0]), "%s", a ? a : "-");
	snprintf(trusted_fpr[1], sizeof(trusted_fpr[1]), "%s", b ? b : "-");
}

/* gpg in the external home (bob's secret, alice's cert): ARGS on
 * file IN into OUT. */
static void
ext_gpg(const char *args, const char *in, const char *out)
{
	ck_assert_msg(tu_sh("cd %s && gpg --homedir %s --batch -q --yes "
	    "--trust-model always %s -o %s %s 2>/dev/null", tdir, ext, args,
	    out, in) == 0, "gpg %s failed", args);
}

/* Run the inbound layer; the result message parsed into *m_r. */
static int
inbound(const char *msg, size_t len, const struct pgp_msg_opts *o,
    struct pgp_msg_result *r, struct buf *out, struct mime_message **m_r)
{
	const char *error = "";
	int rc;

	buf_reset(out);
	rc = pgp_msg_inbound(kr, msg, len, &tkeys, o, NULL, r, out, &error);
	ck_assert_msg(rc == 0, "inbound: %s", error);
	*m_r = mime_parse(out->data, out->len, NULL, &error);
	ck_assert_ptr_nonnull(*m_r);
	return rc;
}

static void
hdr_is(const struct mime_message *m, const char *name, const char *want)
{
	struct buf v;
	char full[256];

	snprintf(full, sizeof(full), "X-Postern-Info-%s", name);
	buf_init(&v, 0);
	if (want == NULL) {
		ck_assert_msg(mime_header_get(m->root, full, &v) < 0,
		    "unexpected %s: %s", full, v.data);
	} else {
		ck_assert_msg(mime_header_get(m->root, full, &v) == 0,
		    "no %s", full);
		ck_assert_msg(strstr(v.data, want) != NULL,
		    "%s: got '%s', want '%s'", full, v.data, want);
	}
	buf_release(&v);
}

/* A message: headers + body file made by the tools. */
static char *
mail_with(const char *headers, const char *file, size_t *len_r)
{
	struct buf b;
	size_t fl;
	char *f = get(file, &fl);

	buf_init(&b, 0);
	buf_puts(&b, headers);
	buf_append(&b, f, fl);
	free(f);
	return buf_steal(&b, len_r);
}

static const char entity[] =
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "The launch code is 1234, sch\xc3\xb6n.\r\n";

/* PGP/MIME from sqop (or gpg): decrypted, headers, tag material. */
START_TEST(in_mime_decrypt)
{
	struct pgp_msg_opts o;
	struct pgp_msg_result r;
	struct mime_message *m;
	struct buf out, body;
	char *msg;
	size_t len;

	pgp_msg_opts_init(&o);
	trust(NULL, NULL);
	buf_init(&out, 0);
	buf_init(&body, 0);
	put("ent", entity, strlen(entity));
	if (have_sqop)
		ck_assert_int_eq(tu_sh("cd %s && sqop encrypt alice.cert < ent "
		    "> ent.asc", tdir), 0);
	else
		ext_gpg("--armor -r alice@example.org -e", "ent", "ent.asc");
	msg = mail_with("From: Bob <bob@example.net>\n"
	    "To: alice@example.org\nSubject: launch\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/encrypted; "
	    "protocol=\"application/pgp-encrypted\"; boundary=b\n\n"
	    "--b\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n"
	    "--b\nContent-Type: application/octet-stream\n\n", "ent.asc", &len);
	msg = realloc(msg, len + 8);
	memcpy(msg + len, "\n--b--\n", 8);
	len += 7;
	inbound(msg, len, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_ENCRYPTED | PGP_MSG_R_DECRYPTED
	    | PGP_MSG_R_SIGNED | PGP_MSG_R_MIXED), PGP_MSG_R_ENCRYPTED |
	    PGP_MSG_R_DECRYPTED);
	ck_assert(mime_entity_is(m->root, "text", "plain"));
	ck_assert_uint_eq(mime_field_count(m->root, "Subject"), 1);
	ck_assert_uint_eq(mime_field_count(m->root, "Content-Type"), 1);
	decoded(m, "", &body);
	ck_assert_str_eq(body.data, "The launch code is 1234, sch\xc3\xb6n.\n");
	hdr_is(m, "PGP-Encoding", "PGP/MIME");
	hdr_is(m, "PGP-Encrypted", "True");
	hdr_is(m, "PGP-Encryption-Algorithm-0", "AES");
	hdr_is(m, "PGP-Encryption-Recipient-0-0", "");
	hdr_is(m, "PGP-Signed", NULL);
	hdr_is(m, "PGP-Mixed-Content", NULL);
	/* the message is LF like its input */
	ck_assert(no_cr(out.data, out.len));
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	free(msg);
	buf_release(&out);
	buf_release(&body);
}
END_TEST

/* msg with its "From: Alice <alice@example.org>" line replaced by
 * "Sender: MAILBOX" (malloc'd). */
static char *
sender_instead_of_from(const char *msg, const char *mailbox)
{
	const char *from = "From: Alice <alice@example.org>";
	const char *p = strstr(msg, from);
	char *r;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_ge(asprintf(&r, "%.*sSender: %s%s", (int)(p - msg), msg,
	    mailbox, p + strlen(from)), 0);
	return r;
}

/* Our own outbound, signed by alice, back in: valid only when trusted
 * and From is alice. */
START_TEST(in_mime_roundtrip_signed)
{
	const char *fprs[1] = { alice };
	struct pgp_msg_opts o;
	struct pgp_msg_result r;
	struct mime_message *m;
	const char *error = "";
	struct buf enc, out;
	char *mis;

	pgp_msg_opts_init(&o);
	buf_init(&enc, 0);
	buf_init(&out, 0);
	ck_assert_int_eq(pgp_msg_encrypt(kr, plain_msg, strlen(plain_msg),
	    fprs, 1, alice, &o, &enc, &error), PGP_MSG_OK);
	/* trusted, From alice */
	trust(alice, NULL);
	inbound(enc.data, enc.len, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_DECRYPTED | PGP_MSG_R_SIGNED |
	    PGP_MSG_R_SIGNED_VALID | PGP_MSG_R_SIGNER_MISMATCH),
	    PGP_MSG_R_DECRYPTED | PGP_MSG_R_SIGNED | PGP_MSG_R_SIGNED_VALID);
	ck_assert_str_eq(r.signer_email, "alice@example.org");
	hdr_is(m, "PGP-Signed", "True");
	hdr_is(m, "PGP-Signature-Valid-0-0", "True");
	hdr_is(m, "PGP-Signer-Email-0-0", "alice@example.org");
	hdr_is(m, "PGP-Signer-KeyID-0-0", "");
	hdr_is(m, "PGP-Signer-Mismatch", NULL);
	ck_assert_ptr_nonnull(strstr(out.data, "From here on it is secret."));
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	/* not trusted: signed, not valid, says why */
	trust(NULL, NULL);
	inbound(enc.data, enc.len, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_SIGNED |
	    PGP_MSG_R_SIGNED_VALID), PGP_MSG_R_SIGNED);
	hdr_is(m, "PGP-Signature-Valid-0-0", "False");
	hdr_is(m, "PGP-Signature-Failure-0-0", "key not trusted");
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	/* another From: mismatch (display names do not count) */
	trust(alice, NULL);
	mis = strdup(enc.data);
	memcpy(strstr(mis, "From: Alice <alice@example.org>"),
	    "From: alice@example.org <eve@ex.org>", 31);
	inbound(mis, strlen(mis), &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_SIGNED_VALID |
	    PGP_MSG_R_SIGNER_MISMATCH), PGP_MSG_R_SIGNED_VALID |
	    PGP_MSG_R_SIGNER_MISMATCH);
	hdr_is(m, "PGP-Signer-Mismatch", "True");
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	free(mis);
	/* no From field: the single Sender mailbox is the originator */
	mis = sender_instead_of_from(enc.data, "Alice <alice@example.org>");
	inbound(mis, strlen(mis), &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_SIGNED_VALID |
	    PGP_MSG_R_SIGNER_MISMATCH), PGP_MSG_R_SIGNED_VALID);
	hdr_is(m, "PGP-Signer-Mismatch", NULL);
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	free(mis);
	mis = sender_instead_of_from(enc.data, "Eve <eve@ex.org>");
	inbound(mis, strlen(mis), &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_SIGNED_VALID |
	    PGP_MSG_R_SIGNER_MISMATCH), PGP_MSG_R_SIGNED_VALID |
	    PGP_MSG_R_SIGNER_MISMATCH);
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	free(mis);
	buf_release(&enc);
	buf_release(&out);
}
END_TEST

/* PGP/MIME multipart/signed made by gpg as bob; a changed byte: BAD. */
START_TEST(in_mime_signed)
{
	struct pgp_msg_opts o;
	struct pgp_msg_result r;
	struct mime_message *m;
	struct buf out;
	char *sig, *msg, *p;
	size_t sl;

	pgp_msg_opts_init(&o);
	buf_init(&out, 0);
	put("sent", entity, strlen(entity));
	ext_gpg("--armor -u bob@example.net --detach-sign", "sent", "sent.sig");
	sig = get("sent.sig", &sl);
	buf_reset(&out);
	buf_printf(&out, "From: Bob <bob@example.net>\r\nTo: alice@example.org\r\n"
	    "Subject: signed\r\nMIME-Version: 1.0\r\nContent-Type: "
	    "multipart/signed; micalg=pgp-sha256; protocol=\"application/"
	    "pgp-signature\"; boundary=\"s\"\r\n\r\n--s\r\n%s\r\n--s\r\n"
	    "Content-Type: application/pgp-signature\r\n\r\n", entity);
	buf_append(&out, sig, sl);
	buf_puts(&out, "\r\n--s--\r\n");
	msg = buf_steal(&out, &sl);
	free(sig);
	trust(bob, NULL);
	inbound(msg, sl, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_SIGNED | PGP_MSG_R_SIGNED_VALID |
	    PGP_MSG_R_ENCRYPTED | PGP_MSG_R_MIXED | PGP_MSG_R_SIGNER_MISMATCH),
	    PGP_MSG_R_SIGNED | PGP_MSG_R_SIGNED_VALID);
	/* the signature layer stays for the recipient */
	ck_assert_uint_eq(mime_entity_kind(m->root), MIME_K_PGP_SIGNED);
	hdr_is(m, "PGP-Signature-Valid-0-0", "True");
	hdr_is(m, "PGP-Signed", "True");
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	/* pgp.remove-signature: the content alone */
	o.remove_signature = 1;
	inbound(msg, sl, &o, &r, &out, &m);
	ck_assert(r.flags & PGP_MSG_R_SIGNATURE_REMOVED);
	ck_assert(mime_entity_is(m->root, "text", "plain"));
	hdr_is(m, "PGP-Signed", "True");
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	o.remove_signature = 0;
	/* tampered */
	p = strstr(msg, "1234");
	p[0] = '9';
	inbound(msg, sl, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_SIGNED |
	    PGP_MSG_R_SIGNED_VALID), PGP_MSG_R_SIGNED);
	hdr_is(m, "PGP-Signature-Failure-0-0", "bad signature");
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	free(msg);
	buf_release(&out);
}
END_TEST

/* Encrypted to bob only: no key, passed as it was, said so; a keyring
 * that should hold the key and does not: internal failure. */
START_TEST(in_no_key)
{
	const char *fprs[1] = { bob };
	struct pgp_msg_opts o;
	struct pgp_msg_result r;
	struct mime_message *m;
	const char *error = "";
	struct buf enc, out;
	int rc;

	pgp_msg_opts_init(&o);
	buf_init(&enc, 0);
	buf_init(&out, 0);
	ck_assert_int_eq(pgp_msg_encrypt(kr, plain_msg, strlen(plain_msg),
	    fprs, 1, NULL, &o, &enc, &error), PGP_MSG_OK);
	secret_claim = 0;
	inbound(enc.data, enc.len, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_KEY_NOT_FOUND |
	    PGP_MSG_R_DECRYPTED | PGP_MSG_R_ENCRYPTED),
	    PGP_MSG_R_KEY_NOT_FOUND | PGP_MSG_R_ENCRYPTED);
	ck_assert_uint_eq(mime_entity_kind(m->root), MIME_K_PGP_ENCRYPTED);
	hdr_is(m, "PGP-Decryption-Key-Not-Found", "True");
	hdr_is(m, "PGP-Encrypted", "True");
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	/* the store says we hold it: the keyring is broken, tempfail */
	secret_claim = 1;
	buf_reset(&out);
	rc = pgp_msg_inbound(kr, enc.data, enc.len, &tkeys, &o, NULL, &r,
	    &out, &error);
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strstr(error, "keyring or agent failure") != NULL,
	    "got %s", error);
	ck_assert_uint_eq(out.len, 0);
	secret_claim = 0;
	buf_release(&enc);
	buf_release(&out);
}
END_TEST

/* PGP/INLINE: alone, and with text around it (split, mixed). */
START_TEST(in_inline)
{
	static const char text[] = "Meet me at n\xf6on.\n";
	struct pgp_msg_opts o;
	struct pgp_msg_result r;
	struct mime_message *m;
	struct buf out, body, cs;
	char *arm, *msg;
	size_t al, ml;

	pgp_msg_opts_init(&o);
	trust(bob, NULL);
	buf_init(&out, 0);
	buf_init(&body, 0);
	buf_init(&cs, 0);
	put("itext", text, strlen(text));
	ext_gpg("--armor -r alice@example.org -u bob@example.net -s -e",
	    "itext", "itext.asc");
	arm = get("itext.asc", &al);
	buf_printf(&out, "From: bob@example.net\nTo: alice@example.org\n"
	    "Subject: inline\nContent-Type: text/plain; charset=iso-8859-1\n"
	    "\n%s", arm);
	msg = buf_steal(&out, &ml);
	inbound(msg, ml, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_DECRYPTED | PGP_MSG_R_INLINE |
	    PGP_MSG_R_SIGNED | PGP_MSG_R_SIGNED_VALID | PGP_MSG_R_MIXED),
	    PGP_MSG_R_DECRYPTED | PGP_MSG_R_INLINE | PGP_MSG_R_SIGNED |
	    PGP_MSG_R_SIGNED_VALID);
	ck_assert(mime_entity_is(m->root, "text", "plain"));
	decoded(m, "", &body);
	ck_assert_str_eq(body.data, text);
	ck_assert_int_eq(mime_entity_ctype_param(m->root, "charset", &cs), 0);
	ck_assert_str_eq(cs.data, "iso-8859-1");
	hdr_is(m, "PGP-Encoding", "PGP/INLINE");
	hdr_is(m, "PGP-Signature-Valid-0-0", "True");
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	free(msg);
	/* attacker text before and after: three labelled parts, mixed */
	buf_reset(&out);
	buf_printf(&out, "From: bob@example.net\nTo: alice@example.org\n"
	    "Subject: inline\n\nPlease forward this:\n\n%s\n-- \nEve\n", arm);
	msg = buf_steal(&out, &ml);
	inbound(msg, ml, &o, &r, &out, &m);
	ck_assert(r.flags & PGP_MSG_R_DECRYPTED);
	ck_assert(r.flags & PGP_MSG_R_MIXED);
	ck_assert(!(r.flags & PGP_MSG_R_SIGNED));
	ck_assert(r.flags & PGP_MSG_R_PARTIAL_SIGNED);
	ck_assert(mime_entity_is(m->root, "multipart", "mixed"));
	ck_assert_uint_eq(m->root->nchildren, 3);
	buf_reset(&body);
	ck_assert_int_eq(mime_header_get(mime_entity_at(m->root, "1"),
	    "Content-Description", &body), 0);
	ck_assert_str_eq(body.data, "unprotected text");
	buf_reset(&body);
	ck_assert_int_eq(mime_header_get(mime_entity_at(m->root, "2"),
	    "Content-Description", &body), 0);
	ck_assert_str_eq(body.data, "OpenPGP decrypted text");
	buf_reset(&body);
	decoded(m, "2", &body);
	ck_assert_str_eq(body.data, text);
	hdr_is(m, "PGP-Mixed-Content", "True");
	hdr_is(m, "PGP-Signed", "False");
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	free(msg);
	free(arm);
	buf_release(&out);
	buf_release(&body);
	buf_release(&cs);
}
END_TEST

/* Cleartext signature by bob: signed when it is all there is; with
 * another unsigned part beside it: partial. */
START_TEST(in_clearsigned)
{
	struct pgp_msg_opts o;
	struct pgp_msg_result r;
	struct mime_message *m;
	struct buf out, body;
	char *cs, *msg;
	size_t cl, ml;

	pgp_msg_opts_init(&o);
	trust(bob, NULL);
	buf_init(&out, 0);
	buf_init(&body, 0);
	put("ctext", "Signed words.\n- dash line\n", 26);
	ext_gpg("-u bob@example.net --clearsign", "ctext", "ctext.asc");
	cs = get("ctext.asc", &cl);
	buf_printf(&out, "From: Bob <bob@example.net>\nSubject: cs\n\n%s", cs);
	msg = buf_steal(&out, &ml);
	inbound(msg, ml, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_SIGNED | PGP_MSG_R_SIGNED_VALID |
	    PGP_MSG_R_PARTIAL_SIGNED | PGP_MSG_R_CHANGED), PGP_MSG_R_SIGNED |
	    PGP_MSG_R_SIGNED_VALID);
	/* unchanged, so the reader can verify again */
	ck_assert_ptr_nonnull(strstr(out.data, cs));
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	/* remove-signature: the signed text */
	o.remove_signature = 1;
	inbound(msg, ml, &o, &r, &out, &m);
	decoded(m, "", &body);
	ck_assert_str_eq(body.data, "Signed words.\n- dash line\n");
	o.remove_signature = 0;
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	free(msg);
	/* beside an unsigned part */
	buf_reset(&out);
	buf_printf(&out, "From: Bob <bob@example.net>\nSubject: cs\n"
	    "Content-Type: multipart/mixed; boundary=q\n\n--q\n\n"
	    "Added by the attacker.\n--q\n\n%s\n--q--\n", cs);
	msg = buf_steal(&out, &ml);
	inbound(msg, ml, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_SIGNED |
	    PGP_MSG_R_PARTIAL_SIGNED), PGP_MSG_R_PARTIAL_SIGNED);
	hdr_is(m, "PGP-Signed", "False");
	hdr_is(m, "PGP-Mixed-Content", "True");
	hdr_is(m, "PGP-Signature-Valid-0-0", "True");
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	free(msg);
	free(cs);
	buf_release(&out);
	buf_release(&body);
}
END_TEST

/* An inline-encrypted text with an encrypted attachment (binary, by
 * gpg): both decrypted, not mixed. */
START_TEST(in_attachment)
{
	struct pgp_msg_opts o;
	struct pgp_msg_result r;
	struct mime_message *m;
	struct buf out, b64, body;
	char *bin, *arm, *msg;
	size_t bl, al, ml;

	pgp_msg_opts_init(&o);
	buf_init(&out, 0);
	buf_init(&b64, 0);
	buf_init(&body, 0);
	put("doc", "%PDF-1.4 hello\n", 15);
	ext_gpg("-r alice@example.org -e", "doc", "doc.pgp");
	put("t2", "See the attachment.\n", 20);
	ext_gpg("--armor -r alice@example.org -e", "t2", "t2.asc");
	bin = get("doc.pgp", &bl);
	arm = get("t2.asc", &al);
	mime_base64_encode(bin, bl, MIME_EOL_LF, &b64);
	buf_printf(&out, "From: bob@example.net\nSubject: att\n"
	    "Content-Type: multipart/mixed; boundary=q\n\n--q\n"
	    "Content-Type: text/plain\n\n%s\n--q\n"
	    "Content-Type: application/octet-stream; name=\"doc.pdf.pgp\"\n"
	    "Content-Disposition: attachment; filename=\"doc.pdf.pgp\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s--q--\n", arm, b64.data);
	msg = buf_steal(&out, &ml);
	inbound(msg, ml, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_DECRYPTED | PGP_MSG_R_MIXED |
	    PGP_MSG_R_SIGNED), PGP_MSG_R_DECRYPTED);
	buf_reset(&body);
	ck_assert_int_eq(mime_entity_filename(mime_entity_at(m->root, "2"),
	    &body), 0);
	ck_assert_str_eq(body.data, "doc.pdf");
	ck_assert(mime_entity_is(mime_entity_at(m->root, "2"), "application",
	    "pdf"));
	buf_reset(&body);
	decoded(m, "2", &body);
	ck_assert_str_eq(body.data, "%PDF-1.4 hello\n");
	buf_reset(&body);
	decoded(m, "1", &body);
	ck_assert_str_eq(body.data, "See the attachment.\n");
	hdr_is(m, "PGP-Mixed-Content", NULL);
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	free(msg);
	/* Efail layout: attacker HTML around the inline ciphertext */
	buf_reset(&out);
	buf_printf(&out, "From: bob@example.net\nSubject: efail\n"
	    "Content-Type: multipart/mixed; boundary=q\n\n--q\n"
	    "Content-Type: text/html\n\n<img src=\"http://evil/\n--q\n"
	    "Content-Type: text/plain\n\n%s\n--q\n"
	    "Content-Type: text/html\n\n\">\n--q--\n", arm);
	msg = buf_steal(&out, &ml);
	inbound(msg, ml, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_DECRYPTED | PGP_MSG_R_MIXED |
	    PGP_MSG_R_DECRYPT_SKIPPED), PGP_MSG_R_MIXED |
	    PGP_MSG_R_DECRYPT_SKIPPED);
	ck_assert_ptr_null(strstr(out.data, "See the attachment"));
	hdr_is(m, "PGP-Decryption-Skipped", "HTML");
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	free(msg);
	free(bin);
	free(arm);
	buf_release(&out);
	buf_release(&b64);
	buf_release(&body);
}
END_TEST

/* PGP/MIME below the root (decryption oracle): left alone, mixed. */
START_TEST(in_nested_mime)
{
	const char *fprs[1] = { alice };
	struct pgp_msg_opts o;
	struct pgp_msg_result r;
	struct mime_message *m, *em;
	const char *error = "";
	struct buf enc, out, part;

	pgp_msg_opts_init(&o);
	buf_init(&enc, 0);
	buf_init(&out, 0);
	buf_init(&part, 0);
	ck_assert_int_eq(pgp_msg_encrypt(kr, plain_msg, strlen(plain_msg),
	    fprs, 1, NULL, &o, &enc, &error), PGP_MSG_OK);
	em = mime_parse(enc.data, enc.len, NULL, &error);
	buf_puts(&part, "From: eve@example.com\nSubject: fwd\n"
	    "Content-Type: multipart/mixed; boundary=q\n\n--q\n\n"
	    "Please reply with this quoted.\n--q\n");
	ck_assert_int_eq(mime_emit_buf(em, em->root, 0, &part, &error), 0);
	buf_puts(&part, "\n--q--\n");
	mime_message_free(&em);
	inbound(part.data, part.len, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_DECRYPTED | PGP_MSG_R_MIXED),
	    PGP_MSG_R_MIXED);
	ck_assert_ptr_null(strstr(out.data, "secret"));
	hdr_is(m, "PGP-Mixed-Content", "True");
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	/* the MS Exchange rebuild of the same PGP/MIME at the root */
	em = mime_parse(enc.data, enc.len, NULL, &error);
	buf_reset(&part);
	buf_puts(&part, "From: Alice <alice@example.org>\nSubject: x\n"
	    "Content-Type: multipart/mixed; boundary=q\n\n--q\n"
	    "Content-Type: text/plain\n\n\n--q\n"
	    "Content-Type: application/pgp-encrypted\n\nVersion: 1\n\n--q\n"
	    "Content-Type: application/octet-stream; name=encrypted.asc\n\n");
	ck_assert_int_eq(mime_entity_decode(mime_entity_at(em->root, "2"),
	    &part, NULL, &error), 0);
	buf_puts(&part, "\n--q--\n");
	mime_message_free(&em);
	inbound(part.data, part.len, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags & (PGP_MSG_R_DECRYPTED | PGP_MSG_R_MIXED),
	    PGP_MSG_R_DECRYPTED);
	ck_assert_ptr_nonnull(strstr(out.data, "it is secret"));
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	buf_release(&enc);
	buf_release(&out);
	buf_release(&part);
}
END_TEST

/* Keys in mail: collected; removed with remove_keys. */
START_TEST(in_keys)
{
	struct pgp_msg_opts o;
	struct pgp_msg_result r;
	struct mime_message *m;
	struct buf out;
	char *cert, *msg;
	size_t cl, ml;

	pgp_msg_opts_init(&o);
	buf_init(&out, 0);
	cert = get("bob.cert", &cl);
	buf_printf(&out, "From: bob@example.net\nSubject: my key\n"
	    "Content-Type: multipart/mixed; boundary=q\n\n--q\n\n"
	    "Here is my key, inline:\n\n%s\n--q\n"
	    "Content-Type: application/pgp-keys; name=bob.asc\n\n%s\n--q--\n",
	    cert, cert);
	msg = buf_steal(&out, &ml);
	inbound(msg, ml, &o, &r, &out, &m);
	ck_assert(r.flags & PGP_MSG_R_KEYS_FOUND);
	ck_assert_uint_eq(r.nkeys, 2);
	ck_assert_ptr_nonnull(strstr(r.keyv[0].data,
	    "-----BEGIN PGP PUBLIC KEY BLOCK-----"));
	ck_assert_ptr_nonnull(strstr(out.data, "application/pgp-keys"));
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	o.remove_keys = 1;
	inbound(msg, ml, &o, &r, &out, &m);
	ck_assert_uint_eq(r.nkeys, 2);
	ck_assert(r.flags & PGP_MSG_R_KEYS_REMOVED);
	ck_assert_ptr_null(strstr(out.data, "application/pgp-keys"));
	ck_assert_ptr_null(strstr(out.data, "PUBLIC KEY BLOCK"));
	ck_assert_ptr_nonnull(strstr(out.data, "Here is my key"));
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	free(msg);
	free(cert);
	buf_release(&out);
}
END_TEST

/* Symantec "partitioned": inline text + PGPexch.htm.pgp. */
START_TEST(in_partitioned)
{
	struct pgp_msg_opts o;
	struct pgp_msg_result r;
	struct mime_message *m;
	struct buf out, b64;
	char *arm, *bin, *msg;
	size_t al, bl, ml;

	pgp_msg_opts_init(&o);
	buf_init(&out, 0);
	buf_init(&b64, 0);
	put("pt", "Body text.\n", 11);
	put("ph", "<html><body><b>Body</b> text.</body></html>\n", 44);
	ext_gpg("--armor -r alice@example.org -e", "pt", "pt.asc");
	ext_gpg("-r alice@example.org -e", "ph", "ph.pgp");
	arm = get("pt.asc", &al);
	bin = get("ph.pgp", &bl);
	mime_base64_encode(bin, bl, MIME_EOL_LF, &b64);
	buf_printf(&out, "From: bob@example.net\nSubject: part\n"
	    "Content-Type: multipart/mixed; boundary=q\n\n--q\n"
	    "Content-Type: text/plain; charset=utf-8\n\n%s\n--q\n"
	    "Content-Type: application/octet-stream; name=\"PGPexch.htm.pgp\"\n"
	    "Content-Disposition: attachment; filename=\"PGPexch.htm.pgp\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s--q--\n", arm, b64.data);
	msg = buf_steal(&out, &ml);
	/* without the fixup: an attachment PGPexch.htm */
	inbound(msg, ml, &o, &r, &out, &m);
	ck_assert(r.flags & PGP_MSG_R_DECRYPTED);
	ck_assert_ptr_nonnull(strstr(out.data, "filename=PGPexch.htm"));
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	o.partitioned_fixup = 1;
	inbound(msg, ml, &o, &r, &out, &m);
	ck_assert(mime_entity_is(mime_entity_at(m->root, "1"), "multipart",
	    "alternative"));
	ck_assert(mime_entity_is(mime_entity_at(m->root, "1.2"), "text",
	    "html"));
	ck_assert_uint_eq(m->root->nchildren, 1);
	ck_assert_ptr_null(strstr(out.data, "PGPexch"));
	buf_reset(&b64);
	decoded(m, "1.2", &b64);
	ck_assert_ptr_nonnull(strstr(b64.data, "<b>Body</b>"));
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	free(msg);
	free(arm);
	free(bin);
	buf_release(&out);
	buf_release(&b64);
}
END_TEST

/* Limits and failures. */
START_TEST(in_limits)
{
	const char *fprs[1] = { alice };
	struct pgp_msg_opts o;
	struct pgp_msg_result r;
	struct mime_message *m;
	const char *error = "";
	struct pgp_keyring *other = NULL;
	struct buf enc, out;

	pgp_msg_opts_init(&o);
	buf_init(&enc, 0);
	buf_init(&out, 0);
	ck_assert_int_eq(pgp_msg_encrypt(kr, plain_msg, strlen(plain_msg),
	    fprs, 1, NULL, &o, &enc, &error), PGP_MSG_OK);
	/* the exact size passes, one byte less is skipped */
	o.max_size = enc.len;
	inbound(enc.data, enc.len, &o, &r, &out, &m);
	ck_assert(r.flags & PGP_MSG_R_DECRYPTED);
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	o.max_size = enc.len - 1;
	inbound(enc.data, enc.len, &o, &r, &out, &m);
	ck_assert_uint_eq(r.flags, PGP_MSG_R_SKIPPED);
	hdr_is(m, "PGP-Skipped", "message too large");
	pgp_msg_result_release(&r);
	mime_message_free(&m);
	o.max_size = 0;
	/* the keyring lock is held: tempfail, nothing out */
	ck_assert_int_eq(pgp_keyring_open(&other, home, PW, &error), 0);
	ck_assert_int_eq(pgp_keyring_lock(other, 1, &error), 0);
	pgp_keyring_set_lock_timeout(kr, 200);
	buf_reset(&out);
	ck_assert_int_eq(pgp_msg_inbound(kr, enc.data, enc.len, &tkeys, &o,
	    NULL, &r, &out, &error), -1);
	ck_assert_uint_eq(out.len, 0);
	pgp_keyring_unlock(other);
	pgp_keyring_free(&other);
	pgp_keyring_set_lock_timeout(kr, PGP_LOCK_TIMEOUT_MS);
	/* damaged ciphertext: bad data, unchanged */
	{
		char *bad = strdup(enc.data);
		char *p = strstr(bad, "-----BEGIN PGP MESSAGE-----");

		p = strchr(p + 30, '\n') + 20;
		*p = *p == 'A' ? 'B' : 'A';
		inbound(bad, strlen(bad), &o, &r, &out, &m);
		ck_assert_uint_eq(r.flags & (PGP_MSG_R_DECRYPT_FAILED |
		    PGP_MSG_R_DECRYPTED), PGP_MSG_R_DECRYPT_FAILED);
		hdr_is(m, "PGP-Decryption-Failed", "");
		pgp_msg_result_release(&r);
		mime_message_free(&m);
		free(bad);
	}
	buf_release(&enc);
	buf_release(&out);
}
END_TEST

START_TEST(in_wanted)
{
	static const char *const yes[] = {
		"Subject: a\n\n-----BEGIN PGP MESSAGE-----\nx\n"
		"-----END PGP MESSAGE-----\n",
		"Content-Type: multipart/mixed; boundary=q\n\n--q\n"
		"Content-Type: application/octet-stream; name=a.gpg\n\nx\n"
		"--q--\n",
		"Content-Type: application/pgp-keys\n\nx\n",
	};
	static const char *const no[] = {
		"Subject: a\n\nhello\n",
		"Subject: a\n\n> -----BEGIN PGP MESSAGE-----\n"
		"> -----END PGP MESSAGE-----\n",
		"Content-Type: text/html\n\n-----BEGIN PGP MESSAGE-----\nx\n"
		"-----END PGP MESSAGE-----\n",
	};
	struct pgp_msg_opts o;
	struct mime_message *m;
	const char *error;
	size_t i;

	pgp_msg_opts_init(&o);
	for (i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		m = mime_parse(yes[i], strlen(yes[i]), NULL, &error);
		ck_assert_msg(pgp_msg_inbound_wanted(m, &o), "yes[%zu]", i);
		mime_message_free(&m);
	}
	for (i = 0; i < sizeof(no) / sizeof(*no); i++) {
		m = mime_parse(no[i], strlen(no[i]), NULL, &error);
		ck_assert_msg(!pgp_msg_inbound_wanted(m, &o), "no[%zu]", i);
		mime_message_free(&m);
	}
	o.scan_html = 1;
	m = mime_parse(no[2], strlen(no[2]), NULL, &error);
	ck_assert(pgp_msg_inbound_wanted(m, &o));
	mime_message_free(&m);
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
	tcase_add_test(tc, inline_keeps_signature);
	tcase_add_test(tc, inline_html_only);
	tcase_add_test(tc, inline_sign);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, key_is_public);
	suite_add_tcase(s, tc);
	tc = tcase_create("inbound");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, in_mime_decrypt);
	tcase_add_test(tc, in_mime_roundtrip_signed);
	tcase_add_test(tc, in_mime_signed);
	tcase_add_test(tc, in_no_key);
	tcase_add_test(tc, in_inline);
	tcase_add_test(tc, in_clearsigned);
	tcase_add_test(tc, in_attachment);
	tcase_add_test(tc, in_nested_mime);
	tcase_add_test(tc, in_keys);
	tcase_add_test(tc, in_partitioned);
	tcase_add_test(tc, in_limits);
	tcase_add_test(tc, in_wanted);
	suite_add_tcase(s, tc);
	tc = tcase_create("opts");
	tcase_add_test(tc, opts_registry);
	suite_add_tcase(s, tc);
	return s;
}
