// An `unsafe` block in the body is rejected on the `unsafe` keyword.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y = unsafe { x * 2.0 };
    y * x
}

fn main() {}
