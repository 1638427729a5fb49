//! Calibration: measure a mirror's connection cap and bandwidth, and print the
//! `[[repository]]` section that makes the model's mirror behave like it.
//!
//! Three phases against one large object:
//! 1. the connection cap: `probe` connections ask at once and hold their responses; the
//!    number answered 2xx is the cap (all of them: no cap up to `probe`);
//! 2. one connection's steady rate, the model's per-instance limit (`[agent] download_mbps`);
//! 3. the aggregate rate with as many connections as the cap allows: `bandwidth_mbps`.
//!
//! Rates are measured after a warm-up, over a whole number of seconds, so a server that
//! meters by the second (nginx's `limit_rate` grants each second's allowance at once) is
//! measured at its configured rate rather than its first-second burst.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::BodyExt;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, timeout};

use super::client::{Connection, FetchError, Target};

/// Object seeded for calibration by `patchfleet load seed`.
pub const CALIBRATION_OBJECT: &str = "calibrate.bin";
/// Its size: 4 GiB, a sparse file on the seeded mirror.
pub const CALIBRATION_BYTES: u64 = 4 << 30;

#[derive(Clone, Debug)]
pub struct CalibrateOptions {
    /// Path of the large object below the target.
    pub path: String,
    /// Connections opened at once to find the cap.
    pub probe: u32,
    /// Whole seconds each rate is measured over.
    pub seconds: u32,
    /// Seconds of warm-up before each measurement, and pause between phases.
    pub settle: f64,
}

/// What calibration measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    pub probe: u32,
    /// Connections answered 2xx when `probe` asked at once.
    pub accepted: u32,
    /// How the others were turned away: HTTP status, or `connect`, `timeout`, `body`.
    pub refused: BTreeMap<String, u32>,
    pub single_mbps: f64,
    /// Connections used for the aggregate rate, and the rate.
    pub aggregate_connections: u32,
    pub aggregate_mbps: f64,
}

impl Calibration {
    /// Whether the probe found a cap (some connection was turned away).
    pub fn cap_found(&self) -> bool {
        self.accepted < self.probe
    }

    /// The `[[repository]]` section (and the per-connection rate as a comment).
    pub fn repository_section(&self, target: &str, name: &str, serves: &[String]) -> String {
        let serves: Vec<String> = serves.iter().map(|s| format!("\"{s}\"")).collect();
        let refused: Vec<String> = self.refused.iter().map(|(k, n)| format!("{k} x{n}")).collect();
        let cap = if self.cap_found() {
            format!(
                "# {} of {} connections opened at once were served ({})",
                self.accepted,
                self.probe,
                refused.join(", ")
            )
        } else {
            format!("# all {} connections opened at once were served: the cap is at least that", self.probe)
        };
        let (single, aggregate) = (significant(self.single_mbps), significant(self.aggregate_mbps));
        format!(
            "# measured by patchfleet load --calibrate against {target}\n{cap}\n\
             # one connection: {single} Mbit/s (the per-instance limit: [agent] download_mbps = {single})\n\
             # {} connections: {aggregate} Mbit/s in all\n\
             [[repository]]\nname = \"{name}\"\nserves = [{}]\nbandwidth_mbps = {aggregate}\nmax_connections = {}\n",
            self.aggregate_connections,
            serves.join(", "),
            self.accepted.max(1),
        )
    }
}

/// Runs the three phases.
pub async fn calibrate(target: &Target, options: &CalibrateOptions) -> Result<Calibration, String> {
    let (accepted, refused) = probe_cap(target, &options.path, options.probe).await;
    if accepted == 0 {
        let refused: Vec<String> = refused.iter().map(|(k, n)| format!("{k} x{n}")).collect();
        return Err(format!(
            "{}{}: no connection was served ({}); is the mirror seeded (patchfleet load seed)?",
            target.base,
            options.path,
            refused.join(", ")
        ));
    }
    sleep(Duration::from_secs_f64(options.settle)).await;
    let (single, _) = measure_rate(target, options, 1).await?;
    sleep(Duration::from_secs_f64(options.settle)).await;
    let (aggregate, used) = measure_rate(target, options, accepted).await?;
    Ok(Calibration {
        probe: options.probe,
        accepted,
        refused,
        single_mbps: single,
        aggregate_connections: used,
        aggregate_mbps: aggregate,
    })
}

/// Opens `n` connections at once, each asking for the object and holding its response;
/// counts the 2xx answers and how the rest were refused.
async fn probe_cap(target: &Target, path: &str, n: u32) -> (u32, BTreeMap<String, u32>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Result<u16, FetchError>>();
    let (release, released) = watch::channel(false);
    let mut tasks = JoinSet::new();
    for _ in 0..n {
        let (target, path, tx, mut released) = (target.clone(), path.to_string(), tx.clone(), released.clone());
        tasks.spawn(async move {
            let mut connection = match Connection::open(&target).await {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            match connection.head(&target, &path).await {
                Ok((status, _, body)) => {
                    let _ = tx.send(Ok(status));
                    // Hold the response (and its connection) until every probe has answered.
                    let _ = released.wait_for(|r| *r).await;
                    drop(body);
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
    }
    drop(tx);
    let (mut accepted, mut refused) = (0u32, BTreeMap::new());
    let mut answered = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while answered < n {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Ok(status))) if (200..300).contains(&status) => accepted += 1,
            Ok(Some(Ok(status))) => *refused.entry(status.to_string()).or_default() += 1,
            Ok(Some(Err(e))) => *refused.entry(e.kind().to_string()).or_default() += 1,
            Ok(None) => break,
            Err(_) => {
                *refused.entry("timeout".to_string()).or_default() += n - answered;
                break;
            }
        }
        answered += 1;
    }
    let _ = release.send(true);
    tasks.abort_all();
    (accepted, refused)
}

/// Streams the object over `n` connections and returns the steady aggregate rate in Mbit/s
/// and the number of connections that were served.
async fn measure_rate(target: &Target, options: &CalibrateOptions, n: u32) -> Result<(f64, u32), String> {
    let bytes = Arc::new(AtomicU64::new(0));
    let ended = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel::<bool>();
    let mut tasks = JoinSet::new();
    for _ in 0..n {
        let (target, path, bytes, ended, tx) =
            (target.clone(), options.path.clone(), bytes.clone(), ended.clone(), tx.clone());
        tasks.spawn(async move {
            let Ok(mut connection) = Connection::open(&target).await else {
                let _ = tx.send(false);
                return;
            };
            let Ok((status, _, mut body)) = connection.head(&target, &path).await else {
                let _ = tx.send(false);
                return;
            };
            let _ = tx.send((200..300).contains(&status));
            if !(200..300).contains(&status) {
                return;
            }
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(data) = frame.data_ref() {
                    bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
                }
            }
            ended.fetch_add(1, Ordering::Relaxed);
        });
    }
    drop(tx);
    let mut served = 0;
    for _ in 0..n {
        match timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(true)) => served += 1,
            Ok(Some(false)) => {}
            _ => break,
        }
    }
    if served == 0 {
        return Err(format!("{}{}: no connection was served while measuring the rate", target.base, options.path));
    }
    sleep(Duration::from_secs_f64(options.settle)).await;
    let (b1, t1) = (bytes.load(Ordering::Relaxed), Instant::now());
    sleep(Duration::from_secs(u64::from(options.seconds.max(1)))).await;
    let (b2, t2) = (bytes.load(Ordering::Relaxed), Instant::now());
    let early = ended.load(Ordering::Relaxed);
    tasks.abort_all();
    if early > 0 {
        return Err(format!(
            "{}{}: {early} of {served} downloads ended within the measurement; the object is too small \
             for this mirror's rate (seed a larger one, or use fewer --calibrate-seconds)",
            target.base, options.path
        ));
    }
    let rate = (b2 - b1) as f64 * 8.0 / 1e6 / t2.duration_since(t1).as_secs_f64();
    Ok((rate, served))
}

/// A rate with four significant figures (at least one decimal), as TOML accepts it.
fn significant(mbps: f64) -> String {
    let decimals = (3 - mbps.abs().max(1e-9).log10().floor() as i32).clamp(1, 6) as usize;
    format!("{mbps:.decimals$}")
}
