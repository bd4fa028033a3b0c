/* posternctl ctl: the certificate trust list (white/black by
 * thumbprint; the certificate need not be stored). */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "x509ctl.h"

static int
list_cb(const char *thumb, enum x509_ctl_kind kind, int ae, void *arg)
{
	const char *cells[3];

	cells[0] = thumb;
	cells[1] = kind == X509_CTL_BLACK ? "black" : "white";
	cells[2] = ae ? "yes" : "no";
	ctl_table_add(arg, cells);
	return 0;
}

static int
cmd_ctl(struct ctl *ctl, int argc, char **argv)
{
	static const char *const cols[] = { "thumbprint", "kind",
		"allow_expired" };
	const char *sub = argc > 1 ? argv[1] : "", *thumb_in = NULL, *error;
	char thumb[X509_THUMB_LEN + 1];
	struct x509_ks *ks;
	int i, black = -1, ae = 0, r, rc = CTL_OK;

	if (strcmp(sub, "list") == 0) {
		struct ctl_table *t;

		if (argc != 2)
			return ctl_usage("ctl list takes no arguments");
		if ((ks = xc_ks(ctl, 0)) == NULL)
			return CTL_REFUSED;
		t = ctl_table_new(3, cols);
		if (x509_ctl_list(ks, list_cb, t, &error) < 0)
			rc = ctl_error("%s", error);
		else
			ctl_table_print(t, ctl->json);
		ctl_table_free(&t);
		x509_ks_free(&ks);
		return rc;
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "remove") != 0)
		return ctl_usage("ctl add THUMBPRINT --black|--white "
		    "[--allow-expired] | remove THUMBPRINT | list");
	for (i = 2; i < argc; i++) {
		if (ctl_opt(argc, argv, &i, "black", NULL) && black != 0)
			black = 1;
		else if (ctl_opt(argc, argv, &i, "white", NULL) && black != 1)
			black = 0;
		else if (ctl_opt(argc, argv, &i, "allow-expired", NULL))
			ae = 1;
		else if (thumb_in == NULL && argv[i][0] != '-')
			thumb_in = argv[i];
		else
			return ctl_usage("unknown or conflicting argument "
			    "'%s'", argv[i]);
	}
	if (thumb_in == NULL || (sub[0] == 'a' && black < 0) ||
	    (sub[0] == 'r' && (black >= 0 || ae)))
		return ctl_usage("ctl add THUMBPRINT --black|--white "
		    "[--allow-expired] | remove THUMBPRINT");
	if (ae && black == 1)
		return ctl_usage("--allow-expired goes with --white");
	if ((ks = xc_ks(ctl, 0)) == NULL)
		return CTL_REFUSED;
	if ((rc = xc_thumb(ks, -1, thumb_in, thumb)) != CTL_OK)
		goto out;
	if (sub[0] == 'a') {
		if (x509_ctl_set(ks, thumb, black ? X509_CTL_BLACK :
		    X509_CTL_WHITE, ae, &error) < 0)
			rc = ctl_error("%s", error);
		else if (ctl->json)
			printf("{\"thumbprint\": \"%s\", \"kind\": \"%s\", "
			    "\"allow_expired\": %s}\n", thumb, black ?
			    "black" : "white", ae ? "true" : "false");
		else
			printf("%s-listed %s\n", black ? "black" : "white",
			    thumb);
	} else {
		r = x509_ctl_remove(ks, thumb, &error);
		if (r < 0)
			rc = ctl_error("%s", error);
		else if (r == 1)
			rc = ctl_error("'%s' is not on the trust list",
			    thumb_in);
		else if (ctl->json)
			printf("{\"removed\": \"%s\"}\n", thumb);
		else
			printf("removed %s\n", thumb);
	}
out:
	x509_ks_free(&ks);
	return rc;
}

const struct ctl_cmd ctl_cmd_ctl = { "ctl",
    "certificate trust list: add, remove, list", cmd_ctl };
