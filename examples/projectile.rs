//! Aiming a projectile with air drag: fit the launch speed and angle so that it lands on a
//! target, by gradient descent through a whole simulated flight.
//!
//! The projectile starts at the origin; gravity pulls it down and quadratic drag slows it
//! (acceleration `-k |v| v`). `step` advances the state `[x, y, vx, vy]` by one
//! semi-implicit Euler step and returns the new state as an array literal; `miss` runs the
//! steps until the projectile comes back to the ground, places the landing point by linear
//! interpolation of the crossing of `y = 0` inside the last step (so the landing distance is
//! a continuous function of the launch, not a staircase of whole steps), and returns its
//! squared distance to the target. Its gradient (reverse mode, through every step and the
//! early `return`) is checked once against central differences and once against forward
//! mode, then Adam follows it.
//!
//! Run with `cargo run --release --example projectile`. Prints the checks, the miss along
//! the iterations and the fitted launch. Set `GRAD_EXAMPLE_QUICK=1` for fewer iterations
//! (as CI does).

use grad::check::finite_difference;
use grad::differentiable;
use grad::optim::Adam;

const GRAVITY: f64 = 9.81;
const DT: f64 = 0.01;
/// A flight of at most 20 s: longer than any launch this example tries.
const MAX_STEPS: usize = 2000;

/// One semi-implicit Euler step of `[x, y, vx, vy]`: the velocity first, from gravity and
/// drag `-k |v| v`, then the position with the new velocity.
#[differentiable]
fn step(s: [f64; 4], k: f64, dt: f64) -> [f64; 4] {
    let speed = (s[2] * s[2] + s[3] * s[3]).sqrt();
    let vx = s[2] - dt * k * speed * s[2];
    let vy = s[3] - dt * (GRAVITY + k * speed * s[3]);
    [s[0] + dt * vx, s[1] + dt * vy, vx, vy]
}

/// The squared distance between where a projectile launched at `launch = [speed, angle]`
/// (m/s, radians) lands and `target` (m), with drag coefficient `k` (1/m).
#[differentiable]
fn miss(launch: [f64; 2], k: f64, target: f64) -> f64 {
    let mut s = [
        0.0,
        0.0,
        launch[0] * launch[1].cos(),
        launch[0] * launch[1].sin(),
    ];
    for _ in 0..MAX_STEPS {
        let before = s;
        s = step(s, k, DT);
        if s[1] < 0.0 {
            // Down during this step: interpolate x where y crossed 0.
            let f = before[1] / (before[1] - s[1]);
            let d = before[0] + f * (s[0] - before[0]) - target;
            return d * d;
        }
    }
    let d = s[0] - target;
    d * d
}

fn main() {
    let quick = std::env::var_os("GRAD_EXAMPLE_QUICK").is_some_and(|v| v != "0");
    let (iterations, report_every) = if quick { (250, 50) } else { (800, 100) };
    let (k, target) = (0.01, 50.0);
    let mut launch: [f64; 2] = [20.0, 0.5];
    println!(
        "drag k = {k} 1/m, target at {target} m; first guess: {} m/s at {:.1}°, {:.2} m from the target",
        launch[0],
        launch[1].to_degrees(),
        miss(launch, k, target).sqrt()
    );

    // Reverse mode against central differences, at the first guess.
    let (loss, (g_launch, g_k, g_target)) = miss_grad(launch, k, target);
    let fd = finite_difference(|l: &[f64; 2]| miss(*l, k, target), &launch);
    let fd_k = finite_difference(|k: &f64| miss(launch, *k, target), &k);
    println!("squared miss {loss:.4} m²; its gradient against central differences:");
    let mut worst: f64 = 0.0;
    for (name, g, e) in [
        ("speed", g_launch[0], fd[0]),
        ("angle", g_launch[1], fd[1]),
        ("k", g_k, fd_k),
    ] {
        let rel = (g - e).abs() / e.abs().max(1e-12);
        worst = worst.max(rel);
        println!(
            "  d miss / d {name:<5}: {g:>13.6} generated, {e:>13.6} finite differences, relative difference {rel:.1e}"
        );
    }

    // Forward mode along one direction: the same number as the gradient's dot product.
    let (dl, dk, dtarget) = ([1.0, -0.1], 2e-3, 0.5);
    let (_, jvp) = miss_jvp(launch, k, target, dl, dk, dtarget);
    let dot = g_launch[0] * dl[0] + g_launch[1] * dl[1] + g_k * dk + g_target * dtarget;
    println!(
        "  along (speed, angle, k, target) = ({}, {}, {dk}, {dtarget}): jvp {jvp:.9}, gradient · direction {dot:.9}",
        dl[0], dl[1]
    );

    // Adam moves speed (m/s) and angle (rad) by similar steps whatever their scales. One
    // equation, two unknowns: many launches land there, and descent stops at the first it meets.
    let mut opt = Adam::new(0.2);
    for it in 1..=iterations {
        let (loss, (g, _, _)) = miss_grad(launch, k, target);
        if it == 1 || it % report_every == 0 {
            println!(
                "  iteration {it:>4}: miss {:.3e} m, speed {:.4} m/s, angle {:.3}°",
                loss.sqrt(),
                launch[0],
                launch[1].to_degrees()
            );
        }
        opt.step(&mut launch, &g);
    }
    let final_miss = miss(launch, k, target).sqrt();
    println!(
        "fitted launch: {:.4} m/s at {:.3}°, lands {final_miss:.2e} m from the target \
         (without drag it would fly {:.1} m)",
        launch[0],
        launch[1].to_degrees(),
        launch[0] * launch[0] * (2.0 * launch[1]).sin() / GRAVITY
    );
    let ok = worst < 1e-6 && (jvp - dot).abs() <= 1e-9 * dot.abs() && final_miss < 1e-2;
    println!("checks: {}", if ok { "passed" } else { "FAILED" });
    if !ok {
        std::process::exit(1);
    }
}
