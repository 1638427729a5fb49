//! The one error type of the schedule module.

use std::fmt;

/// Which field of a cron expression an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CronField {
    Seconds,
    Minutes,
    Hours,
    DayOfMonth,
    Month,
    DayOfWeek,
    Year,
}

impl CronField {
    /// Smallest value the field accepts.
    pub(crate) fn min(self) -> u32 {
        match self {
            CronField::Seconds | CronField::Minutes | CronField::Hours => 0,
            CronField::DayOfMonth | CronField::Month | CronField::DayOfWeek => 1,
            CronField::Year => 1970,
        }
    }

    /// Largest value the field accepts.
    pub(crate) fn max(self) -> u32 {
        match self {
            CronField::Seconds | CronField::Minutes => 59,
            CronField::Hours => 23,
            CronField::DayOfMonth => 31,
            CronField::Month => 12,
            CronField::DayOfWeek => 7,
            CronField::Year => 2199,
        }
    }

    fn label(self) -> &'static str {
        match self {
            CronField::Seconds => "seconds",
            CronField::Minutes => "minutes",
            CronField::Hours => "hours",
            CronField::DayOfMonth => "day-of-month",
            CronField::Month => "month",
            CronField::DayOfWeek => "day-of-week",
            CronField::Year => "year",
        }
    }
}

impl fmt::Display for CronField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Everything that can be wrong with a schedule, a window's schedule settings
/// or an instant. Every message names the offending text and what is wrong.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("schedule expression is empty; expected `cron(...)`, `rate(...)` or `at(...)`")]
    Empty,
    /// The outer shape is wrong: unknown keyword, missing or unbalanced parentheses.
    #[error("schedule `{text}`: {reason}")]
    Syntax { text: String, reason: String },
    #[error(
        "cron expression `{expr}` has {found} field(s); expected 6 (Minutes Hours Day-of-month Month Day-of-week Year) or 7 (a leading Seconds field, then those six)"
    )]
    FieldCount { expr: String, found: usize },
    /// One item of one cron field is malformed or out of range.
    #[error("{field} field `{token}`: {reason}")]
    Field { field: CronField, token: String, reason: String },
    /// The cron fields are each well formed but do not fit together.
    #[error("cron expression `{expr}`: {reason}")]
    Cron { expr: String, reason: String },
    #[error(
        "cron expression `{expr}` fires more often than every 5 minutes: {first} and {second} (local time) are only {gap_seconds} s apart; maintenance windows need at least 5 minutes between runs"
    )]
    TooFrequent { expr: String, first: String, second: String, gap_seconds: u32 },
    #[error("rate expression `{expr}`: {reason}")]
    Rate { expr: String, reason: String },
    #[error("at expression `{expr}`: {reason}")]
    At { expr: String, reason: String },
    #[error("ScheduleTimezone `{name}` is not a known IANA time zone name")]
    UnknownTimeZone { name: String },
    #[error("ScheduleOffset is only allowed with cron expressions, not with `{expr}`")]
    OffsetNotCron { expr: String },
    #[error("ScheduleOffset {value} is out of range; it must be 1 to 6 days")]
    OffsetOutOfRange { value: u8 },
    #[error("EndDate {end} must be later than StartDate {start}")]
    EndNotAfterStart { start: String, end: String },
    #[error("instant `{text}`: {reason}")]
    Instant { text: String, reason: String },
}
