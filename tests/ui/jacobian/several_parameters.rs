// `jacobian` with two differentiated parameters: a Jacobian has one input vector. The
// error is spanned on `jacobian` and names the parameters; `_vjp` and `_jvp` are still
// written (as stubs), so the call of `f_vjp` below reports nothing more.
use grad::differentiable;

#[differentiable(jacobian)]
fn f(x: &[f64], y: &[f64]) -> Vec<f64> {
    vec![x[0] * y[0], x[1] + y[1]]
}

fn main() {
    let _ = f_vjp(&[1.0, 2.0], &[3.0, 4.0]);
}
