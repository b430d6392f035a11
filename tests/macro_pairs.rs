//! `sin` and `cos` of one value, which generated code computes with one `sin_cos` and whose
//! rules read each other's value (`grad-macros/src/pairs.rs`): in straight-line code, in a
//! loop's reverse sweep, with a third unpaired `sin`, in branches, and on tensors, against
//! central finite differences in f64 and forward against reverse.

mod common;

use common::{Rng, check, close, close_all, fd};
use grad::{Tensor, differentiable};

/// The planar arm of the benchmarks' S5 at any length: the pair inside a loop.
#[differentiable]
fn arm(theta: &[f64]) -> f64 {
    let mut phi = 0.0;
    let (mut x, mut y) = (0.0, 0.0);
    for k in 0..theta.len() {
        phi += theta[k];
        x += (k as f64 + 1.0) * phi.cos();
        y += phi.sin() / (k as f64 + 2.0);
    }
    (x - 1.5).powi(2) + (y - 1.2).powi(2)
}

/// A pair, a second `sin` of the same value (left unpaired), and a pair in each arm.
#[differentiable]
fn mixed(a: f64, b: f64) -> f64 {
    let s = a.sin();
    let c = a.cos();
    let s2 = a.sin();
    let r = if b > 0.0 {
        b.cos() * b.sin()
    } else {
        (a * b).sin() - (a * b).cos()
    };
    s * c * s2 + r * s
}

/// Rotations of a vector by an angle, on tensors.
#[differentiable]
fn rotate(t: &Tensor<f64>) -> f64 {
    let s = t.sin();
    let c = t.cos();
    (s * 2.0 + &c * &c).sum()
}

#[test]
fn a_pair_in_a_loop() {
    for n in [0, 1, 2, 6, 11] {
        let theta = Rng::new(n as u64 + 3).vec(n, -1.0, 1.0);
        check(&theta, arm, arm_grad, arm_jvp);
    }
}

#[test]
fn pairs_and_a_value_left_unpaired() {
    let f = |a: f64, b: f64| {
        let (s, c) = (a.sin(), a.cos());
        let r = if b > 0.0 {
            b.cos() * b.sin()
        } else {
            (a * b).sin() - (a * b).cos()
        };
        s * c * s + r * s
    };
    for (a, b) in [(0.7, 1.3), (-1.1, 0.4), (2.0, -0.8)] {
        let (v, (ga, gb)) = mixed_grad(a, b);
        assert_eq!(v, f(a, b));
        close(ga, fd(|a| f(a, b), a), 1e-6);
        close(gb, fd(|b| f(a, b), b), 1e-6);
        let (v2, t) = mixed_jvp(a, b, 0.5, -2.0);
        assert_eq!(v2, v);
        close(t, 0.5 * ga - 2.0 * gb, 1e-12);
    }
}

#[test]
fn pairs_on_tensors() {
    let x = vec![0.3, -1.7, 2.4, 0.0, 5.1];
    let t = Tensor::from_vec(x.clone(), &[5]).unwrap();
    let (v, g) = rotate_grad(&t);
    let f = |x: &[f64]| {
        x.iter()
            .map(|v| 2.0 * v.sin() + v.cos() * v.cos())
            .sum::<f64>()
    };
    close(v, f(&x), 1e-14);
    close_all(g.as_slice(), &common::fd_slice(f, &x), 1e-6);
    let dir = Tensor::from_vec(vec![1.0, -0.5, 0.25, 2.0, -1.0], &[5]).unwrap();
    let (_, d) = rotate_jvp(&t, &dir);
    let want: f64 = g
        .as_slice()
        .iter()
        .zip(dir.as_slice())
        .map(|(a, b)| a * b)
        .sum();
    close(d, want, 1e-12);
}
