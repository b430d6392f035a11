// A write through a reference (`*r = ...`) is rejected on the place written. rustc also
// reports the write through a `&` (the function is emitted as written).
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut y = x;
    let r = &y;
    *r = 2.0 * x;
    y
}

fn main() {}
