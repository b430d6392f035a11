// A `let` pattern other than names, `_` and tuples (here a tuple-struct pattern) is
// rejected on the pattern.
use grad::differentiable;

struct W(f64);

#[differentiable(wrt(x))]
fn f(x: f64, w: W) -> f64 {
    let W(k) = w;
    x * k
}

fn main() {}
