#include <sys/wait.h>

#include <check.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "testutil.h"

static char *dir, *db;

static void
setup(void)
{
	dir = tu_tmpdir();
	db = tu_path(dir, "p.db");
}

static void
teardown(void)
{
	free(db);
	tu_tmpdir_free(&dir);
}

START_TEST(create_and_migrate)
{
	struct store *st;
	const char *error;

	/* without STORE_CREATE a missing file is an error */
	ck_assert_int_eq(store_open(&st, db, 1000, 0, &error), -1);
	ck_assert_ptr_null(st);
	ck_assert_msg(store_open(&st, db, 1000, STORE_CREATE, &error) == 0,
	    "%s", error);
	ck_assert_int_eq(store_schema_version(st), store_schema_known());
	ck_assert_int_ge(store_schema_known(), 1);
	store_free(&st);
	ck_assert_ptr_null(st);
	/* reopening is idempotent */
	ck_assert_int_eq(store_open(&st, db, 1000, 0, &error), 0);
	ck_assert_int_eq(store_schema_version(st), store_schema_known());
	store_free(&st);
}
END_TEST

START_TEST(newer_schema_refused)
{
	struct store *st;
	const char *error;
	sqlite3 *h;

	ck_assert_int_eq(store_open(&st, db, 1000, STORE_CREATE, &error), 0);
	store_free(&st);
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "INSERT INTO schema_version "
	    "(version, name) VALUES (9999, 'future')", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(h);
	ck_assert_int_eq(store_open(&st, db, 1000, 0, &error), -1);
	ck_assert_msg(strstr(error, "schema version 9999 is newer") != NULL,
	    "got %s", error);
}
END_TEST

/* Several processes opening a fresh database at once all succeed. */
START_TEST(concurrent_first_open)
{
	pid_t pids[6];
	int i, status, ok = 0;

	for (i = 0; i < 6; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			struct store *st;
			const char *error;

			tu_child_exit(store_open(&st, db, 10000, STORE_CREATE,
			    &error) == 0 ? 0 : 1);
		}
	}
	for (i = 0; i < 6; i++) {
		waitpid(pids[i], &status, 0);
		ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	ck_assert_int_eq(ok, 6);
}
END_TEST

START_TEST(transactions)
{
	struct store *a, *b;
	const char *error;

	ck_assert_int_eq(store_open(&a, db, 1000, STORE_CREATE, &error), 0);
	ck_assert_int_eq(store_open(&b, db, 200, 0, &error), 0);
	ck_assert_int_eq(store_begin(a, &error), 0);
	/* the second writer waits the busy timeout, then fails as busy */
	ck_assert_int_eq(store_begin(b, &error), -1);
	ck_assert_int_eq(store_busy(b), 1);
	store_rollback(a);
	ck_assert_int_eq(store_begin(b, &error), 0);
	ck_assert_int_eq(store_commit(b, &error), 0);
	store_free(&a);
	store_free(&b);
}
END_TEST

Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, create_and_migrate);
	tcase_add_test(tc, newer_schema_refused);
	tcase_add_test(tc, concurrent_first_open);
	tcase_add_test(tc, transactions);
	suite_add_tcase(s, tc);
	return s;
}
