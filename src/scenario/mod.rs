//! Scenario files: the TOML schema, loading with locations, validation, and the embedded
//! default scenario.
//!
//! [`load`] turns text into a validated [`Scenario`] or returns every problem at once, each
//! with file, line, column and key path. Nothing downstream re-checks user input: once a
//! `Scenario` exists, building and running it cannot fail on account of the file.

mod diagnostic;
pub mod estimate;
mod load;
pub mod schema;
mod validate;

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

pub use diagnostic::{Diagnostic, Diagnostics};
pub use load::{ReadError, SECTIONS, decode_text, locate, read_text};

use crate::baseline::BaselineDef;
use crate::catalog::{CatalogDef, Os};
use crate::fleet::{GroupDef, ProfileDef};
use crate::time::{SimDuration, SimTime};
use crate::window::{AssociationDef, WindowDef};

/// The default scenario, compiled into the binary.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.toml");
/// How the embedded default scenario is named in messages and in `summary.json`.
pub const DEFAULT_SCENARIO_NAME: &str = "scenarios/default.toml";

/// Agent step durations, validated.
#[derive(Clone, Debug)]
pub struct AgentDef {
    /// An agent unreachable this long shows ConnectionLost (missed pings x 5 minutes).
    pub connection_lost_after: SimDuration,
    pub scan_duration: SimDuration,
    pub install_overhead: SimDuration,
    pub reboot_duration: SimDuration,
    pub download_mbps: f64,
}

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file as named by the user.
    pub source_name: String,
    /// SHA-256 of the file's bytes, hex.
    pub hash: String,
    /// The file with every default filled in (`scenario show`).
    pub effective: schema::ScenarioFile,
    pub name: String,
    pub description: String,
    pub start: SimTime,
    pub horizon: SimDuration,
    pub seed: u64,
    pub sample_interval: SimDuration,
    pub max_events: u64,
    /// Maintenance-window executions that may run at once (`[account]`).
    pub max_concurrent_executions: u32,
    pub agent: AgentDef,
    pub catalogs: Vec<CatalogDef>,
    pub profiles: Vec<ProfileDef>,
    pub groups: Vec<GroupDef>,
    /// Custom baselines first, then the predefined ones the scenario uses.
    pub baselines: Vec<BaselineDef>,
    /// Patch group name to baseline indices (one per operating system).
    pub patch_groups: BTreeMap<String, Vec<usize>>,
    /// Default baseline per operating system, for every OS that has a catalog.
    pub default_baselines: BTreeMap<Os, usize>,
    pub windows: Vec<WindowDef>,
    pub associations: Vec<AssociationDef>,
    pub network: crate::network::NetworkDef,
    pub images: Vec<crate::fleet::ImageDef>,
    pub auto_scaling_groups: Vec<crate::fleet::AsgDef>,
    pub alarms: Vec<crate::window::AlarmDef>,
    pub output: OutputDef,
    /// Legal but rarely meant: targets that match no instance, a patch group tag without a
    /// `[[patch_group]]`, a profile no patch applies to. They never change the exit code.
    pub warnings: Vec<Diagnostic>,
}

/// The optional outputs a scenario asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputDef {
    pub invocations: bool,
    /// Patch groups (tag values, or `(none)`) whose instances get `instance_patches.jsonl`;
    /// `None`: none; `Some(empty)`: every instance.
    pub instance_patches: Option<Vec<String>>,
}

impl OutputDef {
    /// Whether the instances of reporting group `group` are listed in
    /// `instance_patches.jsonl`.
    pub fn lists_patches_of(&self, group: &str) -> bool {
        self.instance_patches.as_ref().is_some_and(|groups| groups.is_empty() || groups.iter().any(|g| g == group))
    }
}

impl Scenario {
    pub fn end(&self) -> SimTime {
        self.start + self.horizon
    }

    /// `[scenario] compliance_target`: the compliant share reports measure time above
    /// (default 0.95; its range is checked when the file is read).
    pub fn compliance_target(&self) -> f64 {
        self.effective.scenario.compliance_target.0
    }

    /// The baseline that applies to an instance of `os` in patch group `group`: the group's
    /// baseline for that OS if registered (R1), else the OS default (R2, R3, R4).
    pub fn resolve_baseline(&self, group: Option<&str>, os: Os) -> usize {
        if let Some(indices) = group.and_then(|g| self.patch_groups.get(g))
            && let Some(&index) = indices.iter().find(|&&i| self.baselines[i].os == os)
        {
            return index;
        }
        self.default_baselines[&os]
    }

    /// The index of the baseline called `name`: one of the scenario's, or a predefined AWS
    /// baseline, which is added to the scenario's list if it was not used yet.
    pub fn find_or_add_baseline(&mut self, name: &str) -> Option<usize> {
        if let Some(index) = self.baselines.iter().position(|b| b.name == name) {
            return Some(index);
        }
        let def = crate::baseline::predefined::by_name(name)?;
        self.baselines.push(def);
        Some(self.baselines.len() - 1)
    }

    pub fn catalog_of(&self, os: Os) -> Option<usize> {
        self.catalogs.iter().position(|c| c.os == os)
    }
}

/// Loads and validates a scenario. `source_name` names the file in messages.
pub fn load(source_name: &str, text: &str) -> Result<Scenario, Diagnostics> {
    let mut collector = diagnostic::Collector::new(source_name, text);
    let Some((file, locator, failed)) = load::parse(text, &mut collector) else {
        return Err(collector.finish());
    };
    let hash = hex(&Sha256::digest(text.as_bytes()));
    let scenario = validate::validate(file, &locator, &failed, &mut collector, source_name, hash);
    match scenario {
        Some(scenario) if collector.is_empty() => Ok(scenario),
        _ => Err(collector.finish()),
    }
}

/// Loads the embedded default scenario.
pub fn load_default() -> Scenario {
    load(DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO).expect("the embedded default scenario is valid; a test checks it")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
