/*
 * smime_opts: struct smime_opts defaults and the smime.* settings that
 * fill it (registered in settings_defs_smime.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "err.h"
#include "smime.h"

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
		if (config_parse_bool(value, &b) == 0) {
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

void
smime_opts_config(struct smime_opts *o, const struct config *cfg)
{
	o->prefix = config_str(cfg, "info_header_prefix");
	o->legacy_prefixes = config_str(cfg, "legacy_info_header_prefixes");
}
