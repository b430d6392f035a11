// `collect` with no `Vec` to collect into (no turbofish, no `let` annotation) is named on
// the method, saying how to give the type.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    let v = x.iter().map(|v| v * 2.0).collect();
    takes(v)
}

fn takes(v: Vec<f64>) -> f64 {
    v[0]
}

fn main() {}
