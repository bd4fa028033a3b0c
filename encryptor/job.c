/* job: one message through postern-encrypt (see job.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "err.h"
#include "inbound.h"
#include "job.h"
#include "loopguard.h"
#include "mime.h"
#include "pgp_keyring.h"
#include "pgp_msg.h"
#include "policy.h"
#include "secret.h"
#include "settings.h"
#include "smime.h"
#include "template.h"
#include "x509.h"

#define ENCRYPTED_KINDS (MIME_K_SMIME_ENVELOPED | MIME_K_SMIME_AUTH_ENVELOPED | \
	MIME_K_SMIME_UNKNOWN | MIME_K_PGP_ENCRYPTED | MIME_K_PGP_INLINE_ENCRYPTED)
#define CRYPTO_KINDS (ENCRYPTED_KINDS | MIME_K_SMIME_SIGNED | \
	MIME_K_SMIME_OPAQUE_SIGNED | MIME_K_PGP_SIGNED | \
	MIME_K_PGP_INLINE_SIGNED)

struct jctx {
	const struct job_env *env;
	const char *msg;
	size_t len;
	const char *env_from;
	struct job *job;
	char *secret;			/* server-secret (opened) */
	struct policy_result *pol;
	struct x509_ks *ks;
	struct pgp_keyring *kr;
	struct mime_limits lim;
	struct buf base;		/* outbound base message */
	/* recipients blocked, with the reason, for the notification */
	struct buf failed_rcpts, failed_lines;
	struct buf enc_rcpts, enc_lines;
	const char *error;
};

static void
line(struct jctx *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
line(struct jctx *j, const char *fmt, ...)
{
	struct job *job = j->job;
	char **l;
	char *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;		/* a log line less; never a failure */
	l = realloc(job->lines, (job->nlines + 1) * sizeof(*l));
	if (l == NULL) {
		free(s);
		return;
	}
	job->lines = l;
	l[job->nlines++] = s;
}

static struct job_output *
output_new(struct jctx *j, const char *kind, const char *sender)
{
	struct job *job = j->job;
	struct job_output *o;

	o = realloc(job->out, (job->nout + 1) * sizeof(*o));
	if (o == NULL)
		return NULL;
	job->out = o;
	o = &job->out[job->nout];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	buf_init(&o->data, 0);
	o->sender = strdup(sender);
	if (o->sender == NULL)
		return NULL;
	job->nout++;
	return o;
}

static int
output_rcpt(struct job_output *o, const char *rcpt)
{
	char **r = realloc(o->rcpts, (o->nrcpts + 1) * sizeof(*r));

	if (r == NULL)
		return -1;
	o->rcpts = r;
	if ((r[o->nrcpts] = strdup(rcpt)) == NULL)
		return -1;
	o->nrcpts++;
	return 0;
}

void
job_free(struct job **jp)
{
	struct job *job = *jp;
	size_t i, k;

	if (job == NULL)
		return;
	for (i = 0; i < job->nout; i++) {
		struct job_output *o = &job->out[i];

		for (k = 0; k < o->nrcpts; k++)
			free(o->rcpts[k]);
		free(o->rcpts);
		free(o->sender);
		buf_release(&o->data);
	}
	free(job->out);
	for (i = 0; i < job->nlines; i++)
		free(job->lines[i]);
	free(job->lines);
	free(job);
	*jp = NULL;
}

int
job_qid(const char *msg, size_t len, char out[32])
{
	size_t body = loopguard_body_offset(msg, len), pos = 0;
	unsigned char rnd[5];
	size_t i;

	while (pos < body) {
		size_t end = pos;

		do {
			const char *nl = memchr(msg + end, '\n', body - end);

			end = nl != NULL ? (size_t)(nl - msg) + 1 : body;
		} while (end < body && (msg[end] == ' ' || msg[end] == '\t'));
		if (end - pos > 9 && strncasecmp(msg + pos, "Received:", 9) == 0) {
			/* "... with ESMTP id 4Q1XyZ2abcz3 ..." */
			for (i = pos + 9; i + 4 < end; i++) {
				size_t n = 0;

				if (!isspace((unsigned char)msg[i]) ||
				    strncasecmp(msg + i + 1, "id", 2) != 0 ||
				    !isspace((unsigned char)msg[i + 3]))
					continue;
				i += 3;
				while (i < end && isspace((unsigned char)msg[i]))
					i++;
				while (i + n < end && n < 31 &&
				    isalnum((unsigned char)msg[i + n]))
					n++;
				if (n >= 6 && (i + n == end ||
				    !isalnum((unsigned char)msg[i + n]))) {
					memcpy(out, msg + i, n);
					out[n] = '\0';
					return 0;
				}
				break;
			}
			break;	/* only the topmost Received counts */
		}
		pos = end;
	}
	if (secret_random(rnd, sizeof(rnd)) < 0)
		memset(rnd, 0, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(out + 2 * i, 3, "%02X", rnd[i]);
	return 1;
}

/* ---- helpers ---------------------------------------------------------- */

static int
load_secret(struct jctx *j)
{
	struct settings_view *v = NULL;
	const char *s;

	if (settings_view_global(j->env->st, j->env->mkey, &v, &j->error) < 0)
		return -1;
	s = settings_get(v, "server-secret", NULL, NULL);
	if (s == NULL || s[0] == '\0') {
		settings_view_free(&v);
		j->error = "no server-secret (run 'posternctl init')";
		return -1;
	}
	j->secret = strdup(s);
	settings_view_free(&v);
	if (j->secret == NULL) {
		j->error = "out of memory";
		return -1;
	}
	return 0;
}

/* Emit m (edited) to out in its own line ends. */
static int
emit(struct jctx *j, struct mime_message *m, struct buf *out)
{
	return mime_emit_buf(m, m->root, 0, out, &j->error);
}

static struct mime_message *
parse(struct jctx *j)
{
	struct mime_message *m = mime_parse(j->msg, j->len, &j->lim, &j->error);

	if (m != NULL)
		(void)mime_header_delete(m, m->root, LOOPGUARD_HEADER);
	return m;
}

/* ---- internal recipients ---------------------------------------------- */

static int
needs_inbound(struct jctx *j)
{
	const struct config *cfg = j->env->cfg;
	struct mime_message *m;
	char name[256];
	int found;

	if (!config_bool(cfg, "encrypt_after_milter"))
		return 1;
	if (j->pol->kinds & ENCRYPTED_KINDS)
		return 1;
	if (!(j->pol->kinds & CRYPTO_KINDS))
		return 0;
	/* signed: only when the milter skipped it (an external recipient) */
	m = mime_parse(j->msg, j->len, &j->lim, &j->error);
	if (m == NULL)
		return -1;
	snprintf(name, sizeof(name), "%s-Decryption-Skipped",
	    config_str(cfg, "info_header_prefix"));
	found = mime_field_find(m->root, name, 0) != NULL;
	mime_message_free(&m);
	return found;
}

static int
need_kr(struct jctx *j)
{
	char pass[65];
	int rc;

	if (j->kr != NULL)
		return 0;
	if (pgp_keyring_passphrase(j->env->mkey, pass, &j->error) < 0)
		return -1;
	rc = pgp_keyring_open(&j->kr, config_str(j->env->cfg, "gnupg_home"),
	    pass, &j->error);
	memset(pass, 0, sizeof(pass));
	return rc;
}

static int
internal(struct jctx *j)
{
	struct inbound_env ienv = { j->env->cfg, j->env->st, j->env->mkey, 0,
	    NULL, NULL };
	char kr_error[ERR_MAX];
	struct policy_result *pol = j->pol;
	size_t first = j->job->nout, i, k;
	int need, rc = -1;

	for (i = 0; i < pol->n; i++)
		if (pol->d[i].action == POLICY_INBOUND)
			break;
	if (i == pol->n)
		return 0;
	if ((need = needs_inbound(j)) < 0)
		return -1;
	if (!need) {
		struct mime_message *m = parse(j);
		struct job_output *o;

		if (m == NULL)
			return -1;
		o = output_new(j, "inbound", j->env_from);
		if (o == NULL || emit(j, m, &o->data) < 0) {
			mime_message_free(&m);
			return o == NULL ? (j->error = "out of memory", -1) : -1;
		}
		mime_message_free(&m);
		for (i = 0; i < pol->n; i++)
			if (pol->d[i].action == POLICY_INBOUND &&
			    output_rcpt(o, pol->d[i].rcpt) < 0)
				return j->error = "out of memory", -1;
		line(j, "inbound: action=pass reason=\"handled by "
		    "postern-milter\" rcpts=%zu", o->nrcpts);
		return 0;
	}
	/*
	 * The keyring for OpenPGP mail; when it cannot be opened, OpenPGP
	 * mail tempfails in inbound_process() (kr_error says why) and
	 * other mail is handled as usual.
	 */
	if (need_kr(j) == 0)
		ienv.kr = j->kr;
	else {
		snprintf(kr_error, sizeof(kr_error), "%s", j->error);
		ienv.kr_error = kr_error;
	}
	for (i = 0; i < pol->n; i++) {
		struct policy_decision *d = &pol->d[i];
		struct inbound_result ires;
		struct inbound_msg im;
		struct mime_message *m;
		struct buf out;
		char *rcpt = d->rcpt;

		if (d->action != POLICY_INBOUND)
			continue;
		m = parse(j);
		if (m == NULL)
			return -1;
		memset(&im, 0, sizeof(im));
		im.qid = j->env->qid;
		im.env_from = j->env_from;
		im.rcpts = &rcpt;
		im.nrcpts = 1;
		inbound_result_init(&ires);
		buf_init(&out, 0);
		if (inbound_process(&ienv, &im, m, &ires, &j->error) !=
		    INBOUND_OK || emit(j, m, &out) < 0) {
			inbound_result_release(&ires);
			mime_message_free(&m);
			buf_release(&out);
			goto out;
		}
		line(j, "inbound: %s", ires.log.data != NULL ? ires.log.data :
		    "");
		inbound_result_release(&ires);
		mime_message_free(&m);
		/* recipients with byte-identical results share one output */
		for (k = first; k < j->job->nout; k++)
			if (j->job->out[k].data.len == out.len &&
			    memcmp(j->job->out[k].data.data, out.data,
			    out.len) == 0)
				break;
		if (k == j->job->nout) {
			struct job_output *o = output_new(j, "inbound",
			    j->env_from);

			if (o == NULL) {
				buf_release(&out);
				j->error = "out of memory";
				goto out;
			}
			buf_release(&o->data);
			o->data = out;
		} else {
			buf_release(&out);
		}
		if (output_rcpt(&j->job->out[k], d->rcpt) < 0) {
			j->error = "out of memory";
			goto out;
		}
	}
	rc = 0;
out:
	return rc;
}

/* ---- outbound ------------------------------------------------------------ */

static int
make_base(struct jctx *j)
{
	struct mime_message *m = parse(j);
	int rc = -1;

	if (m == NULL)
		return -1;
	(void)inbound_strip_info(j->env->cfg, m);
	if (j->pol->subject != NULL && mime_header_replace(m, m->root,
	    "Subject", j->pol->subject, &j->error) < 0)
		goto out;
	buf_init(&j->base, 0);
	if (emit(j, m, &j->base) < 0)
		goto out;
	rc = 0;
out:
	mime_message_free(&m);
	return rc;
}

static int
need_ks(struct jctx *j)
{
	if (j->ks == NULL && x509_ks_new(j->env->st, j->env->mkey, &j->ks,
	    &j->error) < 0)
		return -1;
	return 0;
}


/* The signer's certificate, key and chain; checked against the policy. */
static int
smime_signer(struct jctx *j, const struct policy_decision *d, X509 **cert_r,
    EVP_PKEY **key_r, STACK_OF(X509) **chain_r)
{
	char thumb[X509_THUMB_LEN + 1], why[256];
	int r;

	r = x509_signing_cert(j->ks, j->pol->originator, j->env->now,
	    d->signer_flags, cert_r, key_r, chain_r, why, sizeof(why),
	    &j->error);
	if (r < 0)
		return -1;
	if (r == 1 || x509_thumbprint(*cert_r, thumb) < 0 ||
	    strcmp(thumb, d->signer) != 0) {
		if (r == 0) {
			X509_free(*cert_r);
			EVP_PKEY_free(*key_r);
			sk_X509_pop_free(*chain_r, X509_free);
		}
		*cert_r = NULL;
		*key_r = NULL;
		*chain_r = NULL;
		j->error = "the signing certificate changed while the "
		    "message was processed";
		return -1;
	}
	return 0;
}

static int
do_smime(struct jctx *j, const struct policy_decision *d, size_t *members,
    size_t nm, struct buf *out)
{
	STACK_OF(X509) *certs = NULL, *chain = NULL;
	X509 *scert = NULL;
	EVP_PKEY *skey = NULL;
	struct smime_opts opts = d->smime;
	size_t i, k;
	int rc = -1;

	if (need_ks(j) < 0)
		return -1;
	smime_opts_config(&opts, j->env->cfg);
	opts.max_size = j->base.len + 1;
	if (opts.legacy && smime_legacy_enable(&j->error) < 0)
		return -1;
	if (d->action == POLICY_SMIME_ENCRYPT) {
		certs = sk_X509_new_null();
		if (certs == NULL)
			goto oom;
		for (i = 0; i < nm; i++) {
			const struct policy_decision *m = &j->pol->d[members[i]];

			for (k = 0; k < m->nkeys; k++) {
				X509 *c = NULL;
				int r, dup = 0, n;

				for (n = 0; n < sk_X509_num(certs); n++) {
					char t[X509_THUMB_LEN + 1];

					if (x509_thumbprint(sk_X509_value(certs,
					    n), t) == 0 && strcmp(t,
					    m->keys[k]) == 0)
						dup = 1;
				}
				if (dup)
					continue;
				r = x509_get(j->ks, X509KS_CERTS, m->keys[k], &c,
				    NULL, &j->error);
				if (r < 0)
					goto out;
				if (r == 1) {
					j->error = "an encryption certificate "
					    "was deleted while the message was "
					    "processed";
					goto out;
				}
				if (!sk_X509_push(certs, c)) {
					X509_free(c);
					goto oom;
				}
			}
		}
	}
	if (d->action == POLICY_SMIME_SIGN || d->sign) {
		if (smime_signer(j, d, &scert, &skey, &chain) < 0)
			goto out;
	}
	if (d->action == POLICY_SMIME_SIGN)
		rc = smime_sign(j->base.data, j->base.len, scert, skey, chain,
		    &opts, out, &j->error);
	else if (d->sign)
		rc = smime_sign_encrypt(j->base.data, j->base.len, scert, skey,
		    chain, certs, &opts, out, &j->error);
	else
		rc = smime_encrypt(j->base.data, j->base.len, certs, &opts, out,
		    &j->error);
	goto out;
oom:
	j->error = "out of memory";
out:
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(chain, X509_free);
	X509_free(scert);
	EVP_PKEY_free(skey);
	return rc;
}

/* Returns PGP_MSG_OK, PGP_MSG_TEMPFAIL or PGP_MSG_REFUSED. */
static int
do_pgp(struct jctx *j, const struct policy_decision *d, size_t *members,
    size_t nm, struct buf *out)
{
	struct pgp_msg_opts o;
	const char **fprs = NULL;
	size_t i, k, n = 0;
	int rc = PGP_MSG_TEMPFAIL;

	if (need_kr(j) < 0)
		return PGP_MSG_TEMPFAIL;
	pgp_msg_opts_init(&o);
	o.max_size = j->base.len + 1;
	if ((d->pgp_encoding[0] != '\0' && pgp_msg_opts_set(&o,
	    "pgp.encoding", d->pgp_encoding, &j->error) < 0) ||
	    (d->pgp_cipher[0] != '\0' && pgp_msg_opts_set(&o,
	    "pgp.encryption-algorithm", d->pgp_cipher, &j->error) < 0) ||
	    (d->pgp_digest[0] != '\0' && pgp_msg_opts_set(&o,
	    "pgp.signing-algorithm", d->pgp_digest, &j->error) < 0) ||
	    (d->action == POLICY_PGP_ENCRYPT && pgp_msg_opts_set(&o,
	    "pgp.compression", d->pgp_compress ? "true" : "false",
	    &j->error) < 0) ||
	    pgp_msg_opts_set(&o, "pgp.convert-html-to-text",
	    d->pgp_html_to_text ? "true" : "false", &j->error) < 0)
		return PGP_MSG_TEMPFAIL;
	if (d->action == POLICY_PGP_SIGN)
		return pgp_msg_sign(j->kr, j->base.data, j->base.len, d->signer,
		    &o, out, &j->error);
	for (i = 0; i < nm; i++)
		n += j->pol->d[members[i]].nkeys;
	fprs = calloc(n + 1, sizeof(*fprs));
	if (fprs == NULL) {
		j->error = "out of memory";
		return PGP_MSG_TEMPFAIL;
	}
	n = 0;
	for (i = 0; i < nm; i++) {
		const struct policy_decision *m = &j->pol->d[members[i]];

		for (k = 0; k < m->nkeys; k++) {
			size_t x;

			for (x = 0; x < n; x++)
				if (strcmp(fprs[x], m->keys[k]) == 0)
					break;
			if (x == n)
				fprs[n++] = m->keys[k];
		}
	}
	rc = pgp_msg_encrypt(j->kr, j->base.data, j->base.len, fprs, n,
	    d->sign ? d->signer : NULL, &o, out, &j->error);
	free(fprs);
	return rc;
}

static int
add_failed(struct jctx *j, const char *rcpt, const char *why)
{
	if (buf_printf(&j->failed_rcpts, "%s%s", j->failed_rcpts.len > 0 ?
	    ", " : "", rcpt) < 0 || buf_printf(&j->failed_lines, "%s  %s: %s",
	    j->failed_lines.len > 0 ? "\n" : "", rcpt, why) < 0)
		return -1;
	j->job->nblocked++;
	return 0;
}

static const char *
method_text(const struct policy_decision *d)
{
	switch (d->action) {
	case POLICY_SMIME_ENCRYPT:
		return d->sign ? "S/MIME, signed" : "S/MIME";
	case POLICY_PGP_ENCRYPT:
		return d->sign ? "OpenPGP, signed" : "OpenPGP";
	default:
		return "";
	}
}

static int
outbound(struct jctx *j)
{
	struct policy_result *pol = j->pol;
	size_t *members, g, i, nm;
	int rc = -1;

	members = calloc(pol->n + 1, sizeof(*members));
	if (members == NULL)
		return j->error = "out of memory", -1;
	for (i = 0; i < pol->n; i++)
		if (pol->d[i].action == POLICY_BLOCK &&
		    add_failed(j, pol->d[i].rcpt, pol->d[i].reason) < 0)
			goto oom;
	if (pol->ngroups > 0 && make_base(j) < 0)
		goto out;
	for (g = 0; g < pol->ngroups; g++) {
		const struct policy_decision *d = NULL;
		struct job_output *o;
		struct buf data;
		int r = PGP_MSG_OK;

		for (i = nm = 0; i < pol->n; i++)
			if (pol->d[i].group == (int)g) {
				members[nm++] = i;
				d = &pol->d[i];
			}
		d = &pol->d[members[0]];
		buf_init(&data, 0);
		switch (d->action) {
		case POLICY_PASS:
			r = buf_append(&data, j->base.data, j->base.len) < 0 ?
			    (j->error = "out of memory", -1) : 0;
			break;
		case POLICY_SMIME_SIGN:
		case POLICY_SMIME_ENCRYPT:
			r = do_smime(j, d, members, nm, &data);
			break;
		case POLICY_PGP_SIGN:
		case POLICY_PGP_ENCRYPT:
			r = do_pgp(j, d, members, nm, &data);
			break;
		default:
			r = -1;
			j->error = "unexpected policy action";
			break;
		}
		if (r == PGP_MSG_REFUSED) {
			/* gpg will not use a key the policy chose: as if
			 * there were none */
			line(j, "group=%zu action=%s status=refused "
			    "reason=\"%s\"", g, policy_action_name(d->action),
			    j->error);
			buf_reset(&data);
			if (d->action == POLICY_PGP_ENCRYPT &&
			    d->level >= POLICY_LEVEL_MUST) {
				for (i = 0; i < nm; i++)
					if (add_failed(j, pol->d[members[i]].rcpt,
					    err_fmt("OpenPGP encryption failed: "
					    "%s", j->error)) < 0)
						goto oom_data;
				buf_release(&data);
				continue;
			}
			if (buf_append(&data, j->base.data, j->base.len) < 0)
				goto oom_data;
			r = 0;
			d = NULL;	/* sent as plain */
		}
		if (r < 0) {
			buf_release(&data);
			goto out;
		}
		o = output_new(j, d != NULL ? policy_action_name(d->action) :
		    "plain", j->env_from);
		if (o == NULL)
			goto oom_data;
		buf_release(&o->data);
		o->data = data;
		for (i = 0; i < nm; i++) {
			const struct policy_decision *m = &pol->d[members[i]];

			if (output_rcpt(o, m->rcpt) < 0)
				goto oom;
			if (d != NULL && (d->action == POLICY_SMIME_ENCRYPT ||
			    d->action == POLICY_PGP_ENCRYPT) &&
			    (buf_printf(&j->enc_rcpts, "%s%s", j->enc_rcpts.len >
			    0 ? ", " : "", m->rcpt) < 0 ||
			    buf_printf(&j->enc_lines, "%s  %s: %s",
			    j->enc_lines.len > 0 ? "\n" : "", m->rcpt,
			    method_text(d)) < 0))
				goto oom;
		}
		continue;
oom_data:
		buf_release(&data);
		goto oom;
	}
	rc = 0;
	goto out;
oom:
	j->error = "out of memory";
out:
	free(members);
	return rc;
}

/* ---- notifications -------------------------------------------------------- */

static int
header_text(const char *msg, size_t len, const char *name, int decoded,
    struct buf *out)
{
	struct mime_message *m = mime_parse(msg, len, NULL, NULL);
	const struct mime_field *f;
	int rc = -1;

	if (m == NULL)
		return -1;
	f = mime_field_find(m->root, name, 0);
	if (f != NULL)
		rc = decoded ? mime_field_decoded(f, out, NULL) :
		    mime_field_value(f, out);
	mime_message_free(&m);
	return rc;
}

static int
notify(struct jctx *j, const char *builtin, const char *setting,
    struct buf *rcpts, struct buf *lines)
{
	struct settings_view *sv = NULL, *gv = NULL;
	struct buf text, subj, mid, mdate, out;
	char sys[ADDRESS_MAX + 1], host[256], date[64], to[ADDRESS_MAX + 1];
	const char *value, *why = NULL, *ss;
	struct job_output *o;
	time_t now = time(NULL);
	struct tm tm;
	int rc = -1, r;

	buf_init(&text, TEMPLATE_MAX);
	buf_init(&subj, 64 * 1024);
	buf_init(&mid, 4096);
	buf_init(&mdate, 4096);
	buf_init(&out, 0);
	if (settings_view_global(j->env->st, NULL, &gv, &j->error) < 0)
		goto out;
	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	ss = settings_get(gv, "system-sender", NULL, NULL);
	if (ss != NULL && ss[0] != '\0')
		snprintf(sys, sizeof(sys), "%s", ss);
	else
		snprintf(sys, sizeof(sys), "postmaster@%.200s", host);
	/* bounces and other null-sender mail: tell the postmaster */
	if (j->env_from[0] == '\0' || j->pol->originator[0] == '\0')
		snprintf(to, sizeof(to), "%s", sys);
	else
		snprintf(to, sizeof(to), "%s", j->pol->originator);
	if (j->pol->originator[0] != '\0')
		r = settings_view_user(j->env->st, NULL, j->pol->originator,
		    &sv, &j->error);
	else
		r = settings_view_global(j->env->st, NULL, &sv, &j->error);
	if (r < 0)
		goto out;
	value = settings_get(sv, setting, NULL, NULL);
	r = template_load(config_str(j->env->cfg, "template_directory"), value,
	    builtin, &text, &why);
	if (r < 0) {
		j->error = why;
		goto out;
	}
	if (r == 1)
		line(j, "warning: template: %s", why);
	(void)header_text(j->msg, j->len, "Subject", 1, &subj);
	(void)header_text(j->msg, j->len, "Message-ID", 0, &mid);
	(void)header_text(j->msg, j->len, "Date", 0, &mdate);
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	{
		const struct template_var vars[] = {
			{ "originator", to },
			{ "recipients", rcpts->data != NULL ? rcpts->data : "" },
			{ "reason", lines->data != NULL ? lines->data : "" },
			{ "subject", subj.data != NULL ? subj.data : "" },
			{ "message_id", mid.data != NULL ? mid.data : "" },
			{ "message_date", mdate.data != NULL ? mdate.data : "" },
			{ "date", date },
			{ "qid", j->env->qid != NULL ? j->env->qid : "" },
			{ "hostname", host },
			{ "system_sender", sys },
		};

		if (template_render(text.data, text.len, vars,
		    sizeof(vars) / sizeof(vars[0]), &out, &j->error) < 0)
			goto out;
	}
	o = output_new(j, "notification", "");
	if (o == NULL || output_rcpt(o, to) < 0) {
		j->error = "out of memory";
		goto out;
	}
	buf_release(&o->data);
	o->data = out;
	buf_init(&out, 0);
	line(j, "notification=%s to=<%s> recipients=\"%s\"", builtin, to,
	    rcpts->data);
	rc = 0;
out:
	settings_view_free(&sv);
	settings_view_free(&gv);
	buf_release(&text);
	buf_release(&subj);
	buf_release(&mid);
	buf_release(&mdate);
	buf_release(&out);
	return rc;
}

static int
want_enc_notification(struct jctx *j)
{
	struct settings_view *sv = NULL;
	int on;

	if (j->enc_rcpts.len == 0 || j->pol->originator[0] == '\0' ||
	    j->env_from[0] == '\0')
		return 0;
	if (settings_view_user(j->env->st, NULL, j->pol->originator, &sv,
	    &j->error) < 0)
		return -1;
	on = settings_get_bool(sv, "encryption-notification");
	settings_view_free(&sv);
	return on;
}

/* ---- the whole ---------------------------------------------------------- */

static int
mark_all(struct jctx *j)
{
	size_t i;

	for (i = 0; i < j->job->nout; i++) {
		struct job_output *o = &j->job->out[i];
		struct buf marked;

		buf_init(&marked, 0);
		if (loopguard_add(j->secret, j->env->now, o->data.data != NULL ?
		    o->data.data : "", o->data.len, o->rcpts, o->nrcpts,
		    &marked, &j->error) < 0) {
			buf_release(&marked);
			return -1;
		}
		buf_release(&o->data);
		o->data = marked;
	}
	return 0;
}

static void
log_decisions(struct jctx *j)
{
	size_t i;

	line(j, "policy: originator=<%s> from=%s kinds=0x%x%s%s%s",
	    j->pol->originator, j->pol->originator_from, j->pol->kinds,
	    j->pol->subject_trigger ? " subject-trigger=matched" : "",
	    j->pol->header_encrypt ? " encrypt-trigger=matched" : "",
	    j->pol->header_sign ? " sign-trigger=matched" : "");
	for (i = 0; i < j->pol->n; i++) {
		const struct policy_decision *d = &j->pol->d[i];

		line(j, "policy: rcpt=<%s> action=%s%s level=%s group=%d "
		    "reason=\"%s\"", d->rcpt, policy_action_name(d->action),
		    d->sign ? "+sign" : "", policy_level_name(d->level),
		    d->group, d->reason);
	}
}

int
job_run(const struct job_env *env, const char *msg, size_t len,
    const char *env_from, char *const *rcpts, size_t nrcpts,
    struct job **job_r, const char **error_r)
{
	struct jctx j;
	struct policy_keys keys;
	struct policy_keystore pks;
	struct mime_message *m = NULL;
	int rc = -1;
	size_t i;

	*job_r = NULL;
	memset(&j, 0, sizeof(j));
	j.env = env;
	j.msg = msg;
	j.len = len;
	j.env_from = env_from != NULL ? env_from : "";
	buf_init(&j.base, 0);
	buf_init(&j.failed_rcpts, 64 * 1024);
	buf_init(&j.failed_lines, 256 * 1024);
	buf_init(&j.enc_rcpts, 64 * 1024);
	buf_init(&j.enc_lines, 256 * 1024);
	mime_limits_from_config(&j.lim, env->cfg);
	j.job = calloc(1, sizeof(*j.job));
	if (j.job == NULL) {
		j.error = "out of memory";
		goto out;
	}
	if (load_secret(&j) < 0)
		goto out;
	if (loopguard_check(j.secret, msg, len, rcpts, nrcpts) ==
	    LOOPGUARD_VALID) {
		struct job_output *o = output_new(&j, "loop", j.env_from);

		if (o == NULL || buf_append(&o->data, msg, len) < 0) {
			j.error = "out of memory";
			goto out;
		}
		for (i = 0; i < nrcpts; i++)
			if (output_rcpt(o, rcpts[i]) < 0) {
				j.error = "out of memory";
				goto out;
			}
		line(&j, "loop marker valid: passed unchanged");
		rc = 0;
		goto out;
	}
	m = mime_parse(msg, len, &j.lim, &j.error);
	if (m == NULL)
		goto out;
	if (need_ks(&j) < 0)
		goto out;
	policy_keys_store(&keys, &pks, j.ks, env->st, env->now);
	{
		struct policy_env penv = { env->st, env->mkey, &keys };
		struct policy_msg pm = { m, len, j.env_from, rcpts, nrcpts };

		if (policy_decide(&penv, &pm, &j.pol, &j.error) < 0)
			goto out;
	}
	log_decisions(&j);
	if (internal(&j) < 0 || outbound(&j) < 0)
		goto out;
	if (j.failed_rcpts.len > 0 && notify(&j, "encryption-failed",
	    "template.encryption-failed", &j.failed_rcpts,
	    &j.failed_lines) < 0)
		goto out;
	{
		int w = want_enc_notification(&j);

		if (w < 0)
			goto out;
		if (w && notify(&j, "encryption-notification",
		    "template.encryption-notification", &j.enc_rcpts,
		    &j.enc_lines) < 0)
			goto out;
	}
	if (mark_all(&j) < 0)
		goto out;
	rc = 0;
out:
	mime_message_free(&m);
	policy_result_free(&j.pol);
	x509_ks_free(&j.ks);
	pgp_keyring_free(&j.kr);
	if (j.secret != NULL)
		secret_wipe_free(j.secret, strlen(j.secret));
	buf_release(&j.base);
	buf_release(&j.failed_rcpts);
	buf_release(&j.failed_lines);
	buf_release(&j.enc_rcpts);
	buf_release(&j.enc_lines);
	if (rc < 0) {
		job_free(&j.job);
		return err_set(error_r, "%s", j.error != NULL ? j.error :
		    "internal error");
	}
	*job_r = j.job;
	return 0;
}
