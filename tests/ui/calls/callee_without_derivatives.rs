// With both modes, a plain callee `g` misses `g_vjp` and `g_jvp`. rustc reports one of
// the two (here `g_jvp`, on the user's `g`), which is enough to point at the callee.
use grad::differentiable;

fn g(x: f64) -> f64 {
    x.sin()
}

#[differentiable]
fn f(x: f64) -> f64 {
    g(x) * 2.0
}

fn main() {}
