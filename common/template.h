/*
 * template: notification messages made from MIME message files
 * (conf/templates/, installed to /etc/postern/templates; see
 * postern-templates(5)), as CipherMail's templates (seed 003 §6).
 *
 * A template is an RFC 5322 message (LF or CRLF) with variables
 * ${name}; "$$" is a literal '$'; an unknown ${name} stays as it is.
 * In the header, a value's control characters become spaces (no header
 * injection) and a field that ends up with 8-bit text is re-encoded with
 * RFC 2047; in the body, values go in as they are (UTF-8), so a body
 * with variables should be text/plain with 8bit or no transfer
 * encoding.  template_render() adds what a notification needs when the
 * template lacks it: Date, Message-ID, MIME-Version, a text/plain UTF-8
 * Content-Type with 8bit transfer encoding, and Auto-Submitted:
 * auto-generated (RFC 3834).
 *
 * Which file: the setting value (template.encryption-failed ...) is a
 * file name in template_directory or an absolute path.  When it cannot
 * be read, template_load() says so and gives the built-in copy of the
 * shipped template, so a missing file never holds mail back.
 *
 * Limits: a template is at most TEMPLATE_MAX bytes; the rendered message
 * at most 4 times that plus the values.  Nothing is logged.
 */
#ifndef POSTERN_TEMPLATE_H
#define POSTERN_TEMPLATE_H

#include <stddef.h>

#include "buf.h"

#define TEMPLATE_MAX (256 * 1024)

struct template_var {
	const char *name;
	const char *value;
};

/*
 * Read the template named by setting value (file name or absolute
 * path) from dir into out.  builtin is the name of the built-in copy
 * ("encryption-failed", "encryption-notification").  Returns 0 (the
 * file), 1 (the built-in copy; *error_r says why the file was not
 * used), or -1 (no such built-in, out of memory).
 */
int template_load(const char *dir, const char *value, const char *builtin,
    struct buf *out, const char **error_r);

/* The built-in copy of a shipped template, or NULL. */
const char *template_builtin(const char *name);

/* Render text into out (LF line ends). */
int template_render(const char *text, size_t len,
    const struct template_var *vars, size_t nvars, struct buf *out,
    const char **error_r);

#endif
