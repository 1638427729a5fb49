//! Figures computed from a run's samples and patch spreads: time-weighted shares, minima,
//! distributions of time to a level over patches.

use serde::Serialize;

use crate::compliance::GroupCounters;
use crate::sim::{PatchSpread, SPREAD_LEVELS};
use crate::time::SimTime;

/// One view (as reported, or the truth) of a patch group's compliance over the run.
#[derive(Clone, Debug, Serialize)]
pub struct ComplianceFigures {
    /// Compliant share averaged over time: each sample's value holds until the next.
    pub time_weighted_share: f64,
    /// Share of the run's time at or above the scenario's `compliance_target`.
    pub time_above_target: f64,
    pub end: f64,
    /// The lowest sampled share, and when. As reported, counted from the first sample at
    /// which every instance of the group has reported, or from the start if none has (before
    /// it, unreported instances read as non-compliant and the minimum would be the start).
    pub min: f64,
    pub min_at: String,
    /// Per level of [`SPREAD_LEVELS`]: time from each patch's release until that share of
    /// the group's applicable instances had it.
    pub time_to: Vec<TimeToLevel>,
}

/// The distribution over patches of the time from release to a level.
#[derive(Clone, Debug, Serialize)]
pub struct TimeToLevel {
    /// `50pct`, `90pct`, `95pct`, `100pct`.
    pub level: String,
    /// Patches measured: released during the run, approved for the group before the end,
    /// applicable to at least one of its instances.
    pub patches: u64,
    /// Patches that had not reached the level when the run stopped. They count as never
    /// reaching it: a quantile that falls among them is `null`, and so is `max`.
    pub not_reached: u64,
    pub p50_seconds: Option<u64>,
    pub p90_seconds: Option<u64>,
    pub max_seconds: Option<u64>,
}

/// Which share a view reads from the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Reported,
    True,
}

impl View {
    pub fn share(self, counters: &GroupCounters) -> f64 {
        if counters.instances == 0 {
            return 0.0;
        }
        let compliant = match self {
            View::Reported => counters.compliant,
            View::True => counters.true_compliant,
        };
        compliant as f64 / counters.instances as f64
    }
}

/// Rounded to six decimals so that the JSON stays short and stable.
pub fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6 + 0.0
}

/// The time-weighted mean share and the share of time at or above `target`, over samples
/// `(instant, share)` in time order; each value holds until the next sample.
pub fn time_weighted(series: &[(SimTime, f64)], target: f64) -> (f64, f64) {
    let (Some(first), Some(last)) = (series.first(), series.last()) else { return (0.0, 0.0) };
    let total = last.0.since(first.0).0;
    if total <= 0 {
        return (first.1, if first.1 >= target { 1.0 } else { 0.0 });
    }
    let (mut weighted, mut above) = (0.0, 0i64);
    for pair in series.windows(2) {
        let seconds = pair[1].0.since(pair[0].0).0;
        weighted += pair[0].1 * seconds as f64;
        if pair[0].1 >= target {
            above += seconds;
        }
    }
    (weighted / total as f64, above as f64 / total as f64)
}

/// The nearest-rank quantile `q` of `n` values of which `sorted` are known (ascending) and
/// the other `n - sorted.len()` are larger than any (never reached): `None` when it falls
/// among those, or when there are no values.
pub fn quantile_with_missing(sorted: &[u64], n: usize, q: f64) -> Option<u64> {
    if n == 0 {
        return None;
    }
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted.get(rank - 1).copied()
}

/// The distributions of time to each level over `spreads` (every catalog of one group).
pub fn time_to_levels(
    spreads: &[&[PatchSpread]],
    released: &dyn Fn(usize, usize) -> SimTime,
    view: View,
) -> Vec<TimeToLevel> {
    SPREAD_LEVELS
        .iter()
        .enumerate()
        .map(|(slot, percent)| {
            let mut times = Vec::new();
            let mut patches = 0usize;
            for (catalog, spread) in spreads.iter().enumerate() {
                for (patch, s) in spread.iter().enumerate().filter(|(_, s)| s.applicable > 0) {
                    patches += 1;
                    let at = match view {
                        View::Reported => s.installed_at[slot],
                        View::True => s.effective_at[slot],
                    };
                    if let Some(at) = at {
                        times.push(at.since(released(catalog, patch)).0.max(0) as u64);
                    }
                }
            }
            times.sort_unstable();
            TimeToLevel {
                level: format!("{percent}pct"),
                patches: patches as u64,
                not_reached: (patches - times.len()) as u64,
                p50_seconds: quantile_with_missing(&times, patches, 0.5),
                p90_seconds: quantile_with_missing(&times, patches, 0.9),
                max_seconds: quantile_with_missing(&times, patches, 1.0),
            }
        })
        .collect()
}

/// The compliance figures of one view from its sampled series.
pub fn compliance_figures(
    samples: &[(SimTime, Vec<GroupCounters>)],
    group: usize,
    view: View,
    target: f64,
    time_to: Vec<TimeToLevel>,
) -> ComplianceFigures {
    let series: Vec<(SimTime, f64)> = samples.iter().map(|(t, c)| (*t, view.share(&c[group]))).collect();
    let (mean, above) = time_weighted(&series, target);
    let from = match view {
        View::Reported => samples.iter().position(|(_, c)| c[group].unreported == 0).unwrap_or(0),
        View::True => 0,
    };
    let (min_at, min) = series[from.min(series.len().saturating_sub(1))..]
        .iter()
        .fold(None, |best: Option<(SimTime, f64)>, &(t, v)| match best {
            Some((_, b)) if b <= v => best,
            _ => Some((t, v)),
        })
        .unwrap_or((SimTime(0), 0.0));
    ComplianceFigures {
        time_weighted_share: round6(mean),
        time_above_target: round6(above),
        end: round6(series.last().map_or(0.0, |s| s.1)),
        min: round6(min),
        min_at: min_at.to_rfc3339(),
        time_to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sample_holds_until_the_next() {
        // 0.5 for 10 s, 1.0 for 30 s; the last sample only closes the run.
        let series = [(SimTime(0), 0.5), (SimTime(10), 1.0), (SimTime(40), 0.0)];
        let (mean, above) = time_weighted(&series, 0.95);
        assert!((mean - 0.875).abs() < 1e-12, "{mean}");
        assert!((above - 0.75).abs() < 1e-12, "{above}");
    }

    #[test]
    fn quantiles_that_fall_among_unreached_patches_are_none() {
        // Four patches, three reached.
        assert_eq!(quantile_with_missing(&[10, 20, 30], 4, 0.5), Some(20));
        assert_eq!(quantile_with_missing(&[10, 20, 30], 4, 0.75), Some(30));
        assert_eq!(quantile_with_missing(&[10, 20, 30], 4, 0.9), None);
        assert_eq!(quantile_with_missing(&[10, 20, 30], 3, 1.0), Some(30));
        assert_eq!(quantile_with_missing(&[], 0, 0.5), None);
    }
}
