// `x[i] = ...` writes into a collection the adjoint cannot follow: rejected on the
// place `y[0]`, suggesting to build a new value or accumulate into a local.
use grad::differentiable;

#[differentiable]
fn f(x: [f64; 2]) -> f64 {
    let mut y = x;
    y[0] = x[1] * 2.0;
    y[0] + y[1]
}

fn main() {}
