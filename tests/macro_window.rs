//! Loops whose reverse keeps neighbouring adjoints in registers (`grad-macros/src/window.rs`):
//! reads of `x[i + c]` for a few constants `c`, in both loop directions the generated code
//! runs (a reverse sweep counting down; a loop whose reverse runs inside its forward sweep
//! counting up), at every trip count from zero, with other contributions to the same
//! adjoint before and after the loop, in branches, in nested loops, with gaps between the
//! offsets, and with elements that are themselves arrays. Each against central finite
//! differences in f64 and forward against reverse. (The heat equations of
//! `tests/macro_write.rs` are windowed too: a reverse sweep over a row an outer loop keeps.)

mod common;

use common::{Rng, check, close_all, fd_slice};
use grad::differentiable;

/// Offsets -1, 0, +1 in a loop whose reverse runs inside its forward sweep (`_grad`).
#[differentiable]
fn stencil_up(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 1..x.len() - 1 {
        s += x[i] * (x[i - 1] - 2.0 * x[i] + x[i + 1]).sin();
    }
    s
}

/// The same sum, then more work on `x` after the loop: a reverse sweep counting down, with
/// contributions to `dx` before and after the loop's.
#[differentiable]
fn stencil_down(x: &[f64]) -> f64 {
    let mut s = x[0] * x[1];
    for i in 1..x.len() - 1 {
        s += x[i] * (x[i - 1] - 2.0 * x[i] + x[i + 1]).sin();
    }
    s * x[x.len() - 1] + x[2]
}

/// Offsets 0 and +2 only (a gap), and `2 + i` written with the constant first.
#[differentiable]
fn gapped(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 2 {
        s += (x[i] * x[2 + i]).cos();
    }
    s * s
}

/// Element reads in a branch of the body, and an index loop nested inside reading
/// `x[i + 1]` by the outer index.
#[differentiable]
fn branched(x: &[f64], m: usize) -> f64 {
    let mut s = 0.0;
    for i in 1..x.len() - 1 {
        if x[i] > 0.0 {
            s += x[i - 1] * x[i];
        } else {
            s -= x[i + 1].exp();
        }
        for _ in 0..m {
            s += 0.5 * x[i + 1] * x[i];
        }
    }
    s * s
}

/// Rows of a matrix as elements: each register holds a whole row's adjoint.
#[differentiable]
fn rows(m: &[[f64; 2]]) -> f64 {
    let mut s = 0.0;
    for i in 0..m.len() - 1 {
        s += m[i][0] * m[i + 1][1] - (m[i + 1][0] * m[i][1]).tanh();
    }
    s * s
}

fn point(n: usize, seed: u64) -> Vec<f64> {
    Rng::new(seed).vec(n, -1.5, 1.5)
}

#[test]
fn stencils_in_both_directions_at_every_length() {
    // n = 2 runs no iteration, 3 runs one: the window is loaded and flushed at once.
    for n in 2..12 {
        let x = point(n, n as u64);
        check(&x, stencil_up, stencil_up_grad, stencil_up_jvp);
        let x = point(n.max(3), 100 + n as u64);
        check(&x, stencil_down, stencil_down_grad, stencil_down_jvp);
    }
}

#[test]
fn offsets_with_a_gap() {
    for n in 2..10 {
        let x = point(n, 7 * n as u64);
        check(&x, gapped, gapped_grad, gapped_jvp);
    }
}

#[test]
fn branches_and_nested_loops_in_the_body() {
    for (n, m) in [(2, 0), (3, 1), (6, 0), (6, 2), (9, 3)] {
        let x = point(n, 31 + n as u64);
        let f = |x: &[f64]| branched(x, m);
        check(
            &x,
            f,
            |x| branched_grad(x, m),
            |x, d| branched_jvp(x, m, d, grad::NoTangent),
        );
    }
}

#[test]
fn registers_holding_array_elements() {
    for n in 1..7 {
        let flat = point(2 * n, 11 + n as u64);
        let m: Vec<[f64; 2]> = flat.chunks(2).map(|c| [c[0], c[1]]).collect();
        let (v, g) = rows_grad(&m);
        assert_eq!(v, rows(&m));
        let f = |y: &[f64]| {
            let m: Vec<[f64; 2]> = y.chunks(2).map(|c| [c[0], c[1]]).collect();
            rows(&m)
        };
        let g: Vec<f64> = g.iter().flatten().copied().collect();
        close_all(&g, &fd_slice(f, &flat), 1e-6);
    }
}
