// A float method that exists but has no derivative rule (`to_degrees`) is rejected on
// the method's name.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    x.to_degrees() * 2.0
}

fn main() {}
