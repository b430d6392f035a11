// The same argument twice (`wrt(x)`, then `wrt(y)`): the second is the error.
use grad::differentiable;

#[differentiable(wrt(x), wrt(y))]
fn f(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {}
