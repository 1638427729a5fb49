//! When a maintenance window fires: AWS Systems Manager schedule expressions
//! (`cron(...)`, `rate(...)`, `at(...)`) plus the CreateMaintenanceWindow
//! settings that shape them (ScheduleTimezone, ScheduleOffset, StartDate,
//! EndDate). All instants are `i64` Unix seconds (UTC).
//!
//! # Expressions
//! * `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, or 7 fields
//!   with a leading Seconds field (`cron(24 30 09 ? * * *)` fires at
//!   09:30:24). Day-of-week is 1 = SUN … 7 = SAT. Names (`JAN`, `mon`) are
//!   case-insensitive; [`ScheduleExpr`]'s `Display` prints fields upper-cased.
//!   Operators `, - * /` in every field; `a/b` starts at `a` and steps `b` to
//!   the end of the field, `*/b` starts at the field's minimum, `a-b/c` steps
//!   through the range. Day-of-month also takes `?`, `L`, `LW`, `nW`;
//!   day-of-week takes `?`, `L` (alone: the last day of the week, Saturday),
//!   `wL` (last weekday `w` of the month: `6L` = last Friday) and `w#n`
//!   (`n` = 1..5; a month without an `n`-th `w` is skipped; at most one `#`).
//!   Exactly one of day-of-month and day-of-week must be `?`.
//! * `rate(N minute|minutes|hour|hours|day|days)`, N a positive integer,
//!   singular unit iff N = 1.
//! * `at(YYYY-MM-DDThh:mm:ss)`: fires once, read in ScheduleTimezone.
//!
//! # Decisions on points AWS leaves open
//! * **`L-n`** in day-of-month (Quartz's "n days before the last") is not in
//!   AWS's documentation and is rejected with an error saying so.
//! * **Wrap-around ranges** are supported in every field but Year:
//!   `FRI-MON` = FRI, SAT, SUN, MON; hours `22-2` = 22, 23, 0, 1, 2; a step
//!   counts along the wrapped sequence. A year range with start > end is an
//!   error.
//! * **`W`** follows Quartz: the Monday–Friday nearest day `n`, never leaving
//!   the month (`1W` on a Saturday → Monday the 3rd; `nW` on a Sunday that is
//!   the month's last day → the Friday before). `LW` is the last Monday–Friday
//!   of the month. `nW` in a month shorter than `n` days does not fire, like a
//!   plain day the month lacks.
//! * **Steps** must be 1 up to the field's number of values (`0/60` in
//!   minutes is allowed and means only 0).
//! * **5-minute rule (cron)**: all times of day the Seconds/Minutes/Hours
//!   fields name are listed in order; the smallest gap between neighbours,
//!   and the gap across midnight (last time → first time of the next day,
//!   assuming conservatively that any two days can be consecutive), must be
//!   at least 300 s. It is checked on the local wall clock; a DST transition
//!   can bring two real firings closer once a year, which is accepted.
//! * **5-minute rule (rate)**: AWS documents no minimum for windows;
//!   `rate(1..4 minutes)` is rejected to match the cron rule.
//! * **Rate arithmetic** is elapsed time: a day is 86 400 s whatever the
//!   time zone. A rate is anchored at StartDate, or at creation if there is
//!   no StartDate or it lies before creation (AWS replaces a past StartDate
//!   with "now"); it fires *at* the anchor and then every period.
//! * **DST** (cron and at): a local time inside a spring-forward gap fires at
//!   the first valid instant after the gap (the instant the clock jumps); a
//!   local time that occurs twice (fall back) fires once, at its first
//!   occurrence.
//! * **ScheduleOffset** (1..=6, cron only) adds whole days on the local
//!   calendar of ScheduleTimezone, keeping the wall-clock time (then the DST
//!   rule above applies). An occurrence whose *underlying* cron instant is
//!   before the window's creation is skipped even if cron time + offset is
//!   still ahead. More generally nothing fires whose underlying instant
//!   (cron) or fire instant (rate, at) is before `created_at` (the window did
//!   not exist yet); an instant equal to `created_at` does fire.
//! * **StartDate / EndDate** bound the fire instants (after the offset), both
//!   ends inclusive: a firing exactly at EndDate happens. EndDate must be
//!   later than StartDate.
//! * **Search range**: cron occurrences are searched no further than the end
//!   of year 2199 (the last year a cron expression can name), so schedules
//!   that never fire again (`cron(0 0 31 2 ? *)`) return `None` quickly.
//! * **Time zones** come from the IANA database bundled into the binary
//!   (jiff's `tzdb-bundle-always` feature), never from the host. Names are
//!   looked up ignoring ASCII case and stored in canonical spelling.

mod cron;
mod error;
mod rate;
mod tz;

#[cfg(test)]
mod tests;

use std::fmt;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

pub use cron::{CronExpr, MAX_YEAR, MIN_YEAR};
pub use error::{CronField, ScheduleError};
pub use rate::RateUnit;

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleExpr {
    /// `cron(...)` with 6 or 7 fields.
    Cron(CronExpr),
    /// `rate(N unit)`.
    Rate { value: u32, unit: RateUnit },
    /// `at(YYYY-MM-DDThh:mm:ss)`, a wall-clock time in ScheduleTimezone.
    At(DateTime),
}

impl ScheduleExpr {
    /// Parses `cron(...)`, `rate(...)` or `at(...)`. Surrounding whitespace is
    /// ignored; the keyword must be lower case.
    pub fn parse(text: &str) -> Result<ScheduleExpr, ScheduleError> {
        let s = text.trim();
        if s.is_empty() {
            return Err(ScheduleError::Empty);
        }
        let syntax = |reason: &str| ScheduleError::Syntax { text: s.to_string(), reason: reason.to_string() };
        let (keyword, rest) = match s.find('(') {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => {
                return Err(syntax("expected `cron(...)`, `rate(...)` or `at(...)`: no `(` found"));
            }
        };
        if !matches!(keyword, "cron" | "rate" | "at") {
            return Err(syntax(&format!(
                "unknown expression kind `{keyword}`; expected `cron(...)`, `rate(...)` or `at(...)` (lower case)"
            )));
        }
        let Some(body) = rest.strip_suffix(')') else {
            return Err(syntax("unbalanced parentheses: missing the closing `)` at the end"));
        };
        if body.contains(['(', ')']) {
            return Err(syntax(
                "unbalanced parentheses: only one `(` after the keyword and one `)` at the end are allowed",
            ));
        }
        match keyword {
            "cron" => CronExpr::parse_body(body).map(ScheduleExpr::Cron),
            "rate" => rate::parse_rate_body(body).map(|(value, unit)| ScheduleExpr::Rate { value, unit }),
            _ => parse_at_body(body).map(ScheduleExpr::At),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ScheduleExpr::Cron(_) => "cron",
            ScheduleExpr::Rate { .. } => "rate",
            ScheduleExpr::At(_) => "at",
        }
    }
}

impl std::str::FromStr for ScheduleExpr {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScheduleExpr::parse(s)
    }
}

impl fmt::Display for ScheduleExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleExpr::Cron(c) => c.fmt(f),
            ScheduleExpr::Rate { value, unit } => rate::format_rate(f, *value, *unit),
            ScheduleExpr::At(dt) => write!(
                f,
                "at({:04}-{:02}-{:02}T{:02}:{:02}:{:02})",
                dt.year(),
                dt.month(),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second()
            ),
        }
    }
}

/// Parses `YYYY-MM-DDThh:mm:ss` exactly.
fn parse_at_body(body: &str) -> Result<DateTime, ScheduleError> {
    let err = |reason: String| ScheduleError::At { expr: format!("at({body})"), reason };
    let b = body.as_bytes();
    let shape_ok = b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(err(
            "expected exactly YYYY-MM-DDThh:mm:ss (e.g. 2025-03-20T02:00:00), with no offset or fraction".into()
        ));
    }
    let num = |r: std::ops::Range<usize>| body[r].parse::<i16>().unwrap_or(-1);
    let (y, mo, d) = (num(0..4), num(5..7), num(8..10));
    let (h, mi, s) = (num(11..13), num(14..16), num(17..19));
    let date = Date::new(y, mo as i8, d as i8).map_err(|_| err(format!("{} is not a calendar date", &body[..10])))?;
    if h > 23 || mi > 59 || s > 59 {
        return Err(err(format!("{} is not a time of day (hh 00-23, mm 00-59, ss 00-59)", &body[11..])));
    }
    Ok(date.at(h as i8, mi as i8, s as i8, 0))
}

/// Everything of CreateMaintenanceWindow that decides when a window fires.
#[derive(Debug, Clone)]
pub struct WindowSchedule {
    expr: ScheduleExpr,
    timezone: TimeZone,
    timezone_name: String,
    offset_days: Option<u8>,
    start_date: Option<i64>,
    end_date: Option<i64>,
    created_at: i64,
}

/// Instants below this are treated as "before 1970" by the cron search.
const SEARCH_FLOOR: i64 = -3 * 86_400;
/// No cron firing (year ≤ 2199, + 6 days offset, + any zone offset) is later
/// than this (2200-01-09T00:00:00Z).
const SEARCH_CEILING: i64 = 7_258_896_000;

impl WindowSchedule {
    /// Validates and builds a schedule. `timezone` is an IANA name (`"UTC"` is
    /// the AWS default). Fails on an unknown zone, an offset with `rate`/`at`,
    /// an offset outside 1..=6, or an EndDate not later than StartDate.
    pub fn new(
        expr: ScheduleExpr,
        timezone: &str,
        offset_days: Option<u8>,
        start_date: Option<i64>,
        end_date: Option<i64>,
        created_at: i64,
    ) -> Result<Self, ScheduleError> {
        let (tz, timezone_name) = tz::lookup(timezone)?;
        if let Some(offset) = offset_days {
            if !matches!(expr, ScheduleExpr::Cron(_)) {
                return Err(ScheduleError::OffsetNotCron { expr: expr.to_string() });
            }
            if !(1..=6).contains(&offset) {
                return Err(ScheduleError::OffsetOutOfRange { value: offset });
            }
        }
        if let (Some(start), Some(end)) = (start_date, end_date)
            && end <= start
        {
            return Err(ScheduleError::EndNotAfterStart { start: format_utc(start), end: format_utc(end) });
        }
        Ok(WindowSchedule { expr, timezone: tz, timezone_name, offset_days, start_date, end_date, created_at })
    }

    pub fn expr(&self) -> &ScheduleExpr {
        &self.expr
    }
    pub fn timezone(&self) -> &TimeZone {
        &self.timezone
    }
    /// Canonical IANA name of the schedule's zone.
    pub fn timezone_name(&self) -> &str {
        &self.timezone_name
    }
    pub fn offset_days(&self) -> Option<u8> {
        self.offset_days
    }
    pub fn start_date(&self) -> Option<i64> {
        self.start_date
    }
    pub fn end_date(&self) -> Option<i64> {
        self.end_date
    }
    pub fn created_at(&self) -> i64 {
        self.created_at
    }

    fn within_bounds(&self, fire: i64) -> bool {
        self.start_date.is_none_or(|s| fire >= s) && self.end_date.is_none_or(|e| fire <= e)
    }

    /// The first fire instant strictly after `after`, or `None` if there is
    /// none (past EndDate, `at` already fired, years exhausted).
    pub fn next_after(&self, after: i64) -> Option<i64> {
        match &self.expr {
            ScheduleExpr::Cron(cron) => self.next_cron(cron, after),
            ScheduleExpr::Rate { value, unit } => {
                let period = i128::from(*value) * i128::from(unit.seconds());
                let anchor = self.start_date.map_or(self.created_at, |s| s.max(self.created_at));
                let fire = if after < anchor {
                    i128::from(anchor)
                } else {
                    let k = (i128::from(after) - i128::from(anchor)) / period + 1;
                    i128::from(anchor) + k * period
                };
                let fire = i64::try_from(fire).ok()?;
                self.within_bounds(fire).then_some(fire)
            }
            ScheduleExpr::At(dt) => {
                let fire = tz::local_to_instant(&self.timezone, *dt)?;
                (fire > after && fire >= self.created_at && self.within_bounds(fire)).then_some(fire)
            }
        }
    }

    fn next_cron(&self, cron: &CronExpr, after: i64) -> Option<i64> {
        if after >= SEARCH_CEILING {
            return None;
        }
        let tz = &self.timezone;
        let days = jiff::Span::new().days(i64::from(self.offset_days.unwrap_or(0)));
        // Lowest local time worth trying. Each bound is safe: a cron time
        // below it cannot satisfy the corresponding condition, because local
        // time → instant never decreases.
        let local = |t: i64| tz::instant_to_local(tz, t.clamp(SEARCH_FLOOR, SEARCH_CEILING));
        let mut lower = local(after)?.checked_sub(days).ok()?;
        lower = lower.max(local(self.created_at)?);
        if let Some(start) = self.start_date {
            lower = lower.max(local(start)?.checked_sub(days).ok()?);
        }
        let mut cur = lower;
        loop {
            let c = cron.next_local(cur)?;
            let cron_instant = tz::local_to_instant(tz, c)?;
            let fire = tz::local_to_instant(tz, c.checked_add(days).ok()?)?;
            if self.end_date.is_some_and(|e| fire > e) {
                return None;
            }
            if fire > after && cron_instant >= self.created_at && self.within_bounds(fire) {
                return Some(fire);
            }
            cur = c.checked_add(jiff::Span::new().seconds(1)).ok()?;
        }
    }

    /// Up to `n` fire instants after `after`, in order.
    pub fn upcoming(&self, after: i64, n: usize) -> Vec<i64> {
        let mut out = Vec::with_capacity(n.min(1024));
        let mut cur = after;
        while out.len() < n {
            match self.next_after(cur) {
                Some(t) => {
                    out.push(t);
                    cur = t;
                }
                None => break,
            }
        }
        out
    }

    /// Describes the expression kind (`cron`, `rate`, `at`).
    pub fn kind(&self) -> &'static str {
        self.expr.kind()
    }
}

/// Formats an instant as RFC 3339 UTC with `Z`, e.g. `2025-03-20T02:00:00Z`.
/// Instants outside years -9999..=9999 (which no schedule produces) are
/// printed as `@<seconds>`.
pub fn format_utc(t: i64) -> String {
    let Ok(ts) = Timestamp::from_second(t) else { return format!("@{t}") };
    let civil = jiff::tz::Offset::UTC.to_datetime(ts);
    if !(0..=9999).contains(&civil.year()) {
        return ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    }
    // Digits written in place: result files print an instant per row, and strftime
    // interprets its format string on every call.
    let mut text = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, width: usize, value: i32| {
        let mut value = value as u32;
        for i in (at..at + width).rev() {
            text[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, i32::from(civil.year()));
    put(5, 2, i32::from(civil.month()));
    put(8, 2, i32::from(civil.day()));
    put(11, 2, i32::from(civil.hour()));
    put(14, 2, i32::from(civil.minute()));
    put(17, 2, i32::from(civil.second()));
    text.iter().map(|&b| b as char).collect()
}

/// Parses an RFC 3339 / ISO-8601 instant with a UTC offset
/// (`2025-03-20T02:00:00Z`, `2021-01-01T00:00-08:00`, fractions allowed and
/// dropped toward the past), or a bare date `YYYY-MM-DD` meaning 00:00Z.
pub fn parse_instant(text: &str) -> Result<i64, ScheduleError> {
    let err = |reason: String| ScheduleError::Instant { text: text.to_string(), reason };
    let s = text.trim();
    if s.is_empty() {
        return Err(err("empty; expected e.g. 2025-03-20T02:00:00Z or 2025-03-20".into()));
    }
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let date: Date = s.parse().map_err(|_| err(format!("`{s}` is not a calendar date (YYYY-MM-DD)")))?;
        let ts = jiff::tz::Offset::UTC.to_timestamp(date.at(0, 0, 0, 0)).map_err(|e| err(e.to_string()))?;
        return Ok(ts.as_second());
    }
    match s.parse::<Timestamp>() {
        Ok(ts) => {
            let secs = ts.as_second();
            Ok(if ts.subsec_nanosecond() < 0 { secs - 1 } else { secs })
        }
        Err(e) => {
            if s.parse::<DateTime>().is_ok() {
                Err(err("no UTC offset; add `Z` or an offset such as `+09:00`".into()))
            } else {
                Err(err(format!("not an RFC 3339 / ISO-8601 instant with offset (e.g. 2025-03-20T02:00:00Z): {e}")))
            }
        }
    }
}
