//! Loops whose reverse keeps neighbouring adjoints in registers (`grad-macros/src/window.rs`):
//! reads of `x[i + c]` for a few constants `c`, in both loop directions the generated code
//! runs (a reverse sweep counting down; a loop whose reverse runs inside its forward sweep
//! counting up), at every trip count from zero, with other contributions to the same
//! adjoint before and after the loop, in branches, in nested loops, with gaps between the
//! offsets, and with elements that are themselves arrays. Each against central finite
//! differences in f64 and forward against reverse. (The heat equations of
//! `tests/macro_write.rs` are windowed too: a reverse sweep over a row an outer loop keeps.)
//!
//! A reverse sweep whose iterations are independent (a new row written element by element
//! from an old one) runs with its index rising, its contributions carried in delay lines
//! (`window::rise`): tested at widths 2 to 5, with gaps, with offsets all above the index,
//! with saved values, and against the same loop in the falling form (to rounding: a linear
//! stencil like `heat` is gathered, `grad-macros/src/gather.rs`, and `tests/macro_gather.rs`
//! checks the delay lines bit for bit on a nonlinear one).

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

/// `stencil_up` and `stencil_down` with an index the window does not recognise
/// (`(i + 1) * 1`): no window, each contribution added to memory as the loop makes it.
#[differentiable]
#[allow(clippy::identity_op)]
fn stencil_up_plain(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 1..x.len() - 1 {
        s += x[i] * (x[i - 1] - 2.0 * x[i] + x[(i + 1) * 1]).sin();
    }
    s
}

#[differentiable]
#[allow(clippy::identity_op)]
fn stencil_down_plain(x: &[f64]) -> f64 {
    let mut s = x[0] * x[1];
    for i in 1..x.len() - 1 {
        s += x[i] * (x[i - 1] - 2.0 * x[i] + x[(i + 1) * 1]).sin();
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

/// Explicit heat steps, a new row per step written element by element: the reverse of the
/// inner loop has independent iterations and runs rising.
#[differentiable(wrt(u0))]
fn heat(u0: &[f64], k: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut c = u0.to_vec();
    for _ in 0..steps {
        let mut next = vec![0.0; n];
        next[0] = c[0];
        next[n - 1] = c[n - 1];
        for i in 1..n - 1 {
            next[i] = c[i] + k * (c[i - 1] - 2.0 * c[i] + c[i + 1]);
        }
        c = next;
    }
    let mut s = 0.0;
    for i in 0..n {
        s += (i as f64 + 1.0) * c[i] * c[i];
    }
    s
}

/// `heat` with each new cell written in a branch: the same sums, but the body is not
/// straight-line code, so its reverse runs falling with its registers shifting.
#[differentiable(wrt(u0))]
fn heat_falling(u0: &[f64], k: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut c = u0.to_vec();
    for _ in 0..steps {
        let mut next = vec![0.0; n];
        next[0] = c[0];
        next[n - 1] = c[n - 1];
        for i in 1..n - 1 {
            if k < 1.0e300 {
                next[i] = c[i] + k * (c[i - 1] - 2.0 * c[i] + c[i + 1]);
            }
        }
        c = next;
    }
    let mut s = 0.0;
    for i in 0..n {
        s += (i as f64 + 1.0) * c[i] * c[i];
    }
    s
}

/// Width 5, nonlinear (the reverse needs saved values), the new row written at `i + 1`.
#[differentiable]
fn wide(u: &[f64]) -> f64 {
    let n = u.len();
    let mut out = vec![0.0; n];
    for i in 2..n - 2 {
        out[i + 1] = (u[i - 2] * u[i + 2]).sin() + u[i - 1].exp() * u[i + 1] - u[i] * u[i];
    }
    let mut s = 0.0;
    for i in 0..n {
        s += out[i] * out[i] * (1.0 + i as f64);
    }
    s
}

/// Offsets +1 and +3 only: the smallest offset above the index, and a gap.
#[differentiable]
fn ahead(u: &[f64]) -> f64 {
    let n = u.len();
    let mut out = vec![0.0; n];
    for i in 0..n - 3 {
        out[i] = u[i + 1].tanh() * u[i + 3];
    }
    let mut s = 0.0;
    for i in 0..n {
        s += out[i].sin();
    }
    s
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

#[test]
fn independent_iterations_run_rising_at_every_length() {
    for n in 1..12 {
        let x = point(n, 300 + n as u64);
        for steps in [0, 1, 3] {
            check(
                &x,
                |u| heat(u, 0.21, steps),
                |u| heat_grad(u, 0.21, steps),
                |u, d| heat_jvp(u, 0.21, steps, d, grad::NoTangent, grad::NoTangent),
            );
        }
    }
    for n in 4..14 {
        let x = point(n, 400 + n as u64);
        check(&x, wide, wide_grad, wide_jvp);
        let x = point(n, 500 + n as u64);
        check(&x, ahead, ahead_grad, ahead_jvp);
    }
}

#[test]
fn rising_and_falling_reverse_sweeps_agree() {
    for n in [3, 4, 9, 64] {
        let x = point(n, 600 + n as u64);
        let (v, g) = heat_grad(&x, 0.23, 7);
        let (vf, gf) = heat_falling_grad(&x, 0.23, 7);
        assert_eq!(v.to_bits(), vf.to_bits());
        close_all(&g, &gf, 1e-13);
    }
}

#[test]
fn windows_add_in_the_loops_own_order_bit_for_bit() {
    let bits = |g: &[f64]| g.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    for n in 3..20 {
        let x = point(n, 700 + n as u64);
        assert_eq!(
            bits(&stencil_up_grad(&x).1),
            bits(&stencil_up_plain_grad(&x).1)
        );
        assert_eq!(
            bits(&stencil_down_grad(&x).1),
            bits(&stencil_down_plain_grad(&x).1)
        );
    }
}
