#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

static const struct {
	const char *in, *want;
} trim_cases[] = {
	{ "", "" },
	{ "   ", "" },
	{ "a", "a" },
	{ "  a b \t\r\n", "a b" },
	{ "\ta", "a" },
	{ "a\n", "a" },
};

START_TEST(trim)
{
	char s[64], *r;

	snprintf(s, sizeof(s), "%s", trim_cases[_i].in);
	r = str_trim(s);
	ck_assert_msg(strcmp(r, trim_cases[_i].want) == 0,
	    "'%s': got '%s', want '%s'", trim_cases[_i].in, r,
	    trim_cases[_i].want);
	/* The start stays in place: r points into s. */
	ck_assert(r >= s && r <= s + strlen(trim_cases[_i].in));
}
END_TEST

START_TEST(lower)
{
	char s[] = "Content-TYPE: Text/Plain \xC3\x84";

	ck_assert_ptr_eq(str_lower(s), s);
	ck_assert_str_eq(s, "content-type: text/plain \xC3\x84");
}
END_TEST

START_TEST(array_free)
{
	char **v = calloc(3, sizeof(*v));

	ck_assert_ptr_nonnull(v);
	v[0] = strdup("a");
	v[1] = NULL;
	v[2] = strdup("c");
	str_array_free(&v, 3);
	ck_assert_ptr_null(v);
	str_array_free(&v, 3);
	ck_assert_ptr_null(v);
}
END_TEST

Suite *
str_suite(void)
{
	Suite *s = suite_create("str");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, trim, 0,
	    (int)(sizeof(trim_cases) / sizeof(trim_cases[0])));
	tcase_add_test(tc, lower);
	tcase_add_test(tc, array_free);
	suite_add_tcase(s, tc);
	return s;
}
