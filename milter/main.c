/*
 * postern-milter: decrypts and verifies S/MIME and OpenPGP mail before
 * the MTA accepts it, so content scanners behind it see plaintext.
 *
 *	postern-milter [-F] [-c FILE] [-p SOCKET] [-u USER[:GROUP]] [-P PIDFILE]
 *	postern-milter [-c FILE] -t MESSAGE -f SENDER -r RCPT [-r RCPT ...]
 *
 * The second form runs the end-of-message path on a file, without
 * libmilter, writing the resulting message to stdout and the log line
 * to stderr: the way to answer "why wasn't this decrypted?".
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "inbound.h"
#include "log.h"
#include "mlfi.h"
#include "msgctx.h"
#include "pgp_keyring.h"
#include "secret.h"
#include "store.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: postern-milter [-F] [-c file] [-p socket] "
	    "[-u user[:group]] [-P pidfile]\n"
	    "       postern-milter [-c file] -t message -f sender "
	    "-r rcpt [-r rcpt ...]\n");
	exit(2);
}

static void
drop_privileges(const char *spec)
{
	char user[256], *group;
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (strlen(spec) >= sizeof(user))
		log_fatal(NULL, "bad -u argument '%s'", spec);
	strcpy(user, spec);
	group = strchr(user, ':');
	if (group != NULL)
		*group++ = '\0';
	pw = getpwnam(user);
	if (pw == NULL)
		log_fatal(NULL, "unknown user '%s'", user);
	gid = pw->pw_gid;
	if (group != NULL && *group != '\0') {
		gr = getgrnam(group);
		if (gr == NULL)
			log_fatal(NULL, "unknown group '%s'", group);
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		log_fatal(NULL, "cannot become '%s': %s", spec,
		    strerror(errno));
	if (setuid(0) == 0)
		log_fatal(NULL, "privileges could be regained after "
		    "dropping them");
}

/* Give the socket to USER[:GROUP] so the MTA's group can connect. */
static void
chown_socket(const char *path, const char *spec)
{
	char name[256];
	const char *group = strchr(spec, ':');
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(spec, ":"), spec);
	pw = getpwnam(name);
	if (pw == NULL)
		log_fatal(NULL, "unknown user '%s'", name);
	gid = pw->pw_gid;
	if (group != NULL && group[1] != '\0') {
		gr = getgrnam(group + 1);
		if (gr == NULL)
			log_fatal(NULL, "unknown group '%s'", group + 1);
		gid = gr->gr_gid;
	}
	if (chown(path, pw->pw_uid, gid) < 0)
		log_fatal(NULL, "cannot chown '%s': %s", path, strerror(errno));
}

static void
daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		log_fatal(NULL, "cannot fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		log_fatal(NULL, "setsid: %s", strerror(errno));
	if (chdir("/") < 0)
		log_fatal(NULL, "chdir /: %s", strerror(errno));
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

static void
write_pidfile(const char *path)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		log_fatal(NULL, "cannot write pidfile '%s': %s", path,
		    strerror(errno));
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0)
		log_fatal(NULL, "cannot write pidfile '%s': %s", path,
		    strerror(errno));
}

static void
setup_logging(const struct config *cfg, int to_stderr)
{
	log_set_level((enum log_level)log_level_parse(config_str(cfg,
	    "log_level")));
	if (to_stderr || strcmp(config_str(cfg, "log_destination"),
	    "stderr") == 0)
		return;
	if (log_open_syslog(config_str(cfg, "syslog_facility")) < 0)
		log_fatal(NULL, "bad syslog_facility '%s'",
		    config_str(cfg, "syslog_facility"));
}

static struct secret_key *
load_master_key(const struct config *cfg)
{
	struct secret_key *key;
	const char *error;

	if (secret_key_load(&key, config_str(cfg, "master_key_file"),
	    &error) < 0)
		log_fatal(NULL, "%s (run 'posternctl init')", error);
	return key;
}

/* Offline mode: the end-of-message path on a file. */
static int
offline(struct config *cfg, const char *file, const char *sender,
    char **rcpts, int nrcpts)
{
	struct inbound_env env;
	struct secret_key *mkey;
	struct msgctx *m;
	struct buf out;
	const char *error;
	char chunk[65536], kr_error[512];
	size_t n;
	FILE *fp;
	int i, rc = 75;

	fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
	if (fp == NULL) {
		log_err(NULL, "cannot open '%s': %s", file, strerror(errno));
		return 66;
	}
	memset(&env, 0, sizeof(env));
	env.cfg = cfg;
	mkey = load_master_key(cfg);
	env.mkey = mkey;
	/* the keyring only matters for OpenPGP mail: a failure is the
	 * reason OpenPGP mail tempfails */
	if (mlfi_keyring_open(cfg, mkey, &env.kr, &error) < 0) {
		snprintf(kr_error, sizeof(kr_error), "%s", error);
		env.kr_error = kr_error;
	}
	if (store_open(&env.st, config_str(cfg, "database"),
	    config_int(cfg, "store_busy_timeout"), 0, &error) < 0) {
		log_err(NULL, "%s", error);
		pgp_keyring_free(&env.kr);
		secret_key_free(&mkey);
		if (fp != stdin)
			fclose(fp);
		return 75;
	}
	buf_init(&out, 0);
	m = msgctx_new(cfg, sender);
	if (m == NULL) {
		log_err(NULL, "out of memory");
		goto out;
	}
	msgctx_set_qid(m, "OFFLINE");
	for (i = 0; i < nrcpts; i++)
		if (msgctx_rcpt(m, rcpts[i], &error) < 0)
			goto fail;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (msgctx_raw(m, chunk, n, &error) < 0)
			goto fail;
	if (ferror(fp)) {
		log_err(m->qid, "cannot read '%s': %s", file, strerror(errno));
		goto out;
	}
	if (msgctx_eom(m, &env, &out, &error) != INBOUND_OK)
		goto fail;
	if (m->too_big) {
		log_err(m->qid, "milter: message larger than "
		    "milter_max_message_size: it would pass unchanged");
		rc = 0;
		goto out;
	}
	fwrite(out.data != NULL ? out.data : "", 1, out.len, stdout);
	log_info(m->qid, "milter: %s", m->result.log.data != NULL ?
	    m->result.log.data : "");
	rc = fflush(stdout) == 0 ? 0 : 74;
	goto out;
fail:
	log_err(m != NULL ? m->qid : NULL, "milter: status=tempfail "
	    "reason=\"%s\"", error);
out:
	msgctx_free(&m);
	buf_release(&out);
	store_free(&env.st);
	if (env.kr != NULL) {
		pgp_keyring_free(&env.kr);
		(void)pgp_keyring_stop_agent(config_str(cfg, "gnupg_home"),
		    &error);
	}
	secret_key_free(&mkey);
	if (fp != stdin)
		fclose(fp);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *conf = NULL, *sock = NULL, *user = NULL, *pidfile = NULL;
	const char *tfile = NULL, *sender = NULL, *error;
	char **rcpts;
	int c, nrcpts = 0, foreground = 0, rc;
	struct config *cfg;

	log_init("postern-milter");
	rcpts = calloc((size_t)argc + 1, sizeof(*rcpts));
	if (rcpts == NULL)
		return 75;
	while ((c = getopt(argc, argv, "c:Ff:hP:p:r:t:u:")) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'F':
			foreground = 1;
			break;
		case 'f':
			sender = optarg;
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 'p':
			sock = optarg;
			break;
		case 'r':
			rcpts[nrcpts++] = optarg;
			break;
		case 't':
			tfile = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (config_load(&cfg, conf, &error) < 0)
		log_fatal(NULL, "%s", error);

	if (tfile != NULL) {
		if (sender == NULL || nrcpts == 0)
			usage();
		setup_logging(cfg, 1);
		rc = offline(cfg, tfile, sender, rcpts, nrcpts);
		config_free(&cfg);
		free(rcpts);
		return rc;
	}
	if (sender != NULL || nrcpts > 0)
		usage();

	setup_logging(cfg, foreground);
	mlfi_g.cfg = cfg;
	mlfi_g.mkey = load_master_key(cfg);
	mlfi_g.fail_action = strcmp(config_str(cfg, "milter_failure_action"),
	    "accept") == 0 ? SMFIS_ACCEPT : SMFIS_TEMPFAIL;
	if (sock == NULL)
		sock = config_str(cfg, "milter_socket");
	if (pidfile == NULL && *config_str(cfg, "milter_pidfile") != '\0')
		pidfile = config_str(cfg, "milter_pidfile");

	/* The socket must be usable by the MTA's group: umask 007. */
	umask(007);
	if (smfi_setconn((char *)sock) != MI_SUCCESS)
		log_fatal(NULL, "bad milter socket '%s'", sock);
	if (smfi_register(mlfi_desc) != MI_SUCCESS)
		log_fatal(NULL, "smfi_register failed");
	if (smfi_opensocket(1) != MI_SUCCESS)
		log_fatal(NULL, "cannot open milter socket '%s'", sock);
	if (!foreground)
		daemonize();
	/* as root, so it may go where only root writes (/run) */
	if (pidfile != NULL)
		write_pidfile(pidfile);
	if (user != NULL) {
		if (strncmp(sock, "unix:", 5) == 0 ||
		    strncmp(sock, "local:", 6) == 0)
			chown_socket(strchr(sock, ':') + 1, user);
		drop_privileges(user);
	}
	if (mlfi_keyring_start(&error) < 0)
		log_warn(NULL, "OpenPGP keyring '%s': %s (OpenPGP mail will "
		    "be temporarily refused)", config_str(cfg, "gnupg_home"),
		    error);
	log_info(NULL, "starting: socket=%s", sock);
	rc = smfi_main();
	log_info(NULL, "stopping");
	mlfi_pool_shutdown();
	mlfi_keyring_shutdown();
	inbound_key_cache_flush();
	/* best effort: after -u the directory may not be ours */
	if (pidfile != NULL)
		(void)unlink(pidfile);
	secret_key_free(&mlfi_g.mkey);
	config_free(&cfg);
	free(rcpts);
	return rc == MI_SUCCESS ? 0 : 1;
}
