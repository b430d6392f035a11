//! Writes `$OUT_DIR/random_programs.rs`: `GRAD_FUZZ_PROGRAMS` random differentiable programs
//! (default 300) from `GRAD_FUZZ_SEED` (default fixed), for `tests/random_programs.rs`.

#[path = "src/generator.rs"]
mod generator;
#[path = "src/rng.rs"]
mod rng;

use std::path::PathBuf;

/// The seed of the default run: fixed, so that a default `cargo test` is reproducible.
const DEFAULT_SEED: u64 = 0x6772_6164_2d66_757a;
const DEFAULT_PROGRAMS: usize = 300;

fn main() {
    println!("cargo:rerun-if-env-changed=GRAD_FUZZ_PROGRAMS");
    println!("cargo:rerun-if-env-changed=GRAD_FUZZ_SEED");
    println!("cargo:rerun-if-changed=src/generator.rs");
    println!("cargo:rerun-if-changed=src/rng.rs");
    let programs = std::env::var("GRAD_FUZZ_PROGRAMS")
        .ok()
        .map(|s| s.trim().parse().expect("GRAD_FUZZ_PROGRAMS: a count"))
        .unwrap_or(DEFAULT_PROGRAMS);
    let seed = std::env::var("GRAD_FUZZ_SEED")
        .ok()
        .map(|s| parse_seed(&s))
        .unwrap_or(DEFAULT_SEED);
    let source = generator::render(&generator::generate(programs, seed), seed);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("random_programs.rs"), source).expect("write the programs");
}

/// A seed in decimal or `0x` hexadecimal.
fn parse_seed(s: &str) -> u64 {
    let s = s.trim();
    let parsed = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.expect("GRAD_FUZZ_SEED: an integer, decimal or 0x-hex")
}
