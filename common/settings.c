/* settings: registry, checks, users/domains and resolution (see header). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "log.h"
#include "secret.h"
#include "settings.h"
#include "store_settings.h"

/*
 * The registry tables, one word each: to add common/settings_defs_AREA.c
 * append X(AREA) here.  Order is the order of "settings list" and of
 * postern-settings(5).
 */
#define SETTINGS_TABLES(X) X(core) X(smime) X(pgp)

#define DECLARE(area)							\
	extern const struct setting_def settings_defs_##area[];		\
	extern const size_t settings_ndefs_##area;
#define ENTRY(area) { settings_defs_##area, &settings_ndefs_##area },

SETTINGS_TABLES(DECLARE)

static const struct {
	const struct setting_def *defs;
	const size_t *n;
} tables[] = { SETTINGS_TABLES(ENTRY) };

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

size_t
settings_count(void)
{
	size_t i, n = 0;

	for (i = 0; i < NTABLES; i++)
		n += *tables[i].n;
	return n;
}

const struct setting_def *
settings_at(size_t i)
{
	size_t t;

	for (t = 0; t < NTABLES; t++) {
		if (i < *tables[t].n)
			return &tables[t].defs[i];
		i -= *tables[t].n;
	}
	return NULL;
}

/* Index of name in the registry, or SIZE_MAX. */
static size_t
settings_index(const char *name)
{
	size_t t, i, base = 0;

	for (t = 0; t < NTABLES; t++) {
		for (i = 0; i < *tables[t].n; i++)
			if (strcmp(tables[t].defs[i].name, name) == 0)
				return base + i;
		base += *tables[t].n;
	}
	return SIZE_MAX;
}

const struct setting_def *
settings_find(const char *name)
{
	size_t i = settings_index(name);

	return i == SIZE_MAX ? NULL : settings_at(i);
}

const char *
settings_type_name(enum setting_type type)
{
	switch (type) {
	case SETTING_BOOL:
		return "bool";
	case SETTING_ENUM:
		return "enum";
	case SETTING_INT:
		return "int";
	case SETTING_SIZE:
		return "size";
	case SETTING_STRING:
		return "string";
	case SETTING_REGEX:
		return "regex";
	case SETTING_SECRET:
		return "secret";
	case SETTING_LIST:
		return "list";
	}
	return "?";
}

/* value made safe for an error message: printable, at most 64 bytes. */
static const char *
shown(const char *value)
{
	char s[72];
	size_t i;

	for (i = 0; value[i] != '\0' && i < 64; i++)
		s[i] = isprint((unsigned char)value[i]) ? value[i] : '?';
	s[i] = '\0';
	return err_fmt("%s%s", s, value[i] != '\0' ? "..." : "");
}

static int
bad(const struct setting_def *def, const char *value, const char *want,
    const char **error_r)
{
	return err_set(error_r, "bad value '%s' for '%s': %s", shown(value),
	    def->name, want);
}

int
settings_regcomp(regex_t *re, const char *pattern, int extra_flags,
    const char **error_r)
{
	int flags = REG_EXTENDED | extra_flags, rc;
	char msg[256];

	if (strncmp(pattern, "(?i)", 4) == 0) {
		flags |= REG_ICASE;
		pattern += 4;
	}
	rc = regcomp(re, pattern, flags);
	if (rc != 0) {
		regerror(rc, re, msg, sizeof(msg));
		return err_set(error_r, "%s", msg);
	}
	return 0;
}

static int
regex_ok(const char *pattern, const char **error_r)
{
	regex_t re;

	if (settings_regcomp(&re, pattern, REG_NOSUB, error_r) < 0)
		return 0;
	regfree(&re);
	return 1;
}

/* Is word (len l) one of "a|b|c"? */
static int
in_values(const char *values, const char *word, size_t l)
{
	const char *p = values;

	while (*p != '\0') {
		size_t n = strcspn(p, "|");

		if (n == l && strncmp(p, word, l) == 0)
			return 1;
		p += n;
		if (*p == '|')
			p++;
	}
	return 0;
}

/* int or size text -> number; 0 or -1 with the reason (no name). */
static int
parse_number(const struct setting_def *def, const char *value,
    long long *n_r)
{
	long long n, mult = 1;
	char *end;

	errno = 0;
	if (value[0] == '\0' || isspace((unsigned char)value[0]))
		return -1;
	n = strtoll(value, &end, 10);
	if (end == value || errno != 0)
		return -1;
	if (def->type == SETTING_SIZE && *end != '\0') {
		if (strcasecmp(end, "k") == 0)
			mult = 1024LL;
		else if (strcasecmp(end, "m") == 0)
			mult = 1024LL * 1024;
		else if (strcasecmp(end, "g") == 0)
			mult = 1024LL * 1024 * 1024;
		else
			return -1;
		end += strlen(end);
	}
	if (*end != '\0')
		return -1;
	if (n > 0 && n > LLONG_MAX / mult)
		return -1;
	if (n < 0 && n < LLONG_MIN / mult)
		return -1;
	*n_r = n * mult;
	return 0;
}

static int
check_header_trigger(const struct setting_def *def, const char *value,
    const char **error_r)
{
	size_t hl = strcspn(value, ":");
	const char *error, *p;

	if (value[0] == '\0')
		return 0;
	if (hl == 0)
		return bad(def, value, "want HEADER[:REGEX] with a header "
		    "name", error_r);
	for (p = value; p < value + hl; p++)
		if (*p <= 32 || *p >= 127)
			return bad(def, value, "want HEADER[:REGEX]: bad "
			    "character in the header name", error_r);
	if (value[hl] == ':' && value[hl + 1] != '\0' &&
	    strcmp(value + hl + 1, "*") != 0 &&
	    strcmp(value + hl + 1, "*.") != 0 &&
	    !regex_ok(value + hl + 1, &error))
		return bad(def, value, err_fmt("want HEADER[:REGEX]: %s",
		    error), error_r);
	return 0;
}

/* A template: "name.eml" (in template_directory) or "/abs/path". */
static int
check_template(const struct setting_def *def, const char *value,
    const char **error_r)
{
	const char *p;

	if (value[0] == '\0')
		return 0;
	if (value[0] != '/') {
		if (strchr(value, '/') != NULL || value[0] == '.')
			return bad(def, value, "want a file name in "
			    "template_directory or an absolute path", error_r);
		return 0;
	}
	for (p = value; *p != '\0'; p++) {
		size_t l;

		if (*p != '/')
			continue;
		l = strcspn(p + 1, "/");
		if ((l == 1 && p[1] == '.') || (l == 2 && p[1] == '.' &&
		    p[2] == '.'))
			return bad(def, value, "want an absolute path without "
			    "'.' or '..'", error_r);
	}
	return 0;
}

/* "/REGEX/ VALUE": the end of REGEX is the first unescaped '/' that is
 * followed by whitespace or the end. */
static int
check_subject_filter(const struct setting_def *def, const char *value,
    const char **error_r)
{
	const char *p, *error;
	char *re;
	int ok;

	if (value[0] == '\0')
		return 0;
	if (value[0] != '/')
		return bad(def, value, "want /REGEX/ VALUE", error_r);
	for (p = value + 1; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '/' && (p[1] == '\0' || p[1] == ' ' ||
		    p[1] == '\t'))
			break;
	}
	if (*p != '/' || p == value + 1)
		return bad(def, value, "want /REGEX/ VALUE", error_r);
	re = strndup(value + 1, (size_t)(p - value - 1));
	if (re == NULL)
		return err_set(error_r, "out of memory");
	ok = regex_ok(re, &error);
	free(re);
	if (!ok)
		return bad(def, value, err_fmt("want /REGEX/ VALUE: %s", error),
		    error_r);
	return 0;
}

static int
check_list(const struct setting_def *def, const char *value,
    const char **error_r)
{
	const char *p = value;

	if (*p == '\0')
		return 0;
	for (;;) {
		size_t l = strcspn(p, ",");
		const char *s = p, *e = p + l;

		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e)
			return bad(def, value, "want a comma-separated list "
			    "without empty items", error_r);
		if (def->values != NULL &&
		    !in_values(def->values, s, (size_t)(e - s)))
			return bad(def, value, err_fmt("want a comma-separated "
			    "list of %s", def->values), error_r);
		if (p[l] == '\0')
			return 0;
		p += l + 1;
	}
}

int
settings_check(const struct setting_def *def, const char *value,
    const char **error_r)
{
	const char *p, *error;
	long long n;

	if (strlen(value) > SETTINGS_VALUE_MAX)
		return bad(def, value, err_fmt("longer than %d bytes",
		    SETTINGS_VALUE_MAX), error_r);
	for (p = value; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return bad(def, value, "control characters are not "
			    "allowed", error_r);
	switch (def->type) {
	case SETTING_BOOL:
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
			return bad(def, value, "want true or false", error_r);
		return 0;
	case SETTING_ENUM:
		if (!in_values(def->values, value, strlen(value)))
			return bad(def, value, err_fmt("want one of %s",
			    def->values), error_r);
		return 0;
	case SETTING_INT:
	case SETTING_SIZE:
		if (parse_number(def, value, &n) < 0 || n < def->min ||
		    n > def->max)
			return bad(def, value, err_fmt("want %s from %lld to "
			    "%lld%s", def->type == SETTING_INT ? "an integer" :
			    "a size", def->min, def->max,
			    def->type == SETTING_SIZE ?
			    " bytes (suffix k, m or g allowed)" : ""),
			    error_r);
		return 0;
	case SETTING_STRING:
		if (def->values == NULL || value[0] == '\0')
			return 0;
		if (strcmp(def->values, "address") == 0) {
			char a[ADDRESS_MAX + 1];

			if (address_normalize(value, a, sizeof(a)) < 0)
				return bad(def, value, "want an address "
				    "local@domain", error_r);
			return 0;
		}
		if (strcmp(def->values, "header-trigger") == 0)
			return check_header_trigger(def, value, error_r);
		if (strcmp(def->values, "subject-filter") == 0)
			return check_subject_filter(def, value, error_r);
		if (strcmp(def->values, "template") == 0)
			return check_template(def, value, error_r);
		log_panic(NULL, "settings: '%s' has unknown format '%s'",
		    def->name, def->values);
	case SETTING_REGEX:
		if (value[0] != '\0' && !regex_ok(value, &error))
			return bad(def, value, err_fmt("want a POSIX extended "
			    "regular expression: %s", error), error_r);
		return 0;
	case SETTING_LIST:
		return check_list(def, value, error_r);
	case SETTING_SECRET:
		return 0;
	}
	return bad(def, value, "unknown type", error_r);
}

/* --- users and domains ---------------------------------------------- */

static int
norm_addr(const char *in, char *out, const char **error_r)
{
	if (address_normalize(in, out, ADDRESS_MAX + 1) < 0)
		return err_set(error_r, "bad address '%s': want local@domain",
		    shown(in));
	return 0;
}

static int
norm_domain(const char *in, char *out, const char **error_r)
{
	if (domain_normalize(in, out, DOMAIN_MAX + 1) < 0)
		return err_set(error_r, "bad domain '%s': want example.com "
		    "or *.example.com", shown(in));
	return 0;
}

int
settings_user_add(struct store *st, const char *addr, const char **error_r)
{
	char a[ADDRESS_MAX + 1];

	if (norm_addr(addr, a, error_r) < 0)
		return -1;
	return store_user_add(st, a, address_domain(a), error_r);
}

int
settings_user_delete(struct store *st, const char *addr,
    const char **error_r)
{
	char a[ADDRESS_MAX + 1];
	int found;

	if (norm_addr(addr, a, error_r) < 0 ||
	    store_user_delete(st, a, &found, error_r) < 0)
		return -1;
	if (!found)
		return err_set(error_r, "no user '%s'", a);
	return 0;
}

int
settings_domain_add(struct store *st, const char *domain,
    const char **error_r)
{
	char d[DOMAIN_MAX + 1];

	if (norm_domain(domain, d, error_r) < 0)
		return -1;
	return store_domain_add(st, d, error_r);
}

int
settings_domain_delete(struct store *st, const char *domain, int force,
    const char **error_r)
{
	char d[DOMAIN_MAX + 1];
	int found;

	if (norm_domain(domain, d, error_r) < 0 ||
	    store_domain_delete(st, d, force, &found, error_r) < 0)
		return -1;
	if (!found)
		return err_set(error_r, "no domain '%s'", d);
	return 0;
}

int
settings_user_exists(struct store *st, const char *addr)
{
	struct settings_owner_info info;

	return settings_user_info(st, addr, &info, NULL) == 1;
}

int
settings_domain_exists(struct store *st, const char *domain)
{
	struct settings_owner_info info;

	return settings_domain_info(st, domain, &info, NULL) == 1;
}

int
settings_user_info(struct store *st, const char *addr,
    struct settings_owner_info *info, const char **error_r)
{
	memset(info, 0, sizeof(*info));
	if (norm_addr(addr, info->name, error_r) < 0)
		return -1;
	return store_user_get(st, info->name, info->created,
	    sizeof(info->created), error_r);
}

int
settings_domain_info(struct store *st, const char *domain,
    struct settings_owner_info *info, const char **error_r)
{
	memset(info, 0, sizeof(*info));
	if (norm_domain(domain, info->name, error_r) < 0)
		return -1;
	return store_domain_get(st, info->name, info->created,
	    sizeof(info->created), &info->users, error_r);
}

int
settings_user_list(struct store *st, const char *domain_filter,
    int (*cb)(const char *addr, void *arg), void *arg, const char **error_r)
{
	char d[DOMAIN_MAX + 1];

	if (domain_filter == NULL)
		return store_user_list(st, NULL, cb, arg, error_r);
	if (norm_domain(domain_filter, d, error_r) < 0)
		return -1;
	return store_user_list(st, d, cb, arg, error_r);
}

int
settings_domain_list(struct store *st,
    int (*cb)(const char *domain, void *arg), void *arg,
    const char **error_r)
{
	return store_domain_list(st, cb, arg, error_r);
}

/* --- set / unset ---------------------------------------------------- */

static const char *
scope_word(enum address_level level)
{
	switch (level) {
	case ADDRESS_LEVEL_USER:
		return "a user";
	case ADDRESS_LEVEL_DOMAIN:
	case ADDRESS_LEVEL_WILDCARD:
		return "a domain";
	default:
		return "global";
	}
}

static const char *
scopes_text(unsigned scopes)
{
	return err_fmt("%s%s%s%s%s",
	    scopes & SETTING_SCOPE_GLOBAL ? "global" : "",
	    (scopes & SETTING_SCOPE_GLOBAL) && (scopes & ~1u) ? "," : "",
	    scopes & SETTING_SCOPE_DOMAIN ? "domain" : "",
	    (scopes & SETTING_SCOPE_DOMAIN) && (scopes & SETTING_SCOPE_USER) ?
	    "," : "",
	    scopes & SETTING_SCOPE_USER ? "user" : "");
}

/*
 * Resolve def, level and owner to their normal form; owner_out gets ""
 * for global.  Checks the scope.
 */
static int
prepare_level(const char *name, enum address_level *level,
    const char *owner, char *owner_out, const struct setting_def **def_r,
    const char **error_r)
{
	const struct setting_def *def = settings_find(name);
	unsigned need;

	if (def == NULL)
		return err_set(error_r, "unknown property '%s' (see "
		    "'posternctl settings list')", shown(name));
	*def_r = def;
	owner_out[0] = '\0';
	switch (*level) {
	case ADDRESS_LEVEL_USER:
		need = SETTING_SCOPE_USER;
		if (owner == NULL || norm_addr(owner, owner_out, error_r) < 0)
			return owner == NULL ?
			    err_set(error_r, "no user given") : -1;
		break;
	case ADDRESS_LEVEL_DOMAIN:
	case ADDRESS_LEVEL_WILDCARD:
		need = SETTING_SCOPE_DOMAIN;
		if (owner == NULL || norm_domain(owner, owner_out,
		    error_r) < 0)
			return owner == NULL ?
			    err_set(error_r, "no domain given") : -1;
		*level = domain_is_wildcard(owner_out) ?
		    ADDRESS_LEVEL_WILDCARD : ADDRESS_LEVEL_DOMAIN;
		break;
	case ADDRESS_LEVEL_GLOBAL:
		need = SETTING_SCOPE_GLOBAL;
		break;
	default:
		return err_set(error_r, "the factory level cannot be changed");
	}
	if (!(def->scopes & need))
		return err_set(error_r, "'%s' cannot be set for %s: it may be "
		    "set %s only", def->name, scope_word(*level),
		    scopes_text(def->scopes));
	return 0;
}

static const char *
secret_aad(const char *name, enum address_level level, const char *owner)
{
	return err_fmt("setting:%s@%s:%s", name, address_level_name(level),
	    owner);
}

int
settings_set(struct store *st, const struct secret_key *mkey,
    enum address_level level, const char *owner, const char *name,
    const char *value, const char **error_r)
{
	const struct setting_def *def;
	char o[ADDRESS_MAX + 1];
	unsigned char *sealed = NULL;
	size_t sealed_len = 0;
	int rc;

	if (prepare_level(name, &level, owner, o, &def, error_r) < 0 ||
	    settings_check(def, value, error_r) < 0)
		return -1;
	if (def->type == SETTING_SECRET) {
		if (mkey == NULL)
			return err_set(error_r, "'%s' is a secret: setting it "
			    "needs the master key", def->name);
		if (secret_seal(mkey, secret_aad(def->name, level, o), value,
		    strlen(value), &sealed, &sealed_len, error_r) < 0)
			return -1;
	}
	rc = store_settings_put(st, level, o, def->name,
	    sealed == NULL ? value : NULL, sealed, sealed_len, error_r);
	free(sealed);
	return rc;
}

int
settings_unset(struct store *st, enum address_level level,
    const char *owner, const char *name, const char **error_r)
{
	const struct setting_def *def;
	char o[ADDRESS_MAX + 1];
	int removed;

	if (prepare_level(name, &level, owner, o, &def, error_r) < 0)
		return -1;
	return store_settings_del(st, level, o, def->name, &removed, error_r);
}

/* --- views ---------------------------------------------------------- */

#define POS_NONE SIZE_MAX

struct view_ent {
	size_t pos;		/* chain index of the winning row */
	char *value;		/* text, opened secret, or NULL */
	size_t value_len;
	unsigned char *sealed;	/* winning sealed row until opened */
	size_t sealed_len;
};

struct settings_view {
	struct address_chain chain;
	size_t n;
	struct view_ent *ent;
	const char *error;	/* set by the load callback */
};

static void
ent_clear(struct view_ent *e)
{
	if (e->value != NULL)
		secret_wipe_free(e->value, e->value_len);
	free(e->sealed);
	e->value = NULL;
	e->sealed = NULL;
	e->value_len = e->sealed_len = 0;
}

void
settings_view_free(struct settings_view **vp)
{
	struct settings_view *v = *vp;
	size_t i;

	if (v == NULL)
		return;
	*vp = NULL;
	for (i = 0; i < v->n; i++)
		ent_clear(&v->ent[i]);
	free(v->ent);
	free(v);
}

static int
view_row(const struct store_setting_row *row, void *arg)
{
	struct settings_view *v = arg;
	const struct setting_def *def;
	struct view_ent *e;
	size_t idx, pos;

	idx = settings_index(row->name);
	if (idx == SIZE_MAX)
		return 0;	/* a property this build does not know */
	def = settings_at(idx);
	for (pos = 0; pos < v->chain.n; pos++)
		if (v->chain.item[pos].level == row->level &&
		    strcmp(v->chain.item[pos].owner, row->owner) == 0)
			break;
	if (pos == v->chain.n)
		return 0;
	e = &v->ent[idx];
	if (e->pos != POS_NONE && e->pos <= pos)
		return 0;
	if ((def->type == SETTING_SECRET) != (row->sealed != NULL)) {
		v->error = err_fmt("'%s' at %s '%s' is %s in the database",
		    def->name, address_level_name(row->level), row->owner,
		    row->sealed != NULL ? "sealed but not a secret" :
		    "a secret stored unsealed");
		return -1;
	}
	ent_clear(e);
	e->pos = pos;
	if (row->sealed != NULL) {
		e->sealed = malloc(row->sealed_len ? row->sealed_len : 1);
		if (e->sealed == NULL)
			goto nomem;
		memcpy(e->sealed, row->sealed, row->sealed_len);
		e->sealed_len = row->sealed_len;
	} else {
		e->value = strdup(row->value);
		if (e->value == NULL)
			goto nomem;
		e->value_len = strlen(e->value);
	}
	return 0;
nomem:
	v->error = "out of memory";
	return -1;
}

static int
view_open_secrets(struct settings_view *v, const struct secret_key *mkey,
    const char **error_r)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		struct view_ent *e = &v->ent[i];
		const struct address_chain_item *it;
		unsigned char *plain;
		size_t len;
		const char *error;

		if (e->sealed == NULL)
			continue;
		it = &v->chain.item[e->pos];
		if (secret_open(mkey, secret_aad(settings_at(i)->name,
		    it->level, it->owner), e->sealed, e->sealed_len, &plain,
		    &len, &error) < 0)
			return err_set(error_r, "cannot open secret '%s' at "
			    "%s '%s': %s", settings_at(i)->name,
			    address_level_name(it->level), it->owner, error);
		free(e->sealed);
		e->sealed = NULL;
		e->sealed_len = 0;
		e->value = (char *)plain;
		e->value_len = len;
	}
	return 0;
}

static int
view_load(struct store *st, const struct secret_key *mkey,
    struct settings_view *v, struct settings_view **view_r,
    const char **error_r)
{
	size_t i;

	v->n = settings_count();
	v->ent = calloc(v->n ? v->n : 1, sizeof(*v->ent));
	if (v->ent == NULL) {
		free(v);
		return err_set(error_r, "out of memory");
	}
	for (i = 0; i < v->n; i++)
		v->ent[i].pos = POS_NONE;
	if (store_settings_load(st, &v->chain, view_row, v, error_r) < 0) {
		if (v->error != NULL)
			err_set(error_r, "%s", v->error);
		goto fail;
	}
	if (mkey != NULL && view_open_secrets(v, mkey, error_r) < 0)
		goto fail;
	*view_r = v;
	return 0;
fail:
	settings_view_free(&v);
	return -1;
}

static struct settings_view *
view_alloc(void)
{
	return calloc(1, sizeof(struct settings_view));
}

int
settings_view_user(struct store *st, const struct secret_key *mkey,
    const char *addr, struct settings_view **view_r, const char **error_r)
{
	struct settings_view *v;

	*view_r = NULL;
	if ((v = view_alloc()) == NULL)
		return err_set(error_r, "out of memory");
	if (address_chain_user(addr, &v->chain) < 0) {
		free(v);
		return err_set(error_r, "bad address '%s': want local@domain",
		    shown(addr));
	}
	return view_load(st, mkey, v, view_r, error_r);
}

int
settings_view_domain(struct store *st, const struct secret_key *mkey,
    const char *domain, struct settings_view **view_r, const char **error_r)
{
	struct settings_view *v;

	*view_r = NULL;
	if ((v = view_alloc()) == NULL)
		return err_set(error_r, "out of memory");
	if (address_chain_domain(domain, &v->chain) < 0) {
		free(v);
		return err_set(error_r, "bad domain '%s': want example.com "
		    "or *.example.com", shown(domain));
	}
	return view_load(st, mkey, v, view_r, error_r);
}

int
settings_view_global(struct store *st, const struct secret_key *mkey,
    struct settings_view **view_r, const char **error_r)
{
	struct settings_view *v;

	*view_r = NULL;
	if ((v = view_alloc()) == NULL)
		return err_set(error_r, "out of memory");
	address_chain_global(&v->chain);
	return view_load(st, mkey, v, view_r, error_r);
}

static struct view_ent *
view_ent(struct settings_view *v, const char *name,
    const struct setting_def **def_r)
{
	size_t i = settings_index(name);

	if (i == SIZE_MAX)
		log_panic(NULL, "settings: unknown property '%s'", name);
	*def_r = settings_at(i);
	return &v->ent[i];
}

const char *
settings_get(struct settings_view *v, const char *name,
    enum address_level *level_r, const char **owner_r)
{
	const struct setting_def *def;
	struct view_ent *e = view_ent(v, name, &def);

	if (e->pos == POS_NONE) {
		if (level_r != NULL)
			*level_r = ADDRESS_LEVEL_FACTORY;
		if (owner_r != NULL)
			*owner_r = "";
		return def->def;
	}
	if (level_r != NULL)
		*level_r = v->chain.item[e->pos].level;
	if (owner_r != NULL)
		*owner_r = v->chain.item[e->pos].owner;
	return e->value;	/* NULL: a secret not opened */
}

int
settings_get_bool(struct settings_view *v, const char *name)
{
	const struct setting_def *def;
	const char *val;

	(void)view_ent(v, name, &def);
	if (def->type != SETTING_BOOL)
		log_panic(NULL, "settings: '%s' is not a bool", name);
	val = settings_get(v, name, NULL, NULL);
	return val != NULL && strcmp(val, "true") == 0;
}

long long
settings_get_int(struct settings_view *v, const char *name)
{
	const struct setting_def *def;
	const char *val;
	long long n = 0;

	(void)view_ent(v, name, &def);
	if (def->type != SETTING_INT && def->type != SETTING_SIZE)
		log_panic(NULL, "settings: '%s' is not a number", name);
	val = settings_get(v, name, NULL, NULL);
	/* every stored value was checked on write; the default by a test */
	if (val == NULL || parse_number(def, val, &n) < 0)
		log_panic(NULL, "settings: '%s' holds no number", name);
	return n;
}

const char *
settings_get_own(struct settings_view *v, const char *name)
{
	const struct setting_def *def;
	struct view_ent *e = view_ent(v, name, &def);

	return e->pos == 0 ? e->value : NULL;
}

static const char *
mask(const struct setting_def *def, const struct view_ent *e,
    const char *val)
{
	if (def->type != SETTING_SECRET)
		return val;
	if (e->pos == POS_NONE)
		return def->def[0] != '\0' ? SETTINGS_SECRET_MASK : "";
	return SETTINGS_SECRET_MASK;
}

const char *
settings_display(struct settings_view *v, const char *name,
    enum address_level *level_r, const char **owner_r)
{
	const struct setting_def *def;
	struct view_ent *e = view_ent(v, name, &def);

	return mask(def, e, settings_get(v, name, level_r, owner_r));
}

const char *
settings_display_own(struct settings_view *v, const char *name)
{
	const struct setting_def *def;
	struct view_ent *e = view_ent(v, name, &def);

	if (e->pos != 0)
		return NULL;
	return mask(def, e, e->value);
}
