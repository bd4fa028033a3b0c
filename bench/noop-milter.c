/*
 * noop-milter: the baselines of b0700, a libmilter filter that asks for
 * every callback postern-milter gets (headers, body chunks, end of
 * message), registers the same flags, and does none of our work:
 *   noop-milter SOCKET      changes nothing: what being a milter at all
 *                           costs Postfix and libmilter;
 *   noop-milter -r SOCKET   keeps the body and hands it back unchanged
 *                           with smfi_replacebody() at the end: what a
 *                           milter that replaces the body (as a
 *                           decrypting one must) costs Postfix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>

static int replace;

struct body {
	unsigned char *data;
	size_t len, cap;
};

static sfsistat
cont(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
conn_cb(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	(void)sa;
	return cont(ctx);
}

static sfsistat
argv_cb(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return cont(ctx);
}

static sfsistat
header_cb(SMFICTX *ctx, char *name, char *value)
{
	(void)name;
	(void)value;
	return cont(ctx);
}

static sfsistat
body_cb(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct body *b;

	if (!replace)
		return cont(ctx);
	if ((b = smfi_getpriv(ctx)) == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return SMFIS_TEMPFAIL;
		smfi_setpriv(ctx, b);
	}
	if (b->len + len > b->cap) {
		size_t cap = (b->len + len) * 2;
		unsigned char *d = realloc(b->data, cap);

		if (d == NULL)
			return SMFIS_TEMPFAIL;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return SMFIS_CONTINUE;
}

static void
body_free(SMFICTX *ctx)
{
	struct body *b = smfi_getpriv(ctx);

	if (b == NULL)
		return;
	free(b->data);
	free(b);
	smfi_setpriv(ctx, NULL);
}

static sfsistat
eom_cb(SMFICTX *ctx)
{
	struct body *b = smfi_getpriv(ctx);
	size_t off, n;
	sfsistat rc = SMFIS_CONTINUE;

	for (off = 0; b != NULL && off < b->len; off += n) {
		n = b->len - off > 65536 ? 65536 : b->len - off;
		if (smfi_replacebody(ctx, b->data + off, (int)n) !=
		    MI_SUCCESS) {
			rc = SMFIS_TEMPFAIL;
			break;
		}
	}
	body_free(ctx);
	return rc;
}

static sfsistat
end_cb(SMFICTX *ctx)
{
	body_free(ctx);
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "noop-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY,
	.xxfi_connect = conn_cb,
	.xxfi_envfrom = argv_cb,
	.xxfi_envrcpt = argv_cb,
	.xxfi_header = header_cb,
	.xxfi_eoh = cont,
	.xxfi_body = body_cb,
	.xxfi_eom = eom_cb,
	.xxfi_abort = end_cb,
	.xxfi_close = end_cb,
};

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "-r") == 0) {
		replace = 1;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: noop-milter [-r] SOCKET\n");
		return 2;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "noop-milter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
