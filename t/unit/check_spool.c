/*
 * spool: memory phase, spill to a private file, size limit exact and +1,
 * private directory checks, chunked input parsed from the view.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mime.h"
#include "mimetest.h"
#include "spool.h"
#include "testutil.h"

static int
dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The mode of the open file of ours that lived in dir (-1: none). */
static int
spool_file_mode(const char *dir)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int mode = -1;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char link[300], target[4096];
		struct stat st;
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, dir, strlen(dir)) == 0 &&
		    target[strlen(dir)] == '/' && stat(link, &st) == 0)
			mode = (int)(st.st_mode & 0777);
	}
	closedir(d);
	return mode;
}

START_TEST(memory_then_file)
{
	char *tmp = tu_tmpdir(), *priv = tu_path(tmp, "spool");
	struct spool *sp = spool_new(4096, 1 << 20, priv);
	const char *error = NULL, *view;
	char chunk[1000];
	size_t len, i;
	struct stat st;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)('a' + i % 26);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(spool_append(sp, chunk, sizeof(chunk), &error),
		    SPOOL_OK);
	ck_assert_int_eq(spool_in_file(sp), 0);		/* 4000 <= 4096 */
	ck_assert_int_eq(spool_append(sp, chunk, 96, &error), SPOOL_OK);
	ck_assert_int_eq(spool_in_file(sp), 0);		/* exactly 4096 */
	ck_assert_int_eq(spool_append(sp, chunk, 1, &error), SPOOL_OK);
	ck_assert_int_eq(spool_in_file(sp), 1);		/* 4097: spilled */
	/* private directory created 0700; the file is already unlinked */
	ck_assert_int_eq(stat(priv, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(dir_entries(priv), 0);
	/* the unlinked file itself, found through /proc: mode 0600 */
	ck_assert_int_eq(spool_file_mode(priv), 0600);
	ck_assert_int_eq(spool_view(sp, &view, &len, &error), SPOOL_OK);
	ck_assert_uint_eq(len, 4097);
	ck_assert_uint_eq(spool_size(sp), 4097);
	for (i = 0; i < 4; i++)
		ck_assert(memcmp(view + i * 1000, chunk, 1000) == 0);
	ck_assert(memcmp(view + 4000, chunk, 96) == 0);
	ck_assert_int_eq(view[4096], 'a');
	/* sealed */
	ck_assert_int_eq(spool_append(sp, "x", 1, &error), SPOOL_ERROR);
	ck_assert_str_eq(error, "spool is sealed");
	spool_free(&sp);
	ck_assert(sp == NULL);
	spool_free(&sp);
	free(priv);
	tu_tmpdir_free(&tmp);
}
END_TEST

START_TEST(size_limit)
{
	char *tmp = tu_tmpdir(), *file = tu_path(tmp, "file");
	char *bad = tu_path(file, "sub");	/* below a regular file */
	struct spool *sp = spool_new(4096, 10000, bad);
	const char *error = NULL, *view;
	char chunk[5000];
	size_t len;

	memset(chunk, 'x', sizeof(chunk));
	ck_assert_int_eq(tu_write_file(file, "x"), 0);
	ck_assert_int_eq(spool_append(sp, chunk, 4000, &error), SPOOL_OK);
	/* the spill fails: the directory cannot be created */
	ck_assert_int_eq(spool_append(sp, chunk, 5000, &error), SPOOL_ERROR);
	ck_assert_msg(strstr(error, "cannot create '") != NULL &&
	    strstr(error, "Not a directory") != NULL, "got %s", error);
	spool_free(&sp);

	sp = spool_new(20000, 10000, bad);
	ck_assert_int_eq(spool_append(sp, chunk, 5000, &error), SPOOL_OK);
	ck_assert_int_eq(spool_append(sp, chunk, 5000, &error), SPOOL_OK);
	ck_assert_int_eq(spool_view(sp, &view, &len, &error), SPOOL_OK);
	ck_assert_uint_eq(len, 10000);		/* exactly the limit */
	spool_free(&sp);

	sp = spool_new(20000, 10000, bad);
	ck_assert_int_eq(spool_append(sp, chunk, 5000, &error), SPOOL_OK);
	ck_assert_int_eq(spool_append(sp, chunk, 5001, &error),
	    SPOOL_TOO_BIG);
	ck_assert_str_eq(error, "message larger than 10000 bytes");
	/* never truncated: later appends and the view refuse too */
	ck_assert_int_eq(spool_append(sp, chunk, 1, &error), SPOOL_TOO_BIG);
	ck_assert_int_eq(spool_view(sp, &view, &len, &error), SPOOL_TOO_BIG);
	spool_free(&sp);
	free(bad);
	free(file);
	tu_tmpdir_free(&tmp);
}
END_TEST

START_TEST(private_dir_checked)
{
	char *tmp = tu_tmpdir(), *open_dir = tu_path(tmp, "open");
	struct spool *sp;
	const char *error = NULL;
	char chunk[5000];

	memset(chunk, 'y', sizeof(chunk));
	ck_assert_int_eq(mkdir(open_dir, 0755), 0);
	ck_assert_int_eq(chmod(open_dir, 0755), 0);
	sp = spool_new(4096, 1 << 20, open_dir);
	ck_assert_int_eq(spool_append(sp, chunk, sizeof(chunk), &error),
	    SPOOL_ERROR);
	ck_assert_msg(strstr(error, "is not private") != NULL, "got %s",
	    error);
	spool_free(&sp);
	free(open_dir);
	tu_tmpdir_free(&tmp);
}
END_TEST

START_TEST(empty_and_config)
{
	struct config *cfg = config_defaults();
	struct spool *sp = spool_new_config(cfg);
	const char *error, *view = NULL;
	size_t len = 1;

	ck_assert_int_eq(spool_view(sp, &view, &len, &error), SPOOL_OK);
	ck_assert(view != NULL);
	ck_assert_uint_eq(len, 0);
	spool_free(&sp);
	config_free(&cfg);
}
END_TEST

/* The milter path: CRLF chunks appended, spilled, parsed from the map. */
START_TEST(chunks_to_parser)
{
	char *tmp = tu_tmpdir();
	struct spool *sp = spool_new(4096, 1 << 20, tmp);
	struct mime_parser *p = mime_parser_new(NULL);
	struct mime_message *m;
	struct buf msg;
	const char *error, *view;
	size_t len, off, i;
	char *out;

	ck_assert_int_eq(chmod(tmp, 0700), 0);
	buf_init(&msg, 0);
	buf_puts(&msg, "Content-Type: multipart/mixed; boundary=q\r\n\r\n");
	for (i = 0; i < 50; i++)
		buf_printf(&msg, "--q\r\nX-N: %zu\r\n\r\n%0200zu\r\n", i, i);
	buf_puts(&msg, "--q--\r\n");
	for (off = 0; off < msg.len; off += 777) {
		size_t n = msg.len - off < 777 ? msg.len - off : 777;

		ck_assert_int_eq(spool_append(sp, msg.data + off, n, &error),
		    SPOOL_OK);
		ck_assert_int_eq(mime_parser_feed(p, msg.data + off, n,
		    &error), 0);
	}
	ck_assert_int_eq(spool_in_file(sp), 1);
	ck_assert_int_eq(spool_view(sp, &view, &len, &error), SPOOL_OK);
	m = mime_parser_finish(&p, view, len, &error);
	ck_assert(m != NULL);
	ck_assert_uint_eq(m->root->nchildren, 50);
	out = mt_emit(m, 0);
	ck_assert_str_eq(out, msg.data);
	free(out);
	mime_message_free(&m);
	spool_free(&sp);
	buf_release(&msg);
	tu_tmpdir_free(&tmp);
}
END_TEST

Suite *
spool_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, memory_then_file);
	tcase_add_test(tc, size_limit);
	tcase_add_test(tc, private_dir_checked);
	tcase_add_test(tc, empty_and_config);
	tcase_add_test(tc, chunks_to_parser);
	suite_add_tcase(s, tc);
	return s;
}
