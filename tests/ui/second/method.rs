// `order = 2` on a method: not supported yet, spanned on the receiver.
use grad::differentiable;

struct P;

impl P {
    #[differentiable(order = 2, wrt(x))]
    fn f(&self, x: f64) -> f64 {
        x * x
    }
}

fn main() {}
