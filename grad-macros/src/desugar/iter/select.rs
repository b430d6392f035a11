//! Selections that end an iterator chain, their `Option` taken apart at once: `max_by`,
//! `min_by`, `reduce`, `find`, `last`, `nth`. Each is the position it selects (chosen by the
//! runtime, not differentiated) and one read of the item there. Taken apart by `unwrap()` /
//! `expect(msg)`, an empty chain panics; by `unwrap_or(d)`, `if let Some(p) = ..` or a
//! two-arm `match`, the position is found only where the chain has the item (`find`'s search
//! is itself the test), and the `None` arm runs otherwise.

use super::{By, Elem, Iters, Read, borrow_for, elem_expr, is_zero, taken, unwrapped};
use crate::desugar::{bind_some, some_or_none, strip};
use crate::diag;
use proc_macro2::TokenStream;
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::{Expr, Ident, Pat, parse_quote};

/// Iterator ends that select one item, rewritten where unwrapped at once (`rewrite_selection`),
/// with their number of arguments.
pub(super) const SELECTIONS: &[(&str, usize)] = &[
    ("max_by", 1),
    ("min_by", 1),
    ("reduce", 1),
    ("find", 1),
    ("last", 0),
    ("nth", 1),
];

impl Iters<'_> {
    /// `chain.max_by(cmp)`, `chain.min_by(cmp)`, `chain.reduce(f)`, `chain.find(pred)`,
    /// `chain.last()` or `chain.nth(k)`, unwrapped where it is called (`.unwrap()` or
    /// `.expect(msg)`, through `copied()` / `cloned()`) → a block. `max_by`, `min_by` and
    /// `find` find the position of the item they select by comparing (or testing) items, not
    /// differentiated; `last` and `nth` count it. The item there is read once, so the
    /// derivative reaches the selected item only; of equal items `max_by` selects the last
    /// and `min_by` the first, as `Iterator`'s do. `reduce` is a loop folding from the first
    /// item. An empty chain panics with the unwrap's or the expect's message.
    pub(super) fn rewrite_selection(&mut self, e: &Expr) -> Option<Expr> {
        // A selection, through `copied()` / `cloned()`.
        fn selection(e: &Expr) -> Option<(&syn::ExprMethodCall, By)> {
            let (opt, by) = taken(e);
            match strip(opt) {
                Expr::MethodCall(m)
                    if SELECTIONS.contains(&(m.method.to_string().as_str(), m.args.len())) =>
                {
                    Some((m, by))
                }
                _ => None,
            }
        }
        let (opt, taken_as) = consumer(e)?;
        let msg: Expr = match &taken_as {
            Taken::Unwrap(msg) => msg.clone(),
            // Never shown: the finders run only where the chain has the item.
            _ => parse_quote!(""),
        };
        // `Option::map(f)` of the selected item before the unwrap (`.map(|(i, _)| i)`, an
        // argmax): `f` applied to the item, whose parts need not make one value.
        let (m, by, then) = match strip(opt) {
            Expr::MethodCall(mm) if mm.method == "map" && mm.args.len() == 1 => {
                let (m, by) = selection(&mm.receiver)?;
                (m, by, Some(mm.args[0].clone()))
            }
            _ => {
                let (m, by) = selection(opt)?;
                (m, by, None)
            }
        };
        let name = m.method.to_string();
        let mut pre = Vec::new();
        let chain = match self.read(&m.receiver, false, &mut pre) {
            Read::Yes(c) => c,
            Read::No => return None,
            Read::Failed => return Some(parse_quote!(())),
        };
        if let Some(first) = chain.steps.first() {
            self.cx.error(
                m.method.span(),
                diag::select_after_step(&name, first.name()),
            );
            return Some(parse_quote!(()));
        }
        let params = match name.as_str() {
            "max_by" | "min_by" | "reduce" => 2,
            "find" => 1,
            _ => 0,
        };
        if !self.check_chain(&chain)
            || (params > 0 && !self.check_closure(&m.args[0], &name, params))
            || then
                .as_ref()
                .is_some_and(|f| !self.check_closure(f, "map", 1))
        {
            return Some(parse_quote!(()));
        }
        // The unwrapped value, from the selected item: mapped, or as it is.
        let finish = |it: &Self, chosen: Elem| match &then {
            Some(f) => it.apply(f, vec![chosen]),
            None => elem_expr(&chosen),
        };
        let (lo, hi) = self.bounds(&chain.seq);
        let j = self.fresh.name("k");
        let item = |it: &Self, i: &Ident| {
            let k: Expr = if is_zero(&lo) {
                parse_quote!(#i)
            } else {
                parse_quote!((#i - #lo))
            };
            it.elem(&chain.seq, k)
        };
        let rt = self.rt();
        let prelude: Vec<syn::Stmt> = pre.iter().chain(&chain.prelude).cloned().collect();
        let span = msg.span();
        if name == "reduce" {
            let f = &m.args[0];
            let (at, acc) = (self.fresh.name("at"), self.fresh.name("acc"));
            let first = elem_expr(&item(self, &at));
            let next = self.apply(f, vec![Elem::Val(parse_quote!(#acc)), item(self, &j)]);
            let chosen = Elem::Val(match (item(self, &at), by) {
                (Elem::Ref(_) | Elem::Mut(_), By::Copy) => parse_quote!(*#acc),
                (Elem::Ref(_) | Elem::Mut(_), By::Clone) => parse_quote!(#acc.clone()),
                _ => parse_quote!(#acc),
            });
            let value = finish(self, chosen);
            let start =
                quote_spanned!(span=> #lo + #rt::first_index((#hi).saturating_sub(#lo), #msg));
            let fold: Vec<syn::Stmt> = parse_quote! {
                let #at = #start;
                let mut #acc = #first;
                for #j in (#at + 1)..#hi { #acc = #next; }
            };
            let present = parse_quote!(#lo < #hi);
            return Some(taken_as.assemble(prelude, Vec::new(), present, fold, value));
        }
        // The position selected: by a comparison (or a predicate) of the items at positions,
        // as a closure over them, or by counting. Unless unwrapped, it is found only where
        // the chain has it (`present`), and `find`'s search is itself the test.
        let (a, b) = (self.fresh.name("a"), self.fresh.name("b"));
        let at = self.fresh.name("at");
        let unwrap = matches!(taken_as, Taken::Unwrap(_));
        let nonempty: Expr = parse_quote!(#lo < #hi);
        let (before, present, select): (Vec<syn::Stmt>, Expr, Option<TokenStream>) = match name
            .as_str()
        {
            "max_by" | "min_by" => {
                let f = &m.args[0];
                let args = vec![
                    borrow_for(f, 0, item(self, &a)),
                    borrow_for(f, 1, item(self, &b)),
                ];
                let order = self.apply(f, args);
                let which = syn::Ident::new(
                    if name == "max_by" {
                        "max_position"
                    } else {
                        "min_position"
                    },
                    m.method.span(),
                );
                let select = quote_spanned!(span=> #rt::#which(#lo, #hi, #msg, |#a: usize, #b: usize| #order));
                (Vec::new(), nonempty, Some(select))
            }
            "find" => {
                let f = &m.args[0];
                let found = self.apply(f, vec![borrow_for(f, 0, item(self, &a))]);
                if unwrap {
                    let select = quote_spanned!(span=> #rt::find_position(#lo, #hi, #msg, |#a: usize| #found));
                    (Vec::new(), nonempty, Some(select))
                } else {
                    let search = quote_spanned!(span=> #rt::find_position_or_end(#lo, #hi, |#a: usize| #found));
                    let before = vec![parse_quote!(let #at = #search;)];
                    (before, parse_quote!(#at < #hi), None)
                }
            }
            "nth" => {
                let (n, k) = (self.fresh.name("nth"), &m.args[0]);
                let select = quote_spanned!(span=> #rt::nth_position(#lo, #hi, #n, #msg));
                let before = vec![parse_quote!(let #n = #k;)];
                let present = parse_quote!(#n < (#hi).saturating_sub(#lo));
                (before, present, Some(select))
            }
            _ => {
                let select = quote_spanned!(span=> #rt::nth_position(#lo, #hi, (#hi).saturating_sub(#lo).saturating_sub(1), #msg));
                (Vec::new(), nonempty, Some(select))
            }
        };
        let chosen = match (item(self, &at), by) {
            (Elem::Ref(p) | Elem::Mut(p), By::Ref) => Elem::Ref(p),
            (Elem::Ref(p) | Elem::Mut(p), By::Copy) => Elem::Val(p),
            (Elem::Ref(p) | Elem::Mut(p), By::Clone) => Elem::Val(parse_quote!(#p.clone())),
            (other, _) => other,
        };
        let value = finish(self, chosen);
        let position = select
            .map(|select| parse_quote!(let #at = #select;))
            .into_iter()
            .collect();
        Some(taken_as.assemble(prelude, before, present, position, value))
    }
}

/// How a selection's `Option` is taken apart.
enum Taken {
    /// `.unwrap()` or `.expect(msg)`: an empty chain panics with the message.
    Unwrap(Expr),
    /// `.unwrap_or(d)`.
    Or(Expr),
    /// `if let Some(p) = sel { a } else { b }` or `match sel { Some(p) => a, None => b }`.
    Branch(Box<(Pat, Expr, Expr)>),
}

/// `e` as an `Option` taken apart at once: the `Option`, and how.
fn consumer(e: &Expr) -> Option<(&Expr, Taken)> {
    if let Some((opt, msg)) = unwrapped(e) {
        return Some((opt, Taken::Unwrap(msg)));
    }
    if let Some((pat, opt, then, other)) = some_or_none(e) {
        return Some((opt, Taken::Branch(Box::new((pat.clone(), then, other)))));
    }
    match strip(e) {
        Expr::MethodCall(m) if m.method == "unwrap_or" && m.args.len() == 1 => {
            Some((&m.receiver, Taken::Or(m.args[0].clone())))
        }
        _ => None,
    }
}

impl Taken {
    /// The block that computes the selection: the prelude and `before`, then for an unwrap
    /// `position` (the statements that find the item) and `value`; otherwise, where
    /// `present` holds, those and the `Some` arm, and else the `None` arm.
    fn assemble(
        self,
        prelude: Vec<syn::Stmt>,
        before: Vec<syn::Stmt>,
        present: Expr,
        position: Vec<syn::Stmt>,
        value: Expr,
    ) -> Expr {
        let (some, none): (Expr, Expr) = match self {
            Taken::Unwrap(_) => {
                return parse_quote!({
                    #(#prelude)*
                    #(#before)*
                    #(#position)*
                    #value
                });
            }
            Taken::Or(d) => (value, d),
            Taken::Branch(arms) => {
                let (p, then, other) = *arms;
                let bind = bind_some(&p, value);
                (parse_quote!({ #bind #then }), other)
            }
        };
        parse_quote!({
            #(#prelude)*
            #(#before)*
            if #present { #(#position)* #some } else { #none }
        })
    }
}
