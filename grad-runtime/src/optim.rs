//! Optimizers that step any `Differentiable` value by its gradient (`Sgd`, `Adam`, `AdamW`),
//! gradient clipping by global norm, and loss scaling.
//!
//! ```
//! use grad::optim::Adam;
//!
//! // Minimize (p - 3)² from p = 0.
//! let mut p = [0.0f64];
//! let mut opt = Adam::new(0.1);
//! for _ in 0..500 {
//!     let g = [2.0 * (p[0] - 3.0)];
//!     opt.step(&mut p, &g);
//! }
//! assert!((p[0] - 3.0).abs() < 1e-3);
//! ```
//!
//! With the `serde` feature (on by default) every optimizer and [`LossScaler`] is
//! `Serialize` and `Deserialize`, hyperparameters and state (moments, step count) alike, so
//! a training run saved with its optimizer resumes exactly where it stopped.

use crate::differentiable::{Differentiable, FlatMut, Tangent, flatten};

/// Calls `f(index, param)` on every parameter component in visiting order.
fn for_each_param<P: Differentiable + ?Sized>(params: &mut P, mut f: impl FnMut(usize, &mut f64)) {
    let mut i = 0;
    params.visit_params_mut(&mut |flat| match flat {
        FlatMut::F32(s) => {
            for p in s {
                let mut v = f64::from(*p);
                f(i, &mut v);
                *p = v as f32;
                i += 1;
            }
        }
        FlatMut::F64(s) => {
            for p in s {
                f(i, p);
                i += 1;
            }
        }
    });
}

fn check_len(what: &str, grads: usize, state: &mut Vec<f64>) {
    if state.is_empty() {
        state.resize(grads, 0.0);
    }
    assert_eq!(
        state.len(),
        grads,
        "{what}: the gradient has {grads} components but the optimizer was stepping {} before",
        state.len()
    );
}

/// Stochastic gradient descent with optional momentum and (L2) weight decay:
/// `v = μ v + (g + λ p)`, `p -= lr v`.
///
/// It steps any [`Differentiable`] value by a gradient of its tangent type: a struct that
/// derives `Differentiable` by the `<Name>Tangent` its `_grad` method returns.
///
/// ```
/// use grad::optim::Sgd;
/// use grad::{Differentiable, differentiable};
///
/// #[derive(Differentiable, Clone)]
/// struct Line {
///     w: f64,
///     b: f64,
/// }
///
/// impl Line {
///     /// The squared error at one point.
///     #[differentiable(wrt(self))]
///     fn loss(&self, x: f64, y: f64) -> f64 {
///         let r = self.w * x + self.b - y;
///         r * r
///     }
/// }
///
/// let mut line = Line { w: 0.0, b: 0.0 };
/// // At (x, y) = (1, 2): r = -2, dL/dw = 2 r x = -4, dL/db = 2 r = -4.
/// let (loss, g) = line.loss_grad(1.0, 2.0);
/// assert_eq!((loss, g.w, g.b), (4.0, -4.0, -4.0));
/// let mut opt = Sgd::new(0.1);
/// opt.step(&mut line, &g); // p -= 0.1 g
/// assert_eq!((line.w, line.b), (0.4, 0.4));
/// ```
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Sgd {
    lr: f64,
    momentum: f64,
    weight_decay: f64,
    velocity: Vec<f64>,
}

impl Sgd {
    /// Plain gradient descent with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        Sgd {
            lr,
            momentum: 0.0,
            weight_decay: 0.0,
            velocity: Vec::new(),
        }
    }

    /// Heavy-ball momentum `μ` (0.9 is common): the velocity `v = μ v + g` is what steps.
    ///
    /// ```
    /// use grad::optim::Sgd;
    ///
    /// let mut opt = Sgd::new(0.1).momentum(0.9);
    /// let mut p = [1.0f64];
    /// opt.step(&mut p, &[2.0]); // v = 2, p = 1 - 0.1·2 = 0.8
    /// opt.step(&mut p, &[2.0]); // v = 0.9·2 + 2 = 3.8, p = 0.8 - 0.38 = 0.42
    /// assert!((p[0] - 0.42).abs() < 1e-15);
    /// ```
    pub fn momentum(mut self, mu: f64) -> Self {
        self.momentum = mu;
        self
    }

    /// L2 weight decay `λ`, added to the gradient.
    pub fn weight_decay(mut self, lambda: f64) -> Self {
        self.weight_decay = lambda;
        self
    }

    /// One step of `params` along `-grads` (with momentum, along `-v`).
    ///
    /// # Panics
    /// If `grads` has fewer components than `params`, or another number of components than
    /// at this optimizer's previous step (its state belongs to other parameters).
    pub fn step<P: Differentiable + ?Sized>(&mut self, params: &mut P, grads: &P::Tangent) {
        let g = flatten(grads);
        check_len("Sgd::step", g.len(), &mut self.velocity);
        let (lr, mu, wd) = (self.lr, self.momentum, self.weight_decay);
        let v = &mut self.velocity;
        for_each_param(params, |i, p| {
            let gi = g[i] + wd * *p;
            v[i] = mu * v[i] + gi;
            *p -= lr * v[i];
        });
    }
}

/// Adam (Kingma & Ba, 2015), with optional L2 weight decay added to the gradient:
/// `m = β₁ m + (1 - β₁) g`, `v = β₂ v + (1 - β₂) g²`, `p -= lr m̂ / (√v̂ + ε)` with the
/// bias-corrected `m̂ = m / (1 - β₁ᵗ)`, `v̂ = v / (1 - β₂ᵗ)`.
///
/// ```
/// use grad::optim::Adam;
///
/// let mut opt = Adam::new(0.01);
/// let mut p = [1.0f64, 1.0];
/// opt.step(&mut p, &[5.0, -0.001]);
/// // The first step is lr·g/(|g| + ε), about lr·sign(g), whatever g's size: m̂ = g, v̂ = g².
/// assert!((p[0] - 0.99).abs() < 1e-9);
/// assert!((p[1] - 1.01).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Adam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    /// Decoupled (AdamW) rather than L2 weight decay.
    decoupled: bool,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    /// Adam with learning rate `lr`, β = (0.9, 0.999), ε = 1e-8.
    pub fn new(lr: f64) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            m: Vec::new(),
            v: Vec::new(),
            t: 0,
        }
    }

    /// The moment decay rates β₁, β₂.
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }

    /// The denominator's ε.
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// L2 weight decay `λ`, added to the gradient (see [`AdamW`] for the decoupled form).
    pub fn weight_decay(mut self, lambda: f64) -> Self {
        self.weight_decay = lambda;
        self
    }

    /// One step of `params` along the Adam direction of `grads`.
    ///
    /// # Panics
    /// If `grads` has fewer components than `params`, or another number of components than
    /// at this optimizer's previous step (its state belongs to other parameters).
    pub fn step<P: Differentiable + ?Sized>(&mut self, params: &mut P, grads: &P::Tangent) {
        let g = flatten(grads);
        check_len("Adam::step", g.len(), &mut self.m);
        check_len("Adam::step", g.len(), &mut self.v);
        self.t = self.t.saturating_add(1);
        let (b1, b2, eps, lr, wd) = (self.beta1, self.beta2, self.eps, self.lr, self.weight_decay);
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        let decoupled = self.decoupled;
        let (m, v) = (&mut self.m, &mut self.v);
        for_each_param(params, |i, p| {
            let gi = if decoupled { g[i] } else { g[i] + wd * *p };
            m[i] = b1 * m[i] + (1.0 - b1) * gi;
            v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
            let update = (m[i] / c1) / ((v[i] / c2).sqrt() + eps);
            if decoupled {
                *p -= lr * wd * *p;
            }
            *p -= lr * update;
        });
    }
}

/// AdamW (Loshchilov & Hutter, 2019): Adam with weight decay applied to the parameters
/// directly, `p -= lr λ p`, rather than through the gradient. Default λ = 0.01.
///
/// ```
/// use grad::optim::{Adam, AdamW};
///
/// // With a zero gradient, AdamW still shrinks the parameter by lr·λ·p ...
/// let mut p = [1.0f64];
/// AdamW::new(0.1).weight_decay(0.01).step(&mut p, &[0.0]);
/// assert!((p[0] - 0.999).abs() < 1e-15);
/// // ... while Adam's L2 decay enters the gradient (g = λ p) and so takes a full Adam step.
/// let mut q = [1.0f64];
/// Adam::new(0.1).weight_decay(0.01).step(&mut q, &[0.0]);
/// assert!((q[0] - 0.9).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AdamW(Adam);

impl AdamW {
    /// AdamW with learning rate `lr`, β = (0.9, 0.999), ε = 1e-8, λ = 0.01.
    pub fn new(lr: f64) -> Self {
        let mut a = Adam::new(lr).weight_decay(0.01);
        a.decoupled = true;
        AdamW(a)
    }

    /// The moment decay rates β₁, β₂.
    pub fn betas(self, beta1: f64, beta2: f64) -> Self {
        AdamW(self.0.betas(beta1, beta2))
    }

    /// The denominator's ε.
    pub fn eps(self, eps: f64) -> Self {
        AdamW(self.0.eps(eps))
    }

    /// Decoupled weight decay `λ`.
    pub fn weight_decay(self, lambda: f64) -> Self {
        AdamW(self.0.weight_decay(lambda))
    }

    /// One step of `params`: the decay `p -= lr λ p`, then Adam's step along `grads`.
    ///
    /// # Panics
    /// If `grads` has fewer components than `params`, or another number of components than
    /// at this optimizer's previous step (its state belongs to other parameters).
    pub fn step<P: Differentiable + ?Sized>(&mut self, params: &mut P, grads: &P::Tangent) {
        self.0.step(params, grads);
    }
}

/// The global (Euclidean) norm of a gradient, over all its components.
///
/// ```
/// let g = (3.0f64, vec![4.0f32]);
/// assert_eq!(grad::optim::grad_norm(&g), 5.0);
/// ```
pub fn grad_norm<T: Tangent>(grads: &T) -> f64 {
    flatten(grads).iter().map(|g| g * g).sum::<f64>().sqrt()
}

/// Scales `grads` so that their global norm is at most `max_norm`; returns the norm before
/// clipping (as PyTorch's `clip_grad_norm_`). A non-finite norm leaves `grads` unchanged.
///
/// ```
/// use grad::optim::clip_grad_norm;
///
/// let mut g = vec![3.0f64, 4.0];
/// assert_eq!(clip_grad_norm(&mut g, 1.0), 5.0); // the norm before clipping
/// assert!((g[0] - 0.6).abs() < 1e-15 && (g[1] - 0.8).abs() < 1e-15);
/// ```
pub fn clip_grad_norm<T: Tangent>(grads: &mut T, max_norm: f64) -> f64 {
    let norm = grad_norm(grads);
    if norm.is_finite() && norm > max_norm {
        grads.scale(max_norm / norm);
    }
    norm
}

/// Gradients that overflowed under loss scaling: the step should be skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonFinite;

impl std::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the scaled gradient has a NaN or infinite component; skip this step")
    }
}

impl std::error::Error for NonFinite {}

/// Loss scaling for low-precision training: multiply the loss by `scale()` before
/// differentiating, then [`LossScaler::unscale`] the gradient, which divides it back to the
/// true gradient and reports non-finite values. A dynamic scaler halves the scale on
/// overflow and doubles it after `growth_interval` clean steps.
///
/// ```
/// use grad::differentiable;
/// use grad::optim::LossScaler;
///
/// #[differentiable]
/// fn loss(w: f32) -> f32 {
///     w * w
/// }
///
/// #[differentiable]
/// fn scaled(w: f32, scale: f32) -> f32 {
///     loss(w) * scale
/// }
///
/// let mut scaler = LossScaler::dynamic_with(1024.0, 2);
/// // d/dw (w² · 1024) at w = 3 is 6144; unscaled, the true 6.
/// let (_, (mut g, _)) = scaled_grad(3.0, scaler.scale() as f32);
/// assert_eq!(g, 6144.0);
/// scaler.unscale(&mut g).unwrap();
/// assert_eq!(g, 6.0);
/// // An overflowed gradient is reported (skip the step) and the scale halves.
/// let mut bad = f32::INFINITY;
/// assert!(scaler.unscale(&mut bad).is_err());
/// assert_eq!(scaler.scale(), 512.0);
/// ```
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LossScaler {
    scale: f64,
    dynamic: bool,
    growth_interval: u32,
    clean_steps: u32,
}

impl LossScaler {
    /// A fixed scale, never changed by [`LossScaler::unscale`].
    pub fn fixed(scale: f64) -> Self {
        LossScaler {
            scale,
            dynamic: false,
            growth_interval: 0,
            clean_steps: 0,
        }
    }

    /// A dynamic scale starting at `2^16`, growing after 2000 clean steps.
    pub fn dynamic() -> Self {
        LossScaler {
            scale: 65536.0,
            dynamic: true,
            growth_interval: 2000,
            clean_steps: 0,
        }
    }

    /// A dynamic scale starting at `initial`, doubled after every `growth_interval` clean
    /// steps in a row (at least 1).
    pub fn dynamic_with(initial: f64, growth_interval: u32) -> Self {
        LossScaler {
            scale: initial,
            dynamic: true,
            growth_interval: growth_interval.max(1),
            clean_steps: 0,
        }
    }

    /// The current scale.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// `loss * scale`, in the loss' own type.
    pub fn scale_loss<T: crate::Real>(&self, loss: T) -> T {
        loss * T::from_f64(self.scale)
    }

    /// Divides `grads` by the scale, giving the true gradient. Returns `Err(NonFinite)` if any
    /// component is NaN or infinite (the gradient is then left as it was, still scaled);
    /// a dynamic scaler also adjusts its scale.
    pub fn unscale<T: Tangent>(&mut self, grads: &mut T) -> Result<(), NonFinite> {
        let finite = flatten(grads).iter().all(|g| g.is_finite());
        if !finite {
            if self.dynamic {
                self.scale = (self.scale * 0.5).max(f64::MIN_POSITIVE);
                self.clean_steps = 0;
            }
            return Err(NonFinite);
        }
        grads.scale(1.0 / self.scale);
        if self.dynamic {
            self.clean_steps += 1;
            if self.clean_steps >= self.growth_interval {
                self.scale *= 2.0;
                self.clean_steps = 0;
            }
        }
        Ok(())
    }
}
