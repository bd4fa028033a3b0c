#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "postern";
static enum log_level log_min = LOG_LEVEL_INFO;
static int log_fatal_code = 1;
static log_sink_fn *log_sink;
static void *log_sink_ctx;

static const char *const level_names[] = {
	"debug", "info", "warning", "error", "fatal", "panic",
};

static void
log_stderr_sink(enum log_level level, const char *line, void *ctx)
{
	(void)ctx;
	if (level == LOG_LEVEL_INFO || level == LOG_LEVEL_DEBUG)
		fprintf(stderr, "%s: %s\n", log_ident, line);
	else
		fprintf(stderr, "%s: %s: %s\n", log_ident, level_names[level],
		    line);
}

static void
log_syslog_sink(enum log_level level, const char *line, void *ctx)
{
	static const int prio[] = {
		LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT,
	};

	(void)ctx;
	if (level == LOG_LEVEL_INFO || level == LOG_LEVEL_DEBUG)
		syslog(prio[level], "%s", line);
	else
		syslog(prio[level], "%s: %s", level_names[level], line);
}

void
log_init(const char *ident)
{
	const char *slash;

	if (ident != NULL) {
		slash = strrchr(ident, '/');
		log_ident = slash != NULL ? slash + 1 : ident;
	}
	log_sink = log_stderr_sink;
	log_sink_ctx = NULL;
}

static const struct {
	const char *name;
	int code;
} facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

int
log_open_syslog(const char *facility)
{
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++) {
		if (strcasecmp(facilities[i].name, facility) == 0) {
			openlog(log_ident, LOG_PID | LOG_NDELAY,
			    facilities[i].code);
			log_sink = log_syslog_sink;
			log_sink_ctx = NULL;
			return 0;
		}
	}
	return -1;
}

void
log_use_stderr(void)
{
	log_sink = log_stderr_sink;
	log_sink_ctx = NULL;
}

void
log_set_sink(log_sink_fn *fn, void *ctx)
{
	log_sink = fn != NULL ? fn : log_stderr_sink;
	log_sink_ctx = ctx;
}

void
log_set_level(enum log_level min)
{
	log_min = min;
}

void
log_set_fatal_exit(int code)
{
	log_fatal_code = code;
}

int
log_level_parse(const char *name)
{
	if (strcmp(name, "debug") == 0)
		return LOG_LEVEL_DEBUG;
	if (strcmp(name, "info") == 0)
		return LOG_LEVEL_INFO;
	if (strcmp(name, "warn") == 0 || strcmp(name, "warning") == 0)
		return LOG_LEVEL_WARN;
	if (strcmp(name, "err") == 0 || strcmp(name, "error") == 0)
		return LOG_LEVEL_ERR;
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

char *
log_printable(char *s)
{
	unsigned char *p;

	for (p = (unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			*p = '?';
	return s;
}

void
log_vmsg(enum log_level level, const char *qid, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int n = 0;

	if (level < log_min && level < LOG_LEVEL_FATAL)
		return;
	if (qid != NULL)
		n = snprintf(line, sizeof(line), "%s: ", qid);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	log_printable(line);
	if (log_sink == NULL)
		log_sink = log_stderr_sink;
	log_sink(level, line, log_sink_ctx);
}

#define LOG_FN(name, level)						\
void									\
name(const char *qid, const char *fmt, ...)				\
{									\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	log_vmsg(level, qid, fmt, ap);					\
	va_end(ap);							\
}

LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_err, LOG_LEVEL_ERR)

void
log_fatal(const char *qid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_FATAL, qid, fmt, ap);
	va_end(ap);
	exit(log_fatal_code);
}

void
log_panic(const char *qid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_PANIC, qid, fmt, ap);
	va_end(ap);
	abort();
}
