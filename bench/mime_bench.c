/*
 * mime_bench: parse+emit throughput and peak memory of the MIME engine,
 * beside memcpy and read(2) of the same bytes.
 *
 *   mime_bench FILE...    one line per file and measure
 *
 * Throughput: best of several rounds, MB/s (1 MB = 10^6 bytes).
 * Memory: VmHWM of a child that only reads the file into memory, and of
 * a child that reads, parses, edits the Subject and emits (to a writer
 * that discards); the extra over the file size is what the engine costs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mime.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *
load(const char *path, size_t *len_r)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *d;
	size_t off = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		exit(1);
	}
	d = malloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, d + off, (size_t)st.st_size - off);

		if (n <= 0) {
			perror("read");
			exit(1);
		}
		off += (size_t)n;
	}
	close(fd);
	*len_r = off;
	return d;
}

static long
hwm_kb(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = atol(line + 6);
	if (fp != NULL)
		fclose(fp);
	return kb;
}

static int
discard(void *ctx, const void *d, size_t len)
{
	(void)d;
	*(size_t *)ctx += len;
	return 0;
}

static void
parse_emit(const char *d, size_t len, int edit, struct buf *out)
{
	const char *error;
	struct mime_message *m = mime_parse(d, len, NULL, &error);
	size_t n = 0;

	if (m == NULL) {
		fprintf(stderr, "parse: %s\n", error);
		exit(1);
	}
	if (edit && mime_header_replace(m, m->root, "Subject",
	    "[bench] edited", &error) < 0)
		exit(1);
	if (out != NULL) {
		buf_reset(out);
		if (mime_emit_buf(m, NULL, 0, out, &error) < 0)
			exit(1);
	} else if (mime_emit(m, NULL, 0, discard, &n, &error) < 0)
		exit(1);
	mime_message_free(&m);
}

/* Peak memory of a fresh process (re-exec of ourselves, so nothing of
 * this process's heap is counted): mode 0 = load only, 1 = load, parse,
 * edit, emit. */
static long
child_hwm(const char *self, const char *path, int mode)
{
	int p[2];
	pid_t pid;
	char buf[64] = "";
	ssize_t n;

	if (pipe(p) < 0)
		exit(1);
	if ((pid = fork()) == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(self, self, "--hwm", mode ? "1" : "0", path, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	waitpid(pid, NULL, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atol(buf);
}

int
main(int argc, char **argv)
{
	int i;

	if (argc == 4 && strcmp(argv[1], "--hwm") == 0) {
		size_t len;
		char *d = load(argv[3], &len);

		if (atoi(argv[2]) == 1)
			parse_emit(d, len, 1, NULL);
		printf("%ld\n", hwm_kb());
		free(d);
		return 0;
	}
	printf("%-10s %10s %10s %10s %10s %10s %8s %9s %9s %7s\n", "file",
	    "bytes", "memcpy", "read", "parse", "parse+emit", "ratio",
	    "hwm-load", "hwm-mime", "extra");
	for (i = 1; i < argc; i++) {
		size_t len, rounds, r;
		char *d = load(argv[i], &len), *copy = malloc(len + 1);
		double t, best_cpy = 1e9, best_read = 1e9, best_parse = 1e9,
		    best_pe = 1e9, mb = len / 1e6;
		struct buf out;
		long hl, hm;
		const char *name = strrchr(argv[i], '/');

		name = name != NULL ? name + 1 : argv[i];
		buf_init(&out, 0);
		rounds = len < 100000 ? 2000 : len < 10000000 ? 20 : 3;
		for (r = 0; r < 5; r++) {
			size_t k;

			t = now();
			for (k = 0; k < rounds; k++) {
				memcpy(copy, d, len);
				__asm__ volatile("" : : "r"(copy) : "memory");
			}
			t = (now() - t) / rounds;
			if (t < best_cpy)
				best_cpy = t;
			t = now();
			for (k = 0; k < rounds; k++) {
				size_t l2;
				char *x = load(argv[i], &l2);

				free(x);
			}
			t = (now() - t) / rounds;
			if (t < best_read)
				best_read = t;
			t = now();
			for (k = 0; k < rounds; k++) {
				const char *error;
				struct mime_message *m = mime_parse(d, len,
				    NULL, &error);

				mime_message_free(&m);
			}
			t = (now() - t) / rounds;
			if (t < best_parse)
				best_parse = t;
			t = now();
			for (k = 0; k < rounds; k++)
				parse_emit(d, len, 1, &out);
			t = (now() - t) / rounds;
			if (t < best_pe)
				best_pe = t;
		}
		hl = child_hwm(argv[0], argv[i], 0);
		hm = child_hwm(argv[0], argv[i], 1);
		printf("%-10s %10zu %8.0f/s %8.0f/s %8.0f/s %8.0f/s %7.1fx "
		    "%7ldkB %7ldkB %6.2fx\n", name, len, mb / best_cpy,
		    mb / best_read, mb / best_parse, mb / best_pe,
		    best_pe / best_cpy, hl, hm,
		    (double)(hm - hl) * 1024 / (double)len);
		buf_release(&out);
		free(copy);
		free(d);
	}
	printf("MB/s columns: megabytes per second; ratio: parse+emit time / "
	    "memcpy time;\nhwm-load: peak RSS of a process that only reads "
	    "the file; hwm-mime: reads,\nparses, edits the Subject and emits "
	    "(discarding); extra: (hwm-mime - hwm-load)\n/ file size, i.e. "
	    "memory the engine adds per input byte.\n");
	return 0;
}
