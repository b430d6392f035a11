// A tuple pattern in parameter position: rejected on the pattern, with the advice to
// name the parameter and destructure it with `let`.
use grad::differentiable;

#[differentiable]
fn f((a, b): (f64, f64)) -> f64 {
    a * b
}

fn main() {}
