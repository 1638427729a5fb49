//! Semantic validation: ranges, names, references, and AWS's own limits. Every check
//! reports through the collector and carries on, so one run lists every problem.
//!
//! [`validate`] runs one function per section. Later sections refer to what earlier ones
//! built (profiles to catalogs, groups to profiles and locations, windows and associations to
//! resource groups and baselines), and messages come out in the order the checks run.

mod alarm;
mod baseline;
mod catalog;
mod fleet;
mod network;
mod output;
mod patch_group;
mod settings;
mod window;

use std::collections::{BTreeMap, BTreeSet};

use super::Scenario;
use super::diagnostic::Collector;
use super::load::{FailedSections, Locator};
use super::schema::ScenarioFile;

struct Checker<'a, 'c, 'i> {
    collector: &'a mut Collector<'c>,
    locator: &'a Locator<'i>,
    /// The scenario's resource groups, for `resource-groups:Name=` targets.
    resource_groups: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl Checker<'_, '_, '_> {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        let span = self.locator.span(path);
        self.collector.push(span, path, message);
    }

    fn warn(&mut self, path: &str, message: impl Into<String>) {
        let span = self.locator.span(path);
        self.collector.warn(span, path, message);
    }

    fn parse<T>(&mut self, path: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.error(path, message);
                None
            }
        }
    }

    fn probability(&mut self, path: &str, value: f64) {
        if !(0.0..=1.0).contains(&value) {
            self.error(path, format!("{} is not a probability; it must lie in [0, 1]", num(value)));
        }
    }

    /// A bandwidth in Mbit/s within `[MIN_BANDWIDTH_MBPS, MAX_BANDWIDTH_MBPS]`.
    fn bandwidth(&mut self, path: &str, mbps: f64) {
        use crate::limits::{MAX_BANDWIDTH_MBPS, MIN_BANDWIDTH_MBPS};
        if !(MIN_BANDWIDTH_MBPS..=MAX_BANDWIDTH_MBPS).contains(&mbps) {
            self.error(
                path,
                format!(
                    "{} is not a bandwidth in Mbit/s; it must lie in [{MIN_BANDWIDTH_MBPS}, {MAX_BANDWIDTH_MBPS:e}]",
                    num(mbps)
                ),
            );
        }
    }

    /// A download size in MB within `[0, MAX_DOWNLOAD_MB]`.
    fn download_size(&mut self, path: &str, megabytes: f64) {
        let max = crate::limits::MAX_DOWNLOAD_MB;
        if !(0.0..=max).contains(&megabytes) {
            self.error(path, format!("{} is not a download size; it must lie in [0, {max}] MB", num(megabytes)));
        }
    }

    fn aws_name(&mut self, path: &str, name: &str, what: &str) {
        let ok = (3..=128).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !ok {
            self.error(
                path,
                format!("{what} name `{name}` must be 3 to 128 characters of letters, digits, `_`, `-` and `.`"),
            );
        }
    }
}

/// A user's number for a message: as written when ordinary, in exponent form when huge.
fn num(value: f64) -> String {
    if value.is_finite() && value.abs() < 1e15 { format!("{value}") } else { format!("{value:e}") }
}

fn unique<'n>(checker: &mut Checker, section: &str, names: impl Iterator<Item = &'n str>) {
    let mut seen = BTreeSet::new();
    for (index, name) in names.enumerate() {
        if !seen.insert(name) {
            checker.error(
                &format!("{section}[{index}].name"),
                format!("the name `{name}` is used twice in [[{section}]]"),
            );
        }
    }
}

pub(crate) fn validate(
    file: ScenarioFile,
    locator: &Locator<'_>,
    failed: &FailedSections,
    collector: &mut Collector<'_>,
    source_name: &str,
    hash: String,
) -> Option<Scenario> {
    let mut checker = Checker { collector, locator, resource_groups: BTreeMap::new() };
    let c = &mut checker;
    let meta = &file.scenario;
    let start = meta.start.0;
    let horizon = meta.horizon.0;
    let end = start + horizon;
    if !failed.contains("scenario") {
        settings::scenario(c, meta);
    }
    let agent = settings::agent(c, &file.agent);
    settings::account(c, &file);
    let network = network::network(c, &file);
    let (catalogs, catalog_oses) = catalog::catalogs(c, &file.catalog, failed, start);
    let profiles = fleet::profiles(c, &file.profile, &catalog_oses, failed);
    let mut groups = fleet::instance_groups(c, &file.instance_group, &profiles, &network, failed, (start, end));
    let (mut baselines, imported) = baseline::baselines(c, &file.baseline, failed, source_name);
    let patch_groups = patch_group::patch_groups(c, &file.patch_group, &imported, &mut baselines);
    let default_baselines = patch_group::default_baselines(c, &file.default_baselines, &catalog_oses, &mut baselines);
    let windows = window::windows(c, &file.maintenance_window, start);
    let associations = window::associations(c, &file.association, &mut baselines, start);
    let images = fleet::images(c, &file.image, &mut baselines, start);
    let refs = fleet::AsgRefs {
        profiles: &profiles,
        catalogs: &catalogs,
        images: &images,
        baselines: &baselines.defs,
        network: &network,
        start,
    };
    let auto_scaling_groups = fleet::auto_scaling_groups(c, &file.auto_scaling_group, &refs, &mut groups);
    let alarms = alarm::alarms(c, &file.alarm, &groups);
    let output = output::output(c, &file.output, &groups);

    indexed_counts(c, &file, groups.len());
    if !c.collector.is_empty() {
        return None;
    }
    let built =
        output::Built { catalogs: &catalogs, profiles: &profiles, groups: &groups, patch_groups: &patch_groups };
    output::warnings(c, &built, &windows, &associations, &auto_scaling_groups);
    let warnings = c.collector.take_warnings();
    let scenario = Scenario {
        alarms,
        images,
        auto_scaling_groups,
        source_name: source_name.to_string(),
        hash,
        name: meta.name.clone(),
        description: meta.description.clone(),
        start,
        horizon,
        seed: meta.seed,
        sample_interval: meta.sample_interval.0,
        max_events: meta.max_events,
        max_concurrent_executions: file.account.max_concurrent_executions,
        agent,
        catalogs,
        profiles,
        groups,
        baselines: baselines.defs,
        patch_groups,
        default_baselines,
        windows,
        associations,
        network,
        output,
        warnings,
        effective: file,
    };
    // Sums over the whole scenario (patches a catalog expects, instances over the run) are
    // derived once, by the estimate, and checked against the hard limits here.
    for (path, message) in super::estimate::hard_limits(&scenario) {
        c.error(&path, message);
    }
    Some(scenario).filter(|_| end > start && c.collector.is_empty())
}

/// Sections whose index travels in events as a `u16` hold at most
/// `limits::MAX_INDEXED_ELEMENTS` elements; `groups` counts the Auto Scaling groups' own.
fn indexed_counts(c: &mut Checker, file: &ScenarioFile, groups: usize) {
    let max = crate::limits::MAX_INDEXED_ELEMENTS;
    let sections = [
        ("instance_group", groups),
        ("baseline", file.baseline.len()),
        ("maintenance_window", file.maintenance_window.len()),
        ("association", file.association.len()),
        ("alarm", file.alarm.len()),
        ("image", file.image.len()),
        ("location", file.location.len()),
        ("repository", file.repository.len()),
        ("auto_scaling_group", file.auto_scaling_group.len()),
    ];
    for (section, count) in sections {
        if count > max {
            c.error(
                section,
                format!("{count} elements; a scenario holds at most {max} (limits::MAX_INDEXED_ELEMENTS)"),
            );
        }
    }
    for (index, asg) in file.auto_scaling_group.iter().enumerate() {
        if asg.scheduled_action.len() > max {
            c.error(
                &format!("auto_scaling_group[{index}].scheduled_action"),
                format!("{} scheduled actions; at most {max}", asg.scheduled_action.len()),
            );
        }
    }
}
