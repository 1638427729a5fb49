//! report.html of a load test: the summary table and two charts drawn by plotters' SVG
//! backend (throughput and connections over time; measured against predicted latency by
//! percentile), inlined so the file is self-contained: no scripts, no external resources.

use plotters::prelude::*;

use super::measure::{Summary, duration};
use super::replay::Sample;

const WIDTH: u32 = 820;
const HEIGHT: u32 = 320;

/// The whole page.
pub fn html(summary: &Summary, samples: &[Sample]) -> Result<String, String> {
    let throughput = throughput_chart(samples)?;
    let latency = latency_chart(summary)?;
    let s = summary;
    let row = |name: &str, value: String| format!("<tr><th>{}</th><td>{}</td></tr>\n", escape(name), escape(&value));
    let mut table = String::new();
    table += &row("target", s.target.clone());
    table += &row("scenario, window, execution", format!("{}, {}, {}", s.scenario, s.window, s.execution));
    table += &row("repository (connection cap)", format!("{} ({})", s.repository, s.max_connections));
    table += &row("speedup, size scale", format!("{}, {}", s.speedup, s.size_scale));
    table += &row("stopped", format!("{} after {:.1} s", s.stop, s.elapsed_s));
    table += &row(
        "downloads",
        format!("{} planned, {} succeeded, {} failed, {} unfinished", s.planned, s.succeeded, s.failed, s.unfinished),
    );
    table += &row("throughput", format!("{:.1} Mbit/s mean, {:.1} Mbit/s peak", s.throughput_mbps, s.peak_mbps));
    for (name, d) in [("measured latency (model time)", &s.latency_model_s), ("predicted latency", &s.predicted_s)] {
        if let Some(d) = d {
            let text = format!(
                "p50 {}, p90 {}, p99 {}, max {}",
                duration(d.p50),
                duration(d.p90),
                duration(d.p99),
                duration(d.max)
            );
            table += &row(name, text);
        }
    }
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>patchfleet load: {title}</title>\n\
         <style>body{{font-family:sans-serif;max-width:860px;margin:2em auto}}th{{text-align:left;padding-right:1em}}</style>\n\
         </head><body>\n<h1>Load test: {title}</h1>\n<table>\n{table}</table>\n\
         <h2>Throughput and connections</h2>\n{throughput}\n<h2>Latency by percentile</h2>\n\
         <p>Measured from each download's scheduled start, in model time (real time times the speedup), \
         beside the simulation's prediction for the same downloads.</p>\n{latency}\n</body></html>\n",
        title = escape(&format!("{} / {}", s.scenario, s.window)),
    ))
}

fn throughput_chart(samples: &[Sample]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let t_max = samples.iter().map(|s| s.t).fold(1e-3, f64::max);
        let y_max = samples.iter().map(|s| s.mbps).fold(1e-3, f64::max) * 1.1;
        let c_max = samples.iter().map(|s| (s.active + s.waiting) as f64).fold(1.0, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(60)
            .right_y_label_area_size(60)
            .build_cartesian_2d(0.0..t_max, 0.0..y_max)
            .map_err(err)?
            .set_secondary_coord(0.0..t_max, 0.0..c_max);
        chart.configure_mesh().x_desc("real seconds").y_desc("Mbit/s").draw().map_err(err)?;
        chart.configure_secondary_axes().y_desc("downloads").draw().map_err(err)?;
        chart
            .draw_series(LineSeries::new(samples.iter().map(|s| (s.t, s.mbps)), BLUE.stroke_width(2)))
            .map_err(err)?
            .label("throughput (Mbit/s)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
        chart
            .draw_secondary_series(LineSeries::new(samples.iter().map(|s| (s.t, s.active as f64)), GREEN))
            .map_err(err)?
            .label("holding a connection")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], GREEN));
        chart
            .draw_secondary_series(LineSeries::new(samples.iter().map(|s| (s.t, s.waiting as f64)), RED))
            .map_err(err)?
            .label("waiting for a connection")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED));
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn latency_chart(summary: &Summary) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let all = summary.spectrum_model_s.iter().chain(&summary.spectrum_predicted_s);
        let y_max = all.map(|p| p.1).fold(1e-3, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..100.0, 0.0..y_max)
            .map_err(err)?;
        chart.configure_mesh().x_desc("percentile").y_desc("model seconds").draw().map_err(err)?;
        chart
            .draw_series(LineSeries::new(summary.spectrum_model_s.iter().copied(), BLUE.stroke_width(2)))
            .map_err(err)?
            .label("measured")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
        chart
            .draw_series(LineSeries::new(summary.spectrum_predicted_s.iter().copied(), BLACK.stroke_width(2)))
            .map_err(err)?
            .label("predicted by the simulation")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn err(e: impl std::fmt::Display) -> String {
    format!("drawing the chart: {e}")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
