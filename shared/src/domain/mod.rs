//! Pure types and rules of the expense tracker: no I/O here.

pub mod budget;
pub mod category;
pub mod csv_format;
pub mod cursor;
pub mod expense;
pub mod fields;
pub mod filter;
pub mod ledger;
pub mod money;
pub mod query;
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

/// An id of the shape this server makes (a lower-case, hyphenated UUID),
/// parsed once where it enters: from a path, a body, a query or a cursor.
/// A value of this type never needs checking again.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Id(String);

impl Id {
    /// A new id: UUIDv7, so that ordering by id is ordering by creation.
    pub fn generate() -> Id {
        Id(uuid::Uuid::now_v7().to_string())
    }

    /// `None` for anything but the exact form this server writes (an
    /// upper-case or brace-wrapped UUID names nothing here).
    pub fn parse(text: &str) -> Option<Id> {
        let well_formed = text.len() == 36
            && uuid::Uuid::try_parse(text).is_ok_and(|u| u.hyphenated().to_string() == text);
        well_formed.then(|| Id(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new id in its stored form.
/// Lower-case hex of the SHA-256 of `parts` in turn: how digests are kept.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for part in parts {
        hash.update(part);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn new_id() -> String {
    Id::generate().into_string()
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

#[cfg(test)]
mod tests {
    use super::Id;

    #[test]
    fn ids_parse_only_in_the_form_the_server_writes() {
        let made = Id::generate();
        assert_eq!(Id::parse(made.as_str()), Some(made.clone()));
        let text = made.to_string();
        for other in [
            text.to_uppercase(),
            format!("{{{text}}}"),
            text.replace('-', ""),
            format!("urn:uuid:{text}"),
            format!(" {text}"),
            text[..35].to_owned(),
            "none".to_owned(),
            String::new(),
            // 36 bytes, not ASCII: never reaches MySQL's ASCII id column.
            "é".repeat(18),
        ] {
            assert_eq!(Id::parse(&other), None, "{other:?}");
        }
    }
}
