// `break` and `continue` inside a supported `for` loop: each is reported on its own
// keyword, both in one build.
use grad::differentiable;

#[differentiable]
fn f(x: f64, n: usize) -> f64 {
    let mut y = x;
    for i in 0..n {
        if i == 2 {
            continue;
        }
        if i > 5 {
            break;
        }
        y = y * x;
    }
    y
}

fn main() {}
