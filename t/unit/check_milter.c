/*
 * The milter's end-of-message path without libmilter: msgctx collects a
 * message as the callbacks would, msgctx_eom() runs the inbound path and
 * computes the edits; the tests check the edits a real MTA would get.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "config.h"
#include "edit.h"
#include "inbound.h"
#include "mime.h"
#include "msgctx.h"
#include "settings.h"
#include "store.h"
#include "testutil.h"

static char *dir;
static struct config *cfg;
static struct store *st;

static void
setup(void)
{
	const char *error;
	char *db, *tmp;

	dir = tu_tmpdir();
	db = tu_path(dir, "p.db");
	tmp = tu_path(dir, "tmp");
	cfg = config_defaults();
	ck_assert_int_eq(config_set(cfg, "database", db, &error), 0);
	ck_assert_int_eq(config_set(cfg, "temp_directory", tmp, &error), 0);
	ck_assert_msg(store_open(&st, db, 5000, STORE_CREATE, &error) == 0,
	    "%s", error);
	ck_assert_msg(settings_set(st, NULL, ADDRESS_LEVEL_DOMAIN,
	    "example.org", "locality", "internal", &error) == 0, "%s", error);
	free(db);
	free(tmp);
}

static void
teardown(void)
{
	store_free(&st);
	config_free(&cfg);
	tu_tmpdir_free(&dir);
}

struct hdr {
	const char *name, *value;
};

/* Envelope and header fields the way libmilter hands them over. */
static struct msgctx *
feed_head(const struct hdr *h, const char *const *rcpts)
{
	struct msgctx *m = msgctx_new(cfg, "alice@example.com");
	const char *error;

	ck_assert_ptr_nonnull(m);
	msgctx_set_qid(m, "4F00AA");
	for (; *rcpts != NULL; rcpts++)
		ck_assert_int_eq(msgctx_rcpt(m, *rcpts, &error), 0);
	for (; h->name != NULL; h++)
		ck_assert_int_eq(msgctx_header(m, h->name, h->value, &error),
		    0);
	ck_assert_int_eq(msgctx_eoh(m, &error), 0);
	return m;
}

/* ... and the body in chunks of chunk bytes (0: all at once). */
static struct msgctx *
feed(const struct hdr *h, const char *body, size_t chunk,
    const char *const *rcpts)
{
	struct msgctx *m = feed_head(h, rcpts);
	const char *error;
	size_t off, len = strlen(body);

	if (chunk == 0)
		chunk = len ? len : 1;
	for (off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		ck_assert_int_eq(msgctx_body(m, body + off, n, &error), 0);
	}
	return m;
}

static void
eom(struct msgctx *m)
{
	struct inbound_env env = { .cfg = cfg, .st = st };
	const char *error = NULL;

	ck_assert_msg(msgctx_eom(m, &env, NULL, &error) == INBOUND_OK,
	    "eom: %s", error);
}

/* Find edit op on name (case-insensitive) with index; NULL if none. */
static const struct edit *
find_edit(const struct msgctx *m, enum edit_op op, const char *name,
    int index)
{
	size_t i;

	for (i = 0; i < m->edits.n; i++) {
		const struct edit *e = &m->edits.v[i];

		if (e->op == op && strcasecmp(e->name, name) == 0 &&
		    (index == 0 || e->index == index))
			return e;
	}
	return NULL;
}

static const struct hdr forged[] = {
	{ "Received", "from mx.example.com by gw" },
	{ "From", "Alice <alice@example.com>" },
	{ "To", "bob@example.org" },
	{ "Subject", "hello" },
	{ "X-Postern-Info-Signer-Verified-0-0", "True" },
	{ "x-postern-info-smime-signed", "True" },
	{ "X-Postern-Info-Signer-Verified-0-0", "True" },
	{ "X-CipherMail-Info-SMIME-Encrypted", "True" },
	{ "X-Postern-Information", "not ours: a different name" },
	{ NULL, NULL },
};

static const char *const rcpt_internal[] = { "<bob@example.org>", NULL };
static const char *const rcpt_mixed[] = { "<bob@example.org>",
	"<carol@example.net>", NULL };

START_TEST(forged_info_headers_removed)
{
	struct msgctx *m = feed(forged, "plain text\r\n", 0, rcpt_internal);

	eom(m);
	/* both occurrences, the higher index first */
	ck_assert_ptr_nonnull(find_edit(m, EDIT_DELETE,
	    "X-Postern-Info-Signer-Verified-0-0", 2));
	ck_assert_ptr_nonnull(find_edit(m, EDIT_DELETE,
	    "X-Postern-Info-Signer-Verified-0-0", 1));
	ck_assert_ptr_nonnull(find_edit(m, EDIT_DELETE,
	    "X-Postern-Info-SMIME-Signed", 1));
	ck_assert_ptr_nonnull(find_edit(m, EDIT_DELETE,
	    "X-CipherMail-Info-SMIME-Encrypted", 1));
	ck_assert_ptr_null(find_edit(m, EDIT_DELETE, "X-Postern-Information",
	    0));
	ck_assert_ptr_null(find_edit(m, EDIT_DELETE, "Subject", 0));
	ck_assert_ptr_null(find_edit(m, EDIT_ADD, "X-Postern-Info-SMIME-Signed",
	    0));
	ck_assert_uint_eq(m->edits.n, 4);
	ck_assert_int_eq(m->edits.replace_body, 0);
	ck_assert_msg(strstr(m->result.log.data, "found=none action=none "
	    "stripped=4 rcpt=<bob@example.org>") != NULL, "got %s",
	    m->result.log.data);
	/* deletes come highest index first */
	{
		size_t i, first = 99, second = 99;

		for (i = 0; i < m->edits.n; i++) {
			const struct edit *e = &m->edits.v[i];

			if (strcasecmp(e->name,
			    "X-Postern-Info-Signer-Verified-0-0") != 0)
				continue;
			if (e->index == 2)
				first = i;
			else
				second = i;
		}
		ck_assert_uint_lt(first, second);
	}
	msgctx_free(&m);
	ck_assert_ptr_null(m);
}
END_TEST

static const struct hdr smime_hdrs[] = {
	{ "From", "alice@example.com" },
	{ "To", "bob@example.org, carol@example.net" },
	{ "Subject", "secret" },
	{ "MIME-Version", "1.0" },
	{ "Content-Type", "application/pkcs7-mime; smime-type=enveloped-data;\n"
	    "\tname=\"smime.p7m\"" },
	{ "Content-Transfer-Encoding", "base64" },
	{ "X-Postern-Info-SMIME-Encrypted", "forged" },
	{ NULL, NULL },
};

START_TEST(external_recipient_stays_encrypted)
{
	struct msgctx *m = feed(smime_hdrs, "MIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n",
	    0, rcpt_mixed);
	const struct edit *e;

	eom(m);
	e = find_edit(m, EDIT_ADD, "X-Postern-Info-Decryption-Skipped", 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->value, "recipient carol@example.net is not "
	    "internal");
	ck_assert_ptr_nonnull(find_edit(m, EDIT_DELETE,
	    "X-Postern-Info-SMIME-Encrypted", 1));
	ck_assert_ptr_null(find_edit(m, EDIT_CHANGE, "Content-Type", 0));
	ck_assert_int_eq(m->edits.replace_body, 0);
	ck_assert_msg(strstr(m->result.log.data, "found=smime-enveloped "
	    "action=pass reason=\"recipient carol@example.net is not "
	    "internal\"") != NULL, "got %s", m->result.log.data);
	msgctx_free(&m);
}
END_TEST

/* The result must not depend on how the body was chunked. */
START_TEST(chunking_independent)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 64, 0 };
	const char *body = "line one\r\nline two\r\n-- \r\nsig\r\n";
	size_t i;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct msgctx *m = feed(forged, body, chunks[i],
		    rcpt_internal);

		eom(m);
		ck_assert_msg(m->edits.n == 4, "chunk %zu: got %zu edits",
		    chunks[i], m->edits.n);
		ck_assert_int_eq(m->edits.replace_body, 0);
		msgctx_free(&m);
	}
}
END_TEST

START_TEST(too_big_passes_with_header)
{
	const char *error;
	struct msgctx *m;
	char body[4096];
	const struct edit *e;

	ck_assert_int_eq(config_set(cfg, "milter_max_message_size", "1k",
	    &error), 0);
	memset(body, 'x', sizeof(body) - 3);
	memcpy(body + sizeof(body) - 3, "\r\n", 3);
	m = feed(forged, body, 100, rcpt_internal);
	ck_assert_int_eq(m->too_big, 1);
	eom(m);
	e = find_edit(m, EDIT_ADD, "X-Postern-Info-Skipped", 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->value, "message too large");
	/* forged headers are still removed, the body is untouched */
	ck_assert_ptr_nonnull(find_edit(m, EDIT_DELETE,
	    "X-CipherMail-Info-SMIME-Encrypted", 1));
	ck_assert_int_eq(m->edits.replace_body, 0);
	msgctx_free(&m);
}
END_TEST

/* An unreadable store is an internal failure: tempfail, not "pass". */
START_TEST(store_failure_tempfails)
{
	struct msgctx *m = feed(smime_hdrs, "MIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n",
	    0, rcpt_internal);
	struct inbound_env env = { .cfg = cfg, .st = st };
	const char *error = NULL;
	struct store *broken;

	/* a database whose settings table is gone */
	{
		char *db = tu_path(dir, "broken.db");

		ck_assert_int_eq(store_open(&broken, db, 200, STORE_CREATE,
		    &error), 0);
		free(db);
	}
	ck_assert_int_eq(store_begin(broken, &error), 0);
	store_rollback(broken);
	env.st = broken;
	tu_log_capture();
	/* drop the table behind the store's back */
	ck_assert_int_eq(tu_store_exec(broken, "DROP TABLE settings"), 0);
	ck_assert_int_eq(msgctx_eom(m, &env, NULL, &error), INBOUND_TEMPFAIL);
	ck_assert_ptr_nonnull(error);
	tu_log_stop();
	store_free(&broken);
	msgctx_free(&m);
}
END_TEST

/* The edits of msgctx_strip_only(): only the forged info headers go. */
static void
assert_strip_only(struct msgctx *m)
{
	const char *error = NULL;
	size_t i;

	ck_assert_msg(msgctx_strip_only(m, cfg, &error) == 0, "strip: %s",
	    error);
	ck_assert_int_eq(m->result.stripped, 3);
	ck_assert_ptr_nonnull(find_edit(m, EDIT_DELETE,
	    "X-Postern-Info-SMIME-Encrypted", 1));
	ck_assert_ptr_nonnull(find_edit(m, EDIT_DELETE,
	    "X-CipherMail-Info-Signer-Verified-0-0", 1));
	ck_assert_ptr_nonnull(find_edit(m, EDIT_DELETE,
	    "x-djigzo-info-smime-signed", 1));
	for (i = 0; i < m->edits.n; i++)
		ck_assert_msg(m->edits.v[i].op == EDIT_DELETE, "got op %d on "
		    "%s, want deletes only", m->edits.v[i].op,
		    m->edits.v[i].name);
	ck_assert_uint_eq(m->edits.n, 3);
	ck_assert_int_eq(m->edits.replace_body, 0);
}

static const struct hdr accept_hdrs[] = {
	{ "From", "alice@example.com" },
	{ "Subject", "secret" },
	{ "X-Postern-Info-SMIME-Encrypted", "forged" },
	{ "MIME-Version", "1.0" },
	{ "Content-Type", "application/pkcs7-mime; smime-type=enveloped-data" },
	{ "X-CipherMail-Info-Signer-Verified-0-0", "True" },
	{ "x-djigzo-info-smime-signed", "True" },
	{ NULL, NULL },
};

/*
 * milter_failure_action = accept after an internal failure at the end
 * of the message (the store is gone): the message may pass unprocessed,
 * but only once the forged info headers are removed.
 */
START_TEST(accept_after_store_failure_strips)
{
	struct msgctx *m = feed(accept_hdrs, "MIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n",
	    3, rcpt_internal);
	struct inbound_env env = { .cfg = cfg, .st = st };
	const char *error = NULL;

	ck_assert_int_eq(tu_store_exec(st, "DROP TABLE settings"), 0);
	tu_log_capture();
	ck_assert_int_eq(msgctx_eom(m, &env, NULL, &error), INBOUND_TEMPFAIL);
	tu_log_stop();
	ck_assert_ptr_nonnull(error);
	assert_strip_only(m);
	msgctx_free(&m);
}
END_TEST

/*
 * The spool cannot spill (temp_directory is a file): the call that hit
 * it fails once, the header block is still collected whole, the end of
 * the message reports the failure, and the strip still works.
 */
START_TEST(spool_failure_remembered)
{
	struct msgctx *m;
	const char *error = NULL;
	char *file = tu_path(dir, "not-a-dir");
	char body[6000];
	struct inbound_env env = { .cfg = cfg, .st = st };

	ck_assert_int_eq(tu_write_file(file, "x"), 0);
	ck_assert_int_eq(config_set(cfg, "temp_directory", file, &error), 0);
	ck_assert_int_eq(config_set(cfg, "spool_memory_max", "4k", &error), 0);
	memset(body, 'b', sizeof(body) - 3);
	memcpy(body + sizeof(body) - 3, "\r\n", 3);
	m = feed_head(accept_hdrs, rcpt_internal);
	ck_assert_int_eq(msgctx_body(m, body, sizeof(body) - 1, &error), -1);
	ck_assert_msg(strstr(error, "not-a-dir") != NULL, "got %s", error);
	/* once: later chunks are not spooled any more */
	ck_assert_int_eq(msgctx_body(m, "more\r\n", 6, &error), 0);
	error = NULL;
	ck_assert_int_eq(msgctx_eom(m, &env, NULL, &error), INBOUND_TEMPFAIL);
	ck_assert_msg(error != NULL && strstr(error, "not-a-dir") != NULL,
	    "got %s", error);
	assert_strip_only(m);
	msgctx_free(&m);
	free(file);
}
END_TEST

/* A header block that was not kept whole cannot be promised clean. */
START_TEST(strip_only_needs_whole_header)
{
	struct msgctx *m;
	const char *error = NULL;
	char big[900];
	int i;

	ck_assert_int_eq(config_set(cfg, "mime_max_header_size", "1k",
	    &error), 0);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	m = msgctx_new(cfg, "alice@example.com");
	ck_assert_ptr_nonnull(m);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(msgctx_header(m, "X-Filler", big, &error), 0);
	ck_assert_int_eq(msgctx_header(m, "X-Postern-Info-SMIME-Signed",
	    "True", &error), 0);
	ck_assert_int_eq(msgctx_eoh(m, &error), 0);
	ck_assert_int_eq(m->hdrs_truncated, 1);
	ck_assert_int_eq(msgctx_strip_only(m, cfg, &error), -1);
	ck_assert_str_eq(error, "the header block was not kept whole");
	msgctx_free(&m);
}
END_TEST

/* edits_compute on its own: a changed header becomes a change. */
START_TEST(changed_header_is_change)
{
	const char *in = "From: a@example.com\r\nSubject: old\r\n\r\nbody\r\n";
	struct mime_message *msg = mime_parse(in, strlen(in), NULL, NULL);
	struct edit_fields orig;
	struct edits e;
	const char *error;

	ck_assert_ptr_nonnull(msg);
	ck_assert_int_eq(edit_fields_snapshot(msg, &orig, &error), 0);
	ck_assert_int_eq(mime_header_replace(msg, msg->root, "Subject",
	    "new [decrypted]", &error), 0);
	ck_assert_int_eq(edits_compute(&orig, in + msg->root->body_start,
	    strlen(in) - msg->root->body_start, msg, &e, &error), 0);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_int_eq(e.v[0].op, EDIT_CHANGE);
	ck_assert_str_eq(e.v[0].name, "Subject");
	ck_assert_int_eq(e.v[0].index, 1);
	ck_assert_str_eq(e.v[0].value, "new [decrypted]");
	ck_assert_int_eq(e.replace_body, 0);
	edits_release(&e);
	edit_fields_release(&orig);
	mime_message_free(&msg);
}
END_TEST

Suite *
milter_suite(void)
{
	Suite *s = suite_create("milter");
	TCase *tc = tcase_create("eom");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, forged_info_headers_removed);
	tcase_add_test(tc, external_recipient_stays_encrypted);
	tcase_add_test(tc, chunking_independent);
	tcase_add_test(tc, too_big_passes_with_header);
	tcase_add_test(tc, store_failure_tempfails);
	tcase_add_test(tc, accept_after_store_failure_strips);
	tcase_add_test(tc, spool_failure_remembered);
	tcase_add_test(tc, strip_only_needs_whole_header);
	suite_add_tcase(s, tc);
	tc = tcase_create("edits");
	tcase_add_test(tc, changed_header_is_change);
	suite_add_tcase(s, tc);
	return s;
}
