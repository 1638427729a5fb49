//! Time-zone lookup (bundled IANA database) and the local-time ⇄ instant
//! conversions with this module's DST rules.

use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone, TimeZoneDatabase};

use super::error::ScheduleError;

/// The tz database compiled into the binary (jiff's `tzdb-bundle-always`),
/// so results never depend on the host's `/usr/share/zoneinfo`.
fn database() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// Looks up an IANA zone name. Returns the zone and its canonical name (the
/// lookup itself ignores ASCII case, as jiff's does).
pub(crate) fn lookup(name: &str) -> Result<(TimeZone, String), ScheduleError> {
    let unknown = || ScheduleError::UnknownTimeZone { name: name.to_string() };
    if name.is_empty() || name.trim() != name {
        return Err(unknown());
    }
    let tz = database().get(name).map_err(|_| unknown())?;
    let canonical = tz.iana_name().unwrap_or(name).to_string();
    Ok((tz, canonical))
}

/// Seconds since the epoch of `dt` read as if it were UTC.
fn as_utc_seconds(dt: DateTime) -> Option<i64> {
    Offset::UTC.to_timestamp(dt).ok().map(Timestamp::as_second)
}

/// The instant at which the wall-clock time `dt` "happens" in `tz`:
/// * a normal local time: its one instant;
/// * a time that occurs twice (fall back): the first occurrence;
/// * a time skipped by a spring-forward gap: the instant of the transition,
///   i.e. the first valid instant after the gap.
///
/// This mapping never decreases as `dt` increases, which the search relies on.
pub(crate) fn local_to_instant(tz: &TimeZone, dt: DateTime) -> Option<i64> {
    let local = as_utc_seconds(dt)?;
    match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => Some(local - i64::from(offset.seconds())),
        AmbiguousOffset::Fold { before, after } => {
            let a = local - i64::from(before.seconds());
            let b = local - i64::from(after.seconds());
            Some(a.min(b))
        }
        AmbiguousOffset::Gap { before, after } => {
            // The gap in local time is [T + before, T + after) for transition T,
            // so T lies in (local - after, local - before].
            let lo = local - i64::from(after.seconds());
            let hi = local - i64::from(before.seconds());
            let start = Timestamp::from_second(lo).ok()?;
            let transition =
                tz.following(start).next().map(|t| t.timestamp().as_second()).filter(|t| *t > lo && *t <= hi);
            Some(transition.unwrap_or(hi))
        }
    }
}

/// The wall-clock time in `tz` at instant `t`, if `t` is in jiff's range.
pub(crate) fn instant_to_local(tz: &TimeZone, t: i64) -> Option<DateTime> {
    Timestamp::from_second(t).ok().map(|ts| tz.to_datetime(ts))
}
