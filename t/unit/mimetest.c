#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mimetest.h"
#include "testutil.h"

static void
tree_one(const struct mime_entity *e, struct buf *out)
{
	const struct mime_entity *c;

	buf_printf(out, "%s/%s[%zu,%zu,%zu,%zu,%zu,%zu]%d d%x f%zu", e->type,
	    e->subtype, e->start, e->header_len, e->body_start, e->end,
	    e->slot_start, e->slot_end, (int)e->cte, e->damage, e->nfields);
	if (e->boundary != NULL)
		buf_printf(out, " b=%s", e->boundary);
	if (e->children != NULL) {
		buf_putc(out, '{');
		for (c = e->children; c != NULL; c = c->next) {
			tree_one(c, out);
			if (c->next != NULL)
				buf_putc(out, ' ');
		}
		buf_putc(out, '}');
	}
}

void
mt_tree_str(const struct mime_message *m, struct buf *out)
{
	buf_printf(out, "eol=%d n=%u d%x ", (int)m->eol, m->nparts, m->damage);
	tree_one(m->root, out);
}

struct mime_message *
mt_parse_chunks(const char *data, size_t len, const struct mime_limits *lim,
    const size_t *cuts, size_t ncuts)
{
	struct mime_parser *p = mime_parser_new(lim);
	struct mime_message *m;
	const char *error = NULL;
	size_t off = 0, i;

	ck_assert(p != NULL);
	for (i = 0; i < ncuts && off < len; i++) {
		size_t n = cuts[i] < len - off ? cuts[i] : len - off;

		ck_assert_int_eq(mime_parser_feed(p, data + off, n, &error), 0);
		off += n;
	}
	ck_assert_int_eq(mime_parser_feed(p, data + off, len - off, &error),
	    0);
	m = mime_parser_finish(&p, data, len, &error);
	ck_assert_msg(m != NULL, "finish: %s", error);
	ck_assert(p == NULL);
	return m;
}

struct mime_message *
mt_parse(const char *s)
{
	return mt_parse_chunks(s, strlen(s), NULL, NULL, 0);
}

char *
mt_emit(const struct mime_message *m, unsigned flags)
{
	struct buf b;
	const char *error = NULL;

	buf_init(&b, 0);
	ck_assert_msg(mime_emit_buf(m, NULL, flags, &b, &error) == 0,
	    "emit: %s", error);
	return buf_steal(&b, NULL);
}

static const char *const corpus_dirs[] = {
	"thunderbird", "gmime", "mimekit", "mime-is-broken", "rfc4134",
	"protected-headers",
};

static int
is_message(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot != NULL && (strcmp(dot, ".eml") == 0 ||
	    strcmp(dot, ".mbox") == 0 || strcmp(dot, ".msg") == 0);
}

static void
scan(const char *dir, char ***files, size_t *n, size_t *cap)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *p;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
			continue;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			scan(p, files, n, cap);
			free(p);
		} else if (S_ISREG(st.st_mode) && is_message(de->d_name)) {
			if (*n + 2 > *cap) {
				*cap = *cap ? *cap * 2 : 256;
				*files = realloc(*files, *cap * sizeof(char *));
			}
			(*files)[(*n)++] = p;
			(*files)[*n] = NULL;
		} else
			free(p);
	}
	closedir(d);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
mt_corpus_files(size_t *n_r)
{
	const char *top = tu_corpora();
	char **files = NULL;
	size_t n = 0, cap = 0, i;

	*n_r = 0;
	if (top == NULL)
		return NULL;
	for (i = 0; i < sizeof(corpus_dirs) / sizeof(corpus_dirs[0]); i++) {
		char *d;

		if (asprintf(&d, "%s/%s", top, corpus_dirs[i]) < 0)
			continue;
		scan(d, &files, &n, &cap);
		free(d);
	}
	if (files != NULL)
		qsort(files, n, sizeof(char *), cmpstr);
	*n_r = n;
	return files;
}

void
mt_files_free(char **files)
{
	size_t i;

	if (files == NULL)
		return;
	for (i = 0; files[i] != NULL; i++)
		free(files[i]);
	free(files);
}
