// An `order = 2` function calling one without `order = 2`: the caller's second-order code
// calls the callee's (`__g_order2_vjp`), which only `order = 2` writes; rustc reports it
// missing, spanned on the call's name.
use grad::differentiable;

#[differentiable]
fn g(x: f64) -> f64 {
    x.sin()
}

#[differentiable(order = 2)]
fn f(x: f64) -> f64 {
    g(x) * x
}

fn main() {}
