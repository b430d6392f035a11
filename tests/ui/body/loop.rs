// `loop` is rejected on the keyword, suggesting `while` or `for`.
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
