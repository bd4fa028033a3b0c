/* posternctl init: create the state directory, master key and database. */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "secret.h"
#include "settings.h"
#include "store.h"

static int
mkdir_private(const char *path)
{
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		return ctl_error("cannot create '%s': %s", path,
		    strerror(errno));
	return CTL_OK;
}

/* A random global server-secret when none is set (hex, 256 bits). */
static int
init_server_secret(struct ctl *ctl, struct store *st, const char **state_r)
{
	struct settings_view *v = NULL;
	struct secret_key *mkey;
	unsigned char raw[32];
	char hex[2 * sizeof(raw) + 1];
	const char *error;
	size_t i;
	int rc = CTL_REFUSED;

	if ((mkey = ctl_mkey(ctl)) == NULL)
		return CTL_REFUSED;
	if (settings_view_global(st, mkey, &v, &error) < 0) {
		ctl_error("%s", error);
		goto out;
	}
	if (settings_get_own(v, "server-secret") != NULL) {
		*state_r = "exists";
		rc = CTL_OK;
		goto out;
	}
	if (secret_random(raw, sizeof(raw)) < 0) {
		ctl_error("cannot create 'server-secret': no random bytes");
		goto out;
	}
	for (i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	if (settings_set(st, mkey, ADDRESS_LEVEL_GLOBAL, NULL,
	    "server-secret", hex, &error) < 0) {
		ctl_error("%s", error);
		goto out;
	}
	*state_r = "created";
	rc = CTL_OK;
out:
	memset(raw, 0, sizeof(raw));
	memset(hex, 0, sizeof(hex));
	settings_view_free(&v);
	return rc;
}

static int
cmd_init(struct ctl *ctl, int argc, char **argv)
{
	const char *keyfile = config_str(ctl->cfg, "master_key_file");
	const char *error, *secret_state = "";
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
	if (init_server_secret(ctl, st, &secret_state) != CTL_OK) {
		store_free(&st);
		return CTL_REFUSED;
	}
	if (ctl->json) {
		fputs("{\"database\": ", stdout);
		ctl_json_str(config_str(ctl->cfg, "database"));
		printf(", \"schema\": %d, \"server_secret\": \"%s\"}\n",
		    store_schema_version(st), secret_state);
	} else {
		printf("database: %s (schema %d)\n",
		    config_str(ctl->cfg, "database"), store_schema_version(st));
		printf("server-secret: %s\n", secret_state);
	}
	store_free(&st);
	return CTL_OK;
}

const struct ctl_cmd ctl_cmd_init = { "init",
    "create the master key and the database (idempotent)", cmd_init };
