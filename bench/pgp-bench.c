/*
 * pgp-bench: times Postern's OpenPGP primitives (common/pgp.c) on one
 * keyring, for bench/b0300-pgp.sh.
 *
 *	pgp-bench HOME PASSPHRASE genkey            print a new key's fpr
 *	pgp-bench HOME PASSPHRASE OP FPR FILE RUNS [nocompress]
 *
 * OP is enc, dec, sign or verify (armored, detached signatures), or
 * the message layer: msg-enc (PGP/MIME), msg-dec (inbound decryption
 * of that), msg-sign (PGP/MIME multipart/signed), msg-verify (inbound
 * verification), on a text/plain mail whose body is FILE.  FILE is the
 * plaintext; dec, verify, msg-dec and msg-verify first make their input
 * (untimed).  Prints the median milliseconds per operation.  Exit 0 or 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "pgp.h"
#include "pgp_keyring.h"
#include "pgp_msg.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static char *
slurp(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[65536];
	size_t n;

	if (f == NULL)
		return NULL;
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) < 0)
			break;
	fclose(f);
	return buf_steal(&b, len_r);
}

int
main(int argc, char **argv)
{
	struct pgp_keyring *kr = NULL;
	struct pgp_opts o = { .armor = 1, .max_out = 512u << 20 };
	struct pgp_result res;
	struct pgp_msg_opts mo;
	struct pgp_msg_result mr;
	struct buf prep, out;
	const char *error, *op, *fprs[1];
	double *t;
	char *data;
	size_t len;
	int runs, i, rc = 1;

	if (argc < 4 || pgp_keyring_open(&kr, argv[1], argv[2], &error) < 0) {
		fprintf(stderr, "usage: pgp-bench HOME PASSPHRASE OP ...\n");
		return 1;
	}
	op = argv[3];
	if (strcmp(op, "genkey") == 0) {
		char fpr[PGP_FPR_MAX + 1];

		if (pgp_keyring_generate(kr, "Bench <bench@example.org>",
		    "ed25519", fpr, &error) < 0) {
			fprintf(stderr, "pgp-bench: %s\n", error);
			return 1;
		}
		printf("%s\n", fpr);
		pgp_keyring_free(&kr);
		return 0;
	}
	if (argc < 7)
		return 1;
	pgp_msg_opts_init(&mo);
	fprs[0] = argv[4];
	runs = atoi(argv[6]);
	if (argc > 7 && strcmp(argv[7], "nocompress") == 0)
		o.no_compress = 1;
	if ((data = slurp(argv[5], &len)) == NULL || runs < 1)
		return 1;
	t = calloc(runs, sizeof(*t));
	buf_init(&prep, 0);
	buf_init(&out, 0);
	if (strcmp(op, "dec") == 0 &&
	    pgp_encrypt(kr, fprs, 1, NULL, &o, data, len, &prep, &error) < 0)
		goto fail;
	if (strcmp(op, "verify") == 0 &&
	    pgp_sign(kr, fprs[0], PGP_SIG_DETACH, &o, data, len, &prep,
	    &error) < 0)
		goto fail;
	if (strncmp(op, "msg-", 4) == 0) {
		/* a mail around the data */
		struct buf m;

		buf_init(&m, 0);
		buf_puts(&m, "From: Bench <bench@example.org>\n"
		    "To: bench@example.org\nSubject: bench\n"
		    "MIME-Version: 1.0\nContent-Type: text/plain\n\n");
		buf_append(&m, data, len);
		free(data);
		data = buf_steal(&m, &len);
		mo.pgp = o;
		mo.max_size = 512u << 20;
		if (strcmp(op, "msg-dec") == 0 && pgp_msg_encrypt(kr, data, len,
		    fprs, 1, NULL, &mo, &prep, &error) < 0)
			goto fail;
		if (strcmp(op, "msg-verify") == 0 && pgp_msg_sign(kr, data, len,
		    fprs[0], &mo, &prep, &error) < 0)
			goto fail;
	}
	for (i = 0; i < runs; i++) {
		double t0 = now_ms();
		int r;

		if (strcmp(op, "enc") == 0)
			r = pgp_encrypt(kr, fprs, 1, NULL, &o, data, len, &out,
			    &error);
		else if (strcmp(op, "dec") == 0) {
			r = pgp_decrypt(kr, &o, prep.data, prep.len, &out,
			    &res, &error);
			pgp_result_release(&res);
		} else if (strcmp(op, "sign") == 0)
			r = pgp_sign(kr, fprs[0], PGP_SIG_DETACH, &o, data,
			    len, &out, &error);
		else if (strcmp(op, "verify") == 0) {
			r = pgp_verify(kr, &o, prep.data, prep.len, data, len,
			    NULL, &res, &error);
			if (r == 0 && !pgp_result_all_valid(&res)) {
				error = "signature not valid";
				r = -1;
			}
			pgp_result_release(&res);
		} else if (strcmp(op, "msg-enc") == 0) {
			buf_reset(&out);
			r = pgp_msg_encrypt(kr, data, len, fprs, 1, NULL, &mo,
			    &out, &error);
		} else if (strcmp(op, "msg-sign") == 0) {
			buf_reset(&out);
			r = pgp_msg_sign(kr, data, len, fprs[0], &mo, &out,
			    &error);
		} else if (strcmp(op, "msg-dec") == 0 ||
		    strcmp(op, "msg-verify") == 0) {
			buf_reset(&out);
			r = pgp_msg_inbound(kr, prep.data, prep.len, NULL, &mo,
			    NULL, &mr, &out, &error);
			if (r == 0 && !(mr.flags & (strcmp(op, "msg-dec") == 0 ?
			    PGP_MSG_R_DECRYPTED : PGP_MSG_R_SIGNED))) {
				error = "not decrypted or not signed";
				r = -1;
			}
			if (r == 0)
				pgp_msg_result_release(&mr);
		} else {
			error = "unknown op";
			r = -1;
		}
		if (r < 0)
			goto fail;
		t[i] = now_ms() - t0;
	}
	qsort(t, runs, sizeof(*t), cmp_d);
	printf("%.2f\n", runs % 2 ? t[runs / 2] :
	    (t[runs / 2 - 1] + t[runs / 2]) / 2);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "pgp-bench: %s: %s\n", op, error);
out:
	free(t);
	free(data);
	buf_release(&prep);
	buf_release(&out);
	pgp_keyring_free(&kr);
	return rc;
}
