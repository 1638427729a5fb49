//! The gate's text on stdout: the suite's list, the results table, and the pending-event
//! set beside the bare `BinaryHeap`.

use std::fmt::Write;

use super::compare::{Change, Verdict};
use super::format::{Bmf, INSTRUCTIONS, LATENCY};
use super::suite::{Measure, SUITE};

/// `--list`: every benchmark, whether it is counted, and what it measures.
pub fn list(suite: &[Measure]) -> String {
    let mut text = String::new();
    for measure in suite {
        let kind = if measure.counted { "instructions + wall" } else { "wall only" };
        let _ = writeln!(text, "{:<46} {:<20} per {:<5} {}", measure.name, kind, measure.op, measure.about);
    }
    text
}

/// One row per benchmark of `current`, in suite order: instructions per operation, the
/// baseline's, the change, the tolerance, the wall time and the verdict.
pub fn results(current: &Bmf, changes: &[Change]) -> String {
    let mut text = format!(
        "{:<46} {:>14} {:>14} {:>9} {:>7} {:>11}  {}\n",
        "benchmark", "instr/op", "baseline", "change", "tol", "wall/op", "verdict"
    );
    for name in ordered(current) {
        let measures = &current[name];
        let change = changes.iter().find(|c| c.bench == name);
        let count = measures.get(INSTRUCTIONS).map_or("-".into(), |m| format!("{:.1}", m.value));
        let (base, tolerance) = match change.and_then(|c| c.baseline) {
            Some((base, tolerance)) => (format!("{base:.1}"), format!("{tolerance:.2}%")),
            None => ("-".into(), "-".into()),
        };
        let percent = change.and_then(Change::percent).map_or("-".into(), |p| format!("{p:+.2}%"));
        let wall = measures.get(LATENCY).map_or("-".into(), |m| nanoseconds(m.value));
        let verdict = match change.map(|c| &c.verdict) {
            Some(Verdict::Within) => "ok",
            Some(Verdict::Regressed) => "REGRESSED",
            Some(Verdict::Improved) => "improved",
            Some(Verdict::New) => "new",
            None => "not gated",
        };
        let _ = writeln!(text, "{name:<46} {count:>14} {base:>14} {percent:>9} {tolerance:>7} {wall:>11}  {verdict}");
    }
    text
}

/// Benchmark names of `current`: the suite's in suite order, then any others.
fn ordered(current: &Bmf) -> Vec<&str> {
    let mut names: Vec<&str> = SUITE.iter().map(|m| m.name).filter(|n| current.contains_key(*n)).collect();
    let others: Vec<&str> = current.keys().map(String::as_str).filter(|n| !names.contains(n)).collect();
    names.extend(others);
    names
}

/// The pending-event set against the bare `BinaryHeap` at each size measured: its
/// instructions per hold over the heap's, and its wall-clock throughput as a share of the
/// heap's.
pub fn heap_ratios(current: &Bmf) -> String {
    let mut text = String::new();
    for size in ["1000", "1000000"] {
        let get = |kind: &str, measure: &str| {
            current.get(&format!("engine_hold/{kind}_{size}")).and_then(|m| m.get(measure)).map(|m| m.value)
        };
        let mut parts = Vec::new();
        if let (Some(queue), Some(heap)) = (get("pending", INSTRUCTIONS), get("binary_heap", INSTRUCTIONS)) {
            parts.push(format!("{:.2}x the instructions", queue / heap));
        }
        if let (Some(queue), Some(heap)) = (get("pending", LATENCY), get("binary_heap", LATENCY)) {
            parts.push(format!("{:.0}% of the throughput", heap / queue * 100.0));
        }
        if !parts.is_empty() {
            let _ = writeln!(text, "pending set at {size} events vs bare BinaryHeap: {}", parts.join(", "));
        }
    }
    text
}

/// Nanoseconds in a readable unit.
fn nanoseconds(value: f64) -> String {
    match value {
        v if v < 1e3 => format!("{v:.1} ns"),
        v if v < 1e6 => format!("{:.2} µs", v / 1e3),
        v if v < 1e9 => format!("{:.1} ms", v / 1e6),
        v => format!("{:.2} s", v / 1e9),
    }
}
