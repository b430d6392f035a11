// An argument the attribute does not know (`backward`) is rejected, spanned on that
// argument, with the list of arguments it does take.
use grad::differentiable;

#[differentiable(backward)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
