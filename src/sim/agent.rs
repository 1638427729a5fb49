//! AWS-RunPatchBaseline on one instance: Scan reports; Install installs the approved,
//! applicable, missing patches, then reboots or not, then reports.
//!
//! An operation is decided when it starts: the approved set it sees is its execution's
//! snapshot (AWS-RunPatchBaseline's SnapshotId: every node of one maintenance-window
//! execution sees the same approved set, so a patch approved while a long execution runs is
//! not installed by its later invocations), and its per-patch failures are drawn from the
//! instance's own random stream, keyed by the instance and its operation count. Its effects
//! and its report apply when it finishes.
//!
//! Rules AWS documents:
//! - FailedCount counts the patches that failed in the last patching operation
//!   (InstancePatchState in the API reference): a Scan reports a patch whose Install failed
//!   as MISSING, not FAILED.
//!
//! Decisions:
//! - The reboot of RebootIfNeeded happens inside the invocation, and its time is part of it.
//!   It happens when the Install installed at least one patch or a patch was already
//!   pending reboot; the patch's own reboot flag is not consulted, as AWS does not.
//! - Under NoReboot, every patch this Install installed is INSTALLED_PENDING_REBOOT until a
//!   later Install reboots. Exposure ends when a patch is effective: at installation,
//!   or at the reboot for a patch that needs one.
//! - On Linux the newest approved version wins: a missing patch superseded by another
//!   missing approved patch is not installed on its own; installing the newer one makes
//!   every patch it supersedes present.
//! - An Install that arrives while another operation runs on the instance fails at once
//!   (the package manager's lock is held) and counts toward MaxErrors.

use super::{Sim, check_thresholds};
use crate::baseline::Snapshot;
use crate::bitset::{BitSet, bits_of, for_each_and_and_not};
use crate::compliance::{Evaluation, EvaluationInput, InstanceReport, Operation, RebootOption, evaluate};
use crate::rng::{Purpose, Stream};
use crate::time::{SimDuration, SimTime};
use crate::window::status::Cause;

/// An operation under way on an instance: what it will change when it finishes.
#[derive(Clone, Debug)]
pub struct PendingOperation {
    pub operation: Operation,
    pub reboot_option: RebootOption,
    /// When it ends, if it downloads nothing through a shared repository; otherwise the
    /// download's time is added when it completes.
    pub end: SimTime,
    /// Megabytes to fetch through the shared repository of the instance's OS (0: none).
    pub download_mb: f64,
    /// The patches in that download; kept only while downloads are recorded.
    pub downloads: Vec<u32>,
    /// Patches present after the operation that were not before (with superseded ones).
    pub newly_installed: Vec<u32>,
    /// Patches whose install failed.
    pub failed: Vec<u32>,
    /// The instance rebooted at the end of the operation.
    pub rebooted: bool,
    /// The reboot failed: the instance is down until repaired, the patches wait for a
    /// reboot, and the agent never reports this operation.
    pub reboot_failed: bool,
    pub report: InstanceReport,
    /// The `ScanCache` epoch the report was evaluated in.
    pub epoch: u32,
    /// How the invocation ends: `Completed`, or why it failed.
    pub cause: Cause,
}

/// Buffers an Install's planning reuses from one invocation to the next, so that planning
/// allocates only what the plan keeps (newly installed and failed patches).
#[derive(Default)]
pub struct PlanScratch {
    /// Per catalog: the installed set after the operation, evaluated for its report.
    after: Vec<BitSet>,
    missing: Vec<u32>,
    to_install: Vec<u32>,
    pending_after: Vec<u32>,
}

impl PlanScratch {
    pub fn new(catalog_sizes: impl Iterator<Item = usize>) -> PlanScratch {
        PlanScratch { after: catalog_sizes.map(BitSet::new).collect(), ..PlanScratch::default() }
    }
}

/// What an invocation asks of the agent, and what it works against.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub operation: Operation,
    pub reboot_option: RebootOption,
    pub install_override: &'a [String],
    /// The repository of the instance's OS can be reached now.
    pub repository_reachable: bool,
    pub snapshot: &'a Snapshot,
}

impl Sim<'_> {
    /// The report a Scan started at `now` produces. A Scan is not a patching operation: it
    /// reports no FAILED patches, only MISSING ones.
    pub(crate) fn scan_report(
        &self,
        instance: u32,
        now: SimTime,
        baseline: u16,
        snapshot: &Snapshot,
    ) -> InstanceReport {
        let previous = self.world.instances.report[instance as usize];
        self.scan_report_after(instance, previous.as_ref(), now, baseline, snapshot)
    }

    /// The same, for an instance whose current report is `previous` (a cohort scan holds
    /// the reports while it writes them).
    pub(crate) fn scan_report_after(
        &self,
        instance: u32,
        previous: Option<&InstanceReport>,
        now: SimTime,
        baseline: u16,
        snapshot: &Snapshot,
    ) -> InstanceReport {
        let evaluation = self.scan_evaluation(instance, baseline, snapshot);
        self.scan_report_with(evaluation, previous, now, baseline, snapshot)
    }

    /// The evaluation a Scan of `instance` against `baseline` in `snapshot` does.
    pub(crate) fn scan_evaluation(&self, instance: u32, baseline: u16, snapshot: &Snapshot) -> Evaluation {
        let instances = &self.world.instances;
        let index = instance as usize;
        let pending_reboot = &instances.pending_reboot[index];
        evaluate(&self.evaluation_input(instance, &instances.installed[index], &[], pending_reboot, baseline, snapshot))
    }

    /// The report of a Scan started at `now` whose evaluation is `evaluation`, for an
    /// instance whose current report is `previous`.
    pub(crate) fn scan_report_with(
        &self,
        evaluation: Evaluation,
        previous: Option<&InstanceReport>,
        now: SimTime,
        baseline: u16,
        snapshot: &Snapshot,
    ) -> InstanceReport {
        self.report_of(
            evaluation,
            Operation::Scan,
            previous.map_or(RebootOption::RebootIfNeeded, |r| r.reboot_option),
            now,
            now + self.scenario.agent.scan_duration,
            previous.and_then(|r| r.last_no_reboot_install),
            baseline,
            snapshot,
        )
    }

    /// A report with its evaluation, operation, instants and snapshot.
    #[allow(clippy::too_many_arguments)]
    fn report_of(
        &self,
        (counts, [critical, security, other], severity): Evaluation,
        operation: Operation,
        reboot_option: RebootOption,
        start: SimTime,
        end: SimTime,
        last_no_reboot_install: Option<SimTime>,
        baseline: u16,
        snapshot: &Snapshot,
    ) -> InstanceReport {
        InstanceReport {
            operation,
            reboot_option,
            start,
            end,
            baseline,
            snapshot: snapshot.id,
            counts,
            critical_non_compliant: critical,
            security_non_compliant: security,
            other_non_compliant: other,
            overall_severity: severity,
            last_no_reboot_install,
            available_security_non_compliant: self.world.baselines[baseline as usize].available_security_non_compliant,
        }
    }

    /// What an evaluation of `instance` with these patch sets against `baseline` in
    /// `snapshot` reads.
    pub(crate) fn evaluation_input<'a>(
        &'a self,
        instance: u32,
        installed: &'a BitSet,
        failed: &'a [u32],
        pending_reboot: &'a [u32],
        baseline: u16,
        snapshot: &'a Snapshot,
    ) -> EvaluationInput<'a> {
        let group = &self.world.groups[self.world.instances.group[instance as usize] as usize];
        let compiled = &self.world.baselines[baseline as usize];
        let windows = compiled.os == crate::catalog::Os::Windows;
        EvaluationInput {
            baseline: compiled,
            approved: snapshot.approved(baseline),
            security: &self.world.security[group.catalog],
            applicable: self.world.applicable(instance),
            installed,
            failed,
            pending_reboot,
            released: windows.then(|| &self.world.released[group.catalog]),
        }
    }

    /// Plans an operation started at `now` on `instance`.
    pub(crate) fn plan_operation(&mut self, instance: u32, request: &Request<'_>, now: SimTime) -> PendingOperation {
        let Request { operation, reboot_option, snapshot, .. } = *request;
        let index = instance as usize;
        let group_index = self.world.instances.group[index] as usize;
        let started = self.metrics.start_evaluation();
        let plan = match operation {
            Operation::Scan => {
                let baseline = self.world.groups[group_index].baseline;
                let report = self.scan_report(instance, now, baseline, snapshot);
                PendingOperation {
                    operation,
                    reboot_option,
                    end: report.end,
                    newly_installed: Vec::new(),
                    failed: Vec::new(),
                    rebooted: false,
                    reboot_failed: false,
                    download_mb: 0.0,
                    downloads: Vec::new(),
                    report,
                    epoch: self.scan_cache.epoch(),
                    cause: Cause::Completed,
                }
            }
            Operation::Install => self.plan_install(instance, group_index, request, now),
        };
        self.metrics.end_evaluation(started);
        plan
    }

    fn plan_install(
        &mut self,
        instance: u32,
        group_index: usize,
        request: &Request<'_>,
        now: SimTime,
    ) -> PendingOperation {
        let Request { reboot_option, install_override, repository_reachable, snapshot, .. } = *request;
        let index = instance as usize;
        let world = &self.world;
        let group = &world.groups[group_index];
        let catalog_index = group.catalog;
        let catalog = &world.catalogs[catalog_index];
        let approved = snapshot.approved(group.baseline);
        let applicable = world.applicable(instance);
        let installed = &world.instances.installed[index];

        let scratch = &mut self.plan_scratch;
        let mut missing = std::mem::take(&mut scratch.missing);
        let mut to_install = std::mem::take(&mut scratch.to_install);
        let mut pending_after = std::mem::take(&mut scratch.pending_after);
        let mut after = std::mem::take(&mut scratch.after[catalog_index]);
        missing.clear();
        to_install.clear();
        pending_after.clear();
        if install_override.is_empty() {
            for_each_and_and_not(approved, applicable, installed, |w, word| {
                missing.extend(bits_of(w, word).map(|p| p as u32));
            });
        } else {
            // InstallOverrideList: exactly the listed patches that are released and apply,
            // approved or not (section 1.5, step 1).
            let family = catalog.os.family();
            for_each_and_and_not(&world.released[group.catalog], applicable, installed, |w, word| {
                missing.extend(bits_of(w, word).map(|p| p as u32).filter(|&p| {
                    let patch = &catalog.patches[p as usize];
                    let package = &catalog.package_names[patch.package as usize];
                    install_override.iter().any(|entry| crate::baseline::entry_matches(entry, patch, package, family))
                }));
            });
        }
        // Newest approved version wins: skip a patch whose successor is also missing.
        let in_missing = |patch: u32| missing.binary_search(&patch).is_ok();
        to_install.extend(missing.iter().copied().filter(|&patch| {
            let mut next = catalog.patches[patch as usize].superseded_by;
            while let Some(newer) = next {
                if in_missing(newer) {
                    return false;
                }
                next = catalog.patches[newer as usize].superseded_by;
            }
            true
        }));

        let operation_number = world.instances.operations[index];
        let entity = ((instance as u64) << 24) | (operation_number as u64 & 0xFF_FFFF);
        let mut rng = Stream::new(self.seed, entity, Purpose::InstallOutcome);
        let failure = self.scenario.groups[group_index].install_failure_probability;
        // A copy of `installed` into the catalog's buffer: same length, no allocation.
        after.clear();
        after.union_with(installed);
        // Sized once instead of growing push by push.
        let mut newly: Vec<u32> = Vec::with_capacity(to_install.len());
        let mut failed: Vec<u32> = Vec::new();
        let mut download_mb = 0.0;
        let mut downloaded: Vec<u32> = Vec::new();
        let record = self.download_log.is_some();
        let mut install_time = SimDuration(0);
        let downloads: f64 = to_install.iter().map(|&p| catalog.patches[p as usize].download_mb).sum();
        // A repository that cannot be reached fails every install that needs a download.
        let unreachable = !repository_reachable && downloads > 0.0;
        for &patch in &to_install {
            let p = &catalog.patches[patch as usize];
            if unreachable {
                failed.push(patch);
                continue;
            }
            download_mb += p.download_mb;
            if record && p.download_mb > 0.0 {
                downloaded.push(patch);
            }
            install_time = install_time + p.install_duration;
            if rng.chance(failure) {
                failed.push(patch);
                continue;
            }
            for covered in std::iter::once(patch).chain(catalog.superseded_chain(patch)) {
                if !after.contains(covered as usize) {
                    after.insert(covered as usize);
                    newly.push(covered);
                }
            }
        }
        newly.sort_unstable();
        let pending_before = &world.instances.pending_reboot[index];
        let rebooted =
            reboot_option == RebootOption::RebootIfNeeded && (!newly.is_empty() || !pending_before.is_empty());
        if !rebooted {
            pending_after.extend_from_slice(pending_before);
            if reboot_option == RebootOption::NoReboot {
                pending_after.extend(newly.iter().copied());
                pending_after.sort_unstable();
                pending_after.dedup();
            }
        }
        let agent = &self.scenario.agent;
        // With a repository of its own, the download is timed by the repository's shared
        // bandwidth when the invocation runs; otherwise by the instance's own throughput.
        let shared = self.repository_of_catalog[group.catalog].is_some();
        let download =
            if shared { SimDuration(0) } else { SimDuration((download_mb * 8.0 / agent.download_mbps).ceil() as i64) };
        let mut duration = agent.install_overhead + download + install_time;
        let mut reboot_failed = false;
        if rebooted {
            duration = duration + agent.reboot_duration;
            // Reboot faults, from the instance's own stream for this operation.
            let faults = self.scenario.groups[group_index].faults;
            let mut faults_rng = Stream::new(self.seed, entity, Purpose::InstanceFaults);
            if faults_rng.chance(faults.slow_reboot_probability) {
                duration = duration + faults.slow_reboot_extra;
            }
            reboot_failed = faults_rng.chance(faults.reboot_failure_probability);
        }
        let end = now + duration;
        let previous_no_reboot = world.instances.report[index].and_then(|r| r.last_no_reboot_install);
        let last_no_reboot =
            if reboot_option == RebootOption::NoReboot && !newly.is_empty() { Some(now) } else { previous_no_reboot };
        let evaluation =
            evaluate(&self.evaluation_input(instance, &after, &failed, &pending_after, group.baseline, snapshot));
        let report = self.report_of(
            evaluation,
            Operation::Install,
            reboot_option,
            now,
            end,
            last_no_reboot,
            group.baseline,
            snapshot,
        );
        self.world.instances.operations[index] = operation_number.wrapping_add(1);
        let scratch = &mut self.plan_scratch;
        (scratch.missing, scratch.to_install, scratch.pending_after) = (missing, to_install, pending_after);
        scratch.after[catalog_index] = after;
        PendingOperation {
            operation: Operation::Install,
            reboot_option,
            end,
            download_mb: if shared { download_mb } else { 0.0 },
            downloads: if shared { downloaded } else { Vec::new() },
            cause: if unreachable && !failed.is_empty() {
                Cause::DownloadCut
            } else if !failed.is_empty() {
                Cause::InstallFailure
            } else if reboot_failed {
                Cause::RebootFailure
            } else {
                Cause::Completed
            },
            reboot_failed,
            newly_installed: newly,
            failed,
            rebooted,
            report,
            epoch: self.scan_cache.epoch(),
        }
    }

    /// Applies a finished operation: patch state, exposure, patch progress, report.
    pub(crate) fn apply_operation(&mut self, instance: u32, plan: PendingOperation, now: SimTime) {
        let index = instance as usize;
        self.truth_cache.forget(instance);
        // A failed reboot changes the patches but keeps the report: forget it here too.
        self.scan_cache.forget(instance);
        let group = &self.world.groups[self.world.instances.group[index] as usize];
        let (catalog_index, report_group, baseline) =
            (group.catalog, group.report_group as usize, group.baseline as usize);
        let catalog = &self.world.catalogs[catalog_index];
        let ever = &self.world.approved_before_end[baseline];
        let histogram = &mut self.exposure[report_group];
        let mut record = |spread: &mut super::GroupSpread, patch: u32| {
            if ever.contains(patch as usize) {
                let released = catalog.patches[patch as usize].released;
                histogram.saturating_record(now.since(released).0.max(0) as u64);
                spread.effective(report_group, catalog_index, patch as usize, now);
            }
        };
        if let Some(listed) = self.world.listed.get_mut(&instance) {
            listed.installed_at.extend(plan.newly_installed.iter().map(|&p| (p, now)));
        }
        let instances = &mut self.world.instances;
        if plan.operation == Operation::Install && plan.reboot_failed {
            for &patch in &plan.newly_installed {
                instances.installed[index].insert(patch as usize);
                if !catalog.patches[patch as usize].reboot_required {
                    record(&mut self.spread, patch);
                }
                let progress = &mut self.progress[catalog_index][patch as usize];
                progress.installed += 1;
                self.spread.installed(report_group, catalog_index, patch as usize, now);
                check_thresholds(progress, self.world.applicable_instances[catalog_index][patch as usize], now);
            }
            let pending = &mut instances.pending_reboot[index];
            pending.extend(plan.newly_installed.iter().copied());
            pending.sort_unstable();
            pending.dedup();
            instances.failed[index] = plan.failed;
            let recovery = self.scenario.groups[instances.group[index] as usize].faults.reboot_recovery;
            self.unreachable_since[index] = now;
            self.unreachable_until[index] = now + recovery;
            return;
        }
        if plan.operation == Operation::Install {
            if plan.rebooted {
                for &patch in &instances.pending_reboot[index] {
                    if catalog.patches[patch as usize].reboot_required {
                        record(&mut self.spread, patch);
                    }
                }
                instances.pending_reboot[index].clear();
            }
            for &patch in &plan.newly_installed {
                instances.installed[index].insert(patch as usize);
                let needs_reboot = catalog.patches[patch as usize].reboot_required;
                if plan.rebooted || !needs_reboot {
                    record(&mut self.spread, patch);
                }
                let progress = &mut self.progress[catalog_index][patch as usize];
                progress.installed += 1;
                self.spread.installed(report_group, catalog_index, patch as usize, now);
                check_thresholds(progress, self.world.applicable_instances[catalog_index][patch as usize], now);
            }
            if plan.reboot_option == crate::compliance::RebootOption::NoReboot {
                let pending = &mut instances.pending_reboot[index];
                pending.extend(plan.newly_installed.iter().copied());
                pending.sort_unstable();
                pending.dedup();
            }
            instances.failed[index] = plan.failed;
        }
        self.set_report(instance, plan.report);
        self.remember_inputs(instance, plan.epoch);
    }
}
