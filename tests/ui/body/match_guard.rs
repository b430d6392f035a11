// A `match` guard (on a non-differentiated scrutinee) is rejected on its `if`,
// suggesting to move the condition into the arm.
use grad::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, n: usize) -> f64 {
    match n {
        k if k > 2 => x * x,
        _ => x,
    }
}

fn main() {}
