//! `#[differentiable]` on an `impl` block: the marked methods are expanded, and a trait
//! impl's derivatives go into an inherent `impl` beside it (a trait cannot gain methods).

use crate::ctxt::Ctxt;
use crate::diag;
use crate::expand;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{
    Attribute, Generics, Ident, ImplItem, ImplItemFn, ItemFn, ItemImpl, Meta, Type, TypeParamBound,
    WherePredicate,
};

/// Whether an attribute is `#[differentiable]` (or `#[grad::differentiable]`, ...).
fn is_ours(a: &Attribute) -> bool {
    a.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "differentiable")
}

/// Takes a method's `#[differentiable(..)]` off it, with the attribute's arguments.
fn take_attr(cx: &mut Ctxt, m: &mut ImplItemFn) -> Option<TokenStream> {
    let k = m.attrs.iter().position(is_ours)?;
    let a = m.attrs.remove(k);
    Some(match a.meta {
        Meta::Path(_) => TokenStream::new(),
        Meta::List(l) => l.tokens,
        Meta::NameValue(nv) => {
            cx.error_at(&nv, diag::ATTR_UNKNOWN);
            TokenStream::new()
        }
    })
}

/// The impl's type parameters bounded by `Real` (inline or in the where-clause): floats,
/// whose tangent is their own type, as a function's own generic floats are.
fn real_params(g: &Generics) -> Vec<Ident> {
    let is_real = |b: &TypeParamBound| match b {
        TypeParamBound::Trait(t) => t.path.segments.last().is_some_and(|s| s.ident == "Real"),
        _ => false,
    };
    let mut out: Vec<Ident> = g
        .type_params()
        .filter(|t| t.bounds.iter().any(is_real))
        .map(|t| t.ident.clone())
        .collect();
    for p in g.where_clause.iter().flat_map(|w| &w.predicates) {
        if let WherePredicate::Type(pt) = p
            && let Type::Path(tp) = &pt.bounded_ty
            && let Some(id) = tp.path.get_ident()
            && pt.bounds.iter().any(is_real)
            && g.type_params().any(|t| t.ident == *id)
            && !out.contains(id)
        {
            out.push(id.clone());
        }
    }
    out
}

pub fn expand(args: TokenStream, mut item: ItemImpl) -> TokenStream {
    let mut cx = Ctxt::default();
    if !args.is_empty() {
        cx.error_at(&args, diag::IMPL_ARGS);
    }
    let for_trait = item.trait_.is_some();
    let floats = real_params(&item.generics);
    let mut derived = TokenStream::new();
    let mut items = Vec::with_capacity(item.items.len());
    for it in std::mem::take(&mut item.items) {
        let ImplItem::Fn(mut m) = it else {
            items.push(it);
            continue;
        };
        let Some(args) = take_attr(&mut cx, &mut m) else {
            items.push(ImplItem::Fn(m));
            continue;
        };
        let vis = if for_trait {
            // A trait's method is as visible as the trait; its derivatives, inherent
            // methods of the type, are public so that they reach as far as the type does.
            syn::parse_quote!(pub)
        } else {
            m.vis.clone()
        };
        let mut ex = expand::function(
            args,
            ItemFn {
                attrs: m.attrs.clone(),
                vis,
                sig: m.sig.clone(),
                block: Box::new(m.block.clone()),
            },
            &floats,
        );
        derived.extend(std::mem::take(&mut ex.errors));
        // The method keeps its place, visibility and `default`ness in the block.
        m.attrs = ex.item.attrs;
        m.block = *ex.item.block;
        items.push(ImplItem::Fn(m));
        if for_trait {
            derived.extend(ex.derived);
        } else {
            items.push(ImplItem::Verbatim(ex.derived));
        }
    }
    item.items = items;
    let errors = cx.to_compile_errors();
    if !for_trait || derived.is_empty() {
        return quote!(#item #errors #derived);
    }
    let self_ty = &item.self_ty;
    // `impl<T> Trait<T> for M`: `impl<T> M` would leave `T` unconstrained (E0207).
    let mentioned = idents(self_ty.to_token_stream());
    for t in item.generics.type_params() {
        if !mentioned.contains(&t.ident) {
            derived.extend(
                syn::Error::new(t.ident.span(), diag::impl_param_not_in_type(&t.ident))
                    .to_compile_error(),
            );
        }
    }
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let inherent = quote! {
        impl #impl_generics #self_ty #where_clause {
            #derived
        }
    };
    let mut out = item.into_token_stream();
    out.extend(inherent);
    out.extend(errors);
    out
}

/// Every identifier in a token stream, at any depth.
fn idents(tokens: TokenStream) -> Vec<Ident> {
    let mut out = Vec::new();
    for tt in tokens {
        match tt {
            proc_macro2::TokenTree::Ident(i) => out.push(i),
            proc_macro2::TokenTree::Group(g) => out.extend(idents(g.stream())),
            _ => {}
        }
    }
    out
}
