//! Parsing and matching of AWS cron expressions (6 or 7 fields).

use std::fmt;

use jiff::civil::{Date, DateTime};

use super::error::{CronField, ScheduleError};

/// First year a cron expression can name or fire in.
pub const MIN_YEAR: i16 = 1970;
/// Last year a cron expression can name or fire in; searches stop here.
pub const MAX_YEAR: i16 = 2199;

/// Minimum spacing, in seconds, between two firings of one schedule.
pub(crate) const MIN_GAP_SECONDS: u32 = 300;

const MONTH_NAMES: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
/// 1 = SUN … 7 = SAT.
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The day-of-month field when it is not `?`. Bit `d` of a mask is day `d`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DomSpec {
    /// Plain days (`1`, `1-15`, `1/5`, `*`, wrapping `28-3`).
    days: u32,
    /// `L`: the last day of the month.
    last: bool,
    /// `LW`: the last Monday–Friday of the month.
    last_weekday: bool,
    /// `nW`: the Monday–Friday nearest day `n`, never leaving the month.
    nearest_weekday: u32,
}

/// The day-of-week field when it is not `?`. Bit `w` is weekday `w` (1 = SUN).
#[derive(Debug, Clone, PartialEq, Eq)]
struct DowSpec {
    /// Plain weekdays (`MON-FRI`, `2`, `*`, `L` = 7 = SAT).
    days: u8,
    /// `wL`: the last weekday `w` of the month.
    last: u8,
    /// `w#n`: the `n`-th weekday `w` of the month.
    nth: Option<(u8, u8)>,
}

/// A parsed, validated cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronExpr {
    /// Canonical (upper-cased) text of each field, 6 or 7 of them.
    fields: Vec<String>,
    seconds: u64,
    minutes: u64,
    hours: u32,
    /// `None` is `?`.
    dom: Option<DomSpec>,
    months: u16,
    /// `None` is `?`.
    dow: Option<DowSpec>,
    /// Bit `y - 1970` is year `y`.
    years: [u64; 4],
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cron({})", self.fields.join(" "))
    }
}

fn field_err(field: CronField, token: &str, reason: impl Into<String>) -> ScheduleError {
    ScheduleError::Field { field, token: token.to_string(), reason: reason.into() }
}

fn names_of(field: CronField) -> Option<&'static [&'static str]> {
    match field {
        CronField::Month => Some(&MONTH_NAMES),
        CronField::DayOfWeek => Some(&DAY_NAMES),
        _ => None,
    }
}

/// Parses one value (a number, or a name in the month / day-of-week fields).
fn parse_value(field: CronField, item: &str, text: &str) -> Result<u32, ScheduleError> {
    let (min, max) = (field.min(), field.max());
    if text.is_empty() {
        return Err(field_err(field, item, "a value is missing"));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let value = text.parse::<u32>().map_err(|_| field_err(field, item, format!("`{text}` is too large")))?;
        if value < min || value > max {
            return Err(field_err(field, item, format!("value {value} is out of range {min}-{max}")));
        }
        return Ok(value);
    }
    if let Some(names) = names_of(field) {
        let upper = text.to_ascii_uppercase();
        if let Some(i) = names.iter().position(|n| *n == upper) {
            return Ok(min + i as u32);
        }
        let kind = if field == CronField::Month { "month" } else { "weekday" };
        return Err(field_err(
            field,
            item,
            format!("`{text}` is not a {kind} name; expected {min}-{max} or {}-{}", names[0], names[names.len() - 1]),
        ));
    }
    if text == "?" {
        return Err(field_err(field, item, "`?` is only allowed in the day-of-month and day-of-week fields"));
    }
    if text.contains(['L', 'W', '#']) {
        return Err(field_err(
            field,
            item,
            format!("`{text}` is not a number (`L`, `W` and `#` are only allowed in the day fields)"),
        ));
    }
    Err(field_err(field, item, format!("`{text}` is not a number in {min}-{max}")))
}

/// Parses one list item made of `*`, values, `-` and `/`, and calls `set`
/// for every value it stands for.
///
/// Ranges whose start is greater than their end wrap around the end of the
/// field (`FRI-MON` = FRI, SAT, SUN, MON; `22-2` hours = 22, 23, 0, 1, 2),
/// except in the year field, where such a range is an error.
fn parse_plain_item(field: CronField, item: &str, mut set: impl FnMut(u32)) -> Result<(), ScheduleError> {
    let (min, max) = (field.min(), field.max());
    let span = max - min + 1;
    let (base, step) = match item.split_once('/') {
        None => (item, None),
        Some((base, step_text)) => {
            if step_text.contains('/') {
                return Err(field_err(field, item, "only one `/` is allowed in an item"));
            }
            if step_text.is_empty() || !step_text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(field_err(field, item, format!("step `{step_text}` must be a whole number 1-{span}")));
            }
            let step = step_text.parse::<u32>().unwrap_or(u32::MAX);
            if step == 0 || step > span {
                return Err(field_err(field, item, format!("step {step_text} is out of range 1-{span}")));
            }
            (base, Some(step))
        }
    };
    let (start, end) = if base == "*" {
        (min, max)
    } else if let Some((a, b)) = base.split_once('-') {
        if b.contains('-') {
            return Err(field_err(field, item, "a range has exactly one `-`"));
        }
        (parse_value(field, item, a)?, parse_value(field, item, b)?)
    } else {
        let value = parse_value(field, item, base)?;
        // `a/b` runs from `a` to the end of the field.
        (value, if step.is_some() { max } else { value })
    };
    let sequence: Vec<u32> = if start <= end {
        (start..=end).collect()
    } else if field == CronField::Year {
        return Err(field_err(
            field,
            item,
            format!("range start {start} is after its end {end} (year ranges do not wrap)"),
        ));
    } else {
        (start..=max).chain(min..=end).collect()
    };
    let step = step.unwrap_or(1) as usize;
    for value in sequence.into_iter().step_by(step) {
        set(value);
    }
    Ok(())
}

/// Splits a field into its comma-separated items, rejecting empty items.
fn items(field: CronField, text: &str) -> Result<Vec<&str>, ScheduleError> {
    let parts: Vec<&str> = text.split(',').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(field_err(field, text, "the list has an empty item"));
    }
    Ok(parts)
}

fn parse_plain_field(field: CronField, text: &str) -> Result<Vec<u32>, ScheduleError> {
    let mut values = Vec::new();
    for item in items(field, text)? {
        if item == "?" {
            return Err(field_err(field, item, "`?` is only allowed in the day-of-month and day-of-week fields"));
        }
        parse_plain_item(field, item, |v| values.push(v))?;
    }
    Ok(values)
}

fn to_mask64(values: &[u32]) -> u64 {
    values.iter().fold(0, |m, v| m | (1u64 << v))
}

fn parse_dom(text: &str) -> Result<Option<DomSpec>, ScheduleError> {
    let field = CronField::DayOfMonth;
    if text == "?" {
        return Ok(None);
    }
    let mut spec = DomSpec { days: 0, last: false, last_weekday: false, nearest_weekday: 0 };
    for item in items(field, text)? {
        let up = item.to_ascii_uppercase();
        if item == "?" {
            return Err(field_err(field, text, "`?` must be the whole field"));
        } else if up == "L" {
            spec.last = true;
        } else if up == "LW" {
            spec.last_weekday = true;
        } else if up.starts_with("L-") {
            return Err(field_err(
                field,
                item,
                "`L-n` (n days before the last day) is not supported by AWS; use `L`, `LW`, `nW` or plain days",
            ));
        } else if let Some(day) = item.strip_suffix(['W', 'w']) {
            if day.contains(['-', '/', '*', ',']) {
                return Err(field_err(field, item, "`W` takes a single day (`15W`), not a range, step or `*`"));
            }
            let day = parse_value(field, item, day)?;
            spec.nearest_weekday |= 1 << day;
        } else if up.contains(['L', 'W']) {
            return Err(field_err(field, item, "`L` and `W` may only be written as `L`, `LW` or `nW` (e.g. `15W`)"));
        } else if item.contains('#') {
            return Err(field_err(field, item, "`#` is only allowed in the day-of-week field"));
        } else {
            parse_plain_item(field, item, |d| spec.days |= 1 << d)?;
        }
    }
    Ok(Some(spec))
}

fn parse_dow(text: &str) -> Result<Option<DowSpec>, ScheduleError> {
    let field = CronField::DayOfWeek;
    if text == "?" {
        return Ok(None);
    }
    let mut spec = DowSpec { days: 0, last: 0, nth: None };
    for item in items(field, text)? {
        if item == "?" {
            return Err(field_err(field, text, "`?` must be the whole field"));
        } else if item.eq_ignore_ascii_case("L") {
            // `L` alone is the last day of the week: Saturday (7).
            spec.days |= 1 << 7;
        } else if let Some((day, nth)) = item.split_once('#') {
            if spec.nth.is_some() {
                return Err(field_err(field, text, "only one `#` expression is allowed"));
            }
            if day.contains(['-', '/', '*', 'L', 'l']) {
                return Err(field_err(
                    field,
                    item,
                    "`#` takes a single weekday (`THU#3`), not a range, step, `*` or `L`",
                ));
            }
            let day = parse_value(field, item, day)?;
            let n = match nth.parse::<u8>() {
                Ok(n @ 1..=5) if nth.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(field_err(field, item, "occurrence must be 1 to 5")),
            };
            spec.nth = Some((day as u8, n));
        } else if let Some(day) = item.strip_suffix(['L', 'l']) {
            if day.contains(['-', '/', '*']) {
                return Err(field_err(
                    field,
                    item,
                    "`L` takes a single weekday (`6L` = last Friday), not a range, step or `*`",
                ));
            }
            let day = parse_value(field, item, day)?;
            spec.last |= 1 << day;
        } else {
            parse_plain_item(field, item, |d| spec.days |= 1 << d)?;
        }
    }
    Ok(Some(spec))
}

/// All the times of day (seconds after local midnight) a cron expression
/// names, in ascending order.
fn times_of_day(seconds: u64, minutes: u64, hours: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for h in (0..24).filter(|h| hours & (1 << h) != 0) {
        for m in (0..60).filter(|m| minutes & (1u64 << m) != 0) {
            for s in (0..60).filter(|s| seconds & (1u64 << s) != 0) {
                out.push(h * 3600 + m * 60 + s);
            }
        }
    }
    out
}

fn hms(t: u32) -> String {
    format!("{:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

/// Smallest set bit of `mask` that is `>= from`, if any.
fn next_bit(mask: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let rest = mask >> from;
    (rest != 0).then(|| from + rest.trailing_zeros())
}

impl CronExpr {
    /// Parses the text between `cron(` and `)`.
    pub fn parse_body(body: &str) -> Result<CronExpr, ScheduleError> {
        let whole = format!("cron({body})");
        let raw: Vec<&str> = body.split_whitespace().collect();
        if raw.len() != 6 && raw.len() != 7 {
            return Err(ScheduleError::FieldCount { expr: whole, found: raw.len() });
        }
        let fields: Vec<String> = raw.iter().map(|f| f.to_ascii_uppercase()).collect();
        let (sec_text, rest) = if raw.len() == 7 { (Some(raw[0]), &raw[1..]) } else { (None, &raw[..]) };
        let seconds = match sec_text {
            Some(t) => to_mask64(&parse_plain_field(CronField::Seconds, t)?),
            None => 1,
        };
        let minutes = to_mask64(&parse_plain_field(CronField::Minutes, rest[0])?);
        let hours = to_mask64(&parse_plain_field(CronField::Hours, rest[1])?) as u32;
        let dom = parse_dom(rest[2])?;
        let months = to_mask64(&parse_plain_field(CronField::Month, rest[3])?) as u16;
        let dow = parse_dow(rest[4])?;
        let mut years = [0u64; 4];
        for y in parse_plain_field(CronField::Year, rest[5])? {
            let i = (y - 1970) as usize;
            years[i / 64] |= 1 << (i % 64);
        }
        match (&dom, &dow) {
            (None, None) => {
                return Err(ScheduleError::Cron {
                    expr: whole,
                    reason: "day-of-month and day-of-week are both `?`; exactly one of them must be `?`".into(),
                });
            }
            (Some(_), Some(_)) => {
                return Err(ScheduleError::Cron {
                    expr: whole,
                    reason: format!(
                        "day-of-month `{}` and day-of-week `{}` are both set; exactly one of them must be `?`",
                        rest[2], rest[4]
                    ),
                });
            }
            _ => {}
        }
        // The 5-minute rule, checked on the local wall clock: the smallest gap
        // between consecutive times of day, and across midnight (assuming, to be
        // safe, that any two days may be consecutive).
        let times = times_of_day(seconds, minutes, hours);
        let mut worst: Option<(u32, u32, u32)> = None;
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            if worst.is_none_or(|w| gap < w.2) {
                worst = Some((pair[0], pair[1], gap));
            }
        }
        if let (Some(&first), Some(&last)) = (times.first(), times.last()) {
            let gap = 86_400 - last + first;
            if worst.is_none_or(|w| gap < w.2) {
                worst = Some((last, first, gap));
            }
        }
        if let Some((a, b, gap)) = worst
            && gap < MIN_GAP_SECONDS
        {
            return Err(ScheduleError::TooFrequent { expr: whole, first: hms(a), second: hms(b), gap_seconds: gap });
        }
        Ok(CronExpr { fields, seconds, minutes, hours, dom, months, dow, years })
    }

    /// True when the expression has the leading Seconds field.
    pub fn has_seconds_field(&self) -> bool {
        self.fields.len() == 7
    }

    fn year_matches(&self, year: i16) -> bool {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return false;
        }
        let i = (year - MIN_YEAR) as usize;
        self.years[i / 64] & (1 << (i % 64)) != 0
    }

    /// The days of `year-month` on which the expression fires, as a mask
    /// (bit `d` = day `d`).
    fn day_mask(&self, year: i16, month: i8) -> u32 {
        let Ok(first) = Date::new(year, month, 1) else {
            return 0;
        };
        let dim = first.days_in_month() as u32;
        let first_dow = first.weekday().to_sunday_one_offset() as u32; // 1 = SUN
        let dow_of = |d: u32| (first_dow - 1 + d - 1) % 7 + 1;
        let is_weekday = |d: u32| (2..=6).contains(&dow_of(d));
        let valid = (((1u64 << (dim + 1)) - 1) & !1) as u32; // bits 1..=dim
        let mut mask = 0u32;
        if let Some(dom) = &self.dom {
            mask |= dom.days & valid;
            if dom.last {
                mask |= 1 << dim;
            }
            if dom.last_weekday {
                let mut d = dim;
                while !is_weekday(d) {
                    d -= 1;
                }
                mask |= 1 << d;
            }
            for n in (1..=31).filter(|n| dom.nearest_weekday & (1 << n) != 0) {
                if n > dim {
                    continue; // like a plain day that the month lacks
                }
                let d = match dow_of(n) {
                    7 if n == 1 => 3,       // Saturday the 1st → Monday the 3rd
                    7 => n - 1,             // Saturday → Friday before
                    1 if n == dim => n - 2, // Sunday the last → Friday before
                    1 => n + 1,             // Sunday → Monday after
                    _ => n,
                };
                mask |= 1 << d;
            }
        }
        if let Some(dow) = &self.dow {
            for d in 1..=dim {
                if dow.days & (1 << dow_of(d)) != 0 {
                    mask |= 1 << d;
                }
            }
            for w in (1..=7u32).filter(|w| dow.last & (1 << w) != 0) {
                let d = dim - (dow_of(dim) + 7 - w) % 7;
                mask |= 1 << d;
            }
            if let Some((w, n)) = dow.nth {
                let first_w = 1 + (u32::from(w) + 7 - first_dow) % 7;
                let d = first_w + 7 * (u32::from(n) - 1);
                if d <= dim {
                    mask |= 1 << d;
                }
            }
        }
        mask
    }

    /// The first time of day `>= (h0, m0, s0)` the expression names.
    fn first_time_at_or_after(&self, h0: u32, m0: u32, s0: u32) -> Option<(u32, u32, u32)> {
        let mut h = next_bit(u64::from(self.hours), h0)?;
        loop {
            let m_low = if h == h0 { m0 } else { 0 };
            let mut m = next_bit(self.minutes, m_low);
            while let Some(mi) = m {
                let s_low = if h == h0 && mi == m0 { s0 } else { 0 };
                if let Some(s) = next_bit(self.seconds, s_low) {
                    return Some((h, mi, s));
                }
                m = next_bit(self.minutes, mi + 1);
            }
            h = next_bit(u64::from(self.hours), h + 1)?;
        }
    }

    /// The earliest local wall-clock time `>= from` that the expression names,
    /// searching no further than the end of [`MAX_YEAR`]. Walks years, then
    /// months, then the (precomputed) matching days of each month, then times
    /// of day, so it never steps minute by minute.
    pub fn next_local(&self, from: DateTime) -> Option<DateTime> {
        let floor = Date::new(MIN_YEAR, 1, 1).ok()?.at(0, 0, 0, 0);
        let from = from.max(floor);
        let (fy, fm, fd) = (from.year(), from.month(), from.day());
        for y in fy..=MAX_YEAR {
            if !self.year_matches(y) {
                continue;
            }
            let first_month = if y == fy { fm } else { 1 };
            for m in first_month..=12 {
                if self.months & (1 << m) == 0 {
                    continue;
                }
                let mut days = self.day_mask(y, m);
                if y == fy && m == fm {
                    days &= !((1u32 << fd) - 1);
                }
                while days != 0 {
                    let d = days.trailing_zeros();
                    days &= days - 1;
                    let (h0, m0, s0) = if y == fy && m == fm && d == fd as u32 {
                        (from.hour() as u32, from.minute() as u32, from.second() as u32)
                    } else {
                        (0, 0, 0)
                    };
                    if let Some((h, mi, s)) = self.first_time_at_or_after(h0, m0, s0) {
                        let date = Date::new(y, m, d as i8).ok()?;
                        return Some(date.at(h as i8, mi as i8, s as i8, 0));
                    }
                }
            }
        }
        None
    }
}
