//! Library calls that are shorthand for what lowering knows, rewritten as such:
//!
//! - `x.first().unwrap()` → `&x[0]` and `x.last().unwrap()` → `&x[x.len() - 1]` (also with
//!   `.expect(msg)`, and by value through `.copied()` / `.cloned()` before the unwrap). An
//!   empty `x` panics with the `unwrap`'s or the `expect`'s message, as the original would.
//! - `let (a, b) = x.split_at(m);` → `let a = &x[..m]; let b = &x[m..];`, two sub-slices
//!   (each a copy, as sub-slices are), which panic past the end as `split_at` does.
//! - `std::mem::swap(&mut a, &mut b);` → `(a, b) = (b, a);`, a destructuring assignment.
//! - `x.sin_cos()` → `(x.sin(), x.cos())` (`x` bound once), which lowering pairs back into one
//!   `sin_cos` call.
//! - `if let p = e { a } else { b }` → `match e { p => a, _ => b }`.
//! - `while let Some(p) = v.pop() { .. }` → `while !v.is_empty() { let p = v.pop().unwrap();
//!   .. }`.
//! - `let e = v.pop().unwrap();` → `let e = v[v.len() - 1]; v.truncate(v.len() - 1);`, and
//!   `v.pop();` → `v.truncate(v.len().saturating_sub(1));`.
//! - `v.sort_by(cmp);` → `let perm = sort_permutation(&v, cmp); v = permuted(&v, &perm);`:
//!   the indices that sort `v`, not differentiated, and `v` put in their order, which is;
//!   `v.retain(keep);` and `v.dedup();` alike, as the positions they keep and `gathered`.
//!
//! `x`, `a` and `b` must be places (a local, a field, an element), so that reading one twice
//! is reading one value. An `Option` of `first()` or `last()` taken apart otherwise
//! (`if let Some(v) = x.last()`, `unwrap_or`) was rewritten before, by `optional.rs`.

use super::{Fresh, call0, is_place, is_std_fn, strip, taken, unwrapped};
use crate::names;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, parse_quote};

pub fn rewrite(fresh: &mut Fresh, block: &mut syn::Block) {
    Shorthands { fresh }.visit_block_mut(block);
}

struct Shorthands<'a> {
    fresh: &'a mut Fresh,
}

/// `v.pop()` of a place `v`: `v`.
fn popped(e: &Expr) -> Option<&Expr> {
    call0(e, "pop").filter(|v| is_place(v))
}

impl Shorthands<'_> {
    /// `x.first()` / `x.last()`, through `copied()` / `cloned()`, then `unwrap()` /
    /// `expect(msg)`: the element read that it is.
    fn element(&self, e: &Expr) -> Option<Expr> {
        let (opt, msg) = unwrapped(e)?;
        let (opt, by) = taken(opt);
        let (x, which) = if let Some(x) = call0(opt, "first") {
            (x, "first_index")
        } else if let Some(x) = call0(opt, "last") {
            (x, "last_index")
        } else {
            return None;
        };
        if !is_place(x) {
            return None;
        }
        let rt = names::runtime();
        let index = syn::Ident::new(which, proc_macro2::Span::call_site());
        Some(by.apply(parse_quote!(#x[#rt::#index(#x.len(), #msg)])))
    }

    /// `x.sin_cos()` → `{ let t = x; (t.sin(), t.cos()) }`, which lowering pairs back into one
    /// `sin_cos` call.
    fn sin_cos(&mut self, e: &Expr) -> Option<Expr> {
        let x = call0(e, "sin_cos")?;
        let t = self.fresh.name("angle");
        Some(parse_quote!({
            let #t = #x;
            (#t.sin(), #t.cos())
        }))
    }

    /// `if let p = e { a } else { b }` → `match e { p => { a } _ => { b } }` (an `else if`
    /// becomes the `_` arm's block; no `else`, `()`).
    fn if_let(&self, e: &Expr) -> Option<Expr> {
        let Expr::If(i) = e else {
            return None;
        };
        let Expr::Let(l) = &*i.cond else {
            return None;
        };
        let (pat, scrutinee, then) = (&l.pat, &l.expr, &i.then_branch);
        let other: Expr = match &i.else_branch {
            Some((_, e)) => (**e).clone(),
            None => parse_quote!({}),
        };
        Some(parse_quote!(match #scrutinee { #pat => #then, _ => #other }))
    }

    /// `while let Some(p) = v.pop() { body }` (a worklist) → `while !v.is_empty() { let p =
    /// v.pop().unwrap(); body }`, whose `pop` is then rewritten as a statement's.
    fn while_pop(&self, e: &Expr) -> Option<Expr> {
        let Expr::While(w) = e else {
            return None;
        };
        let Expr::Let(l) = &*w.cond else {
            return None;
        };
        let syn::Pat::TupleStruct(some) = &*l.pat else {
            return None;
        };
        let v = popped(&l.expr)?;
        if !some.path.is_ident("Some") || some.elems.len() != 1 {
            return None;
        }
        let (label, pat, body) = (&w.label, &some.elems[0], &w.body.stmts);
        Some(parse_quote!(#label while !#v.is_empty() {
            let #pat = #v.pop().unwrap();
            #(#body)*
        }))
    }

    /// `std::mem::swap(&mut a, &mut b)` (or `mem::swap`, `core::mem::swap`, `swap`):
    /// `(a, b) = (b, a)`.
    fn swap(&self, e: &Expr) -> Option<Expr> {
        let Expr::Call(c) = strip(e) else {
            return None;
        };
        if !is_std_fn(&c.func, "mem", "swap") || c.args.len() != 2 {
            return None;
        }
        let place = |e: &Expr| match strip(e) {
            Expr::Reference(r) if r.mutability.is_some() && is_place(&r.expr) => {
                Some((*r.expr).clone())
            }
            _ => None,
        };
        let (a, b) = (place(&c.args[0])?, place(&c.args[1])?);
        Some(parse_quote!((#a, #b) = (#b, #a)))
    }

    /// Methods that keep or reorder a `Vec`'s elements, as the positions they keep (not
    /// differentiated) and a copy of the elements there: `v.sort_by(cmp);` (or
    /// `sort_unstable_by`) → `let perm = sort_permutation(&v, cmp); v = permuted(&v,
    /// &perm);`, `v.retain(keep);` → `let at = retained_positions(&v, keep); v =
    /// gathered(&v, &at);`, `v.dedup();` → `dedup_positions(&v)` and `gathered`.
    fn reorder(&mut self, stmt: &syn::Stmt) -> Option<Vec<syn::Stmt>> {
        let syn::Stmt::Expr(Expr::MethodCall(m), Some(_)) = stmt else {
            return None;
        };
        if !is_place(&m.receiver) {
            return None;
        }
        let v = &m.receiver;
        let args = &m.args;
        let rt = names::runtime();
        let (positions, copy): (Expr, &str) = match (m.method.to_string().as_str(), m.args.len()) {
            ("sort_by" | "sort_unstable_by", 1) => {
                (parse_quote!(#rt::sort_permutation(&#v, #args)), "permuted")
            }
            ("retain", 1) => (
                parse_quote!(#rt::retained_positions(&#v, #args)),
                "gathered",
            ),
            ("dedup", 0) => (parse_quote!(#rt::dedup_positions(&#v)), "gathered"),
            _ => return None,
        };
        let at = self.fresh.name("at");
        let copy = syn::Ident::new(copy, m.method.span());
        Some(vec![
            parse_quote!(let #at = #positions;),
            parse_quote!(#v = #rt::#copy(&#v, &#at);),
        ])
    }

    /// `let e = v.pop().unwrap();` (or `.expect(msg)`) → `let e = v[last]; v.truncate(last);`,
    /// and `v.pop();` → `v.truncate(v.len().saturating_sub(1));`.
    fn pop(&mut self, stmt: &syn::Stmt) -> Option<Vec<syn::Stmt>> {
        let rt = names::runtime();
        match stmt {
            syn::Stmt::Expr(e, Some(_)) => {
                let v = popped(e)?;
                Some(vec![parse_quote!(#v.truncate(#v.len().saturating_sub(1));)])
            }
            syn::Stmt::Local(l) => {
                let init = l.init.as_ref().filter(|i| i.diverge.is_none())?;
                let (opt, msg) = unwrapped(&init.expr)?;
                let v = popped(opt)?;
                let pat = &l.pat;
                let last = self.fresh.name("last");
                Some(vec![
                    parse_quote!(let #last = #rt::last_index(#v.len(), #msg);),
                    parse_quote!(let #pat = #v[#last];),
                    parse_quote!(#v.truncate(#last);),
                ])
            }
            _ => None,
        }
    }

    /// `let (a, b) = x.split_at(m);` → `let mid = m; let a = &x[..mid]; let b = &x[mid..];`
    fn split_at(&mut self, stmt: &syn::Stmt) -> Option<Vec<syn::Stmt>> {
        let syn::Stmt::Local(l) = stmt else {
            return None;
        };
        let (syn::Pat::Tuple(t), Some(init)) = (&l.pat, &l.init) else {
            return None;
        };
        let Expr::MethodCall(m) = strip(&init.expr) else {
            return None;
        };
        if m.method != "split_at"
            || m.args.len() != 1
            || t.elems.len() != 2
            || init.diverge.is_some()
            || !is_place(&m.receiver)
        {
            return None;
        }
        let (x, mid, a, b) = (&m.receiver, &m.args[0], &t.elems[0], &t.elems[1]);
        let at = self.fresh.name("mid");
        let rt = names::runtime();
        Some(vec![
            parse_quote!(let #at = #rt::split_mid(#x.len(), #mid);),
            parse_quote!(let #a = &#x[..#at];),
            parse_quote!(let #b = &#x[#at..];),
        ])
    }
}

impl VisitMut for Shorthands<'_> {
    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        super::visit_vec_values(self, m);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        let new = self
            .element(e)
            .or_else(|| self.swap(e))
            .or_else(|| self.sin_cos(e))
            .or_else(|| self.if_let(e))
            .or_else(|| self.while_pop(e));
        if let Some(new) = new {
            *e = new;
        }
        visit_mut::visit_expr_mut(self, e);
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        let mut stmts = Vec::with_capacity(b.stmts.len());
        for mut stmt in std::mem::take(&mut b.stmts) {
            self.visit_stmt_mut(&mut stmt);
            let new = self
                .split_at(&stmt)
                .or_else(|| self.reorder(&stmt))
                .or_else(|| self.pop(&stmt));
            match new {
                Some(split) => stmts.extend(split),
                None => stmts.push(stmt),
            }
        }
        b.stmts = stmts;
    }
}
