//! `#[differentiable(order = 2)]`: `f_hvp` against central differences of `f_grad` along the
//! direction, the Hessian's symmetry `<u, H v> = <v, H u>`, its value and gradient against
//! `f_grad`'s, on every parameter form `order = 2` takes; with loops, branches, constants,
//! closures, iterator chains and calls; and the 100-d Rosenbrock against its Hessian by hand.

mod common;

use common::{assert_close, assert_symmetric, dot};
use grad::differentiable;

/// Central difference of a gradient along `v`: `(∇f(x + h v) - ∇f(x - h v)) / 2h`.
fn central(grad_at: impl Fn(f64) -> Vec<f64>, h: f64) -> Vec<f64> {
    let (p, m) = (grad_at(h), grad_at(-h));
    p.iter().zip(&m).map(|(p, m)| (p - m) / (2.0 * h)).collect()
}

/// Finite differences in f64 with h = 1e-5 agree with exact second derivatives to about
/// h² |f'''| + ε |∇f| / h; 1e-6 of the largest component covers both on these functions.
const FD_TOL: f64 = 1e-6;
const H: f64 = 1e-5;

fn along(x: &[f64], v: &[f64], t: f64) -> Vec<f64> {
    x.iter().zip(v).map(|(x, v)| x + t * v).collect()
}

// ---------------------------------------------------------------------------------------
// Scalars: two parameters (a tuple gradient), a branch, primitives, literals and casts.

const SCALE: f64 = 0.75;

#[differentiable(order = 2)]
fn scalars(x: f64, y: f64) -> f64 {
    let mut s = x * y.exp() + (x * x + 1.0).ln();
    for i in 0..3 {
        s += (i as f64) * SCALE * (x - y).powi(2);
    }
    if x > y {
        s += x.sin() * y.cos() / (1.0 + y * y);
    } else {
        s -= x.sqrt() * y.tanh() + std::f64::consts::PI * x;
    }
    s + x.powf(1.5) + x.max(y) * 2.0
}

fn scalars_grad_vec(x: f64, y: f64) -> Vec<f64> {
    let (_, (gx, gy)) = scalars_grad(x, y);
    vec![gx, gy]
}

#[test]
fn scalars_against_differences_of_the_gradient() {
    // Both branches of the `if`.
    for (x, y) in [(1.3, 0.4), (0.6, 0.9)] {
        let (vx, vy) = (0.7, -1.1);
        let (f, (gx, gy), (hx, hy)) = scalars_hvp(x, y, vx, vy);
        let (f1, (g1x, g1y)) = scalars_grad(x, y);
        assert_eq!(
            (f, gx, gy),
            (f1, g1x, g1y),
            "value and gradient are f_grad's"
        );
        let fd = central(|t| scalars_grad_vec(x + t * vx, y + t * vy), H);
        assert_close("scalars H v", &[hx, hy], &fd, FD_TOL);
        let (u, w) = (0.3, 0.8);
        let (_, _, (ux, uy)) = scalars_hvp(x, y, u, w);
        assert_symmetric("scalars", &[u, w], &[hx, hy], &[vx, vy], &[ux, uy]);
    }
}

// wrt(x): y is data; the Hessian is ∂²f/∂x², the direction for y is `NoTangent`.
#[differentiable(order = 2, wrt(x))]
fn only_x(x: f64, y: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for _ in 0..n {
        s += x * x * x * y;
    }
    s
}

#[test]
fn wrt_keeps_data_constant() {
    // f = n x³ y, f_x = 3 n x² y, f_xx = 6 n x y.
    let (f, g, hv) = only_x_hvp(2.0, 0.5, 3, 1.5, grad::NoTangent, grad::NoTangent);
    assert_eq!(f, 12.0);
    assert_eq!(g, 18.0);
    assert_eq!(hv, 6.0 * 3.0 * 2.0 * 0.5 * 1.5);
}

// f32: the same function as `scalars`, compared with the f64 one at f32's precision.
#[differentiable(order = 2)]
fn scalars32(x: f32, y: f32) -> f32 {
    let mut s = x * y.exp() + (x * x + 1.0).ln();
    for i in 0..3 {
        s += (i as f32) * 0.75 * (x - y).powi(2);
    }
    if x > y {
        s += x.sin() * y.cos() / (1.0 + y * y);
    } else {
        s -= x.sqrt() * y.tanh() + std::f32::consts::PI * x;
    }
    s + x.powf(1.5) + x.max(y) * 2.0
}

#[test]
fn f32_agrees_with_f64() {
    for (x, y) in [(1.3f32, 0.4f32), (0.6, 0.9)] {
        let (f, _, (hx, hy)) = scalars32_hvp(x, y, 0.7, -1.1);
        let (f64v, _, (ex, ey)) = scalars_hvp(x as f64, y as f64, 0.7f32 as f64, -1.1f32 as f64);
        assert!((f as f64 - f64v).abs() < 1e-5 * f64v.abs());
        assert_close("f32 H v", &[hx as f64, hy as f64], &[ex, ey], 1e-5);
    }
}

// ---------------------------------------------------------------------------------------
// Slices: loops with branches, a `while`, data that is not differentiated, a closure and
// an iterator chain.

#[differentiable(order = 2, wrt(x))]
fn slice_loss(x: &[f64], w: &[f64], k: usize) -> f64 {
    let n = x.len();
    let sq = |a: f64| a * a;
    let mut s = 0.0;
    for i in 0..n {
        if x[i] > 0.0 {
            s += w[i] * sq(x[i]) * x[(i + k) % n];
        } else {
            s += (w[i] * x[i]).exp();
        }
    }
    let mut j = 0;
    while j + 1 < n {
        s += (x[j] - x[j + 1]).cos() / n as f64;
        j += 2;
    }
    s + x.iter().map(|a| a.sin()).sum::<f64>()
}

fn slice_data() -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    // No x_i at 0, where the branch switches (the differences would straddle it).
    let x: Vec<f64> = (0..9).map(|i| (i as f64 * 0.7 + 0.3).sin()).collect();
    let w: Vec<f64> = (0..9).map(|i| 0.5 + 0.1 * i as f64).collect();
    let v: Vec<f64> = (0..9).map(|i| (i as f64 * 1.3).cos()).collect();
    let u: Vec<f64> = (0..9).map(|i| 1.0 / (1.0 + i as f64)).collect();
    (x, w, v, u)
}

#[test]
fn slice_against_differences_and_symmetry() {
    let (x, w, v, u) = slice_data();
    let (f, g, hv) = slice_loss_hvp(&x, &w, 2, &v, grad::NoTangent, grad::NoTangent);
    let (f1, g1) = slice_loss_grad(&x, &w, 2);
    assert_eq!((f, &g), (f1, &g1), "value and gradient are f_grad's");
    let fd = central(|t| slice_loss_grad(&along(&x, &v, t), &w, 2).1, H);
    assert_close("slice H v", &hv, &fd, FD_TOL);
    let (_, _, hu) = slice_loss_hvp(&x, &w, 2, &u, grad::NoTangent, grad::NoTangent);
    assert_symmetric("slice", &u, &hv, &v, &hu);
}

#[test]
#[should_panic(expected = "the direction for `x` has length 2 where `x` has length 9")]
fn a_direction_of_another_length_panics() {
    let (x, w, _, _) = slice_data();
    slice_loss_hvp(&x, &w, 2, &[1.0, 2.0], grad::NoTangent, grad::NoTangent);
}

// ---------------------------------------------------------------------------------------
// Arrays by value and by reference, with a named constant array; Vec by value.

const LINKS: [f64; 4] = [1.0, 0.8, 0.6, 0.5];

#[differentiable(order = 2)]
fn arm(theta: &[f64; 4]) -> f64 {
    let mut phi = 0.0;
    let mut x = 0.0;
    let mut y = 0.0;
    for k in 0..4 {
        phi += theta[k];
        x += LINKS[k] * phi.cos();
        y += LINKS[k] * phi.sin();
    }
    (x - 1.5).powi(2) + (y - 1.2).powi(2)
}

#[differentiable(order = 2)]
fn arm_by_value(theta: [f64; 4]) -> f64 {
    arm(&theta)
}

#[differentiable(order = 2)]
fn vec_loss(x: Vec<f64>, c: f64) -> f64 {
    let mut s = c * c * x[0];
    for i in 1..x.len() {
        s += (x[i] * x[i - 1] - c).tanh();
    }
    s
}

#[test]
fn arrays_against_differences_and_symmetry() {
    let theta = [0.1, 0.2, 0.3, 0.4];
    let (v, u) = ([0.5, -0.2, 0.9, 0.1], [-0.3, 0.4, 0.2, 1.0]);
    let (f, g, hv) = arm_hvp(&theta, &v);
    assert_eq!((f, g), arm_grad(&theta), "value and gradient are f_grad's");
    let at = |t: f64| -> [f64; 4] { core::array::from_fn(|i| theta[i] + t * v[i]) };
    let fd = central(|t| arm_grad(&at(t)).1.to_vec(), H);
    assert_close("array H v", &hv, &fd, FD_TOL);
    let (_, _, hu) = arm_hvp(&theta, &u);
    assert_symmetric("array", &u, &hv, &v, &hu);
    // By value, through a call of the referenced form: the same numbers.
    let (f2, g2, hv2) = arm_by_value_hvp(theta, v);
    assert_eq!((f2, g2, hv2), (f, g, hv));
}

#[test]
fn vec_and_scalar_together() {
    let (x, c) = (vec![0.3, -0.5, 0.8, 0.2], 0.6);
    let (vx, vc) = (vec![1.0, 0.5, -0.4, 0.3], -0.7);
    let (f, (gx, gc), (hx, hc)) = vec_loss_hvp(x.clone(), c, vx.clone(), vc);
    let (f1, (g1x, g1c)) = vec_loss_grad(x.clone(), c);
    assert_eq!((f, &gx, gc), (f1, &g1x, g1c));
    let fd = central(
        |t| {
            let (_, (gx, gc)) = vec_loss_grad(along(&x, &vx, t), c + t * vc);
            gx.into_iter().chain([gc]).collect()
        },
        H,
    );
    let hv: Vec<f64> = hx.iter().copied().chain([hc]).collect();
    assert_close("Vec and scalar H v", &hv, &fd, FD_TOL);
    let (ux, uc) = (vec![0.2, 0.1, 0.9, -0.5], 0.4);
    let (_, _, (kx, kc)) = vec_loss_hvp(x, c, ux.clone(), uc);
    let hu: Vec<f64> = kx.iter().copied().chain([kc]).collect();
    let (u, v): (Vec<f64>, Vec<f64>) = (
        ux.into_iter().chain([uc]).collect(),
        vx.into_iter().chain([vc]).collect(),
    );
    assert_symmetric("Vec and scalar", &u, &hv, &v, &hu);
}

// ---------------------------------------------------------------------------------------
// Calls: an `order = 2` function calling others (S4's Black-Scholes through erf).

#[differentiable(order = 2)]
fn erf(x: f64) -> f64 {
    let z = if x < 0.0 { -x } else { x };
    let t = 1.0 / (1.0 + 0.3275911 * z);
    let poly = t
        * (0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let e = 1.0 - poly * (-(z * z)).exp();
    if x < 0.0 { -e } else { e }
}

#[differentiable(order = 2)]
fn norm_cdf(x: f64) -> f64 {
    0.5 * (1.0 + erf(x * std::f64::consts::FRAC_1_SQRT_2))
}

#[differentiable(order = 2)]
fn black_scholes(s: f64, k: f64, r: f64, sigma: f64, t: f64) -> f64 {
    let vol = sigma * t.sqrt();
    let d1 = ((s / k).ln() + (r + 0.5 * sigma * sigma) * t) / vol;
    let d2 = d1 - vol;
    s * norm_cdf(d1) - k * (-r * t).exp() * norm_cdf(d2)
}

fn bs_grad(p: &[f64]) -> Vec<f64> {
    let (_, (a, b, c, d, e)) = black_scholes_grad(p[0], p[1], p[2], p[3], p[4]);
    vec![a, b, c, d, e]
}

fn bs_hvp(p: &[f64], v: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
    let (f, (a, b, c, d, e), (ha, hb, hc, hd, he)) =
        black_scholes_hvp(p[0], p[1], p[2], p[3], p[4], v[0], v[1], v[2], v[3], v[4]);
    (f, vec![a, b, c, d, e], vec![ha, hb, hc, hd, he])
}

#[test]
fn calls_against_differences_and_symmetry() {
    let p = [100.0, 105.0, 0.05, 0.2, 1.0];
    let v = [1.0, -0.5, 0.01, 0.02, 0.1];
    let u = [-0.3, 0.8, 0.02, -0.01, 0.2];
    let (f, g, hv) = bs_hvp(&p, &v);
    assert_eq!(
        (f, g),
        (black_scholes(p[0], p[1], p[2], p[3], p[4]), bs_grad(&p))
    );
    let fd = central(|t| bs_grad(&along(&p, &v, t)), H);
    assert_close("Black-Scholes H v", &hv, &fd, FD_TOL);
    let (_, _, hu) = bs_hvp(&p, &u);
    assert_symmetric("Black-Scholes", &u, &hv, &v, &hu);
}

// ---------------------------------------------------------------------------------------
// Rosenbrock in 100 dimensions, against its Hessian written by hand.

#[differentiable(order = 2)]
fn rosenbrock(x: &[f64]) -> f64 {
    let n = x.len();
    let mut sum = 0.0;
    for i in 1..n {
        sum += (1.0 - x[i - 1]).powi(2) + 100.0 * (x[i] - x[i - 1].powi(2)).powi(2);
    }
    sum
}

/// H v of sum (1 - x_i)² + 100 (x_{i+1} - x_i²)², by hand: the Hessian is tridiagonal,
/// H_ii = 2 + 1200 x_i² - 400 x_{i+1} (i < n-1) + 200 (i > 0), H_{i,i+1} = -400 x_i.
fn rosenbrock_hv_by_hand(x: &[f64], v: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut hv = vec![0.0; n];
    for i in 0..n {
        let mut d = 0.0;
        if i + 1 < n {
            d += 2.0 + 1200.0 * x[i] * x[i] - 400.0 * x[i + 1];
            hv[i] += -400.0 * x[i] * v[i + 1];
        }
        if i > 0 {
            d += 200.0;
            hv[i] += -400.0 * x[i - 1] * v[i - 1];
        }
        hv[i] += d * v[i];
    }
    hv
}

#[test]
fn rosenbrock_100_against_the_hessian_by_hand() {
    let x: Vec<f64> = (0..100).map(|i| 0.5 + 0.01 * i as f64).collect();
    let v: Vec<f64> = (0..100)
        .map(|i| ((i * 7 % 11) as f64 - 5.0) / 5.0)
        .collect();
    let u: Vec<f64> = (0..100).map(|i| (i as f64 * 0.37).sin()).collect();
    let (f, g, hv) = rosenbrock_hvp(&x, &v);
    assert_eq!((f, &g), (rosenbrock(&x), &rosenbrock_grad(&x).1));
    assert_close("Rosenbrock H v", &hv, &rosenbrock_hv_by_hand(&x, &v), 1e-13);
    let fd = central(|t| rosenbrock_grad(&along(&x, &v, t)).1, H);
    assert_close("Rosenbrock H v (differences)", &hv, &fd, FD_TOL);
    let (_, _, hu) = rosenbrock_hvp(&x, &u);
    assert_symmetric("Rosenbrock", &u, &hv, &v, &hu);
}

// ---------------------------------------------------------------------------------------
// f_grad inside another differentiable function (`f_grad_vjp`, `f_grad_jvp`): a loss on an
// energy's gradient, as when fitting a potential to forces.

#[differentiable(order = 2)]
fn energy(pos: &[f64], k: f64) -> f64 {
    let mut e = 0.0;
    for i in 1..pos.len() {
        let d = pos[i] - pos[i - 1] - 1.0;
        e += k * d * d + 0.1 * d.powi(4);
    }
    e
}

#[differentiable(wrt(pos, k))]
fn force_loss(pos: &[f64], k: f64, target: &[f64]) -> f64 {
    let (e, (de_dpos, de_dk)) = energy_grad(pos, k);
    let mut s = 0.01 * e + de_dk * de_dk;
    for i in 0..pos.len() {
        s += (target[i] + de_dpos[i]).powi(2);
    }
    s
}

fn force_data() -> (Vec<f64>, f64, Vec<f64>) {
    let pos: Vec<f64> = (0..6)
        .map(|i| 1.1 * i as f64 + 0.05 * (i as f64).sin())
        .collect();
    let target: Vec<f64> = (0..6).map(|i| 0.3 * (i as f64 * 0.9).cos()).collect();
    (pos, 0.8, target)
}

#[test]
fn gradient_inside_a_loss_against_differences() {
    let (pos, k, target) = force_data();
    let (value, (gpos, gk)) = force_loss_grad(&pos, k, &target);
    assert_eq!(value, force_loss(&pos, k, &target));
    // Central differences of the whole loss, one coordinate at a time (h = 1e-6: the loss
    // is a polynomial of degree 6 in each coordinate, with values of order 1).
    let h = 1e-6;
    let mut fd = Vec::new();
    for i in 0..pos.len() {
        let (mut p, mut m) = (pos.clone(), pos.clone());
        p[i] += h;
        m[i] -= h;
        fd.push((force_loss(&p, k, &target) - force_loss(&m, k, &target)) / (2.0 * h));
    }
    fd.push((force_loss(&pos, k + h, &target) - force_loss(&pos, k - h, &target)) / (2.0 * h));
    let g: Vec<f64> = gpos.iter().copied().chain([gk]).collect();
    assert_close("loss of a gradient, reverse", &g, &fd, FD_TOL);
    // Forward mode along (v, w) against the reverse gradient paired with it.
    let v: Vec<f64> = (0..6).map(|i| 0.2 * i as f64 - 0.5).collect();
    let w = 0.3;
    let (_, dv) = force_loss_jvp(&pos, k, &target, &v, w, grad::NoTangent);
    let expect = dot(&gpos, &v) + gk * w;
    assert!(
        (dv - expect).abs() <= 1e-12 * expect.abs().max(1.0),
        "{dv} against {expect}"
    );
}

#[test]
fn grad_vjp_and_jvp_are_the_hessian() {
    let (pos, k, _) = force_data();
    let v: Vec<f64> = (0..6).map(|i| (i as f64).cos()).collect();
    let w = -0.4;
    // f_grad_jvp: (<∇f, v>, H v) beside f_grad's value and gradient.
    let ((e, (gp, gk)), (de, (hp, hk))) = energy_grad_jvp(&pos, k, &v, w);
    let (e1, (gp1, gk1)) = energy_grad(&pos, k);
    assert_eq!((e, &gp, gk), (e1, &gp1, gk1));
    let (_, _, (hp1, hk1)) = energy_hvp(&pos, k, &v, w);
    assert_eq!((&hp, hk), (&hp1, hk1));
    assert!((de - (dot(&gp, &v) + gk * w)).abs() < 1e-12);
    // f_grad_vjp: the cotangent (dr, dg) pulls back to dr ∇f + H dg.
    let (_, pullback) = energy_grad_vjp(&pos, k);
    let (dpos, dk) = pullback((2.0, (v.clone(), w)));
    for i in 0..pos.len() {
        assert!((dpos[i] - (2.0 * gp[i] + hp[i])).abs() < 1e-12 * (1.0 + hp[i].abs()));
    }
    assert!((dk - (2.0 * gk + hk)).abs() < 1e-12 * (1.0 + hk.abs()));
}

// ---------------------------------------------------------------------------------------
// Helpers on integers keep their names in the copy (only calls that may carry floats go to
// the callee's `order = 2` copy); `f64::from` and std's functions on integers too.

fn wrap_index(i: usize, n: usize) -> usize {
    (i + 1) % n
}

#[differentiable(order = 2)]
fn ring(x: &[f64], k: u32) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for i in 0..n {
        let j = wrap_index(i, n);
        let m = std::cmp::max(i, 1);
        s += x[i] * x[j] * f64::from(k) / m as f64;
    }
    s
}

#[test]
fn integer_helpers_keep_their_names() {
    // f = k Σ x_i x_{i+1 mod n} / max(i, 1): H_ij = k (1/max(i,1) [j = i+1] + 1/max(j,1) [i = j+1]).
    let x = [0.5, -1.0, 2.0, 0.25];
    let v = [1.0, 0.0, 0.0, 0.0];
    let (_, _, hv) = ring_hvp(&x, 3, &v, grad::NoTangent);
    // Column 0 of H: H_10 = 3 / max(0, 1) = 3 (term i = 0, j = 1); H_30 = 3 / 3 = 1 (term
    // i = 3, j = 0); nothing else.
    assert_close("ring H e0", &hv, &[0.0, 3.0, 0.0, 1.0], 1e-15);
}

// ---------------------------------------------------------------------------------------
// Nested forms: positions as `&[[f64; 3]]` (a pair potential, as molecular code writes
// it), a `Vec<[f64; 2]>` and a `[[f64; 2]; 2]` by value beside it, and `&[[f64; 3]]` data.

#[differentiable(order = 2, wrt(pos, w))]
fn pair_energy(pos: &[[f64; 3]], w: [[f64; 2]; 2], anchors: &[[f64; 3]]) -> f64 {
    let mut e = 0.0;
    for i in 0..pos.len() {
        for j in i + 1..pos.len() {
            let mut r2 = 0.0;
            for k in 0..3 {
                r2 += (pos[i][k] - pos[j][k]).powi(2);
            }
            e += w[0][0] / r2 + w[0][1] * (-r2).exp();
        }
        for a in anchors {
            let d = (pos[i][0] - a[0]).powi(2) + (pos[i][1] - a[1]).powi(2);
            e += w[1][0] * d + w[1][1] * d * d;
        }
    }
    e
}

#[differentiable(order = 2)]
fn chain(links: Vec<[f64; 2]>) -> f64 {
    let mut s = 0.0;
    for l in 1..links.len() {
        let (dx, dy) = (links[l][0] - links[l - 1][0], links[l][1] - links[l - 1][1]);
        s += (dx * dx + dy * dy).sqrt() * links[l][0].cos();
    }
    s
}

fn flat3(p: &[[f64; 3]]) -> Vec<f64> {
    p.iter().flatten().copied().collect()
}

#[test]
fn nested_arrays_against_differences_and_symmetry() {
    let pos = [[0.0, 0.1, -0.2], [1.1, 0.3, 0.4], [0.2, 1.2, 0.9]];
    let w = [[0.5, 1.5], [0.2, 0.05]];
    let anchors = [[0.5, 0.5, 0.0], [-0.4, 0.8, 0.3]];
    let vp = [[1.0, -0.5, 0.2], [0.3, 0.8, -1.0], [-0.6, 0.1, 0.4]];
    let vw = [[0.1, -0.2], [0.3, 0.05]];
    let (f, (gp, gw), (hp, hw)) = pair_energy_hvp(&pos, w, &anchors, &vp, vw, grad::NoTangent);
    let (f1, (gp1, gw1)) = pair_energy_grad(&pos, w, &anchors);
    assert_eq!(
        (f, &gp, gw),
        (f1, &gp1, gw1),
        "value and gradient are f_grad's"
    );
    // Both differentiated parameters moved along their directions at once.
    let grad_at = |t: f64| {
        let p: Vec<[f64; 3]> = (0..3)
            .map(|i| std::array::from_fn(|k| pos[i][k] + t * vp[i][k]))
            .collect();
        let w: [[f64; 2]; 2] =
            std::array::from_fn(|i| std::array::from_fn(|k| w[i][k] + t * vw[i][k]));
        let (_, (gp, gw)) = pair_energy_grad(&p, w, &anchors);
        flat3(&gp)
            .into_iter()
            .chain(gw.iter().flatten().copied())
            .collect::<Vec<f64>>()
    };
    let fd = central(grad_at, H);
    let got: Vec<f64> = flat3(&hp)
        .into_iter()
        .chain(hw.iter().flatten().copied())
        .collect();
    assert_close("nested H v", &got, &fd, FD_TOL);

    let links = vec![[0.0, 0.0], [1.0, 0.2], [1.7, 1.1], [2.1, 2.3]];
    let v = vec![[0.5, -0.5], [1.0, 0.0], [-0.3, 0.7], [0.2, 0.9]];
    let u = vec![[-0.1, 0.4], [0.6, -0.8], [0.2, 0.2], [1.0, -0.3]];
    let (_, g, hv) = chain_hvp(links.clone(), v.clone());
    assert_eq!(g, chain_grad(links.clone()).1);
    let flat2 = |p: &[[f64; 2]]| -> Vec<f64> { p.iter().flatten().copied().collect() };
    let moved = |t: f64| -> Vec<[f64; 2]> {
        links
            .iter()
            .zip(&v)
            .map(|(l, v)| [l[0] + t * v[0], l[1] + t * v[1]])
            .collect()
    };
    let fd = central(|t| flat2(&chain_grad(moved(t)).1), H);
    assert_close("Vec<[f64; 2]> H v", &flat2(&hv), &fd, FD_TOL);
    let (_, _, hu) = chain_hvp(links.clone(), u.clone());
    assert_symmetric(
        "Vec<[f64; 2]>",
        &flat2(&u),
        &flat2(&hv),
        &flat2(&v),
        &flat2(&hu),
    );
}

#[test]
#[should_panic(expected = "the direction for `links` has length 1 where `links` has length 2")]
fn a_nested_direction_of_another_length_panics() {
    chain_hvp(vec![[0.0, 0.0], [1.0, 1.0]], vec![[1.0, 0.0]]);
}
