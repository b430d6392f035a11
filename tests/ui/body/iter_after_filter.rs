// A positional adaptor after `filter`, `take_while` or `skip_while` (here `enumerate` and
// `skip`) is rejected on the adaptor, naming the step before it and suggesting to put that
// step after the positional ones; so is a selection after `take_while`.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    x.iter().filter(|v| **v > 0.0).enumerate().map(|(i, v)| v * i as f64).sum::<f64>()
}

#[differentiable]
fn g(x: &[f64]) -> f64 {
    x.iter().take_while(|v| **v > 0.0).skip(1).sum::<f64>()
}

#[differentiable]
fn h(x: &[f64]) -> f64 {
    *x.iter().skip_while(|v| **v > 0.0).max_by(|a, b| a.total_cmp(b)).unwrap()
}

fn main() {}
