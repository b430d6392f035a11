// A `Vec` method that changes a differentiated local with no rewrite (`insert`) is named,
// with the in-place forms that work.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.insert(0, x[1] * 2.0);
    v[0] + v[1]
}

fn main() {}
