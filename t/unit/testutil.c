#include <sys/stat.h>
#include <sys/wait.h>

#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "store.h"
#include "log.h"
#include "testutil.h"

char *
tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&dir, "%s/postern-t.XXXXXX", base) < 0)
		return NULL;
	if (mkdtemp(dir) == NULL) {
		free(dir);
		return NULL;
	}
	return dir;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tu_tmpdir_free(char **dir)
{
	if (*dir == NULL)
		return;
	nftw(*dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(*dir);
	*dir = NULL;
}

char *
tu_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

int
tu_write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp) == 0 ? 0 : -1;
}

char *
tu_read_file(const char *path, size_t *len_r)
{
	FILE *fp = fopen(path, "rb");
	struct buf b;
	char chunk[65536];
	size_t n;

	if (fp == NULL)
		return NULL;
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	return buf_steal(&b, len_r);
}

int
tu_sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	r = system(cmd);
	free(cmd);
	if (r == -1 || !WIFEXITED(r))
		return -1;
	return WEXITSTATUS(r);
}

static pthread_mutex_t tu_log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct buf tu_log_buf;

static void
tu_sink(enum log_level level, const char *line, void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&tu_log_lock);
	buf_printf(&tu_log_buf, "%s: %s\n", log_level_name(level), line);
	pthread_mutex_unlock(&tu_log_lock);
}

void
tu_log_capture(void)
{
	buf_release(&tu_log_buf);
	buf_init(&tu_log_buf, 0);
	log_set_sink(tu_sink, NULL);
	log_set_level(LOG_LEVEL_DEBUG);
}

void
tu_log_stop(void)
{
	log_use_stderr();
	log_set_level(LOG_LEVEL_INFO);
	buf_release(&tu_log_buf);
}

int
tu_log_has(const char *needle)
{
	return tu_log_buf.data != NULL && strstr(tu_log_buf.data, needle) != NULL;
}

const char *
tu_log_text(void)
{
	return tu_log_buf.data != NULL ? tu_log_buf.data : "";
}

const char *
tu_corpora(void)
{
	static char path[4096];
	const char *env = getenv("POSTERN_CORPORA");
	struct stat sb;

	if (env != NULL && *env != '\0')
		return stat(env, &sb) == 0 ? env : NULL;
	if (getcwd(path, sizeof(path) - 32) == NULL)
		return NULL;
	strcat(path, "/../shared/corpora");
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? path : NULL;
}

int
tu_store_exec(struct store *st, const char *sql)
{
	return sqlite3_exec(store_db(st), sql, NULL, NULL, NULL) == SQLITE_OK ?
	    0 : -1;
}

void
tu_child_exit(int code)
{
	char cmd[32];

	snprintf(cmd, sizeof(cmd), "exit %d", code & 0xff);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(code);
}
