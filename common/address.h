/*
 * address: e-mail addresses and domains as Postern compares them, and the
 * inheritance chain of settings and selections.
 *
 * Normal form: the local part as given, the domain lowercased; a
 * surrounding <...> and whitespace are removed.  Addresses compare equal
 * when their normal forms do (case-sensitive local part, as RFC 5321
 * says, case-insensitive domain).
 *
 * Domains: "example.com" or a wildcard "*.example.com", which matches
 * a.example.com and anything deeper, but not example.com itself.
 *
 * The chain for a user lists, most specific first, where a property may
 * come from: the user, its domain, every wildcard that matches the domain
 * (*.b.example.com before *.example.com before *.com), then global.
 * For a domain it starts at the domain; for a wildcard domain at that
 * wildcard (and continues with the shorter wildcards).
 *
 * Ownership: results are written into caller buffers of the given size;
 * -1 means malformed input or too long for the buffer.
 * address_chain() fills a caller-owned struct address_chain.
 * address_mailbox() cuts the caller's string in place and points into it.
 */
#ifndef POSTERN_ADDRESS_H
#define POSTERN_ADDRESS_H

#include <stddef.h>

#define ADDRESS_MAX 320		/* RFC 5321: 64 + 1 + 255 */
#define DOMAIN_MAX 256
#define ADDRESS_CHAIN_MAX 130	/* user, domain, up to 127 wildcards, global */

enum address_level {
	ADDRESS_LEVEL_FACTORY = 0,
	ADDRESS_LEVEL_GLOBAL,
	ADDRESS_LEVEL_WILDCARD,
	ADDRESS_LEVEL_DOMAIN,
	ADDRESS_LEVEL_USER,
};

struct address_chain_item {
	enum address_level level;
	char owner[ADDRESS_MAX + 1];	/* "" for global */
};

struct address_chain {
	size_t n;
	struct address_chain_item item[ADDRESS_CHAIN_MAX];
};

/* "<Alice@Example.COM>" -> "Alice@example.com"; -1 if not local@domain. */
int address_normalize(const char *in, char *out, size_t outsz);
/*
 * The address in a From or Sender value v that names one mailbox
 * ("Name <a@b.example>" or "a@b.example"), for the signer checks: the
 * text between the last '<' and the '>' after it (the whole value when
 * there is no such pair), white space trimmed.  v is cut in place (the
 * '>' becomes NUL) and the result points into it.  NULL when v is a list:
 * a comma outside quotes and angle brackets.  *lt_r (may be NULL) gets
 * the last '<' in v, or NULL.  The result is not checked to be an
 * address: callers apply their own rules.
 */
char *address_mailbox(char *v, char **lt_r);
/* Pointer into addr (normalised) at the domain, or NULL. */
const char *address_domain(const char *addr);
/* "Example.COM" -> "example.com"; accepts "*.example.com"; -1 if bad. */
int domain_normalize(const char *in, char *out, size_t outsz);
int domain_is_wildcard(const char *domain);
/* Does wildcard "*.x.y" match domain d (normalised)? */
int domain_wildcard_match(const char *wildcard, const char *domain);

/* Chains; in is normalised first.  -1 if malformed. */
int address_chain_user(const char *addr, struct address_chain *chain);
int address_chain_domain(const char *domain, struct address_chain *chain);
void address_chain_global(struct address_chain *chain);

const char *address_level_name(enum address_level level);

#endif
