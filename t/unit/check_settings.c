/*
 * settings: the registry, value checks for every type (exact limits and
 * one past them), the inheritance example of the admin guide with the
 * origin of every value, sealed secrets read back raw from SQLite,
 * concurrent writers, store failures, and postern-settings(5) against
 * the registry.
 */
#include <sys/wait.h>

#include <check.h>
#include <regex.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secret.h"
#include "settings.h"
#include "store.h"
#include "testutil.h"

static char *dir, *db;
static struct store *st;
static struct secret_key *mkey;

static const unsigned char key_bytes[SECRET_KEY_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

static void
setup(void)
{
	const char *error;

	dir = tu_tmpdir();
	ck_assert_ptr_nonnull(dir);
	db = tu_path(dir, "p.db");
	ck_assert_msg(store_open(&st, db, 10000, STORE_CREATE, &error) == 0,
	    "%s", error);
	mkey = secret_key_from_bytes(key_bytes, sizeof(key_bytes));
	ck_assert_ptr_nonnull(mkey);
}

static void
teardown(void)
{
	store_free(&st);
	secret_key_free(&mkey);
	free(db);
	tu_tmpdir_free(&dir);
}

/* --- registry ------------------------------------------------------- */

START_TEST(registry_sane)
{
	regex_t name_re;
	size_t i, j, n = settings_count();
	const char *error;

	ck_assert_uint_ge(n, 27);
	ck_assert_int_eq(regcomp(&name_re,
	    "^[a-z0-9]+([.-][a-z0-9]+)*$", REG_EXTENDED | REG_NOSUB), 0);
	for (i = 0; i < n; i++) {
		const struct setting_def *d = settings_at(i);

		ck_assert_msg(regexec(&name_re, d->name, 0, NULL, 0) == 0,
		    "name '%s' is not lowercase-dotted", d->name);
		for (j = i + 1; j < n; j++)
			ck_assert_msg(strcmp(d->name, settings_at(j)->name)
			    != 0, "name '%s' twice", d->name);
		ck_assert_msg(d->type != SETTING_STRING || d->values == NULL ||
		    strcmp(d->values, "address") == 0 ||
		    strcmp(d->values, "header-trigger") == 0 ||
		    strcmp(d->values, "subject-filter") == 0 ||
		    strcmp(d->values, "template") == 0,
		    "'%s': unknown string format '%s'", d->name, d->values);
		ck_assert_msg(settings_check(d, d->def, &error) == 0,
		    "default of '%s' invalid: %s", d->name, error);
		ck_assert_msg(d->doc != NULL && d->doc[0] != '\0' &&
		    strchr(d->doc, '\n') == NULL, "'%s' needs a one-line doc",
		    d->name);
		ck_assert_msg(d->scopes != 0 && (d->scopes & ~7u) == 0,
		    "'%s' scopes", d->name);
		ck_assert_msg(d->roles != 0, "'%s' roles", d->name);
		ck_assert_msg(d->type != SETTING_ENUM || d->values != NULL,
		    "enum '%s' without values", d->name);
		ck_assert_msg(d->type != SETTING_SECRET ||
		    d->scopes == SETTING_SCOPE_GLOBAL ||
		    strcmp(d->name, "server-secret") != 0, "server-secret "
		    "must be global only");
		ck_assert_ptr_eq(settings_find(d->name), d);
	}
	regfree(&name_re);
	ck_assert_ptr_null(settings_at(n));
	ck_assert_ptr_null(settings_find("no-such-property"));
	/* the properties other modules read by name */
	ck_assert_ptr_nonnull(settings_find("locality"));
	ck_assert_ptr_nonnull(settings_find("smime.enabled"));
	ck_assert_ptr_nonnull(settings_find("smime.strict"));
	ck_assert_ptr_nonnull(settings_find("pgp.enabled"));
	ck_assert_str_eq(settings_find("locality")->def, "external");
	ck_assert_int_eq(settings_find("server-secret")->type,
	    SETTING_SECRET);
}
END_TEST

/* --- value checks --------------------------------------------------- */

static const struct setting_def tdefs[] = {
	{ "t.bool", SETTING_BOOL, "false", NULL, 0, 0, 7, 3, "b" },
	{ "t.enum", SETTING_ENUM, "a", "a|bb|c", 0, 0, 7, 3, "e" },
	{ "t.int", SETTING_INT, "0", NULL, -5, 10, 7, 3, "i" },
	{ "t.size", SETTING_SIZE, "1k", NULL, 1024, 1048576, 7, 3, "s" },
	{ "t.string", SETTING_STRING, "", NULL, 0, 0, 7, 3, "s" },
	{ "t.address", SETTING_STRING, "", "address", 0, 0, 7, 3, "a" },
	{ "t.trigger", SETTING_STRING, "", "header-trigger", 0, 0, 7, 3, "t" },
	{ "t.filter", SETTING_STRING, "", "subject-filter", 0, 0, 7, 3, "f" },
	{ "t.regex", SETTING_REGEX, "", NULL, 0, 0, 7, 3, "r" },
	{ "t.secret", SETTING_SECRET, "", NULL, 0, 0, 1, 4, "x" },
	{ "t.list", SETTING_LIST, "", NULL, 0, 0, 7, 3, "l" },
	{ "t.listv", SETTING_LIST, "", "x|y", 0, 0, 7, 3, "l" },
	{ "t.template", SETTING_STRING, "", "template", 0, 0, 7, 3, "t" },
};

enum { B, E, I, S, STR, ADDR, TRIG, FILT, RE, SEC, LIST, LISTV, TPL };

/* value "@N": N bytes of 'a' (built at run time) */
static const struct check_case {
	int def;
	const char *value;
	const char *want;	/* NULL: accepted; else part of the error */
} cases[] = {
	{ B, "true", NULL },
	{ B, "false", NULL },
	{ B, "yes", "bad value 'yes' for 't.bool': want true or false" },
	{ B, "TRUE", "want true or false" },
	{ B, "", "want true or false" },
	{ E, "a", NULL },
	{ E, "bb", NULL },
	{ E, "c", NULL },
	{ E, "b", "bad value 'b' for 't.enum': want one of a|bb|c" },
	{ E, "bbb", "want one of a|bb|c" },
	{ E, "", "want one of a|bb|c" },
	{ I, "-5", NULL },
	{ I, "-6", "want an integer from -5 to 10" },
	{ I, "10", NULL },
	{ I, "11", "bad value '11' for 't.int': want an integer from -5 to 10" },
	{ I, "0", NULL },
	{ I, "1x", "want an integer" },
	{ I, "", "want an integer" },
	{ I, " 1", "want an integer" },
	{ I, "99999999999999999999", "want an integer" },
	{ S, "1024", NULL },
	{ S, "1023", "want a size from 1024 to 1048576 bytes" },
	{ S, "1k", NULL },
	{ S, "1K", NULL },
	{ S, "1m", NULL },
	{ S, "1048576", NULL },
	{ S, "1048577", "want a size from 1024 to 1048576" },
	{ S, "1025k", "want a size" },
	{ S, "1g", "want a size" },
	{ S, "8t", "want a size" },
	{ S, "9999999999999999g", "want a size" },
	{ STR, "hello [encrypt]", NULL },
	{ STR, "", NULL },
	{ STR, "@4096", NULL },
	{ STR, "@4097", "longer than 4096 bytes" },
	{ STR, "a\nb", "control characters" },
	{ STR, "a\tb", "control characters" },
	{ ADDR, "postmaster@example.com", NULL },
	{ ADDR, "", NULL },
	{ ADDR, "postmaster", "want an address local@domain" },
	{ ADDR, "a@*.example.com", "want an address" },
	{ TRIG, "X-Encrypt", NULL },
	{ TRIG, "X-Encrypt:", NULL },
	{ TRIG, "X-Encrypt:(?i)^[[:space:]]*true[[:space:]]*$", NULL },
	{ TRIG, ":true", "want HEADER[:REGEX]" },
	{ TRIG, "X Encrypt:true", "bad character in the header name" },
	{ TRIG, "X-Encrypt:(", "want HEADER[:REGEX]: " },
	/* CipherMail's "any value" spelling (seed 003 §4.2.1) */
	{ TRIG, "X-Djigzo-Encrypt:*.", NULL },
	{ TRIG, "X-Djigzo-Encrypt:*", NULL },
	{ TRIG, "X-Djigzo-Encrypt:*a", "want HEADER[:REGEX]: " },
	{ TPL, "encryption-failed.eml", NULL },
	{ TPL, "/etc/postern/templates/custom.eml", NULL },
	{ TPL, "", NULL },
	{ TPL, "sub/x.eml", "want a file name in template_directory" },
	{ TPL, ".hidden", "want a file name in template_directory" },
	{ TPL, "/etc/postern/../shadow", "without '.' or '..'" },
	{ TPL, "/etc/./x", "without '.' or '..'" },
	{ FILT, "/\\[decrypted\\]/", NULL },
	{ FILT, "/secret/ [censored]", NULL },
	{ FILT, "/a\\/b/", NULL },
	{ FILT, "secret", "want /REGEX/ VALUE" },
	{ FILT, "//", "want /REGEX/ VALUE" },
	{ FILT, "/(/", "want /REGEX/ VALUE: " },
	{ FILT, "/abc", "want /REGEX/ VALUE" },
	{ RE, "(?i)^(\\[secure\\]|\\[encrypt\\])", NULL },
	{ RE, "", NULL },
	{ RE, "(", "want a POSIX extended regular expression" },
	{ RE, "a{2,1}", "want a POSIX extended regular expression" },
	{ SEC, "s3cr3t", NULL },
	{ SEC, "@4096", NULL },
	{ SEC, "@4097", "longer than 4096 bytes" },
	{ LIST, "a, b,c", NULL },
	{ LIST, "", NULL },
	{ LIST, "a,,b", "without empty items" },
	{ LIST, "a,", "without empty items" },
	{ LISTV, "x, y", NULL },
	{ LISTV, "x,z", "want a comma-separated list of x|y" },
};

START_TEST(check_values)
{
	const struct check_case *c = &cases[_i];
	const struct setting_def *d = &tdefs[c->def];
	char *value;
	const char *error = NULL;
	int rc;

	if (c->value[0] == '@') {
		size_t n = (size_t)atoi(c->value + 1);

		value = malloc(n + 1);
		ck_assert_ptr_nonnull(value);
		memset(value, 'a', n);
		value[n] = '\0';
	} else {
		value = strdup(c->value);
	}
	rc = settings_check(d, value, &error);
	if (c->want == NULL)
		ck_assert_msg(rc == 0, "%s '%s': got error '%s', want ok",
		    d->name, c->value, error);
	else
		ck_assert_msg(rc == -1 && strstr(error, c->want) != NULL,
		    "%s '%s': got %s, want error with '%s'", d->name,
		    c->value, rc == 0 ? "ok" : error, c->want);
	free(value);
}
END_TEST

START_TEST(error_value_sanitised)
{
	const char *error;
	char v[200];

	memset(v, 'x', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	v[0] = '\x1b';
	ck_assert_int_eq(settings_check(&tdefs[B], v, &error), -1);
	/* printable and cut: the message stays one short line */
	ck_assert_ptr_null(strchr(error, '\x1b'));
	ck_assert_msg(strlen(error) < 160, "got %zu bytes", strlen(error));
	ck_assert_ptr_nonnull(strstr(error, "...'"));
}
END_TEST

/* --- inheritance ---------------------------------------------------- */

static void
set_ok(enum address_level level, const char *owner, const char *name,
    const char *value)
{
	const char *error;

	ck_assert_msg(settings_set(st, mkey, level, owner, name, value,
	    &error) == 0, "set %s=%s: %s", name, value, error);
}

/* The admin guide's example plus a deeper wildcard. */
static void
build_example(void)
{
	set_ok(ADDRESS_LEVEL_GLOBAL, NULL, "encrypt-mode", "mandatory");
	set_ok(ADDRESS_LEVEL_DOMAIN, "example.com", "encrypt-mode", "force");
	set_ok(ADDRESS_LEVEL_DOMAIN, "*.example.com", "encrypt-mode",
	    "no-encryption");
	set_ok(ADDRESS_LEVEL_WILDCARD, "*.a.example.com", "locality",
	    "internal");
	set_ok(ADDRESS_LEVEL_USER, "alice@example.com", "encrypt-mode",
	    "allow");
}

static const struct resolve_case {
	const char *addr;
	const char *name;
	const char *value;
	enum address_level level;
	const char *owner;
} resolve[] = {
	{ "alice@example.com", "encrypt-mode", "allow", ADDRESS_LEVEL_USER,
	    "alice@example.com" },
	{ "carol@example.com", "encrypt-mode", "force", ADDRESS_LEVEL_DOMAIN,
	    "example.com" },
	{ "bob@a.example.com", "encrypt-mode", "no-encryption",
	    ADDRESS_LEVEL_WILDCARD, "*.example.com" },
	{ "dave@b.a.example.com", "encrypt-mode", "no-encryption",
	    ADDRESS_LEVEL_WILDCARD, "*.example.com" },
	{ "erin@other.org", "encrypt-mode", "mandatory", ADDRESS_LEVEL_GLOBAL,
	    "" },
	{ "<Erin@Other.ORG>", "encrypt-mode", "mandatory",
	    ADDRESS_LEVEL_GLOBAL, "" },
	/* *.a.example.com matches b.a.example.com, not a.example.com */
	{ "dave@b.a.example.com", "locality", "internal",
	    ADDRESS_LEVEL_WILDCARD, "*.a.example.com" },
	{ "bob@a.example.com", "locality", "external", ADDRESS_LEVEL_FACTORY,
	    "" },
	{ "alice@example.com", "locality", "external", ADDRESS_LEVEL_FACTORY,
	    "" },
	{ "alice@example.com", "smime.strict", "false",
	    ADDRESS_LEVEL_FACTORY, "" },
	/* the domain part compares case-insensitively */
	{ "alice@EXAMPLE.Com", "encrypt-mode", "allow", ADDRESS_LEVEL_USER,
	    "alice@example.com" },
	{ "carol@Example.COM", "encrypt-mode", "force", ADDRESS_LEVEL_DOMAIN,
	    "example.com" },
	/* the local part does not */
	{ "Alice@example.com", "encrypt-mode", "force", ADDRESS_LEVEL_DOMAIN,
	    "example.com" },
};

START_TEST(inheritance_example)
{
	const struct resolve_case *c = &resolve[_i];
	struct settings_view *v;
	enum address_level level;
	const char *error, *owner, *val;

	build_example();
	ck_assert_msg(settings_view_user(st, mkey, c->addr, &v, &error) == 0,
	    "%s", error);
	val = settings_get(v, c->name, &level, &owner);
	ck_assert_msg(strcmp(val, c->value) == 0 && level == c->level &&
	    strcmp(owner, c->owner) == 0,
	    "%s %s: got %s from %s '%s', want %s from %s '%s'", c->addr,
	    c->name, val, address_level_name(level), owner, c->value,
	    address_level_name(c->level), c->owner);
	ck_assert_ptr_eq(settings_display(v, c->name, NULL, NULL), val);
	if (c->level == ADDRESS_LEVEL_USER)
		ck_assert_str_eq(settings_get_own(v, c->name), c->value);
	else
		ck_assert_ptr_null(settings_get_own(v, c->name));
	settings_view_free(&v);
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(domain_and_global_views)
{
	struct settings_view *v;
	enum address_level level;
	const char *error, *owner;

	build_example();
	ck_assert_int_eq(settings_view_domain(st, NULL, "A.Example.com", &v,
	    &error), 0);
	ck_assert_str_eq(settings_get(v, "encrypt-mode", &level, &owner),
	    "no-encryption");
	ck_assert_int_eq(level, ADDRESS_LEVEL_WILDCARD);
	ck_assert_ptr_null(settings_get_own(v, "encrypt-mode"));
	settings_view_free(&v);
	ck_assert_int_eq(settings_view_domain(st, NULL, "*.a.example.com", &v,
	    &error), 0);
	ck_assert_str_eq(settings_get_own(v, "locality"), "internal");
	ck_assert_str_eq(settings_get(v, "encrypt-mode", &level, &owner),
	    "no-encryption");
	ck_assert_str_eq(owner, "*.example.com");
	settings_view_free(&v);
	ck_assert_int_eq(settings_view_global(st, NULL, &v, &error), 0);
	ck_assert_str_eq(settings_get(v, "encrypt-mode", &level, NULL),
	    "mandatory");
	ck_assert_int_eq(level, ADDRESS_LEVEL_GLOBAL);
	ck_assert_int_eq(settings_get_bool(v, "smime.enabled"), 1);
	ck_assert_int_eq(settings_get_bool(v, "smime.strict"), 0);
	settings_view_free(&v);
	settings_view_free(&v);		/* NULL is fine */

	/* unset: back to what the next level says */
	ck_assert_int_eq(settings_unset(st, ADDRESS_LEVEL_GLOBAL, NULL,
	    "encrypt-mode", &error), 0);
	ck_assert_int_eq(settings_unset(st, ADDRESS_LEVEL_USER,
	    "alice@EXAMPLE.COM", "encrypt-mode", &error), 0);
	/* unsetting what is not set is not an error */
	ck_assert_int_eq(settings_unset(st, ADDRESS_LEVEL_USER,
	    "alice@example.com", "encrypt-mode", &error), 0);
	ck_assert_int_eq(settings_view_user(st, NULL, "erin@other.org", &v,
	    &error), 0);
	ck_assert_str_eq(settings_get(v, "encrypt-mode", &level, NULL),
	    "allow");
	ck_assert_int_eq(level, ADDRESS_LEVEL_FACTORY);
	settings_view_free(&v);
	ck_assert_int_eq(settings_view_user(st, NULL, "alice@example.com",
	    &v, &error), 0);
	ck_assert_str_eq(settings_get(v, "encrypt-mode", &level, NULL),
	    "force");
	settings_view_free(&v);
	ck_assert_int_eq(settings_view_user(st, NULL, "not an address", &v,
	    &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "bad address 'not an address'"));
}
END_TEST

/* --- set errors ----------------------------------------------------- */

static const struct set_err_case {
	enum address_level level;
	const char *owner, *name, *value, *want;
} set_errs[] = {
	{ ADDRESS_LEVEL_USER, "a@example.com", "server-secret", "x",
	    "'server-secret' cannot be set for a user: it may be set global "
	    "only" },
	{ ADDRESS_LEVEL_DOMAIN, "example.com", "security-info.signed-tag",
	    "[s]", "cannot be set for a domain" },
	{ ADDRESS_LEVEL_GLOBAL, NULL, "no-such", "x",
	    "unknown property 'no-such'" },
	{ ADDRESS_LEVEL_GLOBAL, NULL, "encrypt-mode", "sometimes",
	    "bad value 'sometimes' for 'encrypt-mode': want one of "
	    "no-encryption|allow|mandatory|force" },
	{ ADDRESS_LEVEL_USER, "no-at-sign", "locality", "internal",
	    "bad address 'no-at-sign'" },
	{ ADDRESS_LEVEL_USER, NULL, "locality", "internal",
	    "no user given" },
	{ ADDRESS_LEVEL_DOMAIN, "bad..domain", "locality", "internal",
	    "bad domain 'bad..domain'" },
	{ ADDRESS_LEVEL_FACTORY, NULL, "locality", "internal",
	    "factory level cannot be changed" },
	{ ADDRESS_LEVEL_GLOBAL, NULL, "force-encrypt.trigger", "X:(",
	    "'force-encrypt.trigger'" },
};

START_TEST(set_errors)
{
	const struct set_err_case *c = &set_errs[_i];
	const char *error = NULL;

	ck_assert_int_eq(settings_set(st, mkey, c->level, c->owner, c->name,
	    c->value, &error), -1);
	ck_assert_msg(strstr(error, c->want) != NULL, "got '%s', want '%s'",
	    error, c->want);
	/* nothing was created on the way */
	ck_assert_int_eq(settings_user_exists(st, "a@example.com"), 0);
	ck_assert_int_eq(settings_domain_exists(st, "example.com"), 0);
}
END_TEST

/* --- users and domains ---------------------------------------------- */

static int
collect(const char *name, void *arg)
{
	char *buf = arg;

	strcat(buf, name);
	strcat(buf, " ");
	return 0;
}

START_TEST(users_and_domains)
{
	struct settings_owner_info info;
	const char *error;
	char list[512];

	ck_assert_int_eq(settings_user_add(st, "<Bob@A.Example.com>",
	    &error), 0);
	ck_assert_int_eq(settings_user_add(st, "Bob@a.example.COM", &error),
	    0);	/* idempotent */
	ck_assert_int_eq(settings_user_add(st, "x@y.org", &error), 0);
	ck_assert_int_eq(settings_user_add(st, "nonsense", &error), -1);
	ck_assert_int_eq(settings_user_exists(st, "Bob@a.EXAMPLE.com"), 1);
	ck_assert_int_eq(settings_user_exists(st, "bob@a.example.com"), 0);
	ck_assert_int_eq(settings_domain_add(st, "EXAMPLE.com", &error), 0);
	ck_assert_int_eq(settings_domain_add(st, "*.example.com", &error), 0);
	ck_assert_int_eq(settings_domain_add(st, "*", &error), -1);
	ck_assert_int_eq(settings_domain_exists(st, "example.com"), 1);
	/* set on demand creates the owner */
	set_ok(ADDRESS_LEVEL_USER, "new@z.org", "locality", "internal");
	set_ok(ADDRESS_LEVEL_DOMAIN, "z.org", "locality", "internal");
	ck_assert_int_eq(settings_user_exists(st, "new@z.org"), 1);
	ck_assert_int_eq(settings_domain_exists(st, "z.org"), 1);

	list[0] = '\0';
	ck_assert_int_eq(settings_user_list(st, NULL, collect, list, &error),
	    0);
	ck_assert_str_eq(list, "Bob@a.example.com x@y.org new@z.org ");
	list[0] = '\0';
	ck_assert_int_eq(settings_user_list(st, "*.Example.com", collect,
	    list, &error), 0);
	ck_assert_str_eq(list, "Bob@a.example.com ");
	list[0] = '\0';
	ck_assert_int_eq(settings_user_list(st, "example.com", collect, list,
	    &error), 0);
	ck_assert_str_eq(list, "");
	list[0] = '\0';
	ck_assert_int_eq(settings_domain_list(st, collect, list, &error), 0);
	ck_assert_str_eq(list, "*.example.com example.com z.org ");

	ck_assert_int_eq(settings_domain_info(st, "*.example.com", &info,
	    &error), 1);
	ck_assert_int_eq(info.users, 1);
	ck_assert_int_eq(info.created[0] != '\0', 1);
	ck_assert_int_eq(settings_domain_info(st, "example.com", &info,
	    &error), 1);
	ck_assert_int_eq(info.users, 0);

	/* a domain in use is not deleted without force */
	ck_assert_int_eq(settings_domain_delete(st, "*.example.com", 0,
	    &error), -1);
	ck_assert_msg(strstr(error, "domain '*.example.com' has 1 user") !=
	    NULL, "got %s", error);
	ck_assert_int_eq(settings_domain_delete(st, "z.org", 0, &error), -1);
	ck_assert_int_eq(settings_domain_delete(st, "example.com", 0,
	    &error), 0);
	ck_assert_int_eq(settings_domain_delete(st, "example.com", 0,
	    &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "no domain 'example.com'"));
	ck_assert_int_eq(settings_domain_delete(st, "z.org", 1, &error), 0);
	ck_assert_int_eq(settings_user_exists(st, "new@z.org"), 1);

	/* deleting a user removes its settings */
	ck_assert_int_eq(settings_user_delete(st, "new@z.org", &error), 0);
	ck_assert_int_eq(settings_user_delete(st, "new@z.org", &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "no user 'new@z.org'"));
	{
		struct settings_view *v;
		enum address_level level;

		ck_assert_int_eq(settings_view_user(st, NULL, "new@z.org",
		    &v, &error), 0);
		ck_assert_str_eq(settings_get(v, "locality", &level, NULL),
		    "external");
		ck_assert_int_eq(level, ADDRESS_LEVEL_FACTORY);
		settings_view_free(&v);
	}
}
END_TEST

/* --- secrets -------------------------------------------------------- */

#define SENTINEL "plain-sentinel-7f3a9c"

START_TEST(secret_sealed)
{
	struct settings_view *v;
	struct secret_key *other;
	unsigned char raw[SECRET_KEY_LEN];
	const char *error;
	sqlite3 *h;
	sqlite3_stmt *stmt;
	int rows = 0;

	ck_assert_int_eq(settings_set(st, NULL, ADDRESS_LEVEL_GLOBAL, NULL,
	    "server-secret", SENTINEL, &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "needs the master key"));
	set_ok(ADDRESS_LEVEL_GLOBAL, NULL, "server-secret", SENTINEL);

	/* the raw row: no value, a sealed blob without the plaintext */
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT value, sealed FROM "
	    "settings WHERE name = 'server-secret'", -1, &stmt, NULL),
	    SQLITE_OK);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(stmt, 1);
		int len = sqlite3_column_bytes(stmt, 1);

		rows++;
		ck_assert_int_eq(sqlite3_column_type(stmt, 0), SQLITE_NULL);
		ck_assert_int_eq(len, (int)(strlen(SENTINEL) +
		    SECRET_OVERHEAD));
		ck_assert_ptr_null(memmem(blob, (size_t)len, SENTINEL,
		    strlen(SENTINEL)));
	}
	sqlite3_finalize(stmt);
	sqlite3_close(h);
	ck_assert_int_eq(rows, 1);

	/* opened with the key */
	ck_assert_int_eq(settings_view_user(st, mkey, "a@example.com", &v,
	    &error), 0);
	ck_assert_str_eq(settings_get(v, "server-secret", NULL, NULL),
	    SENTINEL);
	ck_assert_str_eq(settings_display(v, "server-secret", NULL, NULL),
	    SETTINGS_SECRET_MASK);
	settings_view_free(&v);
	/* without the key: NULL, and still masked for display */
	ck_assert_int_eq(settings_view_global(st, NULL, &v, &error), 0);
	ck_assert_ptr_null(settings_get(v, "server-secret", NULL, NULL));
	ck_assert_str_eq(settings_display_own(v, "server-secret"),
	    SETTINGS_SECRET_MASK);
	ck_assert_str_eq(settings_get(v, "locality", NULL, NULL), "external");
	settings_view_free(&v);
	/* another key: refused, never garbage */
	memset(raw, 0x5a, sizeof(raw));
	other = secret_key_from_bytes(raw, sizeof(raw));
	ck_assert_int_eq(settings_view_global(st, other, &v, &error), -1);
	ck_assert_ptr_null(v);
	ck_assert_msg(strstr(error, "cannot open secret 'server-secret' at "
	    "global") != NULL, "got %s", error);
	secret_key_free(&other);
}
END_TEST

/* A sealed value made for another row does not open in this one. */
START_TEST(secret_moved_row)
{
	static const char *const aads[] = {
		"setting:server-secret@user:a@example.com",
		"setting:smime.pfx-password@global:",
		"setting:server-secret@global:x",
	};
	struct settings_view *v;
	unsigned char *sealed;
	size_t len, i;
	const char *error;
	sqlite3_stmt *stmt;

	for (i = 0; i < sizeof(aads) / sizeof(aads[0]); i++) {
		ck_assert_int_eq(secret_seal(mkey, aads[i], SENTINEL,
		    strlen(SENTINEL), &sealed, &len, &error), 0);
		ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), "INSERT OR "
		    "REPLACE INTO settings (level, owner, name, sealed) VALUES "
		    "('global', '', 'server-secret', ?)", -1, &stmt, NULL),
		    SQLITE_OK);
		sqlite3_bind_blob(stmt, 1, sealed, (int)len, SQLITE_STATIC);
		ck_assert_int_eq(sqlite3_step(stmt), SQLITE_DONE);
		sqlite3_finalize(stmt);
		free(sealed);
		ck_assert_int_eq(settings_view_global(st, mkey, &v, &error),
		    -1);
		ck_assert_msg(strstr(error, "cannot open secret "
		    "'server-secret'") != NULL, "aad %s: got %s", aads[i],
		    error);
	}
	/* the right additional data opens */
	ck_assert_int_eq(secret_seal(mkey, "setting:server-secret@global:",
	    SENTINEL, strlen(SENTINEL), &sealed, &len, &error), 0);
	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), "UPDATE settings "
	    "SET sealed = ?", -1, &stmt, NULL), SQLITE_OK);
	sqlite3_bind_blob(stmt, 1, sealed, (int)len, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
	free(sealed);
	ck_assert_int_eq(settings_view_global(st, mkey, &v, &error), 0);
	ck_assert_str_eq(settings_get(v, "server-secret", NULL, NULL),
	    SENTINEL);
	settings_view_free(&v);
}
END_TEST

/* --- concurrency ---------------------------------------------------- */

#define WRITERS 2
#define ROUNDS 200

START_TEST(concurrent_writers)
{
	static const char *const modes[] = { "allow", "mandatory", "force" };
	pid_t pids[WRITERS];
	int i, status, ok = 0;

	for (i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			struct store *mine;
			const char *error;
			char addr[64];
			int r, fails = 0;

			if (store_open(&mine, db, 20000, 0, &error) < 0)
				tu_child_exit(2);
			for (r = 0; r < ROUNDS; r++) {
				snprintf(addr, sizeof(addr), "u%d-%d@w%d.org",
				    r, i, i);
				/* the same row from both, and own rows */
				fails += settings_set(mine, NULL,
				    ADDRESS_LEVEL_GLOBAL, NULL, "encrypt-mode",
				    modes[r % 3], &error) < 0;
				fails += settings_set(mine, NULL,
				    ADDRESS_LEVEL_USER, addr, "locality",
				    "internal", &error) < 0;
				fails += settings_domain_add(mine,
				    addr + strlen(addr) - 6, &error) < 0;
			}
			store_free(&mine);
			tu_child_exit(fails == 0 ? 0 : 1);
		}
	}
	for (i = 0; i < WRITERS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	ck_assert_msg(ok == WRITERS, "got %d writers succeeding, want %d", ok,
	    WRITERS);
	for (i = 0; i < WRITERS; i++) {
		char addr[64];
		struct settings_view *v;
		const char *error;
		enum address_level level;

		snprintf(addr, sizeof(addr), "u%d-%d@w%d.org", ROUNDS - 1, i,
		    i);
		ck_assert_int_eq(settings_user_exists(st, addr), 1);
		ck_assert_int_eq(settings_view_user(st, NULL, addr, &v,
		    &error), 0);
		ck_assert_str_eq(settings_get(v, "locality", &level, NULL),
		    "internal");
		ck_assert_int_eq(level, ADDRESS_LEVEL_USER);
		settings_view_free(&v);
	}
}
END_TEST

/* --- store failures ------------------------------------------------- */

START_TEST(store_read_only)
{
	struct settings_view *v;
	const char *error = NULL;

	set_ok(ADDRESS_LEVEL_GLOBAL, NULL, "encrypt-mode", "force");
	ck_assert_int_eq(sqlite3_exec(store_db(st), "PRAGMA query_only = 1",
	    NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(settings_set(st, mkey, ADDRESS_LEVEL_GLOBAL, NULL,
	    "encrypt-mode", "allow", &error), -1);
	ck_assert_msg(strstr(error, "readonly") != NULL ||
	    strstr(error, "read-only") != NULL, "got %s", error);
	ck_assert_int_eq(settings_user_add(st, "a@b.org", &error), -1);
	ck_assert_int_eq(settings_domain_add(st, "b.org", &error), -1);
	ck_assert_int_eq(settings_unset(st, ADDRESS_LEVEL_GLOBAL, NULL,
	    "encrypt-mode", &error), -1);
	/* reading still works, and the failed writes left nothing behind */
	ck_assert_int_eq(settings_view_global(st, mkey, &v, &error), 0);
	ck_assert_str_eq(settings_get(v, "encrypt-mode", NULL, NULL),
	    "force");
	settings_view_free(&v);
	/* the connection is usable again afterwards */
	ck_assert_int_eq(sqlite3_exec(store_db(st), "PRAGMA query_only = 0",
	    NULL, NULL, NULL), SQLITE_OK);
	set_ok(ADDRESS_LEVEL_GLOBAL, NULL, "encrypt-mode", "allow");
}
END_TEST

START_TEST(store_table_missing)
{
	struct settings_view *v = NULL;
	struct settings_owner_info info;
	const char *error = NULL;

	ck_assert_int_eq(sqlite3_exec(store_db(st), "DROP TABLE settings; "
	    "DROP TABLE users", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(settings_view_user(st, mkey, "a@b.org", &v, &error),
	    -1);
	ck_assert_ptr_null(v);
	ck_assert_msg(strstr(error, "no such table") != NULL, "got %s", error);
	ck_assert_int_eq(settings_set(st, mkey, ADDRESS_LEVEL_USER, "a@b.org",
	    "locality", "internal", &error), -1);
	ck_assert_int_eq(settings_user_info(st, "a@b.org", &info, &error), -1);
	ck_assert_int_eq(settings_user_exists(st, "a@b.org"), 0);
	ck_assert_int_eq(settings_domain_delete(st, "b.org", 0, &error), -1);
}
END_TEST

/* A row in the database that is sealed for a non-secret property. */
START_TEST(store_corrupt_row)
{
	struct settings_view *v = NULL;
	const char *error = NULL;

	ck_assert_int_eq(sqlite3_exec(store_db(st), "INSERT INTO settings "
	    "(level, owner, name, sealed) VALUES ('global', '', 'locality', "
	    "x'00')", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(settings_view_global(st, NULL, &v, &error), -1);
	ck_assert_msg(strstr(error, "'locality' at global '' is sealed but "
	    "not a secret") != NULL, "got %s", error);
	/* rows of properties this build does not know are ignored */
	ck_assert_int_eq(sqlite3_exec(store_db(st), "DELETE FROM settings; "
	    "INSERT INTO settings (level, owner, name, value) VALUES "
	    "('global', '', 'future.thing', 'x')", NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(settings_view_global(st, NULL, &v, &error), 0);
	settings_view_free(&v);
}
END_TEST

/* --- documentation -------------------------------------------------- */

START_TEST(man_page_agrees)
{
	char *page = tu_read_file("man/postern-settings.5", NULL);
	char *gen = NULL;
	size_t len = 0;
	FILE *fp;

	ck_assert_msg(page != NULL, "cannot read man/postern-settings.5");
	fp = open_memstream(&gen, &len);
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(settings_man_write(fp), 0);
	fclose(fp);
	ck_assert_msg(strcmp(page, gen) == 0, "man/postern-settings.5 "
	    "differs from the registry: run 'make man'");
	free(page);
	free(gen);
}
END_TEST

Suite *
settings_suite(void)
{
	Suite *s = suite_create("settings");
	TCase *tc;

	tc = tcase_create("registry");
	tcase_add_test(tc, registry_sane);
	tcase_add_loop_test(tc, check_values, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, error_value_sanitised);
	tcase_add_test(tc, man_page_agrees);
	suite_add_tcase(s, tc);

	tc = tcase_create("resolve");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, inheritance_example, 0,
	    sizeof(resolve) / sizeof(resolve[0]));
	tcase_add_test(tc, domain_and_global_views);
	tcase_add_loop_test(tc, set_errors, 0,
	    sizeof(set_errs) / sizeof(set_errs[0]));
	tcase_add_test(tc, users_and_domains);
	suite_add_tcase(s, tc);

	tc = tcase_create("secrets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, secret_sealed);
	tcase_add_test(tc, secret_moved_row);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, concurrent_writers);
	tcase_add_test(tc, store_read_only);
	tcase_add_test(tc, store_table_missing);
	tcase_add_test(tc, store_corrupt_row);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}
