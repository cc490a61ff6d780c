-- Same shape as migrations/mysql/0002.
CREATE TABLE budgets (
  user_id TEXT NOT NULL,
  category_id TEXT NOT NULL PRIMARY KEY REFERENCES categories (id) ON DELETE CASCADE,
  amount_minor INTEGER NOT NULL,
  currency TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX idx_budgets_user ON budgets (user_id);

CREATE INDEX idx_expenses_user_category ON expenses (user_id, category_id, currency, expense_date);

CREATE TABLE idempotency_keys (
  user_id TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  status INTEGER NULL,
  headers TEXT NULL,
  body BLOB NULL,
  lease_until INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idx_idempotency_expires ON idempotency_keys (expires_at);
