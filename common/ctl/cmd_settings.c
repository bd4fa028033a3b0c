/*
 * posternctl settings list|man: the registry as a table, or as the
 * postern-settings(5) page ("make man" commits that output).
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "settings.h"

static const char *
scopes_word(unsigned s)
{
	static const char *const names[] = {
		"-", "global", "domain", "global,domain", "user",
		"global,user", "domain,user", "all",
	};

	return names[s & 7];
}

static const char *
roles_word(unsigned r)
{
	if (r & SETTING_ROLE_SYSTEM)
		return "system";
	if ((r & SETTING_ROLE_BOTH) == SETTING_ROLE_BOTH)
		return "both";
	return r & SETTING_ROLE_SENDER ? "sender" : "recipient";
}

static int
cmd_settings(struct ctl *ctl, int argc, char **argv)
{
	static const char *const cols[] = { "name", "type", "default",
	    "values", "scopes", "roles", "doc" };
	struct ctl_table *t;
	size_t i;

	if (argc != 2)
		return ctl_usage("settings needs one subcommand: list or man");
	if (strcmp(argv[1], "man") == 0) {
		if (settings_man_write(stdout) < 0)
			return ctl_error("cannot write the page: write error");
		return CTL_OK;
	}
	if (strcmp(argv[1], "list") != 0)
		return ctl_usage("unknown settings subcommand '%s'", argv[1]);
	t = ctl_table_new(7, cols);
	for (i = 0; i < settings_count(); i++) {
		const struct setting_def *d = settings_at(i);
		char range[64];
		const char *cells[7];

		cells[0] = d->name;
		cells[1] = settings_type_name(d->type);
		cells[2] = d->def;
		cells[3] = d->values;
		if (d->type == SETTING_INT || d->type == SETTING_SIZE) {
			snprintf(range, sizeof(range), "%lld..%lld", d->min,
			    d->max);
			cells[3] = range;
		}
		cells[4] = scopes_word(d->scopes);
		cells[5] = roles_word(d->roles);
		cells[6] = d->doc;
		ctl_table_add(t, cells);
	}
	ctl_table_print(t, ctl->json);
	ctl_table_free(&t);
	return CTL_OK;
}

const struct ctl_cmd ctl_cmd_settings = { "settings",
    "the property registry: list, or man (postern-settings(5))",
    cmd_settings };
