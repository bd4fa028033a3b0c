/*
 * posternctl domain add|delete|list|show: domains and wildcard domains
 * of the settings registry (see posternctl(8)).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_level.h"
#include "settings.h"

struct list_ctx {
	struct ctl *ctl;
	struct ctl_table *t;
	const char *error;
};

static int
list_row(const char *domain, void *arg)
{
	struct list_ctx *lc = arg;
	struct settings_owner_info info;
	const char *cells[3];
	char users[32];

	if (settings_domain_info(lc->ctl->st, domain, &info,
	    &lc->error) < 0)
		return 1;
	snprintf(users, sizeof(users), "%lld", info.users);
	cells[0] = domain;
	cells[1] = users;
	cells[2] = info.created;
	ctl_table_add(lc->t, cells);
	return 0;
}

static int
cmd_domain(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a;
	const char *sub, *error;
	char *name;
	int rc;

	if (argc < 2)
		return ctl_usage("domain needs a subcommand: add, delete, "
		    "list or show");
	sub = argv[1];
	if (strcmp(sub, "list") == 0) {
		static const char *const cols[] = { "domain", "users",
		    "created" };
		struct list_ctx lc = { ctl, NULL, NULL };

		if (argc != 2)
			return ctl_usage("domain list takes no arguments "
			    "('%s')", argv[2]);
		if (ctl_store(ctl) == NULL)
			return CTL_REFUSED;
		lc.t = ctl_table_new(3, cols);
		if (settings_domain_list(ctl->st, list_row, &lc,
		    &error) < 0 || lc.error != NULL) {
			ctl_table_free(&lc.t);
			return ctl_error("%s", lc.error != NULL ? lc.error :
			    error);
		}
		ctl_table_print(lc.t, ctl->json);
		ctl_table_free(&lc.t);
		return CTL_OK;
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "delete") != 0 &&
	    strcmp(sub, "show") != 0)
		return ctl_usage("unknown domain subcommand '%s'", sub);
	if ((rc = ctl_args_parse(argc, argv, 2,
	    strcmp(sub, "delete") == 0 ? CTL_ARGS_FORCE : 0, &a)) != CTL_OK)
		return rc;
	if (a.npos != 1) {
		free(a.pos);
		return ctl_usage("domain %s needs one domain", sub);
	}
	name = a.pos[0];
	free(a.pos);
	if (strcmp(sub, "show") == 0)
		return ctl_show_owner(ctl, 0, name);
	if (ctl_store(ctl) == NULL)
		return CTL_REFUSED;
	if (strcmp(sub, "add") == 0) {
		struct settings_owner_info info;
		int r = settings_domain_info(ctl->st, name, &info, &error);

		if (r < 0)
			return ctl_error("%s", error);
		if (r == 1)
			return ctl_error("domain '%s' exists", info.name);
		if (settings_domain_add(ctl->st, name, &error) < 0)
			return ctl_error("%s", error);
		ctl_done(ctl, "domain", info.name, "added");
		return CTL_OK;
	}
	if (settings_domain_delete(ctl->st, name, a.force, &error) < 0)
		return ctl_error("%s", error);
	ctl_done(ctl, "domain", name, "deleted");
	return CTL_OK;
}

const struct ctl_cmd ctl_cmd_domain = { "domain",
    "add, delete, list or show domains (and *.wildcards)", cmd_domain };
