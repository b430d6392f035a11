//! Functions that call themselves: the recursion of their `_vjp` goes through a boxed
//! pullback, since a pullback that holds its own type has no finite `impl FnOnce` type.
//!
//! For such a function `f`, `_vjp` is a thin wrapper of a hidden `__grad_f_vjp_boxed`
//! returning `(R, Box<dyn FnOnce(..) -> .. + 'pb>)`, and the recursive call inside the helper
//! calls the helper. `_grad` (which calls `f_vjp`) and `_jvp` (whose result type is concrete)
//! recurse as they are.

use crate::activity::Analysis;
use crate::ast::Function;
use crate::emit::Emit;
use crate::ir::{CallArg, Callee, Func, Op, Operand};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::visit_mut::VisitMut;
use syn::{FnArg, Ident, Lifetime, Type};

/// Whether a call calls the function itself: `f(..)`, `Self::f(..)`, or `recv.f(..)` on the
/// `self` parameter. (`other.f(..)` on another value may be another type's `f`.)
pub fn is_self_call(f: &Function, func: &Func, callee: &Callee, args: &[CallArg]) -> bool {
    let own = &f.item.sig.ident;
    match callee {
        Callee::Path(p) => {
            let segs: Vec<&Ident> = p.segments.iter().map(|s| &s.ident).collect();
            p.leading_colon.is_none()
                && match segs.as_slice() {
                    [name] => *name == own && !f.params.iter().any(|p| p.is_self),
                    [ty, name] => *ty == "Self" && *name == own,
                    _ => false,
                }
        }
        Callee::Method(m) => {
            m == own
                && args.first().is_some_and(|a| match a.operand {
                    Operand::Var(v) => func.vars[v]
                        .param
                        .is_some_and(|i| f.params.get(i).is_some_and(|p| p.is_self)),
                    Operand::Const(_) => false,
                })
        }
        Callee::Fused(_) => false,
    }
}

/// Whether the body calls the function itself anywhere.
pub fn calls_itself(f: &Function, func: &Func) -> bool {
    Analysis::new(func).func_lets().any(|(_, op)| match op {
        Op::Call { callee, args, .. } => is_self_call(f, func, callee, args),
        _ => false,
    })
}

impl Emit<'_> {
    /// The name a call's `_vjp`/`_jvp` goes to: `m_suffix`, or the boxed helper for a call of
    /// the function itself inside that helper.
    pub fn suffixed(&self, base: &Ident, callee: &Callee, args: &[CallArg], suffix: &str) -> Ident {
        match &self.self_vjp {
            Some(boxed) if suffix == "vjp" && is_self_call(self.f, self.func, callee, args) => {
                Ident::new(&boxed.to_string(), base.span())
            }
            _ => quote::format_ident!("{}_{}", base, suffix, span = base.span()),
        }
    }
}

/// The lifetime that every reference argument of the boxed helper shares, and that its
/// boxed pullback lives for.
pub fn lifetime() -> Lifetime {
    Lifetime::new("'__grad_pb", Span::call_site())
}

/// Names every elided lifetime of the signature's argument types `'__grad_pb` (outside
/// `Fn(..)` sugar and `fn` pointer types, whose elided lifetimes are their own), and adds
/// `'__grad_pb` to the generics with `Arg: '__grad_pb` for every argument type.
pub fn unify_lifetimes(sig: &mut syn::Signature) {
    struct Name(Lifetime);
    impl VisitMut for Name {
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            if r.lifetime.is_none() {
                r.lifetime = Some(self.0.clone());
            }
            syn::visit_mut::visit_type_reference_mut(self, r);
        }
        fn visit_lifetime_mut(&mut self, l: &mut Lifetime) {
            if l.ident == "_" {
                *l = self.0.clone();
            }
        }
        fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {}
        fn visit_parenthesized_generic_arguments_mut(
            &mut self,
            _: &mut syn::ParenthesizedGenericArguments,
        ) {
        }
    }
    let lt = lifetime();
    let mut name = Name(lt.clone());
    let mut bounded: Vec<TokenStream> = Vec::new();
    for input in &mut sig.inputs {
        match input {
            FnArg::Receiver(r) => {
                if let Some((_, l)) = &mut r.reference {
                    if l.as_ref().is_none_or(|l| l.ident == "_") {
                        *l = Some(lt.clone());
                    }
                    let m = r.mutability;
                    let ty: Type = syn::parse_quote!(&#lt #m Self);
                    *r.ty = ty;
                } else {
                    bounded.push(quote!(Self));
                }
            }
            FnArg::Typed(pt) => {
                name.visit_type_mut(&mut pt.ty);
                bounded.push(pt.ty.to_token_stream());
            }
        }
    }
    sig.generics.params.insert(0, syn::parse_quote!(#lt));
    let wc = sig.generics.make_where_clause();
    for ty in bounded {
        wc.predicates.push(syn::parse_quote!(#ty: #lt));
    }
}
