/*
 * mime parser: structure and offsets, boundary rules, LF/CRLF, limits
 * (exact and +1), chunking independence, and the corpus round trip.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "mime.h"
#include "mimetest.h"
#include "testutil.h"

/* "type/sub!damage(child,child)" */
static void
tstr(const struct mime_entity *e, struct buf *out)
{
	const struct mime_entity *c;

	buf_printf(out, "%s/%s", e->type, e->subtype);
	if (e->damage != 0) {
		buf_putc(out, '!');
		mime_damage_names(e->damage, out);
	}
	if (e->children != NULL) {
		buf_putc(out, '(');
		for (c = e->children; c != NULL; c = c->next) {
			tstr(c, out);
			if (c->next != NULL)
				buf_putc(out, ',');
		}
		buf_putc(out, ')');
	}
}

/* LF -> CRLF copy. */
static char *
crlf(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			buf_putc(&b, '\r');
		buf_putc(&b, *s);
	}
	return buf_steal(&b, NULL);
}

/* ---- offsets ---------------------------------------------------------- */

static const char offs_msg[] =
    "Content-Type: multipart/mixed; boundary=b\n"
    "\n"
    "pre\n"
    "--b\n"
    "X: 1\n"
    "\n"
    "one\n"
    "--b  \n"
    "\n"
    "two\n"
    "--b--\n"
    "epi\n";

static void
check_offsets(const char *msg, size_t eol)
{
	struct mime_message *m = mt_parse(msg);
	struct mime_entity *r = m->root, *a, *b;
	size_t len = strlen(msg);
	const char *x1 = strstr(msg, "X: 1"), *one = strstr(msg, "one");
	const char *two = strstr(msg, "two"), *pre = strstr(msg, "pre");
	char *out;

	ck_assert_uint_eq(m->eol, eol == 2 ? MIME_EOL_CRLF : MIME_EOL_LF);
	ck_assert_uint_eq(r->nchildren, 2);
	ck_assert_uint_eq(r->start, 0);
	ck_assert_uint_eq(r->header_len, (size_t)(pre - msg) - eol);
	ck_assert_uint_eq(r->body_start, (size_t)(pre - msg));
	ck_assert_uint_eq(r->end, len);
	a = r->children;
	b = a->next;
	ck_assert_uint_eq(a->start, (size_t)(x1 - msg));
	ck_assert_uint_eq(a->header_len, 4 + eol);
	ck_assert_uint_eq(a->body_start, (size_t)(one - msg));
	/* the EOL before the delimiter is not part of the body */
	ck_assert_uint_eq(a->end, (size_t)(one - msg) + 3);
	ck_assert_uint_eq(b->header_len, 0);
	ck_assert_uint_eq(b->body_start, (size_t)(two - msg));
	ck_assert_uint_eq(b->start, (size_t)(two - msg) - eol);
	ck_assert_uint_eq(b->end, (size_t)(two - msg) + 3);
	ck_assert_uint_eq(a->depth, 1);
	ck_assert_uint_eq(m->damage, 0);
	out = mt_emit(m, 0);
	ck_assert_str_eq(out, msg);
	free(out);
	mime_message_free(&m);
}

START_TEST(offsets_lf)
{
	check_offsets(offs_msg, 1);
}
END_TEST

START_TEST(offsets_crlf)
{
	char *c = crlf(offs_msg);

	check_offsets(c, 2);
	free(c);
}
END_TEST

/* ---- structure table ---------------------------------------------------- */

#define LB "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
	const char *name;
	const char *msg;
	const char *want;
} tree_cases[] = {
	{ "simple", "Subject: x\n\nbody\n", "text/plain" },
	{ "empty", "", "text/plain" },
	{ "no body", "Subject: x", "text/plain!header-no-end" },
	{ "blank only", "\n", "text/plain" },
	{ "mbox From", "From a@b Mon Jan 1 00:00:00 2024\nSubject: x\n\nb\n",
	  "text/plain" },
	{ "garbage line ends header",
	  "Subject: x\nthis is no header\n\nbody\n",
	  "text/plain!header-garbage" },
	{ "prefix is not a delimiter",
	  "Content-Type: multipart/mixed; boundary=xx\n\n--xx\n\na\n--xxy\n"
	  "b\n--xx--\n", "multipart/mixed(text/plain)" },
	{ "padding after delimiter",
	  "Content-Type: multipart/mixed; boundary=xx\n\n--xx \t\n\na\n"
	  "--xx\t\n\nb\n--xx--  \n", "multipart/mixed(text/plain,text/plain)" },
	{ "not at line start",
	  "Content-Type: multipart/mixed; boundary=xx\n\n--xx\n\na --xx\n"
	  "--xx--\n", "multipart/mixed(text/plain)" },
	{ "missing close",
	  "Content-Type: multipart/mixed; boundary=xx\n\n--xx\n\na\n",
	  "multipart/mixed!no-close(text/plain)" },
	{ "close with garbage",
	  "Content-Type: multipart/mixed; boundary=xx\n\n--xx\n\na\n--xx--junk\n"
	  "epilogue\n", "multipart/mixed(text/plain)" },
	{ "no parts",
	  "Content-Type: multipart/mixed; boundary=xx\n\n--xx--\n",
	  "multipart/mixed!no-parts" },
	{ "no boundary", "Content-Type: multipart/mixed\n\n--xx\n\na\n",
	  "multipart/mixed!no-boundary" },
	{ "nested",
	  "Content-Type: multipart/mixed; boundary=o\n\n--o\n"
	  "Content-Type: multipart/alternative; boundary=i\n\n--i\n\nplain\n"
	  "--i\nContent-Type: text/html\n\n<p>x</p>\n--i--\n--o\n"
	  "Content-Type: image/png\n\nPNG\n--o--\n",
	  "multipart/mixed(multipart/alternative(text/plain,text/html),"
	  "image/png)" },
	{ "inner not closed",
	  "Content-Type: multipart/mixed; boundary=o\n\n--o\n"
	  "Content-Type: multipart/alternative; boundary=i\n\n--i\n\nplain\n"
	  "--o\n\nsecond\n--o--\n",
	  "multipart/mixed(multipart/alternative!no-close(text/plain),"
	  "text/plain)" },
	{ "same boundary inside",
	  "Content-Type: multipart/mixed; boundary=s\n\n--s\n"
	  "Content-Type: multipart/mixed; boundary=s\n\n--s\n\na\n--s--\n"
	  "--s--\n",
	  "multipart/mixed(multipart/mixed(text/plain))" },
	{ "message/rfc822",
	  "Content-Type: multipart/mixed; boundary=o\n\n--o\n"
	  "Content-Type: message/rfc822\n\nSubject: inner\n"
	  "Content-Type: text/html\n\n<p>x</p>\n--o--\n",
	  "multipart/mixed(message/rfc822(text/html))" },
	{ "message/rfc822 base64 is opaque",
	  "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
	  "U3ViamVjdDogeAoKYgo=\n", "message/rfc822" },
	{ "part without blank line",
	  "Content-Type: multipart/mixed; boundary=xx\n\n--xx\n"
	  "Content-Type: text/html\n--xx--\n",
	  "multipart/mixed(text/html!header-no-end)" },
	{ "mixed eol",
	  "Subject: x\r\nFrom: y\n\r\nbody\n", "text/plain!mixed-eol" },
	{ "part starts with garbage",
	  "Content-Type: multipart/mixed; boundary=xx\n\n--xx\nnot a header\n"
	  "--xx--\n", "multipart/mixed(text/plain!header-garbage)" },
	{ "long boundary",
	  "Content-Type: multipart/mixed; boundary=" LB "\n\n--" LB "\n\nx\n"
	  "--" LB "--\n", "multipart/mixed!boundary-long(text/plain)" },
};

START_TEST(tree_table)
{
	struct mime_message *m = mt_parse(tree_cases[_i].msg);
	struct buf got;
	char *out, *c;

	buf_init(&got, 0);
	tstr(m->root, &got);
	ck_assert_msg(strcmp(got.data, tree_cases[_i].want) == 0,
	    "%s: got %s, want %s", tree_cases[_i].name, got.data,
	    tree_cases[_i].want);
	out = mt_emit(m, 0);
	ck_assert_str_eq(out, tree_cases[_i].msg);
	free(out);
	mime_message_free(&m);
	/* the same with CRLF (except the mixed case) */
	if (strstr(tree_cases[_i].msg, "\r") == NULL) {
		c = crlf(tree_cases[_i].msg);
		m = mt_parse(c);
		buf_reset(&got);
		tstr(m->root, &got);
		ck_assert_msg(strcmp(got.data, tree_cases[_i].want) == 0,
		    "%s (CRLF): got %s, want %s", tree_cases[_i].name,
		    got.data, tree_cases[_i].want);
		out = mt_emit(m, 0);
		ck_assert_str_eq(out, c);
		free(out);
		free(c);
		mime_message_free(&m);
	}
	buf_release(&got);
}
END_TEST

START_TEST(preamble_epilogue_kept)
{
	const char *msg =
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "This is the preamble.\n--b\n\npart\n--b--\nThe epilogue.\n";
	struct mime_message *m = mt_parse(msg);
	struct mime_entity *c = m->root->children;
	const char *error;

	/* an edit inside forces re-emission around the child */
	ck_assert_int_eq(mime_header_add(m, c, "X-Tag", "1", MIME_BOTTOM,
	    &error), 0);
	{
		char *out = mt_emit(m, 0);

		ck_assert_str_eq(out, "Content-Type: multipart/mixed; "
		    "boundary=b\n\nThis is the preamble.\n--b\nX-Tag: 1\n\n"
		    "part\n--b--\nThe epilogue.\n");
		free(out);
	}
	mime_message_free(&m);
}
END_TEST

/* ---- limits --------------------------------------------------------------- */

/* levels nested multiparts around one text part (depth = levels) */
static char *
nested(unsigned levels)
{
	struct buf b;
	unsigned i;

	buf_init(&b, 0);
	for (i = 0; i < levels; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%u\n"
		    "\n--b%u\n", i, i);
	buf_puts(&b, "Content-Type: text/plain\n\nleaf\n");
	for (i = levels; i-- > 0;)
		buf_printf(&b, "--b%u--\n", i);
	return buf_steal(&b, NULL);
}

START_TEST(limit_depth)
{
	struct mime_limits lim;
	struct mime_message *m;
	char *msg = nested(5), *out;

	mime_limits_default(&lim);
	lim.max_depth = 5;	/* exact: the leaf is at depth 5 */
	m = mt_parse_chunks(msg, strlen(msg), &lim, NULL, 0);
	ck_assert_uint_eq(m->nparts, 6);
	ck_assert_msg(m->damage == 0, "got damage %x", m->damage);
	mime_message_free(&m);
	lim.max_depth = 4;	/* limit + 1 */
	m = mt_parse_chunks(msg, strlen(msg), &lim, NULL, 0);
	ck_assert_uint_eq(m->nparts, 5);
	ck_assert_uint_eq(m->damage, MIME_D_DEPTH);
	out = mt_emit(m, 0);
	ck_assert_str_eq(out, msg);	/* kept opaque, bytes intact */
	free(out);
	mime_message_free(&m);
	free(msg);
	/* a deep bomb with the defaults: bounded, no crash */
	msg = nested(5000);
	m = mt_parse_chunks(msg, strlen(msg), NULL, NULL, 0);
	ck_assert_uint_eq(m->nparts, 33);
	ck_assert(m->damage & MIME_D_DEPTH);
	mime_message_free(&m);
	free(msg);
}
END_TEST

static char *
many_parts(unsigned n)
{
	struct buf b;
	unsigned i;

	buf_init(&b, 0);
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (i = 0; i < n; i++)
		buf_printf(&b, "--p\n\npart %u\n", i);
	buf_puts(&b, "--p--\n");
	return buf_steal(&b, NULL);
}

START_TEST(limit_parts)
{
	struct mime_limits lim;
	struct mime_message *m;
	char *msg = many_parts(9), *out;

	mime_limits_default(&lim);
	lim.max_parts = 10;	/* root + 9 */
	m = mt_parse_chunks(msg, strlen(msg), &lim, NULL, 0);
	ck_assert_uint_eq(m->nparts, 10);
	ck_assert_uint_eq(m->damage, 0);
	mime_message_free(&m);
	lim.max_parts = 9;
	m = mt_parse_chunks(msg, strlen(msg), &lim, NULL, 0);
	ck_assert_uint_eq(m->nparts, 9);
	ck_assert_uint_eq(m->damage, MIME_D_PARTS);
	out = mt_emit(m, 0);
	ck_assert_str_eq(out, msg);
	free(out);
	mime_message_free(&m);
	free(msg);
}
END_TEST

START_TEST(limit_header_line)
{
	struct mime_limits lim;
	struct mime_message *m;
	struct buf b;
	size_t i;

	mime_limits_default(&lim);
	lim.max_header_line = 100;
	buf_init(&b, 0);
	buf_puts(&b, "Subject: ");
	for (i = 9; i < 100; i++)
		buf_putc(&b, 'x');	/* a 100-byte line */
	buf_puts(&b, "\r\n\r\nbody\r\n");
	m = mt_parse_chunks(b.data, b.len, &lim, NULL, 0);
	ck_assert_msg(m->damage == 0, "exact: got %x", m->damage);
	mime_message_free(&m);
	lim.max_header_line = 99;
	m = mt_parse_chunks(b.data, b.len, &lim, NULL, 0);
	ck_assert_uint_eq(m->damage, MIME_D_HEADER_LINE_LONG);
	/* the field is still there, whole, from the input */
	{
		struct buf v;

		buf_init(&v, 0);
		ck_assert_int_eq(mime_header_get(m->root, "Subject", &v), 0);
		ck_assert_uint_eq(v.len, 91);
		buf_release(&v);
	}
	mime_message_free(&m);
	buf_release(&b);
}
END_TEST

START_TEST(limit_header_size)
{
	struct mime_limits lim;
	struct mime_message *m;
	const char *msg = "A: 1\nB: 2\n  folded\nContent-Type: text/html\n"
	    "\nbody\n";
	size_t hsize = strlen("A: 1\nB: 2\n  folded\nContent-Type: "
	    "text/html\n");

	mime_limits_default(&lim);
	lim.max_header_size = hsize;
	m = mt_parse_chunks(msg, strlen(msg), &lim, NULL, 0);
	ck_assert_uint_eq(m->damage, 0);
	ck_assert_str_eq(m->root->subtype, "html");
	mime_message_free(&m);
	lim.max_header_size = hsize - 1;
	m = mt_parse_chunks(msg, strlen(msg), &lim, NULL, 0);
	ck_assert_uint_eq(m->damage, MIME_D_HEADER_TOO_BIG);
	/* the field past the limit is not interpreted: the default holds */
	ck_assert_str_eq(m->root->subtype, "plain");
	ck_assert_uint_eq(m->root->body_start, hsize + 1);
	mime_message_free(&m);
}
END_TEST

START_TEST(limits_from_config)
{
	struct config *cfg = config_defaults();
	struct mime_limits lim, def;
	const char *error;

	mime_limits_from_config(&lim, cfg);
	mime_limits_default(&def);
	ck_assert_uint_eq(lim.max_depth, def.max_depth);
	ck_assert_uint_eq(lim.max_parts, def.max_parts);
	ck_assert_uint_eq(lim.max_header_line, def.max_header_line);
	ck_assert_uint_eq(lim.max_header_size, def.max_header_size);
	ck_assert_int_eq(config_set(cfg, "mime_max_depth", "3", &error), 0);
	mime_limits_from_config(&lim, cfg);
	ck_assert_uint_eq(lim.max_depth, 3);
	config_free(&cfg);
}
END_TEST

/* ---- chunking -------------------------------------------------------------- */

static char *
tree_of(const char *data, size_t len, const size_t *cuts, size_t ncuts)
{
	struct mime_message *m = mt_parse_chunks(data, len, NULL, cuts,
	    ncuts);
	struct buf b;

	buf_init(&b, 0);
	mt_tree_str(m, &b);
	mime_message_free(&m);
	return buf_steal(&b, NULL);
}

static void
every_chunking(const char *data, size_t len)
{
	char *want = tree_of(data, len, NULL, 0), *got;
	size_t k, *ones;

	for (k = 0; k <= len; k++) {
		size_t cuts[2] = { k, 1 };

		got = tree_of(data, len, cuts, 2);
		ck_assert_msg(strcmp(got, want) == 0, "split at %zu: got %s, "
		    "want %s", k, got, want);
		free(got);
	}
	ones = malloc((len + 1) * sizeof(*ones));
	for (k = 0; k <= len; k++)
		ones[k] = 1;
	got = tree_of(data, len, ones, len);
	ck_assert_msg(strcmp(got, want) == 0, "1 byte at a time: got %s, "
	    "want %s", got, want);
	free(got);
	free(ones);
	free(want);
}

START_TEST(chunking_small)
{
	char *c;
	const char *msg = tree_cases[_i].msg;

	every_chunking(msg, strlen(msg));
	c = crlf(msg);
	every_chunking(c, strlen(c));
	free(c);
}
END_TEST

START_TEST(chunking_long_lines)
{
	/* lines longer than what the parser keeps, CR at chunk borders */
	struct buf b;
	size_t i;
	struct mime_limits lim;

	buf_init(&b, 0);
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=zz\r\nX: ");
	for (i = 0; i < 3000; i++)
		buf_putc(&b, 'h');
	buf_puts(&b, "\r\n\r\n--zz\r\n\r\n");
	for (i = 0; i < 5000; i++)
		buf_putc(&b, i % 100 == 99 ? '\r' : 'b');
	buf_puts(&b, "\r\n--zz--\r\n");
	mime_limits_default(&lim);
	lim.max_header_line = 100;
	{
		char *want, *got;
		struct mime_message *m;
		size_t cuts[64], k, seed = 7;

		m = mt_parse_chunks(b.data, b.len, &lim, NULL, 0);
		ck_assert_uint_eq(m->root->nchildren, 1);
		ck_assert(m->damage & MIME_D_HEADER_LINE_LONG);
		mime_message_free(&m);
		want = tree_of(b.data, b.len, NULL, 0);
		for (k = 0; k < 200; k++) {
			size_t j;

			for (j = 0; j < 64; j++) {
				seed = seed * 6364136223846793005ULL + 1;
				cuts[j] = (seed >> 33) % 300;
			}
			got = tree_of(b.data, b.len, cuts, 64);
			ck_assert_msg(strcmp(got, want) == 0, "got %s, want %s",
			    got, want);
			free(got);
		}
		free(want);
	}
	buf_release(&b);
}
END_TEST

START_TEST(finish_checks_length)
{
	struct mime_parser *p = mime_parser_new(NULL);
	const char *error = NULL;

	ck_assert_int_eq(mime_parser_feed(p, "abc", 3, &error), 0);
	ck_assert(mime_parser_finish(&p, "ab", 2, &error) == NULL);
	ck_assert_str_eq(error, "finish with 2 bytes, 3 were fed");
	ck_assert(p == NULL);
	mime_parser_free(&p);
}
END_TEST

/* ---- corpus -------------------------------------------------------------- */

/*
 * Edits on a corpus message: (1) every first-level entity replaced by a
 * copy of itself gives the input back byte for byte; (2) after the root
 * Subject is replaced, every entity below the root has the same bytes
 * as before.
 */
static void
edited_roundtrip(struct mime_message *m, const char *data, size_t len,
    const char *name)
{
	struct mime_entity *c, *next, *a, *b;
	struct mime_message *back;
	const char *error;
	struct buf o;

	buf_init(&o, 0);
	for (c = m->root->children; c != NULL; c = next) {
		struct mime_entity *copy = mime_entity_copy(m, c, &error);

		next = c->next;
		ck_assert_msg(copy != NULL, "%s: copy: %s", name, error);
		ck_assert_int_eq(mime_entity_replace(m, c, copy, &error), 0);
	}
	ck_assert(mime_emit_buf(m, NULL, 0, &o, &error) == 0);
	ck_assert_msg(o.len == len && memcmp(o.data, data, len) == 0,
	    "%s: replacing parts by copies changed bytes", name);
	if (m->root->damage & (MIME_D_HEADER_GARBAGE | MIME_D_HEADER_NO_END |
	    MIME_D_HEADER_TOO_BIG)) {
		buf_release(&o);
		return;
	}
	ck_assert_int_eq(mime_header_replace(m, m->root, "Subject",
	    "[tag] edited \xc3\xa9", &error), 0);
	buf_reset(&o);
	ck_assert(mime_emit_buf(m, NULL, 0, &o, &error) == 0);
	back = mime_parse(o.data, o.len, NULL, &error);
	ck_assert(back != NULL);
	ck_assert_uint_eq(back->nparts, m->nparts);
	for (a = m->root->children, b = back->root->children; a != NULL;
	    a = a->next, b = b->next) {
		ck_assert(b != NULL);
		ck_assert_msg(a->end - a->start == b->end - b->start &&
		    memcmp(a->src + a->start, b->src + b->start,
		    a->end - a->start) == 0, "%s: part changed", name);
	}
	ck_assert_msg(back->root->end - back->root->body_start ==
	    m->root->end - m->root->body_start &&
	    memcmp(back->root->src + back->root->body_start,
	    data + m->root->body_start, m->root->end - m->root->body_start) ==
	    0, "%s: body changed", name);
	mime_message_free(&back);
	buf_release(&o);
}

/* Every message file: parse, emit unchanged = identical bytes, and a
 * random chunking gives the identical tree (about 7 s under valgrind). */
START_TEST(corpus_roundtrip)
{
	size_t n, i, same = 0, damaged = 0, seed = 42;
	char **files = mt_corpus_files(&n);

	if (files == NULL) {
		fprintf(stderr, "mime: no corpus, round trip skipped\n");
		return;
	}
	ck_assert_msg(n >= 700, "only %zu corpus files", n);
	for (i = 0; i < n; i++) {
		size_t len, j, cuts[32];
		char *data = tu_read_file(files[i], &len), *a, *b;
		struct mime_message *m;
		struct buf t;

		ck_assert_msg(data != NULL, "cannot read %s", files[i]);
		m = mt_parse_chunks(data, len, NULL, NULL, 0);
		if (m->damage)
			damaged++;
		{
			struct buf o;
			const char *error;

			buf_init(&o, 0);
			ck_assert(mime_emit_buf(m, NULL, 0, &o, &error) == 0);
			ck_assert_msg(o.len == len && memcmp(o.data, data,
			    len) == 0, "%s: emitted bytes differ", files[i]);
			buf_release(&o);
			same++;
		}
		{
			buf_init(&t, 0);
			mt_tree_str(m, &t);
			a = buf_steal(&t, NULL);
			for (j = 0; j < 32; j++) {
				seed = seed * 6364136223846793005ULL + 1;
				cuts[j] = (seed >> 33) % (len / 16 + 2);
			}
			b = tree_of(data, len, cuts, 32);
			ck_assert_msg(strcmp(a, b) == 0, "%s: chunked tree "
			    "differs", files[i]);
			free(a);
			free(b);
		}
		edited_roundtrip(m, data, len, files[i]);
		mime_message_free(&m);
		free(data);
	}
	fprintf(stderr, "mime: corpus %zu files, %zu byte-identical, "
	    "%zu flagged damaged\n", n, same, damaged);
	mt_files_free(files);
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

Suite *
mime_tree_suite(void)
{
	Suite *s = suite_create("mime_tree");
	TCase *tc = tcase_create("structure");

	tcase_add_test(tc, offsets_lf);
	tcase_add_test(tc, offsets_crlf);
	tcase_add_loop_test(tc, tree_table, 0, N(tree_cases));
	tcase_add_test(tc, preamble_epilogue_kept);
	tcase_add_test(tc, finish_checks_length);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, limit_depth);
	tcase_add_test(tc, limit_parts);
	tcase_add_test(tc, limit_header_line);
	tcase_add_test(tc, limit_header_size);
	tcase_add_test(tc, limits_from_config);
	suite_add_tcase(s, tc);
	tc = tcase_create("chunking");
	tcase_add_loop_test(tc, chunking_small, 0, N(tree_cases));
	tcase_add_test(tc, chunking_long_lines);
	suite_add_tcase(s, tc);
	tc = tcase_create("corpus");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, corpus_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
