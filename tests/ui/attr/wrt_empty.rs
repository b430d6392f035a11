// `wrt()` naming nothing is rejected on `wrt`.
use grad::differentiable;

#[differentiable(wrt())]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
