/*
 * pgp_msg_opts: struct pgp_msg_opts defaults and the pgp.* settings
 * that fill it (registered in settings_defs_pgp.c and, for pgp.enabled,
 * settings_defs_core.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "err.h"
#include "pgp_msg.h"

void
pgp_msg_opts_init(struct pgp_msg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->encoding = PGP_MSG_MIME;
	o->pgp.cipher = "AES256";
	o->pgp.digest = "SHA256";
	o->max_size = 50u * 1024 * 1024;
	o->html_to_text = 1;
	o->enabled = 1;
}

/* Constant spellings, so the options never point at a caller's string. */
static const char *const ciphers[] = {
	"AES256", "AES192", "AES128", "CAMELLIA256", "CAMELLIA128", "TWOFISH",
};
static const char *const digests[] = {
	"SHA256", "SHA384", "SHA512", "SHA224",
};

static const char *
lookup(const char *const *tab, size_t n, const char *v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(tab[i], v) == 0)
			return tab[i];
	return NULL;
}

/* "50m", "1024", "2g": bytes; -1 when malformed or below 1024. */
static int
parse_size(const char *v, size_t *out)
{
	unsigned long long n, mul = 1;
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	n = strtoull(v, &end, 10);
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1024ULL * 1024 * 1024, end++;
	if (*end != '\0' || n < 1 || n > (unsigned long long)SIZE_MAX / mul ||
	    n * mul < 1024)
		return -1;
	*out = (size_t)(n * mul);
	return 0;
}

static const struct {
	const char *name;
	size_t off;
} bools[] = {
	{ "pgp.convert-html-to-text", offsetof(struct pgp_msg_opts,
	    html_to_text) },
	{ "pgp.enabled", offsetof(struct pgp_msg_opts, enabled) },
	{ "pgp.skip-sign-only", offsetof(struct pgp_msg_opts,
	    skip_sign_only) },
	{ "pgp.scan-html", offsetof(struct pgp_msg_opts, scan_html) },
	{ "pgp.partitioned-fixup", offsetof(struct pgp_msg_opts,
	    partitioned_fixup) },
	{ "pgp.import-keys-from-mail", offsetof(struct pgp_msg_opts,
	    import_keys) },
	{ "pgp.remove-keys-from-mail", offsetof(struct pgp_msg_opts,
	    remove_keys) },
	{ "pgp.remove-signature", offsetof(struct pgp_msg_opts,
	    remove_signature) },
};

int
pgp_msg_opts_set(struct pgp_msg_opts *o, const char *name, const char *value,
    const char **error_r)
{
	const char *c;
	size_t i;
	int b;

	if (strcmp(name, "pgp.encoding") == 0) {
		if (strcasecmp(value, "pgp-mime") == 0) {
			o->encoding = PGP_MSG_MIME;
			return 0;
		}
		if (strcasecmp(value, "pgp-inline") == 0) {
			o->encoding = PGP_MSG_INLINE;
			return 0;
		}
	} else if (strcmp(name, "pgp.encryption-algorithm") == 0) {
		if ((c = lookup(ciphers, sizeof(ciphers) / sizeof(*ciphers),
		    value)) != NULL) {
			o->pgp.cipher = c;
			return 0;
		}
	} else if (strcmp(name, "pgp.signing-algorithm") == 0) {
		if ((c = lookup(digests, sizeof(digests) / sizeof(*digests),
		    value)) != NULL) {
			o->pgp.digest = c;
			return 0;
		}
	} else if (strcmp(name, "pgp.compression") == 0) {
		if (config_parse_bool(value, &b) == 0) {
			o->pgp.no_compress = !b;
			return 0;
		}
	} else if (strcmp(name, "pgp.max-size") == 0) {
		if (parse_size(value, &o->max_size) == 0)
			return 0;
	} else {
		for (i = 0; i < sizeof(bools) / sizeof(*bools); i++)
			if (strcmp(name, bools[i].name) == 0)
				break;
		if (i == sizeof(bools) / sizeof(*bools))
			return err_set(error_r, "unknown OpenPGP setting '%s'",
			    name);
		if (config_parse_bool(value, &b) == 0) {
			*(int *)((char *)o + bools[i].off) = b;
			return 0;
		}
	}
	return err_set(error_r, "bad value '%s' for '%s'", value, name);
}
