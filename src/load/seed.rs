//! `patchfleet load seed DIR`: the synthetic objects of a scenario's patches, so that a plain
//! web server (nginx, `python3 -m http.server`) serving DIR is a mirror a replay can use.
//! Files are sparse (their size is set, nothing written), so seeding is instant and takes
//! no disk space; a server reads them as zeros.

use std::fs;
use std::path::Path;

use super::calibrate::{CALIBRATION_BYTES, CALIBRATION_OBJECT};
use super::plan::{object_bytes, object_path};
use crate::scenario::Scenario;
use crate::sim::World;

/// What seeding wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seeded {
    pub objects: usize,
    pub bytes: u64,
}

/// Writes one object per patch that a repository of the scenario serves (named by
/// `template`, of the patch's size over `size_scale`), and the calibration object.
pub fn seed(dir: &Path, scenario: &Scenario, world: &World, template: &str, size_scale: f64) -> Result<Seeded, String> {
    let mut seeded = Seeded { objects: 0, bytes: 0 };
    for catalog in &world.catalogs {
        if scenario.network.repository_for(catalog.os).is_none() {
            continue;
        }
        for patch in catalog.patches.iter().filter(|p| p.download_mb > 0.0) {
            let bytes = object_bytes(patch.download_mb, size_scale);
            let package = &catalog.package_names[patch.package as usize];
            let path = object_path(template, &patch.id, package, bytes)?;
            sparse_file(&dir.join(&path), bytes)?;
            seeded.objects += 1;
            seeded.bytes += bytes;
        }
    }
    sparse_file(&dir.join(CALIBRATION_OBJECT), CALIBRATION_BYTES)?;
    Ok(seeded)
}

fn sparse_file(path: &Path, bytes: u64) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let file = fs::File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.set_len(bytes).map_err(|e| format!("cannot size {}: {e}", path.display()))
}
