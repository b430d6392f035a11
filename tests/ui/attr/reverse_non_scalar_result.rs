// `#[differentiable(reverse)]` on a function whose result is not a scalar float: no
// `_grad` can be seeded, and `reverse` is the thing to drop; spanned on the result type.
use grad::differentiable;

#[differentiable(reverse)]
fn f(x: f64) -> (f64, f64) {
    (x, x * x)
}

fn main() {}
