// A method taking `&mut self` is rejected on the receiver, suggesting `&self` or `self`
// (`wrt(x)` keeps `Model` out of it, so that this is the only error).
use grad::differentiable;

struct Model {
    w: f64,
}

impl Model {
    #[differentiable(wrt(x))]
    fn loss(&mut self, x: f64) -> f64 {
        self.w * x
    }
}

fn main() {}
