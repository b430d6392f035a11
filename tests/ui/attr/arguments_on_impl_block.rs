// Arguments on the attribute of an `impl` block: they belong on the methods, each of which
// says its own `wrt(...)`. The error is spanned on the arguments; the marked method is still
// expanded, so a call of its `_grad` reports nothing more.
use grad::{Differentiable, differentiable};

#[derive(Differentiable, Clone)]
struct Line {
    w: f64,
}

#[differentiable(wrt(self))]
impl Line {
    #[differentiable]
    fn loss(&self, x: f64) -> f64 {
        self.w * x
    }
}

fn main() {
    let _ = Line { w: 1.0 }.loss_grad(2.0);
}
