//! `patchfleet load` against an in-process HTTP server on 127.0.0.1 whose bandwidth,
//! per-connection rate, connection cap and response stalls are set by each test.
//!
//! Timing tolerances are wide enough for a shared machine, narrow enough that a replay that
//! ignored the schedule, the caps or the server's rate would fail them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use patchfleet::load::client::FetchError;
use patchfleet::load::{self, CalibrateOptions, Download, Object, Plan, PlanOptions, ReplayOptions, Target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, sleep, sleep_until};

use crate::support;

// ---------------------------------------------------------------------------------------
// The test server
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct ServerConfig {
    /// Bytes per second shared by every connection.
    bandwidth: f64,
    /// Bytes per second of one connection.
    per_connection: f64,
    /// Connections served at once; more are answered 503.
    max_connections: usize,
    /// Wait before each response head.
    stall: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig { bandwidth: 1e12, per_connection: 1e12, max_connections: 10_000, stall: Duration::ZERO }
    }
}

/// A server on its own runtime; dropped with the test.
struct Server {
    addr: SocketAddr,
    /// Arrival instants of request heads, in seconds after the server started.
    arrivals: Arc<Mutex<Vec<f64>>>,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    fn start(config: ServerConfig) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let shared =
            Shared { config, next_free: Mutex::new(None), open: AtomicUsize::new(0), arrivals: arrivals.clone() };
        let shared = Arc::new(shared);
        runtime.spawn(async move {
            let started = Instant::now();
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let shared = shared.clone();
                tokio::spawn(async move { serve(stream, shared, started).await });
            }
        });
        Server { addr, arrivals, _runtime: runtime }
    }

    fn target(&self) -> Target {
        Target::parse(&format!("http://{}/mirror/", self.addr)).unwrap()
    }
}

struct Shared {
    config: ServerConfig,
    /// The shared bandwidth as virtual time: when the next byte may leave.
    next_free: Mutex<Option<Instant>>,
    open: AtomicUsize,
    arrivals: Arc<Mutex<Vec<f64>>>,
}

/// Object size from the path: `...-<bytes>.bin`, or 1 GB for anything else.
fn size_of(path: &str) -> u64 {
    path.rsplit('-').next().and_then(|s| s.strip_suffix(".bin")).and_then(|s| s.parse().ok()).unwrap_or(1_000_000_000)
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>, started: Instant) {
    let open = shared.open.fetch_add(1, Ordering::SeqCst) + 1;
    let _close = Decrement(&shared.open);
    let mut buffer = Vec::new();
    loop {
        // Read one request head.
        let head_end = loop {
            if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        buffer.drain(..head_end);
        shared.arrivals.lock().unwrap().push(started.elapsed().as_secs_f64());
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        if open > shared.config.max_connections {
            let _ = stream
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
            return;
        }
        sleep(shared.config.stall).await;
        let size = size_of(&path);
        let response =
            format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\ncontent-type: application/octet-stream\r\n\r\n");
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
        if send_body(&mut stream, &shared, size).await.is_err() {
            return;
        }
    }
}

/// Sends `size` zero bytes in chunks, each reserved on the shared and the connection's own
/// virtual clocks and sent when both allow. A clock behind the wall clock catches up by at
/// most `SLACK` (a late wake-up is made up for; an idle period is not banked).
async fn send_body(stream: &mut TcpStream, shared: &Shared, size: u64) -> std::io::Result<()> {
    const CHUNK: u64 = 8192;
    const SLACK: Duration = Duration::from_millis(50);
    let zeros = [0u8; CHUNK as usize];
    let mut own = Instant::now();
    let mut left = size;
    while left > 0 {
        let n = left.min(CHUNK);
        let now = Instant::now();
        own = own.max(now - SLACK) + Duration::from_secs_f64(n as f64 / shared.config.per_connection);
        let common = {
            let mut next = shared.next_free.lock().unwrap();
            let at = next.unwrap_or(now).max(now - SLACK) + Duration::from_secs_f64(n as f64 / shared.config.bandwidth);
            *next = Some(at);
            at
        };
        sleep_until(own.max(common)).await;
        stream.write_all(&zeros[..n as usize]).await?;
        left -= n;
    }
    Ok(())
}

struct Decrement<'a>(&'a AtomicUsize);

impl Drop for Decrement<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn downloads(count: usize, every: f64, bytes: u64) -> Vec<Download> {
    (0..count)
        .map(|i| Download {
            at: i as f64 * every,
            instance: i as u32,
            objects: vec![Object { patch: format!("P{i}"), path: format!("P{i}-{bytes}.bin"), bytes }],
            predicted: None,
        })
        .collect()
}

fn options(speedup: f64, max_connections: u32) -> ReplayOptions {
    ReplayOptions {
        speedup,
        max_connections,
        duration: Duration::from_secs(30),
        timeout: Duration::from_secs(20),
        check_sizes: true,
        interval: Duration::from_millis(100),
    }
}

fn latencies(replay: &load::Replay) -> Vec<f64> {
    replay.outcomes.iter().map(|o| o.as_ref().expect("finished").latency().expect("succeeded")).collect()
}

// ---------------------------------------------------------------------------------------
// Measurement against the bandwidth limit
// ---------------------------------------------------------------------------------------

#[test]
fn latency_and_throughput_follow_the_servers_bandwidth() {
    // 8 downloads of 500 kB at once through 4 MB/s shared: 4 MB in about one second, each
    // download getting an eighth of the bandwidth and all ending together.
    let server = Server::start(ServerConfig { bandwidth: 4e6, ..ServerConfig::default() });
    let plan = downloads(8, 0.0, 500_000);
    let replay = load::run_replay(&server.target(), &plan, &options(1.0, 8), |_, _, _| {}).unwrap();
    assert_eq!(replay.stop, load::Stop::Completed);
    assert_eq!(replay.bytes, 4_000_000);
    for latency in latencies(&replay) {
        assert!((0.85..1.4).contains(&latency), "latency {latency} s, about 1 s expected");
    }
    let samples_mbps: Vec<f64> = replay.samples.iter().filter(|s| s.t > 0.15 && s.t < 0.85).map(|s| s.mbps).collect();
    assert!(!samples_mbps.is_empty());
    // The server makes up for a late wake-up by up to SLACK (50 ms), so one 100 ms sample
    // may carry up to half an interval more or less than 32 Mbit/s (on a busy machine a
    // sample of 41.9 was seen); their mean over the window is the bandwidth.
    let mean = samples_mbps.iter().sum::<f64>() / samples_mbps.len() as f64;
    assert!((28.0..36.0).contains(&mean), "mean throughput {mean} Mbit/s, 32 expected: {samples_mbps:?}");
    for mbps in samples_mbps {
        assert!((16.0..48.0).contains(&mbps), "throughput {mbps} Mbit/s, 32 ± 16 expected");
    }
}

#[test]
fn the_connection_cap_queues_downloads_and_latency_counts_the_queue() {
    // Cap 2, four downloads of 500 kB at once, 2 MB/s shared: two finish after about 0.5 s,
    // the two that waited after about 1 s, measured from their scheduled start.
    let server = Server::start(ServerConfig { bandwidth: 2e6, ..ServerConfig::default() });
    let plan = downloads(4, 0.0, 500_000);
    let replay = load::run_replay(&server.target(), &plan, &options(1.0, 2), |_, _, _| {}).unwrap();
    let mut latency = latencies(&replay);
    latency.sort_by(f64::total_cmp);
    for l in &latency[..2] {
        assert!((0.4..0.75).contains(l), "first pair took {l} s, about 0.5 s expected");
    }
    for l in &latency[2..] {
        assert!((0.9..1.4).contains(l), "queued pair took {l} s, about 1 s expected");
    }
    let peak_active = replay.samples.iter().map(|s| s.active).max().unwrap();
    assert_eq!(peak_active, 2, "never more than the cap holds a connection");
}

// ---------------------------------------------------------------------------------------
// The open model
// ---------------------------------------------------------------------------------------

#[test]
fn the_open_model_keeps_its_schedule_when_the_server_stalls() {
    // The server holds every response head for 1.5 s. Ten downloads due every 0.1 s (10
    // model seconds at speedup 100) are all sent on time anyway: none waits for another.
    let server = Server::start(ServerConfig { stall: Duration::from_millis(1500), ..ServerConfig::default() });
    let plan = downloads(10, 10.0, 1000);
    let replay = load::run_replay(&server.target(), &plan, &options(100.0, 100), |_, _, _| {}).unwrap();
    let outcomes: Vec<_> = replay.outcomes.iter().map(|o| o.clone().unwrap()).collect();
    for (i, o) in outcomes.iter().enumerate() {
        assert!((o.scheduled - i as f64 * 0.1).abs() < 1e-9);
        assert!(o.dispatched - o.scheduled < 0.08, "download {i} started {} s late", o.dispatched - o.scheduled);
        let latency = o.latency().unwrap();
        assert!((1.5..2.2).contains(&latency), "download {i}: latency {latency} s, 1.5 s of stall expected");
    }
    let arrivals = server.arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 10);
    // All ten requests reached the server before the first stall ended.
    assert!(arrivals[9] - arrivals[0] < 1.2, "arrivals spread over {} s", arrivals[9] - arrivals[0]);
}

#[test]
fn latency_is_measured_from_the_scheduled_start_not_from_sending() {
    // One connection, a 0.3 s stall per response, downloads due every 0.1 s: they queue,
    // and the k-th waits for the k before it: 0.3 (k + 1) - 0.1 k seconds. A closed-loop
    // measurement from sending would report 0.3 s for every one.
    let server = Server::start(ServerConfig { stall: Duration::from_millis(300), ..ServerConfig::default() });
    let plan = downloads(5, 0.1, 1000);
    let replay = load::run_replay(&server.target(), &plan, &options(1.0, 1), |_, _, _| {}).unwrap();
    for (k, latency) in latencies(&replay).into_iter().enumerate() {
        let expected = 0.3 * (k as f64 + 1.0) - 0.1 * k as f64;
        assert!(
            latency >= expected - 0.02 && latency < expected + 0.25,
            "download {k}: latency {latency} s, {expected} s expected"
        );
    }
}

#[test]
fn errors_are_counted_by_kind() {
    // A server with room for one connection, four downloads at once: the others get 503.
    let server = Server::start(ServerConfig { max_connections: 1, bandwidth: 1e6, ..ServerConfig::default() });
    let plan = downloads(4, 0.0, 300_000);
    let replay = load::run_replay(&server.target(), &plan, &options(1.0, 4), |_, _, _| {}).unwrap();
    let statuses: Vec<_> = replay.outcomes.iter().map(|o| o.as_ref().unwrap().error.clone()).collect();
    assert_eq!(statuses.iter().filter(|e| e.is_none()).count(), 1);
    assert_eq!(statuses.iter().filter(|e| **e == Some(FetchError::Status(503))).count(), 3);
    // Nothing listens on the port of a dropped server: connection errors.
    let addr = server.addr;
    drop(server);
    let target = Target::parse(&format!("http://{addr}/")).unwrap();
    let replay = load::run_replay(&target, &downloads(2, 0.0, 10), &options(1.0, 2), |_, _, _| {}).unwrap();
    for o in replay.outcomes.iter().flatten() {
        assert!(matches!(o.error, Some(FetchError::Connect(_))), "{:?}", o.error);
    }
}

#[test]
fn a_download_slower_than_the_timeout_is_a_timeout_error() {
    let server = Server::start(ServerConfig { stall: Duration::from_secs(3), ..ServerConfig::default() });
    let mut options = options(1.0, 2);
    options.timeout = Duration::from_millis(400);
    let replay = load::run_replay(&server.target(), &downloads(2, 0.0, 10), &options, |_, _, _| {}).unwrap();
    assert_eq!(replay.stop, load::Stop::Completed);
    for o in replay.outcomes.iter().flatten() {
        assert_eq!(o.error, Some(FetchError::Timeout));
        assert!((0.35..1.0).contains(&(o.done - o.connected.unwrap())), "abandoned after {} s", o.done);
    }
}

#[test]
fn the_replay_stops_at_its_duration_with_partial_results() {
    let server = Server::start(ServerConfig { stall: Duration::from_secs(5), ..ServerConfig::default() });
    let mut options = options(1.0, 10);
    options.duration = Duration::from_millis(600);
    let replay = load::run_replay(&server.target(), &downloads(3, 0.4, 10), &options, |_, _, _| {}).unwrap();
    assert_eq!(replay.stop, load::Stop::Duration);
    assert!(replay.elapsed < 1.5);
    assert_eq!(replay.unfinished, 2, "two were due before the stop and none finished");
    assert!(replay.outcomes.iter().all(Option::is_none));
}

// ---------------------------------------------------------------------------------------
// Calibration
// ---------------------------------------------------------------------------------------

#[test]
fn calibration_finds_the_connection_cap_and_both_rates() {
    // 1 MB/s per connection (8 Mbit/s), 4 MB/s in all (32 Mbit/s), six connections.
    let server =
        Server::start(ServerConfig { bandwidth: 4e6, per_connection: 1e6, max_connections: 6, ..Default::default() });
    let options = CalibrateOptions { path: "calibrate.bin".into(), probe: 10, seconds: 2, settle: 0.4 };
    let calibration = load::run_calibration(&server.target(), &options).unwrap();
    assert_eq!(calibration.accepted, 6);
    assert_eq!(calibration.refused.get("503"), Some(&4));
    assert!((7.0..8.8).contains(&calibration.single_mbps), "one connection: {} Mbit/s", calibration.single_mbps);
    assert_eq!(calibration.aggregate_connections, 6);
    assert!((28.0..35.0).contains(&calibration.aggregate_mbps), "in all: {} Mbit/s", calibration.aggregate_mbps);
    let section = calibration.repository_section("http://mirror/", "win-mirror", &["WINDOWS".into()]);
    let parsed: toml::Table = toml::from_str(&section).unwrap();
    let repository = &parsed["repository"].as_array().unwrap()[0];
    assert_eq!(repository["max_connections"].as_integer(), Some(6));
    assert_eq!(repository["name"].as_str(), Some("win-mirror"));
}

// ---------------------------------------------------------------------------------------
// From a simulation run to a results directory
// ---------------------------------------------------------------------------------------

/// Four instances download one 100 MB patch through a repository of 80 Mbit/s with two
/// connections: two at 40 Mbit/s finish after 800 / 40 = 20 s, the other two after 40 s.
const FOUR_DOWNLOADS: &str = r#"
[scenario]
name = "four-downloads"
start = 2026-01-05T00:00:00Z
horizon = "7d"
seed = 1
sample_interval = "1d"

[agent]
download_mbps = 1000.0

[[repository]]
name = "mirror"
serves = ["AMAZON_LINUX_2023"]
bandwidth_mbps = 80.0
max_connections = 2

[[catalog]]
os = "AMAZON_LINUX_2023"
products = ["AmazonLinux2023"]
packages = 0

[[catalog.patch]]
id = "ALAS2023-2026-0001"
package = "openssl"
classification = "Security"
severity = "Critical"
released = 2026-01-01T00:00:00Z
download_mb = 100.0
install_duration = "60s"

[[profile]]
name = "web"
os = "AMAZON_LINUX_2023"
packages = ["openssl"]

[[instance_group]]
name = "web"
count = 4
profile = "web"
tags = { "Patch Group" = "prod" }
initial_lag = "7d"

[[baseline]]
name = "prod-baseline"
os = "AMAZON_LINUX_2023"
[[baseline.rule]]
filters = { CLASSIFICATION = ["Security"] }
approve_after_days = 0
compliance_level = "CRITICAL"

[[patch_group]]
name = "prod"
baselines = ["prod-baseline"]

[[maintenance_window]]
name = "friday-install"
schedule = "cron(0 3 ? * FRI *)"
duration_hours = 2
cutoff_hours = 1
targets = ["tag:Patch Group=prod"]
[[maintenance_window.task]]
name = "install"
operation = "Install"
reboot_option = "NoReboot"
max_concurrency = "100%"
max_errors = "100%"
"#;

fn four_downloads() -> (patchfleet::scenario::Scenario, patchfleet::run::RunResult) {
    let scenario = patchfleet::scenario::load("four-downloads.toml", FOUR_DOWNLOADS).unwrap();
    let result = patchfleet::run::run_recording_downloads(&scenario, scenario.seed, |_, _| {}).unwrap();
    (scenario, result)
}

fn plan_options(size_scale: f64) -> PlanOptions {
    PlanOptions {
        window: "friday-install".into(),
        execution: None,
        repository: None,
        template: load::plan::DEFAULT_TEMPLATE.into(),
        mapping: None,
        size_scale,
        max_downloads: 100,
    }
}

#[test]
fn the_recorder_gives_each_download_its_instant_patch_size_and_predicted_latency() {
    let (scenario, result) = four_downloads();
    let log = result.downloads.as_ref().unwrap();
    assert_eq!(log.requests.len(), 4);
    let friday = patchfleet::schedule::parse_instant("2026-01-09T03:00:00Z").unwrap();
    for request in &log.requests {
        assert_eq!(request.requested_at, patchfleet::time::SimTime(friday));
        assert_eq!(request.patches, vec![0]);
        assert_eq!(request.megabytes, 100.0);
    }
    let mut finished: Vec<i64> =
        log.requests.iter().map(|r| r.finished_at.unwrap().since(r.requested_at).as_secs()).collect();
    finished.sort_unstable();
    assert_eq!(finished, vec![20, 20, 40, 40]);
    let plan = load::plan::build(&scenario, &result, &plan_options(1000.0)).unwrap();
    assert_eq!(plan.repository, "mirror");
    assert_eq!(plan.max_connections, 2);
    assert_eq!(plan.downloads.len(), 4);
    assert!(plan.downloads.iter().all(|d| d.at == 0.0));
    assert_eq!(plan.downloads[0].objects[0].path, "ALAS2023-2026-0001-100000.bin");
    assert_eq!(plan.downloads[0].objects[0].bytes, 100_000);
}

#[test]
fn recording_downloads_changes_no_result() {
    let (scenario, recorded) = four_downloads();
    let plain = patchfleet::run::run(&scenario, scenario.seed, |_, _| {}).unwrap();
    assert!(plain.downloads.is_none());
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    patchfleet::report::write_results(a.path(), true, &scenario, &plain).unwrap();
    patchfleet::report::write_results(b.path(), true, &scenario, &recorded).unwrap();
    assert_eq!(support::deterministic_files(a.path()), support::deterministic_files(b.path()));
}

#[test]
fn plan_errors_name_what_is_missing() {
    let (scenario, result) = four_downloads();
    let mut options = plan_options(1.0);
    options.window = "sunday".into();
    let error = load::plan::build(&scenario, &result, &options).unwrap_err();
    assert!(error.contains("no maintenance window `sunday`") && error.contains("friday-install"), "{error}");
    let mut options = plan_options(1.0);
    options.execution = Some(99);
    let error = load::plan::build(&scenario, &result, &options).unwrap_err();
    assert!(error.contains("no execution 99"), "{error}");
    let mut options = plan_options(1.0);
    options.template = "../{patch}".into();
    let error = load::plan::build(&scenario, &result, &options).unwrap_err();
    assert!(error.contains("`..`"), "{error}");
}

#[test]
fn a_replayed_window_matches_its_prediction_on_a_server_like_the_model() {
    // The model's mirror at a thousandth of the size and a thousand times the speed: 80
    // Mbit/s is 10 MB/s, objects of 100 kB, two connections; predicted 20 s and 40 s are
    // 20 ms and 40 ms, measured in model seconds as 20 s and 40 s plus overheads.
    let (scenario, result) = four_downloads();
    let plan: Plan = load::plan::build(&scenario, &result, &plan_options(1000.0)).unwrap();
    let server = Server::start(ServerConfig { bandwidth: 10e6, per_connection: 125e6, ..ServerConfig::default() });
    let options = ReplayOptions { max_connections: plan.max_connections, ..options(1000.0, 0) };
    let replay = load::run_replay(&server.target(), &plan.downloads, &options, |_, _, _| {}).unwrap();
    let summary = load::summarise(&plan, &replay, "http://test/", 1000.0, 1000.0);
    assert_eq!(summary.succeeded, 4);
    let predicted = summary.predicted_s.as_ref().unwrap();
    // HdrHistogram's three significant figures.
    assert!((predicted.p50 - 20.0).abs() < 0.02 && (predicted.max - 40.0).abs() < 0.04, "{predicted:?}");
    let measured = summary.latency_model_s.as_ref().unwrap();
    assert!((18.0..45.0).contains(&measured.p50), "measured p50 {} model seconds", measured.p50);
    assert!((38.0..70.0).contains(&measured.max), "measured max {} model seconds", measured.max);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("load");
    load::files::write(&out, &summary, &plan, &replay).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("load.json")).unwrap()).unwrap();
    assert_eq!(json["succeeded"], 4);
    assert_eq!(json["window"], "friday-install");
    assert!((json["predicted_s"]["max"].as_f64().unwrap() - 40.0).abs() < 0.04);
    let requests = std::fs::read_to_string(out.join("requests.csv")).unwrap();
    assert_eq!(requests.lines().count(), 5);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("src="), "self-contained");
    assert!(
        std::fs::read_to_string(out.join("load.csv"))
            .unwrap()
            .starts_with("t,dispatched,completed,errors,active,waiting,mbps")
    );
}

// ---------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------

#[test]
fn load_refuses_to_start_without_a_plain_http_target() {
    let out = support::run(&["load", "--window", "saturday-night"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(support::text(&out.stderr).contains("needs --target"), "{}", support::text(&out.stderr));
    let out = support::run(&["load", "--target", "https://mirror.example/", "--window", "w"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(support::text(&out.stderr).contains("only http://"), "{}", support::text(&out.stderr));
    let out = support::run(&["load", "--target", "http://127.0.0.1:9/", "--speedup", "0", "--window", "w"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(support::text(&out.stderr).contains("--speedup must be a positive number"));
}

#[test]
fn load_seed_writes_sparse_objects_named_by_patch_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("four.toml");
    std::fs::write(&scenario, FOUR_DOWNLOADS).unwrap();
    let mirror = dir.path().join("mirror");
    let out =
        support::run(&["load", "seed", mirror.to_str().unwrap(), scenario.to_str().unwrap(), "--size-scale", "1000"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::text(&out.stderr));
    assert_eq!(std::fs::metadata(mirror.join("ALAS2023-2026-0001-100000.bin")).unwrap().len(), 100_000);
    assert_eq!(std::fs::metadata(mirror.join("calibrate.bin")).unwrap().len(), 4 << 30);
}

#[test]
fn the_command_replays_a_window_and_writes_its_results() {
    let server = Server::start(ServerConfig { bandwidth: 10e6, ..ServerConfig::default() });
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("four.toml");
    std::fs::write(&scenario, FOUR_DOWNLOADS).unwrap();
    let out_dir = dir.path().join("results");
    let target = format!("http://{}/", server.addr);
    let args = [
        "load",
        "--target",
        &target,
        scenario.to_str().unwrap(),
        "--window",
        "friday-install",
        "--speedup",
        "1000",
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let out = support::run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", support::text(&out.stderr));
    let stdout = support::text(&out.stdout);
    assert!(stdout.contains("4 succeeded, 0 failed"), "{stdout}");
    assert!(stdout.contains("predicted"), "{stdout}");
    for file in ["load.json", "load.csv", "requests.csv", "report.html"] {
        assert!(out_dir.join(file).exists(), "{file} missing");
    }
    // The directory is now taken: a second run without --force is refused before any traffic.
    let out = support::run(&args);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(server.arrivals.lock().unwrap().len(), 4);
}

#[test]
fn ctrl_c_stops_the_replay_and_writes_what_was_measured() {
    // 50 kB/s shared: the first two downloads of 100 kB end after about 4 s, the other two
    // would after about 8 s. SIGINT at 5 s leaves two measured and two unfinished.
    let server = Server::start(ServerConfig { bandwidth: 50e3, ..ServerConfig::default() });
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("four.toml");
    std::fs::write(&scenario, FOUR_DOWNLOADS).unwrap();
    let out_dir = dir.path().join("results");
    let target = format!("http://{}/", server.addr);
    let child = support::patchfleet()
        .args(["load", "--target", &target, scenario.to_str().unwrap(), "--window", "friday-install"])
        .args(["--speedup", "1000", "--out", out_dir.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(5));
    let signal = std::process::Command::new("sh").arg("-c").arg(format!("kill -INT {}", child.id())).status().unwrap();
    assert!(signal.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", support::text(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("load.json")).unwrap()).unwrap();
    assert_eq!(json["stop"], "interrupted");
    assert_eq!(json["succeeded"], 2);
    assert_eq!(json["unfinished"], 2);
    assert!(json["elapsed_s"].as_f64().unwrap() < 7.0);
}

#[test]
fn a_mapping_file_names_each_patchs_object_and_errors_name_the_line() {
    let (scenario, result) = four_downloads();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("map.csv");
    std::fs::write(&file, "patch,path\nALAS2023-2026-0001,/pool/o/openssl-3.0.8.rpm\n").unwrap();
    let mut options = plan_options(1.0);
    options.mapping = Some(load::plan::read_mapping(&file).unwrap());
    let plan = load::plan::build(&scenario, &result, &options).unwrap();
    assert_eq!(plan.downloads[0].objects[0].path, "pool/o/openssl-3.0.8.rpm");

    std::fs::write(&file, "patch,path\nOTHER-1,other.rpm\n").unwrap();
    options.mapping = Some(load::plan::read_mapping(&file).unwrap());
    let error = load::plan::build(&scenario, &result, &options).unwrap_err();
    assert!(error.contains("`ALAS2023-2026-0001` has no line in the mapping file"), "{error}");

    for (text, expected) in [
        ("id,url\nA,a\n", ":1: the header must be `patch,path`"),
        ("patch,path\nA,a\nA,b\n", ":3: patch `A` is mapped twice"),
        ("patch,path\nA,../a\n", ":2: object path"),
    ] {
        std::fs::write(&file, text).unwrap();
        let error = load::plan::read_mapping(&file).unwrap_err();
        assert!(error.contains(&format!("map.csv{expected}")), "{error}");
    }
}
