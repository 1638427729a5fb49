//! Running a scenario: build the world, drive the engine, collect what reports need.

use hdrhistogram::Histogram;

use crate::compliance::GroupCounters;
use crate::engine::RunOutcome;
use crate::metrics::CoreMetrics;
use crate::scenario::Scenario;
use crate::sim::{ExecutionRecord, GroupSpread, PatchProgress, Sim, World};
use crate::time::SimTime;

/// Everything a finished run hands to the reports.
pub struct RunResult {
    pub seed: u64,
    pub outcome: RunOutcome,
    pub world: World,
    pub samples: Vec<(SimTime, Vec<GroupCounters>)>,
    pub exposure: Vec<Histogram<u64>>,
    pub exposed_at_end: Vec<u64>,
    pub progress: Vec<Vec<PatchProgress>>,
    /// Per patch group, how far each patch spread (time-to-X% metrics).
    pub spread: GroupSpread,
    pub window_records: Vec<ExecutionRecord>,
    /// Executions of rate-controlled or Install associations.
    pub association_records: Vec<ExecutionRecord>,
    /// Remediations run by alarms.
    pub remediation_records: Vec<ExecutionRecord>,
    /// Every target of every task, when the scenario asks for `invocations.csv`.
    pub invocations: Option<Vec<crate::sim::InvocationRecord>>,
    /// When each operation snapshot was taken, by snapshot number.
    pub snapshot_taken: Vec<SimTime>,
    pub alarms: Vec<crate::sim::AlarmState>,
    pub metrics: CoreMetrics,
    pub repository_samples: Vec<crate::sim::RepositorySample>,
    pub asg_samples: Vec<crate::sim::AsgSample>,
    pub download_latency: Vec<Histogram<u64>>,
    pub repository_peaks: Vec<(u32, u32)>,
    /// Per location and destination: total time the link was down within the run.
    pub link_downtime: Vec<(String, String, crate::time::SimDuration)>,
    /// Events scheduled in all, handled or not.
    pub events_scheduled: u64,
    /// Every repository download, if the run recorded them ([`run_recording_downloads`]).
    pub downloads: Option<crate::sim::DownloadLog>,
}

/// Runs `scenario` with `seed`. `observe` receives (simulated now, events so far) every few
/// thousand events, for progress display; it cannot influence the run.
pub fn run(scenario: &Scenario, seed: u64, observe: impl FnMut(SimTime, u64)) -> Result<RunResult, String> {
    run_within(scenario, seed, crate::limits::DEFAULT_MAX_WORK, observe)
}

/// Runs `scenario` with `seed`, stopping after `max_work` units of work (events plus the
/// instances they visit; `crate::limits::DEFAULT_MAX_WORK` for [`run`]).
pub fn run_within(
    scenario: &Scenario,
    seed: u64,
    max_work: u64,
    observe: impl FnMut(SimTime, u64),
) -> Result<RunResult, String> {
    run_with(scenario, seed, max_work, false, observe)
}

/// [`run`], also recording every download requested from a repository (instant, instance,
/// patches, size and predicted completion) into [`RunResult::downloads`], for
/// `patchfleet load`. The recording only observes: every other result is the same.
pub fn run_recording_downloads(
    scenario: &Scenario,
    seed: u64,
    observe: impl FnMut(SimTime, u64),
) -> Result<RunResult, String> {
    run_with(scenario, seed, crate::limits::DEFAULT_MAX_WORK, true, observe)
}

fn run_with(
    scenario: &Scenario,
    seed: u64,
    max_work: u64,
    record_downloads: bool,
    observe: impl FnMut(SimTime, u64),
) -> Result<RunResult, String> {
    let (mut sim, mut scheduler) = Sim::new(scenario, seed)?;
    if record_downloads {
        sim.download_log = Some(crate::sim::DownloadLog::default());
    }
    let outcome = sim.run_with(&mut scheduler, max_work, observe);
    sim.close_open_executions(outcome.stopped_at);
    let network = &scenario.network;
    let mut link_downtime = Vec::new();
    for (l, location) in network.locations.iter().enumerate() {
        for destination in 0..network.destinations() {
            let down = sim.links.downtime(l, destination, scenario.start, outcome.stopped_at);
            link_downtime.push((location.name.clone(), network.destination_name(destination).to_string(), down));
        }
    }
    Ok(RunResult {
        seed,
        outcome,
        events_scheduled: scheduler.scheduled_total(),
        world: sim.world,
        samples: sim.samples,
        exposure: sim.exposure,
        exposed_at_end: sim.exposed_at_end,
        progress: sim.progress,
        spread: sim.spread,
        window_records: sim.executions.window_records,
        association_records: sim.executions.association_records,
        remediation_records: sim.executions.remediation_records,
        invocations: sim.executions.invocation_log,
        snapshot_taken: sim.executions.snapshot_taken,
        alarms: sim.alarms,
        metrics: sim.metrics,
        repository_samples: sim.repository_samples,
        asg_samples: sim.asg_samples,
        download_latency: sim.download_latency,
        repository_peaks: sim.repository_peaks,
        link_downtime,
        downloads: sim.download_log,
    })
}
