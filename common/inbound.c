#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "config.h"
#include "err.h"
#include "inbound.h"
#include "mime.h"
#include "settings.h"

void
inbound_result_init(struct inbound_result *res)
{
	memset(res, 0, sizeof(*res));
	buf_init(&res->log, 8192);
}

void
inbound_result_release(struct inbound_result *res)
{
	buf_release(&res->log);
}

/* Does field name n (length l) equal prefix or start with "prefix-"? */
static int
has_prefix(const char *n, size_t l, const char *prefix, size_t pl)
{
	if (pl == 0 || l < pl || strncasecmp(n, prefix, pl) != 0)
		return 0;
	return l == pl || n[pl] == '-';
}

static int
strip_one(struct mime_message *m, const char *prefix, size_t pl)
{
	struct mime_entity *root = m->root;
	int removed = 0;
	size_t i;

	for (;;) {
		char name[256];
		size_t nl;

		for (i = 0; i < root->nfields; i++) {
			const struct mime_field *f = &root->fields[i];

			nl = f->name_len;
			while (nl > 0 && (f->raw[nl - 1] == ' ' ||
			    f->raw[nl - 1] == '\t'))
				nl--;
			if (has_prefix(f->raw, nl, prefix, pl))
				break;
		}
		if (i == root->nfields)
			return removed;
		if (nl >= sizeof(name))
			nl = sizeof(name) - 1;
		memcpy(name, root->fields[i].raw, nl);
		name[nl] = '\0';
		/* deletes every field of that exact name */
		removed += mime_header_delete(m, root, name);
	}
}

int
inbound_strip_info(const struct config *cfg, struct mime_message *m)
{
	const char *prefix = config_str(cfg, "info_header_prefix");
	const char *legacy = config_str(cfg, "legacy_info_header_prefixes");
	const char *p;
	int removed;

	removed = strip_one(m, prefix, strlen(prefix));
	for (p = legacy; *p != '\0';) {
		size_t l;

		p += strspn(p, " \t,");
		l = strcspn(p, " \t,");
		if (l > 0)
			removed += strip_one(m, p, l);
		p += l;
	}
	return removed;
}

static int
info_add(const struct config *cfg, struct mime_message *m, const char *name,
    const char *value, const char **error_r)
{
	char full[256];

	snprintf(full, sizeof(full), "%s-%s",
	    config_str(cfg, "info_header_prefix"), name);
	return mime_header_add(m, m->root, full, value, MIME_BOTTOM, error_r);
}

static void
kinds_text(unsigned kinds, struct buf *out)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ MIME_K_SMIME_ENVELOPED, "smime-enveloped" },
		{ MIME_K_SMIME_AUTH_ENVELOPED, "smime-authenveloped" },
		{ MIME_K_SMIME_SIGNED, "smime-signed" },
		{ MIME_K_SMIME_OPAQUE_SIGNED, "smime-opaque-signed" },
		{ MIME_K_SMIME_CERTS_ONLY, "smime-certs-only" },
		{ MIME_K_SMIME_UNKNOWN, "smime-p7m" },
		{ MIME_K_PGP_ENCRYPTED, "pgp-mime-encrypted" },
		{ MIME_K_PGP_SIGNED, "pgp-mime-signed" },
		{ MIME_K_PGP_INLINE_ENCRYPTED, "pgp-inline-encrypted" },
		{ MIME_K_PGP_INLINE_SIGNED, "pgp-inline-signed" },
	};
	size_t i;
	int first = 1;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(kinds & names[i].bit))
			continue;
		buf_printf(out, "%s%s", first ? "" : ",", names[i].name);
		first = 0;
	}
	if (first)
		buf_puts(out, "none");
}

#define CRYPTO_KINDS (MIME_K_SMIME_ENVELOPED | MIME_K_SMIME_AUTH_ENVELOPED | \
	MIME_K_SMIME_SIGNED | MIME_K_SMIME_OPAQUE_SIGNED | \
	MIME_K_SMIME_UNKNOWN | MIME_K_PGP_ENCRYPTED | MIME_K_PGP_SIGNED | \
	MIME_K_PGP_INLINE_ENCRYPTED | MIME_K_PGP_INLINE_SIGNED)

/*
 * Is every recipient internal?  On return *external_r names the first
 * external one (or NULL).  -1 on a store failure.
 */
static int
all_internal(const struct inbound_env *env, const struct inbound_msg *im,
    const char **external_r, const char **error_r)
{
	size_t i;

	*external_r = NULL;
	for (i = 0; i < im->nrcpts; i++) {
		struct settings_view *v;
		const char *loc;
		char norm[ADDRESS_MAX + 1];

		if (address_normalize(im->rcpts[i], norm, sizeof(norm)) < 0) {
			*external_r = im->rcpts[i];
			return 0;
		}
		if (settings_view_user(env->st, env->mkey, norm, &v,
		    error_r) < 0)
			return -1;
		loc = settings_get(v, "locality", NULL, NULL);
		if (strcmp(loc, "internal") != 0) {
			settings_view_free(&v);
			*external_r = im->rcpts[i];
			return 0;
		}
		settings_view_free(&v);
	}
	return 0;
}

int
inbound_process(const struct inbound_env *env, const struct inbound_msg *im,
    struct mime_message *m, struct inbound_result *res,
    const char **error_r)
{
	struct mime_inspect ins;
	const char *external;
	size_t i;

	res->stripped = inbound_strip_info(env->cfg, m);
	if (im->too_big) {
		res->action = INBOUND_PASSED;
		buf_puts(&res->log, "found=unknown action=pass "
		    "reason=\"message too large\"");
		if (info_add(env->cfg, m, "Skipped", "message too large",
		    error_r) < 0)
			return INBOUND_TEMPFAIL;
		return INBOUND_OK;
	}
	mime_inspect(m, &ins);
	res->kinds = ins.kinds & CRYPTO_KINDS;
	buf_puts(&res->log, "found=");
	kinds_text(res->kinds, &res->log);
	if (res->kinds == 0) {
		res->action = INBOUND_NONE;
		buf_puts(&res->log, " action=none");
		goto done;
	}
	if (all_internal(env, im, &external, error_r) < 0)
		return INBOUND_TEMPFAIL;
	if (external != NULL) {
		char why[ADDRESS_MAX + 64];

		res->action = INBOUND_PASSED;
		snprintf(why, sizeof(why), "recipient %s is not internal",
		    external);
		buf_printf(&res->log, " action=pass reason=\"%s\"", why);
		if (info_add(env->cfg, m, "Decryption-Skipped", why,
		    error_r) < 0)
			return INBOUND_TEMPFAIL;
		goto done;
	}
	/* The S/MIME and OpenPGP handlers plug in here. */
	res->action = INBOUND_PASSED;
	buf_puts(&res->log, " action=pass reason=\"no handler for this "
	    "format\"");
	if (info_add(env->cfg, m, "Decryption-Skipped",
	    "no handler for this format", error_r) < 0)
		return INBOUND_TEMPFAIL;
done:
	if (res->stripped > 0)
		buf_printf(&res->log, " stripped=%d", res->stripped);
	for (i = 0; i < im->nrcpts; i++)
		buf_printf(&res->log, " rcpt=<%s>", im->rcpts[i]);
	return INBOUND_OK;
}
