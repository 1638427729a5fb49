//! `[[catalog]]`: one per operating system, with its packages, explicit patches, the
//! generator and its streams, and the patch properties that both patches and streams carry.

use std::collections::BTreeMap;

use super::window::schedule;
use super::{Checker, num};
use crate::catalog::{
    APT_PRIORITIES, BatchSize, CatalogDef, Family, GeneratorDef, Os, PatchDef, PatchProperties, ReleaseProcess,
    StreamDef, classifications, severities,
};
use crate::limits;
use crate::scenario::load::FailedSections;
use crate::scenario::schema::{CatalogSpec, GeneratorSpec, PatchSpec, StreamSpec};
use crate::time::SimTime;

/// The catalogs, and for each operating system the index of its catalog.
pub(super) fn catalogs(
    c: &mut Checker,
    specs: &[CatalogSpec],
    failed: &FailedSections,
    start: SimTime,
) -> (Vec<CatalogDef>, BTreeMap<Os, usize>) {
    let mut catalogs: Vec<CatalogDef> = Vec::new();
    let mut catalog_oses: BTreeMap<Os, usize> = BTreeMap::new();
    for (index, spec) in specs.iter().enumerate() {
        let path = format!("catalog[{index}]");
        let Some(os) = c.parse(&format!("{path}.os"), Os::parse(&spec.os)) else { continue };
        if catalog_oses.insert(os, catalogs.len()).is_some() {
            c.error(&format!("{path}.os"), format!("a second catalog for {os}; each operating system has one catalog"));
        }
        if spec.products.is_empty() {
            c.error(&format!("{path}.products"), "list at least one PRODUCT value");
        }
        if spec.packages > limits::MAX_PACKAGES {
            c.error(
                &format!("{path}.packages"),
                format!("{} packages; a catalog holds at most {}", spec.packages, limits::MAX_PACKAGES),
            );
        }
        if spec.patch.len() as u64 > limits::MAX_PATCHES_PER_CATALOG {
            c.error(
                &format!("{path}.patch"),
                format!("{} patches; a catalog holds at most {}", spec.patch.len(), limits::MAX_PATCHES_PER_CATALOG),
            );
        }
        if spec.core_packages > spec.packages {
            c.error(
                &format!("{path}.core_packages"),
                format!("{} core packages but only {} packages", spec.core_packages, spec.packages),
            );
        }
        let patches = validate_patches(c, &path, os, spec);
        let generator = spec.generator.as_ref().and_then(|g| validate_generator(c, &path, os, spec, g, start));
        catalogs.push(CatalogDef {
            os,
            products: spec.products.clone(),
            packages: spec.packages,
            core_packages: spec.core_packages,
            patches,
            generator,
        });
    }
    if specs.is_empty() && !failed.contains("catalog") {
        c.error("catalog", "a scenario needs at least one [[catalog]]");
    }
    (catalogs, catalog_oses)
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

fn validate_patches(c: &mut Checker, path: &str, os: Os, spec: &CatalogSpec) -> Vec<PatchDef> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<&str, SimTime> = BTreeMap::new();
    let prefix = spec.generator.as_ref().map(|g| g.id_prefix.as_str()).filter(|p| !p.is_empty());
    for (index, patch) in spec.patch.iter().enumerate() {
        let ppath = format!("{path}.patch[{index}]");
        patch_id(c, &ppath, patch, prefix, &mut seen);
        out.push(validate_patch(c, &ppath, os, spec, patch));
    }
    out
}

/// A patch's id (unique, not shaped like a generated one) and the earlier patches it
/// supersedes. `seen` holds the ids listed so far with their release times.
fn patch_id<'s>(
    c: &mut Checker,
    ppath: &str,
    patch: &'s PatchSpec,
    prefix: Option<&str>,
    seen: &mut BTreeMap<&'s str, SimTime>,
) {
    if patch.id.is_empty() || patch.id.len() > 100 {
        c.error(&format!("{ppath}.id"), "a patch id has 1 to 100 characters");
    }
    if let Some(prefix) = prefix
        && patch.id.strip_prefix(prefix).is_some_and(|rest| rest.len() >= 5 && rest.bytes().all(|b| b.is_ascii_digit()))
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
}

/// The rest of an explicit patch: product, size, properties and CVE ids.
fn validate_patch(c: &mut Checker, ppath: &str, os: Os, spec: &CatalogSpec, patch: &PatchSpec) -> PatchDef {
    if let Some(product) = &patch.product
        && !spec.products.contains(product)
    {
        c.error(&format!("{ppath}.product"), format!("`{product}` is not one of the catalog's products"));
    }
    c.download_size(&format!("{ppath}.download_mb"), patch.download_mb);
    let props = properties(
        c,
        ppath,
        os,
        &patch.classification,
        &patch.severity,
        &patch.priority,
        &patch.section,
        &patch.repository,
        &patch.product_family,
    );
    if let Some(updated) = patch.updated {
        // Approval delays count from the later of release and update wherever the catalog
        // carries an update date; Debian and Ubuntu have no delays, so it means nothing there.
        if os.family() == Family::Apt {
            c.error(&format!("{ppath}.updated"), format!("{os} has no approval delays: an update date means nothing"));
        } else if updated.0 < patch.released.0 {
            c.error(&format!("{ppath}.updated"), "a patch cannot be updated before it is released");
        }
    }
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
    PatchDef {
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
    }
}

/// `CVE-YYYY-NNNN` with four or more digits in the sequence.
pub(super) fn is_cve(text: &str) -> bool {
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
    spec: &CatalogSpec,
    generator: &GeneratorSpec,
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
        if let Some(stream) = validate_stream(c, &spath, os, stream, start - generator.backlog.0) {
            streams.push(stream);
        }
    }
    Some(GeneratorDef { backlog: generator.backlog.0, id_prefix: generator.id_prefix.clone(), streams })
}

/// One stream; scheduled batches are generated from `backlog_start` on.
fn validate_stream(
    c: &mut Checker,
    spath: &str,
    os: Os,
    stream: &StreamSpec,
    backlog_start: SimTime,
) -> Option<StreamDef> {
    let props = properties(
        c,
        spath,
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
    if !(0.0..=limits::MAX_DOWNLOAD_MB).contains(&low) || !(low..=limits::MAX_DOWNLOAD_MB).contains(&high) {
        c.error(
            &format!("{spath}.download_mb"),
            format!(
                "[{}, {}] must be a range of sizes with 0 <= low <= high <= {} MB",
                num(low),
                num(high),
                limits::MAX_DOWNLOAD_MB
            ),
        );
    }
    let [short, long] = stream.install_duration;
    if short.0 > long.0 {
        c.error(
            &format!("{spath}.install_duration"),
            format!("[{}, {}] must be a range with the shorter duration first", short.0, long.0),
        );
    }
    let process = release_process(c, spath, stream, backlog_start)?;
    Some(StreamDef {
        properties: props,
        package: stream.package.clone(),
        process,
        reboot_share: stream.reboot_share,
        download_mb: (low, high),
        install_duration: (short.0, long.0),
        supersede_previous: stream.supersede_previous,
    })
}

/// `per_week` (Poisson), or `schedule` with `per_release` (a Poisson batch) or `count` (an
/// exact one).
fn release_process(
    c: &mut Checker,
    spath: &str,
    stream: &StreamSpec,
    backlog_start: SimTime,
) -> Option<ReleaseProcess> {
    let size = match (stream.per_release, stream.count) {
        (Some(mean), None) => Some(BatchSize::Poisson(mean)),
        (None, Some(count)) => Some(BatchSize::Exact(count)),
        (None, None) => None,
        (Some(_), Some(_)) => {
            c.error(&format!("{spath}.count"), "give `per_release` (a Poisson mean) or `count` (exact), not both");
            return None;
        }
    };
    match (stream.per_week, &stream.schedule, size) {
        (Some(per_week), None, None) => {
            if !(0.0..=limits::MAX_STREAM_RATE).contains(&per_week) {
                c.error(
                    &format!("{spath}.per_week"),
                    format!("{} must be 0 to {} patches a week", num(per_week), limits::MAX_STREAM_RATE),
                );
                None
            } else {
                Some(ReleaseProcess::Poisson { per_week })
            }
        }
        (None, Some(text), Some(per_release)) => {
            if let BatchSize::Poisson(mean) = per_release
                && !(0.0..=limits::MAX_STREAM_RATE).contains(&mean)
            {
                c.error(
                    &format!("{spath}.per_release"),
                    format!("{} must be 0 to {} patches a release", num(mean), limits::MAX_STREAM_RATE),
                );
            }
            if let BatchSize::Exact(count) = per_release
                && count as f64 > limits::MAX_STREAM_RATE
            {
                c.error(
                    &format!("{spath}.count"),
                    format!("{count} is more than {} patches a release", limits::MAX_STREAM_RATE),
                );
            }
            schedule(c, &format!("{spath}.schedule"), text, "UTC", None, None, None, backlog_start)
                .map(|s| ReleaseProcess::Batches { schedule: Box::new(s), per_release })
        }
        _ => {
            c.error(spath, "give either `per_week`, or `schedule` with `per_release` or `count`");
            None
        }
    }
}
