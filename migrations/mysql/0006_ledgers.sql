-- Ledgers (households), expand step: new tables and nullable columns only,
-- so the previous release keeps working on this schema.
--
-- Every existing table keeps filing its rows under `user_id`, which from
-- now on holds a ledger's key (ledgers.ledger_key): for a personal ledger
-- its owner's `sub`, exactly what the previous release writes there, so
-- every user's data is already their personal ledger's and nothing moves;
-- for a shared ledger its id. The unique key on ledger_key means a key
-- names one ledger at most: a `sub` equal to a shared ledger's id (which
-- an identity provider would have to issue on purpose) gets no personal
-- ledger rather than another ledger's data.
CREATE TABLE ledgers (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ledger_key VARBINARY(1020) NOT NULL,
  name VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  home_currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin NULL,
  personal TINYINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  -- A deleted ledger is gone for every member at once; its rows are
  -- purged afterwards, in bounded batches.
  deleted_at BIGINT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_ledgers_key (ledger_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE ledger_members (
  ledger_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id VARBINARY(1020) NOT NULL,
  role VARCHAR(10) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  joined_at BIGINT NOT NULL,
  PRIMARY KEY (ledger_id, user_id),
  -- A user's ledgers.
  KEY idx_members_user (user_id, ledger_id),
  CONSTRAINT fk_members_ledger FOREIGN KEY (ledger_id)
    REFERENCES ledgers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Codes are kept only as their SHA-256. A used code keeps its row (who
-- used it answers 200 again); a revoked one is marked, not removed.
CREATE TABLE invitations (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ledger_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  code_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  role VARCHAR(10) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  accepted_by VARBINARY(1020) NULL,
  accepted_at BIGINT NULL,
  revoked_at BIGINT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_invitations_code (code_hash),
  KEY idx_invitations_ledger (ledger_id, expires_at),
  CONSTRAINT fk_invitations_ledger FOREIGN KEY (ledger_id)
    REFERENCES ledgers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Who wrote an expense. Rows of the previous release have none: in a
-- personal ledger, its owner (the key) wrote them.
ALTER TABLE expenses
  ADD COLUMN created_by VARBINARY(1020) NULL,
  ADD COLUMN updated_by VARBINARY(1020) NULL;
