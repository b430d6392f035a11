// The same argument twice (`wrt(x)`, then `wrt(y)`): the second one is the error,
// spanned on its keyword.
use grad::differentiable;

#[differentiable(wrt(x), wrt(y))]
fn f(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {}
