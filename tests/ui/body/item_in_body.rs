// An item (`fn`) inside the body is rejected on the whole item, suggesting to move it
// out of the function.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    fn half(t: f64) -> f64 {
        t / 2.0
    }
    x * x
}

fn main() {}
