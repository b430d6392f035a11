//! `#[differentiable]` on `impl` blocks (trait impls, whose derivatives go into an inherent
//! `impl` beside them, generic impls, inherent impls) and on functions that call themselves.

mod common;

use common::{close, close_all, fd, fd_slice};
use grad::{Differentiable, NoTangent, Real, differentiable};

// ---- a trait implemented with the attribute on the impl block ----

trait Model {
    /// Squared error of the model's prediction at `x` against `y`.
    fn loss(&self, x: f64, y: f64) -> f64;
    fn describe(&self) -> String;
}

#[derive(Differentiable, Clone, Debug)]
struct Line {
    w: f64,
    b: f64,
}

#[differentiable]
impl Model for Line {
    #[differentiable(wrt(self))]
    fn loss(&self, x: f64, y: f64) -> f64 {
        let r = self.w * x + self.b - y;
        r * r + 0.1 * self.w.sin()
    }

    fn describe(&self) -> String {
        format!("{} x + {}", self.w, self.b)
    }
}

#[test]
fn trait_method_keeps_its_place_and_gains_derivatives() {
    let m = Line { w: 0.7, b: -0.3 };
    let (x, y) = (1.5, 2.0);
    // Still the trait's method, callable through the trait.
    let dynm: &dyn Model = &m;
    close(dynm.loss(x, y), m.loss(x, y), 0.0);
    assert_eq!(dynm.describe(), "0.7 x + -0.3");

    let at = |w: f64, b: f64| Line { w, b }.loss(x, y);
    let dw = fd(|w| at(w, m.b), m.w);
    let db = fd(|b| at(m.w, b), m.b);

    let (v, g) = m.loss_grad(x, y);
    close(v, m.loss(x, y), 1e-15);
    close_all(&[g.w, g.b], &[dw, db], 1e-6);

    let (v, pb) = m.loss_vjp(x, y);
    close(v, m.loss(x, y), 1e-15);
    let (gs, NoTangent, NoTangent) = pb(2.0);
    close_all(&[gs.w, gs.b], &[2.0 * dw, 2.0 * db], 1e-6);

    let t = LineTangent { w: 0.5, b: -2.0 };
    let (v, d) = m.loss_jvp(x, y, &t, NoTangent, NoTangent);
    close(v, m.loss(x, y), 1e-15);
    close(d, 0.5 * dw - 2.0 * db, 1e-6);
}

// ---- a generic trait impl: the inherent impl carries the generics and where-clause ----

trait Energy<T> {
    fn energy(&self, k: T) -> T;
}

#[derive(Differentiable, Clone, Debug)]
struct Spring<T> {
    x: T,
    v: T,
}

#[differentiable]
impl<T: Real> Energy<T> for Spring<T>
where
    T: Default,
{
    #[differentiable(wrt(self, k))]
    fn energy(&self, k: T) -> T {
        let half = T::from_f64(0.5);
        half * k * self.x * self.x + half * self.v * self.v
    }
}

#[test]
fn generic_trait_impl() {
    let s = Spring { x: 0.8f64, v: -1.5 };
    let k = 3.0;
    // E = k x²/2 + v²/2: ∂x = k x, ∂v = v, ∂k = x²/2
    let (e, (g, dk)) = s.energy_grad(k);
    close(e, s.energy(k), 1e-15);
    close_all(&[g.x, g.v, dk], &[k * 0.8, -1.5, 0.32], 1e-15);

    let (_, pb) = s.energy_vjp(k);
    let (g, dk) = pb(1.0);
    close_all(&[g.x, g.v, dk], &[k * 0.8, -1.5, 0.32], 1e-15);

    let t = SpringTangent { x: 1.0, v: 2.0 };
    let (_, d) = s.energy_jvp(k, &t, 0.5);
    close(d, k * 0.8 + 2.0 * -1.5 + 0.5 * 0.32, 1e-15);

    // f32 through the same impl.
    let s = Spring { x: 2.0f32, v: 1.0 };
    let (_, (g, dk)) = s.energy_grad(1.0);
    assert_eq!((g.x, g.v, dk), (2.0, 1.0, 2.0));
}

// ---- an inherent impl with the attribute on the block ----

#[differentiable]
impl Line {
    #[differentiable(wrt(self))]
    pub fn at(&self, x: f64) -> f64 {
        self.w * x + self.b
    }

    pub fn slope(&self) -> f64 {
        self.w
    }
}

#[test]
fn inherent_impl_block() {
    let m = Line { w: 2.0, b: 1.0 };
    assert_eq!(m.slope(), 2.0);
    // ∂(w x + b)/∂w = x, ∂/∂b = 1
    let (v, g) = m.at_grad(3.0);
    assert_eq!((v, g.w, g.b), (7.0, 3.0, 1.0));
    let (_, d) = m.at_jvp(3.0, &LineTangent { w: 1.0, b: 1.0 }, NoTangent);
    assert_eq!(d, 4.0);
}

// ---- functions that call themselves ----

/// x^n by recursion.
#[differentiable]
fn fact(x: f64, n: u32) -> f64 {
    if n == 0 { 1.0 } else { x * fact(x, n - 1) }
}

#[test]
fn direct_recursion() {
    let (x, n) = (1.3, 5);
    // fact(x, n) = x^n, so d/dx = n x^(n-1)
    let want = 5.0 * x.powi(4);
    let (v, g) = fact_grad(x, n);
    close(v, x.powi(5), 1e-14);
    close(g, want, 1e-14);
    let (v, pb) = fact_vjp(x, n);
    close(v, x.powi(5), 1e-14);
    let (dx, NoTangent) = pb(3.0);
    close(dx, 3.0 * want, 1e-14);
    let (v, d) = fact_jvp(x, n, 0.5, NoTangent);
    close(v, x.powi(5), 1e-14);
    close(d, 0.5 * want, 1e-14);
}

/// Horner's rule by recursion: `c[i] + x (c[i+1] + x (...))`, so `horner(c, x, 0) = Σ c[k] x^k`.
#[differentiable]
fn horner(c: &[f64], x: f64, i: usize) -> f64 {
    if i == c.len() {
        0.0
    } else {
        c[i] + x * horner(c, x, i + 1)
    }
}

#[test]
fn recursion_over_a_slice() {
    let c = [0.5, -1.0, 2.0, 0.25];
    let x = 0.8;
    // p = Σ c_k x^k: ∂p/∂c_k = x^k, ∂p/∂x = Σ k c_k x^(k-1)
    let p: f64 = (0..4).map(|k| c[k] * x.powi(k as i32)).sum();
    let dc: Vec<f64> = (0..4).map(|k| x.powi(k)).collect();
    let dx: f64 = (1..4).map(|k| k as f64 * c[k] * x.powi(k as i32 - 1)).sum();
    close_all(&dc, &fd_slice(|c| horner(c, x, 0), &c), 1e-6);

    let (v, (gc, gx)) = horner_grad(&c, x, 0);
    close(v, p, 1e-14);
    close_all(&gc, &dc, 1e-14);
    close(gx, dx, 1e-14);

    let (v, pb) = horner_vjp(&c, x, 0);
    close(v, p, 1e-14);
    let (gc, gx, NoTangent) = pb(-2.0);
    close_all(&gc, &dc.iter().map(|d| -2.0 * d).collect::<Vec<_>>(), 1e-14);
    close(gx, -2.0 * dx, 1e-14);

    let tc = [1.0, 0.0, -1.0, 2.0];
    let (v, d) = horner_jvp(&c, x, 0, &tc, 0.5, NoTangent);
    close(v, p, 1e-14);
    let want: f64 = (0..4).map(|k| tc[k] * dc[k]).sum::<f64>() + 0.5 * dx;
    close(d, want, 1e-14);
}

/// Σ a[k] b[k] for k ≥ i, by recursion over two slices (two borrowed arguments).
#[differentiable]
fn dot_from(a: &[f64], b: &[f64], i: usize) -> f64 {
    if i == a.len() {
        0.0
    } else {
        a[i] * b[i] + dot_from(a, b, i + 1)
    }
}

#[test]
fn recursion_with_two_borrowed_arguments() {
    let a = vec![1.0, 2.0, 3.0];
    let b = vec![-0.5, 4.0, 0.25];
    // ∂(a·b)/∂a = b, ∂/∂b = a
    let (v, (ga, gb)) = dot_from_grad(&a, &b, 0);
    close(v, -0.5 + 8.0 + 0.75, 1e-15);
    close_all(&ga, &b, 1e-15);
    close_all(&gb, &a, 1e-15);
    let (_, pb) = dot_from_vjp(&a, &b, 1);
    // Only k ≥ 1 contributes.
    let (ga, gb, NoTangent) = pb(1.0);
    close_all(&ga, &[0.0, 4.0, 0.25], 1e-15);
    close_all(&gb, &[0.0, 2.0, 3.0], 1e-15);
    let (_, d) = dot_from_jvp(&a, &b, 0, &[1.0, 1.0, 1.0], &[0.0, 0.0, 1.0], NoTangent);
    // Σ b_k + a_2
    close(d, -0.5 + 4.0 + 0.25 + 3.0, 1e-15);
}

/// x^n over any float.
#[differentiable]
fn gpow<T: Real>(x: T, n: u32) -> T {
    if n == 0 {
        T::from_f64(1.0)
    } else {
        x * gpow(x, n - 1)
    }
}

#[test]
fn generic_recursion() {
    // d/dx x^3 = 3 x²
    let (v, g) = gpow_grad(2.0f32, 3);
    assert_eq!((v, g), (8.0, 12.0));
    let (_, pb) = gpow_vjp(2.0f64, 3);
    assert_eq!(pb(1.0).0, 12.0);
    assert_eq!(gpow_jvp(2.0f64, 3, 1.0, NoTangent).1, 12.0);
}

// ---- recursion in methods: through `self.m(..)` and `Self::m(..)` ----

trait Decay {
    fn decay(&self, x: f64, n: u32) -> f64;
}

#[derive(Differentiable, Clone, Debug)]
struct Rate {
    r: f64,
}

#[differentiable]
impl Decay for Rate {
    /// d_0 = x, d_n = r d_(n-1) + x, so d_n = x Σ_(k≤n) r^k.
    #[differentiable(wrt(self, x))]
    fn decay(&self, x: f64, n: u32) -> f64 {
        if n == 0 {
            x
        } else {
            self.r * self.decay(x, n - 1) + x
        }
    }
}

#[differentiable]
impl Rate {
    /// r^n x, through `Self::`.
    #[differentiable(wrt(x))]
    fn scaled(r: f64, x: f64, n: u32) -> f64 {
        if n == 0 {
            x
        } else {
            r * Self::scaled(r, x, n - 1)
        }
    }
}

#[test]
fn recursive_methods() {
    let (m, x, n) = (Rate { r: 0.9 }, 1.5, 4);
    // ∂d_n/∂x = Σ r^k, ∂d_n/∂r = x Σ k r^(k-1)
    let dx: f64 = (0..=n).map(|k| m.r.powi(k)).sum();
    let dr: f64 = (1..=n).map(|k| x * k as f64 * m.r.powi(k - 1)).sum();
    close(dx, fd(|x| m.decay(x, n as u32), x), 1e-6);
    close(dr, fd(|r| Rate { r }.decay(x, n as u32), m.r), 1e-6);

    let (v, (g, gx)) = m.decay_grad(x, n as u32);
    close(v, x * dx, 1e-14);
    close_all(&[g.r, gx], &[dr, dx], 1e-14);
    let (_, pb) = m.decay_vjp(x, n as u32);
    let (g, gx, NoTangent) = pb(2.0);
    close_all(&[g.r, gx], &[2.0 * dr, 2.0 * dx], 1e-14);
    let (_, d) = m.decay_jvp(x, n as u32, &RateTangent { r: 1.0 }, 1.0, NoTangent);
    close(d, dr + dx, 1e-14);

    // ∂(r^n x)/∂x = r^n
    let (v, g) = Rate::scaled_grad(0.5, 3.0, 3);
    assert_eq!((v, g), (0.375, 0.125));
    let (_, pb) = Rate::scaled_vjp(0.5, 3.0, 3);
    assert_eq!(pb(1.0).1, 0.125);
    assert_eq!(
        Rate::scaled_jvp(0.5, 3.0, 3, NoTangent, 1.0, NoTangent).1,
        0.125
    );
}

/// Two recursive calls per level, from inside a loop (their pullbacks go on the loop's stack):
/// g(x, n) = x for n < 2, else x (g(x, n-1) + g(x, n-2)).
#[differentiable]
fn branching(x: f64, n: u32) -> f64 {
    if n < 2 {
        x
    } else {
        let mut s = 0.0;
        for k in 1..3u32 {
            s += x * branching(x, n - k);
        }
        s
    }
}

#[test]
fn recursion_from_a_loop() {
    // g2 = 2x², g3 = x (2x² + x) = 2x³ + x², g4 = x (g3 + g2) = 2x⁴ + 3x³,
    // so d g4/dx = 8x³ + 9x².
    let x = 1.1f64;
    close(branching(x, 4), 2.0 * x.powi(4) + 3.0 * x.powi(3), 1e-14);
    let want = 8.0 * x.powi(3) + 9.0 * x * x;
    close(branching_grad(x, 4).1, want, 1e-13);
    close(branching_vjp(x, 4).1(1.0).0, want, 1e-13);
    close(branching_jvp(x, 4, 1.0, NoTangent).1, want, 1e-13);
}
