/* posternctl root: the roots store (trust anchors). */
#include <string.h>

#include "ctl.h"
#include "x509ctl.h"

static int
cmd_root(struct ctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "import") == 0)
		return xc_import_certs(ctl, X509KS_ROOTS, argc, argv);
	if (strcmp(sub, "list") == 0)
		return xc_list(ctl, X509KS_ROOTS, argc, argv);
	if (strcmp(sub, "delete") == 0)
		return xc_delete(ctl, X509KS_ROOTS, argc, argv);
	return ctl_usage("root import FILE... | list [--email E] "
	    "[--valid|--invalid] [--at T] | delete THUMBPRINT");
}

const struct ctl_cmd ctl_cmd_root = { "root",
    "trusted root certificates: import, list, delete", cmd_root };
