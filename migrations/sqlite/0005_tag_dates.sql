-- Tag-filtered pages become ranges (see the MySQL migration of the same
-- number): each tag row carries its expense's date, filled by the backfill.
ALTER TABLE expense_tags ADD COLUMN expense_date TEXT;
CREATE INDEX idx_expense_tags_user_tag_date ON expense_tags (user_id, tag, expense_date, expense_id);
