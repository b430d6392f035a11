// Passing a differentiated value `a` to `g`'s parameter `y`, which `g` does not
// differentiate (`wrt(x)`), is a compile error (a gradient must not be dropped): the
// runtime's `ActiveSlot` on_unimplemented message names the problem and the fixes.
use grad::differentiable;

#[differentiable(reverse, wrt(x))]
fn g(x: f64, y: f64) -> f64 {
    x * y
}

#[differentiable(reverse)]
fn f(a: f64) -> f64 {
    g(1.0, a)
}

fn main() {}
