/*
 * libFuzzer target for the MIME engine: the parser (one piece and a
 * chunking derived from the input must give the same tree, emission
 * must give the input back), header decoding, parameters, body
 * decoding, text extraction, inspection, editing and re-emission.
 * Any broken invariant aborts, so the fuzzer reports it.
 * Built with clang -fsanitize=fuzzer by t/fuzz/Makefile, and with the
 * normal compiler plus replay.c for the "make check" regression run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "mime_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
tree(const struct mime_entity *e, struct buf *out)
{
	const struct mime_entity *c;

	buf_printf(out, "%s/%s[%zu,%zu,%zu,%zu]%d,%x,%zu{", e->type,
	    e->subtype, e->start, e->header_len, e->body_start, e->end,
	    (int)e->cte, e->damage, e->nfields);
	for (c = e->children; c != NULL; c = c->next)
		tree(c, out);
	buf_putc(out, '}');
}

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_mime: %s\n", what);
	abort();
}

static struct mime_message *
parse_chunked(const char *d, size_t size, const struct mime_limits *lim)
{
	struct mime_parser *p = mime_parser_new(lim);
	const char *error;
	size_t off = 0, i = 0;

	if (p == NULL)
		die("parser_new");
	while (off < size) {
		/* chunk sizes from the bytes themselves: 1..64 */
		size_t n = ((unsigned char)d[i++ % size] % 64) + 1;

		if (n > size - off)
			n = size - off;
		if (mime_parser_feed(p, d + off, n, &error) < 0)
			die("feed");
		off += n;
	}
	return mime_parser_finish(&p, d, size, &error);
}

static void
exercise_entity(struct mime_entity *e)
{
	struct buf b;
	unsigned damage = 0;
	const char *error;
	size_t i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < e->nfields && i < 64; i++) {
		buf_reset(&b);
		(void)mime_field_decoded(&e->fields[i], &b, &damage);
	}
	buf_reset(&b);
	(void)mime_entity_filename(e, &b);
	buf_reset(&b);
	(void)mime_entity_disposition(e, &b);
	buf_reset(&b);
	(void)mime_entity_ctype_param(e, "charset", &b);
	if (e->children == NULL) {
		buf_reset(&b);
		(void)mime_entity_text(e, 1, &b, &damage, &error);
	}
	buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data, *error;
	struct mime_limits lim;
	struct mime_message *m, *m2;
	struct mime_entity *e;
	struct mime_inspect r;
	struct buf a, b;
	unsigned damage = 0;

	if (size > 1 << 20)
		return 0;
	/* small limits so the fuzzer reaches them */
	mime_limits_default(&lim);
	lim.max_depth = 8;
	lim.max_parts = 64;
	lim.max_header_line = 200;
	lim.max_header_size = 2000;
	m = mime_parse(d, size, &lim, &error);
	m2 = parse_chunked(d, size, &lim);
	if (m == NULL || m2 == NULL)
		die("parse failed");
	buf_init(&a, 0);
	buf_init(&b, 0);
	tree(m->root, &a);
	tree(m2->root, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		die("chunking changed the tree");
	mime_message_free(&m2);
	buf_reset(&a);
	if (mime_emit_buf(m, NULL, 0, &a, &error) < 0 || a.len != size ||
	    (size > 0 && memcmp(a.data, d, size) != 0))
		die("round trip differs");

	/* header codecs on the raw input */
	buf_reset(&b);
	(void)mime_header_decode(d, size < 4096 ? size : 4096, &b, &damage);
	{
		struct mime_ctype ct;

		if (mime_ctype_parse(d, size < 4096 ? size : 4096, 1,
		    &ct) == 0)
			mime_ctype_release(&ct);
	}
	buf_reset(&b);
	(void)mime_base64_decode(d, size, &b, &damage);
	buf_reset(&b);
	(void)mime_qp_decode(d, size, &b, &damage);

	for (e = m->root; e != NULL; e = mime_entity_walk(m->root, e))
		exercise_entity(e);
	mime_inspect(m, &r);
	buf_reset(&b);
	(void)mime_message_text(m, &b, &damage, &error);

	/* edits: tag the subject, replace the first child by a copy of
	 * itself, emit, and parse the result again */
	if (size > 0 && memchr(d, 0, size < 200 ? size : 200) == NULL) {
		char val[201];
		size_t n = size < 200 ? size : 200;
		struct mime_entity *c;

		memcpy(val, d, n);
		val[n] = '\0';
		(void)mime_header_replace(m, m->root, "Subject", val, &error);
		if (m->root->children != NULL) {
			c = mime_entity_copy(m, m->root->children, &error);
			if (c != NULL && mime_entity_replace(m,
			    m->root->children, c, &error) < 0)
				mime_entity_free(&c);
		}
		buf_reset(&a);
		if (mime_emit_buf(m, NULL, 0, &a, &error) == 0) {
			m2 = mime_parse(a.data, a.len, &lim, &error);
			if (m2 == NULL)
				die("re-parse failed");
			mime_message_free(&m2);
		}
		buf_reset(&a);
		(void)mime_emit_buf(m, NULL, MIME_EMIT_CANONICAL, &a, &error);
	}
	buf_release(&a);
	buf_release(&b);
	mime_message_free(&m);
	return 0;
}
