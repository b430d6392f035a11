// `const fn` is rejected on the `const` keyword (the message does not say what to do
// instead; see the report).
use grad::differentiable;

#[differentiable]
const fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
