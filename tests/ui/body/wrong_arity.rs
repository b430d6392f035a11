// A primitive called with the wrong number of arguments (`powf` without its exponent)
// is rejected on the method's name.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    x.powf() * 2.0
}

fn main() {}
