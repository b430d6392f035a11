// A range used as a value (bound by `let`) is rejected on the range: ranges are allowed as
// a `for` loop's iterator and as the index of a sub-slice (`&x[1..]`).
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let r = 1..2;
    x[r.start] * x[0]
}

fn main() {}
