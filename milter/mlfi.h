/*
 * mlfi: the libmilter callbacks and the shared daemon state they use.
 * The callbacks are thin: fetch the context, call a msgctx function,
 * map the result to an sfsistat (STYLE.md "A milter callback").
 */
#ifndef POSTERN_MILTER_MLFI_H
#define POSTERN_MILTER_MLFI_H

#include <libmilter/mfapi.h>

struct config;
struct secret_key;

/* Set once in main() before smfi_main(); read-only afterwards. */
struct mlfi_global {
	struct config *cfg;
	struct secret_key *mkey;
	sfsistat fail_action;		/* SMFIS_TEMPFAIL or SMFIS_ACCEPT */
};

extern struct mlfi_global mlfi_g;
extern struct smfiDesc mlfi_desc;

/* The store pool; closed at shutdown. */
void mlfi_pool_shutdown(void);

#endif
