//! An optional record of every download requested from a shared repository, for
//! `patchfleet load`, which replays one window execution's downloads as real HTTP traffic.
//! Off by default ([`Sim::download_log`](super::Sim) is `None`); when on, it only observes:
//! nothing in the run reads it back.

use std::collections::HashMap;

use crate::network::repository::DownloadId;
use crate::time::SimTime;

/// One download as the simulation requested it.
#[derive(Clone, Debug, PartialEq)]
pub struct DownloadRequest {
    /// Index into the scenario's repositories.
    pub repository: u16,
    /// The execution of the invocation (`execution` in windows.csv and associations.csv).
    pub execution: u32,
    pub instance: u32,
    /// The catalog of the instance's OS; `patches` index into it.
    pub catalog: u16,
    /// The patches this download fetches, in catalog order.
    pub patches: Vec<u32>,
    pub megabytes: f64,
    pub requested_at: SimTime,
    /// When the model says the download completed; `None` if it never did (a link cut, an
    /// instance that went away, or the end of the run).
    pub finished_at: Option<SimTime>,
}

/// The downloads of a run, in request order.
#[derive(Clone, Debug, Default)]
pub struct DownloadLog {
    pub requests: Vec<DownloadRequest>,
    /// (repository, download id) to the position in `requests`.
    index: HashMap<(u16, u64), usize>,
}

impl DownloadLog {
    pub(crate) fn requested(&mut self, id: DownloadId, request: DownloadRequest) {
        self.index.insert((request.repository, id.0), self.requests.len());
        self.requests.push(request);
    }

    pub(crate) fn finished(&mut self, repository: usize, id: DownloadId, at: SimTime) {
        if let Some(&position) = self.index.get(&(repository as u16, id.0)) {
            self.requests[position].finished_at = Some(at);
        }
    }
}
