//! A temporary read only by a `sum()` or `mean()` is handed to the reduction's reverse,
//! which makes the cotangent in its buffer (`Linear::bwd_from`): the gradients are those of
//! the rule that allocates (`Linear::bwd`), against the analytic derivative, forward mode
//! and finite differences, at every rank, empty tensors included, in `_grad` and in
//! `_vjp`; nalgebra matrices take the default (shape, then `bwd`).

use grad::check::gradcheck;
use grad::{Tensor, differentiable};
use nalgebra::DMatrix;

type T64 = Tensor<f64>;

#[differentiable]
fn scaled_sum(a: &T64) -> f64 {
    (a * 5.0).sum()
}

#[differentiable]
fn scaled_sum_f32(a: &Tensor<f32>) -> f32 {
    (a * 5.0).sum()
}

#[differentiable]
fn scaled_mean(a: &T64) -> f64 {
    (a * 3.0).mean()
}

#[differentiable(wrt(w))]
fn product_mean(w: &T64, x: &T64) -> f64 {
    (x * w).mean()
}

#[differentiable(wrt(w))]
fn matrix_sum(w: &DMatrix<f64>, x: &DMatrix<f64>) -> f64 {
    (x * w).sum()
}

fn filled(shape: &[usize], seed: u64) -> T64 {
    Tensor::rand_uniform(shape, -1.0, 1.0, seed)
}

const SHAPES: [&[usize]; 7] = [&[], &[0], &[1], &[17], &[3, 0], &[3, 5], &[2, 3, 4]];

#[test]
fn sum_of_a_scaled_tensor_at_every_rank() {
    for shape in SHAPES {
        let a = filled(shape, 7);
        let (v, g) = scaled_sum_grad(&a);
        assert_eq!(v, scaled_sum(&a), "{shape:?}");
        assert_eq!(g.shape(), a.shape(), "{shape:?}");
        assert!(g.to_vec().iter().all(|&d| d == 5.0), "{shape:?}: {g:?}");
        // The pullback scales by its seed; forward mode along `a` gives Σ 5 a.
        let (_, pullback) = scaled_sum_vjp(&a);
        assert!(
            pullback(-0.5).to_vec().iter().all(|&d| d == -2.5),
            "{shape:?}"
        );
        let (_, t) = scaled_sum_jvp(&a, &a);
        assert_eq!(t, v, "{shape:?}");
    }
    let a = Tensor::from([1.5f32, -2.0, 0.25]);
    assert_eq!(scaled_sum_f32_grad(&a).1.to_vec(), vec![5.0; 3]);
}

#[test]
fn mean_of_a_scaled_tensor_at_every_rank() {
    for shape in SHAPES {
        let a = filled(shape, 3);
        let n = a.len() as f64;
        let (v, g) = scaled_mean_grad(&a);
        assert_eq!(v.to_bits(), scaled_mean(&a).to_bits(), "{shape:?}");
        assert_eq!(g.shape(), a.shape(), "{shape:?}");
        // The bits of the allocating rule: `dy / n` in every element, then times 3.
        assert!(
            g.to_vec().iter().all(|&d| d == 1.0 / n * 3.0),
            "{shape:?}: {g:?}"
        );
        let (_, pullback) = scaled_mean_vjp(&a);
        let seeded = pullback(2.0);
        assert!(
            seeded.to_vec().iter().all(|&d| d == 2.0 / n * 3.0),
            "{shape:?}"
        );
    }
}

#[test]
fn mean_of_a_product_against_finite_differences() {
    // `x * w` broadcasts `w`'s row over `x`'s rows.
    let (w, x) = (filled(&[4], 1), filled(&[5, 4], 2));
    let (v, g) = product_mean_grad(&w, &x);
    assert_eq!(v, product_mean(&w, &x));
    gradcheck(|w: &T64| product_mean(w, &x), &w, &g, 1e-7, 1e-9).unwrap();
    let (_, t) = product_mean_jvp(&w, &x, &g, grad::NoTangent);
    let norm2: f64 = g.to_vec().iter().map(|d| d * d).sum();
    assert!(
        (t - norm2).abs() <= 1e-12 * norm2.max(1.0),
        "{t} vs {norm2}"
    );
}

#[test]
fn nalgebra_matrices_take_the_default() {
    let w = DMatrix::from_fn(3, 2, |i, j| (i as f64 - j as f64) * 0.5);
    let x = DMatrix::from_fn(4, 3, |i, j| 1.0 + i as f64 * 0.25 - j as f64);
    let (v, g) = matrix_sum_grad(&w, &x);
    assert_eq!(v, matrix_sum(&w, &x));
    // d Σ (x w) / d w[k, j] = Σ_i x[i, k].
    for k in 0..3 {
        let column: f64 = x.column(k).sum();
        for j in 0..2 {
            assert!((g[(k, j)] - column).abs() <= 1e-12, "{k} {j}: {g}");
        }
    }
}
