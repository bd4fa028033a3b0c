/*
 * store: the SQLite database behind settings, users, domains and the
 * keystores.  Every SQL statement of Postern lives in a store*.c file
 * (store.c, store_settings.c, store_x509.c, ...), so another backend can
 * later replace this module without touching its callers.
 *
 * Opening: WAL journal, foreign keys on, a busy timeout (config
 * store_busy_timeout).  The schema is the list of migrations compiled in
 * from schema/NNNN-what.sql; store_open() applies the missing ones in
 * order, each inside one BEGIN IMMEDIATE transaction together with the
 * row in schema_version that records it, so two processes opening a new
 * database at once both succeed and the work is done once.  A database
 * whose schema is newer than this build knows is refused.
 *
 * Concurrency: a struct store is one connection and is used by one thread
 * at a time; threads and processes each open their own.  Writers use
 * store_begin(), which takes the write lock up front (BEGIN IMMEDIATE) so
 * two writers never deadlock on lock upgrade; the busy timeout makes the
 * second wait instead of failing.
 *
 * Ownership: store_open() returns an object the caller frees with
 * store_free(), which accepts NULL and clears the pointer.  Nothing is
 * logged; errors come back through error_r.
 */
#ifndef POSTERN_STORE_H
#define POSTERN_STORE_H

struct sqlite3;
struct store;

enum store_flags {
	STORE_CREATE = 1 << 0,		/* create the file when missing */
	STORE_NO_MIGRATE = 1 << 1,	/* do not apply migrations */
};

struct store_migration {
	int version;
	const char *name;
	const char *sql;
};

/* Generated from schema/ by the build (common/schema_gen.c). */
extern const struct store_migration store_migrations[];
extern const int store_nmigrations;

int store_open(struct store **st_r, const char *path, long busy_timeout_ms,
    unsigned flags, const char **error_r);
void store_free(struct store **st);

/* The schema version of the open database; the newest this build knows. */
int store_schema_version(struct store *st);
int store_schema_known(void);

int store_begin(struct store *st, const char **error_r);
int store_commit(struct store *st, const char **error_r);
void store_rollback(struct store *st);

/*
 * For store*.c files only: the raw handle and a formatter for SQLite
 * errors ("what: sqlite message").  Returns -1 after setting *error_r.
 */
struct sqlite3 *store_db(struct store *st);
int store_sqlerr(struct store *st, const char *what, const char **error_r);
/* Did the last failure come from a lock timeout (SQLITE_BUSY/LOCKED)? */
int store_busy(struct store *st);

#endif
