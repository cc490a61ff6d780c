-- Same shape as migrations/mysql/0006 (read its notes): rows stay filed
-- under `user_id`, which holds a ledger's key.
CREATE TABLE ledgers (
  id TEXT NOT NULL PRIMARY KEY,
  ledger_key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  home_currency TEXT NULL,
  personal INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER NULL
);

CREATE TABLE ledger_members (
  ledger_id TEXT NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL,
  joined_at INTEGER NOT NULL,
  PRIMARY KEY (ledger_id, user_id)
);
CREATE INDEX idx_members_user ON ledger_members (user_id, ledger_id);

CREATE TABLE invitations (
  id TEXT NOT NULL PRIMARY KEY,
  ledger_id TEXT NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  accepted_by TEXT NULL,
  accepted_at INTEGER NULL,
  revoked_at INTEGER NULL
);
CREATE INDEX idx_invitations_ledger ON invitations (ledger_id, expires_at);

ALTER TABLE expenses ADD COLUMN created_by TEXT NULL;
ALTER TABLE expenses ADD COLUMN updated_by TEXT NULL;
