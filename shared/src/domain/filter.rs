//! The query of `GET /v1/expenses`: filters, page size and cursor, parsed
//! strictly (anything malformed or out of range is a 400).

use serde::Serialize;
use time::Date;

use super::cursor::Cursor;
use super::money::{parse_scaled_bound, Currency};
use super::query::Params;
use super::text::{fold, format_date};
use super::{FieldError, Id};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;
pub const MAX_QUERY_TEXT: usize = 2000;

/// Which category an expense must have.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum CategoryFilter {
    /// `category_id=none`: uncategorised expenses.
    None,
    Id(Id),
    /// A `category_id` that is not the shape of a server-made id: it names
    /// no category, and is never sent to the store (where MySQL cannot
    /// compare non-ASCII text with the ASCII id column).
    NoSuchCategory,
}

/// Filters, all combined with AND.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExpenseFilter {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub category: Option<CategoryFilter>,
    pub tag: Option<String>,
    pub currency: Option<Currency>,
    /// Bounds in 10^-4 units (see `Money::scaled`), inclusive.
    pub min_scaled: Option<i64>,
    pub max_scaled: Option<i64>,
    /// `q`, already in lower case.
    pub text: Option<String>,
}

impl ExpenseFilter {
    /// Whether no expense can match (see `CategoryFilter::NoSuchCategory`).
    pub fn matches_nothing(&self) -> bool {
        self.category == Some(CategoryFilter::NoSuchCategory)
    }
}

/// A whole list request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: ExpenseFilter,
    pub limit: usize,
    pub after: Option<Cursor>,
}

const PARAMS: [&str; 10] = [
    "from",
    "to",
    "category_id",
    "tag",
    "currency",
    "min_amount",
    "max_amount",
    "q",
    "limit",
    "cursor",
];

impl ListQuery {
    /// Parses decoded query pairs.
    pub fn parse(pairs: &[(String, String)]) -> Result<ListQuery, Vec<FieldError>> {
        let mut errors = Vec::new();
        let params = Params::new(pairs, &PARAMS, &mut errors);
        let get = |name: &str| params.get(name);
        let (from, to) = params.date_range(&mut errors);
        let mut filter = ExpenseFilter {
            from,
            to,
            ..ExpenseFilter::default()
        };
        let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT, &mut errors);
        let mut bad = |name: &str, message: &str| errors.push(FieldError::new(name, message));
        filter.category = get("category_id").map(|v| match v {
            "none" => CategoryFilter::None,
            id => Id::parse(id).map_or(CategoryFilter::NoSuchCategory, CategoryFilter::Id),
        });
        filter.tag = get("tag").map(|v| super::text::clean(v).to_owned());
        if let Some(code) = get("currency") {
            filter.currency = Currency::parse_field(code)
                .map_err(|message| bad("currency", message))
                .ok();
        }
        for (name, slot) in [
            ("min_amount", &mut filter.min_scaled),
            ("max_amount", &mut filter.max_scaled),
        ] {
            if let Some(v) = get(name) {
                match parse_scaled_bound(v) {
                    Ok(scaled) => *slot = Some(scaled),
                    Err(e) => bad(
                        name,
                        &format!("must be a decimal amount with at most 4 decimals: {e}"),
                    ),
                }
            }
        }
        if let (Some(min), Some(max)) = (filter.min_scaled, filter.max_scaled) {
            if min > max {
                bad("min_amount", "must not be above max_amount");
            }
        }
        if let Some(q) = get("q") {
            if q.chars().count() > MAX_QUERY_TEXT || q.contains('\0') {
                bad("q", "must be at most 2000 characters, without U+0000");
            } else if !q.is_empty() {
                filter.text = Some(fold(q));
            }
        }
        let after = get("cursor").and_then(|v| {
            let cursor = Cursor::decode(v);
            if cursor.is_none() {
                bad("cursor", "is not a cursor this server issued");
            }
            cursor
        });
        if errors.is_empty() {
            Ok(ListQuery {
                filter,
                limit,
                after,
            })
        } else {
            Err(errors)
        }
    }

    /// A stable text naming this exact query: the cache key of its page.
    pub fn cache_key(&self) -> String {
        let f = &self.filter;
        let parts = serde_json::json!([
            f.from.map(format_date),
            f.to.map(format_date),
            f.category,
            f.tag,
            f.currency.map(|c| c.code()),
            f.min_scaled,
            f.max_scaled,
            f.text,
            self.limit,
            self.after.as_ref().map(Cursor::encode),
        ]);
        parts.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<ListQuery, Vec<FieldError>> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        ListQuery::parse(&pairs)
    }

    fn bad_fields(query: &str) -> Vec<String> {
        parse(query)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn parses_every_filter() {
        let q = parse("from=2026-01-01&to=2026-12-31&category_id=none&tag=team&currency=JPY&min_amount=1&max_amount=2.5&q=Caf%C3%89&limit=10").unwrap();
        assert_eq!(q.limit, 10);
        assert_eq!(q.filter.category, Some(CategoryFilter::None));
        assert_eq!(q.filter.min_scaled, Some(10_000));
        assert_eq!(q.filter.max_scaled, Some(25_000));
        assert_eq!(q.filter.text.as_deref(), Some("café"));
        assert_eq!(parse("").unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn rejects_malformed_and_out_of_range() {
        assert_eq!(bad_fields("limit=0"), vec!["limit"]);
        assert_eq!(bad_fields("limit=201"), vec!["limit"]);
        assert_eq!(bad_fields("limit=abc"), vec!["limit"]);
        assert_eq!(bad_fields("from=2026-02-30"), vec!["from"]);
        assert_eq!(bad_fields("from=2026-02-02&to=2026-02-01"), vec!["from"]);
        assert_eq!(bad_fields("min_amount=5&max_amount=4"), vec!["min_amount"]);
        assert_eq!(bad_fields("min_amount=-1"), vec!["min_amount"]);
        assert_eq!(bad_fields("currency=XAU"), vec!["currency"]);
        assert_eq!(bad_fields("cursor=abc"), vec!["cursor"]);
        assert_eq!(bad_fields("limit=1&limit=2"), vec!["limit"]);
        assert_eq!(bad_fields("colour=red"), vec!["colour"]);
    }

    #[test]
    fn a_category_id_that_is_no_id_matches_nothing() {
        assert!(parse("category_id=%C3%A9")
            .unwrap()
            .filter
            .matches_nothing());
        assert!(parse("category_id=abc").unwrap().filter.matches_nothing());
        assert!(!parse("category_id=none").unwrap().filter.matches_nothing());
        let id = crate::domain::new_id();
        assert!(!parse(&format!("category_id={id}"))
            .unwrap()
            .filter
            .matches_nothing());
        assert!(!parse("").unwrap().filter.matches_nothing());
    }

    #[test]
    fn cache_keys_differ_per_query() {
        assert_ne!(
            parse("tag=a").unwrap().cache_key(),
            parse("tag=b").unwrap().cache_key()
        );
        assert_eq!(
            parse("limit=5&tag=a").unwrap().cache_key(),
            parse("tag=a&limit=5").unwrap().cache_key()
        );
    }
}
