-- 0001-core: domains, users and their settings.
-- Addresses are stored normalised: the domain part lowercased, the local
-- part as given; lookups compare the normalised form.

CREATE TABLE domains (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,		-- "example.com" or "*.example.com"
	created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	email TEXT NOT NULL UNIQUE,
	domain TEXT NOT NULL,			-- the domain part, lowercased
	created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX users_domain ON users(domain);

-- One row per property set at one level.  level is 'global', 'domain'
-- (domains and wildcard domains) or 'user'; owner is '' (global), the
-- domain name or the user address.  Users and domains are created on
-- demand when a property is set for them (common/store_settings.c).
-- Secret values are kept sealed in sealed (AES-256-GCM under the master
-- key) and value is NULL.
CREATE TABLE settings (
	level TEXT NOT NULL CHECK (level IN ('global', 'domain', 'user')),
	owner TEXT NOT NULL,
	name TEXT NOT NULL,
	value TEXT,
	sealed BLOB,
	updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
	PRIMARY KEY (level, owner, name),
	CHECK ((value IS NULL) <> (sealed IS NULL))
);
