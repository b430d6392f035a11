// `wrt()` naming nothing is rejected on `wrt`, with an example of what to write
// instead.
use grad::differentiable;

#[differentiable(wrt())]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
