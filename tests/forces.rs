//! Losses on forces, `-∂E/∂positions` from an `order = 2` energy's `energy_grad` called
//! inside a first-order `#[differentiable]` function: the loss's gradient (through
//! `energy_grad_vjp`, one Hessian-vector product of the energy) against central differences
//! of the whole loss in f64, and its forward mode (through `energy_grad_jvp`) against that
//! gradient. Pair potentials over a slice of positions with loops over the pairs: Morse with
//! its parameters in an array and the clusters' bounds as integer data (the shape of
//! `examples/forces.rs`), and Lennard-Jones with scalar parameters, differentiated with
//! respect to the positions and the reference forces too.

mod common;

use common::assert_close;
use grad::differentiable;

/// Morse: `sum D ((1 - exp(-a (r - r0)))^2 - 1)` over the pairs within each cluster of atoms
/// in 3-D; cluster `c` holds atoms `starts[c]..starts[c + 1]`.
#[differentiable(order = 2)]
fn morse(pos: &[f64], p: [f64; 3], starts: &[usize]) -> f64 {
    let mut e = 0.0;
    for c in 0..starts.len() - 1 {
        for i in starts[c]..starts[c + 1] {
            for j in i + 1..starts[c + 1] {
                let dx = pos[3 * j] - pos[3 * i];
                let dy = pos[3 * j + 1] - pos[3 * i + 1];
                let dz = pos[3 * j + 2] - pos[3 * i + 2];
                let r = (dx * dx + dy * dy + dz * dz).sqrt();
                let s = 1.0 - (-p[1] * (r - p[2])).exp();
                e += p[0] * (s * s - 1.0);
            }
        }
    }
    e
}

/// The squared force error over every coordinate, with respect to the parameters only.
#[differentiable(wrt(p))]
fn morse_loss(p: [f64; 3], pos: &[f64], starts: &[usize], reference: &[f64]) -> f64 {
    let (_, (de_dpos, _)) = morse_grad(pos, p, starts);
    let mut s = 0.0;
    for k in 0..pos.len() {
        s += (reference[k] + de_dpos[k]).powi(2);
    }
    s
}

/// Lennard-Jones in 2-D: `sum 4 eps ((sigma/r)^12 - (sigma/r)^6)` over all pairs.
#[differentiable(order = 2)]
fn lennard_jones(pos: &[f64], eps: f64, sigma: f64) -> f64 {
    let n = pos.len() / 2;
    let mut e = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            let dx = pos[2 * j] - pos[2 * i];
            let dy = pos[2 * j + 1] - pos[2 * i + 1];
            let s6 = (sigma * sigma / (dx * dx + dy * dy)).powi(3);
            e += 4.0 * eps * (s6 * s6 - s6);
        }
    }
    e
}

/// The squared force error plus a hundredth of the energy, with respect to everything: the
/// positions, both parameters and the reference forces.
#[differentiable]
fn lennard_jones_loss(pos: &[f64], eps: f64, sigma: f64, reference: &[f64]) -> f64 {
    let (e, (de_dpos, _, de_dsigma)) = lennard_jones_grad(pos, eps, sigma);
    let mut s = 0.01 * e + 0.1 * de_dsigma;
    for k in 0..pos.len() {
        let err = reference[k] + de_dpos[k];
        s += err * err;
    }
    s
}

/// The derivative of `f` at 0 by central differences, Richardson-extrapolated from steps `h`
/// and `h/2`: `(4 D(h/2) - D(h)) / 3` errs by `O(h⁴ f⁽⁵⁾)` plus about `ε |f| / h` of rounding.
fn derivative(f: impl Fn(f64) -> f64, h: f64) -> f64 {
    let d = |h: f64| (f(h) - f(-h)) / (2.0 * h);
    (4.0 * d(h / 2.0) - d(h)) / 3.0
}

/// With `h = 1e-4` the extrapolated differences are within about 1e-11 of the derivative on
/// these smooth losses of values below 10^3; 1e-8 of the largest component leaves room for
/// that and still catches a missing or doubled term.
const H: f64 = 1e-4;
const FD_TOL: f64 = 1e-8;

/// Atoms in 3-D, three clusters of 3, 4 and 5 atoms on jittered lines and rings, every pair
/// at least 0.9 apart: `(positions, starts)`.
fn clusters() -> (Vec<f64>, Vec<usize>) {
    let mut pos = Vec::new();
    let mut starts = vec![0];
    for (c, n) in [3usize, 4, 5].into_iter().enumerate() {
        for i in 0..n {
            let t = std::f64::consts::TAU * i as f64 / n as f64;
            let radius = 0.6 + 0.15 * n as f64;
            let jitter = 0.05 * ((7 * i + 3 * c) as f64).sin();
            pos.extend([
                radius * t.cos() + jitter,
                radius * t.sin() - jitter,
                0.3 * ((i + c) as f64).cos(),
            ]);
        }
        starts.push(pos.len() / 3);
    }
    (pos, starts)
}

#[test]
fn morse_loss_gradient_against_differences() {
    let (pos, starts) = clusters();
    // Reference forces from other parameters, so that the loss and its gradient are not 0.
    let (_, (g_true, _)) = morse_grad(&pos, [0.8, 1.6, 1.1], &starts);
    let reference: Vec<f64> = g_true.iter().map(|g| -g).collect();
    let p = [1.1, 1.3, 1.25];
    let (loss, g) = morse_loss_grad(p, &pos, &starts, &reference);
    assert_eq!(loss, morse_loss(p, &pos, &starts, &reference));
    assert!(loss > 1e-2, "a loss away from its minimum ({loss})");
    let fd: Vec<f64> = (0..3)
        .map(|k| {
            derivative(
                |t| {
                    let mut q = p;
                    q[k] += t;
                    morse_loss(q, &pos, &starts, &reference)
                },
                H,
            )
        })
        .collect();
    assert_close("Morse loss gradient", &g, &fd, FD_TOL);
    // Forward mode along a direction: <∇loss, v>.
    let v = [0.3, -0.7, 0.5];
    let (_, dloss) = morse_loss_jvp(
        p,
        &pos,
        &starts,
        &reference,
        v,
        grad::NoTangent,
        grad::NoTangent,
        grad::NoTangent,
    );
    let expect: f64 = (0..3).map(|k| g[k] * v[k]).sum();
    assert!(
        (dloss - expect).abs() <= 1e-12 * expect.abs().max(1.0),
        "forward {dloss} against reverse {expect}"
    );
}

#[test]
fn lennard_jones_loss_gradient_against_differences() {
    // Five atoms in 2-D, pairs between 0.95 and 2.2 sigma apart.
    let pos = vec![0.0, 0.0, 1.1, 0.1, 0.4, 1.05, 1.6, 1.2, -0.7, 0.8];
    let (eps, sigma) = (0.9, 1.0);
    let reference: Vec<f64> = (0..pos.len())
        .map(|k| 0.4 * (k as f64 * 1.7).sin())
        .collect();
    let (loss, (gpos, geps, gsigma, gref)) = lennard_jones_loss_grad(&pos, eps, sigma, &reference);
    assert_eq!(loss, lennard_jones_loss(&pos, eps, sigma, &reference));
    // Every coordinate: positions, eps, sigma, then the reference forces.
    let n = pos.len();
    let at = |k: usize, t: f64| {
        let (mut p, mut r) = (pos.clone(), reference.clone());
        let (mut e, mut s) = (eps, sigma);
        match k {
            _ if k < n => p[k] += t,
            _ if k == n => e += t,
            _ if k == n + 1 => s += t,
            _ => r[k - n - 2] += t,
        }
        lennard_jones_loss(&p, e, s, &r)
    };
    let fd: Vec<f64> = (0..2 * n + 2)
        .map(|k| derivative(|t| at(k, t), H))
        .collect();
    let g: Vec<f64> = gpos
        .iter()
        .copied()
        .chain([geps, gsigma])
        .chain(gref.iter().copied())
        .collect();
    assert_close("Lennard-Jones loss gradient", &g, &fd, FD_TOL);
    // The reference forces enter as (F_ref + dE/dpos)^2: their gradient is 2 (F_ref + dE/dpos)
    // = 2 (F_ref - F), independent of the differences.
    let (_, (de_dpos, _, _)) = lennard_jones_grad(&pos, eps, sigma);
    for k in 0..n {
        let expect = 2.0 * (reference[k] + de_dpos[k]);
        assert!((gref[k] - expect).abs() <= 1e-12 * expect.abs().max(1.0));
    }
    // Forward mode along every coordinate at once.
    let v: Vec<f64> = (0..2 * n + 2).map(|k| (k as f64 * 0.9).cos()).collect();
    let (_, dloss) = lennard_jones_loss_jvp(
        &pos,
        eps,
        sigma,
        &reference,
        &v[..n],
        v[n],
        v[n + 1],
        &v[n + 2..],
    );
    let expect: f64 = g.iter().zip(&v).map(|(g, v)| g * v).sum();
    assert!(
        (dloss - expect).abs() <= 1e-12 * expect.abs().max(1.0),
        "forward {dloss} against reverse {expect}"
    );
}
