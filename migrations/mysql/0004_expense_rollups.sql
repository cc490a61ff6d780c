-- Totals the reports read instead of the expenses (O(result), not
-- O(data)): per user, dimension, day or month, key and currency. Every
-- expense counts once per dimension: 1 category (key: its id), 2 tag (one
-- row per tag), 3 merchant (the stored merchant); '' is "none". `period`
-- 0 rows are days, `period` 1 rows months (`day` is then the month's
-- first): a year's summary reads twelve month rows per key, and a range's
-- partial months read their days. A total is `total_high * 1000000 +
-- total_low` (sql::SUM_SPLIT), so that neither column can overflow.
-- Keys are bytes (VARBINARY): compared and sorted exactly as Rust does.
-- Expand only: the previous release never reads or writes these tables;
-- the rollout is maintain (this release), backfill (once no older release
-- serves), read (the backfill marks them ready in rollup_state).
CREATE TABLE expense_rollups (
  user_id VARBINARY(1020) NOT NULL,
  dimension TINYINT NOT NULL,
  period TINYINT NOT NULL,
  day DATE NOT NULL,
  rkey VARBINARY(800) NOT NULL,
  currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  total_high BIGINT NOT NULL,
  total_low BIGINT NOT NULL,
  expense_count BIGINT NOT NULL,
  PRIMARY KEY (user_id, dimension, period, day, rkey, currency)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per finished backfill ('expense_rollups'): reads switch to the
-- rollups once it exists.
CREATE TABLE rollup_state (
  name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ready_at BIGINT NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
