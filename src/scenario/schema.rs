//! The scenario file format: plain data, exactly as written in TOML.
//!
//! Each concept has its own section (`[scenario]`, `[[catalog]]`, `[[profile]]`,
//! `[[instance_group]]`, `[[baseline]]`, `[[patch_group]]`, `[default_baselines]`,
//! `[[maintenance_window]]`, `[[association]]`, `[agent]`), and every struct rejects
//! unknown keys, so a typo is an error rather than a silently ignored setting. New
//! behaviour arrives as new optional keys or sections with defaults, so files written today
//! keep their meaning.
//!
//! Values that carry units are written with them: durations as `"30d"`, `"4h"`, `"1h30m"`;
//! instants as TOML datetimes or RFC 3339 strings in UTC or with an offset.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::{SimDuration, SimTime, parse_duration};

/// The whole file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScenarioFile {
    pub scenario: ScenarioMeta,
    pub agent: AgentSettings,
    pub account: AccountSettings,
    pub output: OutputSettings,
    pub resource_group: Vec<ResourceGroupSpec>,
    pub location: Vec<LocationSpec>,
    pub repository: Vec<RepositorySpec>,
    pub partition: Vec<PartitionSpec>,
    pub image: Vec<ImageSpec>,
    pub auto_scaling_group: Vec<AutoScalingGroupSpec>,
    pub alarm: Vec<AlarmSpec>,
    pub catalog: Vec<CatalogSpec>,
    pub profile: Vec<ProfileSpec>,
    pub instance_group: Vec<InstanceGroupSpec>,
    pub baseline: Vec<BaselineSpec>,
    pub patch_group: Vec<PatchGroupSpec>,
    pub default_baselines: BTreeMap<String, String>,
    pub maintenance_window: Vec<WindowSpec>,
    pub association: Vec<AssociationSpec>,
}

/// `[scenario]`: identity, the simulated period and the seed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioMeta {
    /// Short name; also the default results directory `results/<name>/`.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// When the simulation starts.
    pub start: Instant,
    /// How long it runs.
    pub horizon: Duration,
    /// The seed of every random stream; `--seed` overrides it.
    #[serde(default)]
    pub seed: u64,
    /// How often `compliance.csv` gets a row per patch group and metric.
    #[serde(default = "default_sample_interval")]
    pub sample_interval: Duration,
    /// A run stops after this many events even before the horizon.
    #[serde(default = "default_max_events")]
    pub max_events: u64,
    /// The compliant share the reports measure time above (`time_above_target`).
    #[serde(default)]
    pub compliance_target: Target,
}

fn default_sample_interval() -> Duration {
    Duration(SimDuration::hours(6))
}
fn default_max_events() -> u64 {
    500_000_000
}

/// `[output]`: optional result files that grow with the fleet, off by default.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputSettings {
    /// `invocations.csv`: one row per target of every task, with its Status, StatusDetails
    /// and cause. It grows with invocations: meant for small runs.
    pub invocations: bool,
    /// `instance_patches.jsonl`: per instance, its patches as DescribeInstancePatches lists
    /// them, for the instances of these patch groups (`*`: every instance). It grows as
    /// instances times patches.
    pub instance_patches: Vec<String>,
}

/// `[agent]`: how long the SSM agent's AWS-RunPatchBaseline steps take on an instance.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentSettings {
    /// Pings missed before an instance shows ConnectionLost (pings every 5 minutes).
    pub connection_lost_after_pings: u32,
    /// Time a Scan takes: it refreshes package metadata and evaluates the baseline.
    pub scan_duration: Duration,
    /// Fixed part of an Install before any download: snapshot download, metadata refresh.
    pub install_overhead: Duration,
    /// Time from reboot request until the agent reports again.
    pub reboot_duration: Duration,
    /// Download throughput of one instance from its repository, in megabits per second.
    pub download_mbps: f64,
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            connection_lost_after_pings: 3,
            scan_duration: Duration(SimDuration::seconds(90)),
            install_overhead: Duration(SimDuration::seconds(60)),
            reboot_duration: Duration(SimDuration::minutes(3)),
            download_mbps: 200.0,
        }
    }
}

/// `[account]`: account-wide Systems Manager quotas.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountSettings {
    /// Maintenance-window executions that may run at once in the account (AWS: 5); further
    /// executions wait as PENDING.
    pub max_concurrent_executions: u32,
}

impl Default for AccountSettings {
    fn default() -> Self {
        AccountSettings { max_concurrent_executions: 5 }
    }
}

/// `[[resource_group]]`: a tag-based resource group of instances.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroupSpec {
    pub name: String,
    /// Tag key to accepted values: an instance belongs if it matches every key (and any of
    /// that key's values), as tag-based resource-group queries do.
    pub tags: BTreeMap<String, Vec<String>>,
}

/// `[[alarm]]`: a CloudWatch-style alarm on a compliance metric of a patch group, whose
/// action (a Lambda function, in AWS) runs an Install on the group's non-compliant
/// instances outside any window.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmSpec {
    pub name: String,
    /// The patch group whose metric is watched (`(none)` for untagged instances).
    pub patch_group: String,
    /// A metric of compliance.csv as reported: `non_compliant`, `critical_non_compliant`,
    /// `missing_patches`, `failed_patches`, `pending_reboot_patches` or `unreported`.
    pub metric: String,
    /// The alarm breaches when the metric is above this value ...
    pub threshold: u64,
    /// ... at the end of `evaluation_periods` consecutive periods of this length.
    pub period: Duration,
    pub evaluation_periods: u32,
    pub remediation: RemediationSpec,
}

/// What the alarm's action does.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemediationSpec {
    /// Between the alarm and the Install (alarm action, Lambda start, SendCommand).
    #[serde(default = "default_invocation_delay")]
    pub delay: Duration,
    #[serde(default = "default_reboot_option")]
    pub reboot_option: String,
    pub max_concurrency: String,
    pub max_errors: String,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u32,
}

fn default_invocation_delay() -> Duration {
    Duration(SimDuration::minutes(2))
}

/// `[[image]]`: a machine image (AMI) instances launch from, with the patch level of its
/// bake date; with `rebake_every`, a golden-image pipeline that bakes a new version that
/// often, installing what its baseline approves at bake time.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSpec {
    pub name: String,
    /// When the (first) image was baked: everything released by then is on it.
    pub baked: Instant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebake_every: Option<Duration>,
    /// The pipeline's baseline: a new version carries every applicable patch it approves
    /// by the bake instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
}

/// `[[auto_scaling_group]]`: instances launched and terminated to follow a desired
/// capacity.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoScalingGroupSpec {
    pub name: String,
    pub profile: String,
    pub image: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub min: u32,
    pub max: u32,
    pub desired: u32,
    /// Mean instance lifetime (exponential, from each instance's own stream); an instance
    /// whose lifetime ends is terminated and replaced. Unset: instances live on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<Duration>,
    /// Diurnal demand: desired x (1 + amplitude x cos(2 pi (hour - peak_hour) / 24)),
    /// re-evaluated every hour, clamped to [min, max]. 0: flat.
    #[serde(default)]
    pub demand_amplitude: f64,
    #[serde(default = "default_peak_hour")]
    pub demand_peak_hour: u32,
    /// `OldestInstance`, `NewestInstance` or `OldestLaunchTemplate` (oldest image first).
    #[serde(default = "default_termination_policy")]
    pub termination_policy: String,
    #[serde(default)]
    pub install_failure_probability: f64,
    #[serde(default)]
    pub scheduled_action: Vec<ScheduledActionSpec>,
    /// Instance refresh when the image gets a new version: replace old instances in
    /// batches, keeping this share of the desired capacity healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_min_healthy_percentage: Option<u32>,
    /// Time a replacement needs before it counts as healthy and the next batch starts.
    #[serde(default = "default_warmup")]
    pub refresh_warmup: Duration,
}

fn default_peak_hour() -> u32 {
    15
}
fn default_termination_policy() -> String {
    "OldestInstance".into()
}
fn default_warmup() -> Duration {
    Duration(SimDuration::minutes(5))
}

/// A scheduled scaling action: at each fire, the desired capacity (and optionally the
/// bounds) change.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledActionSpec {
    pub schedule: String,
    pub desired: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
}

/// `[[location]]`: an availability zone, subnet or on-premises site. Instances in it reach
/// the SSM endpoint and each repository over links that can fail.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationSpec {
    pub name: String,
    /// Random failures of each of the location's links (to `ssm` and to each repository):
    /// mean time between failures and mean time to repair, both exponential, drawn from the
    /// link's own random stream. Unset: the links fail only in scheduled partitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_mtbf: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_mttr: Option<Duration>,
}

/// `[[repository]]`: the package repository or mirror an operating system's instances
/// download from, with a shared bandwidth and a cap on concurrent connections.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositorySpec {
    pub name: String,
    /// The operating systems it serves (AWS `OperatingSystem` names).
    pub serves: Vec<String>,
    pub bandwidth_mbps: f64,
    pub max_connections: u32,
}

/// `[[partition]]`: a scheduled cut between locations and destinations.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionSpec {
    pub start: Instant,
    pub duration: Duration,
    /// Locations cut off (names of `[[location]]`).
    pub locations: Vec<String>,
    /// What they cannot reach: `ssm` and/or repository names; `*` for everything.
    pub destinations: Vec<String>,
}

/// `[[catalog]]`: the patches published for one operating system.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSpec {
    /// The AWS `OperatingSystem` value, e.g. `AMAZON_LINUX_2023`, `UBUNTU`, `WINDOWS`.
    pub os: String,
    /// PRODUCT values; a patch without its own `product` belongs to the first.
    pub products: Vec<String>,
    /// Number of packages (Windows: updateable components) in the repository. Generated
    /// patches pick their package among these.
    pub packages: u32,
    /// The first `core_packages` packages are on every image (kernel, libc, openssl, ...).
    #[serde(default)]
    pub core_packages: u32,
    /// Patches listed one by one.
    #[serde(default)]
    pub patch: Vec<PatchSpec>,
    /// Patches drawn from a release process.
    #[serde(default)]
    pub generator: Option<GeneratorSpec>,
}

/// One explicitly listed patch.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchSpec {
    /// Advisory or KB id, e.g. `ALAS2023-2026-1234`, `USN-7001-1`, `KB5044281`.
    pub id: String,
    /// The package it updates. Named packages are on every image that lists them in
    /// `profile.packages`; `pkg-N` names the N-th package of the repository.
    pub package: String,
    #[serde(default)]
    pub product: Option<String>,
    /// Windows and yum-family classification (`SecurityUpdates`, `Security`, `Bugfix`, ...).
    #[serde(default)]
    pub classification: Option<String>,
    /// Vendor severity: SEVERITY for yum-family, MSRC_SEVERITY for Windows.
    #[serde(default)]
    pub severity: Option<String>,
    /// Debian/Ubuntu PRIORITY.
    #[serde(default)]
    pub priority: Option<String>,
    /// Debian/Ubuntu SECTION.
    #[serde(default)]
    pub section: Option<String>,
    /// Debian/Ubuntu repository (pocket), e.g. `jammy-security`; `-security` marks security.
    #[serde(default)]
    pub repository: Option<String>,
    /// Windows PRODUCT_FAMILY (`Windows` when unset); other families make it an
    /// APPLICATION patch for PATCH_SET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_family: Option<String>,
    /// When the patch can be installed from the repository.
    pub released: Instant,
    /// The last update (Amazon Linux's notice Updated Date, a revised Windows update):
    /// approval delays count from the later of release and update. Not valid on Debian,
    /// Ubuntu and Raspbian, which have no delays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Instant>,
    /// False when the repository gives no release date: delays count from `build_time`,
    /// or are zero without one.
    #[serde(default = "default_true")]
    pub dated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_time: Option<Instant>,
    /// CVE ids the advisory fixes (ApprovedPatches may name them on yum systems).
    #[serde(default)]
    pub cves: Vec<String>,
    #[serde(default)]
    pub reboot_required: bool,
    #[serde(default = "default_download_mb")]
    pub download_mb: f64,
    #[serde(default = "default_install_duration")]
    pub install_duration: Duration,
    /// Ids of older patches this one replaces.
    #[serde(default)]
    pub supersedes: Vec<String>,
}

fn default_download_mb() -> f64 {
    10.0
}
fn default_install_duration() -> Duration {
    Duration(SimDuration::seconds(30))
}

/// A release process: streams of patches per classification and severity.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorSpec {
    /// Patches are also generated for this long before the start ("the backlog").
    #[serde(default)]
    pub backlog: Duration,
    /// Prefix of generated ids; a sequence number follows.
    pub id_prefix: String,
    pub stream: Vec<StreamSpec>,
}

/// One stream of generated patches.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSpec {
    #[serde(default)]
    pub classification: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub section: Option<String>,
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_family: Option<String>,
    /// Every patch of the stream updates this package (e.g. Windows' cumulative update);
    /// otherwise each picks one of the catalog's anonymous packages uniformly.
    #[serde(default)]
    pub package: Option<String>,
    /// A Poisson process with this mean number of patches per week.
    #[serde(default)]
    pub per_week: Option<f64>,
    /// Or batches released on a schedule (`cron(...)`/`rate(...)`, UTC) ...
    #[serde(default)]
    pub schedule: Option<String>,
    /// ... with this mean number of patches per batch (Poisson).
    #[serde(default)]
    pub per_release: Option<f64>,
    /// ... or exactly this many patches per batch (e.g. 1: one cumulative update per
    /// Patch Tuesday).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Share of the stream's patches that need a reboot.
    #[serde(default)]
    pub reboot_share: f64,
    /// Download size range in MB, drawn uniformly.
    #[serde(default = "default_download_range")]
    pub download_mb: [f64; 2],
    /// Install duration range, drawn uniformly.
    #[serde(default = "default_install_range")]
    pub install_duration: [Duration; 2],
    /// If true, each new patch of a package supersedes the package's previous patch.
    #[serde(default = "default_true")]
    pub supersede_previous: bool,
}

fn default_download_range() -> [f64; 2] {
    [1.0, 20.0]
}
fn default_install_range() -> [Duration; 2] {
    [Duration(SimDuration::seconds(10)), Duration(SimDuration::seconds(60))]
}
fn default_true() -> bool {
    true
}

/// `[[profile]]`: an image or role, which decides what software (so which patches) an
/// instance has.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    pub name: String,
    pub os: String,
    /// Share of the repository's non-core packages installed on this image, chosen by the
    /// profile's own random stream.
    #[serde(default)]
    pub package_share: f64,
    /// Packages always installed on this image, by name.
    #[serde(default)]
    pub packages: Vec<String>,
    /// How many package mixes instances of this profile are drawn from: each mix carries the
    /// core and named packages and each other package with probability `package_share`,
    /// and each instance carries one mix, drawn by its own stream. 1 makes every instance
    /// of the profile alike.
    #[serde(default = "default_mixes")]
    pub mixes: u32,
}

fn default_mixes() -> u32 {
    crate::fleet::DEFAULT_MIXES
}

/// `[[instance_group]]`: instances that share a profile and tags.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceGroupSpec {
    pub name: String,
    pub count: u32,
    pub profile: String,
    /// EC2 tags; `Patch Group` or `PatchGroup` puts the instances in a patch group.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Initial patch level: everything released at least this long before the start is
    /// installed ...
    #[serde(default)]
    pub initial_lag: Duration,
    /// ... plus a per-instance extra lag drawn uniformly from `[0, initial_lag_spread)`.
    #[serde(default)]
    pub initial_lag_spread: Duration,
    /// Probability that one patch fails to install in one Install operation.
    #[serde(default)]
    pub install_failure_probability: f64,
    /// The `[[location]]` the instances run in; without it they are always connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Probability that a command finds the SSM agent crashed; it is back after an
    /// exponential restart time with mean `agent_restart`.
    #[serde(default)]
    pub agent_crash_probability: f64,
    #[serde(default = "default_agent_restart")]
    pub agent_restart: Duration,
    /// Probability that a reboot takes `slow_reboot_extra` longer.
    #[serde(default)]
    pub slow_reboot_probability: f64,
    #[serde(default = "default_slow_reboot")]
    pub slow_reboot_extra: Duration,
    /// Probability that a reboot fails: the Install fails and the instance is unreachable
    /// for `reboot_recovery` (someone repairs it).
    #[serde(default)]
    pub reboot_failure_probability: f64,
    #[serde(default = "default_reboot_recovery")]
    pub reboot_recovery: Duration,
    /// When the instances are launched; before, they are not part of the fleet. Their patch
    /// level (`initial_lag`) counts back from this instant, as from an image's bake date.
    /// Default: the scenario start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_at: Option<Instant>,
    /// When the instances are terminated; afterwards they are gone from targets, counts and
    /// reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminate_at: Option<Instant>,
    /// Periods when the instances' SSM agents cannot be reached (stopped instances,
    /// maintenance): commands wait for them until their delivery timeout.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outage: Vec<OutageSpec>,
}

fn default_agent_restart() -> Duration {
    Duration(SimDuration::minutes(15))
}
fn default_slow_reboot() -> Duration {
    Duration(SimDuration::minutes(20))
}
fn default_reboot_recovery() -> Duration {
    Duration(SimDuration::hours(4))
}

/// One period when an instance group's agents are unreachable.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutageSpec {
    pub start: Instant,
    pub duration: Duration,
}

/// `[[baseline]]`: a custom patch baseline (CreatePatchBaseline).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineSpec {
    /// Required unless `import` gives it.
    #[serde(default)]
    pub name: String,
    /// Required unless `import` gives it.
    #[serde(default)]
    pub os: String,
    /// A JSON file holding the baseline, relative to the scenario file: what
    /// `aws ssm get-patch-baseline` prints, or a CloudFormation `AWS::SSM::PatchBaseline`
    /// resource or its Properties. The other fields stay unset, except `name`, which
    /// renames the imported baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<String>,
    #[serde(default)]
    pub description: String,
    /// GlobalFilters: a patch must match all of them before any rule looks at it.
    #[serde(default)]
    pub global_filters: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub rule: Vec<RuleSpec>,
    #[serde(default)]
    pub approved_patches: Vec<String>,
    #[serde(default = "default_level")]
    pub approved_patches_compliance_level: String,
    /// Linux: approved-list entries may come from non-security sources.
    #[serde(default)]
    pub approved_patches_enable_non_security: bool,
    #[serde(default)]
    pub rejected_patches: Vec<String>,
    #[serde(default = "default_rejected_action")]
    pub rejected_patches_action: String,
    /// Windows: whether a security update that is available but not approved makes the
    /// instance non-compliant (`NON_COMPLIANT`) or not (`COMPLIANT`).
    #[serde(default = "default_available_security")]
    pub available_security_updates_compliance_status: String,
}

fn default_available_security() -> String {
    "COMPLIANT".into()
}

fn default_level() -> String {
    "UNSPECIFIED".into()
}
fn default_rejected_action() -> String {
    "ALLOW_AS_DEPENDENCY".into()
}

/// One approval rule: all filters must match; each filter matches any of its values.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Filter key (`PRODUCT`, `CLASSIFICATION`, `SEVERITY`, ...) to accepted values.
    #[serde(default)]
    pub filters: BTreeMap<String, Vec<String>>,
    /// Approve this many days (0 to 360) after the release or update date ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approve_after_days: Option<u32>,
    /// ... or everything released on or before this date (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approve_until_date: Option<String>,
    #[serde(default = "default_level")]
    pub compliance_level: String,
    /// Linux: also approve updates that do not come from a security source.
    #[serde(default)]
    pub enable_non_security: bool,
}

/// `[[patch_group]]`: a patch group and its baselines, one per operating system.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchGroupSpec {
    pub name: String,
    pub baselines: Vec<String>,
}

/// `[[maintenance_window]]` (CreateMaintenanceWindow plus its targets and tasks).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub name: String,
    pub schedule: String,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default)]
    pub offset_days: Option<u8>,
    #[serde(default)]
    pub start_date: Option<Instant>,
    #[serde(default)]
    pub end_date: Option<Instant>,
    #[serde(default = "default_true")]
    pub enabled: bool,
    pub duration_hours: u32,
    pub cutoff_hours: u32,
    /// `tag:KEY=V1,V2`, `tag-key=KEY` or `*` (every instance).
    pub targets: Vec<String>,
    pub task: Vec<TaskSpec>,
}

fn default_timezone() -> String {
    "UTC".into()
}

/// A Run Command task of AWS-RunPatchBaseline.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    pub name: String,
    #[serde(default = "default_priority")]
    pub priority: u32,
    /// `Scan` or `Install`.
    pub operation: String,
    #[serde(default = "default_reboot_option")]
    pub reboot_option: String,
    /// A count (`50`) or a percentage of the targets (`10%`).
    pub max_concurrency: String,
    /// A count (`0`, `5`) or a percentage (`5%`).
    pub max_errors: String,
    /// Targets of this task; without them, the window's. Several targets are worked through
    /// one after another.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// `CONTINUE_TASK` (running work goes on after the cutoff) or `CANCEL_TASK` (at the
    /// cutoff, running invocations are cancelled and end TIMED_OUT; no new ones start).
    #[serde(default = "default_cutoff_behavior")]
    pub cutoff_behavior: String,
    /// Run Command TimeoutSeconds: a command not delivered to its instance by then never
    /// runs and ends Delivery Timed Out.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u32,
    /// InstallOverrideList: an Install installs exactly the patches named here (patch ids,
    /// or package names with at most one `*`), approved or not, and nothing else. A Scan
    /// ignores it, as AWS-RunPatchBaseline does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub install_override_list: Vec<String>,
}

fn default_cutoff_behavior() -> String {
    "CONTINUE_TASK".into()
}
fn default_timeout_seconds() -> u32 {
    600
}

fn default_priority() -> u32 {
    1
}
fn default_reboot_option() -> String {
    "RebootIfNeeded".into()
}

/// `[[association]]`: a State Manager association running AWS-RunPatchBaseline (a patch
/// policy when it carries `baselines`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssociationSpec {
    pub name: String,
    pub schedule: String,
    /// `Scan` or `Install`.
    #[serde(default = "default_scan")]
    pub operation: String,
    #[serde(default = "default_reboot_option")]
    pub reboot_option: String,
    /// `tag:KEY=V1,V2`, `tag-key=KEY`, `InstanceIds=...`, `resource-groups:Name=...` or `*`.
    pub targets: Vec<String>,
    /// A patch policy's baselines, one per operating system: they replace patch-group and
    /// default-baseline resolution for the instances of those operating systems.
    #[serde(default)]
    pub baselines: Vec<String>,
    /// Rate control. Without it, every target runs at once (a Scan then costs one event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_errors: Option<String>,
    /// "Wait to run until the first CRON interval". Without it the association also runs
    /// when it is created (the scenario start); AWS's patch-policy defaults are `false` for
    /// Scan and `true` for Install, used when this is unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_for_first_interval: Option<bool>,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u32,
}

fn default_scan() -> String {
    "Scan".into()
}

/// A duration written with units (`"30d"`, `"1h30m"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Duration(pub SimDuration);

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text).map(Duration).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_string())
    }
}

/// A share above 0 and at most 1 (`0.95`), checked when it is read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Target(pub f64);

impl Default for Target {
    fn default() -> Self {
        Target(0.95)
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        if value.is_finite() && value > 0.0 && value <= 1.0 {
            Ok(Target(value))
        } else {
            Err(serde::de::Error::custom(format!(
                "compliance_target {value} must be a share above 0 and at most 1, such as 0.95"
            )))
        }
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0)
    }
}

/// An instant: a TOML datetime or an RFC 3339 string; a bare date means 00:00 UTC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Instant(pub SimTime);

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Text(String),
            Toml(toml::value::Datetime),
        }
        let text = match Written::deserialize(deserializer)
            .map_err(|_| serde::de::Error::custom("expected an instant such as 2026-11-02T00:00:00Z"))?
        {
            Written::Text(text) => text,
            Written::Toml(datetime) => datetime.to_string(),
        };
        crate::schedule::parse_instant(&text).map(|secs| Instant(SimTime(secs))).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Instant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_rfc3339())
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
