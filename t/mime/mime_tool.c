/*
 * mime_tool: a small driver of the MIME engine for script tests that
 * check its output with tools we did not write (python3 email, openssl).
 *
 *   mime_tool build lf|crlf        a built multipart/mixed to stdout
 *   mime_tool part FILE PATH       entity PATH, canonical CRLF, to stdout
 *   mime_tool decode FILE PATH     transfer-decoded body of PATH
 *   mime_tool subject FILE VALUE   FILE with Subject replaced (UTF-8)
 *   mime_tool inspect FILE         "kinds=HEX path=P root=N" lines
 *   mime_tool mem FILE TMPDIR      the milter's way: FILE through a spool
 *                                  (1 MiB in memory, then a temp file in
 *                                  TMPDIR, mmap'd), parse, edit Subject,
 *                                  emit to nowhere; prints "bytes=N
 *                                  parts=N hwm_kb=N" (peak resident set)
 * Exit 0, or 1 with a message on stderr.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "mime.h"
#include "spool.h"

static char *
load(const char *path, size_t *len_r)
{
	FILE *fp = fopen(path, "rb");
	struct buf b;
	char chunk[65536];
	size_t n;

	if (fp == NULL) {
		perror(path);
		exit(1);
	}
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(&b, chunk, n) < 0)
			exit(1);
	fclose(fp);
	return buf_steal(&b, len_r);
}

static int
out(void *ctx, const void *d, size_t len)
{
	(void)ctx;
	return fwrite(d, 1, len, stdout) == len ? 0 : -1;
}

static void
fail(const char *what, const char *error)
{
	fprintf(stderr, "mime_tool: %s: %s\n", what, error);
	exit(1);
}

static int
build(int crlf)
{
	static const char pdf[] = "%PDF-1.4\n\x00\x01\x02\xff binary tail";
	const char *error;
	struct mime_entity *mp, *alt, *t, *h, *a;
	struct mime_message *m;

	mp = mime_build_multipart("mixed", NULL, &error);
	alt = mime_build_multipart("alternative", NULL, &error);
	static const char text[] = "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln\n"
	    "From here.\n";
	static const char html[] = "<p>Gr\xc3\xbc\xc3\x9f" "e</p>\n";

	t = mime_build_leaf("text/plain; charset=utf-8", MIME_CTE_QP, text,
	    strlen(text), &error);
	h = mime_build_leaf("text/html; charset=utf-8", MIME_CTE_BASE64, html,
	    strlen(html), &error);
	a = mime_build_attachment("application/pdf",
	    "r\xc3\xa9sum\xc3\xa9 2024 \xe2\x80\x93 quarterly report for the "
	    "board of directors (final).pdf", pdf, sizeof(pdf) - 1, &error);
	if (mp == NULL || alt == NULL || t == NULL || h == NULL || a == NULL)
		fail("build", error);
	if (mime_entity_add_child(alt, t, &error) < 0 ||
	    mime_entity_add_child(alt, h, &error) < 0 ||
	    mime_entity_add_child(mp, alt, &error) < 0 ||
	    mime_entity_add_child(mp, a, &error) < 0)
		fail("add", error);
	m = mime_message_new_built(mp, crlf ? MIME_EOL_CRLF : MIME_EOL_LF);
	if (mime_header_add(m, m->root, "MIME-Version", "1.0", MIME_TOP,
	    &error) < 0 ||
	    mime_header_add(m, m->root, "Subject", "[SECURE] \xc3\x9c" "ber "
	    "die Grenze: ein sehr langer Betreff, der gefaltet werden muss, "
	    "weil er l\xc3\xa4nger als 78 Zeichen ist", MIME_TOP, &error) < 0 ||
	    mime_header_add(m, m->root, "From", "alice@example.org",
	    MIME_TOP, &error) < 0)
		fail("header", error);
	if (mime_emit(m, NULL, 0, out, NULL, &error) < 0)
		fail("emit", error);
	mime_message_free(&m);
	return 0;
}

static int
discard(void *ctx, const void *d, size_t len)
{
	(void)d;
	*(size_t *)ctx += len;
	return 0;
}

static long
hwm_kb(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmHWM: %ld", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

static int
mem(const char *path, const char *tmpdir)
{
	struct spool *sp = spool_new(1024 * 1024, (size_t)4 << 30, tmpdir);
	struct mime_message *m;
	const char *error, *data;
	char chunk[65536];
	size_t len, emitted = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || sp == NULL)
		fail("open", path);
	/* the milter's chunks are at most 64 KiB */
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (spool_append(sp, chunk, (size_t)n, &error) != SPOOL_OK)
			fail("spool", error);
	close(fd);
	if (spool_view(sp, &data, &len, &error) != SPOOL_OK)
		fail("view", error);
	if (!spool_in_file(sp))
		fail("spool", "did not spill to a file");
	if ((m = mime_parse(data, len, NULL, &error)) == NULL)
		fail("parse", error);
	if (mime_header_replace(m, m->root, "Subject", "[decrypted] x",
	    &error) < 0 ||
	    mime_emit(m, NULL, 0, discard, &emitted, &error) < 0)
		fail("emit", error);
	if (emitted < len)
		fail("emit", "short output");
	printf("bytes=%zu parts=%u hwm_kb=%ld\n", len, m->nparts, hwm_kb());
	mime_message_free(&m);
	spool_free(&sp);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *error;
	struct mime_message *m;
	struct mime_entity *e;
	char *data;
	size_t len;

	if (argc == 3 && strcmp(argv[1], "build") == 0)
		return build(strcmp(argv[2], "crlf") == 0);
	if (argc == 4 && strcmp(argv[1], "mem") == 0)
		return mem(argv[2], argv[3]);
	if (argc < 3) {
		fprintf(stderr, "usage: see mime_tool.c\n");
		return 1;
	}
	data = load(argv[2], &len);
	if ((m = mime_parse(data, len, NULL, &error)) == NULL)
		fail("parse", error);
	if (strcmp(argv[1], "inspect") == 0) {
		struct mime_inspect r;
		size_t i;

		mime_inspect(m, &r);
		for (i = 0; i < r.nparts; i++)
			printf("kind=%x path=%s root=%d\n", r.parts[i].kind,
			    r.parts[i].path, r.parts[i].is_root);
	} else if (argc == 4 && strcmp(argv[1], "subject") == 0) {
		if (mime_header_replace(m, m->root, "Subject", argv[3],
		    &error) < 0 ||
		    mime_emit(m, NULL, 0, out, NULL, &error) < 0)
			fail("subject", error);
	} else if (argc == 4) {
		if ((e = mime_entity_at(m->root, argv[3])) == NULL)
			fail("path", argv[3]);
		if (strcmp(argv[1], "part") == 0) {
			if (mime_emit(m, e, MIME_EMIT_CANONICAL, out, NULL,
			    &error) < 0)
				fail("part", error);
		} else if (strcmp(argv[1], "decode") == 0) {
			struct buf b;

			buf_init(&b, 0);
			if (mime_entity_decode(e, &b, NULL, &error) < 0)
				fail("decode", error);
			fwrite(b.data, 1, b.len, stdout);
			buf_release(&b);
		} else
			fail("command", argv[1]);
	} else
		fail("command", argv[1]);
	mime_message_free(&m);
	free(data);
	return fflush(stdout) == 0 ? 0 : 1;
}
