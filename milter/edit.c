#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edit.h"
#include "err.h"
#include "mime.h"

/* Value with white-space runs squeezed to one space, for comparison. */
static char *
squeeze(const char *v)
{
	char *out = malloc(strlen(v) + 1), *o = out;
	int sp = 0;

	if (out == NULL)
		return NULL;
	while (isspace((unsigned char)*v))
		v++;
	for (; *v != '\0'; v++) {
		if (isspace((unsigned char)*v)) {
			sp = 1;
			continue;
		}
		if (sp && o != out)
			*o++ = ' ';
		sp = 0;
		*o++ = *v;
	}
	*o = '\0';
	return out;
}

/* The raw value after "Name:", without the final EOL and CRs; leading
 * white space dropped; folds stay as LF + white space. */
static char *
field_raw_value(const struct mime_field *f)
{
	const char *p = f->raw + f->name_len;
	const char *end = f->raw + f->raw_len;
	struct buf b;

	buf_init(&b, 0);
	while (p < end && *p != ':')
		p++;
	if (p < end)
		p++;
	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < end; p++) {
		if (*p == '\r')
			continue;
		if (buf_putc(&b, *p) < 0) {
			buf_release(&b);
			return NULL;
		}
	}
	return buf_steal(&b, NULL);
}

int
edit_fields_snapshot(const struct mime_message *m, struct edit_fields *f,
    const char **error_r)
{
	const struct mime_entity *root = m->root;
	size_t i, nlen;

	f->n = 0;
	f->v = calloc(root->nfields ? root->nfields : 1, sizeof(*f->v));
	if (f->v == NULL)
		return err_set(error_r, "out of memory");
	for (i = 0; i < root->nfields; i++) {
		const struct mime_field *mf = &root->fields[i];

		nlen = mf->name_len;
		while (nlen > 0 && (mf->raw[nlen - 1] == ' ' ||
		    mf->raw[nlen - 1] == '\t'))
			nlen--;
		f->v[i].name = strndup(mf->raw, nlen);
		f->v[i].value = field_raw_value(mf);
		f->n++;
		if (f->v[i].name == NULL || f->v[i].value == NULL) {
			edit_fields_release(f);
			return err_set(error_r, "out of memory");
		}
	}
	return 0;
}

void
edit_fields_release(struct edit_fields *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].name);
		free(f->v[i].value);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

static int
push(struct edits *e, enum edit_op op, const char *name, int index,
    const char *value)
{
	struct edit *v = realloc(e->v, (e->n + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	e->v = v;
	v[e->n].op = op;
	v[e->n].index = index;
	v[e->n].name = strdup(name);
	v[e->n].value = value != NULL ? strdup(value) : NULL;
	if (v[e->n].name == NULL || (value != NULL && v[e->n].value == NULL)) {
		free(v[e->n].name);
		free(v[e->n].value);
		return -1;
	}
	e->n++;
	return 0;
}

static int
emit_cb(void *ctx, const void *data, size_t len)
{
	return buf_append(ctx, data, len);
}

int
edits_compute(const struct edit_fields *orig, const char *orig_body,
    size_t orig_body_len, const struct mime_message *m, struct edits *e,
    const char **error_r)
{
	struct edit_fields now = { 0 };
	char **sq_old = NULL, **sq_new = NULL;
	int *matched_new = NULL, *occ = NULL;
	long *fate = NULL;	/* -1 keep, -2 delete, k: change to now[k] */
	size_t i, k;
	int rc = -1;

	memset(e, 0, sizeof(*e));
	buf_init(&e->body, 0);
	if (edit_fields_snapshot(m, &now, error_r) < 0)
		return -1;
	sq_old = calloc(orig->n + 1, sizeof(*sq_old));
	sq_new = calloc(now.n + 1, sizeof(*sq_new));
	matched_new = calloc(now.n + 1, sizeof(*matched_new));
	fate = calloc(orig->n + 1, sizeof(*fate));
	occ = calloc(orig->n + 1, sizeof(*occ));
	if (sq_old == NULL || sq_new == NULL || matched_new == NULL ||
	    fate == NULL || occ == NULL)
		goto oom;
	for (i = 0; i < orig->n; i++)
		if ((sq_old[i] = squeeze(orig->v[i].value)) == NULL)
			goto oom;
	for (k = 0; k < now.n; k++)
		if ((sq_new[k] = squeeze(now.v[k].value)) == NULL)
			goto oom;
	for (i = 0; i < orig->n; i++) {
		occ[i] = 1;
		for (k = 0; k < i; k++)
			if (strcasecmp(orig->v[k].name, orig->v[i].name) == 0)
				occ[i]++;
	}
	/* pass 1: exact matches */
	for (i = 0; i < orig->n; i++) {
		fate[i] = -2;
		for (k = 0; k < now.n; k++) {
			if (matched_new[k] ||
			    strcasecmp(orig->v[i].name, now.v[k].name) != 0 ||
			    strcmp(sq_old[i], sq_new[k]) != 0)
				continue;
			matched_new[k] = 1;
			fate[i] = -1;
			break;
		}
	}
	/* pass 2: an unmatched original becomes a change when a new field
	 * of the same name is left over */
	for (i = 0; i < orig->n; i++) {
		if (fate[i] != -2)
			continue;
		for (k = 0; k < now.n; k++) {
			if (matched_new[k] ||
			    strcasecmp(orig->v[i].name, now.v[k].name) != 0)
				continue;
			matched_new[k] = 1;
			fate[i] = (long)k;
			break;
		}
	}
	for (i = 0; i < orig->n; i++)
		if (fate[i] >= 0 && push(e, EDIT_CHANGE, orig->v[i].name,
		    occ[i], now.v[fate[i]].value) < 0)
			goto oom;
	for (i = orig->n; i-- > 0;)
		if (fate[i] == -2 &&
		    push(e, EDIT_DELETE, orig->v[i].name, occ[i], NULL) < 0)
			goto oom;
	for (k = 0; k < now.n; k++)
		if (!matched_new[k] &&
		    push(e, EDIT_ADD, now.v[k].name, 0, now.v[k].value) < 0)
			goto oom;
	if (mime_emit(m, m->root, MIME_EMIT_BODY_ONLY | MIME_EMIT_CRLF,
	    emit_cb, &e->body, error_r) < 0)
		goto out;
	e->replace_body = e->body.len != orig_body_len ||
	    (orig_body_len > 0 && memcmp(e->body.data, orig_body,
	    orig_body_len) != 0);
	if (!e->replace_body)
		buf_release(&e->body);
	rc = 0;
	goto out;
oom:
	err_set(error_r, "out of memory");
out:
	for (i = 0; i < orig->n && sq_old != NULL; i++)
		free(sq_old[i]);
	for (k = 0; k < now.n && sq_new != NULL; k++)
		free(sq_new[k]);
	free(sq_old);
	free(sq_new);
	free(matched_new);
	free(fate);
	free(occ);
	edit_fields_release(&now);
	if (rc < 0)
		edits_release(e);
	return rc;
}

void
edits_release(struct edits *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		free(e->v[i].name);
		free(e->v[i].value);
	}
	free(e->v);
	e->v = NULL;
	e->n = 0;
	buf_release(&e->body);
	e->replace_body = 0;
}
