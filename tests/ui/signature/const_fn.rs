// `const fn` is rejected on the `const` keyword.
use grad::differentiable;

#[differentiable]
const fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
