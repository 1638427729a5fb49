//! Simulated time: whole seconds since the Unix epoch, in UTC.
//!
//! The simulation never reads the wall clock. Every instant is a [`SimTime`] and every span a
//! [`SimDuration`]; both are plain integers so that arithmetic is exact and results are
//! byte-identical on every machine. Calendar work (cron fields, time zones) lives in
//! `schedule/`, which converts to and from these integers.

use std::fmt;

/// An instant of simulated time: seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub i64);

/// A span of simulated time in seconds. Never negative once validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(pub i64);

impl SimDuration {
    pub const SECOND: SimDuration = SimDuration(1);
    pub const MINUTE: SimDuration = SimDuration(60);
    pub const HOUR: SimDuration = SimDuration(3_600);
    pub const DAY: SimDuration = SimDuration(86_400);

    pub const fn seconds(n: i64) -> SimDuration {
        SimDuration(n)
    }
    pub const fn minutes(n: i64) -> SimDuration {
        SimDuration(n * 60)
    }
    pub const fn hours(n: i64) -> SimDuration {
        SimDuration(n * 3_600)
    }
    pub const fn days(n: i64) -> SimDuration {
        SimDuration(n * 86_400)
    }
    pub fn as_secs(self) -> i64 {
        self.0
    }
    /// Hours as a float, for reports only.
    pub fn as_hours_f64(self) -> f64 {
        self.0 as f64 / 3_600.0
    }
}

impl SimTime {
    pub fn as_secs(self) -> i64 {
        self.0
    }
    /// `self - earlier`, which may be negative.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0 - earlier.0)
    }
    /// RFC 3339 in UTC with a `Z`, e.g. `2025-03-20T02:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        crate::schedule::format_utc(self.0)
    }
}

impl std::ops::Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl std::ops::Sub<SimDuration> for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(rhs.0))
    }
}

impl std::ops::Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(rhs.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Display for SimDuration {
    /// Compact human form: `3d4h`, `2h30m`, `45s`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        if rest == 0 {
            return f.write_str("0s");
        }
        if rest < 0 {
            f.write_str("-")?;
            rest = -rest;
        }
        for (unit, secs) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
            if rest >= secs {
                write!(f, "{}{}", rest / secs, unit)?;
                rest %= secs;
            }
        }
        Ok(())
    }
}

/// Parses a duration such as `30d`, `4h`, `90m`, `45s`, `1h30m` or `2d12h`.
///
/// Units are `d`, `h`, `m` and `s`; each may appear once, largest first. A bare number is
/// rejected because its unit would be a guess.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("empty duration; write it with units, e.g. `30d`, `4h` or `1h30m`".into());
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut last_rank = usize::MAX;
    for ch in trimmed.chars() {
        if ch.is_ascii_digit() {
            number.push(ch);
            continue;
        }
        let (rank, secs) = match ch {
            'd' => (0, 86_400),
            'h' => (1, 3_600),
            'm' => (2, 60),
            's' => (3, 1),
            _ => {
                return Err(format!(
                    "`{trimmed}` is not a duration: unexpected `{ch}`; use d, h, m and s, e.g. `1h30m`"
                ));
            }
        };
        if number.is_empty() {
            return Err(format!("`{trimmed}` is not a duration: `{ch}` has no number before it"));
        }
        if last_rank != usize::MAX && rank <= last_rank {
            return Err(format!("`{trimmed}` is not a duration: units must appear once each, largest first"));
        }
        last_rank = rank;
        let value: i64 =
            number.parse().map_err(|_| format!("`{trimmed}` is not a duration: `{number}` is too large"))?;
        total = value
            .checked_mul(secs)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| format!("`{trimmed}` is too long a duration"))?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(format!(
            "`{trimmed}` is not a duration: `{number}` has no unit; write e.g. `{number}s` or `{number}m`"
        ));
    }
    if total > crate::limits::MAX_DURATION_DAYS * 86_400 {
        return Err(format!(
            "`{trimmed}` is longer than {} days (limits::MAX_DURATION_DAYS)",
            crate::limits::MAX_DURATION_DAYS
        ));
    }
    Ok(SimDuration(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_largest_first() {
        assert_eq!(parse_duration("30d"), Ok(SimDuration::days(30)));
        assert_eq!(parse_duration("1h30m"), Ok(SimDuration::minutes(90)));
        assert_eq!(parse_duration("2d12h5m7s"), Ok(SimDuration(2 * 86_400 + 12 * 3_600 + 307)));
        assert_eq!(parse_duration("0s"), Ok(SimDuration(0)));
    }

    #[test]
    fn durations_are_at_most_a_hundred_years() {
        assert_eq!(parse_duration("36600d"), Ok(SimDuration::days(36_600)));
        let error = parse_duration("36600d1s").unwrap_err();
        assert!(error.contains("longer than 36600 days"), "{error}");
    }

    #[test]
    fn durations_reject_ambiguous_or_malformed_text() {
        for bad in ["", "30", "h", "1x", "30m1h", "1h1h", "-5m", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn durations_display_compactly() {
        assert_eq!(SimDuration(0).to_string(), "0s");
        assert_eq!(SimDuration(90_061).to_string(), "1d1h1m1s");
        assert_eq!(SimDuration::hours(36).to_string(), "1d12h");
    }
}
