/*
 * smime: the message layer of smime.h (inbound walk over the CMS layers,
 * outbound encrypt/sign).  See smime.h for the contract.
 *
 * The small MIME splitter here only reads what S/MIME needs: the header
 * block of one entity, its Content-Type parameters and, for multipart,
 * the byte ranges of the parts.  It is deliberately local: the walk never
 * enters a part that is not the root or the content of a signature layer.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "address.h"
#include "err.h"
#include "mime.h"
#include "mime_codec.h"
#include "smime.h"
#include "smime_int.h"
#include "str.h"

#define FIELD_MAX 8192
#define MAX_PARTS 64
#define SCAN_DEPTH 16

struct ment {
	const char *hdr;	/* header block, without the blank line */
	size_t hdr_len;
	const char *body;
	size_t body_len;
	char type[128];		/* "application/pkcs7-mime", lowercase */
	char smime_type[64];
	char name[256];
	char boundary[256];
	char protocol[128];
	char cte[64];
};

struct span {
	const char *p;
	size_t len;
};

/* ---- the MIME splitter ---- */

static size_t
line_len(const char *p, size_t len)
{
	const char *nl = memchr(p, '\n', len);

	return nl != NULL ? (size_t)(nl - p) + 1 : len;
}

static int
is_blank_line(const char *p, size_t n)
{
	return (n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' &&
	    p[1] == '\n') || (n == 0);
}

static void
split_header(const char *p, size_t len, struct ment *m)
{
	size_t pos = 0;

	m->hdr = p;
	while (pos < len) {
		size_t n = line_len(p + pos, len - pos);

		if (is_blank_line(p + pos, n)) {
			m->hdr_len = pos;
			m->body = p + pos + n;
			m->body_len = len - pos - n;
			return;
		}
		pos += n;
	}
	m->hdr_len = len;
	m->body = p + len;
	m->body_len = 0;
}

/* The unfolded value of field name in a header block; 0 if found. */
static int
header_get(const char *hdr, size_t len, const char *name, char *out,
    size_t size)
{
	size_t nlen = strlen(name), pos = 0, o = 0;
	int in = 0;

	out[0] = '\0';
	while (pos < len) {
		const char *l = hdr + pos;
		size_t n = line_len(l, len - pos), i;

		pos += n;
		if (in && (l[0] == ' ' || l[0] == '\t')) {
			i = 0;
		} else if (in) {
			break;
		} else if (n > nlen && strncasecmp(l, name, nlen) == 0 &&
		    l[nlen] == ':') {
			in = 1;
			i = nlen + 1;
		} else {
			continue;
		}
		for (; i < n; i++)
			if (l[i] != '\r' && l[i] != '\n' && o + 1 < size)
				out[o++] = l[i];
	}
	out[o] = '\0';
	return in ? 0 : -1;
}

/* Content-Type "type/sub; a=b; c="d"" into m. */
static void
parse_ctype(const char *v, struct ment *m)
{
	const char *p = v;
	size_t n = 0;

	while (isspace((unsigned char)*p))
		p++;
	while (*p != '\0' && *p != ';' && !isspace((unsigned char)*p) &&
	    n + 1 < sizeof(m->type))
		m->type[n++] = *p++;
	m->type[n] = '\0';
	str_lower(m->type);
	while (*p != '\0') {
		char pname[64], pval[256];
		size_t a = 0, b = 0;

		while (*p != '\0' && *p != ';')
			p++;
		if (*p == ';')
			p++;
		while (isspace((unsigned char)*p))
			p++;
		while (*p != '\0' && *p != '=' && *p != ';' &&
		    !isspace((unsigned char)*p)) {
			if (a + 1 < sizeof(pname))
				pname[a++] = *p;
			p++;
		}
		pname[a] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=')
			continue;
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '"') {
			p++;
			while (*p != '\0' && *p != '"') {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (b + 1 < sizeof(pval))
					pval[b++] = *p;
				p++;
			}
			if (*p == '"')
				p++;
		} else {
			while (*p != '\0' && *p != ';' &&
			    !isspace((unsigned char)*p)) {
				if (b + 1 < sizeof(pval))
					pval[b++] = *p;
				p++;
			}
		}
		pval[b] = '\0';
		str_lower(pname);
		if (strcmp(pname, "smime-type") == 0) {
			smime_strlcpy(m->smime_type, pval, sizeof(m->smime_type));
			str_lower(m->smime_type);
		} else if (strcmp(pname, "name") == 0)
			smime_strlcpy(m->name, pval, sizeof(m->name));
		else if (strcmp(pname, "boundary") == 0)
			smime_strlcpy(m->boundary, pval, sizeof(m->boundary));
		else if (strcmp(pname, "protocol") == 0) {
			smime_strlcpy(m->protocol, pval, sizeof(m->protocol));
			str_lower(m->protocol);
		}
	}
}

static void
ment_parse(const char *p, size_t len, struct ment *m)
{
	char v[FIELD_MAX];

	memset(m, 0, sizeof(*m));
	split_header(p, len, m);
	if (header_get(m->hdr, m->hdr_len, "Content-Type", v, sizeof(v)) == 0)
		parse_ctype(v, m);
	if (m->type[0] == '\0')
		snprintf(m->type, sizeof(m->type), "text/plain");
	if (header_get(m->hdr, m->hdr_len, "Content-Transfer-Encoding", v,
	    sizeof(v)) == 0) {
		smime_strlcpy(m->cte, str_lower(str_trim(v)), sizeof(m->cte));
	}
}

/*
 * The parts of a multipart body.  A part ends before the line break that
 * precedes the next delimiter line (RFC 2046 5.1.1).  Returns the number
 * of parts, -1 when there is no closing structure at all.
 */
static int
multipart_split(const char *body, size_t len, const char *boundary,
    struct span *parts, int max)
{
	size_t blen = strlen(boundary), pos = 0;
	const char *start = NULL;
	int n = 0;

	if (blen == 0)
		return -1;
	while (pos < len) {
		const char *l = body + pos;
		size_t ll = line_len(l, len - pos);

		if (ll >= blen + 2 && l[0] == '-' && l[1] == '-' &&
		    memcmp(l + 2, boundary, blen) == 0) {
			const char *rest = l + 2 + blen;
			size_t rl = ll - 2 - blen, i = 0;
			int close = rl >= 2 && rest[0] == '-' && rest[1] == '-';

			if (close)
				i = 2;
			while (i < rl && (rest[i] == ' ' || rest[i] == '\t' ||
			    rest[i] == '\r' || rest[i] == '\n'))
				i++;
			if (i == rl) {
				if (start != NULL) {
					const char *end = l;

					if (end > start && end[-1] == '\n')
						end--;
					if (end > start && end[-1] == '\r')
						end--;
					if (n >= max)
						return -1;
					parts[n].p = start;
					parts[n].len = (size_t)(end - start);
					n++;
				}
				if (close)
					return n;
				start = l + ll;
			}
		}
		pos += ll;
	}
	return start != NULL ? n : -1;
}

/* base64 alphabet -> value; 64: skip (white space, anything else),
 * 65: '=' (end) */
static unsigned char b64tab[256];

static void
b64tab_init(void)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int i;

	if (b64tab['A'] == 0 && b64tab['B'] == 1)
		return;
	memset(b64tab, 64, sizeof(b64tab));
	for (i = 0; i < 64; i++)
		b64tab[(unsigned char)alpha[i]] = (unsigned char)i;
	b64tab['='] = 65;
}

static int
b64_decode(const char *p, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)p, *end = s + len;
	unsigned char *o;
	unsigned int acc = 0;
	int n = 0;

	b64tab_init();
	if (buf_reserve(out, len / 4 * 3 + 3) < 0)
		return -1;
	o = (unsigned char *)out->data + out->len;
	while (s < end) {
		/* fast path: four alphabet characters */
		if (end - s >= 4 && n == 0 && b64tab[s[0]] < 64 &&
		    b64tab[s[1]] < 64 && b64tab[s[2]] < 64 && b64tab[s[3]] < 64) {
			acc = (unsigned)b64tab[s[0]] << 18 |
			    (unsigned)b64tab[s[1]] << 12 |
			    (unsigned)b64tab[s[2]] << 6 | b64tab[s[3]];
			o[0] = (unsigned char)(acc >> 16);
			o[1] = (unsigned char)(acc >> 8);
			o[2] = (unsigned char)acc;
			o += 3;
			s += 4;
			continue;
		}
		if (b64tab[*s] == 65)
			break;
		if (b64tab[*s] < 64) {
			acc = acc << 6 | b64tab[*s];
			if (++n == 4) {
				*o++ = (unsigned char)(acc >> 16);
				*o++ = (unsigned char)(acc >> 8);
				*o++ = (unsigned char)acc;
				n = 0;
				acc = 0;
			}
		}
		s++;
	}
	/* a partial final group: 2 chars -> 1 byte, 3 -> 2 */
	if (n == 2)
		*o++ = (unsigned char)(acc >> 4);
	else if (n == 3) {
		*o++ = (unsigned char)(acc >> 10);
		*o++ = (unsigned char)(acc >> 2);
	}
	out->len = (size_t)((char *)o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

/* base64 in lines of 76 characters ended by eol, straight into out */
static int
b64_encode(const unsigned char *p, size_t len, const char *eol,
    struct buf *out)
{
	size_t elen = strlen(eol), lines = (len + 56) / 57, i;
	char *o;

	if (buf_reserve(out, lines * (76 + elen) + 1) < 0)
		return -1;
	o = out->data + out->len;
	for (i = 0; i < len; i += 57) {
		size_t n = len - i < 57 ? len - i : 57;
		int w = EVP_EncodeBlock((unsigned char *)o, p + i, (int)n);

		o += w;
		memcpy(o, eol, elen);
		o += elen;
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

static const char *
detect_eol(const char *p, size_t len)
{
	const char *nl = memchr(p, '\n', len);

	return nl != NULL && nl > p && nl[-1] == '\r' ? "\r\n" : "\n";
}

static int
is_pkcs7_mime(const struct ment *m)
{
	if (strcmp(m->type, "application/pkcs7-mime") == 0 ||
	    strcmp(m->type, "application/x-pkcs7-mime") == 0)
		return 1;
	/* name=smime.p7m on a generic type */
	return strcmp(m->type, "application/octet-stream") == 0 &&
	    (strcasecmp(m->name, "smime.p7m") == 0);
}

static int
is_pkcs7_signature(const char *type)
{
	return strcmp(type, "application/pkcs7-signature") == 0 ||
	    strcmp(type, "application/x-pkcs7-signature") == 0;
}

static int
is_smime_signed(const struct ment *m)
{
	return strcmp(m->type, "multipart/signed") == 0 &&
	    is_pkcs7_signature(m->protocol);
}

/* The CMS bytes of a pkcs7 entity: base64 unless declared binary. */
static int
entity_der(const struct ment *m, struct buf *der)
{
	if (strcmp(m->cte, "binary") == 0 || strcmp(m->cte, "8bit") == 0)
		return buf_append(der, m->body, m->body_len);
	return b64_decode(m->body, m->body_len, der);
}

/* ---- mixed content and 7bit scans ---- */

static void
scan_parts(const char *p, size_t len, int depth, unsigned *flags)
{
	struct span parts[MAX_PARTS];
	struct ment m;
	int n, i;

	if (depth > SCAN_DEPTH)
		return;
	ment_parse(p, len, &m);
	if (depth > 0 && is_pkcs7_mime(&m))
		*flags |= SMIME_R_MIXED;
	if (depth > 0 && is_smime_signed(&m))
		*flags |= SMIME_R_PARTIAL_SIGNED;
	if (strcmp(m.type, "message/rfc822") == 0) {
		/* an attached message: its root is not ours either */
		scan_parts(m.body, m.body_len, depth + 1, flags);
		return;
	}
	if (strncmp(m.type, "multipart/", 10) != 0)
		return;
	n = multipart_split(m.body, m.body_len, m.boundary, parts, MAX_PARTS);
	for (i = 0; i < n; i++)
		scan_parts(parts[i].p, parts[i].len, depth + 1, flags);
}

/* 8-bit bytes in a (leaf) part declared 7bit (or with no CTE)? */
static int
illegal_7bit(const char *p, size_t len, int depth)
{
	struct span parts[MAX_PARTS];
	struct ment m;
	int n, k;

	if (depth > SCAN_DEPTH)
		return 0;
	ment_parse(p, len, &m);
	if (mime_has_8bit_or_nul(m.hdr, m.hdr_len))
		return 1;
	if (strncmp(m.type, "multipart/", 10) == 0) {
		n = multipart_split(m.body, m.body_len, m.boundary, parts,
		    MAX_PARTS);
		for (k = 0; k < n; k++)
			if (illegal_7bit(parts[k].p, parts[k].len, depth + 1))
				return 1;
		return 0;
	}
	if (m.cte[0] != '\0' && strcmp(m.cte, "7bit") != 0 &&
	    strcmp(m.cte, "quoted-printable") != 0 &&
	    strcmp(m.cte, "base64") != 0)
		return 0;
	return mime_has_8bit_or_nul(m.body, m.body_len);
}

/* ---- inbound ---- */

void
smime_result_release(struct smime_result *r)
{
	free(r->message);
	infohdr_free(&r->info);
	sk_X509_pop_free(r->certs, X509_free);
	memset(r, 0, sizeof(*r));
}

/*
 * The originator for the signer check (seed 003 section 4.1): the
 * addr-spec of the single From mailbox; only when there is no From
 * field at all, that of the single Sender mailbox.  Several fields,
 * several mailboxes, an empty one or no '@': out gets
 * SMIME_FROM_INVALID, which matches no certificate (reported as a
 * mismatch, never as "signed by the sender").
 */
#define SMIME_FROM_INVALID "<no single valid From address>"

/* How many fields named name ("From:") the header block has. */
static int
count_fields(const struct ment *m, const char *name)
{
	size_t pos = 0, nl = strlen(name);
	int n = 0;

	while (pos < m->hdr_len) {
		size_t l = line_len(m->hdr + pos, m->hdr_len - pos);

		if (l > nl && strncasecmp(m->hdr + pos, name, nl) == 0)
			n++;
		pos += l;
	}
	return n;
}

static void
from_address(const char *msg, size_t len, char *out, size_t size)
{
	struct ment m;
	char v[FIELD_MAX], *p;
	const char *field = "From";
	int nfrom;

	smime_strlcpy(out, SMIME_FROM_INVALID, size);
	split_header(msg, len, &m);
	nfrom = count_fields(&m, "From:");
	if (nfrom == 0) {
		field = "Sender";
		nfrom = count_fields(&m, "Sender:");
	}
	if (nfrom != 1 ||
	    header_get(m.hdr, m.hdr_len, field, v, sizeof(v)) < 0)
		return;
	p = address_mailbox(v, NULL);
	if (p == NULL || strchr(p, '@') == NULL ||
	    strpbrk(p, " \t<>\"") != NULL)
		return;
	smime_strlcpy(out, p, size);
}

struct walk_layer {
	int is_sig;
	int counted_ok;		/* signers > 0, all verified + trusted */
	int mismatch;
};

static int
report_signers(struct smime_result *r, const struct smime_verify_info *vi,
    int level, struct walk_layer *wl, const char **error_r)
{
	size_t i;
	int ok = vi->nsigners > 0;

	r->layer[level].nsigners = (int)vi->nsigners;
	/* zero SignerInfos: reported, never counted as a signature */
	wl->is_sig = vi->nsigners > 0;
	if (vi->nsigners == 0 && (infohdr_add(r->info, "Signer-Verified", 0,
	    level, "False") < 0 || infohdr_add(r->info,
	    "Signer-Verification-Info", 0, level, "no signers") < 0))
		return err_set(error_r, "too many info headers");
	for (i = 0; i < vi->nsigners; i++) {
		const struct smime_signer *s = &vi->signers[i];
		int idx = (int)i;

		if (infohdr_add(r->info, "Signer-ID", idx, level, "%s",
		    s->id) < 0 ||
		    (s->email[0] != '\0' && infohdr_add(r->info,
		    "Signer-Email", idx, level, "%s", s->email) < 0) ||
		    infohdr_add(r->info, "Signer-Verified", idx, level, "%s",
		    s->verified ? "True" : "False") < 0 ||
		    (!s->verified && infohdr_add(r->info,
		    "Signer-Verification-Info", idx, level, "%s",
		    s->verify_info) < 0) ||
		    infohdr_add(r->info, "Signer-Trusted", idx, level, "%s",
		    s->trusted ? "True" : "False") < 0 ||
		    (!s->trusted && infohdr_add(r->info, "Signer-Trusted-Info",
		    idx, level, "%s", s->trust_info) < 0))
			return err_set(error_r, "too many info headers");
		if (!s->verified || !s->trusted)
			ok = 0;
		r->layer[level].nverified += s->verified != 0;
		r->layer[level].ntrusted += s->trusted != 0;
		if (s->from_match == 0)
			wl->mismatch = 1;
		if (s->cert != NULL) {
			X509_up_ref(s->cert);
			if (sk_X509_push(r->certs, s->cert) <= 0) {
				X509_free(s->cert);
				return err_set(error_r, "out of memory");
			}
		}
	}
	for (i = 0; i < (size_t)sk_X509_num(vi->certs); i++) {
		X509 *c = sk_X509_value(vi->certs, (int)i);
		int j, dup = 0;

		for (j = 0; j < sk_X509_num(r->certs); j++)
			if (X509_cmp(c, sk_X509_value(r->certs, j)) == 0)
				dup = 1;
		if (dup)
			continue;
		X509_up_ref(c);
		if (sk_X509_push(r->certs, c) <= 0) {
			X509_free(c);
			return err_set(error_r, "out of memory");
		}
	}
	wl->counted_ok = ok;
	return 0;
}

/* Replace the Content-* headers of msg with the entity ent (decrypted
 * content); fields the entity repeats (protected headers) come from it. */
static int
rebuild(const char *msg, size_t len, const char *ent, size_t ent_len,
    const char *eol, struct buf *out)
{
	struct ment outer, inner;
	size_t pos = 0;
	int drop = 0;

	split_header(msg, len, &outer);
	split_header(ent, ent_len, &inner);
	while (pos < outer.hdr_len) {
		const char *l = outer.hdr + pos;
		size_t n = line_len(l, outer.hdr_len - pos);

		if (l[0] != ' ' && l[0] != '\t') {
			const char *colon = memchr(l, ':', n);
			char raw[128], v[8], *name;

			drop = 0;
			if (colon != NULL && (size_t)(colon - l) < sizeof(raw)) {
				memcpy(raw, l, (size_t)(colon - l));
				raw[colon - l] = '\0';
				name = str_trim(raw);
				drop = strncasecmp(name, "Content-", 8) == 0 ||
				    strcasecmp(name, "MIME-Version") == 0 ||
				    header_get(inner.hdr, inner.hdr_len, name,
				    v, sizeof(v)) == 0;
			}
		}
		if (!drop && buf_append_eol(out, l, n, eol) < 0)
			return -1;
		pos += n;
	}
	if (buf_puts(out, "MIME-Version: 1.0") < 0 || buf_puts(out, eol) < 0)
		return -1;
	if (inner.hdr_len > 0 && buf_append_eol(out, inner.hdr, inner.hdr_len,
	    eol) < 0)
		return -1;
	if (inner.hdr_len > 0 && inner.hdr[inner.hdr_len - 1] != '\n' &&
	    buf_puts(out, eol) < 0)
		return -1;
	if (buf_puts(out, eol) < 0)
		return -1;
	return buf_append_eol(out, inner.body, inner.body_len, eol);
}

int
smime_inbound(const char *msg, size_t len, const struct smime_keys *keys,
    const struct smime_opts *opts, const char *from, time_t at,
    struct smime_result *r, const char **error_r)
{
	struct buf bufs[SMIME_MAX_LAYERS];
	struct walk_layer wl[SMIME_MAX_LAYERS];
	char fromaddr[512];
	const char *cur = msg, *eol, *deliver = NULL, *err = NULL;
	size_t cur_len = len, deliver_len = 0, max;
	int level, i, last_dec = -1, rc = -1, any_sig = 0, passes = 0;
	struct smime_opts defopts;

	memset(r, 0, sizeof(*r));
	memset(wl, 0, sizeof(wl));
	if (opts == NULL) {
		smime_opts_init(&defopts);
		opts = &defopts;
	}
	max = opts->max_size != 0 ? opts->max_size : 50 * 1024 * 1024;
	for (i = 0; i < SMIME_MAX_LAYERS; i++)
		buf_init(&bufs[i], max * 2 + 1024);
	r->info = infohdr_new(opts->prefix);
	r->certs = sk_X509_new_null();
	if (r->info == NULL || r->certs == NULL) {
		err_set(error_r, "out of memory");
		goto out;
	}
	if (len > max) {
		if (infohdr_add(r->info, "SMIME-Skipped", -1, -1,
		    "message too large") < 0)
			goto nomem;
		rc = 0;
		goto out;
	}
	eol = detect_eol(msg, len);
	if (from == NULL) {
		from_address(msg, len, fromaddr, sizeof(fromaddr));
		from = fromaddr;
	}

	for (level = 0; level < SMIME_MAX_LAYERS; level++) {
		struct ment m;
		struct buf der;

		ment_parse(cur, cur_len, &m);
		if (strcmp(m.type, "multipart/signed") == 0 &&
		    !is_pkcs7_signature(m.protocol) && passes++ < 4) {
			/* another protocol's signature layer (PGP/MIME): not
			 * ours to verify; look at what it signs, no level */
			struct span parts[2];

			if (multipart_split(m.body, m.body_len, m.boundary,
			    parts, 2) != 2)
				break;
			r->flags |= SMIME_R_FOREIGN_SIGNATURE;
			cur = parts[0].p;
			cur_len = parts[0].len;
			level--;
			continue;
		}
		if (is_smime_signed(&m)) {
			struct span parts[2];
			struct ment sig;
			struct buf canon;
			struct smime_verify_info vi;
			int n, v;

			n = multipart_split(m.body, m.body_len, m.boundary,
			    parts, 2);
			if (n != 2)
				break;
			ment_parse(parts[1].p, parts[1].len, &sig);
			if (!is_pkcs7_signature(sig.type))
				break;
			r->layer[level].kind = SMIME_LAYER_DETACHED_SIGNED;
			buf_init(&der, max);
			buf_init(&canon, max * 2);
			if (entity_der(&sig, &der) < 0 ||
			    buf_append_eol(&canon, parts[0].p, parts[0].len,
			    "\r\n") < 0) {
				buf_release(&der);
				buf_release(&canon);
				err_set(error_r, "signed part too large");
				goto out;
			}
			v = smime_cms_verify((unsigned char *)der.data, der.len,
			    (unsigned char *)canon.data, canon.len, keys, at,
			    from, &vi, NULL, &err);
			buf_release(&der);
			buf_release(&canon);
			if (v < 0) {
				err_set(error_r, "%s", err);
				goto out;
			}
			if (v == 0) {
				/* unparseable: reported, never counted */
				if (infohdr_add(r->info, "Signer-Verified", 0,
				    level, "False") < 0 ||
				    infohdr_add(r->info,
				    "Signer-Verification-Info", 0, level, "%s",
				    err) < 0)
					goto nomem;
				cur = parts[0].p;
				cur_len = parts[0].len;
				any_sig = 1;
				continue;
			}
			if (report_signers(r, &vi, level, &wl[level],
			    error_r) < 0) {
				smime_verify_info_release(&vi);
				goto out;
			}
			smime_verify_info_release(&vi);
			any_sig = 1;
			cur = parts[0].p;
			cur_len = parts[0].len;
			continue;
		}
		if (!is_pkcs7_mime(&m)) {
			scan_parts(cur, cur_len, 0, &r->flags);
			break;
		}
		buf_init(&der, max);
		if (entity_der(&m, &der) < 0) {
			buf_release(&der);
			err_set(error_r, "S/MIME part too large");
			goto out;
		}
		switch (smime_cms_type((unsigned char *)der.data, der.len)) {
		case SMIME_CMS_ENVELOPED:
		case SMIME_CMS_AUTH_ENVELOPED: {
			struct smime_decrypt_info di;
			size_t k;
			int d;

			r->flags |= SMIME_R_ENCRYPTED;
			r->layer[level].kind = SMIME_LAYER_ENVELOPED;
			d = smime_cms_decrypt((unsigned char *)der.data,
			    der.len, keys, &di, &bufs[level], &err);
			buf_release(&der);
			if (d < 0) {
				smime_decrypt_info_release(&di);
				err_set(error_r, "%s", err);
				goto out;
			}
			if (di.type == SMIME_CMS_AUTH_ENVELOPED)
				r->layer[level].kind =
				    SMIME_LAYER_AUTH_ENVELOPED;
			r->layer[level].key_found = di.key_found;
			r->layer[level].decrypted = d > 0;
			if (infohdr_add(r->info, "Encryption-Algorithm", -1,
			    level, "%s", di.algorithm) < 0)
				goto nomem_di;
			for (k = 0; k < di.nrecipients; k++)
				if (infohdr_add(r->info,
				    "Encryption-Recipient", (int)k, level, "%s",
				    di.recipients[k].id) < 0)
					goto nomem_di;
			if (d == 0) {
				if (!di.key_found) {
					r->flags |= SMIME_R_KEY_NOT_FOUND;
					if (infohdr_add(r->info,
					    "SMIME-Decryption-Key-Not-Found",
					    -1, -1, "True") < 0)
						goto nomem_di;
				} else {
					r->flags |= SMIME_R_DECRYPT_FAILED;
					if (infohdr_add(r->info,
					    "SMIME-Decryption-Failed", -1, -1,
					    "%s", err) < 0)
						goto nomem_di;
				}
				smime_decrypt_info_release(&di);
				level++;
				goto done;
			}
			smime_decrypt_info_release(&di);
			if (illegal_7bit(bufs[level].data, bufs[level].len, 0)) {
				r->flags |= SMIME_R_ILLEGAL_7BIT;
				if (infohdr_add(r->info,
				    "SMIME-Illegal-Chars-Found", -1, -1,
				    "True") < 0)
					goto nomem;
				if (opts->abort_on_illegal_7bit) {
					level++;
					goto done;
				}
			}
			r->flags |= SMIME_R_DECRYPTED;
			last_dec = level;
			cur = deliver = bufs[level].data;
			cur_len = deliver_len = bufs[level].len;
			continue;
nomem_di:
			smime_decrypt_info_release(&di);
			goto nomem;
		}
		case SMIME_CMS_SIGNED: {
			struct smime_verify_info vi;
			int v;

			r->layer[level].kind = SMIME_LAYER_OPAQUE_SIGNED;
			v = smime_cms_verify((unsigned char *)der.data, der.len,
			    NULL, 0, keys, at, from, &vi, &bufs[level], &err);
			buf_release(&der);
			if (v < 0) {
				err_set(error_r, "%s", err);
				goto out;
			}
			any_sig = 1;
			if (v == 0 || report_signers(r, &vi, level, &wl[level],
			    error_r) < 0) {
				smime_verify_info_release(&vi);
				if (v != 0)
					goto out;
				if (infohdr_add(r->info, "Signer-Verified", 0,
				    level, "False") < 0 ||
				    infohdr_add(r->info,
				    "Signer-Verification-Info", 0, level, "%s",
				    err) < 0)
					goto nomem;
				level++;
				goto done;
			}
			smime_verify_info_release(&vi);
			cur = bufs[level].data;
			cur_len = bufs[level].len;
			continue;
		}
		case SMIME_CMS_COMPRESSED:
			buf_release(&der);
			r->flags |= SMIME_R_COMPRESSED;
			r->layer[level].kind = SMIME_LAYER_COMPRESSED;
			if (infohdr_add(r->info, "SMIME-Compressed", -1, -1,
			    "True") < 0)
				goto nomem;
			level++;
			goto done;
		default:
			buf_release(&der);
			goto done;
		}
	}
done:
	r->levels = level;
	/* Signatures that cover the delivered content: after the last
	 * decryption (or all of them when nothing was decrypted). */
	{
		int counted = 0, valid = 1, mismatch = 0;

		for (i = last_dec + 1; i < level && i < SMIME_MAX_LAYERS; i++) {
			if (!wl[i].is_sig)
				continue;
			counted++;
			if (!wl[i].counted_ok)
				valid = 0;
			if (wl[i].mismatch)
				mismatch = 1;
		}
		if (counted > 0) {
			r->flags |= SMIME_R_SIGNED;
			if (valid)
				r->flags |= SMIME_R_SIGNED_VALID;
			if (mismatch) {
				r->flags |= SMIME_R_SIGNER_MISMATCH;
				if (infohdr_add(r->info, "Signer-Mismatch", -1,
				    -1, "True") < 0)
					goto nomem;
			}
		}
	}
	if ((r->flags & SMIME_R_MIXED) && infohdr_add(r->info,
	    "SMIME-Mixed-Content", -1, -1, "True") < 0)
		goto nomem;
	if ((r->flags & SMIME_R_ENCRYPTED) && infohdr_add(r->info,
	    "SMIME-Encrypted", -1, -1, "True") < 0)
		goto nomem;
	if ((any_sig || (r->flags & SMIME_R_SIGNED)) &&
	    infohdr_add(r->info, "SMIME-Signed", -1, -1, "%s",
	    (r->flags & SMIME_R_SIGNED) ? "True" : "False") < 0)
		goto nomem;
	if (deliver != NULL) {
		struct buf nm;

		buf_init(&nm, max * 2 + 4096);
		if (rebuild(msg, len, deliver, deliver_len, eol, &nm) < 0) {
			buf_release(&nm);
			err_set(error_r, "decrypted message too large");
			goto out;
		}
		r->message = buf_steal(&nm, &r->message_len);
		r->changed = 1;
	}
	rc = 0;
	goto out;
nomem:
	err_set(error_r, "out of memory or too many info headers");
out:
	for (i = 0; i < SMIME_MAX_LAYERS; i++)
		buf_release(&bufs[i]);
	if (rc < 0)
		smime_result_release(r);
	return rc;
}

int
smime_inbound_apply(const char *msg, size_t len,
    const struct smime_result *r, const struct smime_opts *opts,
    struct buf *out, const char **error_r)
{
	const char *m = r->changed ? r->message : msg;
	size_t mlen = r->changed ? r->message_len : len;
	const char *eol = detect_eol(m, mlen);
	struct ment e;

	split_header(m, mlen, &e);
	if (r->info != NULL && infohdr_render(r->info, out, eol) < 0)
		return err_set(error_r, "message too large");
	if (infohdr_strip(e.hdr, e.hdr_len, r->info != NULL ?
	    infohdr_prefix(r->info) : "X-Postern-Info",
	    opts != NULL ? opts->legacy_prefixes : NULL, out, NULL) < 0)
		return err_set(error_r, "message too large");
	if (buf_append(out, e.hdr + e.hdr_len,
	    (size_t)(m + mlen - (e.hdr + e.hdr_len))) < 0)
		return err_set(error_r, "message too large");
	return 0;
}

/* ---- on a parsed message ---- */

/* Is e reached from the root only through the first parts of S/MIME
 * multipart/signed entities (the path a decryption may follow)? */
static int
on_signature_path(const struct mime_entity *e)
{
	for (; e->parent != NULL; e = e->parent) {
		const struct mime_entity *p = e->parent;
		unsigned kind = mime_entity_kind(p);

		/* a PGP/MIME signature layer is looked through as well */
		if (p->children != e ||
		    !(kind & (MIME_K_SMIME_SIGNED | MIME_K_PGP_SIGNED)))
			return 0;
	}
	return 1;
}

int
smime_inbound_mime(const struct mime_message *m,
    const struct smime_keys *keys, const struct smime_opts *opts,
    const char *from, time_t at, const struct mime_limits *lim,
    struct smime_result *result, struct mime_message **new_r,
    const char **error_r)
{
	struct mime_inspect ins;
	size_t i;

	if (new_r != NULL)
		*new_r = NULL;
	if (m->data == NULL)
		return err_set(error_r, "message has no input bytes");
	if (smime_inbound(m->data, m->len, keys, opts, from, at, result,
	    error_r) < 0)
		return -1;
	mime_inspect(m, &ins);
	for (i = 0; i < ins.nparts; i++) {
		const struct mime_crypto_part *cp = &ins.parts[i];
		unsigned smime = MIME_K_SMIME_ENVELOPED |
		    MIME_K_SMIME_AUTH_ENVELOPED | MIME_K_SMIME_OPAQUE_SIGNED |
		    MIME_K_SMIME_UNKNOWN;

		if (on_signature_path(cp->entity))
			continue;
		if (cp->kind & smime)
			result->flags |= SMIME_R_MIXED;
		else if (cp->kind & MIME_K_SMIME_SIGNED)
			result->flags |= SMIME_R_PARTIAL_SIGNED;
	}
	if ((result->flags & SMIME_R_MIXED) &&
	    infohdr_get(result->info, "SMIME-Mixed-Content") == NULL &&
	    infohdr_add(result->info, "SMIME-Mixed-Content", -1, -1,
	    "True") < 0) {
		smime_result_release(result);
		return err_set(error_r, "out of memory");
	}
	if (result->changed && new_r != NULL) {
		*new_r = mime_parse(result->message, result->message_len, lim,
		    error_r);
		if (*new_r == NULL) {
			smime_result_release(result);
			return -1;
		}
	}
	return 0;
}

int
smime_inbound_edit(struct mime_message *m, const struct smime_keys *keys,
    const struct smime_opts *opts, const char *from, time_t at,
    struct smime_result *r, const char **error_r)
{
	static const char *const protected[] = { "Subject", "From", "To",
		"Cc", "Reply-To" };
	struct mime_message *nm = NULL;
	struct mime_entity *copy;
	size_t i, k;
	int rc = -1;

	if (smime_inbound_mime(m, keys, opts, from, at, NULL, r, &nm,
	    error_r) < 0)
		return -1;
	if (r->changed) {
		/* the protected fields of the decrypted entity win; after
		 * sign-then-encrypt they sit in the signed part */
		const struct mime_entity *pe = nm->root;

		while ((mime_entity_kind(pe) & MIME_K_SMIME_SIGNED) &&
		    pe->children != NULL)
			pe = pe->children;
		for (k = 0; k < sizeof(protected) / sizeof(*protected); k++) {
			const struct mime_field *f;
			struct buf inner;

			buf_init(&inner, FIELD_MAX);
			f = mime_field_find(pe, protected[k], 0);
			if (f == NULL || mime_field_value(f, &inner) < 0) {
				buf_release(&inner);
				continue;
			}
			mime_header_delete(m, m->root, protected[k]);
			if (mime_header_add_raw(m, m->root, protected[k],
			    inner.data, MIME_BOTTOM, error_r) < 0) {
				buf_release(&inner);
				goto out;
			}
			buf_release(&inner);
		}
		copy = mime_entity_copy(nm, nm->root, error_r);
		if (copy == NULL ||
		    mime_entity_replace_content(m, m->root, copy, error_r) < 0)
			goto out;
	}
	/* at the top, in order: add the last one first */
	for (i = infohdr_count(r->info); i > 0; i--) {
		if (mime_header_add(m, m->root, infohdr_name(r->info, i - 1),
		    infohdr_value(r->info, i - 1), MIME_TOP, error_r) < 0)
			goto out;
	}
	rc = 0;
out:
	mime_message_free(&nm);
	if (rc < 0)
		smime_result_release(r);
	return rc;
}

/* ---- outbound ---- */

static const char *const protect_names[] = {
	"Subject", "From", "To", "Cc", "Reply-To",
};

/*
 * Split msg into the outer header fields (everything but Content-* and
 * MIME-Version) and the entity to protect (Content-* fields, optional
 * protected header copies, blank line, body), the entity in CRLF.
 */
static int
build_entity(const char *msg, size_t len, const struct smime_opts *opts,
    struct buf *outer, struct buf *ent)
{
	struct ment m;
	size_t pos = 0, k;
	int content = 0, have_ctype = 0;

	split_header(msg, len, &m);
	while (pos < m.hdr_len) {
		const char *l = m.hdr + pos;
		size_t n = line_len(l, m.hdr_len - pos);

		if (l[0] != ' ' && l[0] != '\t') {
			content = strncasecmp(l, "Content-", 8) == 0;
			if (strncasecmp(l, "Content-Type:", 13) == 0)
				have_ctype = 1;
			if (strncasecmp(l, "MIME-Version:", 13) == 0) {
				pos += n;
				content = 2;
				continue;
			}
		} else if (content == 2) {
			pos += n;
			continue;
		}
		if (buf_append_eol(content ? ent : outer, l, n, "\r\n") < 0)
			return -1;
		if (content && (n == 0 || l[n - 1] != '\n') &&
		    buf_puts(ent, "\r\n") < 0)
			return -1;
		pos += n;
	}
	if (!have_ctype && buf_puts(ent,
	    "Content-Type: text/plain; charset=us-ascii\r\n") < 0)
		return -1;
	if (opts->protect_headers)
		for (k = 0; k < sizeof(protect_names) / sizeof(*protect_names);
		    k++) {
			char v[FIELD_MAX];

			if (header_get(m.hdr, m.hdr_len, protect_names[k], v,
			    sizeof(v)) == 0 && buf_printf(ent, "%s:%s\r\n",
			    protect_names[k], v) < 0)
				return -1;
		}
	if (buf_puts(ent, "\r\n") < 0)
		return -1;
	return buf_append_eol(ent, m.body, m.body_len, "\r\n");
}

static int
wrap_encrypt(const struct buf *ent, STACK_OF(X509) *recipients,
    const struct smime_opts *opts, struct buf *out, const char **error_r)
{
	struct buf der;
	int gcm = opts->cipher == SMIME_AES128_GCM ||
	    opts->cipher == SMIME_AES192_GCM ||
	    opts->cipher == SMIME_AES256_GCM;
	int rc = -1;

	buf_init(&der, 0);
	if (smime_cms_encrypt((const unsigned char *)ent->data, ent->len,
	    recipients, opts, &der, error_r) < 0)
		goto out;
	if (buf_printf(out, "Content-Type: application/pkcs7-mime; "
	    "smime-type=%s; name=\"smime.p7m\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n"
	    "Content-Description: S/MIME Encrypted Message\r\n\r\n",
	    gcm ? "authEnveloped-data" : "enveloped-data") < 0 ||
	    b64_encode((unsigned char *)der.data, der.len, "\r\n", out) < 0) {
		err_set(error_r, "encrypted message too large");
		goto out;
	}
	rc = 0;
out:
	buf_release(&der);
	return rc;
}

static int
wrap_sign(const struct buf *ent, X509 *cert, EVP_PKEY *key,
    STACK_OF(X509) *chain, const struct smime_opts *opts, struct buf *out,
    const char **error_r)
{
	struct buf der;
	unsigned char rnd[12];
	char boundary[64];
	int rc = -1, i;

	buf_init(&der, 0);
	if (smime_cms_sign((const unsigned char *)ent->data, ent->len, cert,
	    key, chain, opts, !opts->opaque, &der, error_r) < 0)
		goto out;
	if (opts->opaque) {
		if (buf_puts(out, "Content-Type: application/pkcs7-mime; "
		    "smime-type=signed-data; name=\"smime.p7m\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n"
		    "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n"
		    "\r\n") < 0 ||
		    b64_encode((unsigned char *)der.data, der.len, "\r\n",
		    out) < 0) {
			err_set(error_r, "signed message too large");
			goto out;
		}
		rc = 0;
		goto out;
	}
	do {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			err_set(error_r, "no random bytes");
			goto out;
		}
		i = snprintf(boundary, sizeof(boundary), "----postern-");
		for (size_t k = 0; k < sizeof(rnd); k++)
			i += snprintf(boundary + i, sizeof(boundary) - (size_t)i,
			    "%02x", rnd[k]);
	} while (memmem(ent->data, ent->len, boundary, strlen(boundary)) !=
	    NULL);
	if (buf_printf(out, "Content-Type: multipart/signed; "
	    "protocol=\"application/pkcs7-signature\"; micalg=%s;\r\n"
	    "\tboundary=\"%s\"\r\n\r\n"
	    "This is a cryptographically signed message in MIME format.\r\n"
	    "\r\n--%s\r\n", smime_micalg(opts->digest), boundary,
	    boundary) < 0 ||
	    buf_append(out, ent->data, ent->len) < 0 ||
	    buf_printf(out, "\r\n--%s\r\n"
	    "Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=\"smime.p7s\"\r\n"
	    "Content-Description: S/MIME Cryptographic Signature\r\n\r\n",
	    boundary) < 0 ||
	    b64_encode((unsigned char *)der.data, der.len, "\r\n", out) < 0 ||
	    buf_printf(out, "\r\n--%s--\r\n", boundary) < 0) {
		err_set(error_r, "signed message too large");
		goto out;
	}
	rc = 0;
out:
	buf_release(&der);
	return rc;
}

/* outer headers + MIME-Version + entity, in the input's line ends */
static int
assemble(const struct buf *outer, const struct buf *ent, const char *eol,
    struct buf *out)
{
	if (buf_append_eol(out, outer->data, outer->len, eol) < 0 ||
	    buf_puts(out, "MIME-Version: 1.0") < 0 || buf_puts(out, eol) < 0)
		return -1;
	return buf_append_eol(out, ent->data, ent->len, eol);
}

enum outbound_op { OP_ENCRYPT = 1, OP_SIGN = 2 };

static int
outbound(const char *msg, size_t len, unsigned ops, X509 *cert,
    EVP_PKEY *key, STACK_OF(X509) *chain, STACK_OF(X509) *recipients,
    const struct smime_opts *opts, struct buf *out, const char **error_r)
{
	struct smime_opts defopts;
	struct buf outer, ent, signed_ent, enc_ent;
	const struct buf *cur;
	size_t max;
	int rc = -1;

	if (opts == NULL) {
		smime_opts_init(&defopts);
		opts = &defopts;
	}
	max = opts->max_size != 0 ? opts->max_size : 50 * 1024 * 1024;
	if (len > max)
		return err_set(error_r, "message too large (%zu > %zu bytes)",
		    len, max);
	buf_init(&outer, 0);
	buf_init(&ent, 0);
	buf_init(&signed_ent, 0);
	buf_init(&enc_ent, 0);
	if (build_entity(msg, len, opts, &outer, &ent) < 0) {
		err_set(error_r, "message too large");
		goto out;
	}
	cur = &ent;
	if (ops & OP_SIGN) {
		if (wrap_sign(cur, cert, key, chain, opts, &signed_ent,
		    error_r) < 0)
			goto out;
		cur = &signed_ent;
	}
	if (ops & OP_ENCRYPT) {
		if (wrap_encrypt(cur, recipients, opts, &enc_ent, error_r) < 0)
			goto out;
		cur = &enc_ent;
	}
	if (assemble(&outer, cur, detect_eol(msg, len), out) < 0) {
		err_set(error_r, "message too large");
		goto out;
	}
	rc = 0;
out:
	buf_release(&outer);
	buf_release(&ent);
	buf_release(&signed_ent);
	buf_release(&enc_ent);
	return rc;
}

int
smime_encrypt(const char *msg, size_t len, STACK_OF(X509) *recipients,
    const struct smime_opts *opts, struct buf *out, const char **error_r)
{
	return outbound(msg, len, OP_ENCRYPT, NULL, NULL, NULL, recipients,
	    opts, out, error_r);
}

int
smime_sign(const char *msg, size_t len, X509 *cert, EVP_PKEY *key,
    STACK_OF(X509) *chain, const struct smime_opts *opts, struct buf *out,
    const char **error_r)
{
	return outbound(msg, len, OP_SIGN, cert, key, chain, NULL, opts, out,
	    error_r);
}

int
smime_sign_encrypt(const char *msg, size_t len, X509 *cert, EVP_PKEY *key,
    STACK_OF(X509) *chain, STACK_OF(X509) *recipients,
    const struct smime_opts *opts, struct buf *out, const char **error_r)
{
	return outbound(msg, len, OP_SIGN | OP_ENCRYPT, cert, key, chain,
	    recipients, opts, out, error_r);
}
