/*
 * posternctl policy explain: what postern-encrypt would do with a
 * message for each recipient, and every setting (with its origin) and
 * fact behind the decision: "why wasn't this encrypted?".
 *
 *	posternctl policy explain --from ADDR --to ADDR [--to ADDR ...]
 *	    [--subject TEXT] [--header NAME:VALUE ...] [--size BYTES]
 *	    [--calendar]
 *	posternctl policy explain --message FILE [--from ADDR] --to ADDR ...
 *
 * The decision uses the real settings and keystores, at this moment; it
 * changes nothing.  Internal recipients are only reported (the inbound
 * path needs the message's own crypto).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "ctl.h"
#include "ctl_level.h"
#include "mime.h"
#include "policy.h"
#include "store.h"
#include "x509.h"

#define MAX_ARGS 256
#define EXPLAIN_MAX (64 * 1024 * 1024)

static int
usage_explain(void)
{
	return ctl_usage("policy explain needs --from ADDR (or --message "
	    "FILE) and at least one --to ADDR");
}

static const char *
yesno(int b)
{
	return b ? "yes" : "no";
}

static void
print_text(const struct policy_result *res)
{
	size_t i, k;

	printf("originator: %s (%s)\n", res->originator[0] != '\0' ?
	    res->originator : "unknown", res->originator_from);
	printf("already encrypted: %s\n", yesno(res->encrypted));
	printf("subject trigger: %s%s%s\n", res->subject_trigger ? "matched" :
	    "no match", res->subject != NULL ? ", new subject: " : "",
	    res->subject != NULL ? res->subject : "");
	printf("force-encrypt trigger: %s\n", res->header_encrypt ? "matched" :
	    "no match");
	printf("force-sign trigger: %s\n", res->header_sign ? "matched" :
	    "no match");
	printf("outputs: %zu\n", res->ngroups);
	for (i = 0; i < res->n; i++) {
		const struct policy_decision *d = &res->d[i];

		printf("\nrecipient %s\n", d->rcpt);
		printf("  decision: %s%s", policy_action_name(d->action),
		    d->sign ? ", signed" : "");
		if (d->group >= 0)
			printf(" (output %d)", d->group + 1);
		printf("\n  encryption: %s\n", policy_level_name(d->level));
		printf("  reason: %s\n", d->reason);
		if (d->signer[0] != '\0')
			printf("  signer: %s\n", d->signer);
		for (k = 0; k < d->nkeys; k++)
			printf("  key: %s\n", d->keys[k]);
		printf("  settings:\n");
		for (k = 0; k < d->ntrace; k++) {
			const struct policy_trace *t = &d->trace[k];

			if (t->kind != POLICY_T_SETTING)
				continue;
			printf("    %-38s %-10s = %-24s (%s)\n", t->name,
			    t->sender ? "originator" : "recipient", t->value,
			    ctl_origin_text(t->level, t->owner));
		}
		printf("  facts:\n");
		for (k = 0; k < d->ntrace; k++) {
			const struct policy_trace *t = &d->trace[k];

			if (t->kind == POLICY_T_FACT)
				printf("    %s: %s\n", t->name, t->value);
		}
	}
}

static void
print_json(const struct policy_result *res)
{
	size_t i, k;
	int first;

	printf("{");
	ctl_json_kv("originator", res->originator, 1);
	ctl_json_kv("originator_from", res->originator_from, 0);
	printf(", \"already_encrypted\": %s", res->encrypted ? "true" : "false");
	printf(", \"subject_trigger\": %s", res->subject_trigger ? "true" :
	    "false");
	printf(", \"new_subject\": ");
	if (res->subject != NULL)
		ctl_json_str(res->subject);
	else
		printf("null");
	printf(", \"force_encrypt_trigger\": %s", res->header_encrypt ?
	    "true" : "false");
	printf(", \"force_sign_trigger\": %s", res->header_sign ? "true" :
	    "false");
	printf(", \"outputs\": %zu, \"recipients\": [", res->ngroups);
	for (i = 0; i < res->n; i++) {
		const struct policy_decision *d = &res->d[i];

		printf("%s{", i > 0 ? ", " : "");
		ctl_json_kv("recipient", d->rcpt, 1);
		ctl_json_kv("action", policy_action_name(d->action), 0);
		printf(", \"signed\": %s", d->sign ? "true" : "false");
		ctl_json_kv("encryption", policy_level_name(d->level), 0);
		printf(", \"output\": ");
		if (d->group >= 0)
			printf("%d", d->group + 1);
		else
			printf("null");
		ctl_json_kv("reason", d->reason, 0);
		printf(", \"signer\": ");
		if (d->signer[0] != '\0')
			ctl_json_str(d->signer);
		else
			printf("null");
		printf(", \"keys\": [");
		for (k = 0; k < d->nkeys; k++) {
			printf("%s", k > 0 ? ", " : "");
			ctl_json_str(d->keys[k]);
		}
		printf("], \"settings\": [");
		for (k = 0, first = 1; k < d->ntrace; k++) {
			const struct policy_trace *t = &d->trace[k];

			if (t->kind != POLICY_T_SETTING)
				continue;
			printf("%s{", first ? "" : ", ");
			first = 0;
			ctl_json_kv("name", t->name, 1);
			ctl_json_kv("for", t->sender ? "originator" :
			    "recipient", 0);
			ctl_json_kv("value", t->value, 0);
			ctl_json_kv("level", address_level_name(t->level), 0);
			ctl_json_kv("owner", t->owner, 0);
			printf("}");
		}
		printf("], \"facts\": [");
		for (k = 0, first = 1; k < d->ntrace; k++) {
			const struct policy_trace *t = &d->trace[k];

			if (t->kind != POLICY_T_FACT)
				continue;
			printf("%s{", first ? "" : ", ");
			first = 0;
			ctl_json_kv("what", t->name, 1);
			ctl_json_kv("text", t->value, 0);
			printf("}");
		}
		printf("]}");
	}
	printf("]}\n");
}

static int
read_file(const char *path, struct buf *out)
{
	FILE *fp = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (fp == NULL)
		return ctl_error("cannot open '%s': %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(out, chunk, n) < 0) {
			fclose(fp);
			return ctl_error("'%s' is too large", path);
		}
	if (ferror(fp)) {
		fclose(fp);
		return ctl_error("cannot read '%s': %s", path, strerror(errno));
	}
	fclose(fp);
	return CTL_OK;
}

static int
explain(struct ctl *ctl, int argc, char **argv)
{
	const char *from = NULL, *subject = NULL, *file = NULL, *v, *error;
	char *to[MAX_ARGS];
	const char *hdr[MAX_ARGS];
	size_t nto = 0, nhdr = 0, size = 0, i;
	int calendar = 0, rc = CTL_REFUSED, r;
	struct buf text;
	struct mime_message *m = NULL;
	struct x509_ks *ks = NULL;
	struct policy_result *res = NULL;
	struct policy_keys keys;
	struct policy_keystore pks;
	struct store *st;
	struct secret_key *mkey;

	for (i = 2; i < (size_t)argc; i++) {
		int ii = (int)i;

		if ((r = ctl_opt(argc, argv, &ii, "from", &from)) != 0 ||
		    (r = ctl_opt(argc, argv, &ii, "subject", &subject)) != 0 ||
		    (r = ctl_opt(argc, argv, &ii, "message", &file)) != 0) {
			if (r < 0)
				return usage_explain();
		} else if ((r = ctl_opt(argc, argv, &ii, "to", &v)) != 0) {
			if (r < 0 || nto == MAX_ARGS)
				return usage_explain();
			to[nto++] = (char *)v;
		} else if ((r = ctl_opt(argc, argv, &ii, "header", &v)) != 0) {
			if (r < 0 || nhdr == MAX_ARGS)
				return usage_explain();
			if (strchr(v, ':') == NULL || v[0] == ':' ||
			    strpbrk(v, "\r\n") != NULL)
				return ctl_usage("--header wants NAME:VALUE "
				    "('%s')", v);
			hdr[nhdr++] = v;
		} else if ((r = ctl_opt(argc, argv, &ii, "size", &v)) != 0) {
			char *end;

			if (r < 0)
				return usage_explain();
			size = (size_t)strtoull(v, &end, 10);
			if (end == v || *end != '\0')
				return ctl_usage("--size wants bytes ('%s')", v);
		} else if (ctl_opt(argc, argv, &ii, "calendar", NULL) == 1) {
			calendar = 1;
		} else {
			return ctl_usage("unknown option '%s' for policy "
			    "explain", argv[i]);
		}
		i = (size_t)ii;
	}
	if (nto == 0 || (from == NULL && file == NULL))
		return usage_explain();
	if ((subject != NULL || nhdr > 0 || calendar) && file != NULL)
		return ctl_usage("--message cannot be combined with --subject, "
		    "--header or --calendar");
	buf_init(&text, EXPLAIN_MAX);
	if (file != NULL) {
		if (read_file(file, &text) != CTL_OK)
			goto out;
	} else {
		buf_printf(&text, "From: %s\nTo: ", from);
		for (i = 0; i < nto; i++)
			buf_printf(&text, "%s%s", i > 0 ? ", " : "", to[i]);
		buf_printf(&text, "\nSubject: %s\n", subject != NULL ? subject :
		    "");
		for (i = 0; i < nhdr; i++)
			buf_printf(&text, "%s\n", hdr[i]);
		buf_printf(&text, "MIME-Version: 1.0\nContent-Type: %s\n\n"
		    "(policy explain)\n", calendar ?
		    "text/calendar; method=REQUEST" : "text/plain");
	}
	if (size == 0)
		size = text.len;
	m = mime_parse(text.data != NULL ? text.data : "", text.len, NULL,
	    &error);
	if (m == NULL) {
		ctl_error("%s", error);
		goto out;
	}
	if ((st = ctl_store(ctl)) == NULL || (mkey = ctl_mkey(ctl)) == NULL)
		goto out;
	if (x509_ks_new(st, mkey, &ks, &error) < 0) {
		ctl_error("%s", error);
		goto out;
	}
	policy_keys_store(&keys, &pks, ks, st, time(NULL));
	{
		struct policy_env env = { st, mkey, &keys };
		struct policy_msg pm = { m, size, from != NULL ? from : "", to,
		    nto };

		if (policy_decide(&env, &pm, &res, &error) < 0) {
			ctl_error("%s", error);
			goto out;
		}
	}
	if (ctl->json)
		print_json(res);
	else
		print_text(res);
	rc = CTL_OK;
out:
	policy_result_free(&res);
	x509_ks_free(&ks);
	mime_message_free(&m);
	buf_release(&text);
	return rc;
}

static int
cmd_policy(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "explain") != 0)
		return ctl_usage("policy needs the subcommand explain");
	return explain(ctl, argc, argv);
}

const struct ctl_cmd ctl_cmd_policy = { "policy",
    "explain what postern-encrypt does for each recipient, and why",
    cmd_policy };
