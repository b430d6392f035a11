// An iterator adaptor with no rewrite (`scan`) is named on the method, with the list of
// the supported ones.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    x.iter().scan(0.0, |acc, v| Some(*acc + v)).sum::<f64>()
}

fn main() {}
