-- Same shape as migrations/mysql/0001; text compares by code point
-- (BINARY), case-insensitive rules use columns folded in Rust.
CREATE TABLE categories (
  id TEXT NOT NULL PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  name_folded TEXT NOT NULL,
  color TEXT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX uq_categories_user_name ON categories (user_id, name_folded);

CREATE TABLE expenses (
  id TEXT NOT NULL PRIMARY KEY,
  user_id TEXT NOT NULL,
  amount_minor INTEGER NOT NULL,
  amount_scaled INTEGER NOT NULL,
  currency TEXT NOT NULL,
  expense_date TEXT NOT NULL,
  category_id TEXT NULL REFERENCES categories (id) ON DELETE SET NULL,
  merchant TEXT NULL,
  merchant_folded TEXT NULL,
  description TEXT NULL,
  description_folded TEXT NULL,
  tags TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX idx_expenses_user_date ON expenses (user_id, expense_date, id);
CREATE INDEX idx_expenses_category ON expenses (category_id);

CREATE TABLE expense_tags (
  expense_id TEXT NOT NULL REFERENCES expenses (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  tag TEXT NOT NULL,
  PRIMARY KEY (expense_id, tag)
);
CREATE INDEX idx_expense_tags_user_tag ON expense_tags (user_id, tag);
