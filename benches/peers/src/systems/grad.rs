//! grad and hand: the same measurement of every case, once with the generated `_grad` of
//! each case's `#[differentiable]` primal and once with its hand-written gradient, both
//! from the shared case files. The gradient functions are chosen through a trait, so every
//! call is direct and inlined as in the benches.

use std::hint::black_box;

use super::scalars;
use crate::cases::scalar::*;
use crate::cases::tensor::cases::*;
use crate::check::Computed;
use crate::run::Runner;

/// Value and gradient of each case, with the case files' signatures.
pub trait Gradients {
    fn s1(a: f64) -> (f64, f64);
    fn s2(x: f64, y: f64) -> (f64, (f64, f64));
    fn s3(x: &[f64]) -> (f64, Vec<f64>);
    fn s4(s: f64, k: f64, r: f64, sigma: f64, t: f64) -> (f64, (f64, f64, f64, f64, f64));
    fn s5(theta: &[f64; 6]) -> (f64, [f64; 6]);
    fn t1(a: &T64) -> (f64, T64);
    fn t2(w: &T64, b: f64, x: &T64, y: &T64) -> (f64, (T64, f64));
    fn t3(p: &Mlp, x: &T64, labels: &[usize]) -> (f64, Mlp);
    fn t4(x: &T64) -> (f64, T64);
}

/// The generated gradients.
pub struct Generated;

impl Gradients for Generated {
    fn s1(a: f64) -> (f64, f64) {
        s1_scale_grad(a)
    }
    fn s2(x: f64, y: f64) -> (f64, (f64, f64)) {
        s2_rosenbrock_grad(x, y)
    }
    fn s3(x: &[f64]) -> (f64, Vec<f64>) {
        s3_rosenbrock_grad(x)
    }
    fn s4(s: f64, k: f64, r: f64, sigma: f64, t: f64) -> (f64, (f64, f64, f64, f64, f64)) {
        s4_black_scholes_grad(s, k, r, sigma, t)
    }
    fn s5(theta: &[f64; 6]) -> (f64, [f64; 6]) {
        s5_arm_grad(theta)
    }
    fn t1(a: &T64) -> (f64, T64) {
        t1_quickstart_grad(a)
    }
    fn t2(w: &T64, b: f64, x: &T64, y: &T64) -> (f64, (T64, f64)) {
        t2_logistic_grad(w, b, x, y)
    }
    fn t3(p: &Mlp, x: &T64, labels: &[usize]) -> (f64, Mlp) {
        t3_mlp_grad(&p.0, &p.1, &p.2, &p.3, x, labels)
    }
    fn t4(x: &T64) -> (f64, T64) {
        t4_elementwise_grad(x)
    }
}

/// The hand-written gradients.
pub struct Handwritten;

impl Gradients for Handwritten {
    fn s1(a: f64) -> (f64, f64) {
        s1_scale_handwritten(a)
    }
    fn s2(x: f64, y: f64) -> (f64, (f64, f64)) {
        s2_rosenbrock_handwritten(x, y)
    }
    fn s3(x: &[f64]) -> (f64, Vec<f64>) {
        s3_rosenbrock_handwritten(x)
    }
    fn s4(s: f64, k: f64, r: f64, sigma: f64, t: f64) -> (f64, (f64, f64, f64, f64, f64)) {
        s4_black_scholes_handwritten(s, k, r, sigma, t)
    }
    fn s5(theta: &[f64; 6]) -> (f64, [f64; 6]) {
        s5_arm_handwritten(theta)
    }
    fn t1(a: &T64) -> (f64, T64) {
        t1_handwritten(a)
    }
    fn t2(w: &T64, b: f64, x: &T64, y: &T64) -> (f64, (T64, f64)) {
        t2_handwritten(w, b, x, y)
    }
    fn t3(p: &Mlp, x: &T64, labels: &[usize]) -> (f64, Mlp) {
        t3_handwritten(p, x, labels)
    }
    fn t4(x: &T64) -> (f64, T64) {
        t4_handwritten(x)
    }
}

/// Measures every case: the primal, and the gradient as `G` computes it.
pub fn run<G: Gradients>(r: &Runner) {
    if let Some(c) = r.case("S1") {
        let a = c.input("a").item();
        r.measure(
            c,
            || s1_scale(black_box(a)),
            || G::s1(black_box(a)),
            |g| scalars(g.0, &[g.1]),
        );
    }
    if let Some(c) = r.case("S2") {
        let (x, y) = (c.input("x").item(), c.input("y").item());
        r.measure(
            c,
            || s2_rosenbrock(black_box(x), black_box(y)),
            || G::s2(black_box(x), black_box(y)),
            |g| scalars(g.0, &[g.1.0, g.1.1]),
        );
    }
    if let Some(c) = r.case("S3") {
        let x = &c.input("x").values;
        r.measure(
            c,
            || s3_rosenbrock(black_box(x)),
            || G::s3(black_box(x)),
            |g| Computed::new(g.0, vec![g.1.clone()]),
        );
    }
    if let Some(c) = r.case("S4") {
        let [s, k, rate, sigma, t] = ["s", "k", "r", "sigma", "t"].map(|n| c.input(n).item());
        r.measure(
            c,
            || s4_black_scholes(black_box(s), black_box(k), rate, sigma, t),
            || G::s4(black_box(s), black_box(k), rate, sigma, t),
            |(v, g)| scalars(*v, &[g.0, g.1, g.2, g.3, g.4]),
        );
    }
    if let Some(c) = r.case("S5") {
        let theta: [f64; 6] = c.input("theta").values[..].try_into().expect("6 angles");
        r.measure(
            c,
            || s5_arm(black_box(&theta)),
            || G::s5(black_box(&theta)),
            |g| Computed::new(g.0, vec![g.1.to_vec()]),
        );
    }
    if let Some(c) = r.case("T1") {
        let a = c.input("a").to_tensor();
        r.measure(
            c,
            || t1_quickstart(black_box(&a)),
            || G::t1(black_box(&a)),
            |g| Computed::new(g.0, vec![g.1.to_vec()]),
        );
    }
    if let Some(c) = r.case("T2") {
        let (w, b) = (c.input("w").to_tensor(), c.input("b").item());
        let (x, y) = (c.input("x").to_tensor(), c.input("y").to_tensor());
        r.measure(
            c,
            || t2_logistic(black_box(&w), b, &x, &y),
            || G::t2(black_box(&w), b, &x, &y),
            |(v, (dw, db))| Computed::new(*v, vec![dw.to_vec(), vec![*db]]),
        );
    }
    if let Some(c) = r.case("T3") {
        let [w1, b1, w2, b2, x] = ["w1", "b1", "w2", "b2", "x"].map(|n| c.input(n).to_tensor());
        let labels = c.input("labels").labels();
        let p = (w1, b1, w2, b2);
        r.measure(
            c,
            || t3_mlp(black_box(&p.0), &p.1, &p.2, &p.3, &x, &labels),
            || G::t3(black_box(&p), &x, &labels),
            |(v, g)| {
                Computed::new(
                    *v,
                    vec![g.0.to_vec(), g.1.to_vec(), g.2.to_vec(), g.3.to_vec()],
                )
            },
        );
    }
    if let Some(c) = r.case("T4") {
        let x = c.input("x").to_tensor();
        r.measure(
            c,
            || t4_elementwise(black_box(&x)),
            || G::t4(black_box(&x)),
            |g| Computed::new(g.0, vec![g.1.to_vec()]),
        );
    }
}
