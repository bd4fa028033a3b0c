/*
 * pgp_msg_int: helpers shared by the files of the OpenPGP message layer
 * (pgp_msg_out.c, pgp_msg_in.c).  Not part of the API.
 */
#ifndef POSTERN_PGP_MSG_INT_H
#define POSTERN_PGP_MSG_INT_H

#include <stddef.h>

#include "buf.h"
#include "mime.h"
#include "pgp.h"

/* Append p[0..len) with every line end (LF or CRLF) turned into eol
 * ("\r\n" or "\n").  -1 when out is full. */
int pgp_msg_put_eol(struct buf *out, const char *p, size_t len,
    const char *eol);
/* "\r\n" or "\n" for the message's line ends. */
const char *pgp_msg_eol(const struct mime_message *m);
/* Is e's name (len bytes, no colon) name, case-insensitively? */
int pgp_msg_field_is(const struct mime_field *f, const char *name);
/* A fresh boundary "=_pgp_HEX" (24 random hex digits) that does not
 * occur in avoid[0..len).  -1 when no random bytes. */
int pgp_msg_boundary(char *out, size_t size, const char *avoid, size_t len);
/* Copy every field of from except Content-Type and
 * Content-Transfer-Encoding (and, when content_only, every field that is
 * not Content-*) to the built entity to, unfolded.  -1 on error. */
int pgp_msg_copy_fields(const struct mime_entity *from,
    struct mime_entity *to, int content_only, const char **error_r);
/* Put new in old's place: the root keeps its non-Content fields
 * (mime_entity_replace_content), other entities are replaced whole.
 * new is consumed. */
int pgp_msg_replace(struct mime_message *m, struct mime_entity *old,
    struct mime_entity *new, const char **error_r);
/* PGP_MSG_REFUSED for PGP_E_TOO_LARGE and PGP_E_NO_KEY, else
 * PGP_MSG_TEMPFAIL. */
int pgp_msg_fail_rc(enum pgp_status st);
/* Hash algorithm (RFC 4880 9.4 id) of the first signature packet in an
 * armored or binary OpenPGP signature; 0 when it cannot be read. */
int pgp_msg_sig_hash(const char *sig, size_t len);

#endif
