/* posternctl: level options and JSON helpers (see ctl_level.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_level.h"
#include "settings.h"

int
ctl_args_parse(int argc, char **argv, int first, unsigned allow,
    struct ctl_args *a)
{
	int i, r, nlevel = 0;
	const char *v;

	memset(a, 0, sizeof(*a));
	a->level = ADDRESS_LEVEL_FACTORY;
	a->pos = calloc((size_t)argc + 1, sizeof(char *));
	if (a->pos == NULL)
		return ctl_error("out of memory");
	for (i = first; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (++i < argc)
				a->pos[a->npos++] = argv[i];
			break;
		}
		if (strncmp(argv[i], "--", 2) != 0) {
			a->pos[a->npos++] = argv[i];
			continue;
		}
		if ((allow & CTL_ARGS_LEVEL) &&
		    ctl_opt(argc, argv, &i, "global", NULL) == 1) {
			a->level = ADDRESS_LEVEL_GLOBAL;
			a->owner = NULL;
			nlevel++;
		} else if ((allow & (CTL_ARGS_LEVEL | CTL_ARGS_DOMAIN)) &&
		    (r = ctl_opt(argc, argv, &i, "domain", &v)) != 0) {
			if (r < 0)
				goto needs_value;
			a->level = ADDRESS_LEVEL_DOMAIN;
			a->owner = v;
			nlevel++;
		} else if ((allow & CTL_ARGS_LEVEL) &&
		    (r = ctl_opt(argc, argv, &i, "user", &v)) != 0) {
			if (r < 0)
				goto needs_value;
			a->level = ADDRESS_LEVEL_USER;
			a->owner = v;
			nlevel++;
		} else if ((allow & CTL_ARGS_EFFECTIVE) &&
		    ctl_opt(argc, argv, &i, "effective", NULL) == 1) {
			a->effective = 1;
		} else if ((allow & CTL_ARGS_FORCE) &&
		    ctl_opt(argc, argv, &i, "force", NULL) == 1) {
			a->force = 1;
		} else {
			free(a->pos);
			a->pos = NULL;
			return ctl_usage("unknown option '%s' for '%s'",
			    argv[i], argv[0]);
		}
	}
	if (nlevel > 1) {
		free(a->pos);
		a->pos = NULL;
		return ctl_usage("give only one of --global, --domain and "
		    "--user");
	}
	if (a->level == ADDRESS_LEVEL_USER &&
	    address_normalize(a->owner, a->owner_buf,
	    sizeof(a->owner_buf)) == 0)
		a->owner = a->owner_buf;
	if (a->level == ADDRESS_LEVEL_DOMAIN &&
	    domain_normalize(a->owner, a->owner_buf,
	    sizeof(a->owner_buf)) == 0) {
		a->owner = a->owner_buf;
		if (domain_is_wildcard(a->owner))
			a->level = ADDRESS_LEVEL_WILDCARD;
	}
	return CTL_OK;
needs_value:
	free(a->pos);
	a->pos = NULL;
	return ctl_usage("option '%s' needs a value", argv[i]);
}

const char *
ctl_origin_text(enum address_level level, const char *owner)
{
	static char buf[ADDRESS_MAX + 32];

	if (level == ADDRESS_LEVEL_GLOBAL || level == ADDRESS_LEVEL_FACTORY ||
	    owner == NULL || owner[0] == '\0')
		return address_level_name(level);
	snprintf(buf, sizeof(buf), "%s %s", address_level_name(level), owner);
	return buf;
}

void
ctl_json_kv(const char *key, const char *value, int first)
{
	if (!first)
		fputs(", ", stdout);
	ctl_json_str(key);
	fputs(": ", stdout);
	ctl_json_str(value);
}

const char *
ctl_value_origin(const char *value, enum address_level level,
    const char *owner)
{
	static char buf[SETTINGS_VALUE_MAX + ADDRESS_MAX + 64];

	snprintf(buf, sizeof(buf), "%s (%s)", value != NULL ? value : "-",
	    ctl_origin_text(level, owner));
	return buf;
}

void
ctl_done(struct ctl *ctl, const char *what, const char *name,
    const char *result)
{
	if (!ctl->json) {
		printf("%s %s %s\n", what, name, result);
		return;
	}
	putchar('{');
	ctl_json_kv(what, name, 1);
	ctl_json_kv("result", result, 0);
	puts("}");
}
