// A function with no result has nothing to differentiate: the error names the
// function and suggests a return type.
use grad::differentiable;

#[differentiable]
fn f(x: f64) {
    let _y = x * x;
}

fn main() {}
