// `if let` is rejected on its `let`, suggesting `match` on a non-differentiated
// value.
use grad::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, k: Option<usize>) -> f64 {
    if let Some(n) = k { x * n as f64 } else { x }
}

fn main() {}
