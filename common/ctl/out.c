/* posternctl output: aligned tables, key/value blocks, JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

struct ctl_table {
	int ncols;
	char **cols;
	char **cells;		/* nrows * ncols, NULL allowed */
	size_t nrows;
	size_t cap;
};

void
ctl_json_str(const char *s)
{
	const unsigned char *p;

	if (s == NULL) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		default:
			if (*p < 0x20)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

static char *
xstrdup(const char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = strdup(s);
	if (p == NULL) {
		fputs("posternctl: out of memory\n", stderr);
		exit(CTL_REFUSED);
	}
	return p;
}

struct ctl_table *
ctl_table_new(int ncols, const char *const *cols)
{
	struct ctl_table *t = calloc(1, sizeof(*t));
	int i;

	if (t == NULL || (t->cols = calloc((size_t)ncols,
	    sizeof(char *))) == NULL) {
		fputs("posternctl: out of memory\n", stderr);
		exit(CTL_REFUSED);
	}
	t->ncols = ncols;
	for (i = 0; i < ncols; i++)
		t->cols[i] = xstrdup(cols[i]);
	return t;
}

void
ctl_table_add(struct ctl_table *t, const char *const *cells)
{
	int i;

	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **p = realloc(t->cells, ncap * (size_t)t->ncols *
		    sizeof(char *));

		if (p == NULL) {
			fputs("posternctl: out of memory\n", stderr);
			exit(CTL_REFUSED);
		}
		t->cells = p;
		t->cap = ncap;
	}
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * (size_t)t->ncols + (size_t)i] =
		    xstrdup(cells[i]);
	t->nrows++;
}

static void
print_cell(const char *c, size_t w, int last)
{
	if (last)
		printf("%s\n", c);
	else
		printf("%-*s  ", (int)w, c);
}

void
ctl_table_print(struct ctl_table *t, int json)
{
	size_t r, *w;
	int i;

	if (json) {
		putchar('[');
		for (r = 0; r < t->nrows; r++) {
			printf(r ? ",\n {" : "\n {");
			for (i = 0; i < t->ncols; i++) {
				if (i)
					fputs(", ", stdout);
				ctl_json_str(t->cols[i]);
				fputs(": ", stdout);
				ctl_json_str(t->cells[r * (size_t)t->ncols +
				    (size_t)i]);
			}
			putchar('}');
		}
		puts(t->nrows ? "\n]" : "]");
		return;
	}
	w = calloc((size_t)t->ncols, sizeof(*w));
	if (w == NULL)
		exit(CTL_REFUSED);
	for (i = 0; i < t->ncols; i++) {
		w[i] = strlen(t->cols[i]);
		for (r = 0; r < t->nrows; r++) {
			const char *c = t->cells[r * (size_t)t->ncols +
			    (size_t)i];
			size_t l = c != NULL ? strlen(c) : 1;

			if (l > w[i])
				w[i] = l;
		}
	}
	for (i = 0; i < t->ncols; i++)
		print_cell(t->cols[i], w[i], i + 1 == t->ncols);
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++) {
			const char *c = t->cells[r * (size_t)t->ncols +
			    (size_t)i];

			print_cell(c != NULL ? c : "-", w[i],
			    i + 1 == t->ncols);
		}
	free(w);
}

void
ctl_table_free(struct ctl_table **tp)
{
	struct ctl_table *t = *tp;
	size_t k;
	int i;

	if (t == NULL)
		return;
	*tp = NULL;
	for (k = 0; k < t->nrows * (size_t)t->ncols; k++)
		free(t->cells[k]);
	for (i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	free(t->cells);
	free(t->cols);
	free(t);
}

void
ctl_kv_print(const char *const *keys, const char *const *vals, size_t n,
    int json)
{
	size_t i, w = 0;

	if (json) {
		putchar('{');
		for (i = 0; i < n; i++) {
			fputs(i ? ", " : "", stdout);
			ctl_json_str(keys[i]);
			fputs(": ", stdout);
			ctl_json_str(vals[i]);
		}
		puts("}");
		return;
	}
	for (i = 0; i < n; i++)
		if (strlen(keys[i]) > w)
			w = strlen(keys[i]);
	for (i = 0; i < n; i++)
		printf("%-*s  %s\n", (int)w + 1, keys[i],
		    vals[i] != NULL ? vals[i] : "-");
}
