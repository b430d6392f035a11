// A function whose result is an integer has no derivative. Recorded to show what the user
// sees today: the macro accepts it and the generated code fails to type-check.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> usize {
    x as usize
}

fn main() {}
