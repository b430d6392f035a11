// `.clone()` of a differentiated value: `clone` is neither a primitive nor a
// non-differentiated method, so the macro calls `clone_vjp`, which does not exist.
// Recorded to show what the user sees today (see the report).
use grad::differentiable;

#[differentiable(reverse)]
fn f(x: f64) -> f64 {
    let y = x.clone();
    y * x
}

fn main() {}
