// `clamp` does not differentiate its bounds: a differentiated bound is rejected on the
// bound's expression, suggesting `stop_gradient`.
use grad::differentiable;

#[differentiable]
fn f(x: f64, lo: f64) -> f64 {
    x.clamp(lo, 1.0)
}

fn main() {}
