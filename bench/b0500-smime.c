/*
 * b0500-smime: decrypt, verify, encrypt and sign through smime.h on
 * 4 KB, 100 KB, 1 MB and 10 MB messages, each next to a bare OpenSSL
 * CMS S/MIME loop on the same bytes in the same run (SMIME_read_CMS +
 * CMS_decrypt / CMS_verify; CMS_encrypt / CMS_sign + SMIME_write_CMS).
 * Median of N runs; one RSA-2048 recipient and signer, AES-128-CBC,
 * SHA-256, detached signatures.
 *
 *   b0500-smime DIR   (DIR has ca.crt, ee.crt, ee.key)
 *   B0500_ONLY=encrypt (one operation, for profiling)
 *
 * Prints "result b0500 op=OP size=SIZE ours_ms=.. bare_ms=.. ratio=.."
 * lines for bench/run.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "smime.h"

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

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return v[n / 2];
}

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "b0500: %s: %s\n", what, err != NULL ? err : "");
	ERR_print_errors_fp(stderr);
	exit(1);
}

static X509 *cert, *cacert;
static EVP_PKEY *key;
static X509_STORE *store;

/* A message of about size bytes: headers + base64-ish text lines. */
static char *
make_msg(size_t size, size_t *len_r)
{
	struct buf b;
	size_t i = 0;

	buf_init(&b, 0);
	buf_puts(&b, "From: Bench <ee@example.org>\r\nTo: ee@example.org\r\n"
	    "Subject: bench\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
	while (b.len < size)
		buf_printf(&b, "line %08zu The quick brown fox jumps over the "
		    "lazy dog, again and again.\r\n", i++);
	return buf_steal(&b, len_r);
}

struct pair {
	double ours, bare;
};

static struct pair
run(const char *op, const char *msg, size_t len, int n)
{
	double *a = calloc((size_t)n, sizeof(double));
	double *b = calloc((size_t)n, sizeof(double));
	struct smime_opts o;
	struct smime_simple_keys sk;
	struct smime_keys k;
	STACK_OF(X509) *rc = sk_X509_new_null(), *kc = sk_X509_new_null();
	struct buf enc, sig, out;
	const char *err;
	struct pair p;
	int i;

	smime_opts_init(&o);
	o.max_size = 64 * 1024 * 1024;
	sk_X509_push(rc, cert);
	sk_X509_push(kc, cert);
	memset(&sk, 0, sizeof(sk));
	sk.store = store;
	sk.certs = kc;
	sk.keys = &key;
	sk.nkeys = 1;
	smime_simple_keys_init(&k, &sk);
	buf_init(&enc, 0);
	buf_init(&sig, 0);
	if (smime_encrypt(msg, len, rc, &o, &enc, &err) < 0)
		die("encrypt", err);
	if (smime_sign(msg, len, cert, key, NULL, &o, &sig, &err) < 0)
		die("sign", err);

	for (i = 0; i < n; i++) {
		double t0, t1;

		if (strcmp(op, "decrypt") == 0 || strcmp(op, "verify") == 0) {
			const struct buf *in = op[0] == 'd' ? &enc : &sig;
			struct smime_result r;
			BIO *bin, *cont = NULL, *bout;
			CMS_ContentInfo *cms;
			int ok;

			t0 = now_ms();
			if (smime_inbound(in->data, in->len, &k, &o, NULL, 0, &r,
			    &err) < 0)
				die("inbound", err);
			t1 = now_ms();
			if (op[0] == 'd' ? !(r.flags & SMIME_R_DECRYPTED) :
			    !(r.flags & SMIME_R_SIGNED_VALID))
				die(op, "not done");
			smime_result_release(&r);
			a[i] = t1 - t0;

			t0 = now_ms();
			bin = BIO_new_mem_buf(in->data, (int)in->len);
			bout = BIO_new(BIO_s_mem());
			/* decrypt: binary (no conversion); verify: the text
			 * mode read, as OpenSSL 3.0's binary multipart split
			 * keeps the CRLF before the boundary (our input is
			 * CRLF already, so no bytes change) */
			cms = op[0] == 'd' ?
			    SMIME_read_CMS_ex(bin, CMS_BINARY, &cont, NULL) :
			    SMIME_read_CMS(bin, &cont);
			if (cms == NULL)
				die("SMIME_read_CMS", NULL);
			ok = op[0] == 'd' ?
			    CMS_decrypt(cms, key, cert, NULL, bout, CMS_BINARY) :
			    CMS_verify(cms, NULL, store, cont, bout, CMS_BINARY);
			if (ok != 1)
				die("bare", op);
			CMS_ContentInfo_free(cms);
			BIO_free(cont);
			BIO_free(bin);
			BIO_free(bout);
			t1 = now_ms();
			b[i] = t1 - t0;
		} else {
			int enc_op = strcmp(op, "encrypt") == 0;
			CMS_ContentInfo *cms;
			BIO *bin, *bout;
			unsigned int fl = CMS_BINARY | CMS_STREAM;

			buf_init(&out, 0);
			t0 = now_ms();
			if ((enc_op ? smime_encrypt(msg, len, rc, &o, &out, &err) :
			    smime_sign(msg, len, cert, key, NULL, &o, &out,
			    &err)) < 0)
				die(op, err);
			t1 = now_ms();
			buf_release(&out);
			a[i] = t1 - t0;

			t0 = now_ms();
			bin = BIO_new_mem_buf(msg, (int)len);
			bout = BIO_new(BIO_s_mem());
			cms = enc_op ? CMS_encrypt(rc, bin, EVP_aes_128_cbc(), fl) :
			    CMS_sign(cert, key, NULL, bin, fl | CMS_DETACHED);
			if (cms == NULL || SMIME_write_CMS(bout, cms, bin,
			    fl | (enc_op ? 0 : CMS_DETACHED)) != 1)
				die("bare", op);
			CMS_ContentInfo_free(cms);
			BIO_free(bin);
			BIO_free(bout);
			t1 = now_ms();
			b[i] = t1 - t0;
		}
	}
	p.ours = median(a, n);
	p.bare = median(b, n);
	free(a);
	free(b);
	buf_release(&enc);
	buf_release(&sig);
	sk_X509_free(rc);
	sk_X509_free(kc);
	return p;
}

static X509 *
load_cert(const char *dir, const char *name)
{
	char path[1024];
	FILE *fp;
	X509 *c;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "r");
	if (fp == NULL)
		die("open", path);
	c = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (c == NULL)
		die("cert", path);
	return c;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		size_t size;
		int n;
	} sizes[] = {
		{ "4k", 4096, 200 }, { "100k", 100 * 1024, 100 },
		{ "1m", 1024 * 1024, 20 }, { "10m", 10 * 1024 * 1024, 5 },
	};
	static const char *const ops[] = { "decrypt", "verify", "encrypt",
		"sign" };
	char path[1024];
	FILE *fp;
	size_t s, o;

	if (argc != 2)
		die("usage", "b0500-smime DIR");
	cert = load_cert(argv[1], "ee.crt");
	cacert = load_cert(argv[1], "ca.crt");
	snprintf(path, sizeof(path), "%s/ee.key", argv[1]);
	fp = fopen(path, "r");
	if (fp == NULL || (key = PEM_read_PrivateKey(fp, NULL, NULL,
	    NULL)) == NULL)
		die("key", path);
	fclose(fp);
	store = X509_STORE_new();
	X509_STORE_add_cert(store, cacert);
	X509_STORE_set_purpose(store, X509_PURPOSE_SMIME_SIGN);

	printf("%-8s %-5s %10s %10s %6s\n", "op", "size", "ours_ms", "bare_ms",
	    "ratio");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t len;
		char *msg = make_msg(sizes[s].size, &len);

		for (o = 0; o < 4; o++) {
			const char *only = getenv("B0500_ONLY");
			struct pair p;

			if (only != NULL && strcmp(only, ops[o]) != 0)
				continue;
			p = run(ops[o], msg, len, sizes[s].n);

			printf("%-8s %-5s %10.3f %10.3f %6.2f\n", ops[o],
			    sizes[s].name, p.ours, p.bare, p.ours / p.bare);
			printf("result b0500 op=%s size=%s ours_ms=%.3f "
			    "bare_ms=%.3f ratio=%.2f\n", ops[o], sizes[s].name,
			    p.ours, p.bare, p.ours / p.bare);
			fflush(stdout);
		}
		free(msg);
	}
	X509_free(cert);
	X509_free(cacert);
	EVP_PKEY_free(key);
	X509_STORE_free(store);
	return 0;
}
