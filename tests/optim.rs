//! Optimizers converge on known problems; clipping and loss scaling do what they say;
//! finite differences and gradcheck agree with analytic gradients.

use grad::check::{finite_difference, gradcheck};
use grad::optim::{Adam, AdamW, LossScaler, NonFinite, Sgd, clip_grad_norm, grad_norm};
use grad::{Differentiable, differentiable};

#[derive(Differentiable, Clone, Debug)]
struct Point {
    x: f64,
    y: f64,
    #[no_grad]
    evaluations: usize,
}

impl Point {
    /// Rosenbrock's function: minimum 0 at (1, 1).
    #[differentiable(wrt(self))]
    fn rosenbrock(&self) -> f64 {
        let a = 1.0 - self.x;
        let b = self.y - self.x * self.x;
        a * a + 100.0 * b * b
    }
}

fn start() -> Point {
    Point {
        x: -1.2,
        y: 1.0,
        evaluations: 0,
    }
}

#[test]
fn sgd_with_momentum_converges_on_a_quadratic() {
    // f(p) = Σ (i+1)(p_i - i)²: minimum at p = (0, 1, 2).
    let mut p = [5.0, -3.0, 0.5];
    let mut opt = Sgd::new(0.05).momentum(0.9);
    for _ in 0..300 {
        let g: [f64; 3] = std::array::from_fn(|i| 2.0 * (i as f64 + 1.0) * (p[i] - i as f64));
        opt.step(&mut p, &g);
    }
    for (i, v) in p.iter().enumerate() {
        assert!((v - i as f64).abs() < 1e-6, "p = {p:?}");
    }
}

#[test]
fn adam_minimizes_rosenbrock_through_the_generated_gradient() {
    let mut p = start();
    let mut opt = Adam::new(0.02);
    for _ in 0..5000 {
        let (_, g) = p.rosenbrock_grad();
        opt.step(&mut p, &g);
        p.evaluations += 1;
    }
    assert!(p.rosenbrock() < 1e-6, "{p:?} at {}", p.rosenbrock());
    assert_eq!(p.evaluations, 5000);
}

#[test]
fn adamw_decays_weights_decoupled() {
    // With a zero gradient, AdamW still shrinks the parameter by lr·λ per step; Adam with
    // L2 decay takes a normalized step of size ≈ lr instead.
    let mut p = [1.0f64];
    let mut opt = AdamW::new(0.1).weight_decay(0.5);
    opt.step(&mut p, &[0.0]);
    assert!((p[0] - (1.0 - 0.1 * 0.5)).abs() < 1e-12, "{p:?}");
    let mut q = [1.0f64];
    let mut l2 = Adam::new(0.1).weight_decay(0.5);
    l2.step(&mut q, &[0.0]);
    assert!((q[0] - 0.9).abs() < 1e-6, "{q:?}");
    // And it converges on a quadratic to the decayed optimum of (p-2)² + ... ≈ 2.
    let mut p = [0.0f64];
    let mut opt = AdamW::new(0.05).weight_decay(1e-3);
    for _ in 0..2000 {
        let g = [2.0 * (p[0] - 2.0)];
        opt.step(&mut p, &g);
    }
    assert!((p[0] - 2.0).abs() < 0.01, "{p:?}");
}

#[test]
fn clipping_by_global_norm() {
    let mut g: Vec<f64> = vec![3.0, 4.0];
    assert_eq!(clip_grad_norm(&mut g, 10.0), 5.0);
    assert_eq!(g, vec![3.0, 4.0]);
    assert_eq!(clip_grad_norm(&mut g, 1.0), 5.0);
    assert!((grad_norm(&g) - 1.0).abs() < 1e-15);
    assert!((g[0] - 0.6).abs() < 1e-15);
    let mut bad = vec![f64::NAN, 1.0];
    assert!(clip_grad_norm(&mut bad, 1.0).is_nan());
    assert_eq!(bad[1], 1.0);
}

#[test]
fn loss_scaling_returns_the_true_gradient() {
    let p = start();
    let (_, truth) = p.rosenbrock_grad();
    let mut scaler = LossScaler::fixed(1024.0);
    // The gradient of scale · loss is scale · gradient; unscale divides it back.
    let mut g = truth.clone();
    grad::Tangent::scale(&mut g, scaler.scale());
    scaler.unscale(&mut g).unwrap();
    assert!((g.x - truth.x).abs() < 1e-12 && (g.y - truth.y).abs() < 1e-12);
    assert_eq!(scaler.scale_loss(2.0f64), 2048.0);

    let mut dynamic = LossScaler::dynamic_with(8.0, 2);
    let mut overflow = vec![f64::INFINITY];
    assert_eq!(dynamic.unscale(&mut overflow), Err(NonFinite));
    assert_eq!(dynamic.scale(), 4.0);
    let mut fine = vec![4.0];
    dynamic.unscale(&mut fine).unwrap();
    assert_eq!(fine, vec![1.0]);
    dynamic.unscale(&mut vec![4.0]).unwrap();
    assert_eq!(dynamic.scale(), 8.0);
}

#[test]
fn finite_differences_and_gradcheck() {
    let p = start();
    let fd = finite_difference(|p: &Point| p.rosenbrock(), &p);
    // ∂x = -2(1-x) - 400x(y-x²) = -215.6, ∂y = 200(y-x²) = -88 at (-1.2, 1)
    assert!((fd.x + 215.6).abs() < 1e-5 && (fd.y + 88.0).abs() < 1e-5);
    let (_, g) = p.rosenbrock_grad();
    gradcheck(|p: &Point| p.rosenbrock(), &p, &g, 1e-6, 1e-6).unwrap();
    let mut wrong = g.clone();
    wrong.y += 1e-2;
    let err = gradcheck(|p: &Point| p.rosenbrock(), &p, &wrong, 1e-6, 1e-6).unwrap_err();
    assert_eq!(err.index, 1);
    // f32 arguments use a larger step.
    let x = [1.5f32, -0.5];
    let fd = finite_difference(|x: &[f32; 2]| x[0] * x[0] + 3.0 * x[1], &x);
    assert!((fd[0] - 3.0).abs() < 1e-2 && (fd[1] - 3.0).abs() < 1e-2);
}
