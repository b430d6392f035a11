// `while let` is rejected on its `let`, suggesting `while` with a boolean
// condition.
use grad::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, k: Option<usize>) -> f64 {
    let mut y = x;
    while let Some(_) = k {
        y = y * x;
    }
    y
}

fn main() {}
