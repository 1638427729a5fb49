//! The results directory of a load test: load.json (the summary), load.csv (the time
//! series), requests.csv (one row per download) and report.html. Written to a staging
//! sibling and renamed into place, so it is complete or absent.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::measure::Summary;
use super::plan::Plan;
use super::replay::Replay;

/// Fails if `dir` holds anything and `force` is not given; checked before any traffic.
pub fn check_writable(dir: &Path, force: bool) -> Result<(), String> {
    match fs::read_dir(dir).map(|mut entries| entries.next().is_some()) {
        Ok(true) if !force => {
            Err(format!("{} already exists and is not empty; pass --force to replace it", dir.display()))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot use {} for the results: {e}", dir.display())),
    }
}

/// Writes every file of the results directory.
pub fn write(dir: &Path, summary: &Summary, plan: &Plan, replay: &Replay) -> Result<(), String> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let leaf = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "load".into());
    let staging = parent.join(format!(".{leaf}.partial-{}", std::process::id()));
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |e: io::Error| format!("cannot write {path}: {e}")
    };
    fs::create_dir_all(&staging).map_err(io(&staging))?;
    let written = write_files(&staging, summary, plan, replay);
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    fs::rename(&staging, dir).map_err(io(dir))
}

fn write_files(dir: &Path, summary: &Summary, plan: &Plan, replay: &Replay) -> Result<(), String> {
    let io = |name: &str| {
        let path = dir.join(name).display().to_string();
        move |e: String| format!("cannot write {path}: {e}")
    };
    let json = serde_json::to_string_pretty(summary).map_err(|e| e.to_string()).map_err(io("load.json"))?;
    fs::write(dir.join("load.json"), json + "\n").map_err(|e| e.to_string()).map_err(io("load.json"))?;
    write_csv(&dir.join("load.csv"), |w| {
        for sample in &replay.samples {
            w.serialize(sample)?;
        }
        Ok(())
    })
    .map_err(io("load.csv"))?;
    write_csv(&dir.join("requests.csv"), |w| write_requests(w, plan, replay, summary.speedup))
        .map_err(io("requests.csv"))?;
    let html = super::report::html(summary, &replay.samples).map_err(io("report.html"))?;
    fs::write(dir.join("report.html"), html).map_err(|e| e.to_string()).map_err(io("report.html"))
}

fn write_csv(
    path: &Path,
    rows: impl FnOnce(&mut csv::Writer<fs::File>) -> Result<(), csv::Error>,
) -> Result<(), String> {
    let mut writer = csv::Writer::from_path(path).map_err(|e| e.to_string())?;
    rows(&mut writer).map_err(|e| e.to_string())?;
    writer.flush().map_err(|e| e.to_string())
}

/// One row per planned download: what was planned, what happened, measured against predicted.
fn write_requests(w: &mut csv::Writer<fs::File>, plan: &Plan, replay: &Replay, speedup: f64) -> Result<(), csv::Error> {
    w.write_record([
        "index",
        "instance",
        "objects",
        "bytes",
        "scheduled_s",
        "dispatched_s",
        "connected_s",
        "first_byte_s",
        "done_s",
        "error",
        "latency_s",
        "latency_model_s",
        "predicted_s",
    ])?;
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
    for (index, download) in plan.downloads.iter().enumerate() {
        let objects: Vec<&str> = download.objects.iter().map(|o| o.path.as_str()).collect();
        let bytes: u64 = download.objects.iter().map(|o| o.bytes).sum();
        let outcome = replay.outcomes[index].as_ref();
        let error = match outcome {
            None => "unfinished".to_string(),
            Some(o) => match &o.error {
                None => String::new(),
                Some(super::client::FetchError::Status(code)) => format!("status {code}"),
                Some(e) => e.kind().to_string(),
            },
        };
        let latency = outcome.and_then(|o| o.latency());
        w.write_record([
            index.to_string(),
            crate::fleet::instance_id(download.instance),
            objects.join(" "),
            bytes.to_string(),
            format!("{:.6}", download.at / speedup),
            opt(outcome.map(|o| o.dispatched)),
            opt(outcome.and_then(|o| o.connected)),
            opt(outcome.and_then(|o| o.first_byte)),
            opt(outcome.map(|o| o.done)),
            error,
            opt(latency),
            opt(latency.map(|l| l * speedup)),
            opt(download.predicted),
        ])?;
    }
    Ok(())
}
