//! All of grad's benchmarks, one criterion binary; each area is a module.

use criterion::{criterion_group, criterion_main};

mod kernels;
mod scalar;

criterion_group!(benches, scalar::bench, kernels::bench);
criterion_main!(benches);
