// Calling a plain function `g` (no `g_vjp` beside it) on a differentiated value: rustc's
// "cannot find function `g_vjp`" must land on the user's `g` at the call.
use grad::differentiable;

fn g(x: f64) -> f64 {
    x.sin()
}

#[differentiable(reverse)]
fn f(x: f64) -> f64 {
    g(x) * 2.0
}

fn main() {}
