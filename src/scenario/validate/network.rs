//! `[[location]]`, `[[repository]]` and `[[partition]]`: where instances run, the links that
//! fail at random, the repositories they download from, and the planned cuts between them.

use super::{Checker, unique};
use crate::catalog::Os;
use crate::network::{LocationDef, NetworkDef, PartitionDef, RepositoryDef, SSM};
use crate::scenario::schema::{LocationSpec, PartitionSpec, RepositorySpec, ScenarioFile};

pub(super) fn network(c: &mut Checker, file: &ScenarioFile) -> NetworkDef {
    let mut network = NetworkDef::default();
    locations(c, &file.location, &mut network);
    repositories(c, &file.repository, &mut network);
    partitions(c, &file.partition, &mut network);
    network
}

/// Locations and their random link failures.
fn locations(c: &mut Checker, specs: &[LocationSpec], network: &mut NetworkDef) {
    unique(c, "location", specs.iter().map(|l| l.name.as_str()));
    for (index, spec) in specs.iter().enumerate() {
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
        network.locations.push(LocationDef { name: spec.name.clone(), random_failures });
    }
}

fn repositories(c: &mut Checker, specs: &[RepositorySpec], network: &mut NetworkDef) {
    unique(c, "repository", specs.iter().map(|r| r.name.as_str()));
    for (index, spec) in specs.iter().enumerate() {
        let path = format!("repository[{index}]");
        if spec.name == "ssm" || spec.name == "*" {
            c.error(&format!("{path}.name"), "`ssm` and `*` name partition destinations; pick another name");
        }
        c.bandwidth(&format!("{path}.bandwidth_mbps"), spec.bandwidth_mbps);
        if !(1..=crate::limits::MAX_CONNECTIONS).contains(&spec.max_connections) {
            c.error(
                &format!("{path}.max_connections"),
                format!(
                    "{} connections; a repository accepts 1 to {}",
                    spec.max_connections,
                    crate::limits::MAX_CONNECTIONS
                ),
            );
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
        network.repositories.push(RepositoryDef {
            name: spec.name.clone(),
            serves,
            bandwidth_mbps: spec.bandwidth_mbps,
            max_connections: spec.max_connections,
        });
    }
}

fn partitions(c: &mut Checker, specs: &[PartitionSpec], network: &mut NetworkDef) {
    for (index, spec) in specs.iter().enumerate() {
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
        let destinations = destinations(c, &path, &spec.destinations, network);
        if spec.locations.is_empty() || spec.destinations.is_empty() {
            c.error(&path, "a partition names at least one location and one destination");
        }
        network.partitions.push(PartitionDef {
            start: spec.start.0,
            end: spec.start.0 + spec.duration.0,
            locations,
            destinations,
        });
    }
}

/// A partition's destinations (at `{path}.destinations`): `ssm`, repositories, or `*` for all.
fn destinations(c: &mut Checker, path: &str, names: &[String], network: &NetworkDef) -> Vec<usize> {
    let mut destinations = Vec::new();
    for (d, name) in names.iter().enumerate() {
        match name.as_str() {
            "*" => destinations.extend(0..network.destinations()),
            "ssm" => destinations.push(SSM),
            _ => match network.repositories.iter().position(|r| &r.name == name) {
                Some(found) => destinations.push(found + 1),
                None => c.error(
                    &format!("{path}.destinations[{d}]"),
                    format!("unknown destination `{name}`; use `ssm`, a repository name or `*`"),
                ),
            },
        }
    }
    destinations
}

/// The index of the `[[location]]` a group names (at `{path}.location`), if it names one.
pub(super) fn location_index(c: &mut Checker, path: &str, name: Option<&str>, network: &NetworkDef) -> Option<usize> {
    let name = name?;
    let found = network.locations.iter().position(|l| l.name == name);
    if found.is_none() {
        c.error(&format!("{path}.location"), format!("unknown location `{name}`"));
    }
    found
}
