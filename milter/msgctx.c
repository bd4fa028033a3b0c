#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "mime.h"
#include "msgctx.h"
#include "spool.h"

struct msgctx *
msgctx_new(const struct config *cfg, const char *env_from)
{
	struct msgctx *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	strcpy(m->qid, "NOQUEUE");
	m->env_from = strdup(env_from != NULL ? env_from : "");
	m->sp = spool_new(config_int(cfg, "spool_memory_max"),
	    config_int(cfg, "milter_max_message_size"),
	    config_str(cfg, "temp_directory"));
	inbound_result_init(&m->result);
	buf_init(&m->hdrs, config_int(cfg, "mime_max_header_size") + 2);
	if (m->env_from == NULL || m->sp == NULL)
		msgctx_free(&m);
	return m;
}

void
msgctx_free(struct msgctx **mp)
{
	struct msgctx *m = *mp;
	size_t i;

	if (m == NULL)
		return;
	*mp = NULL;
	for (i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	free(m->env_from);
	spool_free(&m->sp);
	inbound_result_release(&m->result);
	buf_release(&m->hdrs);
	edits_release(&m->edits);
	free(m);
}

void
msgctx_set_qid(struct msgctx *m, const char *qid)
{
	if (qid == NULL || *qid == '\0')
		return;
	strncpy(m->qid, qid, sizeof(m->qid) - 1);
	m->qid[sizeof(m->qid) - 1] = '\0';
}

/* Remember the first internal failure (error strings are short-lived). */
static void
set_error(struct msgctx *m, const char *error)
{
	if (m->error[0] == '\0')
		snprintf(m->error, sizeof(m->error), "%s", error);
}

int
msgctx_rcpt(struct msgctx *m, const char *rcpt, const char **error_r)
{
	char **v = realloc(m->rcpts, (m->nrcpts + 1) * sizeof(*v));
	size_t l;

	if (v == NULL)
		goto oom;
	m->rcpts = v;
	/* strip the angle brackets libmilter passes */
	if (*rcpt == '<')
		rcpt++;
	l = strcspn(rcpt, ">");
	if ((v[m->nrcpts] = strndup(rcpt, l)) == NULL)
		goto oom;
	m->nrcpts++;
	return 0;
oom:
	set_error(m, "out of memory");
	return err_set(error_r, "out of memory");
}

static int
add(struct msgctx *m, const void *data, size_t len, const char **error_r)
{
	int rc;

	/* Keep the header block apart too (bounded), so a message too
	 * large to process still gets its forged info headers removed. */
	if (!m->eoh_seen && !m->hdrs_truncated &&
	    buf_append(&m->hdrs, data, len) < 0)
		m->hdrs_truncated = 1;

	if (m->too_big || m->error[0] != '\0')
		return 0;
	rc = spool_append(m->sp, data, len, error_r);
	if (rc == SPOOL_TOO_BIG) {
		m->too_big = 1;
		return 0;
	}
	if (rc != SPOOL_OK) {
		set_error(m, *error_r);
		return -1;
	}
	return 0;
}

int
msgctx_header(struct msgctx *m, const char *name, const char *value,
    const char **error_r)
{
	const char *p;
	int rc = 0;

	/* every piece is added even after a failure: the header block
	 * must stay whole for msgctx_strip_only() */
	if (add(m, name, strlen(name), error_r) < 0)
		rc = -1;
	if (add(m, ":", 1, error_r) < 0)
		rc = -1;
	if (*value != ' ' && *value != '\t' && add(m, " ", 1, error_r) < 0)
		rc = -1;
	/* folded values come with bare LF; the wire form is CRLF */
	for (p = value; *p != '\0';) {
		size_t l = strcspn(p, "\r\n");

		if (add(m, p, l, error_r) < 0)
			rc = -1;
		p += l;
		if (*p == '\r')
			p++;
		if (*p == '\n') {
			p++;
			if (add(m, "\r\n", 2, error_r) < 0)
				rc = -1;
		}
	}
	if (add(m, "\r\n", 2, error_r) < 0)
		rc = -1;
	return rc;
}

int
msgctx_eoh(struct msgctx *m, const char **error_r)
{
	int rc = add(m, "\r\n", 2, error_r);

	m->body_off = spool_size(m->sp);
	m->eoh_seen = 1;
	return rc;
}

int
msgctx_body(struct msgctx *m, const void *data, size_t len,
    const char **error_r)
{
	return add(m, data, len, error_r);
}

int
msgctx_raw(struct msgctx *m, const void *data, size_t len,
    const char **error_r)
{
	return add(m, data, len, error_r);
}

static int
emit_cb(void *ctx, const void *data, size_t len)
{
	return buf_append(ctx, data, len);
}

int
msgctx_eom(struct msgctx *m, const struct inbound_env *env, struct buf *out,
    const char **error_r)
{
	struct mime_limits lim;
	struct mime_message *msg = NULL;
	struct edit_fields orig = { 0 };
	struct inbound_msg im;
	const char *data;
	size_t len, body_off;
	int rc = INBOUND_TEMPFAIL, vs;

	if (m->error[0] != '\0') {
		*error_r = m->error;
		return INBOUND_TEMPFAIL;
	}
	vs = spool_view(m->sp, &data, &len, error_r);
	if (vs == SPOOL_TOO_BIG)
		m->too_big = 1;
	else if (vs != SPOOL_OK)
		return INBOUND_TEMPFAIL;
	if (m->too_big) {
		if (m->hdrs_truncated)
			return err_set(error_r, "header block larger than "
			    "mime_max_header_size");
		/* only the header block: strip ours, add "too large" */
		data = m->hdrs.data != NULL ? m->hdrs.data : "";
		len = m->hdrs.len;
	}
	mime_limits_from_config(&lim, env->cfg);
	msg = mime_parse(data, len, &lim, error_r);
	if (msg == NULL)
		return INBOUND_TEMPFAIL;
	if (edit_fields_snapshot(msg, &orig, error_r) < 0)
		goto out;
	im.qid = m->qid;
	im.env_from = m->env_from;
	im.rcpts = m->rcpts;
	im.nrcpts = m->nrcpts;
	im.too_big = m->too_big;
	if (inbound_process(env, &im, msg, &m->result, error_r) != INBOUND_OK)
		goto out;
	body_off = msg->root->from_input ? msg->root->body_start : len;
	if (m->eoh_seen && !m->too_big)
		body_off = m->body_off;
	if (edits_compute(&orig, data + body_off, len - body_off, msg,
	    &m->edits, error_r) < 0)
		goto out;
	if (m->too_big)
		m->edits.replace_body = 0;
	if (out != NULL && mime_emit(msg, msg->root, 0, emit_cb, out,
	    error_r) < 0)
		goto out;
	rc = INBOUND_OK;
out:
	edit_fields_release(&orig);
	mime_message_free(&msg);
	return rc;
}

int
msgctx_strip_only(struct msgctx *m, const struct config *cfg,
    const char **error_r)
{
	struct mime_limits lim;
	struct mime_message *msg;
	struct edit_fields orig = { 0 };
	int rc = -1;

	edits_release(&m->edits);
	m->result.stripped = 0;
	if (!m->eoh_seen || m->hdrs_truncated)
		return err_set(error_r, "the header block was not kept whole");
	mime_limits_from_config(&lim, cfg);
	msg = mime_parse(m->hdrs.data != NULL ? m->hdrs.data : "", m->hdrs.len,
	    &lim, error_r);
	if (msg == NULL)
		return -1;
	if (edit_fields_snapshot(msg, &orig, error_r) < 0)
		goto out;
	m->result.stripped = inbound_strip_info(cfg, msg);
	/* the parsed block has an empty body, so has the new one */
	if (edits_compute(&orig, "", 0, msg, &m->edits, error_r) < 0)
		goto out;
	m->edits.replace_body = 0;
	rc = 0;
out:
	edit_fields_release(&orig);
	mime_message_free(&msg);
	return rc;
}
