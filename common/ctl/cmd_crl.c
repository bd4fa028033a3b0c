/* posternctl crl: the CRL store. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "ctl.h"
#include "x509ctl.h"
#include "x509_int.h"

static int
list_cb(const struct x509_crl_info *in, void *arg)
{
	const char *cells[5];
	char tu[32], nu[32], n[24];

	xc_fmt_time(in->this_update, tu, sizeof(tu));
	xc_fmt_time(in->next_update, nu, sizeof(nu));
	snprintf(n, sizeof(n), "%zu", in->nrevoked);
	cells[0] = in->thumb;
	cells[1] = in->issuer;
	cells[2] = tu;
	cells[3] = in->next_update != 0 ? nu : NULL;
	cells[4] = n;
	ctl_table_add(arg, cells);
	return 0;
}

static int
cmd_show(struct ctl *ctl, struct x509_ks *ks, const char *thumb_in)
{
	static const char *const cols[] = { "serial", "revoked_at" };
	STACK_OF(X509_REVOKED) *rev;
	struct ctl_table *t;
	X509_CRL *crl = NULL;
	const char *error;
	char thumb[X509_THUMB_LEN + 1];
	int i, r, n = 0;

	for (i = 0; thumb_in[i] != '\0' && n < X509_THUMB_LEN; i++)
		if (thumb_in[i] != ':')
			thumb[n++] = (char)toupper((unsigned char)thumb_in[i]);
	thumb[n] = '\0';
	r = x509_crl_get(ks, thumb, &crl, &error);
	if (r < 0)
		return ctl_error("%s", error);
	if (r == 1)
		return ctl_error("no CRL '%s' (give the full thumbprint "
		    "from 'crl list')", thumb_in);
	rev = X509_CRL_get_REVOKED(crl);
	t = ctl_table_new(2, cols);
	for (i = 0; i < sk_X509_REVOKED_num(rev); i++) {
		X509_REVOKED *e = sk_X509_REVOKED_value(rev, i);
		char *s = x509_serial_hex(X509_REVOKED_get0_serialNumber(e));
		char d[32];
		const char *cells[2];

		x509_asn1_date(X509_REVOKED_get0_revocationDate(e), d,
		    sizeof(d));
		cells[0] = s;
		cells[1] = d;
		ctl_table_add(t, cells);
		free(s);
	}
	ctl_table_print(t, ctl->json);
	ctl_table_free(&t);
	X509_CRL_free(crl);
	return CTL_OK;
}

static int
cmd_crl(struct ctl *ctl, int argc, char **argv)
{
	static const char *const cols[] = { "thumbprint", "issuer",
		"this_update", "next_update", "revoked" };
	const char *sub = argc > 1 ? argv[1] : "", *error;
	struct x509_import_result r = { 0 };
	struct x509_ks *ks;
	int i, rc = CTL_OK;

	if (strcmp(sub, "import") != 0 && strcmp(sub, "list") != 0 &&
	    strcmp(sub, "show") != 0)
		return ctl_usage("crl import FILE... | list | show "
		    "THUMBPRINT");
	if ((strcmp(sub, "import") == 0 && argc < 3) ||
	    (strcmp(sub, "list") == 0 && argc != 2) ||
	    (strcmp(sub, "show") == 0 && argc != 3))
		return ctl_usage("crl import FILE... | list | show "
		    "THUMBPRINT");
	if ((ks = xc_ks(ctl, 0)) == NULL)
		return CTL_REFUSED;
	if (sub[0] == 'l') {
		struct ctl_table *t = ctl_table_new(5, cols);

		if (x509_crl_list(ks, list_cb, t, &error) < 0)
			rc = ctl_error("%s", error);
		else
			ctl_table_print(t, ctl->json);
		ctl_table_free(&t);
	} else if (sub[0] == 's') {
		rc = cmd_show(ctl, ks, argv[2]);
	} else {
		size_t added = 0, existed = 0;

		for (i = 2; i < argc; i++) {
			size_t len;
			unsigned char *d = xc_read(argv[i], &len);

			if (d == NULL) {
				rc = CTL_REFUSED;
				continue;
			}
			if (x509_import_crls(ks, d, len, &r, &error) < 0)
				rc = ctl_error("%s: %s", argv[i], error);
			free(d);
		}
		added = r.crls_added;
		existed = r.existed;
		if (ctl->json)
			printf("{\"imported\": %zu, \"present\": %zu}\n",
			    added, existed);
		else
			printf("%zu CRL%s imported, %zu already present\n",
			    added, added == 1 ? "" : "s", existed);
		x509_import_result_release(&r);
	}
	x509_ks_free(&ks);
	return rc;
}

const struct ctl_cmd ctl_cmd_crl = { "crl",
    "certificate revocation lists: import, list, show", cmd_crl };
