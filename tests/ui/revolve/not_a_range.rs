// `grad::checkpoint` over something that is not written as a range (an iterator, a reversed
// range): the first argument is spanned, and the message says to loop over `lo..hi`.
use grad::differentiable;

#[differentiable(wrt(x))]
fn f(x: f64, n: usize) -> f64 {
    let mut y = x;
    for _ in grad::checkpoint((0..n).rev(), 4) {
        y = y * x;
    }
    y
}

#[differentiable(wrt(x))]
fn g(x: f64, v: &[f64]) -> f64 {
    let mut y = x;
    for a in grad::checkpoint(v.iter(), 4) {
        y = y * a;
    }
    y
}

fn main() {
    let _ = f_grad(1.0, 3);
    let _ = g_grad(1.0, &[1.0]);
}
