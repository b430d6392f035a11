// `checkpoint` on a method that takes `self` by value: the pullback would have to keep
// `self` and rebind it to run the method again. The error is spanned on `self` and says
// to take `&self`.
use grad::{Differentiable, differentiable};

#[derive(Differentiable, Clone)]
struct Scale {
    k: f64,
}

impl Scale {
    #[differentiable(wrt(self, x), checkpoint)]
    fn apply(self, x: f64) -> f64 {
        self.k * x.sin()
    }
}

fn main() {
    let _ = Scale { k: 2.0 }.apply_vjp(1.0);
}
