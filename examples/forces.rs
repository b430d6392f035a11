//! Fitting a pair potential to forces: the Morse parameters `D`, `a`, `r0` recovered from
//! the forces they produce on a few small clusters of atoms, by Adam on a loss that calls
//! the energy's gradient.
//!
//! `energy` is the Morse energy `sum D ((1 - exp(-a (r - r0)))^2 - 1)` over the pairs of
//! atoms within each cluster, written once with `#[differentiable(order = 2)]`. Its
//! `energy_grad` gives the forces, `-dE/dpositions`, both for the reference data (at the
//! true parameters) and inside `force_loss`, the sum of squared force errors over every
//! atom of every cluster. Because `order = 2` makes `energy_grad` differentiable itself,
//! `force_loss_grad` differentiates through it: the mixed second derivatives
//! `d²E / dpositions dparameters` come from one Hessian-vector product of the energy per
//! gradient of the loss, never from a Hessian matrix or finite differences.
//!
//! Run with `cargo run --release --example forces`. Prints the clusters, a check of the
//! loss's gradient against central differences, the loss and parameters along the
//! iterations, and the fitted parameters' error; exits with an error if the fit misses the
//! true parameters. Set `GRAD_EXAMPLE_QUICK=1` for fewer iterations (as CI does).

use grad::check::finite_difference;
use grad::differentiable;
use grad::optim::Adam;
use std::time::Instant;

/// The parameters the reference forces come from: well depth `D`, stiffness `a`, and the
/// equilibrium distance `r0`.
const TRUE: [f64; 3] = [0.8, 1.6, 1.1];
/// Where the fit starts: each parameter off by 25-50%.
const START: [f64; 3] = [1.2, 1.1, 1.4];
const NAMES: [&str; 3] = ["D", "a", "r0"];

/// The Morse energy of atoms in 3-D, `pos = [x0, y0, z0, x1, ..]`, grouped into clusters
/// that do not interact: cluster `c` holds atoms `starts[c]..starts[c + 1]`.
#[differentiable(order = 2)]
fn energy(pos: &[f64], p: [f64; 3], starts: &[usize]) -> f64 {
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

/// The sum over every coordinate of `(F - F_ref)^2`, the forces `F = -dE/dpos` from the
/// parameters `p`.
#[differentiable(wrt(p))]
fn force_loss(p: [f64; 3], pos: &[f64], starts: &[usize], reference: &[f64]) -> f64 {
    let (_, (de_dpos, _)) = energy_grad(pos, p, starts);
    let mut s = 0.0;
    for k in 0..pos.len() {
        s += (reference[k] + de_dpos[k]).powi(2);
    }
    s
}

/// A small deterministic generator (SplitMix64), so that every run fits the same data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A cluster of `n` atoms grown one at a time: each new atom sits at a random distance in
/// `[0.85, 1.7]` from a random earlier one, in a random direction, and no closer than 0.85 to
/// any other (so the pairs span the well, its repulsive wall and its tail).
fn cluster(n: usize, rng: &mut SplitMix) -> Vec<[f64; 3]> {
    let mut atoms = vec![[0.0; 3]];
    while atoms.len() < n {
        let base = atoms[rng.next() as usize % atoms.len()];
        let (z, phi) = (
            rng.uniform(-1.0, 1.0),
            rng.uniform(0.0, std::f64::consts::TAU),
        );
        let rho = (1.0 - z * z).sqrt();
        let d = rng.uniform(0.85, 1.7);
        let atom = [
            base[0] + d * rho * phi.cos(),
            base[1] + d * rho * phi.sin(),
            base[2] + d * z,
        ];
        let clear = atoms.iter().all(|b| {
            let r2: f64 = (0..3).map(|k| (atom[k] - b[k]).powi(2)).sum();
            r2 >= 0.85 * 0.85
        });
        if clear {
            atoms.push(atom);
        }
    }
    atoms
}

fn error(p: &[f64; 3]) -> f64 {
    (0..3)
        .map(|k| ((p[k] - TRUE[k]) / TRUE[k]).abs())
        .fold(0.0, f64::max)
}

fn main() {
    // Stop once the squared force error is below `stop` (full run: forces matched to about
    // 1e-12; quick: about 1e-6), then require every parameter within `tolerance` (relative).
    let quick = std::env::var_os("GRAD_EXAMPLE_QUICK").is_some_and(|v| v != "0");
    let (stop, tolerance, report_every) = if quick {
        (1e-12, 1e-5, 200)
    } else {
        (1e-24, 1e-9, 100)
    };
    let max_iterations = 10_000;

    // Five clusters of 3 to 8 atoms, all in one flat array.
    let mut rng = SplitMix(0x6772_6164);
    let (mut pos, mut starts) = (Vec::new(), vec![0]);
    for n in [3, 4, 5, 6, 8] {
        for atom in cluster(n, &mut rng) {
            pos.extend(atom);
        }
        starts.push(pos.len() / 3);
    }
    let (e_true, (de_dpos, _)) = energy_grad(&pos, TRUE, &starts);
    let reference: Vec<f64> = de_dpos.iter().map(|g| -g).collect();
    let largest = reference.iter().fold(0.0f64, |m, f| m.max(f.abs()));
    println!(
        "Morse potential, true D = {}, a = {}, r0 = {}; {} clusters of {:?} atoms, {} force \
         components (largest {largest:.3}), total energy {e_true:.4}",
        TRUE[0],
        TRUE[1],
        TRUE[2],
        starts.len() - 1,
        starts.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>(),
        reference.len(),
    );

    // The gradient through energy_grad against central differences of the whole loss.
    let mut p = START;
    let (loss, g) = force_loss_grad(p, &pos, &starts, &reference);
    let fd = finite_difference(|p: &[f64; 3]| force_loss(*p, &pos, &starts, &reference), &p);
    println!("loss at the start {loss:.6}; its gradient against central differences:");
    let mut worst: f64 = 0.0;
    for k in 0..3 {
        let rel = (g[k] - fd[k]).abs() / fd[k].abs().max(1e-12);
        worst = worst.max(rel);
        println!(
            "  d loss / d {:<2}: {:>14.8} generated, {:>14.8} finite differences, relative difference {rel:.1e}",
            NAMES[k], g[k], fd[k]
        );
    }

    println!(
        "Adam (learning rate 0.01) from D = {}, a = {}, r0 = {}:",
        p[0], p[1], p[2]
    );
    let t0 = Instant::now();
    let mut opt = Adam::new(0.01);
    let mut iterations = 0;
    loop {
        let (loss, g) = force_loss_grad(p, &pos, &starts, &reference);
        let done = loss < stop || iterations == max_iterations;
        if iterations % report_every == 0 || done {
            println!(
                "  iteration {iterations:>5}: loss {loss:.3e}, D = {:.8}, a = {:.8}, r0 = {:.8}",
                p[0], p[1], p[2]
            );
        }
        if done {
            break;
        }
        opt.step(&mut p, &g);
        iterations += 1;
    }
    let elapsed = t0.elapsed();

    // What one gradient of the loss costs beside one gradient of the energy.
    let reps = if quick { 200 } else { 2000 };
    let t1 = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(energy_grad(std::hint::black_box(&pos), p, &starts));
    }
    let energy_us = t1.elapsed().as_secs_f64() * 1e6 / reps as f64;
    let t2 = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(force_loss_grad(
            p,
            std::hint::black_box(&pos),
            &starts,
            &reference,
        ));
    }
    let loss_us = t2.elapsed().as_secs_f64() * 1e6 / reps as f64;

    let err = error(&p);
    println!(
        "fitted D = {:.10}, a = {:.10}, r0 = {:.10}: largest relative error {err:.1e}, after \
         {iterations} iterations in {:.1} ms",
        p[0],
        p[1],
        p[2],
        elapsed.as_secs_f64() * 1e3,
    );
    println!(
        "one gradient of the loss (through energy_grad) {loss_us:.1} µs, one energy_grad \
         {energy_us:.1} µs"
    );
    let ok = worst < 1e-6 && err < tolerance;
    println!(
        "checks (gradient within 1e-6 of the differences, parameters within {tolerance:e}): {}",
        if ok { "passed" } else { "FAILED" }
    );
    if !ok {
        std::process::exit(1);
    }
}
