// An iterator over differentiated values that the body keeps (here in a `let`) is rejected
// on the method that makes it: iterators are rewritten where they are consumed.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let squares = x.iter().map(|v| v * v);
    squares.sum::<f64>()
}

fn main() {}
