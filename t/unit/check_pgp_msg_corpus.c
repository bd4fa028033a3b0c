/*
 * pgp_msg inbound against the third-party corpora (../shared/corpora):
 * every OpenPGP case goes through the message layer and must give the
 * result its PROVENANCE.md records (the "gateway must" columns, and
 * the observed GnuPG results where those are the expectation).  Raw
 * OpenPGP files (rnp, gnupg, openpgp-interop-suite) are wrapped into
 * mail: PGP/MIME for encrypted data, a .pgp attachment for signed data,
 * a text part for cleartext signatures.  Skips when tu_corpora() is NULL.
 *
 * Trust: every key imported here is trusted (the corpora's baselines
 * assume the signer's key is known and good), so "valid" is decided by
 * the signature, the key state, the hash policy (no MD5/SHA-1) and the
 * signer/From check alone.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "infohdr.h"
#include "mime.h"
#include "mime_codec.h"
#include "pgp.h"
#include "pgp_keyring.h"
#include "pgp_msg.h"
#include "testutil.h"

#define PW "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* flags, short */
#define E PGP_MSG_R_ENCRYPTED
#define D PGP_MSG_R_DECRYPTED
#define S PGP_MSG_R_SIGNED
#define V PGP_MSG_R_SIGNED_VALID
#define M PGP_MSG_R_MIXED
#define K PGP_MSG_R_KEY_NOT_FOUND
#define F PGP_MSG_R_DECRYPT_FAILED
#define N PGP_MSG_R_NO_MDC
#define X PGP_MSG_R_SIGNER_MISMATCH
#define P PGP_MSG_R_PARTIAL_SIGNED
#define Y PGP_MSG_R_KEYS_FOUND
#define H PGP_MSG_R_DECRYPT_SKIPPED

enum wrap {
	W_EML,		/* the file is a mail */
	W_MIME,		/* raw OpenPGP: PGP/MIME multipart/encrypted */
	W_ATT,		/* raw OpenPGP: a .pgp attachment */
	W_TEXT,		/* raw text: the body of a text/plain mail */
};

struct ccase {
	const char *file;	/* relative to the corpus dir of the case */
	enum wrap wrap;
	unsigned set;		/* flags that must be set */
	unsigned clear;		/* flags that must not be set */
	const char *text;	/* must be in the result, or NULL */
	const char *notext;	/* must not be in the result, or NULL */
};

static char *tdir, *home;
static struct pgp_keyring *kr;

static int
trust_all(void *arg, const char *fpr, const char **error_r)
{
	(void)arg;
	(void)fpr;
	(void)error_r;
	return 1;
}

static struct pgp_msg_keys keys = { trust_all, NULL, NULL };

static char *
corpus(const char *rel, size_t *len_r)
{
	char path[2048];

	snprintf(path, sizeof(path), "%s/%s", tu_corpora(), rel);
	return tu_read_file(path, len_r);
}

static void
kr_open(void)
{
	const char *error;

	tdir = tu_tmpdir();
	home = tu_path(tdir, "g");
	ck_assert_msg(pgp_keyring_open(&kr, home, PW, &error) == 0, "%s",
	    error);
}

static void
kr_import(const char *rel, const char *pass)
{
	const char *error = "";
	char *d;
	size_t len;

	d = corpus(rel, &len);
	ck_assert_msg(d != NULL, "missing %s", rel);
	ck_assert_msg(pgp_keyring_import(kr, d, len, pass, NULL, NULL,
	    &error) == 0, "import %s: %s", rel, error);
	free(d);
}

static void
teardown(void)
{
	const char *error;

	if (tdir == NULL)
		return;
	pgp_keyring_free(&kr);
	pgp_keyring_stop_agent(home, &error);
	free(home);
	tu_tmpdir_free(&tdir);
	home = NULL;
}

static char *
wrap(const char *data, size_t len, enum wrap w, size_t *len_r)
{
	struct buf b, b64;

	buf_init(&b, 0);
	buf_init(&b64, 0);
	if (w == W_EML) {
		buf_append(&b, data, len);
	} else if (w == W_TEXT) {
		buf_puts(&b, "From: corpus@example.org\nSubject: corpus\n"
		    "Content-Type: text/plain; charset=utf-8\n\n");
		buf_append(&b, data, len);
	} else {
		mime_base64_encode(data, len, MIME_EOL_LF, &b64);
		if (w == W_MIME)
			buf_printf(&b, "From: corpus@example.org\n"
			    "Subject: corpus\nMIME-Version: 1.0\n"
			    "Content-Type: multipart/encrypted; protocol="
			    "\"application/pgp-encrypted\"; boundary=c\n\n"
			    "--c\nContent-Type: application/pgp-encrypted\n\n"
			    "Version: 1\n\n--c\nContent-Type: application/"
			    "octet-stream\nContent-Transfer-Encoding: base64\n"
			    "\n%s--c--\n", b64.data);
		else
			buf_printf(&b, "From: corpus@example.org\n"
			    "Subject: corpus\nMIME-Version: 1.0\n"
			    "Content-Type: multipart/mixed; boundary=c\n\n"
			    "--c\nContent-Type: application/octet-stream; "
			    "name=\"m.pgp\"\nContent-Disposition: attachment; "
			    "filename=\"m.pgp\"\nContent-Transfer-Encoding: "
			    "base64\n\n%s--c--\n", b64.data);
	}
	buf_release(&b64);
	return buf_steal(&b, len_r);
}

static const char *
flag_names(unsigned f, char *s)
{
	static const struct {
		unsigned bit;
		char c;
	} n[] = { { E, 'E' }, { D, 'D' }, { S, 'S' }, { V, 'V' }, { M, 'M' },
	    { K, 'K' }, { F, 'F' }, { N, 'N' }, { X, 'X' }, { P, 'P' },
	    { Y, 'Y' }, { H, 'H' } };
	size_t i, k = 0;

	for (i = 0; i < sizeof(n) / sizeof(*n); i++)
		if (f & n[i].bit)
			s[k++] = n[i].c;
	s[k] = '\0';
	return s;
}

/* Run one case: the result's flags and text against the table. */
static void
run_case(const char *dir, const struct ccase *cc, const struct pgp_msg_opts *o,
    struct pgp_msg_result *r_out)
{
	struct pgp_msg_result r;
	const char *error = "";
	struct buf out;
	char rel[1024], *data, *msg, f1[16], f2[16], f3[16];
	size_t len, mlen;

	snprintf(rel, sizeof(rel), "%s/%s", dir, cc->file);
	data = corpus(rel, &len);
	ck_assert_msg(data != NULL, "missing %s", rel);
	msg = wrap(data, len, cc->wrap, &mlen);
	buf_init(&out, 0);
	ck_assert_msg(pgp_msg_inbound(kr, msg, mlen, &keys, o, NULL, &r, &out,
	    &error) == 0, "%s: %s", cc->file, error);
	ck_assert_msg((r.flags & cc->set) == cc->set &&
	    (r.flags & cc->clear) == 0,
	    "%s: got flags %s (reason '%s'), want %s and not %s", cc->file,
	    flag_names(r.flags, f1), r.reason, flag_names(cc->set, f2),
	    flag_names(cc->clear, f3));
	if (cc->text != NULL)
		ck_assert_msg(memmem(out.data, out.len, cc->text,
		    strlen(cc->text)) != NULL, "%s: no '%s' in the result",
		    cc->file, cc->text);
	if (cc->notext != NULL)
		ck_assert_msg(memmem(out.data, out.len, cc->notext,
		    strlen(cc->notext)) == NULL, "%s: '%s' in the result",
		    cc->file, cc->notext);
	/* never a claim of validity without a counted signature */
	if (r.flags & V)
		ck_assert(r.flags & S);
	/* never a decrypted body without integrity protection */
	if (r.flags & N)
		ck_assert_msg(!(r.flags & D) || (r.flags & M), "%s: no-MDC "
		    "data decrypted", cc->file);
	if (r_out != NULL)
		*r_out = r;
	else
		pgp_msg_result_release(&r);
	buf_release(&out);
	free(msg);
	free(data);
}

/* ---- rnp test vectors (rnp/PROVENANCE.md) ------------------------------- */

static void
rnp_setup(void)
{
	if (tu_corpora() == NULL)
		return;
	kr_open();
	kr_import("rnp/keyrings/1/secring.gpg", "password");
	kr_import("rnp/keyrings/1/pubring.gpg", NULL);
	kr_import("rnp/test_messages/expired_signing_key-pub.asc", NULL);
}

#define PT "This is test message to be signed"

static const struct ccase rnp_cases[] = {
	/* decrypts, integrity protected */
	{ "message.txt.enc-mdc", W_MIME, E | D, S | F, PT, NULL },
	{ "message.txt.encrypted", W_MIME, E | D, S | F, PT, NULL },
	{ "message.txt.enc-3key-2p", W_MIME, E | D, F, PT, NULL },
	{ "message.txt.enc-hidden-1", W_MIME, E | D, F, PT, NULL },
	{ "message.txt.enc-hidden-2", W_MIME, E | D, F, PT, NULL },
	{ "message.txt.enc-aead-eax", W_MIME, E | D, F, PT, NULL },
	{ "message.txt.enc-malf-1", W_MIME, E | D, F, PT, NULL },
	{ "message.txt.enc-malf-5", W_MIME, E | D, F, PT, NULL },

	/* signed and encrypted (RSA-1024 key0, SHA-256) */
	{ "message.txt.signed-encrypted", W_MIME, E | D | S, F, PT, NULL },
	{ "message.txt.marker", W_MIME, E | D | S, F, PT, NULL },
	{ "message_mdc_8k_1.pgp", W_MIME, E | D | S, F, NULL, NULL },
	/* refused: no MDC, truncated, tampered AEAD, nesting bombs */
	{ "message.txt.enc-no-mdc", W_MIME, E | N | F, D, NULL, PT },
	{ "message_mdc_8k_cut1.pgp", W_MIME, E | F, D, NULL, NULL },
	{ "message_mdc_8k_cut22.pgp", W_MIME, E | F, D, NULL, NULL },
	{ "message.txt.enc-aead-eax-malf", W_MIME, E | F, D, NULL, PT },
	/* password-encrypted (SKESK): the gateway holds no passwords;
	 * whatever the password would reveal (tampered OCB, 32 nested
	 * layers) is never released */
	{ "message.txt.enc-aead-ocb", W_MIME, E | K, D, NULL, PT },
	{ "message.txt.enc-aead-ocb-malf", W_MIME, E | K, D, NULL, PT },
	{ "message.compr-encr.31-rounds", W_MIME, E | K, D, NULL, NULL },
	{ "message.compr-encr.32-rounds", W_MIME, E | K, D, NULL, NULL },
	{ "message.zlib-quine", W_MIME, F, D | E | S, NULL, NULL },
	{ "message.compr.128-rounds", W_MIME, F, D | E | S, NULL, NULL },
	/* not for us: no secret key, or a password */
	{ "message.txt.enc-sign-25519", W_MIME, E | K, D, NULL, NULL },
	{ "data.enc.small-rsa", W_MIME, E | K, D, NULL, NULL },
	{ "message.txt.enc-eg-bad", W_MIME, E | K, D, NULL, NULL },
	{ "message.enc-password", W_MIME, E | K, D, NULL, PT },
	{ "message.txt.enc-wrong-alg", W_MIME, E, D, NULL, NULL },
	{ "message.txt.enc-sm2", W_MIME, E, D, NULL, NULL },
	/* one-pass signed, as an attachment */
	{ "message.txt.signed", W_ATT, S | V, E | D, NULL, NULL },
	{ "message.txt.signed-no-z", W_ATT, S | V, E, NULL, NULL },
	{ "message.txt.signed.nosig", W_ATT, 0, S | V, NULL, NULL },
	{ "message.txt.signed.crit-notation", W_ATT, S, V, NULL, NULL },
	{ "message.txt.signed.invsig", W_ATT, S, V, NULL, NULL },
	{ "message.txt.signed.unknown", W_ATT, S, V, NULL, NULL },
	{ "message.txt.signed-expired-key", W_ATT, S, V, NULL, NULL },
	{ "message.txt.signed.md5", W_ATT, 0, V, NULL, NULL },
	{ "message.txt.signed.sha1", W_ATT, S, V,
	    "weak hash algorithm SHA1", NULL },
	{ "message.txt.signed-sha1-after", W_ATT, S, V, NULL, NULL },
	{ "message.txt.signed.malfsig", W_ATT, 0, V, NULL, NULL },
	{ "message.txt.signed-2-onepass", W_ATT, 0, V, NULL, NULL },
	{ "message.txt.literal", W_ATT, 0, S | V | E, NULL, NULL },
	/* cleartext signatures in a text part */
	{ "message.txt.cleartext-signed", W_TEXT, S | V, E, NULL, NULL },
	{ "message.txt.cleartext-signed-nonewline", W_TEXT, S, V, NULL,
	    NULL },
	{ "message.txt.cleartext-nosig", W_TEXT, 0, S | V, NULL, NULL },
	{ "message.txt.cleartext-malf", W_TEXT, 0, V, NULL, NULL },
	{ "message.txt.clear-2-sigs", W_TEXT, 0, V, NULL, NULL },
};

START_TEST(rnp_msgs)
{
	struct pgp_msg_opts o;

	if (tu_corpora() == NULL)
		return;
	pgp_msg_opts_init(&o);
	o.max_size = 4u * 1024 * 1024;
	run_case("rnp/test_messages", &rnp_cases[_i], &o, NULL);
}
END_TEST

/* ---- thunderbird OpenPGP mails ------------------------------------------- */

static void
tb_setup(void)
{
	if (tu_corpora() == NULL)
		return;
	kr_open();
	kr_import("thunderbird/openpgp/keys/"
	    "alice@openpgp.example-0xf231550c4f47e38e-secret.asc", "");
	kr_import("thunderbird/openpgp/keys/"
	    "bob@openpgp.example-0xfbfcc82a015e7330-pub.asc", NULL);
	kr_import("thunderbird/openpgp/keys/"
	    "carol@pgp.icu-0xEF2FD01608AFD744-revoked-secret.asc", "");
}

#define TB "thunderbird/openpgp/eml"

static const struct ccase tb_cases[] = {
	{ "unsigned-unencrypted-from-bob-to-alice.eml", W_EML, 0, E | S | D,
	    NULL, NULL },
	{ "signed-by-0xfbfcc82a015e7330-to-0xf231550c4f47e38e-unencrypted.eml",
	    W_EML, S | V, X | E | M | P, NULL, NULL },
	{ "signed-by-0xfbfcc82a015e7330-to-0xf231550c4f47e38e-unencrypted-with-key.eml",
	    W_EML, S | V | Y, X | E, NULL, NULL },
	{ "signed-by-0xfbfcc82a015e7330-to-0xf231550c4f47e38e-unencrypted-in-mixed.eml",
	    W_EML, P, S | V, NULL, NULL },
	/* Bob's signature a year away from the Date header */
	{ "signed-mismatch-email-date.eml", W_EML, S, V,
	    "signature time does not match", NULL },
	{ "signed-by-0x3099ff1238852b9f-to-0xf231550c4f47e38e-unencrypted.eml",
	    W_EML, S, V, "public key not found", NULL },
	{ "unsigned-encrypted-to-0xf231550c4f47e38e-from-0xfbfcc82a015e7330.eml",
	    W_EML, E | D, S | M | F, NULL, "BEGIN PGP MESSAGE" },
	{ "unsigned-encrypted-to-0xf231550c4f47e38e-from-0x3099ff1238852b9f-with-key.eml",
	    W_EML, E | D | Y, S | M, NULL, NULL },
	{ "signed-by-0xfbfcc82a015e7330-encrypted-to-0xf231550c4f47e38e.eml",
	    W_EML, E | D | S | V, X | M, NULL, NULL },
	{ "signed-by-0x3099ff1238852b9f-encrypted-to-0xf231550c4f47e38e.eml",
	    W_EML, E | D | S, V | M, NULL, NULL },
	{ "encrypted-to-alice-as-hidden-recipient.eml", W_EML, E | D, M,
	    NULL, NULL },
	{ "encrypted-and-signed-alice-to-bob-nonascii.eml", W_EML,
	    E | D | S | V, M, "Subject: =?UTF-8?B?UmU6IGtvZCBibMOl?=", NULL },
	{ "enc-to-carol@pgp.icu-revoked.eml", W_EML, E | D, M, NULL, NULL },
	{ "fwd-unsigned-encrypted.eml", W_EML, M, D | S, NULL, NULL },
	{ "fwd-signed.eml", W_EML, 0, S | V, NULL, NULL },
	{ "forwarded-eml-signed-by-alice.eml", W_EML, 0, S | V, NULL, NULL },
	{ "outer-pgp-sig-inner-pgp-enc.eml", W_EML, E | D, S | M, NULL,
	    NULL },
	{ "outer-pgp-sig-inner-pgp-enc-sig.eml", W_EML, E | D | S, V | M,
	    NULL, NULL },
	{ "outer-pgp-sig-inner-pgp-enc-with-mixed.eml", W_EML, E | M, D | S,
	    NULL, NULL },
	{ "outer-smime-bad-sig-inner-pgp-enc.eml", W_EML, E | D, S, NULL,
	    NULL },
	{ "outer-smime-bad-sig-inner-pgp-enc-sig-with-mixed.eml", W_EML,
	    E | M, D | S, NULL, NULL },
	{ "inner-smime-sig-in-pgp-encrypted.eml", W_EML, E | D, 0, NULL,
	    NULL },
	{ "dual-signed-uncommon-content-type.eml", W_EML, 0, V, NULL, NULL },
	{ "multiple-signatures.eml", W_EML, 0, S | V, NULL, NULL },
	{ "signed-with-mailman-footer.eml", W_EML, P, S | V, NULL, NULL },
	{ "partial-encrypt-for-alice-plaintext.eml", W_EML, E | D | M, S,
	    "unprotected text", NULL },
	{ "partial-encrypt-for-alice-html.eml", W_EML, 0, D, NULL, NULL },
	{ "partial-encrypt-for-carol-plaintext.eml", W_EML, E | K | M, D,
	    NULL, NULL },
	{ "alice-signed.eml", W_EML, S | V, E | P, NULL, NULL },
	{ "alice-utf.eml", W_EML, S | V, E | P, NULL, NULL },
	{ "inline-signed-utf8.eml", W_EML, S, V, NULL, NULL },
	{ "inline-signed-latin1.eml", W_EML, S, V, NULL, NULL },
	{ "signed-inline-indented.eml", W_EML, S | V, P, NULL, NULL },
	{ "bob-enc-inline-nbsp-qp.eml", W_EML, E | D, M,
	    "My real name is not Bob.", NULL },
	{ "alice-broken-exchange.eml", W_EML, E | D, M | F, NULL, NULL },
	{ "bob-to-alice-signed-damaged-signature.eml", W_EML, 0, S | V, NULL,
	    NULL },
	{ "openpgp__stripped_sig.eml", W_EML, 0, S | V, NULL, NULL },
	{ "sigspoof-git-commit.eml", W_EML, 0, E | D | S | V, NULL, NULL },
	{ "unrelated-and-fake-keys-attached.eml", W_EML, Y, S | V, NULL,
	    NULL },
	{ "signed-encrypted-autocrypt-gossip.eml", W_EML, E | D | S | V, M,
	    NULL, NULL },
};

START_TEST(tb_msgs)
{
	struct pgp_msg_opts o;

	if (tu_corpora() == NULL)
		return;
	pgp_msg_opts_init(&o);
	run_case(TB, &tb_cases[_i], &o, NULL);
}
END_TEST

/* An extra From inserted before the real one: the protected From wins,
 * and never a valid signature by the inserted sender. */
START_TEST(tb_multi_from)
{
	static const struct ccase cc = {
	    "signed-by-0xfbfcc82a015e7330-encrypted-to-0xf231550c4f47e38e-multi-from.eml",
	    W_EML, E | D | S, 0, NULL, NULL };
	struct pgp_msg_opts o;
	struct pgp_msg_result r;

	if (tu_corpora() == NULL)
		return;
	pgp_msg_opts_init(&o);
	run_case(TB, &cc, &o, &r);
	ck_assert_msg(!(r.flags & V) || (r.flags & X) ||
	    strcmp(r.signer_email, "bob@openpgp.example") == 0,
	    "valid signature claimed for the inserted From");
	pgp_msg_result_release(&r);
}
END_TEST

/* HTML-only inline ciphertext: only with pgp.scan-html, and as text. */
START_TEST(tb_scan_html)
{
	static const struct ccase cc = { "bob-enc-html-nbsp.eml", W_EML,
	    E | D, M, "My real name is not Bob.", "text/html" };
	static const struct ccase off = { "bob-enc-html-nbsp.eml", W_EML, 0,
	    D, NULL, NULL };
	/* the block between two attacker HTML parts: never decrypted
	 * next to them (Efail), even with scan-html */
	static const struct ccase part = {
	    "partial-encrypt-for-alice-html.eml", W_EML, E | M | H, D, NULL,
	    NULL };
	struct pgp_msg_opts o;

	if (tu_corpora() == NULL)
		return;
	pgp_msg_opts_init(&o);
	run_case(TB, &off, &o, NULL);
	o.scan_html = 1;
	run_case(TB, &cc, &o, NULL);
	run_case(TB, &part, &o, NULL);
}
END_TEST

/* ---- johnny-fired: signature spoofing --------------------------------------- */

static void
jf_setup(void)
{
	if (tu_corpora() == NULL)
		return;
	kr_open();
	kr_import("johnny-fired/assets/public-keys/manager@bigcorporation.asc",
	    NULL);
	kr_import("johnny-fired/assets/public-keys/eve@bigcorporation.asc",
	    NULL);
}

static const struct ccase jf_cases[] = {
	/* baselines */
	{ "assets/valid-signed/manager-pgp-mime.eml", W_EML, S | V, X | P, NULL,
	    NULL },
	{ "assets/valid-signed/manager-pgp-inline.eml", W_EML, S | V, X | P,
	    NULL, NULL },
	{ "assets/valid-signed/eve-pgp-mime.eml", W_EML, S | V, X, NULL, NULL },
	{ "assets/valid-signed/eve-pgp-inline.eml", W_EML, S | V, X, NULL,
	    NULL },
	/* M1-M4: a signed part wrapped in attacker MIME: never signed */
	{ "03-mime/m1-prepending-text/m1-pgp-mime.eml", W_EML, P, S | V, NULL,
	    NULL },
	{ "03-mime/m1-prepending-text/m1-pgp-inline.eml", W_EML, P, S | V,
	    NULL, NULL },
	{ "03-mime/m1-prepending-text/m1-pgp-inline2.eml", W_EML, P, S | V,
	    NULL, NULL },
	{ "03-mime/m2-hiding-with-html/m2-pgp-mime.eml", W_EML, P, S | V, NULL,
	    NULL },
	{ "03-mime/m2-hiding-with-html/m2-pgp-inline.eml", W_EML, P, S | V,
	    NULL, NULL },
	{ "03-mime/m2-hiding-with-html/m2-pgp-inline2.eml", W_EML, 0, S | V,
	    NULL, NULL },
	{ "03-mime/m3-hiding-in-reference/m3-pgp-mime.eml", W_EML, P, S | V,
	    NULL, NULL },
	{ "03-mime/m3-hiding-in-reference/m3-pgp-inline.eml", W_EML, P, S | V,
	    NULL, NULL },
	{ "03-mime/m4-hiding-as-attachment/m4-pgp-mime.eml", W_EML, 0, S | V,
	    NULL, NULL },
	{ "03-mime/m4-hiding-as-attachment/m4-pgp-inline.eml", W_EML, 0,
	    S | V, NULL, NULL },
	/* I1-I3: eve's valid signature under manager's identity */
	{ "04-id/i1-sender-signer-checks/i1-from-unequals-signer-pgp-mime.eml",
	    W_EML, S | V | X, 0, NULL, NULL },
	{ "04-id/i2-display-name-confusion/i2-from-is-empty-pgp-mime.eml",
	    W_EML, S | X, 0, NULL, NULL },
	{ "04-id/i2-display-name-confusion/i2-from-is-nonexistent-pgp-mime.eml",
	    W_EML, S | X, 0, NULL, NULL },
	{ "04-id/i2-display-name-confusion/i2-from-is-only-a-name-pgp-mime.eml",
	    W_EML, S | X, 0, NULL, NULL },
	{ "04-id/i2-display-name-confusion/i2-from-is-sender-signer-a-pgp-mime.eml",
	    W_EML, S | X, 0, NULL, NULL },
	{ "04-id/i2-display-name-confusion/i2-from-is-sender-signer-b-pgp-mime.eml",
	    W_EML, S | X, 0, NULL, NULL },
	{ "04-id/i2-display-name-confusion/i2-from-is-signer-sender-a-pgp-mime.eml",
	    W_EML, S | X, 0, NULL, NULL },
	{ "04-id/i2-display-name-confusion/i2-from-is-signer-sender-b-pgp-mime.eml",
	    W_EML, S | X, 0, NULL, NULL },
	/* From's addr-spec is eve's: signed by eve, display names aside */
	{ "04-id/i2-display-name-confusion/i2-from-contains-signer-pgp-mime.eml",
	    W_EML, S | V, X, "eve@bigcorporation.de", NULL },
	{ "04-id/i3-from-sender-confusion/i3-from-is-sender-sender-signer-pgp-mime.eml",
	    W_EML, S | X, 0, NULL, NULL },
	{ "04-id/i3-from-sender-confusion/i3-from-is-sender-signer-sender-pgp-mime.eml",
	    W_EML, S | X, 0, NULL, NULL },
	{ "04-id/i3-from-sender-confusion/i3-from-sender-others-signer-pgp-mime.eml",
	    W_EML, S | X, 0, NULL, NULL },
	{ "04-id/i3-from-sender-confusion/i3-from-signer-others-sender-pgp-mime.eml",
	    W_EML, S | V, X, "eve@bigcorporation.de", NULL },
	{ "04-id/i3-from-sender-confusion/i3-from1-sender-from2-signer-pgp-mime.eml",
	    W_EML, S | X, 0, NULL, NULL },
	{ "04-id/i3-from-sender-confusion/i3-from1-signer-from2-sender-pgp-mime.eml",
	    W_EML, S | X, 0, NULL, NULL },
	{ "05-ui/u1-ui-redressing/u1-generic.eml", W_EML, 0, S | V, NULL, NULL },
};

START_TEST(jf_msgs)
{
	struct pgp_msg_opts o;
	struct pgp_msg_result r;
	int baseline = strncmp(jf_cases[_i].file, "assets/", 7) == 0;

	if (tu_corpora() == NULL)
		return;
	pgp_msg_opts_init(&o);
	run_case("johnny-fired", &jf_cases[_i], &o, &r);
	/* the rule of the issue: no attack case is reported as validly
	 * signed by the victim's address */
	if (!baseline)
		ck_assert_msg(!((r.flags & V) && !(r.flags & X) &&
		    strcasecmp(r.signer_email, "manager@bigcorporation.de") ==
		    0), "%s: valid signature by manager", jf_cases[_i].file);
	pgp_msg_result_release(&r);
}
END_TEST

/* ---- gnupg samples, gmime, mimekit, openpgp-interop-suite ---------------- */

static void
misc_setup(void)
{
	const char *error;
	char cmd[4096], *data, *path;
	size_t len;

	if (tu_corpora() == NULL)
		return;
	kr_open();
	/* gnupg's agent-format secret keys, exported as OpenPGP keys */
	snprintf(cmd, sizeof(cmd), "set -e; k=%s/gnupg/openpgp/keys; "
	    "h=%s/s; mkdir -m 700 $h $h/private-keys-v1.d; "
	    "gpg --homedir $h --batch -q --import "
	    "$k/ed25519-cv25519-sample-1.asc $k/rsa-rsa-sample-1.asc "
	    "2>/dev/null; for f in $k/privkeys-agent/*.asc; do "
	    "gpg --dearmor < $f > $h/private-keys-v1.d/$(basename $f .asc).key;"
	    " done; gpg --homedir $h --batch --pinentry-mode loopback "
	    "--passphrase '' --export-secret-keys > %s/sec.gpg; "
	    "gpgconf --homedir $h --kill gpg-agent", tu_corpora(), tdir, tdir);
	ck_assert_int_eq(system(cmd), 0);
	path = tu_path(tdir, "sec.gpg");
	data = tu_read_file(path, &len);
	free(path);
	ck_assert_ptr_nonnull(data);
	ck_assert_msg(pgp_keyring_import(kr, data, len, "", NULL, NULL,
	    &error) == 0, "%s", error);
	free(data);
	kr_import("gmime/pgp/gmime.gpg.sec", "no.secret");
	kr_import("openpgp-interop-suite/certificates/alice-secret.pgp", "");
	kr_import("openpgp-interop-suite/certificates/bob-secret.pgp", "");
	kr_import("protected-headers/bob@openpgp.example.sec.asc", "");
	kr_import("protected-headers/alice@openpgp.example.pub.asc", NULL);
}

#define GS "gnupg/openpgp/samplemsgs/"

static const struct ccase misc_cases[] = {
	{ GS "enc-1-key-1.asc", W_MIME, E | D, F | S, NULL, NULL },
	{ GS "enc-1-key-2.gpg", W_MIME, E | D, F | S, NULL, NULL },
	{ GS "encz0-1-key-2.asc", W_MIME, E | D, F, NULL, NULL },
	{ GS "enc-2-keys-hh-1.asc", W_MIME, E | D, F, NULL, NULL },
	{ GS "enc-2-keys-rh-1.asc", W_MIME, E | D, F, NULL, NULL },
	{ GS "encsig-2-keys-1.asc", W_MIME, E | D | S | V, F, NULL, NULL },
	{ GS "encsig-2-2-keys-3.gpg", W_MIME, E | D | S | V, F, NULL, NULL },
	{ GS "enc-sym-cfb-1.asc", W_MIME, E | K, D, NULL, NULL },
	{ GS "enc-sym-ocb-1.asc", W_MIME, E | K, D, NULL, NULL },
	{ GS "issue2419.asc", W_MIME, F, D | S, NULL, NULL },
	{ GS "signed-1-key-1.asc", W_ATT, S | V, E, NULL, NULL },
	{ GS "signed-2-keys-1.gpg", W_ATT, S | V, E, NULL, NULL },
	{ GS "signedz0-1-key-2.gpg", W_ATT, S | V, E, NULL, NULL },
	{ GS "clearsig-2-keys-1.asc", W_TEXT, S | V, E, NULL, NULL },
	{ GS "mail-test-1.eml", W_EML, 0, E | S | D | M, NULL, NULL },
	{ GS "mail-test-2.eml", W_EML, 0, E | S | D | V, NULL, NULL },
	/* gmime: inline block with a plain signature line after it */
	{ "gmime/pgp/encrypted-message.txt", W_EML, E | D | M, S,
	    "This is the message body.", NULL },
	/* DSA-1024 with SHA-1 (weak hash policy: not valid), and the
	 * "--" signature after the block is not signed: partial */
	{ "gmime/pgp/signed-message.txt", W_EML, P, S | V, "weak hash",
	    NULL },
	/* mailing-list footer beside a PGP/MIME signature */
	{ "mimekit/openpgp/gnupg-2.1.20-released-announce.eml", W_EML, P,
	    S | V, NULL, NULL },
	/* openpgp-interop-suite */
	/* KDF parameters taken from the primary key: wrong; gpg and sqop
	 * both fail it (checksum), and so do we, releasing nothing */
	{ "openpgp-interop-suite/messages/alice-kdf-primary.pgp", W_MIME,
	    E | F, D, NULL, NULL },
	{ "openpgp-interop-suite/messages/alice-kdf-subkey.pgp", W_MIME,
	    E | D, F, NULL, NULL },
	{ "openpgp-interop-suite/messages/7C2FAA4DF93C37B2.IDEA.pgp", W_MIME,
	    E, S, NULL, NULL },
	/* protected-headers: PGP/MIME layers */
	{ "protected-headers/pgpmime-signed.eml", W_EML, S | V, E | X, NULL,
	    NULL },
	{ "protected-headers/pgpmime-sign+enc.eml", W_EML, E | D | S | V, M | X,
	    NULL, NULL },
	{ "protected-headers/pgpmime-sign+enc+legacy-disp.eml", W_EML,
	    E | D | S | V, M, NULL, NULL },
	{ "protected-headers/pgpmime-layered.eml", W_EML, E | D | S | V, M,
	    "multipart/signed", NULL },
	{ "protected-headers/pgpmime-enc+legacy-disp.eml", W_EML, E | D, S | M,
	    NULL, NULL },
};

START_TEST(misc_msgs)
{
	struct pgp_msg_opts o;

	if (tu_corpora() == NULL)
		return;
	pgp_msg_opts_init(&o);
	run_case(".", &misc_cases[_i], &o, NULL);
}
END_TEST

/* A 32k-bit RSA *secret* key as an attachment: passed over (secret
 * keys are never collected from mail), no hang. */
START_TEST(misc_big_key)
{
	static const struct ccase cc = {
	    "openpgp-interop-suite/rsa-keys/32k.pgp", W_ATT, 0, Y | S | E,
	    NULL, NULL };
	struct pgp_msg_opts o;

	if (tu_corpora() == NULL)
		return;
	pgp_msg_opts_init(&o);
	run_case(".", &cc, &o, NULL);
}
END_TEST

/* ---- attack layouts: covert-content, e2e-mitigation --------------------------- */

static void
att_setup(void)
{
	if (tu_corpora() == NULL)
		return;
	kr_open();
	kr_import("covert-content/assets/secret-keys/manager@bigcorporation-sec.asc",
	    "");
	kr_import("e2e-mitigation/dc-demo.keys", "");
}

#define CC "covert-content/01-enc/"
#define SECRET_CC "Secret"

static const struct ccase att_cases[] = {
	{ CC "pgp_mime/00-original-mail.eml", W_EML, E | D, M | F, NULL, NULL },
	{ CC "pgp_inline/00-original-mail.eml", W_EML, E | D, M | F, NULL,
	    NULL },
	/* ciphertext re-wrapped by the attacker: never decrypted into one
	 * body with their parts */
	{ CC "pgp_mime/01-reply-mix-822.eml", W_EML, E | M, D, NULL, NULL },
	{ CC "pgp_mime/01-reply-mix-alt.eml", W_EML, E | M, D, NULL, NULL },
	{ CC "pgp_mime/01-reply-mix-crlf.eml", W_EML, E | M, D, NULL, NULL },
	{ CC "pgp_mime/01-reply-mix-css.eml", W_EML, E | M, D, NULL, NULL },
	{ CC "pgp_mime/01-reply-mix-dbl.eml", W_EML, E | M, D, NULL, NULL },
	{ CC "pgp_mime/02-reply-rel.eml", W_EML, E | M, D, NULL, NULL },
	{ CC "pgp_inline/01-reply-mix-822.eml", W_EML, 0, D, NULL, NULL },
	{ CC "pgp_inline/01-reply-mix-alt.eml", W_EML, E | D | M, 0, NULL,
	    NULL },
	{ CC "pgp_inline/01-reply-mix-crlf.eml", W_EML, E | D | M, 0, NULL,
	    NULL },
	{ CC "pgp_inline/01-reply-mix-css.eml", W_EML, E | M | H, D, NULL,
	    NULL },
	{ CC "pgp_inline/01-reply-mix-dbl.eml", W_EML, E | D | M, 0, NULL,
	    NULL },
	{ CC "pgp_inline/02-reply-rel.eml", W_EML, E | M | H, D, NULL, NULL },
	{ CC "pgp_inline/03-reply-inl-crlf.eml", W_EML, E | D | M, 0,
	    "unprotected text", NULL },
	{ CC "pgp_inline/03-reply-inl-dbl.eml", W_EML, E | D | M, 0, NULL,
	    NULL },
	{ "covert-content/reevaluation-2020/01-enc/pgp-inline/01-reply-mix-css-modified.eml",
	    W_EML, E | M | H, D, NULL, NULL },
	{ "covert-content/reevaluation-2020/01-enc/pgp-mime/01-reply-mix-css-modified.eml",
	    W_EML, E | M, D, NULL, NULL },
	/* e2e-mitigation: A1 decrypts, the attacker's Reply-To goes */
	{ "e2e-mitigation/attack-emails/A1_NoDC_SMTP_Modified.eml", W_EML,
	    E | D, M, NULL, "attacker@example.com" },
	{ "e2e-mitigation/attack-emails/A2_NoDC_MIME_Modified.eml", W_EML,
	    E | M, D, NULL, NULL },
	{ "e2e-mitigation/attack-emails/A3_NoDC_SMTP+MIME_Modified.eml",
	    W_EML, E | D | M, 0, NULL, NULL },
	{ "e2e-mitigation/attack-emails/original/A2_NoDC_MIME_Modified.eml",
	    W_EML, E | D, M, NULL, NULL },
	/* the DC variants bind the decryption context into the AEAD tag,
	 * which stock OpenPGP cannot check: the tag fails (gpg and sqop
	 * agree), nothing is released; the provider-mangled copies are
	 * still recognised as PGP/MIME (Outlook's multipart/mixed too) */
	{ "e2e-mitigation/attack-emails/A1_DC_SMTP_Modified.eml", W_EML,
	    E | F, D, NULL, NULL },
	{ "e2e-mitigation/groundtruth/01_DC_Unmodified.eml", W_EML, E | F, D,
	    "PGP-Encryption-Algorithm-0: AES256", NULL },
	{ "e2e-mitigation/groundtruth/02_DC_Unmodified_from_Outlook.com.eml",
	    W_EML, E | F, D | M, "PGP-Encryption-Algorithm-0: AES256", NULL },
	{ "e2e-mitigation/groundtruth/02_DC_Unmodified_from_Outlook.com_repaired_by_Thunderbird.eml",
	    W_EML, E | F, D | M, "PGP-Encryption-Algorithm-0: AES256", NULL },
	{ "e2e-mitigation/groundtruth/02_DC_Unmodified_from_GMX_Mail.eml",
	    W_EML, E | F, D | M, "PGP-Encryption-Algorithm-0: AES256", NULL },
	{ "e2e-mitigation/groundtruth/02_DC_Unmodified_from_Yahoo_Mail.eml",
	    W_EML, E | F, D | M, "PGP-Encryption-Algorithm-0: AES256", NULL },
};

START_TEST(att_msgs)
{
	struct pgp_msg_opts o;

	if (tu_corpora() == NULL)
		return;
	pgp_msg_opts_init(&o);
	run_case(".", &att_cases[_i], &o, NULL);
}
END_TEST


/* ---- robustness: broken and tortured MIME, in and out ------------------------ */

static char rb_fpr[PGP_FPR_MAX + 1];
static char **rb_files;
static size_t rb_n;

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
rb_collect(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *p;
		struct stat sb;

		if (de->d_name[0] == '.' || strcmp(de->d_name,
		    "PROVENANCE.md") == 0)
			continue;
		p = tu_path(dir, de->d_name);
		if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			rb_collect(p);
			free(p);
			continue;
		}
		rb_files = realloc(rb_files, (rb_n + 1) * sizeof(*rb_files));
		ck_assert_ptr_nonnull(rb_files);
		rb_files[rb_n++] = p;
	}
	closedir(d);
}

static void
rb_setup(void)
{
	const char *error;
	char path[2048];

	if (tu_corpora() == NULL)
		return;
	kr_open();
	ck_assert_msg(pgp_keyring_generate(kr, "R <r@example.org>", "ed25519",
	    rb_fpr, &error) == 0, "%s", error);
	snprintf(path, sizeof(path), "%s/mime-is-broken", tu_corpora());
	rb_collect(path);
	snprintf(path, sizeof(path), "%s/thunderbird/mime", tu_corpora());
	rb_collect(path);
	snprintf(path, sizeof(path), "%s/mimekit/messages", tu_corpora());
	rb_collect(path);
	qsort(rb_files, rb_n, sizeof(*rb_files), cmp_str);
}

static void
rb_teardown(void)
{
	size_t i;

	for (i = 0; i < rb_n; i++)
		free(rb_files[i]);
	free(rb_files);
	rb_files = NULL;
	rb_n = 0;
	teardown();
}

/* Inbound over every broken mail: no error, no crash, nothing claimed
 * (the keyring holds no key for any of them). */
START_TEST(rb_inbound)
{
	struct pgp_msg_opts o;
	struct pgp_msg_result r;
	const char *error = "";
	struct buf out;
	size_t i, len, n = 0;
	char *data;

	if (tu_corpora() == NULL)
		return;
	ck_assert_uint_ge(rb_n, 500);
	pgp_msg_opts_init(&o);
	o.scan_html = 1;
	o.remove_keys = 1;
	buf_init(&out, 0);
	for (i = 0; i < rb_n; i++) {
		struct mime_message *m;

		data = tu_read_file(rb_files[i], &len);
		ck_assert_ptr_nonnull(data);
		buf_reset(&out);
		ck_assert_msg(pgp_msg_inbound(kr, data, len, &keys, &o, NULL,
		    &r, &out, &error) == 0, "%s: %s", rb_files[i], error);
		ck_assert_msg(!(r.flags & (D | V)), "%s: claims %x",
		    rb_files[i], r.flags);
		m = mime_parse(out.data, out.len, NULL, &error);
		ck_assert_ptr_nonnull(m);
		mime_message_free(&m);
		n += (r.flags & PGP_MSG_R_CHANGED) != 0;
		pgp_msg_result_release(&r);
		free(data);
	}
	buf_release(&out);
}
END_TEST

/*
 * Outbound on the same mails (every 8th of mime-is-broken, all the
 * others): PGP/MIME encryption, decrypted again by gpg, gives back the
 * body byte for byte (in CRLF) under the Content-* fields.
 */
START_TEST(rb_outbound)
{
	const char *fprs[1] = { rb_fpr };
	struct pgp_msg_opts o;
	struct pgp_result res;
	const char *error = "";
	struct buf enc, part, plain, want;
	size_t i, len, done = 0;
	char *data;

	if (tu_corpora() == NULL)
		return;
	pgp_msg_opts_init(&o);
	buf_init(&enc, 0);
	buf_init(&part, 0);
	buf_init(&plain, 0);
	buf_init(&want, 0);
	for (i = 0; i < rb_n; i++) {
		struct mime_message *m, *em;
		const char *sep;
		int rc;

		if (strstr(rb_files[i], "mime-is-broken") != NULL && i % 8)
			continue;
		data = tu_read_file(rb_files[i], &len);
		ck_assert_ptr_nonnull(data);
		buf_reset(&enc);
		rc = pgp_msg_encrypt(kr, data, len, fprs, 1, NULL, &o, &enc,
		    &error);
		ck_assert_msg(rc == PGP_MSG_OK, "%s: %s", rb_files[i], error);
		/* what must come back: the body as the MIME engine sees it */
		m = mime_parse(data, len, NULL, &error);
		buf_reset(&want);
		ck_assert_int_eq(mime_emit_buf(m, m->root, MIME_EMIT_CANONICAL |
		    MIME_EMIT_BODY_ONLY, &want, &error), 0);
		mime_message_free(&m);
		em = mime_parse(enc.data, enc.len, NULL, &error);
		ck_assert_uint_eq(mime_entity_kind(em->root),
		    MIME_K_PGP_ENCRYPTED);
		buf_reset(&part);
		ck_assert_int_eq(mime_entity_decode(mime_entity_at(em->root,
		    "2"), &part, NULL, &error), 0);
		mime_message_free(&em);
		ck_assert_msg(pgp_decrypt(kr, NULL, part.data, part.len,
		    &plain, &res, &error) == 0, "%s: %s", rb_files[i], error);
		pgp_result_release(&res);
		sep = memmem(plain.data, plain.len, "\r\n\r\n", 4);
		ck_assert_msg(sep != NULL && strncasecmp(plain.data,
		    "Content-", 8) == 0, "%s: no entity header", rb_files[i]);
		sep += 4;
		ck_assert_msg((size_t)(plain.data + plain.len - sep) ==
		    want.len && memcmp(sep, want.data, want.len) == 0,
		    "%s: body differs after the round trip", rb_files[i]);
		free(data);
		done++;
	}
	ck_assert_uint_ge(done, 80);
	buf_release(&enc);
	buf_release(&part);
	buf_release(&plain);
	buf_release(&want);
}
END_TEST

Suite *
pgp_msg_corpus_suite(void)
{
	Suite *s = suite_create("pgp_msg_corpus");
	TCase *tc;

	tc = tcase_create("rnp");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, rnp_setup, teardown);
	tcase_add_loop_test(tc, rnp_msgs, 0,
	    sizeof(rnp_cases) / sizeof(*rnp_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("thunderbird");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, tb_setup, teardown);
	tcase_add_loop_test(tc, tb_msgs, 0,
	    sizeof(tb_cases) / sizeof(*tb_cases));
	tcase_add_test(tc, tb_multi_from);
	tcase_add_test(tc, tb_scan_html);
	suite_add_tcase(s, tc);
	tc = tcase_create("johnny");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, jf_setup, teardown);
	tcase_add_loop_test(tc, jf_msgs, 0,
	    sizeof(jf_cases) / sizeof(*jf_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("misc");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, misc_setup, teardown);
	tcase_add_loop_test(tc, misc_msgs, 0,
	    sizeof(misc_cases) / sizeof(*misc_cases));
	tcase_add_test(tc, misc_big_key);
	suite_add_tcase(s, tc);
	tc = tcase_create("robust");
	tcase_set_timeout(tc, 600);
	tcase_add_unchecked_fixture(tc, rb_setup, rb_teardown);
	tcase_add_test(tc, rb_inbound);
	tcase_add_test(tc, rb_outbound);
	suite_add_tcase(s, tc);
	tc = tcase_create("attacks");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, att_setup, teardown);
	tcase_add_loop_test(tc, att_msgs, 0,
	    sizeof(att_cases) / sizeof(*att_cases));
	suite_add_tcase(s, tc);
	return s;
}
