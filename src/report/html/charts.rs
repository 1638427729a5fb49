//! SVG charts drawn with plotters: line charts of series over time, and the timeline of
//! window executions. Each returns the `<svg>` text.

use plotters::prelude::*;

/// At most this many points per drawn series; longer series keep each bucket's lowest and
/// highest value, so spikes and troughs survive.
pub const MAX_POINTS: usize = 1_200;

/// Colours of series in order (colour-blind safe, after Okabe and Ito).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(120, 120, 120),
];

/// One line of a chart.
pub struct Series {
    pub label: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
    /// Stroke width in pixels.
    pub width: u32,
    /// 1 opaque, less to let lines beneath show.
    pub opacity: f64,
}

/// A line chart's frame.
pub struct Frame<'a> {
    pub title: &'a str,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    pub x: std::ops::Range<f64>,
    pub y: std::ops::Range<f64>,
    pub size: (u32, u32),
    pub legend: SeriesLabelPosition,
}

/// A plotters error as the report says it.
pub fn drawing<E: std::fmt::Display>(error: E) -> String {
    format!("cannot draw a chart: {error}")
}

/// On a chart with one lane per name (lane 0 at the top, each one unit high), the name at
/// the centre of the lane under `y`, blank elsewhere.
pub fn lane_label<S: AsRef<str>>(names: &[S], y: f64) -> String {
    let lanes = names.len() as f64;
    let lane = (lanes - y - 0.5).round();
    let on_centre = ((lanes - y) - 0.5 - lane).abs() < 1e-6;
    match names.get(lane as usize) {
        Some(name) if lane >= 0.0 && on_centre => name.as_ref().to_string(),
        _ => String::new(),
    }
}

/// `points` with at most [`MAX_POINTS`]: per bucket, its lowest and highest point in order.
pub fn downsample(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    let buckets = MAX_POINTS / 2;
    let mut out = Vec::with_capacity(MAX_POINTS);
    for b in 0..buckets {
        let slice = &points[b * points.len() / buckets..(b + 1) * points.len() / buckets];
        let low = slice.iter().enumerate().min_by(|a, b| a.1.1.total_cmp(&b.1.1));
        let high = slice.iter().enumerate().max_by(|a, b| a.1.1.total_cmp(&b.1.1));
        if let (Some((li, &l)), Some((hi, &h))) = (low, high) {
            if li <= hi {
                out.extend([l, h]);
            } else {
                out.extend([h, l]);
            }
        }
    }
    out.dedup();
    out
}

/// A sampled value that holds until the next sample, as the corners of a step line.
pub fn steps(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for pair in points.windows(2) {
        out.extend([pair[0], (pair[1].0, pair[0].1)]);
    }
    out.extend(points.last());
    out
}

/// The drawing area of a line chart, for marks drawn beneath its lines.
pub type LineArea<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Lines over a shared frame, with a legend.
pub fn line_chart(frame: &Frame, series: &[Series]) -> Result<String, String> {
    line_chart_over(frame, series, |_| Ok(()))
}

/// Lines over a shared frame, with a legend, after `beneath` has drawn on the frame (bands,
/// areas).
pub fn line_chart_over(
    frame: &Frame,
    series: &[Series],
    beneath: impl FnOnce(&mut LineArea<'_, '_>) -> Result<(), String>,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, frame.size).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(frame.title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(frame.x.clone(), frame.y.clone())
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc(frame.x_desc)
            .y_desc(frame.y_desc)
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(drawing)?;
        beneath(&mut chart)?;
        for s in series {
            let color = s.color.mix(s.opacity);
            chart
                .draw_series(LineSeries::new(downsample(&s.points), color.stroke_width(s.width)))
                .map_err(drawing)?
                .label(s.label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3)));
        }
        chart
            .configure_series_labels()
            .position(frame.legend.clone())
            .background_style(WHITE.mix(0.7))
            .border_style(RGBColor(200, 200, 200))
            .draw()
            .map_err(drawing)?;
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

/// One window's executions: (start day, end day, status).
pub struct Lane {
    pub window: String,
    pub executions: Vec<(f64, f64, String)>,
}

/// The colour of an execution status.
pub fn status_color(status: &str) -> RGBColor {
    match status {
        "SUCCESS" => RGBColor(0, 158, 115),
        "FAILED" => RGBColor(213, 94, 0),
        "TIMED_OUT" => RGBColor(230, 159, 0),
        "SKIPPED_OVERLAPPING" => RGBColor(150, 150, 150),
        _ => RGBColor(86, 180, 233),
    }
}

/// Executions as bars on one lane per window, coloured by status. Bars are at least
/// 0.4% of the run wide, so that short executions stay visible.
pub fn timeline(lanes: &[Lane], x: std::ops::Range<f64>, statuses: &[&str]) -> Result<String, String> {
    let height = 90 + 34 * lanes.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let names: Vec<String> = lanes.iter().map(|l| l.window.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption("Window executions by status", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(170)
            .build_cartesian_2d(x.clone(), 0f64..lanes.len().max(1) as f64)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc("day of the run")
            .y_labels(lanes.len().max(1) * 2 + 1)
            .y_label_formatter(&|y| lane_label(&names, *y))
            .disable_y_mesh()
            .draw()
            .map_err(drawing)?;
        let min_width = (x.end - x.start) * 0.004;
        for (index, lane) in lanes.iter().enumerate() {
            let top = (lanes.len() - index) as f64 - 0.15;
            let bottom = (lanes.len() - index - 1) as f64 + 0.15;
            let bars = lane.executions.iter().map(|(from, to, status)| {
                let to = to.max(from + min_width);
                Rectangle::new([(*from, top), (to, bottom)], status_color(status).filled())
            });
            chart.draw_series(bars).map_err(drawing)?;
        }
        for status in statuses {
            let color = status_color(status);
            chart
                .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
                .map_err(drawing)?
                .label(*status)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .draw()
            .map_err(drawing)?;
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_series_keep_their_extremes_within_the_limit() {
        let points: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, if i == 5_000 { 9.0 } else { 1.0 })).collect();
        let out = downsample(&points);
        assert!(out.len() <= MAX_POINTS, "{}", out.len());
        assert!(out.contains(&(5_000.0, 9.0)), "the spike survives");
        assert!(out.windows(2).all(|w| w[0].0 <= w[1].0), "time order kept");
    }

    #[test]
    fn steps_hold_each_value_until_the_next_sample() {
        assert_eq!(steps(&[(0.0, 1.0), (2.0, 3.0)]), vec![(0.0, 1.0), (2.0, 1.0), (2.0, 3.0)]);
    }
}
