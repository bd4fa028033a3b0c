/*
 * The inbound pipeline (inbound.c, as the milter runs it through
 * msgctx) on OpenPGP mail: the pgp.* settings, the keystore's trust
 * flag, the subject tags, key import from mail, and the failures that
 * must tempfail.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "inbound.h"
#include "msgctx.h"
#include "pgp_keyring.h"
#include "pgp_keystore.h"
#include "pgp_msg.h"
#include "settings.h"
#include "store.h"
#include "store_pgp.h"
#include "testutil.h"

#define PW "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

static char *dir, *home, *home2;
static struct config *cfg;
static struct store *st;
static struct pgp_keyring *kr, *kr2;
static char alice[PGP_FPR_MAX + 1], dave[PGP_FPR_MAX + 1];

static void
setup(void)
{
	const char *error;
	char *db, *tmp;

	dir = tu_tmpdir();
	db = tu_path(dir, "p.db");
	tmp = tu_path(dir, "tmp");
	home = tu_path(dir, "g");
	home2 = tu_path(dir, "g2");
	cfg = config_defaults();
	ck_assert_int_eq(config_set(cfg, "database", db, &error), 0);
	ck_assert_int_eq(config_set(cfg, "temp_directory", tmp, &error), 0);
	ck_assert_msg(store_open(&st, db, 5000, STORE_CREATE, &error) == 0,
	    "%s", error);
	ck_assert_int_eq(settings_set(st, NULL, ADDRESS_LEVEL_DOMAIN,
	    "example.org", "locality", "internal", &error), 0);
	/* alice: an internal user with her key, trusted */
	ck_assert_int_eq(pgp_keyring_open(&kr, home, PW, &error), 0);
	ck_assert_msg(pgp_keyring_generate(kr, "Alice <alice@example.org>",
	    "ed25519", alice, &error) == 0, "%s", error);
	ck_assert_int_eq(pgp_keystore_sync(kr, st, NULL, NULL, &error), 0);
	ck_assert_int_eq(store_pgp_set_trusted(st, alice, 1, &error), 0);
	/* dave: an outside key in another keyring (his key goes by mail) */
	ck_assert_int_eq(pgp_keyring_open(&kr2, home2, PW, &error), 0);
	ck_assert_msg(pgp_keyring_generate(kr2, "Dave <dave@example.net>",
	    "ed25519", dave, &error) == 0, "%s", error);
	free(db);
	free(tmp);
}

static void
teardown(void)
{
	const char *error;

	pgp_keyring_free(&kr);
	pgp_keyring_free(&kr2);
	pgp_keyring_stop_agent(home, &error);
	pgp_keyring_stop_agent(home2, &error);
	store_free(&st);
	config_free(&cfg);
	free(home);
	free(home2);
	tu_tmpdir_free(&dir);
}

/* The offline path: the whole message in, the result message out. */
static int
run(const char *msg, struct pgp_keyring *k, const char *kr_error,
    struct buf *out, char **log_r, const char **error_r)
{
	struct inbound_env env = { .cfg = cfg, .st = st, .kr = k,
	    .kr_error = kr_error };
	struct msgctx *m = msgctx_new(cfg, "dave@example.net");
	int rc;

	ck_assert_ptr_nonnull(m);
	msgctx_set_qid(m, "4F00AB");
	ck_assert_int_eq(msgctx_rcpt(m, "<alice@example.org>", error_r), 0);
	ck_assert_int_eq(msgctx_raw(m, msg, strlen(msg), error_r), 0);
	buf_reset(out);
	rc = msgctx_eom(m, &env, out, error_r);
	*log_r = strdup(m->result.log.data != NULL ? m->result.log.data : "");
	msgctx_free(&m);
	return rc;
}

static const char plain[] =
    "From: Alice <alice@example.org>\r\n"
    "To: alice@example.org\r\n"
    "Subject: figures\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "The figures are fine.\r\n";

static void
outbound(int encrypt, const char *msg, struct buf *out)
{
	const char *fprs[1] = { alice };
	const char *error = "";

	buf_init(out, 0);
	if (encrypt)
		ck_assert_msg(pgp_msg_encrypt(kr, msg, strlen(msg), fprs, 1,
		    alice, NULL, out, &error) == PGP_MSG_OK, "%s", error);
	else
		ck_assert_msg(pgp_msg_sign(kr, msg, strlen(msg), alice, NULL,
		    out, &error) == PGP_MSG_OK, "%s", error);
}

START_TEST(decrypts_and_tags)
{
	struct buf enc, out;
	const char *error = "";
	char *log;

	outbound(1, plain, &enc);
	buf_init(&out, 0);
	ck_assert_msg(run(enc.data, kr, NULL, &out, &log, &error) ==
	    INBOUND_OK, "%s", error);
	ck_assert_ptr_nonnull(strstr(out.data, "The figures are fine."));
	ck_assert_ptr_nonnull(strstr(out.data, "Subject: figures [decrypted]"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "X-Postern-Info-PGP-Signature-Valid-0-0: True"));
	ck_assert_ptr_null(strstr(out.data, "BEGIN PGP MESSAGE"));
	ck_assert_msg(strstr(log, "found=pgp-mime-encrypted") != NULL &&
	    strstr(log, "pgp=decrypted,signed-valid") != NULL &&
	    strstr(log, "action=decrypted") != NULL, "got %s", log);
	free(log);
	buf_release(&enc);
	buf_release(&out);
}
END_TEST

START_TEST(signed_tags)
{
	struct buf sig, out;
	const char *error = "";
	char *log, *mis;

	outbound(0, plain, &sig);
	buf_init(&out, 0);
	ck_assert_int_eq(run(sig.data, kr, NULL, &out, &log, &error),
	    INBOUND_OK);
	ck_assert_ptr_nonnull(strstr(out.data, "Subject: figures [signed]"));
	ck_assert_msg(strstr(log, "action=verified") != NULL, "got %s", log);
	free(log);
	/* by someone else than From: "signed by" */
	mis = strdup(sig.data);
	memcpy(strstr(mis, "From: Alice <alice@example.org>"),
	    "From: Alice <alica@example.org>", 31);
	ck_assert_int_eq(run(mis, kr, NULL, &out, &log, &error), INBOUND_OK);
	ck_assert_ptr_nonnull(strstr(out.data,
	    "[signed by: alice@example.org]"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "X-Postern-Info-PGP-Signer-Mismatch: True"));
	free(log);
	free(mis);
	/* untrusted key: invalid */
	ck_assert_int_eq(store_pgp_set_trusted(st, alice, 0, &error), 0);
	ck_assert_int_eq(run(sig.data, kr, NULL, &out, &log, &error),
	    INBOUND_OK);
	ck_assert_ptr_nonnull(strstr(out.data, "[invalid signature!]"));
	ck_assert_ptr_nonnull(strstr(out.data, "key not trusted"));
	free(log);
	buf_release(&sig);
	buf_release(&out);
}
END_TEST

START_TEST(failures)
{
	struct buf enc, out;
	const char *error = "";
	char *log;

	outbound(1, plain, &enc);
	buf_init(&out, 0);
	/* no keyring: tempfail with the reason, nothing out */
	ck_assert_int_eq(run(enc.data, NULL, "cannot open '/x'", &out, &log,
	    &error), INBOUND_TEMPFAIL);
	ck_assert_msg(strstr(error, "no OpenPGP keyring: cannot open") !=
	    NULL, "got %s", error);
	free(log);
	/* plain mail does not need it */
	ck_assert_int_eq(run(plain, NULL, "x", &out, &log, &error),
	    INBOUND_OK);
	free(log);
	/* the store says alice's secret key is ours, gpg cannot find it
	 * (a damaged home): tempfail, never passed as "no key" */
	ck_assert_int_eq(run(enc.data, kr2, NULL, &out, &log, &error),
	    INBOUND_TEMPFAIL);
	ck_assert_msg(strstr(error, "keyring or agent failure") != NULL,
	    "got %s", error);
	free(log);
	/* pgp.enabled false: left encrypted, said so */
	ck_assert_int_eq(settings_set(st, NULL, ADDRESS_LEVEL_GLOBAL, "",
	    "pgp.enabled", "false", &error), 0);
	ck_assert_int_eq(run(enc.data, kr, NULL, &out, &log, &error),
	    INBOUND_OK);
	ck_assert_ptr_nonnull(strstr(out.data, "BEGIN PGP MESSAGE"));
	ck_assert_ptr_nonnull(strstr(out.data, "X-Postern-Info-Decryption-"
	    "Skipped: OpenPGP is disabled (pgp.enabled)"));
	ck_assert_ptr_null(strstr(out.data, "[decrypted]"));
	free(log);
	buf_release(&enc);
	buf_release(&out);
}
END_TEST

START_TEST(keys_from_mail)
{
	struct store_pgp_row row;
	struct buf msg, out;
	const char *error = "";
	char *key, *log;
	size_t kl;

	ck_assert_int_eq(pgp_keyring_export(kr2, dave, 0, 1, &key, &kl,
	    &error), 0);
	buf_init(&msg, 0);
	buf_init(&out, 0);
	buf_printf(&msg, "From: dave@example.net\r\nTo: alice@example.org\r\n"
	    "Subject: my key\r\nContent-Type: multipart/mixed; boundary=k\r\n"
	    "\r\n--k\r\nContent-Type: text/plain\r\n\r\nHere it is.\r\n"
	    "--k\r\nContent-Type: application/pgp-keys\r\n\r\n%s\r\n--k--\r\n",
	    key);
	/* off by default: nothing imported */
	ck_assert_int_eq(run(msg.data, kr, NULL, &out, &log, &error),
	    INBOUND_OK);
	ck_assert_int_eq(store_pgp_get(st, dave, &row, &error), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "application/pgp-keys"));
	free(log);
	ck_assert_int_eq(settings_set(st, NULL, ADDRESS_LEVEL_GLOBAL, "",
	    "pgp.import-keys-from-mail", "true", &error), 0);
	ck_assert_int_eq(settings_set(st, NULL, ADDRESS_LEVEL_GLOBAL, "",
	    "pgp.remove-keys-from-mail", "true", &error), 0);
	ck_assert_int_eq(run(msg.data, kr, NULL, &out, &log, &error),
	    INBOUND_OK);
	ck_assert_msg(strstr(log, "pgp-imported=1") != NULL &&
	    strstr(log, "pgp-keys=removed") != NULL, "got %s", log);
	ck_assert_ptr_null(strstr(out.data, "application/pgp-keys"));
	ck_assert_ptr_nonnull(strstr(out.data, "Here it is."));
	/* in the keyring and the mirror, untrusted */
	memset(&row, 0, sizeof(row));
	ck_assert_int_eq(store_pgp_get(st, dave, &row, &error), 1);
	ck_assert_int_eq(row.trusted, 0);
	ck_assert_int_eq(row.has_secret, 0);
	store_pgp_row_release(&row);
	free(log);
	free(key);
	buf_release(&msg);
	buf_release(&out);
}
END_TEST

Suite *
inbound_pgp_suite(void)
{
	Suite *s = suite_create("inbound_pgp");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, decrypts_and_tags);
	tcase_add_test(tc, signed_tags);
	tcase_add_test(tc, failures);
	tcase_add_test(tc, keys_from_mail);
	suite_add_tcase(s, tc);
	return s;
}
