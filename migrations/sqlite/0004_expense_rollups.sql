-- Totals the reports read instead of the expenses: see the MySQL
-- migration of the same number. `day` is `YYYY-MM-DD` text and `rkey`
-- text compared as bytes (SQLite's BINARY collation), as everywhere here.
CREATE TABLE expense_rollups (
  user_id TEXT NOT NULL,
  dimension INTEGER NOT NULL,
  period INTEGER NOT NULL,
  day TEXT NOT NULL,
  rkey TEXT NOT NULL,
  currency TEXT NOT NULL,
  total_high INTEGER NOT NULL,
  total_low INTEGER NOT NULL,
  expense_count INTEGER NOT NULL,
  PRIMARY KEY (user_id, dimension, period, day, rkey, currency)
) WITHOUT ROWID;

CREATE TABLE rollup_state (
  name TEXT NOT NULL PRIMARY KEY,
  ready_at INTEGER NOT NULL
);
