/*
 * config: /etc/postern/postern.conf, "key = value" in the style of
 * Postfix main.cf.
 *
 * Syntax: '#' comments and blank lines are ignored; a line that starts
 * with whitespace continues the previous one; "$name" and "${name}" in a
 * value expand to the value of another key (after the whole file is
 * read, so order does not matter; at most CONFIG_EXPAND_DEPTH levels).
 *
 * Every key is in one table, config_defs[], with its type, default,
 * minimum/maximum (int, size, time), allowed values (enum) and a one-line
 * doc string; postern.conf(5) documents the same table and a test keeps
 * the two in step.  An unknown key or a bad value is an error naming
 * "file:line".  Sizes take an optional k/m/g suffix (powers of 1024);
 * times an optional ms/s/m/h suffix (the value is kept in milliseconds).
 *
 * Which file: config_load(path) reads path when it is not NULL; otherwise
 * $POSTERN_CONF when set; otherwise CONFIG_DEFAULT_FILE, which may be
 * absent (all defaults).  An explicit path that cannot be read is an
 * error.
 *
 * Ownership: config_load() returns a struct with one reference;
 * config_ref() takes another (the milter's connection contexts do),
 * config_free() drops one and clears the caller's pointer.  Values are
 * read-only after loading, so a loaded config can be shared by threads.
 * Accessors log_panic() on a name that is not in the table or of the wrong
 * type: that is a programming error, not a run-time one.
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stddef.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc/postern"
#endif
#ifndef STATEDIR
#define STATEDIR "/var/lib/postern"
#endif
#define CONFIG_DEFAULT_FILE SYSCONFDIR "/postern.conf"
#define CONFIG_LINE_MAX 4096
#define CONFIG_EXPAND_DEPTH 8

enum config_type {
	CONFIG_STRING,
	CONFIG_PATH,
	CONFIG_INT,
	CONFIG_SIZE,
	CONFIG_TIME,
	CONFIG_BOOL,
	CONFIG_ENUM,
};

struct config_def {
	const char *name;
	enum config_type type;
	const char *def;
	long long min;
	long long max;
	const char *values;	/* CONFIG_ENUM: "a|b|c" */
	const char *doc;
};

extern const struct config_def config_defs[];
extern const size_t config_ndefs;

struct config;

int config_load(struct config **cfg_r, const char *path,
    const char **error_r);
/* A config with every default and no file (tests, posternctl settings). */
struct config *config_defaults(void);
/* Override one key (command line "-o key=value", tests); checked as a
 * file value would be.  Not for use once the config is shared. */
int config_set(struct config *cfg, const char *name, const char *value,
    const char **error_r);

struct config *config_ref(struct config *cfg);
void config_free(struct config **cfg);

/* The file that was read, or NULL when none was. */
const char *config_file(const struct config *cfg);

const char *config_str(const struct config *cfg, const char *name);
long long config_int(const struct config *cfg, const char *name);
int config_bool(const struct config *cfg, const char *name);

const struct config_def *config_def_find(const char *name);
const char *config_type_name(enum config_type type);
/* A boolean: yes, true or 1 gives *b_r 1; no, false or 0 gives 0 (the
 * words in any case); anything else -1 and *b_r untouched.  Also the
 * words of smime_opts_set() and pgp_msg_opts_set(). */
int config_parse_bool(const char *value, int *b_r);
/* Parse one value by its definition into *num_r (int/size/time/bool). */
int config_parse_value(const struct config_def *def, const char *value,
    long long *num_r, const char **error_r);

#endif
