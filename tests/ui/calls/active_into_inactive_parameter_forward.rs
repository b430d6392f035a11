// The same mistake as `active_into_inactive_parameter.rs` in forward mode: `g_jvp`'s
// slot for `y` is `NoTangent`, and `f_jvp` passes the tangent of `a` there.
use grad::differentiable;

#[differentiable(forward, wrt(x))]
fn g(x: f64, y: f64) -> f64 {
    x * y
}

#[differentiable(forward)]
fn f(a: f64) -> f64 {
    g(1.0, a)
}

fn main() {}
