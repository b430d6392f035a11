// An iterator chain ending in something other than `sum`, `product` or `fold` (here
// `max_by`) is named on the method, suggesting `fold` for a maximum.
use grad::differentiable;

#[differentiable]
fn f(x: &[f64]) -> f64 {
    *x.iter().max_by(|a, b| a.total_cmp(b)).unwrap()
}

fn main() {}
