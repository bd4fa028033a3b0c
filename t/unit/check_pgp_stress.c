/*
 * Keyring concurrency: feasibility §3 measured 9 failed readers of 24
 * while another process imported and deleted keys.  Here 4 reader
 * processes decrypt and verify in a loop while a writer process imports
 * and deletes 8 unrelated keys WRITER_ROUNDS times (readers run until
 * the writer is done; MAX_SECONDS bounds the writer, which must finish
 * at least one round); every reader
 * operation must succeed (the flock read/write lock).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "pgp.h"
#include "pgp_keyring.h"
#include "testutil.h"

#define PW "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define WRITER_ROUNDS 6
#define MAX_SECONDS 40
#define READERS 4

static char *stopfile;	/* created when the writer is done */

static int
reader(const char *home, const char *fpr, const char *ct, size_t ctlen,
    const char *sig, size_t siglen, const char *msg)
{
	struct pgp_keyring *kr = NULL;
	struct pgp_result res;
	struct buf out;
	const char *error;
	time_t end = time(NULL) + MAX_SECONDS;
	int fails = 0, ops = 0;

	(void)fpr;
	if (pgp_keyring_open(&kr, home, PW, &error) < 0)
		return 100;
	buf_init(&out, 0);
	while (time(NULL) < end && (ops < 2 || access(stopfile, F_OK) < 0)) {
		if (pgp_decrypt(kr, NULL, ct, ctlen, &out, &res, &error) < 0 ||
		    strcmp(out.data, msg) != 0 || !pgp_result_all_valid(&res)) {
			fprintf(stderr, "reader %d: decrypt: %s\n",
			    (int)getpid(), error);
			fails++;
		}
		pgp_result_release(&res);
		if (pgp_verify(kr, NULL, sig, siglen, msg, strlen(msg), NULL,
		    &res, &error) < 0 || !pgp_result_all_valid(&res)) {
			fprintf(stderr, "reader %d: verify: %s\n",
			    (int)getpid(), error);
			fails++;
		}
		pgp_result_release(&res);
		ops += 2;
	}
	buf_release(&out);
	pgp_keyring_free(&kr);
	fprintf(stderr, "pgp_stress: reader %d: %d operations, %d failed\n",
	    (int)getpid(), ops, fails);
	if (ops < 2)
		return 101;
	return fails > 99 ? 99 : fails;
}

static int
writer(const char *home, const char *blob, size_t len)
{
	struct pgp_keyring *kr = NULL;
	const char *error;
	time_t end = time(NULL) + MAX_SECONDS;
	char **fprs = NULL;
	size_t n = 0, i;
	int rounds = 0;

	if (pgp_keyring_open(&kr, home, PW, &error) < 0)
		return 100;
	while (time(NULL) < end && rounds < WRITER_ROUNDS) {
		if (pgp_keyring_import(kr, blob, len, NULL, &fprs, &n,
		    &error) < 0) {
			fprintf(stderr, "writer: %s\n", error);
			return 102;
		}
		for (i = 0; i < n; i++)
			if (pgp_keyring_delete(kr, fprs[i], &error) < 0) {
				fprintf(stderr, "writer: %s\n", error);
				return 103;
			}
		str_array_free(&fprs, i);
		rounds++;
	}
	pgp_keyring_free(&kr);
	fprintf(stderr, "pgp_stress: writer: %d rounds of import+delete of "
	    "%zu keys\n", rounds, n);
	/* Natively all rounds finish in seconds; under valgrind on a
	 * loaded machine the time bound may stop it earlier. */
	return rounds >= 1 ? 0 : 104;
}

START_TEST(readers_during_writes)
{
	char *tdir = tu_tmpdir(), *home = tu_path(tdir, "g");
	char *ext = tu_path(tdir, "x"), *blobpath = tu_path(tdir, "keys");
	char fpr[PGP_FPR_MAX + 1], cmd[2048];
	const char *msg = "stress test message\n";
	const char *fprs[1] = { fpr };
	struct pgp_keyring *kr = NULL;
	struct buf ct, sig;
	const char *error;
	pid_t pids[READERS + 1];
	char *blob;
	size_t bloblen;
	int i, total = 0;

	ck_assert_int_eq(pgp_keyring_open(&kr, home, PW, &error), 0);
	ck_assert_int_eq(pgp_keyring_generate(kr, "<stress@example.org>",
	    "ed25519", fpr, &error), 0);
	buf_init(&ct, 0);
	buf_init(&sig, 0);
	ck_assert_int_eq(pgp_encrypt(kr, fprs, 1, fpr, NULL, msg, strlen(msg),
	    &ct, &error), 0);
	ck_assert_int_eq(pgp_sign(kr, fpr, PGP_SIG_DETACH, NULL, msg,
	    strlen(msg), &sig, &error), 0);
	pgp_keyring_free(&kr);
	/* 8 unrelated public keys for the writer */
	ck_assert_int_eq(mkdir(ext, 0700), 0);
	for (i = 0; i < 8; i++) {
		snprintf(cmd, sizeof(cmd), "gpg --homedir %s --batch -q "
		    "--passphrase '' --pinentry-mode loopback --quick-gen-key "
		    "'<w%d@example.net>' ed25519 default never 2>/dev/null",
		    ext, i);
		ck_assert_int_eq(system(cmd), 0);
	}
	snprintf(cmd, sizeof(cmd), "gpg --homedir %s --batch -q --export "
	    "> %s && gpgconf --homedir %s --kill gpg-agent", ext, blobpath,
	    ext);
	ck_assert_int_eq(system(cmd), 0);
	blob = tu_read_file(blobpath, &bloblen);
	ck_assert_ptr_nonnull(blob);

	stopfile = tu_path(tdir, "stop");
	fflush(NULL);
	for (i = 0; i <= READERS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0)
			tu_child_exit(i == READERS ? writer(home, blob, bloblen) :
			    reader(home, fpr, ct.data, ct.len, sig.data,
			    sig.len, msg));
	}
	/* the writer first; then tell the readers to stop */
	for (i = READERS; i >= 0; i--) {
		int st;

		ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
		if (i == READERS)
			ck_assert_int_eq(tu_write_file(stopfile, ""), 0);
		ck_assert_msg(WIFEXITED(st), "child %d crashed", i);
		if (i == READERS)
			ck_assert_msg(WEXITSTATUS(st) == 0, "writer failed: "
			    "%d", WEXITSTATUS(st));
		else
			total += WEXITSTATUS(st);
	}
	ck_assert_msg(total == 0, "got %d failed reader operations, want 0",
	    total);
	pgp_keyring_stop_agent(home, &error);
	buf_release(&ct);
	buf_release(&sig);
	free(blob);
	free(blobpath);
	free(stopfile);
	free(ext);
	free(home);
	tu_tmpdir_free(&tdir);
}
END_TEST

Suite *
pgp_stress_suite(void)
{
	Suite *s = suite_create("pgp_stress");
	TCase *tc = tcase_create("lock");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, readers_during_writes);
	suite_add_tcase(s, tc);
	return s;
}
