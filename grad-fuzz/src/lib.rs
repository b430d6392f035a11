//! Differential testing of `grad`'s generated derivatives on random programs.
//!
//! [`generator`] writes random `#[differentiable]` functions within the supported subset (the
//! build script runs it and the test `tests/random_programs.rs` compiles the result);
//! [`check`] runs every program's primal, `_grad`, `_vjp` and `_jvp` at random points and
//! holds them to each other and to finite differences. See `RELIABILITY.md` at the
//! repository root for what this establishes and what it does not.

pub mod check;
pub mod generator;
pub mod rng;
