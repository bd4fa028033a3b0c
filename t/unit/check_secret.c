#include <sys/stat.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "testutil.h"

START_TEST(seal_open_roundtrip)
{
	char *dir = tu_tmpdir(), *path = tu_path(dir, "master.key");
	struct secret_key *key = NULL;
	unsigned char *sealed, *plain;
	size_t slen, plen;
	const char *error;
	struct stat sb;

	ck_assert_int_eq(secret_key_create(path, &error), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	/* creating again must not overwrite */
	ck_assert_int_eq(secret_key_create(path, &error), -1);
	ck_assert_msg(secret_key_load(&key, path, &error) == 0, "%s", error);

	ck_assert_int_eq(secret_seal(key, "setting:x@global", "hunter2", 7,
	    &sealed, &slen, &error), 0);
	ck_assert_uint_eq(slen, 7 + SECRET_OVERHEAD);
	ck_assert_ptr_null(memmem(sealed, slen, "hunter2", 7));
	ck_assert_int_eq(secret_open(key, "setting:x@global", sealed, slen,
	    &plain, &plen, &error), 0);
	ck_assert_uint_eq(plen, 7);
	ck_assert_str_eq((char *)plain, "hunter2");
	secret_wipe_free(plain, plen);

	/* moved to another row: the additional data no longer matches */
	ck_assert_int_eq(secret_open(key, "setting:x@user", sealed, slen,
	    &plain, &plen, &error), -1);
	/* flipped bit */
	sealed[slen - 1] ^= 1;
	ck_assert_int_eq(secret_open(key, "setting:x@global", sealed, slen,
	    &plain, &plen, &error), -1);
	free(sealed);
	secret_key_free(&key);
	ck_assert_ptr_null(key);

	/* a group-readable key file is refused */
	chmod(path, 0640);
	ck_assert_int_eq(secret_key_load(&key, path, &error), -1);
	ck_assert_msg(strstr(error, "chmod 600") != NULL, "got %s", error);
	free(path);
	tu_tmpdir_free(&dir);
}
END_TEST

START_TEST(wrong_key)
{
	unsigned char a[SECRET_KEY_LEN] = { 1 }, b[SECRET_KEY_LEN] = { 2 };
	struct secret_key *ka = secret_key_from_bytes(a, sizeof(a));
	struct secret_key *kb = secret_key_from_bytes(b, sizeof(b));
	unsigned char *sealed, *plain;
	size_t slen, plen;
	const char *error;

	ck_assert_int_eq(secret_seal(ka, "x", "", 0, &sealed, &slen, &error), 0);
	ck_assert_int_eq(secret_open(ka, "x", sealed, slen, &plain, &plen,
	    &error), 0);
	ck_assert_uint_eq(plen, 0);
	secret_wipe_free(plain, 1);
	ck_assert_int_eq(secret_open(kb, "x", sealed, slen, &plain, &plen,
	    &error), -1);
	ck_assert_int_eq(secret_open(kb, "x", sealed, 3, &plain, &plen,
	    &error), -1);
	free(sealed);
	secret_key_free(&ka);
	secret_key_free(&kb);
}
END_TEST

Suite *
secret_suite(void)
{
	Suite *s = suite_create("secret");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, seal_open_roundtrip);
	tcase_add_test(tc, wrong_key);
	suite_add_tcase(s, tc);
	return s;
}
