//! Group `second`: the Hessian-vector product `f_hvp` of `#[differentiable(order = 2)]`
//! beside the gradient `f_grad` on S2..S5 and the tensor case T2, so that one run gives
//! their ratio (issue #14's target: `hvp` at most 4x `grad`). Ids are `second/<case>/grad`
//! and `second/<case>/hvp`; the directions are fixed, built outside the timed closures.

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;

use super::cases::*;

pub fn second_group(c: &mut Criterion) {
    let mut group = c.benchmark_group("second");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));

    let (x, y) = s2_input();
    group.bench_function("S2_rosenbrock/grad", |b| {
        b.iter(|| {
            black_box(s2_rosenbrock_grad(black_box(x), black_box(y)));
        })
    });
    group.bench_function("S2_rosenbrock/hvp", |b| {
        b.iter(|| {
            let (x, y, vx, vy) = black_box((x, y, 0.3, -0.7));
            black_box(s2_rosenbrock_hvp(x, y, vx, vy));
        })
    });

    let xs = s3_input();
    let v: Vec<f64> = (0..xs.len()).map(|i| (i as f64 * 0.37).sin()).collect();
    group.bench_function("S3_rosenbrock_n/grad", |b| {
        b.iter(|| {
            black_box(s3_rosenbrock_grad(black_box(&xs)));
        })
    });
    group.bench_function("S3_rosenbrock_n/hvp", |b| {
        b.iter(|| {
            black_box(s3_rosenbrock_hvp(black_box(&xs), black_box(&v)));
        })
    });

    let (s, k, r, sigma, t) = s4_input();
    group.bench_function("S4_black_scholes/grad", |b| {
        b.iter(|| {
            let (s, k, r, sigma, t) = black_box((s, k, r, sigma, t));
            black_box(s4_black_scholes_grad(s, k, r, sigma, t));
        })
    });
    group.bench_function("S4_black_scholes/hvp", |b| {
        b.iter(|| {
            let (s, k, r, sigma, t) = black_box((s, k, r, sigma, t));
            let v = black_box((1.0, -0.5, 0.01, 0.02, 0.1));
            black_box(s4_black_scholes_hvp(
                s, k, r, sigma, t, v.0, v.1, v.2, v.3, v.4,
            ));
        })
    });

    let theta = s5_input();
    let dtheta = [0.5, -0.2, 0.9, 0.1, -0.4, 0.3];
    group.bench_function("S5_arm/grad", |b| {
        b.iter(|| {
            black_box(s5_arm_grad(black_box(&theta)));
        })
    });
    group.bench_function("S5_arm/hvp", |b| {
        b.iter(|| {
            black_box(s5_arm_hvp(black_box(&theta), black_box(&dtheta)));
        })
    });

    // T2, logistic regression over a 1024 x 100 tensor: the weights along a direction, the
    // bias fixed.
    let (w, b, x, y) = crate::tensor::cases::t2_input();
    let vw = grad::Tensor::randn(w.shape(), 3);
    group.bench_function("T2_logistic/grad", |bn| {
        bn.iter(|| {
            black_box(crate::tensor::cases::t2_logistic_grad(
                black_box(&w),
                b,
                &x,
                &y,
            ));
        })
    });
    group.bench_function("T2_logistic/hvp", |bn| {
        bn.iter(|| {
            black_box(crate::tensor::cases::t2_logistic_hvp(
                black_box(&w),
                b,
                &x,
                &y,
                black_box(&vw),
                0.0,
                grad::NoTangent,
                grad::NoTangent,
            ));
        })
    });
    group.finish();
}
