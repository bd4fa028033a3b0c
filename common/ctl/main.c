/*
 * posternctl: the administration command line of Postern.
 *
 *	posternctl [-c FILE] [--json] COMMAND [ARGS...]
 *
 * Exit status: 0 success, 1 refused or failed, 2 usage error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "ctl_cmds.h"
#include "log.h"
#include "secret.h"
#include "store.h"

static const struct ctl_cmd *const ctl_cmds[] = { CTL_CMDS };
#define NCMDS (sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

int
ctl_error(const char *fmt, ...)
{
	va_list ap;

	fputs("posternctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_REFUSED;
}

int
ctl_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("posternctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see posternctl(8))\n", stderr);
	return CTL_USAGE;
}

struct store *
ctl_store(struct ctl *ctl)
{
	const char *error;

	if (ctl->st != NULL)
		return ctl->st;
	if (store_open(&ctl->st, config_str(ctl->cfg, "database"),
	    config_int(ctl->cfg, "store_busy_timeout"), 0, &error) < 0) {
		ctl_error("%s (run 'posternctl init' first?)", error);
		return NULL;
	}
	return ctl->st;
}

struct secret_key *
ctl_mkey(struct ctl *ctl)
{
	const char *error;

	if (ctl->mkey != NULL)
		return ctl->mkey;
	if (secret_key_load(&ctl->mkey, config_str(ctl->cfg,
	    "master_key_file"), &error) < 0) {
		ctl_error("%s", error);
		return NULL;
	}
	return ctl->mkey;
}

int
ctl_opt(int argc, char **argv, int *i, const char *name,
    const char **value_r)
{
	const char *a = argv[*i];
	size_t l = strlen(name);

	if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, l) != 0)
		return 0;
	if (a[2 + l] == '\0') {
		if (value_r == NULL)
			return 1;
		if (*i + 1 >= argc)
			return -1;
		*value_r = argv[++*i];
		return 1;
	}
	if (a[2 + l] == '=' && value_r != NULL) {
		*value_r = a + 3 + l;
		return 1;
	}
	return 0;
}

static void
usage_all(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: posternctl [-c FILE] [--json] COMMAND [ARGS...]\n"
	    "commands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(fp, "  %-10s %s\n", ctl_cmds[i]->name,
		    ctl_cmds[i]->summary);
}

int
main(int argc, char **argv)
{
	struct ctl ctl = { 0 };
	const char *conf = NULL, *error;
	char **args;
	int i, n = 0, rc;
	size_t c;

	log_init("posternctl");
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (args == NULL)
		return CTL_REFUSED;
	/* global options: -c FILE before the command; --json anywhere */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			ctl.json = 1;
		} else if (n == 0 && (strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0)) {
			if (++i >= argc) {
				free(args);
				return ctl_usage("option '-c' needs a file");
			}
			conf = argv[i];
		} else if (n == 0 && (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)) {
			usage_all(stdout);
			free(args);
			return CTL_OK;
		} else {
			args[n++] = argv[i];
		}
	}
	if (n == 0) {
		usage_all(stderr);
		free(args);
		return CTL_USAGE;
	}
	for (c = 0; c < NCMDS; c++)
		if (strcmp(ctl_cmds[c]->name, args[0]) == 0)
			break;
	if (c == NCMDS) {
		rc = ctl_usage("unknown command '%s'", args[0]);
		free(args);
		return rc;
	}
	if (config_load(&ctl.cfg, conf, &error) < 0) {
		ctl_error("%s", error);
		free(args);
		return CTL_REFUSED;
	}
	rc = ctl_cmds[c]->fn(&ctl, n, args);
	store_free(&ctl.st);
	secret_key_free(&ctl.mkey);
	config_free(&ctl.cfg);
	free(args);
	fflush(stdout);
	return rc;
}
