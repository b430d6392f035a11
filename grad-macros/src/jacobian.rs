//! `#[differentiable(jacobian)]`: the checks that it asks for, and `f_jacobian`, which calls
//! the function's own `_jvp` (per column) or `_vjp` (per row) through the runtime.

use crate::activity::Analysis;
use crate::ast::{Form, Function, Param};
use crate::attr::{Attr, Modes};
use crate::ctxt::Ctxt;
use crate::diag;
use crate::expand::{common_attrs, vjp_parts};
use crate::ir::{Build, Func, Op};
use crate::names;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::Type;
use syn::spanned::Spanned;

/// A Jacobian is of one differentiated parameter, and of a result that is not a scalar.
/// (No differentiated parameter at all is reported by `ast::read` already.)
pub fn check(cx: &mut Ctxt, attr: &Attr, f: &Function) {
    let Some(span) = attr.jacobian else { return };
    let name = f.item.sig.ident.to_string();
    let active: Vec<String> = f.active_params().map(|p| format!("`{}`", p.name)).collect();
    if active.len() > 1 {
        cx.error(span, diag::jacobian_several(&name, &active.join(", ")));
    }
    if f.scalar_ret {
        let ty = f.ret.to_token_stream().to_string();
        cx.error_at(&f.ret, diag::jacobian_scalar(&name, &ty));
    } else if not_a_vector(&f.ret) {
        cx.error_at(
            &f.ret,
            diag::jacobian_not_vector("the result", &tokens(&f.ret)),
        );
    }
    if let Some((k, p)) = the_param(f) {
        let what = format!("the parameter `{}`", p.name);
        match f.item.sig.inputs.iter().nth(k) {
            Some(syn::FnArg::Receiver(r)) => {
                cx.error_at(r, diag::jacobian_not_vector(&what, "Self"))
            }
            Some(syn::FnArg::Typed(pt)) if not_a_vector(&pt.ty) => {
                cx.error_at(&pt.ty, diag::jacobian_not_vector(&what, &tokens(&pt.ty)));
            }
            _ => {}
        }
    }
}

fn tokens(ty: &Type) -> String {
    ty.to_token_stream().to_string()
}

/// Types that are surely not vectors, told by their syntax: tuples, nalgebra matrices and
/// row vectors (through references). Other types that are not are left to the runtime's
/// `JacobianVector` trait, whose message says the same.
fn not_a_vector(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => not_a_vector(&r.elem),
        Type::Paren(p) => not_a_vector(&p.elem),
        Type::Group(g) => not_a_vector(&g.elem),
        Type::Tuple(_) => true,
        Type::Path(p) => p.path.segments.last().is_some_and(|s| {
            let id = s.ident.to_string();
            id.starts_with("Matrix")
                || id.starts_with("RowVector")
                || ["DMatrix", "SMatrix", "OMatrix", "RowDVector", "RowSVector"]
                    .contains(&id.as_str())
        }),
        _ => false,
    }
}

/// The differentiated parameter, where there is exactly one.
fn the_param(f: &Function) -> Option<(usize, &Param)> {
    let mut active = f.params.iter().enumerate().filter(|(_, p)| p.active);
    let one = active.next()?;
    active.next().is_none().then_some(one)
}

/// The differentiated parameter, where `jacobian` was asked for and `check` passes it: then
/// `f_jacobian` (or its stub) is written.
fn wanted<'f>(attr: &Attr, f: &'f Function) -> Option<(usize, &'f Param)> {
    if attr.jacobian.is_none() || f.scalar_ret || not_a_vector(&f.ret) {
        return None;
    }
    let (k, p) = the_param(f)?;
    match f.item.sig.inputs.iter().nth(k)? {
        syn::FnArg::Typed(pt) if !not_a_vector(&pt.ty) => Some((k, p)),
        _ => None,
    }
}

/// The type whose flat components are the Jacobian's columns: the parameter's type, or what
/// it refers to (`&[f64]` → `[f64]`).
fn input_type(p: &Param) -> TokenStream {
    match &p.form {
        Form::Slice(e) => quote!([#e]),
        Form::VecOf(e) => quote!(::std::vec::Vec<#e>),
        Form::Array(e, n) => quote!([#e; #n]),
        Form::Scalar(t) | Form::Ref(t) | Form::Value(t) => t.to_token_stream(),
    }
}

/// `f_jacobian`'s result type: the value and `Jacobian<X, R>`, spanned on the parameter's
/// type, so that an input the runtime does not take as a vector is reported there too.
fn result_type(attr: &Attr, f: &Function, k: usize, p: &Param) -> TokenStream {
    let (krate, x, ret): (_, _, &Type) = (&attr.krate, input_type(p), &f.ret);
    let span = match f.item.sig.inputs.iter().nth(k) {
        Some(syn::FnArg::Typed(pt)) => pt.ty.span(),
        Some(syn::FnArg::Receiver(r)) => r.span(),
        None => proc_macro2::Span::call_site(),
    };
    quote_spanned!(span=> (#ret, #krate::jacobian::Jacobian<#x, #ret>))
}

/// Whether the `_vjp` pullback is `Clone`, as far as the body tells: it holds only data
/// when the body calls no function (a callee's pullback is an opaque `FnOnce`) and builds
/// no struct (which may not be `Clone`).
fn clonable_pullback(func: &Func) -> bool {
    !Analysis::new(func).func_lets().any(|(_, op)| {
        matches!(
            op,
            Op::Call { .. }
                | Op::Build {
                    kind: Build::Struct(..),
                    ..
                }
        )
    })
}

/// `f_jacobian`, or nothing where `jacobian` was not asked for or `check` rejected it.
///
/// Where the reverse pass is written and its pullback is `Clone` (`clonable_pullback`),
/// `f_jacobian` runs the forward sweep once, inline, and calls a clone of the pullback per
/// row. Otherwise each row calls `f_vjp`, forward pass and all (its pullback is `FnOnce`).
pub fn item(attr: &Attr, f: &Function, func: &Func) -> TokenStream {
    let Some((k, p)) = wanted(attr, f) else {
        return TokenStream::new();
    };
    let sig = &f.item.sig;
    let rt = names::runtime();
    // `f_jvp(args.., tangents..)` with the basis tangent in `p`'s slot, and `f_vjp(args..)`;
    // arguments held by value are cloned, since every column or row calls again.
    let args: Vec<TokenStream> = f
        .params
        .iter()
        .map(|q| {
            let name = &q.name;
            if q.is_ref || matches!(q.form, Form::Scalar(_)) {
                quote!(#name)
            } else {
                quote!(::core::clone::Clone::clone(&#name))
            }
        })
        .collect();
    let dx = names::aux("basis", 0);
    let tangents = f.params.iter().enumerate().map(|(i, q)| {
        if i != k {
            quote!(#rt::NoTangent)
        } else if Function::tangent_arg_is_ref(q) {
            quote!(&#dx)
        } else {
            quote!(#dx)
        }
    });
    let call = |suffix: &str| {
        let name = names::item(&sig.ident, suffix);
        if f.params.iter().any(|q| q.is_self) {
            quote!(Self::#name)
        } else {
            quote!(#name)
        }
    };
    let (jvp, vjp) = (call("jvp"), call("vjp"));
    let x_ref = match &p.name {
        name if p.is_ref => quote!(#name),
        name => quote!(&#name),
    };
    let (value, pullback, cotangent) = (
        names::aux("jacobian_value", 0),
        names::aux("jacobian_pullback", 0),
        names::aux("jacobian_cotangent", 0),
    );
    let slots = f.params.iter().enumerate().map(|(i, _)| {
        if i == k {
            quote!(#cotangent)
        } else {
            quote!(_)
        }
    });
    let slots = if f.params.len() == 1 {
        quote!(#cotangent)
    } else {
        quote!((#(#slots),*))
    };
    let columns = quote!(|#dx| #jvp(#(#args,)* #(#tangents),*));
    let rows = quote!(|| {
        let (#value, #pullback) = #vjp(#(#args),*);
        (#value, move |#cotangent| {
            let #slots = #pullback(#cotangent);
            #cotangent
        })
    });
    let cloning = attr.modes.reverse() && clonable_pullback(func);
    let build = if cloning {
        // The forward sweep borrows what the columns and the other rows borrow: values
        // held by value are cloned into it.
        let owned = f
            .params
            .iter()
            .filter(|q| !q.is_ref && !matches!(q.form, Form::Scalar(_)))
            .map(|q| &q.name);
        // (The unfused sweep: fused regions bring kernels that `_vjp` writes for itself.)
        let (sweep, pullback_expr) = vjp_parts(attr, f, func, None, &TokenStream::new());
        let inner = names::aux("jacobian_inner", 0);
        let forward = quote!(|| {
            #(let #owned = ::core::clone::Clone::clone(&#owned);)*
            #sweep
            // (An adjoint that pops its loops' stacks is `FnMut`: calling it needs `mut`.)
            let (#value, mut #inner) = #pullback_expr;
            (#value, move |#cotangent| {
                let #slots = #inner(#cotangent);
                #cotangent
            })
        });
        let zero = names::aux("zero", 0);
        let x = input_type(p);
        let run = match attr.modes {
            Modes::Reverse => {
                quote!(#rt::jacobian_by_reused_rows::<#x, _, _>(#zero, #forward))
            }
            _ => {
                quote!(#rt::jacobian_reusing::<#x, _, _, _>(#zero, #columns, #forward))
            }
        };
        quote! {
            let #zero = #rt::Differentiable::zero_tangent(#x_ref);
            #run
        }
    } else {
        match attr.modes {
            Modes::Both => quote!(#rt::jacobian(#x_ref, #columns, #rows)),
            Modes::Forward => quote!(#rt::jacobian_by_columns(#x_ref, #columns)),
            Modes::Reverse => quote!(#rt::jacobian_by_rows(#x_ref, #rows)),
        }
    };
    let rows_how = if cloning {
        "one forward pass and a clone of its pullback per row"
    } else {
        "one `_vjp` call per row"
    };
    let how = match attr.modes {
        Modes::Both => format!(
            "one `_jvp` call per column where `{}` has fewer components than the result, {rows_how} otherwise",
            p.name
        ),
        Modes::Forward => "one `_jvp` call per column".to_owned(),
        Modes::Reverse => rows_how.to_owned(),
    };
    let doc = format!(
        "Value and Jacobian of [`{f}`] with respect to `{p}`: rows are the result's components and columns `{p}`'s, in flat order; {how}. Written by `#[differentiable(jacobian)]`.",
        f = sig.ident,
        p = p.name,
    );
    let name = names::item(&sig.ident, "jacobian");
    let (vis, inputs) = (&f.item.vis, &sig.inputs);
    let (gen_params, where_clause) = (&sig.generics.params, &sig.generics.where_clause);
    let result = result_type(attr, f, k, p);
    let attrs = common_attrs(f);
    let use_rt = names::runtime_use(&attr.krate);
    quote! {
        #[doc = #doc]
        #attrs
        #vis fn #name<#gen_params>(#inputs) -> #result #where_clause {
            #use_rt
            #build
        }
    }
}

/// `f_jacobian`'s stub after an error elsewhere in the function, so that its callers report
/// nothing more.
pub fn stub(attr: &Attr, f: &Function) -> TokenStream {
    let Some((k, p)) = wanted(attr, f) else {
        return TokenStream::new();
    };
    let sig = &f.item.sig;
    let name = names::item(&sig.ident, "jacobian");
    let (vis, inputs) = (&f.item.vis, &sig.inputs);
    let (gen_params, where_clause) = (&sig.generics.params, &sig.generics.where_clause);
    let result = result_type(attr, f, k, p);
    let attrs = common_attrs(f);
    quote! {
        #attrs
        #vis fn #name<#gen_params>(#inputs) -> #result #where_clause {
            ::core::unreachable!()
        }
    }
}
