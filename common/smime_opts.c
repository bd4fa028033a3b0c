/*
 * smime_opts: struct smime_opts defaults and the smime.* settings that
 * fill it (registered in settings_defs_smime_ops[] below).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "settings.h"
#include "smime.h"

const struct setting_def settings_defs_smime_ops[] = {
	{ "smime.encryption-algorithm", SETTING_ENUM, "AES-128-CBC",
	    "AES-128-CBC|AES-192-CBC|AES-256-CBC|AES-128-GCM|AES-192-GCM|"
	    "AES-256-GCM|3DES|RC2|CAST5|CAMELLIA-128-CBC|CAMELLIA-256-CBC|SEED",
	    0, 0, SETTING_SCOPE_ALL, SETTING_ROLE_RECIPIENT,
	    "S/MIME content cipher (GCM: AuthEnvelopedData; RC2, CAST5, SEED "
	    "need smime.legacy-algorithms)." },
	{ "smime.encryption-scheme", SETTING_ENUM, "rsaes-pkcs1-v1_5",
	    "rsaes-pkcs1-v1_5|rsaes-oaep-sha1|rsaes-oaep-sha256|"
	    "rsaes-oaep-sha384|rsaes-oaep-sha512", 0, 0, SETTING_SCOPE_ALL,
	    SETTING_ROLE_RECIPIENT,
	    "RSA key transport for S/MIME recipients (gpgsm 2.2 reads only "
	    "PKCS#1 v1.5)." },
	{ "smime.protect-headers", SETTING_BOOL, "false", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_SENDER,
	    "Copy Subject, From, To, Cc and Reply-To into the protected "
	    "S/MIME entity." },
	{ "smime.signing-digest", SETTING_ENUM, "sha-256",
	    "sha-256|sha-384|sha-512|sha-1", 0, 0, SETTING_SCOPE_ALL,
	    SETTING_ROLE_SENDER, "Digest of S/MIME signatures." },
	{ "smime.signing-pss", SETTING_BOOL, "false", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_SENDER,
	    "Sign with RSASSA-PSS instead of PKCS#1 v1.5." },
	{ "smime.signing-mode", SETTING_ENUM, "detached", "detached|opaque",
	    0, 0, SETTING_SCOPE_ALL, SETTING_ROLE_SENDER,
	    "Detached multipart/signed or opaque signed-data." },
	{ "smime.legacy-algorithms", SETTING_BOOL, "false", NULL, 0, 0,
	    SETTING_SCOPE_GLOBAL, SETTING_ROLE_SYSTEM,
	    "Load the OpenSSL legacy provider (RC2, CAST5, SEED) for "
	    "decryption and allow them for encryption." },
	{ "smime.abort-on-illegal-7bit", SETTING_BOOL, "false", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_RECIPIENT,
	    "Keep the ciphertext when decrypted 7bit parts hold 8-bit bytes." },
	{ "smime.max-size", SETTING_SIZE, "50m", NULL, 1024,
	    4LL * 1024 * 1024 * 1024, SETTING_SCOPE_ALL, SETTING_ROLE_BOTH,
	    "Largest message S/MIME handles; larger ones pass unchanged." },
	{ "smime.skip-calendar", SETTING_BOOL, "false", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_SENDER,
	    "Do not encrypt calendar (text/calendar) messages." },
	{ "smime.skip-signing-calendar", SETTING_BOOL, "true", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_SENDER,
	    "Do not sign calendar (text/calendar) messages." },
};
const size_t settings_defs_smime_ops_count =
    sizeof(settings_defs_smime_ops) / sizeof(settings_defs_smime_ops[0]);

void
smime_opts_init(struct smime_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cipher = SMIME_AES128_CBC;
	o->scheme = SMIME_RSA_PKCS1;
	o->digest = SMIME_SHA256;
	o->max_size = 50 * 1024 * 1024;
}

static const struct {
	const char *name;
	int val;
} ciphers[] = {
	{ "AES-128-CBC", SMIME_AES128_CBC }, { "AES-192-CBC", SMIME_AES192_CBC },
	{ "AES-256-CBC", SMIME_AES256_CBC }, { "AES-128-GCM", SMIME_AES128_GCM },
	{ "AES-192-GCM", SMIME_AES192_GCM }, { "AES-256-GCM", SMIME_AES256_GCM },
	{ "AES-GCM", SMIME_AES256_GCM }, { "3DES", SMIME_DES_EDE3_CBC },
	{ "RC2", SMIME_RC2_128_CBC }, { "CAST5", SMIME_CAST5_CBC },
	{ "CAMELLIA-128-CBC", SMIME_CAMELLIA128_CBC },
	{ "CAMELLIA-256-CBC", SMIME_CAMELLIA256_CBC }, { "SEED", SMIME_SEED_CBC },
}, schemes[] = {
	{ "rsaes-pkcs1-v1_5", SMIME_RSA_PKCS1 },
	{ "rsaes-oaep-sha1", SMIME_RSA_OAEP_SHA1 },
	{ "rsaes-oaep-sha256", SMIME_RSA_OAEP_SHA256 },
	{ "rsaes-oaep-sha384", SMIME_RSA_OAEP_SHA384 },
	{ "rsaes-oaep-sha512", SMIME_RSA_OAEP_SHA512 },
}, digests[] = {
	{ "sha-256", SMIME_SHA256 }, { "sha-384", SMIME_SHA384 },
	{ "sha-512", SMIME_SHA512 }, { "sha-1", SMIME_SHA1 },
};

#define LOOKUP(tab, v, out) do { \
	size_t i_; \
	for (i_ = 0; i_ < sizeof(tab) / sizeof(tab[0]); i_++) \
		if (strcasecmp(tab[i_].name, (v)) == 0) { \
			(out) = tab[i_].val; \
			return 0; \
		} \
} while (0)

static int
parse_bool(const char *v, int *out)
{
	if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    strcasecmp(v, "yes") == 0)
		*out = 1;
	else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
	    strcasecmp(v, "no") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

int
smime_opts_set(struct smime_opts *o, const char *name, const char *value,
    const char **error_r)
{
	int b;

	if (strcmp(name, "smime.encryption-algorithm") == 0) {
		LOOKUP(ciphers, value, o->cipher);
	} else if (strcmp(name, "smime.encryption-scheme") == 0) {
		LOOKUP(schemes, value, o->scheme);
	} else if (strcmp(name, "smime.signing-digest") == 0) {
		LOOKUP(digests, value, o->digest);
	} else if (strcmp(name, "smime.signing-mode") == 0) {
		if (strcmp(value, "detached") == 0 ||
		    strcmp(value, "opaque") == 0) {
			o->opaque = value[0] == 'o';
			return 0;
		}
	} else if (strcmp(name, "smime.max-size") == 0) {
		char *end;
		unsigned long long n = strtoull(value, &end, 10);

		if (end != value) {
			if (*end == 'k' || *end == 'K')
				n *= 1024, end++;
			else if (*end == 'm' || *end == 'M')
				n *= 1024 * 1024, end++;
			else if (*end == 'g' || *end == 'G')
				n *= 1024ULL * 1024 * 1024, end++;
			if (*end == '\0' && n >= 1024) {
				o->max_size = (size_t)n;
				return 0;
			}
		}
	} else if (strcmp(name, "smime.protect-headers") == 0 ||
	    strcmp(name, "smime.signing-pss") == 0 ||
	    strcmp(name, "smime.legacy-algorithms") == 0 ||
	    strcmp(name, "smime.abort-on-illegal-7bit") == 0) {
		if (parse_bool(value, &b) == 0) {
			if (name[6] == 'p' && name[7] == 'r')
				o->protect_headers = b;
			else if (name[6] == 's')
				o->pss = b;
			else if (name[6] == 'l')
				o->legacy = b;
			else
				o->abort_on_illegal_7bit = b;
			return 0;
		}
	} else {
		return err_set(error_r, "unknown S/MIME setting '%s'", name);
	}
	return err_set(error_r, "bad value '%s' for '%s'", value, name);
}
