// A write into a parameter that is a reference (here `x: &[f64]`) is rejected on the place,
// suggesting to copy the slice into a local and write that.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    x[0] = x[1] * 2.0;
    x[0] + x[1]
}

fn main() {}
