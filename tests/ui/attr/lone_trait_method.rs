// The attribute on one method of a trait impl, not on the impl block: the derivatives would
// be methods of the trait impl, which a trait does not have. The macro finds the enclosing
// `impl .. for ..` in the source file, so the one error says to put `#[differentiable]` on
// the block, instead of rustc's "not a member of trait" for each derivative.
use grad::{Differentiable, differentiable};

trait Model {
    fn loss(&self, x: f64) -> f64;
}

#[derive(Differentiable, Clone)]
struct Line {
    w: f64,
}

impl Model for Line {
    #[differentiable(wrt(self))]
    fn loss(&self, x: f64) -> f64 {
        self.w * x
    }
}

fn main() {}
