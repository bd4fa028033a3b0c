/*
 * pgp_keyring + pgp: keys generated at test time (ed25519/cv25519), and
 * every output checked by tools we did not write: the gpg CLI in its own
 * temporary home, and sqop (Sequoia's stateless OpenPGP CLI).
 */
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "pgp.h"
#include "pgp_keyring.h"
#include "testutil.h"

#define PW "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char *tdir;		/* per-test temp dir */
static char *home;		/* our keyring home */
static char *ext;		/* external gpg home for cross-checks */
static struct pgp_keyring *kr;
static char alice[PGP_FPR_MAX + 1];

static int
have(const char *tool)
{
	return tu_sh("command -v %s >/dev/null 2>&1", tool) == 0;
}

/* Write name in the test's temp dir. */
static void
write_bytes(const char *name, const void *p, size_t len)
{
	char *path = tu_path(tdir, name);
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, len, f), len);
	fclose(f);
	free(path);
}

static void
setup(void)
{
	const char *error;

	tdir = tu_tmpdir();
	home = tu_path(tdir, "g");
	ext = tu_path(tdir, "x");
	ck_assert_int_eq(mkdir(ext, 0700), 0);
	ck_assert_msg(pgp_keyring_open(&kr, home, PW, &error) == 0, "%s",
	    error);
	ck_assert_msg(pgp_keyring_generate(kr, "Alice <alice@example.org>",
	    "ed25519", alice, &error) == 0, "%s", error);
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

/* An external recipient made by sqop; its cert imported into our ring. */
static void
make_external(const char *name, char fpr_r[PGP_FPR_MAX + 1])
{
	const char *error;
	char **fprs = NULL;
	size_t n = 0, len;
	char *path, *cert;

	ck_assert_int_eq(tu_sh("cd %s && sqop generate-key '<%s@example.net>' "
	    "> %s.key && sqop extract-cert < %s.key > %s.cert", tdir, name,
	    name, name, name), 0);
	path = tu_path(tdir, name);
	{
		char p[512];

		snprintf(p, sizeof(p), "%s.cert", path);
		cert = tu_read_file(p, &len);
	}
	ck_assert_ptr_nonnull(cert);
	ck_assert_msg(pgp_keyring_import(kr, cert, len, NULL, &fprs, &n,
	    &error) == 0, "%s", error);
	ck_assert_uint_eq(n, 1);
	snprintf(fpr_r, PGP_FPR_MAX + 1, "%s", fprs[0]);
	str_array_free(&fprs, n);
	free(cert);
	free(path);
}

START_TEST(generate_list)
{
	struct pgp_keyinfo *keys = NULL, *k;
	size_t n = 0, i;
	const char *error;
	char *dir;
	DIR *d;
	struct dirent *de;
	int files = 0;

	ck_assert_msg(pgp_keyring_list(kr, NULL, &keys, &n, &error) == 0,
	    "%s", error);
	ck_assert_uint_eq(n, 1);
	k = &keys[0];
	ck_assert_str_eq(k->fpr, alice);
	ck_assert_uint_eq(strlen(k->keyid), 16);
	ck_assert_str_eq(k->keyid, alice + strlen(alice) - 16);
	ck_assert_uint_eq(k->caps, PGP_CAP_ENCRYPT | PGP_CAP_SIGN |
	    PGP_CAP_CERTIFY);
	ck_assert_int_eq(k->secret, 1);
	ck_assert_uint_eq(k->nemails, 1);
	ck_assert_str_eq(k->emails[0], "alice@example.org");
	ck_assert_uint_eq(k->nsubkeys, 2);
	ck_assert_str_eq(k->subkeys[0].algo, "ed25519");
	ck_assert_str_eq(k->subkeys[1].algo, "cv25519");
	ck_assert_uint_eq(k->subkeys[1].caps, PGP_CAP_ENCRYPT);
	ck_assert_int_eq(k->expires, 0);
	ck_assert_int_eq(k->revoked, 0);
	pgp_keyinfo_free_array(&keys, n);

	/* Private keys are protected on disk (never plaintext). */
	dir = tu_path(home, "private-keys-v1.d");
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		char *p, *text;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		p = tu_path(dir, de->d_name);
		text = tu_read_file(p, &len);
		ck_assert_ptr_nonnull(text);
		ck_assert_msg(memmem(text, len, "protected-private-key", 21)
		    != NULL, "%s is not protected", p);
		for (i = 0; i + 13 <= len; i++)
			ck_assert_msg(memcmp(text + i, "(private-key", 12) != 0,
			    "%s holds a plaintext key", p);
		files++;
		free(text);
		free(p);
	}
	closedir(d);
	free(dir);
	ck_assert_int_eq(files, 2);
	/* gpg agrees the key needs our passphrase: a wrong one fails. */
	ck_assert_int_eq(tu_sh("gpgconf --homedir %s --reload gpg-agent", home),
	    0);
	ck_assert_int_ne(tu_sh("echo x | gpg --homedir %s --batch -q "
	    "--pinentry-mode loopback --passphrase wrong --sign -u %s "
	    ">/dev/null 2>&1", home, alice), 0);
	ck_assert_int_eq(tu_sh("echo x | gpg --homedir %s --batch -q "
	    "--pinentry-mode loopback --passphrase %s --sign -u %s "
	    ">/dev/null 2>&1", home, PW, alice), 0);
}
END_TEST

START_TEST(open_refusals)
{
	struct pgp_keyring *k2 = NULL;
	const char *error;
	char longp[200], *open_dir;

	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	ck_assert_int_eq(pgp_keyring_open(&k2, longp, PW, &error), -1);
	ck_assert_msg(strstr(error, "longer than") != NULL, "got %s", error);
	ck_assert_int_eq(pgp_keyring_open(&k2, "rel/dir", PW, &error), -1);
	open_dir = tu_path(tdir, "open");
	ck_assert_int_eq(mkdir(open_dir, 0755), 0);
	ck_assert_int_eq(pgp_keyring_open(&k2, open_dir, PW, &error), -1);
	ck_assert_msg(strstr(error, "0700") != NULL, "got %s", error);
	ck_assert_ptr_null(k2);
	free(open_dir);
	/* unknown algorithm */
	{
		char fpr[PGP_FPR_MAX + 1];

		ck_assert_int_eq(pgp_keyring_generate(kr, "<b@example.org>",
		    "dsa1024", fpr, &error), -1);
		ck_assert_msg(strstr(error, "dsa1024") != NULL, "got %s",
		    error);
	}
}
END_TEST

/* Encrypt to ourselves in every format; decrypt; check the result. */
static const struct {
	int armor, no_compress;
	const char *cipher;
	const char *want_cipher;
} enc_cases[] = {
	{ 1, 0, NULL, "AES256" },
	{ 0, 0, NULL, "AES256" },
	{ 1, 1, "AES128", "AES" },
	{ 0, 1, "AES256", "AES256" },
	/* not in the key's preferences: the recipient's list wins */
	{ 1, 0, "TWOFISH", "AES256" },
	{ 0, 0, "AES192", "AES192" },
};

START_TEST(encrypt_decrypt)
{
	const char *msg = "Hello Bob,\nthis is secret.\n";
	const char *fprs[1] = { alice };
	struct pgp_opts o = { 0 };
	struct pgp_result res;
	struct buf ct, pt;
	const char *error;

	o.armor = enc_cases[_i].armor;
	o.no_compress = enc_cases[_i].no_compress;
	o.cipher = enc_cases[_i].cipher;
	buf_init(&ct, 0);
	buf_init(&pt, 0);
	ck_assert_msg(pgp_encrypt(kr, fprs, 1, NULL, &o, msg, strlen(msg),
	    &ct, &error) == 0, "%s", error);
	ck_assert_int_eq(strncmp(ct.data, "-----BEGIN PGP MESSAGE-----",
	    27) == 0, o.armor);
	ck_assert_ptr_null(memmem(ct.data, ct.len, "secret", 6));
	ck_assert_msg(pgp_decrypt(kr, NULL, ct.data, ct.len, &pt, &res,
	    &error) == 0, "%s", error);
	ck_assert_int_eq(res.status, PGP_E_OK);
	ck_assert_int_eq(res.encrypted, 1);
	ck_assert_int_eq(res.signed_, 0);
	ck_assert_uint_eq(res.nsigs, 0);
	ck_assert_str_eq(pt.data, msg);
	ck_assert_uint_eq(res.nrecipients, 1);
	ck_assert_str_eq(res.decrypt_keyid, res.recipients[0]);
	ck_assert_msg(strcmp(res.cipher, enc_cases[_i].want_cipher) == 0,
	    "got %s, want %s", res.cipher, enc_cases[_i].want_cipher);
	pgp_result_release(&res);
	/* The gpg CLI in a separate home and sqop decrypt it with our
	 * exported secret key (protected by the keyring passphrase). */
	write_bytes("ct", ct.data, ct.len);
	write_bytes("pw", PW, strlen(PW));
	{
		char *sec;
		size_t sl;

		ck_assert_int_eq(pgp_keyring_export(kr, alice, 1, 1, &sec,
		    &sl, &error), 0);
		write_bytes("alice.sec", sec, sl);
		free(sec);
	}
	ck_assert_int_eq(tu_sh("cd %s && gpg --homedir %s --batch -q --import "
	    "alice.sec 2>/dev/null && gpg --homedir %s --batch -q "
	    "--pinentry-mode loopback --passphrase %s -d ct > pt 2>/dev/null "
	    "&& cmp -s pt - <<'EOF'\n%sEOF", tdir, ext, ext, PW, msg), 0);
	if (have("sqop"))
		ck_assert_int_eq(tu_sh("cd %s && sqop decrypt "
		    "--with-key-password=pw alice.sec < ct > pt2 && "
		    "cmp -s pt pt2", tdir), 0);
	/* integrity protection (SEIPD with MDC) and the compression flag,
	 * as gpg's packet dump shows them */
	ck_assert_int_eq(tu_sh("cd %s && gpg --homedir %s --batch "
	    "--pinentry-mode loopback --passphrase %s --list-packets ct "
	    "> pk 2>/dev/null; grep -q 'mdc_method: 2' pk", tdir, ext, PW), 0);
	ck_assert_int_eq(tu_sh("grep -q 'compressed packet' %s/pk", tdir),
	    o.no_compress ? 1 : 0);
	buf_release(&ct);
	buf_release(&pt);
}
END_TEST

START_TEST(external_recipient)
{
	char bob[PGP_FPR_MAX + 1];
	const char *fprs[2];
	const char *msg = "To an outside key: interop.\n";
	struct pgp_opts o = { .armor = 1 };
	struct buf ct, pt;
	struct pgp_result res;
	const char *error;

	if (!have("sqop"))
		return;
	make_external("bob", bob);
	fprs[0] = bob;
	fprs[1] = alice;
	buf_init(&ct, 0);
	buf_init(&pt, 0);
	ck_assert_msg(pgp_encrypt(kr, fprs, 2, alice, &o, msg, strlen(msg),
	    &ct, &error) == 0, "%s", error);
	write_bytes("ct.asc", ct.data, ct.len);
	/* sqop decrypts it with bob's key and verifies alice's signature */
	ck_assert_int_eq(tu_sh("cd %s && gpg --homedir %s --batch -q --armor "
	    "--export %s > alice.cert 2>/dev/null", tdir, home, alice), 0);
	ck_assert_int_eq(tu_sh("cd %s && sqop decrypt --verifications-out ver "
	    "--verify-with alice.cert bob.key < ct.asc > pt && "
	    "grep -q 'interop' pt && grep -qi '%s' ver", tdir, alice), 0);
	/* the gpg CLI in a separate home with bob's key */
	ck_assert_int_eq(tu_sh("cd %s && gpg --homedir %s --batch -q --import "
	    "bob.key alice.cert 2>/dev/null && gpg --homedir %s --batch "
	    "--status-fd 1 -d ct.asc 2>/dev/null > st && grep -q "
	    "'GOODSIG' st && grep -q 'interop' st", tdir, ext, ext), 0);
	/* we decrypt too, and see the signature */
	ck_assert_msg(pgp_decrypt(kr, NULL, ct.data, ct.len, &pt, &res,
	    &error) == 0, "%s", error);
	ck_assert_uint_eq(res.nrecipients, 2);
	ck_assert_uint_eq(res.nsigs, 1);
	ck_assert_int_eq(res.sigs[0].status, PGP_SIG_VALID);
	ck_assert_str_eq(res.sigs[0].primary_fpr, alice);
	ck_assert_uint_eq(res.sigs[0].nemails, 1);
	ck_assert_str_eq(res.sigs[0].emails[0], "alice@example.org");
	ck_assert_int_eq(pgp_result_all_valid(&res), 1);
	pgp_result_release(&res);
	buf_release(&ct);
	buf_release(&pt);
}
END_TEST

static const struct {
	enum pgp_sig_mode mode;
	int armor;
	const char *digest;
	const char *want_hash;
} sig_cases[] = {
	{ PGP_SIG_DETACH, 1, NULL, "SHA256" },
	{ PGP_SIG_DETACH, 1, "SHA512", "SHA512" },
	{ PGP_SIG_DETACH, 0, "SHA256", "SHA256" },
	{ PGP_SIG_CLEAR, 1, "SHA384", "SHA384" },
	{ PGP_SIG_INLINE, 1, NULL, "SHA256" },
	{ PGP_SIG_INLINE, 0, "SHA256", "SHA256" },
};

START_TEST(sign_verify)
{
	const char *msg = "Signed text.\nSecond line.\n";
	struct pgp_opts o = { 0 };
	struct pgp_result res;
	struct buf sig, out;
	const char *error;
	int det = sig_cases[_i].mode == PGP_SIG_DETACH;

	o.armor = sig_cases[_i].armor;
	o.digest = sig_cases[_i].digest;
	buf_init(&sig, 0);
	buf_init(&out, 0);
	ck_assert_msg(pgp_sign(kr, alice, sig_cases[_i].mode, &o, msg,
	    strlen(msg), &sig, &error) == 0, "%s", error);
	ck_assert_msg(pgp_verify(kr, NULL, sig.data, sig.len,
	    det ? msg : NULL, det ? strlen(msg) : 0, &out, &res, &error)
	    == 0, "%s", error);
	ck_assert_uint_eq(res.nsigs, 1);
	ck_assert_int_eq(res.sigs[0].status, PGP_SIG_VALID);
	ck_assert_str_eq(res.sigs[0].primary_fpr, alice);
	ck_assert_msg(strcmp(res.sigs[0].hash, sig_cases[_i].want_hash) == 0,
	    "got %s, want %s", res.sigs[0].hash, sig_cases[_i].want_hash);
	if (!det)
		ck_assert_str_eq(out.data, msg);
	pgp_result_release(&res);
	/* a modified text is a bad signature */
	if (det) {
		ck_assert_int_eq(pgp_verify(kr, NULL, sig.data, sig.len,
		    "Signed text!\nSecond line.\n", strlen(msg), NULL, &res,
		    &error), 0);
		ck_assert_uint_eq(res.nsigs, 1);
		ck_assert_int_eq(res.sigs[0].status, PGP_SIG_BAD);
		pgp_result_release(&res);
	}
	/* gpg CLI and sqop verify it */
	write_bytes("sig", sig.data, sig.len);
	write_bytes("msg", msg, strlen(msg));
	ck_assert_int_eq(tu_sh("cd %s && gpg --homedir %s --batch -q --export "
	    "%s > alice.cert && gpg --homedir %s --batch -q --import "
	    "alice.cert 2>/dev/null", tdir, home, alice, ext), 0);
	if (det)
		ck_assert_int_eq(tu_sh("cd %s && gpg --homedir %s --batch "
		    "--status-fd 1 --verify sig msg 2>/dev/null | grep -q "
		    "GOODSIG", tdir, ext), 0);
	else
		ck_assert_int_eq(tu_sh("cd %s && gpg --homedir %s --batch "
		    "--status-fd 1 --verify sig 2>/dev/null | grep -q "
		    "GOODSIG", tdir, ext), 0);
	if (have("sqop")) {
		if (det)
			ck_assert_int_eq(tu_sh("cd %s && sqop verify sig "
			    "alice.cert < msg | grep -qi %s", tdir, alice), 0);
		else
			ck_assert_int_eq(tu_sh("cd %s && sqop inline-verify "
			    "--verifications-out ver alice.cert < sig > out && "
			    "grep -qi %s ver && cmp -s out msg", tdir, alice),
			    0);
	}
	buf_release(&sig);
	buf_release(&out);
}
END_TEST

/* Output cap: exactly the limit passes, one byte less fails. */
START_TEST(max_out_limit)
{
	static char big[10000];
	const char *fprs[1] = { alice };
	struct pgp_opts o = { 0 };
	struct pgp_result res;
	struct buf ct, pt;
	const char *error;

	memset(big, 'A', sizeof(big));
	buf_init(&ct, 0);
	buf_init(&pt, 0);
	ck_assert_int_eq(pgp_encrypt(kr, fprs, 1, NULL, &o, big, sizeof(big),
	    &ct, &error), 0);
	o.max_out = sizeof(big);
	ck_assert_msg(pgp_decrypt(kr, &o, ct.data, ct.len, &pt, &res,
	    &error) == 0, "%s", error);
	ck_assert_uint_eq(pt.len, sizeof(big));
	pgp_result_release(&res);
	o.max_out = sizeof(big) - 1;
	ck_assert_int_eq(pgp_decrypt(kr, &o, ct.data, ct.len, &pt, &res,
	    &error), -1);
	ck_assert_msg(res.status == PGP_E_TOO_LARGE, "got %s",
	    pgp_status_name(res.status));
	ck_assert_uint_eq(pt.len, 0);
	pgp_result_release(&res);
	buf_release(&ct);
	buf_release(&pt);
}
END_TEST

/* Tampered and truncated ciphertexts release nothing. */
START_TEST(tamper_truncate)
{
	static char text[5000];
	const char *fprs[1] = { alice };
	struct pgp_opts o = { .no_compress = 1 };
	struct pgp_result res;
	struct buf ct, pt;
	const char *error;
	size_t cuts[] = { 1, 22, 100 };
	size_t i;

	memset(text, 'z', sizeof(text));
	buf_init(&ct, 0);
	buf_init(&pt, 0);
	ck_assert_int_eq(pgp_encrypt(kr, fprs, 1, NULL, &o, text,
	    sizeof(text), &ct, &error), 0);
	ct.data[ct.len / 2] ^= 0x01;
	ck_assert_int_eq(pgp_decrypt(kr, NULL, ct.data, ct.len, &pt, &res,
	    &error), -1);
	ck_assert_msg(res.status == PGP_E_BAD_DATA, "got %s",
	    pgp_status_name(res.status));
	ck_assert_uint_eq(pt.len, 0);
	pgp_result_release(&res);
	ct.data[ct.len / 2] ^= 0x01;
	for (i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
		ck_assert_int_eq(pgp_decrypt(kr, NULL, ct.data,
		    ct.len - cuts[i], &pt, &res, &error), -1);
		ck_assert_uint_eq(pt.len, 0);
		ck_assert_int_ne(res.status, PGP_E_OK);
		pgp_result_release(&res);
	}
	/* not encrypted at all */
	ck_assert_int_eq(pgp_decrypt(kr, NULL, "hello", 5, &pt, &res,
	    &error), -1);
	ck_assert_int_ne(res.status, PGP_E_OK);
	pgp_result_release(&res);
	buf_release(&ct);
	buf_release(&pt);
}
END_TEST

/* A message for a key we do not hold: "no key", recipients known. */
START_TEST(no_key)
{
	char bob[PGP_FPR_MAX + 1];
	const char *fprs[1];
	struct pgp_result res;
	struct buf ct, pt;
	const char *error;

	if (!have("sqop"))
		return;
	make_external("carol", bob);
	fprs[0] = bob;
	buf_init(&ct, 0);
	buf_init(&pt, 0);
	ck_assert_int_eq(pgp_encrypt(kr, fprs, 1, NULL, NULL, "x", 1, &ct,
	    &error), 0);
	ck_assert_int_eq(pgp_decrypt(kr, NULL, ct.data, ct.len, &pt, &res,
	    &error), -1);
	ck_assert_msg(res.status == PGP_E_NO_KEY, "got %s",
	    pgp_status_name(res.status));
	ck_assert_uint_eq(res.nrecipients, 1);
	ck_assert_str_eq(res.decrypt_keyid, "");
	pgp_result_release(&res);
	buf_release(&ct);
	buf_release(&pt);
}
END_TEST

START_TEST(import_export_revoke_delete)
{
	struct pgp_keyring *k2 = NULL;
	char *home2 = tu_path(tdir, "h");
	struct pgp_keyinfo *keys = NULL;
	char **fprs = NULL;
	size_t n = 0, nf = 0, len;
	char *sec;
	const char *error;

	/* export alice's secret key; import it elsewhere (re-protected) */
	ck_assert_msg(pgp_keyring_export(kr, alice, 1, 1, &sec, &len,
	    &error) == 0, "%s", error);
	ck_assert_int_eq(strncmp(sec, "-----BEGIN PGP PRIVATE KEY BLOCK", 32),
	    0);
	ck_assert_int_eq(pgp_keyring_open(&k2, home2, "other-passphrase",
	    &error), 0);
	/* wrong import passphrase: refused, no secret key kept */
	ck_assert_int_eq(pgp_keyring_import(k2, sec, len, "wrong", &fprs,
	    &nf, &error), -1);
	ck_assert_int_eq(pgp_keyring_list(k2, NULL, &keys, &n, &error), 0);
	ck_assert_msg(n == 0 || keys[0].secret == 0, "secret key kept");
	pgp_keyinfo_free_array(&keys, n);
	ck_assert_msg(pgp_keyring_import(k2, sec, len, PW, &fprs, &nf,
	    &error) == 0, "%s", error);
	ck_assert_uint_eq(nf, 1);
	ck_assert_str_eq(fprs[0], alice);
	str_array_free(&fprs, nf);
	/* now protected by k2's passphrase (flush the agent's cache) */
	ck_assert_int_eq(tu_sh("gpgconf --homedir %s --reload gpg-agent",
	    home2), 0);
	ck_assert_int_eq(tu_sh("echo x | gpg --homedir %s --batch -q "
	    "--pinentry-mode loopback --passphrase other-passphrase --sign "
	    "-u %s >/dev/null 2>&1", home2, alice), 0);
	ck_assert_int_eq(tu_sh("gpgconf --homedir %s --reload gpg-agent",
	    home2), 0);
	ck_assert_int_ne(tu_sh("echo x | gpg --homedir %s --batch -q "
	    "--pinentry-mode loopback --passphrase %s --sign "
	    "-u %s >/dev/null 2>&1", home2, PW, alice), 0);
	free(sec);
	/* garbage import */
	ck_assert_int_eq(pgp_keyring_import(k2, "not a key", 9, NULL, NULL,
	    NULL, &error), -1);

	/* revoke in k2: listed revoked, no capabilities */
	ck_assert_msg(pgp_keyring_revoke(k2, alice, &error) == 0, "%s",
	    error);
	ck_assert_int_eq(pgp_keyring_list(k2, alice, &keys, &n, &error), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(keys[0].revoked, 1);
	ck_assert_uint_eq(keys[0].caps, 0);
	pgp_keyinfo_free_array(&keys, n);
	/* delete */
	ck_assert_msg(pgp_keyring_delete(k2, alice, &error) == 0, "%s", error);
	ck_assert_int_eq(pgp_keyring_list(k2, NULL, &keys, &n, &error), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(pgp_keyring_delete(k2, alice, &error), -1);
	pgp_keyring_free(&k2);
	pgp_keyring_stop_agent(home2, &error);
	free(home2);
}
END_TEST

/* Third-party certifications never add an email; only self-sigs do. */
START_TEST(uid_rules)
{
	struct pgp_keyinfo *keys = NULL, *k;
	size_t n = 0;
	const char *error;
	char *cert;
	size_t len;
	char **fprs = NULL;
	size_t nf = 0;
	char mal[PGP_FPR_MAX + 1];

	/*
	 * Mallory: one UID self-signed, then a second UID whose self
	 * signature we strip (import filter in gpg CLI: drop-sig).  gpg
	 * itself refuses UIDs without self-signature on import, so build
	 * with a certification by alice only.
	 */
	ck_assert_int_eq(tu_sh("cd %s && gpg --homedir %s --batch -q "
	    "--passphrase '' --pinentry-mode loopback --quick-gen-key "
	    "'Mallory <mallory@example.com>' ed25519 default never "
	    "2>/dev/null && gpg --homedir %s --batch -q "
	    "--passphrase '' --pinentry-mode loopback --quick-add-uid "
	    "mallory@example.com 'Fake <ceo@example.org>' 2>/dev/null && "
	    "gpg --homedir %s --batch -q --passphrase '' "
	    "--pinentry-mode loopback --quick-revoke-uid "
	    "mallory@example.com 'Fake <ceo@example.org>' 2>/dev/null && "
	    "gpg --homedir %s --batch -q --armor --export "
	    "mallory@example.com > mal.asc", tdir, ext, ext, ext, ext), 0);
	{
		char *p = tu_path(tdir, "mal.asc");

		cert = tu_read_file(p, &len);
		free(p);
	}
	ck_assert_ptr_nonnull(cert);
	ck_assert_int_eq(pgp_keyring_import(kr, cert, len, NULL, &fprs, &nf,
	    &error), 0);
	snprintf(mal, sizeof(mal), "%s", fprs[0]);
	str_array_free(&fprs, nf);
	free(cert);
	ck_assert_int_eq(pgp_keyring_list(kr, mal, &keys, &n, &error), 0);
	ck_assert_uint_eq(n, 1);
	k = &keys[0];
	/* the revoked UID does not count */
	ck_assert_uint_eq(k->nemails, 1);
	ck_assert_str_eq(k->emails[0], "mallory@example.com");
	ck_assert_int_eq(k->secret, 0);
	pgp_keyinfo_free_array(&keys, n);
}
END_TEST

/* A key cached by one keyring object is dropped when another object
 * (another process in production) changes the keyring. */
START_TEST(cache_generation)
{
	struct pgp_keyring *other = NULL;
	const char *msg = "cached\n", *error;
	struct pgp_result res;
	struct buf sig;

	buf_init(&sig, 0);
	ck_assert_int_eq(pgp_sign(kr, alice, PGP_SIG_DETACH, NULL, msg,
	    strlen(msg), &sig, &error), 0);
	ck_assert_int_eq(pgp_verify(kr, NULL, sig.data, sig.len, msg,
	    strlen(msg), NULL, &res, &error), 0);
	ck_assert_uint_eq(res.nsigs, 1);
	ck_assert_uint_eq(res.sigs[0].nemails, 1);
	pgp_result_release(&res);
	ck_assert_int_eq(pgp_keyring_open(&other, home, PW, &error), 0);
	ck_assert_int_eq(pgp_keyring_delete(other, alice, &error), 0);
	pgp_keyring_free(&other);
	ck_assert_int_eq(pgp_verify(kr, NULL, sig.data, sig.len, msg,
	    strlen(msg), NULL, &res, &error), 0);
	ck_assert_uint_eq(res.nsigs, 1);
	ck_assert_msg(res.sigs[0].status == PGP_SIG_NO_PUBKEY, "got %s",
	    pgp_sig_status_name(res.sigs[0].status));
	ck_assert_uint_eq(res.sigs[0].nemails, 0);
	ck_assert_str_eq(res.sigs[0].primary_fpr, "");
	pgp_result_release(&res);
	ck_assert_int_eq(pgp_sign(kr, alice, PGP_SIG_DETACH, NULL, msg,
	    strlen(msg), &sig, &error), -1);
	buf_release(&sig);
}
END_TEST

/* Injected failures: a writer holding the lock past the timeout, a
 * keyring opened with the wrong passphrase, a password-only message
 * (whose password is the keyring passphrase: it must not be offered). */
START_TEST(failures)
{
	const char *fprs[1] = { alice };
	struct pgp_keyring *other = NULL;
	struct pgp_result res;
	struct buf ct, pt;
	const char *error;
	char *p, *sym;
	size_t len;

	buf_init(&ct, 0);
	buf_init(&pt, 0);
	ck_assert_int_eq(pgp_encrypt(kr, fprs, 1, NULL, NULL, "secret", 6,
	    &ct, &error), 0);
	/* lock held by a writer: bounded wait, internal error, no output */
	ck_assert_int_eq(pgp_keyring_open(&other, home, PW, &error), 0);
	ck_assert_int_eq(pgp_keyring_lock(other, 1, &error), 0);
	pgp_keyring_set_lock_timeout(kr, 50);
	ck_assert_int_eq(pgp_decrypt(kr, NULL, ct.data, ct.len, &pt, &res,
	    &error), -1);
	ck_assert_msg(strstr(error, "timeout") != NULL, "got %s", error);
	ck_assert_int_eq(res.status, PGP_E_INTERNAL);
	ck_assert_uint_eq(pt.len, 0);
	pgp_result_release(&res);
	ck_assert_int_eq(pgp_sign(kr, alice, PGP_SIG_DETACH, NULL, "x", 1,
	    &pt, &error), -1);
	pgp_keyring_unlock(other);
	pgp_keyring_free(&other);
	pgp_keyring_set_lock_timeout(kr, PGP_LOCK_TIMEOUT_MS);
	ck_assert_int_eq(pgp_decrypt(kr, NULL, ct.data, ct.len, &pt, &res,
	    &error), 0);
	pgp_result_release(&res);
	/* wrong keyring passphrase (agent cache flushed first) */
	ck_assert_int_eq(tu_sh("gpgconf --homedir %s --reload gpg-agent", home),
	    0);
	ck_assert_int_eq(pgp_keyring_open(&other, home, "wrong", &error), 0);
	ck_assert_int_eq(pgp_decrypt(other, NULL, ct.data, ct.len, &pt, &res,
	    &error), -1);
	ck_assert_msg(res.status == PGP_E_BAD_PASSPHRASE, "got %s",
	    pgp_status_name(res.status));
	ck_assert_uint_eq(pt.len, 0);
	pgp_result_release(&res);
	pgp_keyring_free(&other);
	/* password-only message, password = our keyring passphrase */
	ck_assert_int_eq(tu_sh("cd %s && echo 'symmetric secret' | gpg "
	    "--homedir %s --batch -q --pinentry-mode loopback --passphrase %s "
	    "--symmetric > sym.gpg", tdir, ext, PW), 0);
	p = tu_path(tdir, "sym.gpg");
	sym = tu_read_file(p, &len);
	free(p);
	ck_assert_ptr_nonnull(sym);
	ck_assert_int_eq(pgp_decrypt(kr, NULL, sym, len, &pt, &res, &error),
	    -1);
	ck_assert_msg(res.status == PGP_E_NO_KEY, "got %s",
	    pgp_status_name(res.status));
	ck_assert_uint_eq(pt.len, 0);
	pgp_result_release(&res);
	free(sym);
	buf_release(&ct);
	buf_release(&pt);
}
END_TEST

Suite *
pgp_suite(void)
{
	Suite *s = suite_create("pgp");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, generate_list);
	tcase_add_test(tc, open_refusals);
	tcase_add_loop_test(tc, encrypt_decrypt, 0,
	    sizeof(enc_cases) / sizeof(*enc_cases));
	tcase_add_test(tc, external_recipient);
	tcase_add_loop_test(tc, sign_verify, 0,
	    sizeof(sig_cases) / sizeof(*sig_cases));
	tcase_add_test(tc, max_out_limit);
	tcase_add_test(tc, tamper_truncate);
	tcase_add_test(tc, no_key);
	tcase_add_test(tc, import_export_revoke_delete);
	tcase_add_test(tc, uid_rules);
	tcase_add_test(tc, cache_generation);
	tcase_add_test(tc, failures);
	suite_add_tcase(s, tc);
	return s;
}
