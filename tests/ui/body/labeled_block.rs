// A labeled block is rejected on its label. The "unused label" warning is rustc's,
// on the user's function, which is emitted as written.
use grad::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let y = 'outer: { x * 2.0 };
    y * x
}

fn main() {}
