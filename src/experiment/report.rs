//! The experiment's `report.html`: one self-contained page (inline CSS and SVG, no
//! scripts) with, per charted patch group, its compliance over time per variant (the mean
//! over seeds with its 95% band), and per metric a dot-and-interval plot of each variant's
//! mean and, against the reference, of the paired difference. Drawn from the runs and the
//! comparison alone, so a merge of shards draws the same page.

use std::fmt::Write as _;

use plotters::prelude::*;

use super::define::Experiment;
use super::execute::{CURVE_STEPS, RunMetrics};
use super::output::{Comparison, Row, unit_name};
use super::stats::{Estimate, estimate};
use crate::report::charts::{Frame, PALETTE, Series, drawing, lane_label, line_chart_over};
use crate::report::metrics::Unit;
use crate::report::{STYLE, escape};

fn color(variant: usize) -> RGBColor {
    PALETTE[variant % PALETTE.len()]
}

/// The whole page.
pub fn page(experiment: &Experiment, runs: &[RunMetrics], comparison: &Comparison) -> Result<String, String> {
    let mut html = String::new();
    let title = escape(&experiment.name);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>patchfleet experiment: {title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    if !experiment.description.is_empty() {
        let _ = writeln!(html, "<p>{}</p>", escape(&experiment.description));
    }
    let _ = writeln!(
        html,
        "<table class=\"meta\"><tr><td>experiment file</td><td>{}</td></tr><tr><td>base scenario</td><td>{}</td></tr>\
         <tr><td>variants</td><td>{}</td></tr><tr><td>seeds</td><td>{}</td></tr><tr><td>patchfleet</td><td>{}</td></tr></table>",
        escape(&experiment.file),
        escape(&experiment.base.name),
        escape(&comparison.variants.join(", ")),
        comparison.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
        comparison.version
    );
    html.push_str(
        "<p class=\"note\">Every interval is a 95% Student's t interval of a mean over seeds; a paired \
         difference is taken seed by seed against the reference, which ran with the same random streams \
         (README.md, \"What the intervals mean\").</p>\n<h2>Compliance over time</h2>\n",
    );
    let groups: Vec<&str> =
        runs.first().map(|r| r.curves.iter().map(|c| c.group.as_str()).collect()).unwrap_or_default();
    for (index, group) in groups.iter().enumerate() {
        let svg = compliance_chart(experiment, runs, index, group)?;
        let _ = writeln!(html, "<figure class=\"chart\" id=\"compliance-{index}\">{svg}</figure>");
    }
    html.push_str("<h2>Metrics</h2>\n");
    for (index, (metric, unit)) in experiment.metrics.iter().enumerate() {
        html.push_str(&metric_section(comparison, index, metric, *unit)?);
    }
    html.push_str("</body></html>\n");
    Ok(html)
}

/// One metric: the variants' means with intervals, the paired differences, and the table.
fn metric_section(comparison: &Comparison, index: usize, metric: &str, unit: Unit) -> Result<String, String> {
    let mut html = String::new();
    let rows: Vec<&Row> = comparison.rows.iter().filter(|r| r.metric == metric).collect();
    let _ = writeln!(html, "<h3>{}</h3>", escape(metric));
    let variant = |name: &str| comparison.variants.iter().position(|v| v == name).unwrap_or(0);
    let means: Vec<(usize, &str, &Estimate)> =
        rows.iter().map(|r| (variant(&r.variant), r.variant.as_str(), &r.estimate)).collect();
    let svg = intervals(&format!("{metric}: mean and 95% interval"), unit, &means, false)?;
    let _ = writeln!(html, "<figure class=\"chart\" id=\"metric-{index}\">{svg}</figure>");
    let diffs: Vec<(usize, &str, &Estimate)> = rows
        .iter()
        .filter_map(|r| r.vs_reference.as_ref().map(|d| (variant(&r.variant), r.variant.as_str(), &d.estimate)))
        .collect();
    if let (Some(reference), false) = (&comparison.reference, diffs.is_empty()) {
        let title = format!("{metric}: paired difference from {reference}");
        let svg = intervals(&title, unit, &diffs, true)?;
        let _ = writeln!(html, "<figure class=\"chart\" id=\"difference-{index}\">{svg}</figure>");
    }
    html.push_str(&metric_table(&rows, comparison.reference.as_deref()));
    Ok(html)
}

/// One patch group's compliance: per variant the mean over seeds at each step, and the
/// band of its 95% interval (clipped to 0 to 100%).
fn compliance_chart(experiment: &Experiment, runs: &[RunMetrics], curve: usize, group: &str) -> Result<String, String> {
    let mut bands = Vec::new();
    let mut lines = Vec::new();
    let mut days = 1.0_f64;
    for (v, variant) in experiment.variants.iter().enumerate() {
        let scenario = &variant.scenario;
        let span = (scenario.end().0 - scenario.start.0) as f64 / 86_400.0;
        days = days.max(span);
        let of_variant: Vec<&RunMetrics> = runs.iter().filter(|r| r.variant == v).collect();
        let mut mean = Vec::new();
        let (mut upper, mut lower) = (Vec::new(), Vec::new());
        for step in 0..=CURVE_STEPS {
            let x = span * step as f64 / CURVE_STEPS as f64;
            let values: Vec<Option<f64>> =
                of_variant.iter().map(|r| r.curves.get(curve).and_then(|c| c.shares.get(step)).copied()).collect();
            let e = estimate(&values);
            let Some(m) = e.mean else { continue };
            mean.push((x, m * 100.0));
            upper.push((x, e.ci_high.unwrap_or(m).min(1.0) * 100.0));
            lower.push((x, e.ci_low.unwrap_or(m).max(0.0) * 100.0));
        }
        lower.reverse();
        upper.extend(lower);
        bands.push((color(v), upper));
        lines.push(Series { label: variant.name.clone(), color: color(v), points: mean, width: 2, opacity: 1.0 });
    }
    let title = format!("{group}: reported compliant share, mean over seeds with 95% band");
    let frame = Frame {
        title: &title,
        x_desc: "day of the run",
        y_desc: "compliant (%)",
        x: 0.0..days,
        y: 0.0..100.0,
        size: (960, 340),
        legend: SeriesLabelPosition::LowerRight,
    };
    line_chart_over(&frame, &lines, |chart| {
        for (color, band) in &bands {
            chart
                .draw_series(std::iter::once(Polygon::new(band.clone(), color.mix(0.18).filled())))
                .map_err(drawing)?;
        }
        Ok(())
    })
}

/// A unit's display scale for an axis: its divisor and name.
fn scale(unit: Unit, largest: f64) -> (f64, &'static str) {
    match unit {
        Unit::Share => (0.01, "%"),
        Unit::Seconds if largest >= 2.0 * 86_400.0 => (86_400.0, "days"),
        Unit::Seconds if largest >= 2.0 * 3_600.0 => (3_600.0, "hours"),
        Unit::Seconds => (1.0, "seconds"),
        Unit::Count => (1.0, "count"),
        Unit::Mbps => (1.0, "Mbit/s"),
    }
}

/// One row per variant: a dot at the mean, a bar over the interval; a zero line for
/// differences.
fn intervals(title: &str, unit: Unit, rows: &[(usize, &str, &Estimate)], zero: bool) -> Result<String, String> {
    let points: Vec<f64> = rows.iter().flat_map(|(_, _, e)| [e.mean, e.ci_low, e.ci_high]).flatten().collect();
    let largest = points.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let (divisor, axis) = scale(unit, largest);
    let (mut low, mut high) =
        points.iter().fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(v / divisor), h.max(v / divisor)));
    if zero || points.is_empty() {
        (low, high) = (low.min(0.0), high.max(0.0));
    }
    let pad = ((high - low) * 0.08).max(high.abs().max(1.0) * 0.02);
    let (low, high) = (low - pad, high + pad);
    let lanes = rows.len().max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 100 + 36 * lanes as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let names: Vec<&str> = rows.iter().map(|(_, n, _)| *n).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(44)
            .y_label_area_size(180)
            .build_cartesian_2d(low..high, 0f64..lanes as f64)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc(axis)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 13))
            .light_line_style(RGBColor(240, 240, 240))
            .y_labels(lanes * 2 + 1)
            .y_label_formatter(&|y| lane_label(&names, *y))
            .disable_y_mesh()
            .draw()
            .map_err(drawing)?;
        if zero {
            chart
                .draw_series(LineSeries::new([(0.0, 0.0), (0.0, lanes as f64)], BLACK.stroke_width(1)))
                .map_err(drawing)?;
        }
        for (i, (variant, _, e)) in rows.iter().enumerate() {
            let y = (lanes - i) as f64 - 0.5;
            let c = color(*variant);
            if let (Some(l), Some(h)) = (e.ci_low, e.ci_high) {
                let bar = Rectangle::new([(l / divisor, y - 0.12), (h / divisor, y + 0.12)], c.mix(0.45).filled());
                chart.draw_series(std::iter::once(bar)).map_err(drawing)?;
            }
            if let Some(m) = e.mean {
                chart.draw_series(std::iter::once(Circle::new((m / divisor, y), 5, c.filled()))).map_err(drawing)?;
            }
        }
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

fn metric_table(rows: &[&Row], reference: Option<&str>) -> String {
    let mut html = String::from(
        "<table><tr><th>variant</th><th>n</th><th>mean</th><th>95% interval</th><th>vs reference</th>\
         <th>95% interval</th><th></th></tr>\n",
    );
    for row in rows {
        let shown = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| super::output::shown(row.unit, v, false));
        let e = &row.estimate;
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} to {}</td>",
            escape(&row.variant),
            e.n,
            shown(e.mean),
            shown(e.ci_low),
            shown(e.ci_high)
        );
        match &row.vs_reference {
            Some(d) => {
                let signed =
                    |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| super::output::shown(row.unit, v, true));
                let verdict = match d.excludes_zero {
                    Some(true) => "differs",
                    Some(false) => "no clear difference",
                    None => "",
                };
                let e = &d.estimate;
                let _ = writeln!(
                    html,
                    "<td>{}</td><td>{} to {}</td><td>{verdict}</td></tr>",
                    signed(e.mean),
                    signed(e.ci_low),
                    signed(e.ci_high)
                );
            }
            None if reference == Some(row.variant.as_str()) => {
                html.push_str("<td>reference</td><td></td><td></td></tr>\n");
            }
            None => html.push_str("<td></td><td></td><td></td></tr>\n"),
        }
    }
    let _ = writeln!(
        html,
        "</table><p class=\"note\">unit: {}</p>",
        unit_name(rows.first().map_or(Unit::Count, |r| r.unit))
    );
    html
}
