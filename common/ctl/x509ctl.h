/*
 * Helpers shared by the X.509 commands of posternctl (cert, root, key,
 * ctl, crl): the keystore handle, file input, times, thumbprints and the
 * certificate table.  Each prints its own error (ctl_error) and returns
 * NULL or a CTL_* code.
 */
#ifndef POSTERN_CTL_X509CTL_H
#define POSTERN_CTL_X509CTL_H

#include <stddef.h>
#include <time.h>

#include "x509.h"

struct ctl;

/* The keystore over ctl's store; with_key: also the master key.  Owned
 * by the caller (x509_ks_free()). */
struct x509_ks *xc_ks(struct ctl *ctl, int with_key);
/* A file ("-" is stdin), at most X509_INPUT_MAX bytes; malloc'd. */
unsigned char *xc_read(const char *path, size_t *len_r);
/* Password from --password-file F (first line), else the environment
 * variable POSTERN_PASSWORD; NULL (error printed) when neither. */
char *xc_password(const char *file);
/* "2027-01-01", "2027-01-01T10:00:00Z" or "@seconds"; -1 when bad. */
int xc_time(const char *s, time_t *t_r);
void xc_fmt_time(time_t t, char *buf, size_t sz);
/* Resolve a user-typed thumbprint (prints the error): CTL_OK or not. */
int xc_thumb(struct x509_ks *ks, int where, const char *in,
    char out[X509_THUMB_LEN + 1]);
/* Write data to path ("-" or NULL: stdout), mode 0600 when secret. */
int xc_write(const char *path, const unsigned char *d, size_t len,
    int secret);
/* Parse "encryption|signing|additional". */
int xc_kind(const char *s, enum x509_sel_kind *k_r);

/* Import certificates from files into a store, printing a summary. */
int xc_import_certs(struct ctl *ctl, enum x509_where where, int argc,
    char **argv);
/* List a store: --email E, --valid/--invalid, --at T. */
int xc_list(struct ctl *ctl, enum x509_where where, int argc, char **argv);
/* Delete from a store: THUMB [--force]. */
int xc_delete(struct ctl *ctl, enum x509_where where, int argc, char **argv);

#endif
