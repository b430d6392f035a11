// `break` and `return` inside a checkpointed loop: its reverse pass replays a fixed number of
// steps, so each exit is spanned and rejected (a `continue` is fine).
use grad::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, n: usize) -> f64 {
    let mut y = x;
    for i in grad::checkpoint(0..n, 4) {
        if i == 3 {
            continue;
        }
        if y > 10.0 {
            break;
        }
        if y < -10.0 {
            return y;
        }
        y = y * x;
    }
    y
}

fn main() {
    let _ = f_grad(1.0, 3);
}
