// `%` on a differentiated value has no derivative: rejected on the operator, saying
// such operators are for non-differentiated values only.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y = x % 2.0;
    y * x
}

fn main() {}
