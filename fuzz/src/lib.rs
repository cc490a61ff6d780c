//! The checks behind the fuzz targets, one public function per target.
//!
//! Each takes the raw bytes a client could send and panics when an
//! invariant breaks; the fuzz targets (fuzz_targets/*.rs) only call them,
//! and tests/regressions.rs replays the seed corpora and the minimized
//! crashes through the same functions on stable Rust, without libFuzzer.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};
use shared::auth::{AuthSettings, Verifier};
use shared::domain::csv_format::{self, ImportRow};
use shared::domain::cursor::Cursor;
use shared::domain::expense::{self, Expense, ExpenseFields, MAX_ID_LEN};
use shared::domain::fields::{
    MAX_CATEGORY_NAME, MAX_DESCRIPTION, MAX_MERCHANT, MAX_TAGS, MAX_TAG_LEN,
};
use shared::domain::filter::{ListQuery, MAX_LIMIT};
use shared::domain::money::{
    format_minor_units, parse_scaled_bound, AmountError, Currency, Money, MAX_MAJOR_UNITS,
    SCALE_DIGITS,
};
use shared::domain::text::{format_date, parse_date, MAX_YEAR, MIN_YEAR};

/// The currencies `money` tries: exponents 2, 0, 3 and 4.
pub const CURRENCIES: [&str; 4] = ["USD", "JPY", "BHD", "CLF"];

/// The HS256 secret of the `jwt_header` target's verifier (and its seeds).
pub const JWT_SECRET: &str = "fuzz-secret-0123456789abcdef";

/// An id of the shape the server makes, for rebuilt expenses and cursors.
const SOME_ID: &str = "0190b5e4-8b7c-7cc3-a1de-3c2f0d1e2a4b";

fn currency(code: &str) -> Currency {
    Currency::parse(code).expect("a supported currency")
}

/// Largest number of minor units an amount in `currency` may have.
fn max_minor(currency: Currency) -> i64 {
    MAX_MAJOR_UNITS * 10_i64.pow(currency.exponent())
}

// ---------------------------------------------------------------- money

/// `Money::parse` for USD, JPY, BHD and CLF, and `parse_scaled_bound`.
pub fn money(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let bound = parse_scaled_bound(text);
    if let Ok(scaled) = bound {
        assert!(
            (0..=MAX_MAJOR_UNITS * 10_i64.pow(SCALE_DIGITS)).contains(&scaled),
            "{text:?}: bound {scaled} out of range"
        );
        // Printed with 4 decimals, the bound parses back to itself.
        let printed = format_minor_units(i128::from(scaled), SCALE_DIGITS);
        assert_eq!(
            parse_scaled_bound(&printed),
            Ok(scaled),
            "{text:?} → {printed:?}"
        );
    }
    for code in CURRENCIES {
        let currency = currency(code);
        let parsed = Money::parse(text, currency);
        match parsed {
            Ok(money) => {
                assert!(
                    (1..=max_minor(currency)).contains(&money.minor_units()),
                    "{text:?} {code}: {} minor units out of range",
                    money.minor_units()
                );
                assert_eq!(money.currency(), currency);
                let printed = money.amount_string();
                assert_eq!(
                    Money::parse(&printed, currency),
                    Ok(money),
                    "{text:?} {code}: printed as {printed:?}"
                );
                assert_eq!(
                    Money::from_minor(money.minor_units(), currency),
                    Some(money)
                );
                // The same number as a filter bound, and in 4 decimals.
                assert_eq!(bound, Ok(money.scaled()), "{text:?} {code}");
                let clf = money.with_currency(self::currency("CLF"));
                assert_eq!(
                    clf.map(|m| m.scaled()),
                    Ok(money.scaled()),
                    "{text:?} {code}"
                );
                assert_eq!(clf.and_then(|m| m.with_currency(currency)), Ok(money));
            }
            Err(error) => {
                // A syntax error does not depend on the currency; and every
                // other refusal is of a well-formed number.
                assert_eq!(
                    error == AmountError::Syntax,
                    bound == Err(AmountError::Syntax),
                    "{text:?} {code}: {error:?} vs bound {bound:?}"
                );
                if let (AmountError::TooManyDecimals { allowed }, Ok(_)) = (error, bound) {
                    assert_eq!(allowed, currency.exponent());
                }
            }
        }
    }
    if let Some(currency) = Currency::parse(text) {
        assert_eq!(currency.code(), text);
        assert!(currency.exponent() <= SCALE_DIGITS);
    }
}

// ---------------------------------------------------------------- cursor

/// `Cursor::decode` of any text, and `encode` → `decode` of cursors built
/// from the bytes.
pub fn cursor(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(cursor) = Cursor::decode(text) {
            assert_eq!(
                cursor.encode(),
                text,
                "decode accepted a non-canonical cursor"
            );
            assert!(
                shared::domain::Id::parse(&cursor.id).is_some(),
                "{:?}",
                cursor.id
            );
            assert_eq!(parse_date(&format_date(cursor.date)), Some(cursor.date));
        }
    }
    // Structure-aware half: 16 bytes of id, 4 bytes of day number.
    if data.len() >= 20 {
        let mut id = [0_u8; 16];
        id.copy_from_slice(&data[..16]);
        let id = uuid::Uuid::from_bytes(id).hyphenated().to_string();
        let first = time::Date::from_calendar_date(MIN_YEAR, time::Month::January, 1)
            .unwrap()
            .to_julian_day();
        let last = time::Date::from_calendar_date(MAX_YEAR, time::Month::December, 31)
            .unwrap()
            .to_julian_day();
        let offset = u32::from_le_bytes(data[16..20].try_into().unwrap());
        let day = first + (offset % (last - first + 1) as u32) as i32;
        let date = time::Date::from_julian_day(day).unwrap();
        let cursor = Cursor { date, id };
        let text = cursor.encode();
        assert!(text.len() <= 128, "{text:?} is longer than decode accepts");
        assert_eq!(Cursor::decode(&text), Some(cursor));
    }
}

// ---------------------------------------------------------------- expense JSON

/// The stored fields a patch applies to in `expense_json`.
pub fn fixed_fields() -> ExpenseFields {
    let body = json!({
        "amount": "10.50", "currency": "USD", "date": "2026-01-01",
        "category_id": "0190b5e4-8b7c-7cc3-a1de-3c2f0d1e2a4b",
        "merchant": "Shop", "description": "Lunch", "tags": ["team", "food"],
    });
    expense::parse_new(body.as_object().unwrap()).expect("valid fixed fields")
}

/// A text field as stored: trimmed, non-empty, no U+0000, at most `max`
/// code points.
fn assert_stored_text(field: &str, value: &str, max: usize) {
    assert!(!value.is_empty(), "{field}: empty");
    assert_eq!(value, value.trim(), "{field}: not trimmed");
    assert!(!value.contains('\0'), "{field}: U+0000");
    assert!(
        value.chars().count() <= max,
        "{field}: {} > {max}",
        value.chars().count()
    );
}

fn assert_tags(tags: &[String]) {
    assert!(tags.len() <= MAX_TAGS, "{} tags", tags.len());
    for (i, tag) in tags.iter().enumerate() {
        assert_stored_text("tag", tag, MAX_TAG_LEN);
        assert!(!tag.contains(';'), "tag {tag:?} has ';'");
        assert!(!tags[..i].contains(tag), "tag {tag:?} twice");
    }
}

fn assert_date(date: time::Date) {
    assert!((MIN_YEAR..=MAX_YEAR).contains(&date.year()), "{date}");
}

fn assert_money(money: Money) {
    assert!((1..=max_minor(money.currency())).contains(&money.minor_units()));
}

/// Every limit of `ExpenseFields` (API.md).
pub fn assert_valid_fields(fields: &ExpenseFields) {
    assert_money(fields.money);
    assert_date(fields.date);
    if let Some(id) = &fields.category_id {
        assert_stored_text("category_id", id, MAX_ID_LEN);
    }
    if let Some(merchant) = &fields.merchant {
        assert_stored_text("merchant", merchant, MAX_MERCHANT);
    }
    if let Some(description) = &fields.description {
        assert_stored_text("description", description, MAX_DESCRIPTION);
    }
    assert_tags(&fields.tags);
}

/// The body a client would send to write exactly these fields.
pub fn full_body(fields: &ExpenseFields) -> Map<String, Value> {
    let body = json!({
        "amount": fields.money.amount_string(),
        "currency": fields.money.currency().code(),
        "date": format_date(fields.date),
        "category_id": fields.category_id,
        "merchant": fields.merchant,
        "description": fields.description,
        "tags": fields.tags,
    });
    match body {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// What a valid result must satisfy: the limits, and a body written from
/// it gives it back, as a create and as a patch of anything.
fn check_fields(fields: &ExpenseFields, current: &ExpenseFields) {
    assert_valid_fields(fields);
    let body = full_body(fields);
    assert_eq!(expense::parse_new(&body).as_ref(), Ok(fields), "{body:?}");
    assert_eq!(
        expense::apply_patch(current, &body).as_ref(),
        Ok(fields),
        "{body:?}"
    );
}

/// `parse_new` and `apply_patch` of any JSON object.
pub fn expense_json(data: &[u8]) {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let current = fixed_fields();
    match expense::parse_new(&body) {
        Ok(fields) => check_fields(&fields, &current),
        Err(errors) => assert!(!errors.is_empty(), "create refused with no error"),
    }
    match expense::apply_patch(&current, &body) {
        Ok(fields) => check_fields(&fields, &current),
        Err(errors) => assert!(!errors.is_empty(), "patch refused with no error"),
    }
}

// ---------------------------------------------------------------- list query

/// `ListQuery::parse` of any query string, and its `cache_key`.
pub fn list_query(data: &[u8]) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    let query = match ListQuery::parse(&pairs) {
        Ok(query) => query,
        Err(errors) => {
            assert!(!errors.is_empty(), "refused with no error");
            return;
        }
    };
    assert!(
        (1..=MAX_LIMIT).contains(&query.limit),
        "limit {}",
        query.limit
    );
    let f = &query.filter;
    if let (Some(from), Some(to)) = (f.from, f.to) {
        assert!(from <= to);
    }
    if let (Some(min), Some(max)) = (f.min_scaled, f.max_scaled) {
        assert!(min <= max);
    }
    for date in [f.from, f.to].into_iter().flatten() {
        assert_date(date);
    }
    if let Some(after) = &query.after {
        assert_eq!(Cursor::decode(&after.encode()).as_ref(), Some(after));
    }
    let key = query.cache_key();
    let parsed: Value = serde_json::from_str(&key).expect("the cache key is JSON");
    assert_eq!(parsed.as_array().map(Vec::len), Some(10), "{key}");
    // Accepted queries name each parameter once: order does not matter.
    let reversed: Vec<(String, String)> = pairs.iter().rev().cloned().collect();
    let again = ListQuery::parse(&reversed).expect("the same pairs, reversed");
    assert_eq!(again, query);
    assert_eq!(again.cache_key(), key);
    // Sent again, encoded by a client, the query means the same thing.
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(ListQuery::parse(&pairs).map(|q| q.cache_key()), Ok(key));
}

// ---------------------------------------------------------------- CSV import

fn assert_valid_row(row: &ImportRow) {
    assert_money(row.money);
    assert_date(row.date);
    if let Some(category) = &row.category {
        assert_stored_text("category", category, MAX_CATEGORY_NAME);
    }
    if let Some(merchant) = &row.merchant {
        assert_stored_text("merchant", merchant, MAX_MERCHANT);
    }
    if let Some(description) = &row.description {
        assert_stored_text("description", description, MAX_DESCRIPTION);
    }
    assert_tags(&row.tags);
}

/// The expense an imported row becomes (category ids are not in a row).
pub fn row_expense(row: &ImportRow) -> Expense {
    Expense {
        id: SOME_ID.to_owned(),
        fields: ExpenseFields {
            money: row.money,
            date: row.date,
            category_id: None,
            merchant: row.merchant.clone(),
            description: row.description.clone(),
            tags: row.tags.clone(),
        },
        version: 1,
        created_at: 0,
        updated_at: 0,
        created_by: String::new(),
        updated_by: String::new(),
    }
}

/// An export of these rows: the header, then `encode_row` of each.
pub fn export(rows: &[ImportRow]) -> Vec<u8> {
    let mut body = csv_format::header();
    for row in rows {
        body.extend(csv_format::encode_row(
            &row_expense(row),
            row.category.as_deref(),
        ));
    }
    body
}

/// Everything of a row but its line.
fn row_values(row: &ImportRow) -> ImportRow {
    ImportRow {
        line: 0,
        ..row.clone()
    }
}

/// `parse_import` of any body; accepted rows export and import back.
pub fn csv_import(data: &[u8]) {
    // Physical lines end at LF, CRLF or a lone CR.
    let last_line = 1 + String::from_utf8_lossy(data)
        .replace("\r\n", "\n")
        .matches(['\n', '\r'])
        .count() as u64;
    let rows = match csv_format::parse_import(data) {
        Ok(rows) => rows,
        Err(errors) => {
            assert!(!errors.is_empty(), "refused with no error");
            for error in &errors {
                assert!(
                    (1..=last_line).contains(&error.line),
                    "error line {} outside 1..={last_line}: {error:?}",
                    error.line
                );
            }
            return;
        }
    };
    // Rows start on strictly growing physical lines, after the header's.
    let mut previous = 1;
    for row in &rows {
        assert!(
            row.line > previous && row.line <= last_line,
            "row line {} after {previous}, last line {last_line}",
            row.line
        );
        previous = row.line;
        assert_valid_row(row);
    }
    let exported = export(&rows);
    let again = csv_format::parse_import(&exported).unwrap_or_else(|errors| {
        panic!(
            "the export of accepted rows is refused: {errors:?}\n{}",
            String::from_utf8_lossy(&exported)
        )
    });
    let expected: Vec<ImportRow> = rows.iter().map(row_values).collect();
    let got: Vec<ImportRow> = again.iter().map(row_values).collect();
    assert_eq!(got, expected, "\n{}", String::from_utf8_lossy(&exported));
}

// ---------------------------------------------------------------- JWT

struct Auth {
    runtime: tokio::runtime::Runtime,
    verifier: Verifier,
}

fn auth() -> &'static Auth {
    static AUTH: OnceLock<Auth> = OnceLock::new();
    AUTH.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        let settings = AuthSettings::Hs256 {
            secret: JWT_SECRET.to_owned(),
        };
        let verifier = Verifier::new(&settings).expect("an HS256 verifier");
        Auth { runtime, verifier }
    })
}

/// The user an `Authorization` value is verified as, by the HS256 verifier
/// with [`JWT_SECRET`].
pub fn verify(authorization: &str) -> Result<String, String> {
    let auth = auth();
    auth.runtime
        .block_on(auth.verifier.verify(Some(authorization)))
        .map(|user| user.as_str().to_owned())
        .map_err(|e| e.to_string())
}

/// `decode_header` and the HS256 `Verifier` on any text, as a bearer token
/// and as a whole `Authorization` value.
pub fn jwt_header(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = jsonwebtoken::decode_header(text);
    for value in [format!("Bearer {text}"), text.to_owned()] {
        if let Ok(sub) = verify(&value) {
            assert!(!sub.is_empty() && sub.chars().count() <= 255 && !sub.contains('\0'));
        }
    }
}
