// `jacobian` on a function with a scalar result: its Jacobian is the gradient, which
// `f_grad` gives. The error is spanned on the result type and says so.
use grad::differentiable;

#[differentiable(jacobian)]
fn f(x: &[f64]) -> f64 {
    x[0] * x[1]
}

fn main() {
    let _ = f_grad(&[1.0, 2.0]);
}
