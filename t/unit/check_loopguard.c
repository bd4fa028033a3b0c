/*
 * loopguard: a marker made for a message and its recipients is valid
 * for exactly that body and those recipients, whatever the line ends,
 * the folding of the field and a final line end added by the MTA; a
 * copied, altered or foreign marker is invalid.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loopguard.h"

#define SECRET "0123456789abcdef0123456789abcdef"

static char *rc2[] = { "bob@ext.test", "Carol@Other.TEST" };

static struct buf marked;

static void
mark(const char *msg)
{
	const char *error = NULL;

	buf_init(&marked, 0);
	ck_assert_msg(loopguard_add(SECRET, 1700000000, msg, strlen(msg), rc2,
	    2, &marked, &error) == 0, "%s", error);
}

static enum loopguard_verdict
check_text(const char *text, char **rcpts, size_t n, const char *secret)
{
	return loopguard_check(secret, text, strlen(text), rcpts, n);
}

START_TEST(valid_roundtrip)
{
	char *swapped[] = { "Carol@other.test", "bob@EXT.test" };

	mark("From: a@b\nSubject: s\n\nline 1\nline 2\n");
	ck_assert_ptr_nonnull(strstr(marked.data, "X-Postern-Loop: v1; t=1700000000; h="));
	ck_assert_int_eq(check_text(marked.data, rc2, 2, SECRET),
	    LOOPGUARD_VALID);
	/* recipient order and domain case do not matter */
	ck_assert_int_eq(check_text(marked.data, swapped, 2, SECRET),
	    LOOPGUARD_VALID);
	buf_release(&marked);
}
END_TEST

/* The same message as it comes back over SMTP (CRLF), folded, with a
 * Received field on top and an extra final line end. */
START_TEST(valid_after_transport)
{
	struct buf crlf;
	const char *p, *v;
	char hdr[256];

	mark("From: a@b\n\nbody\n");
	v = strstr(marked.data, "h=");
	buf_init(&crlf, 0);
	buf_puts(&crlf, "Received: from x by y; Mon, 1 Jan 2024\r\n");
	snprintf(hdr, sizeof(hdr), "x-postern-loop: v1; t=1700000000;\r\n\th=%.64s\r\n", v + 2);
	buf_puts(&crlf, hdr);
	for (p = strchr(marked.data, '\n') + 1; *p != '\0'; p++) {
		if (*p == '\n')
			buf_putc(&crlf, '\r');
		buf_putc(&crlf, *p);
	}
	buf_puts(&crlf, "\r\n");
	ck_assert_int_eq(check_text(crlf.data, rc2, 2, SECRET),
	    LOOPGUARD_VALID);
	buf_release(&crlf);
	buf_release(&marked);
}
END_TEST

START_TEST(invalid_cases)
{
	char *one[] = { "bob@ext.test" };
	char *other[] = { "bob@ext.test", "eve@ext.test" };
	char *copy;

	mark("From: a@b\n\nsecret body\n");
	/* other recipients, another secret */
	ck_assert_int_eq(check_text(marked.data, one, 1, SECRET),
	    LOOPGUARD_INVALID);
	ck_assert_int_eq(check_text(marked.data, other, 2, SECRET),
	    LOOPGUARD_INVALID);
	ck_assert_int_eq(check_text(marked.data, rc2, 2, "another secret"),
	    LOOPGUARD_INVALID);
	ck_assert_int_eq(check_text(marked.data, rc2, 2, ""),
	    LOOPGUARD_INVALID);
	/* a changed body */
	copy = strdup(marked.data);
	*strstr(copy, "secret body") = 'S';
	ck_assert_int_eq(check_text(copy, rc2, 2, SECRET), LOOPGUARD_INVALID);
	free(copy);
	/* a changed time */
	copy = strdup(marked.data);
	strstr(copy, "t=17")[3] = '8';
	ck_assert_int_eq(check_text(copy, rc2, 2, SECRET), LOOPGUARD_INVALID);
	free(copy);
	/* garbage and none */
	ck_assert_int_eq(check_text("X-Postern-Loop: yes\n\nx\n", rc2, 2,
	    SECRET), LOOPGUARD_INVALID);
	ck_assert_int_eq(check_text("From: a@b\n\nX-Postern-Loop: v1\n", rc2,
	    2, SECRET), LOOPGUARD_NONE);
	ck_assert_int_eq(check_text("", rc2, 2, SECRET), LOOPGUARD_NONE);
	buf_release(&marked);
}
END_TEST

START_TEST(no_secret)
{
	char value[LOOPGUARD_VALUE_MAX];
	const char *error = NULL;

	ck_assert_int_eq(loopguard_value("", 1, "x", 1, rc2, 2, value, &error),
	    -1);
	ck_assert_ptr_nonnull(strstr(error, "server-secret"));
	ck_assert_uint_eq(loopguard_body_offset("a: b\r\n\r\nxy", 10), 8);
	ck_assert_uint_eq(loopguard_body_offset("a: b\n", 5), 5);
}
END_TEST

Suite *
loopguard_suite(void)
{
	Suite *s = suite_create("loopguard");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, valid_roundtrip);
	tcase_add_test(tc, valid_after_transport);
	tcase_add_test(tc, invalid_cases);
	tcase_add_test(tc, no_secret);
	suite_add_tcase(s, tc);
	return s;
}
