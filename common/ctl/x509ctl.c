/* Helpers of the X.509 posternctl commands; see x509ctl.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "x509ctl.h"

struct x509_ks *
xc_ks(struct ctl *ctl, int with_key)
{
	struct store *st = ctl_store(ctl);
	struct secret_key *mk = NULL;
	struct x509_ks *ks;
	const char *error;

	if (st == NULL)
		return NULL;
	if (with_key && (mk = ctl_mkey(ctl)) == NULL)
		return NULL;
	if (x509_ks_new(st, mk, &ks, &error) < 0) {
		ctl_error("%s", error);
		return NULL;
	}
	return ks;
}

unsigned char *
xc_read(const char *path, size_t *len_r)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	unsigned char *d;
	size_t n = 0, cap = 65536;

	if (fp == NULL) {
		ctl_error("cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	if ((d = malloc(cap)) == NULL)
		goto oom;
	for (;;) {
		size_t r = fread(d + n, 1, cap - n, fp);

		n += r;
		if (r == 0)
			break;
		if (n == cap) {
			unsigned char *p;

			if (n > (size_t)X509_INPUT_MAX) {
				ctl_error("'%s' is larger than %ld bytes",
				    path, X509_INPUT_MAX);
				free(d);
				d = NULL;
				goto out;
			}
			if ((p = realloc(d, cap * 2)) == NULL)
				goto oom;
			d = p;
			cap *= 2;
		}
	}
	if (ferror(fp)) {
		ctl_error("cannot read '%s': %s", path, strerror(errno));
		free(d);
		d = NULL;
	}
	*len_r = n;
	goto out;
oom:
	free(d);
	d = NULL;
	ctl_error("out of memory");
out:
	if (fp != stdin)
		fclose(fp);
	return d;
}

char *
xc_password(const char *file)
{
	const char *env = getenv("POSTERN_PASSWORD");
	char buf[1024];
	FILE *fp;

	if (file == NULL) {
		if (env == NULL) {
			ctl_usage("a password is needed: --password-file F or "
			    "POSTERN_PASSWORD in the environment");
			return NULL;
		}
		return strdup(env);
	}
	if ((fp = fopen(file, "r")) == NULL) {
		ctl_error("cannot open '%s': %s", file, strerror(errno));
		return NULL;
	}
	if (fgets(buf, sizeof(buf), fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	buf[strcspn(buf, "\r\n")] = '\0';
	return strdup(buf);
}

int
xc_time(const char *s, time_t *t_r)
{
	struct tm tm;
	const char *e;
	char *end;

	if (s[0] == '@') {
		long long v = strtoll(s + 1, &end, 10);

		if (*end != '\0' || end == s + 1)
			return -1;
		*t_r = (time_t)v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *e != '\0') {
		memset(&tm, 0, sizeof(tm));
		if ((e = strptime(s, "%Y-%m-%d", &tm)) == NULL || *e != '\0')
			return -1;
	}
	*t_r = timegm(&tm);
	return 0;
}

void
xc_fmt_time(time_t t, char *buf, size_t sz)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, sz, "?");
}

int
xc_thumb(struct x509_ks *ks, int where, const char *in,
    char out[X509_THUMB_LEN + 1])
{
	const char *error;
	int r = x509_thumb_resolve(ks, where, in, out, &error);

	if (r < 0)
		return ctl_error("%s", error);
	if (r == 1)
		return ctl_error("no certificate '%s'", in);
	return CTL_OK;
}

int
xc_write(const char *path, const unsigned char *d, size_t len, int secret)
{
	int fd;
	size_t off = 0;

	if (path == NULL || strcmp(path, "-") == 0) {
		if (fwrite(d, 1, len, stdout) != len || fflush(stdout) != 0)
			return ctl_error("cannot write output: %s",
			    strerror(errno));
		return CTL_OK;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, secret ? 0600 : 0644);
	if (fd < 0)
		return ctl_error("cannot create '%s': %s", path,
		    strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, d + off, len - off);

		if (w < 0) {
			close(fd);
			return ctl_error("cannot write '%s': %s", path,
			    strerror(errno));
		}
		off += (size_t)w;
	}
	if (close(fd) < 0)
		return ctl_error("cannot write '%s': %s", path,
		    strerror(errno));
	return CTL_OK;
}

int
xc_kind(const char *s, enum x509_sel_kind *k_r)
{
	if (s == NULL || x509_sel_kind_parse(s, k_r) < 0)
		return ctl_usage("--as wants encryption, signing or "
		    "additional");
	return CTL_OK;
}

int
xc_import_certs(struct ctl *ctl, enum x509_where where, int argc,
    char **argv)
{
	struct x509_import_result r = { 0 };
	struct x509_ks *ks;
	const char *error;
	size_t added = 0, existed = 0, printed = 0, k;
	int i, rc = CTL_OK;

	if (argc < 3)
		return ctl_usage("%s import FILE...", argv[0]);
	if ((ks = xc_ks(ctl, 0)) == NULL)
		return CTL_REFUSED;
	if (ctl->json)
		fputs("[", stdout);
	for (i = 2; i < argc; i++) {
		size_t len;
		unsigned char *d = xc_read(argv[i], &len);

		if (d == NULL) {
			rc = CTL_REFUSED;
			continue;
		}
		if (x509_import_certs(ks, where, d, len, &r, &error) < 0) {
			rc = ctl_error("%s: %s", argv[i], error);
		} else {
			added += r.added;
			existed += r.existed;
			for (k = 0; k < r.n; k++) {
				if (ctl->json) {
					fputs(printed++ > 0 ? ", " : "",
					    stdout);
					ctl_json_str(r.thumbs[k]);
				}
			}
		}
		x509_import_result_release(&r);
		free(d);
	}
	if (ctl->json)
		puts("]");
	else
		printf("%zu imported, %zu already present\n", added, existed);
	x509_ks_free(&ks);
	return rc;
}

struct list_arg {
	struct x509_ks *ks;
	struct ctl_table *t;
	time_t at;
	int filter;		/* 0 all, 1 valid, -1 invalid */
	int failed;
};

static int
list_cb(const struct x509_info *in, X509 *cert, void *arg)
{
	struct list_arg *a = arg;
	struct x509_verdict v;
	const char *error;
	char nb[32], na[32], emails[512], uses[32];
	size_t i, off = 0;
	int enc, sig;

	x509_verdict_init(&v);
	if (x509_verify(a->ks, cert, NULL, a->at, X509_USE_PATH, &v,
	    &error) < 0) {
		ctl_error("%s", error);
		a->failed = 1;
		return 1;
	}
	if ((a->filter == 1 && !v.valid) || (a->filter == -1 && v.valid)) {
		x509_verdict_release(&v);
		return 0;
	}
	emails[0] = '\0';
	for (i = 0; i < in->nemails && off < sizeof(emails); i++)
		off += (size_t)snprintf(emails + off, sizeof(emails) - off,
		    "%s%s", i ? "," : "", in->emails[i]);
	enc = x509_usage_allows(cert, X509_USE_ENCRYPT, nb, sizeof(nb));
	sig = x509_usage_allows(cert, X509_USE_SIGN, nb, sizeof(nb));
	snprintf(uses, sizeof(uses), "%s%s%s", enc ? "encrypt" : "",
	    enc && sig ? "," : "", sig ? "sign" : "");
	xc_fmt_time(in->not_before, nb, sizeof(nb));
	xc_fmt_time(in->not_after, na, sizeof(na));
	{
		const char *cells[9];

		cells[0] = in->thumb;
		cells[1] = in->subject;
		cells[2] = emails[0] != '\0' ? emails : NULL;
		cells[3] = nb;
		cells[4] = na;
		cells[5] = in->has_key ? "yes" : "no";
		cells[6] = in->is_ca ? "yes" : "no";
		cells[7] = uses[0] != '\0' ? uses : NULL;
		cells[8] = v.reason;
		ctl_table_add(a->t, cells);
	}
	x509_verdict_release(&v);
	return 0;
}

int
xc_list(struct ctl *ctl, enum x509_where where, int argc, char **argv)
{
	static const char *const cols[] = { "thumbprint", "subject",
		"emails", "not_before", "not_after", "key", "ca", "usage",
		"status" };
	struct list_arg a = { NULL, NULL, 0, 0, 0 };
	const char *email = NULL, *at = NULL, *error;
	int i, r;

	a.at = time(NULL);
	for (i = 2; i < argc; i++) {
		if ((r = ctl_opt(argc, argv, &i, "email", &email)) != 0 ||
		    (r = ctl_opt(argc, argv, &i, "at", &at)) != 0) {
			if (r < 0)
				return ctl_usage("option '%s' needs a value",
				    argv[i]);
		} else if (ctl_opt(argc, argv, &i, "valid", NULL)) {
			a.filter = 1;
		} else if (ctl_opt(argc, argv, &i, "invalid", NULL)) {
			a.filter = -1;
		} else {
			return ctl_usage("unknown argument '%s'", argv[i]);
		}
	}
	if (at != NULL && xc_time(at, &a.at) < 0)
		return ctl_usage("bad time '%s': want YYYY-MM-DD, "
		    "YYYY-MM-DDTHH:MM:SSZ or @SECONDS", at);
	if ((a.ks = xc_ks(ctl, 0)) == NULL)
		return CTL_REFUSED;
	a.t = ctl_table_new(9, cols);
	r = x509_list(a.ks, where, email, list_cb, &a, &error);
	if (r < 0)
		ctl_error("%s", error);
	else if (!a.failed)
		ctl_table_print(a.t, ctl->json);
	ctl_table_free(&a.t);
	x509_ks_free(&a.ks);
	return r < 0 || a.failed ? CTL_REFUSED : CTL_OK;
}

int
xc_delete(struct ctl *ctl, enum x509_where where, int argc, char **argv)
{
	struct x509_ks *ks;
	const char *thumb_in = NULL, *error;
	char thumb[X509_THUMB_LEN + 1];
	int i, force = 0, r, rc;

	for (i = 2; i < argc; i++) {
		if (ctl_opt(argc, argv, &i, "force", NULL))
			force = 1;
		else if (argv[i][0] != '-' && thumb_in == NULL)
			thumb_in = argv[i];
		else
			return ctl_usage("unknown argument '%s'", argv[i]);
	}
	if (thumb_in == NULL)
		return ctl_usage("%s delete THUMBPRINT [--force]", argv[0]);
	if ((ks = xc_ks(ctl, 0)) == NULL)
		return CTL_REFUSED;
	if ((rc = xc_thumb(ks, (int)where, thumb_in, thumb)) == CTL_OK) {
		r = x509_delete(ks, where, thumb, force, &error);
		if (r < 0)
			rc = ctl_error("%s", error);
		else if (r == 1)
			rc = ctl_error("no certificate '%s'", thumb_in);
		else if (ctl->json)
			printf("{\"deleted\": \"%s\"}\n", thumb);
		else
			printf("deleted %s\n", thumb);
	}
	x509_ks_free(&ks);
	return rc;
}
