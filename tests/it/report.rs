//! The report: the metric registry of summary.json against the hand calculation of
//! tests/data/ten-instances.toml, `patchfleet report DIR`, and report.html of the default
//! scenario rendered by headless Chromium (installed by scripts/install-test-deps.sh; this
//! test fails when it is absent).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{data, run, text};

fn run_to(temp: &Path, scenario: Option<&Path>) -> PathBuf {
    let dir = temp.join("out");
    let mut args = vec!["run", "--quiet", "--out", dir.to_str().unwrap()];
    if let Some(scenario) = scenario {
        args.push(scenario.to_str().unwrap());
    }
    let output = run(&args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    dir
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

/// The hand calculation (tests/it/hand_calculated.rs derives the instants): the kernel
/// patch is the only one released during the run (01-06 12:00); its install reaches 5, 9
/// and 10 of the 10 instances at 03:14, 03:21 and 03:28 on 01-09, reboot included, so
/// reported and true agree. Daily samples: 0 compliant from 01-05 to 01-09, 10 compliant
/// from 01-10 to the end (01-19), so 9 of the 14 days are at 100%.
#[test]
fn metrics_match_the_hand_calculation() {
    let temp = tempfile::tempdir().unwrap();
    let dir = run_to(temp.path(), Some(&data("ten-instances.toml")));
    let summary = summary(&dir);
    let metrics = &summary["metrics"];
    let value = |name: &str| -> f64 {
        metrics[name]["value"].as_f64().unwrap_or_else(|| panic!("metric {name} missing or null: {}", metrics[name]))
    };
    let unit = |name: &str| metrics[name]["unit"].as_str().unwrap().to_string();
    let kernel = |h: i64, m: i64| ((h * 60 + m) * 60) as f64;
    for view in ["compliance.prod", "compliance.prod.true"] {
        assert_eq!(value(&format!("{view}.time_to_50pct.p50")), kernel(63, 14), "{view}");
        assert_eq!(value(&format!("{view}.time_to_90pct.p90")), kernel(63, 21), "{view}");
        assert_eq!(value(&format!("{view}.time_to_95pct.p90")), kernel(63, 28), "{view}");
        assert_eq!(value(&format!("{view}.time_to_100pct.max")), kernel(63, 28), "{view}");
        assert_eq!(value(&format!("{view}.time_to_100pct.not_reached")), 0.0);
        assert!((value(&format!("{view}.time_weighted_share")) - 9.0 / 14.0).abs() < 1e-6);
        assert!((value(&format!("{view}.time_above_target")) - 9.0 / 14.0).abs() < 1e-6);
        assert_eq!(value(&format!("{view}.end")), 1.0);
        assert_eq!(value(&format!("{view}.min")), 0.0);
    }
    assert_eq!(unit("compliance.prod.time_to_95pct.p90"), "seconds");
    assert_eq!(unit("compliance.prod.time_above_target"), "share");
    // As reported, the minimum counts from the first sample with every instance reported.
    assert_eq!(summary["patch_groups"][0]["reported"]["min_at"], "2026-01-06T00:00:00Z");
    assert_eq!(summary["patch_groups"][0]["true"]["min_at"], "2026-01-05T00:00:00Z");
    // 20 pairs: 10 near 63.4 h, 10 near 195.4 h (HdrHistogram: three significant digits).
    assert_eq!(value("compliance.prod.exposure.pairs"), 20.0);
    assert_eq!(value("compliance.prod.open_pairs_at_end"), 0.0);
    let max = value("compliance.prod.exposure.max") / 3_600.0;
    assert!((max - 195.47).abs() < 0.2, "max exposure {max} h");
    // Two executions, both SUCCESS: 28 and 4 minutes of a 2-hour window; every status is
    // named even at zero, so a threshold on FAILED finds its metric.
    assert_eq!(value("windows.friday-install.status.SUCCESS"), 2.0);
    assert_eq!(value("windows.friday-install.status.FAILED"), 0.0);
    assert_eq!(value("windows.friday-install.invocations.succeeded"), 20.0);
    assert_eq!(value("windows.friday-install.run.max"), 28.0 * 60.0);
    assert_eq!(value("windows.friday-install.run.p50"), 4.0 * 60.0);
    assert_eq!(value("windows.friday-install.overran"), 0.0);
    assert_eq!(summary["compliance_target"], 0.95);
}

/// scenarios/mirror-stampede.toml: 6,000 instances, 50% concurrency, a mirror of 400
/// connections and 2,000 Mbit/s that stays saturated for over two hours (15-minute
/// samples): 3,000 requests at once are 400 active and 2,600 queued.
#[test]
fn repository_peaks_follow_the_stampede() {
    let temp = tempfile::tempdir().unwrap();
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mirror-stampede.toml");
    let dir = run_to(temp.path(), Some(&scenario));
    let summary = summary(&dir);
    let value = |name: &str| summary["metrics"][name]["value"].as_f64().unwrap_or_else(|| panic!("{name}"));
    assert_eq!(value("repository.win-mirror.downloads"), 6_000.0);
    assert_eq!(value("repository.win-mirror.peak_active_downloads"), 400.0);
    assert_eq!(value("repository.win-mirror.peak_queued_downloads"), 2_600.0);
    let peak = value("repository.win-mirror.peak_throughput");
    assert!((peak - 2_000.0).abs() < 1.0, "peak throughput {peak} Mbit/s");
    assert_eq!(summary["metrics"]["repository.win-mirror.peak_throughput"]["unit"], "mbps");
    let (p50, p99) =
        (value("repository.win-mirror.download_latency.p50"), value("repository.win-mirror.download_latency.p99"));
    assert!(p50 < p99 && p99 <= value("repository.win-mirror.download_latency.max"));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let charts = charts(&html);
    for id in ["repository-downloads", "repository-throughput"] {
        let (_, body) = charts.iter().find(|(i, _)| i == id).unwrap_or_else(|| panic!("no chart {id}"));
        assert!(has_marks(body), "{id} has no drawn marks");
    }
}

#[test]
fn the_compliance_target_is_read_from_the_scenario_and_checked() {
    let temp = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(data("ten-instances.toml")).unwrap();
    let with = |target: &str| {
        source.replace("sample_interval = \"1d\"", &format!("sample_interval = \"1d\"\ncompliance_target = {target}"))
    };
    let path = temp.path().join("half.toml");
    std::fs::write(&path, with("0.5")).unwrap();
    let dir = run_to(temp.path(), Some(&path));
    assert_eq!(summary(&dir)["compliance_target"], 0.5);

    std::fs::write(&path, with("1.5")).unwrap();
    let output = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("half.toml") && stderr.contains("compliance_target"), "{stderr}");
}

#[test]
fn report_remakes_the_page_from_the_files_and_refuses_incomplete_directories() {
    let temp = tempfile::tempdir().unwrap();
    let dir = run_to(temp.path(), Some(&data("ten-instances.toml")));
    let written = std::fs::read(dir.join("report.html")).unwrap();
    std::fs::remove_file(dir.join("report.html")).unwrap();
    let output = run(&["report", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(std::fs::read(dir.join("report.html")).unwrap(), written, "run and report share one code path");

    // Columns are found by name: a windows.csv with a column more, first, still reads.
    let windows = std::fs::read_to_string(dir.join("windows.csv")).unwrap();
    let widened: String =
        windows.lines().enumerate().map(|(i, l)| format!("{},{l}\n", if i == 0 { "cause" } else { "x" })).collect();
    std::fs::write(dir.join("windows.csv"), widened).unwrap();
    let output = run(&["report", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(std::fs::read(dir.join("report.html")).unwrap(), written);
    let renamed = windows.replacen("status", "state", 1);
    std::fs::write(dir.join("windows.csv"), renamed).unwrap();
    let output = run(&["report", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("windows.csv: no column `status`"), "{stderr}");
    std::fs::write(dir.join("windows.csv"), &windows).unwrap();

    let summary_text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let older = summary_text.replace("\"results_format\": 2", "\"results_format\": 1");
    assert_ne!(older, summary_text);
    std::fs::write(dir.join("summary.json"), older).unwrap();
    let output = run(&["report", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("results format 1"), "{}", text(&output.stderr));

    std::fs::write(dir.join("summary.json"), &summary_text).unwrap();
    std::fs::remove_file(dir.join("windows.csv")).unwrap();
    let output = run(&["report", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("not a complete results directory") && stderr.contains("windows.csv"), "{stderr}");

    let output = run(&["report", temp.path().join("nowhere").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
}

/// Chromium's command, or a failure that says how to install it.
fn chromium() -> Command {
    let found = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|name| Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success()));
    let name = found.expect("chromium is not installed: run scripts/install-test-deps.sh (.ci/run does)");
    let mut command = Command::new(name);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    command
}

/// The contents of every `<figure class="chart" ...>` of `dom`.
fn charts(dom: &str) -> Vec<(String, String)> {
    dom.split("<figure class=\"chart\" id=\"")
        .skip(1)
        .map(|rest| {
            let id = rest.split('"').next().unwrap().to_string();
            let body = rest.split("</figure>").next().unwrap().to_string();
            (id, body)
        })
        .collect()
}

/// A drawn mark: a line through at least three points, or a filled non-white rectangle.
fn has_marks(svg: &str) -> bool {
    let lines = svg.split("<polyline").skip(1).any(|element| {
        let points = element.split("points=\"").nth(1).and_then(|p| p.split('"').next()).unwrap_or("");
        points.split_whitespace().count() >= 3
    });
    let bars = svg.split("<rect").skip(1).any(|element| {
        let tag = element.split('>').next().unwrap_or("");
        tag.contains("fill=\"#") && !tag.contains("fill=\"#FFFFFF\"") && !tag.contains("fill=\"#ffffff\"")
    });
    lines || bars
}

#[test]
fn report_html_of_the_default_scenario_renders_in_headless_chromium() {
    let temp = tempfile::tempdir().unwrap();
    let dir = run_to(temp.path(), None);
    let page = dir.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script"), "the page needs no scripts");
    let external = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!external.contains("http://") && !external.contains("https://"), "the page fetches nothing");
    assert!(html.len() < 4 << 20, "report.html is {} bytes", html.len());

    let url = format!("file://{}", page.display());
    let output = chromium().arg("--dump-dom").arg(&url).output().expect("chromium runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let (dom, log) = (text(&output.stdout), text(&output.stderr));
    assert!(!log.contains("CONSOLE") && !log.contains("Uncaught"), "the page logged errors:\n{log}");
    assert!(dom.contains("<h1>default</h1>"), "the page did not load:\n{}", &dom[..dom.len().min(500)]);
    let charts = charts(&dom);
    let ids: Vec<&str> = charts.iter().map(|(id, _)| id.as_str()).collect();
    // Five patch groups, the exposure distribution, the window timeline.
    assert_eq!(
        ids,
        ["compliance-0", "compliance-1", "compliance-2", "compliance-3", "compliance-4", "exposure", "windows"]
    );
    for (id, body) in &charts {
        assert!(body.contains("<svg"), "{id} has no SVG");
        assert!(has_marks(body), "{id} has no drawn marks");
    }

    let shot = temp.path().join("report.png");
    let output = chromium()
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1100,2400")
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let png = std::fs::read(&shot).expect("a screenshot was written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // A blank page compresses to a few KiB; tables and seven charts do not.
    assert!(png.len() > 50_000, "screenshot of {} bytes", png.len());
}

#[test]
fn the_mark_check_tells_drawn_charts_from_empty_frames() {
    let empty =
        r##"<svg><rect x="0" y="0" width="10" height="10" fill="#FFFFFF"/><polyline points="1,1 2,2 "/></svg>"##;
    assert!(!has_marks(empty));
    assert!(has_marks(r##"<svg><polyline fill="none" points="1,1 2,2 3,3 "/></svg>"##));
    assert!(has_marks(r##"<svg><rect x="0" y="0" width="3" height="3" fill="#009E73"/></svg>"##));
}

/// An experiment's report.html: per charted group a compliance chart with one mean line and
/// one band per variant; per metric a dot-and-interval chart with a dot per variant and one
/// of the paired differences with a dot per non-reference variant.
#[test]
fn experiment_report_html_draws_bands_dots_and_intervals_in_headless_chromium() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("conc.toml");
    let text_of = format!(
        "base = \"{}\"\nseeds = [1, 2, 3]\nreference = \"three\"\nmetrics = [\"windows.friday-install.run.max\", \
         \"compliance.prod.end\"]\n\n[[variant]]\nname = \"three\"\n\n[[variant]]\nname = \"five\"\n\
         overrides = {{ \"maintenance_window.friday-install.task.install.max_concurrency\" = \"5\" }}\n",
        data("ten-instances.toml").display()
    );
    std::fs::write(&file, text_of).unwrap();
    let out = temp.path().join("exp");
    let output = run(&["experiment", file.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let page = out.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script"), "the page needs no scripts");

    let output =
        chromium().arg("--dump-dom").arg(format!("file://{}", page.display())).output().expect("chromium runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let dom = text(&output.stdout);
    assert!(dom.contains("<h1>conc</h1>"), "the page did not load:\n{}", &dom[..dom.len().min(500)]);
    let charts = charts(&dom);
    let ids: Vec<&str> = charts.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["compliance-0", "metric-0", "difference-0", "metric-1", "difference-1"]);
    let count = |body: &str, tag: &str| body.matches(tag).count();
    let (_, compliance) = &charts[0];
    assert!(has_marks(compliance), "the compliance chart drew no line");
    assert_eq!(count(compliance, "<polygon"), 2, "one band per variant");
    for (id, body) in &charts[1..] {
        let dots = if id.starts_with("metric") { 2 } else { 1 };
        assert_eq!(count(body, "<circle"), dots, "{id}: one dot per variant");
    }
    // Three seeds with one value each: the interval is a point, drawn at the mean.
    assert!(dom.contains("840s to 840s"), "the table lists the interval");
}
