/*
 * posternctl helpers shared by the settings commands: the level options
 * (--global, --domain D, --user ADDR) and small JSON writers.
 */
#ifndef POSTERN_CTL_LEVEL_H
#define POSTERN_CTL_LEVEL_H

#include "address.h"

struct ctl_args {
	enum address_level level;	/* FACTORY: no level option given */
	const char *owner;		/* NULL for global */
	int effective;			/* --effective */
	int force;			/* --force */
	int npos;
	char **pos;			/* positional arguments (borrowed) */
	char owner_buf[ADDRESS_MAX + 1];	/* owner, normalised */
};

enum ctl_args_allow {
	CTL_ARGS_LEVEL = 1 << 0,
	CTL_ARGS_EFFECTIVE = 1 << 1,
	CTL_ARGS_FORCE = 1 << 2,
	CTL_ARGS_DOMAIN = 1 << 3,	/* --domain only (user list) */
};

/*
 * Parse argv[first..argc) into a; options not in allow, a second level
 * option or a missing option value are usage errors (printed; returns
 * CTL_USAGE), else CTL_OK.  a->pos is malloc'd: free it.
 */
int ctl_args_parse(int argc, char **argv, int first, unsigned allow,
    struct ctl_args *a);

/* "global", "domain example.com", "user a@example.com", "factory". */
const char *ctl_origin_text(enum address_level level, const char *owner);

/* "VALUE (ORIGIN)" in a static buffer. */
const char *ctl_value_origin(const char *value, enum address_level level,
    const char *owner);

/* "user a@b added" or {"user": "a@b", "result": "added"}. */
struct ctl;
void ctl_done(struct ctl *ctl, const char *what, const char *name,
    const char *result);

/* user show / domain show. */
int ctl_show_owner(struct ctl *ctl, int is_user, const char *name);

/* JSON pieces onto stdout: "key": value. */
void ctl_json_kv(const char *key, const char *value, int first);

#endif
