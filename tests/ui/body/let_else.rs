// `let ... else` is rejected on `else`, suggesting `match` on a non-differentiated
// value.
use grad::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, k: Option<usize>) -> f64 {
    let Some(n) = k else { panic!() };
    x * n as f64
}

fn main() {}
