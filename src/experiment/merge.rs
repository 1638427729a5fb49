//! Shard directories and their merge.
//!
//! A shard directory holds what a merge needs and nothing it must trust elsewhere:
//! - `shard.json`: the experiment's name, the patchfleet version, the shard (`index` of
//!   `count`), the number of runs in all, the file names, and the runs it holds;
//! - `experiment.toml` and `base.toml`: the experiment file and the base scenario as run, so
//!   a merge rebuilds the same plan on any machine;
//! - `runs.jsonl`: one line per run in run order, its metric values and curves, with every
//!   number written exactly (shortest round-trip form);
//! - `runs/`, with `--keep-runs`: each run's results directory.
//!
//! A merge checks that the shards are one experiment's (same name, version, files and
//! count), that every index from 0 to count-1 is there once, and that each holds exactly the
//! runs the shard rule gives it; then it writes through the same code as an unsharded run,
//! so the merged directory is the unsharded one, byte for byte.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::define::{Base, Experiment, rebuild};
use super::execute::{RunMetrics, execute};
use super::output::{Comparison, OutputError, compare, write_files};
use super::shard::Shard;
use crate::report::{WriteError, Written, write_staged};

/// The version of a shard directory's files.
pub const SHARD_FORMAT: u32 = 1;

/// `shard.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub shard_format: u32,
    pub experiment: String,
    pub version: String,
    pub shard: usize,
    pub shards: usize,
    pub runs_total: usize,
    /// The experiment file and the base scenario as named when the shard ran.
    pub file: String,
    pub base: String,
    pub runs: Vec<usize>,
}

/// Runs shard `shard` of `experiment` and writes its shard directory `dir` (complete or
/// absent, like a results directory). Returns how many runs it ran.
pub fn write_shard(
    dir: &Path,
    force: bool,
    experiment: &Experiment,
    shard: Shard,
    jobs: usize,
    keep_runs: bool,
    done: impl Fn(usize, &str) + Sync,
) -> Result<(ShardInfo, Written), OutputError> {
    let runs = shard.runs(experiment.runs());
    let info = ShardInfo {
        shard_format: SHARD_FORMAT,
        experiment: experiment.name.clone(),
        version: crate::VERSION.to_string(),
        shard: shard.index,
        shards: shard.count,
        runs_total: experiment.runs(),
        file: experiment.file.clone(),
        base: experiment.base.name.clone(),
        runs: runs.clone(),
    };
    let mut failure = None;
    let written = write_staged(dir, force, |staging| {
        let runs_dir = staging.join("runs");
        let metrics = match execute(experiment, &runs, jobs, keep_runs.then_some(runs_dir.as_path()), &done) {
            Ok(metrics) => metrics,
            Err(message) => {
                failure = Some(message);
                return Err(io::Error::other("a run failed"));
            }
        };
        write_shard_files(staging, experiment, &info, &metrics)
    });
    match (written, failure) {
        (_, Some(message)) => Err(OutputError::Run(message)),
        (Ok(written), None) => Ok((info, written)),
        (Err(error), None) => Err(OutputError::Write(error)),
    }
}

fn write_shard_files(dir: &Path, experiment: &Experiment, info: &ShardInfo, runs: &[RunMetrics]) -> io::Result<()> {
    let mut json = serde_json::to_string_pretty(info).map_err(io::Error::other)?;
    json.push('\n');
    fs::write(dir.join("shard.json"), json)?;
    fs::write(dir.join("experiment.toml"), &experiment.text)?;
    fs::write(dir.join("base.toml"), &experiment.base.text)?;
    let mut lines = String::new();
    for run in runs {
        lines.push_str(&serde_json::to_string(run).map_err(io::Error::other)?);
        lines.push('\n');
    }
    fs::write(dir.join("runs.jsonl"), lines)
}

/// Why shards could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// The shards themselves are wrong: unreadable, of different experiments, missing or
    /// duplicated.
    #[error("{0}")]
    Shards(String),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// One shard as read back.
struct ReadShard {
    dir: PathBuf,
    info: ShardInfo,
    text: String,
    base: String,
    runs: Vec<RunMetrics>,
}

fn missing_file(path: &Path) -> MergeError {
    let dir = path.parent().map_or_else(String::new, |p| p.display().to_string());
    let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    MergeError::Shards(format!("{dir} is not a complete shard directory: missing {name}"))
}

/// A shard's text file, at most `limits::MAX_SCENARIO_BYTES` (its texts are an experiment
/// file and a scenario, which are held to that size when they run).
fn read_to_string(path: &Path) -> Result<String, MergeError> {
    crate::scenario::read_text(path).map_err(|e| match e {
        crate::scenario::ReadError::Io(io) if io.kind() == io::ErrorKind::NotFound => missing_file(path),
        other => MergeError::Shards(other.located(&path.display().to_string())),
    })
}

/// The runs of `runs.jsonl`: no more lines than `expected` runs, none longer than
/// `limits::MAX_SCENARIO_BYTES`, so a damaged file cannot take unbounded memory.
fn read_runs(path: &Path, expected: usize) -> Result<Vec<RunMetrics>, MergeError> {
    use std::io::{BufRead, Read};
    let malformed = |what: String| MergeError::Shards(format!("{}: {what}", path.display()));
    let file = fs::File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => missing_file(path),
        _ => malformed(format!("cannot read it: {e}")),
    })?;
    let limit = crate::limits::MAX_SCENARIO_BYTES;
    let mut reader = io::BufReader::new(file);
    let mut runs = Vec::new();
    let mut line = String::new();
    for number in 1.. {
        line.clear();
        let read = Read::take(&mut reader, limit + 1)
            .read_line(&mut line)
            .map_err(|e| malformed(format!("line {number}: {e}")))?;
        if read == 0 {
            break;
        }
        if read as u64 > limit {
            return Err(malformed(format!("line {number} is longer than {limit} bytes")));
        }
        if runs.len() == expected {
            return Err(malformed(format!("more runs than the {expected} shard.json lists")));
        }
        let run =
            serde_json::from_str(line.trim_end()).map_err(|e| malformed(format!("line {number}: not a run ({e})")))?;
        runs.push(run);
    }
    Ok(runs)
}

fn read_shard(dir: &Path) -> Result<ReadShard, MergeError> {
    let malformed = |path: &Path, what: String| MergeError::Shards(format!("{}: {what}", path.display()));
    let info_path = dir.join("shard.json");
    let info: ShardInfo = serde_json::from_str(&read_to_string(&info_path)?)
        .map_err(|e| malformed(&info_path, format!("not a shard description ({e})")))?;
    if info.shard_format != SHARD_FORMAT {
        let message = format!("shard format {}; this patchfleet reads format {SHARD_FORMAT}", info.shard_format);
        return Err(malformed(&info_path, message));
    }
    let text = read_to_string(&dir.join("experiment.toml"))?;
    let base = read_to_string(&dir.join("base.toml"))?;
    let runs_path = dir.join("runs.jsonl");
    let runs = read_runs(&runs_path, info.runs.len())?;
    if runs.iter().map(|r| r.run).ne(info.runs.iter().copied()) {
        return Err(malformed(&runs_path, "its runs are not the ones shard.json lists".to_string()));
    }
    Ok(ReadShard { dir: dir.to_path_buf(), info, text, base, runs })
}

/// What must agree between two shards, with how to say it.
fn mismatch(a: &ReadShard, b: &ReadShard) -> Option<String> {
    let (x, y) = (&a.info, &b.info);
    let what = if x.experiment != y.experiment {
        format!("experiment `{}` against `{}`", x.experiment, y.experiment)
    } else if x.version != y.version {
        format!("patchfleet {} against {}", x.version, y.version)
    } else if x.shards != y.shards {
        format!("{} shards against {}", x.shards, y.shards)
    } else if x.file != y.file || a.text != b.text {
        format!("experiment file {} against {} (names or texts differ)", x.file, y.file)
    } else if x.base != y.base || a.base != b.base {
        format!("base scenario {} against {} (names or texts differ)", x.base, y.base)
    } else if x.runs_total != y.runs_total {
        format!("{} runs against {}", x.runs_total, y.runs_total)
    } else {
        return None;
    };
    Some(format!("{} and {} are shards of different experiments: {what}", a.dir.display(), b.dir.display()))
}

/// Every shard once, from 0 to count-1, sorted by index.
fn check_complete(shards: &mut [ReadShard]) -> Result<(), MergeError> {
    let first = &shards[0];
    if let Some(problem) = shards[1..].iter().find_map(|s| mismatch(first, s)) {
        return Err(MergeError::Shards(problem));
    }
    shards.sort_by_key(|s| s.info.shard);
    for pair in shards.windows(2) {
        if pair[0].info.shard == pair[1].info.shard {
            return Err(MergeError::Shards(format!(
                "{} and {} are both shard {}/{}",
                pair[0].dir.display(),
                pair[1].dir.display(),
                pair[0].info.shard,
                pair[0].info.shards
            )));
        }
    }
    let count = shards[0].info.shards;
    let present: Vec<usize> = shards.iter().map(|s| s.info.shard).collect();
    let missing: Vec<String> = (0..count).filter(|i| !present.contains(i)).map(|i| format!("{i}/{count}")).collect();
    if !missing.is_empty() {
        return Err(MergeError::Shards(format!(
            "missing shard{} {} of experiment `{}` (given: {})",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            shards[0].info.experiment,
            present.iter().map(|i| format!("{i}/{count}")).collect::<Vec<_>>().join(", ")
        )));
    }
    for shard in shards.iter() {
        let expected = Shard { index: shard.info.shard, count }.runs(shard.info.runs_total);
        if shard.info.runs != expected {
            let message = format!(
                "{}: shard.json lists runs other than shard {}/{count}'s",
                shard.dir.display(),
                shard.info.shard
            );
            return Err(MergeError::Shards(message));
        }
    }
    Ok(())
}

/// Reads the shard directories `dirs`, checks they are every shard of one experiment, and
/// writes `out` exactly as the unsharded run writes it. Returns the experiment and the
/// comparison.
pub fn merge(
    dirs: &[PathBuf],
    out: Option<&Path>,
    force: bool,
) -> Result<(Experiment, Comparison, Written, PathBuf), MergeError> {
    if dirs.is_empty() {
        return Err(MergeError::Shards("name at least one shard directory".to_string()));
    }
    let mut shards = dirs.iter().map(|d| read_shard(d)).collect::<Result<Vec<_>, _>>()?;
    check_complete(&mut shards)?;
    let first = &shards[0];
    let base = Base { name: first.info.base.clone(), text: first.base.clone() };
    let experiment = rebuild(&first.info.file, &first.text, base).map_err(|problems| {
        MergeError::Shards(format!("{problems}\nerror: the shards' experiment file no longer validates"))
    })?;
    if experiment.runs() != first.info.runs_total {
        let message = format!(
            "the shards' experiment plans {} runs but shard.json says {}",
            experiment.runs(),
            first.info.runs_total
        );
        return Err(MergeError::Shards(message));
    }
    let mut runs: Vec<RunMetrics> = shards.iter().flat_map(|s| s.runs.iter().cloned()).collect();
    runs.sort_by_key(|r| r.run);
    check_runs(&experiment, &runs)?;
    let comparison = compare(&experiment, &runs);
    let dir = out.map_or_else(|| PathBuf::from("experiments").join(&experiment.name), Path::to_path_buf);
    let written = write_staged(&dir, force, |staging| {
        write_files(staging, &experiment, &runs, &comparison)?;
        for shard in &shards {
            copy_tree(&shard.dir.join("runs"), &staging.join("runs"))?;
        }
        Ok(())
    })?;
    Ok((experiment, comparison, written, dir))
}

/// Each run's variant, seed and number of values are the plan's.
fn check_runs(experiment: &Experiment, runs: &[RunMetrics]) -> Result<(), MergeError> {
    let seeds = experiment.seeds.len();
    for (index, run) in runs.iter().enumerate() {
        let consistent = run.run == index
            && run.variant == index / seeds
            && run.seed == experiment.seeds[index % seeds]
            && run.values.len() == experiment.metrics.len();
        if !consistent {
            let message = format!("run {index} in the shards is not the plan's (variant, seed or metrics differ)");
            return Err(MergeError::Shards(message));
        }
    }
    Ok(())
}

/// Copies the tree under `from` into `to`, when `from` exists.
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    if !from.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
