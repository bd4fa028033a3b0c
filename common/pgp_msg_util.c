/* pgp_msg_util: helpers of the OpenPGP message layer (pgp_msg_int.h). */
#include <sys/random.h>

#include <string.h>
#include <strings.h>

#include "err.h"
#include "mime_codec.h"
#include "pgp_msg.h"
#include "pgp_msg_int.h"

const char *
pgp_msg_eol(const struct mime_message *m)
{
	return m->eol == MIME_EOL_LF ? "\n" : "\r\n";
}

int
pgp_msg_field_is(const struct mime_field *f, const char *name)
{
	size_t nl = f->name_len, l = strlen(name);

	while (nl > 0 && (f->raw[nl - 1] == ' ' || f->raw[nl - 1] == '\t'))
		nl--;
	return nl == l && strncasecmp(f->raw, name, l) == 0;
}

int
pgp_msg_is_attachment(const struct mime_entity *e)
{
	struct buf d;
	int r;

	buf_init(&d, 256);
	r = mime_entity_disposition(e, &d) == 0 && d.len > 0 &&
	    strcmp(d.data, "attachment") == 0;
	buf_release(&d);
	return r;
}

int
pgp_msg_boundary(char *out, size_t size, const char *avoid, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[12];
	size_t i;

	if (size < 7 + 2 * sizeof(r))
		return -1;
	do {
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -1;
		memcpy(out, "=_pgp_", 6);
		for (i = 0; i < sizeof(r); i++) {
			out[6 + 2 * i] = hex[r[i] >> 4];
			out[7 + 2 * i] = hex[r[i] & 15];
		}
		out[6 + 2 * sizeof(r)] = '\0';
	} while (avoid != NULL && memmem(avoid, len, out, strlen(out)) != NULL);
	return 0;
}

int
pgp_msg_copy_fields(const struct mime_entity *from, struct mime_entity *to,
    int content_only, const char **error_r)
{
	struct buf name, value;
	size_t i;
	int rc = -1;

	buf_init(&name, 1024);
	buf_init(&value, 64 * 1024);
	for (i = 0; i < from->nfields; i++) {
		const struct mime_field *f = &from->fields[i];
		size_t nl = f->name_len;

		if (pgp_msg_field_is(f, "Content-Type") ||
		    pgp_msg_field_is(f, "Content-Transfer-Encoding"))
			continue;
		if (content_only && (nl < 8 ||
		    strncasecmp(f->raw, "Content-", 8) != 0))
			continue;
		while (nl > 0 && (f->raw[nl - 1] == ' ' ||
		    f->raw[nl - 1] == '\t'))
			nl--;
		buf_reset(&name);
		buf_reset(&value);
		if (buf_append(&name, f->raw, nl) < 0 ||
		    mime_field_value(f, &value) < 0 ||
		    buf_append(&value, "", 0) < 0) {
			err_set(error_r, "header field too large");
			goto out;
		}
		if (mime_header_add_raw(NULL, to, name.data, value.data,
		    MIME_BOTTOM, error_r) < 0)
			goto out;
	}
	rc = 0;
out:
	buf_release(&name);
	buf_release(&value);
	return rc;
}

int
pgp_msg_replace(struct mime_message *m, struct mime_entity *old,
    struct mime_entity *new, const char **error_r)
{
	int rc;

	if (old->parent != NULL)
		return mime_entity_replace(m, old, new, error_r);
	rc = mime_entity_replace_content(m, old, new, error_r);
	return rc;
}

int
pgp_msg_fail_rc(enum pgp_status st)
{
	return st == PGP_E_TOO_LARGE || st == PGP_E_NO_KEY ?
	    PGP_MSG_REFUSED : PGP_MSG_TEMPFAIL;
}

/* The first packet's tag and body (new and old packet formats). */
static const unsigned char *
packet_body(const unsigned char *p, size_t len, int *tag_r, size_t *blen_r)
{
	size_t hl, bl;

	if (len < 2 || !(p[0] & 0x80))
		return NULL;
	if (p[0] & 0x40) {
		*tag_r = p[0] & 0x3f;
		if (p[1] < 192) {
			bl = p[1];
			hl = 2;
		} else if (p[1] < 224) {
			if (len < 3)
				return NULL;
			bl = ((size_t)(p[1] - 192) << 8) + p[2] + 192;
			hl = 3;
		} else if (p[1] == 255) {
			if (len < 6)
				return NULL;
			bl = (size_t)p[2] << 24 | (size_t)p[3] << 16 |
			    (size_t)p[4] << 8 | p[5];
			hl = 6;
		} else {
			return NULL;	/* partial length: not a signature */
		}
	} else {
		*tag_r = (p[0] >> 2) & 0x0f;
		switch (p[0] & 3) {
		case 0:
			bl = p[1];
			hl = 2;
			break;
		case 1:
			if (len < 3)
				return NULL;
			bl = (size_t)p[1] << 8 | p[2];
			hl = 3;
			break;
		case 2:
			if (len < 5)
				return NULL;
			bl = (size_t)p[1] << 24 | (size_t)p[2] << 16 |
			    (size_t)p[3] << 8 | p[4];
			hl = 5;
			break;
		default:
			bl = len - 1;
			hl = 1;
			break;
		}
	}
	if (hl > len)
		return NULL;
	*blen_r = bl < len - hl ? bl : len - hl;
	return p + hl;
}

/* Where the radix-64 data of the armor at b ("-----BEGIN PGP ...")
 * starts: after its header lines and the blank line that ends them;
 * end when there is no blank line. */
static const char *
armor_body(const char *b, const char *end)
{
	const char *q = b;

	while (q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));

		if (nl == NULL)
			return end;
		q = nl + 1;
		if (q < end && (*q == '\n' || (*q == '\r' &&
		    q + 1 < end && q[1] == '\n')))
			return q + (*q == '\r' ? 2 : 1);
	}
	return q;
}

/* The first bytes of the OpenPGP data in p, armored or binary, into bin
 * (about 384 bytes: enough for the first packet headers). */
static void
first_bytes(const char *p, size_t len, struct buf *bin)
{
	const char *b = memmem(p, len, "-----BEGIN PGP ", 15);

	if (b != NULL) {
		const char *end = p + len, *q = armor_body(b, end);

		(void)mime_base64_decode(q, (size_t)(end - q) < 512 ?
		    (size_t)(end - q) : 512, bin, NULL);
	} else {
		(void)buf_append(bin, p, len < 384 ? len : 384);
	}
}

int
pgp_msg_sig_hash(const char *sig, size_t len)
{
	const unsigned char *body;
	struct buf bin;
	size_t blen = 0;
	int tag = 0, hash = 0;

	buf_init(&bin, 4096);
	first_bytes(sig, len, &bin);
	body = packet_body((const unsigned char *)bin.data, bin.len, &tag,
	    &blen);
	if (body != NULL && tag == 2) {
		if (blen >= 4 && (body[0] == 4 || body[0] == 5))
			hash = body[3];
		else if (blen >= 17 && (body[0] == 3 || body[0] == 2))
			hash = body[16];
	}
	buf_release(&bin);
	return hash;
}

int
pgp_msg_is_encrypted(const char *data, size_t len)
{
	const unsigned char *p, *body;
	struct buf bin;
	size_t n, blen = 0;
	int tag = 0, r = 0, guard;

	buf_init(&bin, 4096);
	first_bytes(data, len, &bin);
	p = (const unsigned char *)bin.data;
	n = bin.len;
	for (guard = 0; guard < 4 && p != NULL; guard++) {
		body = packet_body(p, n, &tag, &blen);
		if (body == NULL)
			break;
		if (tag != 10) {	/* a marker packet comes first */
			r = tag == 1 || tag == 3 || tag == 9 || tag == 18 ||
			    tag == 20;
			break;
		}
		n -= (size_t)(body - p) + blen;
		p = body + blen;
	}
	buf_release(&bin);
	return r;
}

int
pgp_msg_key_is_public(const char *data, size_t len)
{
	const char *b = memmem(data, len, "-----BEGIN PGP ", 15);
	const unsigned char *p, *body;
	struct buf bin;
	size_t n, blen = 0;
	int tag = 0, ok = 1, count = 0;

	buf_init(&bin, 0);
	if (b != NULL) {
		const char *end = data + len, *q = armor_body(b, end), *e;

		/* the body ends at the "=XXXX" checksum line or at END */
		for (e = q; e < end; ) {
			const char *nl = memchr(e, '\n', (size_t)(end - e));

			if (*e == '=' || *e == '-')
				break;
			e = nl != NULL ? nl + 1 : end;
		}
		if (mime_base64_decode(q, (size_t)(e - q), &bin, NULL) < 0)
			ok = 0;
	} else if (buf_append(&bin, data, len) < 0) {
		ok = 0;
	}
	p = (const unsigned char *)bin.data;
	n = bin.len;
	while (ok && n > 0) {
		body = packet_body(p, n, &tag, &blen);
		if (body == NULL || blen > n - (size_t)(body - p))
			break;
		/* public key, public subkey, user ID, attribute, signature,
		 * trust, marker */
		if (tag != 6 && tag != 14 && tag != 13 && tag != 17 &&
		    tag != 2 && tag != 12 && tag != 10)
			ok = 0;
		count++;
		n -= (size_t)(body - p) + blen;
		p = body + blen;
	}
	buf_release(&bin);
	return ok && count > 0;
}
