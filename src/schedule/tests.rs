//! Tests. Expected instants were worked out by hand and checked with
//! python's zoneinfo, never by running this code.

use super::*;

const UTC: &str = "UTC";
/// 2025-01-01T00:00:00Z: a creation time before every 2025 case.
const CREATED_2025: i64 = 1_735_689_600;

fn at(text: &str) -> i64 {
    parse_instant(text).unwrap_or_else(|e| panic!("bad test instant {text}: {e}"))
}

fn window(expr: &str, tz: &str, offset: Option<u8>) -> WindowSchedule {
    let expr = ScheduleExpr::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    WindowSchedule::new(expr, tz, offset, None, None, CREATED_2025).unwrap()
}

fn next_n(w: &WindowSchedule, after: &str, n: usize) -> Vec<String> {
    w.upcoming(at(after), n).into_iter().map(format_utc).collect()
}

fn parse_err(text: &str) -> String {
    match ScheduleExpr::parse(text) {
        Ok(e) => panic!("`{text}` should be rejected but parsed as {e}"),
        Err(e) => e.to_string(),
    }
}

// ---------------------------------------------------------------- instants

#[test]
fn format_and_parse_instants() {
    assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_utc(1_740_787_200), "2025-03-01T00:00:00Z");
    assert_eq!(format_utc(1_561_388_595), "2019-06-24T15:03:15Z");
    assert_eq!(format_utc(i64::MAX), format!("@{}", i64::MAX));
    // The digits written in place agree with jiff's strftime, across years, leap days and
    // the edges of the four-digit years (jiff's last instant is late on 9999-12-30).
    let year_one = -62_135_596_800;
    let last_second = 253_402_207_200;
    for t in [-100_000_000_000, year_one - 1, year_one, -1, 951_782_400, 951_868_799, 4_107_542_399, last_second]
        .into_iter()
        .chain((0..2_000).map(|i| -62_000_000_000 + i * 157_700_123))
    {
        let ts = jiff::Timestamp::from_second(t).unwrap();
        assert_eq!(format_utc(t), ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(), "{t}");
    }
    assert_eq!(parse_instant("2025-03-01T00:00:00Z"), Ok(1_740_787_200));
    assert_eq!(parse_instant("2025-03-01"), Ok(1_740_787_200));
    assert_eq!(parse_instant("2025-03-01T09:00:00+09:00"), Ok(1_740_787_200));
    assert_eq!(parse_instant("2019-01-01T00:03:15+09:00"), Ok(1_546_268_595));
    assert_eq!(parse_instant("2025-02-28T16:00-08:00"), Ok(1_740_787_200));
    assert_eq!(parse_instant("2025-03-01T00:00:00.999Z"), Ok(1_740_787_200));
    assert_eq!(parse_instant("1969-12-31T23:59:59.5Z"), Ok(-1));
    let e = parse_instant("2025-03-01T00:00:00").unwrap_err().to_string();
    assert!(e.contains("no UTC offset"), "{e}");
    let e = parse_instant("2025-02-30").unwrap_err().to_string();
    assert!(e.contains("not a calendar date"), "{e}");
    let e = parse_instant("yesterday").unwrap_err().to_string();
    assert!(e.starts_with("instant `yesterday`: not an RFC 3339"), "{e}");
    assert!(parse_instant("").is_err());
}

// ------------------------------------------------------- section 11.1 cases

#[test]
fn c1_third_thursday() {
    let w = window("cron(0 2 ? * THU#3 *)", UTC, None);
    assert_eq!(
        next_n(&w, "2025-03-01T00:00:00Z", 3),
        ["2025-03-20T02:00:00Z", "2025-04-17T02:00:00Z", "2025-05-15T02:00:00Z"]
    );
}

#[test]
fn c2_weekdays() {
    let w = window("cron(15 10 ? * MON-FRI *)", UTC, None);
    assert_eq!(
        next_n(&w, "2025-03-01T00:00:00Z", 3),
        ["2025-03-03T10:15:00Z", "2025-03-04T10:15:00Z", "2025-03-05T10:15:00Z"]
    );
}

#[test]
fn c3_last_day_of_month() {
    let w = window("cron(0 2 L * ? *)", UTC, None);
    assert_eq!(
        next_n(&w, "2025-03-01T00:00:00Z", 3),
        ["2025-03-31T02:00:00Z", "2025-04-30T02:00:00Z", "2025-05-31T02:00:00Z"]
    );
}

#[test]
fn c5_offset_two_days() {
    let w = window("cron(30 23 ? * TUE#3 *)", UTC, Some(2));
    assert_eq!(
        next_n(&w, "2025-03-01T00:00:00Z", 3),
        ["2025-03-20T23:30:00Z", "2025-04-17T23:30:00Z", "2025-05-22T23:30:00Z"]
    );
}

#[test]
fn c6_offset_skips_period_whose_cron_time_passed_at_creation() {
    let expr = ScheduleExpr::parse("cron(30 23 ? * TUE#3 *)").unwrap();
    let created = at("2025-03-19T00:00:00Z");
    let w = WindowSchedule::new(expr, UTC, Some(2), None, None, created).unwrap();
    // 03-18 23:30 + 2 days = 03-20 23:30 is still ahead, but 03-18 had passed.
    assert_eq!(
        next_n(&w, "2025-03-19T00:00:00Z", 3),
        ["2025-04-17T23:30:00Z", "2025-05-22T23:30:00Z", "2025-06-19T23:30:00Z"]
    );
}

#[test]
fn c10_los_angeles_across_dst_start() {
    let w = window("cron(0 9 ? * WED *)", "America/Los_Angeles", None);
    assert_eq!(
        next_n(&w, "2025-03-01T00:00:00Z", 3),
        ["2025-03-05T17:00:00Z", "2025-03-12T16:00:00Z", "2025-03-19T16:00:00Z"]
    );
}

#[test]
fn c11_every_eight_hours() {
    let w = window("cron(0 0/8 * * ? *)", UTC, None);
    assert_eq!(
        next_n(&w, "2025-03-01T00:00:00Z", 3),
        ["2025-03-01T08:00:00Z", "2025-03-01T16:00:00Z", "2025-03-02T00:00:00Z"]
    );
}

#[test]
fn c12_weekday_two_is_monday() {
    let w = window("cron(0 12 ? * 2 *)", UTC, None);
    assert_eq!(
        next_n(&w, "2025-03-01T00:00:00Z", 3),
        ["2025-03-03T12:00:00Z", "2025-03-10T12:00:00Z", "2025-03-17T12:00:00Z"]
    );
}

#[test]
fn c17_los_angeles_tuesday_afternoon() {
    let w = window("cron(0 16 ? * TUE *)", "America/Los_Angeles", None);
    assert_eq!(
        next_n(&w, "2025-03-01T00:00:00Z", 3),
        ["2025-03-05T00:00:00Z", "2025-03-11T23:00:00Z", "2025-03-18T23:00:00Z"]
    );
}

#[test]
fn c20_start_date_in_los_angeles() {
    let expr = ScheduleExpr::parse("cron(0 09 ? * WED *)").unwrap();
    let start = at("2021-01-01T00:00-08:00");
    let created = at("2020-12-01T00:00:00Z");
    let w = WindowSchedule::new(expr, "America/Los_Angeles", None, Some(start), None, created).unwrap();
    assert_eq!(
        w.upcoming(created, 2).into_iter().map(format_utc).collect::<Vec<_>>(),
        ["2021-01-06T17:00:00Z", "2021-01-13T17:00:00Z"]
    );
}

#[test]
fn c21_rate_seven_days_between_start_and_end() {
    let expr = ScheduleExpr::parse("rate(7 days)").unwrap();
    let start = at("2019-01-01T00:03:15+09:00");
    let end = at("2019-06-30T00:06:15+09:00");
    let created = at("2018-12-01T00:00:00Z");
    let w = WindowSchedule::new(expr, UTC, None, Some(start), Some(end), created).unwrap();
    let runs = w.upcoming(created, 100);
    assert_eq!(runs.len(), 26);
    assert_eq!(runs[0], 1_546_268_595); // 2019-01-01T00:03:15+09:00
    assert_eq!(format_utc(runs[1]), "2019-01-07T15:03:15Z");
    assert_eq!(format_utc(runs[2]), "2019-01-14T15:03:15Z");
    assert_eq!(runs[25], 1_561_388_595); // 2019-06-25T00:03:15+09:00
    assert!(runs.windows(2).all(|p| p[1] - p[0] == 7 * 86_400));
    assert_eq!(w.next_after(runs[25]), None);
}

// --------------------------------------------------- section 11.1 validation

#[test]
fn validation_rejects_listed_cases() {
    assert!(parse_err("cron(0 10 * * * *)").contains("exactly one of them must be `?`"));
    assert!(parse_err("cron(0 10 ? * ? *)").contains("both `?`"));
    assert!(parse_err("cron(* * ? * * *)").contains("more often than every 5 minutes"));
    assert!(parse_err("rate(1 hours)").contains("needs the unit `hour`"));
    assert!(parse_err("rate(5 hour)").contains("needs the unit `hours`"));
    assert!(parse_err("rate(0 minutes)").contains("must be positive"));

    let rate = ScheduleExpr::parse("rate(1 hour)").unwrap();
    assert_eq!(
        WindowSchedule::new(rate, UTC, Some(2), None, None, 0).unwrap_err(),
        ScheduleError::OffsetNotCron { expr: "rate(1 hour)".into() }
    );
    let cron = ScheduleExpr::parse("cron(0 10 ? * MON *)").unwrap();
    let e = WindowSchedule::new(cron.clone(), UTC, Some(7), None, None, 0).unwrap_err();
    assert_eq!(e.to_string(), "ScheduleOffset 7 is out of range; it must be 1 to 6 days");
    assert!(WindowSchedule::new(cron.clone(), UTC, Some(0), None, None, 0).is_err());
    assert!(WindowSchedule::new(cron.clone(), UTC, Some(6), None, None, 0).is_ok());
    let at_expr = ScheduleExpr::parse("at(2030-01-01T00:00:00)").unwrap();
    assert!(WindowSchedule::new(at_expr, UTC, Some(1), None, None, 0).is_err());
    // (Duration=25 and Cutoff=24 belong to the window, not to this module.)
}

#[test]
fn validation_accepts_listed_cases() {
    for ok in [
        "cron(24 30 09 ? * * *)",
        "cron(0 10 * * ? *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0/15 * * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0 0 ? * 3L *)",
        "rate(1 hour)",
        "rate(5 hours)",
        "rate(30 minutes)",
        "rate(1 day)",
        "rate(25 days)",
        "rate(5 minutes)",
        "at(2020-07-07T15:55:00)",
    ] {
        let e = ScheduleExpr::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert_eq!(ScheduleExpr::parse(&e.to_string()), Ok(e.clone()));
    }
}

#[test]
fn seven_field_expression_fires_with_seconds() {
    let w = window("cron(24 30 09 ? * * *)", UTC, None);
    assert_eq!(next_n(&w, "2025-03-01T00:00:00Z", 2), ["2025-03-01T09:30:24Z", "2025-03-02T09:30:24Z"]);
    // The 7-field form of C5 matches the 6-field one.
    let a = window("cron(0 30 23 ? * TUE#3 *)", UTC, None);
    let b = window("cron(30 23 ? * TUE#3 *)", UTC, None);
    assert_eq!(a.upcoming(at("2025-03-01"), 5), b.upcoming(at("2025-03-01"), 5));
    let w = window("cron(30 0/10 10 ? * * *)", UTC, None);
    assert_eq!(
        next_n(&w, "2025-03-01T10:04:59Z", 3),
        ["2025-03-01T10:10:30Z", "2025-03-01T10:20:30Z", "2025-03-01T10:30:30Z"]
    );
    assert_eq!(next_n(&w, "2025-03-01T10:50:30Z", 1), ["2025-03-02T10:00:30Z"]);
}

// --------------------------------------------------------- special characters

#[test]
fn nearest_weekday_w() {
    // 2025-01-15 Wed, 2025-03-15 Sat → Fri 14th, 2025-06-15 Sun → Mon 16th.
    let w = window("cron(0 0 15W 1,3,6 ? *)", UTC, None);
    assert_eq!(next_n(&w, "2025-01-01", 3), ["2025-01-15T00:00:00Z", "2025-03-14T00:00:00Z", "2025-06-16T00:00:00Z"]);
    // 2025-03-01 is a Saturday: 1W → Monday 3rd (never leaves the month);
    // 2025-04-01 Tue; 2025-06-01 Sun → Mon 2nd.
    let w = window("cron(0 0 1W 3,4,6 ? *)", UTC, None);
    assert_eq!(next_n(&w, "2025-02-15", 3), ["2025-03-03T00:00:00Z", "2025-04-01T00:00:00Z", "2025-06-02T00:00:00Z"]);
    // 31W: 2025-07-31 Thu; 2025-08-31 Sun and the last day → Fri 29th; months
    // without a 31st are skipped; 2025-10-31 Fri.
    let w = window("cron(0 0 31W * ? *)", UTC, None);
    assert_eq!(next_n(&w, "2025-07-01", 3), ["2025-07-31T00:00:00Z", "2025-08-29T00:00:00Z", "2025-10-31T00:00:00Z"]);
}

#[test]
fn last_weekday_lw() {
    // 2025-05-31 Sat → 30th; 2025-06-30 Mon; 2025-07-31 Thu; 2025-08-31 Sun → 29th.
    let w = window("cron(0 0 LW * ? *)", UTC, None);
    assert_eq!(
        next_n(&w, "2025-05-01", 4),
        ["2025-05-30T00:00:00Z", "2025-06-30T00:00:00Z", "2025-07-31T00:00:00Z", "2025-08-29T00:00:00Z"]
    );
}

#[test]
fn last_weekday_of_month_nl() {
    let w = window("cron(0 0 ? * 6L *)", UTC, None); // last Friday
    assert_eq!(next_n(&w, "2025-03-01", 3), ["2025-03-28T00:00:00Z", "2025-04-25T00:00:00Z", "2025-05-30T00:00:00Z"]);
    let w = window("cron(0 0 ? * 3L *)", UTC, None); // last Tuesday
    assert_eq!(next_n(&w, "2025-03-01", 2), ["2025-03-25T00:00:00Z", "2025-04-29T00:00:00Z"]);
    // `L` alone in day-of-week is Saturday.
    let w = window("cron(0 0 ? * L *)", UTC, None);
    assert_eq!(next_n(&w, "2025-03-02", 1), ["2025-03-08T00:00:00Z"]);
}

#[test]
fn fifth_weekday_skips_months_without_one() {
    // Fifth Monday (2#5): 2025-03-31, then June 30, then September 29.
    let w = window("cron(0 0 ? * 2#5 *)", UTC, None);
    assert_eq!(next_n(&w, "2025-03-01", 3), ["2025-03-31T00:00:00Z", "2025-06-30T00:00:00Z", "2025-09-29T00:00:00Z"]);
}

#[test]
fn last_day_of_february_in_leap_year() {
    let w = window("cron(0 0 L 2 ? *)", UTC, None);
    assert_eq!(next_n(&w, "2027-03-01", 3), ["2028-02-29T00:00:00Z", "2029-02-28T00:00:00Z", "2030-02-28T00:00:00Z"]);
}

#[test]
fn year_lists_and_ranges() {
    let w = window("cron(0 12 1 1 ? 2026,2028-2029)", UTC, None);
    assert_eq!(next_n(&w, "2025-06-01", 5), ["2026-01-01T12:00:00Z", "2028-01-01T12:00:00Z", "2029-01-01T12:00:00Z"]);
    let w = window("cron(0 12 1 1 ? 2026/3)", UTC, None);
    assert_eq!(next_n(&w, "2025-06-01", 2), ["2026-01-01T12:00:00Z", "2029-01-01T12:00:00Z"]);
}

#[test]
fn month_names_are_case_insensitive() {
    let w = window("cron(0 6 1 jan,JUL ? *)", UTC, None);
    assert_eq!(next_n(&w, "2025-03-01", 2), ["2025-07-01T06:00:00Z", "2026-01-01T06:00:00Z"]);
    assert_eq!(ScheduleExpr::parse("cron(0 6 1 jan,Jul ? *)").unwrap().to_string(), "cron(0 6 1 JAN,JUL ? *)");
    let w = window("cron(0 6 ? * mon *)", UTC, None);
    assert_eq!(next_n(&w, "2025-03-01", 1), ["2025-03-03T06:00:00Z"]);
}

#[test]
fn wrap_around_ranges() {
    // 2025-03-05 is a Wednesday.
    let w = window("cron(0 9 ? * FRI-MON *)", UTC, None);
    assert_eq!(
        next_n(&w, "2025-03-05", 5),
        [
            "2025-03-07T09:00:00Z",
            "2025-03-08T09:00:00Z",
            "2025-03-09T09:00:00Z",
            "2025-03-10T09:00:00Z",
            "2025-03-14T09:00:00Z"
        ]
    );
    let w = window("cron(0 23-1 1 NOV-JAN ? *)", UTC, None);
    assert_eq!(
        next_n(&w, "2025-03-05", 4),
        ["2025-11-01T00:00:00Z", "2025-11-01T01:00:00Z", "2025-11-01T23:00:00Z", "2025-12-01T00:00:00Z"]
    );
    assert!(parse_err("cron(0 0 1 1 ? 2030-2020)").contains("year ranges do not wrap"));
}

// ------------------------------------------------------------------------ DST

#[test]
fn new_york_spring_forward_gap_fires_at_the_jump() {
    // 2025-03-09: 02:00 EST jumps to 03:00 EDT (07:00Z).
    let w = window("cron(30 2 * * ? *)", "America/New_York", None);
    assert_eq!(
        next_n(&w, "2025-03-08T00:00:00Z", 3),
        ["2025-03-08T07:30:00Z", "2025-03-09T07:00:00Z", "2025-03-10T06:30:00Z"]
    );
}

#[test]
fn new_york_fall_back_fires_once_at_first_occurrence() {
    // 2025-11-02: 01:30 EDT is 05:30Z, 01:30 EST (06:30Z) is skipped.
    let w = window("cron(30 1 * * ? *)", "America/New_York", None);
    assert_eq!(next_n(&w, "2025-11-01T12:00:00Z", 2), ["2025-11-02T05:30:00Z", "2025-11-03T06:30:00Z"]);
    // Starting inside the repeated hour (01:15 EST) does not fire 01:30 again.
    assert_eq!(next_n(&w, "2025-11-02T06:15:00Z", 1), ["2025-11-03T06:30:00Z"]);
}

#[test]
fn berlin_spring_forward_and_fall_back() {
    let w = window("cron(30 2 ? * SUN *)", "Europe/Berlin", None);
    // 2025-03-30 02:30 does not exist: fires at the jump, 01:00Z.
    assert_eq!(next_n(&w, "2025-03-23T12:00:00Z", 2), ["2025-03-30T01:00:00Z", "2025-04-06T00:30:00Z"]);
    // 2025-10-26 02:30 happens twice: CEST first (00:30Z).
    assert_eq!(next_n(&w, "2025-10-20T00:00:00Z", 2), ["2025-10-26T00:30:00Z", "2025-11-02T01:30:00Z"]);
}

#[test]
fn offset_days_count_on_the_local_calendar() {
    // Saturday 2025-03-08 12:00 EST + 2 days = Monday 03-10 12:00 EDT (16:00Z),
    // only 47 elapsed hours later.
    let w = window("cron(0 12 ? * SAT *)", "America/New_York", Some(2));
    assert_eq!(next_n(&w, "2025-03-08T00:00:00Z", 1), ["2025-03-10T16:00:00Z"]);
}

// ------------------------------------------------------------------------- at

#[test]
fn at_fires_once_in_its_zone() {
    let w = window("at(2025-07-04T09:00:00)", "America/New_York", None);
    assert_eq!(next_n(&w, "2025-07-01", 3), ["2025-07-04T13:00:00Z"]);
    assert_eq!(w.next_after(at("2025-07-04T13:00:00Z")), None);
    let expr = ScheduleExpr::parse("at(2020-07-07T15:55:00)").unwrap();
    let w = WindowSchedule::new(expr, UTC, None, None, None, 0).unwrap();
    assert_eq!(w.next_after(0), Some(at("2020-07-07T15:55:00Z")));
    // Inside a gap: the jump instant.
    let w = window("at(2025-03-09T02:30:00)", "America/New_York", None);
    assert_eq!(next_n(&w, "2025-03-01", 1), ["2025-03-09T07:00:00Z"]);
    // Before the window existed: never fires.
    let w = window("at(2024-07-04T09:00:00)", UTC, None);
    assert_eq!(w.next_after(0), None);
}

#[test]
fn at_rejects_malformed_text() {
    assert!(parse_err("at(2025-02-30T00:00:00)").contains("2025-02-30 is not a calendar date"));
    assert!(parse_err("at(2025-02-10T24:00:00)").contains("is not a time of day"));
    assert!(parse_err("at(2025-02-10 10:00:00)").contains("expected exactly YYYY-MM-DDThh:mm:ss"));
    assert!(parse_err("at(2025-02-10T10:00:00Z)").contains("expected exactly"));
    assert!(parse_err("at()").contains("expected exactly"));
}

// ------------------------------------------------------------------- bounds

#[test]
fn start_and_end_dates_bound_the_firings_inclusively() {
    let expr = ScheduleExpr::parse("cron(0 12 * * ? *)").unwrap();
    let start = at("2025-03-10T00:00:00Z");
    let end = at("2025-03-12T12:00:00Z");
    let w = WindowSchedule::new(expr.clone(), UTC, None, Some(start), Some(end), 0).unwrap();
    assert_eq!(next_n(&w, "2025-03-01", 10), ["2025-03-10T12:00:00Z", "2025-03-11T12:00:00Z", "2025-03-12T12:00:00Z"]);
    let e = WindowSchedule::new(expr.clone(), UTC, None, Some(end), Some(end), 0).unwrap_err();
    assert_eq!(e.to_string(), "EndDate 2025-03-12T12:00:00Z must be later than StartDate 2025-03-12T12:00:00Z");
    // Start bound applies to the fire instant, after the offset.
    let w = WindowSchedule::new(
        ScheduleExpr::parse("cron(0 12 ? * MON *)").unwrap(),
        UTC,
        Some(3),
        Some(at("2025-03-05T00:00:00Z")),
        None,
        0,
    )
    .unwrap();
    // Monday 03-03 + 3 = Thursday 03-06, inside the bound.
    assert_eq!(next_n(&w, "2025-03-01", 1), ["2025-03-06T12:00:00Z"]);
}

#[test]
fn created_at_is_inclusive_and_nothing_fires_before_it() {
    let expr = ScheduleExpr::parse("cron(0 12 * * ? *)").unwrap();
    let created = at("2025-03-10T12:00:00Z");
    let w = WindowSchedule::new(expr, UTC, None, None, None, created).unwrap();
    assert_eq!(next_n(&w, "2025-01-01", 2), ["2025-03-10T12:00:00Z", "2025-03-11T12:00:00Z"]);
}

#[test]
fn rate_anchors() {
    let r = ScheduleExpr::parse("rate(30 minutes)").unwrap();
    let w = WindowSchedule::new(r.clone(), UTC, None, None, None, 1_000).unwrap();
    assert_eq!(w.upcoming(0, 3), [1_000, 2_800, 4_600]);
    assert_eq!(w.next_after(1_000), Some(2_800));
    assert_eq!(w.next_after(2_799), Some(2_800));
    // A StartDate before creation is replaced by the creation time.
    let w = WindowSchedule::new(r.clone(), UTC, None, Some(10), None, 1_000).unwrap();
    assert_eq!(w.next_after(0), Some(1_000));
    // A StartDate after creation is the anchor; EndDate stops it.
    let w = WindowSchedule::new(r, UTC, None, Some(5_000), Some(8_600), 1_000).unwrap();
    assert_eq!(w.upcoming(0, 10), [5_000, 6_800, 8_600]);
    // A day is 86 400 s even across DST.
    let d = ScheduleExpr::parse("rate(1 day)").unwrap();
    let created = at("2025-03-08T12:00:00Z");
    let w = WindowSchedule::new(d, "America/New_York", None, None, None, created).unwrap();
    assert_eq!(next_n(&w, "2025-03-08T12:00:00Z", 1), ["2025-03-09T12:00:00Z"]);
}

#[test]
fn rate_errors() {
    assert!(parse_err("rate(4 minutes)").contains("more often than every 5 minutes"));
    assert!(parse_err("rate(1 minute)").contains("more often than every 5 minutes"));
    assert!(parse_err("rate(5 weeks)").contains("unit `weeks` must be one of"));
    assert!(parse_err("rate(-5 minutes)").contains("positive whole number"));
    assert!(parse_err("rate(5)").contains("two parts, found 1"));
    assert!(parse_err("rate(99999999999 days)").contains("too large"));
    let huge = window("rate(4294967295 days)", UTC, None);
    let runs = huge.upcoming(CREATED_2025, 3);
    assert_eq!(runs[1] - runs[0], 4_294_967_295 * 86_400);
}

// ----------------------------------------------------------------- errors

#[test]
fn error_messages_name_the_problem() {
    assert_eq!(parse_err("cron(0 10 ? * MON#6 *)"), "day-of-week field `MON#6`: occurrence must be 1 to 5");
    assert_eq!(parse_err("cron(60 10 * * ? *)"), "minutes field `60`: value 60 is out of range 0-59");
    assert_eq!(parse_err("cron(0 24 * * ? *)"), "hours field `24`: value 24 is out of range 0-23");
    assert_eq!(
        parse_err("cron(0 10 ? JANU MON *)"),
        "month field `JANU`: `JANU` is not a month name; expected 1-12 or JAN-DEC"
    );
    assert_eq!(
        parse_err("cron(0 10 ? * FUNDAY *)"),
        "day-of-week field `FUNDAY`: `FUNDAY` is not a weekday name; expected 1-7 or SUN-SAT"
    );
    assert_eq!(parse_err("cron(0 10 ? * 8 *)"), "day-of-week field `8`: value 8 is out of range 1-7");
    assert_eq!(parse_err("cron(0 10 0 * ? *)"), "day-of-month field `0`: value 0 is out of range 1-31");
    assert_eq!(parse_err("cron(0 10 1 * ? 1969)"), "year field `1969`: value 1969 is out of range 1970-2199");
    assert_eq!(
        parse_err("cron(0 10 ? * 2)"),
        "cron expression `cron(0 10 ? * 2)` has 5 field(s); expected 6 (Minutes Hours Day-of-month Month Day-of-week Year) or 7 (a leading Seconds field, then those six)"
    );
    assert!(parse_err("cron(0 0 10 ? * 2 * *)").contains("has 8 field(s)"));
    assert!(parse_err("cron()").contains("has 0 field(s)"));
    assert_eq!(parse_err("hello"), "schedule `hello`: expected `cron(...)`, `rate(...)` or `at(...)`: no `(` found");
    assert!(parse_err("cronjob(0 10 * * ? *)").contains("unknown expression kind `cronjob`"));
    assert!(parse_err("CRON(0 10 * * ? *)").contains("unknown expression kind `CRON`"));
    assert!(parse_err("cron(0 10 * * ? *").contains("missing the closing `)`"));
    assert!(parse_err("cron((0 10 * * ? *))").contains("unbalanced parentheses"));
    assert!(parse_err("cron(0 10 * * ? *))").contains("unbalanced parentheses"));
    assert!(parse_err("cron(0 10 * * ? *) x").contains("missing the closing `)`"));
    assert_eq!(parse_err("   "), ScheduleError::Empty.to_string());
    assert_eq!(
        parse_err("cron(0 10 ? * MON#1,FRI#2 *)"),
        "day-of-week field `MON#1,FRI#2`: only one `#` expression is allowed"
    );
    assert!(parse_err("cron(0 10 L-2 * ? *)").contains("`L-n`"));
    assert!(parse_err("cron(0 10 1-5W * ? *)").contains("`W` takes a single day"));
    assert!(parse_err("cron(0 10 ? * 5W *)").contains("not a weekday name"));
    assert!(parse_err("cron(0 10 1#2 * ? *)").contains("only allowed in the day-of-week field"));
    assert!(parse_err("cron(0 L * * ? *)").contains("hours field `L`"));
    assert!(parse_err("cron(0 ? * * ? *)").contains("`?` is only allowed in the day"));
    assert!(parse_err("cron(0 10 ?,1 * ? *)").contains("`?` must be the whole field"));
    assert!(parse_err("cron(0 10 1,,2 * ? *)").contains("empty item"));
    assert!(parse_err("cron(0/0 10 * * ? *)").contains("step 0 is out of range 1-60"));
    assert!(parse_err("cron(0/x 10 * * ? *)").contains("step `x` must be a whole number"));
    assert!(parse_err("cron(0 1-2-3 * * ? *)").contains("exactly one `-`"));
    assert!(parse_err("cron(0 10 * * ? 99999999999)").contains("too large"));
    assert!(parse_err("cron(0 10 ? * THU#x *)").contains("occurrence must be 1 to 5"));
    assert!(parse_err("cron(0 10 ? * MON-FRI#2 *)").contains("single weekday"));
    let e = ScheduleExpr::parse("cron(0 10 ? * MON *)").unwrap();
    let err = WindowSchedule::new(e, "Mars/Olympus_Mons", None, None, None, 0).unwrap_err();
    assert_eq!(err.to_string(), "ScheduleTimezone `Mars/Olympus_Mons` is not a known IANA time zone name");
}

#[test]
fn five_minute_rule() {
    assert_eq!(
        parse_err("cron(0/2 * ? * * *)"),
        "cron expression `cron(0/2 * ? * * *)` fires more often than every 5 minutes: 00:00:00 and 00:02:00 (local time) are only 120 s apart; maintenance windows need at least 5 minutes between runs"
    );
    assert!(parse_err("cron(0,4 10 * * ? *)").contains("240 s apart"));
    assert!(parse_err("cron(0,10 * * * * ? *)").contains("10 s apart"));
    // Across the hour: minute 58 then minute 1 of the next hour.
    assert!(parse_err("cron(1,58 * * * ? *)").contains("00:58:00 and 01:01:00"));
    // Across midnight.
    assert!(parse_err("cron(58,1 23,0 * * ? *)").contains("23:58:00 and 00:01:00"));
    for ok in [
        "cron(0/5 * * * ? *)",
        "cron(1,58 10 * * ? *)",
        "cron(1,58 10,12 * * ? *)",
        "cron(0 0/5 * * * ? *)",
        "cron(3,58 * * * ? *)",
    ] {
        assert!(ScheduleExpr::parse(ok).is_ok(), "{ok}");
    }
}

#[test]
fn timezone_names() {
    let e = ScheduleExpr::parse("cron(0 10 ? * MON *)").unwrap();
    let w = WindowSchedule::new(e.clone(), "asia/seoul", None, None, None, 0).unwrap();
    assert_eq!(w.timezone_name(), "Asia/Seoul");
    let w = WindowSchedule::new(e.clone(), "UTC", None, None, None, 0).unwrap();
    assert_eq!(w.timezone_name(), "UTC");
    assert!(WindowSchedule::new(e.clone(), "", None, None, None, 0).is_err());
    assert!(WindowSchedule::new(e, " UTC", None, None, None, 0).is_err());
}

// ------------------------------------------------------- termination / speed

#[test]
fn schedules_that_never_fire_again_return_none() {
    // The search is bounded by the year 2199, so these terminate; how fast is measured by
    // the next-fire benchmark, not here.
    for expr in [
        "cron(0 0 31 2 ? *)",
        "cron(0 0 30 2 ? *)",
        "cron(0 0 29 2 ? 2199)",
        "cron(0 0 1 1 ? 2020)",
        "cron(0 0 ? 2 2#5 2197-2199)",
    ] {
        let w = window(expr, UTC, None);
        assert_eq!(w.next_after(at("2025-03-01")), None, "{expr}");
        let w = window(expr, "Pacific/Kiritimati", Some(6));
        assert_eq!(w.next_after(at("2025-03-01")), None, "{expr}");
    }
    // Extreme inputs do not panic.
    let w = window("cron(0 0 * * ? *)", UTC, Some(6));
    assert_eq!(w.next_after(i64::MAX), None);
    assert_eq!(w.next_after(i64::MIN), Some(CREATED_2025 + 6 * 86_400));
    let last = window("cron(59 23 31 12 ? 2199)", "Pacific/Kiritimati", Some(6));
    assert_eq!(next_n(&last, "2199-01-01", 2), ["2200-01-06T09:59:00Z"]);
    let w = window("rate(5 minutes)", UTC, None);
    assert_eq!(w.next_after(i64::MAX), None);
    assert_eq!(w.next_after(i64::MIN), Some(CREATED_2025));
}

// ------------------------------------------------- property: brute force

/// Tiny deterministic PRNG (xorshift64*), so the test needs no crates.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn gen_time_field(rng: &mut Rng, max: u64) -> String {
    match rng.below(7) {
        0 => rng.below(max + 1).to_string(),
        1 => format!("{},{}", rng.below(max + 1), rng.below(max + 1)),
        2 => format!("{}/{}", rng.below(max + 1), rng.range(5, 30)),
        3 => format!("*/{}", rng.range(5, 30)),
        4 => format!("{}-{}/{}", rng.below(max + 1), rng.below(max + 1), rng.range(5, 20)),
        5 => "*".to_string(),
        _ => format!("{}-{}", rng.below(max + 1), rng.below(max + 1)),
    }
}

fn gen_expr(rng: &mut Rng, seconds: bool) -> String {
    let sec = if seconds { format!("{} ", gen_time_field(rng, 59)) } else { String::new() };
    let minutes = gen_time_field(rng, 59);
    let hours = gen_time_field(rng, 23);
    let month = match rng.below(5) {
        0 => rng.range(1, 12).to_string(),
        1 => rng.pick(&["JAN,JUN", "NOV-FEB", "*/3", "2-11/2", "MAR,sep,12"]).to_string(),
        _ => "*".to_string(),
    };
    let year = match rng.below(6) {
        0 => "2025-2027".to_string(),
        1 => "2026,2028".to_string(),
        2 => "2024/2".to_string(),
        3 => "2031".to_string(),
        _ => "*".to_string(),
    };
    let (dom, dow) = if rng.below(2) == 0 {
        let dom = match rng.below(8) {
            0 => rng.range(1, 31).to_string(),
            1 => format!("{}W", rng.range(1, 31)),
            2 => "L".to_string(),
            3 => "LW".to_string(),
            4 => format!("{}-{}", rng.range(1, 31), rng.range(1, 31)),
            5 => format!("{}/{}", rng.range(1, 31), rng.range(1, 10)),
            6 => rng.pick(&["1,15,L", "L,1W", "29,30,31", "28-3"]).to_string(),
            _ => "*".to_string(),
        };
        (dom, "?".to_string())
    } else {
        let dow = match rng.below(8) {
            0 => rng.range(1, 7).to_string(),
            1 => format!("{}L", rng.range(1, 7)),
            2 => format!("{}#{}", rng.range(1, 7), rng.range(1, 5)),
            3 => rng.pick(&["MON-FRI", "FRI-MON", "sat,SUN", "*/2", "L", "2,4,6L"]).to_string(),
            4 => format!("{}-{}", rng.range(1, 7), rng.range(1, 7)),
            5 => format!("{}#{},{}", rng.range(1, 7), rng.range(1, 5), rng.range(1, 7)),
            _ => "*".to_string(),
        };
        ("?".to_string(), dow)
    };
    format!("cron({sec}{minutes} {hours} {dom} {month} {dow} {year})")
}

/// Civil date from days since 1970-01-01 (proleptic Gregorian), written out
/// independently of the code under test.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

fn value_of(text: &str) -> u32 {
    const NAMES: [&str; 19] = [
        "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP",
        "OCT", "NOV", "DEC",
    ];
    let up = text.to_ascii_uppercase();
    match NAMES.iter().position(|n| *n == up) {
        Some(i) if i < 7 => i as u32 + 1,
        Some(i) => i as u32 - 6,
        None => text.parse().unwrap(),
    }
}

/// Does plain item `item` (of a field with values min..=max) contain `v`?
fn plain_item_matches(item: &str, v: u32, min: u32, max: u32) -> bool {
    let (base, step) = match item.split_once('/') {
        Some((b, s)) => (b, s.parse::<u32>().unwrap()),
        None => (item, 1),
    };
    let (a, b) = if base == "*" {
        (min, max)
    } else if let Some((a, b)) = base.split_once('-') {
        (value_of(a), value_of(b))
    } else if item.contains('/') {
        (value_of(base), max)
    } else {
        (value_of(base), value_of(base))
    };
    let span = max - min + 1;
    // Position of v along a, a+1, ... (wrapping past max back to min).
    let pos = (v + span - a) % span;
    let len = (b + span - a) % span;
    pos <= len && pos.is_multiple_of(step) && v >= min && v <= max
}

fn field_matches(field: &str, v: u32, min: u32, max: u32) -> bool {
    field.split(',').any(|item| plain_item_matches(item, v, min, max))
}

/// Sunday = 1.
fn weekday(y: i64, m: u32, d: u32) -> u32 {
    // Sakamoto's method: 0 = Sunday.
    const T: [i64; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if m < 3 { y - 1 } else { y };
    ((y + y / 4 - y / 100 + y / 400 + T[m as usize - 1] + i64::from(d)).rem_euclid(7) + 1) as u32
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    // Count days from 1970-01-01 by whole years and months: slow, obvious.
    let mut days = 0i64;
    for year in 1970..y {
        days += if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 { 366 } else { 365 };
    }
    for month in 1..m {
        days += i64::from(days_in_month(y, month));
    }
    days + i64::from(d) - 1
}

fn is_mon_to_fri(y: i64, m: u32, d: u32) -> bool {
    (2..=6).contains(&weekday(y, m, d))
}

fn dom_item_matches(item: &str, y: i64, m: u32, d: u32) -> bool {
    let dim = days_in_month(y, m);
    if item == "L" {
        return d == dim;
    }
    if item == "LW" {
        return is_mon_to_fri(y, m, d) && ((d + 1)..=dim).all(|e| !is_mon_to_fri(y, m, e));
    }
    if let Some(n) = item.strip_suffix('W') {
        let n: u32 = n.parse().unwrap();
        if n > dim {
            return false;
        }
        // The Mon-Fri day of this month closest to n; Quartz's choice when two
        // are equally close cannot arise (n itself is Sat or Sun).
        let best = (1..=dim).filter(|&e| is_mon_to_fri(y, m, e)).min_by_key(|&e| e.abs_diff(n)).unwrap();
        return d == best;
    }
    plain_item_matches(item, d, 1, 31)
}

fn dow_item_matches(item: &str, y: i64, m: u32, d: u32) -> bool {
    let w = weekday(y, m, d);
    let dim = days_in_month(y, m);
    if item == "L" {
        return w == 7;
    }
    if let Some((day, n)) = item.split_once('#') {
        return w == value_of(day) && (d - 1) / 7 + 1 == n.parse::<u32>().unwrap();
    }
    if let Some(day) = item.strip_suffix('L') {
        return w == value_of(day) && d + 7 > dim;
    }
    plain_item_matches(item, w, 1, 7)
}

/// Does the (6-field, with an implicit seconds `0`, or 7-field) expression
/// `text` match UTC civil time y-m-d h:mi:s?
fn brute_date_matches(f: &[&str], y: i64, m: u32, d: u32) -> bool {
    let [_, _, dom, month, dow, year] = f[f.len() - 6..] else { unreachable!() };
    if !field_matches(year, y as u32, 1970, 2199) || !field_matches(month, m, 1, 12) {
        return false;
    }
    if dom != "?" {
        dom.split(',').any(|i| dom_item_matches(i, y, m, d))
    } else {
        dow.split(',').any(|i| dow_item_matches(i, y, m, d))
    }
}

fn brute_time_matches(f: &[&str], h: u32, mi: u32, s: u32) -> bool {
    let seconds_ok = if f.len() == 7 { field_matches(f[0], s, 0, 59) } else { s == 0 };
    let [minutes, hours, ..] = f[f.len() - 6..] else { unreachable!() };
    seconds_ok && field_matches(minutes, mi, 0, 59) && field_matches(hours, h, 0, 23)
}

/// The first instant in (t, t + limit] matching `text` in UTC, found by
/// walking forward one step (a minute, or a second for 7 fields) at a time;
/// days whose date does not match are stepped over whole.
fn brute_next(text: &str, t: i64, limit: i64) -> Option<i64> {
    let upper = text.to_ascii_uppercase();
    let body = &upper["CRON(".len()..upper.len() - 1];
    let f: Vec<&str> = body.split_whitespace().collect();
    let step = if f.len() == 7 { 1 } else { 60 };
    let mut cur = (t.div_euclid(step) + 1) * step;
    while cur <= t + limit {
        let days = cur.div_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        if !brute_date_matches(&f, y, m, d) {
            cur = (days + 1) * 86_400;
            continue;
        }
        let sod = cur.rem_euclid(86_400) as u32;
        if brute_time_matches(&f, sod / 3600, sod / 60 % 60, sod % 60) {
            return Some(cur);
        }
        cur += step;
    }
    None
}

fn property_check(seed: u64, count: usize, seconds: bool, limit: i64) {
    let mut rng = Rng(seed);
    let mut checked = 0;
    let mut fired = 0;
    while checked < count {
        let text = gen_expr(&mut rng, seconds);
        let Ok(expr) = ScheduleExpr::parse(&text) else {
            continue;
        };
        checked += 1;
        let w = WindowSchedule::new(expr, UTC, None, None, None, 0).unwrap();
        // 2024-01-01 .. 2027-01-01
        let t = 1_704_067_200 + rng.below(3 * 365 * 86_400) as i64;
        let got = w.next_after(t);
        if let Some(x) = got {
            assert!(x > t, "{text} after {t}: {x}");
        }
        let expected = brute_next(&text, t, limit);
        match (got, expected) {
            (Some(x), Some(e)) => assert_eq!(x, e, "{text} after {}", format_utc(t)),
            (Some(x), None) => {
                assert!(x > t + limit, "{text} after {}: brute force missed {}", format_utc(t), format_utc(x))
            }
            (None, Some(e)) => panic!("{text} after {}: None but brute force found {}", format_utc(t), format_utc(e)),
            (None, None) => {}
        }
        fired += usize::from(expected.is_some());
    }
    // The generator must produce mostly schedules that fire in range.
    assert!(fired * 2 > count, "only {fired} of {count} fired");
}

#[test]
fn brute_force_agrees_on_random_six_field_expressions() {
    property_check(0x9E37_79B9_7F4A_7C15, 400, false, 800 * 86_400);
}

#[test]
fn brute_force_agrees_on_random_seven_field_expressions() {
    property_check(0xD1B5_4A32_D192_ED03, 60, true, 800 * 86_400);
}

#[test]
fn brute_force_helpers_are_sane() {
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(20_148), (2025, 3, 1));
    assert_eq!(days_from_civil(2025, 3, 1), 20_148);
    assert_eq!(weekday(2025, 3, 1), 7); // Saturday
    assert_eq!(weekday(2025, 3, 2), 1); // Sunday
    for days in [0, 20_148, 21_000, 60_000, 70_000] {
        let (y, m, d) = civil_from_days(days);
        assert_eq!(days_from_civil(y, m, d), days);
        assert_eq!(weekday(y, m, d), ((days + 4).rem_euclid(7) + 1) as u32);
    }
    assert!(plain_item_matches("FRI-MON", 1, 1, 7));
    assert!(!plain_item_matches("FRI-MON", 3, 1, 7));
    assert!(plain_item_matches("0/15", 45, 0, 59));
    assert!(!plain_item_matches("0/15", 50, 0, 59));
}

#[test]
fn no_panics_on_random_input() {
    let pieces = [
        "cron(",
        "rate(",
        "at(",
        ")",
        "(",
        " ",
        "  ",
        "?",
        "*",
        "L",
        "W",
        "LW",
        "#",
        "/",
        "-",
        ",",
        "0",
        "1",
        "5",
        "7",
        "15",
        "31",
        "59",
        "60",
        "2199",
        "2200",
        "MON",
        "fri",
        "JAN",
        "x",
        "é",
        "０",
        "L-",
        "minutes",
        "hour",
        "2025-03-09T02:30:00",
        "T",
        ":",
        "99999999999999999999",
    ];
    let zones = ["UTC", "America/New_York", "Pacific/Kiritimati", "Australia/Lord_Howe"];
    let mut rng = Rng(42);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let mut text = String::new();
        if rng.below(2) == 0 {
            // Mutate a well-formed expression: replace one character.
            let seconds = rng.below(4) == 0;
            let good = loop {
                let candidate = gen_expr(&mut rng, seconds);
                if ScheduleExpr::parse(&candidate).is_ok() {
                    break candidate;
                }
            };
            let chars: Vec<char> = good.chars().collect();
            let at = rng.below(chars.len() as u64) as usize;
            text = chars[..at].iter().collect();
            text.push_str(rng.pick(&pieces));
            text.extend(&chars[at + 1..]);
        } else {
            // Random pieces, usually inside a keyword and parentheses.
            if rng.below(4) > 0 {
                text.push_str(rng.pick(&["cron(", "rate(", "at("]));
            }
            for _ in 0..rng.range(1, 14) {
                text.push_str(rng.pick(&pieces));
            }
            if rng.below(4) > 0 {
                text.push(')');
            }
        }
        if let Ok(expr) = ScheduleExpr::parse(&text) {
            parsed += 1;
            assert_eq!(ScheduleExpr::parse(&expr.to_string()), Ok(expr.clone()));
            let zone = rng.pick(&zones);
            let offset = matches!(expr, ScheduleExpr::Cron(_)).then_some(3);
            let w = WindowSchedule::new(expr, zone, offset, None, None, 0).unwrap();
            let t = rng.next() as i64 % 10_000_000_000;
            if let Some(x) = w.next_after(t) {
                assert!(x > t);
            }
        }
    }
    assert!(parsed > 300, "{parsed}");
}
