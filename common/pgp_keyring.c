/* pgp_keyring: the private GnuPG home behind gpgme (see pgp_keyring.h). */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"
#include "err.h"
#include "pgp_keyring.h"
#include "secret.h"
#include "str.h"


static const char gpg_conf_base[] =
    "# written by Postern; trust is Postern's admin flag, not gpg's\n"
    "trust-model always\n"
    "no-greeting\n"
    "no-auto-key-retrieve\n"
    "no-auto-key-locate\n"
    "keyserver-options no-auto-key-retrieve\n"
    "no-symkey-cache\n"
    "no-emit-version\n"
    "no-comments\n";

static const char agent_conf[] =
    "# written by Postern: the keyring passphrase is 256 random bits,\n"
    "# so S2K stretching adds nothing; keep key protection fast.\n"
    "s2k-count 65536\n"
    "allow-loopback-pinentry\n"
    "default-cache-ttl 600\n"
    "max-cache-ttl 7200\n";

enum pw_mode {
	PW_NORMAL,	/* keyring passphrase, then the extras */
	PW_PASSWD,	/* first the old (import) passphrase, then the new */
};

#define KEY_CACHE_MAX 32

struct key_cache_ent {
	char id[PGP_FPR_MAX + 1];
	int mode;
	gpgme_key_t key;
};

struct pgp_keyring {
	char *home;
	struct key_cache_ent cache[KEY_CACHE_MAX];
	size_t ncache;
	unsigned long long cache_gen;	/* generation the cache is for */
	int lockfd;		/* postern.lock: readers shared, writers excl. */
	int turnfd;		/* postern.turn: writer-preference turnstile */
	int locked;
	long lock_timeout_ms;
	char *pw;		/* keyring passphrase (may be NULL) */
	enum pw_mode mode;
	int pubkey_only;	/* refuse symmetric passphrase prompts */
	const char *old_pw;	/* PW_PASSWD */
	int calls;		/* passphrase requests in this operation */
};

static pthread_once_t gpgme_once = PTHREAD_ONCE_INIT;
static int gpgme_ok;

static void
gpgme_init(void)
{
	if (gpgme_check_version(NULL) != NULL &&
	    gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP) == 0)
		gpgme_ok = 1;
}

const char *
pgp_strerror(const char *what, gpgme_error_t e)
{
	return err_fmt("%s: %s", what, gpgme_strerror(e));
}

static int
write_file_atomic(const char *dir, const char *name, const char *text,
    const char **error_r)
{
	char path[PGP_HOME_MAX + 64], tmp[PGP_HOME_MAX + 80];
	size_t len = strlen(text);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.%ld", dir, name, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(error_r, "cannot create '%s': %s", tmp,
		    strerror(errno));
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		int e = errno;

		close(fd);
		unlink(tmp);
		return err_set(error_r, "cannot write '%s': %s", tmp,
		    strerror(e));
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		return err_set(error_r, "cannot rename '%s': %s", tmp,
		    strerror(e));
	}
	return 0;
}

static int
ensure_file(const char *dir, const char *name, const char *text,
    const char **error_r)
{
	char path[PGP_HOME_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, F_OK) == 0)
		return 0;
	return write_file_atomic(dir, name, text, error_r);
}

int
pgp_keyring_passphrase(const struct secret_key *mkey, char hex_r[65],
    const char **error_r)
{
	return secret_derive_hex(mkey, "postern-pgp", hex_r, error_r);
}

int
pgp_keyring_open(struct pgp_keyring **kr_r, const char *home,
    const char *passphrase, const char **error_r)
{
	struct pgp_keyring *kr = NULL;
	char lockpath[PGP_HOME_MAX + 32];
	struct stat sb;
	int rc = -1;

	*kr_r = NULL;
	pthread_once(&gpgme_once, gpgme_init);
	if (!gpgme_ok)
		return err_set(error_r, "gpgme or the gpg engine is unusable");
	if (home == NULL || *home != '/')
		return err_set(error_r, "gnupg home must be absolute ('%s')",
		    home == NULL ? "" : home);
	if (strlen(home) > PGP_HOME_MAX)
		return err_set(error_r, "gnupg home '%s' is longer than %d "
		    "bytes (agent socket path limit)", home, PGP_HOME_MAX);
	if (mkdir(home, 0700) < 0 && errno != EEXIST)
		return err_set(error_r, "cannot create '%s': %s", home,
		    strerror(errno));
	if (stat(home, &sb) < 0)
		return err_set(error_r, "cannot stat '%s': %s", home,
		    strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return err_set(error_r, "'%s' is not a directory", home);
	if ((sb.st_mode & 077) != 0)
		return err_set(error_r, "'%s' is accessible by group or "
		    "others (want mode 0700)", home);
	if (sb.st_uid != geteuid())
		return err_set(error_r, "'%s' is not owned by uid %ld", home,
		    (long)geteuid());
	kr = calloc(1, sizeof(*kr));
	if (kr == NULL || (kr->home = strdup(home)) == NULL) {
		err_set(error_r, "out of memory");
		goto out;
	}
	kr->lockfd = -1;
	kr->turnfd = -1;
	kr->lock_timeout_ms = PGP_LOCK_TIMEOUT_MS;
	if (passphrase != NULL && (kr->pw = strdup(passphrase)) == NULL) {
		err_set(error_r, "out of memory");
		goto out;
	}
	snprintf(lockpath, sizeof(lockpath), "%s/postern.lock", home);
	kr->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (kr->lockfd < 0) {
		err_set(error_r, "cannot open '%s': %s", lockpath,
		    strerror(errno));
		goto out;
	}
	snprintf(lockpath, sizeof(lockpath), "%s/postern.turn", home);
	kr->turnfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (kr->turnfd < 0) {
		err_set(error_r, "cannot open '%s': %s", lockpath,
		    strerror(errno));
		goto out;
	}
	/* Config files: written once, under the exclusive lock. */
	if (pgp_keyring_lock(kr, 1, error_r) < 0)
		goto out;
	rc = ensure_file(home, "gpg.conf", gpg_conf_base, error_r);
	if (rc == 0)
		rc = ensure_file(home, "gpg-agent.conf", agent_conf, error_r);
	pgp_keyring_unlock(kr);
	if (rc < 0)
		goto out;
	*kr_r = kr;
	kr = NULL;
	rc = 0;
out:
	pgp_keyring_free(&kr);
	return rc;
}

static void
cache_flush(struct pgp_keyring *kr)
{
	size_t i;

	for (i = 0; i < kr->ncache; i++)
		gpgme_key_unref(kr->cache[i].key);
	kr->ncache = 0;
}

/* The keyring generation: a counter in postern.lock that every writer
 * bumps before it releases the exclusive lock. */
static unsigned long long
read_gen(struct pgp_keyring *kr)
{
	unsigned long long g = 0;

	if (pread(kr->lockfd, &g, sizeof(g), 0) != (ssize_t)sizeof(g))
		g = 0;
	return g;
}

void
pgp_keyring_free(struct pgp_keyring **krp)
{
	struct pgp_keyring *kr = *krp;

	if (kr == NULL)
		return;
	cache_flush(kr);
	if (kr->lockfd >= 0)
		close(kr->lockfd);
	if (kr->turnfd >= 0)
		close(kr->turnfd);
	if (kr->pw != NULL)
		secret_wipe_free(kr->pw, strlen(kr->pw));
	free(kr->home);
	free(kr);
	*krp = NULL;
}

const char *
pgp_keyring_home(const struct pgp_keyring *kr)
{
	return kr->home;
}

void
pgp_keyring_pubkey_only(struct pgp_keyring *kr)
{
	kr->pubkey_only = 1;
}

int
pgp_keyring_stop_agent(const char *home, const char **error_r)
{
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0)
		return err_set(error_r, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("gpgconf", "gpgconf", "--homedir", home, "--kill",
		    "gpg-agent", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_set(error_r, "waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(error_r, "gpgconf --kill gpg-agent failed "
		    "for '%s'", home);
	return 0;
}

void
pgp_keyring_set_lock_timeout(struct pgp_keyring *kr, long ms)
{
	kr->lock_timeout_ms = ms;
}

static int
flock_wait(int fd, int op, long *waited, long timeout, const char *home,
    const char **error_r)
{
	struct timespec ts = { 0, 1000 * 1000 };

	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return err_set(error_r, "cannot lock keyring '%s': %s",
			    home, strerror(errno));
		if (*waited >= timeout)
			return err_set(error_r, "timeout waiting for the "
			    "keyring lock of '%s'", home);
		nanosleep(&ts, NULL);
		*waited += 1;
	}
}

/*
 * Linux flock lets new shared lockers overtake a waiting exclusive one,
 * so a stream of readers would starve writers.  A turnstile fixes that:
 * a writer holds postern.turn exclusively while it waits for and holds
 * postern.lock; readers pass through postern.turn (shared, released at
 * once) before taking postern.lock shared, so they queue behind a
 * waiting writer.
 */
int
pgp_keyring_lock(struct pgp_keyring *kr, int exclusive, const char **error_r)
{
	long waited = 0;

	if (kr->locked)
		return err_set(error_r, "keyring lock already held");
	if (flock_wait(kr->turnfd, exclusive ? LOCK_EX : LOCK_SH, &waited,
	    kr->lock_timeout_ms, kr->home, error_r) < 0)
		return -1;
	if (flock_wait(kr->lockfd, exclusive ? LOCK_EX : LOCK_SH, &waited,
	    kr->lock_timeout_ms, kr->home, error_r) < 0) {
		flock(kr->turnfd, LOCK_UN);
		return -1;
	}
	if (!exclusive)
		flock(kr->turnfd, LOCK_UN);
	{
		unsigned long long g = read_gen(kr);

		if (g != kr->cache_gen || exclusive) {
			cache_flush(kr);
			kr->cache_gen = g;
		}
	}
	kr->locked = exclusive ? 2 : 1;
	kr->calls = 0;
	kr->mode = PW_NORMAL;
	kr->pubkey_only = 0;
	return 0;
}

void
pgp_keyring_unlock(struct pgp_keyring *kr)
{
	if (!kr->locked)
		return;
	if (kr->locked == 2) {
		/* Whatever the writer did, readers drop their caches. */
		unsigned long long g = read_gen(kr) + 1;

		if (pwrite(kr->lockfd, &g, sizeof(g), 0) == (ssize_t)sizeof(g))
			kr->cache_gen = g;
		cache_flush(kr);
	}
	flock(kr->lockfd, LOCK_UN);
	if (kr->locked == 2)
		flock(kr->turnfd, LOCK_UN);
	kr->locked = 0;
	kr->mode = PW_NORMAL;
}

/*
 * gpg asks through loopback pinentry, once per secret key (no retry).
 * Normal mode: the keyring passphrase.  Passwd mode: the old passphrase
 * once, then the keyring passphrase.  Symmetric prompts (no key, so no
 * uid hint) are refused in pubkey-only operations: the gateway never
 * decrypts password-encrypted messages and never offers its passphrase
 * to them.
 */
static gpgme_error_t
passphrase_cb(void *hook, const char *uid_hint, const char *info,
    int prev_was_bad, int fd)
{
	struct pgp_keyring *kr = hook;
	const char *pw = NULL;
	int n = kr->calls++;

	(void)info;
	if (kr->mode == PW_PASSWD) {
		if (n == 0 && kr->old_pw != NULL)
			pw = kr->old_pw;
		else
			pw = kr->pw;
	} else if (!(kr->pubkey_only && uid_hint == NULL) && !prev_was_bad)
		pw = kr->pw;
	if (pw == NULL)
		return gpg_error(GPG_ERR_CANCELED);
	if (gpgme_io_writen(fd, pw, strlen(pw)) < 0 ||
	    gpgme_io_writen(fd, "\n", 1) < 0)
		return gpgme_error_from_syserror();
	return 0;
}

int
pgp_keyring_ctx(struct pgp_keyring *kr, gpgme_ctx_t *ctx_r,
    const char **error_r)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_error_t e;

	*ctx_r = NULL;
	if ((e = gpgme_new(&ctx)) != 0)
		return err_set(error_r, "%s", pgp_strerror("gpgme_new", e));
	if ((e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
	    (e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP,
	    NULL, kr->home)) != 0 ||
	    (e = gpgme_set_pinentry_mode(ctx,
	    GPGME_PINENTRY_MODE_LOOPBACK)) != 0) {
		gpgme_release(ctx);
		return err_set(error_r, "%s",
		    pgp_strerror("cannot set up gpgme", e));
	}
	gpgme_set_offline(ctx, 1);
	gpgme_set_passphrase_cb(ctx, passphrase_cb, kr);
	*ctx_r = ctx;
	return 0;
}

int
pgp_keyring_getkey(gpgme_ctx_t ctx, const char *fpr, int secret,
    gpgme_key_t *key_r, const char **error_r)
{
	gpgme_error_t e;

	*key_r = NULL;
	e = gpgme_get_key(ctx, fpr, key_r, secret);
	if (e != 0) {
		if (gpgme_err_code(e) == GPG_ERR_EOF) {
			err_set(error_r, "no %skey '%s'", secret ?
			    "secret " : "", fpr);
			return -2;
		}
		return err_set(error_r, "%s", pgp_strerror(err_fmt(
		    "cannot get key '%s'", fpr), e));
	}
	return 0;
}

int
pgp_keyring_key(struct pgp_keyring *kr, gpgme_ctx_t ctx, const char *id,
    int mode, gpgme_key_t *key_r, const char **error_r)
{
	gpgme_keylist_mode_t old = 0;
	size_t i;
	int rc;

	*key_r = NULL;
	for (i = 0; i < kr->ncache; i++)
		if (kr->cache[i].mode == mode &&
		    strcasecmp(kr->cache[i].id, id) == 0) {
			gpgme_key_ref(kr->cache[i].key);
			*key_r = kr->cache[i].key;
			return 0;
		}
	if (mode == PGP_KEY_SIGS) {
		old = gpgme_get_keylist_mode(ctx);
		gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL |
		    GPGME_KEYLIST_MODE_SIGS | GPGME_KEYLIST_MODE_VALIDATE);
	}
	rc = pgp_keyring_getkey(ctx, id, mode == PGP_KEY_SECRET, key_r,
	    error_r);
	if (mode == PGP_KEY_SIGS)
		gpgme_set_keylist_mode(ctx, old);
	if (rc < 0 || !kr->locked || strlen(id) > PGP_FPR_MAX)
		return rc;
	if (kr->ncache == KEY_CACHE_MAX) {
		gpgme_key_unref(kr->cache[0].key);
		memmove(&kr->cache[0], &kr->cache[1],
		    (KEY_CACHE_MAX - 1) * sizeof(kr->cache[0]));
		kr->ncache--;
	}
	snprintf(kr->cache[kr->ncache].id, sizeof(kr->cache[0].id), "%s", id);
	kr->cache[kr->ncache].mode = mode;
	gpgme_key_ref(*key_r);
	kr->cache[kr->ncache].key = *key_r;
	kr->ncache++;
	return 0;
}

/* --- key information ---------------------------------------------- */

static unsigned
subkey_caps(gpgme_subkey_t s)
{
	return (s->can_encrypt ? PGP_CAP_ENCRYPT : 0) |
	    (s->can_sign ? PGP_CAP_SIGN : 0) |
	    (s->can_certify ? PGP_CAP_CERTIFY : 0);
}

/* A user ID counts when it carries a valid, unrevoked, unexpired
 * self-signature; certifications by other keys are ignored. */
static int
uid_self_signed(gpgme_user_id_t u, const char *keyid)
{
	gpgme_key_sig_t s;
	int good = 0;

	if (u->revoked || u->invalid)
		return 0;
	for (s = u->signatures; s != NULL; s = s->next) {
		if (s->keyid == NULL || strcasecmp(s->keyid, keyid) != 0)
			continue;
		if (s->revoked)
			return 0;	/* self-revocation of the UID */
		if (!s->expired && !s->invalid && s->status == 0)
			good = 1;
	}
	return good;
}

void
pgp_keyinfo_release(struct pgp_keyinfo *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->nemails; i++)
		free(k->emails[i]);
	free(k->emails);
	free(k->uid);
	free(k->subkeys);
	memset(k, 0, sizeof(*k));
}

void
pgp_keyinfo_free_array(struct pgp_keyinfo **keys, size_t n)
{
	size_t i;

	if (*keys == NULL)
		return;
	for (i = 0; i < n; i++)
		pgp_keyinfo_release(&(*keys)[i]);
	free(*keys);
	*keys = NULL;
}

static void
copy_str(char *dst, size_t sz, const char *src)
{
	snprintf(dst, sz, "%s", src == NULL ? "" : src);
}

int
pgp_keyinfo_from_key(gpgme_key_t key, struct pgp_keyinfo *info,
    const char **error_r)
{
	gpgme_subkey_t s;
	gpgme_user_id_t u;
	size_t n = 0, i;
	char addr[512];

	memset(info, 0, sizeof(*info));
	if (key->subkeys == NULL || key->subkeys->fpr == NULL)
		return err_set(error_r, "key without primary key");
	for (s = key->subkeys; s != NULL; s = s->next)
		n++;
	info->subkeys = calloc(n, sizeof(*info->subkeys));
	if (info->subkeys == NULL)
		return err_set(error_r, "out of memory");
	for (s = key->subkeys, i = 0; s != NULL; s = s->next, i++) {
		struct pgp_subkeyinfo *si = &info->subkeys[i];
		char *algo;

		copy_str(si->fpr, sizeof(si->fpr), s->fpr);
		copy_str(si->keyid, sizeof(si->keyid), s->keyid);
		si->caps = subkey_caps(s);
		si->created = s->timestamp > 0 ? s->timestamp : 0;
		si->expires = s->expires > 0 ? s->expires : 0;
		si->revoked = s->revoked;
		si->expired = s->expired;
		si->invalid = s->invalid;
		si->disabled = s->disabled;
		si->secret = s->secret;
		algo = gpgme_pubkey_algo_string(s);
		copy_str(si->algo, sizeof(si->algo), algo);
		gpgme_free(algo);
		if (s->secret)
			info->secret = 1;
		if (!s->revoked && !s->expired && !s->invalid &&
		    !s->disabled)
			info->caps |= si->caps;
	}
	info->nsubkeys = n;
	s = key->subkeys;
	copy_str(info->fpr, sizeof(info->fpr), s->fpr);
	copy_str(info->keyid, sizeof(info->keyid), s->keyid);
	info->created = s->timestamp > 0 ? s->timestamp : 0;
	info->expires = s->expires > 0 ? s->expires : 0;
	info->revoked = key->revoked || s->revoked;
	info->expired = key->expired || s->expired;
	info->invalid = key->invalid || s->invalid;
	info->disabled = key->disabled;
	if (info->revoked || info->expired || info->invalid)
		info->caps = 0;
	for (u = key->uids; u != NULL; u = u->next) {
		char **nv;
		size_t j;
		int dup = 0;

		if (!uid_self_signed(u, s->keyid))
			continue;
		if (info->uid == NULL && u->uid != NULL &&
		    (info->uid = strdup(u->uid)) == NULL)
			goto oom;
		if (u->email == NULL || *u->email == '\0' ||
		    address_normalize(u->email, addr, sizeof(addr)) < 0)
			continue;
		str_lower(addr);
		for (j = 0; j < info->nemails; j++)
			if (strcmp(info->emails[j], addr) == 0)
				dup = 1;
		if (dup)
			continue;
		nv = realloc(info->emails, (info->nemails + 1) *
		    sizeof(*nv));
		if (nv == NULL)
			goto oom;
		info->emails = nv;
		if ((nv[info->nemails] = strdup(addr)) == NULL)
			goto oom;
		info->nemails++;
	}
	return 0;
oom:
	pgp_keyinfo_release(info);
	return err_set(error_r, "out of memory");
}

static int
list_locked(struct pgp_keyring *kr, gpgme_ctx_t ctx, const char *pattern,
    struct pgp_keyinfo **keys_r, size_t *n_r, const char **error_r)
{
	struct pgp_keyinfo *keys = NULL;
	size_t n = 0, cap = 0, i;
	gpgme_key_t key = NULL;
	gpgme_error_t e;
	char **secfprs = NULL;
	size_t nsec = 0;
	int rc = -1;

	(void)kr;
	/* Which primaries have secret parts. */
	if ((e = gpgme_op_keylist_start(ctx, pattern, 1)) != 0) {
		err_set(error_r, "%s", pgp_strerror("keylist", e));
		goto out;
	}
	while ((e = gpgme_op_keylist_next(ctx, &key)) == 0) {
		char **nv = realloc(secfprs, (nsec + 1) * sizeof(*nv));

		if (nv == NULL || key->subkeys == NULL ||
		    (nv[nsec] = strdup(key->subkeys->fpr)) == NULL) {
			if (nv != NULL)
				secfprs = nv;
			gpgme_key_unref(key);
			err_set(error_r, "out of memory");
			goto out;
		}
		secfprs = nv;
		nsec++;
		gpgme_key_unref(key);
	}
	if (gpgme_err_code(e) != GPG_ERR_EOF) {
		err_set(error_r, "%s", pgp_strerror("keylist", e));
		goto out;
	}
	gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL |
	    GPGME_KEYLIST_MODE_SIGS | GPGME_KEYLIST_MODE_VALIDATE);
	if ((e = gpgme_op_keylist_start(ctx, pattern, 0)) != 0) {
		err_set(error_r, "%s", pgp_strerror("keylist", e));
		goto out;
	}
	while ((e = gpgme_op_keylist_next(ctx, &key)) == 0) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct pgp_keyinfo *nk = realloc(keys,
			    nc * sizeof(*nk));

			if (nk == NULL) {
				gpgme_key_unref(key);
				err_set(error_r, "out of memory");
				goto out;
			}
			keys = nk;
			cap = nc;
		}
		if (pgp_keyinfo_from_key(key, &keys[n], error_r) < 0) {
			gpgme_key_unref(key);
			goto out;
		}
		for (i = 0; i < nsec; i++)
			if (strcmp(secfprs[i], keys[n].fpr) == 0)
				keys[n].secret = 1;
		n++;
		gpgme_key_unref(key);
	}
	if (gpgme_err_code(e) != GPG_ERR_EOF) {
		err_set(error_r, "%s", pgp_strerror("keylist", e));
		goto out;
	}
	*keys_r = keys;
	*n_r = n;
	keys = NULL;
	n = 0;
	rc = 0;
out:
	gpgme_op_keylist_end(ctx);
	pgp_keyinfo_free_array(&keys, n);
	str_array_free(&secfprs, nsec);
	return rc;
}

int
pgp_keyring_list(struct pgp_keyring *kr, const char *pattern,
    struct pgp_keyinfo **keys_r, size_t *n_r, const char **error_r)
{
	gpgme_ctx_t ctx = NULL;
	int rc = -1;

	*keys_r = NULL;
	*n_r = 0;
	if (pgp_keyring_ctx(kr, &ctx, error_r) < 0)
		return -1;
	if (pgp_keyring_lock(kr, 0, error_r) < 0)
		goto out;
	rc = list_locked(kr, ctx, pattern, keys_r, n_r, error_r);
	pgp_keyring_unlock(kr);
out:
	gpgme_release(ctx);
	return rc;
}

/* --- writers ------------------------------------------------------ */

static int
strv_add_unique(char ***v, size_t *n, const char *s)
{
	char **nv;
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return 0;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (nv == NULL)
		return -1;
	*v = nv;
	if ((nv[*n] = strdup(s)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

/* Re-protect the secret key fpr with the keyring passphrase. */
static int
reprotect(struct pgp_keyring *kr, gpgme_ctx_t ctx, const char *fpr,
    const char *old_pw, const char **error_r)
{
	gpgme_key_t key = NULL;
	gpgme_error_t e;
	int rc = -1;

	if (kr->pw == NULL)
		return err_set(error_r, "secret key import needs the "
		    "keyring passphrase (master key)");
	if (pgp_keyring_getkey(ctx, fpr, 1, &key, error_r) < 0)
		return -1;
	kr->mode = PW_PASSWD;
	kr->old_pw = old_pw != NULL ? old_pw : "";
	kr->calls = 0;
	e = gpgme_op_passwd(ctx, key, 0);
	kr->mode = PW_NORMAL;
	kr->old_pw = NULL;
	if (e != 0) {
		err_set(error_r, "%s", pgp_strerror(err_fmt(
		    "cannot protect secret key '%s' (wrong import "
		    "passphrase?)", fpr), e));
		goto out;
	}
	rc = 0;
out:
	gpgme_key_unref(key);
	return rc;
}

static int
delete_locked(gpgme_ctx_t ctx, const char *fpr, int secret_only,
    const char **error_r)
{
	gpgme_key_t key = NULL;
	gpgme_error_t e;

	(void)secret_only;
	if (pgp_keyring_getkey(ctx, fpr, 0, &key, error_r) < 0)
		return -1;
	e = gpgme_op_delete_ext(ctx, key, GPGME_DELETE_ALLOW_SECRET |
	    GPGME_DELETE_FORCE);
	gpgme_key_unref(key);
	if (e != 0)
		return err_set(error_r, "%s", pgp_strerror(err_fmt(
		    "cannot delete key '%s'", fpr), e));
	return 0;
}

int
pgp_keyring_import(struct pgp_keyring *kr, const void *data, size_t len,
    const char *import_passphrase, char ***fprs_r, size_t *n_r,
    const char **error_r)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_data_t in = NULL;
	gpgme_import_result_t res;
	gpgme_import_status_t is;
	gpgme_error_t e;
	char **fprs = NULL, **sec = NULL;
	size_t n = 0, nsec = 0, i;
	int rc = -1;

	if (fprs_r != NULL) {
		*fprs_r = NULL;
		*n_r = 0;
	}
	if (pgp_keyring_ctx(kr, &ctx, error_r) < 0)
		return -1;
	if ((e = gpgme_data_new_from_mem(&in, data, len, 0)) != 0) {
		err_set(error_r, "%s", pgp_strerror("gpgme data", e));
		goto out;
	}
	if (pgp_keyring_lock(kr, 1, error_r) < 0)
		goto out;
	e = gpgme_op_import(ctx, in);
	if (e != 0) {
		err_set(error_r, "%s", pgp_strerror("import", e));
		goto unlock;
	}
	res = gpgme_op_import_result(ctx);
	if (res == NULL || res->considered == 0) {
		err_set(error_r, "no OpenPGP key found in the input");
		goto unlock;
	}
	for (is = res->imports; is != NULL; is = is->next) {
		if (is->fpr == NULL || is->result != 0)
			continue;
		if (strv_add_unique(&fprs, &n, is->fpr) < 0 ||
		    ((is->status & GPGME_IMPORT_SECRET) &&
		    strv_add_unique(&sec, &nsec, is->fpr) < 0)) {
			err_set(error_r, "out of memory");
			goto unlock;
		}
	}
	if (n == 0) {
		err_set(error_r, "no key imported (%d considered, %d not "
		    "imported)", res->considered, res->not_imported);
		goto unlock;
	}
	for (i = 0; i < nsec; i++) {
		if (reprotect(kr, ctx, sec[i], import_passphrase,
		    error_r) < 0) {
			const char *ignored;

			/* Never keep a secret key we cannot protect. */
			delete_locked(ctx, sec[i], 1, &ignored);
			goto unlock;
		}
	}
	if (fprs_r != NULL) {
		*fprs_r = fprs;
		*n_r = n;
		fprs = NULL;
		n = 0;
	}
	rc = 0;
unlock:
	pgp_keyring_unlock(kr);
out:
	str_array_free(&fprs, n);
	str_array_free(&sec, nsec);
	gpgme_data_release(in);
	gpgme_release(ctx);
	return rc;
}

int
pgp_keyring_export(struct pgp_keyring *kr, const char *fpr, int secret,
    int armor, char **out_r, size_t *len_r, const char **error_r)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_data_t out = NULL;
	gpgme_key_t key = NULL;
	gpgme_error_t e;
	char *p;
	size_t len;
	int rc = -1;

	*out_r = NULL;
	*len_r = 0;
	if (pgp_keyring_ctx(kr, &ctx, error_r) < 0)
		return -1;
	gpgme_set_armor(ctx, armor);
	if ((e = gpgme_data_new(&out)) != 0) {
		err_set(error_r, "%s", pgp_strerror("gpgme data", e));
		goto out;
	}
	if (pgp_keyring_lock(kr, 0, error_r) < 0)
		goto out;
	if (pgp_keyring_getkey(ctx, fpr, secret, &key, error_r) < 0)
		goto unlock;
	/* Export by full primary fingerprint: a pattern could match more. */
	e = gpgme_op_export(ctx, key->subkeys->fpr,
	    secret ? GPGME_EXPORT_MODE_SECRET : 0, out);
	if (e != 0) {
		err_set(error_r, "%s", pgp_strerror("export", e));
		goto unlock;
	}
	p = gpgme_data_release_and_get_mem(out, &len);
	out = NULL;
	if (p == NULL || len == 0) {
		gpgme_free(p);
		err_set(error_r, "export of '%s' produced nothing", fpr);
		goto unlock;
	}
	if ((*out_r = malloc(len + 1)) == NULL) {
		gpgme_free(p);
		err_set(error_r, "out of memory");
		goto unlock;
	}
	memcpy(*out_r, p, len);
	(*out_r)[len] = '\0';
	*len_r = len;
	gpgme_free(p);
	rc = 0;
unlock:
	pgp_keyring_unlock(kr);
out:
	gpgme_key_unref(key);
	gpgme_data_release(out);
	gpgme_release(ctx);
	return rc;
}

int
pgp_keyring_generate(struct pgp_keyring *kr, const char *uid,
    const char *algo, char fpr_r[PGP_FPR_MAX + 1], const char **error_r)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	gpgme_genkey_result_t gr;
	gpgme_error_t e;
	const char *palgo, *salgo;
	int rc = -1;

	*fpr_r = '\0';
	if (strcmp(algo, "ed25519") == 0) {
		palgo = "ed25519";
		salgo = "cv25519";
	} else if (strcmp(algo, "rsa3072") == 0) {
		palgo = salgo = "rsa3072";
	} else
		return err_set(error_r, "unknown key algorithm '%s' (want "
		    "ed25519 or rsa3072)", algo);
	if (kr->pw == NULL)
		return err_set(error_r, "key generation needs the keyring "
		    "passphrase (master key)");
	if (pgp_keyring_ctx(kr, &ctx, error_r) < 0)
		return -1;
	if (pgp_keyring_lock(kr, 1, error_r) < 0)
		goto out;
	e = gpgme_op_createkey(ctx, uid, palgo, 0, 0, NULL,
	    GPGME_CREATE_SIGN | GPGME_CREATE_CERT | GPGME_CREATE_NOEXPIRE);
	if (e != 0 || (gr = gpgme_op_genkey_result(ctx)) == NULL ||
	    gr->fpr == NULL) {
		err_set(error_r, "%s", pgp_strerror("key generation",
		    e ? e : gpg_error(GPG_ERR_GENERAL)));
		goto unlock;
	}
	copy_str(fpr_r, PGP_FPR_MAX + 1, gr->fpr);
	if (pgp_keyring_getkey(ctx, fpr_r, 1, &key, error_r) < 0)
		goto unlock;
	kr->calls = 0;
	e = gpgme_op_createsubkey(ctx, key, salgo, 0, 0,
	    GPGME_CREATE_ENCR | GPGME_CREATE_NOEXPIRE);
	if (e != 0) {
		const char *ignored;

		err_set(error_r, "%s", pgp_strerror("subkey generation", e));
		delete_locked(ctx, fpr_r, 0, &ignored);
		*fpr_r = '\0';
		goto unlock;
	}
	rc = 0;
unlock:
	pgp_keyring_unlock(kr);
out:
	gpgme_key_unref(key);
	gpgme_release(ctx);
	return rc;
}

int
pgp_keyring_delete(struct pgp_keyring *kr, const char *fpr,
    const char **error_r)
{
	gpgme_ctx_t ctx = NULL;
	int rc = -1;

	if (pgp_keyring_ctx(kr, &ctx, error_r) < 0)
		return -1;
	if (pgp_keyring_lock(kr, 1, error_r) < 0)
		goto out;
	rc = delete_locked(ctx, fpr, 0, error_r);
	pgp_keyring_unlock(kr);
out:
	gpgme_release(ctx);
	return rc;
}

/* Drives "gpg --edit-key FPR" through: revkey, y, reason 0, "", y, save. */
struct revoke_state {
	int sent_revkey;
	int sent_save;
};

static gpgme_error_t
revoke_cb(void *opaque, const char *status, const char *args, int fd)
{
	struct revoke_state *st = opaque;
	const char *reply = NULL;

	if (args == NULL)
		return 0;
	if (strcmp(status, "GET_BOOL") == 0)
		reply = "y";
	else if (strcmp(status, "GET_LINE") == 0) {
		if (strcmp(args, "keyedit.prompt") == 0) {
			if (!st->sent_revkey) {
				st->sent_revkey = 1;
				reply = "revkey";
			} else if (!st->sent_save) {
				st->sent_save = 1;
				reply = "save";
			} else
				return gpg_error(GPG_ERR_GENERAL);
		} else if (strcmp(args, "ask_revocation_reason.code") == 0)
			reply = "0";
		else if (strcmp(args, "ask_revocation_reason.text") == 0)
			reply = "";
		else
			return gpg_error(GPG_ERR_GENERAL);
	}
	if (reply == NULL)
		return 0;
	if (gpgme_io_writen(fd, reply, strlen(reply)) < 0 ||
	    gpgme_io_writen(fd, "\n", 1) < 0)
		return gpgme_error_from_syserror();
	return 0;
}

int
pgp_keyring_revoke(struct pgp_keyring *kr, const char *fpr,
    const char **error_r)
{
	struct revoke_state st = { 0, 0 };
	gpgme_ctx_t ctx = NULL;
	gpgme_data_t out = NULL;
	gpgme_key_t key = NULL;
	gpgme_error_t e;
	int rc = -1;

	if (kr->pw == NULL)
		return err_set(error_r, "revocation needs the keyring "
		    "passphrase (master key)");
	if (pgp_keyring_ctx(kr, &ctx, error_r) < 0)
		return -1;
	if ((e = gpgme_data_new(&out)) != 0) {
		err_set(error_r, "%s", pgp_strerror("gpgme data", e));
		goto out;
	}
	if (pgp_keyring_lock(kr, 1, error_r) < 0)
		goto out;
	if (pgp_keyring_getkey(ctx, fpr, 1, &key, error_r) < 0)
		goto unlock;
	e = gpgme_op_interact(ctx, key, 0, revoke_cb, &st, out);
	if (e != 0) {
		err_set(error_r, "%s", pgp_strerror(err_fmt(
		    "cannot revoke '%s'", fpr), e));
		goto unlock;
	}
	rc = 0;
unlock:
	pgp_keyring_unlock(kr);
out:
	gpgme_key_unref(key);
	gpgme_data_release(out);
	gpgme_release(ctx);
	return rc;
}

static int
prefs_text(struct buf *b, const char *cipher, const char *digest)
{
	size_t i;
	const char *v[2] = { cipher, digest };

	for (i = 0; i < 2; i++) {
		const char *p;

		if (v[i] == NULL)
			continue;
		for (p = v[i]; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p))
				return -1;
	}
	if (buf_puts(b, gpg_conf_base) < 0)
		return -1;
	if (cipher != NULL && *cipher != '\0' &&
	    buf_printf(b, "personal-cipher-preferences %s\n", cipher) < 0)
		return -1;
	if (digest != NULL && *digest != '\0' &&
	    (buf_printf(b, "personal-digest-preferences %s\n", digest) < 0 ||
	    buf_printf(b, "cert-digest-algo %s\n", digest) < 0))
		return -1;
	return 0;
}

int
pgp_keyring_prefs_locked(struct pgp_keyring *kr, const char *cipher,
    const char *digest, int *need_exclusive_r, const char **error_r)
{
	struct buf want;
	char path[PGP_HOME_MAX + 32], cur[4096];
	ssize_t got = -1;
	int fd, rc = -1;

	*need_exclusive_r = 0;
	buf_init(&want, 4096);
	if (prefs_text(&want, cipher, digest) < 0) {
		err_set(error_r, "bad algorithm name '%s'/'%s'",
		    cipher ? cipher : "", digest ? digest : "");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/gpg.conf", kr->home);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		got = read(fd, cur, sizeof(cur));
		close(fd);
	}
	if (got == (ssize_t)want.len && memcmp(cur, want.data, want.len) == 0) {
		rc = 0;
		goto out;
	}
	if (kr->locked != 2) {
		*need_exclusive_r = 1;
		err_set(error_r, "changing gpg.conf needs the exclusive lock");
		goto out;
	}
	rc = write_file_atomic(kr->home, "gpg.conf", want.data, error_r);
out:
	buf_release(&want);
	return rc;
}
