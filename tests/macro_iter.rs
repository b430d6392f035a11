//! Iterators, closures, exits (`break`, `continue`, `loop`, early `return`) and match guards
//! in differentiable code: every form against central finite differences in f64 at several
//! points, and forward mode against reverse mode (`jvp(x, v) == <grad(x), v>`).

// The forms are written as users write them, `x.into_iter()` of a slice and `s = s * k`
// among them: they are what is being tested.
#![allow(
    clippy::into_iter_on_ref,
    clippy::assign_op_pattern,
    clippy::double_ended_iterator_last
)]

mod common;

use common::{Rng, check, check_second_order, close, close_all, fd, fd_slice};
use grad::{Differentiable, differentiable};

/// A few points of each length, away from kinks.
fn points(n: usize) -> Vec<Vec<f64>> {
    let mut rng = Rng::new(n as u64);
    (0..3).map(|_| rng.vec(n, -2.0, 2.0)).collect()
}

// ---- `for` over iterators -----------------------------------------------------------------

#[differentiable]
fn for_forms(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x {
        s += v * v;
    }
    for v in x.iter() {
        s += *v * 0.5;
    }
    for &v in x.iter() {
        s += v.sin();
    }
    for v in x.into_iter() {
        s += v.exp() * 0.1;
    }
    for v in x.iter().take(2) {
        s += v * 2.0;
    }
    s
}

#[differentiable]
fn for_adaptors(w: &[f64], d: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, (a, b)) in w.iter().zip(d.iter()).enumerate() {
        s += (i as f64 + 1.0) * a * b;
    }
    for (i, v) in w.iter().enumerate().skip(1).take(3) {
        s += i as f64 * v * v;
    }
    for v in d.iter().rev().step_by(2) {
        s += v.tanh();
    }
    for (_, &b) in w.iter().zip(d) {
        s += b * b * b;
    }
    s
}

#[differentiable]
fn windows_and_chunks(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(2) {
        let d = w[1] - w[0];
        s += d * d;
    }
    for c in x.chunks(3) {
        let mut p = 1.0;
        for v in c {
            p *= v;
        }
        s += p * c.len() as f64;
    }
    // Pairs, the odd one out left out.
    s += x.chunks_exact(2).map(|c| c[0] * c[1].sin()).sum::<f64>();
    s
}

#[differentiable]
fn array_by_value(a: [f64; 3]) -> f64 {
    let mut s = 0.0;
    for v in a {
        s += v * v * v;
    }
    s
}

#[test]
fn for_over_slices() {
    for x in points(5) {
        check(&x, for_forms, for_forms_grad, for_forms_jvp);
    }
}

#[test]
fn for_with_adaptors() {
    let mut rng = Rng::new(3);
    for n in [0, 1, 4, 7] {
        let (w, d) = (rng.vec(n, -1.5, 1.5), rng.vec(n, -1.5, 1.5));
        let f = |w: &[f64], d: &[f64]| for_adaptors(w, d);
        let (v, (gw, gd)) = for_adaptors_grad(&w, &d);
        assert_eq!(v, f(&w, &d));
        close_all(&gw, &fd_slice(|w| f(w, &d), &w), 1e-6);
        close_all(&gd, &fd_slice(|d| f(&w, d), &d), 1e-6);
        let (vw, vd) = (rng.vec(n, -1.0, 1.0), rng.vec(n, -1.0, 1.0));
        let (_, dv) = for_adaptors_jvp(&w, &d, &vw, &vd);
        let want: f64 = gw
            .iter()
            .zip(&vw)
            .chain(gd.iter().zip(&vd))
            .map(|(a, b)| a * b)
            .sum();
        close(dv, want, 1e-10);
    }
}

/// Windows of three by a literal size (read as `x[j - 2]`, `x[j - 1]`, `x[j]`), by a size
/// known only at run time, and the index loop they stand for.
#[differentiable]
fn windows_of_three(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(3) {
        s += w[0] * w[2] - w[1].powi(2) + w.len() as f64 * w[1];
    }
    s
}

#[differentiable]
fn windows_sized(x: &[f64], k: usize) -> f64 {
    let mut s = 0.0;
    for w in x.windows(k) {
        s += w[0] * w[k - 1] - w[1].powi(2) + w.len() as f64 * w[1];
    }
    s
}

#[differentiable]
fn three_indexed(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 2..x.len() {
        s += x[i - 2] * x[i] - x[i - 1].powi(2) + 3.0 * x[i - 1];
    }
    s
}

/// A zip with a literal skip (read as `x[j - 2]`, `x[j]`), and one known at run time.
#[differentiable]
fn zip_skip_two(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, b) in x.iter().zip(x.iter().skip(2)) {
        s += a * b - a.powi(2);
    }
    s
}

#[differentiable]
fn zip_skip_by(x: &[f64], k: usize) -> f64 {
    let mut s = 0.0;
    for (a, b) in x.iter().zip(x.iter().skip(k)) {
        s += a * b - a.powi(2);
    }
    s
}

#[differentiable]
fn skip_indexed(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 2..x.len() {
        s += x[i - 2] * x[i] - x[i - 2].powi(2);
    }
    s
}

#[test]
fn windows_and_skips_by_literal_and_runtime_size_match_the_index_loop() {
    for n in [0, 1, 2, 3, 4, 7] {
        let x = Rng::new(50 + n as u64).vec(n, -1.5, 1.5);
        check(&x, zip_skip_two, zip_skip_two_grad, zip_skip_two_jvp);
        let (v, g) = skip_indexed_grad(&x);
        assert_eq!(zip_skip_two_grad(&x), (v, g.clone()), "n = {n}");
        assert_eq!(zip_skip_by_grad(&x, 2), (v, g), "n = {n}");
    }
    for n in [0, 1, 2, 3, 4, 7] {
        let x = Rng::new(40 + n as u64).vec(n, -1.5, 1.5);
        check(
            &x,
            windows_of_three,
            windows_of_three_grad,
            windows_of_three_jvp,
        );
        let (v, g) = three_indexed_grad(&x);
        assert_eq!(windows_of_three_grad(&x), (v, g.clone()), "n = {n}");
        assert_eq!(windows_sized_grad(&x, 3), (v, g), "n = {n}");
    }
}

#[test]
fn windows_chunks_views() {
    // Lengths around the chunk size and below the window size.
    for n in [0, 1, 2, 3, 5, 7] {
        let x = Rng::new(n as u64).vec(n, -1.5, 1.5);
        check(
            &x,
            windows_and_chunks,
            windows_and_chunks_grad,
            windows_and_chunks_jvp,
        );
    }
}

#[test]
fn arrays_iterate_by_value() {
    // d/da_i sum a^3 = 3 a_i^2
    let (v, g) = array_by_value_grad([1.0, -2.0, 3.0]);
    assert_eq!(v, 1.0 - 8.0 + 27.0);
    assert_eq!(g, [3.0, 12.0, 27.0]);
    let (_, d) = array_by_value_jvp([1.0, -2.0, 3.0], [1.0, 1.0, 1.0]);
    assert_eq!(d, 42.0);
}

// ---- chains ending in a reduction ---------------------------------------------------------

#[differentiable]
fn norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

#[differentiable]
fn dot(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).map(|(a, b)| a * b).sum()
}

#[differentiable]
fn chains(x: &[f64]) -> f64 {
    let pos: f64 = x.iter().filter(|v| **v > 0.0).map(|v| v * 2.0).sum();
    let prod = x.iter().skip(1).take(3).product::<f64>();
    let folded = x.iter().rev().step_by(2).fold(1.0, |acc, v| acc * v + 1.0);
    let weighted: f64 = x.iter().enumerate().map(|(i, v)| i as f64 * v).sum();
    let idx = (0..x.len()).map(|i| x[i] * x[i]).sum::<f64>();
    let biggest = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    pos + prod + folded + weighted + idx + biggest
}

#[test]
fn reductions() {
    // |x| = 5 at (3, 4); d|x|/dx = x / |x|
    let (v, g) = norm_grad(&[3.0, 4.0]);
    assert_eq!(v, 5.0);
    close_all(&g, &[0.6, 0.8], 1e-15);
    let (v, (gp, gq)) = dot_grad(&[1.0, 2.0], &[3.0, 4.0]);
    assert_eq!((v, gp, gq), (11.0, vec![3.0, 4.0], vec![1.0, 2.0]));
    for n in [1, 3, 6] {
        for x in points(n) {
            check(&x, chains, chains_grad, chains_jvp);
            check(&x, norm, norm_grad, norm_jvp);
        }
    }
}

#[differentiable]
fn plain_sum(x: &[f64]) -> f64 {
    x.iter().sum()
}

#[differentiable]
fn mapped_sum_f32(x: &[f32]) -> f32 {
    x.iter().map(|v| v * 2.0).sum::<f32>()
}

#[differentiable(order = 2)]
fn sum_of_squares(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>()
}

/// `Iterator::sum` of floats starts at `-0.0`, the identity of addition, so a sum of
/// nothing, or of negative zeros only, is `-0.0`. Generated code starts where the primal
/// does: every mode's value has the primal's bits.
#[test]
fn sums_start_where_iterator_sum_starts() {
    for x in [
        vec![],
        vec![-0.0],
        vec![-0.0, -0.0],
        vec![0.0, -0.0],
        vec![1.5, -2.0],
    ] {
        let want = plain_sum(&x).to_bits();
        assert_eq!(plain_sum_grad(&x).0.to_bits(), want, "grad of {x:?}");
        assert_eq!(plain_sum_vjp(&x).0.to_bits(), want, "vjp of {x:?}");
        let dx = vec![1.0; x.len()];
        assert_eq!(plain_sum_jvp(&x, &dx).0.to_bits(), want, "jvp of {x:?}");
        let want = sum_of_squares(&x).to_bits();
        assert_eq!(
            sum_of_squares_grad(&x).0.to_bits(),
            want,
            "grad of squares {x:?}"
        );
        let (v, _, _) = sum_of_squares_hvp(&x, &dx);
        assert_eq!(v.to_bits(), want, "hvp of squares {x:?}");
        let x32: Vec<f32> = x.iter().map(|&v| -(v.abs() as f32) * 0.0).collect();
        let want = mapped_sum_f32(&x32).to_bits();
        assert_eq!(
            mapped_sum_f32_grad(&x32).0.to_bits(),
            want,
            "f32 of {x32:?}"
        );
    }
    assert!(plain_sum(&[]).is_sign_negative());
}

#[test]
fn zip_stops_at_the_shorter() {
    // Only the first two products count: d/dp = (q0, q1, 0).
    let (v, (gp, gq)) = dot_grad(&[1.0, 2.0, 5.0], &[3.0, 4.0]);
    assert_eq!(v, 11.0);
    assert_eq!((gp, gq), (vec![3.0, 4.0, 0.0], vec![1.0, 2.0]));
}

// ---- closures ------------------------------------------------------------------------------

#[differentiable]
fn closures(x: f64, y: f64) -> f64 {
    let a = x * 2.0;
    let g = |v: f64| v * a + y;
    // Shadowing after the closure leaves what it captured unchanged.
    let a = 100.0;
    let h = |u, w| u * w;
    let k = 3;
    let pick = |i: usize| i + k;
    g(g(x)) + h(x, a) + pick(1) as f64
}

#[differentiable]
fn closures_in_adaptors(x: &[f64], k: f64) -> f64 {
    let sq = |v: &f64| v * v * k;
    x.iter().map(sq).sum::<f64>() + x.iter().map(|v| sq(v) * 2.0).sum::<f64>()
}

#[test]
fn closures_inline() {
    // g(v) = 2x v + y, g(g(x)) = 4x³ + 6x + 3 at y = 3: d/dx = 12x² + 6, plus h = 100x.
    // d/dy: g(g(x)) = 2x(2x² + y) + y: 2x + 1.
    let (v, (dx, dy)) = closures_grad(1.0, 3.0);
    assert_eq!(v, 13.0 + 100.0 + 4.0);
    assert_eq!((dx, dy), (118.0, 3.0));
    for x in [-1.3, 0.4, 2.0] {
        let (_, (dx, dy)) = closures_grad(x, 0.7);
        close(dx, fd(|x| closures(x, 0.7), x), 1e-6);
        close(dy, fd(|y| closures(x, y), 0.7), 1e-6);
        let (_, t) = closures_jvp(x, 0.7, 1.0, 0.5);
        close(t, dx + 0.5 * dy, 1e-12);
    }
    let x = [1.0, -2.0, 0.5];
    let (v, (gx, gk)) = closures_in_adaptors_grad(&x, 1.5);
    assert_eq!(v, closures_in_adaptors(&x, 1.5));
    close_all(&gx, &fd_slice(|x| closures_in_adaptors(x, 1.5), &x), 1e-6);
    close(gk, fd(|k| closures_in_adaptors(&x, k), 1.5), 1e-6);
}

// ---- exits ---------------------------------------------------------------------------------

/// √a by Newton's iteration, which stops once converged.
#[differentiable]
fn newton_sqrt(a: f64) -> f64 {
    let mut x = a;
    for _ in 0..50 {
        let next = 0.5 * (x + a / x);
        if (next - x).abs() < 1e-13 * a {
            break;
        }
        x = next;
    }
    x
}

#[differentiable]
fn loop_as_the_value(x: &[f64]) -> f64 {
    // A `loop` with `break value` as the function's last expression.
    let mut acc = 0.0;
    let mut k = 0;
    loop {
        acc += x[k] * x[k];
        k += 1;
        if k == x.len() {
            break acc.sqrt();
        }
    }
}

#[test]
fn a_loop_ending_the_body_gives_its_value() {
    for n in [1, 2, 5] {
        for x in points(n) {
            check(
                &x,
                loop_as_the_value,
                loop_as_the_value_grad,
                loop_as_the_value_jvp,
            );
        }
    }
}

#[test]
fn newton_breaks_when_converged() {
    // d√a/da = 1 / (2√a)
    for a in [0.5, 2.0, 9.0, 100.0] {
        let (v, g) = newton_sqrt_grad(a);
        close(v, a.sqrt(), 1e-15);
        close(g, 0.5 / a.sqrt(), 1e-12);
        let (_, t) = newton_sqrt_jvp(a, 1.0);
        close(t, 0.5 / a.sqrt(), 1e-12);
    }
}

/// Stops at the first element above `limit`: exits at the first, a middle or the last
/// iteration, or never, by the data.
#[differentiable]
fn until_above(x: &[f64], limit: f64) -> f64 {
    let mut s = 0.0;
    for v in x {
        s += v * v;
        if *v > limit {
            break;
        }
    }
    s
}

#[test]
fn break_at_first_middle_last_never() {
    // Sum of squares up to and including the first x_i > 1: gradient 2 x_i there, 0 after.
    let cases: [(&[f64], f64, &[f64]); 4] = [
        (&[2.0, 0.5, 3.0], 4.0, &[4.0, 0.0, 0.0]),
        (&[0.5, 2.0, 3.0], 4.25, &[1.0, 4.0, 0.0]),
        (&[0.5, 0.25, 3.0], 9.3125, &[1.0, 0.5, 6.0]),
        (&[0.5, 0.25, 0.5], 0.5625, &[1.0, 0.5, 1.0]),
    ];
    for (x, value, grad) in cases {
        let (v, (g, gl)) = until_above_grad(x, 1.0);
        assert_eq!((v, g.as_slice(), gl), (value, grad, 0.0));
        close_all(&g, &fd_slice(|x| until_above(x, 1.0), x), 1e-6);
        let (_, t) = until_above_jvp(x, 1.0, &[1.0, 1.0, 1.0], 0.0);
        close(t, grad.iter().sum(), 1e-12);
    }
}

#[differentiable]
fn labeled(x: &[f64]) -> f64 {
    let mut s = 0.0;
    'rows: for i in 0..x.len() {
        if x[i] < 0.0 {
            continue;
        }
        for j in 0..x.len() {
            if j > i {
                continue 'rows;
            }
            if x[j] > 1.5 {
                break 'rows;
            }
            s += x[i] * x[j];
        }
    }
    s
}

#[differentiable]
fn loop_value(x: f64) -> f64 {
    let mut s = x;
    let mut n = 0;
    let r = loop {
        s = s * 1.5;
        n += 1;
        if s > 10.0 || n == 20 {
            break s + x;
        }
    };
    r * 2.0
}

#[differentiable]
fn early_returns(x: f64, k: u32) -> f64 {
    if x < 0.0 {
        return -x * 2.0;
    }
    let y = x * x;
    let mut s = y;
    for i in 0..k {
        s = s * x + i as f64;
        if s > 50.0 {
            return s.sqrt();
        }
        let mut j = 0;
        while j < 3 {
            j += 1;
            if s < -1.0 {
                return s;
            }
        }
    }
    if y > 10.0 {
        return y;
    }
    s + x
}

#[test]
fn labels_loops_returns() {
    for x in [
        vec![1.0, -2.0, 0.7],
        vec![0.3, 2.0, 0.4],
        vec![-0.5, 0.2, 1.2, 0.9],
    ] {
        check(&x, labeled, labeled_grad, labeled_jvp);
    }
    // s = 1.5^n x up to the first above 10, value 2 (s + x): d/dx = 2 (1.5^n + 1).
    for x in [1.0, 3.0, 0.01, 20.0] {
        let (v, g) = loop_value_grad(x);
        assert_eq!(v, loop_value(x));
        close(g, fd(loop_value, x), 1e-6);
        close(loop_value_jvp(x, 1.0).1, g, 1e-12);
    }
    // Every exit: x < 0, the loop's return (s > 50), the return after it (y > 10), the end.
    for (x, k) in [(-1.5, 3), (3.0, 4), (3.5, 0), (1.2, 2), (0.5, 5)] {
        let (v, g) = early_returns_grad(x, k);
        assert_eq!(v, early_returns(x, k));
        close(g, fd(|x| early_returns(x, k), x), 1e-6);
        close(early_returns_jvp(x, k, 1.0, grad::NoTangent).1, g, 1e-12);
    }
}

// ---- match guards --------------------------------------------------------------------------

#[differentiable]
fn guards(x: f64, k: i32) -> f64 {
    match k {
        n if n > 2 => x * n as f64,
        0 => x,
        n if x > 1.0 => x * x * n as f64,
        _ => x.sin(),
    }
}

#[test]
fn match_guards() {
    for (x, k) in [(2.0, 5), (2.0, 0), (2.0, 1), (0.5, 1), (0.5, -3)] {
        let (v, g) = guards_grad(x, k);
        assert_eq!(v, guards(x, k));
        close(g, fd(|x| guards(x, k), x), 1e-6);
        close(guards_jvp(x, k, 1.0, grad::NoTangent).1, g, 1e-12);
    }
}

// ---- generics and methods ------------------------------------------------------------------

#[differentiable]
fn generic_norm<T: grad::Real>(x: &[T]) -> T {
    let mut best = T::ZERO;
    for (i, v) in x.iter().enumerate() {
        if i > 10 {
            break;
        }
        best = best + *v * *v;
    }
    best.sqrt() + x.iter().fold(T::ZERO, |a, v| a + v.exp())
}

#[derive(Differentiable, Clone)]
struct Line {
    w: f64,
    b: f64,
}

impl Line {
    #[differentiable(wrt(self))]
    fn loss(&self, xs: &[f64], ys: &[f64]) -> f64 {
        let err = |x: &f64, y: &f64| self.w * x + self.b - y;
        xs.iter()
            .zip(ys)
            .map(|(x, y)| err(x, y) * err(x, y))
            .sum::<f64>()
            / xs.len() as f64
    }
}

#[test]
fn generics_and_methods() {
    let x = [0.3, -1.2, 0.8];
    check(
        &x,
        generic_norm::<f64>,
        generic_norm_grad::<f64>,
        generic_norm_jvp::<f64>,
    );
    let (v32, g32) = generic_norm_grad::<f32>(&[0.3, -1.2, 0.8]);
    let (v64, g64) = generic_norm_grad::<f64>(&x);
    close(v32 as f64, v64, 1e-6);
    close_all(
        &g32.iter().map(|g| *g as f64).collect::<Vec<_>>(),
        &g64,
        1e-5,
    );

    // mse = mean (w x + b - y)²: d/dw = 2 mean(e x), d/db = 2 mean(e).
    let (xs, ys) = ([0.0, 1.0, 2.0], [1.0, 2.5, 5.0]);
    let line = Line { w: 1.5, b: 0.5 };
    let (_, g) = line.loss_grad(&xs, &ys);
    let e: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| 1.5 * x + 0.5 - y).collect();
    close(
        g.w,
        2.0 * (e[0] * 0.0 + e[1] * 1.0 + e[2] * 2.0) / 3.0,
        1e-14,
    );
    close(g.b, 2.0 * (e[0] + e[1] + e[2]) / 3.0, 1e-14);
}

// ---- the pullbacks ---------------------------------------------------------------------------

#[test]
fn pullbacks_match_gradients() {
    // `_vjp` is emitted apart from `_grad` (its adjoint runs in a returned closure): its
    // pullback at a seed `s` is `s` times the gradient, for every construct above.
    let x = [0.7, -1.1, 1.9, 0.4];
    let seed = 2.5;
    macro_rules! same {
        ($grad:ident, $vjp:ident) => {{
            let (v, g) = $grad(&x);
            let (v2, pb) = $vjp(&x);
            assert_eq!(v, v2);
            let got: Vec<f64> = pb(seed);
            close_all(&got, &g.iter().map(|g| g * seed).collect::<Vec<_>>(), 1e-14);
        }};
    }
    same!(chains_grad, chains_vjp);
    same!(windows_and_chunks_grad, windows_and_chunks_vjp);
    same!(labeled_grad, labeled_vjp);
    same!(for_forms_grad, for_forms_vjp);
    let (v, pb) = newton_sqrt_vjp(2.0);
    close(v, 2f64.sqrt(), 1e-15);
    close(pb(seed), seed * 0.5 / 2f64.sqrt(), 1e-12);
    let (_, pb) = early_returns_vjp(3.0, 4);
    close(pb(seed).0, seed * early_returns_grad(3.0, 4).1, 1e-14);
    let (_, pb) = guards_vjp(2.0, 1);
    close(pb(seed).0, seed * guards_grad(2.0, 1).1, 1e-14);
    let (_, pb) = closures_vjp(0.3, 0.7);
    let (_, (dx, dy)) = closures_grad(0.3, 0.7);
    let (px, py) = pb(seed);
    close(px, seed * dx, 1e-14);
    close(py, seed * dy, 1e-14);
}

// ---- the reverse sweep replays only what ran ------------------------------------------------

static PULLBACKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The identity, with a hand-written pullback that counts its runs.
fn counted(x: f64) -> f64 {
    x
}

fn counted_vjp(x: f64) -> (f64, impl FnOnce(f64) -> f64) {
    (x, |d| {
        PULLBACKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        d
    })
}

/// Halves `x` until it is below 1, at most 50 times.
#[differentiable(reverse)]
fn halve_until_small(x: f64) -> f64 {
    let mut y = x;
    for _ in 0..50 {
        if y < 1.0 {
            break;
        }
        y = counted(y) * 0.5;
    }
    y
}

#[test]
fn break_replays_only_the_iterations_that_ran() {
    // 40 → 20 → 10 → 5 → 2.5 → 1.25 → 0.625: 6 halvings, d/dx = 2⁻⁶.
    PULLBACKS.store(0, std::sync::atomic::Ordering::Relaxed);
    let (v, g) = halve_until_small_grad(40.0);
    assert_eq!((v, g), (0.625, 1.0 / 64.0));
    assert_eq!(PULLBACKS.load(std::sync::atomic::Ordering::Relaxed), 6);
}

// ---- `iter_mut`, `&mut x`, `for_each` and `std::iter::zip` ---------------------------------

#[differentiable]
fn squared_in_place(x: &[f64]) -> f64 {
    let mut c = x.to_vec();
    for v in c.iter_mut() {
        *v = *v * *v;
    }
    for v in &mut c {
        *v += v.sin();
    }
    c.iter().sum()
}

#[differentiable]
fn written_through_zip(x: &[f64], w: &[f64]) -> f64 {
    // A buffer written from two inputs, enumerated, filtered and reversed; an item read as
    // `*o` and by a method after a write.
    let mut out = vec![0.0; x.len()];
    for (o, (&a, b)) in out.iter_mut().zip(x.iter().zip(w)) {
        *o = a * b;
        *o -= 0.5 * o.powi(2);
    }
    for (i, o) in out.iter_mut().enumerate().rev() {
        *o *= i as f64 + 1.0;
    }
    for o in out.iter_mut().filter(|o| **o > 0.0) {
        *o = o.sqrt();
    }
    out.iter().sum::<f64>() + out[0] * x[0]
}

#[differentiable]
fn for_each_forms(x: &[f64]) -> f64 {
    let mut c = x.to_vec();
    c.iter_mut().for_each(|v| *v = v.exp() - 1.0);
    c.iter_mut().skip(1).for_each(|v| {
        let t = *v;
        *v = t * t;
    });
    let mut s = 0.0;
    x.iter().zip(&c).for_each(|(a, b)| s += a * b);
    (0..c.len()).for_each(|i| s += c[i] * 0.25);
    s
}

#[differentiable]
fn zip_function(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, b) in std::iter::zip(x, &x[1..]) {
        s += a * b;
    }
    for (i, v) in core::iter::zip(0..x.len(), x.iter()) {
        s += i as f64 * v.cos();
    }
    s
}

/// The README's example.
#[differentiable]
fn softened(x: &[f64]) -> f64 {
    let mut c = x.to_vec();
    for v in c.iter_mut() {
        *v = v.tanh() * 2.0; // written in place
    }
    c.iter().sum::<f64>() * x.last().unwrap() // the last element
}

#[differentiable(order = 2)]
fn cubed_in_place(x: &[f64]) -> f64 {
    let mut c = x.to_vec();
    for v in c.iter_mut() {
        *v = *v * *v * *v;
    }
    c.iter().sum()
}

#[differentiable]
fn state_updated_in_place(x: &[f64], steps: usize) -> f64 {
    // A loop-carried buffer updated through `iter_mut` every step.
    let mut u = x.to_vec();
    for _ in 0..steps {
        for (i, v) in u.iter_mut().enumerate() {
            *v = *v * 0.9 + 0.1 * (i as f64).sin() * v.tanh();
        }
    }
    u.iter().map(|v| v * v).sum()
}

#[test]
fn writes_through_iter_mut_and_for_each() {
    for n in [1, 2, 5] {
        for x in points(n) {
            check(
                &x,
                squared_in_place,
                squared_in_place_grad,
                squared_in_place_jvp,
            );
            check(&x, for_each_forms, for_each_forms_grad, for_each_forms_jvp);
            check(&x, zip_function, zip_function_grad, zip_function_jvp);
            check(&x, softened, softened_grad, softened_jvp);
            let w: Vec<f64> = x.iter().map(|v| v * 0.5 + 1.0).collect();
            check(
                &x,
                |x| written_through_zip(x, &w),
                |x| {
                    let (v, (gx, _)) = written_through_zip_grad(x, &w);
                    (v, gx)
                },
                |x, d| written_through_zip_jvp(x, &w, d, &vec![0.0; n]),
            );
            for steps in [0, 1, 3] {
                check(
                    &x,
                    |x| state_updated_in_place(x, steps),
                    |x| state_updated_in_place_grad(x, steps),
                    |x, d| state_updated_in_place_jvp(x, steps, d, grad::NoTangent),
                );
            }
            // H·v against central differences of the gradient.
            let v: Vec<f64> = (0..n).map(|i| 1.0 - 0.3 * i as f64).collect();
            check_second_order(&x, &v, cubed_in_place_grad, cubed_in_place_hvp);
        }
    }
}

/// A `loop` ending the body that only `return` leaves.
#[differentiable]
fn power_by_loop(x: f64, n: usize) -> f64 {
    let mut acc = 1.0;
    let mut k = 0;
    loop {
        if k == n {
            return acc;
        }
        acc *= x;
        k += 1;
    }
}

#[test]
fn a_loop_left_only_by_return() {
    for n in [0, 1, 4] {
        let x = 1.3;
        let (v, g) = power_by_loop_grad(x, n);
        assert_eq!(v, power_by_loop(x, n));
        close(g, n as f64 * x.powi(n as i32 - 1), 1e-12);
        close(power_by_loop_jvp(x, n, 1.0, grad::NoTangent).1, g, 1e-12);
    }
}

// ---- selections whose `Option` has a default or two arms ------------------------------------

/// Each selection taken apart by `unwrap_or`, `if let` (with a `&v` pattern) and `match`, so
/// an empty chain (or an item not found, or an `nth` past the end) takes the `None` arm.
#[differentiable(order = 2)]
fn selections_or_else(x: &[f64]) -> f64 {
    let m = x
        .iter()
        .copied()
        .max_by(|a, b| a.total_cmp(b))
        .unwrap_or(0.0);
    let lo = match x.iter().min_by(|a, b| a.total_cmp(b)) {
        Some(v) => v * v,
        None => 1.0,
    };
    let f = if let Some(&v) = x.iter().find(|v| **v > 0.5) {
        v.sin()
    } else {
        -1.0
    };
    let g = x.iter().map(|v| v * 2.0).nth(2).unwrap_or(0.25);
    let h = x.iter().copied().reduce(|a, b| a + b * b).unwrap_or(0.0);
    let k = x
        .iter()
        .enumerate()
        .max_by(|p, q| p.1.total_cmp(q.1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    let l = match x.iter().last().copied() {
        None => 3.0,
        Some(v) => v + 0.5,
    };
    m * lo + f + g + h + x.get(k).copied().unwrap_or(0.0) * l
}

/// `selections_or_else` with the `Option`s of `Iterator` itself, as a second method.
fn selections_or_else_by_hand(x: &[f64]) -> f64 {
    let m = x
        .iter()
        .copied()
        .max_by(|a, b| a.total_cmp(b))
        .unwrap_or(0.0);
    let lo = x
        .iter()
        .min_by(|a, b| a.total_cmp(b))
        .map_or(1.0, |v| v * v);
    let f = x.iter().find(|v| **v > 0.5).map_or(-1.0, |v| v.sin());
    let g = x.iter().map(|v| v * 2.0).nth(2).unwrap_or(0.25);
    let h = x.iter().copied().reduce(|a, b| a + b * b).unwrap_or(0.0);
    let k = x
        .iter()
        .enumerate()
        .max_by(|p, q| p.1.total_cmp(q.1))
        .map_or(0, |(i, _)| i);
    let l = x.iter().last().copied().map_or(3.0, |v| v + 0.5);
    m * lo + f + g + h + x.get(k).copied().unwrap_or(0.0) * l
}

#[test]
fn selections_with_a_default_or_two_arms() {
    for n in [0, 1, 2, 3, 6] {
        for x in points(n) {
            assert_eq!(
                selections_or_else(&x),
                selections_or_else_by_hand(&x),
                "{x:?}"
            );
            check(
                &x,
                selections_or_else,
                selections_or_else_grad,
                selections_or_else_jvp,
            );
            let v: Vec<f64> = (0..n).map(|i| 0.4 - 0.15 * i as f64).collect();
            check_second_order(&x, &v, selections_or_else_grad, selections_or_else_hvp);
        }
    }
    // Nothing to select: every `None` arm, and a zero gradient.
    // m lo + f + g + h + 0 l = 0 * 1 - 1 + 0.25 + 0.
    assert_eq!(selections_or_else_grad(&[]), (-0.75, vec![]));
}

// ---- `take_while` and `skip_while` ------------------------------------------------------------

/// A prefix and a suffix chosen by predicates on differentiated items: in a chain ending in
/// `sum`, in `for` loops (with `enumerate` before and a `filter` after), and in a `fold`
/// that is an operand of `+`.
#[differentiable(order = 2)]
fn while_chains(x: &[f64]) -> f64 {
    let head: f64 = x.iter().take_while(|v| **v < 1.5).map(|v| v * v).sum();
    let mut s = 0.0;
    for (i, v) in x.iter().enumerate().take_while(|(i, _)| *i < 3) {
        s += v * (i as f64 + 1.0);
    }
    for v in x.iter().skip_while(|v| **v > -1.0).filter(|v| **v < 1.0) {
        s += v.exp();
    }
    let tail = x
        .iter()
        .skip_while(|&&v| v < 0.5)
        .map(|v| v.sin())
        .sum::<f64>();
    head * s
        + tail
        + x.iter()
            .copied()
            .take_while(|v| v.abs() < 2.0)
            .fold(1.0, |a, b| a * b)
}

/// `while_chains` written with index loops and flags, as a second method.
fn while_chains_by_hand(x: &[f64]) -> f64 {
    let mut head = 0.0;
    for v in x {
        if *v >= 1.5 {
            break;
        }
        head += v * v;
    }
    let mut s = 0.0;
    for (i, v) in x.iter().enumerate().take(3) {
        s += v * (i as f64 + 1.0);
    }
    let start = x.iter().position(|v| *v <= -1.0).unwrap_or(x.len());
    for v in &x[start..] {
        if *v < 1.0 {
            s += v.exp();
        }
    }
    let start = x.iter().position(|v| *v >= 0.5).unwrap_or(x.len());
    let tail: f64 = x[start..].iter().map(|v| v.sin()).sum();
    let mut prod = 1.0;
    for v in x {
        if v.abs() >= 2.0 {
            break;
        }
        prod *= v;
    }
    head * s + tail + prod
}

#[test]
fn take_while_and_skip_while() {
    for n in [0, 1, 2, 4, 7] {
        for x in points(n) {
            assert_eq!(while_chains(&x), while_chains_by_hand(&x), "{x:?}");
            check(&x, while_chains, while_chains_grad, while_chains_jvp);
            let v: Vec<f64> = (0..n).map(|i| 0.3 - 0.1 * i as f64).collect();
            check_second_order(&x, &v, while_chains_grad, while_chains_hvp);
        }
    }
    // Every branch taken: a prefix cut at 2.1, a suffix from -1.2 and from 0.8.
    let x = [0.3, -1.2, 0.8, 2.1, 0.05, -1.5, 0.2];
    assert_eq!(while_chains(&x), while_chains_by_hand(&x));
    check(&x, while_chains, while_chains_grad, while_chains_jvp);
}

// ---- selections: `max_by`, `min_by`, `reduce` -----------------------------------------------

/// A log-sum-exp shifted by the maximum, as numerically careful code writes it, plus the
/// minimum squared.
#[differentiable(order = 2)]
fn shifted_logsumexp(x: &[f64]) -> f64 {
    let m = *x.iter().max_by(|a, b| a.total_cmp(b)).unwrap();
    let lo = x
        .iter()
        .copied()
        .min_by(|a, b| a.partial_cmp(b).unwrap())
        .expect("no smallest");
    let s: f64 = x.iter().map(|v| (v - m).exp()).sum();
    s.ln() + m + lo * lo
}

/// The README's example.
#[differentiable]
fn logsumexp(x: &[f64]) -> f64 {
    let m = *x.iter().max_by(|a, b| a.total_cmp(b)).unwrap(); // the shift, selected
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// Selections over adaptors: the largest weighted term (its derivative reaches the selected
/// item only), a `reduce` by a function path and by a closure, and a position with the item.
#[differentiable]
fn selections(x: &[f64]) -> f64 {
    let top = x
        .iter()
        .enumerate()
        .map(|(i, v)| v * (i as f64 + 1.0))
        .max_by(|a, b| a.total_cmp(b))
        .unwrap();
    let big = x.iter().copied().reduce(f64::max).unwrap();
    let sq = x.iter().map(|v| v * v).reduce(|p, q| p + q).unwrap();
    let (i, v) = x
        .iter()
        .enumerate()
        .skip(1)
        .min_by(|p, q| p.1.total_cmp(q.1))
        .unwrap();
    // The position of the largest square (an argmax): not differentiated, the read at it is.
    let k = x
        .iter()
        .enumerate()
        .max_by(|p, q| (p.1 * p.1).total_cmp(&(q.1 * q.1)))
        .map(|(i, _)| i)
        .unwrap();
    // A filter's predicate receives `&(i, &v)` whole, as `Iterator::filter` passes it.
    let even: f64 = x
        .iter()
        .enumerate()
        .filter(|p| p.0 % 2 == 0 && *p.1 > -5.0)
        .map(|(i, v)| v * i as f64)
        .sum();
    top + big * sq + *v * i as f64 + x[k].sin() + even
}

#[test]
fn max_by_min_by_and_reduce_select_and_differentiate() {
    for n in [1, 2, 5] {
        for x in points(n) {
            check(
                &x,
                shifted_logsumexp,
                shifted_logsumexp_grad,
                shifted_logsumexp_jvp,
            );
            let v: Vec<f64> = (0..n).map(|i| 0.5 - 0.2 * i as f64).collect();
            check_second_order(&x, &v, shifted_logsumexp_grad, shifted_logsumexp_hvp);
            check(&x, logsumexp, logsumexp_grad, logsumexp_jvp);
            if n > 1 && x.iter().any(|v| v.abs() > 0.3) {
                check(&x, found, found_grad, found_jvp);
                check_second_order(&x, &v, found_grad, found_hvp);
            }
            if n > 1 {
                check(&x, selections, selections_grad, selections_jvp);
            }
        }
    }
}

/// `find`, `last` and `nth` of chains, unwrapped: the item at the position found or counted.
#[differentiable(order = 2)]
fn found(x: &[f64]) -> f64 {
    let big = *x.iter().find(|v| v.abs() > 0.3).expect("no large element");
    let last = x.iter().map(|v| v.sin()).last().unwrap();
    let second = x.iter().rev().copied().nth(1).unwrap();
    big * last + second * second
}

#[differentiable]
fn largest(x: &[f64]) -> f64 {
    *x.iter().max_by(|a, b| a.total_cmp(b)).unwrap()
}

#[differentiable]
fn smallest(x: &[f64]) -> f64 {
    x.iter()
        .copied()
        .min_by(|a, b| a.total_cmp(b))
        .expect("smallest of nothing")
}

#[test]
fn ties_select_as_iterator_does() {
    // `max_by` selects the last of equal maxima, `min_by` the first of equal minima: the
    // whole derivative goes to that one.
    let x = [1.0, 3.0, 0.5, 3.0, 0.5];
    assert_eq!(largest_grad(&x), (3.0, vec![0.0, 0.0, 0.0, 1.0, 0.0]));
    assert_eq!(smallest_grad(&x), (0.5, vec![0.0, 0.0, 1.0, 0.0, 0.0]));
    assert_eq!(largest_jvp(&x, &[1.0, 2.0, 3.0, 4.0, 5.0]), (3.0, 4.0));
    assert_eq!(smallest_jvp(&x, &[1.0, 2.0, 3.0, 4.0, 5.0]), (0.5, 3.0));
}

#[test]
#[should_panic(expected = "called `Option::unwrap()` on a `None` value")]
fn max_by_of_nothing_panics_as_unwrap() {
    largest_grad(&[]);
}

#[test]
fn find_last_and_nth_read_where_iterator_would() {
    // big = the first |x_i| > 0.3 (x_1 here), last = sin x_2, second = x_1 (from the end):
    // f = x_1 sin x_2 + x_1².
    let x = [0.1, -0.5, 0.7];
    let (v, g) = found_grad(&x);
    assert_eq!(v, found(&x));
    let want = [0.0, 0.7f64.sin() + 2.0 * -0.5, -0.5 * 0.7f64.cos()];
    close_all(&g, &want, 1e-15);
}

#[test]
#[should_panic(expected = "no large element")]
fn find_of_nothing_found_panics_as_expect() {
    found_grad(&[0.1, 0.2]);
}

#[test]
#[should_panic(expected = "smallest of nothing")]
fn min_by_of_nothing_panics_as_expect() {
    smallest_grad(&[]);
}
