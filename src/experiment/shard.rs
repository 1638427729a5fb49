//! Which runs of an experiment one process runs: shard `I` of `N` runs every run whose
//! index leaves `I` when divided by `N`, so each shard gets a slice of every variant and the
//! shards' shares differ by at most one run. The rule depends on nothing but the run's
//! index, so any machine computes the same split.

use std::fmt;

/// Shard `index` of `count` (0-based, as Slurm array tasks and Kubernetes Indexed Jobs count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// More shards than this are refused: a job array that large would be a mistake, and each
/// shard costs a directory.
pub const MAX_SHARDS: usize = 100_000;

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// `index` of `count`, checked: `what` names where the two numbers came from.
    pub fn new(index: usize, count: usize, what: &str) -> Result<Shard, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("{what}: the shard count must be 1 to {MAX_SHARDS}, not {count}"));
        }
        if index >= count {
            let last = count - 1;
            return Err(format!(
                "{what}: shard index {index} is out of range for {count} shards (indices are 0-based: 0/{count} to {last}/{count})"
            ));
        }
        Ok(Shard { index, count })
    }

    /// `I/N` as given to `--shard`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let what = format!("--shard {text}");
        let (index, count) = text.split_once('/').ok_or_else(|| format!("{what}: write INDEX/COUNT, e.g. 0/4"))?;
        let number = |part: &str, name: &str| {
            part.trim().parse::<usize>().map_err(|_| format!("{what}: the {name} `{part}` is not a whole number"))
        };
        Shard::new(number(index, "index")?, number(count, "count")?, &what)
    }

    /// The shard a job scheduler assigned through the environment (`lookup` reads a
    /// variable), or `None` outside a job array:
    /// - a Slurm job array task: index `SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN` (MIN
    ///   taken as 0 when unset) of `SLURM_ARRAY_TASK_COUNT`; the array must be contiguous
    ///   (`SLURM_ARRAY_TASK_MAX - MIN + 1 = COUNT` when MAX is set), or every task refuses;
    /// - a Kubernetes Indexed Job: index `JOB_COMPLETION_INDEX` of `shard_count`
    ///   (`--shard-count`), which Kubernetes does not pass to the pod.
    ///
    /// `shard_count` without a scheduler's index is an error, as is an index without a count.
    pub fn from_env(
        lookup: impl Fn(&str) -> Option<String>,
        shard_count: Option<usize>,
    ) -> Result<Option<Shard>, String> {
        let read = |name: &str| -> Result<Option<usize>, String> {
            match lookup(name) {
                None => Ok(None),
                Some(value) => {
                    value.trim().parse::<usize>().map(Some).map_err(|_| format!("{name}={value}: not a whole number"))
                }
            }
        };
        if let Some(id) = read("SLURM_ARRAY_TASK_ID")? {
            let count = read("SLURM_ARRAY_TASK_COUNT")?
                .ok_or("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: is this Slurm 17.11 or later?")?;
            if let Some(given) = shard_count.filter(|&n| n != count) {
                return Err(format!("--shard-count {given} disagrees with SLURM_ARRAY_TASK_COUNT={count}"));
            }
            let min = read("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let what = format!(
                "the Slurm job array (task {id}, first task {min}, {count} tasks; the array must be contiguous, e.g. --array=0-{})",
                count.saturating_sub(1)
            );
            // A step (0-6:2) or a list (0,3,7) leaves gaps: the last task is then further than
            // COUNT - 1 from the first, and every task refuses, not only those past the count.
            if let Some(max) = read("SLURM_ARRAY_TASK_MAX")?
                && max.checked_sub(min).and_then(|span| span.checked_add(1)) != Some(count)
            {
                return Err(format!("{what}: tasks {min} to {max} are not {count} consecutive indices"));
            }
            let index = id
                .checked_sub(min)
                .ok_or_else(|| format!("SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"))?;
            return Shard::new(index, count, &what).map(Some);
        }
        if let Some(index) = read("JOB_COMPLETION_INDEX")? {
            let count = shard_count.ok_or(
                "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): give the job's completions as --shard-count N",
            )?;
            return Shard::new(index, count, &format!("JOB_COMPLETION_INDEX={index} with --shard-count {count}"))
                .map(Some);
        }
        match shard_count {
            Some(count) => Err(format!(
                "--shard-count {count} needs a shard index: --shard I/{count}, or run inside a Slurm job array or a Kubernetes Indexed Job"
            )),
            None => Ok(None),
        }
    }

    /// Whether run `run` belongs to this shard.
    pub fn owns(&self, run: usize) -> bool {
        run % self.count == self.index
    }

    /// The runs of this shard among `total`, in run order.
    pub fn runs(&self, total: usize) -> Vec<usize> {
        (self.index..total).step_by(self.count).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn shard_flag_is_zero_based_index_over_count() {
        assert_eq!(Shard::parse("0/4"), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(Shard::parse("3/4"), Ok(Shard { index: 3, count: 4 }));
        let error = Shard::parse("4/4").unwrap_err();
        assert!(error.contains("out of range") && error.contains("0/4 to 3/4"), "{error}");
        assert!(Shard::parse("1/0").unwrap_err().contains("count must be 1"));
        assert!(Shard::parse("a/4").unwrap_err().contains("index `a`"));
        assert!(Shard::parse("2").unwrap_err().contains("INDEX/COUNT"));
    }

    #[test]
    fn every_run_belongs_to_exactly_one_shard() {
        let total = 10;
        let shards: Vec<Vec<usize>> = (0..3).map(|i| Shard { index: i, count: 3 }.runs(total)).collect();
        assert_eq!(shards, vec![vec![0, 3, 6, 9], vec![1, 4, 7], vec![2, 5, 8]]);
        assert_eq!(Shard { index: 4, count: 6 }.runs(3), Vec::<usize>::new());
    }

    #[test]
    fn slurm_array_index_counts_from_the_first_task() {
        let zero = [("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "4"), ("SLURM_ARRAY_TASK_MIN", "0")];
        assert_eq!(Shard::from_env(env(&zero), None), Ok(Some(Shard { index: 2, count: 4 })));
        let one = [("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_COUNT", "4"), ("SLURM_ARRAY_TASK_MIN", "1")];
        assert_eq!(Shard::from_env(env(&one), None), Ok(Some(Shard { index: 3, count: 4 })));
        // --array=0,2,4: three tasks, but task 4 is index 4.
        let gaps = [("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_COUNT", "3"), ("SLURM_ARRAY_TASK_MIN", "0")];
        let error = Shard::from_env(env(&gaps), None).unwrap_err();
        assert!(error.contains("contiguous"), "{error}");
        // --array=0-6:2 as Slurm 22.05 sets it (MIN 0, MAX 6, COUNT 4): task 0 refuses too.
        let step = [
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "6"),
        ];
        let error = Shard::from_env(env(&step), None).unwrap_err();
        assert!(error.contains("tasks 0 to 6 are not 4 consecutive indices"), "{error}");
        let contiguous = [
            ("SLURM_ARRAY_TASK_ID", "16"),
            ("SLURM_ARRAY_TASK_COUNT", "16"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "16"),
        ];
        assert_eq!(Shard::from_env(env(&contiguous), None), Ok(Some(Shard { index: 15, count: 16 })));
        let disagree = [("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_COUNT", "4")];
        assert!(Shard::from_env(env(&disagree), Some(8)).unwrap_err().contains("disagrees"));
    }

    #[test]
    fn kubernetes_index_needs_the_count() {
        let vars = [("JOB_COMPLETION_INDEX", "5")];
        assert_eq!(Shard::from_env(env(&vars), Some(8)), Ok(Some(Shard { index: 5, count: 8 })));
        assert!(Shard::from_env(env(&vars), None).unwrap_err().contains("--shard-count"));
        assert!(Shard::from_env(env(&vars), Some(5)).unwrap_err().contains("out of range"));
        assert!(
            Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "x")]), Some(2)).unwrap_err().contains("not a whole number")
        );
    }

    #[test]
    fn outside_a_job_array_there_is_no_shard() {
        assert_eq!(Shard::from_env(env(&[]), None), Ok(None));
        assert!(Shard::from_env(env(&[]), Some(4)).unwrap_err().contains("needs a shard index"));
    }
}
