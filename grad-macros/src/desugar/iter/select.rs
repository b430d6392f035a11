//! Selections that end an iterator chain, unwrapped at once: `max_by`, `min_by`, `reduce`,
//! `find`, `last`, `nth`. Each is the position it selects (chosen by the runtime, not
//! differentiated) and one read of the item there.

use super::{By, Elem, Iters, Read, borrow_for, elem_expr, is_zero, taken, unwrapped};
use crate::desugar::strip;
use crate::diag;
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::{Expr, Ident, parse_quote};

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
        let (opt, msg) = unwrapped(e)?;
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
        let prelude = pre.iter().chain(&chain.prelude);
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
            return Some(parse_quote!({
                #(#prelude)*
                let #at = #start;
                let mut #acc = #first;
                for #j in (#at + 1)..#hi { #acc = #next; }
                #value
            }));
        }
        // The position selected: by a comparison (or a predicate) of the items at positions,
        // as a closure over them, or by counting.
        let (a, b) = (self.fresh.name("a"), self.fresh.name("b"));
        let select = match name.as_str() {
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
                quote_spanned!(span=> #rt::#which(#lo, #hi, #msg, |#a: usize, #b: usize| #order))
            }
            "find" => {
                let f = &m.args[0];
                let found = self.apply(f, vec![borrow_for(f, 0, item(self, &a))]);
                quote_spanned!(span=> #rt::find_position(#lo, #hi, #msg, |#a: usize| #found))
            }
            "nth" => {
                let n = &m.args[0];
                quote_spanned!(span=> #rt::nth_position(#lo, #hi, #n, #msg))
            }
            _ => {
                quote_spanned!(span=> #rt::nth_position(#lo, #hi, (#hi).saturating_sub(#lo).saturating_sub(1), #msg))
            }
        };
        let at = self.fresh.name("at");
        let chosen = match (item(self, &at), by) {
            (Elem::Ref(p) | Elem::Mut(p), By::Ref) => Elem::Ref(p),
            (Elem::Ref(p) | Elem::Mut(p), By::Copy) => Elem::Val(p),
            (Elem::Ref(p) | Elem::Mut(p), By::Clone) => Elem::Val(parse_quote!(#p.clone())),
            (other, _) => other,
        };
        let value = finish(self, chosen);
        Some(parse_quote!({
            #(#prelude)*
            let #at = #select;
            #value
        }))
    }
}
