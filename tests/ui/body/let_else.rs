// `let ... else` of anything but an element read that may find nothing is rejected on
// `else`, naming the form that works and suggesting `match` on a non-differentiated value.
use grad::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, k: Option<usize>) -> f64 {
    let Some(n) = k else { panic!() };
    x * n as f64
}

fn main() {}
