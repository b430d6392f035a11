// `checkpoint` with `forward`: `forward` writes no reverse pass, and `checkpoint` changes
// only the reverse pass (`_vjp`). The error is spanned on `checkpoint`.
use grad::differentiable;

#[differentiable(forward, checkpoint)]
fn f(x: f64) -> f64 {
    x.sin() * x
}

fn main() {
    let _ = f_jvp(1.0, 1.0);
}
