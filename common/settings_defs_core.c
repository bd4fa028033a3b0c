/*
 * The general properties (admin guide §4.1 user preferences, §4.2
 * advanced settings, §4.3 global advanced settings), plus the three
 * switches the S/MIME and OpenPGP modules read (their own tables,
 * settings_defs_smime.c and settings_defs_pgp.c, hold the rest).
 *
 * Factory defaults follow CipherMail where the guide says so: every
 * user and domain is external; S/MIME strict mode is off ("by default,
 * the gateway tries to decrypt every incoming S/MIME message").
 * encrypt-mode defaults to "allow": encrypt when a key or certificate is
 * available, never block mail.  The guide implies the factory default is
 * not "no-encryption": it tells the administrator to set the CA user to
 * No Encryption explicitly, which would be pointless otherwise.
 */
#include "settings.h"

#define ALL SETTING_SCOPE_ALL
#define GLOBAL SETTING_SCOPE_GLOBAL
#define SND SETTING_ROLE_SENDER
#define RCPT SETTING_ROLE_RECIPIENT
#define BOTH SETTING_ROLE_BOTH
#define SYS SETTING_ROLE_SYSTEM

const struct setting_def settings_defs_core[] = {
	/* §4.1.1 general */
	{ "locality", SETTING_ENUM, "external", "internal|external", 0, 0,
	    ALL, BOTH,
	    "Internal users receive decrypted mail; mail to external users is encrypted." },
	{ "encrypt-mode", SETTING_ENUM, "allow",
	    "no-encryption|allow|mandatory|force", 0, 0, ALL, BOTH,
	    "Whether mail to external users is encrypted: never, when possible, required, or forced." },
	{ "encryption-notification", SETTING_BOOL, "false", NULL, 0, 0,
	    ALL, SND,
	    "Notify the sender by mail when a message was encrypted." },
	{ "skip-calendar", SETTING_BOOL, "false", NULL, 0, 0, ALL, BOTH,
	    "Neither sign nor encrypt text/calendar messages (meeting requests)." },
	{ "skip-signing-calendar", SETTING_BOOL, "true", NULL, 0, 0, ALL,
	    BOTH,
	    "Do not sign text/calendar messages (they may still be encrypted)." },
	{ "sign.only-when-encrypting", SETTING_BOOL, "false", NULL, 0, 0,
	    ALL, SND,
	    "Sign a message only when it is also encrypted." },
	/* §4.1.5 subject trigger */
	{ "subject-trigger.enabled", SETTING_BOOL, "false", NULL, 0, 0, ALL,
	    SND, "Force encryption when the subject contains the trigger." },
	{ "subject-trigger.pattern", SETTING_STRING, "[encrypt]", NULL, 0, 0,
	    ALL, SND,
	    "The trigger: a keyword, or a regular expression when subject-trigger.regex is set." },
	{ "subject-trigger.regex", SETTING_BOOL, "false", NULL, 0, 0, ALL,
	    SND,
	    "Read subject-trigger.pattern as a POSIX extended regular expression ((?i) for any case)." },
	{ "subject-trigger.remove-match", SETTING_BOOL, "true", NULL, 0, 0,
	    ALL, SND, "Remove the matched trigger from the subject." },
	/* §4.2.1 header triggers */
	{ "force-encrypt.allowed", SETTING_BOOL, "false", NULL, 0, 0, ALL,
	    SND, "Allow senders to force encryption with a header." },
	{ "force-encrypt.trigger", SETTING_STRING,
	    "X-Postern-Encrypt:(?i)^[[:space:]]*true[[:space:]]*$",
	    "header-trigger", 0, 0, ALL, SND,
	    "Header that forces encryption, as HEADER[:REGEX] matched against its value." },
	{ "force-sign.allowed", SETTING_BOOL, "false", NULL, 0, 0, ALL, SND,
	    "Allow senders to force S/MIME signing with a header." },
	{ "force-sign.trigger", SETTING_STRING,
	    "X-Postern-Sign:(?i)^[[:space:]]*true[[:space:]]*$",
	    "header-trigger", 0, 0, ALL, SND,
	    "Header that forces signing, as HEADER[:REGEX] matched against its value." },
	/* §4.2.5, §4.3.1 security info */
	{ "security-info.enabled", SETTING_BOOL, "true", NULL, 0, 0, ALL,
	    RCPT,
	    "Add a tag to the subject of incoming mail that was decrypted or signed." },
	{ "security-info.decrypted-tag", SETTING_STRING, "[decrypted]", NULL,
	    0, 0, GLOBAL, RCPT, "Subject tag for a decrypted message." },
	{ "security-info.signed-tag", SETTING_STRING, "[signed]", NULL, 0, 0,
	    GLOBAL, RCPT,
	    "Subject tag for a message with a valid signature by the sender." },
	{ "security-info.signed-by-tag", SETTING_STRING, "[signed by: %s]",
	    NULL, 0, 0, GLOBAL, RCPT,
	    "Subject tag for a valid signature by another address (%s: the signer)." },
	{ "security-info.invalid-signature-tag", SETTING_STRING,
	    "[invalid signature!]", NULL, 0, 0, GLOBAL, RCPT,
	    "Subject tag for a message whose signature did not verify." },
	{ "security-info.mixed-content-tag", SETTING_STRING,
	    "[mixed content]", NULL, 0, 0, GLOBAL, RCPT,
	    "Subject tag for a message only partly signed or encrypted." },
	/* §4.2.7, §4.3.2 subject filter */
	{ "subject-filter.enabled", SETTING_BOOL, "false", NULL, 0, 0, ALL,
	    RCPT, "Filter the subject of incoming mail with subject-filter.filter." },
	{ "subject-filter.filter", SETTING_STRING,
	    "/[[:space:]]*\\[(decrypted|signed|signed by: [^]]*|invalid signature!|mixed content)\\]/",
	    "subject-filter", 0, 0, GLOBAL, RCPT,
	    "Filter as /REGEX/ VALUE: matches are replaced by VALUE (removed when empty)." },
	/* §4.2.1 general, global */
	{ "server-secret", SETTING_SECRET, "", NULL, 0, 0, GLOBAL, SYS,
	    "Key protecting links and tokens (HMAC); created by posternctl init." },
	{ "system-sender", SETTING_STRING, "", "address", 0, 0, GLOBAL, SYS,
	    "Sender address of notifications; empty: postmaster of the local host name." },
	/* §6 templates (postern-templates(5)) */
	{ "template.encryption-failed", SETTING_STRING,
	    "encryption-failed.eml", "template", 0, 0, ALL, SND,
	    "Notification to the originator that mail which had to be encrypted was not sent (file in template_directory, or absolute path)." },
	{ "template.encryption-notification", SETTING_STRING,
	    "encryption-notification.eml", "template", 0, 0, ALL, SND,
	    "Notification to the originator that a message was encrypted (see encryption-notification)." },
	/* switches of the S/MIME and OpenPGP modules */
	{ "smime.enabled", SETTING_BOOL, "true", NULL, 0, 0, ALL, BOTH,
	    "Allow S/MIME signing, encryption and decryption." },
	{ "smime.strict", SETTING_BOOL, "false", NULL, 0, 0, ALL, RCPT,
	    "Decrypt only with a key that belongs to the recipient (or its domain)." },
	{ "pgp.enabled", SETTING_BOOL, "true", NULL, 0, 0, ALL, BOTH,
	    "Allow OpenPGP signing, encryption and decryption." },
};

const size_t settings_ndefs_core = SETTINGS_NDEFS(settings_defs_core);
