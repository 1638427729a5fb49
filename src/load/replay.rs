//! The open-model replay: every download starts at its scheduled instant (model time over
//! the speedup), whether earlier ones have finished or not, and its latency is measured
//! from that instant, so a slow mirror cannot hide its queue (no coordinated omission).
//!
//! Caps of the model apply on the client side: at most `max_connections` downloads hold a
//! connection at once (the rest wait in FIFO order, as the repository model queues them),
//! and an instance runs one download at a time. A download fetches its objects one after
//! another over one connection.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout};

use super::client::{Connection, FetchError, Target};
use super::plan::Download;

/// Bounds and shape of a replay.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// Model seconds per real second.
    pub speedup: f64,
    /// Downloads holding a connection at once.
    pub max_connections: u32,
    /// The replay stops after this long, whatever is left.
    pub duration: Duration,
    /// One download (all its objects) is abandoned after this long with a connection.
    pub timeout: Duration,
    /// Check that each object has the size the plan expects.
    pub check_sizes: bool,
    /// A time-series row every this long.
    pub interval: Duration,
}

/// How one download ended. Instants are real seconds after the replay's start.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub index: usize,
    pub scheduled: f64,
    /// When the replay's scheduler started it (its lag behind `scheduled` shows the
    /// schedule is kept).
    pub dispatched: f64,
    /// When it got a connection (after the caps).
    pub connected: Option<f64>,
    /// When the first response head arrived.
    pub first_byte: Option<f64>,
    pub done: f64,
    pub bytes: u64,
    pub error: Option<FetchError>,
}

impl Outcome {
    /// Real seconds from the scheduled start to the end, for successful downloads.
    pub fn latency(&self) -> Option<f64> {
        self.error.is_none().then_some(self.done - self.scheduled)
    }
}

/// Why the replay ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Completed,
    Duration,
    Interrupted,
}

impl Stop {
    pub fn as_str(self) -> &'static str {
        match self {
            Stop::Completed => "completed",
            Stop::Duration => "duration",
            Stop::Interrupted => "interrupted",
        }
    }
}

/// One row of the time series (load.csv), over the interval ending at `t`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Sample {
    pub t: f64,
    pub dispatched: u64,
    pub completed: u64,
    pub errors: u64,
    /// Downloads holding a connection at the end of the interval.
    pub active: u64,
    /// Dispatched downloads waiting for a connection.
    pub waiting: u64,
    /// Megabits per second over the interval.
    pub mbps: f64,
}

/// Everything a replay measured.
#[derive(Clone, Debug)]
pub struct Replay {
    pub stop: Stop,
    pub elapsed: f64,
    /// Indexed like the plan's downloads; `None` for downloads never finished (not yet due,
    /// or still running when the replay stopped).
    pub outcomes: Vec<Option<Outcome>>,
    /// Downloads dispatched but unfinished at the stop.
    pub unfinished: usize,
    pub samples: Vec<Sample>,
    pub bytes: u64,
}

/// Live counters, shared with the download tasks and read by the progress display.
#[derive(Debug, Default)]
pub struct Live {
    pub bytes: AtomicU64,
    pub active: AtomicU64,
    pub waiting: AtomicU64,
}

/// Runs the plan's downloads against `target`. `progress` is called at every sample with
/// (completed, errors, the sample). Ctrl-C stops it cleanly (what finished is kept).
pub async fn replay(
    target: &Target,
    downloads: &[Download],
    options: &ReplayOptions,
    mut progress: impl FnMut(u64, u64, &Sample),
) -> Replay {
    let (tx, mut rx) = mpsc::unbounded_channel::<Outcome>();
    let mut dispatcher = Dispatcher::new(target, options, tx);
    let start = dispatcher.start;
    let mut outcomes: Vec<Option<Outcome>> = vec![None; downloads.len()];
    let deadline = start + options.duration;
    let due = |d: &Download| start + Duration::from_secs_f64(d.at / options.speedup);
    let mut ticker = tokio::time::interval_at(start + options.interval, options.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let mut counts = Counts::default();
    let mut samples = Vec::new();
    let stop = loop {
        if counts.completed as usize == downloads.len() {
            break Stop::Completed;
        }
        let next_at = downloads.get(counts.dispatched).map(due);
        tokio::select! {
            // Dispatch before bookkeeping: a burst of completions never delays a start.
            biased;
            _ = &mut interrupt => break Stop::Interrupted,
            _ = sleep_until(deadline) => break Stop::Duration,
            _ = sleep_until(next_at.unwrap_or(deadline)), if next_at.is_some() => {
                let download = &downloads[counts.dispatched];
                let scheduled = due(download).duration_since(start).as_secs_f64();
                dispatcher.spawn(counts.dispatched, scheduled, download);
                counts.dispatched += 1;
            }
            Some(outcome) = rx.recv() => {
                counts.completed += 1;
                counts.errors += u64::from(outcome.error.is_some());
                let index = outcome.index;
                outcomes[index] = Some(outcome);
            }
            _ = ticker.tick() => {
                let sample = counts.sample(&dispatcher.live, start);
                progress(counts.completed, counts.errors, &sample);
                samples.push(sample);
            }
        }
    };
    let last = counts.sample(&dispatcher.live, start);
    progress(counts.completed, counts.errors, &last);
    samples.push(last);
    dispatcher.tasks.abort_all();
    Replay {
        stop,
        elapsed: start.elapsed().as_secs_f64(),
        unfinished: counts.dispatched - counts.completed as usize,
        outcomes,
        samples,
        bytes: dispatcher.live.bytes.load(Ordering::Relaxed),
    }
}

/// Starts downloads as tasks, with the caps they must wait for.
struct Dispatcher {
    start: Instant,
    target: Target,
    options: ReplayOptions,
    live: Arc<Live>,
    connections: Arc<Semaphore>,
    /// One permit per instance: its downloads run one at a time.
    instances: HashMap<u32, Arc<Semaphore>>,
    tx: mpsc::UnboundedSender<Outcome>,
    tasks: JoinSet<()>,
}

impl Dispatcher {
    fn new(target: &Target, options: &ReplayOptions, tx: mpsc::UnboundedSender<Outcome>) -> Dispatcher {
        Dispatcher {
            start: Instant::now(),
            target: target.clone(),
            options: options.clone(),
            live: Arc::new(Live::default()),
            connections: Arc::new(Semaphore::new(options.max_connections.max(1) as usize)),
            instances: HashMap::new(),
            tx,
            tasks: JoinSet::new(),
        }
    }

    fn spawn(&mut self, index: usize, scheduled: f64, download: &Download) {
        let instance = self.instances.entry(download.instance).or_insert_with(|| Arc::new(Semaphore::new(1))).clone();
        let task = Task {
            index,
            scheduled,
            dispatched: self.start.elapsed().as_secs_f64(),
            start: self.start,
            download: download.clone(),
            target: self.target.clone(),
            live: self.live.clone(),
            options: self.options.clone(),
        };
        self.tasks.spawn(task.run(instance, self.connections.clone(), self.tx.clone()));
    }
}

/// What the replay loop counts, and where the last sample left off.
#[derive(Default)]
struct Counts {
    dispatched: usize,
    completed: u64,
    errors: u64,
    last_bytes: u64,
    last_t: f64,
}

impl Counts {
    fn sample(&mut self, live: &Live, start: Instant) -> Sample {
        let t = start.elapsed().as_secs_f64();
        let bytes = live.bytes.load(Ordering::Relaxed);
        let span = (t - self.last_t).max(1e-9);
        let mbps = (bytes - self.last_bytes) as f64 * 8.0 / 1e6 / span;
        (self.last_bytes, self.last_t) = (bytes, t);
        Sample {
            t,
            dispatched: self.dispatched as u64,
            completed: self.completed,
            errors: self.errors,
            active: live.active.load(Ordering::Relaxed),
            waiting: live.waiting.load(Ordering::Relaxed),
            mbps,
        }
    }
}

/// One download in flight.
struct Task {
    index: usize,
    scheduled: f64,
    dispatched: f64,
    start: Instant,
    download: Download,
    target: Target,
    live: Arc<Live>,
    options: ReplayOptions,
}

impl Task {
    async fn run(self, instance: Arc<Semaphore>, connections: Arc<Semaphore>, tx: mpsc::UnboundedSender<Outcome>) {
        self.live.waiting.fetch_add(1, Ordering::Relaxed);
        let waiting = Guard(&self.live.waiting);
        let _instance = instance.acquire_owned().await.expect("the semaphore is never closed");
        let _connection = connections.acquire_owned().await.expect("the semaphore is never closed");
        drop(waiting);
        self.live.active.fetch_add(1, Ordering::Relaxed);
        let _active = Guard(&self.live.active);
        let connected = self.since_start(Instant::now());
        let mut first_byte = None;
        let mut bytes = 0;
        let result = timeout(self.options.timeout, self.fetch_all(&mut first_byte, &mut bytes)).await;
        let error = match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some(FetchError::Timeout),
        };
        let outcome = Outcome {
            index: self.index,
            scheduled: self.scheduled,
            dispatched: self.dispatched,
            connected: Some(connected),
            first_byte,
            done: self.since_start(Instant::now()),
            bytes,
            error,
        };
        let _ = tx.send(outcome);
    }

    async fn fetch_all(&self, first_byte: &mut Option<f64>, bytes: &mut u64) -> Result<(), FetchError> {
        let mut connection = Connection::open(&self.target).await?;
        for object in &self.download.objects {
            let expected = self.options.check_sizes.then_some(object.bytes);
            let (first, got) = connection.get(&self.target, &object.path, expected, &self.live.bytes).await?;
            first_byte.get_or_insert(self.since_start(first));
            *bytes += got;
        }
        Ok(())
    }

    fn since_start(&self, at: Instant) -> f64 {
        at.duration_since(self.start).as_secs_f64()
    }
}

/// Decrements a live counter when dropped, so aborted tasks leave the counts right.
struct Guard<'a>(&'a AtomicU64);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
