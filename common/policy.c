/* policy: per-recipient decisions of postern-encrypt (see policy.h). */
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "mime.h"
#include "policy.h"
#include "settings.h"
#include "store_pgp.h"
#include "str.h"
#include "x509.h"

#define ENCRYPTED_ROOT (MIME_K_SMIME_ENVELOPED | MIME_K_SMIME_AUTH_ENVELOPED | \
	MIME_K_SMIME_UNKNOWN | MIME_K_PGP_ENCRYPTED)
#define SIGNED_ROOT (MIME_K_SMIME_SIGNED | MIME_K_SMIME_OPAQUE_SIGNED | \
	MIME_K_PGP_SIGNED)
#define SUBJECT_MAX (64 * 1024)

const char *
policy_action_name(enum policy_action a)
{
	switch (a) {
	case POLICY_INBOUND:
		return "inbound";
	case POLICY_PASS:
		return "plain";
	case POLICY_SMIME_SIGN:
		return "smime-sign";
	case POLICY_PGP_SIGN:
		return "pgp-sign";
	case POLICY_SMIME_ENCRYPT:
		return "smime-encrypt";
	case POLICY_PGP_ENCRYPT:
		return "pgp-encrypt";
	case POLICY_BLOCK:
		return "block";
	}
	return "?";
}

const char *
policy_level_name(enum policy_level l)
{
	switch (l) {
	case POLICY_LEVEL_NONE:
		return "none";
	case POLICY_LEVEL_ALLOW:
		return "allow";
	case POLICY_LEVEL_MUST:
		return "must";
	case POLICY_LEVEL_CONFLICT:
		return "conflict";
	}
	return "?";
}

/* Seed 003 §4.1.1: both sides must allow encryption; force on either
 * side wins; mandatory against no-encryption cannot be satisfied. */
enum policy_level
policy_combine_modes(const char *s, const char *r)
{
	if (strcmp(s, "force") == 0 || strcmp(r, "force") == 0)
		return POLICY_LEVEL_MUST;
	if (strcmp(s, "mandatory") == 0 || strcmp(r, "mandatory") == 0) {
		if (strcmp(s, "no-encryption") == 0 ||
		    strcmp(r, "no-encryption") == 0)
			return POLICY_LEVEL_CONFLICT;
		return POLICY_LEVEL_MUST;
	}
	if (strcmp(s, "no-encryption") == 0 || strcmp(r, "no-encryption") == 0)
		return POLICY_LEVEL_NONE;
	return POLICY_LEVEL_ALLOW;
}

/* ---- mailbox ---------------------------------------------------------- */

static int
take_mailbox(const char *t, size_t len, char *out, size_t outsz)
{
	char tmp[ADDRESS_MAX + 3];
	const char *lt = memchr(t, '<', len), *s = t, *e = t + len, *c;

	if (lt != NULL) {
		const char *gt = memchr(lt, '>', (size_t)(e - lt));

		if (gt == NULL)
			return -1;
		s = lt + 1;
		e = gt;
		/* obsolete route: <@a,@b:user@host> */
		if (s < e && *s == '@' && (c = memchr(s, ':',
		    (size_t)(e - s))) != NULL)
			s = c + 1;
	}
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (s == e || (size_t)(e - s) >= sizeof(tmp) ||
	    memchr(s, '@', (size_t)(e - s)) == NULL)
		return -1;
	memcpy(tmp, s, (size_t)(e - s));
	tmp[e - s] = '\0';
	return address_normalize(tmp, out, outsz);
}

int
policy_mailbox(const char *v, char *out, size_t outsz)
{
	char cur[1024];
	size_t n = 0;
	int quote = 0, comment = 0, angle = 0;
	const char *p;

	for (p = v;; p++) {
		char ch = *p;

		if (ch == '\0' || (!quote && !comment && !angle &&
		    (ch == ',' || ch == ';'))) {
			if (n > 0 && take_mailbox(cur, n, out, outsz) == 0)
				return 0;
			n = 0;
			if (ch == '\0')
				return -1;
			continue;
		}
		if (quote) {
			if (ch == '\\' && p[1] != '\0')
				p++;
			else if (ch == '"')
				quote = 0;
			continue;	/* display names are not kept */
		}
		if (comment) {
			if (ch == '\\' && p[1] != '\0')
				p++;
			else if (ch == '(')
				comment++;
			else if (ch == ')')
				comment--;
			continue;
		}
		if (ch == '"') {
			quote = 1;
			continue;
		}
		if (ch == '(') {
			comment = 1;
			continue;
		}
		if (ch == '<')
			angle = 1;
		else if (ch == '>')
			angle = 0;
		else if (ch == ':' && !angle) {
			n = 0;		/* "group:" starts a list */
			continue;
		}
		if (n + 1 < sizeof(cur))
			cur[n++] = ch;
	}
}

/* ---- triggers ----------------------------------------------------------- */

/* Collapse runs of white space left by a removal and trim the ends. */
static int
tidy(const char *in, struct buf *out)
{
	const char *p = in;
	int space = 0, any = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	for (; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t') {
			space = 1;
			continue;
		}
		if (space && any && buf_putc(out, ' ') < 0)
			return -1;
		space = 0;
		any = 1;
		if (buf_putc(out, *p) < 0)
			return -1;
	}
	if (out->data == NULL)
		return buf_puts(out, "");
	return 0;
}

int
policy_subject_trigger(const char *subject, const char *pattern,
    int is_regex, int remove, struct buf *new_subject, const char **error_r)
{
	struct buf tmp;
	int matched = 0, rc = -1;

	if (pattern[0] == '\0')
		return 0;
	buf_init(&tmp, SUBJECT_MAX);
	if (is_regex) {
		regex_t re;
		regmatch_t mt;
		const char *p = subject;

		if (settings_regcomp(&re, pattern, 0, error_r) < 0)
			goto out;
		while (*p != '\0' || p == subject) {
			if (regexec(&re, p, 1, &mt, p == subject ? 0 :
			    REG_NOTBOL) != 0)
				break;
			matched = 1;
			if (buf_append(&tmp, p, (size_t)mt.rm_so) < 0) {
				regfree(&re);
				err_set(error_r, "subject too long");
				goto out;
			}
			if (mt.rm_eo == mt.rm_so) {
				/* an empty match: keep one byte, move on */
				if (p[mt.rm_eo] == '\0')
					break;
				buf_putc(&tmp, p[mt.rm_eo]);
				p += mt.rm_eo + 1;
				continue;
			}
			p += mt.rm_eo;
		}
		regfree(&re);
		if (buf_puts(&tmp, p) < 0) {
			err_set(error_r, "subject too long");
			goto out;
		}
	} else {
		size_t pl = strlen(pattern);
		const char *p = subject;

		while (*p != '\0') {
			if (strncasecmp(p, pattern, pl) == 0) {
				matched = 1;
				p += pl;
				continue;
			}
			if (buf_putc(&tmp, *p++) < 0) {
				err_set(error_r, "subject too long");
				goto out;
			}
		}
	}
	if (matched && remove && new_subject != NULL &&
	    tidy(tmp.data != NULL ? tmp.data : "", new_subject) < 0) {
		err_set(error_r, "subject too long");
		goto out;
	}
	rc = matched;
out:
	buf_release(&tmp);
	return rc;
}

int
policy_header_trigger(const struct mime_message *m, const char *spec,
    const char **error_r)
{
	char name[256];
	const char *colon = strchr(spec, ':'), *pattern = NULL;
	size_t nl = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	const struct mime_field *f;
	regex_t re;
	size_t i;
	int any = 1, matched = 0;

	while (nl > 0 && isspace((unsigned char)spec[nl - 1]))
		nl--;
	if (nl == 0 || nl >= sizeof(name))
		return err_set(error_r, "bad header trigger '%s'", spec);
	memcpy(name, spec, nl);
	name[nl] = '\0';
	if (colon != NULL && colon[1] != '\0' && strcmp(colon + 1, "*") != 0 &&
	    strcmp(colon + 1, "*.") != 0) {
		pattern = colon + 1;
		any = 0;
		if (settings_regcomp(&re, pattern, REG_NOSUB, error_r) < 0)
			return -1;
	}
	for (i = 0; !matched && (f = mime_field_find(m->root, name, i)) !=
	    NULL; i++) {
		struct buf v;

		if (any) {
			matched = 1;
			break;
		}
		buf_init(&v, SUBJECT_MAX);
		if (mime_field_decoded(f, &v, NULL) == 0 &&
		    regexec(&re, v.data != NULL ? v.data : "", 0, NULL, 0) == 0)
			matched = 1;
		buf_release(&v);
	}
	if (!any)
		regfree(&re);
	return matched;
}

/* ---- the decision ------------------------------------------------------- */

struct ctx {
	const struct policy_env *env;
	const struct policy_msg *pm;
	struct policy_result *res;
	struct settings_view *sv;	/* originator */
	struct settings_view *rv;	/* the current recipient */
	struct policy_decision *d;
	int oom;
	/* the originator's signers, looked up once: -2 not yet */
	int smime_signer, pgp_signer;
	unsigned smime_flags;
	char smime_id[POLICY_ID_MAX], pgp_id[POLICY_ID_MAX];
	const char *error;
};

static char *
dup_or_oom(struct ctx *c, const char *s)
{
	char *r = strdup(s != NULL ? s : "");

	if (r == NULL)
		c->oom = 1;
	return r;
}

static void
trace_add(struct ctx *c, enum policy_trace_kind kind, const char *name,
    const char *value, int sender, enum address_level level,
    const char *owner)
{
	struct policy_decision *d = c->d;
	struct policy_trace *t;
	size_t i;

	for (i = 0; kind == POLICY_T_SETTING && i < d->ntrace; i++)
		if (d->trace[i].kind == kind && d->trace[i].sender == sender &&
		    strcmp(d->trace[i].name, name) == 0)
			return;
	t = realloc(d->trace, (d->ntrace + 1) * sizeof(*t));
	if (t == NULL) {
		c->oom = 1;
		return;
	}
	d->trace = t;
	t = &d->trace[d->ntrace];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->sender = sender;
	t->level = level;
	t->name = dup_or_oom(c, name);
	t->value = dup_or_oom(c, value);
	t->owner = dup_or_oom(c, owner);
	if (t->name == NULL || t->value == NULL || t->owner == NULL) {
		free(t->name);
		free(t->value);
		free(t->owner);
		return;		/* c->oom is set: the decision fails */
	}
	d->ntrace++;
}

static void
fact(struct ctx *c, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
fact(struct ctx *c, const char *label, const char *fmt, ...)
{
	char text[POLICY_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	trace_add(c, POLICY_T_FACT, label, text, 0, ADDRESS_LEVEL_FACTORY, "");
}

/* A setting of the originator (sender 1) or the recipient, traced. */
static const char *
get(struct ctx *c, const char *name, int sender)
{
	struct settings_view *v = sender ? c->sv : c->rv;
	enum address_level level;
	const char *owner, *val;

	val = settings_get(v, name, &level, &owner);
	trace_add(c, POLICY_T_SETTING, name, settings_display(v, name, NULL,
	    NULL), sender, level, owner != NULL ? owner : "");
	return val != NULL ? val : "";
}

static int
get_bool(struct ctx *c, const char *name, int sender)
{
	(void)get(c, name, sender);
	return settings_get_bool(sender ? c->sv : c->rv, name);
}

static long long
get_int(struct ctx *c, const char *name, int sender)
{
	(void)get(c, name, sender);
	return settings_get_int(sender ? c->sv : c->rv, name);
}

static void
reason(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
reason(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->d->reason, sizeof(c->d->reason), fmt, ap);
	va_end(ap);
}

static void
copy_id(char dst[POLICY_ID_MAX], const char *src)
{
	snprintf(dst, POLICY_ID_MAX, "%s", src);
}

/* The originator's S/MIME signer (once per message): 1, 0, -1. */
static int
smime_signer(struct ctx *c)
{
	unsigned flags = 0;

	if (get_bool(c, "smime.auto-select", 1))
		flags |= X509_POL_AUTO_SELECT;
	if (get_bool(c, "smime.always-use-freshest-signing-cert", 1))
		flags |= X509_POL_FRESHEST;
	c->smime_flags = flags;
	if (c->smime_signer == -2) {
		if (c->res->originator[0] == '\0')
			c->smime_signer = 0;
		else
			c->smime_signer = c->env->keys->smime_signer(
			    c->env->keys->arg, c->res->originator, flags,
			    c->smime_id, &c->error);
	}
	if (c->smime_signer == 1)
		fact(c, "S/MIME signing certificate", "%.16s...",
		    c->smime_id);
	else if (c->smime_signer == 0)
		fact(c, "S/MIME signing certificate", "none for %s",
		    c->res->originator[0] != '\0' ? c->res->originator :
		    "an unknown originator");
	return c->smime_signer;
}

static int
pgp_signer(struct ctx *c)
{
	if (c->pgp_signer == -2) {
		if (c->res->originator[0] == '\0')
			c->pgp_signer = 0;
		else
			c->pgp_signer = c->env->keys->pgp_signer(
			    c->env->keys->arg, c->res->originator, c->pgp_id,
			    &c->error);
	}
	if (c->pgp_signer == 1)
		fact(c, "OpenPGP signing key", "%s", c->pgp_id);
	else if (c->pgp_signer == 0)
		fact(c, "OpenPGP signing key", "none for %s",
		    c->res->originator[0] != '\0' ? c->res->originator :
		    "an unknown originator");
	return c->pgp_signer;
}

static int
min_size_ok(struct ctx *c, const char *name, const char *what)
{
	long long s = get_int(c, name, 1), r = get_int(c, name, 0);
	long long lim = s < r ? s : r;

	if ((long long)c->pm->size <= lim)
		return 1;
	fact(c, what, "message of %zu bytes is larger than %s (%lld)",
	    c->pm->size, name, lim);
	return 0;
}

static void
read_smime_opts(struct ctx *c, int encrypt, int sign)
{
	struct smime_opts *o = &c->d->smime;
	static const char *const enc[] = { "smime.encryption-algorithm",
	    "smime.encryption-scheme" };
	static const char *const sig[] = { "smime.signing-digest",
	    "smime.signing-pss", "smime.signing-mode" };
	const char *error;
	size_t i;

	smime_opts_init(o);
	o->legacy = settings_get_bool(c->sv, "smime.legacy-algorithms");
	if (encrypt) {
		for (i = 0; i < sizeof(enc) / sizeof(enc[0]); i++)
			(void)smime_opts_set(o, enc[i], get(c, enc[i], 0),
			    &error);
		o->protect_headers = get_bool(c, "smime.protect-headers", 1);
		(void)get(c, "smime.legacy-algorithms", 1);
	}
	if (sign)
		for (i = 0; i < sizeof(sig) / sizeof(sig[0]); i++)
			(void)smime_opts_set(o, sig[i], get(c, sig[i], 1),
			    &error);
}

static void
read_pgp_opts(struct ctx *c, int encrypt, int sign)
{
	struct policy_decision *d = c->d;

	snprintf(d->pgp_encoding, sizeof(d->pgp_encoding), "%s",
	    get(c, "pgp.encoding", 0));
	if (strcmp(d->pgp_encoding, "pgp-inline") == 0)
		d->pgp_html_to_text = get_bool(c, "pgp.convert-html-to-text",
		    0);
	if (encrypt) {
		snprintf(d->pgp_cipher, sizeof(d->pgp_cipher), "%s",
		    get(c, "pgp.encryption-algorithm", 0));
		d->pgp_compress = get_bool(c, "pgp.compression", 1) &&
		    get_bool(c, "pgp.compression", 0);
	}
	if (sign)
		snprintf(d->pgp_digest, sizeof(d->pgp_digest), "%s",
		    get(c, "pgp.signing-algorithm", 1));
}

/* Step 7 for a message that is not encrypted for this recipient. */
static int
decide_sign_only(struct ctx *c, int calendar, int signed_root)
{
	struct policy_decision *d = c->d;
	int want, r;

	d->action = POLICY_PASS;
	if (signed_root) {
		fact(c, "signature", "the message is signed already");
		return 0;
	}
	want = !get_bool(c, "sign.only-when-encrypting", 1);
	if (!want && c->res->header_sign) {
		fact(c, "force-sign trigger", "matched: signing forced");
		want = 1;
	}
	if (!want)
		return 0;
	if (calendar && (get_bool(c, "skip-signing-calendar", 1) ||
	    get_bool(c, "skip-signing-calendar", 0))) {
		fact(c, "calendar", "calendar message: not signed");
		return 0;
	}
	if (get_bool(c, "smime.enabled", 1) && get_bool(c, "smime.enabled", 0) &&
	    !(calendar && get_bool(c, "smime.skip-signing-calendar", 1)) &&
	    min_size_ok(c, "smime.max-size", "S/MIME")) {
		if ((r = smime_signer(c)) < 0)
			return -1;
		if (r == 1) {
			d->action = POLICY_SMIME_SIGN;
			copy_id(d->signer, c->smime_id);
			d->signer_flags = c->smime_flags;
			read_smime_opts(c, 0, 1);
			return 0;
		}
	}
	if (get_bool(c, "pgp.skip-sign-only", 1))
		return 0;
	if (get_bool(c, "pgp.enabled", 1) && get_bool(c, "pgp.enabled", 0) &&
	    min_size_ok(c, "pgp.max-size", "OpenPGP")) {
		if ((r = pgp_signer(c)) < 0)
			return -1;
		if (r == 1) {
			d->action = POLICY_PGP_SIGN;
			copy_id(d->signer, c->pgp_id);
			read_pgp_opts(c, 0, 1);
		}
	}
	return 0;
}

static void
join_ids(char **ids, size_t n, char *out, size_t outsz)
{
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < n && used + 20 < outsz; i++)
		used += (size_t)snprintf(out + used, outsz - used, "%s%.16s",
		    i > 0 ? ", " : "", ids[i]);
}

static int
decide_external(struct ctx *c, const struct mime_inspect *ins)
{
	struct policy_decision *d = c->d;
	const struct policy_keys *k = c->env->keys;
	const int calendar = (ins->kinds & MIME_K_CALENDAR) != 0;
	int signed_root = 0, r;
	const char *smode, *rmode;
	size_t i;
	char list[POLICY_REASON_MAX];

	for (i = 0; i < ins->nparts; i++)
		if ((ins->parts[i].kind & SIGNED_ROOT) && ins->parts[i].is_root)
			signed_root = 1;
	if (ins->kinds & MIME_K_PGP_INLINE_SIGNED)
		signed_root = 1;

	/* 2. already encrypted */
	if (c->res->encrypted) {
		d->action = POLICY_PASS;
		fact(c, "message", "already encrypted");
		reason(c, "already encrypted: sent as it is");
		return 0;
	}
	/* 3. encrypt-mode */
	smode = get(c, "encrypt-mode", 1);
	rmode = get(c, "encrypt-mode", 0);
	d->level = policy_combine_modes(smode, rmode);
	/* 4. triggers */
	if (get_bool(c, "subject-trigger.enabled", 1)) {
		(void)get(c, "subject-trigger.pattern", 1);
		(void)get(c, "subject-trigger.regex", 1);
		(void)get(c, "subject-trigger.remove-match", 1);
		if (c->res->subject_trigger) {
			fact(c, "subject trigger", "matched");
			d->level = POLICY_LEVEL_MUST;
		}
	}
	if (get_bool(c, "force-encrypt.allowed", 1)) {
		(void)get(c, "force-encrypt.trigger", 1);
		if (c->res->header_encrypt) {
			fact(c, "force-encrypt trigger", "matched");
			d->level = POLICY_LEVEL_MUST;
		}
	}
	if (get_bool(c, "force-sign.allowed", 1))
		(void)get(c, "force-sign.trigger", 1);
	/* 5. calendar */
	if (calendar && (get_bool(c, "skip-calendar", 1) ||
	    get_bool(c, "skip-calendar", 0))) {
		fact(c, "calendar", "text/calendar message: neither signed "
		    "nor encrypted");
		d->action = POLICY_PASS;
		reason(c, "calendar message with skip-calendar: sent as it is");
		return 0;
	}
	if (d->level == POLICY_LEVEL_CONFLICT) {
		d->action = POLICY_BLOCK;
		reason(c, "encrypt-mode %s (originator) and %s (recipient) "
		    "cannot both be met: not sent", smode, rmode);
		return 0;
	}
	if (d->level == POLICY_LEVEL_NONE) {
		if (decide_sign_only(c, calendar, signed_root) < 0)
			return -1;
		reason(c, "encrypt-mode %s (originator) and %s (recipient): "
		    "not encrypted%s", smode, rmode, d->action ==
		    POLICY_PASS ? "" : ", signed");
		return 0;
	}
	/* 6. the method */
	if (get_bool(c, "smime.enabled", 1) && get_bool(c, "smime.enabled", 0) &&
	    !(calendar && get_bool(c, "smime.skip-calendar", 1)) &&
	    min_size_ok(c, "smime.max-size", "S/MIME")) {
		unsigned flags = 0;
		struct buf why;

		if (get_bool(c, "smime.auto-select", 0))
			flags |= X509_POL_AUTO_SELECT;
		if (get_bool(c, "smime.add-additional-certificates", 0))
			flags |= X509_POL_ADDITIONAL;
		buf_init(&why, POLICY_REASON_MAX);
		r = k->smime_certs(k->arg, d->rcpt, flags, &d->keys, &d->nkeys,
		    &why, &c->error);
		if (r < 0) {
			buf_release(&why);
			return -1;
		}
		join_ids(d->keys, d->nkeys, list, sizeof(list));
		fact(c, "S/MIME certificates", "%zu valid%s%s%s%s", d->nkeys,
		    d->nkeys > 0 ? ": " : "", list, why.len > 0 ? "; skipped: " :
		    "", why.len > 0 ? why.data : "");
		buf_release(&why);
		if (d->nkeys > 0) {
			d->action = POLICY_SMIME_ENCRYPT;
			if (!(calendar && (get_bool(c, "skip-signing-calendar",
			    1) || get_bool(c, "skip-signing-calendar", 0) ||
			    get_bool(c, "smime.skip-signing-calendar", 1))) &&
			    !signed_root) {
				if ((r = smime_signer(c)) < 0)
					return -1;
				if (r == 1) {
					d->sign = 1;
					copy_id(d->signer, c->smime_id);
					d->signer_flags = c->smime_flags;
				}
			}
			read_smime_opts(c, 1, d->sign);
			reason(c, "encryption %s: S/MIME for %zu certificate(s)"
			    "%s", d->level == POLICY_LEVEL_MUST ? "required" :
			    "allowed", d->nkeys,
			    d->sign ? ", signed" : "");
			return 0;
		}
		str_array_free(&d->keys, d->nkeys);
		d->nkeys = 0;
	}
	if (get_bool(c, "pgp.enabled", 1) && get_bool(c, "pgp.enabled", 0) &&
	    min_size_ok(c, "pgp.max-size", "OpenPGP")) {
		r = k->pgp_keys(k->arg, d->rcpt, &d->keys, &d->nkeys,
		    &c->error);
		if (r < 0)
			return -1;
		join_ids(d->keys, d->nkeys, list, sizeof(list));
		fact(c, "OpenPGP keys", "%zu valid and trusted%s%s", d->nkeys,
		    d->nkeys > 0 ? ": " : "", list);
		if (d->nkeys > 0) {
			d->action = POLICY_PGP_ENCRYPT;
			if (!(calendar && (get_bool(c, "skip-signing-calendar",
			    1) || get_bool(c, "skip-signing-calendar", 0))) &&
			    !signed_root) {
				if ((r = pgp_signer(c)) < 0)
					return -1;
				if (r == 1) {
					d->sign = 1;
					copy_id(d->signer, c->pgp_id);
				}
			}
			read_pgp_opts(c, 1, d->sign);
			reason(c, "encryption %s: OpenPGP for %zu key(s)%s",
			    d->level == POLICY_LEVEL_MUST ? "required" :
			    "allowed", d->nkeys,
			    d->sign ? ", signed" : "");
			return 0;
		}
		str_array_free(&d->keys, d->nkeys);
		d->nkeys = 0;
	}
	if (d->level == POLICY_LEVEL_MUST) {
		d->action = POLICY_BLOCK;
		reason(c, "encryption is required but %s has no usable S/MIME "
		    "certificate or trusted OpenPGP key: not sent", d->rcpt);
		return 0;
	}
	if (decide_sign_only(c, calendar, signed_root) < 0)
		return -1;
	reason(c, "encryption allowed, no certificate or key: not encrypted%s",
	    d->action == POLICY_PASS ? "" : ", signed");
	return 0;
}

/* The message-wide part: originator, kinds, triggers. */
static int
message_facts(struct ctx *c, struct mime_inspect *ins)
{
	struct policy_result *res = c->res;
	const struct mime_entity *root = c->pm->m->root;
	static const char *const hdrs[] = { "From", "Sender" };
	struct buf v, subj;
	size_t i;
	int rc = -1, r;

	mime_inspect(c->pm->m, ins);
	res->kinds = ins->kinds;
	for (i = 0; i < ins->nparts; i++)
		if (((ins->parts[i].kind & ENCRYPTED_ROOT) &&
		    ins->parts[i].is_root) ||
		    (ins->parts[i].kind & MIME_K_PGP_INLINE_ENCRYPTED))
			res->encrypted = 1;
	res->originator_from = "none";
	buf_init(&v, SUBJECT_MAX);
	buf_init(&subj, SUBJECT_MAX);
	for (i = 0; i < 2 && res->originator[0] == '\0'; i++) {
		const struct mime_field *f = mime_field_find(root, hdrs[i], 0);

		buf_reset(&v);
		if (f == NULL || mime_field_value(f, &v) < 0 || v.data == NULL)
			continue;
		if (policy_mailbox(v.data, res->originator,
		    sizeof(res->originator)) == 0)
			res->originator_from = hdrs[i];
		else
			res->originator[0] = '\0';
	}
	if (res->originator[0] == '\0' && c->pm->env_from[0] != '\0') {
		if (address_normalize(c->pm->env_from, res->originator,
		    sizeof(res->originator)) == 0)
			res->originator_from = "envelope";
		else
			res->originator[0] = '\0';
	}

	if (res->originator[0] != '\0')
		r = settings_view_user(c->env->st, c->env->mkey,
		    res->originator, &c->sv, &c->error);
	else
		r = settings_view_global(c->env->st, c->env->mkey, &c->sv,
		    &c->error);
	if (r < 0)
		goto out;

	if (settings_get_bool(c->sv, "subject-trigger.enabled") &&
	    mime_header_get(root, "Subject", &subj) == 0) {
		struct buf ns;

		buf_init(&ns, SUBJECT_MAX);
		r = policy_subject_trigger(subj.data != NULL ? subj.data : "",
		    settings_get(c->sv, "subject-trigger.pattern", NULL, NULL),
		    settings_get_bool(c->sv, "subject-trigger.regex"),
		    settings_get_bool(c->sv, "subject-trigger.remove-match"),
		    &ns, &c->error);
		if (r < 0) {
			/* the value was checked on write, but as a string:
			 * a bad regex is the admin's, and fails safe (MUST
			 * would block mail; no match only skips encryption
			 * the sender asked for) -- so tempfail */
			buf_release(&ns);
			c->error = err_fmt("bad subject-trigger.pattern: %s",
			    c->error);
			goto out;
		}
		res->subject_trigger = r;
		if (r == 1 && ns.data != NULL) {
			res->subject = strdup(ns.data);
			if (res->subject == NULL)
				c->oom = 1;
		}
		buf_release(&ns);
	}
	if (settings_get_bool(c->sv, "force-encrypt.allowed")) {
		const char *t = settings_get(c->sv, "force-encrypt.trigger",
		    NULL, NULL);

		if (t != NULL && t[0] != '\0') {
			if ((r = policy_header_trigger(c->pm->m, t,
			    &c->error)) < 0)
				goto out;
			res->header_encrypt = r;
		}
	}
	if (settings_get_bool(c->sv, "force-sign.allowed")) {
		const char *t = settings_get(c->sv, "force-sign.trigger", NULL,
		    NULL);

		if (t != NULL && t[0] != '\0') {
			if ((r = policy_header_trigger(c->pm->m, t,
			    &c->error)) < 0)
				goto out;
			res->header_sign = r;
		}
	}
	rc = 0;
out:
	buf_release(&v);
	buf_release(&subj);
	return rc;
}

/* What makes two outbound decisions share one output. */
static void
group_key(const struct policy_decision *d, char *out, size_t outsz)
{
	const struct smime_opts *o = &d->smime;

	switch (d->action) {
	case POLICY_SMIME_ENCRYPT:
	case POLICY_SMIME_SIGN:
		snprintf(out, outsz, "%d|%d|%s|%d|%d|%d|%d|%d|%d|%d", d->action,
		    d->sign, d->signer, o->cipher, o->scheme, o->digest,
		    o->pss, o->opaque, o->protect_headers, o->legacy);
		break;
	case POLICY_PGP_ENCRYPT:
	case POLICY_PGP_SIGN:
		snprintf(out, outsz, "%d|%d|%s|%s|%s|%s|%d|%d", d->action,
		    d->sign, d->signer, d->pgp_encoding, d->pgp_cipher,
		    d->pgp_digest, d->pgp_compress, d->pgp_html_to_text);
		break;
	default:
		snprintf(out, outsz, "%d", d->action);
		break;
	}
}

static int
assign_groups(struct policy_result *res)
{
	char (*keys)[256];
	size_t i, j;

	keys = calloc(res->n + 1, sizeof(*keys));
	if (keys == NULL)
		return -1;
	res->ngroups = 0;
	for (i = 0; i < res->n; i++) {
		struct policy_decision *d = &res->d[i];

		d->group = -1;
		if (d->action == POLICY_INBOUND || d->action == POLICY_BLOCK)
			continue;
		group_key(d, keys[i], sizeof(keys[i]));
		for (j = 0; j < i; j++)
			if (res->d[j].group >= 0 && strcmp(keys[j], keys[i]) == 0) {
				d->group = res->d[j].group;
				break;
			}
		if (d->group < 0)
			d->group = (int)res->ngroups++;
	}
	free(keys);
	return 0;
}

int
policy_decide(const struct policy_env *env, const struct policy_msg *pm,
    struct policy_result **res_r, const char **error_r)
{
	struct ctx c;
	struct mime_inspect *ins = NULL;
	struct policy_result *res;
	size_t i;
	int rc = -1;

	*res_r = NULL;
	memset(&c, 0, sizeof(c));
	c.env = env;
	c.pm = pm;
	c.smime_signer = c.pgp_signer = -2;
	res = calloc(1, sizeof(*res));
	ins = malloc(sizeof(*ins));
	if (res == NULL || ins == NULL ||
	    (res->d = calloc(pm->nrcpts + 1, sizeof(*res->d))) == NULL) {
		free(ins);
		policy_result_free(&res);
		return err_set(error_r, "out of memory");
	}
	c.res = res;
	if (message_facts(&c, ins) < 0)
		goto out;
	for (i = 0; i < pm->nrcpts; i++) {
		struct policy_decision *d = &res->d[i];

		res->n = i + 1;
		c.d = d;
		d->group = -1;
		if (address_normalize(pm->rcpts[i], d->rcpt,
		    sizeof(d->rcpt)) < 0) {
			c.error = err_fmt("bad recipient address '%.*s'", 100,
			    pm->rcpts[i]);
			goto out;
		}
		if (settings_view_user(env->st, env->mkey, d->rcpt, &c.rv,
		    &c.error) < 0)
			goto out;
		fact(&c, "originator", "%s (%s)", res->originator[0] != '\0' ?
		    res->originator : "unknown", res->originator_from);
		if (strcmp(get(&c, "locality", 0), "internal") == 0) {
			d->action = POLICY_INBOUND;
			reason(&c, "internal recipient: decrypted and verified "
			    "as inbound mail");
		} else if (decide_external(&c, ins) < 0) {
			settings_view_free(&c.rv);
			goto out;
		}
		settings_view_free(&c.rv);
		if (c.oom)
			break;
	}
	if (c.oom || assign_groups(res) < 0) {
		c.error = "out of memory";
		goto out;
	}
	rc = 0;
out:
	settings_view_free(&c.rv);
	settings_view_free(&c.sv);
	free(ins);
	if (rc < 0) {
		policy_result_free(&res);
		return err_set(error_r, "%s", c.error != NULL ? c.error :
		    "out of memory");
	}
	*res_r = res;
	return 0;
}

void
policy_result_free(struct policy_result **resp)
{
	struct policy_result *res = *resp;
	size_t i, j;

	if (res == NULL)
		return;
	for (i = 0; res->d != NULL && i < res->n; i++) {
		struct policy_decision *d = &res->d[i];

		str_array_free(&d->keys, d->nkeys);
		for (j = 0; j < d->ntrace; j++) {
			free(d->trace[j].name);
			free(d->trace[j].value);
			free(d->trace[j].owner);
		}
		free(d->trace);
	}
	free(res->d);
	free(res->subject);
	free(res);
	*resp = NULL;
}

/* ---- the keystore lookups ------------------------------------------------ */

static int
ks_smime_certs(void *arg, const char *rcpt, unsigned flags, char ***ids_r,
    size_t *n_r, struct buf *why, const char **error_r)
{
	struct policy_keystore *pks = arg;
	struct x509_certlist *l = NULL;
	size_t i;

	*ids_r = NULL;
	*n_r = 0;
	if (x509_encryption_certs(pks->ks, rcpt, pks->now, flags, &l,
	    error_r) < 0)
		return -1;
	*ids_r = calloc(l->n + 1, sizeof(**ids_r));
	if (*ids_r == NULL) {
		x509_certlist_free(&l);
		return err_set(error_r, "out of memory");
	}
	for (i = 0; i < l->n; i++) {
		(*ids_r)[i] = strdup(l->e[i].thumb);
		if ((*ids_r)[i] == NULL) {
			str_array_free(ids_r, i);
			x509_certlist_free(&l);
			return err_set(error_r, "out of memory");
		}
	}
	*n_r = l->n;
	for (i = 0; why != NULL && i < l->nskipped; i++)
		buf_printf(why, "%s%s", i > 0 ? "; " : "", l->skipped[i]);
	x509_certlist_free(&l);
	return 0;
}

static int
ks_pgp_keys(void *arg, const char *rcpt, char ***ids_r, size_t *n_r,
    const char **error_r)
{
	struct policy_keystore *pks = arg;

	return store_pgp_select_encrypt(pks->st, rcpt, pks->now, ids_r, n_r,
	    error_r);
}

static int
ks_smime_signer(void *arg, const char *sender, unsigned flags,
    char id[POLICY_ID_MAX], const char **error_r)
{
	struct policy_keystore *pks = arg;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	char thumb[X509_THUMB_LEN + 1];
	int r;

	r = x509_signing_cert(pks->ks, sender, pks->now, flags, &cert, &key,
	    NULL, NULL, 0, error_r);
	if (r < 0)
		return -1;
	if (r == 1)
		return 0;
	r = x509_thumbprint(cert, thumb);
	X509_free(cert);
	EVP_PKEY_free(key);
	if (r < 0)
		return err_set(error_r, "cannot compute a thumbprint");
	copy_id(id, thumb);
	return 1;
}

static int
ks_pgp_signer(void *arg, const char *sender, char id[POLICY_ID_MAX],
    const char **error_r)
{
	struct policy_keystore *pks = arg;
	char fpr[PGP_FPR_MAX + 1];
	int r;

	r = store_pgp_select_signer(pks->st, sender, pks->now, fpr, error_r);
	if (r == 1)
		copy_id(id, fpr);
	return r;
}

void
policy_keys_store(struct policy_keys *k, struct policy_keystore *pks,
    struct x509_ks *ks, struct store *st, time_t now)
{
	pks->ks = ks;
	pks->st = st;
	pks->now = now;
	k->smime_certs = ks_smime_certs;
	k->pgp_keys = ks_pgp_keys;
	k->smime_signer = ks_smime_signer;
	k->pgp_signer = ks_pgp_signer;
	k->arg = pks;
}
