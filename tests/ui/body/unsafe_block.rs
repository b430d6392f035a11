// An `unsafe` block in the body is rejected on the `unsafe` keyword. The "unnecessary
// `unsafe`" warning is rustc's, on the user's function as written.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y = unsafe { x * 2.0 };
    y * x
}

fn main() {}
