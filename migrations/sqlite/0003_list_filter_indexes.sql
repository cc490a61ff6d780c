-- Keyset pages stay ranges under a single equality filter: category (and
-- category_id IS NULL) and currency each get an index ending in the page
-- order (expense_date, id), as the unfiltered list has idx_expenses_user_date.
CREATE INDEX idx_expenses_user_category_date ON expenses (user_id, category_id, expense_date, id);
CREATE INDEX idx_expenses_user_currency_date ON expenses (user_id, currency, expense_date, id);
