/*
 * spool: one message's bytes, in memory up to a limit, then in a private
 * temporary file (Dovecot istream-seekable, Postfix "queue file").
 *
 * The milter receives a body in chunks (CRLF), the encryptor reads a
 * pipe (LF); both append here with spool_append() and then ask for one
 * contiguous read-only view with spool_view() (the memory buffer, or an
 * mmap(2) of the file) that the MIME parser and emitter work on.
 *
 * Limits:
 *   mem_max     bytes kept in memory (config "spool_memory_max"); the
 *               first append that would pass it moves everything to a
 *               file created with mkstemp(3) (mode 0600) in tmpdir and
 *               unlinked at once, so nothing is left behind on a crash.
 *   size_limit  largest message (config "message_size_limit").  An
 *               append that would pass it returns SPOOL_TOO_BIG, keeps
 *               nothing of that chunk, and every later append also
 *               returns SPOOL_TOO_BIG: the caller passes the message on
 *               unchanged (it never gets a truncated view).
 *   tmpdir      (config "temp_directory") is created mode 0700 when
 *               missing; an existing one must be a directory owned by us
 *               and not accessible by group or others, else the spill
 *               fails with an error.
 *
 * Ownership: spool_new() returns an object the caller frees with
 * spool_free() (NULL-safe, clears the pointer), which also unmaps and
 * closes the file.  tmpdir is copied.  The view returned by spool_view()
 * belongs to the spool and stays valid, unchanged, until spool_free();
 * after spool_view() the spool is sealed and appends fail.
 * Nothing is logged; errors come back through error_r.
 */
#ifndef POSTERN_SPOOL_H
#define POSTERN_SPOOL_H

#include <stddef.h>

struct config;
struct spool;

enum spool_status {
	SPOOL_OK = 0,
	SPOOL_ERROR = -1,	/* I/O or memory: the caller tempfails */
	SPOOL_TOO_BIG = -2,	/* message_size_limit passed */
};

struct spool *spool_new(size_t mem_max, size_t size_limit,
    const char *tmpdir);
/* spool_new() with spool_memory_max, message_size_limit, temp_directory. */
struct spool *spool_new_config(const struct config *cfg);
void spool_free(struct spool **sp);

/* Append len bytes; returns an enum spool_status. */
int spool_append(struct spool *sp, const void *data, size_t len,
    const char **error_r);
/* Seal and map: *data_r and *len_r cover every appended byte (a 0-byte spool
 * gives a non-NULL pointer and length 0).  Returns an enum spool_status
 * (SPOOL_TOO_BIG when an append was refused). */
int spool_view(struct spool *sp, const char **data_r, size_t *len_r,
    const char **error_r);

size_t spool_size(const struct spool *sp);
/* 1 when the bytes went to a file (for tests and logging). */
int spool_in_file(const struct spool *sp);

#endif
