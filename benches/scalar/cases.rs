//! The scalar cases S1..S8: each primal as a user writes it for `#[differentiable]`, its
//! hand-written reverse-mode gradient, and the fixed inputs the benches and tests use.
//!
//! S2..S5 carry `order = 2`, so that group `second` times their `_hvp` beside `_grad`.
//!
//! S1..S5 stay inside the index-loop subset of DESIGN.md §3 (`let`, `let mut`, `+=`, `for`
//! over integer ranges with indexing, `if`, primitive methods, calls of other
//! differentiable functions, paths to constants): no iterators, closures or macros. S3w,
//! S3z and S3m are S3 again through iterators and closures, and S6 is a `zip`/`map`/`sum`
//! chain, to show that the index loops the macro rewrites those into cost what S3's loop
//! costs. S7 writes local state in place (`next[i] = ..`, then `c = next`) in a loop of
//! steps. S8 integrates a small ODE for a million steps, its reverse pass keeping every
//! state (`0..n`) or at most 32 (`grad::checkpoint(0..n, 32)`). The hand-written gradients are free Rust, written as fast as a careful person
//! would write them.

use grad::differentiable;

// ---------------------------------------------------------------------------------------
// S1: a * 5, the quick start of DESIGN.md.

/// S1 primal: `a * 5`.
#[differentiable]
pub fn s1_scale(a: f64) -> f64 {
    a * 5.0
}

/// S1 value and gradient by hand: d(5a)/da = 5.
pub fn s1_scale_handwritten(a: f64) -> (f64, f64) {
    (a * 5.0, 5.0)
}

/// S1 input: a = 5 (value 25, gradient 5).
pub fn s1_input() -> f64 {
    5.0
}

// ---------------------------------------------------------------------------------------
// S2: Rosenbrock in two dimensions.

/// S2 primal: `(1 - x)^2 + 100 (y - x^2)^2`.
#[differentiable(order = 2)]
pub fn s2_rosenbrock(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x.powi(2)).powi(2)
}

/// S2 value and gradient `(df/dx, df/dy)` by hand.
pub fn s2_rosenbrock_handwritten(x: f64, y: f64) -> (f64, (f64, f64)) {
    let a = 1.0 - x;
    let b = y - x * x;
    // d/dx a^2 = -2a;  d/dx 100 b^2 = 200 b * (-2x);  d/dy 100 b^2 = 200 b
    let dx = -2.0 * a - 400.0 * x * b;
    let dy = 200.0 * b;
    (a * a + 100.0 * b * b, (dx, dy))
}

/// S2 input: the classic starting point (-1.2, 1.0).
pub fn s2_input() -> (f64, f64) {
    (-1.2, 1.0)
}

// ---------------------------------------------------------------------------------------
// S3: Rosenbrock over a slice, sum over i < n-1 of (1 - x_i)^2 + 100 (x_{i+1} - x_i^2)^2.

/// S3 primal. Written over `1..n` so that `n = 0` needs no special case.
#[differentiable(order = 2)]
pub fn s3_rosenbrock(x: &[f64]) -> f64 {
    let n = x.len();
    let mut sum = 0.0;
    for i in 1..n {
        sum += (1.0 - x[i - 1]).powi(2) + 100.0 * (x[i] - x[i - 1].powi(2)).powi(2);
    }
    sum
}

/// S3 value and gradient by hand: one fused pass. Term i touches x_i and x_{i+1}; the
/// part for x_{i+1} is carried in a register to the next iteration, so each gradient
/// entry is written exactly once and no zero fill is needed beyond the allocation.
pub fn s3_rosenbrock_handwritten(x: &[f64]) -> (f64, Vec<f64>) {
    let mut grad = vec![0.0; x.len()];
    let mut value = 0.0;
    // d(term i)/dx_{i+1}, waiting to be added to grad[i + 1].
    let mut carry = 0.0;
    for (pair, g) in x.windows(2).zip(grad.iter_mut()) {
        let (xi, xn) = (pair[0], pair[1]);
        let a = 1.0 - xi;
        let b = xn - xi * xi;
        value += a * a + 100.0 * b * b;
        // d/dx_i = -2a + 200 b (-2 x_i);  d/dx_{i+1} = 200 b
        *g = carry - 2.0 * a - 400.0 * xi * b;
        carry = 200.0 * b;
    }
    if let Some(last) = grad.last_mut() {
        *last = carry;
    }
    (value, grad)
}

/// S3 input: n = 1000, x_i = 0.5 + 0.001 i.
pub fn s3_input() -> Vec<f64> {
    (0..1000).map(|i| 0.5 + 0.001 * i as f64).collect()
}

// ---------------------------------------------------------------------------------------
// S3w, S3z, S3m: S3 through iterators. Each adds the same terms in the same order as
// `s3_rosenbrock`, so the values agree to the bit, and S3's hand-written gradient and
// tape are their baselines.

/// S3w primal: S3 over `windows(2)`.
#[differentiable]
pub fn s3w_rosenbrock_windows(x: &[f64]) -> f64 {
    let mut sum = 0.0;
    for w in x.windows(2) {
        let (a, b) = (w[0], w[1]);
        sum += (1.0 - a).powi(2) + 100.0 * (b - a.powi(2)).powi(2);
    }
    sum
}

/// S3z primal: S3 over each element zipped with its successor.
#[differentiable]
pub fn s3z_rosenbrock_zip(x: &[f64]) -> f64 {
    let mut sum = 0.0;
    for (a, b) in x.iter().zip(x.iter().skip(1)) {
        sum += (1.0 - a).powi(2) + 100.0 * (b - a.powi(2)).powi(2);
    }
    sum
}

/// S3m primal: S3 as one `windows(2)`, `map`, `sum` chain.
#[differentiable]
pub fn s3m_rosenbrock_chain(x: &[f64]) -> f64 {
    x.windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            (1.0 - a).powi(2) + 100.0 * (b - a.powi(2)).powi(2)
        })
        .sum::<f64>()
}

// ---------------------------------------------------------------------------------------
// S4: Black-Scholes call price, normal CDF through Abramowitz-Stegun 7.1.26.

/// erf by Abramowitz-Stegun 7.1.26 (absolute error below 1.5e-7), extended to x < 0 by
/// erf(-x) = -erf(x). At x = 0 the formula gives 1e-9, not 0: the odd extension has a
/// jump of 2e-9 there, far below the approximation's own error.
#[differentiable(order = 2)]
pub fn s4_erf(x: f64) -> f64 {
    let z = if x < 0.0 { -x } else { x };
    let t = 1.0 / (1.0 + 0.3275911 * z);
    let poly = t
        * (0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let e = 1.0 - poly * (-(z * z)).exp();
    if x < 0.0 { -e } else { e }
}

/// Standard normal CDF: N(x) = (1 + erf(x / sqrt 2)) / 2.
#[differentiable(order = 2)]
pub fn s4_norm_cdf(x: f64) -> f64 {
    0.5 * (1.0 + s4_erf(x * std::f64::consts::FRAC_1_SQRT_2))
}

/// S4 primal: the Black-Scholes price of a European call, spot `s`, strike `k`, rate `r`,
/// volatility `sigma`, time to expiry `t`.
#[differentiable(order = 2)]
pub fn s4_black_scholes(s: f64, k: f64, r: f64, sigma: f64, t: f64) -> f64 {
    let vol = sigma * t.sqrt();
    let d1 = ((s / k).ln() + (r + 0.5 * sigma * sigma) * t) / vol;
    let d2 = d1 - vol;
    s * s4_norm_cdf(d1) - k * (-r * t).exp() * s4_norm_cdf(d2)
}

/// N(x) and dN/dx of the approximation above (not the exact normal density: the
/// gradient must be that of the function the primal computes).
fn norm_cdf_with_derivative(x: f64) -> (f64, f64) {
    const P: f64 = 0.3275911;
    const A: [f64; 5] = [
        0.254829592,
        -0.284496736,
        1.421413741,
        -1.453152027,
        1.061405429,
    ];
    let u = x * std::f64::consts::FRAC_1_SQRT_2;
    let z = u.abs();
    let t = 1.0 / (1.0 + P * z);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    // d poly / dt
    let dpoly = A[0] + t * (2.0 * A[1] + t * (3.0 * A[2] + t * (4.0 * A[3] + t * 5.0 * A[4])));
    let g = (-(z * z)).exp();
    let e = 1.0 - poly * g;
    // erf(z) = 1 - poly(t) g,  dt/dz = -P t^2,  dg/dz = -2 z g
    //   => d erf/dz = (dpoly P t^2 + 2 z poly) g; even in u, so d erf/du is the same.
    let de = (dpoly * P * t * t + 2.0 * z * poly) * g;
    let e = if u < 0.0 { -e } else { e };
    (0.5 * (1.0 + e), 0.5 * std::f64::consts::FRAC_1_SQRT_2 * de)
}

/// S4 value and gradient `(dC/ds, dC/dk, dC/dr, dC/dsigma, dC/dt)` by hand: the adjoint
/// of the primal, taken through the erf approximation (so `S N'(d1) - K e^{-rT} N'(d2)`
/// is not assumed to vanish, as it would for the exact normal CDF).
pub fn s4_black_scholes_handwritten(
    s: f64,
    k: f64,
    r: f64,
    sigma: f64,
    t: f64,
) -> (f64, (f64, f64, f64, f64, f64)) {
    let sqrt_t = t.sqrt();
    let vol = sigma * sqrt_t;
    let drift = r + 0.5 * sigma * sigma;
    let num = (s / k).ln() + drift * t;
    let d1 = num / vol;
    let d2 = d1 - vol;
    let disc = (-r * t).exp();
    let (n1, dn1) = norm_cdf_with_derivative(d1);
    let (n2, dn2) = norm_cdf_with_derivative(d2);
    let price = s * n1 - k * disc * n2;

    // Adjoints, from the price back: C = s N(d1) - k D N(d2), d2 = d1 - vol,
    // d1 = num / vol, num = ln s - ln k + drift t, D = exp(-r t), vol = sigma sqrt t.
    let bar_d2 = -k * disc * dn2;
    let bar_d1 = s * dn1 + bar_d2;
    let bar_disc = -k * n2;
    let bar_num = bar_d1 / vol;
    let bar_vol = -bar_d1 * d1 / vol - bar_d2;
    let ds = n1 + bar_num / s;
    let dk = -disc * n2 - bar_num / k;
    let dr = bar_num * t - bar_disc * t * disc;
    let dsigma = bar_num * sigma * t + bar_vol * sqrt_t;
    let dt = bar_num * drift + bar_vol * 0.5 * sigma / sqrt_t - bar_disc * r * disc;
    (price, (ds, dk, dr, dsigma, dt))
}

/// S4 input: S = 100, K = 105, r = 0.05, sigma = 0.2, T = 1.
pub fn s4_input() -> (f64, f64, f64, f64, f64) {
    (100.0, 105.0, 0.05, 0.2, 1.0)
}

// ---------------------------------------------------------------------------------------
// S5: planar 6-joint arm, squared distance of the end effector to a target.

/// Link lengths of the S5 arm.
pub const S5_LINKS: [f64; 6] = [1.0, 0.8, 0.6, 0.5, 0.4, 0.3];

/// S5 primal: joint k sits at the cumulative angle phi_k = theta_0 + ... + theta_k; the
/// loss is the squared distance of the end effector to the target (1.5, 1.2).
#[differentiable(order = 2)]
pub fn s5_arm(theta: &[f64; 6]) -> f64 {
    let mut phi = 0.0;
    let mut x = 0.0;
    let mut y = 0.0;
    for k in 0..6 {
        phi += theta[k];
        x += S5_LINKS[k] * phi.cos();
        y += S5_LINKS[k] * phi.sin();
    }
    (x - 1.5).powi(2) + (y - 1.2).powi(2)
}

/// S5 value and gradient with respect to theta by hand. With ex = x - 1.5, ey = y - 1.2:
/// dloss/dphi_k = 2 L_k (ey cos phi_k - ex sin phi_k), and theta_j moves every phi_k
/// with k >= j, so dloss/dtheta_j is the suffix sum of those.
pub fn s5_arm_handwritten(theta: &[f64; 6]) -> (f64, [f64; 6]) {
    let mut sin = [0.0; 6];
    let mut cos = [0.0; 6];
    let mut phi = 0.0;
    let (mut x, mut y) = (0.0, 0.0);
    for k in 0..6 {
        phi += theta[k];
        (sin[k], cos[k]) = phi.sin_cos();
        x += S5_LINKS[k] * cos[k];
        y += S5_LINKS[k] * sin[k];
    }
    let (ex, ey) = (x - 1.5, y - 1.2);
    let mut grad = [0.0; 6];
    let mut acc = 0.0;
    for k in (0..6).rev() {
        acc += 2.0 * S5_LINKS[k] * (ey * cos[k] - ex * sin[k]);
        grad[k] = acc;
    }
    (ex * ex + ey * ey, grad)
}

/// S5 input: theta = (0.1, 0.2, ..., 0.6).
pub fn s5_input() -> [f64; 6] {
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
}

// ---------------------------------------------------------------------------------------
// S6: squared error of a linear model, (w . x - y)^2, the dot product as a zip chain.

/// S6 primal: the squared error of the prediction `w . x` against the target `y`,
/// differentiated with respect to the weights `w` only.
#[differentiable(wrt(w))]
pub fn s6_dot_loss(w: &[f64], x: &[f64], y: f64) -> f64 {
    let dot = w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
    (dot - y).powi(2)
}

/// S6 value and gradient with respect to `w` by hand: d/dw_i (w . x - y)^2 = 2 r x_i with
/// r = w . x - y, and 0 for the w_i past the end of `x` (`zip` stops at the shorter). The
/// dot product adds in the primal's order (one accumulator, no reassociation), so the
/// values agree to the bit; the gradient is written once, with no zero fill.
pub fn s6_dot_loss_handwritten(w: &[f64], x: &[f64], y: f64) -> (f64, Vec<f64>) {
    let dot = w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
    let r = dot - y;
    let scale = 2.0 * r;
    let mut grad: Vec<f64> = x.iter().take(w.len()).map(|b| scale * b).collect();
    grad.resize(w.len(), 0.0);
    (r * r, grad)
}

/// S6 input: n = 1000, w_i = 0.5 - 0.001 i, x_i = 1 + 0.002 (i mod 7), y = 1.
pub fn s6_input() -> (Vec<f64>, Vec<f64>, f64) {
    let w = (0..1000).map(|i| 0.5 - 0.001 * i as f64).collect();
    let x = (0..1000).map(|i| 1.0 + 0.002 * (i % 7) as f64).collect();
    (w, x, 1.0)
}

// ---------------------------------------------------------------------------------------
// S7: an explicit 1-d heat equation, a new row of cells per step written element by element,
// loss sum_i (i + 1) c_i^2 of the final row, differentiated with respect to the first row.

/// S7 primal: `steps` explicit steps of the heat equation with diffusion number `k` over the
/// cells `u0` (at least one), the end cells held fixed; the loss weights each final cell's
/// square by its position.
#[differentiable(wrt(u0))]
pub fn s7_heat(u0: &[f64], k: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut c = u0.to_vec();
    for _ in 0..steps {
        let mut next = vec![0.0; n];
        next[0] = c[0];
        next[n - 1] = c[n - 1];
        for i in 1..n - 1 {
            next[i] = c[i] + k * (c[i - 1] - 2.0 * c[i] + c[i + 1]);
        }
        c = next;
    }
    let mut s = 0.0;
    for i in 0..n {
        s += (i as f64 + 1.0) * c[i] * c[i];
    }
    s
}

/// S7 value and gradient with respect to `u0` by hand. A step is linear in the cells,
/// `c' = A c`, so the reverse sweep is `lambda <- A^T lambda` from `lambda = dloss/dc_T =
/// 2 (i + 1) c_T`, and reads no state but the final one: two rows forward, two rows
/// backward (the forward pair reused), plus the gradient.
pub fn s7_heat_handwritten(u0: &[f64], k: f64, steps: usize) -> (f64, Vec<f64>) {
    let n = u0.len();
    let mut c = u0.to_vec();
    let mut next = vec![0.0; n];
    for _ in 0..steps {
        next[0] = c[0];
        next[n - 1] = c[n - 1];
        for i in 1..n - 1 {
            next[i] = c[i] + k * (c[i - 1] - 2.0 * c[i] + c[i + 1]);
        }
        std::mem::swap(&mut c, &mut next);
    }
    let mut value = 0.0;
    // d/dc_i (i + 1) c_i^2 = 2 (i + 1) c_i, written over the final row in place.
    for (i, ci) in c.iter_mut().enumerate() {
        let w = i as f64 + 1.0;
        value += w * *ci * *ci;
        *ci *= 2.0 * w;
    }
    let (mut lambda, mut prev) = (c, next);
    for _ in 0..steps {
        s7_heat_adjoint_step(&lambda, k, &mut prev);
        std::mem::swap(&mut lambda, &mut prev);
    }
    (value, lambda)
}

/// One step of the reverse sweep, `mu = A^T lambda`. Interior cell i sends `(1 - 2k)` of
/// itself and `k` of each neighbour forward; an end cell sends itself. So
/// `mu_j = lambda_j + k (l_{j-1} - 2 l_j + l_{j+1})` over interior j with `l` the interior
/// lambdas (zero at the ends), and `mu_0 = lambda_0 + k lambda_1`, `mu_{n-1} = lambda_{n-1}
/// + k lambda_{n-2}`.
fn s7_heat_adjoint_step(lambda: &[f64], k: f64, mu: &mut [f64]) {
    let n = lambda.len();
    if n < 3 {
        // No interior cell: every cell is held, A = I.
        mu.copy_from_slice(lambda);
        return;
    }
    mu[0] = lambda[0] + k * lambda[1];
    mu[n - 1] = lambda[n - 1] + k * lambda[n - 2];
    // Interior cells next to an end: the end's lambda is not an interior one.
    let right = if n > 3 { lambda[2] } else { 0.0 };
    mu[1] = lambda[1] + k * (right - 2.0 * lambda[1]);
    if n > 3 {
        mu[n - 2] = lambda[n - 2] + k * (lambda[n - 3] - 2.0 * lambda[n - 2]);
    }
    for j in 2..n - 2 {
        mu[j] = lambda[j] + k * (lambda[j - 1] - 2.0 * lambda[j] + lambda[j + 1]);
    }
}

/// S7 input: 1000 cells, u0_i = 1 + 0.5 sin(0.02 i), diffusion number k = 0.25 (stable
/// below 0.5), 100 steps.
pub fn s7_input() -> (Vec<f64>, f64, usize) {
    let u0 = (0..1000)
        .map(|i| 1.0 + 0.5 * (0.02 * i as f64).sin())
        .collect();
    (u0, 0.25, 100)
}

// ---------------------------------------------------------------------------------------
// S8: a damped oscillator x'' = -k x - c x' from (x, v) = (1, 0), n explicit Euler steps of
// size h = 10 / n; loss x_n + v_n / 2, differentiated with respect to k and c. Two scalars of
// loop-carried state, a million steps: what binomial checkpointing is for.

/// S8 primal, and the generated gradient that keeps every step's state.
#[differentiable(wrt(k, c))]
pub fn s8_oscillator(k: f64, c: f64, n: usize) -> f64 {
    let h = 10.0 / n as f64;
    let (mut x, mut v) = (1.0, 0.0);
    for _ in 0..n {
        let a = -k * x - c * v;
        x += h * v;
        v += h * a;
    }
    x + 0.5 * v
}

/// S8 with the loop's reverse pass checkpointed: at most 32 states kept (Revolve).
#[differentiable(wrt(k, c))]
pub fn s8_oscillator_checkpointed(k: f64, c: f64, n: usize) -> f64 {
    let h = 10.0 / n as f64;
    let (mut x, mut v) = (1.0, 0.0);
    for _ in grad::checkpoint(0..n, 32) {
        let a = -k * x - c * v;
        x += h * v;
        v += h * a;
    }
    x + 0.5 * v
}

/// S8 value and gradient by hand: the states (x_t, v_t) kept on the way forward, then the
/// adjoint of each step backwards. With la = h lv' (a feeds v' = v + h a only):
/// lx = lx' - k la, lv = lv' + h lx' - c la, dk -= x_t la, dc -= v_t la.
/// The assertion before each push is the fastest way known to write the forward loop: it
/// tells the optimizer the push never grows the vector, so `push`'s call to grow it (which,
/// though never taken, kept `x` and `v` in memory across it: a store and a reload on every
/// step's dependency chain) leaves the loop. Without it this gradient took 1.2× as long.
pub fn s8_oscillator_handwritten(k: f64, c: f64, n: usize) -> (f64, (f64, f64)) {
    let h = 10.0 / n as f64;
    let (mut x, mut v) = (1.0, 0.0);
    let mut states = Vec::with_capacity(n);
    for _ in 0..n {
        assert!(states.len() < states.capacity());
        states.push((x, v));
        let a = -k * x - c * v;
        x += h * v;
        v += h * a;
    }
    let value = x + 0.5 * v;
    let (mut lx, mut lv, mut dk, mut dc) = (1.0, 0.5, 0.0, 0.0);
    for &(x, v) in states.iter().rev() {
        let la = h * lv;
        (lx, lv) = (lx - k * la, lv + h * lx - c * la);
        dk -= x * la;
        dc -= v * la;
    }
    (value, (dk, dc))
}

/// S8 input: k = 2, c = 0.3, a million steps.
pub fn s8_input() -> (f64, f64, usize) {
    (2.0, 0.3, 1_000_000)
}
