//! Pure types and rules of the expense tracker: no I/O here.

pub mod budget;
pub mod category;
pub mod csv_format;
pub mod cursor;
pub mod expense;
pub mod filter;
pub mod money;
pub mod report;
pub mod text;

use serde::Serialize;

/// One invalid field of a request, as reported in a problem's `errors`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The user a request acts for: the token's `sub`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    /// The longest `sub` the store keeps.
    pub const MAX_LEN: usize = 255;

    pub fn parse(sub: &str) -> Option<UserId> {
        let ok = !sub.is_empty() && sub.chars().count() <= Self::MAX_LEN && !sub.contains('\0');
        ok.then(|| UserId(sub.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Server-made ids: UUIDv7, so that ordering by id is ordering by creation.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether `text` has the shape of an id this server makes.
pub fn is_id(text: &str) -> bool {
    text.len() == 36
        && uuid::Uuid::try_parse(text).is_ok_and(|u| u.hyphenated().to_string() == text)
}

/// Current time as microseconds since the Unix epoch, the stored form.
pub fn now_micros() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000) as i64
}

/// RFC 3339 UTC with second precision, e.g. "2026-11-28T12:00:00Z".
pub fn format_timestamp(micros: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(micros.div_euclid(1_000_000))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}
