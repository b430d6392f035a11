//! Every generated identifier and runtime path.

use crate::ir::{VarId, VarInfo};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::Ident;

/// A generated local: mixed-site hygiene, so it never captures or shadows a user's name.
/// A raw identifier's `r#` is dropped wherever it landed in the name (`__grad_r#type_mut_5`
/// is not an identifier, and `Ident::new` panics on it).
pub fn local(name: String, span: Span) -> Ident {
    Ident::new(
        &name.replace("r#", ""),
        span.resolved_at(Span::mixed_site()),
    )
}

fn clean(hint: &str) -> &str {
    hint.trim_start_matches("r#")
}

/// The primal value `v`.
pub fn value(info: &VarInfo, v: VarId) -> Ident {
    local(format!("__grad_{}_{}", clean(&info.hint), v), info.span)
}

/// The adjoint (reverse mode) or tangent (forward mode) of `v`.
pub fn deriv(info: &VarInfo, v: VarId) -> Ident {
    local(format!("__grad_d_{}_{}", clean(&info.hint), v), info.span)
}

/// The shape of `v`, saved where a loop's reverse sweep needs only that.
pub fn layout(info: &VarInfo, v: VarId) -> Ident {
    local(
        format!("__grad_layout_{}_{}", clean(&info.hint), v),
        info.span,
    )
}

pub fn shape(info: &VarInfo, v: VarId) -> Ident {
    local(
        format!("__grad_shape_{}_{}", clean(&info.hint), v),
        info.span,
    )
}

/// The pullback of the call that defines `v`.
pub fn pullback(info: &VarInfo, v: VarId) -> Ident {
    local(format!("__grad_pb_{}_{}", clean(&info.hint), v), info.span)
}

/// A numbered helper local (stacks, bounds, branch records).
pub fn aux(what: &str, n: usize) -> Ident {
    local(format!("__grad_{what}_{n}"), Span::call_site())
}

/// The name of a generated item: `f` → `f_grad`, spanned on the user's identifier.
pub fn item(base: &Ident, suffix: &str) -> Ident {
    format_ident!("{}_{}", base, suffix, span = base.span())
}

/// The hidden helper of a function that calls itself: `f` → `__grad_f_vjp_boxed`.
pub fn boxed_vjp(base: &Ident) -> Ident {
    format_ident!(
        "__grad_{}_vjp_boxed",
        clean(&base.to_string()),
        span = base.span()
    )
}

/// The tangent parameter of `_jvp` for the parameter `name`.
pub fn tangent_param(name: &Ident, taken: &[String]) -> Ident {
    let plain = if name == "self" {
        "dself".to_owned()
    } else {
        format!("d{}", clean(&name.to_string()))
    };
    if taken.contains(&plain) {
        local(format!("__grad_{plain}"), name.span())
    } else {
        Ident::new(&plain, name.span())
    }
}

/// The tangent struct of a struct deriving `Differentiable`: `a::Pt` → `a::PtTangent`
/// (generic arguments left to inference).
pub fn tangent_struct(path: &syn::Path) -> syn::Path {
    let mut path = path.clone();
    if let Some(last) = path.segments.last_mut() {
        last.ident = format_ident!("{}Tangent", last.ident, span = last.ident.span());
        last.arguments = syn::PathArguments::None;
    }
    path
}

/// The short name generated code gives the runtime's `__private` module.
pub fn runtime() -> Ident {
    Ident::new("__grad_rt", Span::call_site())
}

/// `use #krate::__private as __grad_rt;`, at the top of every generated body.
pub fn runtime_use(krate: &syn::Path) -> TokenStream {
    let rt = runtime();
    quote!(use #krate::__private as #rt;)
}

/// The twin of a struct deriving `Differentiable` over a generic float, for `order = 2`:
/// `Params` → `__ParamsOrder2`.
pub fn dual_twin(name: &Ident) -> Ident {
    format_ident!(
        "__{}Order2",
        name.to_string().trim_start_matches("r#"),
        span = name.span()
    )
}
