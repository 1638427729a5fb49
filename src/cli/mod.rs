//! Subcommands of the `patchfleet` binary that have outgrown `main.rs`, one file each.

pub mod experiment;
