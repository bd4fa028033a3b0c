/*
 * posternctl user add|delete|list|show: the users of the settings
 * registry (see posternctl(8)).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_level.h"
#include "settings.h"

static int
list_row(const char *addr, void *arg)
{
	const char *cells[2];

	cells[0] = addr;
	cells[1] = address_domain(addr);
	ctl_table_add(arg, cells);
	return 0;
}

/* Properties set at the view's own level: a table, or JSON members. */
static void
own_settings(struct settings_view *v, int json)
{
	static const char *const cols[] = { "name", "value" };
	struct ctl_table *t = NULL;
	size_t i;
	int first = 1;

	if (json)
		fputs(", \"settings\": {", stdout);
	else
		t = ctl_table_new(2, cols);
	for (i = 0; i < settings_count(); i++) {
		const char *name = settings_at(i)->name;
		const char *val = settings_display_own(v, name);
		const char *cells[2];

		if (val == NULL)
			continue;
		if (json) {
			ctl_json_kv(name, val, first);
			first = 0;
			continue;
		}
		cells[0] = name;
		cells[1] = val;
		ctl_table_add(t, cells);
	}
	if (json) {
		fputs("}", stdout);
	} else {
		printf("\n");
		ctl_table_print(t, 0);
	}
	ctl_table_free(&t);
}

/* Shared by user show and domain show. */
int
ctl_show_owner(struct ctl *ctl, int is_user, const char *name)
{
	struct settings_owner_info info;
	struct settings_view *v = NULL;
	const char *error, *val;
	enum address_level lvl;
	const char *owner;
	char users[32];
	int r;

	if (ctl_store(ctl) == NULL)
		return CTL_REFUSED;
	r = is_user ? settings_user_info(ctl->st, name, &info, &error) :
	    settings_domain_info(ctl->st, name, &info, &error);
	if (r < 0)
		return ctl_error("%s", error);
	if (r == 0)
		return ctl_error("no %s '%s'", is_user ? "user" : "domain",
		    info.name);
	r = is_user ? settings_view_user(ctl->st, NULL, info.name, &v,
	    &error) : settings_view_domain(ctl->st, NULL, info.name, &v,
	    &error);
	if (r < 0)
		return ctl_error("%s", error);
	val = settings_display(v, "locality", &lvl, &owner);
	snprintf(users, sizeof(users), "%lld", info.users);
	if (ctl->json) {
		putchar('{');
		ctl_json_kv(is_user ? "address" : "domain", info.name, 1);
		if (is_user)
			ctl_json_kv("domain", address_domain(info.name), 0);
		else
			printf(", \"users\": %lld", info.users);
		ctl_json_kv("created", info.created, 0);
		ctl_json_kv("locality", val, 0);
		ctl_json_kv("locality_from", ctl_origin_text(lvl, owner), 0);
		own_settings(v, 1);
		puts("}");
	} else {
		const char *keys[5], *vals[5];
		size_t n = 0;

		keys[n] = is_user ? "address" : "domain";
		vals[n++] = info.name;
		if (is_user) {
			keys[n] = "domain";
			vals[n++] = address_domain(info.name);
		} else {
			keys[n] = "users";
			vals[n++] = users;
		}
		keys[n] = "created";
		vals[n++] = info.created;
		keys[n] = "locality";
		vals[n++] = ctl_value_origin(val, lvl, owner);
		ctl_kv_print(keys, vals, n, 0);
		own_settings(v, 0);
	}
	settings_view_free(&v);
	return CTL_OK;
}

static int
cmd_user(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *sub, *error;
	int rc;

	if (argc < 2)
		return ctl_usage("user needs a subcommand: add, delete, list "
		    "or show");
	sub = argv[1];
	if (strcmp(sub, "list") == 0) {
		static const char *const cols[] = { "address", "domain" };
		struct ctl_table *t;

		if ((rc = ctl_args_parse(argc, argv, 2, CTL_ARGS_DOMAIN,
		    &a)) != CTL_OK)
			return rc;
		if (a.npos != 0) {
			free(a.pos);
			return ctl_usage("user list takes no arguments "
			    "('%s')", argv[2]);
		}
		free(a.pos);
		if (ctl_store(ctl) == NULL)
			return CTL_REFUSED;
		t = ctl_table_new(2, cols);
		if (settings_user_list(ctl->st, a.owner, list_row, t,
		    &error) < 0) {
			ctl_table_free(&t);
			return ctl_error("%s", error);
		}
		ctl_table_print(t, ctl->json);
		ctl_table_free(&t);
		return CTL_OK;
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "delete") != 0 &&
	    strcmp(sub, "show") != 0)
		return ctl_usage("unknown user subcommand '%s'", sub);
	if ((rc = ctl_args_parse(argc, argv, 2, 0, &a)) != CTL_OK)
		return rc;
	if (a.npos != 1) {
		free(a.pos);
		return ctl_usage("user %s needs one address", sub);
	}
	{
		char *addr = a.pos[0];

		free(a.pos);
		if (strcmp(sub, "show") == 0)
			return ctl_show_owner(ctl, 1, addr);
		if (ctl_store(ctl) == NULL)
			return CTL_REFUSED;
		if (strcmp(sub, "add") == 0) {
			struct settings_owner_info info;
			int r = settings_user_info(ctl->st, addr, &info,
			    &error);

			if (r < 0)
				return ctl_error("%s", error);
			if (r == 1)
				return ctl_error("user '%s' exists",
				    info.name);
			if (settings_user_add(ctl->st, addr, &error) < 0)
				return ctl_error("%s", error);
			ctl_done(ctl, "user", info.name, "added");
			return CTL_OK;
		}
		if (settings_user_delete(ctl->st, addr, &error) < 0)
			return ctl_error("%s", error);
		ctl_done(ctl, "user", addr, "deleted");
		return CTL_OK;
	}
}

const struct ctl_cmd ctl_cmd_user = { "user",
    "add, delete, list or show users", cmd_user };
