//! Means, standard deviations and Student's t intervals, alone and paired by seed.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;

/// What a set of values says about their mean.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// Values that took part.
    pub n: usize,
    /// Runs that gave no value (left out of the mean).
    pub missing: usize,
    pub mean: Option<f64>,
    /// Sample standard deviation (n - 1 in the denominator); needs two values.
    pub sd: Option<f64>,
    /// The 95% interval of the mean, mean ± t(0.975, n - 1) · sd / √n; needs two values.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

/// The two-sided 95% quantile of Student's t with `df` degrees of freedom.
pub fn t_quantile(df: usize) -> f64 {
    let t = StudentsT::new(0.0, 1.0, df as f64).expect("df is at least 1, scale 1");
    t.inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0)
}

/// The estimate over the values present, in the order given (sums are order-dependent in
/// floating point, so callers pass seed order).
pub fn estimate(values: &[Option<f64>]) -> Estimate {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let n = present.len();
    let missing = values.len() - n;
    if n == 0 {
        return Estimate { n, missing, mean: None, sd: None, ci_low: None, ci_high: None };
    }
    let mean = present.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Estimate { n, missing, mean: Some(mean), sd: None, ci_low: None, ci_high: None };
    }
    let variance = present.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
    let sd = variance.sqrt();
    let half = t_quantile(n - 1) * sd / (n as f64).sqrt();
    Estimate { n, missing, mean: Some(mean), sd: Some(sd), ci_low: Some(mean - half), ci_high: Some(mean + half) }
}

/// The estimate of `variant - reference` over the seeds where both have a value; a seed
/// where either is missing counts as missing.
pub fn paired(variant: &[Option<f64>], reference: &[Option<f64>]) -> Estimate {
    let differences: Vec<Option<f64>> = variant.iter().zip(reference).map(|(v, r)| Some((*v)? - (*r)?)).collect();
    estimate(&differences)
}

impl Estimate {
    /// Whether the interval lies wholly above or wholly below zero.
    pub fn excludes_zero(&self) -> Option<bool> {
        Some(self.ci_low? > 0.0 || self.ci_high? < 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Printed tables of Student's t, two-sided 95%.
        assert!((t_quantile(1) - 12.706).abs() < 1e-3);
        assert!((t_quantile(4) - 2.776).abs() < 1e-3);
        assert!((t_quantile(30) - 2.042).abs() < 1e-3);
    }

    #[test]
    fn an_estimate_by_hand() {
        // 2, 4, 6: mean 4, sd 2, half-width 4.303 * 2 / sqrt(3) = 4.968.
        let e = estimate(&[Some(2.0), None, Some(4.0), Some(6.0)]);
        assert_eq!((e.n, e.missing, e.mean, e.sd), (3, 1, Some(4.0), Some(2.0)));
        assert!((e.ci_low.unwrap() - (4.0 - 4.968)).abs() < 1e-3);
        assert!((e.ci_high.unwrap() - (4.0 + 4.968)).abs() < 1e-3);
        let one = estimate(&[Some(1.0)]);
        assert_eq!((one.mean, one.sd, one.ci_low), (Some(1.0), None, None));
    }

    #[test]
    fn paired_differences_skip_seeds_missing_on_either_side() {
        let d = paired(&[Some(5.0), Some(7.0), None, Some(9.0)], &[Some(4.0), Some(5.0), Some(1.0), None]);
        // Differences 1 and 2: mean 1.5, sd 0.7071, half-width 12.706 * 0.7071 / sqrt(2) = 6.353.
        assert_eq!((d.n, d.missing, d.mean), (2, 2, Some(1.5)));
        assert!((d.ci_high.unwrap() - 7.853).abs() < 1e-3);
        assert_eq!(d.excludes_zero(), Some(false));
    }
}
