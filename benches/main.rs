//! All of grad's benchmarks, one criterion binary; each area is a module.

use criterion::{criterion_group, criterion_main};

mod alloc;
mod kernels;
mod parallel;
mod scalar;
mod tensor;

/// Counts heap bytes, for the tensor group's peak-memory table.
#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

criterion_group!(
    benches,
    scalar::bench,
    kernels::bench,
    tensor::bench,
    parallel::bench
);
criterion_main!(benches);
