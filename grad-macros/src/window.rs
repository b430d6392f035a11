//! Register-carried adjoints: a loop over `i` that adds to an outer array's adjoint only at
//! `i + c`, for a few constants `c`, keeps those elements' adjoints in locals that shift by
//! one place per iteration, instead of adding to memory it reads again an iteration later.
//!
//! `for i in 1..n { .. c[i - 1] .. c[i] .. c[i + 1] .. }` adds, in its reverse (`i`
//! falling), to `dc[i + 1]`, `dc[i]`, `dc[i - 1]`. Element `e` is reached by iterations
//! `e + 1`, `e`, `e - 1`, one after the other, so `dc[e]` would be loaded, added to and
//! stored three times in a row, each load waiting for the store before it. Here the
//! window `dc[i - 1 ..= i + 1]` lives in three locals: an iteration adds to them, then the
//! element no later iteration reaches (`i + 1`) is stored, the others shift up, and the
//! element the next iteration reaches first (`i - 2`) is loaded. Each element is loaded
//! and stored once, and the additions chain through registers.
//!
//! This is a change of where the adjoint lives, not of what is added: the window holds
//! the element's whole adjoint (taken out of the array when it enters, put back when it
//! leaves), so contributions from outside the loop are kept and the sums are the same,
//! in the same order.

use crate::activity::Analysis;
use crate::emit::Emit;
use crate::ir::*;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::HashMap;
use syn::Ident;

/// The widest window kept in registers.
const MAX_WIDTH: i64 = 8;

/// One array adjoint kept in a window over a loop.
#[derive(Clone, Debug)]
pub struct Window {
    /// The array whose adjoint is windowed.
    pub base: VarId,
    /// The smallest offset from the index that the loop reaches; the registers hold the
    /// offsets from it up.
    pub min: i64,
    /// Each index-like value of the body, as its offset from the index.
    pub offsets: HashMap<VarId, i64>,
    /// The registers, for offsets `min ..= max`.
    pub regs: Vec<Ident>,
}

impl Window {
    /// The register a contribution at `base[o]...` goes to, if `o` is one of the window's,
    /// and the rest of the path inside that element.
    pub fn register<'p>(&self, base: VarId, path: &'p [Proj]) -> Option<(&Ident, &'p [Proj])> {
        match path {
            [Proj::Index(Operand::Var(o)), rest @ ..] if base == self.base => self
                .offsets
                .get(o)
                .map(|c| (&self.regs[(c - self.min) as usize], rest)),
            _ => None,
        }
    }
}

/// The windows of a `for` loop: one per outer array whose adjoint the body adds to only
/// through `base[i + c]`. None for loops that do not count up by one over `lo..hi`.
pub fn find(
    an: &Analysis<'_>,
    e: &Emit<'_>,
    index: Option<VarId>,
    range: &RangeSpec,
    body: &Block,
    fresh: &mut usize,
) -> Vec<Window> {
    let Some(index) = index else { return vec![] };
    if range.inclusive || !range.ops.is_empty() {
        return vec![];
    }
    let offsets = index_offsets(e, index, body);
    let mut defined = Vec::new();
    body.stmts
        .iter()
        .for_each(|s| an.defined_inside(s, &mut defined));
    // Every adjoint contribution in the body, as (target, offset if an element at i + c).
    let mut reached: Vec<(VarId, Option<i64>)> = Vec::new();
    contributions(an, body, &offsets, &mut reached);
    let mut bases: Vec<VarId> = Vec::new();
    for (b, c) in &reached {
        if c.is_some() && !defined.contains(b) && !bases.contains(b) {
            bases.push(*b);
        }
    }
    let mut out = Vec::new();
    for base in bases {
        let cs: Vec<Option<i64>> = reached
            .iter()
            .filter(|(b, _)| *b == base)
            .map(|(_, c)| *c)
            .collect();
        if cs.iter().any(Option::is_none) {
            continue;
        }
        let min = cs.iter().flatten().min().copied().unwrap_or(0);
        let max = cs.iter().flatten().max().copied().unwrap_or(0);
        // One offset: each element is reached by one iteration only, so there is nothing to
        // carry, and a window would only add a load and a store per iteration.
        if max == min || max - min >= MAX_WIDTH {
            continue;
        }
        let regs = (min..=max)
            .map(|_| {
                *fresh += 1;
                format_ident!("__grad_window_{}", *fresh)
            })
            .collect();
        out.push(Window {
            base,
            min,
            offsets: offsets.clone(),
            regs,
        });
    }
    out
}

/// The body's values that are the index plus a constant: the index itself, and `let`s of
/// `i + c`, `c + i`, `i - c` (as written, so also after the desugaring's rewrites), in
/// nested blocks too.
fn index_offsets(e: &Emit<'_>, index: VarId, body: &Block) -> HashMap<VarId, i64> {
    fn walk(b: &Block, index: VarId, name: &str, out: &mut HashMap<VarId, i64>) {
        for s in &b.stmts {
            match s {
                Stmt::Let {
                    var,
                    op: Op::Opaque { tokens, uses, .. },
                } if uses == &[index] => {
                    if let Some(c) = offset_expr(tokens, name) {
                        out.insert(*var, c);
                    }
                }
                Stmt::Let { .. } | Stmt::Effect { .. } => {}
                Stmt::If { arms, .. } => arms.iter().for_each(|a| walk(a, index, name, out)),
                Stmt::Match { arms, .. } => {
                    arms.iter().for_each(|a| walk(&a.body, index, name, out))
                }
                Stmt::For { body, .. } => walk(body, index, name, out),
                Stmt::While {
                    cond_block, body, ..
                } => {
                    walk(cond_block, index, name, out);
                    walk(body, index, name, out);
                }
            }
        }
    }
    let mut out = HashMap::from([(index, 0)]);
    walk(body, index, &e.name(index).to_string(), &mut out);
    out
}

fn offset_expr(tokens: &TokenStream, index: &str) -> Option<i64> {
    let expr: syn::Expr = syn::parse2(tokens.clone()).ok()?;
    let is_index = |e: &syn::Expr| matches!(e, syn::Expr::Path(p) if p.path.is_ident(index));
    let constant = |e: &syn::Expr| match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        }) => n.base10_parse::<i64>().ok(),
        _ => None,
    };
    let syn::Expr::Binary(b) = strip(&expr) else {
        return None;
    };
    let (l, r) = (strip(&b.left), strip(&b.right));
    match b.op {
        syn::BinOp::Add(_) if is_index(l) => constant(r),
        syn::BinOp::Add(_) if is_index(r) => constant(l),
        syn::BinOp::Sub(_) if is_index(l) => constant(r).map(|c| -c),
        _ => None,
    }
}

fn strip(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => strip(&p.expr),
        syn::Expr::Group(g) => strip(&g.expr),
        _ => e,
    }
}

/// Every adjoint contribution in a block, nested blocks included: an element read at a
/// known offset as `(base, Some(c))`, anything else as `(target, None)`.
fn contributions(
    an: &Analysis<'_>,
    b: &Block,
    offsets: &HashMap<VarId, i64>,
    out: &mut Vec<(VarId, Option<i64>)>,
) {
    for s in &b.stmts {
        match s {
            Stmt::Let {
                op: Op::Project { base, path, .. },
                var,
            } if an.func.vars[*var].active => {
                let c = match path.as_slice() {
                    [Proj::Index(Operand::Var(o)), ..] => offsets.get(o).copied(),
                    _ => None,
                };
                out.push((*base, c));
            }
            Stmt::Let { .. } | Stmt::Effect { .. } => {
                let mut t = Vec::new();
                an.targets(s, &mut t);
                out.extend(t.into_iter().map(|v| (v, None)));
            }
            Stmt::If { arms, .. } => {
                arms.iter().for_each(|a| contributions(an, a, offsets, out));
                others(an, s, out);
            }
            Stmt::Match { arms, .. } => {
                arms.iter()
                    .for_each(|a| contributions(an, &a.body, offsets, out));
                others(an, s, out);
            }
            Stmt::For { body, .. } => {
                contributions(an, body, offsets, out);
                others(an, s, out);
            }
            Stmt::While {
                cond_block, body, ..
            } => {
                contributions(an, cond_block, offsets, out);
                contributions(an, body, offsets, out);
                others(an, s, out);
            }
        }
    }
}

/// The targets of a compound statement that are not in its blocks (its merges, its
/// carried values), as whole-value contributions.
fn others(an: &Analysis<'_>, s: &Stmt, out: &mut Vec<(VarId, Option<i64>)>) {
    let mut all = Vec::new();
    an.targets(s, &mut all);
    let mut inner = Vec::new();
    let blocks: Vec<&Block> = match s {
        Stmt::If { arms, .. } => arms.iter().collect(),
        Stmt::Match { arms, .. } => arms.iter().map(|a| &a.body).collect(),
        Stmt::For { body, .. } => vec![body],
        Stmt::While {
            cond_block, body, ..
        } => vec![cond_block, body],
        _ => vec![],
    };
    for b in blocks {
        b.stmts.iter().for_each(|s| an.targets(s, &mut inner));
    }
    for v in all {
        if let Some(k) = inner.iter().position(|w| *w == v) {
            inner.remove(k);
        } else {
            out.push((v, None));
        }
    }
}

/// `base + c` (or `- c`) as an index expression.
fn at(base: TokenStream, c: i64) -> TokenStream {
    let k = c.unsigned_abs() as usize;
    match c {
        0 => base,
        c if c > 0 => quote!((#base + #k)),
        _ => quote!((#base - #k)),
    }
}

/// A counted loop as emitted: `index` over `lo..hi`.
pub struct Counted {
    pub lo: TokenStream,
    pub hi: TokenStream,
    pub index: TokenStream,
    /// The iterations run from `hi - 1` down to `lo` (a reverse sweep); else up from `lo`
    /// (a loop whose reverse runs inside its forward sweep).
    pub falling: bool,
}

/// A loop with windows, around its emitted `for` head and body.
pub fn wrap(
    windows: &[Window],
    adj: &dyn Fn(VarId) -> TokenStream,
    rt: &TokenStream,
    counted: &Counted,
    head: TokenStream,
    body: TokenStream,
) -> TokenStream {
    let Counted {
        lo,
        hi,
        index,
        falling,
    } = counted;
    let falling = *falling;
    if windows.is_empty() {
        return quote!(#head { #body });
    }
    let first = if falling {
        quote!((#hi - 1))
    } else {
        quote!(#lo)
    };
    let mut load = TokenStream::new();
    let mut step = TokenStream::new();
    for w in windows {
        let d = adj(w.base);
        let take = |at: TokenStream| quote!(#rt::take_piece(&mut #d[#at]));
        for (k, r) in w.regs.iter().enumerate() {
            let c = w.min + k as i64;
            let t = take(crate::window::at(first.clone(), c));
            load.extend(quote!(let mut #r = #t;));
        }
        // The element no later iteration reaches leaves; the others shift toward it; the
        // element the next iteration reaches first enters.
        let n = w.regs.len();
        let (leave, enter) = if falling { (n - 1, 0) } else { (0, n - 1) };
        let leave_at = at(index.clone(), w.min + leave as i64);
        let rl = &w.regs[leave];
        step.extend(quote!(#d[#leave_at] = #rt::take_piece(&mut #rl);));
        let mut shift = TokenStream::new();
        if falling {
            for k in (1..n).rev() {
                let (to, from) = (&w.regs[k], &w.regs[k - 1]);
                shift.extend(quote!(#to = #rt::take_piece(&mut #from);));
            }
        } else {
            for k in 0..n - 1 {
                let (to, from) = (&w.regs[k], &w.regs[k + 1]);
                shift.extend(quote!(#to = #rt::take_piece(&mut #from);));
            }
        }
        let next = if falling {
            quote!((#index - 1))
        } else {
            quote!((#index + 1))
        };
        let re = &w.regs[enter];
        let enter_at = at(next, w.min + enter as i64);
        let t = take(enter_at);
        shift.extend(quote!(#re = #t;));
        let mut rest = TokenStream::new();
        for (k, r) in w.regs.iter().enumerate().filter(|(k, _)| *k != leave) {
            let a = at(index.clone(), w.min + k as i64);
            rest.extend(quote!(#d[#a] = #rt::take_piece(&mut #r);));
        }
        step.extend(quote!(if __grad_last { #rest } else { #shift }));
    }
    let last = if falling {
        quote!(#index == #lo)
    } else {
        quote!(#index + 1 == #hi)
    };
    // `head` is `for <pattern> in <range>`; the window steps after each iteration's body.
    quote! {
        if #lo < #hi {
            #load
            #head {
                #body
                let __grad_last = #last;
                #step
            }
        }
    }
}
