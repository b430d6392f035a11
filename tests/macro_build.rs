//! Values built from differentiated parts: array literals, `[e; n]`, `vec![..]`, struct
//! literals, tuples of built values and nalgebra's fixed-size constructors, as values, as
//! loop-carried state, through branches and as results, in both modes, against central
//! finite differences in f64 and forward mode against reverse mode.

// `vec![..]` is written where an array would do: the macro's `vec!` is what is tested.
#![allow(clippy::useless_vec)]

mod common;

use common::{close, close_all, fd};
use grad::nalgebra::{Matrix2, Matrix3, Vector2, Vector3};
use grad::{Differentiable, differentiable};

// ---- arrays and Vecs ---------------------------------------------------------------------

/// One explicit Euler step of a harmonic oscillator: a vector-valued function.
#[differentiable]
fn step(s: [f64; 2], dt: f64) -> [f64; 2] {
    [s[0] + dt * s[1], s[1] - dt * s[0]]
}

#[differentiable]
fn simulate(x0: f64, v0: f64) -> f64 {
    let mut s = [x0, v0];
    for _ in 0..10 {
        s = step(s, 0.1);
    }
    // The same step written inline, carried as an array.
    for _ in 0..5 {
        s = [s[0] + 0.05 * s[1], s[1] - 0.05 * s[0]];
    }
    s[0] * s[0] + s[1]
}

#[differentiable]
fn literals(x: f64, y: f64) -> f64 {
    let v = vec![x, x * y, 3.0];
    let w = vec![y; 3];
    let a = [x * 2.0; 4];
    let nested = [[x, y], [y * y, 1.0]];
    let picked = if x > 0.0 { [x, y] } else { [y, x] };
    let pair = ([x, y], vec![x * y]);
    v[0] + v[1] * v[2]
        + w[2] * a[3]
        + nested[1][0] * nested[0][0]
        + picked[1]
        + pair.0[1] * pair.1[0]
}

#[test]
fn vector_valued_functions() {
    // step(s) = (s0 + dt s1, s1 - dt s0): its Jacobian in s is [[1, dt], [-dt, 1]].
    let (v, pb) = step_vjp([1.0, 2.0], 0.1);
    assert_eq!(v, [1.2, 1.9]);
    let (ds, ddt) = pb([1.0, 0.0]);
    assert_eq!((ds, ddt), ([1.0, 0.1], 2.0));
    let (ds, ddt) = step_vjp([1.0, 2.0], 0.1).1([0.0, 1.0]);
    assert_eq!((ds, ddt), ([-0.1, 1.0], -1.0));
    let (v, t) = step_jvp([1.0, 2.0], 0.1, [1.0, 0.0], 0.0);
    assert_eq!((v, t), ([1.2, 1.9], [1.0, -0.1]));
    let (_, t) = step_jvp([1.0, 2.0], 0.1, [0.0, 0.0], 1.0);
    assert_eq!(t, [2.0, -1.0]);
}

#[test]
fn arrays_as_state() {
    for (x0, v0) in [(1.0, 0.5), (-0.7, 2.0), (0.0, 0.0)] {
        let (v, (gx, gv)) = simulate_grad(x0, v0);
        assert_eq!(v, simulate(x0, v0));
        close(gx, fd(|x| simulate(x, v0), x0), 1e-6);
        close(gv, fd(|w| simulate(x0, w), v0), 1e-6);
        let (_, t) = simulate_jvp(x0, v0, 0.3, -1.0);
        close(t, 0.3 * gx - gv, 1e-12);
    }
}

#[test]
fn array_and_vec_literals() {
    for (x, y) in [(2.0, 3.0), (-1.5, 0.5), (0.3, -2.0)] {
        let (v, (gx, gy)) = literals_grad(x, y);
        assert_eq!(v, literals(x, y));
        close(gx, fd(|x| literals(x, y), x), 1e-6);
        close(gy, fd(|y| literals(x, y), y), 1e-6);
        let (_, t) = literals_jvp(x, y, 1.0, 2.0);
        close(t, gx + 2.0 * gy, 1e-12);
    }
}

// ---- structs -------------------------------------------------------------------------------

#[derive(Differentiable, Clone, Debug, PartialEq)]
struct Pt {
    x: f64,
    y: f64,
}

#[derive(Differentiable, Clone, Debug)]
struct Segment {
    a: Pt,
    b: Pt,
    #[no_grad]
    id: usize,
}

#[differentiable]
fn midpoint_of(a: f64, b: f64) -> Pt {
    Pt { x: a * b, y: b }
}

#[differentiable]
fn segment_length2(a: f64, b: f64) -> f64 {
    let p = midpoint_of(a, b);
    let s = Segment {
        a: Pt { x: p.x, y: 2.0 },
        b: Pt { x: a, y: p.y * p.y },
        id: 7,
    };
    let (dx, dy) = (s.b.x - s.a.x, s.b.y - s.a.y);
    dx * dx + dy * dy + s.id as f64
}

#[test]
fn struct_literals() {
    // midpoint_of(a, b) = (ab, b): the pullback of (1, 1) is (b, a + 1).
    let (p, pb) = midpoint_of_vjp(2.0, 3.0);
    assert_eq!(p, Pt { x: 6.0, y: 3.0 });
    assert_eq!(pb(PtTangent { x: 1.0, y: 1.0 }), (3.0, 3.0));
    let (_, t) = midpoint_of_jvp(2.0, 3.0, 1.0, 0.0);
    assert_eq!((t.x, t.y), (3.0, 0.0));
    for (a, b) in [(2.0, 3.0), (-0.5, 1.5)] {
        let (v, (ga, gb)) = segment_length2_grad(a, b);
        assert_eq!(v, segment_length2(a, b));
        close(ga, fd(|a| segment_length2(a, b), a), 1e-6);
        close(gb, fd(|b| segment_length2(a, b), b), 1e-6);
        close(segment_length2_jvp(a, b, 1.0, 1.0).1, ga + gb, 1e-12);
    }
}

// ---- nalgebra ------------------------------------------------------------------------------

#[differentiable]
fn rotated(t: f64, r: f64) -> f64 {
    let (c, s) = (t.cos(), t.sin());
    let m = Matrix2::new(c, -s, s, c);
    let v = Vector2::new(r, t);
    let w = Matrix2::from_row_slice(&[t, 1.0, 0.0, t * r]);
    let u = Matrix2::from_column_slice(&[t, 1.0, 0.0, t * r]);
    let k = Matrix3::new(t, 0.0, 0.0, 0.0, r, 0.0, 0.0, 0.0, t * r);
    let z = Vector3::new(1.0, t, r);
    (m * v).norm_squared() + (w * v)[0] + (u * v)[1] + (k * z).sum()
}

#[test]
fn nalgebra_constructors() {
    // |R(t) v|² = |v|² = r² + t²; (W v)_0 = t r + t; (U v)_1 = r + t² r; K z = (t, r t, t r²).
    let f = |t: f64, r: f64| r * r + t * t + t * r + t + r + t * t * r + t + r * t + t * r * r;
    for (t, r) in [(0.3, 1.0), (-1.2, 0.4)] {
        let (v, (gt, gr)) = rotated_grad(t, r);
        close(v, f(t, r), 1e-14);
        close(gt, fd(|t| f(t, r), t), 1e-6);
        close(gr, fd(|r| f(t, r), r), 1e-6);
        let (_, d) = rotated_jvp(t, r, 1.0, -1.0);
        close(d, gt - gr, 1e-12);
        let (_, pb) = rotated_vjp(t, r);
        let (pt, pr) = pb(2.0);
        close_all(&[pt, pr], &[2.0 * gt, 2.0 * gr], 1e-14);
    }
}

#[differentiable]
fn dvector_of_vec(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().map(|a| a * a).collect();
    let d = grad::nalgebra::DVector::from_vec(v);
    d.norm() + d[0]
}

#[test]
fn dvector_from_a_vec() {
    // |x²| + x0²: d/dx_i = 2 x_i³ / |x²| + 2 x0 [i = 0].
    let x = [1.0, -2.0, 0.5];
    let n = x.iter().map(|a| a * a * a * a).sum::<f64>().sqrt();
    let want: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, a)| 2.0 * a * a * a / n + if i == 0 { 2.0 * a } else { 0.0 })
        .collect();
    let (v, g) = dvector_of_vec_grad(&x);
    close(v, n + 1.0, 1e-14);
    close_all(&g, &want, 1e-14);
    let (_, t) = dvector_of_vec_jvp(&x, &[1.0, 0.0, 1.0]);
    close(t, want[0] + want[2], 1e-14);
}

// ---- `map` of arrays and nalgebra matrices -------------------------------------------------

/// A vector-valued function returning a mapped array.
#[differentiable]
fn squashed(x: [f64; 3], k: f64) -> [f64; 3] {
    x.map(|v| (v * k).tanh())
}

/// `map` by a closure and by a path, of a literal, of an index array (items of another type,
/// reading a differentiated array), and inside a loop as carried state.
#[differentiable(order = 2)]
fn mapped(x: &[f64]) -> f64 {
    let a = [x[0], x[1] * x[2]];
    let sq = a.map(|v| v * v);
    let s = sq.map(f64::sin);
    let picks = [2usize, 0, 0];
    let w = picks.map(|i| x[i] * 3.0);
    let mut state = [x[1], x[2]];
    for _ in 0..3 {
        state = state.map(|v| v.cos() + 0.5 * v);
    }
    s[0] + s[1] * sq[0] + w[0] * w[1] + w[2] + state[0] * state[1]
}

#[differentiable]
fn mapped_vector(p: Vector3<f64>, k: f64) -> f64 {
    let q = p.map(|e| (e * k).tanh());
    let m = Matrix2::new(p[0], p[1], k, p[2]).map(|e| e * e);
    q.dot(&p) + m[(0, 1)] * m[(1, 1)] + m[(1, 0)]
}

#[test]
fn maps_of_arrays_and_matrices() {
    // squashed: d y_i / d x_j = [i = j] k sech²(k x_i), d y_i / dk = x_i sech²(k x_i).
    let (x, k) = ([0.3, -1.2, 2.0], 0.7);
    let sech2 = |u: f64| 1.0 - u.tanh() * u.tanh();
    let (y, pb) = squashed_vjp(x, k);
    assert_eq!(y, squashed(x, k));
    let (dx, dk) = pb([1.0, 2.0, -1.0]);
    let want: Vec<f64> = (0..3)
        .map(|i| [1.0, 2.0, -1.0][i] * k * sech2(k * x[i]))
        .collect();
    close_all(&dx, &want, 1e-14);
    let want_k: f64 = (0..3)
        .map(|i| [1.0, 2.0, -1.0][i] * x[i] * sech2(k * x[i]))
        .sum();
    close(dk, want_k, 1e-14);
    let (_, t) = squashed_jvp(x, k, [0.0, 1.0, 0.0], 0.0);
    close_all(&t, &[0.0, k * sech2(k * x[1]), 0.0], 1e-14);

    for x in [[0.4, -0.8, 1.3], [1.1, 0.2, -0.6]] {
        common::check(&x, mapped, mapped_grad, mapped_jvp);
        let v = [0.3, -1.0, 0.5];
        let (value, g, hv) = mapped_hvp(&x, &v);
        assert_eq!((value, g), mapped_grad(&x));
        common::check_hvp(&x, &v, &hv, |y| mapped_grad(y).1);

        let p = Vector3::new(x[0], x[1], x[2]);
        let (value, (gp, gk)) = mapped_vector_grad(p, 0.9);
        assert_eq!(value, mapped_vector(p, 0.9));
        for i in 0..3 {
            let along = |s: f64| {
                let mut q = p;
                q[i] += s;
                mapped_vector(q, 0.9)
            };
            close(gp[i], fd(along, 0.0), 1e-6);
        }
        close(gk, fd(|k| mapped_vector(p, k), 0.9), 1e-6);
        let (_, t) = mapped_vector_jvp(p, 0.9, Vector3::new(1.0, 0.0, -1.0), 0.5);
        close(t, gp[0] - gp[2] + 0.5 * gk, 1e-12);
    }
}
