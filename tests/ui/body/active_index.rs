// An index that is a differentiated value (`i: f64` is differentiated by default) is
// rejected on the index expression, suggesting `stop_gradient`.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64], i: f64) -> f64 {
    x[i] * 2.0
}

fn main() {}
