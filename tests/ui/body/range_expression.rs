// A range used as a value (here to slice) is rejected on the range: ranges are allowed
// only as a `for` loop's iterator.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let y = &x[1..];
    y[0] * x[0]
}

fn main() {}
