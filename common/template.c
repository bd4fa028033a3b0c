/* template: notification messages from MIME templates (template.h). */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "mime.h"
#include "mime_codec.h"
#include "secret.h"
#include "template.h"

struct template_builtin {
	const char *name;
	const char *text;
};
/* generated from conf/templates/ by common/gen-templates.sh */
extern const struct template_builtin template_builtins[];

const char *
template_builtin(const char *name)
{
	size_t i;

	for (i = 0; template_builtins[i].name != NULL; i++)
		if (strcmp(template_builtins[i].name, name) == 0)
			return template_builtins[i].text;
	return NULL;
}

static int
read_file(const char *path, struct buf *out, const char **error_r)
{
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(error_r, "cannot open '%s': %s", path,
		    strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(out, chunk, (size_t)n) < 0) {
			close(fd);
			return err_set(error_r, "'%s' is larger than %d bytes",
			    path, TEMPLATE_MAX);
		}
	if (n < 0) {
		err_set(error_r, "cannot read '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
template_load(const char *dir, const char *value, const char *builtin,
    struct buf *out, const char **error_r)
{
	const char *text = template_builtin(builtin), *why = NULL;
	char path[4096];
	struct buf file;

	if (text == NULL)
		return err_set(error_r, "no built-in template '%s'", builtin);
	buf_init(&file, TEMPLATE_MAX);
	if (value == NULL || value[0] == '\0')
		why = "no template file set";
	else if (value[0] != '/' && (strchr(value, '/') != NULL ||
	    value[0] == '.'))
		why = err_fmt("bad template name '%s'", value);
	else if ((size_t)snprintf(path, sizeof(path), "%s%s%s",
	    value[0] == '/' ? "" : dir, value[0] == '/' ? "" : "/",
	    value) >= sizeof(path))
		why = "template path too long";
	else if (read_file(path, &file, &why) == 0) {
		int rc = buf_append(out, file.data != NULL ? file.data : "",
		    file.len);

		buf_release(&file);
		return rc < 0 ? err_set(error_r, "out of memory") : 0;
	}
	buf_release(&file);
	if (buf_puts(out, text) < 0)
		return err_set(error_r, "out of memory");
	err_set(error_r, "%s; using the built-in '%s' template", why, builtin);
	return 1;
}

/* Append value for the header (control characters become spaces). */
static int
put_value(struct buf *out, const char *v, int header)
{
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (header && (c < 0x20 || c == 0x7f))
			c = ' ';
		if (buf_putc(out, (char)c) < 0)
			return -1;
	}
	return 0;
}

static int
substitute(const char *text, size_t len, const struct template_var *vars,
    size_t nvars, size_t body_at, struct buf *out)
{
	size_t i = 0, k;

	while (i < len) {
		const char *end;
		size_t nl;

		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') {
			i++;	/* the result uses LF line ends */
			continue;
		}
		if (text[i] != '$') {
			if (buf_putc(out, text[i++]) < 0)
				return -1;
			continue;
		}
		if (i + 1 < len && text[i + 1] == '$') {
			if (buf_putc(out, '$') < 0)
				return -1;
			i += 2;
			continue;
		}
		end = i + 2 < len && text[i + 1] == '{' ?
		    memchr(text + i + 2, '}', len - i - 2) : NULL;
		nl = end != NULL ? (size_t)(end - (text + i + 2)) : 0;
		for (k = 0; end != NULL && k < nvars; k++)
			if (strlen(vars[k].name) == nl &&
			    strncmp(vars[k].name, text + i + 2, nl) == 0)
				break;
		if (end == NULL || k == nvars) {
			if (buf_putc(out, text[i++]) < 0)
				return -1;
			continue;
		}
		if (put_value(out, vars[k].value != NULL ? vars[k].value : "",
		    i < body_at) < 0)
			return -1;
		i += nl + 3;
	}
	return 0;
}

/* Header fields with 8-bit text: encode them (RFC 2047). */
static int
encode_8bit_fields(struct mime_message *m, const char **error_r)
{
	struct mime_entity *root = m->root;
	size_t i, rounds = 0;

	for (i = 0; i < root->nfields; i++) {
		const struct mime_field *f = &root->fields[i];
		char name[128];
		struct buf v;
		int rc;

		if (!mime_has_8bit(f->raw, f->raw_len))
			continue;
		if (f->name_len == 0 || f->name_len >= sizeof(name))
			return err_set(error_r, "bad header field in template");
		memcpy(name, f->raw, f->name_len);
		name[f->name_len] = '\0';
		buf_init(&v, TEMPLATE_MAX);
		rc = mime_field_decoded(f, &v, NULL);
		if (rc == 0)
			rc = mime_header_replace(m, root, name, v.data != NULL ?
			    v.data : "", error_r);
		else
			err_set(error_r, "header field too long");
		buf_release(&v);
		if (rc < 0)
			return -1;
		if (++rounds > 64)
			return err_set(error_r, "too many 8-bit header fields");
		i = (size_t)-1;	/* the field list changed: start over */
	}
	return 0;
}

static int
add_missing(struct mime_message *m, int eightbit, const char **error_r)
{
	struct mime_entity *root = m->root;
	char date[64], mid[128];
	unsigned char rnd[12];
	char host[256];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;

	if (mime_field_find(root, "Date", 0) == NULL) {
		localtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
		if (mime_header_add(m, root, "Date", date, MIME_BOTTOM,
		    error_r) < 0)
			return -1;
	}
	if (mime_field_find(root, "Message-ID", 0) == NULL) {
		if (secret_random(rnd, sizeof(rnd)) < 0)
			return err_set(error_r, "no random bytes");
		if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		i = (size_t)snprintf(mid, sizeof(mid), "<postern.%lld.",
		    (long long)now);
		for (size_t k = 0; k < sizeof(rnd) && i + 3 < sizeof(mid); k++)
			i += (size_t)snprintf(mid + i, sizeof(mid) - i, "%02x",
			    rnd[k]);
		snprintf(mid + i, sizeof(mid) - i, "@%.60s>", host);
		if (mime_header_add_raw(m, root, "Message-ID", mid, MIME_BOTTOM,
		    error_r) < 0)
			return -1;
	}
	if (mime_field_find(root, "Auto-Submitted", 0) == NULL &&
	    mime_header_add(m, root, "Auto-Submitted", "auto-generated",
	    MIME_BOTTOM, error_r) < 0)
		return -1;
	if (mime_field_find(root, "MIME-Version", 0) == NULL &&
	    mime_header_add(m, root, "MIME-Version", "1.0", MIME_BOTTOM,
	    error_r) < 0)
		return -1;
	if (mime_field_find(root, "Content-Type", 0) == NULL &&
	    mime_header_add_raw(m, root, "Content-Type",
	    "text/plain; charset=UTF-8", MIME_BOTTOM, error_r) < 0)
		return -1;
	if (eightbit && mime_field_find(root, "Content-Transfer-Encoding",
	    0) == NULL && mime_header_add(m, root, "Content-Transfer-Encoding",
	    "8bit", MIME_BOTTOM, error_r) < 0)
		return -1;
	return 0;
}

int
template_render(const char *text, size_t len,
    const struct template_var *vars, size_t nvars, struct buf *out,
    const char **error_r)
{
	struct mime_message *m = NULL;
	struct buf sub;
	size_t body_at = 0, pos = 0;
	int rc = -1;

	/* the offset of the blank line: header substitutions differ */
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;

		if (l == 0 || (l == 1 && text[pos] == '\r'))
			break;
		pos += l + 1;
	}
	body_at = pos;
	buf_init(&sub, 4 * TEMPLATE_MAX);
	if (substitute(text, len, vars, nvars, body_at, &sub) < 0) {
		err_set(error_r, "notification too large");
		goto out;
	}
	if (sub.len == 0) {
		err_set(error_r, "empty template");
		goto out;
	}
	m = mime_parse(sub.data, sub.len, NULL, error_r);
	if (m == NULL)
		goto out;
	if (encode_8bit_fields(m, error_r) < 0 ||
	    add_missing(m, mime_has_8bit(sub.data, sub.len), error_r) < 0)
		goto out;
	if (mime_emit_buf(m, m->root, MIME_EMIT_LF, out, error_r) < 0)
		goto out;
	rc = 0;
out:
	mime_message_free(&m);
	buf_release(&sub);
	return rc;
}
