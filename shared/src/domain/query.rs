//! Query strings: the rules every list and report reads the same way.

use time::Date;

use super::text::date_field;
use super::FieldError;

/// A request's decoded query parameters, each known name at most once.
pub struct Params<'a> {
    pairs: &'a [(String, String)],
}

impl<'a> Params<'a> {
    /// `pairs` checked against `known`: an unknown name and a repeated one
    /// are errors (a repeated one is read at its first occurrence).
    pub fn new(
        pairs: &'a [(String, String)],
        known: &[&str],
        errors: &mut Vec<FieldError>,
    ) -> Params<'a> {
        let mut seen: Vec<&str> = Vec::new();
        for (name, _) in pairs {
            if !known.contains(&name.as_str()) {
                errors.push(FieldError::new(name, "is not a known query parameter"));
            } else if seen.contains(&name.as_str()) {
                errors.push(FieldError::new(name, "must be given at most once"));
            } else {
                seen.push(name);
            }
        }
        Params { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `from` and `to`: date fields, the first not after the second.
    pub fn date_range(&self, errors: &mut Vec<FieldError>) -> (Option<Date>, Option<Date>) {
        let mut date = |name: &str| {
            let value = self.get(name)?;
            date_field(value)
                .map_err(|message| errors.push(FieldError::new(name, message)))
                .ok()
        };
        let (from, to) = (date("from"), date("to"));
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                errors.push(FieldError::new("from", "must not be after to"));
            }
        }
        (from, to)
    }

    /// `limit`: plain digits from 1 to `max`; `default` when absent (or
    /// refused, with an error).
    pub fn limit(&self, default: usize, max: usize, errors: &mut Vec<FieldError>) -> usize {
        let Some(value) = self.get("limit") else {
            return default;
        };
        match value.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) && !value.starts_with('+') => n,
            _ => {
                errors.push(FieldError::new(
                    "limit",
                    format!("must be an integer from 1 to {max}"),
                ));
                default
            }
        }
    }
}
