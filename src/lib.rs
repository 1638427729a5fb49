//! patchfleet: a deterministic discrete-event simulator of AWS Systems Manager Patch
//! Manager fleets, and a load-test harness for its own core.
//!
//! The public API in one breath: [`scenario::load`] a scenario (or
//! [`scenario::load_default`]), [`run::run`] it with a seed, and write the
//! [`run::RunResult`] with [`report::write_results`]. See ARCHITECTURE.md for the map.

pub mod baseline;
pub mod bench;
pub mod bitset;
pub mod catalog;
pub mod compliance;
pub mod engine;
pub mod experiment;
pub mod fleet;
pub mod limits;
pub mod load;
pub mod metrics;
pub mod network;
pub mod report;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod schedule;
pub mod sim;
pub mod threshold;
pub mod time;
pub mod window;

/// The version written into every results directory.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
