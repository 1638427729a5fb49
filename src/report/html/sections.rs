//! The chart sections of the report, each from the files it needs.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use plotters::prelude::SeriesLabelPosition;

use super::charts::{Frame, Lane, PALETTE, Series, line_chart, steps, timeline};
use super::read::{Results, parse_instant};
use super::{ReportError, escape};

/// The run's extent in days, from `start` to `end` of the summary.
fn run_days(results: &Results) -> f64 {
    let end = results.summary.get("end").and_then(|v| v.as_str()).and_then(parse_instant);
    end.map_or(1.0, |end| ((end - results.start) as f64 / 86_400.0).max(1.0 / 24.0))
}

fn figure(html: &mut String, id: &str, svg: Result<String, String>) -> Result<(), ReportError> {
    let svg = svg.map_err(ReportError::Chart)?;
    let _ = writeln!(html, "<figure class=\"chart\" id=\"{}\">{svg}</figure>", escape(id));
    Ok(())
}

fn group_names(results: &Results) -> Vec<String> {
    let groups = results.summary.get("patch_groups").and_then(|v| v.as_array());
    groups
        .map(|g| g.iter().filter_map(|g| g.get("patch_group")?.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Per patch group: (day, [instances, compliant, true_compliant]) at every sample.
type GroupSeries = BTreeMap<String, Vec<(f64, [f64; 3])>>;

fn compliance_series(results: &Results) -> Result<GroupSeries, ReportError> {
    let table = &results.compliance;
    let (days, groups, metrics) =
        (table.days("time", results.start)?, table.texts("patch_group")?, table.texts("metric")?);
    let values = table.numbers("value")?;
    let mut series: BTreeMap<String, Vec<(f64, [f64; 3])>> = BTreeMap::new();
    for (((day, group), metric), value) in days.iter().zip(&groups).zip(&metrics).zip(&values) {
        let slot = match *metric {
            "instances" => 0,
            "compliant" => 1,
            "true_compliant" => 2,
            _ => continue,
        };
        let day = day.unwrap_or(0.0);
        let points = series.entry(group.to_string()).or_default();
        if points.last().is_none_or(|(d, _)| *d != day) {
            points.push((day, [0.0; 3]));
        }
        if let Some(last) = points.last_mut() {
            last.1[slot] = *value;
        }
    }
    Ok(series)
}

pub fn compliance(results: &Results) -> Result<String, ReportError> {
    let series = compliance_series(results)?;
    let target = results.summary.get("compliance_target").and_then(|v| v.as_f64()).unwrap_or(0.95) * 100.0;
    let days = run_days(results);
    let mut html = String::from(
        "<p class=\"note\">Compliant share of each patch group at every sample, as Patch Manager reports it beside the truth (no approved applicable patch missing, no reboot pending). The grey level is the scenario's compliance target.</p>\n",
    );
    for (index, group) in group_names(results).iter().enumerate() {
        let points = series.get(group).map(Vec::as_slice).unwrap_or(&[]);
        let share = |slot: usize| -> Vec<(f64, f64)> {
            let raw: Vec<(f64, f64)> =
                points.iter().map(|(d, v)| (*d, if v[0] > 0.0 { v[slot] / v[0] * 100.0 } else { 0.0 })).collect();
            steps(&raw)
        };
        let lines = [
            // The truth first, so that the reported line stays visible where they agree.
            Series { label: "true".into(), color: PALETTE[1], points: share(2), width: 6, opacity: 0.5 },
            Series { label: "reported".into(), color: PALETTE[0], points: share(1), width: 2, opacity: 1.0 },
            Series {
                label: format!("target {target:.0}%"),
                color: PALETTE[6],
                points: vec![(0.0, target), (days, target)],
                width: 1,
                opacity: 1.0,
            },
        ];
        let title = format!("{group}: compliant share");
        let frame = Frame {
            title: &title,
            x_desc: "day of the run",
            y_desc: "% compliant",
            x: 0.0..days,
            y: 0.0..101.0,
            size: (960, 260),
            legend: SeriesLabelPosition::UpperLeft,
        };
        figure(&mut html, &format!("compliance-{index}"), line_chart(&frame, &lines))?;
    }
    Ok(html)
}

pub fn exposure(results: &Results) -> Result<String, ReportError> {
    let table = &results.exposure;
    let (groups, quantiles, seconds) =
        (table.texts("patch_group")?, table.numbers("quantile")?, table.numbers("seconds")?);
    let mut by_group: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for ((group, q), s) in groups.iter().zip(&quantiles).zip(&seconds) {
        by_group.entry(group).or_default().push((s / 86_400.0, q * 100.0));
    }
    let max = seconds.iter().fold(1.0f64, |m, s| m.max(*s)) / 86_400.0;
    let lines: Vec<Series> = group_names(results)
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let points = by_group.get(g.as_str())?.clone();
            Some(Series { label: g.clone(), color: PALETTE[i % PALETTE.len()], points, width: 2, opacity: 1.0 })
        })
        .collect();
    let mut html = String::from(
        "<p class=\"note\">Cumulative distribution of exposure, release to effective installation, over (instance, approved applicable patch) pairs: the share of pairs closed within a given number of days. Pairs still open at the end count at the end.</p>\n",
    );
    let frame = Frame {
        title: "Exposure distribution",
        x_desc: "days from release to effective install",
        y_desc: "% of pairs",
        x: 0.0..max * 1.02,
        y: 0.0..101.0,
        size: (960, 320),
        legend: SeriesLabelPosition::LowerRight,
    };
    figure(&mut html, "exposure", line_chart(&frame, &lines))?;
    Ok(html)
}

pub fn windows(results: &Results) -> Result<String, ReportError> {
    let table = &results.windows;
    let days = run_days(results);
    let (names, statuses) = (table.texts("window")?, table.texts("status")?);
    let (scheduled, starts, ends) = (
        table.days("scheduled_start", results.start)?,
        table.days("start", results.start)?,
        table.days("end", results.start)?,
    );
    let windows = results.summary.get("windows").and_then(|v| v.as_array());
    let mut lanes: Vec<Lane> = windows
        .map(|w| {
            w.iter()
                .filter_map(|w| w.get("window")?.as_str())
                .map(|w| Lane { window: w.into(), executions: Vec::new() })
                .collect()
        })
        .unwrap_or_default();
    let mut seen: Vec<&str> = Vec::new();
    for index in 0..table.rows.len() {
        let Some(lane) = lanes.iter_mut().find(|l| l.window == names[index]) else { continue };
        let from = starts[index].or(scheduled[index]).unwrap_or(0.0);
        let to = ends[index].unwrap_or(if starts[index].is_some() { days } else { from });
        lane.executions.push((from, to, statuses[index].to_string()));
        if !seen.contains(&statuses[index]) {
            seen.push(statuses[index]);
        }
    }
    seen.sort_unstable();
    let mut html = String::from(
        "<p class=\"note\">Each maintenance-window execution from its start to its end, coloured by its status; executions that never started sit at their scheduled start.</p>\n",
    );
    figure(&mut html, "windows", timeline(&lanes, 0.0..days, &seen))?;
    Ok(html)
}

/// Lines of `column` per value of `key` in `table`, each a step line over days.
fn lines_by(
    results: &Results,
    table: &super::read::Table,
    key: &str,
    columns: &[(&str, &str)],
) -> Result<Vec<Series>, ReportError> {
    let (days, keys) = (table.days("time", results.start)?, table.texts(key)?);
    let mut names: Vec<&str> = keys.clone();
    names.sort_unstable();
    names.dedup();
    let mut out = Vec::new();
    for (column, label) in columns {
        let values = table.numbers(column)?;
        for name in &names {
            let points: Vec<(f64, f64)> =
                (0..keys.len()).filter(|&i| keys[i] == *name).map(|i| (days[i].unwrap_or(0.0), values[i])).collect();
            let color = PALETTE[out.len() % PALETTE.len()];
            out.push(Series {
                label: format!("{name} {label}"),
                color,
                points: steps(&points),
                width: 2,
                opacity: 1.0,
            });
        }
    }
    Ok(out)
}

fn y_top(series: &[Series]) -> f64 {
    series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(1.0f64, f64::max) * 1.1
}

pub fn repositories(results: &Results) -> Result<String, ReportError> {
    let mut html = String::new();
    if results.repository.rows.is_empty() {
        return Ok(html);
    }
    html.push_str("<p class=\"note\">Downloads active and queued for a connection at each sample, and the mean throughput since the previous sample.</p>\n");
    let days = run_days(results);
    let load = lines_by(
        results,
        &results.repository,
        "repository",
        &[("active_downloads", "active"), ("queued_downloads", "queued")],
    )?;
    let frame = Frame {
        title: "Downloads",
        x_desc: "day of the run",
        y_desc: "downloads",
        x: 0.0..days,
        y: 0.0..y_top(&load),
        size: (960, 280),
        legend: SeriesLabelPosition::UpperLeft,
    };
    figure(&mut html, "repository-downloads", line_chart(&frame, &load))?;
    let throughput = lines_by(results, &results.repository, "repository", &[("throughput_mbps", "throughput")])?;
    let frame = Frame {
        title: "Throughput",
        x_desc: "day of the run",
        y_desc: "Mbit/s",
        x: 0.0..days,
        y: 0.0..y_top(&throughput),
        size: (960, 280),
        legend: SeriesLabelPosition::UpperLeft,
    };
    figure(&mut html, "repository-throughput", line_chart(&frame, &throughput))?;
    Ok(html)
}

pub fn auto_scaling(results: &Results) -> Result<String, ReportError> {
    let mut html = String::from("<h2>Auto Scaling</h2>\n");
    if results.asg.rows.is_empty() {
        html.push_str("<p class=\"note\">The scenario has no Auto Scaling groups.</p>\n");
        return Ok(html);
    }
    html.push_str("<p class=\"note\">Desired and running capacity, instances on the newest image version, and the newest version baked.</p>\n");
    let days = run_days(results);
    let columns = [("desired", "desired"), ("running", "running"), ("running_on_newest_image", "on newest image")];
    let capacity = lines_by(results, &results.asg, "auto_scaling_group", &columns)?;
    let frame = Frame {
        title: "Capacity",
        x_desc: "day of the run",
        y_desc: "instances",
        x: 0.0..days,
        y: 0.0..y_top(&capacity),
        size: (960, 280),
        legend: SeriesLabelPosition::UpperLeft,
    };
    figure(&mut html, "asg-capacity", line_chart(&frame, &capacity))?;
    let versions =
        lines_by(results, &results.asg, "auto_scaling_group", &[("newest_image_version", "newest image version")])?;
    if versions.iter().all(|s| s.points.iter().all(|p| p.1 == 0.0)) {
        html.push_str("<p class=\"note\">No image pipeline baked a version in this run.</p>\n");
        return Ok(html);
    }
    let frame = Frame {
        title: "Image versions",
        x_desc: "day of the run",
        y_desc: "version",
        x: 0.0..days,
        y: 0.0..y_top(&versions),
        size: (960, 240),
        legend: SeriesLabelPosition::UpperLeft,
    };
    figure(&mut html, "asg-images", line_chart(&frame, &versions))?;
    Ok(html)
}
