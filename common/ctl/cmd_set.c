/*
 * posternctl set|unset|get: properties at one level, and their
 * effective values with the level they come from (see posternctl(8)).
 * Secrets are never printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_level.h"
#include "settings.h"

static const char *
owner_of(const struct ctl_args *a)
{
	return a->level == ADDRESS_LEVEL_GLOBAL ? "" : a->owner;
}

/*
 * A secret given as "-" is read from standard input (one line, without
 * its newline), so it does not show in the process list.  *buf_r is
 * malloc'd and wiped by the caller.
 */
static int
read_secret(char **buf_r, size_t *cap_r)
{
	ssize_t n;

	*buf_r = NULL;
	*cap_r = 0;
	n = getline(buf_r, cap_r, stdin);
	if (n < 0)
		return ctl_error("cannot read the secret from standard input "
		    "('-')");
	if (n > 0 && (*buf_r)[n - 1] == '\n')
		(*buf_r)[--n] = '\0';
	if (n > 0 && (*buf_r)[n - 1] == '\r')
		(*buf_r)[--n] = '\0';
	return CTL_OK;
}

static int
cmd_set(struct ctl *ctl, int argc, char **argv)
{
	const struct setting_def *def;
	struct secret_key *mkey = NULL;
	struct ctl_args a;
	const char *error, *value;
	char *line = NULL;
	size_t cap = 0;
	int rc;

	if ((rc = ctl_args_parse(argc, argv, 1, CTL_ARGS_LEVEL, &a)) !=
	    CTL_OK)
		return rc;
	rc = CTL_USAGE;
	if (a.npos != 2) {
		ctl_usage("set needs NAME VALUE and one of --global, "
		    "--domain D, --user ADDR");
		goto out;
	}
	if (a.level == ADDRESS_LEVEL_FACTORY) {
		ctl_usage("set '%s' needs one of --global, --domain D, "
		    "--user ADDR", a.pos[0]);
		goto out;
	}
	rc = CTL_REFUSED;
	def = settings_find(a.pos[0]);
	if (def == NULL) {
		ctl_error("unknown property '%s' (see 'posternctl settings "
		    "list')", a.pos[0]);
		goto out;
	}
	if (def->type == SETTING_SECRET && (mkey = ctl_mkey(ctl)) == NULL)
		goto out;
	value = a.pos[1];
	if (def->type == SETTING_SECRET && strcmp(value, "-") == 0) {
		if (read_secret(&line, &cap) != CTL_OK)
			goto out;
		value = line;
	}
	if (ctl_store(ctl) == NULL)
		goto out;
	if (settings_set(ctl->st, mkey, a.level, a.owner, a.pos[0], value,
	    &error) < 0) {
		ctl_error("%s", error);
		goto out;
	}
	if (ctl->json) {
		putchar('{');
		ctl_json_kv("name", def->name, 1);
		ctl_json_kv("value", def->type == SETTING_SECRET ?
		    SETTINGS_SECRET_MASK : a.pos[1], 0);
		ctl_json_kv("level", address_level_name(a.level), 0);
		ctl_json_kv("owner", owner_of(&a), 0);
		puts("}");
	} else {
		printf("%s = %s (set at %s)\n", def->name,
		    def->type == SETTING_SECRET ? SETTINGS_SECRET_MASK :
		    a.pos[1], ctl_origin_text(a.level, a.owner));
	}
	rc = CTL_OK;
out:
	if (line != NULL) {
		memset(line, 0, cap);
		free(line);
	}
	free(a.pos);
	return rc;
}

static int
cmd_unset(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *error;
	int rc;

	if ((rc = ctl_args_parse(argc, argv, 1, CTL_ARGS_LEVEL, &a)) !=
	    CTL_OK)
		return rc;
	rc = CTL_USAGE;
	if (a.npos != 1 || a.level == ADDRESS_LEVEL_FACTORY) {
		ctl_usage("unset needs NAME and one of --global, --domain D, "
		    "--user ADDR");
		goto out;
	}
	rc = CTL_REFUSED;
	if (ctl_store(ctl) == NULL)
		goto out;
	if (settings_unset(ctl->st, a.level, a.owner, a.pos[0],
	    &error) < 0) {
		ctl_error("%s", error);
		goto out;
	}
	if (ctl->json) {
		putchar('{');
		ctl_json_kv("name", a.pos[0], 1);
		ctl_json_kv("level", address_level_name(a.level), 0);
		ctl_json_kv("owner", owner_of(&a), 0);
		puts("}");
	} else {
		printf("%s unset at %s\n", a.pos[0],
		    ctl_origin_text(a.level, a.owner));
	}
	rc = CTL_OK;
out:
	free(a.pos);
	return rc;
}

static void
get_row(struct ctl_table *t, struct settings_view *v, const char *name)
{
	enum address_level lvl;
	const char *owner, *cells[4];

	cells[0] = name;
	cells[1] = settings_display(v, name, &lvl, &owner);
	cells[2] = address_level_name(lvl);
	cells[3] = owner[0] != '\0' ? owner : NULL;
	ctl_table_add(t, cells);
}

static int
cmd_get(struct ctl *ctl, int argc, char **argv)
{
	static const char *const cols[] = { "name", "value", "level",
	    "owner" };
	struct settings_view *v = NULL;
	struct ctl_table *t = NULL;
	struct ctl_args a;
	const char *error;
	size_t i;
	int rc, r;

	if ((rc = ctl_args_parse(argc, argv, 1,
	    CTL_ARGS_LEVEL | CTL_ARGS_EFFECTIVE, &a)) != CTL_OK)
		return rc;
	rc = CTL_USAGE;
	if ((a.effective && a.npos != 0) || (!a.effective && a.npos != 1)) {
		ctl_usage("get needs NAME or --effective, and at most one of "
		    "--global, --domain D, --user ADDR");
		goto out;
	}
	rc = CTL_REFUSED;
	if (!a.effective && settings_find(a.pos[0]) == NULL) {
		ctl_error("unknown property '%s' (see 'posternctl settings "
		    "list')", a.pos[0]);
		goto out;
	}
	if (ctl_store(ctl) == NULL)
		goto out;
	switch (a.level) {
	case ADDRESS_LEVEL_USER:
		r = settings_view_user(ctl->st, NULL, a.owner, &v, &error);
		break;
	case ADDRESS_LEVEL_DOMAIN:
	case ADDRESS_LEVEL_WILDCARD:
		r = settings_view_domain(ctl->st, NULL, a.owner, &v, &error);
		break;
	default:
		r = settings_view_global(ctl->st, NULL, &v, &error);
		break;
	}
	if (r < 0) {
		ctl_error("%s", error);
		goto out;
	}
	t = ctl_table_new(4, cols);
	if (a.effective)
		for (i = 0; i < settings_count(); i++)
			get_row(t, v, settings_at(i)->name);
	else
		get_row(t, v, settings_find(a.pos[0])->name);
	ctl_table_print(t, ctl->json);
	rc = CTL_OK;
out:
	ctl_table_free(&t);
	settings_view_free(&v);
	free(a.pos);
	return rc;
}

const struct ctl_cmd ctl_cmd_set = { "set",
    "set a property at one level", cmd_set };
const struct ctl_cmd ctl_cmd_unset = { "unset",
    "remove a property from one level (inherit again)", cmd_unset };
const struct ctl_cmd ctl_cmd_get = { "get",
    "a property's (or every property's) value and origin", cmd_get };
