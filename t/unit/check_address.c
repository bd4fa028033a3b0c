#include <check.h>
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

Suite *
address_suite(void)
{
	Suite *s = suite_create("address");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, normalize, 0, sizeof(norm) / sizeof(norm[0]));
	tcase_add_test(tc, wildcards);
	tcase_add_test(tc, chain_user);
	suite_add_tcase(s, tc);
	return s;
}
