/* posternctl cert: the certificates store (end entities and untrusted
 * intermediates), verification and selection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ctl.h"
#include "x509ctl.h"

static const char usage_text[] =
    "cert import FILE... | list [--email E] [--valid|--invalid] [--at T] |"
    " show THUMB [--at T] | export THUMB... [--format pem|der|p7b]"
    " [--out F] | delete THUMB [--force] | verify THUMB|--file F"
    " [--at T] [--as encryption|signing|path] |"
    " select|deselect THUMB --user A|--domain D|--global --as KIND |"
    " selections [THUMB]";

static int
cmd_show(struct ctl *ctl, int argc, char **argv)
{
	static const char *const keys[] = { "thumbprint", "subject",
		"issuer", "serial", "emails", "not_before", "not_after",
		"key_usage", "ext_key_usage", "ca", "private_key",
		"subject_key_id", "encryption", "signing" };
	const char *vals[14], *at_s = NULL, *thumb_in = NULL, *error;
	struct x509_info *in = NULL;
	struct x509_verdict ve, vs;
	struct x509_ks *ks;
	char thumb[X509_THUMB_LEN + 1], nb[32], na[32], ku[24], xku[24];
	char emails[1024];
	time_t at = time(NULL);
	X509 *c = NULL;
	size_t i, off = 0;
	int rc, r;

	for (i = 2; i < (size_t)argc; i++) {
		int ii = (int)i;

		if ((r = ctl_opt(argc, argv, &ii, "at", &at_s)) != 0) {
			if (r < 0)
				return ctl_usage("--at needs a time");
			i = (size_t)ii;
		} else if (thumb_in == NULL && argv[i][0] != '-') {
			thumb_in = argv[i];
		} else {
			return ctl_usage("unknown argument '%s'", argv[i]);
		}
	}
	if (thumb_in == NULL)
		return ctl_usage("cert show THUMBPRINT [--at TIME]");
	if (at_s != NULL && xc_time(at_s, &at) < 0)
		return ctl_usage("bad time '%s'", at_s);
	if ((ks = xc_ks(ctl, 0)) == NULL)
		return CTL_REFUSED;
	x509_verdict_init(&ve);
	x509_verdict_init(&vs);
	if ((rc = xc_thumb(ks, -1, thumb_in, thumb)) != CTL_OK)
		goto out;
	r = x509_get(ks, X509KS_CERTS, thumb, &c, &in, &error);
	if (r == 1)
		r = x509_get(ks, X509KS_ROOTS, thumb, &c, &in, &error);
	if (r != 0) {
		rc = r < 0 ? ctl_error("%s", error) :
		    ctl_error("no certificate '%s'", thumb_in);
		goto out;
	}
	if (x509_verify(ks, c, NULL, at, X509_USE_ENCRYPT, &ve, &error) < 0 ||
	    x509_verify(ks, c, NULL, at, X509_USE_SIGN, &vs, &error) < 0) {
		rc = ctl_error("%s", error);
		goto out;
	}
	emails[0] = '\0';
	for (i = 0; i < in->nemails && off < sizeof(emails); i++)
		off += (size_t)snprintf(emails + off, sizeof(emails) - off,
		    "%s%s", i ? "," : "", in->emails[i]);
	xc_fmt_time(in->not_before, nb, sizeof(nb));
	xc_fmt_time(in->not_after, na, sizeof(na));
	snprintf(ku, sizeof(ku), "0x%lx", in->key_usage);
	snprintf(xku, sizeof(xku), "0x%lx", in->ext_key_usage);
	vals[0] = in->thumb;
	vals[1] = in->subject;
	vals[2] = in->issuer;
	vals[3] = in->serial;
	vals[4] = emails[0] != '\0' ? emails : NULL;
	vals[5] = nb;
	vals[6] = na;
	vals[7] = in->key_usage < 0 ? NULL : ku;
	vals[8] = in->ext_key_usage < 0 ? NULL : xku;
	vals[9] = in->is_ca ? "yes" : "no";
	vals[10] = in->has_key ? "yes" : "no";
	vals[11] = in->skid;
	vals[12] = ve.reason;
	vals[13] = vs.reason;
	ctl_kv_print(keys, vals, 14, ctl->json);
	rc = CTL_OK;
out:
	x509_verdict_release(&ve);
	x509_verdict_release(&vs);
	x509_info_free(&in);
	X509_free(c);
	x509_ks_free(&ks);
	return rc;
}

static int
cmd_export(struct ctl *ctl, int argc, char **argv)
{
	const char *fmt_s = "pem", *out = NULL, *error;
	enum x509_format fmt;
	struct x509_ks *ks;
	char (*thumbs)[X509_THUMB_LEN + 1] = NULL;
	const char **tp = NULL;
	unsigned char *d = NULL;
	size_t n = 0, len;
	int i, r, rc = CTL_REFUSED;

	if ((thumbs = calloc((size_t)argc, sizeof(*thumbs))) == NULL ||
	    (tp = calloc((size_t)argc, sizeof(*tp))) == NULL) {
		free(thumbs);
		return ctl_error("out of memory");
	}
	if ((ks = xc_ks(ctl, 0)) == NULL)
		goto out;
	for (i = 2; i < argc; i++) {
		if ((r = ctl_opt(argc, argv, &i, "format", &fmt_s)) != 0 ||
		    (r = ctl_opt(argc, argv, &i, "out", &out)) != 0) {
			if (r < 0) {
				rc = ctl_usage("'%s' needs a value", argv[i]);
				goto out;
			}
		} else if (argv[i][0] == '-') {
			rc = ctl_usage("unknown argument '%s'", argv[i]);
			goto out;
		} else {
			if (xc_thumb(ks, X509KS_CERTS, argv[i], thumbs[n]) !=
			    CTL_OK)
				goto out;
			tp[n] = thumbs[n];
			n++;
		}
	}
	if (strcmp(fmt_s, "pem") == 0)
		fmt = X509F_PEM;
	else if (strcmp(fmt_s, "der") == 0)
		fmt = X509F_DER;
	else if (strcmp(fmt_s, "p7b") == 0)
		fmt = X509F_P7B;
	else {
		rc = ctl_usage("--format wants pem, der or p7b");
		goto out;
	}
	if (n == 0) {
		rc = ctl_usage("cert export THUMBPRINT... [--format F] "
		    "[--out FILE]");
		goto out;
	}
	if (x509_export_certs(ks, X509KS_CERTS, tp, n, fmt, &d, &len,
	    &error) < 0) {
		rc = ctl_error("%s", error);
		goto out;
	}
	rc = xc_write(out, d, len, 0);
out:
	free(d);
	free(thumbs);
	free(tp);
	x509_ks_free(&ks);
	return rc;
}

static int
use_parse(const char *s, enum x509_use *u)
{
	if (strcmp(s, "encryption") == 0)
		*u = X509_USE_ENCRYPT;
	else if (strcmp(s, "signing") == 0)
		*u = X509_USE_SIGN;
	else if (strcmp(s, "path") == 0)
		*u = X509_USE_PATH;
	else
		return -1;
	return 0;
}

static int
cmd_verify(struct ctl *ctl, int argc, char **argv)
{
	const char *at_s = NULL, *file = NULL, *as = "encryption";
	const char *thumb_in = NULL, *error;
	struct x509_verdict v;
	struct x509_ks *ks;
	enum x509_use use;
	char thumb[X509_THUMB_LEN + 1];
	time_t at = time(NULL);
	X509 *c = NULL;
	int i, r, rc = CTL_REFUSED;

	for (i = 2; i < argc; i++) {
		if ((r = ctl_opt(argc, argv, &i, "at", &at_s)) != 0 ||
		    (r = ctl_opt(argc, argv, &i, "file", &file)) != 0 ||
		    (r = ctl_opt(argc, argv, &i, "as", &as)) != 0) {
			if (r < 0)
				return ctl_usage("'%s' needs a value",
				    argv[i]);
		} else if (thumb_in == NULL && argv[i][0] != '-') {
			thumb_in = argv[i];
		} else {
			return ctl_usage("unknown argument '%s'", argv[i]);
		}
	}
	if ((thumb_in == NULL) == (file == NULL))
		return ctl_usage("cert verify THUMBPRINT|--file FILE [--at "
		    "TIME] [--as encryption|signing|path]");
	if (at_s != NULL && xc_time(at_s, &at) < 0)
		return ctl_usage("bad time '%s': want YYYY-MM-DD, "
		    "YYYY-MM-DDTHH:MM:SSZ or @SECONDS", at_s);
	if (use_parse(as, &use) < 0)
		return ctl_usage("--as wants encryption, signing or path");
	if ((ks = xc_ks(ctl, 0)) == NULL)
		return CTL_REFUSED;
	x509_verdict_init(&v);
	if (file != NULL) {
		size_t len;
		unsigned char *d = xc_read(file, &len);
		BIO *b;

		if (d == NULL)
			goto out;
		b = BIO_new_mem_buf(d, (int)len);
		c = PEM_read_bio_X509(b, NULL, NULL, NULL);
		if (c == NULL) {
			const unsigned char *p = d;

			c = d2i_X509(NULL, &p, (long)len);
		}
		BIO_free(b);
		free(d);
		if (c == NULL) {
			ctl_error("'%s': not a certificate", file);
			goto out;
		}
	} else {
		if (xc_thumb(ks, -1, thumb_in, thumb) != CTL_OK)
			goto out;
		r = x509_get(ks, -1, thumb, &c, NULL, &error);
		if (r != 0) {
			if (r < 0)
				ctl_error("%s", error);
			else
				ctl_error("no certificate '%s'", thumb_in);
			goto out;
		}
	}
	if (x509_thumbprint(c, thumb) < 0 ||
	    x509_verify(ks, c, NULL, at, use, &v, &error) < 0) {
		ctl_error("%s", error);
		goto out;
	}
	if (ctl->json) {
		int k;

		fputs("{\"thumbprint\": ", stdout);
		ctl_json_str(thumb);
		fputs(", \"as\": ", stdout);
		ctl_json_str(as);
		printf(", \"valid\": %s, \"reason\": ", v.valid ? "true" :
		    "false");
		ctl_json_str(v.reason);
		fputs(", \"chain\": [", stdout);
		for (k = 0; k < sk_X509_num(v.chain); k++) {
			char *s = X509_NAME_oneline(X509_get_subject_name(
			    sk_X509_value(v.chain, k)), NULL, 0);

			fputs(k ? ", " : "", stdout);
			ctl_json_str(s);
			OPENSSL_free(s);
		}
		puts("]}");
	} else {
		printf("%s\n", v.reason);
	}
	rc = v.valid ? CTL_OK : CTL_REFUSED;
out:
	x509_verdict_release(&v);
	X509_free(c);
	x509_ks_free(&ks);
	return rc;
}

static int
cmd_select(struct ctl *ctl, int argc, char **argv, int on)
{
	const char *user = NULL, *domain = NULL, *as = NULL;
	const char *thumb_in = NULL, *error;
	enum address_level level = ADDRESS_LEVEL_GLOBAL;
	enum x509_sel_kind kind;
	char thumb[X509_THUMB_LEN + 1];
	struct x509_ks *ks;
	int i, r, global = 0, rc;

	for (i = 2; i < argc; i++) {
		if ((r = ctl_opt(argc, argv, &i, "user", &user)) != 0 ||
		    (r = ctl_opt(argc, argv, &i, "domain", &domain)) != 0 ||
		    (r = ctl_opt(argc, argv, &i, "as", &as)) != 0) {
			if (r < 0)
				return ctl_usage("'%s' needs a value",
				    argv[i]);
		} else if (ctl_opt(argc, argv, &i, "global", NULL)) {
			global = 1;
		} else if (thumb_in == NULL && argv[i][0] != '-') {
			thumb_in = argv[i];
		} else {
			return ctl_usage("unknown argument '%s'", argv[i]);
		}
	}
	if (thumb_in == NULL || (user != NULL) + (domain != NULL) + global
	    != 1 || as == NULL)
		return ctl_usage("cert %s THUMBPRINT --user A|--domain D|"
		    "--global --as encryption|signing|additional", argv[1]);
	if (xc_kind(as, &kind) != CTL_OK)
		return CTL_USAGE;
	if (user != NULL)
		level = ADDRESS_LEVEL_USER;
	else if (domain != NULL)
		level = domain[0] == '*' ? ADDRESS_LEVEL_WILDCARD :
		    ADDRESS_LEVEL_DOMAIN;
	if ((ks = xc_ks(ctl, 0)) == NULL)
		return CTL_REFUSED;
	if ((rc = xc_thumb(ks, X509KS_CERTS, thumb_in, thumb)) != CTL_OK)
		goto out;
	if (on)
		r = x509_select(ks, level, user != NULL ? user : domain, thumb,
		    kind, &error);
	else
		r = x509_deselect(ks, level, user != NULL ? user : domain,
		    thumb, kind, &error);
	if (r < 0)
		rc = ctl_error("%s", error);
	else if (r == 1)
		rc = ctl_error("certificate was not selected there");
	else if (ctl->json)
		printf("{\"%s\": \"%s\", \"as\": \"%s\"}\n", on ? "selected" :
		    "deselected", thumb, as);
	else
		printf("%s %.16s... as %s\n", on ? "selected" : "deselected",
		    thumb, as);
out:
	x509_ks_free(&ks);
	return rc;
}

static int
sel_cb(enum address_level level, const char *owner, const char *thumb,
    enum x509_sel_kind kind, void *arg)
{
	const char *cells[4];

	cells[0] = address_level_name(level);
	cells[1] = owner;
	cells[2] = thumb;
	cells[3] = x509_sel_kind_name(kind);
	ctl_table_add(arg, cells);
	return 0;
}

static int
cmd_selections(struct ctl *ctl, int argc, char **argv)
{
	static const char *const cols[] = { "level", "owner", "thumbprint",
		"kind" };
	char thumb[X509_THUMB_LEN + 1];
	struct ctl_table *t;
	struct x509_ks *ks;
	const char *error;
	int rc = CTL_OK;

	if (argc > 3)
		return ctl_usage("cert selections [THUMBPRINT]");
	if ((ks = xc_ks(ctl, 0)) == NULL)
		return CTL_REFUSED;
	if (argc == 3 && (rc = xc_thumb(ks, X509KS_CERTS, argv[2], thumb)) !=
	    CTL_OK) {
		x509_ks_free(&ks);
		return rc;
	}
	t = ctl_table_new(4, cols);
	if (x509_selection_list(ks, argc == 3 ? thumb : NULL, sel_cb, t,
	    &error) < 0)
		rc = ctl_error("%s", error);
	else
		ctl_table_print(t, ctl->json);
	ctl_table_free(&t);
	x509_ks_free(&ks);
	return rc;
}

static int
cmd_cert(struct ctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "import") == 0)
		return xc_import_certs(ctl, X509KS_CERTS, argc, argv);
	if (strcmp(sub, "list") == 0)
		return xc_list(ctl, X509KS_CERTS, argc, argv);
	if (strcmp(sub, "show") == 0)
		return cmd_show(ctl, argc, argv);
	if (strcmp(sub, "export") == 0)
		return cmd_export(ctl, argc, argv);
	if (strcmp(sub, "delete") == 0)
		return xc_delete(ctl, X509KS_CERTS, argc, argv);
	if (strcmp(sub, "verify") == 0)
		return cmd_verify(ctl, argc, argv);
	if (strcmp(sub, "select") == 0)
		return cmd_select(ctl, argc, argv, 1);
	if (strcmp(sub, "deselect") == 0)
		return cmd_select(ctl, argc, argv, 0);
	if (strcmp(sub, "selections") == 0)
		return cmd_selections(ctl, argc, argv);
	return ctl_usage("%s", usage_text);
}

const struct ctl_cmd ctl_cmd_cert = { "cert",
    "S/MIME certificates: import, list, verify, select", cmd_cert };
