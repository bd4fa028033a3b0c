/*
 * job: the queue ID postern-encrypt logs with, taken from the topmost
 * Received field (Postfix's "with ESMTP id QUEUEID") or generated.
 */
#include <check.h>
#include <string.h>

#include "job.h"

static const struct {
	const char *msg;
	const char *want;	/* NULL: generated */
} qids[] = {
	{ "Received: from c (localhost [127.0.0.1])\n\tby gw (Postfix) with "
	    "ESMTP id 4QxY1z2AbCd\n\tfor <a@b>; Mon, 1 Jan 2024\nFrom: a\n\nx\n",
	    "4QxY1z2AbCd" },
	{ "Received: by gw (Postfix, from userid 0)\r\n\tid 9F1EA72516; Mon, "
	    "1 Jan 2024\r\n\r\nx\r\n", "9F1EA72516" },
	/* only the topmost Received counts */
	{ "Received: from x by y; Mon, 1 Jan 2024\nReceived: from c by gw "
	    "(Postfix) with ESMTP id ABCDEF123; d\n\nx\n", NULL },
	/* "id" must be a word; the ID at least 6 characters */
	{ "Received: from c by gw with ESMTP id AB1; d\n\nx\n", NULL },
	{ "Received: from ids by gw with ESMTP; d\n\nx\n", NULL },
	{ "From: a\n\nReceived: by gw id ABCDEF1234\n", NULL },
	{ "", NULL },
};

START_TEST(queue_ids)
{
	char q[32];
	int gen = job_qid(qids[_i].msg, strlen(qids[_i].msg), q);

	if (qids[_i].want != NULL) {
		ck_assert_int_eq(gen, 0);
		ck_assert_str_eq(q, qids[_i].want);
	} else {
		ck_assert_int_eq(gen, 1);
		ck_assert_uint_eq(strlen(q), 10);
		ck_assert_uint_eq(strspn(q, "0123456789ABCDEF"), 10);
	}
}
END_TEST

Suite *
job_suite(void)
{
	Suite *s = suite_create("job");
	TCase *tc = tcase_create("qid");

	tcase_add_loop_test(tc, queue_ids, 0, sizeof(qids) / sizeof(qids[0]));
	suite_add_tcase(s, tc);
	return s;
}
