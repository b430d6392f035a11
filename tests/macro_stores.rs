//! Element cotangents stored instead of added (`grad-macros/src/stores.rs`): a loop whose
//! only read of a slice parameter is `w[i]` at its own index, the parameter's adjoint a zero
//! row made for the loop, stores each iteration's cotangent. Each function here is a case
//! the store must not break: the row read again after the loop or before it, the loop
//! inside another (whose reverse runs it once per outer iteration over the same row), a
//! loop shorter than the row (the rest stays zero), a second read of the row in the body,
//! and an early exit. Checked against central differences and forward mode.

mod common;

use common::{Rng, check};
use grad::differentiable;

/// The plain case: a dot product as an iterator chain, then a square.
#[differentiable(wrt(w))]
fn dot_loss(w: &[f64], x: &[f64], y: f64) -> f64 {
    let dot = w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
    (dot - y).powi(2)
}

/// The row read after the loop too: its adjoint exists before the loop's reverse, so the
/// loop must add to it.
#[differentiable(wrt(w))]
fn read_after(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += (w[i] * x[i]).sin();
    }
    s * s + w[0] * w[w.len() - 1]
}

/// The row read before the loop: its contribution comes after the loop's reverse, added to
/// the stored values.
#[differentiable(wrt(w))]
fn read_before(w: &[f64], x: &[f64]) -> f64 {
    let first = w[0] * w[0];
    let mut s = first;
    for i in 0..w.len() {
        s += w[i].exp() * x[i];
    }
    s
}

/// The loop inside another: every outer iteration's reverse adds into the same row.
#[differentiable(wrt(w))]
fn nested(w: &[f64], steps: usize) -> f64 {
    let mut s = 0.5;
    for _ in 0..steps {
        for i in 0..w.len() {
            s = s * 0.9 + (w[i] * s).tanh();
        }
    }
    s
}

/// A loop over part of the row: the elements past it keep their zero cotangent.
#[differentiable(wrt(w))]
fn partial(w: &[f64], m: usize) -> f64 {
    let mut s = 0.0;
    for i in 1..m {
        s += w[i] * w[i] * (i as f64);
    }
    s
}

/// Two reads of the row in the body (`w[i]` and `w[0]`): the second adds into `∂w[0]` in
/// every iteration, so nothing may be stored.
#[differentiable(wrt(w))]
fn two_reads(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * w[0] + w[i].cos();
    }
    s
}

/// An early exit: the iterations after it store nothing, their elements keep zero.
#[differentiable(wrt(w))]
fn early_exit(w: &[f64], limit: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        if s > limit {
            break;
        }
        s += w[i] * w[i];
    }
    s
}

fn inputs(n: usize, seed: u64) -> Vec<f64> {
    Rng::new(seed).vec(n, -0.9, 0.9)
}

#[test]
fn stored_cotangents_match_differences_and_forward_mode() {
    for n in [1, 2, 3, 8, 17] {
        let x = inputs(n, 100 + n as u64);
        let w = inputs(n, 200 + n as u64);
        check(
            &w,
            |w| dot_loss(w, &x, 0.3),
            |w| dot_loss_grad(w, &x, 0.3),
            |w, d| dot_loss_jvp(w, &x, 0.3, d, grad::NoTangent, grad::NoTangent),
        );
        check(
            &w,
            |w| read_after(w, &x),
            |w| read_after_grad(w, &x),
            |w, d| read_after_jvp(w, &x, d, grad::NoTangent),
        );
        check(
            &w,
            |w| read_before(w, &x),
            |w| read_before_grad(w, &x),
            |w, d| read_before_jvp(w, &x, d, grad::NoTangent),
        );
        check(
            &w,
            |w| nested(w, 3),
            |w| nested_grad(w, 3),
            |w, d| nested_jvp(w, 3, d, grad::NoTangent),
        );
        check(&w, two_reads, two_reads_grad, two_reads_jvp);
        check(
            &w,
            |w| early_exit(w, 0.5),
            |w| early_exit_grad(w, 0.5),
            |w, d| early_exit_jvp(w, 0.5, d, grad::NoTangent),
        );
        for m in [0, 1, n / 2, n] {
            check(
                &w,
                |w| partial(w, m),
                |w| partial_grad(w, m),
                |w, d| partial_jvp(w, m, d, grad::NoTangent),
            );
        }
    }
}

/// A shorter `x` than `w`: `zip` stops at `x`'s end, and `w`'s elements past it have a zero
/// cotangent, exactly.
#[test]
fn elements_past_the_zip_stay_zero() {
    let w = inputs(9, 1);
    let x = inputs(5, 2);
    let (_, g) = dot_loss_grad(&w, &x, 0.3);
    assert_eq!(g.len(), 9);
    assert!(g[5..].iter().all(|&v| v == 0.0), "{g:?}");
    check(
        &w,
        |w| dot_loss(w, &x, 0.3),
        |w| dot_loss_grad(w, &x, 0.3),
        |w, d| dot_loss_jvp(w, &x, 0.3, d, grad::NoTangent, grad::NoTangent),
    );
}
