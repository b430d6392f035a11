// `return` before the last statement is rejected on the `return` keyword, suggesting
// `if`/`else` as an expression.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    if x < 0.0 {
        return 0.0;
    }
    x * x
}

fn main() {}
