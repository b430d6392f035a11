// `wrt(n)` where `n: usize`: an integer has no derivative, so naming it is an error
// on `n` inside `wrt(...)`.
use grad::differentiable;

#[differentiable(wrt(x, n))]
fn f(x: f64, n: usize) -> f64 {
    x * n as f64
}

fn main() {}
