//! Group `tensor`: T1 the quick start, T2 logistic regression, T3 MLP, T4 elementwise — the primal, the
//! generated gradient, a hand-written gradient over the same kernels, and a tape over the
//! same kernels; and, printed first, the peak heap of one call of each.

use std::hint::black_box;

use criterion::Criterion;

pub mod cases;
pub mod tape;

use cases::*;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Prints the peak heap of one call of each variant (a counting allocator).
fn memory_table() {
    use crate::alloc::peak_of;
    let a = t1_input();
    let (w, b, x, y) = t2_input();
    let (p, x3, labels) = t3_input();
    let x4 = t4_input();
    let rows = [
        (
            "T1",
            peak_of(|| t1_quickstart(&a)),
            peak_of(|| t1_quickstart_grad(&a)),
            peak_of(|| t1_handwritten(&a)),
            peak_of(|| t1_tape(&a)),
        ),
        (
            "T2",
            peak_of(|| t2_logistic(&w, b, &x, &y)),
            peak_of(|| t2_logistic_grad(&w, b, &x, &y)),
            peak_of(|| t2_handwritten(&w, b, &x, &y)),
            peak_of(|| t2_tape(&w, b, &x, &y)),
        ),
        (
            "T3",
            peak_of(|| t3_mlp(&p.0, &p.1, &p.2, &p.3, &x3, &labels)),
            peak_of(|| t3_mlp_grad(&p.0, &p.1, &p.2, &p.3, &x3, &labels)),
            peak_of(|| t3_handwritten(&p, &x3, &labels)),
            peak_of(|| t3_tape(&p, &x3, &labels)),
        ),
        (
            "T4",
            peak_of(|| t4_elementwise(&x4)),
            peak_of(|| t4_elementwise_grad(&x4)),
            peak_of(|| t4_handwritten(&x4)),
            peak_of(|| t4_tape(&x4)),
        ),
    ];
    println!("peak heap of one call (MiB): case, primal, generated, handwritten, tape");
    for (case, primal, generated, hand, tape) in rows {
        println!(
            "{case}: {:.2}, {:.2}, {:.2}, {:.2}",
            mib(primal),
            mib(generated),
            mib(hand),
            mib(tape)
        );
    }
}

pub fn bench(c: &mut Criterion) {
    memory_table();
    let mut group = c.benchmark_group("tensor");
    group.sample_size(30);

    let a = t1_input();
    group.bench_function("T1_quickstart/primal", |bn| {
        bn.iter(|| {
            black_box(t1_quickstart(black_box(&a)));
        })
    });
    group.bench_function("T1_quickstart/generated", |bn| {
        bn.iter(|| {
            black_box(t1_quickstart_grad(black_box(&a)));
        })
    });
    group.bench_function("T1_quickstart/handwritten", |bn| {
        bn.iter(|| {
            black_box(t1_handwritten(black_box(&a)));
        })
    });
    group.bench_function("T1_quickstart/tape", |bn| {
        bn.iter(|| {
            black_box(t1_tape(black_box(&a)));
        })
    });

    let (w, b, x, y) = t2_input();
    group.bench_function("T2_logistic/primal", |bn| {
        bn.iter(|| {
            black_box(t2_logistic(black_box(&w), b, &x, &y));
        })
    });
    group.bench_function("T2_logistic/generated", |bn| {
        bn.iter(|| {
            black_box(t2_logistic_grad(black_box(&w), b, &x, &y));
        })
    });
    group.bench_function("T2_logistic/handwritten", |bn| {
        bn.iter(|| {
            black_box(t2_handwritten(black_box(&w), b, &x, &y));
        })
    });
    group.bench_function("T2_logistic/tape", |bn| {
        bn.iter(|| {
            black_box(t2_tape(black_box(&w), b, &x, &y));
        })
    });

    let (p, x3, labels) = t3_input();
    group.bench_function("T3_mlp/primal", |bn| {
        bn.iter(|| {
            black_box(t3_mlp(black_box(&p.0), &p.1, &p.2, &p.3, &x3, &labels));
        })
    });
    group.bench_function("T3_mlp/generated", |bn| {
        bn.iter(|| {
            black_box(t3_mlp_grad(black_box(&p.0), &p.1, &p.2, &p.3, &x3, &labels));
        })
    });
    group.bench_function("T3_mlp/handwritten", |bn| {
        bn.iter(|| {
            black_box(t3_handwritten(black_box(&p), &x3, &labels));
        })
    });
    group.bench_function("T3_mlp/tape", |bn| {
        bn.iter(|| {
            black_box(t3_tape(black_box(&p), &x3, &labels));
        })
    });

    let x4 = t4_input();
    group.bench_function("T4_elementwise/primal", |bn| {
        bn.iter(|| {
            black_box(t4_elementwise(black_box(&x4)));
        })
    });
    group.bench_function("T4_elementwise/generated", |bn| {
        bn.iter(|| {
            black_box(t4_elementwise_grad(black_box(&x4)));
        })
    });
    group.bench_function("T4_elementwise/handwritten", |bn| {
        bn.iter(|| {
            black_box(t4_handwritten(black_box(&x4)));
        })
    });
    group.bench_function("T4_elementwise/tape", |bn| {
        bn.iter(|| {
            black_box(t4_tape(black_box(&x4)));
        })
    });
    group.finish();
}
