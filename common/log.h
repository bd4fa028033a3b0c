/*
 * log: one place for every line Postern logs.
 *
 * Severities follow Postfix msg(3): debug, info, warn (recoverable), err,
 * fatal (bad configuration or environment: logs, then exits with the code
 * set by log_set_fatal_exit(), 1 by default; postern-encrypt sets 75 so
 * the MTA retries) and panic (broken invariant: logs, then aborts).
 *
 * Every function takes the queue ID first.  A non-NULL qid is printed as
 * "QID: " before the text, so every line about a message starts with its
 * queue ID; pass NULL for lines that concern no message (start-up).
 * The formatted line is made printable before it leaves: control bytes
 * and bytes >= 0x7f become '?', as Postfix printable() does, so outside
 * text cannot forge log lines.  Lines are cut at LOG_LINE_MAX bytes.
 *
 * Output goes to the sink: stderr by default, syslog after
 * log_open_syslog(), or any function set with log_set_sink() (tests use
 * this to assert on log lines).  The sink is process-global; set it
 * before starting threads.  Sinks may be called from several threads.
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>

#define LOG_LINE_MAX 2048

enum log_level {
	LOG_LEVEL_DEBUG = 0,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERR,
	LOG_LEVEL_FATAL,
	LOG_LEVEL_PANIC,
};

typedef void log_sink_fn(enum log_level level, const char *line, void *ctx);

/* ident is kept by pointer (a string literal or argv[0]). */
void log_init(const char *ident);
/* facility: a syslog facility name ("mail", "local0"...); -1 if unknown. */
int log_open_syslog(const char *facility);
void log_use_stderr(void);
void log_set_sink(log_sink_fn *fn, void *ctx);
void log_set_level(enum log_level min);
void log_set_fatal_exit(int code);
/* "debug", "info", "warn", "err"; -1 if unknown. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

void log_debug(const char *qid, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_info(const char *qid, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_warn(const char *qid, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_err(const char *qid, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_fatal(const char *qid, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void log_panic(const char *qid, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

void log_vmsg(enum log_level level, const char *qid, const char *fmt,
    va_list ap);

/* Replace non-printable bytes of s in place; returns s. */
char *log_printable(char *s);

#endif
