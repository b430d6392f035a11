// An early `return` inside an expression whose value is used (here a `let`'s value) is
// rejected on the `return`, suggesting to make the exit a statement of its own.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y = if x < 0.0 { return 0.0 } else { x * 2.0 };
    y * y
}

fn main() {}
