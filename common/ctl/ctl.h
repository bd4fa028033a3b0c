/*
 * posternctl internals: the shared context, command registration and
 * output helpers.
 *
 * A command is a file common/ctl/cmd_NAME.c defining
 *	const struct ctl_cmd ctl_cmd_NAME = { "NAME", "summary", fn };
 * at the start of a line; the Makefile collects those into the dispatch
 * table, so adding a command is adding a file.  fn gets argv starting at
 * the command name and returns CTL_OK (0), CTL_REFUSED (1: the operation
 * was refused or failed) or CTL_USAGE (2: bad usage).
 *
 * Errors are printed once, by the command, with ctl_error() or
 * ctl_usage(): "posternctl: <what was wrong> ('<argument>')".
 *
 * The config is loaded before the command runs.  The store and the
 * master key are opened on first use (ctl_store(), ctl_mkey()) and
 * closed at exit; both print their own error and return NULL on failure.
 */
#ifndef POSTERN_CTL_H
#define POSTERN_CTL_H

#include <stddef.h>

struct config;
struct store;
struct secret_key;

enum ctl_rc {
	CTL_OK = 0,
	CTL_REFUSED = 1,
	CTL_USAGE = 2,
};

struct ctl {
	struct config *cfg;
	struct store *st;
	struct secret_key *mkey;
	int json;		/* --json given */
};

typedef int ctl_fn(struct ctl *ctl, int argc, char **argv);

struct ctl_cmd {
	const char *name;
	const char *summary;
	ctl_fn *fn;
};

/* Opens the database (must exist: "posternctl init" creates it). */
struct store *ctl_store(struct ctl *ctl);
struct secret_key *ctl_mkey(struct ctl *ctl);

int ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Tables: rows of strings printed as aligned columns with a header line,
 * or with --json as an array of objects keyed by the column names.
 * Cells are copied.  NULL cells print as "-" (JSON null).
 */
struct ctl_table;
struct ctl_table *ctl_table_new(int ncols, const char *const *cols);
void ctl_table_add(struct ctl_table *t, const char *const *cells);
void ctl_table_print(struct ctl_table *t, int json);
void ctl_table_free(struct ctl_table **t);

/* Key/value blocks ("show"): printed "key: value" or as one JSON object. */
void ctl_kv_print(const char *const *keys, const char *const *vals,
    size_t n, int json);

/* JSON string escaping onto stdout. */
void ctl_json_str(const char *s);

/* Simple option scanning: is argv[i] "--name" / "--name=value"? */
int ctl_opt(int argc, char **argv, int *i, const char *name,
    const char **value_r);

#endif
