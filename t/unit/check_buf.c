#include <check.h>
#include <string.h>

#include "buf.h"

/* buf_append_eol(): every line end becomes eol, whatever it was. */
static const struct {
	const char *in, *eol, *want;
} eol_cases[] = {
	{ "", "\r\n", "" },
	{ "no line end", "\r\n", "no line end" },
	{ "a\nb\n", "\r\n", "a\r\nb\r\n" },
	{ "a\r\nb\r\n", "\r\n", "a\r\nb\r\n" },
	{ "a\r\nb\nc", "\r\n", "a\r\nb\r\nc" },
	{ "a\r\nb\r\n", "\n", "a\nb\n" },
	{ "a\nb\r\nc\n", "\n", "a\nb\nc\n" },
	{ "\n\r\n\n", "\r\n", "\r\n\r\n\r\n" },
	{ "\n\r\n\n", "\n", "\n\n\n" },
	{ "lone\rcr\n", "\r\n", "lone\rcr\r\n" },
	{ "lone\rcr\r\n", "\n", "lone\rcr\n" },
	{ "\r\r\n", "\n", "\r\n" },
};

START_TEST(append_eol)
{
	const char *in = eol_cases[_i].in, *want = eol_cases[_i].want;
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_puts(&b, "X"), 0);
	ck_assert_int_eq(buf_append_eol(&b, in, strlen(in), eol_cases[_i].eol),
	    0);
	ck_assert_uint_eq(b.len, strlen(want) + 1);
	ck_assert_msg(memcmp(b.data, "X", 1) == 0 &&
	    strcmp(b.data + 1, want) == 0, "case %d: got '%s', want 'X%s'",
	    _i, b.data, want);
	buf_release(&b);
}
END_TEST

/* The length is what counts, not a NUL in the text. */
START_TEST(append_eol_nul)
{
	static const char in[] = "a\0b\nc";
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_append_eol(&b, in, sizeof(in) - 1, "\r\n"), 0);
	ck_assert_uint_eq(b.len, 6);
	ck_assert(memcmp(b.data, "a\0b\r\nc", 6) == 0);
	buf_release(&b);
}
END_TEST

/* Limit and limit + 1: first for the result, then for the len + 2
 * bytes asked for up front (which bind when line ends get shorter). */
START_TEST(append_eol_limit)
{
	struct buf b;

	buf_init(&b, 9);
	ck_assert_int_eq(buf_append_eol(&b, "a\nb\nc\n", 6, "\r\n"), 0);
	ck_assert_str_eq(b.data, "a\r\nb\r\nc\r\n");
	buf_release(&b);

	buf_init(&b, 8);
	ck_assert_int_eq(buf_append_eol(&b, "a\nb\nc\n", 6, "\r\n"), -1);
	buf_release(&b);

	buf_init(&b, 8);
	ck_assert_int_eq(buf_append_eol(&b, "ab\r\ncd", 6, "\n"), 0);
	ck_assert_str_eq(b.data, "ab\ncd");
	buf_release(&b);

	buf_init(&b, 7);
	ck_assert_int_eq(buf_append_eol(&b, "ab\r\ncd", 6, "\n"), -1);
	ck_assert_uint_eq(b.len, 0);
	buf_release(&b);
}
END_TEST

Suite *
buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("eol");

	tcase_add_loop_test(tc, append_eol, 0,
	    (int)(sizeof(eol_cases) / sizeof(eol_cases[0])));
	tcase_add_test(tc, append_eol_nul);
	tcase_add_test(tc, append_eol_limit);
	suite_add_tcase(s, tc);
	return s;
}
