// A function whose result is an integer has no derivative: rejected on the return type,
// saying what a differentiable function returns.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> usize {
    x as usize
}

fn main() {}
