#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "err.h"
#include "secret.h"

struct secret_key {
	unsigned char raw[SECRET_KEY_LEN];
};

/*
 * OpenSSL 3 looks the cipher up in its providers on every init with
 * EVP_aes_256_gcm(); fetch it once per process instead (the daemons seal
 * and open on every message).
 */
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *gcm_fetched;

static void
gcm_fetch(void)
{
	gcm_fetched = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

static const EVP_CIPHER *
gcm(void)
{
	pthread_once(&gcm_once, gcm_fetch);
	return gcm_fetched != NULL ? gcm_fetched : EVP_aes_256_gcm();
}

int
secret_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

void
secret_wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

int
secret_key_create(const char *path, const char **error_r)
{
	unsigned char raw[SECRET_KEY_LEN];
	char hex[SECRET_KEY_LEN * 2 + 2];
	size_t i;
	int fd;
	ssize_t n;

	if (secret_random(raw, sizeof(raw)) < 0)
		return err_set(error_r, "cannot get random bytes");
	for (i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	hex[2 * SECRET_KEY_LEN] = '\n';
	hex[2 * SECRET_KEY_LEN + 1] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		OPENSSL_cleanse(hex, sizeof(hex));
		return err_set(error_r, "cannot create '%s': %s", path,
		    strerror(errno));
	}
	n = write(fd, hex, strlen(hex));
	OPENSSL_cleanse(hex, sizeof(hex));
	if (n != (ssize_t)(2 * SECRET_KEY_LEN + 1) || fsync(fd) < 0) {
		int e = errno;

		close(fd);
		unlink(path);
		return err_set(error_r, "cannot write '%s': %s", path,
		    strerror(e));
	}
	if (close(fd) < 0)
		return err_set(error_r, "cannot write '%s': %s", path,
		    strerror(errno));
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
secret_key_load(struct secret_key **key_r, const char *path,
    const char **error_r)
{
	char text[SECRET_KEY_LEN * 2 + 64];
	struct secret_key *key = NULL;
	struct stat sb;
	ssize_t n;
	size_t i;
	int fd, rc = -1;

	*key_r = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(error_r, "cannot open master key '%s': %s",
		    path, strerror(errno));
	if (fstat(fd, &sb) < 0) {
		err_set(error_r, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		err_set(error_r, "master key '%s' is accessible by group or "
		    "others (mode %04o): chmod 600 it", path,
		    (unsigned)(sb.st_mode & 07777));
		goto out;
	}
	n = read(fd, text, sizeof(text) - 1);
	if (n < 0) {
		err_set(error_r, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	text[n] = '\0';
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	if (n != SECRET_KEY_LEN * 2) {
		err_set(error_r, "master key '%s': want %d hex digits",
		    path, SECRET_KEY_LEN * 2);
		goto out;
	}
	key = calloc(1, sizeof(*key));
	if (key == NULL) {
		err_set(error_r, "out of memory");
		goto out;
	}
	for (i = 0; i < SECRET_KEY_LEN; i++) {
		int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			err_set(error_r, "master key '%s': not hexadecimal",
			    path);
			goto out;
		}
		key->raw[i] = (unsigned char)(hi << 4 | lo);
	}
	*key_r = key;
	key = NULL;
	rc = 0;
out:
	OPENSSL_cleanse(text, sizeof(text));
	secret_key_free(&key);
	close(fd);
	return rc;
}

struct secret_key *
secret_key_from_bytes(const unsigned char *raw, size_t len)
{
	struct secret_key *key;

	if (len != SECRET_KEY_LEN)
		return NULL;
	key = calloc(1, sizeof(*key));
	if (key != NULL)
		memcpy(key->raw, raw, len);
	return key;
}

void
secret_key_free(struct secret_key **keyp)
{
	if (*keyp == NULL)
		return;
	OPENSSL_cleanse((*keyp)->raw, sizeof((*keyp)->raw));
	free(*keyp);
	*keyp = NULL;
}

int
secret_derive_hex(const struct secret_key *key, const char *label,
    char hex_r[65], const char **error_r)
{
	unsigned char mac[32];
	unsigned int maclen = sizeof(mac);
	size_t i;

	if (HMAC(EVP_sha256(), key->raw, sizeof(key->raw),
	    (const unsigned char *)label, strlen(label), mac, &maclen) == NULL
	    || maclen != sizeof(mac))
		return err_set(error_r, "cannot derive key for '%s'", label);
	for (i = 0; i < sizeof(mac); i++)
		snprintf(hex_r + 2 * i, 3, "%02x", mac[i]);
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int
secret_seal(const struct secret_key *key, const char *aad, const void *plain,
    size_t len, unsigned char **sealed_r, size_t *sealed_len_r,
    const char **error_r)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *out = NULL, *nonce, *ct;
	int outl, rc = -1;

	*sealed_r = NULL;
	if (len > (size_t)0x7fffffff - SECRET_OVERHEAD)
		return err_set(error_r, "secret too large");
	out = malloc(len + SECRET_OVERHEAD);
	if (out == NULL)
		return err_set(error_r, "out of memory");
	out[0] = 'P';
	out[1] = '1';
	nonce = out + 2;
	ct = nonce + SECRET_NONCE_LEN;
	if (secret_random(nonce, SECRET_NONCE_LEN) < 0) {
		err_set(error_r, "cannot get random bytes");
		goto out;
	}
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    EVP_EncryptInit_ex(ctx, gcm(), NULL, key->raw,
	    nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &outl, (const unsigned char *)aad,
	    (int)strlen(aad)) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &outl, plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + outl, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRET_TAG_LEN,
	    ct + len) != 1) {
		err_set(error_r, "cannot seal secret");
		goto out;
	}
	*sealed_r = out;
	*sealed_len_r = len + SECRET_OVERHEAD;
	out = NULL;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(out);
	return rc;
}

int
secret_open(const struct secret_key *key, const char *aad,
    const unsigned char *sealed, size_t len, unsigned char **plain_r,
    size_t *plain_len_r, const char **error_r)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *out = NULL;
	const unsigned char *nonce, *ct;
	size_t ctlen;
	int outl, rc = -1;

	*plain_r = NULL;
	if (len < SECRET_OVERHEAD || sealed[0] != 'P' || sealed[1] != '1')
		return err_set(error_r, "sealed secret is malformed");
	nonce = sealed + 2;
	ct = nonce + SECRET_NONCE_LEN;
	ctlen = len - SECRET_OVERHEAD;
	out = malloc(ctlen + 1);
	if (out == NULL)
		return err_set(error_r, "out of memory");
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    EVP_DecryptInit_ex(ctx, gcm(), NULL, key->raw,
	    nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &outl, (const unsigned char *)aad,
	    (int)strlen(aad)) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &outl, ct, (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRET_TAG_LEN,
	    (void *)(ct + ctlen)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + outl, &outl) != 1) {
		err_set(error_r, "cannot open sealed secret: wrong master key "
		    "or damaged value");
		goto out;
	}
	out[ctlen] = '\0';
	*plain_r = out;
	*plain_len_r = ctlen;
	out = NULL;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	secret_wipe_free(out, ctlen + 1);
	return rc;
}
