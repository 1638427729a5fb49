//! `rate(N unit)` expressions.

use std::fmt;

use super::error::ScheduleError;

/// The unit of a rate expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateUnit {
    Minutes,
    Hours,
    Days,
}

impl RateUnit {
    /// Length of one unit in seconds (a day is always 86 400 s: rates are
    /// elapsed time and ignore the schedule's time zone).
    pub fn seconds(self) -> i64 {
        match self {
            RateUnit::Minutes => 60,
            RateUnit::Hours => 3_600,
            RateUnit::Days => 86_400,
        }
    }

    fn singular(self) -> &'static str {
        match self {
            RateUnit::Minutes => "minute",
            RateUnit::Hours => "hour",
            RateUnit::Days => "day",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            RateUnit::Minutes => "minutes",
            RateUnit::Hours => "hours",
            RateUnit::Days => "days",
        }
    }

    /// The unit word to print after `value`.
    pub fn word(self, value: u32) -> &'static str {
        if value == 1 { self.singular() } else { self.plural() }
    }
}

/// Formats `rate(N unit)`.
pub(crate) fn format_rate(f: &mut fmt::Formatter<'_>, value: u32, unit: RateUnit) -> fmt::Result {
    write!(f, "rate({value} {})", unit.word(value))
}

/// Parses the text between `rate(` and `)`.
pub(crate) fn parse_rate_body(body: &str) -> Result<(u32, RateUnit), ScheduleError> {
    let err = |reason: String| ScheduleError::Rate { expr: format!("rate({body})"), reason };
    let parts: Vec<&str> = body.split_whitespace().collect();
    let [value_text, unit_text] = parts[..] else {
        return Err(err(format!("expected `rate(<value> <unit>)` with two parts, found {}", parts.len())));
    };
    if !value_text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(format!("value `{value_text}` must be a positive whole number")));
    }
    let value = value_text.parse::<u32>().map_err(|_| err(format!("value `{value_text}` is too large")))?;
    if value == 0 {
        return Err(err("value must be positive, not 0".into()));
    }
    let (unit, singular) = match unit_text {
        "minute" => (RateUnit::Minutes, true),
        "minutes" => (RateUnit::Minutes, false),
        "hour" => (RateUnit::Hours, true),
        "hours" => (RateUnit::Hours, false),
        "day" => (RateUnit::Days, true),
        "days" => (RateUnit::Days, false),
        other => {
            return Err(err(format!("unit `{other}` must be one of minute, minutes, hour, hours, day, days")));
        }
    };
    if singular != (value == 1) {
        return Err(err(format!(
            "value {value} needs the unit `{}`, not `{unit_text}` (singular only for 1)",
            unit.word(value)
        )));
    }
    if unit == RateUnit::Minutes && value < 5 {
        return Err(err(format!(
            "every {value} {} is more often than every 5 minutes, which maintenance windows do not support",
            unit.word(value)
        )));
    }
    Ok((value, unit))
}
