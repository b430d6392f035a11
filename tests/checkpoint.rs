//! `#[differentiable(checkpoint)]`: a caller's reverse pass keeps only a checkpointed
//! callee's inputs and runs the callee again when its pullback runs. The gradients are those
//! of the same caller over the plain callee (bit for bit: the rerun is the same arithmetic)
//! and of finite differences; the peak heap of a loop of n calls holds n inputs, not n times
//! the callee's intermediate values.

#[path = "../benches/alloc.rs"]
#[allow(dead_code, reason = "only `peak_of` is used here")]
mod alloc;
mod common;

use common::{close, fd};
use grad::check::gradcheck;
use grad::{Differentiable, Real, Tensor, differentiable};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

type T64 = Tensor<f64>;

/// The allocation counters are global: tests in this file take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// One function written twice, plain and checkpointed, from the same tokens: the same
/// arithmetic, so their gradients agree bit for bit.
macro_rules! plain_and_checkpointed {
    ($(#[$attr:meta])* fn $plain:ident / $ckpt:ident $(<$($g:ident: $b:path),*>)? ($($args:tt)*) -> $ret:ty $body:block) => {
        $(#[$attr])*
        #[differentiable]
        pub fn $plain$(<$($g: $b),*>)?($($args)*) -> $ret $body

        $(#[$attr])*
        #[differentiable(checkpoint)]
        pub fn $ckpt$(<$($g: $b),*>)?($($args)*) -> $ret $body
    };
}

// ---- scalar state: an ODE step in a loop -------------------------------------------------

plain_and_checkpointed! {
    /// One midpoint (RK2) step of y' = -k·y + sin(y) of size h.
    fn rk2 / rk2_ckpt(y: f64, k: f64, h: f64) -> f64 {
        let f1 = -k * y + y.sin();
        let mid = y + 0.5 * h * f1;
        let f2 = -k * mid + mid.sin();
        y + h * f2
    }
}

#[differentiable(wrt(y0, k))]
fn integrate(y0: f64, k: f64, n: usize) -> f64 {
    let h = 1.0 / n as f64;
    let mut y = y0;
    for _ in 0..n {
        y = rk2(y, k, h);
    }
    y * y
}

#[differentiable(wrt(y0, k))]
fn integrate_ckpt(y0: f64, k: f64, n: usize) -> f64 {
    let h = 1.0 / n as f64;
    let mut y = y0;
    for _ in 0..n {
        y = rk2_ckpt(y, k, h);
    }
    y * y
}

#[test]
fn scalar_loop_gradient_equals_plain_and_finite_differences() {
    let _turn = turn();
    let (y0, k, n) = (0.8, 1.3, 50);
    let plain = integrate_grad(y0, k, n);
    let ckpt = integrate_ckpt_grad(y0, k, n);
    assert_eq!(plain, ckpt);
    let (value, (dy0, dk)) = ckpt;
    assert_eq!(value, integrate(y0, k, n));
    close(dy0, fd(|y0| integrate(y0, k, n), y0), 1e-6);
    close(dk, fd(|k| integrate(y0, k, n), k), 1e-6);
}

#[test]
fn checkpointed_function_keeps_its_own_grad_and_jvp() {
    let _turn = turn();
    let (y, k, h) = (0.8, 1.3, 0.1);
    assert_eq!(rk2_ckpt_grad(y, k, h), rk2_grad(y, k, h));
    assert_eq!(
        rk2_ckpt_jvp(y, k, h, 1.0, 0.5, 0.25),
        rk2_jvp(y, k, h, 1.0, 0.5, 0.25)
    );
    let (value, pullback) = rk2_ckpt_vjp(y, k, h);
    let (plain_value, plain_pullback) = rk2_vjp(y, k, h);
    assert_eq!(value, plain_value);
    assert_eq!(pullback(2.0), plain_pullback(2.0));
}

// ---- tensor state: a residual block applied repeatedly -----------------------------------

plain_and_checkpointed! {
    /// A residual block of two tanh layers, h + 0.1·tanh(tanh(h·w1)·w2), on rows of h.
    fn block / block_ckpt(h: T64, w1: &T64, w2: &T64) -> T64 {
        let a1 = h.matmul(w1).tanh();
        let a2 = a1.matmul(w2).tanh();
        let a3 = a2.matmul(w1).tanh();
        &h + &a3 * 0.1
    }
}

#[differentiable(wrt(h0, w1, w2))]
fn deep(h0: T64, w1: &T64, w2: &T64, n: usize) -> f64 {
    let mut h = h0;
    for _ in 0..n {
        h = block(h, w1, w2);
    }
    (&h * &h).mean()
}

#[differentiable(wrt(h0, w1, w2))]
fn deep_ckpt(h0: T64, w1: &T64, w2: &T64, n: usize) -> f64 {
    let mut h = h0;
    for _ in 0..n {
        h = block_ckpt(h, w1, w2);
    }
    (&h * &h).mean()
}

#[test]
fn tensor_loop_gradient_equals_plain_and_finite_differences() {
    let _turn = turn();
    let h0 = Tensor::rand_uniform(&[4, 3], -1.0, 1.0, 1);
    let w1 = Tensor::rand_uniform(&[3, 3], -1.0, 1.0, 2);
    let w2 = Tensor::rand_uniform(&[3, 3], -1.0, 1.0, 3);
    let n = 6;
    let (value, (dh, dw1, dw2)) = deep_ckpt_grad(h0.clone(), &w1, &w2, n);
    let (plain_value, (pdh, pdw1, pdw2)) = deep_grad(h0.clone(), &w1, &w2, n);
    assert_eq!(value, plain_value);
    assert_eq!(dh.to_vec(), pdh.to_vec());
    assert_eq!(dw1.to_vec(), pdw1.to_vec());
    assert_eq!(dw2.to_vec(), pdw2.to_vec());
    gradcheck(|h: &T64| deep(h.clone(), &w1, &w2, n), &h0, &dh, 1e-8, 1e-6).unwrap();
    gradcheck(|w: &T64| deep(h0.clone(), w, &w2, n), &w1, &dw1, 1e-8, 1e-6).unwrap();
    gradcheck(|w: &T64| deep(h0.clone(), &w1, w, n), &w2, &dw2, 1e-8, 1e-6).unwrap();
}

// ---- a method ----------------------------------------------------------------------------

#[derive(Differentiable, Clone)]
struct Cell {
    w: T64,
    b: f64,
}

impl Cell {
    #[differentiable(wrt(self, h), checkpoint)]
    fn apply(&self, h: T64) -> T64 {
        let z = h.matmul(&self.w) + self.b;
        &h + &z.tanh() * 0.5
    }

    #[differentiable(wrt(self, h))]
    fn apply_plain(&self, h: T64) -> T64 {
        let z = h.matmul(&self.w) + self.b;
        &h + &z.tanh() * 0.5
    }
}

#[differentiable(wrt(cell, h0))]
fn unroll(cell: &Cell, h0: T64, n: usize) -> f64 {
    let mut h = h0;
    for _ in 0..n {
        h = cell.apply(h);
    }
    h.sum()
}

#[differentiable(wrt(cell, h0))]
fn unroll_plain(cell: &Cell, h0: T64, n: usize) -> f64 {
    let mut h = h0;
    for _ in 0..n {
        h = cell.apply_plain(h);
    }
    h.sum()
}

#[test]
fn method_gradient_equals_plain_and_finite_differences() {
    let _turn = turn();
    let cell = Cell {
        w: Tensor::rand_uniform(&[3, 3], -1.0, 1.0, 4),
        b: 0.2,
    };
    let h0 = Tensor::rand_uniform(&[2, 3], -1.0, 1.0, 5);
    let n = 5;
    let (value, (dcell, dh)) = unroll_grad(&cell, h0.clone(), n);
    let (plain_value, (pcell, pdh)) = unroll_plain_grad(&cell, h0.clone(), n);
    assert_eq!(value, plain_value);
    assert_eq!((dcell.w.to_vec(), dcell.b), (pcell.w.to_vec(), pcell.b));
    assert_eq!(dh.to_vec(), pdh.to_vec());
    gradcheck(
        |c: &Cell| unroll(c, h0.clone(), n),
        &cell,
        &dcell,
        1e-8,
        1e-6,
    )
    .unwrap();
    gradcheck(|h: &T64| unroll(&cell, h.clone(), n), &h0, &dh, 1e-8, 1e-6).unwrap();
    // The method's own pullback gives what the plain one gives.
    let seed = Tensor::rand_uniform(&[2, 3], -1.0, 1.0, 6);
    let (value, pullback) = cell.apply_vjp(h0.clone());
    let (plain_value, plain_pullback) = cell.apply_plain_vjp(h0.clone());
    assert_eq!(value.to_vec(), plain_value.to_vec());
    let ((dc, dh), (pc, pdh)) = (pullback(seed.clone()), plain_pullback(seed));
    assert_eq!(
        (dc.w.to_vec(), dc.b, dh.to_vec()),
        (pc.w.to_vec(), pc.b, pdh.to_vec())
    );
}

// ---- a method taking `self` by value ------------------------------------------------------

/// A layer consumed by its own step: checkpointed, the value comes from the method called on
/// clones, and the pullback keeps `self` itself.
#[derive(Differentiable, Clone)]
struct Gate {
    w: T64,
    gain: f64,
}

impl Gate {
    #[differentiable(wrt(self, h), checkpoint)]
    fn step(self, h: T64) -> T64 {
        let z = h.matmul(&self.w) * self.gain;
        if self.gain > 0.0 {
            return z.tanh() + &h;
        }
        z.sigmoid()
    }

    #[differentiable(wrt(self, h))]
    fn step_plain(self, h: T64) -> T64 {
        let z = h.matmul(&self.w) * self.gain;
        if self.gain > 0.0 {
            return z.tanh() + &h;
        }
        z.sigmoid()
    }
}

#[test]
fn by_value_method_gradient_equals_plain_and_finite_differences() {
    let _turn = turn();
    let h = Tensor::rand_uniform(&[2, 3], -1.0, 1.0, 7);
    let seed = Tensor::rand_uniform(&[2, 3], -1.0, 1.0, 8);
    for gain in [0.7, -0.4] {
        let gate = Gate {
            w: Tensor::rand_uniform(&[3, 3], -1.0, 1.0, 9),
            gain,
        };
        let (value, pullback) = gate.clone().step_vjp(h.clone());
        let (plain_value, plain_pullback) = gate.clone().step_plain_vjp(h.clone());
        assert_eq!(value.to_vec(), plain_value.to_vec());
        let ((dg, dh), (pg, pdh)) = (pullback(seed.clone()), plain_pullback(seed.clone()));
        assert_eq!(
            (dg.w.to_vec(), dg.gain, dh.to_vec()),
            (pg.w.to_vec(), pg.gain, pdh.to_vec())
        );
        let loss = |g: &Gate| (g.clone().step(h.clone()) * &seed).sum();
        gradcheck(loss, &gate, &dg, 1e-8, 1e-6).unwrap();
    }
}

// ---- a callee with an early return and branches ------------------------------------------

plain_and_checkpointed! {
    /// Linear past 2 (an early return), else x·k through one of two branches.
    fn bent / bent_ckpt(x: f64, k: f64) -> f64 {
        if x > 2.0 {
            return 2.0 + (x - 2.0) * k * 0.1;
        }
        let y = x * k;
        if y < 0.0 { y * 0.5 } else { y.sin() + x }
    }
}

#[differentiable]
fn walk(x0: f64, k: f64) -> f64 {
    let mut x = x0;
    for i in 0..8 {
        x = bent(x + 0.3 * i as f64, k) - 0.2;
    }
    x
}

#[differentiable]
fn walk_ckpt(x0: f64, k: f64) -> f64 {
    let mut x = x0;
    for i in 0..8 {
        x = bent_ckpt(x + 0.3 * i as f64, k) - 0.2;
    }
    x
}

#[test]
fn early_return_and_branches_gradient_equals_plain_and_finite_differences() {
    let _turn = turn();
    // From -1, 0.5 and 2.5 the walk takes different paths through `bent`'s three exits.
    for (x0, k) in [(-1.0, 0.7), (0.5, 1.1), (2.5, -0.4), (0.5, -1.5)] {
        let (value, (dx, dk)) = walk_ckpt_grad(x0, k);
        assert_eq!((value, (dx, dk)), walk_grad(x0, k));
        assert_eq!(value, walk(x0, k));
        close(dx, fd(|x0| walk(x0, k), x0), 1e-6);
        close(dk, fd(|k| walk(x0, k), k), 1e-6);
    }
}

// ---- a generic callee --------------------------------------------------------------------

plain_and_checkpointed! {
    fn decay / decay_ckpt<T: Real>(x: T, k: T) -> T {
        x * (-k).exp() + x.sin() * k
    }
}

#[differentiable(wrt(x0, k))]
fn decays<T: Real>(x0: T, k: T, n: usize) -> T {
    let mut x = x0;
    for _ in 0..n {
        x = decay_ckpt(x, k);
    }
    x
}

#[differentiable(wrt(x0, k))]
fn decays_plain<T: Real>(x0: T, k: T, n: usize) -> T {
    let mut x = x0;
    for _ in 0..n {
        x = decay(x, k);
    }
    x
}

#[test]
fn generic_callee_gradient_equals_plain_in_f32_and_f64() {
    let _turn = turn();
    assert_eq!(
        decays_grad(0.9f64, 0.3, 7),
        decays_plain_grad(0.9f64, 0.3, 7)
    );
    assert_eq!(
        decays_grad(0.9f32, 0.3, 7),
        decays_plain_grad(0.9f32, 0.3, 7)
    );
    let (_, (dx, dk)) = decays_grad(0.9f64, 0.3, 7);
    close(dx, fd(|x| decays(x, 0.3, 7), 0.9), 1e-6);
    close(dk, fd(|k| decays(0.9, k, 7), 0.3), 1e-6);
}

// ---- peak heap ---------------------------------------------------------------------------

/// The peak heap of `deep`'s and of `deep_ckpt`'s gradient over `n` blocks, and the size of
/// the state (`rows × 32` f64s) in bytes.
fn peaks(rows: usize, n: usize) -> (usize, usize, usize) {
    let h0 = Tensor::rand_uniform(&[rows, 32], -1.0, 1.0, 7);
    let w1 = Tensor::rand_uniform(&[32, 32], -0.3, 0.3, 8);
    let w2 = Tensor::rand_uniform(&[32, 32], -0.3, 0.3, 9);
    let h = h0.clone();
    let plain = alloc::peak_of(|| deep_grad(h, &w1, &w2, n));
    let ckpt = alloc::peak_of(|| deep_ckpt_grad(h0, &w1, &w2, n));
    (plain, ckpt, rows * 32 * 8)
}

#[test]
fn checkpointed_loop_keeps_inputs_not_intermediates() {
    let _turn = turn();
    // Once before measuring, so that nothing allocated lazily on a first call counts.
    peaks(8, 1);
    let (plain_16, ckpt_16, state) = peaks(512, 16);
    let (plain_32, ckpt_32, _) = peaks(512, 32);
    // What 16 more blocks add to the peak, in states: the plain caller keeps each block's
    // pullback with the block's intermediates (h, the three tanh outputs and what their
    // matmuls need); the checkpointed one keeps each block's input h and nothing else.
    let per_block = |a: usize, b: usize| (b - a) as f64 / 16.0 / state as f64;
    let (plain_slope, ckpt_slope) = (per_block(plain_16, plain_32), per_block(ckpt_16, ckpt_32));
    println!("peak heap of the gradient over n blocks, state {state} bytes:");
    println!("  n = 16: plain {plain_16} bytes, checkpointed {ckpt_16} bytes");
    println!("  n = 32: plain {plain_32} bytes, checkpointed {ckpt_32} bytes");
    println!("  each block adds: plain {plain_slope:.2} states, checkpointed {ckpt_slope:.2}");
    assert!(
        ckpt_slope <= 1.25,
        "each checkpointed block adds {ckpt_slope:.2} states to the peak, not its one input"
    );
    assert!(
        3 * ckpt_32 < plain_32,
        "checkpointed peak {ckpt_32} bytes is not well below the plain {plain_32}"
    );
}

// ---- other parameter forms: arrays and Vecs by value, tensors by reference ---------------

plain_and_checkpointed! {
    /// One explicit Euler step of the Lorenz system, the state an array held by value.
    fn lorenz / lorenz_ckpt(s: [f64; 3], sigma: f64, dt: f64) -> [f64; 3] {
        let dx = sigma * (s[1] - s[0]);
        let dy = s[0] * (28.0 - s[2]) - s[1];
        let dz = s[0] * s[1] - 8.0 / 3.0 * s[2];
        [s[0] + dt * dx, s[1] + dt * dy, s[2] + dt * dz]
    }
}

#[differentiable(wrt(s0, sigma))]
fn lorenz_run(s0: [f64; 3], sigma: f64, n: usize) -> f64 {
    let mut s = s0;
    for _ in 0..n {
        s = lorenz(s, sigma, 0.01);
    }
    s[0] + s[1] * s[2]
}

#[differentiable(wrt(s0, sigma))]
fn lorenz_run_ckpt(s0: [f64; 3], sigma: f64, n: usize) -> f64 {
    let mut s = s0;
    for _ in 0..n {
        s = lorenz_ckpt(s, sigma, 0.01);
    }
    s[0] + s[1] * s[2]
}

plain_and_checkpointed! {
    /// Smooths a Vec held by value; `idx` (not differentiated, also by value) picks the
    /// neighbours.
    fn smooth / smooth_ckpt(v: Vec<f64>, idx: Vec<usize>, a: f64) -> Vec<f64> {
        let mut out = Vec::new();
        for i in 0..v.len() {
            out.push(v[i] * (1.0 - a) + v[idx[i]] * a.sin());
        }
        out
    }
}

#[differentiable(wrt(v0, a))]
fn smooth_run(v0: Vec<f64>, a: f64) -> f64 {
    let idx = vec![1, 2, 0];
    let mut v = v0;
    for _ in 0..4 {
        v = smooth_ckpt(v, idx.clone(), a);
    }
    v[0] * v[1] + v[2]
}

#[differentiable(wrt(v0, a))]
fn smooth_run_plain(v0: Vec<f64>, a: f64) -> f64 {
    let idx = vec![1, 2, 0];
    let mut v = v0;
    for _ in 0..4 {
        v = smooth(v, idx.clone(), a);
    }
    v[0] * v[1] + v[2]
}

plain_and_checkpointed! {
    /// A callee taking its state by reference: the pullback borrows it.
    fn layer_ref / layer_ref_ckpt(h: &T64, w: &T64) -> T64 {
        let z = h.matmul(w).tanh();
        &z * &z + h
    }
}

#[differentiable(wrt(h0, w))]
fn by_ref_run(h0: &T64, w: &T64) -> f64 {
    let h1 = layer_ref_ckpt(h0, w);
    let h2 = layer_ref_ckpt(&h1, w);
    let h3 = layer_ref_ckpt(&h2, w);
    h3.sum()
}

#[differentiable(wrt(h0, w))]
fn by_ref_run_plain(h0: &T64, w: &T64) -> f64 {
    let h1 = layer_ref(h0, w);
    let h2 = layer_ref(&h1, w);
    let h3 = layer_ref(&h2, w);
    h3.sum()
}

#[test]
fn arrays_vecs_and_references_give_the_plain_gradients() {
    let _turn = turn();
    let (s0, sigma) = ([1.0, 1.5, 20.0], 10.0);
    let (value, (ds, dsigma)) = lorenz_run_ckpt_grad(s0, sigma, 40);
    assert_eq!((value, (ds, dsigma)), lorenz_run_grad(s0, sigma, 40));
    for i in 0..3 {
        let shifted = |x: f64| {
            let mut s = s0;
            s[i] = x;
            lorenz_run(s, sigma, 40)
        };
        close(ds[i], fd(shifted, s0[i]), 1e-6);
    }
    close(dsigma, fd(|k| lorenz_run(s0, k, 40), sigma), 1e-6);

    let v0 = vec![0.3, -0.7, 1.1];
    let (value, (dv, da)) = smooth_run_grad(v0.clone(), 0.4);
    assert_eq!(
        (value, (dv.clone(), da)),
        smooth_run_plain_grad(v0.clone(), 0.4)
    );
    close(da, fd(|a| smooth_run(v0.clone(), a), 0.4), 1e-6);
    let fd_v = common::fd_slice(|v| smooth_run(v.to_vec(), 0.4), &v0);
    common::close_all(&dv, &fd_v, 1e-6);

    let h0 = Tensor::rand_uniform(&[3, 4], -1.0, 1.0, 10);
    let w = Tensor::rand_uniform(&[4, 4], -0.5, 0.5, 11);
    let (value, (dh, dw)) = by_ref_run_grad(&h0, &w);
    let (plain_value, (pdh, pdw)) = by_ref_run_plain_grad(&h0, &w);
    assert_eq!(value, plain_value);
    assert_eq!((dh.to_vec(), dw.to_vec()), (pdh.to_vec(), pdw.to_vec()));
    gradcheck(|h: &T64| by_ref_run(h, &w), &h0, &dh, 1e-8, 1e-6).unwrap();
    gradcheck(|w: &T64| by_ref_run(&h0, w), &w, &dw, 1e-8, 1e-6).unwrap();
}

// ---- a trait impl's method, and `checkpoint` beside `reverse` and `jacobian` --------------

trait Energy {
    fn energy(&self, x: f64) -> f64;
}

#[derive(Differentiable, Clone)]
struct Spring {
    k: f64,
}

#[differentiable]
impl Energy for Spring {
    #[differentiable(wrt(self, x), checkpoint)]
    fn energy(&self, x: f64) -> f64 {
        0.5 * self.k * x * x + (x * self.k).sin()
    }
}

#[differentiable(wrt(spring, x0))]
fn total_energy(spring: &Spring, x0: f64) -> f64 {
    let mut e = 0.0;
    let mut x = x0;
    for _ in 0..5 {
        e += spring.energy(x);
        x = x * 0.9 + 0.1;
    }
    e
}

#[differentiable(reverse, checkpoint)]
fn rotate(p: [f64; 2], t: f64) -> [f64; 2] {
    [
        p[0] * t.cos() - p[1] * t.sin(),
        p[0] * t.sin() + p[1] * t.cos(),
    ]
}

#[differentiable(wrt(p), checkpoint, jacobian)]
fn rotate_by(p: [f64; 2], t: f64) -> [f64; 2] {
    [
        p[0] * t.cos() - p[1] * t.sin(),
        p[0] * t.sin() + p[1] * t.cos(),
    ]
}

#[differentiable(wrt(p), reverse)]
fn spin(p: [f64; 2], t: f64) -> f64 {
    let q = rotate(p, t);
    let r = rotate(q, t);
    r[0] * r[1]
}

#[test]
fn trait_methods_and_other_arguments_combine_with_checkpoint() {
    let _turn = turn();
    let spring = Spring { k: 1.7 };
    let (_, (ds, dx)) = total_energy_grad(&spring, 0.4);
    close(ds.k, fd(|k| total_energy(&Spring { k }, 0.4), 1.7), 1e-6);
    close(dx, fd(|x| total_energy(&spring, x), 0.4), 1e-6);
    // `reverse` with `checkpoint`: the caller's gradient through two rotations.
    let (_, dp) = spin_grad([0.3, 0.8], 0.6);
    for i in 0..2 {
        let shifted = |x: f64| {
            let mut p = [0.3, 0.8];
            p[i] = x;
            spin(p, 0.6)
        };
        close(dp[i], fd(shifted, [0.3, 0.8][i]), 1e-6);
    }
    // `jacobian` still works beside `checkpoint`: a rotation's Jacobian is its matrix.
    let (_, j) = rotate_by_jacobian([0.3, 0.8], 0.6);
    let (c, s) = (0.6f64.cos(), 0.6f64.sin());
    let want = [[c, -s], [s, c]];
    for (r, row) in want.iter().enumerate() {
        for (k, w) in row.iter().enumerate() {
            close(j[(r, k)], *w, 1e-15);
        }
    }
}

// ---- a function that calls itself --------------------------------------------------------

/// x^n by recursion, with a sine at each level so that every level's values matter.
#[differentiable(wrt(x))]
fn power(x: f64, n: u32) -> f64 {
    if n == 0 {
        1.0
    } else {
        x * power(x, n - 1) + 0.1 * x.sin()
    }
}

/// The same, checkpointed: the rerun goes through the boxed `_vjp` helper that the
/// recursive calls call (only the outermost call is checkpointed).
#[differentiable(wrt(x), checkpoint)]
fn power_ckpt(x: f64, n: u32) -> f64 {
    if n == 0 {
        1.0
    } else {
        x * power_ckpt(x, n - 1) + 0.1 * x.sin()
    }
}

#[differentiable(wrt(x0))]
fn powers(x0: f64) -> f64 {
    let mut x = x0;
    for _ in 0..3 {
        x = power(x, 3) * 0.5;
    }
    x
}

#[differentiable(wrt(x0))]
fn powers_ckpt(x0: f64) -> f64 {
    let mut x = x0;
    for _ in 0..3 {
        x = power_ckpt(x, 3) * 0.5;
    }
    x
}

#[test]
fn recursive_callee_gradient_equals_plain_and_finite_differences() {
    let _turn = turn();
    assert_eq!(power_ckpt_grad(0.9, 4), power_grad(0.9, 4));
    let (value, dx) = powers_ckpt_grad(0.9);
    assert_eq!((value, dx), powers_grad(0.9));
    close(dx, fd(powers, 0.9), 1e-6);
}

#[derive(Differentiable, Clone)]
struct Discount {
    k: f64,
}

impl Discount {
    /// sum_{j ≥ i} x[j]·k·0.5^(j-i), by recursion through `self`, over a borrowed slice.
    #[differentiable(wrt(self, x), checkpoint)]
    fn from(&self, x: &[f64], i: usize) -> f64 {
        if i == x.len() {
            0.0
        } else {
            x[i] * self.k + 0.5 * self.from(x, i + 1)
        }
    }
}

#[differentiable(wrt(d, x))]
fn discounted(d: &Discount, x: &[f64]) -> f64 {
    d.from(x, 0) * d.from(x, 1).sin()
}

#[test]
fn recursive_method_gradient_equals_finite_differences() {
    let _turn = turn();
    let (d, x) = (Discount { k: 0.7 }, [0.4, -1.2, 0.9, 2.0]);
    let (_, (dd, dx)) = discounted_grad(&d, &x);
    close(dd.k, fd(|k| discounted(&Discount { k }, &x), 0.7), 1e-6);
    common::close_all(&dx, &common::fd_slice(|x| discounted(&d, x), &x), 1e-6);
}
