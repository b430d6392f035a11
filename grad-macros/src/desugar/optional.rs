//! Element reads that may find nothing, `x.get(i)`, `x.first()` and `x.last()` (through
//! `copied()` / `cloned()`), rewritten where their `Option` is taken apart at once as a
//! bounds test and an element read, which lowering differentiates:
//!
//! - `o.unwrap_or(d)` → `{ let k = i; if k < x.len() { x[k] } else { d } }`;
//! - `x.get(i).unwrap()` (or `.expect(msg)`) → `x[get_index(i, x.len(), msg)]`, which panics
//!   past the end with the `unwrap`'s or the `expect`'s message;
//! - `if let Some(p) = o { a } else { b }` and `match o { Some(p) => a, None => b }` →
//!   `{ let k = i; if k < x.len() { let p = x[k]; a } else { b } }`;
//! - `let Some(p) = o else { b };` → `let k = i; if !(k < x.len()) { b } let p = x[k];`
//!   (`b` diverges, as `let ... else` requires).
//!
//! And `let Some(p) = e else { b };` (or `Ok(p)`) of any other value, one lowering does not
//! differentiate (an `Option<usize>`): `let o = e; if o.is_none() { b } let p =
//! o.unwrap();`, the exit a statement of its own.
//!
//! `first()` tests `!x.is_empty()` and reads `x[0]`, `last()` reads `x[x.len() - 1]`;
//! `split_first()` and `split_last()` bind a pair `(a, rest)` as that element and the
//! sub-slice of the others (`let (a, rest) = x.split_first().unwrap();` too, which panics
//! on an empty `x` with the `unwrap`'s or the `expect`'s message).
//! Without `copied()` the item is a reference, `&x[k]`, and a pattern `&v` binds the element
//! itself. `x` must be a place (a local, a field, an element), so that reading it twice is
//! reading one value, and `i` is evaluated once. A `get` of a range or of a reference (a
//! map's key) is left as written.

use super::{By, Fresh, bind_some, call0, is_place, some, some_or_none, strip, taken, unwrapped};
use crate::names;
use quote::format_ident;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Pat, Stmt, parse_quote};

pub fn rewrite(fresh: &mut Fresh, block: &mut syn::Block) {
    Optional { fresh }.visit_block_mut(block);
}

struct Optional<'a> {
    fresh: &'a mut Fresh,
}

/// Which element an optional read reads.
enum At<'e> {
    Get(&'e Expr),
    First,
    Last,
    /// `split_first()`: the first element and the rest, as a pair.
    SplitFirst,
    /// `split_last()`: the last element and the others.
    SplitLast,
}

/// `x.get(i)`, `x.first()` or `x.last()` of a place `x`, through `copied()` / `cloned()`.
struct Read<'e> {
    x: &'e Expr,
    at: At<'e>,
    by: By,
}

fn read(o: &Expr) -> Option<Read<'_>> {
    let (o, by) = taken(o);
    let (x, at) = if let Some(x) = call0(o, "first") {
        (x, At::First)
    } else if let Some(x) = call0(o, "last") {
        (x, At::Last)
    } else if let Some(x) = call0(o, "split_first").filter(|_| matches!(by, By::Ref)) {
        (x, At::SplitFirst)
    } else if let Some(x) = call0(o, "split_last").filter(|_| matches!(by, By::Ref)) {
        (x, At::SplitLast)
    } else {
        let Expr::MethodCall(m) = strip(o) else {
            return None;
        };
        let index = m
            .args
            .first()
            .filter(|_| m.method == "get" && m.args.len() == 1)?;
        if matches!(strip(index), Expr::Range(_) | Expr::Reference(_)) {
            return None;
        }
        (&*m.receiver, At::Get(index))
    };
    is_place(x).then_some(Read { x, at, by })
}

/// The statements before the test, the test, and the element's place.
struct Parts {
    setup: Vec<Stmt>,
    present: Expr,
    place: Expr,
}

impl Read<'_> {
    fn parts(&self, fresh: &mut Fresh) -> Parts {
        let x = self.x;
        match self.at {
            At::Get(i) => {
                let k = fresh.name("at");
                Parts {
                    setup: vec![parse_quote!(let #k = #i;)],
                    present: parse_quote!(#k < #x.len()),
                    place: parse_quote!(#x[#k]),
                }
            }
            At::First | At::SplitFirst => Parts {
                setup: vec![],
                present: parse_quote!(!#x.is_empty()),
                place: parse_quote!(#x[0]),
            },
            At::Last | At::SplitLast => Parts {
                setup: vec![],
                present: parse_quote!(!#x.is_empty()),
                place: parse_quote!(#x[#x.len() - 1]),
            },
        }
    }

    /// `let p = item;` for the pattern `p` of `Some(p)`: a `&v` of a reference binds the
    /// element itself. A split's pattern is a pair `(a, rest)`: `a` as an element's,
    /// `let rest = &x[1..];` (or `&x[..x.len() - 1]`). None for a split's other patterns.
    fn bind(&self, pat: &Pat, place: Expr) -> Option<Vec<Stmt>> {
        let x = self.x;
        let rest: Expr = match self.at {
            At::SplitFirst => parse_quote!(&#x[1..]),
            At::SplitLast => parse_quote!(&#x[..#x.len() - 1]),
            _ => return Some(vec![bind_some(pat, self.by.apply(place))]),
        };
        let Pat::Tuple(t) = pat else { return None };
        let [a, r] = [t.elems.first()?, t.elems.get(1)?];
        if t.elems.len() != 2 {
            return None;
        }
        Some(vec![
            bind_some(a, By::Ref.apply(place)),
            parse_quote!(let #r = #rest;),
        ])
    }
}

impl Optional<'_> {
    /// `o.unwrap_or(d)`, and `x.get(i).unwrap()` / `.expect(msg)`.
    fn unwrap(&mut self, e: &Expr) -> Option<Expr> {
        if let Some((o, msg)) = unwrapped(e) {
            let r = read(o)?;
            let At::Get(i) = r.at else {
                // `first().unwrap()` and `last().unwrap()` are the shorthands' reads.
                return None;
            };
            let (x, rt) = (r.x, names::runtime());
            return Some(r.by.apply(parse_quote!(#x[#rt::get_index(#i, #x.len(), #msg)])));
        }
        let Expr::MethodCall(m) = strip(e) else {
            return None;
        };
        if m.method != "unwrap_or" || m.args.len() != 1 {
            return None;
        }
        let r = read(&m.receiver)?;
        let Parts {
            setup,
            present,
            place,
        } = r.parts(self.fresh);
        let (item, default) = (r.by.apply(place), &m.args[0]);
        Some(parse_quote!({
            #(#setup)*
            if #present { #item } else { #default }
        }))
    }

    /// `if let Some(p) = o { a } else { b }` and `match o { Some(p) => a, None => b }`.
    fn branch(&mut self, e: &Expr) -> Option<Expr> {
        let (pat, o, then, other) = some_or_none(e)?;
        let r = read(o)?;
        let Parts {
            setup,
            present,
            place,
        } = r.parts(self.fresh);
        let bind = r.bind(pat, place)?;
        Some(parse_quote!({
            #(#setup)*
            if #present { #(#bind)* #then } else { #other }
        }))
    }

    /// `let Some(p) = o else { b };`, and `let (a, rest) = x.split_first().unwrap();` (or
    /// `split_last`, or `.expect(msg)`).
    fn let_else(&mut self, stmt: &Stmt) -> Option<Vec<Stmt>> {
        let Stmt::Local(l) = stmt else {
            return None;
        };
        let init = l.init.as_ref()?;
        let (r, pat, check): (Read<'_>, &Pat, Option<Stmt>) = match &init.diverge {
            Some(_) => (read(&init.expr)?, some(&l.pat)?, None),
            None => {
                let (o, msg) = unwrapped(&init.expr)?;
                let r = read(o).filter(|r| matches!(r.at, At::SplitFirst | At::SplitLast))?;
                let (x, rt) = (r.x, names::runtime());
                // The same emptiness test as `first().unwrap()`'s, and the same panic.
                let check = parse_quote!(let _ = #rt::first_index(#x.len(), #msg););
                (r, &l.pat, Some(check))
            }
        };
        let Parts {
            mut setup,
            present,
            place,
        } = r.parts(self.fresh);
        let bind = r.bind(pat, place)?;
        match (check, &init.diverge) {
            (Some(check), _) => setup.push(check),
            (None, Some((_, diverge))) => setup.push(parse_quote!(if !(#present) #diverge)),
            (None, None) => return None,
        }
        setup.extend(bind);
        Some(setup)
    }

    /// `let Some(p) = e else { b };` (or `Ok(p)`) of any other `e`, a value lowering does
    /// not differentiate: `let o = e; if o.is_none() { b } let p = o.unwrap();` (`is_err()`
    /// and `o.ok().unwrap()` for `Ok`), so that the exit in `b` is a statement of its own.
    fn let_else_value(&mut self, stmt: &Stmt) -> Option<Vec<Stmt>> {
        let Stmt::Local(l) = stmt else {
            return None;
        };
        let init = l.init.as_ref()?;
        let (_, diverge) = init.diverge.as_ref()?;
        let Pat::TupleStruct(t) = &l.pat else {
            return None;
        };
        if t.qself.is_some() || t.elems.len() != 1 {
            return None;
        }
        let o = self.fresh.name("opt");
        let (failed, value): (syn::Ident, Expr) = if t.path.is_ident("Some") {
            (format_ident!("is_none"), parse_quote!(#o.unwrap()))
        } else if t.path.is_ident("Ok") {
            (format_ident!("is_err"), parse_quote!(#o.ok().unwrap()))
        } else {
            return None;
        };
        let (e, p) = (&init.expr, &t.elems[0]);
        Some(vec![
            parse_quote!(let #o = #e;),
            parse_quote!(if #o.#failed() #diverge),
            parse_quote!(let #p = #value;),
        ])
    }
}

impl VisitMut for Optional<'_> {
    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        super::visit_vec_values(self, m);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Some(new) = self.unwrap(e).or_else(|| self.branch(e)) {
            *e = new;
        }
        visit_mut::visit_expr_mut(self, e);
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        let mut stmts = Vec::with_capacity(b.stmts.len());
        for mut stmt in std::mem::take(&mut b.stmts) {
            match self.let_else(&stmt).or_else(|| self.let_else_value(&stmt)) {
                Some(mut new) => {
                    new.iter_mut().for_each(|s| self.visit_stmt_mut(s));
                    stmts.extend(new);
                }
                None => {
                    self.visit_stmt_mut(&mut stmt);
                    stmts.push(stmt);
                }
            }
        }
        b.stmts = stmts;
    }
}
