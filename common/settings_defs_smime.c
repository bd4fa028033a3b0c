/* S/MIME certificate selection properties (seed 003 §9); read by the
 * caller of x509_encryption_certs()/x509_signing_cert() and passed as
 * enum x509_policy_flags.  The S/MIME operation properties below them
 * fill struct smime_opts through smime_opts_set() (smime.h). */
#include <stddef.h>

#include "settings.h"

const struct setting_def settings_defs_smime[] = {
	{ "smime.auto-select", SETTING_BOOL, "true", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_BOTH,
	    "Select valid certificates whose email matches automatically." },
	{ "smime.always-use-freshest-signing-cert", SETTING_BOOL, "false",
	    NULL, 0, 0, SETTING_SCOPE_ALL, SETTING_ROLE_SENDER,
	    "Sign with the valid certificate with the latest notBefore." },
	{ "smime.add-additional-certificates", SETTING_BOOL, "true", NULL, 0,
	    0, SETTING_SCOPE_ALL, SETTING_ROLE_RECIPIENT,
	    "Also encrypt for the selected additional (escrow) certificates." },
	{ "smime.encryption-algorithm", SETTING_ENUM, "AES-128-CBC",
	    "AES-128-CBC|AES-192-CBC|AES-256-CBC|AES-128-GCM|AES-192-GCM|"
	    "AES-256-GCM|3DES|RC2|CAST5|CAMELLIA-128-CBC|CAMELLIA-256-CBC|SEED",
	    0, 0, SETTING_SCOPE_ALL, SETTING_ROLE_RECIPIENT,
	    "S/MIME content cipher (GCM: AuthEnvelopedData; RC2, CAST5, SEED "
	    "need smime.legacy-algorithms)." },
	{ "smime.encryption-scheme", SETTING_ENUM, "rsaes-pkcs1-v1_5",
	    "rsaes-pkcs1-v1_5|rsaes-oaep-sha1|rsaes-oaep-sha256|"
	    "rsaes-oaep-sha384|rsaes-oaep-sha512", 0, 0, SETTING_SCOPE_ALL,
	    SETTING_ROLE_RECIPIENT,
	    "RSA key transport for S/MIME recipients (gpgsm 2.2 reads only "
	    "PKCS#1 v1.5)." },
	{ "smime.protect-headers", SETTING_BOOL, "false", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_SENDER,
	    "Copy Subject, From, To, Cc and Reply-To into the protected "
	    "S/MIME entity." },
	{ "smime.signing-digest", SETTING_ENUM, "sha-256",
	    "sha-256|sha-384|sha-512|sha-1", 0, 0, SETTING_SCOPE_ALL,
	    SETTING_ROLE_SENDER, "Digest of S/MIME signatures." },
	{ "smime.signing-pss", SETTING_BOOL, "false", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_SENDER,
	    "Sign with RSASSA-PSS instead of PKCS#1 v1.5." },
	{ "smime.signing-mode", SETTING_ENUM, "detached", "detached|opaque",
	    0, 0, SETTING_SCOPE_ALL, SETTING_ROLE_SENDER,
	    "Detached multipart/signed or opaque signed-data." },
	{ "smime.legacy-algorithms", SETTING_BOOL, "false", NULL, 0, 0,
	    SETTING_SCOPE_GLOBAL, SETTING_ROLE_SYSTEM,
	    "Load the OpenSSL legacy provider (RC2, CAST5, SEED) for "
	    "decryption and allow them for encryption." },
	{ "smime.abort-on-illegal-7bit", SETTING_BOOL, "false", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_RECIPIENT,
	    "Keep the ciphertext when decrypted 7bit parts hold 8-bit bytes." },
	{ "smime.max-size", SETTING_SIZE, "50m", NULL, 1024,
	    4LL * 1024 * 1024 * 1024, SETTING_SCOPE_ALL, SETTING_ROLE_BOTH,
	    "Largest message S/MIME handles; larger ones pass unchanged." },
	{ "smime.skip-calendar", SETTING_BOOL, "false", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_SENDER,
	    "Do not encrypt calendar (text/calendar) messages." },
	{ "smime.skip-signing-calendar", SETTING_BOOL, "true", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_SENDER,
	    "Do not sign calendar (text/calendar) messages." },
	{ "smime.remove-signature", SETTING_BOOL, "false", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_RECIPIENT,
	    "Remove the S/MIME signature (multipart/signed) from incoming mail once it was checked." },
	{ "smime.import-certificates", SETTING_BOOL, "true", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_RECIPIENT,
	    "Add the certificates of signed incoming mail to the certificates store." },
	{ "smime.skip-untrusted-import", SETTING_BOOL, "false", NULL, 0, 0,
	    SETTING_SCOPE_ALL, SETTING_ROLE_RECIPIENT,
	    "Import only certificates that are valid for signing (a path to a trusted root)." },
};

const size_t settings_ndefs_smime = SETTINGS_NDEFS(settings_defs_smime);
