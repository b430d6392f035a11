// An iterator chain ending in something with no rewrite (here `min_by_key`) is named on the
// method, suggesting `fold` for a maximum; the selections (`max_by`, `min_by`, `reduce`,
// `find`, `last`, `nth`) are rewritten only where their `Option` is taken apart at once (not
// kept in a variable), and not after a `filter`.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    x.iter().copied().min_by_key(|v| v.to_bits()).unwrap()
}

#[differentiable]
fn g(x: &[f64]) -> f64 {
    let m = x.iter().copied().max_by(|a, b| a.total_cmp(b));
    m.unwrap_or(0.0)
}

#[differentiable]
fn h(x: &[f64]) -> f64 {
    x.iter().copied().filter(|v| *v > 0.0).min_by(|a, b| a.total_cmp(b)).unwrap()
}

fn main() {}
