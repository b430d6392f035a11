//! `#[differentiable(checkpoint)]`: a `_vjp` whose pullback keeps only the function's
//! arguments and runs its forward sweep again when called, so that a caller's reverse pass
//! holds the inputs of each call instead of each call's intermediate values.
//!
//! ```text
//! fn f_vjp(x: Tensor<f64>, w: &Tensor<f64>) -> (Tensor<f64>, impl FnOnce(..) -> ..) {
//!     let value = { let x = x.clone(); (|| -> Tensor<f64> { /* f's body */ })() };
//!     (value, move |seed| {
//!         /* the ordinary _vjp's forward sweep, over the kept `x` and `w` */
//!         let (_, pullback) = /* its pullback */;
//!         pullback(seed)
//!     })
//! }
//! ```
//!
//! The value comes from the body as written (a closure, so that `return` returns from it),
//! with no intermediate kept. Parameters held by value are cloned once for it, since the
//! body may consume them and the pullback keeps the originals; references are kept as they
//! are. `_grad` and `_jvp` are the ordinary ones: checkpointing matters only to callers.
//! A function that calls itself reruns through its boxed `_vjp` helper (see `recursion`):
//! only the outermost call is checkpointed.

use crate::ast::{Form, Function};
use crate::attr::{Attr, Modes};
use crate::ctxt::Ctxt;
use crate::diag;
use crate::expand::{boxed_vjp_helper, common_attrs, pullback_type, ret_tangent, vjp_parts};
use crate::ir::Func;
use crate::names;
use crate::recursion;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;

/// The check: `checkpoint` needs a reverse pass.
pub fn check(cx: &mut Ctxt, attr: &Attr, f: &Function) {
    let Some(span) = attr.checkpoint else { return };
    let name = f.item.sig.ident.to_string();
    if attr.modes == Modes::Forward {
        cx.error(span, diag::checkpoint_forward(&name));
    }
}

/// Whether the function is a method taking `self` by value (`self`, `mut self`,
/// `self: Box<Self>`).
fn self_by_value(f: &Function) -> bool {
    matches!(f.item.sig.inputs.first(), Some(syn::FnArg::Receiver(r)) if r.reference.is_none())
}

/// The checkpointed `f_vjp`. `func` and `kernels` are what the ordinary `_vjp` would use (the
/// fused function and its region kernels); its sweep runs inside the pullback.
pub fn vjp_fn(attr: &Attr, f: &Function, func: &Func, kernels: &TokenStream) -> TokenStream {
    let sig = &f.item.sig;
    let name = names::item(&sig.ident, "vjp");
    let (vis, inputs, ret) = (&f.item.vis, &sig.inputs, &f.ret);
    let (gen_params, where_clause) = (&sig.generics.params, &sig.generics.where_clause);
    let (rt_ty, pb_ty) = (ret_tangent(attr, f), pullback_type(attr, f));
    let (use_rt, rt) = (names::runtime_use(&attr.krate), names::runtime());
    // Parameters held by value: the body's run gets a clone (spanned on the parameter's
    // type, so that a type that is not `Clone` is reported there), the pullback the original.
    let copies = f
        .item
        .sig
        .inputs
        .iter()
        .zip(&f.params)
        .filter_map(|(arg, p)| {
            let syn::FnArg::Typed(pt) = arg else {
                return None;
            };
            if p.is_ref || matches!(p.form, Form::Scalar(_)) || is_copy_primitive(&pt.ty) {
                return None;
            }
            let name = &p.name;
            Some(quote_spanned!(pt.ty.span()=> let #name = #rt::checkpoint_argument(&#name);))
        });
    // The value: the body as written, run in a closure. A method taking `self` by value
    // cannot rebind `self` to a clone, so it calls itself on clones instead.
    let block = if self_by_value(f) {
        let ident = &sig.ident;
        let args = f.params.iter().filter(|p| !p.is_self).map(|p| &p.name);
        quote!({ Self::#ident(#rt::checkpoint_argument(&self), #(#args),*) })
    } else {
        f.item.block.to_token_stream()
    };
    let (seed, inner) = (
        names::aux("checkpoint_seed", 0),
        names::aux("checkpoint_pullback", 0),
    );
    let value = names::aux("checkpoint_value", 0);
    let doc = format!(
        "Value and pullback of [`{f}`], checkpointed: the pullback keeps only the arguments, and runs `{f}`'s forward sweep again when called. Written by `#[differentiable(checkpoint)]`.",
        f = sig.ident
    );
    let attrs = common_attrs(f);
    // The rerun: the ordinary `_vjp`'s forward sweep and pullback, inline; for a function
    // that calls itself, a call of its boxed `_vjp` helper (see `recursion`), which its
    // recursive calls call too.
    let (helper, rerun) = if recursion::calls_itself(f, func) {
        let (helper, call) = boxed_vjp_helper(attr, f, func);
        (helper, quote!(let (_, #inner) = #call;))
    } else {
        let (sweep, pullback) = vjp_parts(attr, f, func, None, kernels);
        // (An adjoint that pops its loops' stacks is `FnMut`: calling it needs `mut`.)
        (
            TokenStream::new(),
            quote!(#sweep let (_, mut #inner) = #pullback;),
        )
    };
    quote! {
        #helper

        #[doc = #doc]
        #attrs
        #vis fn #name<#gen_params>(#inputs) -> (#ret, impl ::core::ops::FnOnce(#rt_ty) -> #pb_ty) #where_clause {
            #use_rt
            let #value: #ret = {
                #(#copies)*
                (|| -> #ret #block)()
            };
            (#value, move |#seed: #rt_ty| -> #pb_ty {
                #rerun
                #inner(#seed)
            })
        }
    }
}

/// An integer, `bool` or `char`: used again after the body's run with no clone.
fn is_copy_primitive(ty: &syn::Type) -> bool {
    let syn::Type::Path(p) = ty else { return false };
    p.qself.is_none()
        && p.path
            .get_ident()
            .is_some_and(|id| crate::ast::COPY_PRIMITIVES.contains(&id.to_string().as_str()))
}
