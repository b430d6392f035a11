// `order = 2` on a function of a tensor: not supported yet, said on the parameter's type
// (with the forms that are); the first-order derivatives and a stub `f_hvp` are still
// written, so the call below reports nothing more.
use grad::{Tensor, differentiable};

#[differentiable(order = 2)]
fn f(x: &Tensor<f64>, y: f64) -> f64 {
    (x * y).sum()
}

fn main() {
    let x = Tensor::from([1.0, 2.0]);
    let _ = f_hvp(&x, 2.0, &x, 1.0);
}
