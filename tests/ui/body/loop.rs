// `loop` is rejected on the keyword, suggesting `while` or `for`. The "unreachable
// expression" warning is rustc's, on the user's function as written.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut y = x;
    loop {
        y = y * 0.5;
    }
    y
}

fn main() {}
