/*
 * OpenPGP properties (admin guide PGP sections; issue 6).  pgp.enabled
 * is in settings_defs_core.c.  Algorithms use GnuPG's names; the
 * recipient's key preferences still win when they exclude the choice
 * (RFC 4880 13.2), and integrity protection (MDC) is always on: there is
 * deliberately no setting to turn it off.
 */
#include "settings.h"

#define ALL SETTING_SCOPE_ALL
#define SND SETTING_ROLE_SENDER
#define RCPT SETTING_ROLE_RECIPIENT
#define BOTH SETTING_ROLE_BOTH

const struct setting_def settings_defs_pgp[] = {
	{ "pgp.encoding", SETTING_ENUM, "pgp-mime", "pgp-mime|pgp-inline",
	    0, 0, ALL, RCPT,
	    "Outgoing format: PGP/MIME (RFC 3156) or PGP/INLINE (each text part, attachments as .pgp)." },
	{ "pgp.encryption-algorithm", SETTING_ENUM, "AES256",
	    "AES256|AES192|AES128|CAMELLIA256|CAMELLIA128|TWOFISH", 0, 0,
	    ALL, RCPT,
	    "Preferred symmetric cipher; used when every recipient key allows it." },
	{ "pgp.signing-algorithm", SETTING_ENUM, "SHA256",
	    "SHA256|SHA384|SHA512|SHA224", 0, 0, ALL, SND,
	    "Digest algorithm of OpenPGP signatures." },
	{ "pgp.compression", SETTING_BOOL, "true", NULL, 0, 0, ALL, BOTH,
	    "Compress before encrypting (off is about 4 times faster for large messages)." },
	{ "pgp.max-size", SETTING_SIZE, "50m", NULL, 1024,
	    1024LL * 1024 * 1024, ALL, BOTH,
	    "Largest message encrypted, decrypted or verified; larger ones pass unchanged; also caps decompressed output." },
	{ "pgp.convert-html-to-text", SETTING_BOOL, "true", NULL, 0, 0, ALL,
	    RCPT,
	    "PGP/INLINE: turn an HTML-only body into text before encrypting or signing it (otherwise it is encrypted as an attachment)." },
	{ "pgp.skip-sign-only", SETTING_BOOL, "false", NULL, 0, 0, ALL, SND,
	    "Do not PGP-sign messages that are not encrypted with PGP." },
	{ "pgp.scan-html", SETTING_BOOL, "false", NULL, 0, 0, ALL, RCPT,
	    "Also look for PGP/INLINE blocks in text/html parts of incoming mail." },
	{ "pgp.partitioned-fixup", SETTING_BOOL, "false", NULL, 0, 0, ALL,
	    RCPT,
	    "Repair Symantec/PGP Desktop \"partitioned\" messages before decrypting them." },
	{ "pgp.import-keys-from-mail", SETTING_BOOL, "false", NULL, 0, 0, ALL,
	    RCPT,
	    "Import keys found in incoming mail (application/pgp-keys, inline key blocks); they stay untrusted." },
	{ "pgp.remove-keys-from-mail", SETTING_BOOL, "false", NULL, 0, 0,
	    ALL, RCPT,
	    "Remove key attachments and inline key blocks from incoming mail." },
	{ "pgp.remove-signature", SETTING_BOOL, "false", NULL, 0, 0, ALL,
	    RCPT,
	    "Remove the OpenPGP signature from incoming mail once it was checked." },
};

const size_t settings_ndefs_pgp = SETTINGS_NDEFS(settings_defs_pgp);
