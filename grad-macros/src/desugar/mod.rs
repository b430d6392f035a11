//! Desugaring: surface syntax that lowering does not know, rewritten into syntax it does,
//! before lowering. The names a body's `const`, `static` and `use` items declare become what
//! they stand for (`items.rs`); `x.get(i)`, `x.first()` and `x.last()` taken apart at once
//! (`unwrap_or`, `if let Some`, `match`, `let ... else`) become bounds tests and element
//! reads (`optional.rs`); `first()`, `last()`, `split_at`, `mem::swap`, `sin_cos`,
//! `sort_by`, `pop` and `if let` become element reads, sub-slices, assignments and `match`es
//! (`shorthands.rs`); iterators become index loops (`iter.rs`); `break`, `continue`, `loop`
//! and early `return` become flags and `while` loops (`exits.rs`). The rewrites keep the
//! user's tokens and spans, so every later error still points at what the user wrote; the
//! function itself is emitted as written, only its derivatives see the rewritten body.

mod exits;
mod items;
mod iter;
mod optional;
pub mod revolve;
mod shorthands;

pub use exits::first_return;

use crate::ast::Function;
use crate::ctxt::Ctxt;
use proc_macro2::Span;
use syn::Ident;

/// The body that lowering reads.
pub fn body(cx: &mut Ctxt, f: &Function) -> syn::Block {
    let mut block = (*f.item.block).clone();
    let mut fresh = Fresh(0);
    revolve::check(cx, &block);
    items::rewrite(&mut block);
    optional::rewrite(&mut fresh, &mut block);
    shorthands::rewrite(&mut fresh, &mut block);
    iter::rewrite(cx, f, &mut fresh, &mut block);
    exits::rewrite(cx, f, &mut fresh, &mut block);
    block
}

/// Names for the locals the rewrites introduce. They are ordinary (unhygienic) names, since
/// lowering renames every local anyway; the `__grad_` prefix keeps them from meeting a
/// user's.
pub struct Fresh(usize);

impl Fresh {
    pub fn name(&mut self, what: &str) -> Ident {
        self.0 += 1;
        Ident::new(&format!("__grad_{what}{}", self.0), Span::call_site())
    }
}

/// `e` without parentheses and invisible groups.
fn strip(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => strip(&p.expr),
        syn::Expr::Group(g) => strip(&g.expr),
        e => e,
    }
}

/// `recv.name()` with no arguments: `recv`.
fn call0<'e>(e: &'e syn::Expr, name: &str) -> Option<&'e syn::Expr> {
    match strip(e) {
        syn::Expr::MethodCall(m) if m.method == name && m.args.is_empty() => Some(&m.receiver),
        _ => None,
    }
}

/// `opt.unwrap()` or `opt.expect(msg)`: `opt`, and the message an empty `opt` panics with.
fn unwrapped(e: &syn::Expr) -> Option<(&syn::Expr, syn::Expr)> {
    let syn::Expr::MethodCall(m) = strip(e) else {
        return None;
    };
    let msg = match (m.method.to_string().as_str(), m.args.len()) {
        ("unwrap", 0) => syn::parse_quote!("called `Option::unwrap()` on a `None` value"),
        ("expect", 1) => m.args[0].clone(),
        _ => return None,
    };
    Some((&m.receiver, msg))
}

/// How an `Option` of a reference is taken before its unwrap: as it is, or through
/// `copied()` / `cloned()`.
#[derive(Clone, Copy)]
enum By {
    Ref,
    Copy,
    Clone,
}

impl By {
    /// The unwrapped value, given the place the reference would point at.
    fn apply(self, place: syn::Expr) -> syn::Expr {
        match self {
            By::Ref => syn::parse_quote!((&#place)),
            By::Copy => place,
            By::Clone => syn::parse_quote!(#place.clone()),
        }
    }
}

/// `opt.copied()` / `opt.cloned()` / `opt`: `opt`, and how it is taken.
fn taken(opt: &syn::Expr) -> (&syn::Expr, By) {
    if let Some(r) = call0(opt, "copied") {
        (r, By::Copy)
    } else if let Some(r) = call0(opt, "cloned") {
        (r, By::Clone)
    } else {
        (opt, By::Ref)
    }
}

/// `Some(p)`: `p`.
fn some(pat: &syn::Pat) -> Option<&syn::Pat> {
    match pat {
        syn::Pat::TupleStruct(t)
            if t.qself.is_none() && t.path.is_ident("Some") && t.elems.len() == 1 =>
        {
            Some(&t.elems[0])
        }
        _ => None,
    }
}

/// `None` or `_`.
fn none(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::Wild(_) => true,
        syn::Pat::Ident(i) => i.ident == "None" && i.subpat.is_none() && i.by_ref.is_none(),
        syn::Pat::Path(p) => p.qself.is_none() && p.path.is_ident("None"),
        _ => false,
    }
}

/// `let p = value;` for the pattern `p` of a `Some(p)`: a `&v` binds what `value` refers to
/// (`let v = e;` for a `value` of `&e`, else `let v = *value;`), since a `let` pattern is a
/// name or a tuple of names.
fn bind_some(pat: &syn::Pat, value: syn::Expr) -> syn::Stmt {
    match (pat, strip(&value)) {
        (syn::Pat::Reference(r), syn::Expr::Reference(e)) => {
            let (inner, e) = (&r.pat, &e.expr);
            syn::parse_quote!(let #inner = #e;)
        }
        (syn::Pat::Reference(r), _) => {
            let inner = &r.pat;
            syn::parse_quote!(let #inner = *#value;)
        }
        _ => syn::parse_quote!(let #pat = #value;),
    }
}

/// `if let Some(p) = o { a } else { b }` or `match o { Some(p) => a, None => b }` (either
/// arm first, `_` for `None`, no guards): `p`, `o`, `a` and `b` (`{}` for a missing `else`).
fn some_or_none(e: &syn::Expr) -> Option<(&syn::Pat, &syn::Expr, syn::Expr, syn::Expr)> {
    match e {
        syn::Expr::If(i) => {
            let syn::Expr::Let(l) = &*i.cond else {
                return None;
            };
            let other = match &i.else_branch {
                Some((_, e)) => (**e).clone(),
                None => syn::parse_quote!({}),
            };
            let then = &i.then_branch;
            Some((some(&l.pat)?, &l.expr, syn::parse_quote!(#then), other))
        }
        syn::Expr::Match(m) => {
            let [a, b] = m.arms.as_slice() else {
                return None;
            };
            if a.guard.is_some() || b.guard.is_some() {
                return None;
            }
            let (s, n) = if some(&a.pat).is_some() {
                (a, b)
            } else {
                (b, a)
            };
            if !none(&n.pat) {
                return None;
            }
            Some((some(&s.pat)?, &m.expr, (*s.body).clone(), (*n.body).clone()))
        }
        _ => None,
    }
}

/// A place: a local, `self`, or a field or element of one.
fn is_place(e: &syn::Expr) -> bool {
    match strip(e) {
        syn::Expr::Path(p) => p.path.get_ident().is_some() || p.path.is_ident("self"),
        syn::Expr::Field(f) => is_place(&f.base),
        syn::Expr::Index(i) => is_place(&i.expr),
        _ => false,
    }
}

/// `f` names the standard library's `module::name`: as `name`, `module::name`,
/// `std::module::name` or `core::module::name` (`std::iter::zip`, `mem::swap`).
fn is_std_fn(f: &syn::Expr, module: &str, name: &str) -> bool {
    let syn::Expr::Path(p) = strip(f) else {
        return false;
    };
    let segs: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    p.qself.is_none()
        && match segs.as_slice() {
            [n] => n == name,
            [m, n] => m == module && n == name,
            [r, m, n] => (r == "std" || r == "core") && m == module && n == name,
            _ => false,
        }
}

/// Visits the values of a `vec![..]`, which are expressions too (`vec![x, w[0]]`,
/// `vec![x, v.iter().sum::<f64>()]`); other macros are left as written.
fn visit_vec_values(v: &mut impl syn::visit_mut::VisitMut, m: &mut syn::Macro) {
    if !m.path.is_ident("vec") {
        return;
    }
    type List = syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>;
    let repeat = m.parse_body_with(|input: syn::parse::ParseStream| {
        let e: syn::Expr = input.parse()?;
        input.parse::<syn::Token![;]>()?;
        let n: syn::Expr = input.parse()?;
        Ok((e, n))
    });
    if let Ok((mut e, mut n)) = repeat {
        v.visit_expr_mut(&mut e);
        v.visit_expr_mut(&mut n);
        m.tokens = quote::quote!(#e; #n);
    } else if let Ok(mut elems) = m.parse_body_with(List::parse_terminated) {
        elems.iter_mut().for_each(|e| v.visit_expr_mut(e));
        m.tokens = quote::quote!(#elems);
    }
}

/// What `name` is bound to in `bound`, the latest binding first (an inner scope's, or a
/// later `let`'s).
fn latest<'b, T>(bound: &'b [(String, T)], name: &str) -> Option<&'b T> {
    bound.iter().rev().find(|(n, _)| n == name).map(|(_, t)| t)
}
