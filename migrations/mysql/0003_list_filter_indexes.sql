-- Keyset pages stay ranges under a single equality filter: category (and
-- the uncategorised filter, category_id IS NULL) and currency each get an
-- index ending in the page order (expense_date, id), as the unfiltered list
-- has idx_expenses_user_date. Built online: writes go on meanwhile, and the
-- previous release never names these indexes.
ALTER TABLE expenses
  ADD INDEX idx_expenses_user_category_date (user_id, category_id, expense_date, id),
  ADD INDEX idx_expenses_user_currency_date (user_id, currency, expense_date, id),
  ALGORITHM=INPLACE, LOCK=NONE;
