//! Our view of the function: its parameters with their role and tangent form, and its result.

use crate::attr::Attr;
use crate::ctxt::Ctxt;
use crate::diag;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{FnArg, GenericParam, Ident, ItemFn, Pat, ReturnType, Type};

/// How a parameter's tangent is typed, read from the parameter's type.
#[derive(Clone)]
pub enum Form {
    /// `f32`, `f64` or a generic float: the tangent is the same type.
    Scalar(Type),
    /// `&[E]`: cotangent `Vec<E'>`, `_jvp` tangent `&[E']`.
    Slice(Type),
    /// `Vec<E>`: cotangent and tangent `Vec<E'>`.
    VecOf(Type),
    /// `[E; N]`: cotangent and tangent `[E'; N]`.
    Array(Type, syn::Expr),
    /// `&X`: cotangent `X'`, `_jvp` tangent `&X'`.
    Ref(Type),
    /// `X`: cotangent and tangent `X'`.
    Value(Type),
}

/// One parameter, `self` included.
#[derive(Clone)]
pub struct Param {
    pub name: Ident,
    pub form: Form,
    /// Differentiated (in `wrt`, or by default).
    pub active: bool,
    /// The parameter holds a reference.
    pub is_ref: bool,
    pub is_self: bool,
}

/// The function being differentiated.
pub struct Function {
    pub item: ItemFn,
    pub params: Vec<Param>,
    pub ret: Type,
    /// The result is a scalar float, so `_grad` can seed it with `1`.
    pub scalar_ret: bool,
    /// Names of the function's type parameters (generic floats among them).
    pub type_params: Vec<Ident>,
}

/// Reads the function's signature, recording problems in `cx`. `outer_floats`: type
/// parameters of an enclosing `impl` known to be floats (bounded by `Real`).
pub fn read(cx: &mut Ctxt, attr: &Attr, item: ItemFn, outer_floats: &[Ident]) -> Function {
    let sig = &item.sig;
    if let Some(t) = &sig.asyncness {
        cx.error(t.span, diag::ASYNC);
    }
    if let Some(t) = &sig.constness {
        cx.error(t.span, diag::CONST_FN);
    }
    if let Some(t) = &sig.unsafety {
        cx.error(t.span, diag::UNSAFE_FN);
    }
    if let Some(v) = &sig.variadic {
        cx.error_at(v, diag::VARIADIC);
    }
    let type_params: Vec<Ident> = outer_floats
        .iter()
        .cloned()
        .chain(sig.generics.params.iter().filter_map(|p| match p {
            GenericParam::Type(t) => Some(t.ident.clone()),
            _ => None,
        }))
        .collect();

    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => {
                if r.reference.is_some() && r.mutability.is_some() {
                    cx.error_at(r, diag::MUT_SELF);
                }
                let self_ty: Type = syn::parse_quote!(Self);
                let is_ref = r.reference.is_some();
                params.push(Param {
                    name: Ident::new("self", r.self_token.span),
                    form: if is_ref {
                        Form::Ref(self_ty)
                    } else {
                        Form::Value(self_ty)
                    },
                    active: true,
                    is_ref,
                    is_self: true,
                });
            }
            FnArg::Typed(pt) => {
                let name = match &*pt.pat {
                    Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
                    other => {
                        cx.error_at(other, diag::PATTERN_PARAM);
                        Ident::new("__grad_bad_param", other.span())
                    }
                };
                let ty = &*pt.ty;
                check_param_type(cx, ty);
                let is_ref = matches!(ty, Type::Reference(_));
                params.push(Param {
                    name,
                    form: form_of(ty, &type_params),
                    active: !is_inactive_type(ty),
                    is_ref,
                    is_self: false,
                });
            }
        }
    }

    if let Some(wrt) = &attr.wrt {
        for p in &mut params {
            p.active = false;
        }
        for name in wrt {
            match params.iter_mut().find(|p| p.name == *name) {
                Some(p) if !p.is_self && form_is_inactive(&p.form) => {
                    cx.error(name.span(), diag::wrt_inactive_type(&name.to_string()));
                }
                Some(p) => p.active = true,
                None => {
                    let list = params
                        .iter()
                        .map(|p| format!("`{}`", p.name))
                        .collect::<Vec<_>>()
                        .join(", ");
                    cx.error(name.span(), diag::wrt_unknown(&name.to_string(), &list));
                }
            }
        }
    } else if !params.iter().any(|p| p.active) {
        cx.error(sig.ident.span(), diag::NO_ACTIVE_PARAM);
    }

    let ret = match &sig.output {
        ReturnType::Type(_, ty) => (**ty).clone(),
        ReturnType::Default => {
            cx.error(sig.ident.span(), diag::NO_RETURN);
            syn::parse_quote!(())
        }
    };
    if is_inactive_type(&ret) {
        cx.error_at(
            &ret,
            diag::inactive_result(&ret.to_token_stream().to_string()),
        );
    }
    let scalar_ret = is_scalar_type(&ret, &type_params);
    Function {
        item,
        params,
        ret,
        scalar_ret,
        type_params,
    }
}

fn check_param_type(cx: &mut Ctxt, ty: &Type) {
    match ty {
        Type::Reference(r) if r.mutability.is_some() => cx.error_at(ty, diag::MUT_REF_PARAM),
        Type::ImplTrait(_) => cx.error_at(ty, diag::IMPL_TRAIT_PARAM),
        _ => {}
    }
}

fn last_ident(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| &s.ident),
        Type::Paren(p) => last_ident(&p.elem),
        Type::Group(g) => last_ident(&g.elem),
        _ => None,
    }
}

fn single_generic_arg(ty: &Type, outer: &str) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != outer {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) if args.args.len() == 1 => Some(t.clone()),
        _ => None,
    }
}

/// `f32`, `f64`, or a bare type parameter of the function (a generic float).
pub fn is_scalar_type(ty: &Type, type_params: &[Ident]) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            let id = &p.path.segments[0].ident;
            p.path.segments[0].arguments.is_empty()
                && (id == "f32" || id == "f64" || type_params.contains(id))
        }
        Type::Paren(p) => is_scalar_type(&p.elem, type_params),
        Type::Group(g) => is_scalar_type(&g.elem, type_params),
        _ => false,
    }
}

/// Whether a type is syntactically never differentiated: integers, `bool`, `char`, `str`,
/// and references, slices, arrays and `Vec`s of those.
pub fn is_inactive_type(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => is_inactive_type(&r.elem),
        Type::Slice(s) => is_inactive_type(&s.elem),
        Type::Array(a) => is_inactive_type(&a.elem),
        Type::Paren(p) => is_inactive_type(&p.elem),
        Type::Group(g) => is_inactive_type(&g.elem),
        Type::Path(_) => {
            if let Some(elem) = single_generic_arg(ty, "Vec") {
                return is_inactive_type(&elem);
            }
            last_ident(ty).is_some_and(|id| {
                let id = id.to_string();
                COPY_PRIMITIVES.contains(&id.as_str()) || id == "str" || id == "String"
            })
        }
        _ => false,
    }
}

/// The integer types, `bool` and `char`: never differentiated, and `Copy`.
pub const COPY_PRIMITIVES: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "bool",
    "char",
];

/// A slice, `Vec` or array of floats, or a reference to an array of them: what `x[i]` reads
/// a scalar from.
pub fn is_float_row(form: &Form, type_params: &[Ident]) -> bool {
    match form {
        Form::Slice(t) | Form::VecOf(t) | Form::Array(t, _) => is_scalar_type(t, type_params),
        Form::Ref(Type::Array(a)) => is_scalar_type(&a.elem, type_params),
        _ => false,
    }
}

pub fn form_is_inactive(form: &Form) -> bool {
    match form {
        Form::Scalar(_) => false,
        Form::Slice(t) | Form::VecOf(t) | Form::Array(t, _) | Form::Ref(t) | Form::Value(t) => {
            is_inactive_type(t)
        }
    }
}

fn form_of(ty: &Type, type_params: &[Ident]) -> Form {
    if is_scalar_type(ty, type_params) {
        return Form::Scalar(ty.clone());
    }
    match ty {
        Type::Reference(r) => match &*r.elem {
            Type::Slice(s) => Form::Slice((*s.elem).clone()),
            inner => Form::Ref(inner.clone()),
        },
        Type::Array(a) => Form::Array((*a.elem).clone(), a.len.clone()),
        Type::Paren(p) => form_of(&p.elem, type_params),
        _ => match single_generic_arg(ty, "Vec") {
            Some(elem) => Form::VecOf(elem),
            None => Form::Value(ty.clone()),
        },
    }
}

/// The tangent type of a value of type `ty` (`f64` → `f64`, else `<ty as Differentiable>::Tangent`).
pub fn tangent_of(ty: &Type, type_params: &[Ident], krate: &syn::Path) -> TokenStream {
    if is_scalar_type(ty, type_params) {
        ty.to_token_stream()
    } else {
        quote!(<#ty as #krate::Differentiable>::Tangent)
    }
}

impl Function {
    /// The type of the cotangent a pullback returns for `p` (`NoTangent` when inactive).
    pub fn cotangent_type(&self, p: &Param, krate: &syn::Path) -> TokenStream {
        if !p.active {
            return quote!(#krate::NoTangent);
        }
        let tp = &self.type_params;
        match &p.form {
            Form::Scalar(t) => t.to_token_stream(),
            Form::Slice(e) | Form::VecOf(e) => {
                let e = tangent_of(e, tp, krate);
                quote!(::std::vec::Vec<#e>)
            }
            Form::Array(e, n) => {
                let e = tangent_of(e, tp, krate);
                quote!([#e; #n])
            }
            Form::Ref(t) | Form::Value(t) => tangent_of(t, tp, krate),
        }
    }

    /// The type of `p`'s tangent argument in `_jvp` (the parameter's own form).
    pub fn tangent_arg_type(&self, p: &Param, krate: &syn::Path) -> TokenStream {
        if !p.active {
            return quote!(#krate::NoTangent);
        }
        let tp = &self.type_params;
        match &p.form {
            Form::Slice(e) => {
                let e = tangent_of(e, tp, krate);
                quote!(&[#e])
            }
            Form::Ref(t) => {
                let t = tangent_of(t, tp, krate);
                quote!(&#t)
            }
            _ => self.cotangent_type(p, krate),
        }
    }

    /// Whether the `_jvp` tangent argument of `p` is a reference.
    pub fn tangent_arg_is_ref(p: &Param) -> bool {
        p.active && matches!(p.form, Form::Slice(_) | Form::Ref(_))
    }

    pub fn active_params(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.active)
    }
}

/// Whether `name` is one of nalgebra's owned matrix and vector types (`Vector3`,
/// `Matrix2x3`, `SVector`, `DMatrix`, `OMatrix`, ...).
pub fn is_matrix_name(name: &str) -> bool {
    let rest = [
        "RowVector",
        "Vector",
        "Matrix",
        "RowDVector",
        "RowSVector",
        "RowOVector",
    ]
    .iter()
    .chain(&[
        "SVector", "SMatrix", "DVector", "DMatrix", "OVector", "OMatrix",
    ])
    .find_map(|p| name.strip_prefix(p));
    // What may follow: nothing, or sizes such as `3` and `2x3`.
    rest.is_some_and(|r| r.chars().all(|c| c.is_ascii_digit() || c == 'x'))
}

/// Whether the function names a nalgebra matrix or vector type anywhere (its `order = 2` copy
/// then asks its float type to be nalgebra's `RealField`, and its tensor fusion stays off:
/// `*` of two matrices is their product).
pub fn uses_matrices(item: &syn::ItemFn) -> bool {
    struct Names(bool);
    impl<'a> syn::visit::Visit<'a> for Names {
        fn visit_ident(&mut self, id: &'a Ident) {
            if is_matrix_name(&id.to_string()) {
                self.0 = true;
            }
        }
        fn visit_macro(&mut self, m: &'a syn::Macro) {
            self.0 |= m.tokens.clone().into_iter().any(|tt| {
                matches!(tt, proc_macro2::TokenTree::Ident(id) if is_matrix_name(&id.to_string()))
            }) || m.path.segments.last().is_some_and(|s| {
                ["vector", "matrix", "dvector", "dmatrix"].iter().any(|n| s.ident == n)
            });
        }
    }
    let mut names = Names(false);
    syn::visit::Visit::visit_item_fn(&mut names, item);
    names.0
}
