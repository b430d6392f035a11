// A closure in the body is rejected on its `|...|` head, suggesting a separate
// #[differentiable] function.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let sq = |t: f64| t * t;
    sq(x)
}

fn main() {}
