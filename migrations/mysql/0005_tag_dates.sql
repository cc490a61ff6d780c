-- Tag-filtered pages become ranges: each tag row carries its expense's date,
-- kept by every write, and an index ends in the page order
-- (expense_date, expense_id) as idx_expenses_user_date does for the
-- unfiltered list. Nullable because the previous release still inserts tag
-- rows without it while a deployment runs; the post-deployment backfill
-- fills and corrects every date, and only then do tag pages read this index.
-- Built online: writes go on meanwhile.
ALTER TABLE expense_tags
  ADD COLUMN expense_date DATE NULL,
  ADD INDEX idx_expense_tags_user_tag_date (user_id, tag, expense_date, expense_id),
  ALGORITHM=INPLACE, LOCK=NONE;
