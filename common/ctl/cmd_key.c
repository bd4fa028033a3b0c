/* posternctl key: certificates with their private keys as PKCS#12.
 * Passwords come from --password-file or POSTERN_PASSWORD, never from
 * the command line (it is visible to every user in ps). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "x509ctl.h"

static void
wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int
cmd_import(struct ctl *ctl, int argc, char **argv)
{
	const char *pwfile = NULL, *file = NULL, *error;
	struct x509_import_result r = { 0 };
	struct x509_ks *ks = NULL;
	unsigned char *d = NULL;
	char *pw = NULL;
	size_t len, i;
	int k, rr, rc = CTL_REFUSED;

	for (k = 2; k < argc; k++) {
		if ((rr = ctl_opt(argc, argv, &k, "password-file",
		    &pwfile)) != 0) {
			if (rr < 0)
				return ctl_usage("--password-file needs a "
				    "file");
		} else if (file == NULL && (argv[k][0] != '-' ||
		    strcmp(argv[k], "-") == 0)) {
			file = argv[k];
		} else {
			return ctl_usage("unknown argument '%s'", argv[k]);
		}
	}
	if (file == NULL)
		return ctl_usage("key import FILE.p12 [--password-file F]");
	if ((pw = xc_password(pwfile)) == NULL)
		return CTL_USAGE;
	if ((d = xc_read(file, &len)) == NULL || (ks = xc_ks(ctl, 1)) == NULL)
		goto out;
	if (x509_import_pkcs12(ks, d, len, pw, &r, &error) < 0) {
		rc = ctl_error("%s: %s", file, error);
		goto out;
	}
	if (ctl->json) {
		printf("{\"certificate\": \"%s\", \"chain\": [", r.thumbs[0]);
		for (i = 1; i < r.n; i++)
			printf("%s\"%s\"", i > 1 ? ", " : "", r.thumbs[i]);
		puts("]}");
	} else {
		printf("imported key for %s (%zu chain certificate%s)\n",
		    r.thumbs[0], r.n - 1, r.n == 2 ? "" : "s");
	}
	rc = CTL_OK;
out:
	x509_import_result_release(&r);
	wipe_free(pw);
	free(d);
	x509_ks_free(&ks);
	return rc;
}

static int
cmd_export(struct ctl *ctl, int argc, char **argv)
{
	const char *pwfile = NULL, *out = NULL, *thumb_in = NULL, *error;
	char thumb[X509_THUMB_LEN + 1], *pw = NULL;
	struct x509_ks *ks = NULL;
	unsigned char *d = NULL;
	unsigned flags = 0;
	size_t len = 0;
	int k, rr, rc = CTL_REFUSED;

	for (k = 2; k < argc; k++) {
		if ((rr = ctl_opt(argc, argv, &k, "password-file",
		    &pwfile)) != 0 ||
		    (rr = ctl_opt(argc, argv, &k, "out", &out)) != 0) {
			if (rr < 0)
				return ctl_usage("'%s' needs a value",
				    argv[k]);
		} else if (ctl_opt(argc, argv, &k, "legacy", NULL)) {
			flags |= X509_P12_LEGACY;
		} else if (thumb_in == NULL && argv[k][0] != '-') {
			thumb_in = argv[k];
		} else {
			return ctl_usage("unknown argument '%s'", argv[k]);
		}
	}
	if (thumb_in == NULL || out == NULL)
		return ctl_usage("key export THUMBPRINT --out FILE.p12 "
		    "[--password-file F] [--legacy]");
	if ((pw = xc_password(pwfile)) == NULL)
		return CTL_USAGE;
	if ((ks = xc_ks(ctl, 1)) == NULL)
		goto out;
	if ((rc = xc_thumb(ks, X509KS_CERTS, thumb_in, thumb)) != CTL_OK)
		goto out;
	if (x509_export_pkcs12(ks, thumb, pw, flags, &d, &len, &error) < 0) {
		rc = ctl_error("%s", error);
		goto out;
	}
	rc = xc_write(out, d, len, 1);
	if (rc == CTL_OK && ctl->json)
		printf("{\"exported\": \"%s\", \"file\": \"%s\"}\n", thumb,
		    out);
out:
	if (d != NULL)
		explicit_bzero(d, len);
	free(d);
	wipe_free(pw);
	x509_ks_free(&ks);
	return rc;
}

static int
cmd_key(struct ctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "import") == 0)
		return cmd_import(ctl, argc, argv);
	if (strcmp(sub, "export") == 0)
		return cmd_export(ctl, argc, argv);
	return ctl_usage("key import FILE.p12 [--password-file F] | "
	    "key export THUMBPRINT --out FILE.p12 [--password-file F] "
	    "[--legacy]");
}

const struct ctl_cmd ctl_cmd_key = { "key",
    "S/MIME private keys as PKCS#12: import, export", cmd_key };
