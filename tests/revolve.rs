//! `for i in grad::checkpoint(lo..hi, snapshots)`: binomial checkpointing (Revolve) of a
//! loop's reverse pass. Each checkpointed function has a twin over the plain range, written
//! from the same statements, whose reverse pass keeps every iteration: the gradients agree
//! to 1e-12 relative (the arithmetic is the same), and both agree with central finite
//! differences of the primal. The peak heap of a million steps with 32 snapshots is a few
//! kilobytes where the stored states take megabytes.

#[path = "../benches/alloc.rs"]
#[allow(dead_code, reason = "only `peak_of` is used here")]
mod alloc;
mod common;

use common::{close, fd};
use grad::differentiable;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// The allocation counters are global: tests in this file take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

// ---- a damped oscillator: two scalars of state ------------------------------------------

/// x'' = -k x - c x', explicit Euler with n steps of size h; the final position and
/// velocity, weighted.
#[differentiable(wrt(k, c))]
fn oscillator(k: f64, c: f64, n: usize, snapshots: usize) -> f64 {
    let h = 10.0 / n as f64;
    let (mut x, mut v) = (1.0, 0.0);
    for _ in grad::checkpoint(0..n, snapshots) {
        let a = -k * x - c * v;
        x += h * v;
        v += h * a;
    }
    x + 0.5 * v
}

#[differentiable(wrt(k, c))]
fn oscillator_stored(k: f64, c: f64, n: usize, snapshots: usize) -> f64 {
    let h = 10.0 / n as f64;
    let (mut x, mut v) = (1.0, 0.0);
    let _ = snapshots;
    for _ in 0..n {
        let a = -k * x - c * v;
        x += h * v;
        v += h * a;
    }
    x + 0.5 * v
}

#[test]
fn oscillator_gradient_equals_stored_states_and_finite_differences() {
    let _turn = turn();
    let (k, c) = (2.0, 0.3);
    for (n, s) in [
        (1000, 4),
        (1000, 32),
        (257, 1),
        (10, 10),
        (10, 100),
        (1, 3),
        (2, 1),
    ] {
        let (y, (dk, dc)) = oscillator_grad(k, c, n, s);
        let (y0, (dk0, dc0)) = oscillator_stored_grad(k, c, n, s);
        assert_eq!(y, oscillator(k, c, n, s));
        assert_eq!(y, y0);
        close(dk, dk0, 1e-12);
        close(dc, dc0, 1e-12);
        close(dk, fd(|k| oscillator(k, c, n, s), k), 1e-6);
        close(dc, fd(|c| oscillator(k, c, n, s), c), 1e-6);
    }
}

// ---- an array of state, a differentiable step function, a branch, the index -------------

/// One step of the Lotka–Volterra system y0' = a y0 - y0 y1, y1' = y0 y1 - b y1 at time t,
/// forced by a small sin(t) term; explicit Euler of size h.
#[differentiable]
fn lv_step(y: [f64; 2], a: f64, b: f64, t: f64, h: f64) -> [f64; 2] {
    let f0 = a * y[0] - y[0] * y[1] + 0.1 * t.sin();
    let f1 = y[0] * y[1] - b * y[1];
    [y[0] + h * f0, y[1] + h * f1]
}

#[differentiable(wrt(y0, a, b))]
fn lotka(y0: [f64; 2], a: f64, b: f64, n: usize, snapshots: usize) -> f64 {
    let h = 2.0 / n as f64;
    let mut y = y0;
    let mut peak = 0.0;
    for i in grad::checkpoint(1..=n, snapshots) {
        if i % 7 == 3 {
            continue;
        }
        let t = i as f64 * h;
        y = lv_step(y, a, b, t, h);
        if y[0] > peak {
            peak = y[0];
        } else {
            peak = 0.5 * (peak + y[0]);
        }
    }
    y[0] * y[1] + peak
}

#[differentiable(wrt(y0, a, b))]
fn lotka_stored(y0: [f64; 2], a: f64, b: f64, n: usize, snapshots: usize) -> f64 {
    let h = 2.0 / n as f64;
    let mut y = y0;
    let mut peak = 0.0;
    let _ = snapshots;
    for i in 1..=n {
        if i % 7 == 3 {
            continue;
        }
        let t = i as f64 * h;
        y = lv_step(y, a, b, t, h);
        if y[0] > peak {
            peak = y[0];
        } else {
            peak = 0.5 * (peak + y[0]);
        }
    }
    y[0] * y[1] + peak
}

#[test]
fn array_state_call_branch_and_index() {
    let _turn = turn();
    let (y0, a, b) = ([1.2, 0.7], 1.1, 0.9);
    for (n, s) in [(500, 3), (500, 32), (64, 1), (5, 5), (0, 4)] {
        let (v, (dy0, da, db)) = lotka_grad(y0, a, b, n, s);
        let (v0, (dy00, da0, db0)) = lotka_stored_grad(y0, a, b, n, s);
        assert_eq!(v, lotka(y0, a, b, n, s));
        assert_eq!(v, v0);
        for (g, w) in dy0.iter().zip(&dy00).chain([(&da, &da0), (&db, &db0)]) {
            close(*g, *w, 1e-12);
        }
        close(da, fd(|a| lotka(y0, a, b, n, s), a), 1e-6);
        close(db, fd(|b| lotka(y0, a, b, n, s), b), 1e-6);
        for j in 0..2 {
            let f = |x: f64| {
                let mut y = y0;
                y[j] = x;
                lotka(y, a, b, n, s)
            };
            close(dy0[j], fd(f, y0[j]), 1e-6);
        }
    }
}

#[test]
fn vjp_pullback_matches_grad() {
    let _turn = turn();
    let (y0, a, b) = ([1.2, 0.7], 1.1, 0.9);
    let (v, pullback) = lotka_vjp(y0, a, b, 300, 5);
    let (dy0, da, db, _, _) = pullback(2.0);
    let (v0, (gy0, ga, gb)) = lotka_grad(y0, a, b, 300, 5);
    assert_eq!(v, v0);
    close(da, 2.0 * ga, 1e-12);
    close(db, 2.0 * gb, 1e-12);
    close(dy0[0], 2.0 * gy0[0], 1e-12);
    close(dy0[1], 2.0 * gy0[1], 1e-12);
}

// ---- a tensor state ------------------------------------------------------------------------

#[differentiable(wrt(w))]
fn rnn(h0: grad::Tensor<f64>, w: &grad::Tensor<f64>, n: usize) -> f64 {
    let mut h = h0;
    for _ in grad::checkpoint(0..n, 3) {
        h = h.matmul(w).tanh();
    }
    h.sum()
}

#[differentiable(wrt(w))]
fn rnn_stored(h0: grad::Tensor<f64>, w: &grad::Tensor<f64>, n: usize) -> f64 {
    let mut h = h0;
    for _ in 0..n {
        h = h.matmul(w).tanh();
    }
    h.sum()
}

#[test]
fn tensor_state() {
    let _turn = turn();
    let w = grad::Tensor::rand_uniform(&[4, 4], -0.6, 0.6, 3);
    let h0 = grad::Tensor::rand_uniform(&[2, 4], -1.0, 1.0, 4);
    let (v, dw) = rnn_grad(h0.clone(), &w, 40);
    let (v0, dw0) = rnn_stored_grad(h0.clone(), &w, 40);
    assert_eq!(v, v0);
    for (g, e) in dw.to_vec().iter().zip(dw0.to_vec()) {
        close(*g, e, 1e-12);
    }
}

// ---- memory ------------------------------------------------------------------------------

#[test]
fn a_million_steps_keep_kilobytes() {
    let _turn = turn();
    let (k, c, n) = (2.0, 0.3, 1_000_000);
    // Once before measuring, so that nothing allocated lazily on a first call counts.
    oscillator_grad(k, c, 10, 32);
    oscillator_stored_grad(k, c, 10, 32);
    // The counters are global: the harness's other threads may allocate meanwhile (while
    // other tests wait for their turn), which only adds; the least of three runs is ours.
    let least = |f: &dyn Fn()| (0..3).map(|_| alloc::peak_of(f)).min().unwrap_or(0);
    let got = oscillator_grad(k, c, n, 32);
    let ckpt = least(&|| {
        oscillator_grad(k, c, n, 32);
    });
    let ckpt_small = least(&|| {
        oscillator_grad(k, c, n / 100, 32);
    });
    let mut want = (0.0, (0.0, 0.0));
    let stored = alloc::peak_of(|| want = oscillator_stored_grad(k, c, n, 32));
    println!(
        "peak heap of the gradient of 10^6 steps: stored states {stored} bytes, \
         checkpointed (32 snapshots) {ckpt} bytes ({ckpt_small} bytes for 10^4 steps)"
    );
    assert_eq!(got.0, want.0);
    close(got.1.0, want.1.0, 1e-12);
    close(got.1.1, want.1.1, 1e-12);
    // 32 snapshots of two f64 (as `Option`s, 768 bytes), the schedule's intervals (512),
    // the stack of one iteration's saved values: a few kilobytes, the same for any n.
    assert!(ckpt <= 4096, "checkpointed peak {ckpt} bytes");
    assert!(
        ckpt <= ckpt_small + 64,
        "the peak grows with n: {ckpt_small} → {ckpt}"
    );
    assert!(stored >= 16_000_000, "stored-states peak {stored} bytes");
}

// ---- parameters read in the body, a loop whose state the result does not read ----------

/// y <- y w[i mod m] + x sin(y), over a `Vec` parameter by value (its adjoint gathers a
/// contribution from every step) and a scalar.
#[differentiable(wrt(w, x))]
fn weighted(w: Vec<f64>, x: f64, n: usize) -> f64 {
    let m = w.len();
    let mut y = 1.0;
    for i in grad::checkpoint(0..n, 4) {
        y = y * w[i % m] + x * y.sin();
    }
    y
}

#[differentiable(wrt(w, x))]
fn weighted_stored(w: Vec<f64>, x: f64, n: usize) -> f64 {
    let m = w.len();
    let mut y = 1.0;
    for i in 0..n {
        y = y * w[i % m] + x * y.sin();
    }
    y
}

#[test]
fn parameters_read_in_the_body() {
    let _turn = turn();
    let (w, x, n) = (vec![0.9, 1.05, 0.97], 0.1, 200);
    let (v, (dw, dx)) = weighted_grad(w.clone(), x, n);
    let (v0, (dw0, dx0)) = weighted_stored_grad(w.clone(), x, n);
    assert_eq!(v, v0);
    close(dx, dx0, 1e-12);
    for j in 0..3 {
        close(dw[j], dw0[j], 1e-12);
        let f = |t: f64| {
            let mut w = w.clone();
            w[j] = t;
            weighted(w, x, n)
        };
        close(dw[j], fd(f, w[j]), 1e-6);
    }
    close(dx, fd(|x| weighted(w.clone(), x, n), x), 1e-6);
    let (_, pullback) = weighted_vjp(w.clone(), x, n);
    let (dw1, dx1, _) = pullback(1.0);
    assert_eq!((dw1, dx1), (dw, dx));
}

/// The loop's state never reaches the result: its reverse pass has nothing to do.
#[differentiable(wrt(x))]
fn unread(x: f64, n: usize) -> f64 {
    let mut y = x;
    for _ in grad::checkpoint(0..n, 2) {
        y *= x;
    }
    let _ = y;
    // d/dx 2x = 2
    2.0 * x
}

#[test]
fn a_loop_the_result_does_not_read() {
    let _turn = turn();
    assert_eq!(unread_grad(3.0, 10), (6.0, 2.0));
    assert_eq!((unread_vjp(3.0, 10).1)(1.0).0, 2.0);
}

#[test]
fn forward_mode_iterates_the_range() {
    let _turn = turn();
    let (k, c, n) = (2.0, 0.3, 500);
    let (_, (dk, dc)) = oscillator_stored_grad(k, c, n, 4);
    let nt = grad::NoTangent;
    let (y, tk) = oscillator_jvp(k, c, n, 4, 1.0, 0.0, nt, nt);
    let (_, tc) = oscillator_jvp(k, c, n, 4, 0.0, 1.0, nt, nt);
    assert_eq!(y, oscillator(k, c, n, 4));
    close(tk, dk, 1e-12);
    close(tc, dc, 1e-12);
}

/// Literal bounds of at most 64 steps give the loop a stack on the call's frame (an array
/// with a counter) instead of a `Vec`: it holds one iteration here too.
#[differentiable(wrt(x))]
fn literal(x: f64) -> f64 {
    let mut y = 1.0;
    for i in grad::checkpoint(0..10, 3) {
        y = y * x + (i as f64) * 0.01;
    }
    y
}

#[test]
fn literal_bounds() {
    let _turn = turn();
    // y_10 = x^10 + sum_i 0.01 i x^(9 - i); at x = 1: dy/dx = 10 + sum_i 0.01 i (9 - i) = 11.2
    let (y, dx) = literal_grad(1.0);
    close(y, 1.0 + 0.45, 1e-12);
    close(dx, 11.2, 1e-12);
    close(dx, fd(literal, 1.0), 1e-6);
}
