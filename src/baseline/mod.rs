//! Patch baselines: rules and lists compiled into per-patch approval instants, and the
//! approved bitsets that scans evaluate against.

mod compile;
mod def;
pub mod predefined;

pub use compile::{Approval, CompiledBaseline, compile, entry_matches, filter_matches};
pub use def::{BaselineDef, ComplianceLevel, FilterKey, LEVELS, RejectedAction, RuleDef};
