// A let chain (`if let .. && ..`) is rejected on its `let`, suggesting a whole `if let`
// with the rest nested, or `match`. (A whole `if let` is a `match`, and works.)
use grad::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, k: Option<usize>) -> f64 {
    if let Some(n) = k && n > 2 { x * n as f64 } else { x }
}

fn main() {}
