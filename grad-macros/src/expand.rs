//! The driver: attribute → our view of the function → IR → reverse and forward emission.

use crate::ast::{self, Function};
use crate::attr::{self, Attr};
use crate::ctxt::Ctxt;
use crate::diag;
use crate::emit::Emit;
use crate::fallback;
use crate::forward::Fwd;
use crate::impls;
use crate::ir::{Func, Operand};
use crate::lower;
use crate::names;
use crate::reverse::Rev;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Ident, Item, ItemFn};

/// `#[differentiable(args)] item`, on token streams so that tests can call it directly.
/// The item is a function or method, or an `impl` block whose marked methods are expanded
/// (see `impls`).
pub fn differentiable(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    // syn parses recursively; refuse absurd nesting before it can overflow the stack.
    if let Some(span) = too_deep(&item, 128) {
        cx.error(span, diag::TOO_DEEP);
        let errors = cx.to_compile_errors();
        return quote!(#item #errors);
    }
    match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(item_fn)) => function(args, item_fn, &[]).into_token_stream(),
        Ok(Item::Impl(item_impl)) => impls::expand(args, item_impl),
        _ => {
            cx.error_at(&item, diag::NOT_A_FN);
            let errors = cx.to_compile_errors();
            quote!(#item #errors)
        }
    }
}

/// One function's expansion, in parts, so that an `impl` block can place them apart.
pub struct Expansion {
    /// The function as the user wrote it (lint allowances added).
    pub item: ItemFn,
    /// `compile_error!`s, if any.
    pub errors: TokenStream,
    /// `_grad`, `_vjp`, `_jvp` (or their stubs after an error), and private helpers.
    pub derived: TokenStream,
}

impl ToTokens for Expansion {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.item.to_tokens(tokens);
        tokens.extend(self.errors.clone());
        tokens.extend(self.derived.clone());
    }
}

/// `#[differentiable(args)] fn ...`: the function, and its derivatives beside it.
/// `outer_floats`: the enclosing `impl`'s type parameters bounded by `Real`, where known.
pub fn function(args: TokenStream, item_fn: ItemFn, outer_floats: &[Ident]) -> Expansion {
    let mut cx = Ctxt::default();
    let attr = attr::parse(&mut cx, args);
    let f = ast::read(&mut cx, &attr, item_fn, outer_floats);
    // (`reverse` on a non-scalar result writes `_vjp` alone: `_grad` needs a scalar to seed.)
    if cx.has_errors() {
        return fallback::emit(&cx, &attr, &f);
    }
    let (cx, func) = lower::lower(cx, &f);
    if cx.has_errors() {
        return fallback::emit(&cx, &attr, &f);
    }
    // Differentiable loops index their data, so clippy's advice to iterate does not apply;
    // and a function may be called only through its derivatives, which are its uses.
    let mut item = f.item.clone();
    item.attrs
        .push(syn::parse_quote!(#[allow(clippy::needless_range_loop, dead_code)]));
    let mut derived = TokenStream::new();
    if attr.modes.reverse() {
        if f.scalar_ret {
            derived.extend(grad_fn(&attr, &f, &func));
        }
        derived.extend(vjp_fn(&attr, &f, &func));
    }
    if attr.modes.forward() {
        derived.extend(jvp_fn(&attr, &f, &func));
    }
    Expansion {
        item,
        errors: TokenStream::new(),
        derived,
    }
}

/// The first group nested more than `limit` deep, found without recursion.
fn too_deep(tokens: &TokenStream, limit: usize) -> Option<proc_macro2::Span> {
    let mut stack: Vec<(proc_macro2::token_stream::IntoIter, usize)> =
        vec![(tokens.clone().into_iter(), 0)];
    while let Some((mut iter, depth)) = stack.pop() {
        if let Some(tt) = iter.next() {
            stack.push((iter, depth));
            if let proc_macro2::TokenTree::Group(g) = tt {
                if depth + 1 > limit {
                    return Some(g.span());
                }
                stack.push((g.stream().into_iter(), depth + 1));
            }
        }
    }
    None
}

fn emit<'a>(f: &'a Function, func: &'a Func) -> Emit<'a> {
    let mut borrow_of = vec![None; func.vars.len()];
    let mut reborrow = vec![None; func.vars.len()];
    crate::emit::borrows(func, &func.body, &mut borrow_of, &mut reborrow);
    Emit {
        f,
        func,
        borrow_of,
        reborrow,
        rt: names::runtime().to_token_stream(),
    }
}

/// Attributes every generated function carries: the user's `#[cfg]`s, and lints that
/// generated code may trip and users must not see.
pub fn common_attrs(f: &Function) -> TokenStream {
    let cfgs = f
        .item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg") || a.path().is_ident("inline"));
    quote! {
        #(#cfgs)*
        #[allow(unused, unreachable_code, non_snake_case, clippy::all, clippy::pedantic, clippy::nursery)]
    }
}

fn wrt_list(f: &Function) -> String {
    f.active_params()
        .map(|p| format!("`{}`", p.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `_grad` result's gradient type: bare for one parameter, a tuple for several.
pub fn grad_type(attr: &Attr, f: &Function) -> TokenStream {
    tuple_or_bare(
        f.active_params()
            .map(|p| f.cotangent_type(p, &attr.krate))
            .collect(),
    )
}

/// The pullback's result type: one slot per parameter.
pub fn pullback_type(attr: &Attr, f: &Function) -> TokenStream {
    tuple_or_bare(
        f.params
            .iter()
            .map(|p| f.cotangent_type(p, &attr.krate))
            .collect(),
    )
}

pub fn ret_tangent(attr: &Attr, f: &Function) -> TokenStream {
    ast::tangent_of(&f.ret, &f.type_params, &attr.krate)
}

/// The parameters' cotangents at the end of an adjoint sweep (zero where nothing reached).
fn cotangents(rev: &Rev<'_>, func: &Func, only_active: bool) -> Vec<TokenStream> {
    let e = &rev.e;
    let rt = &e.rt;
    let mut out = Vec::new();
    for (i, p) in e.f.params.iter().enumerate() {
        if !p.active {
            if !only_active {
                out.push(quote!(#rt::NoTangent));
            }
            continue;
        }
        let v = func.params[i];
        match rev.adjoint(v) {
            Some(d) => out.push(d.to_token_stream()),
            None => {
                let r = e.var_ref(v);
                out.push(quote!(#rt::zero_tangent(#r)));
            }
        }
    }
    out
}

fn tuple_or_bare(items: Vec<TokenStream>) -> TokenStream {
    if items.len() == 1 {
        items.into_iter().next().unwrap_or_default()
    } else {
        quote!((#(#items),*))
    }
}

fn grad_fn(attr: &Attr, f: &Function, func: &Func) -> TokenStream {
    let mut rev = Rev::new(emit(f, func), false);
    rev.plan_fusion();
    let sig = &f.item.sig;
    let name = names::item(&sig.ident, "grad");
    let (vis, inputs, ret) = (&f.item.vis, &sig.inputs, &f.ret);
    let (gen_params, where_clause) = (&sig.generics.params, &sig.generics.where_clause);
    let g = grad_type(attr, f);
    let rt = rev.e.rt.clone();
    let seed = names::aux("seed", 0);
    let value = names::aux("value", 0);
    let v = rev.e.val(&func.ret);
    // Fused loops need the seed in place before the forward sweep runs them.
    if let Operand::Var(r) = func.ret
        && rev.e.active(r)
    {
        rev.seed(r, seed.clone());
    }
    let mut fwd = TokenStream::new();
    rev.fwd_block(&func.body, &mut fwd);
    let prelude = rev.prelude();
    let mut adj = TokenStream::new();
    rev.rev_block(&func.body, &mut adj);
    let grads = tuple_or_bare(cotangents(&rev, func, true));
    let use_rt = names::runtime_use(&attr.krate);
    let doc = format!(
        "Value and gradient of [`{}`] with respect to {}. Written by `#[differentiable]`.",
        sig.ident,
        wrt_list(f)
    );
    let attrs = common_attrs(f);
    quote! {
        #[doc = #doc]
        #attrs
        #vis fn #name<#gen_params>(#inputs) -> (#ret, #g) #where_clause {
            #use_rt
            let mut #seed: #ret = #rt::one();
            #prelude
            #fwd
            let #value = #v;
            #adj
            (#value, #grads)
        }
    }
}

fn vjp_fn(attr: &Attr, f: &Function, func: &Func) -> TokenStream {
    let mut rev = Rev::new(emit(f, func), true);
    let sig = &f.item.sig;
    let name = names::item(&sig.ident, "vjp");
    let (vis, inputs, ret) = (&f.item.vis, &sig.inputs, &f.ret);
    let (gen_params, where_clause) = (&sig.generics.params, &sig.generics.where_clause);
    let rt_ty = ret_tangent(attr, f);
    let pb_ty = pullback_type(attr, f);
    let seed = names::aux("seed", 0);
    let value = names::aux("value", 0);
    let mut fwd = TokenStream::new();
    rev.fwd_block(&func.body, &mut fwd);
    let prelude = rev.prelude();
    let v = rev.e.cloned(&func.ret);
    if let Operand::Var(r) = func.ret
        && rev.e.active(r)
    {
        rev.seed(r, seed.clone());
    }
    let mut adj = TokenStream::new();
    rev.rev_block(&func.body, &mut adj);
    let cts = tuple_or_bare(cotangents(&rev, func, false));
    let use_rt = names::runtime_use(&attr.krate);
    let doc = format!(
        "Value and pullback of [`{}`]: the pullback maps the result's cotangent to one cotangent per parameter. Written by `#[differentiable]`.",
        sig.ident
    );
    let attrs = common_attrs(f);
    quote! {
        #[doc = #doc]
        #attrs
        #vis fn #name<#gen_params>(#inputs) -> (#ret, impl ::core::ops::FnOnce(#rt_ty) -> #pb_ty) #where_clause {
            #use_rt
            #prelude
            #fwd
            let #value = #v;
            (#value, move |mut #seed: #rt_ty| {
                #adj
                #cts
            })
        }
    }
}

fn jvp_fn(attr: &Attr, f: &Function, func: &Func) -> TokenStream {
    let mut fwd = Fwd::new(emit(f, func));
    let sig = &f.item.sig;
    let name = names::item(&sig.ident, "jvp");
    let (vis, inputs, ret) = (&f.item.vis, &sig.inputs, &f.ret);
    let (gen_params, where_clause) = (&sig.generics.params, &sig.generics.where_clause);
    let rt_ty = ret_tangent(attr, f);
    let taken: Vec<String> = f.params.iter().map(|p| p.name.to_string()).collect();
    let mut tparams = Vec::new();
    for (i, p) in f.params.iter().enumerate() {
        let ty = f.tangent_arg_type(p, &attr.krate);
        if p.active {
            let d = names::tangent_param(&p.name, &taken);
            fwd.seed(func.params[i], d.clone(), Function::tangent_arg_is_ref(p));
            tparams.push(quote!(#d: #ty));
        } else {
            tparams.push(quote!(_: #ty));
        }
    }
    let mut body = TokenStream::new();
    fwd.block(&func.body, &mut body);
    let v = fwd.e.val(&func.ret);
    let dv = fwd.tval(&func.ret);
    let use_rt = names::runtime_use(&attr.krate);
    let doc = format!(
        "Value and directional derivative of [`{}`] along the tangents given for {}. Written by `#[differentiable]`.",
        sig.ident,
        wrt_list(f)
    );
    let attrs = common_attrs(f);
    let comma = if inputs.is_empty() || inputs.trailing_punct() {
        quote!()
    } else {
        quote!(,)
    };
    quote! {
        #[doc = #doc]
        #attrs
        #vis fn #name<#gen_params>(#inputs #comma #(#tparams),*) -> (#ret, #rt_ty) #where_clause {
            #use_rt
            #body
            let __grad_tangent = #dv;
            (#v, __grad_tangent)
        }
    }
}
