//! Rules for client text: trimming, lengths in code points, dates.

use time::Date;

/// Trims Unicode White_Space (what `char::is_whitespace` tests).
pub fn clean(text: &str) -> &str {
    text.trim()
}

/// Unicode lower case: what "ignoring case" means in the API.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// Every field that refuses U+0000 says so in these words.
pub const NUL_MESSAGE: &str = "must not contain U+0000";

/// What every date field (JSON, CSV, query) says of a value it refuses.
pub const DATE_MESSAGE: &str =
    "must be a calendar date YYYY-MM-DD between 1000-01-01 and 9999-12-31";

/// A date field: the one parse and message for bodies, CSV rows and queries.
pub fn date_field(text: &str) -> Result<Date, &'static str> {
    parse_date(text).ok_or(DATE_MESSAGE)
}

/// Earliest and latest dates accepted: what MySQL's DATE type can store.
pub const MIN_YEAR: i32 = 1000;
pub const MAX_YEAR: i32 = 9999;

/// A calendar date written exactly `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let year: i32 = text[0..4].parse().ok()?;
    let month: u8 = text[5..7].parse().ok()?;
    let day: u8 = text[8..10].parse().ok()?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return None;
    }
    let month = time::Month::try_from(month).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// The date as `YYYY-MM-DD`.
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_unicode_white_space() {
        assert_eq!(clean("\u{3000} café \u{2003}\n"), "café");
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-11-28").is_some());
        assert!(parse_date("2024-02-29").is_some());
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-11-28",
            "+2026-11-28",
            "2026-11-28T00:00:00Z",
            "0999-01-01",
            "",
            "2026/11/28",
            "２０２６-11-28",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
        assert_eq!(format_date(parse_date("1000-01-01").unwrap()), "1000-01-01");
    }

    #[test]
    fn folds_unicode_case() {
        assert_eq!(fold("ÉCOLE Straße"), "école straße");
    }
}
