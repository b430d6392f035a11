//! Inverse kinematics of a planar robot arm by gradient descent and by damped least squares:
//! find joint angles that put the arm's tip on a target point.
//!
//! The arm has four links of lengths 1.0, 0.8, 0.6 and 0.4 from a base at the origin; joint
//! `k` turns link `k` by `angles[k]` relative to link `k - 1`. The forward kinematics (`tip`)
//! and the squared distance of the tip to the target (`reach`, which calls `tip`) are plain
//! `f64` functions over arrays; the gradient of `reach` with respect to the angles is
//! generated at compile time, and gradient descent with momentum follows it. The arm solves
//! three targets in turn, each starting from the previous pose, the last of which is out of
//! reach (the arm stretches towards it).
//!
//! From the same start, a damped least-squares (Levenberg-Marquardt) solver takes steps
//! `(JᵀJ + λI)⁻¹ Jᵀ r` with the 2x4 Jacobian `J` of the tip with respect to the angles, which
//! `#[differentiable(jacobian)]` writes as `tip_jacobian` (two reverse-mode rows: the arm has
//! fewer outputs than joints), adapting the damping `λ` to each step's success.
//!
//! Run with `cargo run --release --example robot_ik`. Prints the error (distance of the tip
//! to the target) along the gradient descent's iterations, then the reached error, pose and
//! tip of each target, the damped least squares' result from the same start, and the
//! iterations each method needed. Set `GRAD_EXAMPLE_QUICK=1` for fewer iterations (as CI
//! does).

use grad::differentiable;
use grad::nalgebra::{DMatrix, DVector, Vector2};
use grad::optim::Sgd;

const LINKS: usize = 4;
const LENGTHS: [f64; LINKS] = [1.0, 0.8, 0.6, 0.4];

/// The position of the arm's tip: each joint adds its angle to the heading, each link moves
/// the tip along the heading by its length, a vector built with `Vector2::new` from the
/// differentiated heading. Differentiable itself, so that `reach` can call it; `jacobian`
/// also writes `tip_jacobian`, its value and 2x4 Jacobian.
#[differentiable(jacobian)]
fn tip(angles: &[f64; LINKS]) -> Vector2<f64> {
    let mut heading = 0.0;
    let mut tip = Vector2::new(0.0, 0.0);
    for (length, angle) in LENGTHS.iter().zip(angles) {
        heading += angle;
        tip += Vector2::new(heading.cos(), heading.sin()) * *length;
    }
    tip
}

/// The squared distance of the tip to `target`; `reach_grad` gives its gradient with
/// respect to the angles, through `tip`'s generated pullback.
#[differentiable(wrt(angles))]
fn reach(angles: &[f64; LINKS], target: &[f64; 2]) -> f64 {
    let d = tip(angles) - Vector2::new(target[0], target[1]);
    d.norm_squared()
}

/// Gradient descent with momentum from `angles` until the tip is within `tolerance` of
/// `target` or the gradient vanishes; returns the number of iterations taken.
fn solve(angles: &mut [f64; LINKS], target: &[f64; 2], max_iters: usize, tolerance: f64) -> usize {
    let mut opt = Sgd::new(0.02).momentum(0.9);
    for iter in 1..=max_iters {
        let (d2, g) = reach_grad(angles, target);
        let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        if iter == 1 || iter.is_power_of_two() {
            println!(
                "  iteration {iter:>5}: error {:.3e}, |gradient| {gnorm:.3e}",
                d2.sqrt()
            );
        }
        if d2.sqrt() < tolerance || gnorm < 1e-12 {
            return iter;
        }
        opt.step(angles, &g);
    }
    max_iters
}

/// Damped least squares (Levenberg-Marquardt) from `angles` until the tip is within
/// `tolerance` of `target`, the gradient `2 Jᵀ r` vanishes, or no step longer than 1e-9
/// lowers the error any more (where the target is out of reach, f64 cannot resolve the
/// decrease once the gradient is near 1e-8); returns the number of iterations taken,
/// rejected trial steps included, and the gradient's norm at the end.
fn solve_lm(
    angles: &mut [f64; LINKS],
    target: &[f64; 2],
    max_iters: usize,
    tolerance: f64,
) -> (usize, f64) {
    let target = Vector2::new(target[0], target[1]);
    let mut damping = 1e-3;
    let (tip_now, mut j) = tip_jacobian(angles);
    let mut r = tip_now - target;
    for iter in 1..=max_iters {
        let residual = DVector::from_column_slice(r.as_slice());
        let g = j.transpose() * &residual;
        let gnorm = 2.0 * g.norm();
        if r.norm() < tolerance || gnorm < 1e-12 || iter == max_iters {
            return (iter, gnorm);
        }
        // The step solves (JᵀJ + λI) δ = -Jᵀ r; JᵀJ + λI is positive definite for λ > 0.
        let normal = j.transpose() * &j + DMatrix::identity(LINKS, LINKS) * damping;
        let Some(chol) = normal.cholesky() else {
            damping *= 10.0;
            continue;
        };
        let step = chol.solve(&g);
        let trial: [f64; LINKS] = std::array::from_fn(|k| angles[k] - step[k]);
        let (tip_trial, j_trial) = tip_jacobian(&trial);
        let r_trial = tip_trial - target;
        if r_trial.norm_squared() < r.norm_squared() {
            // Accepted: nearer to Gauss-Newton next time.
            *angles = trial;
            (r, j) = (r_trial, j_trial);
            damping = (damping / 3.0).max(1e-12);
        } else if step.norm() < 1e-9 {
            // Even a short step does not lower the error: stationary, to f64's precision.
            return (iter, gnorm);
        } else {
            // Rejected: nearer to gradient descent, with a shorter step.
            damping *= 4.0;
        }
    }
    unreachable!("the last iteration returns")
}

fn main() {
    let quick = std::env::var_os("GRAD_EXAMPLE_QUICK").is_some_and(|v| v != "0");
    let max_iters = if quick { 300 } else { 20_000 };
    let tolerance = 1e-9;
    let reach_limit: f64 = LENGTHS.iter().sum();
    println!("a planar arm of {LINKS} links {LENGTHS:?}, fully stretched reach {reach_limit:.1}");

    let mut angles = [0.3, 0.3, 0.3, 0.3];
    let targets: [[f64; 2]; 3] = [[1.2, 1.5], [-1.0, 0.5], [3.0, 2.0]];
    let mut iterations = Vec::new();
    for target in targets {
        let distance = (target[0] * target[0] + target[1] * target[1]).sqrt();
        println!(
            "target ({:.2}, {:.2}), {distance:.2} from the base ({}):",
            target[0],
            target[1],
            if distance <= reach_limit {
                "reachable".to_string()
            } else {
                format!(
                    "out of reach: the best error is {:.4}",
                    distance - reach_limit
                )
            }
        );
        let start = angles;
        let iters = solve(&mut angles, &target, max_iters, tolerance);
        let t = tip(&angles);
        let (x, y) = (t.x, t.y);
        let error = ((x - target[0]).powi(2) + (y - target[1]).powi(2)).sqrt();
        // Angles are only meaningful modulo a full turn: show them in (-π, π].
        let shown = angles.map(|a| {
            std::f64::consts::PI - (std::f64::consts::PI - a).rem_euclid(std::f64::consts::TAU)
        });
        println!(
            "  reached error {error:.3e} after {iters} iterations{}: angles {shown:.4?} rad, tip ({x:.6}, {y:.6})",
            if iters == max_iters {
                " (the iteration limit)"
            } else {
                ""
            }
        );
        let mut lm_angles = start;
        let (lm_iters, lm_gnorm) = solve_lm(&mut lm_angles, &target, max_iters, tolerance);
        let t = tip(&lm_angles);
        let lm_error = ((t.x - target[0]).powi(2) + (t.y - target[1]).powi(2)).sqrt();
        println!(
            "  damped least squares (Levenberg-Marquardt on tip_jacobian) from the same start: error {lm_error:.3e} after {lm_iters} iterations{}, |gradient| {lm_gnorm:.1e}, tip ({:.6}, {:.6})",
            if lm_iters == max_iters {
                " (the iteration limit)"
            } else {
                ""
            },
            t.x,
            t.y
        );
        iterations.push((iters, lm_iters));
    }
    println!("iterations per target (gradient descent with momentum / Levenberg-Marquardt):");
    for (target, (gd, lm)) in targets.iter().zip(iterations) {
        println!("  ({:5.2}, {:5.2}): {gd:>5} / {lm}", target[0], target[1]);
    }
}
