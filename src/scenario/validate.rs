//! Semantic validation: ranges, names, references, and AWS's own limits. Every check
//! reports through the collector and carries on, so one run lists every problem.

use std::collections::{BTreeMap, BTreeSet};

use super::diagnostic::Collector;
use super::load::{FailedSections, Locator};
use super::schema::{self, ScenarioFile};
use super::{AgentDef, Scenario};
use crate::baseline::{ApprovalDelay, BaselineDef, ComplianceLevel, FilterKey, RejectedAction, RuleDef, predefined};
use crate::catalog::{
    APT_PRIORITIES, CatalogDef, Family, GeneratorDef, Os, PatchDef, PatchProperties, ReleaseProcess, StreamDef,
    classifications, severities,
};
use crate::compliance::{Operation, RebootOption};
use crate::fleet::{GroupDef, ProfileDef};
use crate::schedule::{ScheduleExpr, WindowSchedule};
use crate::time::{SimDuration, SimTime};
use crate::window::{AssociationDef, CutoffBehavior, RateControl, RateValue, Target, TaskDef, WindowDef};

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
            self.error(path, format!("{value} is not a probability; it must lie in [0, 1]"));
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
    let mut c = Checker { collector, locator, resource_groups: BTreeMap::new() };
    let meta = &file.scenario;
    let start = meta.start.0;
    let horizon = meta.horizon.0;
    let end = start + horizon;
    if !failed.contains("scenario") {
        let name_ok = !meta.name.is_empty()
            && meta.name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            && !meta.name.starts_with('.');
        if !name_ok {
            c.error(
                "scenario.name",
                format!("`{}` must be letters, digits, `_`, `-` and `.`: it names the results directory", meta.name),
            );
        }
        if horizon.0 <= 0 {
            c.error("scenario.horizon", "the horizon must be longer than zero");
        } else if horizon > SimDuration::days(3_660) {
            c.error("scenario.horizon", "the horizon is limited to 3660 days");
        }
        if meta.sample_interval.0.0 <= 0 {
            c.error("scenario.sample_interval", "the sample interval must be longer than zero");
        } else if horizon.0 > 0 && horizon.0 / meta.sample_interval.0.0 > 100_000 {
            c.error(
                "scenario.sample_interval",
                format!(
                    "{} samples over the horizon; at most 100,000: lengthen the interval",
                    horizon.0 / meta.sample_interval.0.0
                ),
            );
        }
        if meta.max_events == 0 {
            c.error("scenario.max_events", "max_events must be at least 1");
        }
    }

    let agent = &file.agent;
    if !(agent.download_mbps.is_finite() && agent.download_mbps > 0.0) {
        c.error("agent.download_mbps", format!("{} must be a positive bandwidth in Mbit/s", agent.download_mbps));
    }
    if agent.connection_lost_after_pings == 0 {
        c.error("agent.connection_lost_after_pings", "at least one missed ping");
    }
    let agent_def = AgentDef {
        connection_lost_after: SimDuration::minutes(5 * agent.connection_lost_after_pings as i64),
        scan_duration: agent.scan_duration.0,
        install_overhead: agent.install_overhead.0,
        reboot_duration: agent.reboot_duration.0,
        download_mbps: agent.download_mbps,
    };

    if file.account.max_concurrent_executions == 0 {
        c.error("account.max_concurrent_executions", "at least one execution must be able to run");
    }
    unique(&mut c, "resource_group", file.resource_group.iter().map(|g| g.name.as_str()));
    for (index, group) in file.resource_group.iter().enumerate() {
        if group.tags.is_empty() || group.tags.values().any(|v| v.is_empty()) {
            c.error(
                &format!("resource_group[{index}].tags"),
                "a resource group needs at least one tag key with values",
            );
        }
        c.resource_groups.insert(group.name.clone(), group.tags.clone());
    }

    // Network: locations, repositories, partitions.
    unique(&mut c, "location", file.location.iter().map(|l| l.name.as_str()));
    let mut network = crate::network::NetworkDef::default();
    for (index, spec) in file.location.iter().enumerate() {
        let path = format!("location[{index}]");
        let random_failures = match (spec.link_mtbf, spec.link_mttr) {
            (None, None) => None,
            (Some(mtbf), Some(mttr)) => {
                if mtbf.0.0 <= 0 || mttr.0.0 <= 0 {
                    c.error(&path, "link_mtbf and link_mttr must be longer than zero");
                }
                Some((mtbf.0, mttr.0))
            }
            _ => {
                c.error(&path, "give both link_mtbf and link_mttr, or neither");
                None
            }
        };
        network.locations.push(crate::network::LocationDef { name: spec.name.clone(), random_failures });
    }
    unique(&mut c, "repository", file.repository.iter().map(|r| r.name.as_str()));
    for (index, spec) in file.repository.iter().enumerate() {
        let path = format!("repository[{index}]");
        if spec.name == "ssm" || spec.name == "*" {
            c.error(&format!("{path}.name"), "`ssm` and `*` name partition destinations; pick another name");
        }
        if !(spec.bandwidth_mbps.is_finite() && spec.bandwidth_mbps > 0.0) {
            c.error(
                &format!("{path}.bandwidth_mbps"),
                format!("{} must be a positive bandwidth in Mbit/s", spec.bandwidth_mbps),
            );
        }
        if spec.max_connections == 0 {
            c.error(&format!("{path}.max_connections"), "a repository accepts at least one connection");
        }
        let mut serves = Vec::new();
        for (o, os) in spec.serves.iter().enumerate() {
            if let Some(os) = c.parse(&format!("{path}.serves[{o}]"), Os::parse(os)) {
                if network.repositories.iter().any(|r| r.serves.contains(&os)) || serves.contains(&os) {
                    c.error(&format!("{path}.serves[{o}]"), format!("{os} is served by another repository already"));
                }
                serves.push(os);
            }
        }
        network.repositories.push(crate::network::RepositoryDef {
            name: spec.name.clone(),
            serves,
            bandwidth_mbps: spec.bandwidth_mbps,
            max_connections: spec.max_connections,
        });
    }
    for (index, spec) in file.partition.iter().enumerate() {
        let path = format!("partition[{index}]");
        if spec.duration.0.0 <= 0 {
            c.error(&format!("{path}.duration"), "a partition lasts longer than zero");
        }
        let mut locations = Vec::new();
        for (l, name) in spec.locations.iter().enumerate() {
            match network.locations.iter().position(|x| &x.name == name) {
                Some(found) => locations.push(found),
                None => c.error(&format!("{path}.locations[{l}]"), format!("unknown location `{name}`")),
            }
        }
        let mut destinations = Vec::new();
        for (d, name) in spec.destinations.iter().enumerate() {
            match name.as_str() {
                "*" => destinations.extend(0..network.destinations()),
                "ssm" => destinations.push(crate::network::SSM),
                _ => match network.repositories.iter().position(|r| &r.name == name) {
                    Some(found) => destinations.push(found + 1),
                    None => c.error(
                        &format!("{path}.destinations[{d}]"),
                        format!("unknown destination `{name}`; use `ssm`, a repository name or `*`"),
                    ),
                },
            }
        }
        if spec.locations.is_empty() || spec.destinations.is_empty() {
            c.error(&path, "a partition names at least one location and one destination");
        }
        network.partitions.push(crate::network::PartitionDef {
            start: spec.start.0,
            end: spec.start.0 + spec.duration.0,
            locations,
            destinations,
        });
    }

    // Catalogs.
    let mut catalogs: Vec<CatalogDef> = Vec::new();
    let mut catalog_oses: BTreeMap<Os, usize> = BTreeMap::new();
    for (index, spec) in file.catalog.iter().enumerate() {
        let path = format!("catalog[{index}]");
        let Some(os) = c.parse(&format!("{path}.os"), Os::parse(&spec.os)) else { continue };
        if catalog_oses.insert(os, catalogs.len()).is_some() {
            c.error(&format!("{path}.os"), format!("a second catalog for {os}; each operating system has one catalog"));
        }
        if spec.products.is_empty() {
            c.error(&format!("{path}.products"), "list at least one PRODUCT value");
        }
        if spec.core_packages > spec.packages {
            c.error(
                &format!("{path}.core_packages"),
                format!("{} core packages but only {} packages", spec.core_packages, spec.packages),
            );
        }
        let patches = validate_patches(&mut c, &path, os, spec, start);
        let generator = spec.generator.as_ref().and_then(|g| validate_generator(&mut c, &path, os, spec, g, start));
        catalogs.push(CatalogDef {
            os,
            products: spec.products.clone(),
            packages: spec.packages,
            core_packages: spec.core_packages,
            patches,
            generator,
        });
    }
    if file.catalog.is_empty() && !failed.contains("catalog") {
        c.error("catalog", "a scenario needs at least one [[catalog]]");
    }

    // Profiles.
    unique(&mut c, "profile", file.profile.iter().map(|p| p.name.as_str()));
    let mut profiles = Vec::new();
    for (index, spec) in file.profile.iter().enumerate() {
        let path = format!("profile[{index}]");
        c.probability(&format!("{path}.package_share"), spec.package_share);
        let Some(os) = c.parse(&format!("{path}.os"), Os::parse(&spec.os)) else { continue };
        let Some(&catalog) = catalog_oses.get(&os) else {
            if !failed.contains("catalog") {
                c.error(&format!("{path}.os"), format!("no [[catalog]] for {os}"));
            }
            continue;
        };
        profiles.push(ProfileDef {
            name: spec.name.clone(),
            catalog,
            package_share: spec.package_share,
            packages: spec.packages.clone(),
        });
    }

    // Instance groups.
    unique(&mut c, "instance_group", file.instance_group.iter().map(|g| g.name.as_str()));
    let mut groups = Vec::new();
    let mut total_instances: u64 = 0;
    for (index, spec) in file.instance_group.iter().enumerate() {
        let path = format!("instance_group[{index}]");
        total_instances += spec.count as u64;
        c.probability(&format!("{path}.install_failure_probability"), spec.install_failure_probability);
        let profile = profiles.iter().position(|p| p.name == spec.profile);
        if profile.is_none() && !failed.contains("profile") && !failed.contains("catalog") {
            c.error(&format!("{path}.profile"), format!("unknown profile `{}`", spec.profile));
        }
        if let Some(profile) = profile {
            let mut outages: Vec<(SimTime, SimTime)> = Vec::new();
            for (o, outage) in spec.outage.iter().enumerate() {
                if outage.duration.0.0 <= 0 {
                    c.error(&format!("{path}.outage[{o}].duration"), "an outage lasts longer than zero");
                }
                outages.push((outage.start.0, outage.start.0 + outage.duration.0));
            }
            outages.sort();
            let location = location_index(&mut c, &path, spec.location.as_deref(), &network);
            for (key, value) in [
                ("agent_crash_probability", spec.agent_crash_probability),
                ("slow_reboot_probability", spec.slow_reboot_probability),
                ("reboot_failure_probability", spec.reboot_failure_probability),
            ] {
                c.probability(&format!("{path}.{key}"), value);
            }
            let faults = crate::fleet::Faults {
                agent_crash_probability: spec.agent_crash_probability,
                agent_restart: spec.agent_restart.0,
                slow_reboot_probability: spec.slow_reboot_probability,
                slow_reboot_extra: spec.slow_reboot_extra.0,
                reboot_failure_probability: spec.reboot_failure_probability,
                reboot_recovery: spec.reboot_recovery.0,
            };
            let launch_at = spec.launch_at.map_or(start, |i| i.0);
            if spec.launch_at.is_some() && (launch_at < start || launch_at >= end) {
                c.error(&format!("{path}.launch_at"), "a launch must fall within the simulated period");
            }
            if let Some(terminate) = spec.terminate_at
                && terminate.0 <= launch_at
            {
                c.error(&format!("{path}.terminate_at"), "instances are terminated after they are launched");
            }
            groups.push(GroupDef {
                location,
                faults,
                launch_at,
                terminate_at: spec.terminate_at.map(|i| i.0),
                name: spec.name.clone(),
                count: spec.count,
                profile,
                tags: spec.tags.clone(),
                initial_lag: spec.initial_lag.0,
                initial_lag_spread: spec.initial_lag_spread.0,
                install_failure_probability: spec.install_failure_probability,
                outages,
            });
        }
    }
    if total_instances > 16_000_000 {
        c.error("instance_group", format!("{total_instances} instances; a run is limited to 16 million"));
    }

    // Baselines: custom ones first, predefined ones appended when referenced. Imported
    // baselines are read here and validated like the others.
    // (index in the file, the baseline in scenario form)
    let mut specs: Vec<(usize, schema::BaselineSpec)> = Vec::new();
    let mut imported_groups: Vec<(usize, Vec<String>)> = Vec::new();
    for (index, spec) in file.baseline.iter().enumerate() {
        match &spec.import {
            None => specs.push((index, spec.clone())),
            Some(import) => {
                if let Some((merged, groups)) =
                    import_baseline(&mut c, &format!("baseline[{index}]"), spec, import, source_name)
                {
                    imported_groups.push((specs.len(), groups));
                    specs.push((index, merged));
                }
            }
        }
    }
    let mut seen_names = BTreeSet::new();
    for (index, spec) in &specs {
        if !seen_names.insert(spec.name.as_str()) {
            c.error(
                &format!("baseline[{index}].name"),
                format!("the name `{}` is used twice in [[baseline]]", spec.name),
            );
        }
    }
    let mut baselines: Vec<BaselineDef> = Vec::new();
    for (index, spec) in &specs {
        if let Some(def) = validate_baseline(&mut c, &format!("baseline[{index}]"), spec) {
            baselines.push(def);
        }
    }
    let baselines_ok = !failed.contains("baseline") && baselines.len() == file.baseline.len();
    let find_baseline = |c: &mut Checker, path: &str, name: &str, baselines: &mut Vec<BaselineDef>| -> Option<usize> {
        if let Some(index) = baselines.iter().position(|b| b.name == name) {
            return Some(index);
        }
        if let Some(def) = predefined::by_name(name) {
            baselines.push(def);
            return Some(baselines.len() - 1);
        }
        if baselines_ok {
            c.error(
                path,
                format!("unknown baseline `{name}`: neither a [[baseline]] of this file nor a predefined AWS baseline"),
            );
        }
        None
    };

    // Patch groups.
    unique(&mut c, "patch_group", file.patch_group.iter().map(|g| g.name.as_str()));
    let mut patch_groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, spec) in file.patch_group.iter().enumerate() {
        let path = format!("patch_group[{index}]");
        let name_ok = (1..=256).contains(&spec.name.chars().count())
            && spec.name.chars().all(|ch| ch.is_alphanumeric() || ch == ' ' || "_.:/=+-@".contains(ch));
        if !name_ok {
            c.error(
                &format!("{path}.name"),
                format!("patch group name `{}` must be 1 to 256 letters, digits, spaces or `_.:/=+-@`", spec.name),
            );
        }
        let mut resolved: Vec<usize> = Vec::new();
        for (b, name) in spec.baselines.iter().enumerate() {
            let bpath = format!("{path}.baselines[{b}]");
            let Some(found) = find_baseline(&mut c, &bpath, name, &mut baselines) else { continue };
            let os = baselines[found].os;
            if let Some(&other) = resolved.iter().find(|&&i| baselines[i].os == os) {
                c.error(
                    &bpath,
                    format!(
                        "patch group `{}` already has a baseline for {os} (`{}`); AWS rejects a second one (AlreadyExistsException)",
                        spec.name, baselines[other].name
                    ),
                );
                continue;
            }
            resolved.push(found);
        }
        patch_groups.insert(spec.name.clone(), resolved);
    }
    // PatchGroups listed in imported documents register their baseline for those groups,
    // as RegisterPatchBaselineForPatchGroup would, under the same one-per-OS rule.
    if baselines_ok {
        for (index, groups) in &imported_groups {
            for group in groups {
                let registered = patch_groups.entry(group.clone()).or_default();
                let os = baselines[*index].os;
                if let Some(&other) = registered.iter().find(|&&i| baselines[i].os == os) {
                    if other != *index {
                        c.error(
                            &format!("baseline[{index}].import"),
                            format!(
                                "the imported baseline lists patch group `{group}`, which already has a baseline for {os} (`{}`); AWS rejects a second one (AlreadyExistsException)",
                                baselines[other].name
                            ),
                        );
                    }
                    continue;
                }
                registered.push(*index);
            }
        }
    }

    // Default baselines: registered ones, then the predefined default for every other OS.
    let mut default_baselines: BTreeMap<Os, usize> = BTreeMap::new();
    for (key, name) in &file.default_baselines {
        let path = format!("default_baselines.{key}");
        let Some(os) = c.parse(&path, Os::parse(key)) else { continue };
        let Some(found) = find_baseline(&mut c, &path, name, &mut baselines) else { continue };
        if baselines[found].os != os {
            c.error(&path, format!("baseline `{name}` is for {}, not {os}", baselines[found].os));
            continue;
        }
        default_baselines.insert(os, found);
    }
    for &os in catalog_oses.keys() {
        if let std::collections::btree_map::Entry::Vacant(slot) = default_baselines.entry(os) {
            let def = predefined::by_name(predefined::default_name(os)).expect("every OS has a predefined default");
            let existing = baselines.iter().position(|b| b.name == def.name);
            let index = existing.unwrap_or_else(|| {
                baselines.push(def);
                baselines.len() - 1
            });
            slot.insert(index);
        }
    }

    // Maintenance windows.
    unique(&mut c, "maintenance_window", file.maintenance_window.iter().map(|w| w.name.as_str()));
    let mut windows = Vec::new();
    for (index, spec) in file.maintenance_window.iter().enumerate() {
        if let Some(window) = validate_window(&mut c, &format!("maintenance_window[{index}]"), spec, start) {
            windows.push(window);
        }
    }

    // Associations.
    unique(&mut c, "association", file.association.iter().map(|a| a.name.as_str()));
    let mut associations = Vec::new();
    for (index, spec) in file.association.iter().enumerate() {
        let path = format!("association[{index}]");
        let operation = c.parse(&format!("{path}.operation"), Operation::parse(&spec.operation));
        let reboot_option = c.parse(&format!("{path}.reboot_option"), RebootOption::parse(&spec.reboot_option));
        let rate_control = match (&spec.max_concurrency, &spec.max_errors) {
            (None, None) => None,
            (Some(concurrency), Some(errors)) => {
                let concurrency = c.parse(&format!("{path}.max_concurrency"), RateValue::parse(concurrency, false));
                let errors = c.parse(&format!("{path}.max_errors"), RateValue::parse(errors, true));
                concurrency.zip(errors).map(|(max_concurrency, max_errors)| RateControl { max_concurrency, max_errors })
            }
            _ => {
                c.error(&path, "give both max_concurrency and max_errors, or neither (every target at once)");
                None
            }
        };
        let timeout = delivery_timeout(&mut c, &format!("{path}.timeout_seconds"), spec.timeout_seconds);
        let schedule = schedule(&mut c, &format!("{path}.schedule"), &spec.schedule, "UTC", None, None, None, start);
        let targets = targets(&mut c, &format!("{path}.targets"), &spec.targets);
        let mut policy_baselines: Vec<usize> = Vec::new();
        for (b, name) in spec.baselines.iter().enumerate() {
            let bpath = format!("{path}.baselines[{b}]");
            let Some(found) = find_baseline(&mut c, &bpath, name, &mut baselines) else { continue };
            if policy_baselines.iter().any(|&i| baselines[i].os == baselines[found].os) {
                c.error(
                    &bpath,
                    format!(
                        "a second baseline for {}; a patch policy has one per operating system",
                        baselines[found].os
                    ),
                );
                continue;
            }
            policy_baselines.push(found);
        }
        if let (Some(schedule), Some(targets), Some(operation), Some(reboot_option)) =
            (schedule, targets, operation, reboot_option)
        {
            associations.push(AssociationDef {
                name: spec.name.clone(),
                schedule,
                targets,
                operation,
                reboot_option,
                rate_control,
                wait_for_first_interval: spec.wait_for_first_interval.unwrap_or(operation == Operation::Install),
                delivery_timeout: timeout,
                baselines: policy_baselines,
            });
        }
    }

    // Images and Auto Scaling groups. Each group's instances belong to a scenario group of
    // its own, appended here with no instances at the start.
    unique(&mut c, "image", file.image.iter().map(|i| i.name.as_str()));
    let mut images = Vec::new();
    for (index, spec) in file.image.iter().enumerate() {
        let path = format!("image[{index}]");
        if let Some(every) = spec.rebake_every
            && every.0.0 <= 0
        {
            c.error(&format!("{path}.rebake_every"), "a pipeline bakes at intervals longer than zero");
        }
        if spec.baked.0 > start && spec.rebake_every.is_none() {
            c.error(
                &format!("{path}.baked"),
                "an image baked after the scenario start needs a pipeline (rebake_every) to bake it",
            );
        }
        if spec.baseline.is_some() != spec.rebake_every.is_some() {
            c.error(&path, "a pipeline needs both rebake_every and baseline");
        }
        let baseline = spec
            .baseline
            .as_ref()
            .and_then(|name| find_baseline(&mut c, &format!("{path}.baseline"), name, &mut baselines));
        images.push(crate::fleet::ImageDef {
            name: spec.name.clone(),
            baked: spec.baked.0,
            rebake_every: spec.rebake_every.map(|d| d.0),
            baseline,
        });
    }
    unique(&mut c, "auto_scaling_group", file.auto_scaling_group.iter().map(|a| a.name.as_str()));
    let mut auto_scaling_groups = Vec::new();
    for (index, spec) in file.auto_scaling_group.iter().enumerate() {
        let path = format!("auto_scaling_group[{index}]");
        if spec.min > spec.max {
            c.error(&format!("{path}.min"), format!("min {} is above max {}", spec.min, spec.max));
        }
        if !(spec.min..=spec.max).contains(&spec.desired) {
            c.error(
                &format!("{path}.desired"),
                format!("desired capacity {} is outside [min, max] = [{}, {}]", spec.desired, spec.min, spec.max),
            );
        }
        if spec.max > 1_000_000 {
            c.error(&format!("{path}.max"), "an Auto Scaling group is limited to 1,000,000 instances here");
        }
        if let Some(lifetime) = spec.lifetime
            && lifetime.0.0 <= 0
        {
            c.error(&format!("{path}.lifetime"), "a lifetime is longer than zero");
        }
        if !(0.0..1.0).contains(&spec.demand_amplitude) {
            c.error(&format!("{path}.demand_amplitude"), "the demand amplitude lies in [0, 1)");
        }
        if spec.demand_peak_hour > 23 {
            c.error(&format!("{path}.demand_peak_hour"), "an hour of the day, 0 to 23");
        }
        c.probability(&format!("{path}.install_failure_probability"), spec.install_failure_probability);
        if let Some(pct) = spec.refresh_min_healthy_percentage
            && pct > 100
        {
            c.error(&format!("{path}.refresh_min_healthy_percentage"), "a percentage, 0 to 100");
        }
        let policy = c.parse(
            &format!("{path}.termination_policy"),
            crate::fleet::TerminationPolicy::parse(&spec.termination_policy),
        );
        let profile = profiles.iter().position(|p| p.name == spec.profile);
        if profile.is_none() {
            c.error(&format!("{path}.profile"), format!("unknown profile `{}`", spec.profile));
        }
        let image = file.image.iter().position(|i| i.name == spec.image);
        if image.is_none() {
            c.error(&format!("{path}.image"), format!("unknown image `{}`", spec.image));
        }
        if let (Some(p), Some(i)) = (profile, image)
            && let Some(b) = images[i].baseline
            && baselines[b].os != catalogs[profiles[p].catalog].os
        {
            c.error(
                &format!("{path}.image"),
                format!(
                    "image `{}` is baked with a {} baseline, not one for this group's OS",
                    spec.image, baselines[b].os
                ),
            );
        }
        let location = location_index(&mut c, &path, spec.location.as_deref(), &network);
        let mut actions = Vec::new();
        for (a, action) in spec.scheduled_action.iter().enumerate() {
            let apath = format!("{path}.scheduled_action[{a}]");
            let (min, max) = (action.min.unwrap_or(spec.min), action.max.unwrap_or(spec.max));
            if !(min..=max).contains(&action.desired) {
                c.error(
                    &format!("{apath}.desired"),
                    format!("desired capacity {} is outside [{min}, {max}]", action.desired),
                );
            }
            if let Some(schedule) =
                schedule(&mut c, &format!("{apath}.schedule"), &action.schedule, "UTC", None, None, None, start)
            {
                actions.push(crate::fleet::ScheduledActionDef {
                    schedule,
                    desired: action.desired,
                    min: action.min,
                    max: action.max,
                });
            }
        }
        let (Some(profile), Some(image), Some(termination_policy)) = (profile, image, policy) else { continue };
        groups.push(GroupDef {
            name: spec.name.clone(),
            count: 0,
            profile,
            tags: spec.tags.clone(),
            initial_lag: SimDuration(0),
            initial_lag_spread: SimDuration(0),
            install_failure_probability: spec.install_failure_probability,
            outages: Vec::new(),
            launch_at: start,
            terminate_at: None,
            location,
            faults: crate::fleet::Faults::default(),
        });
        auto_scaling_groups.push(crate::fleet::AsgDef {
            name: spec.name.clone(),
            group: groups.len() - 1,
            image,
            min: spec.min,
            max: spec.max,
            desired: spec.desired,
            lifetime: spec.lifetime.map(|d| d.0),
            demand_amplitude: spec.demand_amplitude,
            demand_peak_hour: spec.demand_peak_hour,
            termination_policy,
            scheduled_actions: actions,
            refresh: spec.refresh_min_healthy_percentage.map(|pct| (pct, spec.refresh_warmup.0)),
        });
    }

    // Alarms and their remediations.
    unique(&mut c, "alarm", file.alarm.iter().map(|a| a.name.as_str()));
    let known_groups: BTreeSet<String> = groups
        .iter()
        .map(|g| crate::fleet::patch_group_of(&g.tags).unwrap_or(crate::fleet::NO_PATCH_GROUP).to_string())
        .collect();
    let mut alarms = Vec::new();
    for (index, spec) in file.alarm.iter().enumerate() {
        let path = format!("alarm[{index}]");
        if !known_groups.contains(&spec.patch_group) {
            c.error(
                &format!("{path}.patch_group"),
                format!(
                    "no instances are in patch group `{}`; known: {}",
                    spec.patch_group,
                    known_groups.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        const ALARM_METRICS: [&str; 6] = [
            "non_compliant",
            "critical_non_compliant",
            "missing_patches",
            "failed_patches",
            "pending_reboot_patches",
            "unreported",
        ];
        let metric = if ALARM_METRICS.contains(&spec.metric.as_str()) {
            crate::compliance::METRICS.iter().position(|m| *m == spec.metric)
        } else {
            c.error(
                &format!("{path}.metric"),
                format!("`{}` is not an alarm metric; use one of: {}", spec.metric, ALARM_METRICS.join(", ")),
            );
            None
        };
        if spec.period.0 < SimDuration::minutes(1) {
            c.error(&format!("{path}.period"), "a period lasts at least one minute");
        }
        if spec.evaluation_periods == 0 {
            c.error(&format!("{path}.evaluation_periods"), "at least one period");
        }
        let rpath = format!("{path}.remediation");
        let reboot = c.parse(&format!("{rpath}.reboot_option"), RebootOption::parse(&spec.remediation.reboot_option));
        let concurrency =
            c.parse(&format!("{rpath}.max_concurrency"), RateValue::parse(&spec.remediation.max_concurrency, false));
        let errors = c.parse(&format!("{rpath}.max_errors"), RateValue::parse(&spec.remediation.max_errors, true));
        let timeout = delivery_timeout(&mut c, &format!("{rpath}.timeout_seconds"), spec.remediation.timeout_seconds);
        if let (Some(metric), Some(reboot_option), Some(max_concurrency), Some(max_errors)) =
            (metric, reboot, concurrency, errors)
        {
            alarms.push(crate::window::AlarmDef {
                name: spec.name.clone(),
                patch_group: spec.patch_group.clone(),
                metric,
                threshold: spec.threshold,
                period: spec.period.0,
                evaluation_periods: spec.evaluation_periods,
                delay: spec.remediation.delay.0,
                reboot_option,
                rate_control: RateControl { max_concurrency, max_errors },
                delivery_timeout: timeout,
            });
        }
    }

    if !c.collector.is_empty() {
        return None;
    }
    Some(Scenario {
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
        agent: agent_def,
        catalogs,
        profiles,
        groups,
        baselines,
        patch_groups,
        default_baselines,
        windows,
        associations,
        network,
        effective: file,
    })
    .filter(|_| end > start)
}

#[allow(clippy::too_many_arguments)]
fn properties(
    c: &mut Checker,
    path: &str,
    os: Os,
    classification: &Option<String>,
    severity: &Option<String>,
    priority: &Option<String>,
    section: &Option<String>,
    repository: &Option<String>,
    product_family: &Option<String>,
) -> PatchProperties {
    let family = os.family();
    if product_family.is_some() && family != Family::Windows {
        c.error(&format!("{path}.product_family"), format!("PRODUCT_FAMILY applies to Windows patches only, not {os}"));
    }
    if let Some(value) = classification {
        let valid = classifications(family);
        if valid.is_empty() {
            c.error(
                &format!("{path}.classification"),
                format!("{os} patches have no CLASSIFICATION; use priority, section and repository"),
            );
        } else if !valid.contains(&value.as_str()) {
            c.error(
                &format!("{path}.classification"),
                format!("`{value}` is not a {os} classification; expected one of: {}", valid.join(", ")),
            );
        }
    }
    if let Some(value) = severity {
        let valid = severities(os);
        if valid.is_empty() {
            c.error(&format!("{path}.severity"), format!("{os} patches have no vendor severity; use priority"));
        } else if !valid.contains(&value.as_str()) {
            c.error(
                &format!("{path}.severity"),
                format!("`{value}` is not a {os} severity; expected one of: {}", valid.join(", ")),
            );
        }
    }
    if family != Family::Apt {
        for (key, value) in [("priority", priority), ("section", section), ("repository", repository)] {
            if value.is_some() {
                c.error(
                    &format!("{path}.{key}"),
                    format!("`{key}` applies to Debian and Ubuntu patches only, not {os}"),
                );
            }
        }
    } else if let Some(value) = priority
        && !APT_PRIORITIES.contains(&value.as_str())
    {
        c.error(
            &format!("{path}.priority"),
            format!("`{value}` is not a priority; expected one of: {}", APT_PRIORITIES.join(", ")),
        );
    }
    PatchProperties {
        classification: classification.clone(),
        severity: severity.clone(),
        priority: priority.clone(),
        section: section.clone(),
        repository: repository.clone(),
        product_family: product_family.clone(),
    }
}

fn validate_patches(c: &mut Checker, path: &str, os: Os, spec: &schema::CatalogSpec, _start: SimTime) -> Vec<PatchDef> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<&str, SimTime> = BTreeMap::new();
    let prefix = spec.generator.as_ref().map(|g| g.id_prefix.as_str()).filter(|p| !p.is_empty());
    for (index, patch) in spec.patch.iter().enumerate() {
        let ppath = format!("{path}.patch[{index}]");
        if patch.id.is_empty() || patch.id.len() > 100 {
            c.error(&format!("{ppath}.id"), "a patch id has 1 to 100 characters");
        }
        if let Some(prefix) = prefix
            && patch
                .id
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.len() >= 5 && rest.bytes().all(|b| b.is_ascii_digit()))
        {
            c.error(
                &format!("{ppath}.id"),
                format!("`{}` looks like a generated id (prefix `{prefix}`); pick another id", patch.id),
            );
        }
        if seen.insert(patch.id.as_str(), patch.released.0).is_some() {
            c.error(&format!("{ppath}.id"), format!("patch id `{}` is used twice in this catalog", patch.id));
        }
        for (s, older) in patch.supersedes.iter().enumerate() {
            match seen.get(older.as_str()) {
                Some(released) if *released <= patch.released.0 && older != &patch.id => {}
                _ => c.error(
                    &format!("{ppath}.supersedes[{s}]"),
                    format!(
                        "`{older}` must be a patch listed earlier in this catalog and released no later than `{}`",
                        patch.id
                    ),
                ),
            }
        }
        if let Some(product) = &patch.product
            && !spec.products.contains(product)
        {
            c.error(&format!("{ppath}.product"), format!("`{product}` is not one of the catalog's products"));
        }
        if !(patch.download_mb.is_finite() && patch.download_mb >= 0.0) {
            c.error(&format!("{ppath}.download_mb"), "the download size must be zero or more MB");
        }
        let props = properties(
            c,
            &ppath,
            os,
            &patch.classification,
            &patch.severity,
            &patch.priority,
            &patch.section,
            &patch.repository,
            &patch.product_family,
        );
        let dates = crate::catalog::PatchDates {
            updated: patch.updated.map(|i| i.0),
            build_time: patch.build_time.map(|i| i.0),
            undated: !patch.dated,
        };
        for (index, cve) in patch.cves.iter().enumerate() {
            if !is_cve(cve) {
                c.error(&format!("{ppath}.cves[{index}]"), format!("`{cve}` is not a CVE id such as CVE-2024-12345"));
            }
        }
        out.push(PatchDef {
            id: patch.id.clone(),
            package: patch.package.clone(),
            product: patch.product.clone(),
            properties: props,
            released: patch.released.0,
            dates,
            cves: patch.cves.clone(),
            reboot_required: patch.reboot_required,
            download_mb: patch.download_mb,
            install_duration: patch.install_duration.0,
            supersedes: patch.supersedes.clone(),
        });
    }
    out
}

/// The index of the `[[location]]` a group names (at `{path}.location`), if it names one.
fn location_index(
    c: &mut Checker,
    path: &str,
    name: Option<&str>,
    network: &crate::network::NetworkDef,
) -> Option<usize> {
    let name = name?;
    let found = network.locations.iter().position(|l| l.name == name);
    if found.is_none() {
        c.error(&format!("{path}.location"), format!("unknown location `{name}`"));
    }
    found
}

/// `CVE-YYYY-NNNN` with four or more digits in the sequence.
fn is_cve(text: &str) -> bool {
    let mut parts = text.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("CVE"), Some(year), Some(number), None)
            if year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit())
                && number.len() >= 4 && number.bytes().all(|b| b.is_ascii_digit())
    )
}

fn validate_generator(
    c: &mut Checker,
    path: &str,
    os: Os,
    spec: &schema::CatalogSpec,
    generator: &schema::GeneratorSpec,
    start: SimTime,
) -> Option<GeneratorDef> {
    let gpath = format!("{path}.generator");
    if generator.id_prefix.is_empty() {
        c.error(&format!("{gpath}.id_prefix"), "give generated patches an id prefix, e.g. `ALAS2023-2026-`");
    }
    if generator.stream.is_empty() {
        c.error(&format!("{gpath}.stream"), "a generator needs at least one [[catalog.generator.stream]]");
    }
    if spec.packages == 0 && generator.stream.iter().any(|s| s.package.is_none()) {
        c.error(
            &format!("{path}.packages"),
            "streams without a `package` pick among the catalog's packages; set `packages` above 0",
        );
    }
    let mut streams = Vec::new();
    for (index, stream) in generator.stream.iter().enumerate() {
        let spath = format!("{gpath}.stream[{index}]");
        let props = properties(
            c,
            &spath,
            os,
            &stream.classification,
            &stream.severity,
            &stream.priority,
            &stream.section,
            &stream.repository,
            &stream.product_family,
        );
        c.probability(&format!("{spath}.reboot_share"), stream.reboot_share);
        let [low, high] = stream.download_mb;
        if !(low.is_finite() && high.is_finite() && 0.0 <= low && low <= high) {
            c.error(
                &format!("{spath}.download_mb"),
                format!("[{low}, {high}] must be a range of sizes with 0 <= low <= high"),
            );
        }
        let [short, long] = stream.install_duration;
        if short.0 > long.0 {
            c.error(
                &format!("{spath}.install_duration"),
                format!("[{}, {}] must be a range with the shorter duration first", short.0, long.0),
            );
        }
        let process = match (stream.per_week, &stream.schedule, stream.per_release) {
            (Some(per_week), None, None) => {
                if !(per_week.is_finite() && per_week >= 0.0) {
                    c.error(&format!("{spath}.per_week"), format!("{per_week} must be zero or more patches a week"));
                    None
                } else {
                    Some(ReleaseProcess::Poisson { per_week })
                }
            }
            (None, Some(text), Some(per_release)) => {
                if !(per_release.is_finite() && per_release >= 0.0) {
                    c.error(
                        &format!("{spath}.per_release"),
                        format!("{per_release} must be zero or more patches a release"),
                    );
                }
                schedule(c, &format!("{spath}.schedule"), text, "UTC", None, None, None, start - generator.backlog.0)
                    .map(|s| ReleaseProcess::Batches { schedule: Box::new(s), per_release })
            }
            _ => {
                c.error(&spath, "give either `per_week`, or both `schedule` and `per_release`");
                None
            }
        };
        if let Some(process) = process {
            streams.push(StreamDef {
                properties: props,
                package: stream.package.clone(),
                process,
                reboot_share: stream.reboot_share,
                download_mb: (low, high),
                install_duration: (short.0, long.0),
                supersede_previous: stream.supersede_previous,
            });
        }
    }
    Some(GeneratorDef { backlog: generator.backlog.0, id_prefix: generator.id_prefix.clone(), streams })
}

fn filter_group(
    c: &mut Checker,
    path: &str,
    os: Os,
    group: &BTreeMap<String, Vec<String>>,
) -> Vec<(FilterKey, Vec<String>)> {
    if group.len() > 4 {
        c.error(path, format!("{} filters; a filter group has at most 4", group.len()));
    }
    let mut filters = Vec::new();
    for (key, values) in group {
        let fpath = format!("{path}.{key}");
        let Some(filter_key) = c.parse(&fpath, FilterKey::parse(key, os)) else { continue };
        if values.is_empty() || values.len() > 20 {
            c.error(&fpath, "a filter takes 1 to 20 values");
        }
        if values.iter().any(|v| v.is_empty() || v.len() > 64) {
            c.error(&fpath, "filter values have 1 to 64 characters");
        }
        if filter_key == FilterKey::PatchSet && values.iter().any(|v| !matches!(v.as_str(), "OS" | "APPLICATION" | "*"))
        {
            c.error(&fpath, "PATCH_SET values are OS and APPLICATION");
        }
        filters.push((filter_key, values.clone()));
    }
    filters
}

/// Checks an ApprovedPatches or RejectedPatches entry against the formats of section 1.4.
fn entry_format(os: Os, entry: &str, rejected: bool) -> Result<(), String> {
    if entry.is_empty() || entry.len() > 100 {
        return Err(format!("`{entry}` must have 1 to 100 characters"));
    }
    let stars = entry.matches('*').count();
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match os.family() {
        Family::Windows => {
            let kb = entry.strip_prefix("KB").is_some_and(digits);
            let bulletin = entry
                .strip_prefix("MS")
                .and_then(|rest| rest.split_once('-'))
                .is_some_and(|(year, number)| year.len() == 2 && digits(year) && number.len() == 3 && digits(number));
            if !(kb || bulletin) {
                return Err(format!("`{entry}`: Windows entries are KB ids (KB5044281) or bulletin ids (MS10-048)"));
            }
        }
        Family::Apt => {
            let ok = entry.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
            if !ok {
                return Err(format!(
                    "`{entry}`: Debian and Ubuntu entries are bare package names, without version, architecture or wildcard"
                ));
            }
        }
        Family::MacOs if stars > 0 => return Err(format!("`{entry}`: macOS entries take no wildcard")),
        _ if stars > 1 => return Err(format!("`{entry}` has {stars} `*`; at most one is allowed")),
        Family::Yum if rejected && (digits(entry) || is_cve(entry)) => {
            return Err(format!(
                "`{entry}`: rejected entries on yum systems are package names (one `*` allowed), not CVE or Bugzilla ids"
            ));
        }
        _ => {}
    }
    Ok(())
}

/// `YYYY-MM-DD` as 00:00 UTC of that day.
fn until_date(text: &str) -> Result<SimTime, String> {
    let shape = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if !shape {
        return Err(format!("`{text}` is not a date written YYYY-MM-DD"));
    }
    crate::schedule::parse_instant(text).map(SimTime).map_err(|e| format!("`{text}`: {e}"))
}

/// Reads a baseline from a JSON file named by `import`, relative to the scenario file.
/// Returns the baseline in scenario form (renamed if `name` is set) and the patch groups the
/// document lists.
fn import_baseline(
    c: &mut Checker,
    path: &str,
    spec: &schema::BaselineSpec,
    import: &str,
    source_name: &str,
) -> Option<(schema::BaselineSpec, Vec<String>)> {
    let ipath = format!("{path}.import");
    let untouched = spec.os.is_empty()
        && spec.description.is_empty()
        && spec.global_filters.is_empty()
        && spec.rule.is_empty()
        && spec.approved_patches.is_empty()
        && spec.rejected_patches.is_empty()
        && spec.approved_patches_compliance_level == "UNSPECIFIED"
        && !spec.approved_patches_enable_non_security
        && spec.rejected_patches_action == "ALLOW_AS_DEPENDENCY"
        && spec.available_security_updates_compliance_status == "COMPLIANT";
    if !untouched {
        c.error(path, "with `import`, the baseline comes from the file; only `name` may be set beside it");
    }
    let base = std::path::Path::new(source_name).parent().unwrap_or(std::path::Path::new(""));
    let file = base.join(import);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(error) => {
            c.error(&ipath, format!("cannot read {}: {error}", file.display()));
            return None;
        }
    };
    match crate::baseline::aws_json::parse_baseline_document(&text) {
        Ok(imported) => {
            let mut merged = imported.spec;
            if !spec.name.is_empty() {
                merged.name = spec.name.clone();
            }
            Some((merged, imported.patch_groups))
        }
        Err(message) => {
            c.error(&ipath, format!("{}: {message}", file.display()));
            None
        }
    }
}

fn validate_baseline(c: &mut Checker, path: &str, spec: &schema::BaselineSpec) -> Option<BaselineDef> {
    c.aws_name(&format!("{path}.name"), &spec.name, "baseline");
    if spec.name.starts_with("AWS-") {
        c.error(&format!("{path}.name"), "names starting with `AWS-` are reserved for predefined baselines");
    }
    if spec.description.chars().count() > 1024 {
        c.error(&format!("{path}.description"), "a description has at most 1024 characters");
    }
    let os = c.parse(&format!("{path}.os"), Os::parse(&spec.os))?;
    let family = os.family();
    let linux = !matches!(family, Family::Windows | Family::MacOs);
    let global_filters = filter_group(c, &format!("{path}.global_filters"), os, &spec.global_filters);
    if spec.rule.len() > 10 {
        c.error(&format!("{path}.rule"), format!("{} approval rules; a baseline has at most 10", spec.rule.len()));
    }
    let mut rules = Vec::new();
    for (index, rule) in spec.rule.iter().enumerate() {
        let rpath = format!("{path}.rule[{index}]");
        let filters = filter_group(c, &format!("{rpath}.filters"), os, &rule.filters);
        let delay = match (rule.approve_after_days, &rule.approve_until_date) {
            (Some(_), Some(_)) => {
                c.error(&rpath, "give approve_after_days or approve_until_date, not both");
                ApprovalDelay::AfterDays(0)
            }
            (Some(_), None) | (None, Some(_)) if family == Family::Apt => {
                let key = if rule.approve_after_days.is_some() { "approve_after_days" } else { "approve_until_date" };
                c.error(
                    &format!("{rpath}.{key}"),
                    format!("{os} has no reliable release dates, so AWS supports neither ApproveAfterDays nor ApproveUntilDate there"),
                );
                ApprovalDelay::AfterDays(0)
            }
            (Some(days), None) if days > 360 => {
                c.error(&format!("{rpath}.approve_after_days"), format!("{days} days; ApproveAfterDays is 0 to 360"));
                ApprovalDelay::AfterDays(0)
            }
            (Some(days), None) => ApprovalDelay::AfterDays(days),
            (None, Some(text)) => match until_date(text) {
                Ok(day) => ApprovalDelay::UntilDate(day),
                Err(message) => {
                    c.error(&format!("{rpath}.approve_until_date"), message);
                    ApprovalDelay::AfterDays(0)
                }
            },
            (None, None) if family == Family::Apt => ApprovalDelay::AfterDays(0),
            (None, None) => {
                c.error(&rpath, "a rule needs approve_after_days or approve_until_date (AWS requires one)");
                ApprovalDelay::AfterDays(0)
            }
        };
        if rule.enable_non_security && !linux {
            c.error(
                &format!("{rpath}.enable_non_security"),
                format!("EnableNonSecurity applies to Linux only, not {os}"),
            );
        }
        let level = c
            .parse(&format!("{rpath}.compliance_level"), ComplianceLevel::parse(&rule.compliance_level))
            .unwrap_or_default();
        rules.push(RuleDef { filters, delay, compliance_level: level, enable_non_security: rule.enable_non_security });
    }
    for (key, list, rejected) in
        [("approved_patches", &spec.approved_patches, false), ("rejected_patches", &spec.rejected_patches, true)]
    {
        if list.len() > 50 {
            c.error(&format!("{path}.{key}"), format!("{} entries; AWS allows at most 50", list.len()));
        }
        for (index, entry) in list.iter().enumerate() {
            if let Err(message) = entry_format(os, entry, rejected) {
                c.error(&format!("{path}.{key}[{index}]"), message);
            }
        }
    }
    if spec.approved_patches_enable_non_security && !linux {
        c.error(
            &format!("{path}.approved_patches_enable_non_security"),
            format!("ApprovedPatchesEnableNonSecurity applies to Linux only, not {os}"),
        );
    }
    let level = c
        .parse(
            &format!("{path}.approved_patches_compliance_level"),
            ComplianceLevel::parse(&spec.approved_patches_compliance_level),
        )
        .unwrap_or_default();
    let action = match spec.rejected_patches_action.as_str() {
        "ALLOW_AS_DEPENDENCY" => RejectedAction::AllowAsDependency,
        "BLOCK" => RejectedAction::Block,
        other => {
            c.error(
                &format!("{path}.rejected_patches_action"),
                format!("`{other}`; expected ALLOW_AS_DEPENDENCY or BLOCK"),
            );
            RejectedAction::AllowAsDependency
        }
    };
    let available_non_compliant = match spec.available_security_updates_compliance_status.as_str() {
        "COMPLIANT" => false,
        "NON_COMPLIANT" if family == Family::Windows => true,
        "NON_COMPLIANT" => {
            c.error(
                &format!("{path}.available_security_updates_compliance_status"),
                format!("AvailableSecurityUpdatesComplianceStatus applies to Windows only, not {os}"),
            );
            false
        }
        other => {
            c.error(
                &format!("{path}.available_security_updates_compliance_status"),
                format!("`{other}`; expected COMPLIANT or NON_COMPLIANT"),
            );
            false
        }
    };
    Some(BaselineDef {
        name: spec.name.clone(),
        os,
        description: spec.description.clone(),
        global_filters,
        rules,
        approved_patches: spec.approved_patches.clone(),
        approved_patches_compliance_level: level,
        approved_patches_enable_non_security: spec.approved_patches_enable_non_security,
        rejected_patches: spec.rejected_patches.clone(),
        rejected_patches_action: action,
        available_security_updates_non_compliant: available_non_compliant,
    })
}

#[allow(clippy::too_many_arguments)]
fn schedule(
    c: &mut Checker,
    path: &str,
    text: &str,
    timezone: &str,
    offset: Option<u8>,
    start_date: Option<SimTime>,
    end_date: Option<SimTime>,
    created_at: SimTime,
) -> Option<WindowSchedule> {
    let expr = match ScheduleExpr::parse(text) {
        Ok(expr) => expr,
        Err(error) => {
            c.error(path, format!("schedule `{text}` does not parse: {error}"));
            return None;
        }
    };
    match WindowSchedule::new(expr, timezone, offset, start_date.map(|t| t.0), end_date.map(|t| t.0), created_at.0) {
        Ok(schedule) => Some(schedule),
        Err(error) => {
            c.error(path, error.to_string());
            None
        }
    }
}

fn targets(c: &mut Checker, path: &str, specs: &[String]) -> Option<Vec<Target>> {
    if specs.is_empty() {
        c.error(path, "list at least one target");
        return None;
    }
    let mut out = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let tpath = format!("{path}[{index}]");
        let mut target = c.parse(&tpath, Target::parse(spec))?;
        if let Target::ResourceGroup { name, tags } = &mut target {
            match c.resource_groups.get(name.as_str()) {
                Some(definition) => *tags = definition.clone(),
                None => {
                    c.error(&tpath, format!("unknown resource group `{name}`; define it in [[resource_group]]"));
                    return None;
                }
            }
        }
        out.push(target);
    }
    Some(out)
}

/// TimeoutSeconds: 30 to 2,592,000 (30 days).
fn delivery_timeout(c: &mut Checker, path: &str, seconds: u32) -> SimDuration {
    if !(30..=2_592_000).contains(&seconds) {
        c.error(path, format!("{seconds} seconds; TimeoutSeconds is 30 to 2592000"));
    }
    SimDuration(seconds as i64)
}

fn validate_window(c: &mut Checker, path: &str, spec: &schema::WindowSpec, start: SimTime) -> Option<WindowDef> {
    c.aws_name(&format!("{path}.name"), &spec.name, "maintenance window");
    if !(1..=24).contains(&spec.duration_hours) {
        c.error(&format!("{path}.duration_hours"), format!("{} hours; Duration is 1 to 24", spec.duration_hours));
    }
    if spec.cutoff_hours > 23 {
        c.error(&format!("{path}.cutoff_hours"), format!("{} hours; Cutoff is 0 to 23", spec.cutoff_hours));
    } else if spec.cutoff_hours >= spec.duration_hours {
        c.error(
            &format!("{path}.cutoff_hours"),
            format!(
                "the cutoff ({} h) must be shorter than the duration ({} h), or no task could ever start",
                spec.cutoff_hours, spec.duration_hours
            ),
        );
    }
    let schedule = schedule(
        c,
        &format!("{path}.schedule"),
        &spec.schedule,
        &spec.timezone,
        spec.offset_days,
        spec.start_date.map(|i| i.0),
        spec.end_date.map(|i| i.0),
        start,
    );
    let window_targets = targets(c, &format!("{path}.targets"), &spec.targets);
    if spec.task.is_empty() {
        c.error(&format!("{path}.task"), "a window needs at least one [[maintenance_window.task]]");
    }
    let mut tasks = Vec::new();
    let mut task_names = BTreeSet::new();
    for (index, task) in spec.task.iter().enumerate() {
        let tpath = format!("{path}.task[{index}]");
        if !task_names.insert(task.name.as_str()) {
            c.error(&format!("{tpath}.name"), format!("task name `{}` is used twice in this window", task.name));
        }
        let operation = c.parse(&format!("{tpath}.operation"), Operation::parse(&task.operation));
        let reboot = c.parse(&format!("{tpath}.reboot_option"), RebootOption::parse(&task.reboot_option));
        let concurrency = c.parse(&format!("{tpath}.max_concurrency"), RateValue::parse(&task.max_concurrency, false));
        let errors = c.parse(&format!("{tpath}.max_errors"), RateValue::parse(&task.max_errors, true));
        let cutoff_behavior =
            c.parse(&format!("{tpath}.cutoff_behavior"), CutoffBehavior::parse(&task.cutoff_behavior));
        let task_targets = if task.targets.is_empty() {
            Some(None)
        } else {
            targets(c, &format!("{tpath}.targets"), &task.targets).map(Some)
        };
        let timeout = delivery_timeout(c, &format!("{tpath}.timeout_seconds"), task.timeout_seconds);
        if let (Some(operation), Some(reboot_option), Some(max_concurrency), Some(max_errors)) =
            (operation, reboot, concurrency, errors)
        {
            for (i, entry) in task.install_override_list.iter().enumerate() {
                if entry.is_empty() || entry.matches('*').count() > 1 {
                    c.error(
                        &format!("{tpath}.install_override_list[{i}]"),
                        format!("`{entry}` must be a patch id or a package name with at most one `*`"),
                    );
                }
            }
            let (Some(cutoff_behavior), Some(task_targets)) = (cutoff_behavior, task_targets) else { continue };
            tasks.push(TaskDef {
                targets: task_targets,
                cutoff_behavior,
                delivery_timeout: timeout,
                install_override_list: task.install_override_list.clone(),
                name: task.name.clone(),
                priority: task.priority,
                operation,
                reboot_option,
                max_concurrency,
                max_errors,
            });
        }
    }
    Some(WindowDef {
        name: spec.name.clone(),
        schedule: schedule?,
        enabled: spec.enabled,
        duration: SimDuration::hours(spec.duration_hours as i64),
        cutoff: SimDuration::hours(spec.cutoff_hours as i64),
        targets: window_targets?,
        tasks,
    })
}
