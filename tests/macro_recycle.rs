//! Recycled adjoint rows (`grad-macros/src/recycle.rs`): a loop that builds a new row each
//! iteration from an inactive start (`vec![0.0; n]`) and carries it lets go of that row's
//! adjoint in each reverse iteration, and makes the next iteration's zero adjoint of the
//! carried row in it. The recycled buffer holds the last iteration's cotangents, so every
//! test here would see them leak into the gradient if it were not zeroed; rows that grow or
//! shrink from one step to the next must get a zero of their own length. Checked against
//! central differences and forward mode, the step loop plain and checkpointed.

mod common;

use common::{Rng, check};
use grad::differentiable;

/// A fresh row per step, written only in its interior: the end elements of the new row keep
/// `vec!`'s zeros, so the old row's adjoint there is only what the interior reads give.
#[differentiable(wrt(u0))]
fn interior_only(u0: &[f64], k: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut c = u0.to_vec();
    for _ in 0..steps {
        let mut next = vec![0.0; n];
        for i in 1..n - 1 {
            next[i] = c[i] + k * (c[i - 1] - 2.0 * c[i] + c[i + 1]) + 0.1 * c[i] * c[i];
        }
        c = next;
    }
    let mut s = 0.0;
    for i in 0..n {
        s += (i as f64 + 1.0) * c[i] * c[i];
    }
    s
}

/// Rows one longer each step: a recycled row never fits the next zero.
#[differentiable(wrt(u0))]
fn growing(u0: &[f64], w: f64, steps: usize) -> f64 {
    let mut c = u0.to_vec();
    for _ in 0..steps {
        let n = c.len();
        let mut next = vec![0.0; n + 1];
        for i in 0..n {
            next[i] += w * c[i];
            next[i + 1] += (1.0 - w) * c[i].sin();
        }
        c = next;
    }
    let mut s = 0.0;
    for i in 0..c.len() {
        s += (i as f64 + 1.0) * c[i];
    }
    s
}

/// Rows one shorter each step, a moving average of neighbours.
#[differentiable(wrt(u0))]
fn shrinking(u0: &[f64], steps: usize) -> f64 {
    let mut c = u0.to_vec();
    for _ in 0..steps {
        let n = c.len();
        let mut next = vec![0.0; n - 1];
        for i in 0..n - 1 {
            next[i] = 0.5 * (c[i] + c[i + 1]) * (1.0 + 0.1 * c[i]);
        }
        c = next;
    }
    c[0] * c[0]
}

/// Pairs as elements, the row built by pushes: the adjoint that is let go of is a
/// `Vec<[f64; 2]>`, emptied by the pushes' reverse, which the next zero must fill again.
#[differentiable(wrt(u0))]
fn pushed_pairs(u0: &[f64], steps: usize) -> f64 {
    let n = u0.len();
    let mut c = Vec::new();
    for i in 0..n {
        c.push([u0[i], 0.5 * u0[i]]);
    }
    for _ in 0..steps {
        let mut next = Vec::with_capacity(n);
        for i in 0..n {
            let [p, q] = c[i];
            let r = c[(i + 1) % n][0];
            next.push([p + 0.1 * q * r, q - 0.1 * p.sin()]);
        }
        c = next;
    }
    let mut s = 0.0;
    for i in 0..n {
        s += c[i][0] * c[i][1];
    }
    s
}

/// The step loop checkpointed (Revolve, 3 snapshots), three of four cells written one by
/// one (a checkpointed body has no inner loop; the fourth keeps `vec!`'s zero, so its
/// cotangent is left in the row let go of): the reverse runs each step's iteration after
/// recomputing forward from a snapshot, which builds rows of its own.
#[differentiable(wrt(u0))]
fn checkpointed(u0: &[f64], k: f64, steps: usize) -> f64 {
    let mut c = u0.to_vec();
    for _ in grad::checkpoint(0..steps, 3) {
        let mut next = vec![0.0; 4];
        next[0] = c[0] + k * (c[1] - c[0]) + c[3];
        next[1] = c[1] + k * (c[0] - 2.0 * c[1] + c[2]) * (1.0 + 0.2 * c[1]);
        next[2] = c[2] + k * (c[1] - c[2]) * c[0];
        c = next;
    }
    c[0] * c[0] + 2.0 * c[1] * c[1] + 3.0 * c[2] * c[2] + 4.0 * c[3]
}

fn inputs(n: usize, seed: u64) -> Vec<f64> {
    Rng::new(seed).vec(n, -0.8, 0.8)
}

#[test]
fn rows_written_in_their_interior() {
    for n in [3, 4, 5, 8, 17] {
        let u = inputs(n, n as u64);
        check(
            &u,
            |u| interior_only(u, 0.2, 6),
            |u| interior_only_grad(u, 0.2, 6),
            |u, d| interior_only_jvp(u, 0.2, 6, d, grad::NoTangent, grad::NoTangent),
        );
    }
}

#[test]
fn rows_that_grow_and_shrink() {
    for n in [1, 2, 5, 9] {
        let u = inputs(n, 10 + n as u64);
        check(
            &u,
            |u| growing(u, 0.3, 5),
            |u| growing_grad(u, 0.3, 5),
            |u, d| growing_jvp(u, 0.3, 5, d, grad::NoTangent, grad::NoTangent),
        );
    }
    for n in [6, 9] {
        let u = inputs(n, 20 + n as u64);
        check(
            &u,
            |u| shrinking(u, 5),
            |u| shrinking_grad(u, 5),
            |u, d| shrinking_jvp(u, 5, d, grad::NoTangent),
        );
    }
}

#[test]
fn pushed_rows_of_pairs() {
    for n in [1, 2, 7] {
        let u = inputs(n, 30 + n as u64);
        check(
            &u,
            |u| pushed_pairs(u, 4),
            |u| pushed_pairs_grad(u, 4),
            |u, d| pushed_pairs_jvp(u, 4, d, grad::NoTangent),
        );
    }
}

#[test]
fn checkpointed_rows() {
    for steps in [1, 2, 9, 40] {
        let u = inputs(4, 40 + steps as u64);
        check(
            &u,
            |u| checkpointed(u, 0.2, steps),
            |u| checkpointed_grad(u, 0.2, steps),
            |u, d| checkpointed_jvp(u, 0.2, steps, d, grad::NoTangent, grad::NoTangent),
        );
    }
}
