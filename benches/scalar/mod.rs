//! Group `scalar`: the primal, the generated gradient, a hand-written gradient and a tape.
//!
//! Ids are `scalar/<case>/<variant>`, variant one of `primal`, `generated`, `handwritten`,
//! `tape`. Inputs are built outside the timed closures; inputs and outputs go through
//! `black_box`. Each output goes through it once, inside a closure that returns `()`:
//! returning it would have criterion black-box it a second time, and copying S1's
//! `(f64, f64)` from one black box to the other stalled store forwarding (3.9 ns against
//! 0.36 ns measured for the same function).

use std::hint::black_box;

use criterion::Criterion;

mod cases;
mod tape;

use cases::*;
use tape::*;

pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("scalar");

    let a = s1_input();
    group.bench_function("S1_scale/primal", |b| {
        b.iter(|| {
            black_box(s1_scale(black_box(a)));
        })
    });
    group.bench_function("S1_scale/generated", |b| {
        b.iter(|| {
            black_box(s1_scale_grad(black_box(a)));
        })
    });
    group.bench_function("S1_scale/handwritten", |b| {
        b.iter(|| {
            black_box(s1_scale_handwritten(black_box(a)));
        })
    });
    group.bench_function("S1_scale/tape", |b| {
        b.iter(|| {
            black_box(s1_scale_tape(black_box(a)));
        })
    });

    let (x, y) = s2_input();
    group.bench_function("S2_rosenbrock/primal", |b| {
        b.iter(|| {
            black_box(s2_rosenbrock(black_box(x), black_box(y)));
        })
    });
    group.bench_function("S2_rosenbrock/generated", |b| {
        b.iter(|| {
            black_box(s2_rosenbrock_grad(black_box(x), black_box(y)));
        })
    });
    group.bench_function("S2_rosenbrock/handwritten", |b| {
        b.iter(|| {
            black_box(s2_rosenbrock_handwritten(black_box(x), black_box(y)));
        })
    });
    group.bench_function("S2_rosenbrock/tape", |b| {
        b.iter(|| {
            black_box(s2_rosenbrock_tape(black_box(x), black_box(y)));
        })
    });

    let xs = s3_input();
    group.bench_function("S3_rosenbrock_n/primal", |b| {
        b.iter(|| {
            black_box(s3_rosenbrock(black_box(&xs)));
        })
    });
    group.bench_function("S3_rosenbrock_n/generated", |b| {
        b.iter(|| {
            black_box(s3_rosenbrock_grad(black_box(&xs)));
        })
    });
    group.bench_function("S3_rosenbrock_n/handwritten", |b| {
        b.iter(|| {
            black_box(s3_rosenbrock_handwritten(black_box(&xs)));
        })
    });
    group.bench_function("S3_rosenbrock_n/tape", |b| {
        b.iter(|| {
            black_box(s3_rosenbrock_tape(black_box(&xs)));
        })
    });

    let (s, k, r, sigma, t) = s4_input();
    group.bench_function("S4_black_scholes/primal", |b| {
        b.iter(|| {
            let (s, k, r, sigma, t) = black_box((s, k, r, sigma, t));
            black_box(s4_black_scholes(s, k, r, sigma, t));
        })
    });
    group.bench_function("S4_black_scholes/generated", |b| {
        b.iter(|| {
            let (s, k, r, sigma, t) = black_box((s, k, r, sigma, t));
            black_box(s4_black_scholes_grad(s, k, r, sigma, t));
        })
    });
    group.bench_function("S4_black_scholes/handwritten", |b| {
        b.iter(|| {
            let (s, k, r, sigma, t) = black_box((s, k, r, sigma, t));
            black_box(s4_black_scholes_handwritten(s, k, r, sigma, t));
        })
    });
    group.bench_function("S4_black_scholes/tape", |b| {
        b.iter(|| {
            let (s, k, r, sigma, t) = black_box((s, k, r, sigma, t));
            black_box(s4_black_scholes_tape(s, k, r, sigma, t));
        })
    });

    let theta = s5_input();
    group.bench_function("S5_arm/primal", |b| {
        b.iter(|| {
            black_box(s5_arm(black_box(&theta)));
        })
    });
    group.bench_function("S5_arm/generated", |b| {
        b.iter(|| {
            black_box(s5_arm_grad(black_box(&theta)));
        })
    });
    group.bench_function("S5_arm/handwritten", |b| {
        b.iter(|| {
            black_box(s5_arm_handwritten(black_box(&theta)));
        })
    });
    group.bench_function("S5_arm/tape", |b| {
        b.iter(|| {
            black_box(s5_arm_tape(black_box(&theta)));
        })
    });

    group.finish();
}
