//! The computed parts of the document's schemas, in one place: patterns
//! and enums derived from the domain's own limits and currency data. The
//! views and bodies derive `ToSchema` and point their fields here
//! (`schema_with`), so a field the code adds is in the document, and a
//! limit the code changes changes the document with it.

use std::borrow::Cow;

use serde_json::json;
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{KnownFormat, Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::fields::{
    MAX_CATEGORY_NAME, MAX_DESCRIPTION, MAX_LEDGER_NAME, MAX_MERCHANT, MAX_TAGS, MAX_TAG_LEN,
};
use crate::domain::ledger::Role;
use crate::domain::money::{Currency, MAX_MAJOR_UNITS, SCALE_DIGITS};

/// The general shape of every amount (API.md); requests are held to the
/// exact [`amount_pattern`] of their currency.
pub const AMOUNT_PATTERN: &str = "^[0-9]+(\\.[0-9]+)?$";
/// Calendar dates the server accepts: 1000-01-01 to 9999-12-31 (with
/// `format: date` ruling out days such as 02-30).
pub const DATE_PATTERN: &str = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
/// A month `YYYY-MM` in the same years.
pub const MONTH_PATTERN: &str = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])$";
/// Unicode White_Space (what the server trims), as a regex class body.
const WHITE_SPACE: &str =
    "\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";

/// Text the server trims of White_Space and then holds to `min..=max` code
/// points (`min` 0 or 1), without U+0000 or any of `forbidden`.
pub fn trimmed_text_pattern(min: usize, max: usize, forbidden: &str) -> String {
    let ws = WHITE_SPACE;
    let edge = format!("[^{ws}\\u0000{forbidden}]");
    let inner = format!("[^\\u0000{forbidden}]{{0,{}}}", max - 2);
    let core = format!("{edge}({inner}{edge})?");
    let core = if min == 0 { format!("({core})?") } else { core };
    format!("^[{ws}]*{core}[{ws}]*$")
}

/// Integer parts below MAX_MAJOR_UNITS (which is all nines) of its full
/// length: the first digit that is not a 9 is lower.
fn full_length_below_max() -> String {
    let digits = MAX_MAJOR_UNITS.to_string().len();
    debug_assert!(MAX_MAJOR_UNITS.to_string().bytes().all(|b| b == b'9'));
    let mut branches = vec![format!("[1-8][0-9]{{{}}}", digits - 1)];
    for nines in 1..digits {
        let rest = digits - 1 - nines;
        let tail = if rest > 0 {
            format!("[0-9]{{{rest}}}")
        } else {
            String::new()
        };
        branches.push(format!("9{{{nines}}}[0-8]{tail}"));
    }
    branches.join("|")
}

/// An amount of a currency with `decimals` minor-unit digits: > 0, at most
/// MAX_MAJOR_UNITS, leading zeros allowed.
pub fn amount_pattern(decimals: u32) -> String {
    let digits = MAX_MAJOR_UNITS.to_string().len();
    if decimals == 0 {
        return format!("^0*[1-9][0-9]{{0,{}}}$", digits - 1);
    }
    let d = decimals as usize;
    // Below one: a fraction with a non-zero digit among its first `d`.
    let below_one: Vec<String> = (0..d)
        .map(|zeros| {
            let lead = if zeros > 0 {
                format!("0{{{zeros}}}")
            } else {
                String::new()
            };
            let rest = d - 1 - zeros;
            let tail = if rest > 0 {
                format!("[0-9]{{0,{rest}}}")
            } else {
                String::new()
            };
            format!("{lead}[1-9]{tail}")
        })
        .collect();
    format!(
        "^(0*([1-9][0-9]{{0,{short}}}|{full})(\\.[0-9]{{1,{d}}})?|0*9{{{digits}}}(\\.0{{1,{d}}})?|0+\\.({below}))$",
        short = digits - 2,
        full = full_length_below_max(),
        below = below_one.join("|"),
    )
}

/// A filter bound (`min_amount`, `max_amount`): 0 to MAX_MAJOR_UNITS with
/// at most SCALE_DIGITS decimals.
pub fn bound_pattern() -> String {
    let digits = MAX_MAJOR_UNITS.to_string().len();
    format!(
        "^(0*([0-9]{{1,{short}}}|{full})(\\.[0-9]{{1,{d}}})?|0*9{{{digits}}}(\\.0{{1,{d}}})?)$",
        short = digits - 1,
        full = full_length_below_max(),
        d = SCALE_DIGITS,
    )
}

/// Accepted currency codes grouped by their number of minor-unit digits.
pub fn currencies_by_decimals() -> Vec<(u32, Vec<&'static str>)> {
    let mut groups: Vec<(u32, Vec<&'static str>)> = Vec::new();
    for code in Currency::all_codes() {
        let Some(currency) = Currency::parse(code) else {
            continue;
        };
        let decimals = currency.exponent();
        match groups.iter_mut().find(|(d, _)| *d == decimals) {
            Some((_, codes)) => codes.push(code),
            None => groups.push((decimals, vec![code])),
        }
    }
    groups.sort_by_key(|(d, _)| *d);
    groups
}

/// The per-currency decimals rule in words, for the `amount` description.
/// It is deliberately not a schema (`properties` beside an `anyOf` of
/// per-currency branches): client generators turn that into unions of
/// partial classes. This is the one place the schema is looser than the
/// validation (a 422 names the field).
fn decimals_rule() -> String {
    let groups: Vec<String> = currencies_by_decimals()
        .into_iter()
        .filter(|(decimals, _)| *decimals != 2)
        .map(|(decimals, codes)| format!("{decimals} for {}", codes.join(", ")))
        .collect();
    format!(
        "At most as many decimals as the currency's minor unit (else 422): {}; 2 for every other code.",
        groups.join("; ")
    )
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable_string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

/// An amount a client sends: the `Amount` component every body shares.
pub struct Amount;

impl PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        string()
            .pattern(Some(amount_pattern(SCALE_DIGITS)))
            .description(Some(format!(
                "Decimal string, > 0 and at most {MAX_MAJOR_UNITS} (leading zeros allowed). {} Responses print exactly the minor-unit digits.",
                decimals_rule()
            )))
            .examples([json!("12.30")])
            .into()
    }
}

impl ToSchema for Amount {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Amount")
    }
}

/// A currency a client sends: one `Currency` component, so generators make
/// one type that every body and the currency filter share.
impl PartialSchema for Currency {
    fn schema() -> RefOr<Schema> {
        string()
            .description(Some(
                "Active ISO 4217 code with a numeric minor unit, upper case.",
            ))
            .enum_values(Some(Currency::all_codes()))
            .into()
    }
}

impl ToSchema for Currency {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Currency")
    }
}

/// An amount as the server prints it.
pub fn printed_amount() -> Object {
    string().pattern(Some(AMOUNT_PATTERN)).build()
}

/// A currency code as the server prints it.
pub fn printed_currency() -> Object {
    string().pattern(Some("^[A-Z]{3}$")).build()
}

pub fn date() -> Object {
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(DATE_PATTERN))
        .description(Some(
            "A calendar date YYYY-MM-DD from 1000-01-01 to 9999-12-31.",
        ))
        .build()
}

pub fn month() -> Object {
    string().pattern(Some(MONTH_PATTERN)).build()
}

/// An optional text field a client sends.
fn optional_text(max: usize) -> Object {
    nullable_string()
        .pattern(Some(trimmed_text_pattern(0, max, "")))
        .description(Some(format!(
            "Trimmed of Unicode White_Space, then at most {max} code points; empty means null; no U+0000."
        )))
        .build()
}

pub fn merchant() -> Object {
    optional_text(MAX_MERCHANT)
}

pub fn description() -> Object {
    optional_text(MAX_DESCRIPTION)
}

pub fn tags() -> Schema {
    let tags = ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(string().pattern(Some(trimmed_text_pattern(1, MAX_TAG_LEN, ";"))))
        .description(Some(format!(
            "Tags of 1-{MAX_TAG_LEN} code points after trimming Unicode White_Space, without ';' or U+0000. Duplicates collapse to the first, order kept; then at most {MAX_TAGS} (more is 422). null means []."
        )))
        .build();
    Schema::Array(tags)
}

pub fn category_id_input() -> Object {
    nullable_string()
        .description(Some(
            "One of the caller's categories (another id is 422); null for none.",
        ))
        .build()
}

pub fn category_name() -> Object {
    string()
        .pattern(Some(trimmed_text_pattern(1, MAX_CATEGORY_NAME, "")))
        .description(Some(format!(
            "1-{MAX_CATEGORY_NAME} code points after trimming Unicode White_Space, no U+0000. Unique per user ignoring case (409 otherwise)."
        )))
        .build()
}

pub fn ledger_name() -> Object {
    string()
        .pattern(Some(trimmed_text_pattern(1, MAX_LEDGER_NAME, "")))
        .description(Some(format!(
            "1-{MAX_LEDGER_NAME} code points after trimming Unicode White_Space, no U+0000."
        )))
        .build()
}

/// A currency or null.
pub fn home_currency_input() -> Schema {
    Schema::AnyOf(
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(Currency::name()))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(Some("The currency reports convert to; null for none."))
            .build(),
    )
}

/// The roles an invitation can give (owners are made by owners).
pub fn invitable_role() -> Object {
    string()
        .enum_values(Some([Role::Editor.as_str(), Role::Viewer.as_str()]))
        .build()
}

/// A colour a client sends (either case; the server stores lower case).
pub fn color_input() -> Object {
    nullable_string().pattern(Some("^#[0-9A-Fa-f]{6}$")).build()
}
