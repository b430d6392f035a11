//! The driver: attribute → our view of the function → IR → reverse and forward emission.

use crate::ast::{self, Function};
use crate::attr::{self, Attr};
use crate::checkpoint;
use crate::ctxt::Ctxt;
use crate::diag;
use crate::emit::Emit;
use crate::fallback;
use crate::forward::Fwd;
use crate::impls;
use crate::ir::{Func, Operand};
use crate::jacobian;
use crate::lower;
use crate::names;
use crate::recursion;
use crate::reverse::Rev;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Ident, Item, ItemFn};

/// `#[differentiable(args)] item`, on token streams so that tests can call it directly.
/// The item is a function or method, or an `impl` block whose marked methods are expanded
/// (see `impls`).
/// (The entry point reads the source file as well, through `differentiable_at`; this is the
/// core that tests and benches call.)
#[cfg_attr(not(test), allow(dead_code))]
pub fn differentiable(args: TokenStream, item: TokenStream) -> TokenStream {
    differentiable_at(args, item, &|| false)
}

/// As `differentiable`, given a way to tell that the attribute sits on a lone method of a
/// trait impl (asked only about functions that could be one: those with no visibility).
pub fn differentiable_at(
    args: TokenStream,
    item: TokenStream,
    in_trait_impl: &dyn Fn() -> bool,
) -> TokenStream {
    let mut cx = Ctxt::default();
    // syn parses recursively; refuse absurd nesting before it can overflow the stack.
    if let Some(span) = too_deep(&item, 128) {
        cx.error(span, diag::TOO_DEEP);
        let errors = cx.to_compile_errors();
        return quote!(#item #errors);
    }
    match syn::parse2::<Item>(item.clone()) {
        // Its derivatives cannot go into the trait impl: say so, instead of rustc's
        // "not a member of trait" for each of them.
        Ok(Item::Fn(item_fn))
            if matches!(item_fn.vis, syn::Visibility::Inherited) && in_trait_impl() =>
        {
            cx.error(proc_macro2::Span::call_site(), diag::LONE_TRAIT_METHOD);
            let errors = cx.to_compile_errors();
            quote!(#item_fn #errors)
        }
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
    jacobian::check(&mut cx, &attr, &f);
    checkpoint::check(&mut cx, &attr, &f);
    crate::second::check(&mut cx, &attr, &f);
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
        // The reverse sweeps run fused regions as one loop each way (see `fuse`).
        let scalars: Vec<usize> = (f.params.iter().zip(&func.params))
            .filter(|(p, _)| matches!(p.form, crate::ast::Form::Scalar(_)))
            .map(|(_, &v)| v)
            .collect();
        // Slices, `Vec`s and arrays of floats (by value or by reference): an element read by
        // index is a scalar.
        let rows: Vec<usize> = (f.params.iter().zip(&func.params))
            .filter(|(p, _)| crate::ast::is_float_row(&p.form, &f.type_params))
            .map(|(_, &v)| v)
            .collect();
        // Not where nalgebra values are about: fusion reads `*` as elementwise, as on tensors.
        let fused = if crate::ast::uses_matrices(&f.item) {
            None
        } else {
            crate::fuse::fuse(&func, &names::runtime().to_token_stream(), &scalars, &rows)
        };
        let (rfunc, kernels) = match &fused {
            Some((g, k)) if !recursion::calls_itself(&f, &func) => (g, k.clone()),
            _ => (&func, TokenStream::new()),
        };
        if f.scalar_ret {
            derived.extend(grad_fn(&attr, &f, rfunc, &kernels));
        }
        derived.extend(if attr.checkpoint.is_some() {
            checkpoint::vjp_fn(&attr, &f, rfunc, &kernels)
        } else {
            vjp_fn(&attr, &f, rfunc, &kernels)
        });
    }
    if attr.modes.forward() {
        derived.extend(jvp_fn(&attr, &f, &func));
    }
    derived.extend(jacobian::item(&attr, &f, &func));
    derived.extend(crate::second::items(&attr, &f));
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
    let mut ref_arrays = vec![None; func.vars.len()];
    crate::emit::borrows(
        func,
        &func.body,
        &mut borrow_of,
        &mut reborrow,
        &mut ref_arrays,
    );
    Emit {
        f,
        func,
        borrow_of,
        reborrow,
        ref_arrays,
        rt: names::runtime().to_token_stream(),
        self_vjp: None,
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

fn grad_fn(attr: &Attr, f: &Function, func: &Func, kernels: &TokenStream) -> TokenStream {
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
        rev.plan_onepass();
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
            #kernels
            let mut #seed: #ret = #rt::one();
            #prelude
            #fwd
            let #value = #v;
            #adj
            (#value, #grads)
        }
    }
}

fn vjp_fn(attr: &Attr, f: &Function, func: &Func, kernels: &TokenStream) -> TokenStream {
    if recursion::calls_itself(f, func) {
        return recursive_vjp_fn(attr, f, func);
    }
    let sig = &f.item.sig;
    let name = names::item(&sig.ident, "vjp");
    let (value, pullback) = vjp_parts(attr, f, func, None, kernels);
    let (vis, inputs, ret) = (&f.item.vis, &sig.inputs, &f.ret);
    let (gen_params, where_clause) = (&sig.generics.params, &sig.generics.where_clause);
    let (rt_ty, pb_ty) = (ret_tangent(attr, f), pullback_type(attr, f));
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
            #value
            #pullback
        }
    }
}

/// `_vjp`'s body: the forward sweep ending in `let value = ..;`, and the pullback closure
/// (`self_vjp`: the boxed helper that recursive calls go to, when writing it).
pub fn vjp_parts(
    attr: &Attr,
    f: &Function,
    func: &Func,
    self_vjp: Option<Ident>,
    kernels: &TokenStream,
) -> (TokenStream, TokenStream) {
    let mut e = emit(f, func);
    e.self_vjp = self_vjp;
    let mut rev = Rev::new(e, true);
    let rt_ty = ret_tangent(attr, f);
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
    (
        quote! {
            #kernels
            #prelude
            #fwd
            let #value = #v;
        },
        quote! {
            (#value, move |mut #seed: #rt_ty| {
                #adj
                #cts
            })
        },
    )
}

/// `_vjp` of a function that calls itself: a hidden helper whose pullback is boxed (its
/// recursive calls call the helper), and `_vjp` calling it.
fn recursive_vjp_fn(attr: &Attr, f: &Function, func: &Func) -> TokenStream {
    let name = names::item(&f.item.sig.ident, "vjp");
    let (helper, call) = boxed_vjp_helper(attr, f, func);
    // The helper's signature, whose pullback lives as long as all the arguments.
    let mut sig = f.item.sig.clone();
    recursion::unify_lifetimes(&mut sig);
    let (inputs, ret, vis) = (&sig.inputs, &f.ret, &f.item.vis);
    let (gen_params, where_clause) = (&sig.generics.params, &sig.generics.where_clause);
    let (rt_ty, pb_ty) = (ret_tangent(attr, f), pullback_type(attr, f));
    let doc = format!(
        "Value and pullback of [`{}`]: the pullback maps the result's cotangent to one cotangent per parameter. Written by `#[differentiable]`; `{}` calls itself, so its pullback is boxed.",
        sig.ident, sig.ident
    );
    let attrs = common_attrs(f);
    quote! {
        #helper

        #[doc = #doc]
        #attrs
        #vis fn #name<#gen_params>(#inputs) -> (#ret, impl ::core::ops::FnOnce(#rt_ty) -> #pb_ty) #where_clause {
            #call
        }
    }
}

/// The hidden `_vjp` helper of a function that calls itself, whose pullback is boxed, and a
/// call of it with the function's parameters.
pub fn boxed_vjp_helper(attr: &Attr, f: &Function, func: &Func) -> (TokenStream, TokenStream) {
    let boxed = names::boxed_vjp(&f.item.sig.ident);
    let (value, pullback) = vjp_parts(attr, f, func, Some(boxed.clone()), &TokenStream::new());
    let mut sig = f.item.sig.clone();
    recursion::unify_lifetimes(&mut sig);
    let (inputs, ret, vis) = (&sig.inputs, &f.ret, &f.item.vis);
    let (gen_params, where_clause) = (&sig.generics.params, &sig.generics.where_clause);
    let (rt_ty, pb_ty) = (ret_tangent(attr, f), pullback_type(attr, f));
    let lt = recursion::lifetime();
    let use_rt = names::runtime_use(&attr.krate);
    let attrs = common_attrs(f);
    // A method's helper is an associated function too: reached through `Self::`.
    let in_impl = f.params.iter().any(|p| p.is_self) || calls_through_self(func);
    let target = if in_impl {
        quote!(Self::#boxed)
    } else {
        quote!(#boxed)
    };
    let args = f.params.iter().map(|p| &p.name);
    let (v, pb) = (names::aux("value", 1), names::aux("pullback", 0));
    let helper = quote! {
        #[doc(hidden)]
        #attrs
        #vis fn #boxed<#gen_params>(#inputs) -> (#ret, ::std::boxed::Box<dyn ::core::ops::FnOnce(#rt_ty) -> #pb_ty + #lt>) #where_clause {
            #use_rt
            #value
            let (#v, #pb) = #pullback;
            (#v, ::std::boxed::Box::new(#pb))
        }
    };
    (helper, quote!(#target(#(#args),*)))
}

/// Whether a call in the body goes through `Self::` (so the function is in an `impl`).
fn calls_through_self(func: &Func) -> bool {
    crate::activity::Analysis::new(func)
        .func_lets()
        .any(|(_, op)| {
            matches!(op, crate::ir::Op::Call { callee: crate::ir::Callee::Path(p), .. }
                if p.segments.first().is_some_and(|s| s.ident == "Self"))
        })
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
