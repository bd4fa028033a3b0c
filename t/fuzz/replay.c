/*
 * Replay inputs through the fuzz target without libFuzzer: every file
 * named on the command line (directories are walked one level).  Used
 * by t/fuzz/t0001-mime-replay.sh so "make check" keeps old crashers
 * fixed.  Prints "replayed N inputs" and exits 0, or dies with the
 * target's abort.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *data = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[65536];

	if (fp == NULL) {
		fprintf(stderr, "replay: cannot open '%s'\n", path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (len + n > cap) {
			cap = (len + n) * 2;
			data = realloc(data, cap);
			if (data == NULL)
				abort();
		}
		memcpy(data + len, chunk, n);
		len += n;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput((const uint8_t *)(data != NULL ? data : ""),
	    len);
	free(data);
	return 0;
}

int
main(int argc, char **argv)
{
	int i, count = 0, bad = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;

			while (d != NULL && (de = readdir(d)) != NULL) {
				char p[4096];

				if (de->d_name[0] == '.')
					continue;
				snprintf(p, sizeof(p), "%s/%s", argv[i],
				    de->d_name);
				if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
					bad += run_file(p) < 0;
					count++;
				}
			}
			if (d != NULL)
				closedir(d);
		} else {
			bad += run_file(argv[i]) < 0;
			count++;
		}
	}
	printf("replayed %d inputs\n", count);
	return bad != 0;
}
