#include <check.h>
#include <stdio.h>
#include <string.h>

#include "address.h"

static const struct {
	const char *in, *want;	/* want NULL: malformed */
} norm[] = {
	{ "Alice@Example.COM", "Alice@example.com" },
	{ " <bob@B.example> ", "bob@b.example" },
	{ "bob", NULL },
	{ "@example.com", NULL },
	{ "bob@", NULL },
	{ "bob@*.example.com", NULL },
	{ "b ob@example.com", NULL },
	{ "bob@exa..mple", NULL },
	{ "\"quoted@local\"@example.org", "\"quoted@local\"@example.org" },
};

START_TEST(normalize)
{
	char out[ADDRESS_MAX + 1];
	int rc = address_normalize(norm[_i].in, out, sizeof(out));

	if (norm[_i].want == NULL) {
		ck_assert_msg(rc == -1, "'%s': got '%s', want error",
		    norm[_i].in, out);
	} else {
		ck_assert_msg(rc == 0, "'%s': got error", norm[_i].in);
		ck_assert_str_eq(out, norm[_i].want);
	}
}
END_TEST

START_TEST(wildcards)
{
	ck_assert(domain_wildcard_match("*.example.com", "a.example.com"));
	ck_assert(domain_wildcard_match("*.example.com", "x.a.example.com"));
	ck_assert(!domain_wildcard_match("*.example.com", "example.com"));
	ck_assert(!domain_wildcard_match("*.example.com", "badexample.com"));
	ck_assert(!domain_wildcard_match("example.com", "a.example.com"));
}
END_TEST

START_TEST(chain_user)
{
	struct address_chain c;

	ck_assert_int_eq(address_chain_user("Ann@A.B.Example.com", &c), 0);
	ck_assert_uint_eq(c.n, 6);
	ck_assert_int_eq(c.item[0].level, ADDRESS_LEVEL_USER);
	ck_assert_str_eq(c.item[0].owner, "Ann@a.b.example.com");
	ck_assert_int_eq(c.item[1].level, ADDRESS_LEVEL_DOMAIN);
	ck_assert_str_eq(c.item[1].owner, "a.b.example.com");
	ck_assert_str_eq(c.item[2].owner, "*.b.example.com");
	ck_assert_str_eq(c.item[3].owner, "*.example.com");
	ck_assert_str_eq(c.item[4].owner, "*.com");
	ck_assert_int_eq(c.item[5].level, ADDRESS_LEVEL_GLOBAL);
	ck_assert_int_eq(address_chain_domain("*.b.example.com", &c), 0);
	ck_assert_uint_eq(c.n, 4);
	ck_assert_str_eq(c.item[0].owner, "*.b.example.com");
	ck_assert_str_eq(c.item[1].owner, "*.example.com");
	ck_assert_str_eq(c.item[2].owner, "*.com");
	ck_assert_int_eq(c.item[3].level, ADDRESS_LEVEL_GLOBAL);
	ck_assert_int_eq(address_chain_domain("example.com", &c), 0);
	ck_assert_uint_eq(c.n, 3);
	ck_assert_int_eq(address_chain_user("nobody", &c), -1);
}
END_TEST

/* address_mailbox(): want NULL for a list; lt: offset of the last '<',
 * -1 for none. */
static const struct {
	const char *in, *want;
	int lt;
} mbox[] = {
	{ "a@b.example", "a@b.example", -1 },
	{ "  a@b.example \t", "a@b.example", -1 },
	{ "Alice <a@b.example>", "a@b.example", 6 },
	{ "Alice < a@b.example > trailing", "a@b.example", 6 },
	{ "\"Doe, Jane\" <j@b.example>", "j@b.example", 12 },
	{ "\"a\\\"<,\" <j@b.example>", "j@b.example", 8 },
	{ "a@b.example, c@d.example", NULL, -1 },
	{ "A <a@b.example>, C <c@d.example>", NULL, 19 },
	{ "<x,y@b.example>", "x,y@b.example", 0 },
	{ "Broken <a@b.example", "Broken <a@b.example", 7 },
	{ "m@corp <eve@corp>", "eve@corp", 7 },
	{ "", "", -1 },
};

START_TEST(mailbox)
{
	char v[128], *lt = v, *r;

	snprintf(v, sizeof(v), "%s", mbox[_i].in);
	r = address_mailbox(v, &lt);
	if (mbox[_i].want == NULL)
		ck_assert_msg(r == NULL, "'%s': got '%s', want NULL",
		    mbox[_i].in, r);
	else
		ck_assert_msg(r != NULL && strcmp(r, mbox[_i].want) == 0,
		    "'%s': got '%s', want '%s'", mbox[_i].in,
		    r != NULL ? r : "(null)", mbox[_i].want);
	if (mbox[_i].lt < 0)
		ck_assert_ptr_null(lt);
	else
		ck_assert_msg(lt == v + mbox[_i].lt, "'%s': got lt %td, "
		    "want %d", mbox[_i].in, lt != NULL ? lt - v : -1,
		    mbox[_i].lt);
	ck_assert_ptr_null(address_mailbox(strcpy(v, "a@b, c@d"), NULL));
}
END_TEST

Suite *
address_suite(void)
{
	Suite *s = suite_create("address");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, normalize, 0, sizeof(norm) / sizeof(norm[0]));
	tcase_add_test(tc, wildcards);
	tcase_add_test(tc, chain_user);
	tcase_add_loop_test(tc, mailbox, 0, sizeof(mbox) / sizeof(mbox[0]));
	suite_add_tcase(s, tc);
	return s;
}
