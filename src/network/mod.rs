//! Connectivity and repositories: locations (availability zones, subnets, on-premises
//! sites), the links from each location to the SSM endpoint and to each repository, the
//! scheduled and random partitions that cut those links, and the repositories' shared
//! bandwidth.
//!
//! Links are precomputed: for every (location, destination) the list of intervals when it is
//! down, from scheduled partitions and from random failures drawn from the link's own
//! stream (exponential times between failures and to repair). Queries are then pure
//! functions of time, and the run schedules an event at each transition that matters.

pub mod repository;

use crate::catalog::Os;
use crate::rng::{Purpose, Stream};
use crate::time::{SimDuration, SimTime};

/// Destination 0 is the SSM endpoint; destination `r + 1` is repository `r`.
pub const SSM: usize = 0;

#[derive(Clone, Debug)]
pub struct LocationDef {
    pub name: String,
    /// Mean time between failures and to repair of each of its links, if they fail at random.
    pub random_failures: Option<(SimDuration, SimDuration)>,
}

#[derive(Clone, Debug)]
pub struct RepositoryDef {
    pub name: String,
    pub serves: Vec<Os>,
    pub bandwidth_mbps: f64,
    pub max_connections: u32,
}

#[derive(Clone, Debug)]
pub struct PartitionDef {
    pub start: SimTime,
    pub end: SimTime,
    pub locations: Vec<usize>,
    /// Destination indices (see [`SSM`]).
    pub destinations: Vec<usize>,
}

/// The validated network of a scenario.
#[derive(Clone, Debug, Default)]
pub struct NetworkDef {
    pub locations: Vec<LocationDef>,
    pub repositories: Vec<RepositoryDef>,
    pub partitions: Vec<PartitionDef>,
}

impl NetworkDef {
    pub fn destinations(&self) -> usize {
        1 + self.repositories.len()
    }

    /// The repository serving an operating system, if the scenario defines one.
    pub fn repository_for(&self, os: Os) -> Option<usize> {
        self.repositories.iter().position(|r| r.serves.contains(&os))
    }

    pub fn destination_name(&self, destination: usize) -> &str {
        if destination == SSM { "ssm" } else { &self.repositories[destination - 1].name }
    }
}

/// When each link is down.
#[derive(Clone, Debug, Default)]
pub struct Links {
    destinations: usize,
    /// Per `location * destinations + destination`: sorted, disjoint `[start, end)`.
    down: Vec<Vec<(SimTime, SimTime)>>,
}

impl Links {
    pub fn build(def: &NetworkDef, seed: u64, start: SimTime, end: SimTime) -> Links {
        let destinations = def.destinations();
        let mut down: Vec<Vec<(SimTime, SimTime)>> = vec![Vec::new(); def.locations.len() * destinations];
        for partition in &def.partitions {
            for &location in &partition.locations {
                for &destination in &partition.destinations {
                    down[location * destinations + destination].push((partition.start, partition.end));
                }
            }
        }
        for (location, def) in def.locations.iter().enumerate() {
            let Some((mtbf, mttr)) = def.random_failures else { continue };
            for destination in 0..destinations {
                let link = location * destinations + destination;
                let mut rng = Stream::new(seed, link as u64, Purpose::Network);
                let mut t = start.0 as f64;
                loop {
                    t += rng.exponential(mtbf.0 as f64);
                    if t >= end.0 as f64 {
                        break;
                    }
                    let repair = rng.exponential(mttr.0 as f64).max(1.0);
                    let from = SimTime(t.floor() as i64);
                    down[link].push((from, SimTime((t + repair).ceil() as i64)));
                    t += repair;
                }
            }
        }
        for intervals in &mut down {
            intervals.sort();
            let mut merged: Vec<(SimTime, SimTime)> = Vec::with_capacity(intervals.len());
            for &(from, to) in intervals.iter() {
                match merged.last_mut() {
                    Some(last) if from <= last.1 => last.1 = last.1.max(to),
                    _ => merged.push((from, to)),
                }
            }
            *intervals = merged;
        }
        Links { destinations, down }
    }

    fn intervals(&self, location: Option<usize>, destination: usize) -> &[(SimTime, SimTime)] {
        match location {
            Some(location) => &self.down[location * self.destinations + destination],
            None => &[],
        }
    }

    /// The down interval containing `t`, if any.
    fn covering(&self, location: Option<usize>, destination: usize, t: SimTime) -> Option<(SimTime, SimTime)> {
        let intervals = self.intervals(location, destination);
        let index = intervals.partition_point(|(from, _)| *from <= t);
        index.checked_sub(1).map(|i| intervals[i]).filter(|(_, to)| t < *to)
    }

    pub fn up(&self, location: Option<usize>, destination: usize, t: SimTime) -> bool {
        self.covering(location, destination, t).is_none()
    }

    /// When a link that is down at `t` is up again.
    pub fn back(&self, location: Option<usize>, destination: usize, t: SimTime) -> Option<SimTime> {
        self.covering(location, destination, t).map(|(_, to)| to)
    }

    /// Since when a link that is down at `t` has been down.
    pub fn down_since(&self, location: Option<usize>, destination: usize, t: SimTime) -> Option<SimTime> {
        self.covering(location, destination, t).map(|(from, _)| from)
    }

    /// Every instant a link goes down: (instant, location, destination), in time order.
    pub fn cuts(&self) -> Vec<(SimTime, usize, usize)> {
        let mut out = Vec::new();
        for (link, intervals) in self.down.iter().enumerate() {
            for (from, _) in intervals {
                out.push((*from, link / self.destinations, link % self.destinations));
            }
        }
        out.sort();
        out
    }

    /// Total time each destination was unreachable from each location, for the summary.
    pub fn downtime(&self, location: usize, destination: usize, start: SimTime, end: SimTime) -> SimDuration {
        let total: i64 = self
            .intervals(Some(location), destination)
            .iter()
            .map(|(from, to)| (to.min(&end).0 - from.max(&start).0).max(0))
            .sum();
        SimDuration(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(random: Option<(SimDuration, SimDuration)>) -> NetworkDef {
        NetworkDef {
            locations: vec![
                LocationDef { name: "az-a".into(), random_failures: random },
                LocationDef { name: "az-b".into(), random_failures: None },
            ],
            repositories: vec![RepositoryDef {
                name: "mirror".into(),
                serves: vec![Os::AmazonLinux2023],
                bandwidth_mbps: 1_000.0,
                max_connections: 100,
            }],
            partitions: vec![
                PartitionDef { start: SimTime(100), end: SimTime(200), locations: vec![0], destinations: vec![SSM] },
                PartitionDef { start: SimTime(150), end: SimTime(300), locations: vec![0], destinations: vec![SSM, 1] },
            ],
        }
    }

    #[test]
    fn scheduled_partitions_cut_exactly_their_links_and_overlaps_merge() {
        let links = Links::build(&network(None), 1, SimTime(0), SimTime(1_000));
        assert!(links.up(Some(0), SSM, SimTime(99)));
        assert!(!links.up(Some(0), SSM, SimTime(100)));
        assert_eq!(links.back(Some(0), SSM, SimTime(120)), Some(SimTime(300)), "the overlapping cuts merge");
        assert_eq!(links.down_since(Some(0), SSM, SimTime(250)), Some(SimTime(100)));
        assert!(links.up(Some(0), SSM, SimTime(300)));
        assert!(links.up(Some(0), 1, SimTime(149)) && !links.up(Some(0), 1, SimTime(150)));
        assert!(links.up(Some(1), SSM, SimTime(150)), "another location is not cut");
        assert!(links.up(None, SSM, SimTime(150)), "no location: always connected");
        assert_eq!(links.cuts(), vec![(SimTime(100), 0, SSM), (SimTime(150), 0, 1)]);
        assert_eq!(links.downtime(0, SSM, SimTime(0), SimTime(1_000)), SimDuration(200));
    }

    #[test]
    fn random_failures_follow_their_means_roughly_and_repeat_with_the_seed() {
        let random = Some((SimDuration::days(2), SimDuration::hours(4)));
        let year = SimTime(365 * 86_400);
        let links = Links::build(&network(random), 7, SimTime(0), year);
        let again = Links::build(&network(random), 7, SimTime(0), year);
        assert_eq!(links.down, again.down);
        // About 4h of every ~52h down: 7.7% of a year, on each of the two links of az-a.
        let share = links.downtime(0, 1, SimTime(0), year).0 as f64 / year.0 as f64;
        assert!((0.05..0.11).contains(&share), "{share}");
        let other_seed = Links::build(&network(random), 8, SimTime(0), year);
        assert_ne!(links.down, other_seed.down);
    }
}
