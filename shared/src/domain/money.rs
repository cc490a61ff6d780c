//! Money: integer minor units of an ISO 4217 currency, parsed from and
//! printed to the decimal strings of the API. No floats anywhere.

use std::fmt;

/// The largest amount an expense may carry, in major units (API.md).
pub const MAX_MAJOR_UNITS: i64 = 999_999_999_999;

/// The largest exponent among accepted currencies (CLF and UYW have 4).
/// Amounts are also stored scaled to this many decimals, so that amounts
/// in different currencies compare as numbers.
pub const SCALE_DIGITS: u32 = 4;

/// Codes ISO 4217 List One still lists as active that `iso_currency`
/// marks superseded: VES (928) is listed beside its successor VED (926).
/// A test pins every code the crate marks, so a new crate version's data
/// is reviewed against the list before it changes what is accepted.
const ACTIVE_THOUGH_MARKED_SUPERSEDED: &[&str] = &["VES"];

/// An active ISO 4217 currency that has a numeric minor unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

/// What every currency field (JSON, CSV, query) says of a code it refuses.
pub const CURRENCY_MESSAGE: &str =
    "must be an active ISO 4217 code in upper case with a minor unit, such as \"USD\"";

impl Currency {
    /// A currency field: the one parse and message for bodies, CSV rows and
    /// queries.
    pub fn parse_field(code: &str) -> Result<Currency, &'static str> {
        Currency::parse(code).ok_or(CURRENCY_MESSAGE)
    }

    /// Accepts only upper-case, active codes with a numeric minor unit:
    /// USD, JPY, BHD, CLF, VES and VED yes; XAU, XDR, XXX and withdrawn
    /// codes (HRK) no.
    pub fn parse(code: &str) -> Option<Currency> {
        let currency = iso_currency::Currency::from_code(code)?;
        let exponent = currency.exponent()?;
        let withdrawn =
            currency.is_superseded().is_some() && !ACTIVE_THOUGH_MARKED_SUPERSEDED.contains(&code);
        if withdrawn || u32::from(exponent) > SCALE_DIGITS {
            return None;
        }
        Some(Currency(currency))
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Number of minor-unit digits (2 for USD, 0 for JPY, 3 for BHD).
    pub fn exponent(self) -> u32 {
        // `parse` only admits currencies that have an exponent.
        u32::from(self.0.exponent().unwrap_or(0))
    }

    /// Every accepted code, sorted: the OpenAPI document's enum.
    pub fn all_codes() -> Vec<&'static str> {
        use iso_currency::IntoEnumIterator;
        let mut codes: Vec<&'static str> = iso_currency::Currency::iter()
            .filter_map(|c| Currency::parse(c.code()))
            .map(Currency::code)
            .collect();
        codes.sort_unstable();
        codes
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why an amount string was refused; the message goes to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmountError {
    Syntax,
    TooManyDecimals { allowed: u32 },
    NotPositive,
    TooLarge,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountError::Syntax => f.write_str(
                "must be a decimal string of digits with an optional fractional part, such as \"12.30\"",
            ),
            AmountError::TooManyDecimals { allowed: 0 } => {
                f.write_str("this currency takes no decimals")
            }
            AmountError::TooManyDecimals { allowed } => {
                write!(f, "this currency takes at most {allowed} decimals")
            }
            AmountError::NotPositive => f.write_str("must be greater than zero"),
            AmountError::TooLarge => write!(f, "must be at most {MAX_MAJOR_UNITS}"),
        }
    }
}

/// A non-negative decimal parsed from `^[0-9]+(\.[0-9]+)?$`, as an integer
/// count of 10^-`scale` units.
fn parse_decimal(text: &str, scale: u32) -> Result<i64, AmountError> {
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int_part.is_empty()
        || !all_digits(int_part)
        || (text.contains('.') && (frac_part.is_empty() || !all_digits(frac_part)))
    {
        return Err(AmountError::Syntax);
    }
    if frac_part.len() > scale as usize {
        return Err(AmountError::TooManyDecimals { allowed: scale });
    }
    let int_part = int_part.trim_start_matches('0');
    // 12 digits is the most MAX_MAJOR_UNITS has; more can only be larger.
    if int_part.len() > 12 {
        return Err(AmountError::TooLarge);
    }
    let major: i64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().map_err(|_| AmountError::Syntax)?
    };
    let mut frac: i64 = 0;
    for position in 0..scale as usize {
        let digit = frac_part.as_bytes().get(position).map_or(0, |b| b - b'0');
        frac = frac * 10 + i64::from(digit);
    }
    let units = major * 10_i64.pow(scale) + frac;
    if units > MAX_MAJOR_UNITS * 10_i64.pow(scale) {
        return Err(AmountError::TooLarge);
    }
    Ok(units)
}

/// Parses a filter bound such as `min_amount`: the amount syntax, any
/// value from 0 to the maximum, at most `SCALE_DIGITS` decimals; the result
/// is in the same scaled units as [`Money::scaled`].
pub fn parse_scaled_bound(text: &str) -> Result<i64, AmountError> {
    parse_decimal(text, SCALE_DIGITS)
}

/// What an amount field that is not a string says (JSON bodies; CSV cells
/// are always text).
pub const AMOUNT_NOT_A_STRING: &str = "must be a string such as \"12.30\", not a number";

/// An amount field of a body or a CSV row, in its currency. `currency` is
/// `None` when the currency field was refused: the amount cannot be checked
/// against it, so only a malformed amount is reported (`Ok(None)` else).
pub fn amount_field(text: &str, currency: Option<Currency>) -> Result<Option<Money>, AmountError> {
    match currency {
        Some(currency) => Money::parse(text, currency).map(Some),
        None => match parse_scaled_bound(text) {
            Err(AmountError::Syntax) => Err(AmountError::Syntax),
            _ => Ok(None),
        },
    }
}

/// An amount of money: a positive count of minor units in one currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// Parses the API's amount string for `currency` (rules in API.md).
    pub fn parse(amount: &str, currency: Currency) -> Result<Money, AmountError> {
        let minor = parse_decimal(amount, currency.exponent())?;
        if minor == 0 {
            return Err(AmountError::NotPositive);
        }
        Ok(Money { minor, currency })
    }

    /// Rebuilds a stored amount; `None` when it breaks the invariants.
    pub fn from_minor(minor: i64, currency: Currency) -> Option<Money> {
        let max = MAX_MAJOR_UNITS.checked_mul(10_i64.pow(currency.exponent()))?;
        (minor > 0 && minor <= max).then_some(Money { minor, currency })
    }

    pub fn minor_units(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    /// The amount in 10^-4 units whatever the currency: what `min_amount`
    /// and `max_amount` compare against.
    pub fn scaled(self) -> i64 {
        self.minor * 10_i64.pow(SCALE_DIGITS - self.currency.exponent())
    }

    /// The same number in another currency: exact, or refused when the
    /// number has more decimals than `currency` takes.
    pub fn with_currency(self, currency: Currency) -> Result<Money, AmountError> {
        let step = 10_i64.pow(SCALE_DIGITS - currency.exponent());
        let scaled = self.scaled();
        if scaled % step != 0 {
            return Err(AmountError::TooManyDecimals {
                allowed: currency.exponent(),
            });
        }
        Money::from_minor(scaled / step, currency).ok_or(AmountError::TooLarge)
    }

    /// The amount as the API prints it, e.g. "12.30" or "1500".
    pub fn amount_string(self) -> String {
        format_minor_units(i128::from(self.minor), self.currency.exponent())
    }
}

/// The one formatting function for money: minor units (possibly a sum far
/// beyond i64) printed with exactly `exponent` decimals.
pub fn format_minor_units(minor: i128, exponent: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let digits = minor.unsigned_abs().to_string();
    if exponent == 0 {
        return format!("{sign}{digits}");
    }
    let exponent = exponent as usize;
    let padded = format!("{digits:0>width$}", width = exponent + 1);
    let (int_part, frac_part) = padded.split_at(padded.len() - exponent);
    format!("{sign}{int_part}.{frac_part}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn amount(text: &str, code: &str) -> Result<String, AmountError> {
        Money::parse(text, cur(code)).map(Money::amount_string)
    }

    #[test]
    fn accepts_and_normalises_valid_amounts() {
        assert_eq!(amount("12.3", "USD").unwrap(), "12.30");
        assert_eq!(amount("12.30", "USD").unwrap(), "12.30");
        assert_eq!(amount("012.50", "USD").unwrap(), "12.50");
        assert_eq!(amount("12", "USD").unwrap(), "12.00");
        assert_eq!(amount("0.01", "USD").unwrap(), "0.01");
        assert_eq!(amount("1500", "JPY").unwrap(), "1500");
        assert_eq!(amount("1.234", "BHD").unwrap(), "1.234");
        assert_eq!(amount("1.5", "BHD").unwrap(), "1.500");
        assert_eq!(amount("0.0001", "CLF").unwrap(), "0.0001");
        assert_eq!(amount("999999999999", "USD").unwrap(), "999999999999.00");
        assert_eq!(
            amount("999999999999.000", "BHD").unwrap(),
            "999999999999.000"
        );
        assert_eq!(amount("00000000000000000000001", "USD").unwrap(), "1.00");
    }

    #[test]
    fn rejects_bad_syntax() {
        for bad in [
            ".5", "12.", "+12", "-12", "1e3", " 12", "12 ", "", "1,00", "1.2.3", "١٢", "0x10",
            "12.a",
        ] {
            assert_eq!(amount(bad, "USD"), Err(AmountError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn rejects_too_many_decimals_per_currency() {
        assert_eq!(
            amount("12.345", "USD"),
            Err(AmountError::TooManyDecimals { allowed: 2 })
        );
        assert_eq!(
            amount("1500.0", "JPY"),
            Err(AmountError::TooManyDecimals { allowed: 0 })
        );
        assert_eq!(
            amount("1.2345", "BHD"),
            Err(AmountError::TooManyDecimals { allowed: 3 })
        );
        assert_eq!(amount("1.2345", "CLF").unwrap(), "1.2345");
    }

    #[test]
    fn rejects_zero_and_out_of_range() {
        assert_eq!(amount("0", "USD"), Err(AmountError::NotPositive));
        assert_eq!(amount("0.00", "USD"), Err(AmountError::NotPositive));
        assert_eq!(amount("999999999999.01", "USD"), Err(AmountError::TooLarge));
        assert_eq!(amount("1000000000000", "JPY"), Err(AmountError::TooLarge));
        assert_eq!(
            amount("99999999999999999999999999999", "USD"),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn currency_codes_follow_the_contract() {
        for good in ["USD", "JPY", "BHD", "CLF", "EUR", "KWD", "UYW"] {
            assert!(Currency::parse(good).is_some(), "{good}");
        }
        for bad in ["XAU", "XDR", "XXX", "HRK", "usd", "US", "USDD", "", "XTS"] {
            assert!(Currency::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(cur("JPY").exponent(), 0);
        assert_eq!(cur("BHD").exponent(), 3);
        assert_eq!(cur("CLF").exponent(), 4);
        let all = Currency::all_codes();
        assert!(all.contains(&"USD") && !all.contains(&"HRK") && !all.contains(&"XAU"));
    }

    #[test]
    fn currencies_follow_iso_4217_list_one_where_the_crate_data_differs() {
        use iso_currency::IntoEnumIterator;
        // Every code the crate marks superseded, as of iso_currency 0.7.1:
        // VES is active in ISO's list (beside VED); the others are withdrawn
        // (HRK and BGN by the euro, CUC, SLL by SLE, ZWL by ZWG).
        let mut marked: Vec<&str> = iso_currency::Currency::iter()
            .filter(|c| c.is_superseded().is_some())
            .map(|c| c.code())
            .collect();
        marked.sort_unstable();
        assert_eq!(marked, ["BGN", "CUC", "HRK", "SLL", "VES", "ZWL"]);
        for active in ["VES", "VED", "SLE", "ZWG", "XCG", "STN", "MRU"] {
            assert!(Currency::parse(active).is_some(), "{active}");
        }
        for withdrawn in ["BGN", "CUC", "HRK", "SLL", "ZWL"] {
            assert!(Currency::parse(withdrawn).is_none(), "{withdrawn}");
        }
        assert_eq!(cur("VES").exponent(), 2);
        assert!(Currency::all_codes().contains(&"VES"));
    }

    #[test]
    fn arithmetic_is_exact_in_minor_units() {
        let a = Money::parse("0.10", cur("USD")).unwrap();
        let b = Money::parse("0.20", cur("USD")).unwrap();
        let sum = i128::from(a.minor_units()) + i128::from(b.minor_units());
        assert_eq!(format_minor_units(sum, 2), "0.30");
    }

    #[test]
    fn formats_large_and_negative_sums() {
        let big = i128::from(999_999_999_999_000_i64) * 10_000;
        assert_eq!(format_minor_units(big, 3), "9999999999990000.000");
        assert_eq!(format_minor_units(-5, 2), "-0.05");
        assert_eq!(format_minor_units(7, 0), "7");
        assert_eq!(format_minor_units(0, 3), "0.000");
    }

    #[test]
    fn scaled_values_compare_across_currencies() {
        let usd = Money::parse("12.30", cur("USD")).unwrap();
        let jpy = Money::parse("12", cur("JPY")).unwrap();
        assert_eq!(usd.scaled(), 123_000);
        assert_eq!(jpy.scaled(), 120_000);
        assert_eq!(parse_scaled_bound("12.3").unwrap(), 123_000);
        assert_eq!(parse_scaled_bound("0").unwrap(), 0);
        assert!(parse_scaled_bound("1.23456").is_err());
    }

    #[test]
    fn from_minor_checks_invariants() {
        assert!(Money::from_minor(0, cur("USD")).is_none());
        assert!(Money::from_minor(99_999_999_999_900, cur("USD")).is_some());
        assert!(Money::from_minor(99_999_999_999_901, cur("USD")).is_none());
    }
}
