-- 0010-x509: the S/MIME keystore (certificates, roots, keys, CRLs, trust
-- list, selections).  A certificate is identified by its thumbprint: the
-- SHA-512 of its DER as 128 uppercase hex digits.  store is 'certs'
-- (end entities and untrusted intermediates) or 'roots' (trust anchors);
-- the same certificate may be in both.

CREATE TABLE x509_certs (
	id INTEGER PRIMARY KEY,
	store TEXT NOT NULL CHECK (store IN ('certs', 'roots')),
	thumbprint TEXT NOT NULL,
	der BLOB NOT NULL,
	subject TEXT NOT NULL,			-- one-line RFC 2253
	issuer TEXT NOT NULL,
	subject_der BLOB NOT NULL,		-- for path building
	issuer_der BLOB NOT NULL,
	serial TEXT NOT NULL,			-- uppercase hex
	skid TEXT,				-- hex, NULL when absent
	not_before INTEGER NOT NULL,		-- seconds since the epoch
	not_after INTEGER NOT NULL,
	key_usage INTEGER NOT NULL,		-- X509v3_KU_* bits, -1 absent
	ext_key_usage INTEGER NOT NULL,		-- XKU_* bits, -1 absent
	is_ca INTEGER NOT NULL,
	created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
	UNIQUE (store, thumbprint)
);
CREATE INDEX x509_certs_thumbprint ON x509_certs(thumbprint);
CREATE INDEX x509_certs_subject ON x509_certs(subject_der);
CREATE INDEX x509_certs_serial ON x509_certs(serial);
CREATE INDEX x509_certs_skid ON x509_certs(skid);

-- Every email of a certificate (subject emailAddress and SAN rfc822Name),
-- lowercased.
CREATE TABLE x509_emails (
	cert_id INTEGER NOT NULL REFERENCES x509_certs(id) ON DELETE CASCADE,
	email TEXT NOT NULL,
	PRIMARY KEY (email, cert_id)
);
CREATE INDEX x509_emails_cert ON x509_emails(cert_id);

-- Private keys: PKCS#8 DER sealed under the master key with additional
-- data "x509-key:<thumbprint>".
CREATE TABLE x509_keys (
	thumbprint TEXT PRIMARY KEY,
	sealed BLOB NOT NULL,
	created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);

CREATE TABLE x509_crls (
	id INTEGER PRIMARY KEY,
	thumbprint TEXT NOT NULL UNIQUE,	-- SHA-512 of the DER
	der BLOB NOT NULL,
	issuer TEXT NOT NULL,
	issuer_der BLOB NOT NULL,
	this_update INTEGER NOT NULL,
	next_update INTEGER,			-- NULL when absent
	created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX x509_crls_issuer ON x509_crls(issuer_der);

CREATE TABLE x509_crl_revoked (
	crl_id INTEGER NOT NULL REFERENCES x509_crls(id) ON DELETE CASCADE,
	serial TEXT NOT NULL,			-- uppercase hex
	revoked_at INTEGER NOT NULL
);
CREATE INDEX x509_crl_revoked_serial ON x509_crl_revoked(serial);
CREATE INDEX x509_crl_revoked_crl ON x509_crl_revoked(crl_id);

-- Certificate trust list; the certificate need not be stored.
CREATE TABLE x509_ctl (
	thumbprint TEXT PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('white', 'black')),
	allow_expired INTEGER NOT NULL DEFAULT 0,
	created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);

-- Manual selections.  level is 'global', 'wildcard', 'domain' or 'user';
-- owner '' (global), the (wildcard) domain or the user address.
CREATE TABLE x509_selections (
	level TEXT NOT NULL CHECK (level IN ('global', 'wildcard', 'domain',
	    'user')),
	owner TEXT NOT NULL,
	thumbprint TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('encryption', 'signing',
	    'additional')),
	created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
	PRIMARY KEY (level, owner, kind, thumbprint)
);
CREATE INDEX x509_selections_thumbprint ON x509_selections(thumbprint);
