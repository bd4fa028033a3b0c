/* S/MIME certificate selection properties (seed 003 §9); read by the
 * caller of x509_encryption_certs()/x509_signing_cert() and passed as
 * enum x509_policy_flags. */
#include <stddef.h>

#include "settings.h"

const struct setting_def settings_defs_smime[] = {
	{ "smime.auto-select", SETTING_BOOL, "true", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_BOTH,
	    "select valid certificates whose email matches automatically" },
	{ "smime.always-use-freshest-signing-cert", SETTING_BOOL, "false",
	    NULL, 0, 0, SETTING_SCOPE_ALL, SETTING_ROLE_SENDER,
	    "sign with the valid certificate with the latest notBefore" },
	{ "smime.add-additional-certificates", SETTING_BOOL, "true", NULL, 0,
	    0, SETTING_SCOPE_ALL, SETTING_ROLE_RECIPIENT,
	    "also encrypt for the selected additional (escrow) certificates" },
	{ NULL }
};
