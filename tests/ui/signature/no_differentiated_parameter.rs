// Every parameter has an integer type, and there is no `wrt(...)`: nothing to
// differentiate. The error is on the function's name.
use grad::differentiable;

#[differentiable]
fn f(n: usize) -> f64 {
    n as f64
}

fn main() {}
