-- 0020-pgp: mirror of the OpenPGP keyring (the GnuPG home stays the
-- source of key material; these rows are for fast selection), the admin
-- trust flag and extra associations.  Kept in step by pgp_keystore.

CREATE TABLE pgp_keys (
	fpr TEXT PRIMARY KEY,			-- primary key fingerprint, upper hex
	keyid TEXT NOT NULL,			-- last 16 hex digits
	uid TEXT,				-- first valid user ID
	caps TEXT NOT NULL DEFAULT '',		-- usable capabilities: "e", "s", "c"
	created INTEGER NOT NULL DEFAULT 0,	-- unix time
	expires INTEGER NOT NULL DEFAULT 0,	-- unix time, 0 never
	revoked INTEGER NOT NULL DEFAULT 0,
	invalid INTEGER NOT NULL DEFAULT 0,
	has_secret INTEGER NOT NULL DEFAULT 0,
	trusted INTEGER NOT NULL DEFAULT 0,	-- set by an admin only
	updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX pgp_keys_keyid ON pgp_keys(keyid);

-- Subkeys (the primary is listed too), for key ID lookups.
CREATE TABLE pgp_subkeys (
	fpr TEXT PRIMARY KEY,
	primary_fpr TEXT NOT NULL REFERENCES pgp_keys(fpr) ON DELETE CASCADE,
	keyid TEXT NOT NULL,
	caps TEXT NOT NULL DEFAULT '',
	expires INTEGER NOT NULL DEFAULT 0,
	revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX pgp_subkeys_primary ON pgp_subkeys(primary_fpr);
CREATE INDEX pgp_subkeys_keyid ON pgp_subkeys(keyid);

-- Emails of valid self-signed user IDs (source 'uid', rewritten on every
-- sync) and admin associations (source 'admin': an address or a domain).
CREATE TABLE pgp_emails (
	fpr TEXT NOT NULL REFERENCES pgp_keys(fpr) ON DELETE CASCADE,
	email TEXT NOT NULL,			-- lowercase address or domain
	source TEXT NOT NULL CHECK (source IN ('uid', 'admin')),
	PRIMARY KEY (fpr, email, source)
);
CREATE INDEX pgp_emails_email ON pgp_emails(email);
