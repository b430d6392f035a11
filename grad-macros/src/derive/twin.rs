//! The struct's twin over a generic float, for `order = 2` functions that take it: for
//! `struct Params { w: f64, b: Vec<f64> }`,
//!
//! ```text
//! struct __ParamsOrder2<__GradT: Order2> {
//!     w: <f64 as Dualize>::Over<__GradT>,       // __GradT
//!     b: <Vec<f64> as Dualize>::Over<__GradT>,  // Vec<__GradT>
//! }
//! impl Dualize for Params { type Over<T: Order2> = __ParamsOrder2<T>; .. }
//! ```
//!
//! with `Differentiable` derived for the twin as for any struct. The copy that `order = 2`
//! differentiates names `<Params as Dualize>::Over<__GradT>` wherever the function names
//! `Params`; `f_hvp` converts a `Params` into the twin over duals and the twin's gradient
//! back into two `ParamsTangent`s.
//!
//! Every bound that names a field's type is higher-ranked (`for<'__grad_d> F: Dualize`), so
//! that a struct with a field of a type lacking `Dualize` (a user type implementing
//! `Differentiable` by hand) still compiles: only its use under `order = 2` fails, with
//! `Dualize`'s message.

use super::Field;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::{DeriveInput, Fields, Ident, Member};

/// The twin, its `Differentiable` and `Clone` impls, and `Dualize` for the struct; nothing
/// for generic or unit structs.
pub fn items(
    input: &DeriveInput,
    list: &[Field],
    tangent: &Ident,
    krate: &syn::Path,
) -> TokenStream {
    if !input.generics.params.is_empty()
        || matches!(&input.data, syn::Data::Struct(s) if matches!(s.fields, Fields::Unit))
    {
        return TokenStream::new();
    }
    let name = &input.ident;
    let twin = crate::names::dual_twin(name);
    let t = Ident::new("__GradT", Span::call_site());
    let f = Ident::new("__GradF", Span::call_site());
    let p = quote!(#krate::__private);
    // A field is carried over dualized where it is differentiated or holds floats (a
    // `#[no_grad]` float is read beside duals, so it must be one: a constant); other
    // `#[no_grad]` fields (counts, names, handles) are cloned as they are.
    let dualized = |fd: &Field| !fd.no_grad || names_floats(&fd.ty);
    let mut bounds: Vec<TokenStream> = Vec::new();
    let mut clone_bounds: Vec<TokenStream> = Vec::new();
    for fd in list {
        let ty = &fd.ty;
        if dualized(fd) {
            bounds.push(quote!(for<'__grad_d> #ty: #p::Dualize));
        } else {
            clone_bounds.push(quote!(for<'__grad_d> #ty: ::core::clone::Clone));
        }
    }
    let field_ty = |fd: &Field| {
        let ty = &fd.ty;
        if dualized(fd) {
            quote!(<#ty as #p::Dualize>::Over<#t>)
        } else {
            ty.to_token_stream()
        }
    };
    let named = matches!(&input.data, syn::Data::Struct(s) if matches!(s.fields, Fields::Named(_)));
    let vis = &input.vis;
    let fields = list.iter().map(|fd| {
        let (v, m, ty) = (&fd.vis, &fd.member, field_ty(fd));
        let no_grad = fd.no_grad.then(|| quote!(#[no_grad]));
        if named {
            quote!(#no_grad #v #m: #ty)
        } else {
            quote!(#no_grad #v #ty)
        }
    });
    let decl = if named {
        quote!(#vis struct #twin<#t: #p::Order2> where #(#bounds,)* { #(#fields,)* })
    } else {
        quote!(#vis struct #twin<#t: #p::Order2>(#(#fields,)*) where #(#bounds,)*;)
    };
    let twin_input: DeriveInput = match syn::parse2(quote!(#[doc(hidden)] #decl)) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let twin_impls = super::derive_parsed(&twin_input, true);
    // `#[no_grad]` told the derive above which fields have no tangent; the declaration
    // itself, outside any derive, cannot carry it.
    let mut twin_decl = twin_input;
    if let syn::Data::Struct(s) = &mut twin_decl.data {
        for fd in s.fields.iter_mut() {
            fd.attrs.retain(|a| !a.path().is_ident("no_grad"));
        }
    }

    let build = |path: &Ident, each: &dyn Fn(&Field) -> TokenStream| {
        let items = list.iter().map(|fd| {
            let (m, v) = (&fd.member, each(fd));
            quote!(#m: #v)
        });
        quote!(#path { #(#items,)* })
    };
    let clone = build(&twin, &|fd| {
        let m = &fd.member;
        quote!(::core::clone::Clone::clone(&self.#m))
    });
    let duals = build(&twin, &|fd| {
        let m = &fd.member;
        let label = label(m);
        match (dualized(fd), fd.no_grad) {
            (true, false) => {
                quote!(#p::Dualize::duals_along::<#f>(&self.#m, &v.#m, &#p::part_name(name, #label)))
            }
            (true, true) => quote!(#p::Dualize::constant_duals::<#f>(&self.#m)),
            _ => quote!(::core::clone::Clone::clone(&self.#m)),
        }
    });
    let constants = build(&twin, &|fd| {
        let m = &fd.member;
        if dualized(fd) {
            quote!(#p::Dualize::constant_duals::<#f>(&self.#m))
        } else {
            quote!(::core::clone::Clone::clone(&self.#m))
        }
    });
    let part = |m: &Member| match m {
        Member::Named(id) => {
            format_ident!("__grad_part_{}", id.to_string().trim_start_matches("r#"))
        }
        Member::Unnamed(i) => format_ident!("__grad_part_{}", i.index),
    };
    let splits = list.iter().filter(|fd| !fd.no_grad).map(|fd| {
        let (m, ty, x) = (&fd.member, &fd.ty, part(&fd.member));
        quote!(let #x = <#ty as #p::Dualize>::dual_parts::<#f>(&g.#m);)
    });
    let half = |k: syn::Index| {
        build(tangent, &|fd| {
            if fd.no_grad {
                quote!(())
            } else {
                let x = part(&fd.member);
                quote!(#x.#k)
            }
        })
    };
    let (values, tangents) = (half(syn::Index::from(0)), half(syn::Index::from(1)));
    quote! {
        #twin_decl

        #twin_impls

        impl<#t: #p::Order2> ::core::clone::Clone for #twin<#t> where #(#bounds,)* #(#clone_bounds,)* {
            fn clone(&self) -> Self {
                #clone
            }
        }

        impl #p::Dualize for #name where #(#bounds,)* #(#clone_bounds,)* {
            type Over<#t: #p::Order2> = #twin<#t>;

            fn duals_along<#f: #p::Real>(
                &self,
                v: &<Self as #p::Differentiable>::Tangent,
                name: &str,
            ) -> #twin<#p::Dual<#f>> {
                #duals
            }

            fn constant_duals<#f: #p::Real>(&self) -> #twin<#p::Dual<#f>> {
                #constants
            }

            fn dual_parts<#f: #p::Real>(
                g: &<#twin<#p::Dual<#f>> as #p::Differentiable>::Tangent,
            ) -> (<Self as #p::Differentiable>::Tangent, <Self as #p::Differentiable>::Tangent) {
                #(#splits)*
                (#values, #tangents)
            }
        }
    }
}

/// A field's name in panics: `w`, `0`.
fn label(m: &Member) -> String {
    match m {
        Member::Named(id) => id.to_string().trim_start_matches("r#").to_owned(),
        Member::Unnamed(i) => i.index.to_string(),
    }
}

/// Whether a type names a float anywhere (`f64`, `Vec<[f32; 3]>`, `Tensor`, `Vector3<f64>`).
fn names_floats(ty: &syn::Type) -> bool {
    fn any(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tt| match tt {
            proc_macro2::TokenTree::Ident(id) => id == "f64" || id == "f32" || id == "Tensor",
            proc_macro2::TokenTree::Group(g) => any(g.stream()),
            _ => false,
        })
    }
    any(ty.to_token_stream())
}
