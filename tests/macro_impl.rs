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
