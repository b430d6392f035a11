//! The quick start: differentiate a few ordinary Rust functions and print what came out.
//!
//! Run with `cargo run --release --example quickstart`.

use grad::{Real, Tensor, differentiable};

/// The smallest case: a tensor `A = [5.0]` and a loss `sum(A * 5)`, whose gradient is `[5.0]`.
#[differentiable]
fn tensor_loss(a: &Tensor) -> f32 {
    (a * 5.0).sum()
}

/// The same with a plain scalar: a loss `a * 5`, whose gradient is 5.
#[differentiable]
fn loss(a: f64) -> f64 {
    a * 5.0
}

/// Rosenbrock's function over a slice: loops, indexing and a carried sum.
#[differentiable]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut sum = 0.0;
    for i in 0..x.len() - 1 {
        let a = 1.0 - x[i];
        let b = x[i + 1] - x[i] * x[i];
        sum += a * a + 100.0 * b * b;
    }
    sum
}

/// `ln(1 + e^x)`, computed without overflow. Its derivative is written by hand below:
/// any function with a `_vjp` (and `_jvp`) beside it can be called from differentiable code.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn softplus_vjp(x: f64) -> (f64, impl FnOnce(f64) -> f64) {
    (softplus(x), move |d| d * x.sigmoid())
}

fn softplus_jvp(x: f64, dx: f64) -> (f64, f64) {
    (softplus(x), dx * x.sigmoid())
}

/// A logistic loss of a linear model, calling the custom derivative; differentiated with
/// respect to the parameters only (`x` and `label` are data).
#[differentiable(wrt(w, b))]
fn logistic(w: f64, b: f64, x: f64, label: f64) -> f64 {
    let z = w * x + b;
    softplus(z) - label * z
}

fn main() {
    let a = Tensor::from([5.0]);
    let (value, da) = tensor_loss_grad(&a);
    println!("A = {a}, sum(A * 5) = {value}, gradient = {da}");

    let (value, da) = loss_grad(5.0);
    println!("loss(5) = {value}, dloss/da = {da}");

    let x = [-1.2, 1.0, 0.5];
    let (value, g) = rosenbrock_grad(&x);
    println!("rosenbrock({x:?}) = {value:.4}, gradient = {g:.4?}");

    // Forward mode: the directional derivative along v equals <gradient, v>.
    let v = [1.0, 0.0, -1.0];
    let (_, dv) = rosenbrock_jvp(&x, &v);
    let dot: f64 = g.iter().zip(&v).map(|(a, b)| a * b).sum();
    println!("directional derivative along {v:?} = {dv:.4} (gradient . v = {dot:.4})");

    // Reverse mode through a hand-written derivative, at z = 800.5 where a naive
    // ln(1 + e^z) overflows to infinity: loss = z, d/dw = x sigmoid(z) = 400, d/db = 1.
    let (value, (dw, db)) = logistic_grad(2.0, 0.5, 400.0, 0.0);
    println!("logistic loss = {value:.4}, d/dw = {dw:.4}, d/db = {db:.4}");
    let (_, pullback) = logistic_vjp(2.0, 0.5, 400.0, 0.0);
    let (dw2, db2, grad::NoTangent, grad::NoTangent) = pullback(1.0);
    println!("the pullback of 1 gives the same: ({dw2:.4}, {db2:.4})");
}
