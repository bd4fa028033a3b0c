/*
 * conf/postern.conf and postern.conf(5) against config_defs[]: the
 * sample shows every key, commented out, at its real default, and loads
 * without error once uncommented; the page gives every key's type and
 * default.  (check_config.c checks that the page lists every key.)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "testutil.h"

START_TEST(sample_has_every_default)
{
	char *text = tu_read_file("conf/postern.conf", NULL);
	size_t i;

	ck_assert_msg(text != NULL, "cannot read conf/postern.conf");
	for (i = 0; i < config_ndefs; i++) {
		char want[512];

		snprintf(want, sizeof(want), "\n#%s = %s\n",
		    config_defs[i].name, config_defs[i].def);
		ck_assert_msg(strstr(text, want) != NULL,
		    "conf/postern.conf lacks '%s'", want + 1);
	}
	free(text);
}
END_TEST

START_TEST(sample_loads_uncommented)
{
	char *text = tu_read_file("conf/postern.conf", NULL);
	char *dir = tu_tmpdir(), *path = tu_path(dir, "postern.conf");
	struct config *cfg = NULL, *defs = config_defaults();
	const char *error = NULL;
	char *line, *save = NULL;
	FILE *fp;
	size_t i, n = 0;

	ck_assert_ptr_nonnull(text);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	/* "#key = value" lines become settings; prose stays comments */
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' && line[1] != ' ' && line[1] != '\0' &&
		    strstr(line, " = ") != NULL) {
			fprintf(fp, "%s\n", line + 1);
			n++;
		} else {
			fprintf(fp, "%s\n", line);
		}
	}
	fclose(fp);
	ck_assert_uint_eq(n, config_ndefs);
	ck_assert_msg(config_load(&cfg, path, &error) == 0, "%s", error);
	for (i = 0; i < config_ndefs; i++) {
		const char *name = config_defs[i].name;

		ck_assert_msg(strcmp(config_str(cfg, name),
		    config_str(defs, name)) == 0, "%s: got %s, want %s", name,
		    config_str(cfg, name), config_str(defs, name));
	}
	config_free(&cfg);
	config_free(&defs);
	free(text);
	free(path);
	tu_tmpdir_free(&dir);
}
END_TEST

START_TEST(page_gives_type_and_default)
{
	char *page = tu_read_file("man/postern.conf.5", NULL);
	size_t i;

	ck_assert_msg(page != NULL, "cannot read man/postern.conf.5");
	for (i = 0; i < config_ndefs; i++) {
		const struct config_def *d = &config_defs[i];
		char head[256], type[64], def[512];
		const char *start, *end;
		char *entry;

		snprintf(head, sizeof(head), ".It Cm %s\n", d->name);
		start = strstr(page, head);
		ck_assert_msg(start != NULL, "no entry for '%s'", d->name);
		end = strstr(start + strlen(head), "\n.It Cm ");
		if (end == NULL)
			end = start + strlen(start);
		entry = strndup(start, (size_t)(end - start));
		snprintf(type, sizeof(type), "Type: %s", config_type_name(
		    d->type));
		snprintf(def, sizeof(def), strchr(d->def, ' ') != NULL ?
		    "Default:\n.Ql \"%s\"" : "Default:\n.Ql %s", d->def);
		ck_assert_msg(strstr(entry, type) != NULL, "'%s': want '%s'",
		    d->name, type);
		ck_assert_msg(strstr(entry, def) != NULL, "'%s': want '%s'",
		    d->name, def);
		if (d->type == CONFIG_INT || d->type == CONFIG_SIZE ||
		    d->type == CONFIG_TIME) {
			snprintf(def, sizeof(def), "from %lld to %lld", d->min,
			    d->max);
			ck_assert_msg(strstr(entry, def) != NULL,
			    "'%s': want '%s'", d->name, def);
		}
		free(entry);
	}
	free(page);
}
END_TEST

Suite *
conf_sample_suite(void)
{
	Suite *s = suite_create("conf_sample");
	TCase *tc = tcase_create("docs");

	tcase_add_test(tc, sample_has_every_default);
	tcase_add_test(tc, sample_loads_uncommented);
	tcase_add_test(tc, page_gives_type_and_default);
	suite_add_tcase(s, tc);
	return s;
}
