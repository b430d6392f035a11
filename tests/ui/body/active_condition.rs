// An `if` condition that depends on a differentiated value other than through a
// comparison (a call `positive(x)`) is rejected on the condition, suggesting a comparison
// or `stop_gradient`.
use grad::differentiable;

fn positive(x: f64) -> bool {
    x > 0.0
}

#[differentiable]
fn f(x: f64) -> f64 {
    if positive(x) { x } else { -x }
}

fn main() {}
