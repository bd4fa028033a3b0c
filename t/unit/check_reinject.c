/*
 * reinject: the SMTP hand-off against a scripted server thread (CRLF and
 * dot stuffing, one session for several messages, BODY=8BITMIME, 4xx and
 * 5xx at each step, a server that never answers, a refused connection)
 * and the sendmail hand-off against shell scripts (exit 0, exit 75, a
 * command that hangs past the timeout).
 */
#include <netinet/in.h>
#include <sys/socket.h>

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "reinject.h"
#include "testutil.h"

/* --- a scripted SMTP server ----------------------------------------------- */

struct srv {
	int lfd, port;
	pthread_t th;
	/* reply to the Nth command of a kind, or 0 for the default */
	int rcpt_code, data_code, end_code, mail_code;
	int silent;		/* never send anything */
	int sessions;
	struct buf log;		/* commands and data received */
};

static struct srv srv;

static int
srv_line(int fd, char *line, size_t sz)
{
	size_t n = 0;
	char c;

	while (n + 1 < sz) {
		ssize_t r = read(fd, &c, 1);

		if (r <= 0)
			return -1;
		line[n++] = c;
		if (c == '\n')
			break;
	}
	line[n] = '\0';
	return (int)n;
}

static void
srv_say(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) < 0)
		return;
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;
	char line[70000], reply[64];
	int fd;

	(void)arg;
	while ((fd = accept(s->lfd, NULL, NULL)) >= 0) {
		s->sessions++;
		if (s->silent) {
			sleep(2);
			close(fd);
			continue;
		}
		srv_say(fd, "220 test ESMTP\r\n");
		while (srv_line(fd, line, sizeof(line)) > 0) {
			buf_puts(&s->log, line);
			if (strncmp(line, "EHLO", 4) == 0) {
				srv_say(fd, "250-test\r\n250-PIPELINING\r\n"
				    "250 8BITMIME\r\n");
			} else if (strncmp(line, "MAIL", 4) == 0) {
				snprintf(reply, sizeof(reply), "%d mail\r\n",
				    s->mail_code ? s->mail_code : 250);
				srv_say(fd, reply);
			} else if (strncmp(line, "RCPT", 4) == 0) {
				snprintf(reply, sizeof(reply), "%d rcpt\r\n",
				    s->rcpt_code ? s->rcpt_code : 250);
				srv_say(fd, reply);
			} else if (strncmp(line, "DATA", 4) == 0) {
				snprintf(reply, sizeof(reply), "%d go\r\n",
				    s->data_code ? s->data_code : 354);
				srv_say(fd, reply);
				if (s->data_code && s->data_code != 354)
					continue;
				while (srv_line(fd, line, sizeof(line)) > 0) {
					buf_puts(&s->log, line);
					if (strcmp(line, ".\r\n") == 0)
						break;
				}
				snprintf(reply, sizeof(reply), "%d 2.0.0 Ok: "
				    "queued as ABC\r\n", s->end_code ?
				    s->end_code : 250);
				srv_say(fd, reply);
			} else if (strncmp(line, "QUIT", 4) == 0) {
				srv_say(fd, "221 bye\r\n");
				break;
			} else {
				srv_say(fd, "500 what\r\n");
			}
		}
		close(fd);
	}
	return NULL;
}

static void
srv_start(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	signal(SIGPIPE, SIG_IGN);
	buf_init(&srv.log, 0);
	srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(srv.lfd, 8), 0);
	getsockname(srv.lfd, (struct sockaddr *)&a, &al);
	srv.port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&srv.th, NULL, srv_main, &srv), 0);
}

static void
srv_stop(void)
{
	shutdown(srv.lfd, SHUT_RDWR);
	close(srv.lfd);
	pthread_join(srv.th, NULL);
	buf_release(&srv.log);
	memset(&srv, 0, sizeof(srv));
}

static struct reinject *
open_smtp(long timeout)
{
	struct reinject *r = NULL;
	char spec[64];
	const char *error = NULL;

	snprintf(spec, sizeof(spec), "smtp:[127.0.0.1]:%d", srv.port);
	ck_assert_msg(reinject_new(&r, spec, timeout, &error) == 0, "%s", error);
	return r;
}

static char *two[] = { "b@ext.test", "c@ext.test" };

START_TEST(smtp_ok)
{
	struct reinject *r;
	struct reinject_msg m = { "a@corp.test", two, 2,
	    "Subject: x\n\n.dot line\nplain\n..two\n", 0 };
	struct reinject_msg m8 = { "", two, 1, "Subject: y\n\ncaf\xc3\xa9\n", 0 };
	char reply[REINJECT_REPLY_MAX];
	const char *error = NULL;

	srv_start();
	r = open_smtp(5000);
	m.len = strlen(m.data);
	m8.len = strlen(m8.data);
	ck_assert_int_eq(reinject_send(r, &m, reply, &error), REINJECT_OK);
	ck_assert_str_eq(reply, "250 2.0.0 Ok: queued as ABC");
	ck_assert_int_eq(reinject_send(r, &m8, reply, &error), REINJECT_OK);
	reinject_free(&r);
	ck_assert_ptr_null(r);
	/* one session for both; CRLF, dot stuffing, 8BITMIME, null sender */
	ck_assert_int_eq(srv.sessions, 1);
	ck_assert_ptr_nonnull(strstr(srv.log.data,
	    "MAIL FROM:<a@corp.test>\r\nRCPT TO:<b@ext.test>\r\n"
	    "RCPT TO:<c@ext.test>\r\nDATA\r\nSubject: x\r\n\r\n..dot line\r\n"
	    "plain\r\n...two\r\n.\r\n"));
	ck_assert_ptr_nonnull(strstr(srv.log.data,
	    "MAIL FROM:<> BODY=8BITMIME\r\n"));
	ck_assert_ptr_nonnull(strstr(srv.log.data, "QUIT\r\n"));
	srv_stop();
}
END_TEST

/* The reply code at each step, and what the hand-off must say. */
static const struct {
	int mail, rcpt, data, end;
	int want;
} refuse[] = {
	{ 451, 0, 0, 0, REINJECT_TEMP },
	{ 550, 0, 0, 0, REINJECT_PERM },
	{ 0, 450, 0, 0, REINJECT_TEMP },
	{ 0, 550, 0, 0, REINJECT_PERM },
	{ 0, 0, 451, 0, REINJECT_TEMP },
	{ 0, 0, 554, 0, REINJECT_PERM },
	{ 0, 0, 0, 452, REINJECT_TEMP },
	{ 0, 0, 0, 552, REINJECT_PERM },
};

START_TEST(smtp_refused)
{
	struct reinject *r;
	struct reinject_msg m = { "a@corp.test", two, 2, "S: x\n\nb\n", 8 };
	char reply[REINJECT_REPLY_MAX];
	const char *error = NULL;

	srv_start();
	srv.mail_code = refuse[_i].mail;
	srv.rcpt_code = refuse[_i].rcpt;
	srv.data_code = refuse[_i].data;
	srv.end_code = refuse[_i].end;
	r = open_smtp(5000);
	ck_assert_int_eq(reinject_send(r, &m, reply, &error), refuse[_i].want);
	ck_assert_ptr_nonnull(error);
	ck_assert_msg(strstr(error, "refused") != NULL, "%s", error);
	/* the next hand-off opens a new session */
	srv.mail_code = srv.rcpt_code = srv.data_code = srv.end_code = 0;
	ck_assert_int_eq(reinject_send(r, &m, reply, &error), REINJECT_OK);
	ck_assert_int_eq(srv.sessions, 2);
	reinject_free(&r);
	srv_stop();
}
END_TEST

START_TEST(smtp_timeout_and_refused_connection)
{
	struct reinject *r;
	struct reinject_msg m = { "a@corp.test", two, 1, "S: x\n\nb\n", 8 };
	char reply[REINJECT_REPLY_MAX], spec[64];
	const char *error = NULL;
	int port;

	srv_start();
	srv.silent = 1;
	r = open_smtp(300);
	ck_assert_int_eq(reinject_send(r, &m, reply, &error), REINJECT_TEMP);
	ck_assert_msg(strstr(error, "timeout") != NULL, "%s", error);
	reinject_free(&r);
	port = srv.port;
	srv_stop();
	/* nobody listens there any more */
	snprintf(spec, sizeof(spec), "smtp:127.0.0.1:%d", port);
	ck_assert_int_eq(reinject_new(&r, spec, 1000, &error), 0);
	ck_assert_int_eq(reinject_send(r, &m, reply, &error), REINJECT_TEMP);
	ck_assert_msg(strstr(error, "cannot connect") != NULL, "%s", error);
	reinject_free(&r);
}
END_TEST

START_TEST(bad_specs)
{
	static const char *const bad[] = { "smtp:", "smtp:[127.0.0.1]",
	    "smtp:[127.0.0.1]:", "smtp:host:port", "lmtp:x:1", "sendmail:",
	    "sendmail:relative/path", "" };
	struct reinject *r = NULL;
	const char *error = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(reinject_new(&r, bad[i], 1000, &error) == -1,
		    "'%s' accepted", bad[i]);
		ck_assert_ptr_null(r);
	}
	ck_assert_int_eq(reinject_new(&r, "smtp:[::1]:10026", 1000, &error), 0);
	reinject_free(&r);
	ck_assert_int_eq(reinject_new(&r, "smtp:localhost:25", 1000, &error), 0);
	reinject_free(&r);
}
END_TEST

START_TEST(sendmail_cmd)
{
	char *dir = tu_tmpdir(), *sh = tu_path(dir, "sm.sh"),
	    *got = tu_path(dir, "got"), spec[512], script[1024], *text;
	struct reinject *r = NULL;
	struct reinject_msg m = { "", two, 2, "Subject: x\n\nbody\n", 17 };
	char reply[REINJECT_REPLY_MAX];
	const char *error = NULL;

	/* records its arguments and the message; exits with $SM_RC */
	snprintf(script, sizeof(script), "#!/bin/sh\necho \"$@\" > %s.args\n"
	    "cat > %s\necho said something\nexit $(cat %s.rc)\n", got, got, got);
	ck_assert_int_eq(tu_write_file(sh, script), 0);
	chmod(sh, 0755);
	snprintf(spec, sizeof(spec), "%s.rc", got);
	tu_write_file(spec, "0\n");
	snprintf(spec, sizeof(spec), "sendmail:%s -G", sh);
	ck_assert_int_eq(reinject_new(&r, spec, 5000, &error), 0);
	ck_assert_int_eq(reinject_send(r, &m, reply, &error), REINJECT_OK);
	text = tu_read_file(got, NULL);
	ck_assert_str_eq(text, "Subject: x\n\nbody\n");
	free(text);
	snprintf(spec, sizeof(spec), "%s.args", got);
	text = tu_read_file(spec, NULL);
	ck_assert_str_eq(text, "-G -i -f <> -- b@ext.test c@ext.test\n");
	free(text);
	ck_assert_str_eq(reply, "said something");
	/* a failure exit is transient */
	snprintf(spec, sizeof(spec), "%s.rc", got);
	tu_write_file(spec, "75\n");
	ck_assert_int_eq(reinject_send(r, &m, reply, &error), REINJECT_TEMP);
	ck_assert_msg(strstr(error, "exited with status 75") != NULL, "%s",
	    error);
	reinject_free(&r);
	/* a command that hangs is killed at the timeout */
	snprintf(script, sizeof(script), "#!/bin/sh\nexec sleep 30\n");
	tu_write_file(sh, script);
	snprintf(spec, sizeof(spec), "sendmail:%s", sh);
	ck_assert_int_eq(reinject_new(&r, spec, 300, &error), 0);
	ck_assert_int_eq(reinject_send(r, &m, reply, &error), REINJECT_TEMP);
	ck_assert_msg(strstr(error, "did not finish") != NULL, "%s", error);
	reinject_free(&r);
	free(sh);
	free(got);
	tu_tmpdir_free(&dir);
}
END_TEST

Suite *
reinject_suite(void)
{
	Suite *s = suite_create("reinject");
	TCase *tc = tcase_create("smtp");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, smtp_ok);
	tcase_add_loop_test(tc, smtp_refused, 0,
	    sizeof(refuse) / sizeof(refuse[0]));
	tcase_add_test(tc, smtp_timeout_and_refused_connection);
	tcase_add_test(tc, bad_specs);
	suite_add_tcase(s, tc);
	tc = tcase_create("sendmail");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, sendmail_cmd);
	suite_add_tcase(s, tc);
	return s;
}
