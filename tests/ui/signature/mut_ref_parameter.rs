// A `&mut` parameter is a write the adjoint cannot see: rejected on the parameter's
// type, with the advice to return the result instead.
use grad::differentiable;

#[differentiable]
fn f(x: f64, out: &mut f64) -> f64 {
    x * *out
}

fn main() {}
