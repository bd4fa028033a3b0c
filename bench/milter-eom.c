/*
 * milter-eom: postern-milter's own work on one message, in process and
 * without Postfix: the header fields and the body (CRLF, 64 KiB chunks,
 * prepared before the clock starts) go into a msgctx as the callbacks
 * would hand them over, then
 * msgctx_eom() runs the end-of-message path (parse, settings, key from
 * the keystore with the daemon's key cache, decrypt, info headers, the
 * edits with the new body).  Prints milliseconds per message (median).
 *   milter-eom CONF MESSAGE RCPT N
 * MESSAGE has LF line ends (as smtp-source -F takes it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "inbound.h"
#include "msgctx.h"
#include "secret.h"
#include "store.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
die(const char *what, const char *error)
{
	fprintf(stderr, "milter-eom: %s: %s\n", what, error ? error : "");
	exit(1);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The message as libmilter hands it over: fields, and the body in CRLF. */
struct wire {
	char **names, **values;
	size_t nfields;
	struct buf body;
};

static void
wire_prepare(struct wire *w, const char *msg, size_t len)
{
	const char *p = msg, *end = msg + len;

	memset(w, 0, sizeof(*w));
	w->names = calloc(len / 2 + 1, sizeof(char *));
	w->values = calloc(len / 2 + 1, sizeof(char *));
	if (w->names == NULL || w->values == NULL)
		die("alloc", "out of memory");
	/* header fields, one by one (no folding in bench messages) */
	while (p < end && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *colon = nl ? memchr(p, ':', (size_t)(nl - p)) : NULL;

		if (nl == NULL || colon == NULL)
			die("message", "bad header");
		w->names[w->nfields] = strndup(p, (size_t)(colon - p));
		colon++;
		if (*colon == ' ')
			colon++;
		w->values[w->nfields++] = strndup(colon, (size_t)(nl - colon));
		p = nl + 1;
	}
	p++;
	buf_init(&w->body, 0);
	if (buf_reserve(&w->body, 2 * (size_t)(end - p)) < 0)
		die("alloc", "out of memory");
	for (; p < end; p++) {
		if (*p == '\n')
			w->body.data[w->body.len++] = '\r';
		w->body.data[w->body.len++] = *p;
	}
}

static void
wire_release(struct wire *w)
{
	size_t i;

	for (i = 0; i < w->nfields; i++) {
		free(w->names[i]);
		free(w->values[i]);
	}
	free(w->names);
	free(w->values);
	buf_release(&w->body);
}

/* One message through a fresh msgctx; returns its edits' body length. */
static size_t
one(struct config *cfg, const struct inbound_env *env, const struct wire *w,
    const char *rcpt)
{
	struct msgctx *m = msgctx_new(cfg, "alice@src.test");
	const char *error = NULL;
	size_t i, off, n, blen;

	if (m == NULL || msgctx_rcpt(m, rcpt, &error) < 0)
		die("msgctx", error);
	for (i = 0; i < w->nfields; i++)
		if (msgctx_header(m, w->names[i], w->values[i], &error) < 0)
			die("header", error);
	if (msgctx_eoh(m, &error) < 0)
		die("eoh", error);
	/* the body in the milter's chunk size */
	for (off = 0; off < w->body.len; off += n) {
		n = w->body.len - off > 65536 ? 65536 : w->body.len - off;
		if (msgctx_body(m, w->body.data + off, n, &error) < 0)
			die("body", error);
	}
	if (msgctx_eom(m, env, NULL, &error) != INBOUND_OK)
		die("eom", error);
	blen = m->edits.replace_body ? m->edits.body.len : 0;
	msgctx_free(&m);
	return blen;
}

int
main(int argc, char **argv)
{
	struct config *cfg;
	struct secret_key *mkey;
	struct inbound_env env;
	struct wire w;
	const char *error;
	char *msg;
	size_t len = 0, cap = 1 << 20, n;
	double *t;
	FILE *fp;
	int i, count;

	if (argc != 5)
		die("usage", "milter-eom CONF MESSAGE RCPT N");
	count = atoi(argv[4]);
	if (count < 1)
		die("usage", "N < 1");
	if (config_load(&cfg, argv[1], &error) < 0)
		die("config", error);
	if (secret_key_load(&mkey, config_str(cfg, "master_key_file"),
	    &error) < 0)
		die("master key", error);
	env.cfg = cfg;
	env.mkey = mkey;
	env.key_cache_ttl = config_int(cfg, "milter_key_cache_ttl") / 1000;
	if (store_open(&env.st, config_str(cfg, "database"),
	    config_int(cfg, "store_busy_timeout"), 0, &error) < 0)
		die("store", error);
	if ((fp = fopen(argv[2], "rb")) == NULL || (msg = malloc(cap)) == NULL)
		die("open", argv[2]);
	while ((n = fread(msg + len, 1, cap - len, fp)) > 0) {
		len += n;
		if (len == cap && (msg = realloc(msg, cap *= 2)) == NULL)
			die("read", "out of memory");
	}
	fclose(fp);
	if ((t = calloc((size_t)count, sizeof(*t))) == NULL)
		die("alloc", "out of memory");
	wire_prepare(&w, msg, len);
	if (one(cfg, &env, &w, argv[3]) == 0)	/* warm the key cache */
		die("eom", "the body was not replaced (nothing decrypted?)");
	for (i = 0; i < count; i++) {
		double t0 = now_ms();

		one(cfg, &env, &w, argv[3]);
		t[i] = now_ms() - t0;
	}
	wire_release(&w);
	qsort(t, (size_t)count, sizeof(*t), cmp_double);
	printf("%.3f\n", t[count / 2]);
	free(t);
	free(msg);
	inbound_key_cache_flush();
	store_free(&env.st);
	secret_key_free(&mkey);
	config_free(&cfg);
	return 0;
}
