#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "str.h"

#define K 1024LL
#define M (1024LL * 1024)
#define G (1024LL * 1024 * 1024)

/*
 * The table.  Keep it sorted by area; postern.conf(5) follows it and
 * t/unit/check_config.c fails when the page and the table disagree.
 */
const struct config_def config_defs[] = {
	{ "state_directory", CONFIG_PATH, STATEDIR, 0, 0, NULL,
	    "Directory for the database, the GnuPG home and temporary files." },
	{ "database", CONFIG_PATH, "$state_directory/postern.db", 0, 0, NULL,
	    "SQLite database holding settings, users, domains and keystores." },
	{ "master_key_file", CONFIG_PATH, SYSCONFDIR "/master.key", 0, 0, NULL,
	    "File with the 256-bit master key that encrypts secrets and private keys." },
	{ "temp_directory", CONFIG_PATH, "$state_directory/tmp", 0, 0, NULL,
	    "Private directory for spooled message bodies (created mode 0700)." },
	{ "gnupg_home", CONFIG_PATH, "$state_directory/gnupg", 0, 0, NULL,
	    "Private GnuPG home of the OpenPGP keyring." },
	{ "template_directory", CONFIG_PATH, SYSCONFDIR "/templates", 0, 0, NULL,
	    "Directory with the notification message templates." },
	{ "info_header_prefix", CONFIG_STRING, "X-Postern-Info", 0, 0, NULL,
	    "Prefix of the security information headers Postern adds." },
	{ "legacy_info_header_prefixes", CONFIG_STRING,
	    "X-CipherMail-Info X-Djigzo-Info", 0, 0, NULL,
	    "Further header prefixes removed from incoming mail (space separated)." },
	{ "log_level", CONFIG_ENUM, "info", 0, 0, "debug|info|warn|err",
	    "Lowest severity that is logged." },
	{ "log_destination", CONFIG_ENUM, "syslog", 0, 0, "syslog|stderr",
	    "Where daemons log (posternctl always uses stderr)." },
	{ "syslog_facility", CONFIG_ENUM, "mail", 0, 0,
	    "mail|daemon|user|local0|local1|local2|local3|local4|local5|local6|local7",
	    "Syslog facility." },
	{ "store_busy_timeout", CONFIG_TIME, "10s", 100, 600000, NULL,
	    "How long a database access waits for a lock held by another process." },
	{ "spool_memory_max", CONFIG_SIZE, "1m", 4 * K, 1 * G, NULL,
	    "Message bytes kept in memory before spilling to a temporary file." },
	{ "message_size_limit", CONFIG_SIZE, "50m", 1 * K, 4 * G, NULL,
	    "Largest message Postern processes; larger ones pass unchanged." },
	{ "milter_socket", CONFIG_STRING, "unix:/run/postern/milter.sock", 0, 0,
	    NULL, "Where postern-milter listens: unix:PATH (recommended) or inet:PORT@HOST." },
	{ "milter_pidfile", CONFIG_STRING, "", 0, 0, NULL,
	    "File postern-milter writes its process ID to (empty: none)." },
	{ "milter_failure_action", CONFIG_ENUM, "tempfail", 0, 0,
	    "tempfail|accept",
	    "What the milter answers on an internal failure (store, memory)." },
	{ "milter_key_cache_ttl", CONFIG_TIME, "60s", 0, 3600000, NULL,
	    "How long postern-milter keeps a private key it used in memory (0: not at all)." },
	{ "milter_max_message_size", CONFIG_SIZE, "50m", 1 * K, 4 * G, NULL,
	    "Larger messages pass the milter untouched, with an info header." },
	{ "reinject", CONFIG_STRING, "smtp:[127.0.0.1]:10026", 0, 0, NULL,
	    "Where postern-encrypt hands its output back to the MTA: smtp:[HOST]:PORT or sendmail:COMMAND [ARGS]." },
	{ "reinject_timeout", CONFIG_TIME, "100s", 1000, 3600000, NULL,
	    "Longest wait for one step of a hand-off (connect, an SMTP reply, the sendmail command)." },
	{ "encrypt_after_milter", CONFIG_BOOL, "yes", 0, 0, NULL,
	    "postern-milter runs before postern-encrypt, so plain mail keeps the info headers the milter left." },
	{ "mime_max_depth", CONFIG_INT, "32", 1, 1000, NULL,
	    "Deepest MIME nesting parsed; deeper parts are treated as opaque." },
	{ "mime_max_parts", CONFIG_INT, "2000", 1, 100000, NULL,
	    "Most MIME entities parsed in one message." },
	{ "mime_max_header_line", CONFIG_SIZE, "64k", 78, 16 * M, NULL,
	    "Longest single (unfolded) header line." },
	{ "mime_max_header_size", CONFIG_SIZE, "1m", 1 * K, 64 * M, NULL,
	    "Largest header block of one MIME entity." },
};

const size_t config_ndefs = sizeof(config_defs) / sizeof(config_defs[0]);

struct config_val {
	char *str;		/* raw (then expanded) text */
	long long num;		/* parsed number for int/size/time/bool */
	int line;		/* 0: default */
};

struct config {
	int refs;
	char *file;
	struct config_val *vals;
};

const char *
config_type_name(enum config_type type)
{
	switch (type) {
	case CONFIG_STRING:
		return "string";
	case CONFIG_PATH:
		return "path";
	case CONFIG_INT:
		return "integer";
	case CONFIG_SIZE:
		return "size";
	case CONFIG_TIME:
		return "time";
	case CONFIG_BOOL:
		return "boolean";
	case CONFIG_ENUM:
		return "enum";
	}
	return "?";
}

const struct config_def *
config_def_find(const char *name)
{
	size_t i;

	for (i = 0; i < config_ndefs; i++)
		if (strcmp(config_defs[i].name, name) == 0)
			return &config_defs[i];
	return NULL;
}

static long long
suffix_mult(const struct config_def *def, const char *s, int *ok)
{
	*ok = 1;
	if (def->type == CONFIG_SIZE) {
		if (*s == '\0' || strcasecmp(s, "b") == 0)
			return 1;
		if (strcasecmp(s, "k") == 0 || strcasecmp(s, "kb") == 0)
			return K;
		if (strcasecmp(s, "m") == 0 || strcasecmp(s, "mb") == 0)
			return M;
		if (strcasecmp(s, "g") == 0 || strcasecmp(s, "gb") == 0)
			return G;
	} else if (def->type == CONFIG_TIME) {
		if (*s == '\0' || strcmp(s, "s") == 0)
			return 1000;
		if (strcmp(s, "ms") == 0)
			return 1;
		if (strcmp(s, "m") == 0)
			return 60 * 1000;
		if (strcmp(s, "h") == 0)
			return 3600 * 1000;
	} else if (*s == '\0') {
		return 1;
	}
	*ok = 0;
	return 0;
}

static const char *
range_text(const struct config_def *def)
{
	return err_fmt("%lld..%lld%s", def->min, def->max,
	    def->type == CONFIG_TIME ? " ms" :
	    def->type == CONFIG_SIZE ? " bytes" : "");
}

int
config_parse_bool(const char *value, int *b_r)
{
	if (strcasecmp(value, "yes") == 0 ||
	    strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0)
		*b_r = 1;
	else if (strcasecmp(value, "no") == 0 ||
	    strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
		*b_r = 0;
	else
		return -1;
	return 0;
}

int
config_parse_value(const struct config_def *def, const char *value,
    long long *num_r, const char **error_r)
{
	long long n, mult;
	char *end;
	int ok;

	*num_r = 0;
	switch (def->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		if (def->type == CONFIG_PATH && value[0] != '/' &&
		    value[0] != '$')
			return err_set(error_r,
			    "bad value '%s' for '%s': want an absolute path",
			    value, def->name);
		return 0;
	case CONFIG_BOOL:
		if (config_parse_bool(value, &ok) < 0)
			return err_set(error_r,
			    "bad value '%s' for '%s': want yes or no",
			    value, def->name);
		*num_r = ok;
		return 0;
	case CONFIG_ENUM: {
		const char *p = def->values;
		size_t vlen = strlen(value);

		while (*p != '\0') {
			size_t l = strcspn(p, "|");

			if (l == vlen && strncmp(p, value, l) == 0)
				return 0;
			p += l;
			if (*p == '|')
				p++;
		}
		return err_set(error_r, "bad value '%s' for '%s': want one of %s",
		    value, def->name, def->values);
	}
	case CONFIG_INT:
	case CONFIG_SIZE:
	case CONFIG_TIME:
		errno = 0;
		n = strtoll(value, &end, 10);
		if (end == value || errno != 0 || n < 0)
			goto bad;
		mult = suffix_mult(def, end, &ok);
		if (!ok || (mult > 1 && n > LLONG_MAX / mult))
			goto bad;
		n *= mult;
		if (n < def->min || n > def->max)
			return err_set(error_r,
			    "bad value '%s' for '%s': want %s", value,
			    def->name, range_text(def));
		*num_r = n;
		return 0;
	}
bad:
	return err_set(error_r, "bad value '%s' for '%s': want %s %s", value,
	    def->name, def->type == CONFIG_INT ? "an integer" :
	    def->type == CONFIG_SIZE ? "a size (k/m/g suffix)" :
	    "a time (ms/s/m/h suffix)", range_text(def));
}

static struct config *
config_new(void)
{
	struct config *cfg;
	size_t i;

	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL)
		return NULL;
	cfg->refs = 1;
	cfg->vals = calloc(config_ndefs, sizeof(*cfg->vals));
	if (cfg->vals == NULL) {
		free(cfg);
		return NULL;
	}
	for (i = 0; i < config_ndefs; i++) {
		cfg->vals[i].str = strdup(config_defs[i].def);
		if (cfg->vals[i].str == NULL) {
			config_free(&cfg);
			return NULL;
		}
	}
	return cfg;
}

static int
set_raw(struct config *cfg, const char *name, const char *value, int line,
    const char **error_r)
{
	const struct config_def *def = config_def_find(name);
	size_t idx;
	char *copy;

	if (def == NULL)
		return err_set(error_r, "unknown parameter '%s'", name);
	idx = (size_t)(def - config_defs);
	copy = strdup(value);
	if (copy == NULL)
		return err_set(error_r, "out of memory");
	free(cfg->vals[idx].str);
	cfg->vals[idx].str = copy;
	cfg->vals[idx].line = line;
	return 0;
}

/* Expand $name / ${name} in s into out, recursively up to depth. */
static int
expand(const struct config *cfg, const char *s, struct buf *out, int depth,
    const char **error_r)
{
	const char *p = s;

	if (depth > CONFIG_EXPAND_DEPTH)
		return err_set(error_r, "'$' expansion nested too deeply");
	while (*p != '\0') {
		char name[128];
		const struct config_def *def;
		size_t l;

		if (*p != '$') {
			if (buf_putc(out, *p++) < 0)
				return err_set(error_r, "value too long");
			continue;
		}
		p++;
		if (*p == '$') {
			buf_putc(out, *p++);
			continue;
		}
		if (*p == '{') {
			l = strcspn(p + 1, "}");
			if (p[1 + l] != '}')
				return err_set(error_r, "unclosed '${' in '%s'",
				    s);
			if (l >= sizeof(name))
				return err_set(error_r, "bad '$' name in '%s'", s);
			memcpy(name, p + 1, l);
			name[l] = '\0';
			p += l + 2;
		} else {
			l = 0;
			while (isalnum((unsigned char)p[l]) || p[l] == '_')
				l++;
			if (l == 0 || l >= sizeof(name))
				return err_set(error_r, "bad '$' in '%s'", s);
			memcpy(name, p, l);
			name[l] = '\0';
			p += l;
		}
		def = config_def_find(name);
		if (def == NULL)
			return err_set(error_r, "unknown parameter '$%s' in '%s'",
			    name, s);
		if (expand(cfg, cfg->vals[def - config_defs].str, out,
		    depth + 1, error_r) < 0)
			return -1;
	}
	return 0;
}

static int
finish(struct config *cfg, const char *file, const char **error_r)
{
	struct buf b;
	size_t i;
	char **expanded;
	int rc = -1;

	expanded = calloc(config_ndefs, sizeof(*expanded));
	if (expanded == NULL)
		return err_set(error_r, "out of memory");
	for (i = 0; i < config_ndefs; i++) {
		buf_init(&b, CONFIG_LINE_MAX * 4);
		if (expand(cfg, cfg->vals[i].str, &b, 0, error_r) < 0) {
			buf_release(&b);
			goto out;
		}
		expanded[i] = buf_steal(&b, NULL);
	}
	for (i = 0; i < config_ndefs; i++) {
		const char *why;

		free(cfg->vals[i].str);
		cfg->vals[i].str = expanded[i];
		expanded[i] = NULL;
		if (config_parse_value(&config_defs[i], cfg->vals[i].str,
		    &cfg->vals[i].num, &why) < 0) {
			if (file != NULL && cfg->vals[i].line > 0)
				err_set(error_r, "%s:%d: %s", file,
				    cfg->vals[i].line, why);
			else
				*error_r = why;
			goto out;
		}
	}
	rc = 0;
out:
	for (i = 0; i < config_ndefs; i++)
		free(expanded[i]);
	free(expanded);
	return rc;
}

static int
apply_line(struct config *cfg, const char *file, int lineno, char *text,
    const char **error_r)
{
	char *eq, *name, *value;
	const char *why;
	const struct config_def *def;
	long long dummy;

	eq = strchr(text, '=');
	if (eq == NULL)
		return err_set(error_r, "%s:%d: missing '=' in '%s'", file,
		    lineno, str_trim(text));
	*eq = '\0';
	name = str_trim(text);
	value = str_trim(eq + 1);
	def = config_def_find(name);
	if (def == NULL)
		return err_set(error_r, "%s:%d: unknown parameter '%s'", file,
		    lineno, name);
	/* Check now for a precise line number; '$' values wait for finish. */
	if (strchr(value, '$') == NULL &&
	    config_parse_value(def, value, &dummy, &why) < 0)
		return err_set(error_r, "%s:%d: %s", file, lineno, why);
	if (set_raw(cfg, name, value, lineno, &why) < 0)
		return err_set(error_r, "%s:%d: %s", file, lineno, why);
	return 0;
}

static int
read_file(struct config *cfg, const char *file, FILE *fp,
    const char **error_r)
{
	char line[CONFIG_LINE_MAX];
	struct buf logical;
	int lineno = 0, start = 0, rc = -1;

	buf_init(&logical, CONFIG_LINE_MAX * 4);
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t l = strlen(line);

		lineno++;
		if (l == sizeof(line) - 1 && line[l - 1] != '\n') {
			err_set(error_r, "%s:%d: line too long", file, lineno);
			goto out;
		}
		if (line[0] == '#')
			continue;
		if (isspace((unsigned char)line[0]) &&
		    str_trim(line)[0] != '\0' && logical.len > 0) {
			/* continuation of the previous logical line */
			if (str_trim(line)[0] == '#')
				continue;
			if (buf_putc(&logical, ' ') < 0 ||
			    buf_puts(&logical, str_trim(line)) < 0) {
				err_set(error_r, "%s:%d: line too long", file,
				    lineno);
				goto out;
			}
			continue;
		}
		if (logical.len > 0 &&
		    apply_line(cfg, file, start, logical.data, error_r) < 0)
			goto out;
		buf_reset(&logical);
		if (str_trim(line)[0] == '\0')
			continue;
		if (isspace((unsigned char)line[0])) {
			err_set(error_r, "%s:%d: continuation line without "
			    "a parameter", file, lineno);
			goto out;
		}
		start = lineno;
		buf_puts(&logical, str_trim(line));
	}
	if (ferror(fp)) {
		err_set(error_r, "%s: read error: %s", file, strerror(errno));
		goto out;
	}
	if (logical.len > 0 &&
	    apply_line(cfg, file, start, logical.data, error_r) < 0)
		goto out;
	rc = 0;
out:
	buf_release(&logical);
	return rc;
}

int
config_load(struct config **cfg_r, const char *path, const char **error_r)
{
	struct config *cfg;
	const char *file = path;
	int optional = 0;
	FILE *fp;

	*cfg_r = NULL;
	if (file == NULL)
		file = getenv("POSTERN_CONF");
	if (file == NULL || *file == '\0') {
		file = CONFIG_DEFAULT_FILE;
		optional = 1;
	}
	cfg = config_new();
	if (cfg == NULL)
		return err_set(error_r, "out of memory");
	fp = fopen(file, "r");
	if (fp == NULL) {
		if (!(optional && errno == ENOENT)) {
			err_set(error_r, "cannot open '%s': %s", file,
			    strerror(errno));
			config_free(&cfg);
			return -1;
		}
	} else {
		cfg->file = strdup(file);
		if (read_file(cfg, file, fp, error_r) < 0) {
			fclose(fp);
			config_free(&cfg);
			return -1;
		}
		fclose(fp);
	}
	if (finish(cfg, file, error_r) < 0) {
		config_free(&cfg);
		return -1;
	}
	*cfg_r = cfg;
	return 0;
}

struct config *
config_defaults(void)
{
	struct config *cfg = config_new();
	const char *error;

	if (cfg == NULL)
		return NULL;
	if (finish(cfg, NULL, &error) < 0)
		log_panic(NULL, "config defaults: %s", error);
	return cfg;
}

int
config_set(struct config *cfg, const char *name, const char *value,
    const char **error_r)
{
	const struct config_def *def = config_def_find(name);
	struct buf b;
	long long num;
	size_t idx;

	if (def == NULL)
		return err_set(error_r, "unknown parameter '%s'", name);
	idx = (size_t)(def - config_defs);
	buf_init(&b, CONFIG_LINE_MAX * 4);
	if (expand(cfg, value, &b, 0, error_r) < 0 ||
	    config_parse_value(def, b.data != NULL ? b.data : "", &num,
	    error_r) < 0) {
		buf_release(&b);
		return -1;
	}
	free(cfg->vals[idx].str);
	cfg->vals[idx].str = buf_steal(&b, NULL);
	cfg->vals[idx].num = num;
	return 0;
}

struct config *
config_ref(struct config *cfg)
{
	__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_SEQ_CST);
	return cfg;
}

void
config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;
	size_t i;

	if (cfg == NULL)
		return;
	*cfgp = NULL;
	if (__atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	if (cfg->vals != NULL)
		for (i = 0; i < config_ndefs; i++)
			free(cfg->vals[i].str);
	free(cfg->vals);
	free(cfg->file);
	free(cfg);
}

const char *
config_file(const struct config *cfg)
{
	return cfg->file;
}

static const struct config_val *
lookup(const struct config *cfg, const char *name, int want_num)
{
	const struct config_def *def = config_def_find(name);

	if (def == NULL)
		log_panic(NULL, "config: unknown parameter '%s'", name);
	if (want_num && (def->type == CONFIG_STRING ||
	    def->type == CONFIG_PATH || def->type == CONFIG_ENUM))
		log_panic(NULL, "config: '%s' is not numeric", name);
	return &cfg->vals[def - config_defs];
}

const char *
config_str(const struct config *cfg, const char *name)
{
	return lookup(cfg, name, 0)->str;
}

long long
config_int(const struct config *cfg, const char *name)
{
	return lookup(cfg, name, 1)->num;
}

int
config_bool(const struct config *cfg, const char *name)
{
	return lookup(cfg, name, 1)->num != 0;
}
