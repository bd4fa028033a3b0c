/*
 * template: substitution (header values cannot inject fields, 8-bit
 * header text is RFC 2047-encoded, the body gets UTF-8 as it is), the
 * fields a notification must have, file lookup with the built-in
 * fallback, and the built-in copies equal the shipped files.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "testutil.h"

START_TEST(render_basic)
{
	static const struct template_var vars[] = {
		{ "originator", "alice@corp.test" },
		{ "subject", "Gr\xc3\xbc\xc3\x9f" "e\r\nBcc: eve@evil.test" },
		{ "reason", "bob@ext.test: no key\ncarol@ext.test: no key" },
	};
	const char *t = "From: gw@corp.test\r\nTo: ${originator}\r\n"
	    "Subject: failed: ${subject}\r\n\r\nCost: $$5 ${unknown}\r\n"
	    "${reason}\r\nSubject was ${subject}\r\n";
	struct buf out;
	const char *error = NULL;

	buf_init(&out, 0);
	ck_assert_msg(template_render(t, strlen(t), vars, 3, &out, &error) == 0,
	    "%s", error);
	ck_assert_ptr_nonnull(strstr(out.data, "To: alice@corp.test\n"));
	/* no header injection: the CR LF became spaces, and the 8-bit
	 * subject is encoded */
	*strstr(out.data, "\n\n") = '\0';
	ck_assert_ptr_null(strstr(out.data, "\nBcc:"));
	ck_assert_ptr_nonnull(strstr(out.data, "Subject: failed: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?="));
	ck_assert_ptr_null(strstr(out.data, "\r"));
	out.data[strlen(out.data)] = '\n';
	/* the body: literal $, unknown variable kept, values verbatim */
	ck_assert_ptr_nonnull(strstr(out.data, "\n\nCost: $5 ${unknown}\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "bob@ext.test: no key\ncarol@ext.test: no key\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "Subject was Gr\xc3\xbc\xc3\x9f"));
	/* added fields */
	ck_assert_ptr_nonnull(strstr(out.data, "\nDate: "));
	ck_assert_ptr_nonnull(strstr(out.data, "\nMessage-ID: <postern."));
	ck_assert_ptr_nonnull(strstr(out.data, "\nAuto-Submitted: auto-generated\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "\nMIME-Version: 1.0\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "\nContent-Type: text/plain; charset=UTF-8\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "\nContent-Transfer-Encoding: 8bit\n"));
	buf_release(&out);
}
END_TEST

START_TEST(load_and_fallback)
{
	char *dir = tu_tmpdir(), *p = tu_path(dir, "mine.eml");
	struct buf out;
	const char *error = NULL;

	ck_assert_int_eq(tu_write_file(p, "Subject: mine\n\nx\n"), 0);
	buf_init(&out, 0);
	ck_assert_int_eq(template_load(dir, "mine.eml", "encryption-failed",
	    &out, &error), 0);
	ck_assert_str_eq(out.data, "Subject: mine\n\nx\n");
	buf_reset(&out);
	ck_assert_int_eq(template_load("/nonexistent", p, "encryption-failed",
	    &out, &error), 0);
	buf_reset(&out);
	/* missing: the built-in copy, and why */
	ck_assert_int_eq(template_load(dir, "gone.eml", "encryption-failed",
	    &out, &error), 1);
	ck_assert_ptr_nonnull(strstr(error, "gone.eml"));
	ck_assert_str_eq(out.data, template_builtin("encryption-failed"));
	buf_reset(&out);
	ck_assert_int_eq(template_load(dir, "../x", "encryption-failed", &out,
	    &error), 1);
	ck_assert_int_eq(template_load(dir, "x", "no-such-builtin", &out,
	    &error), -1);
	buf_release(&out);
	free(p);
	tu_tmpdir_free(&dir);
}
END_TEST

START_TEST(builtins_match_files)
{
	static const char *const names[] = { "encryption-failed",
	    "encryption-notification" };
	size_t i;

	for (i = 0; i < 2; i++) {
		char path[256];
		char *text;

		snprintf(path, sizeof(path), "conf/templates/%s.eml", names[i]);
		text = tu_read_file(path, NULL);
		ck_assert_msg(text != NULL, "cannot read %s", path);
		ck_assert_ptr_nonnull(template_builtin(names[i]));
		ck_assert_str_eq(template_builtin(names[i]), text);
		free(text);
	}
}
END_TEST

Suite *
template_suite(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, render_basic);
	tcase_add_test(tc, load_and_fallback);
	tcase_add_test(tc, builtins_match_files);
	suite_add_tcase(s, tc);
	return s;
}
