/*
 * postern-encrypt: the queue-side content filter of Postern.  Reads one
 * message, applies the policy for every recipient, and hands each
 * resulting message back to the MTA; reports through its exit status
 * (Postfix FILTER_README, pipe(8); sysexits.h).
 *
 *	postern-encrypt [-c FILE] -f SENDER -- RCPT...
 *
 * Exit status: 0 every output was handed off (or nothing was to be
 * sent); 75 (EX_TEMPFAIL) any transient or internal failure, the MTA
 * keeps the message and retries; 69 (EX_UNAVAILABLE) the message is
 * larger than message_size_limit, or the reinjection server refused it
 * permanently (5xx) before anything was handed off; 65 (EX_DATAERR) an
 * envelope address is not an address.
 */
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gpgme.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <sqlite3.h>

#include "address.h"
#include "config.h"
#include "job.h"
#include "log.h"
#include "reinject.h"
#include "secret.h"
#include "spool.h"
#include "store.h"

#define EX_OK 0
#define EX_DATAERR 65
#define EX_UNAVAILABLE 69
#define EX_TEMPFAIL 75

/*
 * Exit with code: the reason goes to the log and, for pipe(8), to
 * standard error, which Postfix shows in the bounce or defer reason.
 */
static int
finish(const char *qid, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
finish(const char *qid, int code, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_printable(text);
	if (code == EX_OK)
		log_info(qid, "encrypt: %s", text);
	else
		log_err(qid, "encrypt: status=%s reason=\"%s\"",
		    code == EX_TEMPFAIL ? "deferred" : "bounced", text);
	if (code != EX_OK)
		fprintf(stderr, "postern-encrypt: %s\n", text);
	return code;
}

static void
usage(void)
{
	fprintf(stderr, "usage: postern-encrypt [-c file] -f sender -- "
	    "recipient ...\n");
	/* a mistake in master.cf must not bounce mail: retry */
	exit(EX_TEMPFAIL);
}

static void
setup_logging(const struct config *cfg)
{
	log_set_level((enum log_level)log_level_parse(config_str(cfg,
	    "log_level")));
	if (strcmp(config_str(cfg, "log_destination"), "stderr") == 0)
		return;
	if (log_open_syslog(config_str(cfg, "syslog_facility")) < 0)
		log_fatal(NULL, "bad syslog_facility '%s'",
		    config_str(cfg, "syslog_facility"));
}

/*
 * Start the libraries before the message is read: an allocation failure
 * in their lazy start-up is then a clean exit 75 here, not a half-made
 * internal structure later (OpenSSL 3.0 dereferences a lock it failed to
 * allocate on the first algorithm fetch).
 */
static OSSL_PROVIDER *prov_default, *prov_legacy;

static int
prewarm(void)
{
	static const char *const ciphers[] = { "AES-256-GCM", "AES-128-CBC" };
	EVP_CIPHER *c;
	EVP_MD *md;
	size_t i;

	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG |
	    OPENSSL_INIT_ADD_ALL_CIPHERS | OPENSSL_INIT_ADD_ALL_DIGESTS,
	    NULL) != 1)
		return -1;
	/* the keystore loads these on first use (x509.c); the legacy one
	 * may be missing, which is no error */
	if ((prov_default = OSSL_PROVIDER_try_load(NULL, "default", 1)) ==
	    NULL)
		return -1;
	prov_legacy = OSSL_PROVIDER_try_load(NULL, "legacy", 1);
	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		if ((c = EVP_CIPHER_fetch(NULL, ciphers[i], NULL)) == NULL)
			return -1;
		EVP_CIPHER_free(c);
	}
	if ((md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return -1;
	EVP_MD_free(md);
	if (sqlite3_initialize() != SQLITE_OK)
		return -1;
	if (gpgme_check_version(NULL) == NULL)
		return -1;
	return 0;
}

/* The message from standard input into a spool. */
static int
read_message(struct spool *sp, const char *qid, const char **error_r)
{
	char chunk[65536];
	ssize_t n;
	int st = SPOOL_OK;

	(void)qid;
	while ((n = read(0, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*error_r = strerror(errno);
			return SPOOL_ERROR;
		}
		st = spool_append(sp, chunk, (size_t)n, error_r);
		if (st == SPOOL_ERROR)
			return st;
		/* too big: read on to the end, keep nothing */
	}
	return st;
}

/* Hand every output to the MTA; the exit code. */
static int
hand_off(const struct config *cfg, const char *qid, struct job *job)
{
	struct reinject *r = NULL;
	const char *error;
	size_t i, k, done = 0;
	int rc = EX_OK;

	if (reinject_new(&r, config_str(cfg, "reinject"),
	    (long)config_int(cfg, "reinject_timeout"), &error) < 0)
		return finish(qid, EX_TEMPFAIL, "%s", error);
	for (i = 0; i < job->nout; i++) {
		struct job_output *o = &job->out[i];
		struct reinject_msg m = { o->sender, o->rcpts, o->nrcpts,
		    o->data.data, o->data.len };
		char reply[REINJECT_REPLY_MAX], rl[600];
		int st = reinject_send(r, &m, reply, &error);
		size_t used = 0;

		rl[0] = '\0';
		for (k = 0; k < o->nrcpts && used + 8 < sizeof(rl); k++)
			used += (size_t)snprintf(rl + used, sizeof(rl) - used,
			    "%s<%s>", k > 0 ? "," : "", o->rcpts[k]);
		if (st != REINJECT_OK) {
			/* nothing handed off yet and refused for good: the
			 * MTA may bounce; otherwise (and always after a
			 * partial hand-off) retry, accepting duplicates */
			rc = finish(qid, st == REINJECT_PERM && done == 0 ?
			    EX_UNAVAILABLE : EX_TEMPFAIL, "hand-off %zu of %zu "
			    "(%s to %s) failed: %s%s", i + 1, job->nout, o->kind,
			    rl, error, done > 0 ? " (earlier outputs were "
			    "handed off: they will be sent again)" : "");
			break;
		}
		done++;
		log_info(qid, "encrypt: status=sent output=%zu kind=%s from=<%s> "
		    "to=%s size=%zu reply=\"%s\"", i + 1, o->kind, o->sender, rl,
		    o->data.len, reply);
	}
	reinject_free(&r);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *conf = NULL, *sender = NULL, *error, *view;
	struct config *cfg = NULL;
	struct secret_key *mkey = NULL;
	struct store *st = NULL;
	struct spool *sp = NULL;
	struct job *job = NULL;
	char qid[32];
	size_t len, i;
	int c, rc = EX_TEMPFAIL, generated, s;

	log_init("postern-encrypt");
	log_set_fatal_exit(EX_TEMPFAIL);
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	while ((c = getopt(argc, argv, "c:f:")) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			sender = optarg;
			break;
		default:
			usage();
		}
	}
	if (sender == NULL || optind >= argc)
		usage();
	if (config_load(&cfg, conf, &error) < 0)
		return finish(NULL, EX_TEMPFAIL, "%s", error);
	setup_logging(cfg);
	if (sender[0] != '\0') {
		char a[ADDRESS_MAX + 1];

		if (address_normalize(sender, a, sizeof(a)) < 0) {
			rc = finish(NULL, EX_DATAERR, "bad sender address "
			    "'%.100s'", sender);
			goto out;
		}
	}
	for (i = (size_t)optind; i < (size_t)argc; i++) {
		char a[ADDRESS_MAX + 1];

		if (address_normalize(argv[i], a, sizeof(a)) < 0) {
			rc = finish(NULL, EX_DATAERR, "bad recipient address "
			    "'%.100s'", argv[i]);
			goto out;
		}
	}

	if (prewarm() < 0) {
		rc = finish(NULL, EX_TEMPFAIL, "cannot initialise the crypto "
		    "libraries");
		goto out;
	}
	sp = spool_new_config(cfg);
	if (sp == NULL) {
		rc = finish(NULL, EX_TEMPFAIL, "out of memory");
		goto out;
	}
	s = read_message(sp, NULL, &error);
	if (s == SPOOL_ERROR) {
		rc = finish(NULL, EX_TEMPFAIL, "cannot read the message: %s",
		    error);
		goto out;
	}
	s = spool_view(sp, &view, &len, &error);
	if (s == SPOOL_TOO_BIG) {
		rc = finish(NULL, EX_UNAVAILABLE, "message larger than "
		    "message_size_limit (%lld bytes)",
		    config_int(cfg, "message_size_limit"));
		goto out;
	}
	if (s != SPOOL_OK) {
		rc = finish(NULL, EX_TEMPFAIL, "cannot spool the message: %s",
		    error);
		goto out;
	}
	generated = job_qid(view, len, qid);
	log_info(qid, "encrypt: from=<%s> nrcpt=%d size=%zu%s", sender,
	    argc - optind, len, generated ? " qid=generated" : "");

	if (secret_key_load(&mkey, config_str(cfg, "master_key_file"),
	    &error) < 0) {
		rc = finish(qid, EX_TEMPFAIL, "%s", error);
		goto out;
	}
	if (store_open(&st, config_str(cfg, "database"),
	    config_int(cfg, "store_busy_timeout"), 0, &error) < 0) {
		rc = finish(qid, EX_TEMPFAIL, "%s", error);
		goto out;
	}
	{
		struct job_env env = { cfg, st, mkey, time(NULL), qid };

		if (job_run(&env, view, len, sender, argv + optind,
		    (size_t)(argc - optind), &job, &error) < 0) {
			rc = finish(qid, EX_TEMPFAIL, "%s", error);
			goto out;
		}
	}
	/* the database is not needed for the hand-off: let go of it */
	store_free(&st);
	for (i = 0; i < job->nlines; i++) {
		if (strncmp(job->lines[i], "warning: ", 9) == 0)
			log_warn(qid, "encrypt: %s", job->lines[i] + 9);
		else
			log_info(qid, "encrypt: %s", job->lines[i]);
	}
	rc = hand_off(cfg, qid, job);
	if (rc == EX_OK)
		rc = finish(qid, EX_OK, "status=done outputs=%zu blocked=%zu",
		    job->nout, job->nblocked);
out:
	job_free(&job);
	store_free(&st);
	secret_key_free(&mkey);
	spool_free(&sp);
	config_free(&cfg);
	if (prov_legacy != NULL)
		OSSL_PROVIDER_unload(prov_legacy);
	if (prov_default != NULL)
		OSSL_PROVIDER_unload(prov_default);
	return rc;
}
