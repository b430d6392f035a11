// `checkpoint` on a function whose result is not differentiable (an integer): there is
// no pullback to checkpoint. The error is the usual one, spanned on the result type, and
// `checkpoint` adds nothing to it.
use grad::differentiable;

#[differentiable(checkpoint)]
fn count_positive(x: f64, y: f64) -> usize {
    usize::from(x > 0.0) + usize::from(y > 0.0)
}

fn main() {
    let _ = count_positive(1.0, -1.0);
}
