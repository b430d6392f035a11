//! Inverse kinematics of a planar robot arm by gradient descent: find joint angles that put
//! the arm's tip on a target point.
//!
//! The arm has four links of lengths 1.0, 0.8, 0.6 and 0.4 from a base at the origin; joint
//! `k` turns link `k` by `angles[k]` relative to link `k - 1`. The forward kinematics (`tip`)
//! and the squared distance of the tip to the target (`reach`, which calls `tip`) are plain
//! `f64` functions over arrays; the gradient of `reach` with respect to the angles is
//! generated at compile time, and gradient descent with momentum follows it. The arm solves three targets in turn, each starting from the
//! previous pose, the last of which is out of reach (the arm stretches towards it).
//!
//! Run with `cargo run --release --example robot_ik`. Prints the error (distance of the tip
//! to the target) along the iterations, then the reached error, pose and tip of each target.
//! Set `GRAD_EXAMPLE_QUICK=1` for fewer iterations (as CI does).

use grad::differentiable;
use grad::nalgebra::Vector2;
use grad::optim::Sgd;

const LINKS: usize = 4;
const LENGTHS: [f64; LINKS] = [1.0, 0.8, 0.6, 0.4];

/// The position of the arm's tip: each joint adds its angle to the heading, each link moves
/// the tip along the heading by its length, a vector built with `Vector2::new` from the
/// differentiated heading. Differentiable itself, so that `reach` can call it.
#[differentiable]
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

fn main() {
    let quick = std::env::var_os("GRAD_EXAMPLE_QUICK").is_some_and(|v| v != "0");
    let max_iters = if quick { 300 } else { 20_000 };
    let tolerance = 1e-9;
    let reach_limit: f64 = LENGTHS.iter().sum();
    println!("a planar arm of {LINKS} links {LENGTHS:?}, fully stretched reach {reach_limit:.1}");

    let mut angles = [0.3, 0.3, 0.3, 0.3];
    let targets: [[f64; 2]; 3] = [[1.2, 1.5], [-1.0, 0.5], [3.0, 2.0]];
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
    }
}
