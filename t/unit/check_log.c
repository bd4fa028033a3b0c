#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "testutil.h"

START_TEST(queue_id_prefix_and_printable)
{
	tu_log_capture();
	log_info("3F2A1C0D4B", "decrypt: status=%s reason=\"%s\"", "failed",
	    "evil\nforged: line\x1b");
	log_warn(NULL, "start-up %d", 1);
	log_set_level(LOG_LEVEL_WARN);
	log_info("Q1", "hidden");
	ck_assert_msg(tu_log_has("info: 3F2A1C0D4B: decrypt: status=failed "
	    "reason=\"evil?forged: line?\""), "got %s", tu_log_text());
	ck_assert(tu_log_has("warning: start-up 1"));
	ck_assert(!tu_log_has("hidden"));
	tu_log_stop();
}
END_TEST

START_TEST(level_names)
{
	ck_assert_int_eq(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	ck_assert_int_eq(log_level_parse("warn"), LOG_LEVEL_WARN);
	ck_assert_int_eq(log_level_parse("loud"), -1);
}
END_TEST

START_TEST(buf_limits)
{
	struct buf b;
	char *p;
	size_t len;

	buf_init(&b, 8);
	ck_assert_int_eq(buf_puts(&b, "12345678"), 0);
	ck_assert_int_eq(buf_putc(&b, '9'), -1);
	ck_assert_str_eq(b.data, "12345678");
	buf_reset(&b);
	ck_assert_int_eq(buf_printf(&b, "%d-%s", 42, "x"), 0);
	ck_assert_int_eq(buf_printf(&b, "%s", "too long"), -1);
	ck_assert_str_eq(b.data, "42-x");
	p = buf_steal(&b, &len);
	ck_assert_uint_eq(len, 4);
	ck_assert_str_eq(p, "42-x");
	free(p);
	buf_release(&b);
}
END_TEST

Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, queue_id_prefix_and_printable);
	tcase_add_test(tc, level_names);
	tcase_add_test(tc, buf_limits);
	suite_add_tcase(s, tc);
	return s;
}
