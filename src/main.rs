//! The `patchfleet` command line: clap structures, then library calls, then exit codes.
//!
//! Exit codes: 0 success; 1 a failure of the run itself (for example a write error after
//! validation); 99 the run completed and its results are written, but a `[[threshold]]`
//! failed (k6's code); 2 invalid input: a scenario that does not validate (a threshold
//! naming a metric that does not exist or a bound of the wrong unit included), an argument that does
//! not parse, an output directory that is not empty (without `--force`) or not writable,
//! a directory given to `report` that is not a complete results directory of this format.
//! stdout carries the results (tables, JSON, schedule instants); messages go to stderr. A
//! closed stdout or stderr (`patchfleet validate ... | head -1`) ends output quietly: every
//! write ignores its error rather than panicking as `println!` would.

mod cli;

/// mimalloc instead of glibc's malloc: the invocation path allocates and frees small patch
/// lists per operation, and glibc's bins (consolidation, unlinking) cost a tenth of the
/// serial event loop at a million instances.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use patchfleet::limits::{MAX_SCHEDULE_COUNT, MAX_THREADS};
use patchfleet::report::{ReportError, WriteError, Written, recover, summary_table, write_results};
use patchfleet::scenario::estimate::{Budget, estimate};
use patchfleet::scenario::{self, DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME, Scenario};
use patchfleet::schedule::{ScheduleExpr, WindowSchedule, format_utc, parse_instant};

#[derive(Parser)]
#[command(name = "patchfleet", version, about = "Deterministic simulator of AWS Systems Manager Patch Manager fleets")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write its results directory.
    Run {
        /// Scenario file; without it, the embedded scenarios/default.toml.
        scenario: Option<PathBuf>,
        /// Seed of every random stream (overrides the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Results directory (default: results/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace a non-empty results directory.
        #[arg(long)]
        force: bool,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        /// Worker threads for cohort evaluation (default: one per core; at most 256).
        /// Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Budget for the estimated peak memory, e.g. `8GiB` (default 4GiB).
        #[arg(long, value_parser = parse_bytes)]
        max_memory: Option<u64>,
        /// Budget for the estimated work in units (events plus instances visited), e.g.
        /// `5e10` (default 1e10). The run also stops there if the estimate was low.
        #[arg(long, value_parser = parse_count)]
        max_work: Option<u64>,
        /// Budget for the estimated size of the results directory, e.g. `10GiB` (default 4GiB).
        #[arg(long, value_parser = parse_bytes)]
        max_output: Option<u64>,
    },
    /// Write report.html for an existing results directory (every `run` also writes it).
    Report {
        /// A results directory written by `patchfleet run`.
        dir: PathBuf,
    },
    /// Check scenario files and report every problem with its location.
    Validate {
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Patch baseline utilities: explain approvals, export as AWS JSON.
    Baseline {
        #[command(subcommand)]
        command: BaselineCommand,
    },
    /// Scenario utilities.
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
    Experiment(cli::experiment::ExperimentArgs),
    /// Two results directories of the same scenario side by side, metric by metric.
    Compare {
        dir_a: PathBuf,
        dir_b: PathBuf,
    },
    /// Print the next fire instants of a maintenance-window schedule, in UTC.
    Schedule {
        /// `cron(...)`, `rate(...)` or `at(...)`.
        expression: String,
        /// Instants strictly after this one (RFC 3339, or a date for 00:00Z).
        #[arg(long)]
        after: String,
        #[arg(long, default_value_t = 5)]
        count: usize,
        /// IANA time zone the cron fields are read in (ScheduleTimezone).
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// ScheduleOffset in days (cron only, 1 to 6).
        #[arg(long)]
        offset: Option<u8>,
        #[arg(long)]
        start_date: Option<String>,
        #[arg(long)]
        end_date: Option<String>,
    },
    /// Replay a window execution's downloads as real HTTP traffic against a mirror, measure
    /// it beside the simulation's prediction; or calibrate the model from a mirror; or seed
    /// a directory a mirror can serve.
    #[command(args_conflicts_with_subcommands = true)]
    Load {
        #[command(subcommand)]
        command: Option<LoadCommand>,
        #[command(flatten)]
        args: Box<LoadArgs>,
    },
}

#[derive(clap::Args)]
struct LoadArgs {
    /// The mirror's base URL, http:// only (required: no traffic goes anywhere else).
    #[arg(long)]
    target: Option<String>,
    /// Scenario file; without it, the embedded scenarios/default.toml.
    scenario: Option<PathBuf>,
    /// The maintenance window whose downloads are replayed.
    #[arg(long)]
    window: Option<String>,
    /// Which execution of the window (`execution` in windows.csv; default: the first that
    /// downloads anything).
    #[arg(long)]
    execution: Option<u32>,
    /// The repository whose downloads are replayed, when the execution used several.
    #[arg(long)]
    repository: Option<String>,
    /// Model seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    speedup: f64,
    /// Objects are the patch's size divided by this (default: the speedup, so the mirror
    /// sees the model's bandwidth in compressed time).
    #[arg(long)]
    size_scale: Option<f64>,
    /// At most this many downloads, the first in request order.
    #[arg(long, default_value_t = 10_000)]
    max_requests: usize,
    /// Stop after this long (real time), whatever is left.
    #[arg(long, default_value = "10m")]
    duration: String,
    /// Abandon a download after this long with a connection.
    #[arg(long, default_value = "5m")]
    timeout: String,
    /// Object path below the target: {patch}, {package} and {bytes} are replaced. With
    /// {bytes} in it, every object's size is checked.
    #[arg(long, default_value = patchfleet::load::plan::DEFAULT_TEMPLATE)]
    path: String,
    /// CSV file with a `patch,path` header mapping each patch id to its object path,
    /// instead of --path.
    #[arg(long, conflicts_with = "path")]
    map: Option<PathBuf>,
    /// Seed of the simulation run (overrides the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Results directory (default: results/load-<scenario name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace a non-empty results directory.
    #[arg(long)]
    force: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Measure the mirror's connection cap and bandwidth and print a `[[repository]]`.
    #[arg(long)]
    calibrate: bool,
    /// Connections opened at once to find the cap.
    #[arg(long, default_value_t = 512)]
    calibrate_connections: u32,
    /// Whole seconds each rate is measured over.
    #[arg(long, default_value_t = 3)]
    calibrate_seconds: u32,
    /// The large object calibration streams.
    #[arg(long, default_value = patchfleet::load::calibrate::CALIBRATION_OBJECT)]
    calibrate_path: String,
}

#[derive(Subcommand)]
enum LoadCommand {
    /// Write the synthetic objects of a scenario's patches (sparse files) and the
    /// calibration object into DIR, for a web server to serve.
    Seed {
        dir: PathBuf,
        scenario: Option<PathBuf>,
        /// Objects are the patch's size divided by this (as given to the replay).
        #[arg(long, default_value_t = 1.0)]
        size_scale: f64,
        #[arg(long, default_value = patchfleet::load::plan::DEFAULT_TEMPLATE)]
        path: String,
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[derive(Subcommand)]
enum BaselineCommand {
    /// For each patch of the baseline's operating system: approved or not at an instant,
    /// what decided it, when, and its compliance level.
    Explain {
        /// A baseline of the scenario, or a predefined AWS baseline.
        name: String,
        /// Scenario file; without it, the embedded default scenario.
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// The instant to judge approval at (default: the scenario's start).
        #[arg(long)]
        at: Option<String>,
        /// Only these patches (repeatable).
        #[arg(long = "patch")]
        patches: Vec<String>,
        /// Seed of the catalog's release process (default: the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the baseline as JSON that `aws ssm create-patch-baseline --cli-input-json` takes.
    Export {
        name: String,
        #[arg(long)]
        scenario: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ScenarioCommand {
    /// Print the effective scenario, every default filled in.
    Show { scenario: Option<PathBuf> },
}

/// A failure with its exit code.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn input(message: impl Into<String>) -> Failure {
        Failure { code: 2, message: message.into() }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Run { scenario, seed, out, force, quiet, threads, max_memory, max_work, max_output } => {
            let defaults = Budget::default();
            let budget = Budget {
                memory_bytes: max_memory.unwrap_or(defaults.memory_bytes),
                work: max_work.unwrap_or(defaults.work),
                output_bytes: max_output.unwrap_or(defaults.output_bytes),
            };
            run(scenario.as_deref(), seed, out, force, quiet, threads, budget)
        }
        Command::Report { dir } => report(&dir),
        Command::Experiment(args) => cli::experiment::main(args),
        Command::Compare { dir_a, dir_b } => compare(&dir_a, &dir_b),
        Command::Validate { scenarios } => validate(&scenarios),
        Command::Scenario { command: ScenarioCommand::Show { scenario } } => show(scenario.as_deref()),
        Command::Baseline { command: BaselineCommand::Explain { name, scenario, at, patches, seed, json } } => {
            explain(&name, scenario.as_deref(), at.as_deref(), &patches, seed, json)
        }
        Command::Baseline { command: BaselineCommand::Export { name, scenario } } => export(&name, scenario.as_deref()),
        Command::Schedule { expression, after, count, timezone, offset, start_date, end_date } => {
            schedule(&expression, &after, count, &timezone, offset, start_date.as_deref(), end_date.as_deref())
        }
        Command::Load { command: Some(LoadCommand::Seed { dir, scenario, size_scale, path, seed }), .. } => {
            load_seed(&dir, scenario.as_deref(), size_scale, &path, seed)
        }
        Command::Load { command: None, args } => load_command(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let _ = writeln!(std::io::stderr(), "{}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// Reads and validates a scenario, or the embedded default.
fn load(path: Option<&Path>) -> Result<Scenario, Failure> {
    load_text(path).map(|(scenario, _)| scenario)
}

/// Reads and validates a scenario, or the embedded default, and keeps its text (to locate
/// what the estimate names).
fn load_text(path: Option<&Path>) -> Result<(Scenario, String), Failure> {
    let (name, text) = match path {
        None => (DEFAULT_SCENARIO_NAME.to_string(), DEFAULT_SCENARIO.to_string()),
        Some(path) => {
            let name = path.display().to_string();
            let text = scenario::read_text(path).map_err(|error| {
                Failure::input(format!("{}\nerror: {name} is not a valid scenario", error.located(&name)))
            })?;
            (name, text)
        }
    };
    let scenario = scenario::load(&name, &text).map_err(|diagnostics| {
        let count = diagnostics.0.len();
        Failure::input(format!(
            "{diagnostics}\nerror: {name} is not a valid scenario ({count} problem{})",
            if count == 1 { "" } else { "s" }
        ))
    })?;
    // Thresholds name metrics of the run's registry: they must exist, in the bound's unit.
    let problems = patchfleet::report::thresholds::check(&scenario, &text)
        .map_err(|message| Failure { code: 1, message: format!("{name}: {message}") })?;
    if !problems.is_empty() {
        let count = problems.len();
        let listed = scenario::Diagnostics(problems);
        return Err(Failure::input(format!(
            "{listed}\nerror: {name} is not a valid scenario ({count} problem{})",
            if count == 1 { "" } else { "s" }
        )));
    }
    // Legal but rarely meant: said on stderr, never an error.
    for warning in &scenario.warnings {
        let _ = writeln!(std::io::stderr(), "warning: {warning}");
    }
    Ok((scenario, text))
}

/// A byte count: digits (or a decimal such as `1.5`) with an optional binary unit `K`, `M`,
/// `G`, `T` (`KiB`, `GB` and the like are read the same way).
fn parse_bytes(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let scale: f64 = match unit.to_ascii_uppercase().trim_end_matches('B').trim_end_matches('I') {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("`{text}`: unknown unit `{unit}`; use K, M, G or T (binary), e.g. 8GiB")),
    };
    amount(text, number, scale)
}

/// A count: digits, underscores allowed, or a decimal with an exponent such as `5e10`.
fn parse_count(text: &str) -> Result<u64, String> {
    amount(text, &text.trim().replace('_', ""), 1.0)
}

fn amount(text: &str, number: &str, scale: f64) -> Result<u64, String> {
    let value: f64 = number.trim().parse().map_err(|_| format!("`{text}` is not a number"))?;
    let value = value * scale;
    if !(value.is_finite() && (1.0..=u64::MAX as f64).contains(&value)) {
        return Err(format!("`{text}` must be at least 1 and at most {}", u64::MAX));
    }
    Ok(value as u64)
}

/// Refuses a scenario whose estimate is over `budget`, naming what drives each excess and
/// where it is written.
fn check_budget(scenario: &Scenario, text: &str, budget: &Budget) -> Result<(), Failure> {
    let estimate = estimate(scenario);
    let over = estimate.over(budget);
    if over.is_empty() {
        return Ok(());
    }
    let name = &scenario.source_name;
    let mut message = String::new();
    for excess in &over {
        message.push_str(&format!("{name}: {excess}\n"));
        let total = excess.estimate.max(1) as f64;
        for driver in &excess.drivers {
            let place = match scenario::locate(text, &driver.path) {
                Some((line, column)) if !driver.path.is_empty() => format!("{name}:{line}:{column}: {}: ", driver.path),
                _ => format!("{name}: "),
            };
            let share = 100.0 * driver.amount / total;
            message.push_str(&format!("  {place}{} ({share:.0}% of the estimate)\n", driver.what));
        }
    }
    message.push_str(&format!("estimate:\n{estimate}\nerror: {name} is over its resource budget; nothing was run"));
    Err(Failure::input(message))
}

fn progress_hidden(quiet: bool) -> bool {
    quiet || !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some()
}

fn run(
    path: Option<&Path>,
    seed: Option<u64>,
    out: Option<PathBuf>,
    force: bool,
    quiet: bool,
    threads: Option<usize>,
    budget: Budget,
) -> Result<(), Failure> {
    if let Some(threads) = threads
        && !(1..=MAX_THREADS).contains(&threads)
    {
        return Err(Failure::input(format!(
            "--threads {threads}: give 1 to {MAX_THREADS} threads (limits::MAX_THREADS); results do not depend on it"
        )));
    }
    let (scenario, text) = load_text(path)?;
    check_budget(&scenario, &text, &budget)?;
    if let Some(threads) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| Failure { code: 1, message: format!("cannot start {threads} threads: {e}") })?;
    }
    let seed = seed.unwrap_or(scenario.seed);
    let dir = out.unwrap_or_else(|| PathBuf::from("results").join(&scenario.name));
    // Leftovers of killed runs go first, so that the check below sees the directory as the
    // last complete run left it.
    let recovered =
        recover(&dir).map_err(|e| Failure::input(format!("cannot clean up beside {}: {e}", dir.display())))?;
    say_recovered(&recovered);
    // Refuse early, before minutes of simulation, if the directory would be refused later.
    if !force && std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(Failure::input(format!(
            "{} already exists and is not empty; pass --force to replace it",
            dir.display()
        )));
    }
    let horizon = scenario.horizon.as_secs().max(1) as u64;
    let start = scenario.start;
    let bar = if progress_hidden(quiet) {
        ProgressBar::with_draw_target(Some(horizon), ProgressDrawTarget::hidden())
    } else {
        let bar = ProgressBar::with_draw_target(Some(horizon), ProgressDrawTarget::stderr_with_hz(8));
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {percent:>3}% {elapsed_precise}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        bar
    };
    let (result, written) = on_pool(|| {
        let clock_start = patchfleet::metrics::now_ns();
        let result = patchfleet::run::run_within(&scenario, seed, budget.work, |now, events| {
            let elapsed = (patchfleet::metrics::now_ns() - clock_start) as f64 / 1e9;
            bar.set_position(now.since(start).as_secs().max(0) as u64);
            bar.set_message(format!("{}  {:.0} events/s", &now.to_rfc3339()[..16], events as f64 / elapsed.max(1e-9)));
        })
        .map_err(|message| Failure::input(format!("{}: {message}", scenario.source_name)))?;
        bar.finish_and_clear();
        let written = write_results(&dir, force, &scenario, &result).map_err(|error| match error {
            WriteError::NotEmpty(_) => Failure::input(error.to_string()),
            WriteError::Io { .. } => Failure::input(error.to_string()),
        })?;
        Ok((result, written))
    })?;
    say_recovered(&written);
    let mut stdout = std::io::stdout().lock();
    // One summary for the table and the exit code (the results files made their own).
    let summary = patchfleet::report::summarize(&scenario, &result);
    let table = summary_table(&scenario, &result, &summary);
    let _ = writeln!(stdout, "{table}results: {}  (report: {})", dir.display(), dir.join("report.html").display());
    let thresholds = &summary.thresholds;
    let failed = thresholds.iter().filter(|t| !t.passed).count();
    if failed > 0 {
        return Err(Failure { code: 99, message: format!("{failed} of {} thresholds failed", thresholds.len()) });
    }
    Ok(())
}

/// Runs `work` on a thread of rayon's global pool instead of beside it. A run's event loop is
/// serial and its cohort passes parallel: from outside the pool, each pass hands all of its
/// chunks to the pool and the event loop sleeps until they are done, and between passes the
/// pool's idle threads spin on the cores the event loop needs (on the small fleet, 3,000
/// context switches a run). On a pool thread the event loop works on its own passes, and only
/// the other threads wait.
fn on_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    // `scope` runs its body on a thread of the global pool when called from outside it.
    rayon::scope(|_| work())
}

fn compare(a: &Path, b: &Path) -> Result<(), Failure> {
    let table = patchfleet::experiment::compare_dirs(a, b).map_err(Failure::input)?;
    let _ = write!(std::io::stdout().lock(), "{table}");
    Ok(())
}

fn report(dir: &Path) -> Result<(), Failure> {
    patchfleet::report::write_report(dir).map_err(|error| match error {
        ReportError::Write { .. } => Failure { code: 1, message: error.to_string() },
        _ => Failure::input(error.to_string()),
    })?;
    println!("{}", dir.join("report.html").display());
    Ok(())
}

/// Tells what recovery did: leftovers of dead processes removed, a replacement undone.
fn say_recovered(written: &Written) {
    if let Some(restored) = &written.restored {
        let _ = writeln!(std::io::stderr(), "restored {} from an interrupted replacement", restored.display());
    }
    for stale in &written.removed_stale {
        let _ = writeln!(std::io::stderr(), "removed {}: left by a process that no longer exists", stale.display());
    }
}

fn validate(paths: &[PathBuf]) -> Result<(), Failure> {
    let mut invalid = 0;
    for path in paths {
        match load(Some(path)) {
            Ok(scenario) => {
                let estimate = estimate(&scenario);
                let _ = writeln!(
                    std::io::stdout(),
                    "{}: ok ({} instances, {} windows)\n{estimate}",
                    path.display(),
                    scenario.groups.iter().map(|g| g.count as u64).sum::<u64>(),
                    scenario.windows.len()
                );
                for excess in estimate.over(&Budget::default()) {
                    let _ = writeln!(std::io::stdout(), "  note: {excess}; `patchfleet run` shows what drives it");
                }
            }
            Err(failure) => {
                let _ = writeln!(std::io::stderr(), "{}", failure.message);
                invalid += 1;
            }
        }
    }
    if invalid > 0 {
        return Err(Failure::input(format!("{invalid} of {} scenario files are invalid", paths.len())));
    }
    Ok(())
}

fn show(path: Option<&Path>) -> Result<(), Failure> {
    let scenario = load(path)?;
    let text = toml::to_string_pretty(&scenario.effective)
        .map_err(|e| Failure { code: 1, message: format!("cannot print the scenario: {e}") })?;
    let _ = write!(std::io::stdout(), "{text}");
    Ok(())
}

/// Loads a scenario and finds a baseline in it (or among the predefined ones).
fn load_with_baseline(name: &str, path: Option<&Path>) -> Result<(Scenario, usize), Failure> {
    let mut scenario = load(path)?;
    let index = scenario.find_or_add_baseline(name).ok_or_else(|| {
        let names: Vec<&str> = scenario.baselines.iter().map(|b| b.name.as_str()).collect();
        Failure::input(format!(
            "{}: no baseline `{name}`; the scenario's baselines are: {}; predefined AWS baselines are also accepted",
            scenario.source_name,
            names.join(", ")
        ))
    })?;
    Ok((scenario, index))
}

fn explain(
    name: &str,
    path: Option<&Path>,
    at: Option<&str>,
    patches: &[String],
    seed: Option<u64>,
    json: bool,
) -> Result<(), Failure> {
    let (scenario, index) = load_with_baseline(name, path)?;
    let at = match at {
        Some(text) => {
            patchfleet::time::SimTime(parse_instant(text).map_err(|e| Failure::input(format!("--at `{text}`: {e}")))?)
        }
        None => scenario.start,
    };
    let seed = seed.unwrap_or(scenario.seed);
    let explanations = patchfleet::baseline::explain::explain(&scenario, seed, index, at, patches)
        .map_err(|message| Failure::input(format!("{}: {message}", scenario.source_name)))?;
    let mut stdout = std::io::stdout().lock();
    if json {
        for explanation in &explanations {
            let line = serde_json::to_string(explanation).map_err(|e| Failure { code: 1, message: e.to_string() })?;
            let _ = writeln!(stdout, "{line}");
        }
    } else {
        let _ = write!(stdout, "{}", patchfleet::baseline::explain::explain_text(&explanations));
    }
    Ok(())
}

fn export(name: &str, path: Option<&Path>) -> Result<(), Failure> {
    let (scenario, index) = load_with_baseline(name, path)?;
    let request = patchfleet::baseline::aws_json::create_patch_baseline_request(&scenario.baselines[index]);
    let text = serde_json::to_string_pretty(&request).map_err(|e| Failure { code: 1, message: e.to_string() })?;
    let _ = writeln!(std::io::stdout(), "{text}");
    Ok(())
}

fn schedule(
    expression: &str,
    after: &str,
    count: usize,
    timezone: &str,
    offset: Option<u8>,
    start_date: Option<&str>,
    end_date: Option<&str>,
) -> Result<(), Failure> {
    let instant =
        |flag: &str, text: &str| parse_instant(text).map_err(|e| Failure::input(format!("--{flag} `{text}`: {e}")));
    if count > MAX_SCHEDULE_COUNT {
        return Err(Failure::input(format!("--count {count}: at most {MAX_SCHEDULE_COUNT} instants")));
    }
    let after = instant("after", after)?;
    let start_date = start_date.map(|t| instant("start-date", t)).transpose()?;
    let end_date = end_date.map(|t| instant("end-date", t)).transpose()?;
    let expr = ScheduleExpr::parse(expression).map_err(|e| Failure::input(format!("schedule `{expression}`: {e}")))?;
    let schedule = WindowSchedule::new(expr, timezone, offset, start_date, end_date, after)
        .map_err(|e| Failure::input(format!("schedule `{expression}`: {e}")))?;
    let mut stdout = std::io::stdout().lock();
    for fire in schedule.upcoming(after, count) {
        let _ = writeln!(stdout, "{}", format_utc(fire));
    }
    Ok(())
}

/// `patchfleet load seed DIR [SCENARIO]`.
fn load_seed(
    dir: &Path,
    path: Option<&Path>,
    size_scale: f64,
    template: &str,
    seed: Option<u64>,
) -> Result<(), Failure> {
    if !(size_scale.is_finite() && size_scale > 0.0) {
        return Err(Failure::input(format!("--size-scale must be a positive number, got {size_scale}")));
    }
    let scenario = load(path)?;
    let world = patchfleet::sim::World::build(&scenario, seed.unwrap_or(scenario.seed))
        .map_err(|message| Failure::input(format!("{}: {message}", scenario.source_name)))?;
    let seeded = patchfleet::load::seed::seed(dir, &scenario, &world, template, size_scale)
        .map_err(|message| Failure { code: 1, message })?;
    let _ = writeln!(
        std::io::stdout(),
        "seeded {}: {} objects of {} ({:.1} MB, sparse) and {}",
        dir.display(),
        seeded.objects,
        scenario.name,
        seeded.bytes as f64 / 1e6,
        patchfleet::load::calibrate::CALIBRATION_OBJECT
    );
    Ok(())
}

/// `patchfleet load --target URL ...`: calibration or a replay.
fn load_command(args: &LoadArgs) -> Result<(), Failure> {
    let url = args.target.as_deref().ok_or_else(|| {
        Failure::input("patchfleet load needs --target URL (the mirror to test): it sends traffic nowhere else")
    })?;
    let target = patchfleet::load::Target::parse(url).map_err(Failure::input)?;
    let scenario = load(args.scenario.as_deref())?;
    if args.calibrate {
        return load_calibrate(args, &target, &scenario);
    }
    let Bounds { speedup, size_scale, duration, timeout } = load_bounds(args)?;
    let window =
        args.window.clone().ok_or_else(|| Failure::input("patchfleet load needs --window NAME (or --calibrate)"))?;
    let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("results").join(format!("load-{}", scenario.name)));
    patchfleet::load::files::check_writable(&dir, args.force).map_err(Failure::input)?;
    let mapping = args.map.as_deref().map(patchfleet::load::plan::read_mapping).transpose().map_err(Failure::input)?;
    let _ = writeln!(std::io::stderr(), "simulating {} to record its downloads ...", scenario.name);
    let seed = args.seed.unwrap_or(scenario.seed);
    let result = patchfleet::run::run_recording_downloads(&scenario, seed, |_, _| {})
        .map_err(|message| Failure::input(format!("{}: {message}", scenario.source_name)))?;
    let options = patchfleet::load::PlanOptions {
        window,
        execution: args.execution,
        repository: args.repository.clone(),
        template: args.path.clone(),
        mapping,
        size_scale,
        max_downloads: args.max_requests,
    };
    let plan = patchfleet::load::plan::build(&scenario, &result, &options)
        .map_err(|message| Failure::input(format!("{}: {message}", scenario.source_name)))?;
    let replay_options = patchfleet::load::ReplayOptions {
        speedup,
        max_connections: plan.max_connections,
        duration,
        timeout,
        check_sizes: args.map.is_none() && args.path.contains("{bytes}"),
        interval: Duration::from_secs(1),
    };
    let bar = load_progress(args.quiet, plan.downloads.len() as u64);
    let replay = patchfleet::load::run_replay(&target, &plan.downloads, &replay_options, |done, errors, s| {
        bar.set_position(done);
        bar.set_message(format!("{} active {} waiting {errors} err {:.0} Mbit/s", s.active, s.waiting, s.mbps));
    })
    .map_err(|message| Failure { code: 1, message })?;
    bar.finish_and_clear();
    let summary = patchfleet::load::summarise(&plan, &replay, url, speedup, size_scale);
    patchfleet::load::files::write(&dir, &summary, &plan, &replay).map_err(|message| Failure { code: 1, message })?;
    let _ = write!(std::io::stdout(), "{}", patchfleet::load::measure::text(&summary));
    let _ = writeln!(std::io::stdout(), "results: {}", dir.display());
    if summary.succeeded == 0 && summary.dispatched > 0 {
        return Err(Failure { code: 1, message: format!("no download succeeded against {url}") });
    }
    Ok(())
}

/// The numeric options of a replay, checked.
struct Bounds {
    speedup: f64,
    size_scale: f64,
    duration: Duration,
    timeout: Duration,
}

fn load_bounds(args: &LoadArgs) -> Result<Bounds, Failure> {
    let positive = |name: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(Failure::input(format!("{name} must be a positive number, got {v}")))
        }
    };
    let speedup = positive("--speedup", args.speedup)?;
    let size_scale = positive("--size-scale", args.size_scale.unwrap_or(speedup))?;
    if args.max_requests == 0 {
        return Err(Failure::input("--max-requests must be at least 1"));
    }
    let seconds = |name: &str, text: &str| match patchfleet::time::parse_duration(text) {
        Ok(d) if d.as_secs() > 0 => Ok(Duration::from_secs(d.as_secs() as u64)),
        Ok(_) => Err(Failure::input(format!("{name} must be longer than zero"))),
        Err(e) => Err(Failure::input(format!("{name} `{text}`: {e}"))),
    };
    let duration = seconds("--duration", &args.duration)?;
    let timeout = seconds("--timeout", &args.timeout)?;
    Ok(Bounds { speedup, size_scale, duration, timeout })
}

fn load_progress(quiet: bool, len: u64) -> ProgressBar {
    if progress_hidden(quiet) {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr_with_hz(8));
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:20}] {pos}/{len} {msg} {elapsed}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

fn load_calibrate(args: &LoadArgs, target: &patchfleet::load::Target, scenario: &Scenario) -> Result<(), Failure> {
    let repositories = &scenario.network.repositories;
    let (name, serves): (String, Vec<String>) = match &args.repository {
        Some(name) => {
            let r = repositories
                .iter()
                .find(|r| &r.name == name)
                .ok_or_else(|| Failure::input(format!("{}: no [[repository]] named `{name}`", scenario.source_name)))?;
            (r.name.clone(), r.serves.iter().map(|o| o.to_string()).collect())
        }
        None if repositories.len() == 1 => {
            (repositories[0].name.clone(), repositories[0].serves.iter().map(|o| o.to_string()).collect())
        }
        None if repositories.is_empty() => {
            ("mirror".to_string(), scenario.catalogs.iter().map(|c| c.os.to_string()).collect())
        }
        None => {
            return Err(Failure::input(format!(
                "{}: several repositories; choose one with --repository",
                scenario.source_name
            )));
        }
    };
    if args.calibrate_connections == 0 || args.calibrate_seconds == 0 {
        return Err(Failure::input("--calibrate-connections and --calibrate-seconds must be at least 1"));
    }
    let options = patchfleet::load::CalibrateOptions {
        path: args.calibrate_path.clone(),
        probe: args.calibrate_connections,
        seconds: args.calibrate_seconds,
        settle: 1.5,
    };
    let _ = writeln!(std::io::stderr(), "calibrating against {} ...", target.url);
    let calibration =
        patchfleet::load::run_calibration(target, &options).map_err(|message| Failure { code: 1, message })?;
    let _ = write!(std::io::stdout(), "{}", calibration.repository_section(&target.url, &name, &serves));
    Ok(())
}
