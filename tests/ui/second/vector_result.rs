// `order = 2` on a function with a vector result: `f_hvp` is the Hessian of a scalar
// function, so the error is spanned on the result type.
use grad::differentiable;

#[differentiable(order = 2)]
fn f(x: f64) -> Vec<f64> {
    vec![x, x * x]
}

fn main() {}
