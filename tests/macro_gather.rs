//! Gathered reverses (`grad-macros/src/gather.rs`): a loop that writes a new row element by
//! element from an old one, with partials that do not depend on the iteration, has its
//! reverse run one element of the old row's adjoint at a time, each offset's copy of the
//! body on a unit cotangent scaled by the real one. (The benchmark's heat equation, a fresh
//! row per step, is tested in `tests/macro_window.rs`.) Tested at every length from one cell
//! (the interior, where every offset's iteration runs, empty or not), with the written
//! elements' adjoints read again before the loop (so they must be zeroed after it) and not,
//! with the old row's adjoint made for the loop or reached before it,
//! with the row written at an offset, in `f32`, with arrays as elements (not scaled: the
//! body runs on the real cotangent), against central differences and forward mode; and a
//! nonlinear stencil, which keeps the delay lines, bit for bit against its falling form.

mod common;

use common::{Rng, check, close_all, fd_slice};
use grad::differentiable;

/// The new row starts as a copy of the old: the copy's pullback reads the whole adjoint,
/// so the written elements must be zeroed after the gathered loop.
#[differentiable(wrt(u0))]
fn heat_from_copy(u0: &[f64], k: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut c = u0.to_vec();
    for _ in 0..steps {
        let mut next = c.clone();
        for i in 1..n - 1 {
            next[i] = c[i] + k * (c[i - 1] - 2.0 * c[i] + c[i + 1]);
        }
        c = next;
    }
    let mut s = 0.0;
    for i in 0..n {
        s += (i as f64 + 0.5) * c[i] * c[i];
    }
    s
}

/// An element written before the loop at an index the loop writes again (`next[1]`): its
/// reverse reads the adjoint there, which the loop's must have zeroed.
#[differentiable(wrt(u0))]
fn overwritten(u0: &[f64], k: f64) -> f64 {
    let n = u0.len();
    let mut next = vec![0.0; n];
    next[0] = u0[0];
    next[1] = 3.0 * u0[1];
    next[n - 1] = u0[n - 1];
    for i in 1..n - 1 {
        next[i] = u0[i] + k * (u0[i - 1] - 2.0 * u0[i] + u0[i + 1]);
    }
    let mut s = 0.0;
    for i in 0..n {
        s += (i as f64 + 1.0) * next[i] * next[i];
    }
    s
}

/// The old row read again after the loop: its adjoint has contributions before the
/// gathered loop's, which the loop adds to.
#[differentiable(wrt(u0))]
fn reread(u0: &[f64], k: f64) -> f64 {
    let n = u0.len();
    let mut next = vec![0.0; n];
    for i in 1..n - 1 {
        next[i] = u0[i] + k * (u0[i - 1] - 2.0 * u0[i] + u0[i + 1]);
    }
    let mut s = 0.0;
    for i in 0..n {
        s += next[i] * next[i] + (u0[i] * (i as f64 + 1.0)).sin();
    }
    s
}

/// The new row written at `i + 1`, offsets 0 to 2 of the old.
#[differentiable]
fn shifted(u: &[f64]) -> f64 {
    let n = u.len();
    let mut next = vec![0.0; n];
    next[0] = u[0];
    for i in 0..n - 2 {
        next[i + 1] = u[i] - 0.5 * u[i + 1] + 0.25 * u[i + 2];
    }
    let mut s = 0.0;
    for i in 0..n {
        s += next[i].sin() * (1.0 + i as f64);
    }
    s
}

/// `heat` in `f32`.
#[differentiable(wrt(u0))]
fn heat_f32(u0: &[f32], k: f32, steps: usize) -> f32 {
    let n = u0.len();
    let mut c = u0.to_vec();
    for _ in 0..steps {
        let mut next = vec![0.0f32; n];
        next[0] = c[0];
        next[n - 1] = c[n - 1];
        for i in 1..n - 1 {
            next[i] = c[i] + k * (c[i - 1] - 2.0 * c[i] + c[i + 1]);
        }
        c = next;
    }
    let mut s = 0.0f32;
    for i in 0..n {
        s += (i as f32 + 1.0) * c[i] * c[i];
    }
    s
}

/// Pairs as elements: the cotangent is an array, so the body runs on it unscaled.
#[differentiable]
fn pairs(m: &[[f64; 2]]) -> f64 {
    let n = m.len();
    let mut next = vec![[0.0, 0.0]; n];
    for i in 1..n {
        next[i] = [m[i - 1][0] + 2.0 * m[i][1], m[i][0] - 0.5 * m[i - 1][1]];
    }
    let mut s = 0.0;
    for i in 0..n {
        s += next[i][0] * next[i][1] + next[i][0].sin();
    }
    s
}

/// A nonlinear stencil (its reverse needs each iteration's values): not gathered, delay
/// lines; and the same in a branch, falling. The two must agree bit for bit.
#[differentiable(wrt(u0))]
fn wave(u0: &[f64], k: f64) -> f64 {
    let n = u0.len();
    let mut next = vec![0.0; n];
    for i in 1..n - 1 {
        next[i] = u0[i] + k * (u0[i - 1] * u0[i + 1]).tanh();
    }
    let mut s = 0.0;
    for i in 0..n {
        s += next[i] * next[i];
    }
    s
}

#[differentiable(wrt(u0))]
fn wave_falling(u0: &[f64], k: f64) -> f64 {
    let n = u0.len();
    let mut next = vec![0.0; n];
    for i in 1..n - 1 {
        if k < 1.0e300 {
            next[i] = u0[i] + k * (u0[i - 1] * u0[i + 1]).tanh();
        }
    }
    let mut s = 0.0;
    for i in 0..n {
        s += next[i] * next[i];
    }
    s
}

fn point(n: usize, seed: u64) -> Vec<f64> {
    Rng::new(seed).vec(n, -1.5, 1.5)
}

#[test]
fn gathered_rows_at_every_length() {
    for n in 1..14 {
        for steps in [0, 1, 3] {
            let x = point(n, 800 + n as u64);
            check(
                &x,
                |u| heat_from_copy(u, 0.3, steps),
                |u| heat_from_copy_grad(u, 0.3, steps),
                |u, d| heat_from_copy_jvp(u, 0.3, steps, d, grad::NoTangent, grad::NoTangent),
            );
        }
    }
}

#[test]
fn written_elements_read_again_are_zeroed_and_earlier_sums_kept() {
    for n in 2..12 {
        let x = point(n, 900 + n as u64);
        check(
            &x,
            |u| overwritten(u, 0.2),
            |u| overwritten_grad(u, 0.2),
            |u, d| overwritten_jvp(u, 0.2, d, grad::NoTangent),
        );
    }
    for n in 2..12 {
        let x = point(n, 950 + n as u64);
        check(&x, shifted, shifted_grad, shifted_jvp);
        let x = point(n, 970 + n as u64);
        check(
            &x,
            |u| reread(u, 0.35),
            |u| reread_grad(u, 0.35),
            |u, d| reread_jvp(u, 0.35, d, grad::NoTangent),
        );
    }
}

#[test]
fn gathered_in_f32_and_with_array_elements() {
    for n in 1..12 {
        let x = point(n, 1000 + n as u64);
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        // Reverse against forward mode, both in f32 (f32's rounding over 5 steps).
        let (v, g) = heat_f32_grad(&x32, 0.2, 5);
        assert_eq!(v, heat_f32(&x32, 0.2, 5));
        let dir: Vec<f32> = point(n, 1050 + n as u64)
            .iter()
            .map(|&v| v as f32)
            .collect();
        let (v2, d) = heat_f32_jvp(&x32, 0.2, 5, &dir, grad::NoTangent, grad::NoTangent);
        assert_eq!(v2, v);
        let want: f64 = g.iter().zip(&dir).map(|(&a, &b)| a as f64 * b as f64).sum();
        let scale = g.iter().map(|&a| (a as f64).abs()).sum::<f64>().max(1.0);
        assert!(
            (d as f64 - want).abs() <= 1e-5 * scale,
            "n = {n}: {d} vs {want}"
        );

        let flat = point(2 * n, 1100 + n as u64);
        let m: Vec<[f64; 2]> = flat.chunks(2).map(|c| [c[0], c[1]]).collect();
        let (v, g) = pairs_grad(&m);
        assert_eq!(v, pairs(&m));
        let f = |y: &[f64]| {
            let m: Vec<[f64; 2]> = y.chunks(2).map(|c| [c[0], c[1]]).collect();
            pairs(&m)
        };
        let g: Vec<f64> = g.iter().flatten().copied().collect();
        close_all(&g, &fd_slice(f, &flat), 1e-6);
    }
}

#[test]
fn delay_lines_add_in_the_falling_order_bit_for_bit() {
    // Not gathered (the partials change per iteration): delay lines, which add in the
    // falling loop's order.
    let bits = |g: &[f64]| g.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    for n in [3, 4, 9, 64] {
        let x = point(n, 1300 + n as u64);
        let (v, g) = wave_grad(&x, 0.7);
        let (vf, gf) = wave_falling_grad(&x, 0.7);
        assert_eq!(v.to_bits(), vf.to_bits());
        assert_eq!(bits(&g), bits(&gf), "n = {n}");
        check(
            &x,
            |u| wave(u, 0.7),
            |u| wave_grad(u, 0.7),
            |u, d| wave_jvp(u, 0.7, d, grad::NoTangent),
        );
    }
}
