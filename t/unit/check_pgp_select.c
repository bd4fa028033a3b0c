/*
 * store_pgp selection rules, table-driven over synthetic key rows (the
 * keyring side of the rules, valid self-signed UIDs, is in check_pgp).
 */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgp_keyring.h"
#include "store.h"
#include "store_pgp.h"
#include "testutil.h"

#define NOW 1000

static char *dir;
static struct store *st;

struct kdef {
	const char *fpr;	/* 40 hex; name letter repeated */
	const char *email;
	unsigned pcaps, scaps;	/* primary caps, subkey caps */
	time_t created, expires, sub_expires;
	int revoked, sub_revoked, secret, trusted;
	const char *assoc;	/* admin association or NULL */
};

#define F(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c
#define SC (PGP_CAP_SIGN | PGP_CAP_CERTIFY)
#define E PGP_CAP_ENCRYPT

static const struct kdef keys[] = {
	/* A: alice, trusted, secret, sign + enc subkey */
	{ F("A"), "alice@x.org", SC, E, 100, 0, 0, 0, 0, 1, 1, NULL },
	/* B: alice, never trusted */
	{ F("B"), "alice@x.org", SC, E, 300, 0, 0, 0, 0, 1, 0, NULL },
	/* C: alice, trusted but revoked */
	{ F("C"), "alice@x.org", SC, E, 300, 0, 0, 1, 0, 1, 1, NULL },
	/* D: alice, trusted, expired at 500 */
	{ F("D"), "alice@x.org", SC, E, 300, 500, 0, 0, 0, 1, 1, NULL },
	/* E: domain key for x.org (admin association), public only */
	{ F("E"), "gw@x.org", SC, E, 50, 0, 0, 0, 0, 0, 1, "x.org" },
	/* F: bob, trusted, sign only (no encryption subkey) */
	{ F("F"), "bob@x.org", SC, 0, 100, 0, 0, 0, 0, 1, 1, NULL },
	/* G: alice, newer trusted secret key */
	{ F("G"), "Alice@X.org", SC, E, 200, 0, 0, 0, 0, 1, 1, NULL },
	/* H: alice, encryption subkey expired at 900 */
	{ F("H"), "alice@x.org", SC, E, 400, 0, 900, 0, 0, 0, 1, NULL },
	/* I: alice, encryption subkey revoked */
	{ F("I"), "alice@x.org", SC, E, 400, 0, 0, 0, 1, 0, 1, NULL },
	/* J: carol by admin association only */
	{ F("J"), "other@y.org", SC, E, 100, 0, 0, 0, 0, 0, 1,
	    "carol@y.org" },
};

static void
put(const struct kdef *d)
{
	struct pgp_keyinfo k;
	struct pgp_subkeyinfo sk[2];
	char *emails[1];
	const char *error;

	memset(&k, 0, sizeof(k));
	memset(sk, 0, sizeof(sk));
	snprintf(k.fpr, sizeof(k.fpr), "%s", d->fpr);
	snprintf(k.keyid, sizeof(k.keyid), "%s", d->fpr + 24);
	k.created = d->created;
	k.expires = d->expires;
	k.revoked = d->revoked;
	k.expired = d->expires != 0 && d->expires <= NOW;
	k.secret = d->secret;
	k.caps = d->pcaps | d->scaps;
	emails[0] = (char *)d->email;
	k.emails = emails;
	k.nemails = 1;
	snprintf(sk[0].fpr, sizeof(sk[0].fpr), "%s", d->fpr);
	snprintf(sk[0].keyid, sizeof(sk[0].keyid), "%s", d->fpr + 24);
	sk[0].caps = d->pcaps;
	sk[0].expires = d->expires;
	k.subkeys = sk;
	k.nsubkeys = 1;
	if (d->scaps) {
		snprintf(sk[1].fpr, sizeof(sk[1].fpr), "%.39s1", d->fpr);
		snprintf(sk[1].keyid, sizeof(sk[1].keyid), "%.15s1",
		    d->fpr + 24);
		sk[1].caps = d->scaps;
		sk[1].expires = d->sub_expires;
		sk[1].revoked = d->sub_revoked;
		k.nsubkeys = 2;
	}
	/* the UID email as the keyring would give it: lowercase */
	{
		char low[64];
		size_t i;

		for (i = 0; d->email[i] != '\0' && i < sizeof(low) - 1; i++)
			low[i] = (char)tolower((unsigned char)d->email[i]);
		low[i] = '\0';
		emails[0] = low;
		ck_assert_msg(store_pgp_put(st, &k, &error) == 0, "%s", error);
	}
	if (d->trusted)
		ck_assert_int_eq(store_pgp_set_trusted(st, d->fpr, 1, &error),
		    0);
	if (d->assoc != NULL)
		ck_assert_msg(store_pgp_assoc_add(st, d->fpr, d->assoc,
		    &error) == 0, "%s", error);
}

static void
setup(void)
{
	const char *error;
	size_t i;

	dir = tu_tmpdir();
	{
		char *db = tu_path(dir, "p.db");

		ck_assert_msg(store_open(&st, db, 1000, STORE_CREATE, &error)
		    == 0, "%s", error);
		free(db);
	}
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		put(&keys[i]);
}

static void
teardown(void)
{
	store_free(&st);
	tu_tmpdir_free(&dir);
}

/* want: letters of the selected keys, in order (newest first) */
static const struct {
	const char *addr;
	const char *want_enc;
	const char *want_sign;
} sel[] = {
	{ "alice@x.org", "GAE", "G" },
	{ "<ALICE@X.ORG>", "GAE", "G" },
	{ "bob@x.org", "E", "F" },	/* F signs only; E by domain */
	{ "someone@x.org", "E", "" },
	{ "carol@y.org", "J", "" },
	{ "dave@y.org", "", "" },	/* J's association is an address */
	{ "x@sub.x.org", "", "" },	/* domain association is exact */
	{ "nobody@z.org", "", "" },
};

START_TEST(select_table)
{
	char **fprs = NULL, got[32] = "", sgot[4] = "";
	char signer[PGP_FPR_MAX + 1];
	size_t n = 0, i;
	const char *error;
	int r;

	ck_assert_msg(store_pgp_select_encrypt(st, sel[_i].addr, NOW, &fprs,
	    &n, &error) == 0, "%s", error);
	for (i = 0; i < n && i < sizeof(got) - 1; i++)
		got[i] = fprs[i][0];
	got[i] = '\0';
	ck_assert_msg(strcmp(got, sel[_i].want_enc) == 0,
	    "%s: got %s, want %s", sel[_i].addr, got, sel[_i].want_enc);
	str_array_free(&fprs, n);
	r = store_pgp_select_signer(st, sel[_i].addr, NOW, signer, &error);
	ck_assert_int_ge(r, 0);
	if (r == 1) {
		sgot[0] = signer[0];
		sgot[1] = '\0';
	}
	ck_assert_msg(strcmp(sgot, sel[_i].want_sign) == 0,
	    "%s: got signer '%s', want '%s'", sel[_i].addr, sgot,
	    sel[_i].want_sign);
}
END_TEST

START_TEST(trust_and_assoc)
{
	char **fprs = NULL;
	size_t n = 0;
	const char *error;
	char fpr[PGP_FPR_MAX + 1];
	struct store_pgp_row row;

	/* untrust A and G: alice falls back to the domain key */
	ck_assert_int_eq(store_pgp_set_trusted(st, F("A"), 0, &error), 0);
	ck_assert_int_eq(store_pgp_set_trusted(st, F("G"), 0, &error), 0);
	ck_assert_int_eq(store_pgp_select_encrypt(st, "alice@x.org", NOW,
	    &fprs, &n, &error), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(fprs[0][0], 'E');
	str_array_free(&fprs, n);
	/* subkey expiry is checked at selection time: at 400, H's
	 * encryption subkey (expires 900) is still valid */
	ck_assert_int_eq(store_pgp_select_encrypt(st, "alice@x.org", 400,
	    &fprs, &n, &error), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(fprs[0][0], 'H');
	ck_assert_int_eq(fprs[1][0], 'E');
	str_array_free(&fprs, n);
	/* unknown key */
	ck_assert_int_eq(store_pgp_set_trusted(st, F("Z"), 1, &error), -1);
	ck_assert_int_eq(store_pgp_assoc_add(st, F("Z"), "a@b.c", &error), -1);
	ck_assert_int_eq(store_pgp_assoc_add(st, F("A"), "not an address!",
	    &error), -1);
	ck_assert_int_eq(store_pgp_assoc_remove(st, F("E"), "y.org",
	    &error), -1);
	ck_assert_int_eq(store_pgp_assoc_remove(st, F("E"), "X.ORG",
	    &error), 0);
	ck_assert_int_eq(store_pgp_select_encrypt(st, "bob@x.org", NOW,
	    &fprs, &n, &error), 0);
	ck_assert_uint_eq(n, 0);
	str_array_free(&fprs, n);
	/* resolve by key ID of a subkey, and by fingerprint */
	ck_assert_int_eq(store_pgp_resolve(st, "AAAAAAAAAAAAAAA1", fpr,
	    &error), 1);
	ck_assert_str_eq(fpr, F("A"));
	ck_assert_int_eq(store_pgp_resolve(st, "0x" F("b"), fpr, &error), 1);
	ck_assert_str_eq(fpr, F("B"));
	ck_assert_int_eq(store_pgp_resolve(st, "1234", fpr, &error), 0);
	/* a re-sync (put) keeps trust and admin associations */
	ck_assert_int_eq(store_pgp_get(st, F("J"), &row, &error), 1);
	ck_assert_int_eq(row.trusted, 1);
	ck_assert_uint_eq(row.nassoc, 1);
	ck_assert_str_eq(row.assoc[0], "carol@y.org");
	store_pgp_row_release(&row);
	put(&keys[9]);
	ck_assert_int_eq(store_pgp_get(st, F("J"), &row, &error), 1);
	ck_assert_uint_eq(row.nassoc, 1);
	store_pgp_row_release(&row);
	/* delete cascades */
	ck_assert_int_eq(store_pgp_delete(st, F("J"), &error), 0);
	ck_assert_int_eq(store_pgp_get(st, F("J"), &row, &error), 0);
	ck_assert_int_eq(store_pgp_select_encrypt(st, "carol@y.org", NOW,
	    &fprs, &n, &error), 0);
	ck_assert_uint_eq(n, 0);
	str_array_free(&fprs, n);
}
END_TEST

Suite *
pgp_select_suite(void)
{
	Suite *s = suite_create("pgp_select");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, select_table, 0, sizeof(sel) / sizeof(*sel));
	tcase_add_test(tc, trust_and_assoc);
	suite_add_tcase(s, tc);
	return s;
}
