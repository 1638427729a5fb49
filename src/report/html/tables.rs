//! The report's tables, from `summary.json`.

use std::fmt::Write as _;

use serde_json::Value;

use super::escape;

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => escape(s),
        Some(Value::Null) | None => "-".into(),
        Some(other) => escape(&other.to_string()),
    }
}

fn percent(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_f64).map_or("-".into(), |s| format!("{:.1}%", s * 100.0))
}

/// Seconds as minutes, hours or days; `-` when absent, `n/r` when a level was not reached.
fn duration(v: &Value, key: &str, not_reached: bool) -> String {
    match v.get(key).and_then(Value::as_f64) {
        None if not_reached => "n/r".into(),
        None => "-".into(),
        Some(s) if s >= 2.0 * 86_400.0 => format!("{:.1}d", s / 86_400.0),
        Some(s) if s >= 3_600.0 => format!("{:.1}h", s / 3_600.0),
        Some(s) => format!("{:.0}m", (s / 60.0).ceil()),
    }
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn row(html: &mut String, cells: &[String]) {
    html.push_str("<tr>");
    for cell in cells {
        let _ = write!(html, "<td>{cell}</td>");
    }
    html.push_str("</tr>\n");
}

fn header(html: &mut String, cells: &[&str]) {
    html.push_str("<table><tr>");
    for cell in cells {
        let _ = write!(html, "<th>{}</th>", escape(cell));
    }
    html.push_str("</tr>\n");
}

/// The scenario's identity.
pub fn meta(s: &Value) -> String {
    let mut html = String::from("<table class=\"meta\">\n");
    for (label, key) in [
        ("scenario", "scenario"),
        ("file", "scenario_file"),
        ("SHA-256", "scenario_hash"),
        ("seed", "seed"),
        ("patchfleet", "version"),
        ("start", "start"),
        ("horizon", "horizon"),
        ("stopped", "stop_reason"),
        ("instances", "instances"),
        ("sample interval", "sample_interval"),
    ] {
        let _ = writeln!(html, "<tr><th>{label}</th><td><code>{}</code></td></tr>", text(s, key));
    }
    html.push_str("</table>\n");
    html
}

pub fn compliance_table(html: &mut String, s: &Value) {
    let target = format!("≥ {}", percent(s, "compliance_target"));
    header(html, &["patch group", "view", "instances", "mean", &target, "end", "min"]);
    for g in array(s, "patch_groups") {
        for view in ["reported", "true"] {
            let f = &g[view];
            let (name, instances) = if view == "reported" {
                (text(g, "patch_group"), text(g, "instances"))
            } else {
                (String::new(), String::new())
            };
            let cells = [
                name,
                view.into(),
                instances,
                percent(f, "time_weighted_share"),
                percent(f, "time_above_target"),
                percent(f, "end"),
                percent(f, "min"),
            ];
            row(html, &cells);
        }
    }
    html.push_str("</table>\n<p class=\"note\">mean: compliant share averaged over time (each sample holds until the next). ≥ target: share of time at or above the scenario's <code>compliance_target</code>. min: lowest sample; as reported, counted once every instance has reported.</p>\n");
}

pub fn time_to_table(html: &mut String, s: &Value) {
    header(html, &["patch group", "view", "patches", "to 50% p50 / p90 / max", "to 90%", "to 95%", "to 100%"]);
    for g in array(s, "patch_groups") {
        for view in ["reported", "true"] {
            let levels = array(&g[view], "time_to");
            let name = if view == "reported" { text(g, "patch_group") } else { String::new() };
            let patches = levels.first().map_or("0".into(), |l| text(l, "patches"));
            let mut cells = vec![name, view.into(), patches];
            for level in levels {
                let some = level.get("patches").and_then(Value::as_u64).unwrap_or(0) > 0;
                let d = |k: &str| duration(level, k, some);
                cells.push(format!("{} / {} / {}", d("p50_seconds"), d("p90_seconds"), d("max_seconds")));
            }
            row(html, &cells);
        }
    }
    html.push_str("</table>\n<p class=\"note\">Time from each patch's release until that share of the group's applicable instances had it (reported: installed, pending reboot included; true: in effect), over patches released in the run and approved for the group. n/r: not reached by the end; patches that never reach a level count as the slowest.</p>\n");
}

pub fn exposure_table(html: &mut String, s: &Value) {
    header(html, &["patch group", "pairs", "p50", "p90", "p95", "p99", "max", "open at end"]);
    for g in array(s, "patch_groups") {
        let e = &g["exposure"];
        let mut cells = vec![text(g, "patch_group"), text(e, "pairs")];
        cells.extend(
            ["p50_seconds", "p90_seconds", "p95_seconds", "p99_seconds", "max_seconds"].map(|k| duration(e, k, false)),
        );
        cells.push(text(e, "open_at_end"));
        row(html, &cells);
    }
    html.push_str("</table>\n");
}

fn counts(v: &Value) -> String {
    let Some(map) = v.as_object() else { return "-".into() };
    let parts: Vec<String> =
        map.iter().filter(|(_, n)| n.as_u64().unwrap_or(0) > 0).map(|(k, n)| format!("{n} {}", escape(k))).collect();
    if parts.is_empty() { "none".into() } else { parts.join(", ") }
}

pub fn windows_table(html: &mut String, s: &Value) {
    header(
        html,
        &[
            "window",
            "executions by status",
            "invocations by outcome",
            "ran p50",
            "ran max",
            "duration",
            "overran",
            "skipped at cutoff",
        ],
    );
    for w in array(s, "windows") {
        let cells = [
            text(w, "window"),
            counts(&w["status"]),
            counts(&w["invocations"]),
            duration(w, "run_seconds_p50", false),
            duration(w, "run_seconds_max", false),
            duration(w, "duration_seconds", false),
            text(w, "overran"),
            text(w, "targets_skipped"),
        ];
        row(html, &cells);
    }
    html.push_str("</table>\n");
}

pub fn repositories_table(html: &mut String, s: &Value) {
    let repositories = array(s, "repositories");
    if repositories.is_empty() {
        html.push_str("<p class=\"note\">The scenario has no package repositories.</p>\n");
        return;
    }
    header(
        html,
        &["repository", "downloads", "latency p50", "p90", "p99", "max", "peak active", "peak queued", "peak Mbit/s"],
    );
    for r in repositories {
        let mut cells = vec![text(r, "repository"), text(r, "downloads")];
        cells.extend(
            ["latency_seconds_p50", "latency_seconds_p90", "latency_seconds_p99", "latency_seconds_max"]
                .map(|k| duration(r, k, false)),
        );
        cells.extend([
            text(r, "peak_active_downloads"),
            text(r, "peak_queued_downloads"),
            text(r, "peak_throughput_mbps"),
        ]);
        row(html, &cells);
    }
    html.push_str("</table>\n");
}

/// Every metric by name, folded away.
pub fn metrics(s: &Value) -> String {
    let mut html = String::from(
        "<h2>Metrics</h2>\n<details><summary>Every metric of summary.json by the name thresholds and comparisons use</summary>\n",
    );
    header(&mut html, &["name", "value", "unit"]);
    if let Some(map) = s.get("metrics").and_then(Value::as_object) {
        for (name, metric) in map {
            row(&mut html, &[format!("<code>{}</code>", escape(name)), text(metric, "value"), text(metric, "unit")]);
        }
    }
    html.push_str("</table></details>\n");
    html
}
