// A `&mut` borrow in the body is rejected on `mut`, suggesting values and shared
// references.
use grad::differentiable;

fn bump(v: &mut f64) {
    *v += 1.0;
}

#[differentiable]
fn f(x: f64) -> f64 {
    let mut y = x;
    bump(&mut y);
    y
}

fn main() {}
