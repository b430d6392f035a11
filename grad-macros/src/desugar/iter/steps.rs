//! The steps of an iterator chain: what the iteration does to an item after its positional
//! part, `filter`, `take_while`, `skip_while`, and `map` and `copied()` once one of those
//! has come. A step is a test around the rest of the iteration, not a change of positions,
//! so it comes after the positional adaptors.

use super::{Elem, Iters, borrow_for, deref};
use crate::desugar::is_place;
use syn::{Expr, Ident, parse_quote};

/// What the iteration does to an item after the positional part: `filter`, `take_while`,
/// `skip_while`, and `map` once one of those has come.
pub(super) enum Step {
    Filter(Expr),
    /// `take_while(p)`: items are taken while the flag (a local the chain's prelude sets)
    /// says `p` has held for every item so far. The iteration runs on past the first item
    /// `p` refuses, doing nothing, as a `break` would make it an exit, which an expression
    /// whose value is used (`s + chain.sum()`) may not hold.
    TakeWhile(Expr, Ident),
    /// `skip_while(p)`: items are left out while `p` holds and the flag (a local the
    /// chain's prelude sets) says none has failed it yet.
    SkipWhile(Expr, Ident),
    Map(Expr),
    /// `copied()` / `cloned()`.
    Deref(bool),
}

impl Step {
    /// The adaptor the step was written as.
    pub(super) fn name(&self) -> &'static str {
        match self {
            Step::Filter(_) => "filter",
            Step::TakeWhile(..) => "take_while",
            Step::SkipWhile(..) => "skip_while",
            Step::Map(_) => "map",
            Step::Deref(_) => "copied",
        }
    }
}

/// The adaptors that make a step: what follows one is a step too (`map`, `copied`) or
/// another of these.
pub(super) const STEPS: &[&str] = &["filter", "take_while", "skip_while"];

impl Iters<'_> {
    /// The flag of a `take_while` or `skip_while`: a fresh `let mut` local, `true` from the
    /// chain's prelude on.
    pub(super) fn flag(&mut self, what: &str, pre: &mut Vec<syn::Stmt>) -> Ident {
        let flag = self.fresh.name(what);
        pre.push(parse_quote!(let mut #flag = true;));
        flag
    }

    /// The statements of one iteration from its item on: each step over the item, then
    /// `finish`.
    pub(super) fn steps(
        &mut self,
        steps: &[Step],
        item: Elem,
        finish: impl FnOnce(&mut Self, Elem) -> Vec<syn::Stmt>,
    ) -> Vec<syn::Stmt> {
        let Some((first, rest)) = steps.split_first() else {
            return finish(self, item);
        };
        match first {
            Step::Map(f) => {
                let v = self.apply(f, vec![item]);
                self.steps(rest, Elem::Val(v), finish)
            }
            Step::Deref(clone) => self.steps(rest, deref(item, *clone), finish),
            Step::Filter(f) | Step::TakeWhile(f, _) | Step::SkipWhile(f, _) => {
                // The item's computed parts bound once, for the predicate and the rest.
                let mut stmts = Vec::new();
                let item = self.materialize(item, &mut stmts);
                let cond = self.apply(f, vec![borrow_for(f, 0, item.clone())]);
                let inner = self.steps(rest, item, finish);
                let test: syn::Stmt = match first {
                    Step::TakeWhile(_, flag) => {
                        let taken: syn::Stmt = syn::Stmt::Expr(
                            parse_quote!(if #cond { #(#inner)* } else { #flag = false; }),
                            None,
                        );
                        let all = std::mem::take(&mut stmts);
                        syn::Stmt::Expr(parse_quote!(if #flag { #(#all)* #taken }), None)
                    }
                    Step::SkipWhile(_, flag) => syn::Stmt::Expr(
                        parse_quote!(if !(#flag && #cond) { #flag = false; #(#inner)* }),
                        None,
                    ),
                    _ => syn::Stmt::Expr(parse_quote!(if #cond { #(#inner)* }), None),
                };
                stmts.push(test);
                stmts
            }
        }
    }

    /// The item with each computed part bound to a local, so that a `filter` and the rest of
    /// the iteration read it without computing it twice.
    pub(super) fn materialize(&mut self, item: Elem, stmts: &mut Vec<syn::Stmt>) -> Elem {
        match item {
            Elem::Val(e) if !is_place(&e) => {
                let t = self.fresh.name("item");
                stmts.push(parse_quote!(let #t = #e;));
                Elem::Val(parse_quote!(#t))
            }
            Elem::Tuple(items) => Elem::Tuple(
                items
                    .into_iter()
                    .map(|i| self.materialize(i, stmts))
                    .collect(),
            ),
            other => other,
        }
    }
}
