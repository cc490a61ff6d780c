//! The summary report: totals per key and currency, never added across
//! currencies.

use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

use std::cmp::Ordering;

use super::cursor::GroupCursor;
use super::money::{format_minor_units, Currency};
use super::query::Params;
use super::text::format_date;
use super::FieldError;

/// What a summary groups by (its name is the `group_by` parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
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

/// What the store totals: the range and the grouping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryQuery {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub group_by: GroupBy,
}

pub const DEFAULT_GROUP_LIMIT: usize = 1000;
pub const MAX_GROUP_LIMIT: usize = 1000;

/// A summary request: the query and which page of its groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryRequest {
    pub query: SummaryQuery,
    pub limit: usize,
    pub after: Option<GroupCursor>,
}

impl SummaryRequest {
    pub fn parse(pairs: &[(String, String)]) -> Result<SummaryRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut query = SummaryQuery {
            from: None,
            to: None,
            group_by: GroupBy::Category,
        };
        let params = Params::new(
            pairs,
            &["from", "to", "group_by", "limit", "cursor"],
            &mut errors,
        );
        (query.from, query.to) = params.date_range(&mut errors);
        if let Some(value) = params.get("group_by") {
            match GroupBy::ALL.into_iter().find(|g| g.name() == value) {
                Some(group_by) => query.group_by = group_by,
                None => errors.push(FieldError::new(
                    "group_by",
                    "must be one of category, month, tag, merchant",
                )),
            }
        }
        let limit = params.limit(DEFAULT_GROUP_LIMIT, MAX_GROUP_LIMIT, &mut errors);
        let after = params.get("cursor").and_then(|value| {
            let cursor = GroupCursor::decode(value);
            if cursor.is_none() {
                errors.push(FieldError::new(
                    "cursor",
                    "is not a cursor this server issued",
                ));
            }
            cursor
        });
        if after
            .as_ref()
            .is_some_and(|c| c.group_by != query.group_by.name())
        {
            errors.push(FieldError::new("cursor", "was issued for another group_by"));
        }
        if errors.is_empty() {
            Ok(SummaryRequest {
                query,
                limit,
                after,
            })
        } else {
            Err(errors)
        }
    }

    /// The part of the request that names its answer (a cache key).
    pub fn cache_key(&self) -> String {
        format!(
            "summary:{}:{}:{}:{}:{}",
            self.query.group_by.name(),
            self.query.from.map(format_date).unwrap_or_default(),
            self.query.to.map(format_date).unwrap_or_default(),
            self.limit,
            self.after
                .as_ref()
                .map(GroupCursor::encode)
                .unwrap_or_default()
        )
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

/// The total and count of one key in one currency.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupView {
    #[schema(required = true)]
    pub key: Option<String>,
    #[schema(schema_with = crate::openapi::schemas::printed_currency)]
    pub currency: &'static str,
    #[schema(schema_with = crate::openapi::schemas::printed_amount)]
    pub total: String,
    #[schema(minimum = 1)]
    pub count: i64,
}

/// Totals per key and currency.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Summary)]
pub struct SummaryView {
    #[schema(required = true, format = Date)]
    pub from: Option<String>,
    #[schema(required = true, format = Date)]
    pub to: Option<String>,
    #[schema(inline)]
    pub group_by: GroupBy,
    #[schema(inline)]
    pub groups: Vec<GroupView>,
    /// Pass as cursor for the groups that follow; null when none do.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// The answer's order: by key (null last, then code point order, which is
/// UTF-8 byte order), then currency code.
fn position(key: &Option<String>, currency: &str, other: (&Option<String>, &str)) -> Ordering {
    let by_key = match (key, other.0) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    by_key.then_with(|| currency.cmp(other.1))
}

/// The response: the page of groups after the cursor, in the answer's order,
/// at most `limit` of them, and the cursor of the next page when more follow.
pub fn summary_view(request: &SummaryRequest, mut groups: Vec<SummaryGroup>) -> SummaryView {
    groups.sort_by(|a, b| position(&a.key, a.currency.code(), (&b.key, b.currency.code())));
    if let Some(after) = &request.after {
        groups.retain(|g| {
            position(&g.key, g.currency.code(), (&after.key, &after.currency)) == Ordering::Greater
        });
    }
    let more = groups.len() > request.limit;
    groups.truncate(request.limit);
    let next_cursor = match groups.last() {
        Some(last) if more => Some(
            GroupCursor {
                group_by: request.query.group_by.name().to_owned(),
                key: last.key.clone(),
                currency: last.currency.code().to_owned(),
            }
            .encode(),
        ),
        _ => None,
    };
    let query = &request.query;
    SummaryView {
        next_cursor,
        from: query.from.map(format_date),
        to: query.to.map(format_date),
        group_by: query.group_by,
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
        let q = SummaryRequest::parse(&pairs("group_by=month&from=2026-01-01&limit=7")).unwrap();
        assert_eq!(
            (q.query.group_by, q.query.to, q.limit),
            (GroupBy::Month, None, 7)
        );
        let default = SummaryRequest::parse(&[]).unwrap();
        assert_eq!(
            (default.query.group_by, default.limit),
            (GroupBy::Category, DEFAULT_GROUP_LIMIT)
        );
        let tag_cursor = GroupCursor {
            group_by: "tag".into(),
            key: None,
            currency: "EUR".into(),
        }
        .encode();
        for bad in [
            "group_by=day",
            "from=2026-02-30",
            "from=2026-02-02&to=2026-02-01",
            "x=1",
            "group_by=tag&group_by=tag",
            "limit=0",
            "limit=1001",
            "limit=+5",
            "cursor=abc",
            &format!("group_by=merchant&cursor={tag_cursor}"),
        ] {
            assert!(SummaryRequest::parse(&pairs(bad)).is_err(), "{bad}");
        }
        assert!(
            SummaryRequest::parse(&pairs(&format!("group_by=tag&cursor={tag_cursor}"))).is_ok()
        );
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
        let groups = vec![
            group(None, usd),
            group(Some("b"), usd),
            group(Some("a"), usd),
            group(Some("a"), eur),
            group(None, eur),
        ];
        let order = |view: SummaryView| -> Vec<(Option<String>, &str)> {
            view.groups
                .into_iter()
                .map(|g| (g.key, g.currency))
                .collect()
        };
        let mut request = SummaryRequest::parse(&pairs("group_by=tag")).unwrap();
        let view = summary_view(&request, groups.clone());
        assert_eq!(view.next_cursor, None);
        let all = order(view);
        assert_eq!(
            all,
            vec![
                (Some("a".into()), "EUR"),
                (Some("a".into()), "USD"),
                (Some("b".into()), "USD"),
                (None, "EUR"),
                (None, "USD")
            ]
        );
        // Pages of two follow each other without gaps or repeats.
        request.limit = 2;
        let mut paged = Vec::new();
        loop {
            let view = summary_view(&request, groups.clone());
            let next = view.next_cursor.clone();
            paged.extend(order(view));
            match next {
                Some(text) => request.after = GroupCursor::decode(&text),
                None => break,
            }
        }
        assert_eq!(paged, all);
    }
}
