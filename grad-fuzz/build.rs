//! Writes `$OUT_DIR/random_programs.rs`: `GRAD_FUZZ_PROGRAMS` random scalar differentiable
//! programs (default 300), and `$OUT_DIR/random_tensor_programs.rs`:
//! `GRAD_FUZZ_TENSOR_PROGRAMS` random tensor programs (default 100), both from
//! `GRAD_FUZZ_SEED` (default fixed; the scalar programs build local arrays and `Vec`s unless
//! `GRAD_FUZZ_BUILDS=0`, and those that `order = 2` takes carry it unless
//! `GRAD_FUZZ_ORDER2=0`), for `tests/random_programs.rs` and
//! `tests/random_tensor_programs.rs`.

#[path = "src/generator.rs"]
mod generator;
#[path = "src/rng.rs"]
mod rng;
#[path = "src/scope.rs"]
mod scope;
#[path = "src/tensor_generator.rs"]
mod tensor_generator;

use std::path::PathBuf;

/// The seed of the default run: fixed, so that a default `cargo test` is reproducible.
const DEFAULT_SEED: u64 = 0x6772_6164_2d66_757a;
const DEFAULT_PROGRAMS: usize = 300;
const DEFAULT_TENSOR_PROGRAMS: usize = 100;
/// Mixed into the seed for the tensor programs, so that they are not drawn from the same
/// stream as the scalar ones.
const TENSOR_SEED_MIX: u64 = 0x7465_6e73_6f72_7321;

fn main() {
    println!("cargo:rerun-if-env-changed=GRAD_FUZZ_PROGRAMS");
    println!("cargo:rerun-if-env-changed=GRAD_FUZZ_TENSOR_PROGRAMS");
    println!("cargo:rerun-if-env-changed=GRAD_FUZZ_SEED");
    println!("cargo:rerun-if-env-changed=GRAD_FUZZ_BUILDS");
    println!("cargo:rerun-if-env-changed=GRAD_FUZZ_ORDER2");
    println!("cargo:rerun-if-changed=src/generator.rs");
    println!("cargo:rerun-if-changed=src/tensor_generator.rs");
    println!("cargo:rerun-if-changed=src/rng.rs");
    println!("cargo:rerun-if-changed=src/scope.rs");
    let programs = count("GRAD_FUZZ_PROGRAMS", DEFAULT_PROGRAMS);
    let tensor_programs = count("GRAD_FUZZ_TENSOR_PROGRAMS", DEFAULT_TENSOR_PROGRAMS);
    let seed = std::env::var("GRAD_FUZZ_SEED")
        .ok()
        .map(|s| parse_seed(&s))
        .unwrap_or(DEFAULT_SEED);
    // Arrays, Vecs and vector-valued helpers in scalar programs, unless switched off.
    let builds = std::env::var("GRAD_FUZZ_BUILDS").map_or(true, |s| s.trim() != "0");
    // `#[differentiable(order = 2)]` on the programs it takes (scalar and tensor), unless
    // switched off.
    let order2 = std::env::var("GRAD_FUZZ_ORDER2").map_or(true, |s| s.trim() != "0");
    let programs = generator::generate_with(programs, seed, builds, order2);
    let source = generator::render(&programs, seed);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("random_programs.rs"), source).expect("write the programs");
    let tensor_seed = seed ^ TENSOR_SEED_MIX;
    let programs = tensor_generator::generate(tensor_programs, tensor_seed, order2);
    let source = generator::render(&programs, tensor_seed);
    std::fs::write(out.join("random_tensor_programs.rs"), source)
        .expect("write the tensor programs");
}

/// A count from the environment, or its default.
fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .map(|s| {
            s.trim()
                .parse()
                .unwrap_or_else(|_| panic!("{var}: a count"))
        })
        .unwrap_or(default)
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
