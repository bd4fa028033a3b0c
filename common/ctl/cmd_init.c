/* posternctl init: create the state directory, master key and database. */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "secret.h"
#include "store.h"

static int
mkdir_private(const char *path)
{
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		return ctl_error("cannot create '%s': %s", path,
		    strerror(errno));
	return CTL_OK;
}

static int
cmd_init(struct ctl *ctl, int argc, char **argv)
{
	const char *keyfile = config_str(ctl->cfg, "master_key_file");
	const char *error;
	struct store *st;

	(void)argv;
	if (argc != 1)
		return ctl_usage("init takes no arguments");
	if (mkdir_private(config_str(ctl->cfg, "state_directory")) != CTL_OK)
		return CTL_REFUSED;
	if (access(keyfile, F_OK) == 0) {
		struct secret_key *k;

		if (secret_key_load(&k, keyfile, &error) < 0)
			return ctl_error("%s", error);
		secret_key_free(&k);
		if (!ctl->json)
			printf("master key: %s (exists)\n", keyfile);
	} else {
		if (secret_key_create(keyfile, &error) < 0)
			return ctl_error("%s", error);
		if (!ctl->json)
			printf("master key: %s (created)\n", keyfile);
	}
	if (store_open(&st, config_str(ctl->cfg, "database"),
	    config_int(ctl->cfg, "store_busy_timeout"), STORE_CREATE,
	    &error) < 0)
		return ctl_error("%s", error);
	if (ctl->json)
		printf("{\"database\": \"%s\", \"schema\": %d}\n",
		    config_str(ctl->cfg, "database"), store_schema_version(st));
	else
		printf("database: %s (schema %d)\n",
		    config_str(ctl->cfg, "database"), store_schema_version(st));
	store_free(&st);
	return CTL_OK;
}

const struct ctl_cmd ctl_cmd_init = { "init",
    "create the master key and the database (idempotent)", cmd_init };
