//! Patch baselines: rules and lists compiled into per-patch approval instants, and the
//! approved bitsets that scans evaluate against.

pub mod aws_json;
mod aws_yaml;
mod compile;
mod def;
pub mod explain;
pub mod predefined;

pub use compile::{
    Approval, ApprovalSource, CompiledBaseline, Snapshot, approval_base, approval_of, compile, entry_matches,
    filter_matches, patch_set,
};
pub use def::{ApprovalDelay, BaselineDef, ComplianceLevel, FilterKey, LEVELS, RejectedAction, RuleDef};
