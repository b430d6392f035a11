//! Differential testing of `grad`'s generated derivatives on random programs.
//!
//! [`generator`] writes random scalar `#[differentiable]` functions within the supported
//! subset, and [`tensor_generator`] random functions of tensors (the build script runs both;
//! the tests `tests/random_programs.rs` and `tests/random_tensor_programs.rs` compile them);
//! [`check`] runs every program's primal, `_grad`, `_vjp` and `_jvp` at random points and
//! holds them to each other and to finite differences. See `RELIABILITY.md` at the
//! repository root for what this establishes and what it does not.

pub mod check;
pub mod generator;
pub mod rng;
mod scope;
pub mod tensor_generator;
