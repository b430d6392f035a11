// A `Vec` method that changes a differentiated local with no rewrite (`rotate_left`) is named,
// with the in-place forms that work.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.rotate_left(1);
    v[0] + v[1]
}

fn main() {}
