//! A package repository (or mirror) serving patch downloads: a fluid, processor-sharing model.
//!
//! The repository has a total bandwidth `B` (megabits per second) and a cap `C` on concurrent
//! connections. Active downloads share `B` by max-min fairness (water-filling): each download is
//! also limited by its client's link; a download whose client limit is below the fair share gets
//! its client limit and the rest of the bandwidth is shared among the others. Requests beyond `C`
//! wait in a FIFO queue and start, in request order, as connections free up.
//!
//! Progress is continuous: between API calls the model runs on an `f64` clock measured in seconds
//! past the last integer instant it was advanced to, so internal events (a download finishing, a
//! queued one starting, rates changing) happen at exact fractional instants. Only the instants
//! *reported* to the caller are whole seconds, always rounded **up** from the exact fluid instant
//! so that a download is never reported as finished (or started) early.
//!
//! Determinism: no hash maps, no wall clock; every tie is broken by [`DownloadId`], and ids are
//! handed out in request order.

use std::collections::VecDeque;

use crate::time::SimTime;

/// A download whose remaining amount is at most this many megabits counts as finished; it
/// absorbs floating-point residue so that a download due at an integer second is not left with a
/// few nano-megabits outstanding.
pub const EPSILON_MEGABITS: f64 = 1e-6;

/// Relative slack for the rate invariants (sums of shares may exceed `B` by rounding).
const RATE_TOLERANCE: f64 = 1e-9;

/// Identifies one download request. Ids are assigned in request order, starting at 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DownloadId(pub u64);

/// A finished download, as reported by [`Repository::advance`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Completed {
    pub id: DownloadId,
    /// The caller's tag given at request time (e.g. an instance id).
    pub tag: u64,
    pub requested_at: SimTime,
    /// When it got a connection: the request instant, or (if it queued) the ceiling of the
    /// exact instant a connection freed up.
    pub started_at: SimTime,
    /// Ceiling of the exact fluid finish instant.
    pub finished_at: SimTime,
}

/// A download holding a connection.
#[derive(Clone, Debug)]
struct Active {
    id: DownloadId,
    tag: u64,
    requested_at: SimTime,
    started_at: SimTime,
    /// Size in megabits.
    size: f64,
    /// Megabits still to deliver; never negative.
    remaining: f64,
    /// Client link limit in megabits per second.
    client: f64,
    /// Current rate in megabits per second (set by water-filling).
    rate: f64,
}

/// A request waiting for a connection.
#[derive(Clone, Debug)]
struct Waiting {
    id: DownloadId,
    tag: u64,
    requested_at: SimTime,
    size: f64,
    client: f64,
}

/// The repository model. See the module documentation.
#[derive(Clone, Debug)]
pub struct Repository {
    bandwidth: f64,
    max_connections: u32,
    /// The last whole second the model was advanced to.
    base: i64,
    /// Seconds past `base` of the fluid clock; non-zero only while a call is running.
    offset: f64,
    /// Downloads holding a connection, sorted by (client limit, id) for water-filling.
    active: Vec<Active>,
    /// Waiting requests in request order (hence increasing id).
    queue: VecDeque<Waiting>,
    /// Completions found but not yet returned by `advance`.
    pending: Vec<Completed>,
    next_id: u64,
    version: u64,
    total_rate: f64,
    delivered: f64,
}

impl Repository {
    /// A repository with `bandwidth_mbps` megabits per second in total and at most
    /// `max_connections` concurrent downloads. Both must be positive (the caller validates).
    pub fn new(bandwidth_mbps: f64, max_connections: u32) -> Repository {
        debug_assert!(bandwidth_mbps > 0.0 && bandwidth_mbps.is_finite());
        debug_assert!(max_connections > 0);
        Repository {
            bandwidth: bandwidth_mbps,
            max_connections,
            base: i64::MIN,
            offset: 0.0,
            active: Vec::new(),
            queue: VecDeque::new(),
            pending: Vec::new(),
            next_id: 0,
            version: 0,
            total_rate: 0.0,
            delivered: 0.0,
        }
    }

    /// A download of `megabytes` MB (8 megabits each) by a client limited to `client_mbps`
    /// (may be `f64::INFINITY` for "unlimited"), requested at `now`. `tag` is the caller's.
    ///
    /// The model is first advanced to `now`; any downloads that finish on the way are kept and
    /// returned by the next [`advance`](Self::advance). A zero-size download completes at `now`
    /// without taking a connection (it too is returned by the next `advance`).
    ///
    /// # Panics
    /// If `megabytes` is negative or not finite, or `client_mbps` is not positive. Scenario
    /// input cannot cause either: validation bounds every patch size by
    /// `limits::MAX_DOWNLOAD_MB` and every bandwidth below by `limits::MIN_BANDWIDTH_MBPS`,
    /// so a sum of sizes over a catalog (at most a million patches) stays finite.
    pub fn request(&mut self, now: SimTime, megabytes: f64, client_mbps: f64, tag: u64) -> DownloadId {
        assert!(
            megabytes.is_finite() && megabytes >= 0.0,
            "download size must be finite and non-negative, got {megabytes}"
        );
        assert!(client_mbps > 0.0, "client limit must be positive, got {client_mbps}");
        self.run_until(now);
        let id = DownloadId(self.next_id);
        self.next_id += 1;
        self.version += 1;
        let now = SimTime(self.base);
        let size = megabytes * 8.0;
        if size == 0.0 {
            self.version += 1; // the completion
            self.pending.push(Completed { id, tag, requested_at: now, started_at: now, finished_at: now });
        } else if self.active.len() < self.max_connections as usize {
            self.insert_active(Active {
                id,
                tag,
                requested_at: now,
                started_at: now,
                size,
                remaining: size,
                client: client_mbps,
                rate: 0.0,
            });
            self.recompute_rates();
        } else {
            self.queue.push_back(Waiting { id, tag, requested_at: now, size, client: client_mbps });
        }
        self.debug_check();
        id
    }

    /// Removes a download, active or queued (its instance went away). The model is first
    /// advanced to `now` (completions found on the way are kept for the next `advance`). No-op
    /// (and no version change) if the id is unknown or the download has already finished.
    /// Megabits already delivered to a cancelled download stay counted in
    /// [`delivered_megabits`](Self::delivered_megabits).
    pub fn cancel(&mut self, now: SimTime, id: DownloadId) {
        self.run_until(now);
        if let Some(pos) = self.active.iter().position(|a| a.id == id) {
            self.active.remove(pos);
            self.version += 1;
            self.promote_waiting();
            self.recompute_rates();
        } else if let Ok(pos) = self.queue.binary_search_by_key(&id, |w| w.id) {
            self.queue.remove(pos);
            self.version += 1;
        }
        self.debug_check();
    }

    /// Advances the fluid model to `now` and returns the downloads finished by then (including
    /// any found during earlier `request`/`cancel` calls), ordered by `finished_at`, then id.
    /// A `now` earlier than the model's clock is treated as the clock (debug builds panic).
    pub fn advance(&mut self, now: SimTime) -> Vec<Completed> {
        self.run_until(now);
        let mut done = std::mem::take(&mut self.pending);
        done.sort_by_key(|c| (c.finished_at, c.id));
        done
    }

    /// When the next active download will finish if nothing changes: the ceiling, in whole
    /// seconds, of the exact fluid instant. If completions are waiting to be collected (found by
    /// `request`/`cancel`, or zero-size downloads) this is the model's current instant, so that
    /// a caller scheduling on it collects them. `None` if idle.
    pub fn next_completion(&self) -> Option<SimTime> {
        if !self.pending.is_empty() {
            return Some(SimTime(self.base));
        }
        let (_, dt) = self.earliest_finish()?;
        Some(SimTime(self.base.saturating_add(ceil_secs(self.offset + dt))))
    }

    /// Increases on every change that may move [`next_completion`](Self::next_completion): each
    /// request, each effective cancel, each completion.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Downloads currently holding a connection.
    pub fn active(&self) -> u32 {
        self.active.len() as u32
    }

    /// Requests waiting for a connection.
    pub fn queued(&self) -> u32 {
        self.queue.len() as u32
    }

    /// Current aggregate rate in megabits per second (sum of the active downloads' rates).
    pub fn throughput_mbps(&self) -> f64 {
        self.total_rate
    }

    /// Megabits delivered since creation, including partial progress of active and cancelled
    /// downloads (for average throughput over a period).
    pub fn delivered_megabits(&self) -> f64 {
        self.delivered
    }

    /// Total bandwidth in megabits per second.
    pub fn bandwidth_mbps(&self) -> f64 {
        self.bandwidth
    }

    /// Cap on concurrent connections.
    pub fn max_connections(&self) -> u32 {
        self.max_connections
    }

    /// Current rate of a download: `Some(0.0)` if queued, `None` if unknown or finished.
    pub fn rate_mbps(&self, id: DownloadId) -> Option<f64> {
        if let Some(a) = self.active.iter().find(|a| a.id == id) {
            return Some(a.rate);
        }
        self.queue.binary_search_by_key(&id, |w| w.id).ok().map(|_| 0.0)
    }

    /// Megabits delivered so far to a download: `Some(0.0)` if queued, `None` if unknown or
    /// finished.
    pub fn progress_megabits(&self, id: DownloadId) -> Option<f64> {
        if let Some(a) = self.active.iter().find(|a| a.id == id) {
            return Some(a.size - a.remaining);
        }
        self.queue.binary_search_by_key(&id, |w| w.id).ok().map(|_| 0.0)
    }

    /// Checks the model's invariants: at most `C` active; a non-empty queue only when all
    /// connections are busy; FIFO (every queued id above every active id, queue in id order);
    /// each rate positive and at most its client limit; the sum of rates at most `B`; max-min
    /// fairness (every download either gets its client limit or the common fair share, and when
    /// any gets the share the whole bandwidth is in use); remaining amounts in `[0, size]`.
    pub fn check_invariants(&self) -> Result<(), String> {
        let tol = |x: f64| x * (1.0 + RATE_TOLERANCE) + RATE_TOLERANCE;
        if self.active.len() > self.max_connections as usize {
            return Err(format!("{} active downloads exceed the cap {}", self.active.len(), self.max_connections));
        }
        if !self.queue.is_empty() && self.active.len() < self.max_connections as usize {
            return Err(format!(
                "{} requests queued while only {} of {} connections are busy",
                self.queue.len(),
                self.active.len(),
                self.max_connections
            ));
        }
        for pair in self.active.windows(2) {
            let order = pair[0].client.total_cmp(&pair[1].client).then(pair[0].id.cmp(&pair[1].id));
            if order != std::cmp::Ordering::Less {
                return Err("active downloads not sorted by (client, id)".into());
            }
        }
        for pair in self.queue.iter().zip(self.queue.iter().skip(1)) {
            if pair.0.id >= pair.1.id {
                return Err("queue not in request order".into());
            }
        }
        if let (Some(max_active), Some(first_queued)) = (self.active.iter().map(|a| a.id).max(), self.queue.front())
            && max_active >= first_queued.id
        {
            return Err(format!("{max_active:?} is active while earlier request {:?} is queued", first_queued.id));
        }
        let mut sum = 0.0;
        let mut share: Option<f64> = None;
        let mut max_limited = 0.0f64;
        for a in &self.active {
            if a.remaining.is_nan() || a.remaining < 0.0 || a.remaining > a.size {
                return Err(format!("{:?} has remaining {} of size {}", a.id, a.remaining, a.size));
            }
            if a.rate.is_nan() || a.rate <= 0.0 || a.rate > tol(a.client) {
                return Err(format!("{:?} has rate {} with client limit {}", a.id, a.rate, a.client));
            }
            if a.rate == a.client {
                max_limited = max_limited.max(a.client);
            } else {
                match share {
                    None => share = Some(a.rate),
                    Some(s) if s != a.rate => {
                        return Err(format!("unequal fair shares {s} and {}", a.rate));
                    }
                    Some(_) => {}
                }
            }
            sum += a.rate;
        }
        if sum > tol(self.bandwidth) {
            return Err(format!("rates sum to {sum}, above the bandwidth {}", self.bandwidth));
        }
        if (sum - self.total_rate).abs() > tol(0.0) + sum * RATE_TOLERANCE {
            return Err(format!("cached throughput {} differs from the sum {sum}", self.total_rate));
        }
        if let Some(s) = share {
            if sum < self.bandwidth * (1.0 - RATE_TOLERANCE) - RATE_TOLERANCE {
                return Err(format!("share-limited downloads but only {sum} of {} in use", self.bandwidth));
            }
            if max_limited > tol(s) {
                return Err(format!("client-limited rate {max_limited} above the fair share {s}"));
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------

    fn debug_check(&self) {
        #[cfg(debug_assertions)]
        if let Err(e) = self.check_invariants() {
            panic!("repository invariant violated: {e}");
        }
    }

    /// Runs the fluid model from its clock to `now`, processing every internal event (finish,
    /// queued start, rate change) in order; completions go to `pending`.
    fn run_until(&mut self, now: SimTime) {
        if self.base == i64::MIN {
            // First call: the clock starts here.
            self.base = now.0;
        }
        debug_assert!(now.0 >= self.base, "repository asked to go back in time: {} < {}", now.0, self.base);
        if now.0 <= self.base {
            return;
        }
        let horizon = (now.0 - self.base) as f64;
        while let Some((idx, dt)) = self.earliest_finish() {
            let event = self.offset + dt;
            if event <= horizon {
                self.progress(dt);
                self.offset = event;
                // The earliest finisher is done exactly at `event`, whatever the residue.
                let residue = self.active[idx].remaining;
                self.active[idx].remaining = 0.0;
                self.delivered += residue;
                let at = SimTime(self.base + ceil_secs(event));
                self.finish_done(at);
            } else {
                let dt = horizon - self.offset;
                self.progress(dt);
                self.offset = horizon;
                if !self.finish_done(now) {
                    break;
                }
            }
        }
        self.base = now.0;
        self.offset = 0.0;
        self.debug_check();
    }

    /// The active download that finishes first at current rates, and how many seconds from the
    /// fluid clock that takes. Ties go to the lowest id.
    fn earliest_finish(&self) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for (i, a) in self.active.iter().enumerate() {
            let dt = a.remaining / a.rate;
            let better = match best {
                None => true,
                Some((j, b)) => dt < b || (dt == b && a.id < self.active[j].id),
            };
            if better {
                best = Some((i, dt));
            }
        }
        best
    }

    /// Moves every active download forward `dt` seconds at its current rate.
    fn progress(&mut self, dt: f64) {
        if dt <= 0.0 {
            return;
        }
        for a in &mut self.active {
            let next = (a.remaining - a.rate * dt).max(0.0);
            self.delivered += a.remaining - next;
            a.remaining = next;
        }
    }

    /// Retires every active download within epsilon of done, reporting it finished at `at`,
    /// then hands freed connections to the queue and recomputes rates. Returns whether any
    /// download finished.
    fn finish_done(&mut self, at: SimTime) -> bool {
        let before = self.active.len();
        let pending = &mut self.pending;
        let delivered = &mut self.delivered;
        self.active.retain(|a| {
            if a.remaining > EPSILON_MEGABITS {
                return true;
            }
            *delivered += a.remaining;
            pending.push(Completed {
                id: a.id,
                tag: a.tag,
                requested_at: a.requested_at,
                started_at: a.started_at,
                finished_at: at,
            });
            false
        });
        let finished = before - self.active.len();
        if finished == 0 {
            return false;
        }
        self.version += finished as u64;
        self.promote_waiting();
        self.recompute_rates();
        true
    }

    /// Starts queued requests, in order, on free connections at the current fluid instant.
    fn promote_waiting(&mut self) {
        let started_at = SimTime(self.base + ceil_secs(self.offset));
        while self.active.len() < self.max_connections as usize {
            let Some(w) = self.queue.pop_front() else {
                break;
            };
            self.insert_active(Active {
                id: w.id,
                tag: w.tag,
                requested_at: w.requested_at,
                started_at,
                size: w.size,
                remaining: w.size,
                client: w.client,
                rate: 0.0,
            });
        }
    }

    fn insert_active(&mut self, a: Active) {
        let pos =
            self.active.binary_search_by(|x| x.client.total_cmp(&a.client).then(x.id.cmp(&a.id))).unwrap_or_else(|p| p);
        self.active.insert(pos, a);
    }

    /// Max-min fair rates by water-filling over the downloads in ascending client limit: while
    /// the smallest remaining limit is at most the equal share of what is left, that download
    /// gets its limit; everyone after gets the (then constant) share. O(n).
    fn recompute_rates(&mut self) {
        let mut left = self.bandwidth;
        let mut n = self.active.len();
        let mut i = 0;
        while i < self.active.len() {
            let share = left / n as f64;
            let a = &mut self.active[i];
            if a.client > share {
                break;
            }
            a.rate = a.client;
            left -= a.client;
            n -= 1;
            i += 1;
        }
        if n > 0 {
            let share = left / n as f64;
            for a in &mut self.active[i..] {
                a.rate = share;
            }
        }
        self.total_rate = self.active.iter().map(|a| a.rate).sum();
    }
}

/// Whole seconds rounded up; saturates for huge or infinite values.
fn ceil_secs(x: f64) -> i64 {
    x.ceil() as i64
}

#[cfg(test)]
#[path = "repository_tests.rs"]
mod tests;
