//! Reports of cohort scans whose inputs did not change since the instance's last one.
//!
//! A Scan's counts are a pure function of the instance's patches (installed, pending a
//! reboot), its mix, the baseline it is evaluated against and that baseline's approved set,
//! and on Windows the released set. A daily scan association over a fleet finds most
//! instances as it left them the day before whenever their baseline approved nothing in
//! between (a Windows baseline approves once a month). [`ScanCache`] remembers, per
//! instance, under which inputs its current report was scanned: the baseline, how many
//! patches that baseline had approved during the run, and an epoch that every release on
//! Windows (released set and mixes) advances. Any other report (an Install's, a Scan run
//! by a window) forgets it. A cohort scan whose key matches reuses the report's counts with
//! the new instants and snapshot; the report is the one a full evaluation gives.

use super::Sim;
use crate::baseline::Snapshot;
use crate::compliance::InstanceReport;
use crate::metrics::EvaluationTimer;
use crate::time::SimTime;

/// The inputs a cohort scan's report was computed under.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanKey {
    /// 0: no report of a cohort scan to reuse.
    epoch: u32,
    baseline: u16,
    /// Patches the baseline approved during the run when the report was computed.
    approvals: u32,
}

/// Per instance, the key of its current report if a cohort scan produced it.
pub struct ScanCache {
    epoch: u32,
    keys: Vec<ScanKey>,
}

impl ScanCache {
    pub fn new(instances: usize) -> ScanCache {
        ScanCache { epoch: 1, keys: vec![ScanKey::default(); instances] }
    }

    /// A release on Windows: released sets and mixes changed, no report can be reused.
    pub fn new_epoch(&mut self) {
        self.epoch = self.epoch.checked_add(1).unwrap_or_else(|| {
            self.keys.iter_mut().for_each(|key| *key = ScanKey::default());
            1
        });
    }

    /// The instance's report was replaced by one no cohort scan computed.
    pub fn forget(&mut self, instance: u32) {
        self.keys[instance as usize] = ScanKey::default();
    }

    pub fn record(&mut self, instance: u32, key: ScanKey) {
        self.keys[instance as usize] = key;
    }

    /// A new instance, with no report.
    pub fn push(&mut self) {
        self.keys.push(ScanKey::default());
    }
}

impl Sim<'_> {
    /// The key of a cohort scan of an instance against `baseline` now.
    pub(super) fn scan_key(&self, baseline: u16) -> ScanKey {
        ScanKey { epoch: self.scan_cache.epoch, baseline, approvals: self.truth_cache.approvals(baseline) }
    }

    /// The report of a cohort scan started at `now`: the current report with new instants
    /// and snapshot where its key is unchanged, else an evaluation (counted and timed by
    /// `timer`).
    pub(super) fn cohort_scan(
        &self,
        instance: u32,
        now: SimTime,
        baseline: u16,
        snapshot: &Snapshot,
        timer: &mut EvaluationTimer,
    ) -> InstanceReport {
        if let Some(previous) = self.world.instances.report[instance as usize]
            && self.scan_cache.keys[instance as usize] == self.scan_key(baseline)
        {
            let end = now + self.scenario.agent.scan_duration;
            return InstanceReport { start: now, end, snapshot: snapshot.id, ..previous };
        }
        let started = timer.start();
        let report = self.scan_report(instance, now, baseline, snapshot);
        timer.end(started);
        report
    }
}
