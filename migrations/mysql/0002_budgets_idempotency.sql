-- Monthly budgets, one per category; removed with their category.
CREATE TABLE budgets (
  user_id VARBINARY(1020) NOT NULL,
  category_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  amount_minor BIGINT NOT NULL,
  currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (category_id),
  KEY idx_budgets_user (user_id),
  CONSTRAINT fk_budgets_category FOREIGN KEY (category_id)
    REFERENCES categories (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- What a budget sums: one category's expenses in one currency and month.
CREATE INDEX idx_expenses_user_category ON expenses (user_id, category_id, currency, expense_date);

-- Idempotency keys: the first response per user and key, for 24 hours.
-- A pending record's lease lets a retry take over from a crashed request.
CREATE TABLE idempotency_keys (
  user_id VARBINARY(1020) NOT NULL,
  idem_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  fingerprint CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  status INT NULL,
  headers TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  body MEDIUMBLOB NULL,
  lease_until BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, idem_key),
  KEY idx_idempotency_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
