// `let y;` with the value given later is rejected on the `let`, suggesting to give the
// first value where the variable is declared.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y;
    y = x * x;
    y
}

fn main() {}
