/*
 * faultinject.so: LD_PRELOAD fault injection for t/e2e/t0803 (built by
 * the test with cc -shared).  Only the process whose executable is named
 * by POSTERN_FAULT_PROG (default postern-encrypt) is affected; the
 * programs it runs (gpg, sendmail) inherit the library but not the
 * faults, except the exec fault.
 *
 *   POSTERN_FAULT_MALLOC=N  allocation N (1-based) and every later one
 *                           (malloc, calloc, realloc growing) fail ENOMEM;
 *                           allocations are counted from the program's
 *                           first read(2) of standard input on, so the
 *                           libraries' own start-up (which postern-encrypt
 *                           does before it reads the message) is spared
 *   POSTERN_FAULT_COUNT=F   append the number of allocations to file F
 *                           at exit (to choose N)
 *   POSTERN_FAULT_EXEC=NAME execv/execve of a file whose base name is NAME
 *                           fails with ENOENT, in every process
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static int active = -1;		/* -1 unknown, 0 no, 1 yes */
static int started;		/* standard input was read */
static unsigned long count, fail_at;
static const char *count_file;

static void
init(void)
{
	char exe[512], *base;
	const char *prog = getenv("POSTERN_FAULT_PROG"), *n;
	ssize_t l;

	active = 0;
	if (prog == NULL)
		prog = "postern-encrypt";
	l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (l <= 0)
		return;
	exe[l] = '\0';
	base = strrchr(exe, '/');
	base = base != NULL ? base + 1 : exe;
	if (strcmp(base, prog) != 0)
		return;
	n = getenv("POSTERN_FAULT_MALLOC");
	fail_at = n != NULL ? strtoul(n, NULL, 10) : 0;
	count_file = getenv("POSTERN_FAULT_COUNT");
	active = 1;
}

static int
should_fail(void)
{
	if (active < 0)
		init();
	if (active != 1 || !started)
		return 0;
	count++;
	return fail_at > 0 && count >= fail_at;
}

void *
malloc(size_t n)
{
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	if (n > 0 && should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_realloc(p, n);
}

ssize_t
read(int fd, void *buf, size_t n)
{
	if (fd == 0)
		started = 1;
	return syscall(SYS_read, fd, buf, n);
}

static int
exec_blocked(const char *path)
{
	const char *name = getenv("POSTERN_FAULT_EXEC"), *base;

	if (name == NULL || path == NULL)
		return 0;
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	return strcmp(base, name) == 0;
}

int
execve(const char *path, char *const argv[], char *const envp[])
{
	if (exec_blocked(path)) {
		errno = ENOENT;
		return -1;
	}
	return (int)syscall(SYS_execve, path, argv, envp);
}

int
execv(const char *path, char *const argv[])
{
	extern char **environ;

	return execve(path, argv, environ);
}

__attribute__((destructor)) static void
report(void)
{
	FILE *fp;

	if (active != 1 || count_file == NULL)
		return;
	fp = fopen(count_file, "a");
	if (fp == NULL)
		return;
	fprintf(fp, "%lu\n", count);
	fclose(fp);
}
