/*
 * cmsdec: the bare OpenSSL CMS decryption a milter cannot avoid, as the
 * yardstick for b0700: read an S/MIME message and a key once, then
 * SMIME_read_CMS + CMS_decrypt it N times; print milliseconds per
 * message.  usage: cmsdec MESSAGE CERT KEY N
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/pem.h>

int
main(int argc, char **argv)
{
	struct timespec a, b;
	X509 *cert;
	EVP_PKEY *key;
	FILE *fp;
	char *msg;
	long len;
	int i, n;

	if (argc != 5)
		return 2;
	n = atoi(argv[4]);
	if ((fp = fopen(argv[1], "rb")) == NULL)
		return 1;
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	msg = malloc((size_t)len);
	if (msg == NULL || fread(msg, 1, (size_t)len, fp) != (size_t)len)
		return 1;
	fclose(fp);
	fp = fopen(argv[2], "r");
	cert = fp ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;
	if (fp)
		fclose(fp);
	fp = fopen(argv[3], "r");
	key = fp ? PEM_read_PrivateKey(fp, NULL, NULL, NULL) : NULL;
	if (fp)
		fclose(fp);
	if (cert == NULL || key == NULL)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		BIO *in = BIO_new_mem_buf(msg, (int)len), *out;
		CMS_ContentInfo *cms = SMIME_read_CMS(in, NULL);

		out = BIO_new(BIO_s_mem());
		if (cms == NULL || !CMS_decrypt(cms, key, cert, NULL, out, 0))
			return 1;
		CMS_ContentInfo_free(cms);
		BIO_free(in);
		BIO_free(out);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.3f\n", ((b.tv_sec - a.tv_sec) * 1e3 +
	    (b.tv_nsec - a.tv_nsec) / 1e6) / n);
	return 0;
}
