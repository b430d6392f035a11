// `jacobian` with respect to a value the macro cannot tell from a vector by its syntax (a
// struct deriving `Differentiable`): the runtime's `JacobianVector` trait says what a
// Jacobian takes, on the parameter's type (and, from inside the expansion, on the
// attribute).
use grad::{Differentiable, differentiable};

#[derive(Clone, Differentiable)]
struct Pt {
    x: f64,
    y: f64,
}

#[differentiable(jacobian)]
fn f(p: Pt) -> Vec<f64> {
    vec![p.x * p.y, p.x]
}

fn main() {}
