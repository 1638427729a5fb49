//! Arbitrary bytes as a scenario file: decoding, parsing and validation must never panic,
//! and a scenario that validates with a small estimate runs to a stop reason.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchfleet::scenario;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = scenario::decode_text(data.to_vec()) else { return };
    let Ok(scenario) = scenario::load("fuzz.toml", &text) else { return };
    let estimate = scenario::estimate::estimate(&scenario);
    if estimate.work <= 200_000 && estimate.memory_bytes <= 256 << 20 && estimate.instances_ever <= 100_000 {
        let result = patchfleet::run::run(&scenario, scenario.seed, |_, _| {});
        assert!(result.is_ok(), "a valid scenario runs: {:?}", result.err());
    }
});
