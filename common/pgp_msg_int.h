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
#include "pgp_msg.h"

/* "\r\n" or "\n" for the message's line ends. */
const char *pgp_msg_eol(const struct mime_message *m);
/* Is e's name (len bytes, no colon) name, case-insensitively? */
int pgp_msg_field_is(const struct mime_field *f, const char *name);
/* Is e's Content-Disposition "attachment"? */
int pgp_msg_is_attachment(const struct mime_entity *e);
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
/* Does the OpenPGP data (armored or binary) start with an encryption
 * packet (PKESK, SKESK, SED, SEIPD, AEAD; marker packets skipped)? */
int pgp_msg_is_encrypted(const char *data, size_t len);
/* Is it public key material only (no secret key packet, nothing but
 * keys, user IDs and signatures)?  Armored or binary. */
int pgp_msg_key_is_public(const char *data, size_t len);

/* ---- inbound (pgp_msg_in.c, pgp_msg_inline.c) ------------------------- */

#include <time.h>

#include "address.h"

struct pgp_msg_keys;
struct pgp_msg_opts;
struct pgp_msg_result;
struct infohdr;

#define PGP_MSG_DESC_OUT "unprotected text"
#define PGP_MSG_DESC_DEC "OpenPGP decrypted text"
#define PGP_MSG_DESC_SIG "OpenPGP signed text"
#define PGP_MSG_DESC_ENC "OpenPGP encrypted text"
#define PGP_MSG_DESC_KEY "OpenPGP key"
#define PGP_MSG_DESC_ATT "OpenPGP decrypted attachment"

/* Signatures seen in one layer (or over all inline blocks). */
struct pgp_msg_tally {
	int n;			/* signatures */
	int valid;		/* ...valid (math, key, trust, hash) */
	int mismatch;		/* a known signer without the From address */
	int matched;		/* email below matches From */
	char email[320];
	char keyid[17];
};

/* One PGP/MIME layer, LEVEL = its index. */
struct pgp_msg_layer {
	int is_sig;		/* PGP/MIME multipart/signed */
	int dec;		/* decrypted PGP/MIME (sigs in it: combined) */
	struct pgp_msg_tally t;
};

/* The state of one pgp_msg_inbound_edit() call. */
struct pgp_msg_in_ctx {
	struct pgp_keyring *kr;
	const struct pgp_msg_keys *keys;
	const struct pgp_msg_opts *o;
	struct pgp_opts po;
	struct pgp_msg_result *r;
	struct mime_message *m;
	struct infohdr *lh;		/* the per-layer headers */
	const char *from_arg;
	char from[ADDRESS_MAX + 64];
	int level;
	struct pgp_msg_layer lay[PGP_MSG_MAX_LAYERS];
	int nlay;			/* PGP/MIME layers used in lay[] */
	int last_dec;			/* lay[] index, -1: none */
	int any_sig;			/* some signature was looked at */
	/* PGP/INLINE accounting */
	int n_unprot, n_enc, n_sigonly, n_signed, html_unprot;
	struct pgp_msg_tally inl;
	int inl_all_valid;
	int protected_root;		/* PGP/MIME covers the whole body */
	int exchange_root;		/* the root was Exchange's PGP/MIME */
	int nested_ciphertext;		/* PGP/MIME ciphertext below the root */
	int inline_msgs;		/* inline encrypted text blocks */
	time_t date;			/* the Date header; 0: none */
};

int pgp_msg_in_nomem(const char **error_r);
/* Headers for every signature of res at level, tallied into t. */
int pgp_msg_in_report_sigs(struct pgp_msg_in_ctx *c,
    const struct pgp_result *res,
    int level, struct pgp_msg_tally *t, const char **error_r);
/* A missing or unreadable signature at level. */
int pgp_msg_in_report_nosig(struct pgp_msg_in_ctx *c, int level,
    const char *why,
    const char **error_r);
void pgp_msg_in_tally_merge(struct pgp_msg_tally *into,
    const struct pgp_msg_tally *t);
void pgp_msg_in_set_reason(struct pgp_msg_in_ctx *c, const char *fmt,
    const char *arg);
/* A failed pgp_decrypt(): 0 when the input is at fault, -1 when we are. */
int pgp_msg_in_decrypt_failed(struct pgp_msg_in_ctx *c,
    const struct pgp_result *res,
    const char *err, const char **error_r);
int pgp_msg_in_report_recipients(struct pgp_msg_in_ctx *c,
    const struct pgp_result *res, int level, const char **error_r);
/* PGP/INLINE blocks, .pgp attachments, keys (pgp_msg_inline.c). */
int pgp_msg_in_phase_inline(struct pgp_msg_in_ctx *c, const char **error_r);

#endif
