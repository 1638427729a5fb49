//! `patchfleet baseline explain`: for each patch of a baseline's operating system, whether
//! it is approved at an instant, what decided it, when, and at which compliance level.
//! This answers the most common question in the field: "why was this patch not installed?".

use serde::Serialize;

use super::compile::{ApprovalSource, approval_of};
use crate::catalog::{self, Catalog, Family};
use crate::scenario::Scenario;
use crate::time::SimTime;

/// The verdict on one patch.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Explanation {
    pub patch_id: String,
    pub package: String,
    pub classification: String,
    pub severity: String,
    pub released: String,
    /// APPROVED, PENDING_APPROVAL, NOT_RELEASED, NOT_APPROVED or REJECTED, at the instant.
    pub status: &'static str,
    /// When the patch is (or was) approved; `None` if never.
    pub approval_instant: Option<String>,
    /// `rule N`, `approved list`, `rejected list`, `global filters` or `no rule`.
    pub decided_by: String,
    pub compliance_level: &'static str,
    /// On Windows, the update that replaced this one, if it was released by the instant.
    pub superseded_by: Option<String>,
}

/// Builds the catalog of the baseline's operating system as the run would.
fn catalog_for(scenario: &Scenario, seed: u64, baseline: usize) -> Result<Catalog, String> {
    let os = scenario.baselines[baseline].os;
    let index = scenario
        .catalog_of(os)
        .ok_or_else(|| format!("the scenario has no catalog for {os}, the operating system of this baseline"))?;
    catalog::build(&scenario.catalogs[index], index, seed, scenario.start, scenario.end())
}

/// Explains every patch of the baseline's catalog (or only `patch_ids`) at `at`.
pub fn explain(
    scenario: &Scenario,
    seed: u64,
    baseline: usize,
    at: SimTime,
    patch_ids: &[String],
) -> Result<Vec<Explanation>, String> {
    let def = &scenario.baselines[baseline];
    let catalog = catalog_for(scenario, seed, baseline)?;
    let selected: Vec<usize> = if patch_ids.is_empty() {
        (0..catalog.len()).collect()
    } else {
        let mut indices = Vec::new();
        for id in patch_ids {
            let index = catalog
                .patch_index(id)
                .ok_or_else(|| format!("no patch `{id}` in the {} catalog of this scenario and seed", def.os))?;
            indices.push(index as usize);
        }
        indices
    };
    let windows = def.os.family() == Family::Windows;
    Ok(selected
        .into_iter()
        .map(|index| {
            let patch = &catalog.patches[index];
            let approval = approval_of(def, &catalog, patch);
            let status = if patch.released > at {
                "NOT_RELEASED"
            } else if approval.source == ApprovalSource::RejectedList {
                "REJECTED"
            } else {
                match approval.at {
                    Some(when) if when <= at => "APPROVED",
                    Some(_) => "PENDING_APPROVAL",
                    None => "NOT_APPROVED",
                }
            };
            let superseded_by = patch
                .superseded_by
                .filter(|&newer| windows && catalog.patches[newer as usize].released <= at)
                .map(|newer| catalog.patches[newer as usize].id.clone());
            Explanation {
                patch_id: patch.id.clone(),
                package: catalog.package_names[patch.package as usize].clone(),
                classification: patch.properties.classification.clone().unwrap_or_default(),
                severity: patch.properties.severity.clone().or(patch.properties.priority.clone()).unwrap_or_default(),
                released: patch.released.to_rfc3339(),
                status,
                approval_instant: approval.at.map(|t| t.to_rfc3339()),
                decided_by: approval.source.describe(),
                compliance_level: if approval.at.is_some() { approval.level.as_str() } else { "-" },
                superseded_by,
            }
        })
        .collect())
}

/// One line per patch, aligned.
pub fn explain_text(explanations: &[Explanation]) -> String {
    let id_width = explanations.iter().map(|e| e.patch_id.len()).max().unwrap_or(8).max(8);
    let mut out = format!(
        "{:<id_width$}  {:<16}  {:<20}  {:<20}  {:<16}  {:<13}  LEVEL\n",
        "PATCH", "STATUS", "RELEASED", "APPROVED AT", "DECIDED BY", "SEVERITY"
    );
    for e in explanations {
        let mut line = format!(
            "{:<id_width$}  {:<16}  {:<20}  {:<20}  {:<16}  {:<13}  {}",
            e.patch_id,
            e.status,
            e.released,
            e.approval_instant.as_deref().unwrap_or("never"),
            e.decided_by,
            e.severity,
            e.compliance_level
        );
        if let Some(newer) = &e.superseded_by {
            line.push_str(&format!("  (superseded by {newer}: no longer offered)"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
