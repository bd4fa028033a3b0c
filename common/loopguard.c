/* loopguard: the HMAC marker of postern-encrypt's own messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "address.h"
#include "err.h"
#include "loopguard.h"

#define TAG "postern-loop-v1"

size_t
loopguard_body_offset(const char *msg, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(msg + pos, '\n', len - pos);
		size_t l = nl != NULL ? (size_t)(nl - (msg + pos)) : len - pos;

		if (l == 0 || (l == 1 && msg[pos] == '\r'))
			return nl != NULL ? pos + l + 1 : len;
		if (nl == NULL)
			return len;
		pos += l + 1;
	}
	return len;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SHA-256 of the canonical body. */
static int
body_digest(const char *body, size_t len, unsigned char md[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t end = len, i, start;
	int ok = 0;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while (end > 0 && (body[end - 1] == '\n' || body[end - 1] == '\r'))
		end--;
	for (i = start = 0; i < end; i++) {
		if (body[i] != '\r')
			continue;
		if (EVP_DigestUpdate(ctx, body + start, i - start) != 1)
			goto out;
		start = i + 1;
	}
	if (EVP_DigestUpdate(ctx, body + start, end - start) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, NULL) != 1)
		goto out;
	ok = 1;
out:
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int
mac_hex(const char *secret, time_t t, const char *body, size_t body_len,
    char *const *rcpts, size_t n, char hex[65])
{
	unsigned char md[32], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char **sorted = NULL;
	struct buf in;
	size_t i;
	int rc = -1;

	buf_init(&in, 0);
	sorted = calloc(n + 1, sizeof(*sorted));
	if (sorted == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		char a[ADDRESS_MAX + 1];

		if (address_normalize(rcpts[i], a, sizeof(a)) < 0)
			snprintf(a, sizeof(a), "%s", rcpts[i]);
		if ((sorted[i] = strdup(a)) == NULL)
			goto out;
	}
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	if (body_digest(body, body_len, md) < 0 ||
	    buf_printf(&in, "%s\n%lld\n", TAG, (long long)t) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (buf_printf(&in, "%s\n", sorted[i]) < 0)
			goto out;
	if (buf_append(&in, md, sizeof(md)) < 0)
		goto out;
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)in.data, in.len, mac, &maclen) == NULL ||
	    maclen != 32)
		goto out;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	rc = 0;
out:
	for (i = 0; sorted != NULL && i < n; i++)
		free(sorted[i]);
	free(sorted);
	buf_release(&in);
	return rc;
}

int
loopguard_value(const char *secret, time_t t, const char *body,
    size_t body_len, char *const *rcpts, size_t nrcpts,
    char value[LOOPGUARD_VALUE_MAX], const char **error_r)
{
	char hex[65];

	if (secret == NULL || secret[0] == '\0')
		return err_set(error_r, "no server-secret (run 'posternctl "
		    "init')");
	if (mac_hex(secret, t, body != NULL ? body : "", body_len, rcpts,
	    nrcpts, hex) < 0)
		return err_set(error_r, "cannot compute the loop marker");
	snprintf(value, LOOPGUARD_VALUE_MAX, "v1; t=%lld; h=%s", (long long)t,
	    hex);
	return 0;
}

int
loopguard_add(const char *secret, time_t t, const char *msg, size_t len,
    char *const *rcpts, size_t nrcpts, struct buf *out, const char **error_r)
{
	char value[LOOPGUARD_VALUE_MAX];
	size_t body = loopguard_body_offset(msg, len);
	const char *nl = memchr(msg, '\n', len);
	int crlf = nl != NULL && nl > msg && nl[-1] == '\r';

	if (loopguard_value(secret, t, msg + body, len - body, rcpts, nrcpts,
	    value, error_r) < 0)
		return -1;
	if (buf_printf(out, "%s: %s%s", LOOPGUARD_HEADER, value,
	    crlf ? "\r\n" : "\n") < 0 || buf_append(out, msg, len) < 0)
		return err_set(error_r, "out of memory");
	return 0;
}

/* Parse "v1; t=N; h=HEX" (white space around tokens allowed). */
static int
parse_value(const char *v, size_t l, long long *t_r, char hex[65])
{
	char tmp[LOOPGUARD_VALUE_MAX * 2];
	char *p, *q;
	size_t i, j;

	/* drop folding and white space */
	for (i = j = 0; i < l && j + 1 < sizeof(tmp); i++)
		if (v[i] != ' ' && v[i] != '\t' && v[i] != '\r' && v[i] != '\n')
			tmp[j++] = v[i];
	tmp[j] = '\0';
	if (strncmp(tmp, "v1;t=", 5) != 0)
		return -1;
	*t_r = strtoll(tmp + 5, &p, 10);
	if (p == tmp + 5 || strncmp(p, ";h=", 3) != 0)
		return -1;
	q = p + 3;
	if (strlen(q) != 64 || strspn(q, "0123456789abcdef") != 64)
		return -1;
	memcpy(hex, q, 65);
	return 0;
}

enum loopguard_verdict
loopguard_check(const char *secret, const char *msg, size_t len,
    char *const *rcpts, size_t nrcpts)
{
	const size_t hl = strlen(LOOPGUARD_HEADER);
	size_t body = loopguard_body_offset(msg, len), pos = 0;
	enum loopguard_verdict v = LOOPGUARD_NONE;

	while (pos < body) {
		size_t end = pos, vstart;
		char want[65], got[65];
		long long t;

		/* the field with its continuation lines */
		do {
			const char *nl = memchr(msg + end, '\n', body - end);

			end = nl != NULL ? (size_t)(nl - msg) + 1 : body;
		} while (end < body && (msg[end] == ' ' || msg[end] == '\t'));
		if (end - pos > hl && strncasecmp(msg + pos, LOOPGUARD_HEADER,
		    hl) == 0 && msg[pos + hl] == ':') {
			vstart = pos + hl + 1;
			v = LOOPGUARD_INVALID;
			if (secret != NULL && secret[0] != '\0' &&
			    parse_value(msg + vstart, end - vstart, &t,
			    got) == 0 &&
			    mac_hex(secret, (time_t)t, msg + body, len - body,
			    rcpts, nrcpts, want) == 0 &&
			    CRYPTO_memcmp(want, got, 64) == 0)
				return LOOPGUARD_VALID;
		}
		pos = end;
	}
	return v;
}
