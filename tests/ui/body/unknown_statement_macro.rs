// A statement macro outside the assert/print family (`dbg!`) is rejected on its name,
// with the list of macros that may be used.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    dbg!(x);
    x * x
}

fn main() {}
