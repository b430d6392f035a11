// `iter_mut()` of a temporary (not a local, field or element) is refused on the value, with
// what to do instead.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x.to_vec().iter_mut() {
        *v *= 2.0;
        s += *v;
    }
    s
}

fn main() {}
