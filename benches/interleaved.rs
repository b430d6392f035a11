//! Every scalar case's generated gradient (issue #12's forms of S3, S4 and S5 among them),
//! timed interleaved: every round times each function once, one after the other, and each
//! entry's median over the rounds is reported beside its case's hand-written gradient and
//! primal.
//!
//! Criterion measures one function for seconds before the next, so a burst of load from
//! elsewhere lands on some entries and not others; on this project's shared 2-core
//! machines the same hand-written S3 gradient measured 1.25-1.58 us across one criterion
//! run's five S3 groups. Here a burst lands on one round of every entry alike, and the
//! median drops it. Every function is called through a pointer, as the `forms` group calls
//! them, so none is inlined into the timing loop.
//!
//! `cargo bench --bench interleaved` (rounds from `GRAD_BENCH_ROUNDS`, default 21).

#[allow(dead_code, reason = "the criterion bench uses the rest of the cases")]
#[path = "scalar/cases.rs"]
mod cases;
#[allow(dead_code, reason = "the criterion bench uses the rest of the forms")]
#[path = "scalar/forms.rs"]
mod forms;

use std::hint::black_box;
use std::time::Instant;

/// Nanoseconds per call of `f`, over `reps` calls.
fn time(reps: usize, mut f: impl FnMut() -> f64) -> f64 {
    let start = Instant::now();
    let mut acc = 0.0;
    for _ in 0..reps {
        acc += f();
    }
    black_box(acc);
    start.elapsed().as_nanos() as f64 / reps as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A named function to time, returning a value the timing loop keeps.
type Entry = (&'static str, Box<dyn Fn() -> f64>);

/// One case's entries: the hand-written gradient, the primal, then the generated forms.
struct Case {
    name: &'static str,
    entries: Vec<Entry>,
    reps: usize,
}

/// An entry calling `f` (through a pointer the optimizer cannot see through) by `call`; its
/// name is the role it plays in its case (the first two of a case are the hand-written
/// gradient and the primal).
fn entry<F: Copy + 'static>(f: F, call: impl Fn(F) -> f64 + 'static) -> Entry {
    named("", f, call)
}

fn named<F: Copy + 'static>(name: &'static str, f: F, call: impl Fn(F) -> f64 + 'static) -> Entry {
    let f = black_box(f);
    (name, Box::new(move || call(f)))
}

fn main() {
    let rounds = std::env::var("GRAD_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(21usize);
    let x = cases::s3_input();
    let s4 = cases::s4_input();
    let th = cases::s5_input();
    let (u0, k, steps) = cases::s7_input();

    let a1 = cases::s1_input();
    let s1 = vec![
        entry(
            cases::s1_scale_handwritten as fn(f64) -> (f64, f64),
            move |f| f(black_box(a1)).1,
        ),
        entry(cases::s1_scale as fn(f64) -> f64, move |f| f(black_box(a1))),
        named(
            "generated",
            cases::s1_scale_grad as fn(f64) -> (f64, f64),
            move |f| f(black_box(a1)).1,
        ),
    ];
    type S2Grad = fn(f64, f64) -> (f64, (f64, f64));
    let (x2, y2) = cases::s2_input();
    let s2 = vec![
        entry(cases::s2_rosenbrock_handwritten as S2Grad, move |f| {
            f(black_box(x2), black_box(y2)).1.0
        }),
        entry(cases::s2_rosenbrock as fn(f64, f64) -> f64, move |f| {
            f(black_box(x2), black_box(y2))
        }),
        named("generated", cases::s2_rosenbrock_grad as S2Grad, move |f| {
            f(black_box(x2), black_box(y2)).1.0
        }),
    ];
    type S6Grad = fn(&[f64], &[f64], f64) -> (f64, Vec<f64>);
    let (w6, x6, y6) = cases::s6_input();
    let s6 = vec![
        entry(cases::s6_dot_loss_handwritten as S6Grad, {
            let (w, x) = (w6.clone(), x6.clone());
            move |f| f(black_box(&w), &x, y6).1[3]
        }),
        entry(cases::s6_dot_loss as fn(&[f64], &[f64], f64) -> f64, {
            let (w, x) = (w6.clone(), x6.clone());
            move |f| f(black_box(&w), &x, y6)
        }),
        named("generated", cases::s6_dot_loss_grad as S6Grad, move |f| {
            f(black_box(&w6), &x6, y6).1[3]
        }),
    ];
    type S8Grad = fn(f64, f64, usize) -> (f64, (f64, f64));
    let (k8, c8, n8) = cases::s8_input();
    let s8 = vec![
        entry(cases::s8_oscillator_handwritten as S8Grad, move |f| {
            f(black_box(k8), c8, n8).1.0
        }),
        entry(
            cases::s8_oscillator as fn(f64, f64, usize) -> f64,
            move |f| f(black_box(k8), c8, n8),
        ),
        named("generated", cases::s8_oscillator_grad as S8Grad, move |f| {
            f(black_box(k8), c8, n8).1.0
        }),
    ];

    let mut s3: Vec<Entry> = Vec::new();
    let (hand, primal) = (
        black_box(cases::s3_rosenbrock_handwritten as fn(&[f64]) -> (f64, Vec<f64>)),
        black_box(cases::s3_rosenbrock as fn(&[f64]) -> f64),
    );
    let x3 = x.clone();
    s3.push(("handwritten", Box::new(move || hand(black_box(&x3)).1[3])));
    let x3 = x.clone();
    s3.push(("primal", Box::new(move || primal(black_box(&x3)))));
    for f in &forms::S3_FORMS {
        let (g, x3) = (black_box(f.generated), x.clone());
        s3.push((f.name, Box::new(move || g(black_box(&x3)).1[3])));
    }

    type S4Grad = fn(f64, f64, f64, f64, f64) -> (f64, (f64, f64, f64, f64, f64));
    let mut s4e: Vec<Entry> = Vec::new();
    let hand = black_box(cases::s4_black_scholes_handwritten as S4Grad);
    let primal = black_box(cases::s4_black_scholes as fn(f64, f64, f64, f64, f64) -> f64);
    s4e.push((
        "handwritten",
        Box::new(move || {
            let a = black_box(s4);
            hand(a.0, a.1, a.2, a.3, a.4).1.0
        }),
    ));
    s4e.push((
        "primal",
        Box::new(move || {
            let a = black_box(s4);
            primal(a.0, a.1, a.2, a.3, a.4)
        }),
    ));
    for f in &forms::S4_FORMS {
        let g = black_box(f.generated);
        s4e.push((
            f.name,
            Box::new(move || {
                let a = black_box(s4);
                g(a.0, a.1, a.2, a.3, a.4).1.0
            }),
        ));
    }

    let mut s5: Vec<Entry> = Vec::new();
    let hand = black_box(cases::s5_arm_handwritten as fn(&[f64; 6]) -> (f64, [f64; 6]));
    let primal = black_box(cases::s5_arm as fn(&[f64; 6]) -> f64);
    s5.push(("handwritten", Box::new(move || hand(black_box(&th)).1[2])));
    s5.push(("primal", Box::new(move || primal(black_box(&th)))));
    for f in &forms::S5_FORMS {
        let g = black_box(f.generated);
        s5.push((f.name, Box::new(move || g(black_box(&th)).1[2])));
    }

    type Heat = fn(&[f64], f64, usize) -> (f64, Vec<f64>);
    let mut s7: Vec<Entry> = Vec::new();
    let hand = black_box(cases::s7_heat_handwritten as Heat);
    let primal = black_box(cases::s7_heat as fn(&[f64], f64, usize) -> f64);
    let generated = black_box(cases::s7_heat_grad as Heat);
    let u = u0.clone();
    s7.push((
        "handwritten",
        Box::new(move || hand(black_box(&u), k, steps).1[3]),
    ));
    let u = u0.clone();
    s7.push(("primal", Box::new(move || primal(black_box(&u), k, steps))));
    s7.push((
        "generated",
        Box::new(move || generated(black_box(&u0), k, steps).1[3]),
    ));

    let cases = [
        Case {
            name: "S1",
            entries: s1,
            reps: 1_000_000,
        },
        Case {
            name: "S2",
            entries: s2,
            reps: 1_000_000,
        },
        Case {
            name: "S3",
            entries: s3,
            reps: 2000,
        },
        Case {
            name: "S4",
            entries: s4e,
            reps: 200_000,
        },
        Case {
            name: "S5",
            entries: s5,
            reps: 200_000,
        },
        Case {
            name: "S6",
            entries: s6,
            reps: 2000,
        },
        Case {
            name: "S7",
            entries: s7,
            reps: 40,
        },
        Case {
            name: "S8",
            entries: s8,
            reps: 1,
        },
    ];
    let mut times: Vec<Vec<Vec<f64>>> = cases
        .iter()
        .map(|c| vec![Vec::new(); c.entries.len()])
        .collect();
    for _ in 0..rounds {
        for (c, t) in cases.iter().zip(&mut times) {
            for ((_, f), t) in c.entries.iter().zip(t.iter_mut()) {
                t.push(time(c.reps, f));
            }
        }
    }
    println!("interleaved, {rounds} rounds, medians (ns per call)");
    for (c, t) in cases.iter().zip(times) {
        let t: Vec<f64> = t.into_iter().map(median).collect();
        let (hand, primal) = (t[0], t[1]);
        println!(
            "{}: hand-written {hand:.1}, primal {primal:.1} ({:.2}x hand-written)",
            c.name,
            primal / hand
        );
        for ((name, _), g) in c.entries.iter().zip(&t).skip(2) {
            println!(
                "  {name:24} {g:10.1}  {:.3}x hand-written  {:.2}x primal",
                g / hand,
                g / primal
            );
        }
    }
}
