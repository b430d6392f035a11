// A labeled block is rejected on its label.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y = 'outer: { x * 2.0 };
    y * x
}

fn main() {}
