// `match` on a differentiated value (`x` itself) is rejected on the scrutinee,
// suggesting a non-differentiated scrutinee or `if` with comparisons.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    match x {
        0.0 => 1.0,
        _ => x * x,
    }
}

fn main() {}
