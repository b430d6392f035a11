//! Group `scalar`: the primal, the generated gradient, a hand-written gradient and a tape;
//! and, printed first, the allocations of one call of each on the slice cases and the peak
//! heap of one call of each on S7 and S8. Then group `forms`: the generated gradient of each
//! form of S3, S4 and S5 that `forms.rs` lists, beside its case's baselines; and group
//! `second` (`second.rs`): `_hvp` beside `_grad` on S2..S5 and T2.
//!
//! Ids are `scalar/<case>/<variant>`, variant one of `primal`, `generated`, `handwritten`,
//! `tape` (and S8's `checkpointed`, its loop under `grad::checkpoint(0..n, 32)`); and `forms/<case>/<form>/generated` with `forms/<case>/<variant>` for the three
//! others. Inputs are built outside the timed closures; inputs and outputs go through
//! `black_box`. Each output goes through it once, inside a closure that returns `()`:
//! returning it would have criterion black-box it a second time, and copying S1's
//! `(f64, f64)` from one black box to the other stalled store forwarding (3.9 ns against
//! 0.36 ns measured for the same function).

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};

use crate::alloc::{Allocations, allocations_of, peak_of};

mod cases;
mod forms;
mod second;
mod tape;

use cases::*;
use forms::*;
use second::second_group;
use tape::*;

/// Prints the allocations of one call of each variant of the slice cases: the iterator
/// forms of S3 should allocate what the index form does (the gradient `Vec`, nothing else).
fn allocation_table() {
    let x = s3_input();
    let (w, x6, y) = s6_input();
    let s3_primal = |f: fn(&[f64]) -> f64| allocations_of(|| f(&x));
    let s3_grad = |f: fn(&[f64]) -> (f64, Vec<f64>)| allocations_of(|| f(&x));
    let s3_hand = s3_grad(s3_rosenbrock_handwritten);
    let s3_tape = s3_grad(s3_rosenbrock_tape);
    let rows: [(&str, Allocations, Allocations, Allocations, Allocations); 5] = [
        (
            "S3_rosenbrock_n",
            s3_primal(s3_rosenbrock),
            s3_grad(s3_rosenbrock_grad),
            s3_hand,
            s3_tape,
        ),
        (
            "S3w_rosenbrock_windows",
            s3_primal(s3w_rosenbrock_windows),
            s3_grad(s3w_rosenbrock_windows_grad),
            s3_hand,
            s3_tape,
        ),
        (
            "S3z_rosenbrock_zip",
            s3_primal(s3z_rosenbrock_zip),
            s3_grad(s3z_rosenbrock_zip_grad),
            s3_hand,
            s3_tape,
        ),
        (
            "S3m_rosenbrock_chain",
            s3_primal(s3m_rosenbrock_chain),
            s3_grad(s3m_rosenbrock_chain_grad),
            s3_hand,
            s3_tape,
        ),
        (
            "S6_dot_loss",
            allocations_of(|| s6_dot_loss(&w, &x6, y)),
            allocations_of(|| s6_dot_loss_grad(&w, &x6, y)),
            allocations_of(|| s6_dot_loss_handwritten(&w, &x6, y)),
            allocations_of(|| s6_dot_loss_tape(&w, &x6, y)),
        ),
    ];
    println!("allocations of one call (count, bytes): case, primal, generated, handwritten, tape");
    for (case, primal, generated, hand, tape) in rows {
        let show = |a: Allocations| format!("{} ({} B)", a.count, a.bytes);
        println!(
            "{case}: {}, {}, {}, {}",
            show(primal),
            show(generated),
            show(hand),
            show(tape)
        );
    }
}

/// Prints the peak heap (above what was live before) and the allocations of one call of
/// each S7 variant: the issue-11 question of what the generated gradient keeps for its
/// reverse sweep, where the hand-written one keeps no state but the final row.
fn heat_memory_table() {
    let (u0, k, steps) = s7_input();
    let measure = |f: &dyn Fn() -> f64| {
        let peak = peak_of(f);
        (peak, allocations_of(f))
    };
    let rows: [(&str, (usize, Allocations)); 4] = [
        ("primal", measure(&|| s7_heat(&u0, k, steps))),
        ("generated", measure(&|| s7_heat_grad(&u0, k, steps).0)),
        (
            "handwritten",
            measure(&|| s7_heat_handwritten(&u0, k, steps).0),
        ),
        ("tape", measure(&|| s7_heat_tape(&u0, k, steps).0)),
    ];
    println!(
        "S7_heat ({} cells, {steps} steps), one call: variant, peak heap bytes, allocations (count, bytes)",
        u0.len()
    );
    for (variant, (peak, a)) in rows {
        println!("S7_heat {variant}: {peak} B, {} ({} B)", a.count, a.bytes);
    }
}

/// The four variants of a case of one slice whose baselines are S3's.
fn s3_form(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    x: &[f64],
    primal: impl Fn(&[f64]) -> f64,
    generated: impl Fn(&[f64]) -> (f64, Vec<f64>),
) {
    group.bench_function(format!("{id}/primal"), |b| {
        b.iter(|| {
            black_box(primal(black_box(x)));
        })
    });
    group.bench_function(format!("{id}/generated"), |b| {
        b.iter(|| {
            black_box(generated(black_box(x)));
        })
    });
    group.bench_function(format!("{id}/handwritten"), |b| {
        b.iter(|| {
            black_box(s3_rosenbrock_handwritten(black_box(x)));
        })
    });
    group.bench_function(format!("{id}/tape"), |b| {
        b.iter(|| {
            black_box(s3_rosenbrock_tape(black_box(x)));
        })
    });
}

/// Prints the peak heap of one call of each S8 variant: the stored-states gradient keeps
/// every step's two f64 (16 MB for a million steps), the checkpointed one 32 of them.
fn oscillator_memory_table() {
    let (k, c, n) = s8_input();
    let rows: [(&str, usize); 5] = [
        ("primal", peak_of(|| s8_oscillator(k, c, n))),
        ("generated", peak_of(|| s8_oscillator_grad(k, c, n))),
        (
            "checkpointed",
            peak_of(|| s8_oscillator_checkpointed_grad(k, c, n)),
        ),
        (
            "handwritten",
            peak_of(|| s8_oscillator_handwritten(k, c, n)),
        ),
        ("tape", peak_of(|| s8_oscillator_tape(k, c, n))),
    ];
    println!("S8_oscillator ({n} steps), one call: variant, peak heap bytes");
    for (variant, peak) in rows {
        println!("S8_oscillator {variant}: {peak} B");
    }
}

pub fn bench(c: &mut Criterion) {
    allocation_table();
    heat_memory_table();
    oscillator_memory_table();
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
    s3_form(
        &mut group,
        "S3w_rosenbrock_windows",
        &xs,
        s3w_rosenbrock_windows,
        s3w_rosenbrock_windows_grad,
    );
    s3_form(
        &mut group,
        "S3z_rosenbrock_zip",
        &xs,
        s3z_rosenbrock_zip,
        s3z_rosenbrock_zip_grad,
    );
    s3_form(
        &mut group,
        "S3m_rosenbrock_chain",
        &xs,
        s3m_rosenbrock_chain,
        s3m_rosenbrock_chain_grad,
    );

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

    let (w, x, y) = s6_input();
    group.bench_function("S6_dot_loss/primal", |b| {
        b.iter(|| {
            black_box(s6_dot_loss(black_box(&w), black_box(&x), black_box(y)));
        })
    });
    group.bench_function("S6_dot_loss/generated", |b| {
        b.iter(|| {
            black_box(s6_dot_loss_grad(black_box(&w), black_box(&x), black_box(y)));
        })
    });
    group.bench_function("S6_dot_loss/handwritten", |b| {
        b.iter(|| {
            black_box(s6_dot_loss_handwritten(
                black_box(&w),
                black_box(&x),
                black_box(y),
            ));
        })
    });
    group.bench_function("S6_dot_loss/tape", |b| {
        b.iter(|| {
            black_box(s6_dot_loss_tape(black_box(&w), black_box(&x), black_box(y)));
        })
    });

    let (u0, k, steps) = s7_input();
    group.bench_function("S7_heat/primal", |b| {
        b.iter(|| {
            black_box(s7_heat(black_box(&u0), black_box(k), black_box(steps)));
        })
    });
    group.bench_function("S7_heat/generated", |b| {
        b.iter(|| {
            black_box(s7_heat_grad(black_box(&u0), black_box(k), black_box(steps)));
        })
    });
    group.bench_function("S7_heat/handwritten", |b| {
        b.iter(|| {
            black_box(s7_heat_handwritten(
                black_box(&u0),
                black_box(k),
                black_box(steps),
            ));
        })
    });
    group.bench_function("S7_heat/tape", |b| {
        b.iter(|| {
            black_box(s7_heat_tape(black_box(&u0), black_box(k), black_box(steps)));
        })
    });

    let (k, damping, n) = s8_input();
    group.bench_function("S8_oscillator/primal", |b| {
        b.iter(|| {
            black_box(s8_oscillator(
                black_box(k),
                black_box(damping),
                black_box(n),
            ));
        })
    });
    group.bench_function("S8_oscillator/generated", |b| {
        b.iter(|| {
            black_box(s8_oscillator_grad(
                black_box(k),
                black_box(damping),
                black_box(n),
            ));
        })
    });
    group.bench_function("S8_oscillator/checkpointed", |b| {
        b.iter(|| {
            black_box(s8_oscillator_checkpointed_grad(
                black_box(k),
                black_box(damping),
                black_box(n),
            ));
        })
    });
    group.bench_function("S8_oscillator/handwritten", |b| {
        b.iter(|| {
            black_box(s8_oscillator_handwritten(
                black_box(k),
                black_box(damping),
                black_box(n),
            ));
        })
    });
    group.bench_function("S8_oscillator/tape", |b| {
        b.iter(|| {
            black_box(s8_oscillator_tape(
                black_box(k),
                black_box(damping),
                black_box(n),
            ));
        })
    });

    group.finish();
    forms_group(c);
    second_group(c);
}

/// Times `f` on `x`. `f` is hidden from the optimizer, so that it is called through its
/// pointer as the forms, which come from tables, are: every entry pays the same indirect
/// call (a nanosecond or two, next to S4's and S5's tens of nanoseconds).
fn time_on<X: ?Sized, R>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    x: &X,
    f: fn(&X) -> R,
) {
    let f = black_box(f);
    group.bench_function(id, |b| {
        b.iter(|| {
            black_box(f(black_box(x)));
        })
    });
}

/// `time_on` for S4's five arguments.
fn time_on_s4<R>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    (s, k, r, sigma, t): (f64, f64, f64, f64, f64),
    f: fn(f64, f64, f64, f64, f64) -> R,
) {
    let f = black_box(f);
    group.bench_function(id, |b| {
        b.iter(|| {
            let (s, k, r, sigma, t) = black_box((s, k, r, sigma, t));
            black_box(f(s, k, r, sigma, t));
        })
    });
}

/// Group `forms` (issue #12): per case its primal, hand-written gradient and tape once, then
/// the generated gradient of each form, so that one run gives each form's ratio to the
/// hand-written adjoint. One second of warm-up and three of measurement per entry keep the
/// thirty-odd entries to about two minutes; the functions take 0.05 to 5 us, so three
/// seconds are still a few hundred thousand calls.
fn forms_group(c: &mut Criterion) {
    let mut group = c.benchmark_group("forms");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));

    let x = s3_input();
    time_on(&mut group, "S3/primal", &x[..], s3_rosenbrock);
    time_on(
        &mut group,
        "S3/handwritten",
        &x[..],
        s3_rosenbrock_handwritten,
    );
    time_on(&mut group, "S3/tape", &x[..], s3_rosenbrock_tape);
    for form in &S3_FORMS {
        let id = format!("S3/{}/generated", form.name);
        time_on(&mut group, &id, &x[..], form.generated);
    }

    let p = s4_input();
    time_on_s4(&mut group, "S4/primal", p, s4_black_scholes);
    time_on_s4(
        &mut group,
        "S4/handwritten",
        p,
        s4_black_scholes_handwritten,
    );
    time_on_s4(&mut group, "S4/tape", p, s4_black_scholes_tape);
    for form in &S4_FORMS {
        let id = format!("S4/{}/generated", form.name);
        time_on_s4(&mut group, &id, p, form.generated);
    }

    let theta = s5_input();
    time_on(&mut group, "S5/primal", &theta, s5_arm);
    time_on(&mut group, "S5/handwritten", &theta, s5_arm_handwritten);
    time_on(&mut group, "S5/tape", &theta, s5_arm_tape);
    for form in &S5_FORMS {
        let id = format!("S5/{}/generated", form.name);
        time_on(&mut group, &id, &theta, form.generated);
    }

    group.finish();
}
