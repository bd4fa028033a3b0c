/*
 * posternctl pgp: the OpenPGP keyring and its SQLite mirror.
 *
 *	pgp import FILE|- [--passphrase-file F]
 *	pgp export KEY [--secret]
 *	pgp list [--email ADDR-or-DOMAIN] [--trusted]
 *	pgp show KEY
 *	pgp generate --email ADDR [--name NAME] [--algo ed25519|rsa3072]
 *	pgp trust|untrust|revoke|delete KEY
 *	pgp email add|remove KEY ADDR-or-DOMAIN
 *	pgp sync
 *
 * KEY is a fingerprint (primary or subkey) or a 16-digit key ID.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "ctl.h"
#include "pgp_keyring.h"
#include "pgp_keystore.h"
#include "secret.h"
#include "store.h"
#include "store_pgp.h"

#define IMPORT_MAX (16u * 1024 * 1024)

static int
open_keyring(struct ctl *ctl, struct pgp_keyring **kr_r)
{
	struct secret_key *mkey = ctl_mkey(ctl);
	char pw[65];
	const char *error;
	int rc;

	if (mkey == NULL)
		return -1;
	if (pgp_keyring_passphrase(mkey, pw, &error) < 0) {
		ctl_error("%s", error);
		return -1;
	}
	rc = pgp_keyring_open(kr_r, config_str(ctl->cfg, "gnupg_home"), pw,
	    &error);
	memset(pw, 0, sizeof(pw));
	if (rc < 0) {
		ctl_error("%s", error);
		return -1;
	}
	return 0;
}

static int
read_input(const char *path, struct buf *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[8192];
	size_t n;

	if (f == NULL) {
		ctl_error("cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) < 0) {
			if (f != stdin)
				fclose(f);
			ctl_error("input larger than %u bytes ('%s')",
			    IMPORT_MAX, path);
			return -1;
		}
	if (ferror(f)) {
		if (f != stdin)
			fclose(f);
		ctl_error("cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	if (f != stdin)
		fclose(f);
	return 0;
}

/* KEY -> primary fingerprint via the mirror. */
static int
resolve(struct ctl *ctl, const char *id, char fpr_r[PGP_FPR_MAX + 1])
{
	struct store *st = ctl_store(ctl);
	const char *error;
	int r;

	if (st == NULL)
		return -1;
	r = store_pgp_resolve(st, id, fpr_r, &error);
	if (r < 0) {
		ctl_error("%s", error);
		return -1;
	}
	if (r == 0) {
		ctl_error("no such key '%s'", id);
		return -1;
	}
	return 0;
}

static void
fmt_time(time_t t, char out[32])
{
	struct tm tm;

	if (t == 0) {
		snprintf(out, 32, "never");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *
key_state(const struct store_pgp_row *r, time_t now)
{
	if (r->revoked)
		return "revoked";
	if (r->expires != 0 && r->expires <= now)
		return "expired";
	if (r->invalid)
		return "invalid";
	return "valid";
}

static char *
join(char **v, size_t n)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		buf_puts(&b, v[i]);
	}
	return buf_steal(&b, NULL);
}

/* --- import / export -------------------------------------------------- */

static int
pgp_import(struct ctl *ctl, int argc, char **argv)
{
	const char *path = NULL, *pwfile = NULL, *error;
	struct pgp_keyring *kr = NULL;
	struct buf in, pw;
	char **fprs = NULL;
	size_t n = 0, i;
	struct store *st;
	int rc = CTL_REFUSED, k;

	buf_init(&in, IMPORT_MAX);
	buf_init(&pw, 4096);
	for (i = 2; i < (size_t)argc; i++) {
		int j = (int)i;

		if ((k = ctl_opt(argc, argv, &j, "passphrase-file",
		    &pwfile)) != 0) {
			if (k < 0) {
				rc = ctl_usage("--passphrase-file needs a "
				    "file");
				goto out;
			}
			i = (size_t)j;
		} else if (path == NULL)
			path = argv[i];
		else {
			rc = ctl_usage("pgp import takes one FILE");
			goto out;
		}
	}
	if (path == NULL) {
		rc = ctl_usage("pgp import FILE|- [--passphrase-file F]");
		goto out;
	}
	if (read_input(path, &in) < 0)
		goto out;
	if (pwfile != NULL) {
		if (read_input(pwfile, &pw) < 0)
			goto out;
		while (pw.len > 0 && (pw.data[pw.len - 1] == '\n' ||
		    pw.data[pw.len - 1] == '\r'))
			pw.data[--pw.len] = '\0';
	}
	if ((st = ctl_store(ctl)) == NULL || open_keyring(ctl, &kr) < 0)
		goto out;
	if (pgp_keystore_import(kr, st, in.data, in.len,
	    pwfile != NULL ? pw.data : NULL, &fprs, &n, &error) < 0) {
		ctl_error("%s", error);
		goto out;
	}
	{
		static const char *const cols[] = { "fpr", "uid", "secret",
		    "trusted" };
		struct ctl_table *t = ctl_table_new(4, cols);

		for (i = 0; i < n; i++) {
			struct store_pgp_row row;
			const char *cells[4];

			if (store_pgp_get(st, fprs[i], &row, &error) != 1)
				continue;
			cells[0] = row.fpr;
			cells[1] = row.uid;
			cells[2] = row.has_secret ? "yes" : "no";
			cells[3] = row.trusted ? "yes" : "no";
			ctl_table_add(t, cells);
			store_pgp_row_release(&row);
		}
		ctl_table_print(t, ctl->json);
		ctl_table_free(&t);
	}
	rc = CTL_OK;
out:
	str_array_free(&fprs, n);
	pgp_keyring_free(&kr);
	if (pw.data != NULL)
		memset(pw.data, 0, pw.len);
	buf_release(&pw);
	buf_release(&in);
	return rc;
}

static int
pgp_export(struct ctl *ctl, int argc, char **argv)
{
	const char *id = NULL, *error;
	struct pgp_keyring *kr = NULL;
	char fpr[PGP_FPR_MAX + 1], *out = NULL;
	size_t len;
	int secret = 0, i, rc = CTL_REFUSED;

	for (i = 2; i < argc; i++) {
		if (ctl_opt(argc, argv, &i, "secret", NULL) == 1)
			secret = 1;
		else if (id == NULL)
			id = argv[i];
		else
			return ctl_usage("pgp export KEY [--secret]");
	}
	if (id == NULL)
		return ctl_usage("pgp export KEY [--secret]");
	if (resolve(ctl, id, fpr) < 0 || open_keyring(ctl, &kr) < 0)
		goto out;
	if (pgp_keyring_export(kr, fpr, secret, 1, &out, &len, &error) < 0) {
		ctl_error("%s", error);
		goto out;
	}
	if (ctl->json) {
		printf("{\"fpr\": ");
		ctl_json_str(fpr);
		printf(", \"secret\": %s, \"key\": ", secret ? "true" :
		    "false");
		ctl_json_str(out);
		printf("}\n");
	} else
		fwrite(out, 1, len, stdout);
	rc = CTL_OK;
out:
	free(out);
	pgp_keyring_free(&kr);
	return rc;
}

/* --- list / show ------------------------------------------------------ */

struct list_ctx {
	struct ctl_table *t;
	time_t now;
};

static int
list_cb(const struct store_pgp_row *r, void *arg)
{
	struct list_ctx *lc = arg;
	char *emails = join(r->emails, r->nemails);
	char *assoc = join(r->assoc, r->nassoc);
	char exp[32];
	const char *cells[9];

	fmt_time(r->expires, exp);
	cells[0] = r->fpr;
	cells[1] = r->keyid;
	cells[2] = emails != NULL && *emails != '\0' ? emails : NULL;
	cells[3] = assoc != NULL && *assoc != '\0' ? assoc : NULL;
	cells[4] = r->caps;
	cells[5] = r->has_secret ? "yes" : "no";
	cells[6] = r->trusted ? "yes" : "no";
	cells[7] = key_state(r, lc->now);
	cells[8] = exp;
	ctl_table_add(lc->t, cells);
	free(emails);
	free(assoc);
	return 0;
}

static int
pgp_list(struct ctl *ctl, int argc, char **argv)
{
	static const char *const cols[] = { "fpr", "keyid", "emails",
	    "associations", "caps", "secret", "trusted", "state", "expires" };
	const char *email = NULL, *error;
	struct list_ctx lc;
	struct store *st;
	int trusted = 0, i, k, rc;

	for (i = 2; i < argc; i++) {
		if ((k = ctl_opt(argc, argv, &i, "email", &email)) != 0) {
			if (k < 0)
				return ctl_usage("--email needs a value");
		} else if (ctl_opt(argc, argv, &i, "trusted", NULL) == 1)
			trusted = 1;
		else
			return ctl_usage("pgp list [--email E] [--trusted]");
	}
	if ((st = ctl_store(ctl)) == NULL)
		return CTL_REFUSED;
	lc.t = ctl_table_new(9, cols);
	lc.now = time(NULL);
	rc = store_pgp_list(st, email, trusted, list_cb, &lc, &error);
	if (rc == 0)
		ctl_table_print(lc.t, ctl->json);
	ctl_table_free(&lc.t);
	if (rc < 0)
		return ctl_error("%s", error);
	return CTL_OK;
}

static int
pgp_show(struct ctl *ctl, int argc, char **argv)
{
	static const char *const keys[] = { "fpr", "keyid", "uid", "emails",
	    "associations", "caps", "created", "expires", "state", "secret",
	    "trusted" };
	struct store_pgp_row r;
	char fpr[PGP_FPR_MAX + 1], cr[32], ex[32];
	char *emails, *assoc;
	const char *vals[11], *error;
	int got;

	if (argc != 3)
		return ctl_usage("pgp show KEY");
	if (resolve(ctl, argv[2], fpr) < 0)
		return CTL_REFUSED;
	got = store_pgp_get(ctl_store(ctl), fpr, &r, &error);
	if (got < 0)
		return ctl_error("%s", error);
	if (got == 0)
		return ctl_error("no such key '%s'", argv[2]);
	emails = join(r.emails, r.nemails);
	assoc = join(r.assoc, r.nassoc);
	fmt_time(r.created, cr);
	fmt_time(r.expires, ex);
	vals[0] = r.fpr;
	vals[1] = r.keyid;
	vals[2] = r.uid;
	vals[3] = emails;
	vals[4] = assoc;
	vals[5] = r.caps;
	vals[6] = cr;
	vals[7] = ex;
	vals[8] = key_state(&r, time(NULL));
	vals[9] = r.has_secret ? "yes" : "no";
	vals[10] = r.trusted ? "yes" : "no";
	ctl_kv_print(keys, vals, 11, ctl->json);
	free(emails);
	free(assoc);
	store_pgp_row_release(&r);
	return CTL_OK;
}

/* --- changes ---------------------------------------------------------- */

static int
pgp_generate(struct ctl *ctl, int argc, char **argv)
{
	const char *email = NULL, *name = NULL, *algo = "ed25519", *error;
	struct pgp_keyring *kr = NULL;
	char fpr[PGP_FPR_MAX + 1], uid[1024];
	struct store *st;
	int i, k, rc = CTL_REFUSED;

	for (i = 2; i < argc; i++) {
		if ((k = ctl_opt(argc, argv, &i, "email", &email)) != 0 ||
		    (k = ctl_opt(argc, argv, &i, "name", &name)) != 0 ||
		    (k = ctl_opt(argc, argv, &i, "algo", &algo)) != 0) {
			if (k < 0)
				return ctl_usage("'%s' needs a value",
				    argv[i]);
		} else
			return ctl_usage("pgp generate --email ADDR "
			    "[--name NAME] [--algo ed25519|rsa3072]");
	}
	if (email == NULL || strchr(email, '@') == NULL ||
	    strpbrk(email, "<> \t\n") != NULL)
		return ctl_usage("pgp generate needs --email ADDR");
	if (name != NULL && strpbrk(name, "<>\n") != NULL)
		return ctl_usage("bad --name '%s'", name);
	if (strcmp(algo, "ed25519") != 0 && strcmp(algo, "rsa3072") != 0)
		return ctl_usage("unknown --algo '%s' (want ed25519 or "
		    "rsa3072)", algo);
	if (name != NULL && *name != '\0')
		snprintf(uid, sizeof(uid), "%s <%s>", name, email);
	else
		snprintf(uid, sizeof(uid), "<%s>", email);
	if ((st = ctl_store(ctl)) == NULL || open_keyring(ctl, &kr) < 0)
		goto out;
	if (pgp_keyring_generate(kr, uid, algo, fpr, &error) < 0 ||
	    pgp_keystore_sync_key(kr, st, fpr, &error) < 0) {
		ctl_error("%s", error);
		goto out;
	}
	if (ctl->json) {
		printf("{\"fpr\": ");
		ctl_json_str(fpr);
		printf(", \"trusted\": false}\n");
	} else
		printf("generated %s (untrusted: 'posternctl pgp trust %s' "
		    "to use it)\n", fpr, fpr);
	rc = CTL_OK;
out:
	pgp_keyring_free(&kr);
	return rc;
}

static int
pgp_trust(struct ctl *ctl, int argc, char **argv, int trusted)
{
	char fpr[PGP_FPR_MAX + 1];
	const char *error;

	if (argc != 3)
		return ctl_usage("pgp %s KEY", argv[1]);
	if (resolve(ctl, argv[2], fpr) < 0)
		return CTL_REFUSED;
	if (store_pgp_set_trusted(ctl_store(ctl), fpr, trusted, &error) < 0)
		return ctl_error("%s", error);
	if (ctl->json) {
		printf("{\"fpr\": ");
		ctl_json_str(fpr);
		printf(", \"trusted\": %s}\n", trusted ? "true" : "false");
	} else
		printf("%s %s\n", fpr, trusted ? "trusted" : "untrusted");
	return CTL_OK;
}

static int
pgp_change(struct ctl *ctl, int argc, char **argv, int revoke)
{
	struct pgp_keyring *kr = NULL;
	char fpr[PGP_FPR_MAX + 1];
	const char *error;
	struct store *st;
	int rc = CTL_REFUSED;

	if (argc != 3)
		return ctl_usage("pgp %s KEY", argv[1]);
	if (resolve(ctl, argv[2], fpr) < 0)
		return CTL_REFUSED;
	if ((st = ctl_store(ctl)) == NULL || open_keyring(ctl, &kr) < 0)
		goto out;
	if ((revoke ? pgp_keyring_revoke(kr, fpr, &error) :
	    pgp_keyring_delete(kr, fpr, &error)) < 0 ||
	    pgp_keystore_sync_key(kr, st, fpr, &error) < 0) {
		ctl_error("%s", error);
		goto out;
	}
	if (ctl->json) {
		printf("{\"fpr\": ");
		ctl_json_str(fpr);
		printf(", \"%s\": true}\n", revoke ? "revoked" : "deleted");
	} else
		printf("%s %s\n", fpr, revoke ? "revoked" : "deleted");
	rc = CTL_OK;
out:
	pgp_keyring_free(&kr);
	return rc;
}

static int
pgp_email(struct ctl *ctl, int argc, char **argv)
{
	char fpr[PGP_FPR_MAX + 1];
	const char *error;
	int add, r;

	if (argc != 5 || (strcmp(argv[2], "add") != 0 &&
	    strcmp(argv[2], "remove") != 0))
		return ctl_usage("pgp email add|remove KEY ADDR-or-DOMAIN");
	add = strcmp(argv[2], "add") == 0;
	if (resolve(ctl, argv[3], fpr) < 0)
		return CTL_REFUSED;
	r = add ? store_pgp_assoc_add(ctl_store(ctl), fpr, argv[4], &error) :
	    store_pgp_assoc_remove(ctl_store(ctl), fpr, argv[4], &error);
	if (r < 0)
		return ctl_error("%s", error);
	if (ctl->json) {
		printf("{\"fpr\": ");
		ctl_json_str(fpr);
		printf(", \"%s\": ", add ? "added" : "removed");
		ctl_json_str(argv[4]);
		printf("}\n");
	} else
		printf("%s: %s %s\n", fpr, add ? "added" : "removed", argv[4]);
	return CTL_OK;
}

static int
pgp_sync(struct ctl *ctl, int argc, char **argv)
{
	struct pgp_keyring *kr = NULL;
	const char *error;
	struct store *st;
	size_t n = 0;
	int removed = 0, rc = CTL_REFUSED;

	(void)argv;
	if (argc != 2)
		return ctl_usage("pgp sync takes no arguments");
	if ((st = ctl_store(ctl)) == NULL || open_keyring(ctl, &kr) < 0)
		goto out;
	if (pgp_keystore_sync(kr, st, &n, &removed, &error) < 0) {
		ctl_error("%s", error);
		goto out;
	}
	if (ctl->json)
		printf("{\"keys\": %zu, \"removed\": %d}\n", n, removed);
	else
		printf("%zu keys mirrored, %d stale rows removed\n", n,
		    removed);
	rc = CTL_OK;
out:
	pgp_keyring_free(&kr);
	return rc;
}

static int
cmd_pgp(struct ctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "import") == 0)
		return pgp_import(ctl, argc, argv);
	if (strcmp(sub, "export") == 0)
		return pgp_export(ctl, argc, argv);
	if (strcmp(sub, "list") == 0)
		return pgp_list(ctl, argc, argv);
	if (strcmp(sub, "show") == 0)
		return pgp_show(ctl, argc, argv);
	if (strcmp(sub, "generate") == 0)
		return pgp_generate(ctl, argc, argv);
	if (strcmp(sub, "trust") == 0)
		return pgp_trust(ctl, argc, argv, 1);
	if (strcmp(sub, "untrust") == 0)
		return pgp_trust(ctl, argc, argv, 0);
	if (strcmp(sub, "revoke") == 0)
		return pgp_change(ctl, argc, argv, 1);
	if (strcmp(sub, "delete") == 0)
		return pgp_change(ctl, argc, argv, 0);
	if (strcmp(sub, "email") == 0)
		return pgp_email(ctl, argc, argv);
	if (strcmp(sub, "sync") == 0)
		return pgp_sync(ctl, argc, argv);
	return ctl_usage("unknown pgp command '%s' (import, export, list, "
	    "show, generate, trust, untrust, revoke, delete, email, sync)",
	    sub);
}

const struct ctl_cmd ctl_cmd_pgp = { "pgp",
    "OpenPGP keys: import, export, list, show, generate, trust, revoke, "
    "delete, email, sync", cmd_pgp };
