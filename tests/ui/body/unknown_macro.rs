// A macro other than the assert/print family (`vec!`) used as an expression is
// rejected on the macro's name.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let v = vec![x, x];
    v[0] * v[1]
}

fn main() {}
