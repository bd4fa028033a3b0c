/*
 * pgp against the rnp test vectors (corpora/rnp, PROVENANCE.md records
 * what a gateway must do with each).  Skips when tu_corpora() is NULL.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pgp.h"
#include "pgp_keyring.h"
#include "testutil.h"

#define PW "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static char *tdir, *home;
static struct pgp_keyring *kr;

static char *
corpus(const char *rel, size_t *len_r)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/rnp/%s", tu_corpora(), rel);
	return tu_read_file(path, len_r);
}

static void
setup(void)
{
	const char *error;
	char *data;
	size_t len;

	if (tu_corpora() == NULL)
		return;
	tdir = tu_tmpdir();
	home = tu_path(tdir, "g");
	ck_assert_int_eq(pgp_keyring_open(&kr, home, PW, &error), 0);
	/* key0/key1 protected with "password": re-protected on import */
	data = corpus("keyrings/1/secring.gpg", &len);
	ck_assert_ptr_nonnull(data);
	ck_assert_msg(pgp_keyring_import(kr, data, len, "password", NULL,
	    NULL, &error) == 0, "%s", error);
	free(data);
	data = corpus("keyrings/1/pubring.gpg", &len);
	ck_assert_int_eq(pgp_keyring_import(kr, data, len, NULL, NULL, NULL,
	    &error), 0);
	free(data);
	data = corpus("test_messages/expired_signing_key-pub.asc", &len);
	if (data != NULL) {
		pgp_keyring_import(kr, data, len, NULL, NULL, NULL, &error);
		free(data);
	}
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
}

enum op { DEC, VER };

/* want: -1 any failure, else the status; sig: -1 none expected, else
 * the first signature's status; plain: the text must appear. */
static const struct {
	const char *file;
	enum op op;
	int rc;			/* 0 or -1 */
	int status;		/* enum pgp_status, -1: any failure */
	int nsigs;
	int sig;		/* enum pgp_sig_status of sigs[0], -1: n/a */
	const char *signer;	/* key id of sigs[0] */
	int plain;		/* plaintext released */
} cases[] = {
	{ "message.txt.enc-mdc", DEC, 0, PGP_E_OK, 0, -1, NULL, 1 },
	{ "message.txt.encrypted", DEC, 0, PGP_E_OK, 0, -1, NULL, 1 },
	{ "message.txt.signed-encrypted", DEC, 0, PGP_E_OK, 1,
	    PGP_SIG_VALID, "7BC6709B15C23A4A", 1 },
	{ "message.txt.enc-no-mdc", DEC, -1, PGP_E_NO_MDC, 0, -1, NULL, 0 },
	{ "message_mdc_8k_cut1.pgp", DEC, -1, -1, 0, -1, NULL, 0 },
	{ "message_mdc_8k_cut22.pgp", DEC, -1, -1, 0, -1, NULL, 0 },
	{ "message.txt.enc-aead-eax-malf", DEC, -1, -1, 0, -1, NULL, 0 },
	{ "message.txt.enc-aead-ocb-malf", DEC, -1, -1, 0, -1, NULL, 0 },
	{ "message.txt.enc-sign-25519", DEC, -1, PGP_E_NO_KEY, 0, -1, NULL,
	    0 },
	{ "message.compr-encr.32-rounds", DEC, -1, -1, 0, -1, NULL, 0 },
	{ "message.txt.signed", VER, 0, PGP_E_OK, 1, PGP_SIG_VALID,
	    "7BC6709B15C23A4A", 1 },
	{ "message.txt.cleartext-signed", VER, 0, PGP_E_OK, 1,
	    PGP_SIG_VALID, "7BC6709B15C23A4A", 1 },
	{ "message.txt.signed.nosig", VER, 0, PGP_E_OK, 0, -1, NULL, 1 },
	{ "message.txt.signed.crit-notation", VER, 0, PGP_E_OK, 1,
	    PGP_SIG_BAD, "7BC6709B15C23A4A", 1 },
	{ "message.txt.signed.invsig", VER, 0, PGP_E_OK, 1, PGP_SIG_BAD,
	    "7BC6709B15C23A4A", 1 },
	{ "message.txt.signed.unknown", VER, 0, PGP_E_OK, 1,
	    PGP_SIG_NO_PUBKEY, NULL, 1 },
	{ "message.txt.signed-expired-key", VER, 0, PGP_E_OK, 1,
	    PGP_SIG_EXPIRED_KEY, NULL, 1 },
	{ "message.txt.signed.malfsig", VER, -1, -1, 0, -1, NULL, 0 },
	{ "message.zlib-quine", VER, -1, -1, 0, -1, NULL, 0 },
	{ "message.compr.128-rounds", VER, -1, -1, 0, -1, NULL, 0 },
};

START_TEST(rnp_messages)
{
	struct pgp_opts o = { .max_out = 1024 * 1024 };
	struct pgp_result res;
	struct buf out;
	const char *error = "";
	char rel[256], *data;
	size_t len;
	int rc;

	if (tu_corpora() == NULL)
		return;
	snprintf(rel, sizeof(rel), "test_messages/%s", cases[_i].file);
	data = corpus(rel, &len);
	ck_assert_msg(data != NULL, "missing %s", rel);
	buf_init(&out, 0);
	if (cases[_i].op == DEC)
		rc = pgp_decrypt(kr, &o, data, len, &out, &res, &error);
	else
		rc = pgp_verify(kr, &o, data, len, NULL, 0, &out, &res,
		    &error);
	ck_assert_msg(rc == cases[_i].rc, "%s: got rc %d (%s, %s), want %d",
	    cases[_i].file, rc, pgp_status_name(res.status), error,
	    cases[_i].rc);
	if (cases[_i].status >= 0)
		ck_assert_msg((int)res.status == cases[_i].status,
		    "%s: got %s, want %s", cases[_i].file,
		    pgp_status_name(res.status),
		    pgp_status_name(cases[_i].status));
	ck_assert_msg((int)res.nsigs == cases[_i].nsigs,
	    "%s: got %zu signatures, want %d", cases[_i].file, res.nsigs,
	    cases[_i].nsigs);
	ck_assert_int_eq(res.signed_, cases[_i].nsigs > 0);
	if (cases[_i].sig >= 0)
		ck_assert_msg((int)res.sigs[0].status == cases[_i].sig,
		    "%s: got %s, want %s", cases[_i].file,
		    pgp_sig_status_name(res.sigs[0].status),
		    pgp_sig_status_name(cases[_i].sig));
	if (cases[_i].signer != NULL)
		ck_assert_msg(strcasecmp(res.sigs[0].keyid, cases[_i].signer)
		    == 0, "%s: got signer %s, want %s", cases[_i].file,
		    res.sigs[0].keyid, cases[_i].signer);
	if (cases[_i].plain)
		ck_assert_msg(out.len > 0, "%s: no plaintext", cases[_i].file);
	else
		ck_assert_msg(out.len == 0, "%s: %zu bytes released",
		    cases[_i].file, out.len);
	pgp_result_release(&res);
	buf_release(&out);
	free(data);
}
END_TEST

/* The listed key metadata of the rnp keyring. */
START_TEST(rnp_keys)
{
	struct pgp_keyinfo *keys = NULL;
	size_t n = 0, i;
	const char *error;
	int seen = 0;

	if (tu_corpora() == NULL)
		return;
	ck_assert_int_eq(pgp_keyring_list(kr, NULL, &keys, &n, &error), 0);
	for (i = 0; i < n; i++) {
		if (strcasecmp(keys[i].keyid, "7BC6709B15C23A4A") != 0)
			continue;
		seen = 1;
		ck_assert_int_eq(keys[i].secret, 1);
		ck_assert_uint_ge(keys[i].nsubkeys, 3);
		ck_assert(keys[i].caps & PGP_CAP_ENCRYPT);
	}
	ck_assert_int_eq(seen, 1);
	pgp_keyinfo_free_array(&keys, n);
}
END_TEST

/* --- thunderbird openpgp: keys and messages ---------------------------- */

static char *tb_tdir, *tb_home;
static struct pgp_keyring *tb_kr;

static char *
tb_file(const char *rel, size_t *len_r)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/thunderbird/openpgp/%s",
	    tu_corpora(), rel);
	return tu_read_file(path, len_r);
}

static void
tb_setup(void)
{
	static const char *const imp[][2] = {
		{ "keys/alice@openpgp.example-0xf231550c4f47e38e-secret-with-pp.asc",
		    "alice-passphrase" },
		{ "keys/bob@openpgp.example-0xfbfcc82a015e7330-pub.asc", NULL },
	};
	const char *error;
	size_t i, len;

	if (tu_corpora() == NULL)
		return;
	tb_tdir = tu_tmpdir();
	tb_home = tu_path(tb_tdir, "g");
	ck_assert_int_eq(pgp_keyring_open(&tb_kr, tb_home, PW, &error), 0);
	for (i = 0; i < sizeof(imp) / sizeof(*imp); i++) {
		char *data = tb_file(imp[i][0], &len);

		ck_assert_msg(data != NULL, "missing %s", imp[i][0]);
		ck_assert_msg(pgp_keyring_import(tb_kr, data, len, imp[i][1],
		    NULL, NULL, &error) == 0, "%s: %s", imp[i][0], error);
		free(data);
	}
}

static void
tb_teardown(void)
{
	const char *error;

	if (tb_tdir == NULL)
		return;
	pgp_keyring_free(&tb_kr);
	pgp_keyring_stop_agent(tb_home, &error);
	free(tb_home);
	tu_tmpdir_free(&tb_tdir);
}

/* The armored block of a PGP/MIME part (7bit), without a MIME parser. */
static char *
armored_block(const char *text, size_t *len_r)
{
	const char *b = strstr(text, "-----BEGIN PGP MESSAGE-----");
	const char *e = b ? strstr(b, "-----END PGP MESSAGE-----") : NULL;
	char *out;

	if (e == NULL)
		return NULL;
	e += strlen("-----END PGP MESSAGE-----");
	*len_r = (size_t)(e - b);
	out = malloc(*len_r + 1);
	memcpy(out, b, *len_r);
	out[*len_r] = '\0';
	return out;
}

static const struct {
	const char *eml;
	int rc;
	enum pgp_status status;
	const char *text;	/* in the plaintext */
} tb_msgs[] = {
	{ "unsigned-encrypted-to-0xf231550c4f47e38e-from-0xfbfcc82a015e7330.eml",
	    0, PGP_E_OK, "Content-Type" },
	{ "encrypted-to-alice-as-hidden-recipient.eml", 0, PGP_E_OK,
	    "Content-Type" },
	{ "enc-to-carol@pgp.icu-revoked.eml", -1, PGP_E_NO_KEY, NULL },
};

START_TEST(tb_messages)
{
	struct pgp_result res;
	struct buf out;
	const char *error = "";
	char rel[256], *eml, *blk;
	size_t len, blen;
	int rc;

	if (tu_corpora() == NULL)
		return;
	snprintf(rel, sizeof(rel), "eml/%s", tb_msgs[_i].eml);
	eml = tb_file(rel, &len);
	ck_assert_msg(eml != NULL, "missing %s", rel);
	blk = armored_block(eml, &blen);
	ck_assert_ptr_nonnull(blk);
	buf_init(&out, 0);
	rc = pgp_decrypt(tb_kr, NULL, blk, blen, &out, &res, &error);
	ck_assert_msg(rc == tb_msgs[_i].rc && res.status == tb_msgs[_i].status,
	    "%s: got %d/%s (%s), want %d/%s", rel, rc,
	    pgp_status_name(res.status), error, tb_msgs[_i].rc,
	    pgp_status_name(tb_msgs[_i].status));
	ck_assert_uint_eq(res.nsigs, 0);
	if (tb_msgs[_i].text != NULL)
		ck_assert_msg(strstr(out.data, tb_msgs[_i].text) != NULL,
		    "%s: plaintext lacks '%s'", rel, tb_msgs[_i].text);
	else
		ck_assert_uint_eq(out.len, 0);
	if (rc == 0)
		ck_assert_str_ne(res.decrypt_keyid, "");
	pgp_result_release(&res);
	buf_release(&out);
	free(blk);
	free(eml);
}
END_TEST

/* Key metadata: want emails (comma-joined), caps, flags. */
static const struct {
	const char *file;
	int import_rc;
	const char *emails;
	unsigned caps;
	int revoked, expired;
} tb_keys[] = {
	{ "heisenberg-signed-by-pinkman.asc", 0, "heisenberg@example.com",
	    PGP_CAP_ENCRYPT | PGP_CAP_SIGN | PGP_CAP_CERTIFY, 0, 0 },
	{ "eddie@openpgp.example-0x15e9357d2c2395c0-pub.asc", 0,
	    "eddie@openpgp.example", 0, 0, 1 },
	{ "expired-enc-subkey.pub.asc", 0,
	    "expired-enc-subkey@example.org",
	    PGP_CAP_SIGN | PGP_CAP_CERTIFY, 0, 0 },
	{ "sign-subkey-only-pub.asc", 0, "sign-subkey-only@openpgp.example",
	    PGP_CAP_SIGN | PGP_CAP_CERTIFY, 0, 0 },
	{ "revoked-then-signed.pgp", 0, "", 0, 1, 0 },
	{ "invalid-pubkey-nosigs.pgp", -1, NULL, 0, 0, 0 },
};

START_TEST(tb_key_meta)
{
	struct pgp_keyinfo *keys = NULL;
	char rel[256], *data, **fprs = NULL, joined[512] = "";
	size_t len, n = 0, nf = 0, i;
	const char *error = "";
	int rc;

	if (tu_corpora() == NULL)
		return;
	snprintf(rel, sizeof(rel), "keys/%s", tb_keys[_i].file);
	data = tb_file(rel, &len);
	ck_assert_msg(data != NULL, "missing %s", rel);
	rc = pgp_keyring_import(tb_kr, data, len, NULL, &fprs, &nf, &error);
	free(data);
	ck_assert_msg(rc == tb_keys[_i].import_rc, "%s: import got %d (%s)",
	    rel, rc, error);
	if (rc < 0)
		return;
	ck_assert_uint_eq(nf, 1);
	ck_assert_int_eq(pgp_keyring_list(tb_kr, fprs[0], &keys, &n, &error),
	    0);
	ck_assert_uint_eq(n, 1);
	for (i = 0; i < keys[0].nemails; i++) {
		if (i > 0)
			strcat(joined, ",");
		strncat(joined, keys[0].emails[i], 200);
	}
	ck_assert_msg(strcmp(joined, tb_keys[_i].emails) == 0,
	    "%s: got emails '%s', want '%s'", rel, joined, tb_keys[_i].emails);
	ck_assert_msg(keys[0].caps == tb_keys[_i].caps,
	    "%s: got caps %u, want %u", rel, keys[0].caps, tb_keys[_i].caps);
	ck_assert_int_eq(keys[0].revoked, tb_keys[_i].revoked);
	ck_assert_int_eq(keys[0].expired, tb_keys[_i].expired);
	ck_assert_int_eq(keys[0].secret, 0);
	pgp_keyinfo_free_array(&keys, n);
	str_array_free(&fprs, nf);
}
END_TEST

/* --- gnupg test-suite samples ------------------------------------------ */

static char *gs_tdir, *gs_home;
static struct pgp_keyring *gs_kr;

static void
gs_setup(void)
{
	const char *error;
	char cmd[4096], *data, *path;
	size_t len;

	if (tu_corpora() == NULL)
		return;
	gs_tdir = tu_tmpdir();
	gs_home = tu_path(gs_tdir, "g");
	/* The samples' secret keys are unprotected gpg-agent key files:
	 * load them into a scratch home with the gpg CLI and export them
	 * as OpenPGP secret keys, which we import (re-protected). */
	snprintf(cmd, sizeof(cmd), "set -e; k=%s/gnupg/openpgp/keys; "
	    "h=%s/s; mkdir -m 700 $h $h/private-keys-v1.d; "
	    "gpg --homedir $h --batch -q --import "
	    "$k/ed25519-cv25519-sample-1.asc $k/rsa-rsa-sample-1.asc "
	    "2>/dev/null; for f in $k/privkeys-agent/*.asc; do "
	    "gpg --dearmor < $f > $h/private-keys-v1.d/$(basename $f .asc).key;"
	    " done; gpg --homedir $h --batch --pinentry-mode loopback "
	    "--passphrase '' --export-secret-keys > %s/sec.gpg; "
	    "gpgconf --homedir $h --kill gpg-agent", tu_corpora(), gs_tdir,
	    gs_tdir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(pgp_keyring_open(&gs_kr, gs_home, PW, &error), 0);
	path = tu_path(gs_tdir, "sec.gpg");
	data = tu_read_file(path, &len);
	free(path);
	ck_assert_ptr_nonnull(data);
	/* unprotected secret keys: import passphrase "" */
	ck_assert_msg(pgp_keyring_import(gs_kr, data, len, "", NULL, NULL,
	    &error) == 0, "%s", error);
	free(data);
}

static void
gs_teardown(void)
{
	const char *error;

	if (gs_tdir == NULL)
		return;
	pgp_keyring_free(&gs_kr);
	pgp_keyring_stop_agent(gs_home, &error);
	free(gs_home);
	tu_tmpdir_free(&gs_tdir);
}

#define KEY1 "139563682A020D0A"
#define KEY2 "AA43F1DCC7FED1B7"

static const struct {
	const char *file;
	enum op op;
	int detached;		/* verify over signed-data-1.txt */
	int rc;
	int nsigs;		/* all valid when > 0 */
	int plain;
} gs_cases[] = {
	{ "enc-1-key-1.asc", DEC, 0, 0, 0, 1 },
	{ "enc-1-key-1.gpg", DEC, 0, 0, 0, 1 },
	{ "encz0-1-key-1.asc", DEC, 0, 0, 0, 1 },
	{ "enc-1-key-2.asc", DEC, 0, 0, 0, 1 },
	{ "enc-2-keys-1.gpg", DEC, 0, 0, 0, 1 },
	{ "enc-2-keys-hh-1.asc", DEC, 0, 0, 0, 1 },	/* hidden ids */
	{ "enc-2-keys-hr-1.asc", DEC, 0, 0, 0, 1 },
	{ "encsig-2-keys-1.asc", DEC, 0, 0, 1, 1 },
	{ "encsig-2-2-keys-3.gpg", DEC, 0, 0, 2, 1 },
	{ "enc-sym-cfb-1.asc", DEC, 0, -1, 0, 0 },	/* no passphrase */
	{ "issue2419.asc", DEC, 0, -1, 0, 0 },
	{ "signed-1-key-1.asc", VER, 0, 0, 1, 1 },
	{ "signed-2-keys-1.gpg", VER, 0, 0, 2, 1 },
	{ "signedz0-1-key-2.gpg", VER, 0, 0, 1, 1 },
	{ "clearsig-2-keys-1.asc", VER, 0, 0, 2, 1 },
	{ "sig-1-key-1.sig", VER, 1, 0, 1, 0 },
	{ "sig-2-keys-2.asc", VER, 1, 0, 2, 0 },
};

START_TEST(gs_messages)
{
	struct pgp_result res;
	struct buf out;
	const char *error = "";
	char rel[256], *data, *text = NULL;
	size_t len, tlen = 0, i;
	int rc;

	if (tu_corpora() == NULL)
		return;
	snprintf(rel, sizeof(rel), "%s/gnupg/openpgp/samplemsgs/%s",
	    tu_corpora(), gs_cases[_i].file);
	data = tu_read_file(rel, &len);
	ck_assert_msg(data != NULL, "missing %s", rel);
	buf_init(&out, 0);
	if (gs_cases[_i].detached) {
		snprintf(rel, sizeof(rel), "%s/gnupg/openpgp/samplemsgs/"
		    "signed-data-1.txt", tu_corpora());
		text = tu_read_file(rel, &tlen);
		ck_assert_ptr_nonnull(text);
	}
	if (gs_cases[_i].op == DEC)
		rc = pgp_decrypt(gs_kr, NULL, data, len, &out, &res, &error);
	else
		rc = pgp_verify(gs_kr, NULL, data, len, text, tlen,
		    text ? NULL : &out, &res, &error);
	ck_assert_msg(rc == gs_cases[_i].rc, "%s: got %d (%s, %s), want %d",
	    gs_cases[_i].file, rc, pgp_status_name(res.status), error,
	    gs_cases[_i].rc);
	ck_assert_msg((int)res.nsigs == gs_cases[_i].nsigs,
	    "%s: got %zu signatures, want %d", gs_cases[_i].file, res.nsigs,
	    gs_cases[_i].nsigs);
	for (i = 0; i < res.nsigs; i++) {
		ck_assert_msg(res.sigs[i].status == PGP_SIG_VALID,
		    "%s: signature %zu: %s", gs_cases[_i].file, i,
		    pgp_sig_status_name(res.sigs[i].status));
		ck_assert_msg(strcmp(res.sigs[i].keyid, KEY1) == 0 ||
		    strcmp(res.sigs[i].keyid, KEY2) == 0 ||
		    res.sigs[i].primary_fpr[0] != '\0', "%s: signer %s",
		    gs_cases[_i].file, res.sigs[i].keyid);
		ck_assert_uint_eq(res.sigs[i].nemails, 1);
	}
	ck_assert_int_eq(out.len > 0, gs_cases[_i].plain);
	pgp_result_release(&res);
	/* a detached signature over other data is bad */
	if (text != NULL) {
		text[0] ^= 1;
		ck_assert_int_eq(pgp_verify(gs_kr, NULL, data, len, text, tlen,
		    NULL, &res, &error), 0);
		ck_assert_uint_ge(res.nsigs, 1);
		ck_assert_int_eq(res.sigs[0].status, PGP_SIG_BAD);
		ck_assert_int_eq(pgp_result_all_valid(&res), 0);
		pgp_result_release(&res);
	}
	buf_release(&out);
	free(text);
	free(data);
}
END_TEST

Suite *
pgp_corpus_suite(void)
{
	Suite *s = suite_create("pgp_corpus");
	TCase *tc = tcase_create("rnp");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, rnp_messages, 0,
	    sizeof(cases) / sizeof(*cases));
	tcase_add_test(tc, rnp_keys);
	suite_add_tcase(s, tc);
	tc = tcase_create("thunderbird");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, tb_setup, tb_teardown);
	tcase_add_loop_test(tc, tb_messages, 0,
	    sizeof(tb_msgs) / sizeof(*tb_msgs));
	tcase_add_loop_test(tc, tb_key_meta, 0,
	    sizeof(tb_keys) / sizeof(*tb_keys));
	suite_add_tcase(s, tc);
	tc = tcase_create("gnupg");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, gs_setup, gs_teardown);
	tcase_add_loop_test(tc, gs_messages, 0,
	    sizeof(gs_cases) / sizeof(*gs_cases));
	suite_add_tcase(s, tc);
	return s;
}
