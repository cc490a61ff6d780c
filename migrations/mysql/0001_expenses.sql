-- Case-insensitive rules use a column folded in Rust and compared as
-- bytes: the default collations would also ignore accents.
-- Columns compared for identity (user_id, name_folded) are VARBINARY, not
-- utf8mb4_bin: that collation is PAD SPACE on MariaDB and MySQL, so
-- 'alice ' would equal 'alice' (another user's data) and names ending in
-- characters below U+0020 would sort wrongly. The user id is the token's
-- `sub` as UTF-8 bytes (at most 255 characters).
CREATE TABLE categories (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id VARBINARY(1020) NOT NULL,
  name VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  name_folded VARBINARY(800) NOT NULL,
  color CHAR(7) CHARACTER SET ascii COLLATE ascii_bin NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_categories_user_name (user_id, name_folded)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE expenses (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id VARBINARY(1020) NOT NULL,
  amount_minor BIGINT NOT NULL,
  amount_scaled BIGINT NOT NULL,
  currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  expense_date DATE NOT NULL,
  category_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
  merchant VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  merchant_folded VARCHAR(400) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  description TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  description_folded TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  tags TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  KEY idx_expenses_user_date (user_id, expense_date, id),
  KEY idx_expenses_category (category_id),
  CONSTRAINT fk_expenses_category FOREIGN KEY (category_id)
    REFERENCES categories (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE expense_tags (
  expense_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id VARBINARY(1020) NOT NULL,
  tag VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (expense_id, tag),
  KEY idx_expense_tags_user_tag (user_id, tag),
  CONSTRAINT fk_expense_tags_expense FOREIGN KEY (expense_id)
    REFERENCES expenses (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
