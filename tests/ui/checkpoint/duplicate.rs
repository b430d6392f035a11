// `checkpoint` given twice: the second is spanned and named a duplicate.
use grad::differentiable;

#[differentiable(checkpoint, wrt(x), checkpoint)]
fn f(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {
    let _ = f_grad(1.0, 2.0);
}
