// A struct with a field whose type implements `Differentiable` by hand gets no twin over
// dual numbers (the derive cannot see inside the field's type): passing it to an
// `order = 2` function is rustc's error naming the type and saying what to do. The struct
// itself, and its first-order use, compile as before.
use grad::{Differentiable, Flat, FlatMut, differentiable};

#[derive(Clone)]
struct Meters(f64);

impl Differentiable for Meters {
    type Tangent = f64;
    fn zero_tangent(&self) -> f64 {
        0.0
    }
    fn move_along(&mut self, d: &f64) {
        self.0 += d;
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
        f(FlatMut::F64(core::slice::from_mut(&mut self.0)))
    }
    fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], Flat<'_>)) {
        f(name, &[], Flat::F64(core::slice::from_ref(&self.0)))
    }
}

#[derive(Clone, Differentiable)]
struct Rope {
    length: Meters,
    k: f64,
}

#[differentiable]
fn tension(r: &Rope, x: f64) -> f64 {
    r.k * x
}

#[differentiable(order = 2)]
fn energy(r: &Rope, x: f64) -> f64 {
    r.k * x * x
}

fn main() {
    let r = Rope { length: Meters(1.0), k: 2.0 };
    let _ = tension_grad(&r, 1.0);
    let _ = energy_grad(&r, 1.0);
}
