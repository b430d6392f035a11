// `collect` of an iterator chain is not supported yet: it is named on the method, with the
// reductions and the `for` loop as the way round.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().map(|v| v * 2.0).collect();
    v[0]
}

fn main() {}
