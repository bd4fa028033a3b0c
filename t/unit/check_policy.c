/*
 * policy: every row of the encrypt-mode table of seed 003 §4.1.1 (with
 * and without a certificate), the subject trigger examples of §4.1.5 and
 * the header trigger examples of §4.2.1, calendar, size limits, the
 * method order (S/MIME, then OpenPGP), signing rules, grouping,
 * originator selection and the trace.  Key lookups are test doubles; the
 * settings live in a real store.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "policy.h"
#include "settings.h"
#include "store.h"
#include "testutil.h"

static char *dir;
static struct store *st;

/* --- key doubles -------------------------------------------------------- */

struct fake {
	const char *smime[8];	/* addresses with an S/MIME certificate */
	const char *pgp[8];	/* addresses with a trusted PGP key */
	const char *smime_signer;	/* originator with a signing cert */
	const char *pgp_signer;
	int fail;		/* every lookup fails */
	int calls;
};

static struct fake fk;

static int
fail_lookup(const char **error_r)
{
	*error_r = "keystore unavailable";
	return -1;
}

static int
in(const char *const *list, const char *a)
{
	size_t i;

	for (i = 0; i < 8 && list[i] != NULL; i++)
		if (strcmp(list[i], a) == 0)
			return 1;
	return 0;
}

static int
one_id(const char *prefix, const char *a, char ***ids_r, size_t *n_r)
{
	char id[200];

	snprintf(id, sizeof(id), "%s-%s", prefix, a);
	*ids_r = calloc(2, sizeof(**ids_r));
	(*ids_r)[0] = strdup(id);
	*n_r = 1;
	return 0;
}

static int
f_smime_certs(void *arg, const char *rcpt, unsigned flags, char ***ids_r,
    size_t *n_r, struct buf *why, const char **error_r)
{
	struct fake *f = arg;

	(void)flags;
	(void)why;
	f->calls++;
	*ids_r = NULL;
	*n_r = 0;
	if (f->fail)
		return fail_lookup(error_r);
	return in(f->smime, rcpt) ? one_id("cert", rcpt, ids_r, n_r) : 0;
}

static int
f_pgp_keys(void *arg, const char *rcpt, char ***ids_r, size_t *n_r,
    const char **error_r)
{
	struct fake *f = arg;

	f->calls++;
	*ids_r = NULL;
	*n_r = 0;
	if (f->fail)
		return fail_lookup(error_r);
	return in(f->pgp, rcpt) ? one_id("pgp", rcpt, ids_r, n_r) : 0;
}

static int
f_smime_signer(void *arg, const char *sender, unsigned flags,
    char id[POLICY_ID_MAX], const char **error_r)
{
	struct fake *f = arg;

	(void)flags;
	f->calls++;
	if (f->fail)
		return fail_lookup(error_r);
	if (f->smime_signer == NULL || strcmp(f->smime_signer, sender) != 0)
		return 0;
	snprintf(id, POLICY_ID_MAX, "signcert-%s", sender);
	return 1;
}

static int
f_pgp_signer(void *arg, const char *sender, char id[POLICY_ID_MAX],
    const char **error_r)
{
	struct fake *f = arg;

	f->calls++;
	if (f->fail)
		return fail_lookup(error_r);
	if (f->pgp_signer == NULL || strcmp(f->pgp_signer, sender) != 0)
		return 0;
	snprintf(id, POLICY_ID_MAX, "signkey-%s", sender);
	return 1;
}

static const struct policy_keys fake_keys = { f_smime_certs, f_pgp_keys,
	f_smime_signer, f_pgp_signer, &fk };

int
err_set_test(const char **error_r)
{
	*error_r = "keystore unavailable";
	return -1;
}

/* --- helpers ------------------------------------------------------------ */

static void
setup(void)
{
	const char *error;
	char *db;

	memset(&fk, 0, sizeof(fk));
	dir = tu_tmpdir();
	ck_assert_ptr_nonnull(dir);
	db = tu_path(dir, "p.db");
	ck_assert_msg(store_open(&st, db, 10000, STORE_CREATE, &error) == 0,
	    "%s", error);
	free(db);
}

static void
teardown(void)
{
	store_free(&st);
	tu_tmpdir_free(&dir);
}

/* set LEVEL OWNER NAME VALUE; level 'g', 'd' or 'u'. */
static void
set(char level, const char *owner, const char *name, const char *value)
{
	const char *error;
	enum address_level l = level == 'g' ? ADDRESS_LEVEL_GLOBAL :
	    level == 'd' ? ADDRESS_LEVEL_DOMAIN : ADDRESS_LEVEL_USER;

	ck_assert_msg(settings_set(st, NULL, l, owner, name, value, &error) == 0,
	    "set %s=%s: %s", name, value, error);
}

struct run {
	struct mime_message *m;
	struct policy_result *res;
	char *text;
};

/* Decide for a message text (LF) with the given recipients. */
static struct policy_result *
decide(struct run *r, const char *text, const char *env_from,
    const char *rcpts_csv)
{
	char *rcpts[16], *copy, *save = NULL, *p;
	struct policy_env env = { st, NULL, &fake_keys };
	struct policy_msg pm;
	const char *error;
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->text = strdup(text);
	r->m = mime_parse(r->text, strlen(r->text), NULL, &error);
	ck_assert_ptr_nonnull(r->m);
	copy = strdup(rcpts_csv);
	for (p = strtok_r(copy, ",", &save); p != NULL && n < 16;
	    p = strtok_r(NULL, ",", &save))
		rcpts[n++] = p;
	memset(&pm, 0, sizeof(pm));
	pm.m = r->m;
	pm.size = strlen(text);
	pm.env_from = env_from;
	pm.rcpts = rcpts;
	pm.nrcpts = n;
	ck_assert_msg(policy_decide(&env, &pm, &r->res, &error) == 0, "%s",
	    error);
	free(copy);
	return r->res;
}

static void
run_free(struct run *r)
{
	policy_result_free(&r->res);
	mime_message_free(&r->m);
	free(r->text);
}

#define MSG(extra) "From: Alice <alice@corp.test>\nTo: x@y\n" extra \
	"Subject: hello\nMIME-Version: 1.0\n" \
	"Content-Type: text/plain\n\nbody\n"

static const struct policy_trace *
trace_find(const struct policy_decision *d, const char *name, int sender)
{
	size_t i;

	for (i = 0; i < d->ntrace; i++)
		if (strcmp(d->trace[i].name, name) == 0 &&
		    d->trace[i].sender == sender)
			return &d->trace[i];
	return NULL;
}

/* --- §4.1.1: the encrypt-mode table --------------------------------------- */

static const char *const modes[] = { "no-encryption", "allow", "mandatory",
	"force" };

/* rows: sender mode x recipient mode, the level the guide gives */
static const enum policy_level table[4][4] = {
	/*              no-enc  allow  mandatory  force (recipient) */
	/* no-enc */ { POLICY_LEVEL_NONE, POLICY_LEVEL_NONE,
	    POLICY_LEVEL_CONFLICT, POLICY_LEVEL_MUST },
	/* allow */ { POLICY_LEVEL_NONE, POLICY_LEVEL_ALLOW,
	    POLICY_LEVEL_MUST, POLICY_LEVEL_MUST },
	/* mandatory */ { POLICY_LEVEL_CONFLICT, POLICY_LEVEL_MUST,
	    POLICY_LEVEL_MUST, POLICY_LEVEL_MUST },
	/* force */ { POLICY_LEVEL_MUST, POLICY_LEVEL_MUST,
	    POLICY_LEVEL_MUST, POLICY_LEVEL_MUST },
};

START_TEST(combine_table)
{
	int s = _i / 4, r = _i % 4;
	enum policy_level got = policy_combine_modes(modes[s], modes[r]);

	ck_assert_msg(got == table[s][r], "%s x %s: got %s, want %s",
	    modes[s], modes[r], policy_level_name(got),
	    policy_level_name(table[s][r]));
}
END_TEST

/* The same rows through policy_decide(), the sender's mode at user
 * level, the recipient's at domain level, with (odd _i) and without a
 * certificate for the recipient: the action the guide implies. */
START_TEST(decide_table)
{
	int s = (_i / 2) / 4, r = (_i / 2) % 4, cert = _i % 2;
	enum policy_level lvl = table[s][r];
	enum policy_action want;
	struct run run;
	const struct policy_decision *d;
	const struct policy_trace *t;

	set('u', "alice@corp.test", "encrypt-mode", modes[s]);
	set('d', "ext.test", "encrypt-mode", modes[r]);
	if (cert)
		fk.smime[0] = "bob@ext.test";
	switch (lvl) {
	case POLICY_LEVEL_NONE:
		want = POLICY_PASS;
		break;
	case POLICY_LEVEL_ALLOW:
		want = cert ? POLICY_SMIME_ENCRYPT : POLICY_PASS;
		break;
	case POLICY_LEVEL_MUST:
		want = cert ? POLICY_SMIME_ENCRYPT : POLICY_BLOCK;
		break;
	default:
		want = POLICY_BLOCK;
		break;
	}
	decide(&run, MSG(""), "alice@corp.test", "bob@ext.test");
	d = &run.res->d[0];
	ck_assert_msg(d->action == want && d->level == lvl,
	    "%s x %s, cert %d: got %s/%s, want %s/%s (%s)", modes[s],
	    modes[r], cert, policy_action_name(d->action),
	    policy_level_name(d->level), policy_action_name(want),
	    policy_level_name(lvl), d->reason);
	/* the trace names both settings with their origin */
	t = trace_find(d, "encrypt-mode", 1);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t->value, modes[s]);
	ck_assert_int_eq(t->level, ADDRESS_LEVEL_USER);
	ck_assert_str_eq(t->owner, "alice@corp.test");
	t = trace_find(d, "encrypt-mode", 0);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t->value, modes[r]);
	ck_assert_int_eq(t->level, ADDRESS_LEVEL_DOMAIN);
	ck_assert_str_eq(t->owner, "ext.test");
	if (want == POLICY_BLOCK)
		ck_assert_int_eq(d->group, -1);
	else
		ck_assert_int_eq(d->group, 0);
	run_free(&run);
}
END_TEST

/* --- §4.1.5: subject trigger ------------------------------------------------ */

static const struct {
	const char *subject, *pattern;
	int regex, remove, match;
	const char *result;	/* new subject when removed */
} subj[] = {
	/* the guide's regular expression example */
	{ "your offer [secure]", "(?i)(\\[secure\\]|\\[encrypt\\])", 1, 0, 1,
	    NULL },
	{ "[ENCRYPT] contract", "(?i)(\\[secure\\]|\\[encrypt\\])", 1, 0, 1,
	    NULL },
	{ "[Secure] x", "(\\[secure\\]|\\[encrypt\\])", 1, 0, 0, NULL },
	{ "secure", "(?i)(\\[secure\\]|\\[encrypt\\])", 1, 0, 0, NULL },
	/* the guide's remove-match example */
	{ "your bank statement [encrypt]", "[encrypt]", 0, 1, 1,
	    "your bank statement" },
	{ "[Encrypt] a  [encrypt] b", "[encrypt]", 0, 1, 1, "a b" },
	{ "no trigger here", "[encrypt]", 0, 1, 0, NULL },
	{ "x [secure] y", "(?i)\\[secure\\]", 1, 1, 1, "x y" },
	{ "[encrypt]", "[encrypt]", 0, 1, 1, "" },
	{ "", "[encrypt]", 0, 1, 0, NULL },
};

START_TEST(subject_trigger_examples)
{
	struct buf ns;
	const char *error = NULL;
	int r;

	buf_init(&ns, 0);
	r = policy_subject_trigger(subj[_i].subject, subj[_i].pattern,
	    subj[_i].regex, subj[_i].remove, &ns, &error);
	ck_assert_msg(r == subj[_i].match, "'%s' ~ '%s': got %d, want %d",
	    subj[_i].subject, subj[_i].pattern, r, subj[_i].match);
	if (subj[_i].result != NULL)
		ck_assert_msg(ns.data != NULL &&
		    strcmp(ns.data, subj[_i].result) == 0,
		    "got '%s', want '%s'", ns.data ? ns.data : "(none)",
		    subj[_i].result);
	else
		ck_assert_uint_eq(ns.len, 0);
	buf_release(&ns);
}
END_TEST

/* The trigger overrules no-encryption (§4.1.1), an RFC 2047 subject is
 * decoded first and the new subject comes back decoded. */
START_TEST(subject_trigger_decide)
{
	struct run run;
	const struct policy_decision *d;

	set('g', "", "encrypt-mode", "no-encryption");
	set('d', "corp.test", "subject-trigger.enabled", "true");
	fk.smime[0] = "bob@ext.test";
	decide(&run, "From: alice@corp.test\nSubject: "
	    "=?UTF-8?Q?Kontoauszug_=5Bencrypt=5D_f=C3=BCr_Mai?=\n\nx\n", "",
	    "bob@ext.test,carol@ext.test");
	ck_assert_int_eq(run.res->subject_trigger, 1);
	ck_assert_ptr_nonnull(run.res->subject);
	ck_assert_str_eq(run.res->subject, "Kontoauszug f\xc3\xbcr Mai");
	d = &run.res->d[0];
	ck_assert_int_eq(d->level, POLICY_LEVEL_MUST);
	ck_assert_int_eq(d->action, POLICY_SMIME_ENCRYPT);
	/* no certificate for carol: triggered, so not sent */
	ck_assert_int_eq(run.res->d[1].action, POLICY_BLOCK);
	ck_assert_ptr_nonnull(trace_find(d, "subject-trigger.pattern", 1));
	run_free(&run);

	/* disabled: the same subject does nothing */
	set('d', "corp.test", "subject-trigger.enabled", "false");
	decide(&run, "From: alice@corp.test\nSubject: [encrypt] x\n\nx\n", "",
	    "carol@ext.test");
	ck_assert_int_eq(run.res->subject_trigger, 0);
	ck_assert_ptr_null(run.res->subject);
	ck_assert_int_eq(run.res->d[0].action, POLICY_PASS);
	run_free(&run);
}
END_TEST

/* --- §4.2.1: header triggers ------------------------------------------------ */

static const char *const trig[] = {
	"X-Djigzo-Encrypt",
	"X-Djigzo-Encrypt:",
	"X-Djigzo-Encrypt:*.",
	"X-Djigzo-Encrypt:(?i)^\\s*true\\s*$",
};

static const struct {
	const char *header;	/* extra header line, or "" */
	int match[4];		/* per trigger above */
} hdr[] = {
	{ "X-Djigzo-Encrypt: yes please\n", { 1, 1, 1, 0 } },
	{ "X-Djigzo-Encrypt:   TRUE  \n", { 1, 1, 1, 1 } },
	{ "x-djigzo-encrypt: true\n", { 1, 1, 1, 1 } },
	{ "X-Djigzo-Encrypt: =?UTF-8?Q?true?=\n", { 1, 1, 1, 1 } },
	{ "X-Djigzo-Encrypt: not true\n", { 1, 1, 1, 0 } },
	{ "X-Djigzo-Encrypted: true\n", { 0, 0, 0, 0 } },
	{ "", { 0, 0, 0, 0 } },
};

START_TEST(header_trigger_examples)
{
	char text[512];
	struct mime_message *m;
	const char *error = NULL;
	const struct setting_def *def = settings_find("force-encrypt.trigger");
	size_t k;

	snprintf(text, sizeof(text), "From: a@b.test\n%sSubject: s\n\nbody\n",
	    hdr[_i].header);
	m = mime_parse(text, strlen(text), NULL, &error);
	ck_assert_ptr_nonnull(m);
	for (k = 0; k < 4; k++) {
		int r = policy_header_trigger(m, trig[k], &error);

		/* each example is accepted as a setting value */
		ck_assert_msg(settings_check(def, trig[k], &error) == 0,
		    "'%s' refused: %s", trig[k], error);
		ck_assert_msg(r == hdr[_i].match[k],
		    "'%s' against '%s': got %d, want %d", trig[k],
		    hdr[_i].header, r, hdr[_i].match[k]);
	}
	mime_message_free(&m);
}
END_TEST

START_TEST(header_triggers_decide)
{
	struct run run;

	fk.smime[0] = "bob@ext.test";
	fk.smime_signer = "alice@corp.test";
	set('g', "", "encrypt-mode", "no-encryption");
	set('g', "", "sign.only-when-encrypting", "true");
	/* not allowed: the header does nothing */
	decide(&run, MSG("X-Postern-Encrypt: true\nX-Postern-Sign: true\n"),
	    "", "bob@ext.test");
	ck_assert_int_eq(run.res->header_encrypt, 0);
	ck_assert_int_eq(run.res->d[0].action, POLICY_PASS);
	run_free(&run);
	set('d', "corp.test", "force-encrypt.allowed", "true");
	set('d', "corp.test", "force-sign.allowed", "true");
	decide(&run, MSG("X-Postern-Encrypt: true\n"), "", "bob@ext.test");
	ck_assert_int_eq(run.res->header_encrypt, 1);
	ck_assert_int_eq(run.res->d[0].action, POLICY_SMIME_ENCRYPT);
	ck_assert_int_eq(run.res->d[0].sign, 1);
	run_free(&run);
	/* force-sign alone: signed, not encrypted */
	decide(&run, MSG("X-Postern-Sign: TRUE\n"), "", "bob@ext.test");
	ck_assert_int_eq(run.res->header_sign, 1);
	ck_assert_int_eq(run.res->d[0].action, POLICY_SMIME_SIGN);
	ck_assert_str_eq(run.res->d[0].signer, "signcert-alice@corp.test");
	run_free(&run);
	/* the value does not match the default trigger's regex */
	decide(&run, MSG("X-Postern-Encrypt: false\n"), "", "bob@ext.test");
	ck_assert_int_eq(run.res->header_encrypt, 0);
	ck_assert_int_eq(run.res->d[0].action, POLICY_PASS);
	run_free(&run);
	/* CipherMail's X-Djigzo-Encrypt example, set by the admin */
	set('g', "", "force-encrypt.trigger", "X-Djigzo-Encrypt:*.");
	decide(&run, MSG("X-Djigzo-Encrypt: anything\n"), "", "bob@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_SMIME_ENCRYPT);
	run_free(&run);
}
END_TEST

/* --- methods, limits, signing -------------------------------------------- */

START_TEST(method_order_and_limits)
{
	struct run run;

	fk.smime[0] = "both@ext.test";
	fk.pgp[0] = "both@ext.test";
	fk.pgp[1] = "pgp@ext.test";
	decide(&run, MSG(""), "", "both@ext.test,pgp@ext.test,none@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_SMIME_ENCRYPT);
	ck_assert_str_eq(run.res->d[0].keys[0], "cert-both@ext.test");
	ck_assert_int_eq(run.res->d[1].action, POLICY_PGP_ENCRYPT);
	ck_assert_str_eq(run.res->d[1].keys[0], "pgp-pgp@ext.test");
	ck_assert_str_eq(run.res->d[1].pgp_encoding, "pgp-mime");
	ck_assert_int_eq(run.res->d[2].action, POLICY_PASS);
	/* three different outputs */
	ck_assert_uint_eq(run.res->ngroups, 3);
	run_free(&run);

	/* S/MIME off for the recipient: OpenPGP */
	set('u', "both@ext.test", "smime.enabled", "false");
	decide(&run, MSG(""), "", "both@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_PGP_ENCRYPT);
	run_free(&run);
	set('u', "both@ext.test", "smime.enabled", "true");

	/* larger than smime.max-size: OpenPGP; larger than both: nothing,
	 * so a mandatory recipient is blocked */
	set('u', "both@ext.test", "smime.max-size", "1024");
	{
		char big[3000];

		memset(big, 'a', sizeof(big));
		snprintf(big, 100, "From: alice@corp.test\nSubject: s\n\n");
		big[strlen(big)] = 'a';
		big[sizeof(big) - 2] = '\n';
		big[sizeof(big) - 1] = '\0';
		decide(&run, big, "", "both@ext.test");
		ck_assert_int_eq(run.res->d[0].action, POLICY_PGP_ENCRYPT);
		run_free(&run);
		set('u', "both@ext.test", "pgp.max-size", "2k");
		set('u', "both@ext.test", "encrypt-mode", "mandatory");
		decide(&run, big, "", "both@ext.test");
		ck_assert_int_eq(run.res->d[0].action, POLICY_BLOCK);
		ck_assert_ptr_nonnull(strstr(run.res->d[0].reason,
		    "not sent"));
		run_free(&run);
	}
}
END_TEST

START_TEST(signing_rules)
{
	struct run run;

	/* a signing certificate: plain mail is S/MIME signed */
	fk.smime_signer = "alice@corp.test";
	fk.pgp_signer = "alice@corp.test";
	decide(&run, MSG(""), "", "bob@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_SMIME_SIGN);
	run_free(&run);
	/* only when encrypting */
	set('g', "", "sign.only-when-encrypting", "true");
	decide(&run, MSG(""), "", "bob@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_PASS);
	run_free(&run);
	set('g', "", "sign.only-when-encrypting", "false");
	/* no S/MIME signer: PGP sign-only, unless pgp.skip-sign-only */
	fk.smime_signer = NULL;
	decide(&run, MSG(""), "", "bob@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_PGP_SIGN);
	ck_assert_str_eq(run.res->d[0].signer, "signkey-alice@corp.test");
	run_free(&run);
	set('u', "alice@corp.test", "pgp.skip-sign-only", "true");
	decide(&run, MSG(""), "", "bob@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_PASS);
	run_free(&run);
	/* PGP-encrypted mail is PGP-signed with the sender's key */
	fk.pgp[0] = "bob@ext.test";
	decide(&run, MSG(""), "", "bob@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_PGP_ENCRYPT);
	ck_assert_int_eq(run.res->d[0].sign, 1);
	run_free(&run);
	/* a message signed already is not signed again */
	fk.smime_signer = "alice@corp.test";
	fk.pgp[0] = NULL;
	decide(&run, "From: alice@corp.test\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/signed; protocol=\"application/"
	    "pkcs7-signature\"; micalg=sha-256; boundary=b\n\n--b\n"
	    "Content-Type: text/plain\n\nx\n--b\nContent-Type: application/"
	    "pkcs7-signature\n\nAAAA\n--b--\n", "", "bob@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_PASS);
	run_free(&run);
}
END_TEST

#define CAL "From: alice@corp.test\nSubject: meeting\nMIME-Version: 1.0\n" \
	"Content-Type: text/calendar; method=REQUEST\n\nBEGIN:VCALENDAR\n" \
	"END:VCALENDAR\n"

START_TEST(calendar)
{
	struct run run;

	fk.smime[0] = "bob@ext.test";
	fk.smime_signer = "alice@corp.test";
	/* factory: skip-signing-calendar is on: encrypted, not signed */
	decide(&run, CAL, "", "bob@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_SMIME_ENCRYPT);
	ck_assert_int_eq(run.res->d[0].sign, 0);
	run_free(&run);
	/* skip-calendar for the recipient: neither, even when forced */
	set('d', "ext.test", "skip-calendar", "true");
	set('d', "ext.test", "encrypt-mode", "force");
	decide(&run, CAL, "", "bob@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_PASS);
	ck_assert_ptr_nonnull(strstr(run.res->d[0].reason, "calendar"));
	run_free(&run);
	/* plain mail is unaffected */
	decide(&run, MSG(""), "", "bob@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_SMIME_ENCRYPT);
	ck_assert_int_eq(run.res->d[0].sign, 1);
	run_free(&run);
}
END_TEST

START_TEST(grouping)
{
	struct run run;

	fk.smime[0] = "a@ext.test";
	fk.smime[1] = "b@ext.test";
	fk.smime[2] = "c@other.test";
	decide(&run, MSG(""), "", "a@ext.test,b@ext.test,c@other.test");
	/* same action and options: one envelope for all three */
	ck_assert_uint_eq(run.res->ngroups, 1);
	ck_assert_int_eq(run.res->d[2].group, 0);
	run_free(&run);
	/* another cipher for other.test: its own output */
	set('d', "other.test", "smime.encryption-algorithm", "AES-256-GCM");
	decide(&run, MSG(""), "", "a@ext.test,b@ext.test,c@other.test");
	ck_assert_uint_eq(run.res->ngroups, 2);
	ck_assert_int_eq(run.res->d[0].group, run.res->d[1].group);
	ck_assert_int_ne(run.res->d[0].group, run.res->d[2].group);
	ck_assert_int_eq(run.res->d[2].smime.cipher, SMIME_AES256_GCM);
	run_free(&run);
	/* internal recipients take the inbound path, no group */
	set('d', "corp.test", "locality", "internal");
	decide(&run, MSG(""), "", "bob@corp.test,a@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_INBOUND);
	ck_assert_int_eq(run.res->d[0].group, -1);
	ck_assert_int_eq(run.res->d[1].group, 0);
	run_free(&run);
}
END_TEST

START_TEST(already_encrypted)
{
	struct run run;

	set('g', "", "encrypt-mode", "mandatory");
	decide(&run, "From: alice@corp.test\nMIME-Version: 1.0\n"
	    "Content-Type: application/pkcs7-mime; smime-type=enveloped-data;"
	    " name=smime.p7m\nContent-Transfer-Encoding: base64\n\nAAAA\n", "",
	    "bob@ext.test");
	ck_assert_int_eq(run.res->encrypted, 1);
	ck_assert_int_eq(run.res->d[0].action, POLICY_PASS);
	run_free(&run);
	decide(&run, "From: alice@corp.test\n\n-----BEGIN PGP MESSAGE-----\n\n"
	    "hQEMA\n-----END PGP MESSAGE-----\n", "", "bob@ext.test");
	ck_assert_int_eq(run.res->d[0].action, POLICY_PASS);
	run_free(&run);
}
END_TEST

static const struct {
	const char *header, *env, *want, *from;
} orig[] = {
	{ "From: \"Smith, Al\" <Al@Corp.Test>\n", "x@y.test", "Al@corp.test",
	    "From" },
	{ "From: al@corp.test (Al Smith)\n", "", "al@corp.test", "From" },
	{ "From: undisclosed:;\nSender: sec@corp.test\n", "", "sec@corp.test",
	    "Sender" },
	{ "From: Team: a@corp.test, b@corp.test;\n", "", "a@corp.test",
	    "From" },
	{ "Subject: none\n", "env@corp.test", "env@corp.test", "envelope" },
	{ "Subject: none\n", "", "", "none" },
	{ "From: <@relay.test:route@corp.test>\n", "", "route@corp.test",
	    "From" },
};

START_TEST(originator)
{
	char text[512];
	struct run run;

	snprintf(text, sizeof(text), "%s\nbody\n", orig[_i].header);
	decide(&run, text, orig[_i].env, "bob@ext.test");
	ck_assert_msg(strcmp(run.res->originator, orig[_i].want) == 0 &&
	    strcmp(run.res->originator_from, orig[_i].from) == 0,
	    "got '%s' (%s), want '%s' (%s)", run.res->originator,
	    run.res->originator_from, orig[_i].want, orig[_i].from);
	run_free(&run);
}
END_TEST

START_TEST(lookup_failure)
{
	struct policy_env env = { st, NULL, &fake_keys };
	struct policy_msg pm;
	struct policy_result *res = NULL;
	struct mime_message *m;
	char *rcpts[] = { "bob@ext.test" };
	const char *error = NULL, *text = MSG("");

	fk.fail = 1;
	m = mime_parse(text, strlen(text), NULL, &error);
	memset(&pm, 0, sizeof(pm));
	pm.m = m;
	pm.size = strlen(text);
	pm.env_from = "";
	pm.rcpts = rcpts;
	pm.nrcpts = 1;
	ck_assert_int_eq(policy_decide(&env, &pm, &res, &error), -1);
	ck_assert_ptr_null(res);
	ck_assert_str_eq(error, "keystore unavailable");
	/* a malformed recipient is an error too, never a guess */
	fk.fail = 0;
	rcpts[0] = "no-at-sign";
	ck_assert_int_eq(policy_decide(&env, &pm, &res, &error), -1);
	ck_assert_ptr_nonnull(strstr(error, "bad recipient"));
	mime_message_free(&m);
}
END_TEST

Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("table");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, combine_table, 0, 16);
	tcase_add_loop_test(tc, decide_table, 0, 32);
	suite_add_tcase(s, tc);
	tc = tcase_create("triggers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, subject_trigger_examples, 0,
	    sizeof(subj) / sizeof(subj[0]));
	tcase_add_test(tc, subject_trigger_decide);
	tcase_add_loop_test(tc, header_trigger_examples, 0,
	    sizeof(hdr) / sizeof(hdr[0]));
	tcase_add_test(tc, header_triggers_decide);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, method_order_and_limits);
	tcase_add_test(tc, signing_rules);
	tcase_add_test(tc, calendar);
	tcase_add_test(tc, grouping);
	tcase_add_test(tc, already_encrypted);
	tcase_add_loop_test(tc, originator, 0, sizeof(orig) / sizeof(orig[0]));
	tcase_add_test(tc, lookup_failure);
	suite_add_tcase(s, tc);
	return s;
}
