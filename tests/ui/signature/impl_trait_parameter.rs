// An `impl Trait` parameter is rejected on its type, suggesting a named generic
// parameter.
use grad::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, k: impl Into<f64>) -> f64 {
    x * k.into()
}

fn main() {}
