//! Monthly budgets: a limit for one category in one currency.

use time::{Date, Month};

use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::expense::unknown_fields;
use super::money::{amount_field, format_minor_units, Currency, Money, AMOUNT_NOT_A_STRING};
use super::{format_timestamp, FieldError};

/// A stored budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    pub category_id: String,
    pub money: Money,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The monthly budget of one category.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Budget)]
pub struct BudgetView {
    pub category_id: String,
    #[schema(schema_with = crate::openapi::schemas::printed_amount)]
    pub amount: String,
    #[schema(schema_with = crate::openapi::schemas::printed_currency)]
    pub currency: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

// The body of `PUT /v1/categories/{category_id}/budget` as the document
// describes it; `parse_budget` reads it. Serialize only for
// `deny_unknown_fields` (`additionalProperties: false`).
#[derive(serde::Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetInput {
    #[schema(value_type = crate::openapi::schemas::Amount)]
    pub amount: String,
    #[schema(value_type = Currency)]
    pub currency: String,
}

/// Fields of a budget body a client may write.
pub const WRITABLE_FIELDS: [&str; 2] = ["amount", "currency"];

impl Budget {
    pub fn view(&self) -> BudgetView {
        BudgetView {
            category_id: self.category_id.clone(),
            amount: self.money.amount_string(),
            currency: self.money.currency().code(),
            created_at: format_timestamp(self.created_at),
            updated_at: format_timestamp(self.updated_at),
        }
    }
}

/// `{"amount", "currency"}`, both required.
pub fn parse_budget(body: &Map<String, Value>) -> Result<Money, Vec<FieldError>> {
    let mut errors = unknown_fields(body, &WRITABLE_FIELDS, &["category_id"]);
    let currency = match body.get("currency") {
        None => {
            errors.push(FieldError::new("currency", "is required"));
            None
        }
        Some(value) => Currency::parse_field(value.as_str().unwrap_or_default())
            .map_err(|message| errors.push(FieldError::new("currency", message)))
            .ok(),
    };
    let money = match body.get("amount") {
        Some(Value::String(text)) => amount_field(text, currency)
            .map_err(|e| errors.push(FieldError::new("amount", e.to_string())))
            .ok()
            .flatten(),
        Some(_) => {
            errors.push(FieldError::new("amount", AMOUNT_NOT_A_STRING));
            None
        }
        None => {
            errors.push(FieldError::new("amount", "is required"));
            None
        }
    };
    match money {
        Some(money) if errors.is_empty() => Ok(money),
        _ => Err(errors),
    }
}

/// A budget with what its category spent in a month (exact, in minor units
/// of the budget's currency; a sum may exceed i64).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetStatus {
    pub budget: Budget,
    pub spent: i128,
}

/// A budget with what its category spent in the month.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetStatusView {
    pub category_id: String,
    #[schema(schema_with = crate::openapi::schemas::printed_amount)]
    pub amount: String,
    #[schema(schema_with = crate::openapi::schemas::printed_currency)]
    pub currency: String,
    #[schema(schema_with = crate::openapi::schemas::printed_amount)]
    pub spent: String,
    #[schema(pattern = "^-?[0-9]+(\\.[0-9]+)?$")]
    pub remaining: String,
    pub over: bool,
}

/// Every budget of one month, with its spending.
#[derive(serde::Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetMonth {
    #[schema(schema_with = crate::openapi::schemas::month)]
    pub month: String,
    #[schema(inline)]
    pub items: Vec<BudgetStatusView>,
}

impl BudgetStatus {
    pub fn view(&self) -> BudgetStatusView {
        let money = self.budget.money;
        let exponent = money.currency().exponent();
        let limit = i128::from(money.minor_units());
        BudgetStatusView {
            category_id: self.budget.category_id.clone(),
            amount: money.amount_string(),
            currency: money.currency().code().to_owned(),
            spent: format_minor_units(self.spent, exponent),
            remaining: format_minor_units(limit - self.spent, exponent),
            over: self.spent > limit,
        }
    }
}

/// A calendar month, `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YearMonth {
    pub year: i32,
    pub month: Month,
}

impl YearMonth {
    pub fn parse(text: &str) -> Option<YearMonth> {
        let bytes = text.as_bytes();
        let shape = bytes.len() == 7
            && bytes[4] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_digit());
        if !shape {
            return None;
        }
        let year: i32 = text[0..4].parse().ok()?;
        let month = Month::try_from(text[5..7].parse::<u8>().ok()?).ok()?;
        (super::text::MIN_YEAR..=super::text::MAX_YEAR)
            .contains(&year)
            .then_some(YearMonth { year, month })
    }

    pub fn current() -> YearMonth {
        let today = time::OffsetDateTime::now_utc().date();
        YearMonth {
            year: today.year(),
            month: today.month(),
        }
    }

    /// First and last day.
    pub fn bounds(self) -> (Date, Date) {
        let first = Date::from_calendar_date(self.year, self.month, 1).unwrap_or(Date::MIN);
        let last_day = self.month.length(self.year);
        let last = Date::from_calendar_date(self.year, self.month, last_day).unwrap_or(first);
        (first, last)
    }

    pub fn format(self) -> String {
        format!("{:04}-{:02}", self.year, u8::from(self.month))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    #[test]
    fn months() {
        let feb = YearMonth::parse("2024-02").unwrap();
        let (first, last) = feb.bounds();
        assert_eq!((first.day(), last.day()), (1, 29));
        assert_eq!(feb.format(), "2024-02");
        for bad in [
            "2024-13",
            "2024-2",
            "24-02",
            "2024/02",
            "2024-02-01",
            "0999-01",
            "",
        ] {
            assert!(YearMonth::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn remaining_may_be_negative() {
        let eur = Currency::parse("EUR").unwrap();
        let status = BudgetStatus {
            budget: Budget {
                category_id: "c".into(),
                money: Money::parse("400", eur).unwrap(),
                created_at: 0,
                updated_at: 0,
            },
            spent: 40_050,
        };
        let view = status.view();
        assert_eq!(
            (view.amount.as_str(), view.spent.as_str()),
            ("400.00", "400.50")
        );
        assert_eq!(view.remaining, "-0.50");
        assert!(view.over);
    }
}
