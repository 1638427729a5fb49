//! Building a catalog: explicit patches plus the generator's release process.

use std::collections::HashMap;

use super::{Catalog, CatalogDef, Patch, PatchProperties, anonymous_package_name, is_security};
use crate::rng::Stream;
use crate::schedule::WindowSchedule;
use crate::time::{SimDuration, SimTime};

/// A validated generator.
#[derive(Clone, Debug)]
pub struct GeneratorDef {
    pub backlog: SimDuration,
    pub id_prefix: String,
    pub streams: Vec<StreamDef>,
}

/// When a stream releases patches.
#[derive(Clone, Debug)]
pub enum ReleaseProcess {
    /// A Poisson process: exponential gaps with mean one week / `per_week`.
    Poisson { per_week: f64 },
    /// Batches at each fire of a schedule.
    Batches { schedule: Box<WindowSchedule>, per_release: BatchSize },
}

/// How many patches one batch holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BatchSize {
    /// A Poisson number with this mean.
    Poisson(f64),
    /// Exactly this many: a vendor that ships one cumulative update per Patch Tuesday.
    Exact(u32),
}

impl BatchSize {
    /// The expected number of patches a batch holds.
    pub fn mean(self) -> f64 {
        match self {
            BatchSize::Poisson(mean) => mean,
            BatchSize::Exact(n) => n as f64,
        }
    }
}

impl std::fmt::Display for BatchSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchSize::Poisson(mean) => write!(f, "{mean} (Poisson mean)"),
            BatchSize::Exact(n) => write!(f, "exactly {n}"),
        }
    }
}

/// A validated stream.
#[derive(Clone, Debug)]
pub struct StreamDef {
    pub properties: PatchProperties,
    /// A fixed package for every patch of the stream (e.g. Windows' cumulative update);
    /// otherwise each patch picks a package of the generator's pool uniformly.
    pub package: Option<String>,
    pub process: ReleaseProcess,
    pub reboot_share: f64,
    pub download_mb: (f64, f64),
    pub install_duration: (SimDuration, SimDuration),
    pub supersede_previous: bool,
}

struct Draft {
    released: SimTime,
    order: (usize, u64),
    id: Option<String>,
    package: u32,
    product: u16,
    properties: PatchProperties,
    dates: super::PatchDates,
    cves: Vec<String>,
    reboot_required: bool,
    download_mb: f64,
    install_duration: SimDuration,
    supersedes_ids: Vec<String>,
    supersede_previous: bool,
}

/// Builds catalog number `catalog_index` of the scenario. Generated patches cover
/// `[start - backlog, end)`; explicit patches are kept whatever their release instant.
pub fn build(
    def: &CatalogDef,
    catalog_index: usize,
    seed: u64,
    start: SimTime,
    end: SimTime,
) -> Result<Catalog, String> {
    let mut package_names: Vec<String> = (0..def.packages).map(anonymous_package_name).collect();
    let package_of = |name: &str, names: &mut Vec<String>| -> u32 {
        match names.iter().position(|n| n == name) {
            Some(index) => index as u32,
            None => {
                names.push(name.to_string());
                (names.len() - 1) as u32
            }
        }
    };
    let product_of = |name: &Option<String>| -> u16 {
        name.as_ref().and_then(|n| def.products.iter().position(|p| p == n)).unwrap_or(0) as u16
    };

    let mut drafts = Vec::new();
    for (index, patch) in def.patches.iter().enumerate() {
        drafts.push(Draft {
            released: patch.released,
            order: (0, index as u64),
            id: Some(patch.id.clone()),
            package: package_of(&patch.package, &mut package_names),
            product: product_of(&patch.product),
            properties: patch.properties.clone(),
            dates: patch.dates,
            cves: patch.cves.clone(),
            reboot_required: patch.reboot_required,
            download_mb: patch.download_mb,
            install_duration: patch.install_duration,
            supersedes_ids: patch.supersedes.clone(),
            supersede_previous: false,
        });
    }

    if let Some(generator) = &def.generator {
        let from = start - generator.backlog;
        for (stream_index, stream) in generator.streams.iter().enumerate() {
            let entity = ((catalog_index as u64) << 32) | stream_index as u64;
            let mut rng = Stream::new(seed, entity, crate::rng::Purpose::CatalogRelease);
            let fixed_package = stream.package.as_ref().map(|name| package_of(name, &mut package_names));
            let room = crate::limits::MAX_PATCHES_PER_CATALOG.saturating_sub(drafts.len() as u64);
            let instants = release_instants(&stream.process, from, end, &mut rng, room).ok_or_else(|| {
                format!(
                    "the {} catalog's generator draws more than {} patches (limits::MAX_PATCHES_PER_CATALOG); \
                     lower the rates of catalog.generator.stream[{stream_index}]",
                    def.os,
                    crate::limits::MAX_PATCHES_PER_CATALOG
                )
            })?;
            for (draw, released) in instants.into_iter().enumerate() {
                let package = match fixed_package {
                    Some(package) => package,
                    None if def.packages == 0 => package_of("pkg-0", &mut package_names),
                    None => rng.range_inclusive(0, def.packages as i64 - 1) as u32,
                };
                let (low, high) = stream.download_mb;
                let (short, long) = stream.install_duration;
                drafts.push(Draft {
                    released,
                    order: (1 + stream_index, draw as u64),
                    id: None,
                    package,
                    product: 0,
                    properties: stream.properties.clone(),
                    dates: super::PatchDates::default(),
                    cves: Vec::new(),
                    reboot_required: rng.chance(stream.reboot_share),
                    download_mb: if high > low { rng.uniform(low, high) } else { low },
                    install_duration: SimDuration(rng.range_inclusive(short.0, long.0.max(short.0))),
                    supersedes_ids: Vec::new(),
                    supersede_previous: stream.supersede_previous,
                });
            }
        }
    }

    // Release order, then explicit patches before generated ones, then draw order.
    drafts.sort_by_key(|d| (d.released, d.order));
    let mut by_id: HashMap<String, u32> = HashMap::with_capacity(drafts.len());
    let mut patches: Vec<Patch> = Vec::with_capacity(drafts.len());
    let mut last_of_package: HashMap<u32, u32> = HashMap::new();
    let mut generated_seq = 0u64;
    let prefix = def.generator.as_ref().map_or("", |g| g.id_prefix.as_str());
    for draft in drafts {
        let index = patches.len() as u32;
        let id = match draft.id {
            Some(id) => id,
            None => {
                generated_seq += 1;
                format!("{prefix}{generated_seq:05}")
            }
        };
        if by_id.insert(id.clone(), index).is_some() {
            return Err(format!("two patches of the {} catalog have the id `{id}`", def.os));
        }
        let mut supersedes = Vec::new();
        if draft.supersede_previous
            && let Some(previous) = last_of_package.get(&draft.package)
        {
            supersedes.push(*previous);
        }
        for older in &draft.supersedes_ids {
            match by_id.get(older) {
                Some(older_index) if *older_index != index => supersedes.push(*older_index),
                _ => {
                    return Err(format!(
                        "patch `{id}` supersedes `{older}`, which is not an earlier patch of the {} catalog",
                        def.os
                    ));
                }
            }
        }
        last_of_package.insert(draft.package, index);
        let security = is_security(
            def.os.family(),
            draft.properties.classification.as_deref(),
            draft.properties.repository.as_deref(),
        );
        patches.push(Patch {
            id,
            package: draft.package,
            product: draft.product,
            properties: draft.properties,
            security,
            released: draft.released,
            updated: draft.dates.updated,
            build_time: draft.dates.build_time,
            dated: !draft.dates.undated,
            cves: draft.cves,
            reboot_required: draft.reboot_required,
            download_mb: draft.download_mb,
            install_duration: draft.install_duration,
            supersedes,
            superseded_by: None,
        });
    }
    for index in 0..patches.len() {
        for older in patches[index].supersedes.clone() {
            let slot = &mut patches[older as usize].superseded_by;
            // With several successors, the earliest one is kept: it is the first to replace it.
            if slot.is_none() {
                *slot = Some(index as u32);
            }
        }
    }
    Ok(Catalog {
        os: def.os,
        products: def.products.clone(),
        package_names,
        core_packages: def.core_packages.min(def.packages),
        anonymous_packages: def.packages,
        patches,
        by_id,
    })
}

/// Instants in `[from, until)` at which a stream releases a patch (repeated for batches), or
/// `None` if there would be more than `room`. Validation keeps the expected count well below
/// the catalog's limit; the bound makes the loop finite whatever the draws.
fn release_instants(
    process: &ReleaseProcess,
    from: SimTime,
    until: SimTime,
    rng: &mut Stream,
    room: u64,
) -> Option<Vec<SimTime>> {
    let mut out = Vec::new();
    match process {
        ReleaseProcess::Poisson { per_week } => {
            if *per_week <= 0.0 {
                return Some(out);
            }
            let mean_gap = SimDuration::days(7).0 as f64 / per_week;
            let mut t = from.0 as f64;
            loop {
                t += rng.exponential(mean_gap);
                let at = SimTime(t.floor() as i64);
                if at >= until {
                    break;
                }
                if out.len() as u64 >= room {
                    return None;
                }
                out.push(at);
            }
        }
        ReleaseProcess::Batches { schedule, per_release } => {
            let mut after = from.0.saturating_sub(1);
            while let Some(fire) = schedule.next_after(after) {
                if fire >= until.0 {
                    break;
                }
                let count = match *per_release {
                    BatchSize::Poisson(mean) => rng.poisson(mean),
                    BatchSize::Exact(n) => n as u64,
                };
                if count > room.saturating_sub(out.len() as u64) {
                    return None;
                }
                out.extend(std::iter::repeat_n(SimTime(fire), count as usize));
                after = fire;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Os, PatchDef};

    fn explicit(id: &str, package: &str, day: i64, supersedes: &[&str]) -> PatchDef {
        PatchDef {
            id: id.into(),
            package: package.into(),
            product: None,
            properties: PatchProperties { classification: Some("Security".into()), ..Default::default() },
            released: SimTime(day * 86_400),
            dates: Default::default(),
            cves: vec![],
            reboot_required: false,
            download_mb: 1.0,
            install_duration: SimDuration(10),
            supersedes: supersedes.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn def(patches: Vec<PatchDef>, generator: Option<GeneratorDef>) -> CatalogDef {
        CatalogDef {
            os: Os::AmazonLinux2023,
            products: vec!["AmazonLinux2023".into()],
            packages: 50,
            core_packages: 5,
            patches,
            generator,
        }
    }

    #[test]
    fn explicit_patches_are_ordered_by_release_and_linked_by_supersedence() {
        let catalog = build(
            &def(vec![explicit("B", "openssl", 5, &["A"]), explicit("A", "openssl", 1, &[])], None),
            0,
            1,
            SimTime(0),
            SimTime(86_400 * 30),
        )
        .unwrap();
        assert_eq!(catalog.patches[0].id, "A");
        assert_eq!(catalog.patches[1].supersedes, vec![0]);
        assert_eq!(catalog.patches[0].superseded_by, Some(1));
        assert!(catalog.patches[0].security);
        assert_eq!(catalog.package_names[catalog.patches[0].package as usize], "openssl");
    }

    #[test]
    fn a_patch_cannot_supersede_a_later_or_unknown_patch() {
        let error = build(
            &def(vec![explicit("A", "x", 1, &["B"]), explicit("B", "x", 5, &[])], None),
            0,
            1,
            SimTime(0),
            SimTime(86_400 * 30),
        )
        .unwrap_err();
        assert!(error.contains("supersedes `B`"), "{error}");
    }

    #[test]
    fn a_poisson_stream_releases_about_the_requested_rate_inside_the_period() {
        let generator = GeneratorDef {
            backlog: SimDuration::days(70),
            id_prefix: "ALAS-".into(),
            streams: vec![StreamDef {
                properties: PatchProperties::default(),
                package: None,
                process: ReleaseProcess::Poisson { per_week: 10.0 },
                reboot_share: 0.0,
                download_mb: (1.0, 2.0),
                install_duration: (SimDuration(5), SimDuration(9)),
                supersede_previous: true,
            }],
        };
        let start = SimTime(86_400 * 100);
        let end = start + SimDuration::days(70);
        let catalog = build(&def(vec![], Some(generator)), 0, 7, start, end).unwrap();
        // 20 weeks at 10 a week: 200 expected, standard deviation about 14.
        assert!((140..260).contains(&catalog.len()), "{}", catalog.len());
        assert!(catalog.patches.iter().all(|p| p.released >= start - SimDuration::days(70) && p.released < end));
        assert!(catalog.patches.windows(2).all(|w| w[0].released <= w[1].released));
        assert_eq!(catalog.patches[0].id, "ALAS-00001");
        assert!(catalog.patches.iter().all(|p| (5..=9).contains(&p.install_duration.0)));
        // Every superseded patch is an earlier patch of the same package.
        for (index, patch) in catalog.patches.iter().enumerate() {
            for older in &patch.supersedes {
                assert!((*older as usize) < index);
                assert_eq!(catalog.patches[*older as usize].package, patch.package);
            }
        }
    }

    #[test]
    fn a_stream_that_would_overfill_the_catalog_is_an_error_not_an_allocation() {
        // A saturated draw (the mean far above any catalog) used to ask for a vector of
        // u64::MAX entries; now the generator stops at the catalog's limit.
        let schedule = crate::schedule::WindowSchedule::new(
            crate::schedule::ScheduleExpr::parse("rate(1 day)").unwrap(),
            "UTC",
            None,
            None,
            None,
            0,
        )
        .unwrap();
        for process in [
            ReleaseProcess::Batches { schedule: Box::new(schedule), per_release: BatchSize::Poisson(1e308) },
            ReleaseProcess::Poisson { per_week: 1e12 },
        ] {
            let generator = GeneratorDef {
                backlog: SimDuration(0),
                id_prefix: "X-".into(),
                streams: vec![StreamDef {
                    properties: PatchProperties::default(),
                    package: None,
                    process,
                    reboot_share: 0.0,
                    download_mb: (1.0, 1.0),
                    install_duration: (SimDuration(5), SimDuration(5)),
                    supersede_previous: false,
                }],
            };
            let error = build(&def(vec![], Some(generator)), 0, 1, SimTime(0), SimTime(86_400 * 3)).unwrap_err();
            assert!(error.contains("more than 1000000 patches"), "{error}");
        }
    }
}
