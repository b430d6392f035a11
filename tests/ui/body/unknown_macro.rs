// A macro other than `vec!` and the assert/print family (here `format!`) used as an
// expression is rejected on the macro's name.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let s = format!("{x}");
    x * s.len() as f64
}

fn main() {}
