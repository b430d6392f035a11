// `order = 3`: only first derivatives (`order = 1`) and Hessian-vector products
// (`order = 2`) are written; the error is spanned on the number.
use grad::differentiable;

#[differentiable(order = 3)]
fn f(x: f64) -> f64 {
    x * x * x
}

fn main() {}
