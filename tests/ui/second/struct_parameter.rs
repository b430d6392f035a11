// `order = 2` on a function of a generic parameter struct: not supported yet (the derive
// writes no twin over duals for a struct with type parameters), said on the parameter's
// type with the forms that are; the first-order derivatives and a stub `f_hvp` are still
// written, so the call below reports nothing more.
use grad::{Differentiable, Real, differentiable};

#[derive(Clone, Differentiable)]
struct Spring<T: Real> {
    k: T,
    rest: T,
}

#[differentiable(order = 2)]
fn energy(s: &Spring<f64>, x: f64) -> f64 {
    0.5 * s.k * (x - s.rest).powi(2)
}

fn main() {
    let s = Spring { k: 2.0, rest: 1.0 };
    let v = SpringTangent { k: 1.0, rest: 0.0 };
    let _ = energy_hvp(&s, 2.0, &v, 1.0);
}
