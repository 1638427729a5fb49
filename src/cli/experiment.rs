//! `patchfleet experiment FILE` (all runs, or one shard of them) and
//! `patchfleet experiment merge SHARD_DIR...`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use patchfleet::experiment::shard::Shard;
use patchfleet::experiment::{self, Comparison, Experiment, MergeError, OutputError};
use patchfleet::limits::MAX_THREADS;
use patchfleet::report::recover;

use crate::{Failure, progress_hidden, say_recovered};

/// Run every variant of an experiment file with every seed and compare them with 95%
/// intervals; writes experiments/<name>/ (README.md, "Experiments").
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ExperimentArgs {
    #[command(subcommand)]
    command: Option<ExperimentCommand>,
    /// The experiment file (TOML).
    #[arg(required = true)]
    file: Option<PathBuf>,
    /// Runs at once (default: one per core; at most 256). Results do not depend on it.
    #[arg(long)]
    jobs: Option<usize>,
    /// Output directory (default: experiments/<experiment name>, or for a shard
    /// experiments/<name>.shards/<I>-of-<N>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace a non-empty output directory.
    #[arg(long)]
    force: bool,
    /// Run even when the experiment has more than 10,000 runs.
    #[arg(long)]
    yes: bool,
    /// Also write each run's results directory under runs/.
    #[arg(long)]
    keep_runs: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Run only shard I of N (0-based): the runs whose index leaves I when divided by N.
    /// Writes a shard directory for `experiment merge`. Without it, a Slurm job array's
    /// task (SLURM_ARRAY_TASK_ID, _MIN, _COUNT) picks the shard.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// The number of shards when a Kubernetes Indexed Job's JOB_COMPLETION_INDEX picks the
    /// index (the job's `completions`).
    #[arg(long, value_name = "N")]
    shard_count: Option<usize>,
}

#[derive(Subcommand)]
enum ExperimentCommand {
    /// Merge every shard directory of one experiment into the directory an unsharded run
    /// writes, byte for byte.
    Merge {
        /// The shard directories, one per shard, in any order.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Output directory (default: experiments/<experiment name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace a non-empty output directory.
        #[arg(long)]
        force: bool,
    },
}

/// Runs the subcommand.
pub fn main(args: ExperimentArgs) -> Result<(), Failure> {
    match (args.command, &args.file) {
        (Some(ExperimentCommand::Merge { shards, out, force }), _) => merge(&shards, out, force),
        (None, Some(file)) => {
            let shard = pick_shard(args.shard.as_deref(), args.shard_count)?;
            let jobs = jobs(args.jobs)?;
            let options = RunOptions { out: args.out, force: args.force, keep_runs: args.keep_runs, quiet: args.quiet };
            let experiment = experiment::load(file, args.yes).map_err(|problems| {
                Failure::input(format!(
                    "{problems}\nerror: {} is not a valid experiment; nothing was run",
                    file.display()
                ))
            })?;
            match shard {
                Some(shard) => run_shard(&experiment, shard, jobs, options),
                None => run_all(&experiment, jobs, options),
            }
        }
        (None, None) => Err(Failure::input("name an experiment file, or `merge` and shard directories")),
    }
}

struct RunOptions {
    out: Option<PathBuf>,
    force: bool,
    keep_runs: bool,
    quiet: bool,
}

fn pick_shard(flag: Option<&str>, shard_count: Option<usize>) -> Result<Option<Shard>, Failure> {
    match (flag, shard_count) {
        (Some(_), Some(_)) => Err(Failure::input("give --shard I/N or --shard-count N, not both")),
        (Some(text), None) => Shard::parse(text).map(Some).map_err(Failure::input),
        (None, count) => Shard::from_env(|name| std::env::var(name).ok(), count).map_err(Failure::input),
    }
}

fn jobs(jobs: Option<usize>) -> Result<usize, Failure> {
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if !(1..=MAX_THREADS).contains(&jobs) {
        return Err(Failure::input(format!(
            "--jobs {jobs}: give 1 to {MAX_THREADS} (limits::MAX_THREADS); results do not depend on it"
        )));
    }
    Ok(jobs)
}

/// Cleans up after dead processes beside `dir`, and refuses a non-empty `dir` without `force`.
fn prepare(dir: &Path, force: bool) -> Result<(), Failure> {
    let recovered =
        recover(dir).map_err(|e| Failure::input(format!("cannot clean up beside {}: {e}", dir.display())))?;
    say_recovered(&recovered);
    if !force && std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(Failure::input(format!(
            "{} already exists and is not empty; pass --force to replace it",
            dir.display()
        )));
    }
    Ok(())
}

fn bar(quiet: bool, total: usize) -> ProgressBar {
    if progress_hidden(quiet) {
        return ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr_with_hz(8));
    bar.set_style(
        ProgressStyle::with_template("{spinner} runs {pos}/{len} [{bar:30}] ETA {eta}  last: {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

fn run_failure(error: OutputError) -> Failure {
    match error {
        OutputError::Run(message) => Failure { code: 1, message },
        OutputError::Write(error) => Failure::input(error.to_string()),
    }
}

fn run_all(experiment: &Experiment, jobs: usize, options: RunOptions) -> Result<(), Failure> {
    let dir = options.out.unwrap_or_else(|| PathBuf::from("experiments").join(&experiment.name));
    prepare(&dir, options.force)?;
    let bar = bar(options.quiet, experiment.runs());
    let outcome = experiment::write_outputs(&dir, options.force, experiment, jobs, options.keep_runs, |done, label| {
        bar.set_position(done as u64);
        bar.set_message(label.to_string());
    });
    bar.finish_and_clear();
    let (comparison, written) = outcome.map_err(run_failure)?;
    say_recovered(&written);
    report(&comparison, &dir)
}

fn run_shard(experiment: &Experiment, shard: Shard, jobs: usize, options: RunOptions) -> Result<(), Failure> {
    let dir = options.out.unwrap_or_else(|| {
        PathBuf::from("experiments")
            .join(format!("{}.shards", experiment.name))
            .join(format!("{}-of-{}", shard.index, shard.count))
    });
    prepare(&dir, options.force)?;
    let runs = shard.runs(experiment.runs()).len();
    let bar = bar(options.quiet, runs);
    let outcome =
        experiment::write_shard(&dir, options.force, experiment, shard, jobs, options.keep_runs, |done, label| {
            bar.set_position(done as u64);
            bar.set_message(label.to_string());
        });
    bar.finish_and_clear();
    let (_, written) = outcome.map_err(run_failure)?;
    say_recovered(&written);
    let _ = writeln!(
        std::io::stdout().lock(),
        "experiment {}: shard {shard} ran {runs} of {} runs\nshard: {}\nmerge every shard with: patchfleet experiment merge SHARD_DIR...",
        experiment.name,
        experiment.runs(),
        dir.display()
    );
    Ok(())
}

fn merge(shards: &[PathBuf], out: Option<PathBuf>, force: bool) -> Result<(), Failure> {
    if let Some(dir) = &out {
        prepare(dir, force)?;
    }
    let (_, comparison, written, dir) =
        experiment::merge(shards, out.as_deref(), force).map_err(|error| match error {
            MergeError::Shards(message) => Failure::input(format!("{message}\nerror: nothing was merged")),
            MergeError::Write(error) => Failure::input(error.to_string()),
        })?;
    say_recovered(&written);
    report(&comparison, &dir)
}

/// The comparison table on stdout; exit 99 when a threshold failed.
fn report(comparison: &Comparison, dir: &Path) -> Result<(), Failure> {
    let table = experiment::comparison_table(comparison);
    let _ = writeln!(std::io::stdout().lock(), "{table}\nexperiment: {}", dir.display());
    let failed = comparison.thresholds.iter().filter(|t| !t.passed).count();
    if failed > 0 {
        let message = format!("{failed} of {} thresholds failed", comparison.thresholds.len());
        return Err(Failure { code: 99, message });
    }
    Ok(())
}
