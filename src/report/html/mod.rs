//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, nothing fetched)
//! generated from the files of a results directory, so that `run` and `patchfleet report DIR`
//! share one code path. Charts are drawn by plotters; series are downsampled so that a
//! year of samples stays a few hundred KiB.

pub mod charts;
mod read;
mod sections;
mod tables;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use read::Results;

/// Why `report.html` could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{dir} is not a complete results directory: missing {missing}")]
    NotResults { dir: PathBuf, missing: String },
    #[error(
        "{dir} was written by patchfleet {version} in results format {}; this patchfleet ({}) reads format {}: run the scenario again",
        found.map_or("(none)".to_string(), |f| f.to_string()), crate::VERSION, crate::report::RESULTS_FORMAT
    )]
    Format { dir: PathBuf, found: Option<u64>, version: String },
    #[error("{path}: {message}")]
    Malformed { path: PathBuf, message: String },
    #[error("{0}")]
    Chart(String),
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
}

/// Writes `dir/report.html` from the other files of `dir`.
pub fn write_report(dir: &Path) -> Result<(), ReportError> {
    let results = Results::read(dir)?;
    let page = page(&results)?;
    let path = dir.join("report.html");
    std::fs::write(&path, page).map_err(|e| ReportError::Write { path, message: e.to_string() })
}

/// Text for HTML: `&`, `<`, `>` and `"` escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(ch),
        }
    }
    out
}

/// The page style shared by every report page.
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222}\
h1{margin-bottom:4px}h2{margin-top:36px;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:8px 0;font-size:13px}\
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}\
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}\
figure.chart{margin:12px 0}p.note{font-size:13px;color:#555;max-width:900px}\
.meta td{text-align:left}code{font-size:12px}";

fn page(results: &Results) -> Result<String, ReportError> {
    let s = &results.summary;
    let text = |key: &str| escape(s.get(key).and_then(|v| v.as_str()).unwrap_or(""));
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>patchfleet report: {}</title><style>{STYLE}</style></head><body>\n",
        text("scenario")
    );
    let _ = writeln!(html, "<h1>{}</h1>", text("scenario"));
    let _ = writeln!(html, "<p>{}</p>", text("description"));
    html.push_str(&tables::meta(s));
    html.push_str("<h2>Compliance</h2>\n");
    tables::compliance_table(&mut html, s);
    html.push_str(&sections::compliance(results)?);
    html.push_str("<h2>Time to reach a level</h2>\n");
    tables::time_to_table(&mut html, s);
    html.push_str("<h2>Exposure</h2>\n");
    tables::exposure_table(&mut html, s);
    html.push_str(&sections::exposure(results)?);
    html.push_str("<h2>Maintenance windows</h2>\n");
    tables::windows_table(&mut html, s);
    html.push_str(&sections::windows(results)?);
    html.push_str("<h2>Repositories</h2>\n");
    tables::repositories_table(&mut html, s);
    html.push_str(&sections::repositories(results)?);
    html.push_str(&sections::auto_scaling(results)?);
    html.push_str(&tables::metrics(s));
    html.push_str("</body></html>\n");
    Ok(html)
}
