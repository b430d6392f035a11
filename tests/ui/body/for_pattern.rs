// A `for` loop variable that is a pattern (a tuple) is rejected on the pattern. rustc
// also reports the type mismatch (the function is emitted as written).
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut y = x;
    for (i, _) in 0..3 {
        y = y * x;
    }
    y
}

fn main() {}
