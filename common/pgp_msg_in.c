/*
 * pgp_msg_in: inbound OpenPGP messages (see pgp_msg.h for the
 * contract): the From address, signatures and their verdicts,
 * decryption results, the PGP/MIME layers from the root, the summary
 * and the info headers.  PGP/INLINE is in pgp_msg_inline.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "address.h"
#include "err.h"
#include "infohdr.h"
#include "mime.h"
#include "mime_codec.h"
#include "pgp_msg.h"
#include "pgp_msg_int.h"
#include "store_pgp.h"

#define FROM_INVALID "<no single valid From address>"
/* A signature made more than this far from the Date header belongs to
 * another message (a replayed signed body under a new Date). */
#define DATE_SLACK (24 * 3600)
#define FIELD_MAX 8192

/* ---- keys from the store ------------------------------------------------- */

static int
st_trusted(void *arg, const char *fpr, const char **error_r)
{
	struct store_pgp_row row;
	int r;

	memset(&row, 0, sizeof(row));
	r = store_pgp_get(arg, fpr, &row, error_r);
	if (r <= 0)
		return r;
	r = row.trusted && !row.revoked && !row.invalid;
	store_pgp_row_release(&row);
	return r;
}

static int
st_has_secret(void *arg, const char *keyid, const char **error_r)
{
	char fpr[PGP_FPR_MAX + 1];
	struct store_pgp_row row;
	int r;

	r = store_pgp_resolve(arg, keyid, fpr, error_r);
	if (r <= 0)
		return r;
	memset(&row, 0, sizeof(row));
	r = store_pgp_get(arg, fpr, &row, error_r);
	if (r <= 0)
		return r;
	r = row.has_secret != 0;
	store_pgp_row_release(&row);
	return r;
}

void
pgp_msg_keys_from_store(struct pgp_msg_keys *k, struct store *st)
{
	k->trusted = st_trusted;
	k->has_secret = st_has_secret;
	k->arg = st;
}

void
pgp_msg_result_release(struct pgp_msg_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	infohdr_free(&r->info);
	for (i = 0; i < r->nkeys; i++)
		free(r->keyv[i].data);
	free(r->keyv);
	memset(r, 0, sizeof(*r));
}

/* ---- the context --------------------------------------------------------- */

int
pgp_msg_in_nomem(const char **error_r)
{
	return err_set(error_r, "out of memory or too many info headers");
}

/* ---- From ---------------------------------------------------------------- */

/*
 * Does the display name (name[0..len)) show an e-mail address other than
 * addr ("manager@corp <eve@corp>")?  Readers see the name, so such a
 * From matches no signer.
 */
static int
display_spoofs(const char *name, size_t len, const char *addr)
{
	size_t i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (isspace((unsigned char)name[i]) ||
		    strchr("\"'(),;:<>[]", name[i]) != NULL))
			i++;
		s = i;
		while (i < len && !isspace((unsigned char)name[i]) &&
		    strchr("\"'(),;:<>[]", name[i]) == NULL)
			i++;
		e = i;
		if (e > s && memchr(name + s, '@', e - s) != NULL &&
		    (e - s != strlen(addr) ||
		    strncasecmp(name + s, addr, e - s) != 0))
			return 1;
	}
	return 0;
}

/*
 * The addr-spec of the single From mailbox, or, only when the message
 * has no From field at all, of the single Sender mailbox (seed 003
 * section 4.1, as smime.c does); FROM_INVALID otherwise.
 */
static void
from_address(const struct mime_message *m, char *out, size_t size)
{
	const char *name = mime_field_count(m->root, "From") == 0 ?
	    "Sender" : "From";
	const struct mime_field *f;
	struct buf v;
	char *lt, *p;

	snprintf(out, size, "%s", FROM_INVALID);
	if (mime_field_count(m->root, name) != 1 ||
	    (f = mime_field_find(m->root, name, 0)) == NULL)
		return;
	buf_init(&v, FIELD_MAX);
	if (mime_field_value(f, &v) < 0 || buf_append(&v, "", 0) < 0) {
		buf_release(&v);
		return;
	}
	p = address_mailbox(v.data, &lt);
	if (p != NULL && strchr(p, '@') != NULL &&
	    strpbrk(p, " \t<>\"()") == NULL && strlen(p) < size &&
	    (lt == NULL || !display_spoofs(v.data, (size_t)(lt - v.data), p)))
		snprintf(out, size, "%s", p);
	buf_release(&v);
}

/*
 * An RFC 5322 date ("Wed, 14 Oct 2020 14:21:06 -0400", day name and
 * seconds optional, zone +hhmm or UT/GMT/Z) as a time; 0 when it cannot
 * be read.
 */
static time_t
parse_date(const char *v)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	struct tm tm;
	char mon[4], zone[16];
	const char *p = v, *m;
	int day, year, hh, mm, ss = 0, n = 0, off = 0;
	time_t t;

	while (*p == ' ' || *p == '\t')
		p++;
	if (isalpha((unsigned char)*p)) {
		while (*p != '\0' && *p != ',')
			p++;
		if (*p == ',')
			p++;
	}
	zone[0] = '\0';
	if (sscanf(p, " %d %3s %d %d:%d:%d %15s%n", &day, mon, &year, &hh, &mm,
	    &ss, zone, &n) < 6 && sscanf(p, " %d %3s %d %d:%d %15s", &day, mon,
	    &year, &hh, &mm, zone) < 5)
		return 0;
	mon[0] = (char)tolower((unsigned char)mon[0]);
	mon[1] = (char)tolower((unsigned char)mon[1]);
	mon[2] = (char)tolower((unsigned char)mon[2]);
	mon[3] = '\0';
	m = strstr(months, mon);
	if (m == NULL || (m - months) % 3 != 0 || day < 1 || day > 31 ||
	    hh > 23 || mm > 59 || ss > 60)
		return 0;
	if (year < 100)
		year += year < 50 ? 2000 : 1900;
	if ((zone[0] == '+' || zone[0] == '-') &&
	    isdigit((unsigned char)zone[1]))
		off = (atoi(zone + 1) / 100 * 60 + atoi(zone + 1) % 100) * 60 *
		    (zone[0] == '-' ? -1 : 1);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = (int)((m - months) / 3);
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	t = timegm(&tm);
	return t == (time_t)-1 ? 0 : t - off;
}

static void
refresh_from(struct pgp_msg_in_ctx *c)
{
	struct buf d;

	buf_init(&d, 1024);
	c->date = mime_header_get(c->m->root, "Date", &d) == 0 ?
	    parse_date(d.data) : 0;
	buf_release(&d);
	if (c->from_arg != NULL)
		snprintf(c->from, sizeof(c->from), "%s", c->from_arg);
	else
		from_address(c->m, c->from, sizeof(c->from));
}

/* ---- signatures ---------------------------------------------------------- */

static const char *
sig_failure(enum pgp_sig_status s)
{
	switch (s) {
	case PGP_SIG_VALID:
		return NULL;
	case PGP_SIG_BAD:
		return "bad signature";
	case PGP_SIG_NO_PUBKEY:
		return "public key not found";
	case PGP_SIG_EXPIRED_KEY:
		return "key expired";
	case PGP_SIG_REVOKED_KEY:
		return "key revoked";
	case PGP_SIG_EXPIRED_SIG:
		return "signature expired";
	default:
		return "signature could not be checked";
	}
}

static int
weak_hash(const char *h)
{
	return strcasecmp(h, "MD5") == 0 || strcasecmp(h, "SHA1") == 0 ||
	    strcasecmp(h, "RIPEMD160") == 0;
}

/* Headers for every signature of res at level; tally them into t. */
int
pgp_msg_in_report_sigs(struct pgp_msg_in_ctx *c, const struct pgp_result *res,
    int level,
    struct pgp_msg_tally *t, const char **error_r)
{
	size_t i, j;

	c->any_sig = 1;
	for (i = 0; i < res->nsigs; i++) {
		const struct pgp_sig *s = &res->sigs[i];
		const char *fail = sig_failure(s->status);
		char why[128], emails[1024];
		int idx = (int)i, match = 0, tr;

		emails[0] = '\0';
		for (j = 0; j < s->nemails; j++) {
			size_t l = strlen(emails);

			snprintf(emails + l, sizeof(emails) - l, "%s%s",
			    j > 0 ? ", " : "", s->emails[j]);
			if (strcasecmp(s->emails[j], c->from) == 0)
				match = 1;
		}
		if (fail == NULL && c->date != 0 && s->created != 0 &&
		    (s->created > c->date + DATE_SLACK ||
		    s->created < c->date - DATE_SLACK))
			fail = "signature time does not match the Date header";
		if (fail == NULL && weak_hash(s->hash)) {
			snprintf(why, sizeof(why), "weak hash algorithm %s",
			    s->hash);
			fail = why;
		}
		if (fail == NULL) {
			const char *id = s->primary_fpr[0] != '\0' ?
			    s->primary_fpr : s->fpr;

			tr = c->keys != NULL && c->keys->trusted != NULL ?
			    c->keys->trusted(c->keys->arg, id, error_r) : 0;
			if (tr < 0)
				return -1;
			if (tr == 0)
				fail = "key not trusted";
		}
		if (infohdr_add(c->lh, "PGP-Signer-KeyID", idx, level, "%s",
		    s->keyid[0] != '\0' ? s->keyid : "unknown") < 0 ||
		    (emails[0] != '\0' && infohdr_add(c->lh, "PGP-Signer-Email",
		    idx, level, "%s", emails) < 0) ||
		    infohdr_add(c->lh, "PGP-Signature-Valid", idx, level, "%s",
		    fail == NULL ? "True" : "False") < 0 ||
		    (fail != NULL && infohdr_add(c->lh,
		    "PGP-Signature-Failure", idx, level, "%s", fail) < 0))
			return pgp_msg_in_nomem(error_r);
		t->n++;
		if (fail == NULL)
			t->valid++;
		/* a known key must carry the From address */
		if (s->primary_fpr[0] != '\0' && !match)
			t->mismatch = 1;
		if (s->nemails > 0 && (t->email[0] == '\0' ||
		    (match && !t->matched))) {
			const char *e = s->emails[0];

			for (j = 0; match && j < s->nemails; j++)
				if (strcasecmp(s->emails[j], c->from) == 0)
					e = s->emails[j];
			snprintf(t->email, sizeof(t->email), "%s", e);
			snprintf(t->keyid, sizeof(t->keyid), "%s", s->keyid);
			t->matched = match;
		} else if (t->keyid[0] == '\0') {
			snprintf(t->keyid, sizeof(t->keyid), "%s", s->keyid);
		}
	}
	return 0;
}

/* A signature that could not be read at all, or is missing. */
int
pgp_msg_in_report_nosig(struct pgp_msg_in_ctx *c, int level, const char *why,
    const char **error_r)
{
	c->any_sig = 1;
	if (infohdr_add(c->lh, "PGP-Signature-Valid", 0, level, "False") < 0 ||
	    infohdr_add(c->lh, "PGP-Signature-Failure", 0, level, "%s",
	    why) < 0)
		return pgp_msg_in_nomem(error_r);
	return 0;
}

void
pgp_msg_in_tally_merge(struct pgp_msg_tally *into,
    const struct pgp_msg_tally *t)
{
	if (t->n == 0)
		return;
	into->n += t->n;
	into->valid += t->valid;
	into->mismatch |= t->mismatch;
	if (t->email[0] != '\0' && (into->email[0] == '\0' ||
	    (t->matched && !into->matched))) {
		snprintf(into->email, sizeof(into->email), "%s", t->email);
		snprintf(into->keyid, sizeof(into->keyid), "%s", t->keyid);
		into->matched = t->matched;
	} else if (into->keyid[0] == '\0') {
		snprintf(into->keyid, sizeof(into->keyid), "%s", t->keyid);
	}
}

/* ---- decryption results -------------------------------------------------- */

void
pgp_msg_in_set_reason(struct pgp_msg_in_ctx *c, const char *fmt,
    const char *arg)
{
	if (c->r->reason[0] == '\0')
		snprintf(c->r->reason, sizeof(c->r->reason), fmt, arg);
}

/*
 * A failed pgp_decrypt(): 0 when the input is at fault (flags and the
 * reason are set, the ciphertext stays), -1 when we are (tempfail).
 */
int
pgp_msg_in_decrypt_failed(struct pgp_msg_in_ctx *c,
    const struct pgp_result *res,
    const char *err, const char **error_r)
{
	size_t i;
	int h;

	switch (res->status) {
	case PGP_E_NO_KEY:
		/* gpg has no key: make sure we really do not hold one (a
		 * broken agent or home says "no secret key" too) */
		for (i = 0; c->keys != NULL && c->keys->has_secret != NULL &&
		    i < res->nrecipients; i++) {
			if (strspn(res->recipients[i], "0") ==
			    strlen(res->recipients[i]))
				continue;	/* hidden recipient */
			h = c->keys->has_secret(c->keys->arg,
			    res->recipients[i], error_r);
			if (h < 0)
				return -1;
			if (h > 0)
				return err_set(error_r, "gpg cannot use the "
				    "secret key %s the store holds: keyring "
				    "or agent failure (%s)",
				    res->recipients[i], err);
		}
		c->r->flags |= PGP_MSG_R_KEY_NOT_FOUND;
		pgp_msg_in_set_reason(c, "%s", "no decryption key");
		return 0;
	case PGP_E_NO_MDC:
		c->r->flags |= PGP_MSG_R_NO_MDC | PGP_MSG_R_DECRYPT_FAILED;
		pgp_msg_in_set_reason(c, "%s",
		    "not integrity protected (no MDC): "
		    "refused");
		return 0;
	case PGP_E_TOO_LARGE:
		c->r->flags |= PGP_MSG_R_DECRYPT_FAILED;
		pgp_msg_in_set_reason(c, "%s",
		    "decrypted data larger than the limit");
		return 0;
	case PGP_E_NOT_ENCRYPTED:
		c->r->flags |= PGP_MSG_R_DECRYPT_FAILED;
		pgp_msg_in_set_reason(c, "%s",
		    "not an encrypted OpenPGP message");
		return 0;
	case PGP_E_BAD_PASSPHRASE:
	case PGP_E_INTERNAL:
		return err_set(error_r, "decrypt: %s", err);
	default:
		c->r->flags |= PGP_MSG_R_DECRYPT_FAILED;
		pgp_msg_in_set_reason(c, "%s", err);
		return 0;
	}
}

int
pgp_msg_in_report_recipients(struct pgp_msg_in_ctx *c,
    const struct pgp_result *res, int level,
    const char **error_r)
{
	size_t i;

	for (i = 0; i < res->nrecipients; i++)
		if (infohdr_add(c->lh, "PGP-Encryption-Recipient", (int)i,
		    level, "%s", res->recipients[i]) < 0)
			return pgp_msg_in_nomem(error_r);
	if (res->cipher[0] != '\0' && infohdr_add(c->lh,
	    "PGP-Encryption-Algorithm", -1, level, "%s", res->cipher) < 0)
		return pgp_msg_in_nomem(error_r);
	return 0;
}

/* ---- PGP/MIME ------------------------------------------------------------ */

static int
body_is_blank(const struct mime_entity *e)
{
	struct buf b;
	size_t i;
	int blank = 1;

	buf_init(&b, 64 * 1024);
	if (mime_entity_decode(e, &b, NULL, NULL) < 0)
		blank = 0;
	for (i = 0; blank && i < b.len; i++)
		if (!isspace((unsigned char)b.data[i]))
			blank = 0;
	buf_release(&b);
	return blank;
}

/* The ciphertext part of PGP/MIME as MS Exchange rebuilds it: a
 * multipart/mixed of [blank text/plain,] application/pgp-encrypted and
 * application/octet-stream, nothing else. */
static struct mime_entity *
exchange_ciphertext(struct mime_entity *root)
{
	struct mime_entity *c = root->children;

	if (!mime_entity_is(root, "multipart", "mixed") || c == NULL)
		return NULL;
	if (mime_entity_is(c, "text", "plain") && c->children == NULL) {
		if (!body_is_blank(c))
			return NULL;
		c = c->next;
	}
	if (c == NULL || !mime_entity_is(c, "application", "pgp-encrypted") ||
	    c->next == NULL || !mime_entity_is(c->next, "application",
	    "octet-stream") || c->next->next != NULL)
		return NULL;
	return c->next;
}

/* 0: a new layer; 1: too many layers, stop here (not an error: the
 * rest stays as it is). */
static int
layer_begin(struct pgp_msg_in_ctx *c)
{
	if (c->nlay >= PGP_MSG_MAX_LAYERS)
		return 1;
	memset(&c->lay[c->nlay], 0, sizeof(c->lay[0]));
	return 0;
}

static int
verify_mime(struct pgp_msg_in_ctx *c, struct mime_entity *e,
    const char **error_r)
{
	struct mime_entity *data = e->children;
	struct mime_entity *sig = data != NULL ? data->next : NULL;
	struct pgp_msg_layer *l = &c->lay[c->nlay];
	struct pgp_result res;
	struct buf d, s;
	const char *err = "";
	int rc = -1;

	memset(&res, 0, sizeof(res));
	buf_init(&d, 0);
	buf_init(&s, 0);
	l->is_sig = 1;
	if (data == NULL || sig == NULL ||
	    !mime_entity_is(sig, "application", "pgp-signature")) {
		rc = pgp_msg_in_report_nosig(c, c->level, "no signature",
		    error_r);
		goto out;
	}
	if (mime_emit_buf(c->m, data, MIME_EMIT_CANONICAL, &d, error_r) < 0 ||
	    mime_entity_decode(sig, &s, NULL, error_r) < 0)
		goto out;
	if (pgp_verify(c->kr, &c->po, s.data, s.len, d.data, d.len, NULL,
	    &res, &err) < 0) {
		if (res.status == PGP_E_INTERNAL) {
			err_set(error_r, "verify: %s", err);
			goto out;
		}
		rc = pgp_msg_in_report_nosig(c, c->level,
		    err_fmt("unreadable signature: %s", err), error_r);
		goto out;
	}
	if (res.nsigs == 0) {
		rc = pgp_msg_in_report_nosig(c, c->level, "no signature",
		    error_r);
		goto out;
	}
	rc = pgp_msg_in_report_sigs(c, &res, c->level, &l->t, error_r);
out:
	pgp_result_release(&res);
	buf_release(&d);
	buf_release(&s);
	return rc;
}

/* Subject/From/To/Cc/Reply-To of the decrypted entity (or of the signed
 * part inside it) replace the outer ones; when it carries a protected
 * From but no Reply-To, an outer Reply-To is dropped. */
static int
protected_headers(struct pgp_msg_in_ctx *c, const struct mime_message *nm,
    const char **error_r)
{
	static const char *const names[] = { "Subject", "From", "To", "Cc",
	    "Reply-To" };
	const struct mime_entity *pe = nm->root;
	struct buf v;
	size_t k;
	int rc = -1;

	while (mime_entity_is(pe, "multipart", "signed") &&
	    pe->children != NULL)
		pe = pe->children;
	buf_init(&v, FIELD_MAX);
	for (k = 0; k < sizeof(names) / sizeof(*names); k++) {
		const struct mime_field *f = mime_field_find(pe, names[k], 0);

		buf_reset(&v);
		if (f == NULL) {
			if (k == 4 && mime_field_find(pe, "From", 0) != NULL)
				mime_header_delete(c->m, c->m->root,
				    "Reply-To");
			continue;
		}
		if (mime_field_value(f, &v) < 0 || buf_append(&v, "", 0) < 0)
			continue;
		mime_header_delete(c->m, c->m->root, names[k]);
		if (mime_header_add_raw(c->m, c->m->root, names[k], v.data,
		    MIME_BOTTOM, error_r) < 0)
			goto out;
	}
	rc = 0;
out:
	buf_release(&v);
	return rc;
}

/* 1 decrypted (the root holds the plaintext now), 0 not, -1 error. */
static int
decrypt_mime(struct pgp_msg_in_ctx *c, struct mime_entity *ct,
    const char **error_r)
{
	struct pgp_msg_layer *l = &c->lay[c->nlay];
	struct mime_message *nm = NULL;
	struct mime_entity *copy;
	struct pgp_result res;
	struct buf in, plain;
	const char *err = "";
	int rc = -1;

	memset(&res, 0, sizeof(res));
	buf_init(&in, 0);
	buf_init(&plain, 0);
	if (ct == NULL) {
		c->r->flags |= PGP_MSG_R_DECRYPT_FAILED | PGP_MSG_R_ENCRYPTED;
		pgp_msg_in_set_reason(c, "%s",
		    "malformed PGP/MIME (no encrypted part)");
		rc = 0;
		goto out;
	}
	if (mime_entity_decode(ct, &in, NULL, error_r) < 0)
		goto out;
	if (pgp_decrypt(c->kr, &c->po, in.data, in.len, &plain, &res,
	    &err) < 0) {
		if (res.encrypted || pgp_msg_is_encrypted(in.data, in.len))
			c->r->flags |= PGP_MSG_R_ENCRYPTED;
		if (pgp_msg_in_report_recipients(c, &res, c->level,
		    error_r) < 0)
			goto out;
		rc = pgp_msg_in_decrypt_failed(c, &res, err, error_r);
		goto out;
	}
	c->r->flags |= PGP_MSG_R_ENCRYPTED;
	if (pgp_msg_in_report_recipients(c, &res, c->level, error_r) < 0)
		goto out;
	l->dec = 1;
	if (res.nsigs > 0 && pgp_msg_in_report_sigs(c, &res, c->level, &l->t,
	    error_r) < 0)
		goto out;
	/* the delivered message keeps the line ends of the input */
	buf_reset(&in);
	if (buf_append_eol(&in, plain.data != NULL ? plain.data : "",
	    plain.len, pgp_msg_eol(c->m)) < 0 || buf_append(&in, "", 0) < 0) {
		err_set(error_r, "decrypted message too large");
		goto out;
	}
	nm = mime_parse(in.data, in.len, NULL, error_r);
	if (nm == NULL)
		goto out;
	if (mime_field_find(nm->root, "Content-Type", 0) == NULL &&
	    (nm->root->damage & (MIME_D_HEADER_GARBAGE |
	    MIME_D_HEADER_NO_END))) {
		/* plain text encrypted without a MIME header */
		copy = mime_build_leaf("text/plain",
		    mime_has_8bit_or_nul(in.data, in.len) ? MIME_CTE_QP :
		    MIME_CTE_7BIT, in.data, in.len, error_r);
	} else {
		if (protected_headers(c, nm, error_r) < 0)
			goto out;
		copy = mime_entity_copy(nm, nm->root, error_r);
	}
	if (copy == NULL || pgp_msg_replace(c->m, c->m->root, copy,
	    error_r) < 0)
		goto out;
	c->r->flags |= PGP_MSG_R_DECRYPTED | PGP_MSG_R_CHANGED;
	c->last_dec = c->nlay;
	rc = 1;
out:
	mime_message_free(&nm);
	pgp_result_release(&res);
	buf_release(&in);
	buf_release(&plain);
	return rc;
}

static int
phase_mime(struct pgp_msg_in_ctx *c, const char **error_r)
{
	struct mime_entity *cur = c->m->root;
	int looks = 0, r;

	while (cur != NULL) {
		unsigned k = mime_entity_kind(cur);
		struct mime_entity *ct = NULL;

		if (k == MIME_K_SMIME_SIGNED && looks++ < 4) {
			cur = cur->children;
			continue;
		}
		if (k == MIME_K_PGP_SIGNED) {
			if (layer_begin(c) > 0)
				break;
			c->r->flags |= PGP_MSG_R_PGP_MIME;
			refresh_from(c);
			if (verify_mime(c, cur, error_r) < 0)
				return -1;
			c->nlay++;
			c->level++;
			cur = cur->children;
			continue;
		}
		if (k == MIME_K_PGP_ENCRYPTED) {
			/* the first application/octet-stream after the
			 * version part */
			for (ct = cur->children; ct != NULL; ct = ct->next)
				if (mime_entity_is(ct, "application",
				    "octet-stream"))
					break;
		} else if (cur == c->m->root) {
			ct = exchange_ciphertext(cur);
			if (ct == NULL)
				break;
		} else {
			break;
		}
		if (layer_begin(c) > 0)
			break;
		if (cur == c->m->root && k != MIME_K_PGP_ENCRYPTED)
			c->exchange_root = 1;
		c->r->flags |= PGP_MSG_R_PGP_MIME;
		refresh_from(c);
		r = decrypt_mime(c, ct, error_r);
		if (r < 0)
			return -1;
		c->nlay++;
		c->level++;
		if (r == 0)
			break;
		cur = c->m->root;
	}
	return 0;
}

/* Reached from the root only through first parts of signature layers? */
static int
on_signature_path(const struct mime_entity *e)
{
	for (; e->parent != NULL; e = e->parent) {
		const struct mime_entity *p = e->parent;

		if (p->children != e || !(mime_entity_kind(p) &
		    (MIME_K_SMIME_SIGNED | MIME_K_PGP_SIGNED)))
			return 0;
	}
	return 1;
}

/* PGP/MIME anywhere but on the root path: mixed content. */
static void
scan_nested_mime(struct pgp_msg_in_ctx *c)
{
	struct mime_entity *e, *root = c->m->root;

	for (e = root; e != NULL; e = mime_entity_walk(root, e)) {
		unsigned k = mime_entity_kind(e);

		if (!(k & (MIME_K_PGP_ENCRYPTED | MIME_K_PGP_SIGNED)) ||
		    on_signature_path(e))
			continue;
		c->r->flags |= PGP_MSG_R_PGP_MIME;
		if (k & MIME_K_PGP_ENCRYPTED) {
			c->r->flags |= PGP_MSG_R_MIXED | PGP_MSG_R_ENCRYPTED;
			c->nested_ciphertext = 1;
		} else
			c->r->flags |= PGP_MSG_R_PARTIAL_SIGNED;
	}
}

/* ---- the whole message --------------------------------------------------- */

/* The final headers: encoding, the layers, then the summary. */
static int
finish_headers(struct pgp_msg_in_ctx *c, const char **error_r)
{
	struct pgp_msg_result *r = c->r;
	unsigned f = r->flags;
	size_t i, pl = strlen(infohdr_prefix(c->lh)) + 1;

	if ((f & (PGP_MSG_R_PGP_MIME | PGP_MSG_R_INLINE)) &&
	    infohdr_add(r->info, "PGP-Encoding", -1, -1, "%s",
	    (f & PGP_MSG_R_PGP_MIME) && (f & PGP_MSG_R_INLINE) ?
	    "PGP/MIME, PGP/INLINE" : (f & PGP_MSG_R_PGP_MIME) ? "PGP/MIME" :
	    "PGP/INLINE") < 0)
		return pgp_msg_in_nomem(error_r);
	for (i = 0; i < infohdr_count(c->lh); i++)
		if (infohdr_add(r->info, infohdr_name(c->lh, i) + pl, -1, -1,
		    "%s", infohdr_value(c->lh, i)) < 0)
			return pgp_msg_in_nomem(error_r);
	if (((f & PGP_MSG_R_ENCRYPTED) && infohdr_add(r->info,
	    "PGP-Encrypted", -1, -1, "True") < 0) ||
	    ((f & PGP_MSG_R_KEY_NOT_FOUND) && infohdr_add(r->info,
	    "PGP-Decryption-Key-Not-Found", -1, -1, "True") < 0) ||
	    ((f & PGP_MSG_R_DECRYPT_FAILED) && infohdr_add(r->info,
	    "PGP-Decryption-Failed", -1, -1, "%s", r->reason) < 0) ||
	    ((f & PGP_MSG_R_DECRYPT_SKIPPED) && infohdr_add(r->info,
	    "PGP-Decryption-Skipped", -1, -1, "unprotected HTML beside "
	    "encrypted parts") < 0) ||
	    (c->any_sig && infohdr_add(r->info, "PGP-Signed", -1, -1, "%s",
	    (f & PGP_MSG_R_SIGNED) ? "True" : "False") < 0) ||
	    ((f & PGP_MSG_R_SIGNER_MISMATCH) && infohdr_add(r->info,
	    "PGP-Signer-Mismatch", -1, -1, "True") < 0) ||
	    ((f & (PGP_MSG_R_MIXED | PGP_MSG_R_PARTIAL_SIGNED)) &&
	    infohdr_add(r->info, "PGP-Mixed-Content", -1, -1, "True") < 0))
		return pgp_msg_in_nomem(error_r);
	return 0;
}

/* Which signatures cover the delivered content? */
static void
summarize(struct pgp_msg_in_ctx *c)
{
	struct pgp_msg_tally t;
	int i, counted = 0, valid = 1;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < c->nlay; i++) {
		const struct pgp_msg_layer *l = &c->lay[i];

		/* a signature over content that holds ciphertext it did
		 * not let us decrypt is a signature around ciphertext */
		if (l->is_sig && i > c->last_dec && !c->nested_ciphertext) {
			counted++;
			if (l->t.n == 0 || l->t.valid != l->t.n)
				valid = 0;
			pgp_msg_in_tally_merge(&t, &l->t);
		} else if (l->dec && i == c->last_dec && l->t.n > 0) {
			counted++;
			if (l->t.valid != l->t.n)
				valid = 0;
			pgp_msg_in_tally_merge(&t, &l->t);
		}
	}
	if (counted > 0 && t.n > 0) {
		c->r->flags |= PGP_MSG_R_SIGNED;
		if (valid)
			c->r->flags |= PGP_MSG_R_SIGNED_VALID;
		if (t.mismatch)
			c->r->flags |= PGP_MSG_R_SIGNER_MISMATCH;
	} else if (!c->protected_root && c->n_signed > 0) {
		int content = c->n_unprot + c->n_enc + c->n_sigonly;

		if (c->n_signed >= content) {
			t = c->inl;
			c->r->flags |= PGP_MSG_R_SIGNED;
			if (c->inl_all_valid && t.valid == t.n)
				c->r->flags |= PGP_MSG_R_SIGNED_VALID;
			if (t.mismatch)
				c->r->flags |= PGP_MSG_R_SIGNER_MISMATCH;
		} else {
			c->r->flags |= PGP_MSG_R_PARTIAL_SIGNED;
		}
	}
	if (!c->protected_root && c->n_enc > 0 && c->n_unprot > 0)
		c->r->flags |= PGP_MSG_R_MIXED;
	/* several separately encrypted texts are not one message (a
	 * captured ciphertext pasted twice, or beside another) */
	if (!c->protected_root && c->inline_msgs > 1)
		c->r->flags |= PGP_MSG_R_MIXED;
	if (c->r->flags & PGP_MSG_R_SIGNED) {
		snprintf(c->r->signer_email, sizeof(c->r->signer_email), "%s",
		    t.email);
		snprintf(c->r->signer_keyid, sizeof(c->r->signer_keyid), "%s",
		    t.keyid);
	}
}

/* pgp.remove-signature on a root multipart/signed that counted. */
static int
remove_root_signature(struct pgp_msg_in_ctx *c, const char **error_r)
{
	struct mime_entity *root = c->m->root, *copy;

	if (!(mime_entity_kind(root) & MIME_K_PGP_SIGNED) ||
	    root->children == NULL || !(c->r->flags & PGP_MSG_R_SIGNED))
		return 0;
	copy = mime_entity_copy(c->m, root->children, error_r);
	if (copy == NULL || pgp_msg_replace(c->m, root, copy, error_r) < 0)
		return -1;
	c->r->flags |= PGP_MSG_R_SIGNATURE_REMOVED | PGP_MSG_R_CHANGED;
	return 0;
}

int
pgp_msg_inbound_edit(struct pgp_keyring *kr, struct mime_message *m,
    const struct pgp_msg_keys *keys, const struct pgp_msg_opts *o,
    const char *from, struct pgp_msg_result *r, const char **error_r)
{
	struct pgp_msg_opts defopts;
	struct pgp_msg_in_ctx *c;
	size_t max, i;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (o == NULL) {
		pgp_msg_opts_init(&defopts);
		o = &defopts;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return err_set(error_r, "out of memory");
	c->kr = kr;
	c->keys = keys;
	c->o = o;
	c->r = r;
	c->m = m;
	c->from_arg = from;
	c->last_dec = -1;
	max = o->max_size != 0 ? o->max_size : PGP_MSG_DEFAULT_MAX_SIZE;
	c->po = o->pgp;
	c->po.armor = 0;
	if (c->po.max_out == 0)
		c->po.max_out = max;
	r->info = infohdr_new(o->prefix);
	c->lh = infohdr_new(o->prefix);
	if (r->info == NULL || c->lh == NULL) {
		err_set(error_r, "out of memory");
		goto out;
	}
	if (m->len > max) {
		r->flags |= PGP_MSG_R_SKIPPED;
		if (infohdr_add(r->info, "PGP-Skipped", -1, -1,
		    "message too large") < 0) {
			pgp_msg_in_nomem(error_r);
			goto out;
		}
		goto headers;
	}
	if (kr == NULL) {
		err_set(error_r, "no OpenPGP keyring");
		goto out;
	}
	if (phase_mime(c, error_r) < 0)
		goto out;
	scan_nested_mime(c);
	refresh_from(c);
	{
		/* does a PGP/MIME layer cover the whole body now? */
		int i2, counted_sig = 0;

		for (i2 = 0; i2 < c->nlay; i2++)
			if (c->lay[i2].is_sig && i2 > c->last_dec &&
			    c->lay[i2].t.n > 0)
				counted_sig = 1;
		c->protected_root = c->last_dec >= 0 || counted_sig;
	}
	if (pgp_msg_in_phase_inline(c, error_r) < 0)
		goto out;
	summarize(c);
	if (o->remove_signature && remove_root_signature(c, error_r) < 0)
		goto out;
	r->levels = c->level;
headers:
	if (finish_headers(c, error_r) < 0)
		goto out;
	/* at the top, in order: add the last one first */
	for (i = infohdr_count(r->info); i > 0; i--)
		if (mime_header_add(m, m->root, infohdr_name(r->info, i - 1),
		    infohdr_value(r->info, i - 1), MIME_TOP, error_r) < 0)
			goto out;
	rc = 0;
out:
	infohdr_free(&c->lh);
	free(c);
	if (rc < 0)
		pgp_msg_result_release(r);
	return rc;
}

int
pgp_msg_inbound(struct pgp_keyring *kr, const char *msg, size_t len,
    const struct pgp_msg_keys *keys, const struct pgp_msg_opts *o,
    const char *from, struct pgp_msg_result *r, struct buf *out,
    const char **error_r)
{
	struct mime_message *m;
	int rc;

	memset(r, 0, sizeof(*r));
	m = mime_parse(msg, len, NULL, error_r);
	if (m == NULL)
		return -1;
	rc = pgp_msg_inbound_edit(kr, m, keys, o, from, r, error_r);
	if (rc == 0 && mime_emit_buf(m, m->root, 0, out, error_r) < 0) {
		pgp_msg_result_release(r);
		rc = -1;
	}
	mime_message_free(&m);
	return rc;
}
