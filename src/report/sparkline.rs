//! One-line Unicode sparklines of a share (0 to 1) over time, for the stdout summary.

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// `values` (shares in time order, equally spaced) in `width` characters or fewer: each
/// character is the mean of its bucket of samples, from ▁ (0) to █ (1).
pub fn sparkline(values: &[f64], width: usize) -> String {
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let buckets = width.min(values.len());
    (0..buckets)
        .map(|b| {
            let from = b * values.len() / buckets;
            let to = ((b + 1) * values.len() / buckets).max(from + 1);
            let mean = values[from..to].iter().sum::<f64>() / (to - from) as f64;
            let level = (mean.clamp(0.0, 1.0) * (BARS.len() - 1) as f64).round() as usize;
            BARS[level]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_map_to_bars_from_lowest_to_full() {
        assert_eq!(sparkline(&[0.0, 0.5, 1.0], 10), "▁▅█");
        assert_eq!(sparkline(&[], 10), "");
    }

    #[test]
    fn long_series_are_averaged_into_buckets() {
        // Eight samples into four characters: pairs (0, 0), (1, 1), (0, 1), (1, 1).
        let values = [0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0];
        assert_eq!(sparkline(&values, 4), "▁█▅█");
    }
}
