#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "str.h"

static int
domain_chars_ok(const char *d)
{
	const char *p;

	if (*d == '\0' || *d == '.' || strstr(d, "..") != NULL)
		return 0;
	for (p = d; *p != '\0'; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.' ||
		    *p == '_' || (unsigned char)*p >= 0x80 || *p == '[' ||
		    *p == ']' || *p == ':'))
			return 0;
	return p[-1] != '.';
}

int
domain_normalize(const char *in, char *out, size_t outsz)
{
	size_t l, i;
	const char *body;

	while (isspace((unsigned char)*in))
		in++;
	l = strlen(in);
	while (l > 0 && isspace((unsigned char)in[l - 1]))
		l--;
	if (l == 0 || l >= outsz || l >= DOMAIN_MAX)
		return -1;
	for (i = 0; i < l; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[l] = '\0';
	body = out;
	if (out[0] == '*') {
		if (out[1] != '.')
			return -1;
		body = out + 2;
	}
	return domain_chars_ok(body) && strchr(body, '*') == NULL ? 0 : -1;
}

int
domain_is_wildcard(const char *domain)
{
	return domain[0] == '*' && domain[1] == '.';
}

int
domain_wildcard_match(const char *wildcard, const char *domain)
{
	size_t wl, dl;
	const char *suffix;

	if (!domain_is_wildcard(wildcard))
		return 0;
	suffix = wildcard + 1;		/* ".example.com" */
	wl = strlen(suffix);
	dl = strlen(domain);
	return dl > wl && strcmp(domain + dl - wl, suffix) == 0;
}

int
address_normalize(const char *in, char *out, size_t outsz)
{
	const char *start = in, *end, *at;
	char dom[DOMAIN_MAX + 1];
	size_t l, ll, dl;

	while (isspace((unsigned char)*start))
		start++;
	end = start + strlen(start);
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	if (end - start >= 2 && *start == '<' && end[-1] == '>') {
		start++;
		end--;
	}
	l = (size_t)(end - start);
	if (l == 0 || l >= outsz || l > ADDRESS_MAX)
		return -1;
	at = NULL;
	for (const char *p = start; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL || at == start || at + 1 == end)
		return -1;
	ll = (size_t)(at - start);
	for (size_t i = 0; i < ll; i++)
		if (isspace((unsigned char)start[i]) ||
		    (unsigned char)start[i] < 0x20)
			return -1;
	dl = (size_t)(end - at - 1);
	if (dl >= sizeof(dom))
		return -1;
	memcpy(dom, at + 1, dl);
	dom[dl] = '\0';
	memcpy(out, start, ll + 1);
	if (domain_normalize(dom, out + ll + 1, outsz - ll - 1) < 0)
		return -1;
	return domain_is_wildcard(out + ll + 1) ? -1 : 0;
}

char *
address_mailbox(char *v, char **lt_r)
{
	char *lt, *gt, *p;
	int quote = 0, angle = 0, comma = 0;

	for (p = v; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quote = !quote;
		else if (!quote && *p == '<')
			angle++;
		else if (!quote && *p == '>' && angle > 0)
			angle--;
		else if (!quote && angle == 0 && *p == ',')
			comma = 1;
	}
	lt = strrchr(v, '<');
	if (lt_r != NULL)
		*lt_r = lt;
	if (comma)
		return NULL;
	gt = lt != NULL ? strchr(lt, '>') : NULL;
	if (lt != NULL && gt != NULL) {
		*gt = '\0';
		p = lt + 1;
	} else {
		p = v;
	}
	return str_trim(p);
}

const char *
address_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

static void
push(struct address_chain *c, enum address_level level, const char *owner)
{
	if (c->n >= ADDRESS_CHAIN_MAX)
		return;
	c->item[c->n].level = level;
	strncpy(c->item[c->n].owner, owner, ADDRESS_MAX);
	c->item[c->n].owner[ADDRESS_MAX] = '\0';
	c->n++;
}

/* Wildcards matching d, most specific first, then global. */
static void
push_wildcards(struct address_chain *c, const char *d)
{
	char w[DOMAIN_MAX + 2];
	const char *p = d;

	if (domain_is_wildcard(d))
		p = d + 2;
	else
		p = strchr(d, '.') != NULL ? strchr(d, '.') + 1 : NULL;
	while (p != NULL && *p != '\0') {
		snprintf(w, sizeof(w), "*.%s", p);
		push(c, ADDRESS_LEVEL_WILDCARD, w);
		p = strchr(p, '.');
		if (p != NULL)
			p++;
	}
	push(c, ADDRESS_LEVEL_GLOBAL, "");
}

int
address_chain_user(const char *addr, struct address_chain *chain)
{
	char norm[ADDRESS_MAX + 1];
	const char *d;

	chain->n = 0;
	if (address_normalize(addr, norm, sizeof(norm)) < 0)
		return -1;
	d = address_domain(norm);
	push(chain, ADDRESS_LEVEL_USER, norm);
	push(chain, ADDRESS_LEVEL_DOMAIN, d);
	push_wildcards(chain, d);
	return 0;
}

int
address_chain_domain(const char *domain, struct address_chain *chain)
{
	char norm[DOMAIN_MAX + 1];

	chain->n = 0;
	if (domain_normalize(domain, norm, sizeof(norm)) < 0)
		return -1;
	if (domain_is_wildcard(norm)) {
		push(chain, ADDRESS_LEVEL_WILDCARD, norm);
		/* then the shorter wildcards */
		{
			const char *p = strchr(norm + 2, '.');

			while (p != NULL) {
				char w[DOMAIN_MAX + 2];

				snprintf(w, sizeof(w), "*%s", p);
				push(chain, ADDRESS_LEVEL_WILDCARD, w);
				p = strchr(p + 1, '.');
			}
		}
		push(chain, ADDRESS_LEVEL_GLOBAL, "");
		return 0;
	}
	push(chain, ADDRESS_LEVEL_DOMAIN, norm);
	push_wildcards(chain, norm);
	return 0;
}

void
address_chain_global(struct address_chain *chain)
{
	chain->n = 0;
	push(chain, ADDRESS_LEVEL_GLOBAL, "");
}

const char *
address_level_name(enum address_level level)
{
	switch (level) {
	case ADDRESS_LEVEL_FACTORY:
		return "factory";
	case ADDRESS_LEVEL_GLOBAL:
		return "global";
	case ADDRESS_LEVEL_WILDCARD:
		return "wildcard";
	case ADDRESS_LEVEL_DOMAIN:
		return "domain";
	case ADDRESS_LEVEL_USER:
		return "user";
	}
	return "?";
}
