//! Group `scalar`: the primal, the generated gradient, a hand-written gradient and a tape.

use criterion::Criterion;

pub fn bench(_c: &mut Criterion) {}
