// A checkpointed function keeps its by-value parameters for the rerun, so their types must
// be `Clone`: the error lands on the parameter's type.
use grad::{Differentiable, differentiable};

#[derive(Differentiable)]
struct Pair {
    a: f64,
    b: f64,
}

#[differentiable(checkpoint)]
fn product(p: Pair) -> f64 {
    p.a * p.b
}

fn main() {
    let _ = product_grad(Pair { a: 1.0, b: 2.0 });
}
