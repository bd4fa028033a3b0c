/*
 * spool: memory up to mem_max, then an unlinked 0600 file (see spool.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "spool.h"

struct spool {
	size_t mem_max;
	size_t size_limit;
	char *tmpdir;
	char *mem;		/* memory phase */
	size_t cap;
	size_t len;
	int fd;			/* file phase, else -1 */
	char *map;		/* mmap of the file after spool_view() */
	int sealed;
	int too_big;
};

struct spool *
spool_new(size_t mem_max, size_t size_limit, const char *tmpdir)
{
	struct spool *sp;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	sp->mem_max = mem_max;
	sp->size_limit = size_limit;
	sp->fd = -1;
	if ((sp->tmpdir = strdup(tmpdir != NULL ? tmpdir : "/tmp")) == NULL) {
		free(sp);
		return NULL;
	}
	return sp;
}

struct spool *
spool_new_config(const struct config *cfg)
{
	return spool_new((size_t)config_int(cfg, "spool_memory_max"),
	    (size_t)config_int(cfg, "message_size_limit"),
	    config_str(cfg, "temp_directory"));
}

void
spool_free(struct spool **spp)
{
	struct spool *sp = *spp;

	if (sp == NULL)
		return;
	if (sp->map != NULL)
		munmap(sp->map, sp->len);
	if (sp->fd >= 0)
		close(sp->fd);
	free(sp->mem);
	free(sp->tmpdir);
	free(sp);
	*spp = NULL;
}

/* The private directory: created 0700, or checked to be ours and private. */
static int
spool_check_dir(const char *dir, const char **error_r)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_set(error_r, "cannot create '%s': %s", dir,
		    strerror(errno));
	if (lstat(dir, &st) < 0)
		return err_set(error_r, "cannot stat '%s': %s", dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(error_r, "'%s' is not a directory", dir);
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		return err_set(error_r, "'%s' is not private (want mode 0700 "
		    "and our owner)", dir);
	return 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
spool_spill(struct spool *sp, const char **error_r)
{
	char *path = NULL;
	int fd = -1, rc = -1;

	if (spool_check_dir(sp->tmpdir, error_r) < 0)
		return -1;
	if (asprintf(&path, "%s/spool.XXXXXX", sp->tmpdir) < 0) {
		path = NULL;
		err_set(error_r, "out of memory");
		goto out;
	}
	if ((fd = mkstemp(path)) < 0) {
		err_set(error_r, "cannot create '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	(void)fchmod(fd, 0600);
	(void)unlink(path);
	if (write_all(fd, sp->mem, sp->len) < 0) {
		err_set(error_r, "cannot write '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	free(sp->mem);
	sp->mem = NULL;
	sp->cap = 0;
	sp->fd = fd;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

int
spool_append(struct spool *sp, const void *data, size_t len,
    const char **error_r)
{
	if (sp->sealed)
		return err_set(error_r, "spool is sealed");
	if (sp->too_big || len > sp->size_limit ||
	    sp->len > sp->size_limit - len) {
		sp->too_big = 1;
		err_set(error_r, "message larger than %zu bytes",
		    sp->size_limit);
		return SPOOL_TOO_BIG;
	}
	if (len == 0)
		return SPOOL_OK;
	if (sp->fd < 0 && sp->len + len > sp->mem_max &&
	    spool_spill(sp, error_r) < 0)
		return SPOOL_ERROR;
	if (sp->fd >= 0) {
		if (write_all(sp->fd, data, len) < 0)
			return err_set(error_r, "cannot write spool file: %s",
			    strerror(errno));
	} else {
		if (sp->len + len > sp->cap) {
			size_t ncap = sp->cap ? sp->cap : 4096;
			char *n;

			while (ncap < sp->len + len)
				ncap *= 2;
			if (ncap > sp->mem_max)
				ncap = sp->mem_max;
			if ((n = realloc(sp->mem, ncap)) == NULL)
				return err_set(error_r, "out of memory");
			sp->mem = n;
			sp->cap = ncap;
		}
		memcpy(sp->mem + sp->len, data, len);
	}
	sp->len += len;
	return SPOOL_OK;
}

int
spool_view(struct spool *sp, const char **data_r, size_t *len_r,
    const char **error_r)
{
	static const char empty[1];

	if (sp->too_big) {
		err_set(error_r, "message larger than %zu bytes",
		    sp->size_limit);
		return SPOOL_TOO_BIG;
	}
	sp->sealed = 1;
	if (sp->fd >= 0 && sp->map == NULL && sp->len > 0) {
		void *p = mmap(NULL, sp->len, PROT_READ, MAP_PRIVATE, sp->fd,
		    0);

		if (p == MAP_FAILED)
			return err_set(error_r, "cannot map spool file: %s",
			    strerror(errno));
		sp->map = p;
	}
	if (sp->map != NULL)
		*data_r = sp->map;
	else if (sp->mem != NULL)
		*data_r = sp->mem;
	else
		*data_r = empty;
	*len_r = sp->len;
	return SPOOL_OK;
}

size_t
spool_size(const struct spool *sp)
{
	return sp->len;
}

int
spool_in_file(const struct spool *sp)
{
	return sp->fd >= 0;
}
