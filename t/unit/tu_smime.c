#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "testutil.h"
#include "tu_smime.h"

static struct tu_pki pki;
static int pki_ok;

char *
tu_put(const char *dir, const char *name, const void *data, size_t len)
{
	char *path = tu_path(dir, name);
	FILE *fp;

	if (path == NULL)
		return NULL;
	fp = fopen(path, "wb");
	if (fp == NULL || fwrite(data, 1, len, fp) != len) {
		if (fp != NULL)
			fclose(fp);
		free(path);
		return NULL;
	}
	fclose(fp);
	return path;
}

X509 *
tu_load_cert(const char *path)
{
	FILE *fp = fopen(path, "r");
	X509 *c;

	if (fp == NULL)
		return NULL;
	c = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	return c;
}

EVP_PKEY *
tu_load_key(const char *path)
{
	FILE *fp = fopen(path, "r");
	EVP_PKEY *k;

	if (fp == NULL)
		return NULL;
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	return k;
}

int
tu_have_gpgsm(void)
{
	return tu_sh("gpgsm --version >/dev/null 2>&1") == 0;
}

/* One end entity signed by the CA. */
static int
make_ee(const char *name, const char *cn, const char *email,
    const char *newkey, const char *usage, const char *serial)
{
	return tu_sh("cd '%s' && printf '%%s\\n' "
	    "'subjectAltName=email:%s' 'keyUsage=critical,%s' "
	    "'extendedKeyUsage=emailProtection' 'subjectKeyIdentifier=hash' "
	    "'authorityKeyIdentifier=keyid' > %s.ext && "
	    "openssl req -newkey %s -nodes -keyout %s.key "
	    "-subj '/CN=%s/emailAddress=%s' 2>/dev/null | "
	    "openssl x509 -req -CA ca.crt -CAkey ca.key -set_serial %s "
	    "-days 3650 -extfile %s.ext -out %s.crt 2>/dev/null",
	    pki.dir, email, usage, name, newkey, name, cn, email, serial,
	    name, name);
}

void
tu_pki_setup(void)
{
	char *p;

	memset(&pki, 0, sizeof(pki));
	pki.dir = tu_tmpdir();
	if (pki.dir == NULL)
		return;
	if (tu_sh("cd '%s' && openssl req -x509 -newkey rsa:2048 -nodes "
	    "-keyout ca.key -out ca.crt -subj '/O=Postern Test/CN=Postern "
	    "Test CA' -days 3650 -addext basicConstraints=critical,CA:TRUE "
	    "-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null",
	    pki.dir) != 0)
		return;
	if (make_ee("bob", "Bob", "bob@example.org", "rsa:2048",
	    "digitalSignature,keyEncipherment", "0x1001") != 0 ||
	    make_ee("carol", "Carol", "carol@example.org",
	    "ec -pkeyopt ec_paramgen_curve:P-256",
	    "digitalSignature,keyAgreement", "0x1002") != 0 ||
	    make_ee("alice", "Alice", "alice@example.org", "rsa:2048",
	    "digitalSignature,nonRepudiation", "0x1003") != 0)
		return;
#define LOAD(field, loader, file) do { \
	p = tu_path(pki.dir, file); \
	pki.field = loader(p); \
	free(p); \
	if (pki.field == NULL) \
		return; \
} while (0)
	LOAD(ca, tu_load_cert, "ca.crt");
	LOAD(bob, tu_load_cert, "bob.crt");
	LOAD(carol, tu_load_cert, "carol.crt");
	LOAD(alice, tu_load_cert, "alice.crt");
	LOAD(bob_key, tu_load_key, "bob.key");
	LOAD(carol_key, tu_load_key, "carol.key");
	LOAD(alice_key, tu_load_key, "alice.key");
#undef LOAD
	pki.store = X509_STORE_new();
	if (pki.store == NULL || X509_STORE_add_cert(pki.store, pki.ca) != 1)
		return;
	pki_ok = 1;
}

void
tu_pki_teardown(void)
{
	X509_free(pki.ca);
	X509_free(pki.bob);
	X509_free(pki.carol);
	X509_free(pki.alice);
	EVP_PKEY_free(pki.bob_key);
	EVP_PKEY_free(pki.carol_key);
	EVP_PKEY_free(pki.alice_key);
	X509_STORE_free(pki.store);
	tu_tmpdir_free(&pki.dir);
	memset(&pki, 0, sizeof(pki));
	pki_ok = 0;
}

struct tu_pki *
tu_pki(void)
{
	return pki_ok ? &pki : NULL;
}
