//! Newton's method with conjugate gradients (Newton-CG) on the 100-dimensional Rosenbrock
//! function, with Hessian-vector products from `#[differentiable(order = 2)]`, beside
//! gradient descent from the same start: the iterations each needs to reach a gradient
//! norm below 1e-8, from two starts.
//!
//! Newton-CG never forms the 100 x 100 Hessian: each Newton step solves `H p = -g` by
//! conjugate gradients, and each CG iteration costs one `rosenbrock_hvp` (value, gradient
//! and `H v` in one call, forward mode over reverse mode). Both methods take a backtracking
//! (Armijo) line search. From the classic start, whose even coordinates sit on the wrong
//! side of the curved valley, Newton's steps move the valley's bend one coordinate at a
//! time, so it needs hundreds of iterations there instead of tens.
//!
//! Both runs together take a tenth of a second in release, so CI runs it in full.

use grad::differentiable;

/// The chained Rosenbrock function, `sum (1 - x_i)^2 + 100 (x_{i+1} - x_i^2)^2`; its minimum
/// is 0 at `(1, .., 1)`.
#[differentiable(order = 2)]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut sum = 0.0;
    for i in 1..x.len() {
        sum += (1.0 - x[i - 1]).powi(2) + 100.0 * (x[i] - x[i - 1].powi(2)).powi(2);
    }
    sum
}

const N: usize = 100;
const TOLERANCE: f64 = 1e-8;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `x + t p`.
fn step(x: &[f64], t: f64, p: &[f64]) -> Vec<f64> {
    x.iter().zip(p).map(|(x, p)| x + t * p).collect()
}

/// The largest `t = t0 / 2^k` with `f(x + t p) <= f(x) + 1e-4 t <g, p>` (Armijo), for a
/// descent direction `p`.
fn backtrack(x: &[f64], fx: f64, g: &[f64], p: &[f64], t0: f64) -> f64 {
    let slope = dot(g, p);
    let mut t = t0;
    while rosenbrock(&step(x, t, p)) > fx + 1e-4 * t * slope && t > 1e-20 {
        t *= 0.5;
    }
    t
}

/// Conjugate gradients on `H p = -g`, stopped at the relative residual
/// `min(0.5, sqrt |g|)` (a superlinear truncated Newton), or on negative curvature (then
/// the last direction that had positive curvature, or `-g`). Returns the direction and
/// the Hessian-vector products it took.
fn newton_direction(x: &[f64], g: &[f64]) -> (Vec<f64>, usize) {
    let gnorm = norm(g);
    let tol = 0.5f64.min(gnorm.sqrt()) * gnorm;
    let mut p = vec![0.0; x.len()];
    let mut r: Vec<f64> = g.iter().map(|g| -g).collect();
    let mut d = r.clone();
    let mut rr = dot(&r, &r);
    let mut products = 0;
    for _ in 0..x.len() {
        let (_, _, hd) = rosenbrock_hvp(x, &d);
        products += 1;
        let curvature = dot(&d, &hd);
        if curvature <= 0.0 {
            if products == 1 {
                return (r, products);
            }
            break;
        }
        let alpha = rr / curvature;
        for i in 0..p.len() {
            p[i] += alpha * d[i];
            r[i] -= alpha * hd[i];
        }
        let rr_next = dot(&r, &r);
        if rr_next.sqrt() < tol {
            break;
        }
        let beta = rr_next / rr;
        rr = rr_next;
        for i in 0..d.len() {
            d[i] = r[i] + beta * d[i];
        }
    }
    (p, products)
}

/// Newton-CG from `x`: the iterations, the Hessian-vector products, and the point reached.
fn newton_cg(mut x: Vec<f64>, verbose: bool) -> (usize, usize, Vec<f64>) {
    let (mut iterations, mut products) = (0, 0);
    loop {
        let (fx, g) = rosenbrock_grad(&x);
        let gnorm = norm(&g);
        if verbose && (iterations % 5 == 0 || gnorm < TOLERANCE) {
            println!("    iteration {iterations:3}: f = {fx:.3e}, |g| = {gnorm:.3e}");
        }
        if gnorm < TOLERANCE || iterations == 10_000 {
            return (iterations, products, x);
        }
        let (p, k) = newton_direction(&x, &g);
        products += k;
        let t = backtrack(&x, fx, &g, &p, 1.0);
        x = step(&x, t, &p);
        iterations += 1;
    }
}

/// Gradient descent from `x`, at most `cap` iterations: the iterations and the final
/// gradient norm.
fn gradient_descent(mut x: Vec<f64>, cap: usize) -> (usize, f64) {
    let mut t = 1e-3;
    let mut iterations = 0;
    loop {
        let (fx, g) = rosenbrock_grad(&x);
        let gnorm = norm(&g);
        if gnorm < TOLERANCE || iterations == cap {
            return (iterations, gnorm);
        }
        let p: Vec<f64> = g.iter().map(|g| -g).collect();
        // Each search starts from twice the last accepted step.
        t = backtrack(&x, fx, &g, &p, 2.0 * t);
        x = step(&x, t, &p);
        iterations += 1;
    }
}

fn main() {
    let cap = 1_000_000;
    let starts: [(&str, Vec<f64>); 2] = [
        (
            "x_i = 1 + sin(i) / 2",
            (0..N).map(|i| 1.0 + 0.5 * (i as f64).sin()).collect(),
        ),
        (
            "the classic (-1.2, 1, -1.2, 1, ..)",
            (0..N)
                .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
                .collect(),
        ),
    ];
    println!("Rosenbrock in {N} dimensions, minimum 0 at (1, .., 1); stop at |g| < {TOLERANCE:e}");
    for (k, (name, x0)) in starts.into_iter().enumerate() {
        println!("from {name}, f = {:.4e}:", rosenbrock(&x0));
        println!("  Newton-CG with f_hvp:");
        let (iterations, products, x) = newton_cg(x0.clone(), k == 0);
        let error = x.iter().map(|x| (x - 1.0).abs()).fold(0.0, f64::max);
        println!(
            "    {iterations} iterations, {products} Hessian-vector products; max |x_i - 1| = {error:.1e}"
        );
        let (gd, gnorm) = gradient_descent(x0, cap);
        if gnorm < TOLERANCE {
            println!("  gradient descent: {gd} iterations");
        } else {
            println!("  gradient descent: stopped after {gd} iterations at |g| = {gnorm:.2e}");
        }
    }
}
