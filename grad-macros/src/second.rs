//! `#[differentiable(order = 2)]`: `f_hvp`, the value, the gradient and the Hessian times a
//! direction, by forward mode over reverse mode on dual numbers.
//!
//! The attribute writes a hidden copy of the function, `__f_order2`, generic over its float
//! type (`f64` → `__GradT`, float literals → `__GradT::from_f64(..)`, `e as f64` →
//! `lift(e)`, upper-case constants → `promote(K)`, calls `g(..)` → `__g_order2(..)`), and
//! expands that copy in reverse mode as any other function: `__f_order2_grad` and
//! `__f_order2_vjp`. `f_hvp` runs `__f_order2_grad` at `__GradT = Dual<f64>` with every differentiated input `x + ε v`: every value then carries its
//! derivative along `v`, and the gradient's tangent part is `H v`. The existing reverse
//! emission and the scalar rules (generic over `Real`) do all the work. `f_grad_vjp` and
//! `f_grad_jvp` follow from `f_hvp` (the Hessian is symmetric), so that `f_grad` may be
//! called inside another differentiable function.
//!
//! A function called from an `order = 2` function needs `order = 2` itself (its copy is what
//! the caller's copy calls); where it has none, rustc reports the missing `__g_order2_vjp`
//! on the call.

use crate::ast::{Form, Function, Param, is_inactive_type};
use crate::attr::Attr;
use crate::ctxt::Ctxt;
use crate::diag;
use crate::expand::{self, common_attrs};
use crate::names;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, Ident, ItemFn, Token, Type};

/// The copy's name: `f` → `__f_order2`, spanned on the user's identifier (so that a call of
/// a function without `order = 2` is reported on the call).
pub fn copy_name(base: &Ident) -> Ident {
    format_ident!(
        "__{}_order2",
        base.to_string().trim_start_matches("r#"),
        span = base.span()
    )
}

/// The type parameter that stands for the float type in the copy.
fn dual_param() -> Ident {
    Ident::new("__GradT", Span::call_site())
}

/// What `order = 2` supports, checked before anything is written: a scalar result, the
/// reverse pass, a free non-generic function of one float type, parameters of the forms
/// `f_hvp` converts.
pub fn check(cx: &mut Ctxt, attr: &Attr, f: &Function) {
    let Some(span) = attr.order2 else { return };
    if !attr.modes.reverse() {
        cx.error(span, diag::ORDER2_FORWARD);
    }
    if attr.checkpoint.is_some() {
        cx.error(span, diag::ORDER2_CHECKPOINT);
    }
    if !f.scalar_ret {
        cx.error_at(&f.ret, diag::ORDER2_SCALAR);
    }
    let sig = &f.item.sig;
    if let Some(r) = sig.receiver() {
        cx.error_at(r, diag::ORDER2_METHOD);
    }
    if !sig.generics.params.is_empty() {
        cx.error_at(&sig.generics.params, diag::ORDER2_GENERIC);
    }
    for input in &sig.inputs {
        if let syn::FnArg::Typed(pt) = input
            && float_of_param(&pt.ty).is_none()
            && !dualized_type(&pt.ty)
            && !is_inactive_type(&pt.ty)
        {
            let ty = pt.ty.to_token_stream().to_string();
            cx.error_at(&pt.ty, diag::order2_param(&ty));
        }
    }
    // One float type: the copy turns it into the dual type.
    let mut floats = Floats::default();
    floats.visit_item_fn(&f.item);
    if let (Some(_), Some(s32)) = (floats.f64, floats.f32) {
        cx.error(s32, diag::ORDER2_MIXED);
    }
}

/// Where `f32` and `f64` are first named in a function.
#[derive(Default)]
struct Floats {
    f32: Option<Span>,
    f64: Option<Span>,
}

impl<'a> Visit<'a> for Floats {
    fn visit_ident(&mut self, id: &'a Ident) {
        if id == "f64" {
            self.f64.get_or_insert(id.span());
        } else if id == "f32" {
            self.f32.get_or_insert(id.span());
        }
    }
    fn visit_lit_float(&mut self, l: &'a syn::LitFloat) {
        match l.suffix() {
            "f32" => _ = self.f32.get_or_insert(l.span()),
            "f64" => _ = self.f64.get_or_insert(l.span()),
            _ => {}
        }
    }
    fn visit_macro(&mut self, m: &'a syn::Macro) {
        self.tokens(m.tokens.clone());
    }
}

impl Floats {
    /// The float types a macro's tokens name (`vec![0.0f32; n]`, `println!("{}", x as f64)`).
    fn tokens(&mut self, tokens: TokenStream) {
        for tt in tokens {
            match tt {
                proc_macro2::TokenTree::Ident(id) => self.visit_ident(&id),
                proc_macro2::TokenTree::Group(g) => self.tokens(g.stream()),
                proc_macro2::TokenTree::Literal(l) => {
                    let text = l.to_string();
                    let number =
                        text.starts_with(|c: char| c.is_ascii_digit()) && !text.starts_with("0x");
                    if number && text.ends_with("f32") {
                        self.f32.get_or_insert(l.span());
                    } else if number && text.ends_with("f64") {
                        self.f64.get_or_insert(l.span());
                    }
                }
                proc_macro2::TokenTree::Punct(_) => {}
            }
        }
    }
}

/// The float type of a parameter `f_hvp` takes as duals: `f64`, `&[f64]`, `Vec<f64>`,
/// `[f64; N]` and nestings of those (`&[[f64; 3]]`, `Vec<Vec<f64>>`), tensors and nalgebra
/// matrices (or of `f32`).
fn float_of_param(ty: &Type) -> Option<Ident> {
    match ty {
        Type::Path(_) => nested_float(ty)
            .or_else(|| tensor_float(ty))
            .or_else(|| matrix_float(ty)),
        Type::Reference(r) if r.mutability.is_none() => match &*r.elem {
            Type::Slice(s) => nested_float(&s.elem),
            elem @ Type::Array(_) => nested_float(elem),
            elem => tensor_float(elem).or_else(|| matrix_float(elem)),
        },
        Type::Array(_) => nested_float(ty),
        Type::Paren(p) => float_of_param(&p.elem),
        _ => None,
    }
}

/// Whether a parameter's type (a reference stripped) goes through `Dualize` in `f_hvp`: a
/// struct deriving `Differentiable`, a tuple or a type alias (a path without generic
/// arguments that is no float, tensor or matrix), and slices, arrays and `Vec`s of those.
/// The copy names such a struct `<X as Dualize>::Over<T>`.
fn dualized_type(ty: &Type) -> bool {
    let ty = match ty {
        Type::Reference(r) if r.mutability.is_none() => match &*r.elem {
            Type::Slice(s) => return dualizable(&s.elem),
            elem => elem,
        },
        ty => ty,
    };
    dualizable(ty)
}

/// A type `Dualize` converts whole, of at least one struct or tuple.
fn dualizable(ty: &Type) -> bool {
    match ty {
        Type::Paren(p) => dualizable(&p.elem),
        Type::Tuple(t) => !t.elems.is_empty() && !is_inactive_type(ty),
        Type::Array(a) => dualizable(&a.elem),
        Type::Path(p) if is_struct_path(p) => !is_inactive_type(ty),
        _ => vec_elem(ty).is_some_and(dualizable),
    }
}

/// A path naming a type without generic arguments, none of the float, tensor, matrix or
/// `Vec` types the copy rewrites itself: a struct or a type alias.
fn is_struct_path(p: &syn::TypePath) -> bool {
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    let name = last.ident.to_string();
    p.qself.is_none()
        && p.path.segments.iter().all(|s| s.arguments.is_none())
        && !["f64", "f32", "Tensor", "Vec", "Self"].contains(&name.as_str())
        && !crate::ast::is_matrix_name(&name)
}

/// The float of a float, or of arrays and `Vec`s of floats, nested.
fn nested_float(ty: &Type) -> Option<Ident> {
    match ty {
        Type::Array(a) => nested_float(&a.elem),
        Type::Paren(p) => nested_float(&p.elem),
        _ => float_ident(ty).or_else(|| vec_elem(ty).and_then(nested_float)),
    }
}

fn float_ident(ty: &Type) -> Option<Ident> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .get_ident()
            .filter(|id| *id == "f64" || *id == "f32")
            .cloned(),
        Type::Paren(p) => float_ident(&p.elem),
        _ => None,
    }
}

/// The element type of `Tensor<f64>`, `Tensor<f32>` or `Tensor` (whose default is `f32`),
/// by any path.
fn tensor_float(ty: &Type) -> Option<Ident> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if p.qself.is_some() || seg.ident != "Tensor" {
        return None;
    }
    match &seg.arguments {
        syn::PathArguments::None => Some(Ident::new("f32", seg.ident.span())),
        syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
            syn::GenericArgument::Type(t) => float_ident(t),
            _ => None,
        },
        _ => None,
    }
}

/// The element type of a nalgebra matrix or vector of `f64` or `f32`, by any path
/// (`Vector3<f64>`, `nalgebra::DVector<f32>`, `SMatrix<f64, 2, 3>`).
fn matrix_float(ty: &Type) -> Option<Ident> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if p.qself.is_some() || !crate::ast::is_matrix_name(&seg.ident.to_string()) {
        return None;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => match a.args.first()? {
            syn::GenericArgument::Type(t) => float_ident(t),
            _ => None,
        },
        _ => None,
    }
}

fn vec_elem(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != "Vec" {
        return None;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// The function's float type (`f64` where it names none itself, `f32` where a parameter is
/// a `Tensor` of the default element type).
fn float_type(f: &Function) -> Ident {
    let mut floats = Floats::default();
    floats.visit_item_fn(&f.item);
    match (floats.f64, floats.f32) {
        (None, Some(s)) => Ident::new("f32", s),
        (None, None) if default_tensor(f).is_some() => Ident::new("f32", Span::call_site()),
        _ => Ident::new("f64", Span::call_site()),
    }
}

/// Where a parameter is a `Tensor` written without its element type (so of `f32`).
fn default_tensor(f: &Function) -> Option<Span> {
    f.item.sig.inputs.iter().find_map(|input| {
        let syn::FnArg::Typed(pt) = input else {
            return None;
        };
        let ty = match &*pt.ty {
            Type::Reference(r) => &*r.elem,
            ty => ty,
        };
        let Type::Path(p) = ty else { return None };
        let seg = p.path.segments.last()?;
        (seg.ident == "Tensor" && seg.arguments.is_none()).then(|| seg.ident.span())
    })
}

/// The hidden copy and its reverse-mode derivatives, then `f_hvp`; nothing without
/// `order = 2`. Called after `check` and the first-order expansion succeeded.
pub fn items(attr: &Attr, f: &Function) -> TokenStream {
    if attr.order2.is_none() {
        return TokenStream::new();
    }
    let (copy, aliases) = dual_copy(attr, f);
    let krate = &attr.krate;
    let wrt = attr.wrt.as_ref().map(|names| quote!(wrt(#(#names),*),));
    let args = quote!(reverse, #wrt crate = #krate);
    let expanded = expand::function(args, copy, &[]);
    // The copy's own body computes its value through its pullback's forward pass: the
    // derivatives call rules, which take a float on the left of a tensor (`s / t`, `2.0 * t`)
    // as `T`, where the body's operators would need `impl Div<Tensor<T>> for T`, which
    // cannot be written for a generic `T`. (Only calls from other copies with nothing
    // differentiated reach it.)
    let mut item = expanded.item;
    let vjp = names::item(&item.sig.ident, "vjp");
    let t = dual_param();
    let args = f.params.iter().map(|p| &p.name);
    item.block = syn::parse_quote!({ #vjp::<#t>(#(#args),*).0 });
    let mut out = item.into_token_stream();
    out.extend(aliases);
    out.extend(expanded.errors);
    out.extend(hidden(expanded.derived));
    out.extend(hvp_fn(attr, f));
    out.extend(grad_vjp_fn(attr, f));
    out.extend(grad_jvp_fn(attr, f));
    out
}

/// The copy's derivatives, hidden from the user's docs as the copy is.
fn hidden(items: TokenStream) -> TokenStream {
    match syn::parse2::<syn::File>(items.clone()) {
        Ok(mut file) => {
            for item in &mut file.items {
                if let syn::Item::Fn(f) = item {
                    f.attrs.push(syn::parse_quote!(#[doc(hidden)]));
                }
            }
            file.into_token_stream()
        }
        Err(_) => items,
    }
}

/// The parameters as arguments of a second call: references and scalars as they are,
/// values held by the function (`Vec`s, arrays) cloned.
fn reused_args(f: &Function) -> Vec<TokenStream> {
    f.params
        .iter()
        .map(|p| {
            let x = &p.name;
            if p.is_ref || matches!(p.form, Form::Scalar(_)) {
                quote!(#x)
            } else {
                quote!(::core::clone::Clone::clone(&#x))
            }
        })
        .collect()
}

/// The `k`-th of the active parameters' parts of a gradient-shaped value `g` (bare for one).
fn active_part(g: &Ident, k: usize, n: usize) -> TokenStream {
    if n == 1 {
        quote!(#g)
    } else {
        let k = syn::Index::from(k);
        quote!(#g.#k)
    }
}

/// `f_grad_vjp`: `f_grad`'s value and the pullback of its output `(r, g)`, which maps the
/// cotangent `(dr, dg)` to `dr ∇f + H dg` (the Hessian is symmetric, so this is one
/// `f_hvp` along `dg`). With it, `f_grad` may be called inside another differentiable
/// function.
fn grad_vjp_fn(attr: &Attr, f: &Function) -> TokenStream {
    let sig = &f.item.sig;
    let name = names::item(&names::item(&sig.ident, "grad"), "vjp");
    let grad = names::item(&sig.ident, "grad");
    let hvp = names::item(&sig.ident, "hvp");
    let (vis, inputs, ret) = (&f.item.vis, &sig.inputs, &f.ret);
    let g_ty = expand::grad_type(attr, f);
    let pb_ty = expand::pullback_type(attr, f);
    let rt = names::runtime();
    let use_rt = names::runtime_use(&attr.krate);
    let result = names::aux("result", 0);
    let (value, g, dr, dg, hv) = (
        names::aux("value", 0),
        names::aux("gradient", 0),
        names::aux("d_value", 0),
        names::aux("d_gradient", 0),
        names::aux("hv", 0),
    );
    let n = f.active_params().count();
    let mut tangents = Vec::new();
    let mut slots = Vec::new();
    let mut k = 0;
    for p in &f.params {
        if !p.active {
            tangents.push(quote!(#rt::NoTangent));
            slots.push(quote!(#rt::NoTangent));
            continue;
        }
        let d = active_part(&dg, k, n);
        tangents.push(if Function::tangent_arg_is_ref(p) {
            quote!(&#d)
        } else {
            d
        });
        let (gk, hk) = (active_part(&g, k, n), active_part(&hv, k, n));
        slots.push(quote!(#rt::grad_pullback(#dr, #gk, #hk)));
        k += 1;
    }
    let slots = if slots.len() == 1 {
        slots.remove(0)
    } else {
        quote!((#(#slots),*))
    };
    let first = reused_args(f);
    let args: Vec<&Ident> = f.params.iter().map(|p| &p.name).collect();
    let doc = format!(
        "Value and pullback of [`{}`]: the pullback maps the cotangent `(dr, dg)` of its result to `dr ∇f + H dg`, one slot per parameter. Written by `#[differentiable(order = 2)]`.",
        grad
    );
    let attrs = common_attrs(f);
    quote! {
        #[doc = #doc]
        #attrs
        #vis fn #name(#inputs) -> ((#ret, #g_ty), impl ::core::ops::FnOnce((#ret, #g_ty)) -> #pb_ty) {
            #use_rt
            let (#value, #g) = #grad(#(#first),*);
            let #result = (#value, ::core::clone::Clone::clone(&#g));
            (#result, move |(#dr, #dg): (#ret, #g_ty)| {
                let (_, _, #hv) = #hvp(#(#args,)* #(#tangents),*);
                #slots
            })
        }
    }
}

/// `f_grad_jvp`: `f_grad`'s value and its derivative along the tangents (as `f_jvp`
/// takes them): `(<∇f, v>, H v)`, from one `f_hvp`.
fn grad_jvp_fn(attr: &Attr, f: &Function) -> TokenStream {
    let vnames = direction_names(f);
    let sig = &f.item.sig;
    let name = names::item(&names::item(&sig.ident, "grad"), "jvp");
    let grad = names::item(&sig.ident, "grad");
    let hvp = names::item(&sig.ident, "hvp");
    let (vis, inputs, ret) = (&f.item.vis, &sig.inputs, &f.ret);
    let g_ty = expand::grad_type(attr, f);
    let rt = names::runtime();
    let use_rt = names::runtime_use(&attr.krate);
    let (value, g, hv, d_value) = (
        names::aux("value", 0),
        names::aux("gradient", 0),
        names::aux("hv", 0),
        names::aux("d_value", 0),
    );
    let n = f.active_params().count();
    let mut tparams = Vec::new();
    let mut pairs = Vec::new();
    let mut k = 0;
    for (p, v) in f.params.iter().zip(&vnames) {
        let ty = f.tangent_arg_type(p, &attr.krate);
        tparams.push(quote!(#v: #ty));
        if p.active {
            let gk = active_part(&g, k, n);
            let v = if Function::tangent_arg_is_ref(p) {
                quote!(#v)
            } else {
                quote!(&#v)
            };
            pairs.push(if let Some(Dualized::Slice(_)) = dualized_param(p) {
                quote!(#rt::pair_tangents(&#gk, &#v.to_vec()))
            } else if dualized_param(p).is_some() {
                quote!(#rt::pair_tangents(&#gk, #v))
            } else {
                quote!(#rt::pair(&#gk, #v))
            });
            k += 1;
        }
    }
    // The tangents are read again for `<∇f, v>`: those held by value are cloned for the call.
    let args = reused_args(f);
    let directions = f.params.iter().zip(&vnames).map(|(p, v)| {
        let held = matches!(p.form, Form::VecOf(_) | Form::Value(_))
            || matches!(p.form, Form::Array(..)) && dualized_param(p).is_some();
        if p.active && held {
            quote!(::core::clone::Clone::clone(&#v))
        } else {
            quote!(#v)
        }
    });
    let comma = if inputs.is_empty() || inputs.trailing_punct() {
        quote!()
    } else {
        quote!(,)
    };
    let doc = format!(
        "Value and directional derivative of [`{grad}`] along the tangents given (as `{}_jvp` takes them): `((f, ∇f), (<∇f, v>, H v))`. Written by `#[differentiable(order = 2)]`.",
        sig.ident
    );
    let attrs = common_attrs(f);
    quote! {
        #[doc = #doc]
        #attrs
        #vis fn #name(#inputs #comma #(#tparams),*) -> ((#ret, #g_ty), (#ret, #g_ty)) {
            #use_rt
            let (#value, #g, #hv) = #hvp(#(#args,)* #(#directions),*);
            let #d_value = <#ret as #rt::Real>::from_f64(0.0 #(+ #pairs)*);
            ((#value, #g), (#d_value, #hv))
        }
    }
}

/// `f_hvp`'s stub where the function had errors, so that its callers report nothing more.
pub fn stub(attr: &Attr, f: &Function) -> TokenStream {
    if attr.order2.is_none() || !f.scalar_ret {
        return TokenStream::new();
    }
    let (sig, tparams) = hvp_signature(attr, f);
    let attrs = common_attrs(f);
    quote! {
        #attrs
        #sig {
            let _ = (#(#tparams),*);
            ::core::unreachable!()
        }
    }
}

/// The names of the direction parameters: `x` → `vx` (`__grad_vx` where `vx` is taken).
fn direction_names(f: &Function) -> Vec<Ident> {
    let taken: Vec<String> = f.params.iter().map(|p| p.name.to_string()).collect();
    f.params
        .iter()
        .map(|p| {
            let plain = format!("v{}", p.name.to_string().trim_start_matches("r#"));
            if taken.contains(&plain) {
                names::local(format!("__grad_{plain}"), p.name.span())
            } else {
                Ident::new(&plain, p.name.span())
            }
        })
        .collect()
}

/// `f_hvp`'s signature, and the names of its direction parameters.
fn hvp_signature(attr: &Attr, f: &Function) -> (TokenStream, Vec<Ident>) {
    let sig = &f.item.sig;
    let name = names::item(&sig.ident, "hvp");
    let (vis, inputs, ret) = (&f.item.vis, &sig.inputs, &f.ret);
    let g = expand::grad_type(attr, f);
    let names = direction_names(f);
    let tparams = f.params.iter().zip(&names).map(|(p, v)| {
        let ty = f.tangent_arg_type(p, &attr.krate);
        quote!(#v: #ty)
    });
    let comma = if inputs.is_empty() || inputs.trailing_punct() {
        quote!()
    } else {
        quote!(,)
    };
    (
        quote!(#vis fn #name(#inputs #comma #(#tparams),*) -> (#ret, #g, #g)),
        names,
    )
}

/// How `f_hvp` passes a parameter of structs or tuples through `Dualize`.
enum Dualized {
    /// Converted whole (`&Params`, `(f64, f64)`, `Vec<Atom>`, `[Atom; 3]`), of this type.
    Whole(TokenStream),
    /// A slice `&[E]`, converted into a `Vec` of twins, its gradient a `Vec` of `E`'s.
    Slice(Type),
}

impl Dualized {
    /// The type whose `Dualize` splits the gradient.
    fn whole(&self) -> TokenStream {
        match self {
            Dualized::Whole(t) => t.clone(),
            Dualized::Slice(e) => quote!(::std::vec::Vec<#e>),
        }
    }
}

/// Whether (and how) `f_hvp` passes the parameter through `Dualize`.
fn dualized_param(p: &Param) -> Option<Dualized> {
    let whole =
        |t: &Type| (float_of_param(t).is_none() && dualizable(t)).then(|| t.to_token_stream());
    match &p.form {
        Form::Ref(t) | Form::Value(t) => whole(t).map(Dualized::Whole),
        Form::Slice(e) => {
            (float_of_param(e).is_none() && dualizable(e)).then(|| Dualized::Slice(e.clone()))
        }
        Form::VecOf(e) => whole(e).map(|e| Dualized::Whole(quote!(::std::vec::Vec<#e>))),
        Form::Array(e, n) => whole(e).map(|e| Dualized::Whole(quote!([#e; #n]))),
        Form::Scalar(_) => None,
    }
}

/// `f_hvp`: the inputs as duals along the direction, the copy's gradient at them, and its
/// value and tangent parts.
fn hvp_fn(attr: &Attr, f: &Function) -> TokenStream {
    let (sig, vnames) = hvp_signature(attr, f);
    let rt = names::runtime();
    let use_rt = names::runtime_use(&attr.krate);
    let float = float_type(f);
    let dual = quote!(#rt::Dual<#float>);
    let copy_grad = names::item(&copy_name(&f.item.sig.ident), "grad");
    let mut prelude = TokenStream::new();
    let mut args = Vec::new();
    for (p, v) in f.params.iter().zip(&vnames) {
        let x = &p.name;
        let xs = names::local(format!("__grad_dual_{x}"), x.span());
        let lit = x.to_string();
        // Every form `check` lets through is `ToDuals`: floats, arrays, slices and `Vec`s of
        // them, tensors and nalgebra matrices; a parameter held by reference is passed as it
        // is, one held by value borrowed.
        let data = crate::ast::form_is_inactive(&p.form);
        let by_ref = matches!(p.form, Form::Slice(_) | Form::Ref(_));
        let (bx, bv) = if by_ref {
            (quote!(#x), quote!(#v))
        } else {
            (quote!(&#x), quote!(&#v))
        };
        // Structs and tuples go through `Dualize`, whose twin's float is named here.
        let conv = match (p.active, dualized_param(p)) {
            _ if data => quote!(#x),
            (true, None) => quote!(#rt::duals(#bx, #bv, #lit)),
            (false, None) => quote!(#rt::constants(#bx)),
            (true, Some(Dualized::Slice(_))) => {
                quote!(#rt::dualize_slice::<#float, _>(#bx, #bv, #lit))
            }
            (false, Some(Dualized::Slice(_))) => {
                quote!(#rt::dualize_slice_constant::<#float, _>(#bx))
            }
            (true, Some(_)) => quote!(#rt::dualize::<#float, _>(#bx, #bv, #lit)),
            (false, Some(_)) => quote!(#rt::dualize_constant::<#float, _>(#bx)),
        };
        prelude.extend(quote!(let #xs = #conv;));
        // The duals of a parameter held by reference live in a local, borrowed by the call.
        if by_ref && !data {
            args.push(quote!(&#xs));
        } else {
            args.push(quote!(#xs));
        }
        if !p.active {
            prelude.extend(quote!(let _ = #v;));
        }
    }
    let g = names::aux("dual_gradient", 0);
    let y = names::aux("dual_value", 0);
    let n = f.active_params().count();
    let mut split = TokenStream::new();
    let (res, tan): (Vec<TokenStream>, Vec<TokenStream>) = f
        .active_params()
        .enumerate()
        .map(|(k, p)| {
            let gk = active_part(&g, k, n);
            match dualized_param(p).map(|d| d.whole()) {
                Some(ty) => {
                    let parts = names::aux("dual_parts", k);
                    split.extend(quote!(
                        let #parts = #rt::dualize_parts::<#float, #ty>(&#gk);
                    ));
                    (quote!(#parts.0), quote!(#parts.1))
                }
                None => (
                    quote!(#rt::dual_values(&#gk)),
                    quote!(#rt::dual_tangents(&#gk)),
                ),
            }
        })
        .unzip();
    let wrap = |v: Vec<TokenStream>| {
        if v.len() == 1 {
            v.into_iter().next().unwrap_or_default()
        } else {
            quote!((#(#v),*))
        }
    };
    let (res, tan) = (wrap(res), wrap(tan));
    let name = &f.item.sig.ident;
    let doc = format!(
        "Value, gradient and Hessian-vector product of [`{name}`]: `{name}_hvp(args.., v..)` returns `(f, ∇f, H v)`, the direction given as `{name}_jvp` takes tangents. Written by `#[differentiable(order = 2)]`."
    );
    let attrs = common_attrs(f);
    quote! {
        #[doc = #doc]
        #attrs
        #sig {
            #use_rt
            #prelude
            let (#y, #g) = #copy_grad::<#dual>(#(#args),*);
            #split
            (#y.re, #res, #tan)
        }
    }
}

/// The copy of the function over a generic float: `__f_order2<__GradT: Order2>`, and the
/// aliases of the twins its struct literals build.
fn dual_copy(attr: &Attr, f: &Function) -> (ItemFn, TokenStream) {
    let mut item = f.item.clone();
    let t = dual_param();
    let krate = &attr.krate;
    item.attrs
        .retain(|a| a.path().is_ident("cfg") || a.path().is_ident("inline"));
    item.attrs.push(syn::parse_quote!(#[doc(hidden)]));
    item.sig.ident = copy_name(&f.item.sig.ident);
    item.sig
        .generics
        .params
        .push(syn::parse_quote!(#t: #krate::__private::Order2));
    // A struct or tuple parameter may hold matrices whose methods (`norm`) the body calls
    // without naming a matrix type.
    let holds_structs = f.params.iter().any(|p| dualized_param(p).is_some());
    if crate::ast::uses_matrices(&f.item) || holds_structs {
        item.sig
            .generics
            .make_where_clause()
            .predicates
            .push(syn::parse_quote!(#t: #krate::__private::NalgebraField));
    }
    let mut ints = Ints::default();
    for p in &f.params {
        if crate::ast::form_is_inactive(&p.form) {
            ints.names.push(p.name.to_string());
        }
    }
    ints.visit_block(&item.block);
    let mut closures = ClosureNames::default();
    closures.visit_block(&item.block);
    let mut structs = StructTypes::default();
    for input in &item.sig.inputs {
        if let syn::FnArg::Typed(pt) = input
            && float_of_param(&pt.ty).is_none()
            && dualized_type(&pt.ty)
        {
            structs.visit_type(&pt.ty);
        }
    }
    StructLiterals(&mut structs.0).visit_block(&item.block);
    let mut rw = Rewrite {
        t: t.clone(),
        krate: krate.clone(),
        closures: closures.0,
        ints,
        structs: structs.0,
        aliases: Vec::new(),
        base: f.item.sig.ident.clone(),
    };
    for input in item.sig.inputs.iter_mut() {
        rw.visit_fn_arg_mut(input);
    }
    rw.visit_return_type_mut(&mut item.sig.output);
    rw.visit_block_mut(&mut item.block);
    let aliases = rw.aliases.iter().map(|(path, alias)| {
        let path: syn::Path = syn::parse_str(path).unwrap_or_else(|_| syn::parse_quote!(Self));
        quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            type #alias<__GradU> = <#path as #krate::__private::Dualize>::Over<__GradU>;
        }
    });
    (item, quote!(#(#aliases)*))
}

/// The struct types the copy names through `Dualize`: those in the types of the parameters
/// it passes so (a struct, or one inside a tuple), as written.
#[derive(Default)]
struct StructTypes(Vec<String>);

impl<'a> Visit<'a> for StructTypes {
    fn visit_type_path(&mut self, p: &'a syn::TypePath) {
        let ty = Type::Path(p.clone());
        if is_struct_path(p) && !is_inactive_type(&ty) {
            self.0.push(p.path.to_token_stream().to_string());
        }
        syn::visit::visit_type_path(self, p);
    }
}

/// The structs of the struct literals of the body, as written: the copy builds them as
/// twins too. (The body's types are not parameters and are not read.)
struct StructLiterals<'s>(&'s mut Vec<String>);

impl<'a> Visit<'a> for StructLiterals<'_> {
    fn visit_expr_struct(&mut self, s: &'a syn::ExprStruct) {
        if s.qself.is_none() {
            self.0.push(s.path.to_token_stream().to_string());
        }
        syn::visit::visit_expr_struct(self, s);
    }
}

/// Names that surely hold integers (or collections of them): parameters of integer types,
/// the variables of `for` loops over ranges, and `let`s of integer expressions. A call whose
/// arguments are all such (`idx(i, n)`) is of a helper on integers, never differentiated, so
/// it keeps its name in the copy.
#[derive(Default)]
struct Ints {
    names: Vec<String>,
}

impl Ints {
    /// Whether `e` is surely an integer (or a collection of integers), by its syntax.
    fn is_int(&self, e: &Expr) -> bool {
        match strip(e) {
            Expr::Lit(l) => matches!(&l.lit, syn::Lit::Int(_) | syn::Lit::Bool(_)),
            Expr::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|id| self.names.contains(&id.to_string())),
            Expr::Cast(c) => crate::prims::is_integer_type(&c.ty),
            Expr::MethodCall(m) => {
                ["len", "count"].contains(&m.method.to_string().as_str())
                    || ["min", "max", "pow", "rem_euclid", "abs_diff"]
                        .contains(&m.method.to_string().as_str())
                        && self.is_int(&m.receiver)
            }
            Expr::Binary(b) => self.is_int(&b.left) && self.is_int(&b.right),
            Expr::Unary(u) => self.is_int(&u.expr),
            Expr::Reference(r) => self.is_int(&r.expr),
            Expr::Index(i) => self.is_int(&i.expr),
            _ => false,
        }
    }

    fn bind(&mut self, pat: &syn::Pat) {
        match pat {
            syn::Pat::Ident(p) => self.names.push(p.ident.to_string()),
            syn::Pat::Type(t) => self.bind(&t.pat),
            syn::Pat::Tuple(t) => t.elems.iter().for_each(|p| self.bind(p)),
            _ => {}
        }
    }
}

/// A range, or a range reversed or stepped (`(0..n).rev()`, `(a..b).step_by(2)`).
fn is_range(e: &Expr) -> bool {
    match strip(e) {
        Expr::Range(_) => true,
        Expr::MethodCall(m) => {
            ["rev", "step_by"].contains(&m.method.to_string().as_str()) && is_range(&m.receiver)
        }
        _ => false,
    }
}

impl<'a> Visit<'a> for Ints {
    fn visit_local(&mut self, l: &'a syn::Local) {
        syn::visit::visit_local(self, l);
        let typed_int = matches!(&l.pat, syn::Pat::Type(t) if is_inactive_type(&t.ty));
        let init_int = l.init.as_ref().is_some_and(|i| self.is_int(&i.expr));
        if typed_int || init_int {
            self.bind(&l.pat);
        }
    }
    fn visit_expr_for_loop(&mut self, f: &'a syn::ExprForLoop) {
        if is_range(&f.expr) {
            self.bind(&f.pat);
        }
        syn::visit::visit_expr_for_loop(self, f);
    }
}

/// Names bound to closures by `let` (their calls are inlined, never renamed).
#[derive(Default)]
struct ClosureNames(Vec<String>);

impl<'a> Visit<'a> for ClosureNames {
    fn visit_local(&mut self, l: &'a syn::Local) {
        if let (syn::Pat::Ident(p), Some(init)) = (&l.pat, &l.init)
            && matches!(strip(&init.expr), Expr::Closure(_))
        {
            self.0.push(p.ident.to_string());
        }
        syn::visit::visit_local(self, l);
    }
}

/// A path to a `const` or `static` by Rust's naming convention: its last segment in upper
/// case (`K`, `LINKS`, `consts::TAU_2`).
fn is_constant(p: &syn::ExprPath) -> bool {
    p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| {
            let name = s.ident.to_string();
            name.chars().any(|c| c.is_ascii_uppercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        _ => e,
    }
}

/// Whether `e` is a float literal, negated or in parentheses or not.
fn is_float_literal(e: &Expr) -> bool {
    match strip(e) {
        Expr::Lit(l) => matches!(l.lit, syn::Lit::Float(_)),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => is_float_literal(&u.expr),
        _ => false,
    }
}

/// In a condition, which the macro writes out as it stands (a `bool` has no derivative): a
/// float literal on the left of `+`, `*` or `-` moved to the right (`1.0 + t` → `t + 1.0`,
/// `1.0 - t` → `-(t - 1.0)`, both exact), since in the copy the literal is of the generic
/// float `T`, and `T + Tensor<T>` has no impl (none can be written for a generic `T`).
struct Commute;

impl VisitMut for Commute {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        let Expr::Binary(b) = e else { return };
        if !is_float_literal(&b.left) || is_float_literal(&b.right) {
            return;
        }
        let (left, right) = (&b.left, &b.right);
        *e = match b.op {
            syn::BinOp::Add(op) => syn::parse_quote!((#right) #op #left),
            syn::BinOp::Mul(op) => syn::parse_quote!((#right) #op #left),
            syn::BinOp::Sub(op) => syn::parse_quote!((-((#right) #op #left))),
            _ => return,
        };
    }
}

/// The arithmetic operator of a compound assignment: `+=` → `+`, and so on.
fn compound_op(op: &syn::BinOp) -> Option<syn::BinOp> {
    Some(match op {
        syn::BinOp::AddAssign(t) => syn::BinOp::Add(Token![+](t.spans[0])),
        syn::BinOp::SubAssign(t) => syn::BinOp::Sub(Token![-](t.spans[0])),
        syn::BinOp::MulAssign(t) => syn::BinOp::Mul(Token![*](t.spans[0])),
        syn::BinOp::DivAssign(t) => syn::BinOp::Div(Token![/](t.spans[0])),
        syn::BinOp::RemAssign(t) => syn::BinOp::Rem(Token![%](t.spans[0])),
        _ => return None,
    })
}

/// The rewriting of the copy's types and expressions to the generic float `t`.
struct Rewrite {
    t: Ident,
    krate: syn::Path,
    closures: Vec<String>,
    /// Names that hold integers, so that calls of helpers on them keep their name.
    ints: Ints,
    /// The struct types named through `Dualize` (see [`StructTypes`] and [`StructLiterals`]).
    structs: Vec<String>,
    /// The aliases of the twins that struct literals build: the struct's path, the alias.
    aliases: Vec<(String, Ident)>,
    /// The user's function, whose name the aliases carry.
    base: Ident,
}

/// Functions of the runtime that are generic over `Real` already, called by their bare name.
const RUNTIME_FUNCTIONS: &[&str] = &["stop_gradient", "relu", "sigmoid", "clamp"];

impl Rewrite {
    fn is_float(id: &Ident) -> bool {
        id == "f64" || id == "f32"
    }

    /// `lift::<T, _>(e)`: a number as the dual type.
    fn lift(&self, e: TokenStream, span: Span) -> Expr {
        let (t, krate) = (&self.t, &self.krate);
        syn::parse_quote_spanned!(span=> #krate::__private::lift::<#t, _>(#e))
    }

    /// `promote::<T, _>(K)`: a named constant in the copy's types (floats as `T`).
    fn promote(&self, e: TokenStream, span: Span) -> Expr {
        let (t, krate) = (&self.t, &self.krate);
        syn::parse_quote_spanned!(span=> #krate::__private::promote::<#t, _>(#e))
    }

    /// Whether a call of `path` goes to a user function (whose copy it then calls).
    fn renames(&self, path: &syn::Path) -> bool {
        let Some(last) = path.segments.last() else {
            return false;
        };
        let name = last.ident.to_string();
        let first = &path.segments[0].ident;
        let lower = |id: &Ident| {
            let s = id.to_string();
            s.starts_with(|c: char| c.is_lowercase() || c == '_')
        };
        path.leading_colon.is_none()
            && path.segments.iter().all(|s| lower(&s.ident))
            && !Self::is_float(first)
            && *first != self.t
            && !(path.segments.len() == 1 && self.closures.contains(&name))
            && !RUNTIME_FUNCTIONS.contains(&name.as_str())
            && !(path.segments.len() > 1
                && ["grad", "std", "core", "alloc"].iter().any(|m| first == m))
    }
}

impl VisitMut for Rewrite {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(p) = ty
            && p.qself.is_none()
            && p.path.get_ident().is_some_and(Self::is_float)
        {
            let span = p.span();
            let t = Ident::new(&self.t.to_string(), span);
            *ty = syn::parse_quote!(#t);
            return;
        }
        // A struct: its twin over `T`.
        if let Type::Path(p) = ty
            && is_struct_path(p)
            && self.structs.contains(&p.path.to_token_stream().to_string())
        {
            let (t, krate) = (&self.t, &self.krate);
            *ty =
                syn::parse_quote_spanned!(p.span()=> <#p as #krate::__private::Dualize>::Over<#t>);
            return;
        }
        // `Tensor` of the default element type (`f32`) is a `Tensor` of duals.
        if let Type::Path(p) = ty
            && p.qself.is_none()
            && let Some(seg) = p.path.segments.last_mut()
            && seg.ident == "Tensor"
            && seg.arguments.is_none()
        {
            let t = &self.t;
            seg.arguments = syn::PathArguments::AngleBracketed(syn::parse_quote!(<#t>));
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::If(i) => Commute.visit_expr_mut(&mut i.cond),
            Expr::While(w) => Commute.visit_expr_mut(&mut w.cond),
            _ => {}
        }
        match e {
            Expr::Lit(l) => {
                if let syn::Lit::Float(lit) = &l.lit {
                    let span = lit.span();
                    let digits = format!("{}f64", lit.base10_digits());
                    let lit = syn::LitFloat::new(&digits, span);
                    let (t, krate) = (&self.t, &self.krate);
                    *e = syn::parse_quote_spanned!(span=>
                        <#t as #krate::Real>::from_f64(#lit));
                }
                return;
            }
            // `a[i] += e` → `a[i] = a[i] + (e)`: on the generic float, `+=` is `AddAssign`,
            // which borrows `a` mutably before `e` is evaluated, so `a[i] += a[j]` would not
            // compile (E0502); an assignment evaluates its value first. Only for indexed places:
            // a variable or a field is borrowed in two phases, and reads of it are allowed.
            Expr::Binary(b)
                if matches!(strip(&b.left), Expr::Index(_)) && compound_op(&b.op).is_some() =>
            {
                let (left, right) = (&b.left, &b.right);
                let op = compound_op(&b.op).unwrap_or(b.op);
                *e = syn::parse_quote_spanned!(b.op.span()=> #left = #left #op (#right));
                self.visit_expr_mut(e);
                return;
            }
            // `Pt { x: a, .. }` builds the twin, through an alias: a struct literal cannot
            // name `<Pt as Dualize>::Over<T>` itself.
            Expr::Struct(st) if st.qself.is_none() => {
                let key = st.path.to_token_stream().to_string();
                let alias = match self.aliases.iter().find(|(k, _)| *k == key) {
                    Some((_, a)) => a.clone(),
                    None => {
                        let k = self.aliases.len();
                        let base = self.base.to_string();
                        let a = format_ident!(
                            "__grad_{}_order2_struct{}",
                            base.trim_start_matches("r#"),
                            k
                        );
                        self.aliases.push((key, a.clone()));
                        a
                    }
                };
                let t = &self.t;
                let span = st.path.span();
                st.path = syn::parse_quote_spanned!(span=> #alias::<#t>);
                syn::visit_mut::visit_expr_struct_mut(self, st);
                return;
            }
            Expr::Cast(c) if float_ident(&c.ty).is_some() => {
                self.visit_expr_mut(&mut c.expr);
                let inner = &c.expr;
                *e = self.lift(quote!(#inner), c.as_token.span);
                return;
            }
            Expr::Call(c) => {
                for a in c.args.iter_mut() {
                    self.visit_expr_mut(a);
                }
                if let Expr::Path(p) = &mut *c.func
                    && p.qself.is_none()
                {
                    let path = &mut p.path;
                    if path.segments.len() == 2
                        && Self::is_float(&path.segments[0].ident)
                        && path.segments[1].ident == "from"
                        && c.args.len() == 1
                    {
                        // `f64::from(n)`: a number as the dual type, as `n as f64`.
                        let arg = &c.args[0];
                        *e = self.lift(quote!(#arg), c.paren_token.span.join());
                        return;
                    }
                    if path.segments.len() >= 2 && Self::is_float(&path.segments[0].ident) {
                        // `f64::max(a, b)` → `T::max(a, b)`, a primitive in call form.
                        let span = path.segments[0].ident.span();
                        path.segments[0].ident = Ident::new(&self.t.to_string(), span);
                    } else if self.renames(path)
                        && !c.args.iter().all(|a| self.ints.is_int(a))
                        && let Some(last) = path.segments.last_mut()
                    {
                        last.ident = copy_name(&last.ident);
                    }
                    return;
                }
                self.visit_expr_mut(&mut c.func);
                return;
            }
            Expr::Path(p)
                if p.qself.is_none()
                    && p.path.segments.len() == 2
                    && Self::is_float(&p.path.segments[0].ident)
                    && p.path.segments[1]
                        .ident
                        .to_string()
                        .starts_with(|c: char| c.is_ascii_lowercase()) =>
            {
                // `f64::sin`, `f64::total_cmp` as a value (`a.map(f64::sin)`, `sort_by(..)`):
                // the function of the float type, as in call form.
                let span = p.path.segments[0].ident.span();
                p.path.segments[0].ident = Ident::new(&self.t.to_string(), span);
                return;
            }
            Expr::Path(p)
                if p.qself.is_none()
                    && p.path.segments.len() >= 2
                    && p.path.segments.iter().any(|s| Self::is_float(&s.ident)) =>
            {
                // `f64::EPSILON`, `std::f64::consts::PI`: constants of the float type.
                let span = p.span();
                *e = self.lift(p.to_token_stream(), span);
                return;
            }
            Expr::Path(p) if is_constant(p) => {
                let span = p.span();
                *e = self.promote(p.to_token_stream(), span);
                return;
            }
            Expr::Index(i) if matches!(strip(&i.expr), Expr::Path(p) if is_constant(p)) => {
                // `LINKS[k]`: the element, promoted (not the whole array, on every read).
                self.visit_expr_mut(&mut i.index);
                let span = i.span();
                *e = self.promote(i.to_token_stream(), span);
                return;
            }
            _ => {}
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        // `vec![e; n]`, `vec![a, b]`, `assert!(x > 0.0)`, `println!("{}", x)`: the
        // arguments are expressions (a format string is left as it is).
        let tokens = m.tokens.clone();
        let repeat = |input: syn::parse::ParseStream| {
            let e: Expr = input.parse()?;
            let semi: Token![;] = input.parse()?;
            let n: Expr = input.parse()?;
            Ok((e, semi, n))
        };
        if let Ok((mut e, semi, mut n)) = syn::parse::Parser::parse2(repeat, tokens.clone()) {
            self.visit_expr_mut(&mut e);
            self.visit_expr_mut(&mut n);
            m.tokens = quote!(#e #semi #n);
        } else if let Ok(mut list) =
            syn::parse::Parser::parse2(Punctuated::<Expr, Token![,]>::parse_terminated, tokens)
        {
            for e in list.iter_mut() {
                self.visit_expr_mut(e);
            }
            m.tokens = list.into_token_stream();
        }
    }
}
