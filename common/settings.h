/*
 * settings: the registry of per-user/domain/global properties and their
 * resolution with inheritance, as CipherMail does it:
 *
 *	user <- domain <- wildcard domain(s) <- global <- factory
 *
 * Registry: every property is one struct setting_def in a table
 * common/settings_defs_AREA.c (core, smime, pgp, ...), which defines
 *	const struct setting_def settings_defs_AREA[] = { ... };
 *	const size_t settings_ndefs_AREA = SETTINGS_NDEFS(settings_defs_AREA);
 * and is listed by one word in SETTINGS_TABLES at the top of settings.c
 * (adding a table is that one-line change).  Names are unique across
 * all tables, lowercase and dotted ("encrypt-mode", "smime.strict"),
 * and every default is valid for its type (a unit test checks).  postern-settings(5) is generated from the registry
 * and a test fails when the two disagree.
 *
 * Values are text in the database and are checked against the type on
 * every write (settings_check()): bool "true"/"false", enum one of
 * values ("a|b|c"), int/size within min..max (size takes k/m/g), regex
 * must compile (POSIX extended, with a leading "(?i)" meaning
 * case-insensitive), list is comma-separated, secret is stored sealed
 * under the master key and never printed (settings_display() masks it).
 * Limits: a value is at most SETTINGS_VALUE_MAX bytes and holds no
 * control characters.  "" is accepted by string, regex, list and secret
 * (meaning "none").  For string, list and regex, `values' is optional:
 * a list with values takes only those items; a string with values names
 * a format checked on write: "address" (local@domain),
 * "header-trigger" (HEADER[:REGEX]; REGEX "*" or "*." means any value,
 * as CipherMail's examples write it), "subject-filter" (/REGEX/ VALUE)
 * or "template" (a file name without '/', or an absolute path without
 * "." or ".." components).
 * Secrets are sealed with the additional data
 * "setting:NAME@LEVEL:OWNER" (LEVEL global, domain, wildcard or user).
 *
 * Resolution returns the value and where it came from: the level and
 * the owner (user address, domain or wildcard; "" for global/factory).
 * A struct settings_view loads every row of one chain with one query and
 * answers any number of lookups from memory: the milter and the encryptor
 * build one per recipient and one for the originator.
 *
 * Users and domains: created explicitly (settings_user_add,
 * settings_domain_add; both succeed when the owner exists) or on demand
 * when a property is set for them.  Deleting a user deletes its
 * settings; deleting a domain (with force while it has users) deletes
 * the domain's settings, never its users.
 * A user that does not exist still resolves (through its domain,
 * wildcards and global).  Every user and domain is "external" until set
 * otherwise (factory default of "locality").
 *
 * Ownership: views are freed with settings_view_free() (accepts NULL,
 * clears the pointer).  Strings returned by a view belong to the view.
 * Every function returns 0 or -1 with *error_r; nothing is logged.
 * The store and secret key are borrowed, not owned.
 */
#ifndef POSTERN_SETTINGS_H
#define POSTERN_SETTINGS_H

#include <regex.h>
#include <stddef.h>
#include <stdio.h>

#include "address.h"

#define SETTINGS_VALUE_MAX 4096

struct store;
struct secret_key;

enum setting_type {
	SETTING_BOOL,
	SETTING_ENUM,
	SETTING_INT,
	SETTING_SIZE,
	SETTING_STRING,
	SETTING_REGEX,
	SETTING_SECRET,
	SETTING_LIST,
};

/* Where a property may be set. */
enum setting_scope {
	SETTING_SCOPE_GLOBAL = 1 << 0,
	SETTING_SCOPE_DOMAIN = 1 << 1,	/* domains and wildcard domains */
	SETTING_SCOPE_USER = 1 << 2,
	SETTING_SCOPE_ALL = 7,
};

/* For whom the property is read. */
enum setting_role {
	SETTING_ROLE_SENDER = 1 << 0,
	SETTING_ROLE_RECIPIENT = 1 << 1,
	SETTING_ROLE_BOTH = 3,
	SETTING_ROLE_SYSTEM = 1 << 2,	/* neither: gateway-wide */
};

struct setting_def {
	const char *name;
	enum setting_type type;
	const char *def;	/* factory default, as text ("" allowed) */
	const char *values;	/* SETTING_ENUM: "a|b|c" */
	long long min, max;	/* SETTING_INT / SETTING_SIZE */
	unsigned scopes;	/* enum setting_scope bits */
	unsigned roles;		/* enum setting_role bits */
	const char *doc;	/* one line */
};

#define SETTINGS_NDEFS(a) (sizeof(a) / sizeof((a)[0]))

/* Registry. */
size_t settings_count(void);
const struct setting_def *settings_at(size_t i);
const struct setting_def *settings_find(const char *name);
const char *settings_type_name(enum setting_type type);
/* Is value acceptable for def?  Error names the property and what is
 * allowed: "bad value 'x' for 'encrypt-mode': want one of ...". */
int settings_check(const struct setting_def *def, const char *value,
    const char **error_r);

/*
 * Compile a pattern as settings do: POSIX extended; a leading "(?i)"
 * makes it case-insensitive.  On success the caller regfree()s re.
 */
int settings_regcomp(regex_t *re, const char *pattern, int extra_flags,
    const char **error_r);

/* Users and domains. */
int settings_user_add(struct store *st, const char *addr,
    const char **error_r);
/* Deletes the user and its settings. */
int settings_user_delete(struct store *st, const char *addr,
    const char **error_r);
int settings_domain_add(struct store *st, const char *domain,
    const char **error_r);
/* Refused while users of that domain exist, unless force. */
int settings_domain_delete(struct store *st, const char *domain, int force,
    const char **error_r);
int settings_user_exists(struct store *st, const char *addr);
int settings_domain_exists(struct store *st, const char *domain);
/* Lists: callback per row, stops early on non-zero return. */
int settings_user_list(struct store *st, const char *domain_filter,
    int (*cb)(const char *addr, void *arg), void *arg, const char **error_r);
int settings_domain_list(struct store *st,
    int (*cb)(const char *domain, void *arg), void *arg,
    const char **error_r);

/*
 * Set or unset one property at one level.  level is GLOBAL (owner
 * ignored), DOMAIN or WILDCARD (owner: the domain), or USER (owner: the
 * address).  Creates the user or domain on demand.  The value is checked
 * with settings_check(); secrets need the master key.
 */
int settings_set(struct store *st, const struct secret_key *mkey,
    enum address_level level, const char *owner, const char *name,
    const char *value, const char **error_r);
int settings_unset(struct store *st, enum address_level level,
    const char *owner, const char *name, const char **error_r);

/*
 * Info about one user or domain (for "show"); the strings are copied
 * into the caller's struct.  Returns 1 found, 0 not found, -1 error.
 */
struct settings_owner_info {
	char name[ADDRESS_MAX + 1];
	char created[32];
	long long users;	/* domains: users of that domain */
};
int settings_user_info(struct store *st, const char *addr,
    struct settings_owner_info *info, const char **error_r);
int settings_domain_info(struct store *st, const char *domain,
    struct settings_owner_info *info, const char **error_r);

/* Resolution. */
struct settings_view;

int settings_view_user(struct store *st, const struct secret_key *mkey,
    const char *addr, struct settings_view **view_r, const char **error_r);
int settings_view_domain(struct store *st, const struct secret_key *mkey,
    const char *domain, struct settings_view **view_r, const char **error_r);
int settings_view_global(struct store *st, const struct secret_key *mkey,
    struct settings_view **view_r, const char **error_r);
void settings_view_free(struct settings_view **view);

/*
 * The effective value of name, and where it came from (level_r, owner_r
 * may be NULL).  Secrets are returned opened (needs the master key given
 * to the view; without one, a secret set anywhere in the chain is an
 * error).  Unknown names log_panic(): they are programming errors.
 * In detail: a view built with a master key opens every secret of the
 * chain at once, and a secret that does not open (wrong key, row moved)
 * fails the view; a view built without a key answers NULL for a secret
 * that has a value and everything else normally.
 */
const char *settings_get(struct settings_view *view, const char *name,
    enum address_level *level_r, const char **owner_r);
int settings_get_bool(struct settings_view *view, const char *name);
long long settings_get_int(struct settings_view *view, const char *name);
/* The value set at exactly the view's own level, or NULL (inherited). */
const char *settings_get_own(struct settings_view *view, const char *name);
/*
 * As settings_get()/settings_get_own(), for printing: a secret shows as
 * SETTINGS_SECRET_MASK when it has a value (set or default), never as
 * plaintext.  Works on views built without the master key.
 */
#define SETTINGS_SECRET_MASK "(secret)"
const char *settings_display(struct settings_view *view, const char *name,
    enum address_level *level_r, const char **owner_r);
const char *settings_display_own(struct settings_view *view,
    const char *name);

/*
 * postern-settings(5): the mdoc page describing the registry, written to
 * fp.  Deterministic (no dates of today), so the committed page can be
 * compared with the output.  -1 on a write error.
 */
int settings_man_write(FILE *fp);

#endif
