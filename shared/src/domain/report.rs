//! The summary report: totals per key and currency, never added across
//! currencies.

use serde::Serialize;
use time::Date;

use super::money::{format_minor_units, Currency};
use super::text::{format_date, parse_date};
use super::FieldError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Category,
    Month,
    Tag,
    Merchant,
}

impl GroupBy {
    pub fn name(self) -> &'static str {
        match self {
            GroupBy::Category => "category",
            GroupBy::Month => "month",
            GroupBy::Tag => "tag",
            GroupBy::Merchant => "merchant",
        }
    }

    pub const ALL: [GroupBy; 4] = [
        GroupBy::Category,
        GroupBy::Month,
        GroupBy::Tag,
        GroupBy::Merchant,
    ];
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryQuery {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub group_by: GroupBy,
}

impl SummaryQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<SummaryQuery, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut query = SummaryQuery {
            from: None,
            to: None,
            group_by: GroupBy::Category,
        };
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            if seen.contains(&name.as_str()) {
                errors.push(FieldError::new(name, "must be given at most once"));
                continue;
            }
            seen.push(name);
            match name.as_str() {
                "from" | "to" => match parse_date(value) {
                    Some(date) if name == "from" => query.from = Some(date),
                    Some(date) => query.to = Some(date),
                    None => errors.push(FieldError::new(name, "must be a date YYYY-MM-DD")),
                },
                "group_by" => match GroupBy::ALL.into_iter().find(|g| g.name() == value) {
                    Some(group_by) => query.group_by = group_by,
                    None => errors.push(FieldError::new(
                        name,
                        "must be one of category, month, tag, merchant",
                    )),
                },
                _ => errors.push(FieldError::new(name, "is not a known query parameter")),
            }
        }
        if let (Some(from), Some(to)) = (query.from, query.to) {
            if from > to {
                errors.push(FieldError::new("from", "must not be after to"));
            }
        }
        if errors.is_empty() {
            Ok(query)
        } else {
            Err(errors)
        }
    }
}

/// One group as the store computes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryGroup {
    pub key: Option<String>,
    pub currency: Currency,
    /// Exact total in minor units.
    pub total: i128,
    pub count: i64,
}

#[derive(Serialize)]
pub struct GroupView {
    pub key: Option<String>,
    pub currency: &'static str,
    pub total: String,
    pub count: i64,
}

#[derive(Serialize)]
pub struct SummaryView {
    pub from: Option<String>,
    pub to: Option<String>,
    pub group_by: &'static str,
    pub groups: Vec<GroupView>,
}

/// The response: groups sorted by key (null last, then code point order),
/// then currency.
pub fn summary_view(query: &SummaryQuery, mut groups: Vec<SummaryGroup>) -> SummaryView {
    groups.sort_by(|a, b| {
        let key = match (&a.key, &b.key) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        key.then_with(|| a.currency.code().cmp(b.currency.code()))
    });
    SummaryView {
        from: query.from.map(format_date),
        to: query.to.map(format_date),
        group_by: query.group_by.name(),
        groups: groups
            .into_iter()
            .map(|g| GroupView {
                key: g.key,
                currency: g.currency.code(),
                total: format_minor_units(g.total, g.currency.exponent()),
                count: g.count,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    }

    #[test]
    fn parses_and_rejects() {
        let q = SummaryQuery::parse(&pairs("group_by=month&from=2026-01-01")).unwrap();
        assert_eq!((q.group_by, q.to), (GroupBy::Month, None));
        assert_eq!(
            SummaryQuery::parse(&[]).unwrap().group_by,
            GroupBy::Category
        );
        for bad in [
            "group_by=day",
            "from=2026-02-30",
            "from=2026-02-02&to=2026-02-01",
            "x=1",
            "group_by=tag&group_by=tag",
        ] {
            assert!(SummaryQuery::parse(&pairs(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn sorts_null_last_then_currency() {
        let usd = Currency::parse("USD").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let group = |key: Option<&str>, currency| SummaryGroup {
            key: key.map(str::to_owned),
            currency,
            total: 1,
            count: 1,
        };
        let query = SummaryQuery {
            from: None,
            to: None,
            group_by: GroupBy::Tag,
        };
        let view = summary_view(
            &query,
            vec![
                group(None, usd),
                group(Some("b"), usd),
                group(Some("a"), usd),
                group(Some("a"), eur),
            ],
        );
        let order: Vec<(Option<String>, &str)> = view
            .groups
            .into_iter()
            .map(|g| (g.key, g.currency))
            .collect();
        assert_eq!(
            order,
            vec![
                (Some("a".into()), "EUR"),
                (Some("a".into()), "USD"),
                (Some("b".into()), "USD"),
                (None, "USD")
            ]
        );
    }
}
