//! hand: the hand-written gradient of each case, from the shared case files (the primal
//! is the same function as grad's).

use std::hint::black_box;

use super::scalars;
use crate::cases::scalar::*;
use crate::cases::tensor::cases::*;
use crate::check::Computed;
use crate::run::Runner;

pub fn run(r: &Runner) {
    if let Some(c) = r.case("S1") {
        let a = c.input("a").item();
        r.measure(
            c,
            || s1_scale(black_box(a)),
            || s1_scale_handwritten(black_box(a)),
            |g| scalars(g.0, &[g.1]),
        );
    }
    if let Some(c) = r.case("S2") {
        let (x, y) = (c.input("x").item(), c.input("y").item());
        r.measure(
            c,
            || s2_rosenbrock(black_box(x), black_box(y)),
            || s2_rosenbrock_handwritten(black_box(x), black_box(y)),
            |g| scalars(g.0, &[g.1.0, g.1.1]),
        );
    }
    if let Some(c) = r.case("S3") {
        let x = &c.input("x").values;
        r.measure(
            c,
            || s3_rosenbrock(black_box(x)),
            || s3_rosenbrock_handwritten(black_box(x)),
            |g| Computed::new(g.0, vec![g.1.clone()]),
        );
    }
    if let Some(c) = r.case("S4") {
        let [s, k, rate, sigma, t] = ["s", "k", "r", "sigma", "t"].map(|n| c.input(n).item());
        r.measure(
            c,
            || s4_black_scholes(black_box(s), black_box(k), rate, sigma, t),
            || s4_black_scholes_handwritten(black_box(s), black_box(k), rate, sigma, t),
            |(v, g)| scalars(*v, &[g.0, g.1, g.2, g.3, g.4]),
        );
    }
    if let Some(c) = r.case("S5") {
        let theta: [f64; 6] = c.input("theta").values[..].try_into().expect("6 angles");
        r.measure(
            c,
            || s5_arm(black_box(&theta)),
            || s5_arm_handwritten(black_box(&theta)),
            |g| Computed::new(g.0, vec![g.1.to_vec()]),
        );
    }
    if let Some(c) = r.case("T1") {
        let a = c.input("a").to_tensor();
        r.measure(
            c,
            || t1_quickstart(black_box(&a)),
            || t1_handwritten(black_box(&a)),
            |g| Computed::new(g.0, vec![g.1.to_vec()]),
        );
    }
    if let Some(c) = r.case("T2") {
        let (w, b) = (c.input("w").to_tensor(), c.input("b").item());
        let (x, y) = (c.input("x").to_tensor(), c.input("y").to_tensor());
        r.measure(
            c,
            || t2_logistic(black_box(&w), b, &x, &y),
            || t2_handwritten(black_box(&w), b, &x, &y),
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
            || t3_handwritten(black_box(&p), &x, &labels),
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
            || t4_handwritten(black_box(&x)),
            |g| Computed::new(g.0, vec![g.1.to_vec()]),
        );
    }
}
