/* reinject: SMTP or sendmail hand-off (see reinject.h). */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "mime_codec.h"
#include "reinject.h"

#define ARGV_MAX 32
#define LINE_MAX_SMTP 4096
#define REPLY_MAX (64 * 1024)

enum kind { K_SMTP, K_SENDMAIL };

struct reinject {
	enum kind kind;
	long timeout_ms;
	/* smtp */
	char host[256];
	char port[16];
	int fd;
	int has_8bitmime, has_smtputf8;
	struct buf in;		/* bytes read, not yet consumed */
	/* sendmail */
	char *cmdline;		/* owned copy, split in place */
	char *argv[ARGV_MAX + 1];
	int argc;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copy text to reply, printable ASCII only. */
static void
set_reply(char reply[REINJECT_REPLY_MAX], const char *text, size_t len)
{
	size_t i, j = 0;

	for (i = 0; i < len && j + 1 < REINJECT_REPLY_MAX; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\r')
			continue;
		reply[j++] = c == '\n' ? ' ' : (c < 0x20 || c >= 0x7f) ? '?' :
		    (char)c;
	}
	while (j > 0 && reply[j - 1] == ' ')
		j--;
	reply[j] = '\0';
}

int
reinject_new(struct reinject **r_r, const char *spec, long timeout_ms,
    const char **error_r)
{
	struct reinject *r;

	*r_r = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return err_set(error_r, "out of memory");
	r->fd = -1;
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : 100000;
	buf_init(&r->in, REPLY_MAX);
	if (strncmp(spec, "smtp:", 5) == 0) {
		const char *h = spec + 5, *colon;
		size_t hl;

		r->kind = K_SMTP;
		if (*h == '[') {
			const char *close = strchr(h, ']');

			if (close == NULL || close[1] != ':')
				goto bad;
			hl = (size_t)(close - h - 1);
			h++;
			colon = close + 1;
		} else {
			colon = strrchr(h, ':');
			if (colon == NULL)
				goto bad;
			hl = (size_t)(colon - h);
		}
		if (hl == 0 || hl >= sizeof(r->host) || colon[1] == '\0' ||
		    strlen(colon + 1) >= sizeof(r->port) ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1))
			goto bad;
		memcpy(r->host, h, hl);
		r->host[hl] = '\0';
		snprintf(r->port, sizeof(r->port), "%s", colon + 1);
	} else if (strncmp(spec, "sendmail:", 9) == 0) {
		char *p, *save = NULL;

		r->kind = K_SENDMAIL;
		r->cmdline = strdup(spec + 9);
		if (r->cmdline == NULL) {
			reinject_free(&r);
			return err_set(error_r, "out of memory");
		}
		for (p = strtok_r(r->cmdline, " \t", &save); p != NULL;
		    p = strtok_r(NULL, " \t", &save)) {
			if (r->argc == ARGV_MAX - 8)
				goto bad;
			r->argv[r->argc++] = p;
		}
		if (r->argc == 0 || r->argv[0][0] != '/')
			goto bad;
	} else {
		goto bad;
	}
	*r_r = r;
	return 0;
bad:
	reinject_free(&r);
	return err_set(error_r, "bad reinject '%s': want smtp:[HOST]:PORT or "
	    "sendmail:/PATH [ARGS]", spec);
}

/* ---- SMTP ---------------------------------------------------------------- */

static void
smtp_drop(struct reinject *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	buf_reset(&r->in);
}

static int
wait_fd(int fd, short ev, long long deadline)
{
	struct pollfd p = { fd, ev, 0 };
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static int
smtp_write(struct reinject *r, const char *data, size_t len,
    const char **error_r)
{
	long long deadline = now_ms() + r->timeout_ms;

	while (len > 0) {
		ssize_t n;
		int w = wait_fd(r->fd, POLLOUT, deadline);

		if (w == 0)
			return err_set(error_r, "timeout writing to %s:%s",
			    r->host, r->port);
		if (w < 0)
			return err_set(error_r, "poll: %s", strerror(errno));
		n = send(r->fd, data, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return err_set(error_r, "cannot write to %s:%s: %s",
			    r->host, r->port, strerror(errno));
		}
		data += n;
		len -= (size_t)n;
		deadline = now_ms() + r->timeout_ms;
	}
	return 0;
}

/*
 * Read one (multi-line) reply; its code, and its text in reply.
 * -1 on timeout, I/O error, EOF or a malformed reply.
 */
static int
smtp_reply(struct reinject *r, int *code_r, char reply[REINJECT_REPLY_MAX],
    const char **error_r)
{
	long long deadline = now_ms() + r->timeout_ms;
	size_t start = 0;

	for (;;) {
		char *nl;

		while ((nl = memchr(r->in.data + start, '\n',
		    r->in.len - start)) != NULL) {
			size_t l = (size_t)(nl - (r->in.data + start));
			const char *line = r->in.data + start;

			if (l < 3 || strspn(line, "0123456789") < 3 ||
			    (l > 3 && line[3] != '-' && line[3] != ' ' &&
			    line[3] != '\r'))
				return err_set(error_r, "bad SMTP reply from "
				    "%s:%s", r->host, r->port);
			if (l == 3 || line[3] != '-') {
				size_t end = start + l + 1;

				*code_r = atoi(line);
				set_reply(reply, r->in.data, end);
				memmove(r->in.data, r->in.data + end,
				    r->in.len - end);
				r->in.len -= end;
				r->in.data[r->in.len] = '\0';
				return 0;
			}
			start += l + 1;
		}
		if (r->in.len >= REPLY_MAX - 1)
			return err_set(error_r, "SMTP reply too long from %s:%s",
			    r->host, r->port);
		{
			char chunk[4096];
			ssize_t n;
			size_t room = REPLY_MAX - 1 - r->in.len;
			int w = wait_fd(r->fd, POLLIN, deadline);

			if (w == 0)
				return err_set(error_r, "timeout waiting for "
				    "%s:%s", r->host, r->port);
			if (w < 0)
				return err_set(error_r, "poll: %s",
				    strerror(errno));
			n = recv(r->fd, chunk, room < sizeof(chunk) ? room :
			    sizeof(chunk), 0);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n < 0)
				return err_set(error_r, "cannot read from "
				    "%s:%s: %s", r->host, r->port,
				    strerror(errno));
			if (n == 0)
				return err_set(error_r, "connection closed by "
				    "%s:%s", r->host, r->port);
			if (buf_append(&r->in, chunk, (size_t)n) < 0)
				return err_set(error_r, "out of memory");
		}
	}
}

/* Send a command line, read the reply. */
static int
smtp_cmd(struct reinject *r, const char *cmd, int *code_r,
    char reply[REINJECT_REPLY_MAX], const char **error_r)
{
	char line[LINE_MAX_SMTP];

	if ((size_t)snprintf(line, sizeof(line), "%s\r\n", cmd) >= sizeof(line))
		return err_set(error_r, "SMTP command too long");
	if (smtp_write(r, line, strlen(line), error_r) < 0)
		return -1;
	return smtp_reply(r, code_r, reply, error_r);
}

static int
smtp_connect(struct reinject *r, char reply[REINJECT_REPLY_MAX],
    const char **error_r)
{
	struct addrinfo hints, *res = NULL, *ai;
	long long deadline = now_ms() + r->timeout_ms;
	char host[256], line[300];
	const char *why = "no address";
	int code, rc, fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(r->host, r->port, &hints, &res);
	if (rc != 0)
		return err_set(error_r, "cannot resolve '%s': %s", r->host,
		    gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int err = 0;
		socklen_t el = sizeof(err);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			why = strerror(errno);
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) > 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
		    err == 0)
			break;
		why = err != 0 ? strerror(err) : errno == EINPROGRESS ?
		    "timeout" : strerror(errno);
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err_set(error_r, "cannot connect to %s:%s: %s", r->host,
		    r->port, why);
	r->fd = fd;
	if (smtp_reply(r, &code, reply, error_r) < 0)
		goto fail;
	if (code != 220) {
		err_set(error_r, "%s:%s greets with: %s", r->host, r->port,
		    reply);
		goto fail;
	}
	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(line, sizeof(line), "EHLO %s", host);
	if (smtp_cmd(r, line, &code, reply, error_r) < 0)
		goto fail;
	if (code == 250) {
		r->has_8bitmime = strstr(reply, "8BITMIME") != NULL;
		r->has_smtputf8 = strstr(reply, "SMTPUTF8") != NULL;
	} else {
		snprintf(line, sizeof(line), "HELO %s", host);
		if (smtp_cmd(r, line, &code, reply, error_r) < 0)
			goto fail;
		if (code != 250) {
			err_set(error_r, "%s:%s refuses HELO: %s", r->host,
			    r->port, reply);
			goto fail;
		}
	}
	return 0;
fail:
	smtp_drop(r);
	return -1;
}

/* The message as DATA: CRLF, dot-stuffed, ending in CRLF "." CRLF. */
static int
smtp_data(struct reinject *r, const char *data, size_t len,
    const char **error_r)
{
	struct buf out;
	size_t i = 0;
	int rc = -1;

	buf_init(&out, 0);
	if (buf_reserve(&out, 65536 + 8) < 0)
		return err_set(error_r, "out of memory");
	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t l = nl != NULL ? (size_t)(nl - (data + i)) : len - i;
		size_t body = l > 0 && data[i + l - 1] == '\r' ? l - 1 : l;

		if (data[i] == '.' && buf_putc(&out, '.') < 0)
			goto oom;
		if (buf_append(&out, data + i, body) < 0 ||
		    buf_append(&out, "\r\n", 2) < 0)
			goto oom;
		i += l + (nl != NULL ? 1 : 0);
		if (out.len >= 65536) {
			if (smtp_write(r, out.data, out.len, error_r) < 0)
				goto out;
			buf_reset(&out);
		}
	}
	if (buf_append(&out, ".\r\n", 3) < 0)
		goto oom;
	rc = smtp_write(r, out.data, out.len, error_r);
	goto out;
oom:
	err_set(error_r, "out of memory");
out:
	buf_release(&out);
	return rc;
}

static int
non_ascii(const char *s)
{
	return mime_has_8bit(s, strlen(s));
}

static int
smtp_send(struct reinject *r, const struct reinject_msg *m,
    char reply[REINJECT_REPLY_MAX], const char **error_r)
{
	char line[LINE_MAX_SMTP];
	int code, utf8 = non_ascii(m->sender), perm;
	size_t i;

	if (r->fd < 0 && smtp_connect(r, reply, error_r) < 0)
		return REINJECT_TEMP;
	for (i = 0; i < m->nrcpts; i++)
		utf8 |= non_ascii(m->rcpts[i]);
	snprintf(line, sizeof(line), "MAIL FROM:<%s>%s%s", m->sender,
	    r->has_8bitmime && mime_has_8bit(m->data, m->len) ?
	    " BODY=8BITMIME" : "", utf8 && r->has_smtputf8 ? " SMTPUTF8" : "");
	if (strpbrk(m->sender, "\r\n<>") != NULL) {
		err_set(error_r, "bad sender address");
		goto perm;
	}
	if (smtp_cmd(r, line, &code, reply, error_r) < 0)
		goto temp;
	if (code != 250) {
		err_set(error_r, "MAIL FROM:<%s> refused: %s", m->sender, reply);
		perm = code >= 500;
		goto refused;
	}
	for (i = 0; i < m->nrcpts; i++) {
		if (strpbrk(m->rcpts[i], "\r\n<>") != NULL) {
			err_set(error_r, "bad recipient address");
			goto perm;
		}
		snprintf(line, sizeof(line), "RCPT TO:<%s>", m->rcpts[i]);
		if (smtp_cmd(r, line, &code, reply, error_r) < 0)
			goto temp;
		if (code != 250 && code != 251) {
			err_set(error_r, "RCPT TO:<%s> refused: %s", m->rcpts[i],
			    reply);
			perm = code >= 500;
			goto refused;
		}
	}
	if (smtp_cmd(r, "DATA", &code, reply, error_r) < 0)
		goto temp;
	if (code != 354) {
		err_set(error_r, "DATA refused: %s", reply);
		perm = code >= 500;
		goto refused;
	}
	if (smtp_data(r, m->data, m->len, error_r) < 0 ||
	    smtp_reply(r, &code, reply, error_r) < 0)
		goto temp;
	if (code != 250) {
		err_set(error_r, "message refused: %s", reply);
		perm = code >= 500;
		goto refused;
	}
	return REINJECT_OK;
refused:
	smtp_drop(r);
	return perm ? REINJECT_PERM : REINJECT_TEMP;
perm:
	smtp_drop(r);
	return REINJECT_PERM;
temp:
	smtp_drop(r);
	return REINJECT_TEMP;
}

/* ---- sendmail ------------------------------------------------------------- */

static int
sendmail_send(struct reinject *r, const struct reinject_msg *m,
    char reply[REINJECT_REPLY_MAX], const char **error_r)
{
	char **argv;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status, rc = REINJECT_TEMP;
	long long deadline = now_ms() + r->timeout_ms;
	size_t i, n = 0, off = 0;
	char output[REINJECT_REPLY_MAX];
	size_t olen = 0;
	pid_t pid;

	argv = calloc((size_t)r->argc + m->nrcpts + 8, sizeof(*argv));
	if (argv == NULL)
		return err_set(error_r, "out of memory"), REINJECT_TEMP;
	for (i = 0; i < (size_t)r->argc; i++)
		argv[n++] = r->argv[i];
	argv[n++] = "-i";
	argv[n++] = "-f";
	argv[n++] = m->sender[0] != '\0' ? (char *)m->sender : "<>";
	argv[n++] = "--";
	for (i = 0; i < m->nrcpts; i++)
		argv[n++] = m->rcpts[i];
	argv[n] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		err_set(error_r, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		err_set(error_r, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		execv(argv[0], argv);
		dprintf(2, "cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(75);
	}
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	while (in[1] >= 0 || out[0] >= 0) {
		struct pollfd p[2];
		int np = 0, iw = -1, io = -1;
		long long left = deadline - now_ms();

		if (left <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			err_set(error_r, "'%s' did not finish within %ld ms",
			    r->argv[0], r->timeout_ms);
			goto out;
		}
		if (in[1] >= 0) {
			p[np].fd = in[1];
			p[np].events = POLLOUT;
			iw = np++;
		}
		if (out[0] >= 0) {
			p[np].fd = out[0];
			p[np].events = POLLIN;
			io = np++;
		}
		if (poll(p, (nfds_t)np, left > 60000 ? 60000 : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (iw >= 0 && p[iw].revents != 0) {
			ssize_t w = write(in[1], m->data + off, m->len - off);

			if (w > 0)
				off += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
			    off == m->len) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (io >= 0 && p[io].revents != 0) {
			char chunk[1024];
			ssize_t rd = read(out[0], chunk, sizeof(chunk));

			if (rd > 0) {
				size_t take = (size_t)rd;

				if (take > sizeof(output) - 1 - olen)
					take = sizeof(output) - 1 - olen;
				memcpy(output + olen, chunk, take);
				olen += take;
			} else if (rd == 0 || (errno != EAGAIN &&
			    errno != EINTR)) {
				close(out[0]);
				out[0] = -1;
			}
		}
	}
	if (waitpid(pid, &status, 0) < 0) {
		err_set(error_r, "waitpid: %s", strerror(errno));
		goto out;
	}
	set_reply(reply, output, olen);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && off == m->len) {
		rc = REINJECT_OK;
	} else if (WIFEXITED(status)) {
		err_set(error_r, "'%s' exited with status %d%s%s", r->argv[0],
		    WEXITSTATUS(status), olen > 0 ? ": " : "", reply);
	} else {
		err_set(error_r, "'%s' was killed by signal %d", r->argv[0],
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
out:
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	free(argv);
	return rc;
}

int
reinject_send(struct reinject *r, const struct reinject_msg *m,
    char reply[REINJECT_REPLY_MAX], const char **error_r)
{
	reply[0] = '\0';
	if (m->nrcpts == 0)
		return err_set(error_r, "no recipients"), REINJECT_PERM;
	return r->kind == K_SMTP ? smtp_send(r, m, reply, error_r) :
	    sendmail_send(r, m, reply, error_r);
}

void
reinject_free(struct reinject **rp)
{
	struct reinject *r = *rp;

	if (r == NULL)
		return;
	if (r->fd >= 0) {
		char reply[REINJECT_REPLY_MAX];
		const char *error;
		int code;
		long t = r->timeout_ms;

		/* a polite end, but never a long wait for it */
		r->timeout_ms = t < 5000 ? t : 5000;
		(void)smtp_cmd(r, "QUIT", &code, reply, &error);
		smtp_drop(r);
	}
	buf_release(&r->in);
	free(r->cmdline);
	free(r);
	*rp = NULL;
}
