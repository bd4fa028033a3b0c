/*
 * passthru: the pass-through pipe(8) content filter b0800 measures
 * postern-encrypt against.  It does what postern-encrypt must do at the
 * very least -- read the message, hand it back over SMTP with the same
 * code (encryptor/reinject.c) -- and nothing else: no database, no
 * policy, no crypto.
 *
 *	passthru smtp:[127.0.0.1]:PORT -f SENDER -- RCPT...
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "reinject.h"

int
main(int argc, char **argv)
{
	struct reinject *r = NULL;
	struct reinject_msg m;
	struct buf in;
	char chunk[65536], reply[REINJECT_REPLY_MAX];
	const char *error = NULL;
	ssize_t n;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 6 || strcmp(argv[2], "-f") != 0 || strcmp(argv[4], "--") != 0)
		return 75;
	buf_init(&in, 0);
	while ((n = read(0, chunk, sizeof(chunk))) > 0)
		if (buf_append(&in, chunk, (size_t)n) < 0)
			return 75;
	if (n < 0 || reinject_new(&r, argv[1], 100000, &error) < 0)
		return 75;
	m.sender = argv[3];
	m.rcpts = argv + 5;
	m.nrcpts = (size_t)(argc - 5);
	m.data = in.data != NULL ? in.data : "";
	m.len = in.len;
	rc = reinject_send(r, &m, reply, &error) == REINJECT_OK ? 0 : 75;
	if (rc != 0)
		fprintf(stderr, "passthru: %s\n", error);
	reinject_free(&r);
	buf_release(&in);
	return rc;
}
