// With both modes, a plain callee `g` misses `g_vjp` and `g_jvp`: one error for each,
// both on the user's `g`.
use grad::differentiable;

fn g(x: f64) -> f64 {
    x.sin()
}

#[differentiable]
fn f(x: f64) -> f64 {
    g(x) * 2.0
}

fn main() {}
