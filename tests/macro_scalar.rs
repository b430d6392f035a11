//! Every construct of the differentiable subset on scalars, against analytic derivatives and
//! central finite differences, in both modes.

mod common;

use common::{Rng, close, close_all, fd, fd_slice};
use grad::{NoTangent, differentiable};

// ---- straight-line code -------------------------------------------------------------------

#[differentiable]
fn scale(a: f64) -> f64 {
    a * 5.0
}

#[test]
fn smallest_case() {
    // d/da (5a) = 5
    assert_eq!(scale(5.0), 25.0);
    assert_eq!(scale_grad(5.0), (25.0, 5.0));
    assert_eq!(scale_jvp(5.0, 1.0), (25.0, 5.0));
    let (v, pb) = scale_vjp(5.0);
    assert_eq!((v, pb(2.0)), (25.0, 10.0));
}

#[differentiable]
fn rosenbrock(x: f64, y: f64) -> f64 {
    let a = 1.0 - x;
    let b = y - x * x;
    a * a + 100.0 * b * b
}

#[test]
fn rosenbrock_2d() {
    // ∂/∂x = -2(1-x) - 400x(y-x²) = 4.4 - 400(-1.2)(1-1.44)... at (-1.2, 1): -215.6
    // ∂/∂y = 200(y-x²) = 200(1-1.44) = -88
    let (v, (dx, dy)) = rosenbrock_grad(-1.2, 1.0);
    close(v, 24.2, 1e-14);
    close(dx, -215.6, 1e-12);
    close(dy, -88.0, 1e-12);
}

#[differentiable]
fn arithmetic(x: f64, y: f64) -> f64 {
    let a: f64 = x * y - x / y + (-x) * 2.0;
    let b = (a + 3.0) / (1.0 + y * y);
    -b + a * (x - y)
}

#[differentiable]
fn shadow_and_mutate(x: f64, y: f64) -> f64 {
    let z = x * y;
    let z = z + x;
    let mut w = z;
    w += y;
    w *= x;
    w -= 1.0;
    w /= y;
    w = w * w;
    let (p, q) = (w, x + 1.0);
    let (r, (s, _)) = (p * q, (q - y, 7.0));
    r + s
}

#[differentiable]
fn primitives(x: f64, y: f64) -> f64 {
    let a = x.exp() + y.ln() + y.sqrt() + x.powi(3) + y.powf(x) + x.sin() * x.cos();
    let b = x.tan() + x.tanh() + (x - y).abs() + x.max(y) + x.min(y);
    let c = x.sigmoid() + (x - 0.5).relu() + x.clamp(-0.5, 0.75);
    let d = y.recip() + x.exp2() + y.log2() + y.log10() + x.sinh() + x.cosh();
    let e = (x * 0.5).asin() + (x * 0.5).acos() + x.atan() + y.cbrt() + y.ln_1p() + x.exp_m1();
    let f = x.atan2(y) + x.hypot(y) + f64::exp(x) + f64::max(x, 0.25);
    a + b + c + d + e + f
}

#[differentiable]
fn casts(x: f64) -> f64 {
    let s = x as f32;
    let t = s * s;
    let n = 3;
    (t as f64) * (n as f64) + x
}

#[differentiable]
fn floats32(x: f32, y: f32) -> f32 {
    let a = x * y + x.exp() - y.sqrt();
    a * a / (1.0 + y)
}

/// Checks `_grad` against finite differences, `_vjp` and `_jvp` against `_grad`, at points.
macro_rules! check2 {
    ($f:ident, $g:ident, $v:ident, $j:ident, $pts:expr, $tol:expr) => {
        for (x, y) in $pts {
            let (val, (dx, dy)) = $g(x, y);
            close(val, $f(x, y), 1e-14);
            close(dx, fd(|x| $f(x, y), x), $tol);
            close(dy, fd(|y| $f(x, y), y), $tol);
            let (val2, pb) = $v(x, y);
            assert_eq!(val, val2);
            let (px, py) = pb(1.0);
            close(px, dx, 1e-12);
            close(py, dy, 1e-12);
            let (_, tx) = $j(x, y, 1.0, 0.0);
            let (_, ty) = $j(x, y, 0.0, 1.0);
            close(tx, dx, 1e-12);
            close(ty, dy, 1e-12);
        }
    };
}

#[test]
fn straight_line_code_against_finite_differences() {
    let pts = [(0.3, 1.7), (-0.8, 0.6), (1.1, 2.5)];
    check2!(
        rosenbrock,
        rosenbrock_grad,
        rosenbrock_vjp,
        rosenbrock_jvp,
        pts,
        1e-6
    );
    check2!(
        arithmetic,
        arithmetic_grad,
        arithmetic_vjp,
        arithmetic_jvp,
        pts,
        1e-6
    );
    check2!(
        shadow_and_mutate,
        shadow_and_mutate_grad,
        shadow_and_mutate_vjp,
        shadow_and_mutate_jvp,
        pts,
        1e-6
    );
    // primitives: x within asin/acos's domain after the halving, y > 0.
    let pts = [(0.3, 1.7), (-0.6, 0.6), (0.9, 2.5), (0.2, 0.3)];
    check2!(
        primitives,
        primitives_grad,
        primitives_vjp,
        primitives_jvp,
        pts,
        1e-6
    );
}

#[test]
fn casts_and_f32() {
    // casts(x) = 3 (x as f32)² + x: d/dx = 6x + 1 (up to f32 rounding of x²)
    let (v, d) = casts_grad(1.5);
    assert_eq!(v, casts(1.5));
    close(d, 10.0, 1e-6);
    let (_, t) = casts_jvp(1.5, 2.0);
    close(t, 20.0, 1e-6);
    // f32 against f64 finite differences of the same formula.
    let g = |x: f64, y: f64| {
        let a = x * y + x.exp() - y.sqrt();
        a * a / (1.0 + y)
    };
    let (v, (dx, dy)) = floats32_grad(0.7, 1.3);
    assert_eq!(v, floats32(0.7, 1.3));
    close(dx as f64, fd(|x| g(x, 1.3), 0.7), 1e-5);
    close(dy as f64, fd(|y| g(0.7, y), 1.3), 1e-5);
}

// ---- branches -----------------------------------------------------------------------------

#[differentiable]
fn branches(x: f64, y: f64, mode: u32) -> f64 {
    let mut z = x * y;
    if x > 0.0 && !(mode == 3 || y < -1.0) {
        z += x.sin();
    } else if x < -1.0 || mode == 7 {
        z *= y;
    } else {
        z -= 2.0 * y;
    }
    let w = if mode > 2 { z * z } else { z + x };
    if mode == 5 { w * 3.0 } else { w }
}

#[differentiable]
fn matches(x: f64, k: usize) -> f64 {
    let mut acc = x;
    let y = match k {
        0 => x * 2.0,
        1 | 2 => {
            acc *= x;
            x.exp()
        }
        n => x * n as f64,
    };
    acc + y
}

#[test]
fn both_sides_of_every_branch() {
    for &(x, y) in &[(0.7, 0.4), (-1.5, 0.3), (-0.5, 2.0), (0.5, -2.0)] {
        for mode in [0, 3, 5, 7] {
            let f = |x: f64, y: f64| branches(x, y, mode);
            let (v, (dx, dy)) = branches_grad(x, y, mode);
            close(v, f(x, y), 1e-14);
            close(dx, fd(|x| f(x, y), x), 1e-6);
            close(dy, fd(|y| f(x, y), y), 1e-6);
            let (_, pb) = branches_vjp(x, y, mode);
            let (px, py, NoTangent) = pb(1.0);
            close(px, dx, 1e-12);
            close(py, dy, 1e-12);
            let (_, t) = branches_jvp(x, y, mode, 0.3, -0.7, NoTangent);
            close(t, 0.3 * dx - 0.7 * dy, 1e-12);
        }
    }
}

#[test]
fn match_arms() {
    for k in 0..5 {
        let (v, d) = matches_grad(0.8, k);
        close(v, matches(0.8, k), 1e-14);
        close(d, fd(|x| matches(x, k), 0.8), 1e-6);
        let (_, t) = matches_jvp(0.8, k, 1.0, NoTangent);
        close(t, d, 1e-12);
    }
}

// ---- loops --------------------------------------------------------------------------------

#[differentiable]
fn rosenbrock_n(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        s += a * a + 100.0 * b * b;
    }
    s
}

#[differentiable]
fn product(x: &[f64]) -> f64 {
    let mut p = 1.0;
    for i in 0..x.len() {
        p = p * x[i].sin() + 0.1;
    }
    p
}

#[differentiable]
fn ranges(x: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for i in (0..n).rev() {
        s = s * 0.5 + x[i];
    }
    for i in 1..=n - 1 {
        s += x[i] * x[i - 1];
    }
    for i in (0..n).step_by(2) {
        s *= x[i].cos();
    }
    for i in (1..n).rev().step_by(3) {
        s -= x[i].exp();
    }
    for i in (0..n - 1).step_by(2).rev() {
        s *= 1.0 + x[i] * x[i + 1];
    }
    s
}

#[differentiable]
fn nested(x: &[f64], m: usize) -> f64 {
    let mut total = 0.0;
    let mut carry = 1.0;
    for i in 0..x.len() {
        let mut row = x[i];
        for j in 0..m {
            row = row * carry + (j as f64) * x[(i + j) % x.len()];
            if row > 2.0 {
                row = row.sqrt();
            }
        }
        carry = carry * 0.9 + row.tanh();
        total += row * carry;
    }
    total
}

#[differentiable]
fn while_loop(x: f64) -> f64 {
    // Newton iterations for sqrt(2) started at x, then scaled by x: the loop count
    // depends on x but is not differentiated.
    let mut y = x;
    let mut k = 0;
    while (y * y - 2.0).abs() > 1e-3 && k < 50 {
        y = 0.5 * (y + 2.0 / y);
        k += 1;
    }
    y * x
}

#[test]
fn loops_against_finite_differences() {
    let mut rng = Rng::new(7);
    for n in [2, 3, 5, 8] {
        let x = rng.vec(n, 0.2, 1.2);
        type Pair = (fn(&[f64]) -> f64, fn(&[f64]) -> (f64, Vec<f64>));
        let cases: [Pair; 3] = [
            (rosenbrock_n, rosenbrock_n_grad),
            (product, product_grad),
            (ranges, ranges_grad),
        ];
        for (f, g) in cases {
            let (v, d) = g(&x);
            close(v, f(&x), 1e-13);
            close_all(&d, &fd_slice(f, &x), 1e-6);
        }
        for m in [0, 1, 3] {
            let (v, d) = nested_grad(&x, m);
            close(v, nested(&x, m), 1e-13);
            close_all(&d, &fd_slice(|x| nested(x, m), &x), 1e-6);
        }
    }
    for x in [0.5, 1.0, 3.0] {
        let (v, d) = while_loop_grad(x);
        close(v, while_loop(x), 1e-14);
        close(d, fd(while_loop, x), 1e-5);
    }
}

#[test]
fn forward_and_reverse_agree_on_loops() {
    // <jvp(v), w> == <v, vjp(w)> for random points, directions v and cotangents w.
    let mut rng = Rng::new(11);
    for _ in 0..10 {
        let n = 2 + (rng.next_u64() % 6) as usize;
        let x = rng.vec(n, 0.2, 1.2);
        let v = rng.vec(n, -1.0, 1.0);
        let w = rng.uniform(-2.0, 2.0);
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
        let (_, t) = ranges_jvp(&x, &v);
        let (_, pb) = ranges_vjp(&x);
        close(t * w, dot(&v, &pb(w)), 1e-12);
        let (_, t) = nested_jvp(&x, 2, &v, NoTangent);
        let (_, pb) = nested_vjp(&x, 2);
        let (g, NoTangent) = pb(w);
        close(t * w, dot(&v, &g), 1e-12);
        let (_, t) = product_jvp(&x, &v);
        let (_, pb) = product_vjp(&x);
        close(t * w, dot(&v, &pb(w)), 1e-12);
    }
}

#[test]
fn fused_and_two_sweep_reverse_agree() {
    // rosenbrock_n_grad runs its adjoint inside the forward loop; the pullback runs it
    // afterwards. Both must give the gradient (up to summation order).
    let x: Vec<f64> = (0..100).map(|i| 0.5 + 0.001 * i as f64).collect();
    let (_, g) = rosenbrock_n_grad(&x);
    let (_, pb) = rosenbrock_n_vjp(&x);
    close_all(&g, &pb(1.0), 1e-12);
    // A hand derivation for n = 2 equals the 2-d function's gradient.
    let (_, g) = rosenbrock_n_grad(&[-1.2, 1.0]);
    close_all(&g, &[-215.6, -88.0], 1e-12);
}

// ---- arrays, Vecs, tuples, structs --------------------------------------------------------

#[differentiable]
fn arm(theta: &[f64; 3], lengths: [f64; 3]) -> f64 {
    let mut phi = 0.0;
    let mut x = 0.0;
    let mut y = 0.0;
    for k in 0..3 {
        phi += theta[k];
        x += lengths[k] * phi.cos();
        y += lengths[k] * phi.sin();
    }
    (x - 1.0).powi(2) + (y - 0.5).powi(2)
}

#[differentiable]
fn owned(v: Vec<f64>, pair: (f64, f64)) -> f64 {
    let (a, b) = pair;
    v[0] * a + v[1] * b + pair.0 * pair.1
}

#[test]
fn arrays_vecs_tuples() {
    let theta = [0.3, -0.2, 0.5];
    let lengths = [1.0, 0.7, 0.4];
    let (v, (dt, dl)) = arm_grad(&theta, lengths);
    close(v, arm(&theta, lengths), 1e-14);
    let f = |t: &[f64]| arm(&[t[0], t[1], t[2]], lengths);
    close_all(&dt, &fd_slice(f, &theta), 1e-6);
    let f = |l: &[f64]| arm(&theta, [l[0], l[1], l[2]]);
    close_all(&dl, &fd_slice(f, &lengths), 1e-6);
    let (_, t) = arm_jvp(&theta, lengths, &[1.0, 0.0, 0.0], [0.0; 3]);
    close(t, dt[0], 1e-12);

    // owned = v0 a + v1 b + a b: ∂v = (a, b), ∂pair = (v0 + b, v1 + a)
    let (v, (dv, dp)) = owned_grad(vec![2.0, 3.0], (5.0, 7.0));
    assert_eq!(v, 2.0 * 5.0 + 3.0 * 7.0 + 35.0);
    assert_eq!(v, owned(vec![2.0, 3.0], (5.0, 7.0)));
    assert_eq!(dv, vec![5.0, 7.0]);
    assert_eq!(dp, (2.0 + 7.0, 3.0 + 5.0));
}

/// A model with scalar fields; `Differentiable` by hand until the derive exists.
#[derive(Clone, Debug, PartialEq)]
struct Line {
    slope: f64,
    intercept: f64,
}

#[derive(Clone, Debug, PartialEq)]
struct LineTangent {
    slope: f64,
    intercept: f64,
}

impl grad::Tangent for LineTangent {
    fn add_assign(&mut self, o: Self) {
        self.slope += o.slope;
        self.intercept += o.intercept;
    }
    fn scale(&mut self, f: f64) {
        self.slope *= f;
        self.intercept *= f;
    }
    fn visit(&self, f: &mut dyn FnMut(grad::Flat<'_>)) {
        f(grad::Flat::F64(&[self.slope, self.intercept]));
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(grad::FlatMut<'_>)) {
        f(grad::FlatMut::F64(std::slice::from_mut(&mut self.slope)));
        f(grad::FlatMut::F64(std::slice::from_mut(
            &mut self.intercept,
        )));
    }
}

impl grad::Differentiable for Line {
    type Tangent = LineTangent;
    fn zero_tangent(&self) -> LineTangent {
        LineTangent {
            slope: 0.0,
            intercept: 0.0,
        }
    }
    fn move_along(&mut self, d: &LineTangent) {
        self.slope += d.slope;
        self.intercept += d.intercept;
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(grad::FlatMut<'_>)) {
        f(grad::FlatMut::F64(std::slice::from_mut(&mut self.slope)));
        f(grad::FlatMut::F64(std::slice::from_mut(
            &mut self.intercept,
        )));
    }
    fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], grad::Flat<'_>)) {
        grad::in_field(name, "slope", |name| {
            f(
                name,
                &[],
                grad::Flat::F64(std::slice::from_ref(&self.slope)),
            )
        });
        grad::in_field(name, "intercept", |name| {
            f(
                name,
                &[],
                grad::Flat::F64(std::slice::from_ref(&self.intercept)),
            )
        });
    }
}

impl Line {
    #[differentiable(wrt(self))]
    fn predict(&self, x: f64) -> f64 {
        self.slope * x + self.intercept
    }

    #[differentiable(wrt(self))]
    fn loss(&self, xs: &[f64], ys: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..xs.len() {
            let r = self.predict(xs[i]) - ys[i];
            s += r * r;
        }
        s / xs.len() as f64
    }

    #[differentiable]
    fn both(&self, x: f64) -> f64 {
        self.slope * x * x + self.intercept.exp()
    }
}

#[test]
fn methods_with_self() {
    let m = Line {
        slope: 2.0,
        intercept: -1.0,
    };
    let xs = [0.0, 1.0, 2.0];
    let ys = [0.5, 0.5, 4.0];
    // residuals r = (-1.5, 0.5, -1.0); ∂slope = 2/3 Σ r x = 2/3 (0.5 - 2) = -1;
    // ∂intercept = 2/3 Σ r = 2/3 (-2) = -4/3
    let (v, d) = m.loss_grad(&xs, &ys);
    close(v, (2.25 + 0.25 + 1.0) / 3.0, 1e-14);
    assert_eq!(v, m.loss(&xs, &ys));
    assert_eq!(m.predict(2.0), 3.0);
    assert_eq!(m.both(3.0), 18.0 + (-1.0f64).exp());
    close(d.slope, -1.0, 1e-14);
    close(d.intercept, -4.0 / 3.0, 1e-14);
    let (_, pb) = m.loss_vjp(&xs, &ys);
    let (d2, NoTangent, NoTangent) = pb(1.0);
    assert_eq!(d, d2);
    let dir = LineTangent {
        slope: 1.0,
        intercept: 0.0,
    };
    let (_, t) = m.loss_jvp(&xs, &ys, &dir, NoTangent, NoTangent);
    close(t, -1.0, 1e-14);
    // both = slope x² + e^intercept: ∂self = (x², e^intercept), ∂x = 2 slope x
    let (_, (ds, dx)) = m.both_grad(3.0);
    close(ds.slope, 9.0, 1e-14);
    close(ds.intercept, (-1.0f64).exp(), 1e-14);
    close(dx, 12.0, 1e-14);
}

// ---- calls, custom derivatives, stop_gradient, effects ------------------------------------

#[differentiable]
fn inner(a: f64, b: f64) -> f64 {
    a * b.sin()
}

#[differentiable]
fn outer(x: f64, y: f64) -> f64 {
    let u = inner(x, y) + inner(y, 2.0);
    inner(u, x) * 0.5
}

/// `softplus(x) = ln(1 + e^x)`, with a hand-written, overflow-free derivative.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn softplus_vjp(x: f64) -> (f64, impl FnOnce(f64) -> f64) {
    (softplus(x), move |d| d * x.sigmoid())
}

fn softplus_jvp(x: f64, dx: f64) -> (f64, f64) {
    (softplus(x), dx * x.sigmoid())
}

use grad::Real;

#[differentiable]
fn uses_custom(x: f64) -> f64 {
    softplus(x * 2.0) + softplus(-x)
}

#[differentiable]
fn stopped(x: f64, y: f64) -> f64 {
    let s = grad::stop_gradient(x * y);
    assert!(s.is_finite(), "s = {s}");
    debug_assert!(x > -1e9);
    let z = x * s;
    println!("x = {x}, z = {}", z);
    z + y
}

#[differentiable]
fn nondiff_methods(x: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for i in 0..n {
        if !x[i].is_nan() {
            s += x[i] * (n as f64);
        }
    }
    s
}

#[test]
fn calls_and_custom_derivatives() {
    for (x, y) in [(0.3, 1.1), (-0.7, 0.4)] {
        let (_, (dx, dy)) = outer_grad(x, y);
        close(dx, fd(|x| outer(x, y), x), 1e-6);
        close(dy, fd(|y| outer(x, y), y), 1e-6);
        let (_, t) = outer_jvp(x, y, 1.0, 0.0);
        close(t, dx, 1e-12);
    }
    // d/dx [softplus(2x) + softplus(-x)] = 2σ(2x) - σ(-x)
    for x in [-3.0, 0.0, 0.4, 800.0] {
        let (v, d) = uses_custom_grad(x);
        assert_eq!(v, uses_custom(x));
        let want = 2.0 * (2.0 * x).sigmoid() - (-x).sigmoid();
        close(d, want, 1e-14);
        let (_, t) = uses_custom_jvp(x, 1.0);
        close(t, want, 1e-14);
    }
    // stopped = x·stop(xy) + y: ∂x = xy, ∂y = 1 (the stopped product gets no gradient)
    let (v, (dx, dy)) = stopped_grad(2.0, 3.0);
    assert_eq!((v, dx, dy), (15.0, 6.0, 1.0));
    let (_, t) = stopped_jvp(2.0, 3.0, 1.0, 1.0);
    assert_eq!(t, 7.0);
    let (_, g) = nondiff_methods_grad(&[1.0, 2.0]);
    assert_eq!(g, vec![2.0, 2.0]);
}

// ---- modes, wrt, generics, visibility -----------------------------------------------------

#[differentiable(wrt(y))]
fn only_y(x: f64, y: f64) -> f64 {
    x * y * y
}

#[differentiable(reverse)]
fn reverse_only(x: f64) -> f64 {
    x.exp()
}

#[differentiable(forward)]
fn forward_only(x: f64) -> f64 {
    x.ln()
}

#[differentiable]
fn generic<T: Real>(x: T, y: T) -> T {
    let two = T::from_f64(2.0);
    x * x * y + two * y.sin()
}

#[differentiable]
fn vector_valued(x: f64, y: f64) -> (f64, f64) {
    (x * y, x + y.exp())
}

pub mod api {
    use grad::differentiable;

    #[differentiable]
    pub fn public(x: f64) -> f64 {
        x * x
    }
}

#[test]
fn modes_and_signatures() {
    // wrt(y): _grad gives ∂y = 2xy only; the pullback has a NoTangent slot for x.
    let (_, dy) = only_y_grad(3.0, 2.0);
    assert_eq!(dy, 12.0);
    let (_, pb) = only_y_vjp(3.0, 2.0);
    let (NoTangent, dy2) = pb(1.0);
    assert_eq!(dy2, 12.0);
    let (_, t) = only_y_jvp(3.0, 2.0, NoTangent, 1.0);
    assert_eq!(t, 12.0);

    assert_eq!(reverse_only_grad(0.0), (1.0, 1.0));
    assert_eq!(forward_only_jvp(2.0, 1.0), (2f64.ln(), 0.5));

    // generic = x²y + 2 sin y: ∂x = 2xy, ∂y = x² + 2 cos y
    let (_, (dx, dy)) = generic_grad(1.5f64, 0.5);
    close(dx, 1.5, 1e-15);
    close(dy, 2.25 + 2.0 * 0.5f64.cos(), 1e-15);
    let (_, (dx32, _)) = generic_grad(1.5f32, 0.5);
    assert!((dx32 - 1.5).abs() < 1e-6);

    // Vector-valued: the pullback of a cotangent (u, w) is (u y + w, u x + w e^y).
    let ((a, b), pb) = vector_valued_vjp(2.0, 0.0);
    assert_eq!((a, b), (0.0, 3.0));
    assert_eq!(pb((1.0, 1.0)), (0.0 + 1.0, 2.0 + 1.0));
    let (_, (ta, tb)) = vector_valued_jvp(2.0, 0.0, 1.0, 0.0);
    assert_eq!((ta, tb), (0.0, 1.0));

    assert_eq!(api::public_grad(3.0), (9.0, 6.0));
}

// ---- kinks follow PyTorch ------------------------------------------------------------------

#[differentiable]
fn kinks(x: f64, y: f64) -> f64 {
    x.relu() + x.abs() + x.max(y) + x.sqrt()
}

#[test]
fn kink_conventions() {
    // At x = y = 0: relu'(0) = 0, abs'(0) = 0, max sends the gradient to x on ties,
    // sqrt'(0) = inf.
    let (_, (dx, dy)) = kinks_grad(0.0, 0.0);
    assert_eq!(dx, f64::INFINITY);
    assert_eq!(dy, 0.0);
    let (_, (dx, dy)) = kinks_grad(4.0, 4.0);
    assert_eq!((dx, dy), (1.0 + 1.0 + 1.0 + 0.25, 0.0));
    let (_, (dx, _)) = kinks_grad(f64::NAN, 0.0);
    assert!(dx.is_nan());
}

// ---- loops that _grad fuses, and ones it must not ------------------------------------------

#[differentiable]
fn while_sum(x: &[f64]) -> f64 {
    // A `while` whose carried sum only accumulates and is returned directly.
    let mut s = 0.0;
    let mut i = 0;
    while i < x.len() {
        s += x[i] * x[i];
        i += 1;
    }
    s
}

#[differentiable]
fn sum_then_more(x: &[f64]) -> f64 {
    // The carried sum is returned through more work: no fusion, same gradient.
    let mut s = 0.0;
    for i in 0..x.len() {
        s -= x[i].sin();
    }
    s * s
}

#[differentiable]
fn init_from_param(x: &[f64], s0: f64) -> f64 {
    // The accumulator starts from a parameter, which receives the carried adjoint.
    let mut s = s0 * 2.0;
    for i in 0..x.len() {
        s += x[i] * s0;
    }
    s
}

#[test]
fn fusion_boundaries() {
    let x = [0.3, -0.4, 1.2, 0.9];
    let (_, g) = while_sum_grad(&x);
    close_all(&g, &[0.6, -0.8, 2.4, 1.8], 1e-15);
    let (_, g) = sum_then_more_grad(&x);
    close_all(&g, &fd_slice(sum_then_more, &x), 1e-6);
    // s = 2 s0 + s0 Σx: ∂x_i = s0, ∂s0 = 2 + Σx
    let (_, (gx, gs)) = init_from_param_grad(&x, 1.5);
    close_all(&gx, &[1.5; 4], 1e-15);
    close(gs, 2.0 + 2.0, 1e-15);
    let (_, pb) = init_from_param_vjp(&x, 1.5);
    let (px, ps) = pb(1.0);
    close_all(&px, &gx, 1e-15);
    close(ps, gs, 1e-15);
}

// ---- `mul_add`: three operands, one rounding ------------------------------------------------

#[differentiable(order = 2)]
fn fused(a: f64, b: f64, c: f64) -> f64 {
    a.mul_add(b, c).sin() + f64::mul_add(b, b, a) * 2.0f64.mul_add(c, 1.0)
}

#[test]
fn mul_add_differentiates_as_a_product_plus_a_sum() {
    for (a, b, c) in [(0.3, -1.2, 0.7), (2.0, 0.5, -3.0)] {
        let (v, (ga, gb, gc)) = fused_grad(a, b, c);
        assert_eq!(
            v,
            fused(a, b, c),
            "the primal's value, fused rounding included"
        );
        close(ga, fd(|a| fused(a, b, c), a), 1e-7);
        close(gb, fd(|b| fused(a, b, c), b), 1e-7);
        close(gc, fd(|c| fused(a, b, c), c), 1e-7);
        let (v2, t) = fused_jvp(a, b, c, 1.0, -2.0, 0.5);
        assert_eq!(v2, v);
        close(t, ga - 2.0 * gb + 0.5 * gc, 1e-12);
        let (_, pb) = fused_vjp(a, b, c);
        assert_eq!(pb(1.0), (ga, gb, gc));
        // H v against differences of the gradient along v = (1, -2, 0.5).
        let (_, _, (ha, hb, hc)) = fused_hvp(a, b, c, 1.0, -2.0, 0.5);
        let g = |s: f64| fused_grad(a + s, b - 2.0 * s, c + 0.5 * s).1;
        close(ha, fd(|s| g(s).0, 0.0), 1e-6);
        close(hb, fd(|s| g(s).1, 0.0), 1e-6);
        close(hc, fd(|s| g(s).2, 0.0), 1e-6);
    }
}

// ---- array patterns in `let` ----------------------------------------------------------------

#[differentiable]
fn unpack(x: [f64; 3], y: f64) -> f64 {
    let [a, b, c] = x;
    let ([p, _], q) = ([b * y, a], c);
    let [u, v] = [p.sin(), q * a];
    u * v + a
}

#[test]
fn array_patterns_bind_each_element() {
    let (x, y) = ([0.4, -1.3, 0.8], 0.6);
    let (v, (gx, gy)) = unpack_grad(x, y);
    assert_eq!(v, unpack(x, y));
    let f = |z: &[f64]| unpack([z[0], z[1], z[2]], z[3]);
    let want = fd_slice(f, &[x[0], x[1], x[2], y]);
    close_all(&[gx[0], gx[1], gx[2], gy], &want, 1e-7);
    let (_, t) = unpack_jvp(x, y, [1.0, 0.0, -1.0], 2.0);
    close(t, gx[0] - gx[2] + 2.0 * gy, 1e-12);
}

// ---- destructuring assignment ---------------------------------------------------------------

#[differentiable]
fn leapfrog(x: f64, v: f64, dt: f64) -> f64 {
    // Both parts read the old values: `(p, q) = (p + q dt, q - p dt)` is not `p = ..; q = ..`.
    let (mut p, mut q) = (x, v);
    for _ in 0..10 {
        (p, q) = (p + q * dt, q - p * dt);
    }
    p * q
}

#[differentiable]
fn shuffled(a: f64, b: f64) -> f64 {
    let (mut s, mut t) = (a, b);
    let mut arr = [0.0, s];
    [s, t] = [t * 2.0, arr[1]];
    (arr, _) = ([s, t.sin()], 1.0);
    ((s, _), t) = ((t, 1.0), arr[0]);
    s * t + arr[1]
}

#[test]
fn destructuring_assignments_read_before_they_write() {
    let (x, v, dt) = (0.7, -0.4, 0.1);
    // By hand: the same steps with both updates from the old values.
    let (mut p, mut q) = (x, v);
    for _ in 0..10 {
        (p, q) = (p + q * dt, q - p * dt);
    }
    assert_eq!(leapfrog(x, v, dt), p * q);
    let (val, (gx, gv, gdt)) = leapfrog_grad(x, v, dt);
    assert_eq!(val, p * q);
    close(gx, fd(|x| leapfrog(x, v, dt), x), 1e-7);
    close(gv, fd(|v| leapfrog(x, v, dt), v), 1e-7);
    close(gdt, fd(|dt| leapfrog(x, v, dt), dt), 1e-7);
    let (_, t) = leapfrog_jvp(x, v, dt, 1.0, 0.5, -2.0);
    close(t, gx + 0.5 * gv - 2.0 * gdt, 1e-12);

    for (a, b) in [(0.3, 1.1), (-0.8, 0.2)] {
        // s = 2b, t = a; arr = [2b, sin a]; s = a, t = 2b: a * 2b + sin a.
        let (val, (ga, gb)) = shuffled_grad(a, b);
        assert_eq!(val, shuffled(a, b));
        close(val, a * 2.0 * b + a.sin(), 1e-15);
        close(ga, 2.0 * b + a.cos(), 1e-15);
        close(gb, 2.0 * a, 1e-15);
        let (_, t) = shuffled_jvp(a, b, 1.0, -1.0);
        close(t, ga - gb, 1e-15);
    }
}

/// `sin_cos()` as users write it: one `sin_cos` call in the generated code.
#[differentiable(order = 2)]
fn rotated_x(theta: f64, x: f64, y: f64) -> f64 {
    let (s, c) = theta.sin_cos();
    let half = (0.5 * theta).sin_cos();
    c * x - s * y + half.0 * half.1
}

#[test]
fn sin_cos_method() {
    for (t, x, y) in [(0.3, 1.7, -0.4), (-2.1, 0.6, 1.5)] {
        let (v, (gt, gx, gy)) = rotated_x_grad(t, x, y);
        assert_eq!(v, rotated_x(t, x, y));
        // d/dθ = -sin θ x - cos θ y + cos θ / 2 (from sin(θ/2) cos(θ/2) = sin θ / 2).
        close(gt, -t.sin() * x - t.cos() * y + 0.5 * t.cos(), 1e-12);
        close(gx, t.cos(), 1e-14);
        close(gy, -t.sin(), 1e-14);
        close(rotated_x_jvp(t, x, y, 1.0, 0.0, 0.0).1, gt, 1e-12);
        // d²/dθ² = -cos θ x + sin θ y - sin θ / 2.
        let (_, _, (h, _, _)) = rotated_x_hvp(t, x, y, 1.0, 0.0, 0.0);
        close(h, -t.cos() * x + t.sin() * y - 0.5 * t.sin(), 1e-12);
    }
}

/// Items in the body: `const`, `static` and `use` (a group, a rename), read in expressions,
/// an array length, a `vec!` and a type.
#[allow(clippy::useless_vec)] // the `vec!` is one of the places tested
#[differentiable]
fn with_items(x: f64) -> f64 {
    const K: f64 = 2.5;
    const N: usize = 3;
    static SHIFT: f64 = 0.25;
    use grad::nalgebra::Vector2;
    use std::f64::consts::{E, PI as HALF_TURN};
    let v = vec![x; N];
    let a = [x * K; N];
    let w: Vector2<f64> = Vector2::new(x, SHIFT);
    (x * HALF_TURN).sin() * K + v[2] * E + a[1] + w.norm() + a.len() as f64
}

/// `if let`, with an `else if` and an `else`.
#[differentiable(wrt(x))]
fn picked(x: &[f64], o: Option<usize>) -> f64 {
    if let Some(i) = o {
        x[i] * 2.0
    } else if x.len() > 1 {
        x[1].sin()
    } else {
        x[0]
    }
}

#[test]
fn items_and_if_let_in_the_body() {
    use std::f64::consts::{E, PI};
    for x in [0.4, -1.3] {
        let (v, g) = with_items_grad(x);
        assert_eq!(v, with_items(x));
        let norm_d = x / (x * x + 0.0625).sqrt();
        close(g, PI * (x * PI).cos() * 2.5 + E + 2.5 + norm_d, 1e-12);
        close(with_items_jvp(x, 1.0).1, g, 1e-12);
    }
    let x = [0.5, -0.7, 1.1];
    assert_eq!(picked_grad(&x, Some(2)), (2.2, vec![0.0, 0.0, 2.0]));
    assert_eq!(picked_grad(&x, None).1, vec![0.0, (-0.7f64).cos(), 0.0]);
    assert_eq!(picked_grad(&x[..1], None), (0.5, vec![1.0]));
}
