// `for` over anything but an integer range (here `x.iter()`) is rejected on the
// iterator expression, suggesting to index inside a range loop.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x.iter() {
        s += *v;
    }
    s
}

fn main() {}
