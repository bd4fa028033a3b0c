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
	return s;
}
