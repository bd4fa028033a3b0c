/*
 * Helpers shared by the Check suites: a temporary directory per test,
 * file and shell helpers, a log sink that records lines, and the corpus
 * location.
 */
#ifndef POSTERN_TESTUTIL_H
#define POSTERN_TESTUTIL_H

#include <stddef.h>

/* mkdtemp under $TMPDIR; removed (recursively) by tu_tmpdir_free(). */
char *tu_tmpdir(void);
void tu_tmpdir_free(char **dir);
/* dir + "/" + name, malloc'd. */
char *tu_path(const char *dir, const char *name);
int tu_write_file(const char *path, const char *text);
/* Read a whole file; malloc'd, NUL-terminated; NULL on error. */
char *tu_read_file(const char *path, size_t *len_r);
/* Run a shell command (printf format); its exit status, -1 on failure. */
int tu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Capture log lines (all levels) until tu_log_stop(). */
void tu_log_capture(void);
void tu_log_stop(void);
/* Does any captured line contain needle? */
int tu_log_has(const char *needle);
const char *tu_log_text(void);

/* Run raw SQL on a store (tests only: breaking a database on purpose). */
struct store;
int tu_store_exec(struct store *st, const char *sql);

/*
 * End a fork()ed test child with code.  Under valgrind a child that
 * returns or calls _exit() runs the leak check of the whole (copied)
 * test process and exits with valgrind's error code; exec'ing a shell
 * that exits with code ends the child without that.
 */
void tu_child_exit(int code) __attribute__((noreturn));

/* ../shared/corpora relative to the source tree, or $POSTERN_CORPORA;
 * NULL when absent (tests then skip). */
const char *tu_corpora(void);

#endif
