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

/*
 * OpenPGP keyrings (config gnupg_home): one struct per message being
 * processed, in a pool like the store connections, because the keyring
 * lock (flock) belongs to one open file description and a struct must
 * not be shared by threads.  mlfi_keyring_open() opens one with the
 * passphrase derived from the master key (also for the offline mode);
 * mlfi_keyring_start() opens the first one at start (after privileges
 * are dropped: the home must belong to the milter's user) so a broken
 * home is logged at once; mlfi_keyring_shutdown() frees the pool and
 * stops the home's gpg-agent.
 */
struct pgp_keyring;
int mlfi_keyring_open(const struct config *cfg, const struct secret_key *mkey,
    struct pgp_keyring **kr_r, const char **error_r);
int mlfi_keyring_start(const char **error_r);
void mlfi_keyring_shutdown(void);

#endif
