// `jacobian` on a function whose parameters are all data (integers): the existing "no
// parameter is differentiated" error, spanned on the function's name, is the one reported.
use grad::differentiable;

#[differentiable(jacobian)]
fn f(n: usize) -> Vec<f64> {
    vec![n as f64; 2]
}

fn main() {}
