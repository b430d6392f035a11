//! The `#[differentiable]` attribute: reads a function and writes its adjoint and tangent code.

mod activity;
mod ast;
mod attr;
mod check;
mod ctxt;
mod derive;
mod desugar;
mod diag;
mod emit;
mod expand;
mod fallback;
mod forward;
mod impls;
mod ir;
mod lower;
mod names;
mod pairs;
mod prims;
mod recursion;
mod reverse;
mod site;
#[cfg(test)]
mod tests;
mod window;

use proc_macro::TokenStream;

/// Writes `f_grad`, `f_vjp` and `f_jvp` beside a function; on an `impl` block, beside each
/// method marked `#[differentiable(..)]` (for a trait impl, in an inherent `impl` of the
/// type). See the `grad` crate's docs.
#[proc_macro_attribute]
pub fn differentiable(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::differentiable_at(args.into(), item.into(), &site::attribute_in_trait_impl).into()
}

/// Derives `grad::Differentiable` for a struct, with a tangent struct `<Name>Tangent` that
/// has the same field names. `#[no_grad]` marks fields that get no gradient (their tangent
/// field is `()`).
#[proc_macro_derive(Differentiable, attributes(no_grad))]
pub fn derive_differentiable(input: TokenStream) -> TokenStream {
    derive::derive(input.into()).into()
}
