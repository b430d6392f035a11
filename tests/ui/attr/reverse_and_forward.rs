// `reverse` and `forward` together ask for nothing coherent: the second one is the
// error, and the message says that leaving both out gives both modes.
use grad::differentiable;

#[differentiable(reverse, forward)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {}
