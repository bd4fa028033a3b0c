#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "testutil.h"

static char *dir;
static char *file;

static void
setup(void)
{
	dir = tu_tmpdir();
	file = tu_path(dir, "postern.conf");
}

static void
teardown(void)
{
	free(file);
	tu_tmpdir_free(&dir);
}

START_TEST(defaults_and_expansion)
{
	struct config *cfg;
	const char *error;

	ck_assert_int_eq(tu_write_file(file,
	    "# comment\n"
	    "state_directory = /srv/postern\n"
	    "\n"
	    "log_level = debug\n"), 0);
	ck_assert_msg(config_load(&cfg, file, &error) == 0, "load: %s", error);
	ck_assert_str_eq(config_str(cfg, "database"), "/srv/postern/postern.db");
	ck_assert_str_eq(config_str(cfg, "info_header_prefix"), "X-Postern-Info");
	ck_assert_str_eq(config_str(cfg, "log_level"), "debug");
	ck_assert_int_eq(config_int(cfg, "spool_memory_max"), 1024 * 1024);
	ck_assert_int_eq(config_int(cfg, "store_busy_timeout"), 10000);
	ck_assert_str_eq(config_file(cfg), file);
	config_free(&cfg);
	ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(continuation_lines)
{
	struct config *cfg;
	const char *error;

	ck_assert_int_eq(tu_write_file(file,
	    "legacy_info_header_prefixes = X-A\n"
	    "    X-B\n"
	    "\tX-C\n"), 0);
	ck_assert_msg(config_load(&cfg, file, &error) == 0, "load: %s", error);
	ck_assert_str_eq(config_str(cfg, "legacy_info_header_prefixes"),
	    "X-A X-B X-C");
	config_free(&cfg);
}
END_TEST

/* Each bad file gives one error naming file:line and what is allowed. */
static const struct {
	const char *text;
	const char *want;
} bad[] = {
	{ "log_level = info\nno_such_key = 1\n", ":2: unknown parameter 'no_such_key'" },
	{ "\n\nlog_level = loud\n", ":3: bad value 'loud' for 'log_level': want one of debug|info|warn|err" },
	{ "mime_max_depth = 0\n", ":1: bad value '0' for 'mime_max_depth': want 1..1000" },
	{ "mime_max_depth = 1001\n", ":1: bad value '1001' for 'mime_max_depth': want 1..1000" },
	{ "spool_memory_max = lots\n", ":1: bad value 'lots' for 'spool_memory_max'" },
	{ "database relative.db\n", ":1: missing '='" },
	{ "database = relative.db\n", ":1: bad value 'relative.db' for 'database': want an absolute path" },
	{ "  indented = 1\n", ":1: continuation line without a parameter" },
	{ "database = $nosuch/x\n", "unknown parameter '$nosuch'" },
	{ "state_directory = relative\n", ":1: bad value 'relative' for 'state_directory'" },
};

START_TEST(bad_values)
{
	struct config *cfg = NULL;
	const char *error = NULL;

	ck_assert_int_eq(tu_write_file(file, bad[_i].text), 0);
	ck_assert_int_eq(config_load(&cfg, file, &error), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(error, bad[_i].want) != NULL,
	    "got '%s', want '%s'", error, bad[_i].want);
	ck_assert_msg(strchr(error, '\n') == NULL, "multi-line error");
}
END_TEST

START_TEST(limits_exact)
{
	struct config *cfg = config_defaults();
	const char *error;

	ck_assert_int_eq(config_set(cfg, "mime_max_depth", "1", &error), 0);
	ck_assert_int_eq(config_int(cfg, "mime_max_depth"), 1);
	ck_assert_int_eq(config_set(cfg, "mime_max_depth", "1000", &error), 0);
	ck_assert_int_eq(config_set(cfg, "mime_max_depth", "1001", &error), -1);
	ck_assert_int_eq(config_set(cfg, "spool_memory_max", "4k", &error), 0);
	ck_assert_int_eq(config_int(cfg, "spool_memory_max"), 4096);
	ck_assert_int_eq(config_set(cfg, "spool_memory_max", "4095", &error), -1);
	ck_assert_int_eq(config_set(cfg, "store_busy_timeout", "2m", &error), 0);
	ck_assert_int_eq(config_int(cfg, "store_busy_timeout"), 120000);
	ck_assert_int_eq(config_set(cfg, "store_busy_timeout", "99ms", &error), -1);
	config_free(&cfg);
}
END_TEST

START_TEST(env_and_missing)
{
	struct config *cfg;
	const char *error;

	ck_assert_int_eq(tu_write_file(file, "log_level = warn\n"), 0);
	setenv("POSTERN_CONF", file, 1);
	ck_assert_int_eq(config_load(&cfg, NULL, &error), 0);
	ck_assert_str_eq(config_str(cfg, "log_level"), "warn");
	config_free(&cfg);
	unsetenv("POSTERN_CONF");
	ck_assert_int_eq(config_load(&cfg, "/nonexistent/p.conf", &error), -1);
	ck_assert_msg(strstr(error, "cannot open '/nonexistent/p.conf'") != NULL,
	    "got %s", error);
}
END_TEST

/* Every key in the table is documented in man/postern.conf.5 with its default. */
START_TEST(man_page_agrees)
{
	char *page = tu_read_file("man/postern.conf.5", NULL);
	size_t i;

	ck_assert_msg(page != NULL, "cannot read man/postern.conf.5");
	for (i = 0; i < config_ndefs; i++) {
		char want[256];

		snprintf(want, sizeof(want), ".It Cm %s", config_defs[i].name);
		ck_assert_msg(strstr(page, want) != NULL,
		    "man/postern.conf.5 lacks '%s'", want);
	}
	free(page);
}
END_TEST

/* The boolean words, shared with smime_opts_set() and pgp_msg_opts_set(). */
static const struct {
	const char *in;
	int want;		/* -1: not a boolean */
} bools[] = {
	{ "yes", 1 }, { "TRUE", 1 }, { "True", 1 }, { "1", 1 },
	{ "no", 0 }, { "False", 0 }, { "NO", 0 }, { "0", 0 },
	{ "", -1 }, { "y", -1 }, { "2", -1 }, { "on", -1 }, { " yes", -1 },
	{ "yes ", -1 }, { "01", -1 },
};

START_TEST(parse_bool)
{
	int b = 7, rc = config_parse_bool(bools[_i].in, &b);

	if (bools[_i].want < 0) {
		ck_assert_msg(rc == -1 && b == 7, "'%s': got %d (%d), want -1",
		    bools[_i].in, rc, b);
	} else {
		ck_assert_msg(rc == 0 && b == bools[_i].want,
		    "'%s': got %d (%d), want %d", bools[_i].in, rc, b,
		    bools[_i].want);
	}
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults_and_expansion);
	tcase_add_test(tc, continuation_lines);
	tcase_add_test(tc, env_and_missing);
	tcase_add_test(tc, man_page_agrees);
	tcase_add_loop_test(tc, parse_bool, 0,
	    sizeof(bools) / sizeof(bools[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, bad_values, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, limits_exact);
	suite_add_tcase(s, tc);
	return s;
}
