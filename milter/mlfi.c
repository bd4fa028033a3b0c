#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "log.h"
#include "mlfi.h"
#include "msgctx.h"
#include "pgp_keyring.h"
#include "store.h"

struct mlfi_global mlfi_g;

/*
 * Store connections: one per concurrently processed message, kept in a
 * pool so that libmilter's thread-per-connection model does not open
 * the database for every connection.  A connection is only used by the
 * thread that took it.
 */
#define POOL_MAX 64

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store *pool[POOL_MAX];
static size_t pool_n;

static struct store *
pool_get(const char **error_r)
{
	struct store *st = NULL;

	pthread_mutex_lock(&pool_lock);
	if (pool_n > 0)
		st = pool[--pool_n];
	pthread_mutex_unlock(&pool_lock);
	if (st != NULL)
		return st;
	if (store_open(&st, config_str(mlfi_g.cfg, "database"),
	    config_int(mlfi_g.cfg, "store_busy_timeout"), 0, error_r) < 0)
		return NULL;
	return st;
}

static void
pool_put(struct store *st)
{
	pthread_mutex_lock(&pool_lock);
	if (pool_n < POOL_MAX) {
		pool[pool_n++] = st;
		st = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	store_free(&st);
}

void
mlfi_pool_shutdown(void)
{
	pthread_mutex_lock(&pool_lock);
	while (pool_n > 0)
		store_free(&pool[--pool_n]);
	pthread_mutex_unlock(&pool_lock);
}

static pthread_mutex_t krpool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pgp_keyring *krpool[POOL_MAX];
static size_t krpool_n;

int
mlfi_keyring_open(const struct config *cfg, const struct secret_key *mkey,
    struct pgp_keyring **kr_r, const char **error_r)
{
	char pw[65];
	int rc;

	*kr_r = NULL;
	if (mkey == NULL)
		return err_set(error_r, "no master key");
	if (pgp_keyring_passphrase(mkey, pw, error_r) < 0)
		return -1;
	rc = pgp_keyring_open(kr_r, config_str(cfg, "gnupg_home"), pw,
	    error_r);
	memset(pw, 0, sizeof(pw));
	return rc;
}

static struct pgp_keyring *
kr_get(const char **error_r)
{
	struct pgp_keyring *kr = NULL;

	pthread_mutex_lock(&krpool_lock);
	if (krpool_n > 0)
		kr = krpool[--krpool_n];
	pthread_mutex_unlock(&krpool_lock);
	if (kr != NULL)
		return kr;
	if (mlfi_keyring_open(mlfi_g.cfg, mlfi_g.mkey, &kr, error_r) < 0)
		return NULL;
	return kr;
}

static void
kr_put(struct pgp_keyring *kr)
{
	if (kr == NULL)
		return;
	pthread_mutex_lock(&krpool_lock);
	if (krpool_n < POOL_MAX) {
		krpool[krpool_n++] = kr;
		kr = NULL;
	}
	pthread_mutex_unlock(&krpool_lock);
	pgp_keyring_free(&kr);
}

int
mlfi_keyring_start(const char **error_r)
{
	struct pgp_keyring *kr = kr_get(error_r);

	if (kr == NULL)
		return -1;
	kr_put(kr);
	return 0;
}

void
mlfi_keyring_shutdown(void)
{
	const char *error;

	pthread_mutex_lock(&krpool_lock);
	while (krpool_n > 0)
		pgp_keyring_free(&krpool[--krpool_n]);
	pthread_mutex_unlock(&krpool_lock);
	if (mlfi_g.cfg != NULL)
		(void)pgp_keyring_stop_agent(config_str(mlfi_g.cfg,
		    "gnupg_home"), &error);
}

/* Per connection. */
struct connctx {
	struct msgctx *msg;
};

static struct connctx *
conn(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

static void
update_qid(SMFICTX *ctx, struct msgctx *m)
{
	msgctx_set_qid(m, smfi_getsymval(ctx, "{i}"));
}

/*
 * A failure while collecting the message (spool, memory).  tempfail:
 * answer now.  accept: go on collecting the header block, so that the
 * end of the message can still remove forged info headers
 * (internal_failure()); msgctx_eom() reports the failure then.
 */
static sfsistat
collect_failed(struct msgctx *m, const char *stage, const char *error)
{
	if (mlfi_g.fail_action != SMFIS_ACCEPT) {
		log_err(m->qid, "milter: %s: status=tempfail reason=\"%s\"",
		    stage, error);
		return SMFIS_TEMPFAIL;
	}
	log_warn(m->qid, "milter: %s: %s", stage, error);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct connctx *c = calloc(1, sizeof(*c));

	(void)host;
	(void)sa;
	if (c == NULL) {
		log_err("NOQUEUE", "connect: out of memory");
		return SMFIS_TEMPFAIL;
	}
	smfi_setpriv(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct connctx *c = conn(ctx);
	const char *from = argv[0] != NULL ? argv[0] : "";
	char addr[1024];
	size_t l;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	msgctx_free(&c->msg);
	if (*from == '<')
		from++;
	l = strcspn(from, ">");
	if (l >= sizeof(addr))
		l = sizeof(addr) - 1;
	memcpy(addr, from, l);
	addr[l] = '\0';
	c->msg = msgctx_new(mlfi_g.cfg, addr);
	if (c->msg == NULL) {
		log_err("NOQUEUE", "envfrom: out of memory");
		return SMFIS_TEMPFAIL;
	}
	update_qid(ctx, c->msg);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct connctx *c = conn(ctx);
	const char *error;

	if (c == NULL || c->msg == NULL)
		return SMFIS_TEMPFAIL;
	if (msgctx_rcpt(c->msg, argv[0], &error) < 0)
		return collect_failed(c->msg, "rcpt", error);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct connctx *c = conn(ctx);
	const char *error;

	if (c == NULL || c->msg == NULL)
		return SMFIS_TEMPFAIL;
	if (msgctx_header(c->msg, name, value, &error) < 0)
		return collect_failed(c->msg, "header", error);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct connctx *c = conn(ctx);
	const char *error;

	if (c == NULL || c->msg == NULL)
		return SMFIS_TEMPFAIL;
	update_qid(ctx, c->msg);
	if (msgctx_eoh(c->msg, &error) < 0)
		return collect_failed(c->msg, "eoh", error);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct connctx *c = conn(ctx);
	const char *error;

	if (c == NULL || c->msg == NULL)
		return SMFIS_TEMPFAIL;
	if (msgctx_body(c->msg, data, len, &error) < 0)
		return collect_failed(c->msg, "body", error);
	return SMFIS_CONTINUE;
}

/* Apply the computed edits through libmilter. */
static int
apply(SMFICTX *ctx, struct msgctx *m, const char **what_r)
{
	const struct edits *e = &m->edits;
	size_t i, off;

	for (i = 0; i < e->n; i++) {
		const struct edit *ed = &e->v[i];
		int r;

		if (ed->op == EDIT_ADD)
			r = smfi_addheader(ctx, ed->name, ed->value);
		else
			r = smfi_chgheader(ctx, ed->name, ed->index,
			    ed->op == EDIT_DELETE ? NULL : ed->value);
		if (r != MI_SUCCESS) {
			*what_r = ed->op == EDIT_ADD ? "smfi_addheader" :
			    "smfi_chgheader";
			return -1;
		}
	}
	if (!e->replace_body)
		return 0;
	for (off = 0; off < e->body.len;) {
		size_t n = e->body.len - off;

		if (n > 65536)
			n = 65536;
		if (smfi_replacebody(ctx, (unsigned char *)e->body.data + off,
		    (int)n) != MI_SUCCESS) {
			*what_r = "smfi_replacebody";
			return -1;
		}
		off += n;
	}
	if (e->body.len == 0 && smfi_replacebody(ctx,
	    (unsigned char *)"", 0) != MI_SUCCESS) {
		*what_r = "smfi_replacebody";
		return -1;
	}
	return 0;
}

/*
 * An internal failure at the end of the message.  tempfail: the client
 * retries later.  accept: the message goes on unprocessed, but never
 * with a forged info header; when those cannot be removed, tempfail.
 */
static sfsistat
internal_failure(SMFICTX *ctx, struct msgctx *m, const char *error)
{
	const char *why, *what;

	if (mlfi_g.fail_action != SMFIS_ACCEPT) {
		log_err(m->qid, "milter: status=tempfail reason=\"%s\"", error);
		return SMFIS_TEMPFAIL;
	}
	if (msgctx_strip_only(m, mlfi_g.cfg, &why) < 0) {
		log_err(m->qid, "milter: status=tempfail reason=\"%s\" "
		    "accept=\"impossible: %s\"", error, why);
		return SMFIS_TEMPFAIL;
	}
	if (apply(ctx, m, &what) < 0) {
		log_err(m->qid, "milter: status=tempfail reason=\"%s\" "
		    "accept=\"impossible: %s failed\"", error, what);
		return SMFIS_TEMPFAIL;
	}
	log_err(m->qid, "milter: status=accepted reason=\"%s\" stripped=%d",
	    error, m->result.stripped);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct connctx *c = conn(ctx);
	struct inbound_env env;
	struct msgctx *m;
	const char *error = NULL, *what;
	char kr_error[512];
	sfsistat rc = SMFIS_CONTINUE;
	int st;

	if (c == NULL || c->msg == NULL)
		return SMFIS_TEMPFAIL;
	m = c->msg;
	update_qid(ctx, m);
	env.cfg = mlfi_g.cfg;
	env.mkey = mlfi_g.mkey;
	env.key_cache_ttl = config_int(mlfi_g.cfg, "milter_key_cache_ttl") / 1000;
	env.st = pool_get(&error);
	if (env.st == NULL) {
		rc = internal_failure(ctx, m, error);
		goto out;
	}
	/* a keyring that does not open only matters for OpenPGP mail */
	env.kr = kr_get(&error);
	env.kr_error = NULL;
	if (env.kr == NULL) {
		snprintf(kr_error, sizeof(kr_error), "%s", error);
		env.kr_error = kr_error;
	}
	st = msgctx_eom(m, &env, NULL, &error);
	pool_put(env.st);
	kr_put(env.kr);
	if (st != INBOUND_OK) {
		rc = internal_failure(ctx, m, error);
		goto out;
	}
	if (apply(ctx, m, &what) < 0) {
		log_err(m->qid, "milter: status=tempfail reason=\"%s failed\"",
		    what);
		rc = SMFIS_TEMPFAIL;
		goto out;
	}
	log_info(m->qid, "milter: %s", m->result.log.data != NULL ?
	    m->result.log.data : "");
out:
	msgctx_free(&c->msg);
	return rc;
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	struct connctx *c = conn(ctx);

	if (c != NULL)
		msgctx_free(&c->msg);
	return SMFIS_CONTINUE;
}

/* close may be the only callback a connection gets: c may be NULL. */
static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct connctx *c = conn(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	msgctx_free(&c->msg);
	free(c);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

struct smfiDesc mlfi_desc = {
	.xxfi_name = "postern-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY,
	.xxfi_connect = mlfi_connect,
	.xxfi_envfrom = mlfi_envfrom,
	.xxfi_envrcpt = mlfi_envrcpt,
	.xxfi_header = mlfi_header,
	.xxfi_eoh = mlfi_eoh,
	.xxfi_body = mlfi_body,
	.xxfi_eom = mlfi_eom,
	.xxfi_abort = mlfi_abort,
	.xxfi_close = mlfi_close,
};
