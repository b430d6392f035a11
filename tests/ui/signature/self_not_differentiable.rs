// `wrt(self)` on a type that does not implement `Differentiable`: the runtime's
// on_unimplemented message should be reported once, on `self` or the type.
use grad::differentiable;

struct Model {
    w: f64,
}

impl Model {
    #[differentiable(wrt(self))]
    fn loss(&self, x: f64) -> f64 {
        self.w * x
    }
}

fn main() {}
