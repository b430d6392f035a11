//! `#[differentiable(order = 2)]` on tensor parameters: `f_hvp` against central differences
//! of `f_grad` along the direction, the Hessian's symmetry `<u, H v> = <v, H u>`, its value
//! and gradient against `f_grad`'s; tensors by reference and by value, of `f64` and of the
//! default `f32`, with data tensors beside them, matmul, activations, reductions, softmax,
//! broadcasting and a loop; and `f_grad` of a tensor function inside another loss.

mod common;

use common::assert_close;
use grad::{Tensor, differentiable};

type T64 = Tensor<f64>;

/// Finite differences of the gradient with h = 1e-5 agree with the exact Hessian-vector
/// product to about h² |f'''| + ε |∇f| / h, well inside 1e-6 of its size here.
const H: f64 = 1e-5;
const FD_TOL: f64 = 1e-6;

fn t(data: &[f64], shape: &[usize]) -> T64 {
    Tensor::from_vec(data.to_vec(), shape).unwrap()
}

/// `x + s v`, elementwise.
fn along(x: &T64, v: &T64, s: f64) -> T64 {
    let data = x
        .as_slice()
        .iter()
        .zip(v.as_slice())
        .map(|(x, v)| x + s * v);
    t(&data.collect::<Vec<_>>(), x.shape())
}

fn dot(a: &T64, b: &T64) -> f64 {
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(a, b)| a * b)
        .sum()
}

/// `(∇f(x + h v) - ∇f(x - h v)) / 2h` for a gradient `g`.
fn central(g: impl Fn(&T64) -> T64, x: &T64, v: &T64) -> Vec<f64> {
    let (p, m) = (g(&along(x, v, H)), g(&along(x, v, -H)));
    let p = p.as_slice().iter().zip(m.as_slice());
    p.map(|(p, m)| (p - m) / (2.0 * H)).collect()
}

fn assert_symmetric(what: &str, u: &T64, hv: &T64, v: &T64, hu: &T64) {
    let (a, b) = (dot(u, hv), dot(v, hu));
    let scale = 1.0f64.max(a.abs()).max(b.abs());
    assert!(
        (a - b).abs() <= 1e-12 * scale,
        "{what}: <u, Hv> = {a} and <v, Hu> = {b}"
    );
}

// ---------------------------------------------------------------------------------------
// A layer: matmul, a bias broadcast over rows, tanh, a softmax, reductions; the weights
// differentiated, the inputs data.

// The copy `order = 2` differentiates turns `f64` into the dual type where it is written,
// so its parameters spell out `Tensor<f64>`: an alias such as `T64` would hide it.
#[differentiable(order = 2, wrt(w))]
fn layer(w: &Tensor<f64>, b: &Tensor<f64>, x: &Tensor<f64>) -> f64 {
    let h = (x.matmul(w) + b).tanh();
    let p = h.softmax(1);
    (&p * &h).sum() + 0.1 * w.powi(2).sum() + h.exp().mean()
}

#[test]
fn layer_hvp_matches_differences_of_the_gradient() {
    let x = t(&[0.3, -0.7, 1.1, 0.5, 0.2, -0.4], &[3, 2]);
    let w = t(&[0.4, -0.2, 0.9, 0.1, 0.6, -0.5], &[2, 3]);
    let b = t(&[0.05, -0.1, 0.2], &[3]);
    let v = t(&[1.0, -0.5, 0.25, 0.75, -1.0, 0.5], &[2, 3]);
    let u = t(&[-0.3, 0.8, 0.1, -0.6, 0.4, 0.9], &[2, 3]);

    let (y, g, hv) = layer_hvp(&w, &b, &x, &v, grad::NoTangent, grad::NoTangent);
    let (y0, g0) = layer_grad(&w, &b, &x);
    assert_eq!(hv.shape(), w.shape());
    assert_close("layer value", &[y], &[y0], 1e-14);
    assert_close("layer gradient", g.as_slice(), g0.as_slice(), 1e-14);
    let fd = central(|w| layer_grad(w, &b, &x).1, &w, &v);
    assert_close("layer H v", hv.as_slice(), &fd, FD_TOL);

    let (_, _, hu) = layer_hvp(&w, &b, &x, &u, grad::NoTangent, grad::NoTangent);
    assert_symmetric("layer", &u, &hv, &v, &hu);

    // `layer_grad_jvp`: the value's derivative along v against a central difference of the
    // value, and `H v` again.
    let ((y1, g1), (dy, hv1)) = layer_grad_jvp(&w, &b, &x, &v, grad::NoTangent, grad::NoTangent);
    assert_close("layer_grad_jvp value", &[y1], &[y0], 1e-14);
    assert_close(
        "layer_grad_jvp gradient",
        g1.as_slice(),
        g0.as_slice(),
        1e-14,
    );
    let fd_value =
        (layer(&along(&w, &v, H), &b, &x) - layer(&along(&w, &v, -H), &b, &x)) / (2.0 * H);
    assert_close("layer_grad_jvp <g, v>", &[dy], &[fd_value], FD_TOL);
    assert_close("layer_grad_jvp H v", hv1.as_slice(), hv.as_slice(), 1e-14);
}

// ---------------------------------------------------------------------------------------
// Two tensors differentiated, one by value, with a loop carrying a tensor.

#[differentiable(order = 2)]
fn pair(a: Tensor<f64>, c: &Tensor<f64>) -> f64 {
    let mut h = a.clone();
    for _ in 0..2 {
        h = (&h * c).sigmoid() + &h * 0.5;
    }
    h.sum() + a.dot(c).powi(2) + (c * c).exp().sum()
}

#[test]
fn two_tensors_one_by_value() {
    let a = t(&[0.2, -0.3, 0.5, 0.1], &[4]);
    let c = t(&[0.7, 0.4, -0.2, 0.3], &[4]);
    let (va, vc) = (
        t(&[1.0, 0.5, -0.5, 0.25], &[4]),
        t(&[-0.25, 1.0, 0.5, -1.0], &[4]),
    );
    let (y, (ga, gc), (ha, hc)) = pair_hvp(a.clone(), &c, va.clone(), &vc);
    let (y0, (ga0, gc0)) = pair_grad(a.clone(), &c);
    assert_close("pair value", &[y], &[y0], 1e-14);
    assert_close("pair gradient a", ga.as_slice(), ga0.as_slice(), 1e-14);
    assert_close("pair gradient c", gc.as_slice(), gc0.as_slice(), 1e-14);
    // Both moved along their directions at once: the difference of each gradient part.
    let grad_at = |s: f64| pair_grad(along(&a, &va, s), &along(&c, &vc, s)).1;
    let (p, m) = (grad_at(H), grad_at(-H));
    let fd = |p: &T64, m: &T64| -> Vec<f64> {
        let d = p.as_slice().iter().zip(m.as_slice());
        d.map(|(p, m)| (p - m) / (2.0 * H)).collect()
    };
    assert_close("pair H v (a)", ha.as_slice(), &fd(&p.0, &m.0), FD_TOL);
    assert_close("pair H v (c)", hc.as_slice(), &fd(&p.1, &m.1), FD_TOL);
}

// ---------------------------------------------------------------------------------------
// Logistic regression (the benchmark's T2): a matrix-vector product, a scalar bias beside the
// tensor, and `grad::nn`'s loss, whose pullback runs on duals as it is.

#[differentiable(order = 2, wrt(w, b))]
fn logistic(w: &Tensor<f64>, b: f64, x: &Tensor<f64>, y: &Tensor<f64>) -> f64 {
    let z = x.matmul(w) + b;
    grad::nn::binary_cross_entropy_with_logits(&z, y)
}

#[test]
fn logistic_regression_with_a_scalar_bias() {
    let x = t(&[0.3, -0.7, 1.1, 0.5, 0.2, -0.4, 0.9, 0.8, -1.2], &[3, 3]);
    let y = t(&[1.0, 0.0, 1.0], &[3]);
    let w = t(&[0.4, -0.2, 0.9], &[3]);
    let (b, vb) = (0.1, 0.7);
    let vw = t(&[1.0, -0.5, 0.25], &[3]);
    let (value, (gw, gb), (hw, hb)) =
        logistic_hvp(&w, b, &x, &y, &vw, vb, grad::NoTangent, grad::NoTangent);
    let (value0, (gw0, gb0)) = logistic_grad(&w, b, &x, &y);
    assert_close("logistic value", &[value], &[value0], 1e-14);
    assert_close("logistic gradient w", gw.as_slice(), gw0.as_slice(), 1e-14);
    assert_close("logistic gradient b", &[gb], &[gb0], 1e-14);
    let grad_at = |s: f64| logistic_grad(&along(&w, &vw, s), b + s * vb, &x, &y).1;
    let ((pw, pb), (mw, mb)) = (grad_at(H), grad_at(-H));
    let fd: Vec<f64> = pw
        .as_slice()
        .iter()
        .zip(mw.as_slice())
        .map(|(p, m)| (p - m) / (2.0 * H))
        .collect();
    assert_close("logistic H v (w)", hw.as_slice(), &fd, FD_TOL);
    assert_close("logistic H v (b)", &[hb], &[(pb - mb) / (2.0 * H)], FD_TOL);
}

// ---------------------------------------------------------------------------------------
// The default element type, `f32`: the quick start's tensor, and a curved function of it.

#[differentiable(order = 2)]
fn quick(a: &Tensor) -> f32 {
    (a * 5.0).sum() + (a * a * a).sum()
}

#[test]
fn default_f32_tensor() {
    let a = Tensor::from([5.0f32, -1.0]);
    let v = Tensor::from([1.0f32, 2.0]);
    let (y, g, hv) = quick_hvp(&a, &v);
    // f = 5 Σa + Σa³: ∇f = 5 + 3a², H = diag(6a).
    assert_eq!(y, 25.0 - 5.0 + 125.0 - 1.0);
    assert_eq!(g.as_slice(), &[80.0, 8.0]);
    assert_eq!(hv.as_slice(), &[30.0, -12.0]);
}

// ---------------------------------------------------------------------------------------
// `f_grad` of a tensor function inside another differentiable loss.

#[differentiable(wrt(w))]
fn gradient_penalty(w: &T64, b: &T64, x: &T64) -> f64 {
    let (e, g) = layer_grad(w, b, x);
    e + 0.5 * (&g * &g).sum()
}

#[test]
fn tensor_gradient_inside_a_loss() {
    let x = t(&[0.3, -0.7, 1.1, 0.5, 0.2, -0.4], &[3, 2]);
    let w = t(&[0.4, -0.2, 0.9, 0.1, 0.6, -0.5], &[2, 3]);
    let b = t(&[0.05, -0.1, 0.2], &[3]);
    let (_, gw) = gradient_penalty_grad(&w, &b, &x);
    // Central differences of the whole loss along each weight.
    let fd: Vec<f64> = (0..6)
        .map(|k| {
            let mut e = vec![0.0; 6];
            e[k] = 1.0;
            let e = t(&e, &[2, 3]);
            let f = |s: f64| gradient_penalty(&along(&w, &e, s), &b, &x);
            (f(H) - f(-H)) / (2.0 * H)
        })
        .collect();
    assert_close("penalty gradient", gw.as_slice(), &fd, FD_TOL);
}

#[test]
#[should_panic(expected = "the direction for `w` has shape [3] where `w` has shape [2, 3]")]
fn a_direction_of_the_wrong_shape_is_named() {
    let x = t(&[0.3, -0.7, 1.1, 0.5, 0.2, -0.4], &[3, 2]);
    let w = t(&[0.4, -0.2, 0.9, 0.1, 0.6, -0.5], &[2, 3]);
    let b = t(&[0.05, -0.1, 0.2], &[3]);
    let _ = layer_hvp(&w, &b, &x, &b, grad::NoTangent, grad::NoTangent);
}
