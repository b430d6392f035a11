//! Register-carried adjoints: a loop over `i` that adds to an outer array's adjoint only at
//! `i + c`, for a few constants `c`, keeps those contributions in locals instead of adding
//! to memory it reads again an iteration later.
//!
//! `for i in 1..n { .. c[i - 1] .. c[i] .. c[i + 1] .. }` adds, in its reverse, to
//! `dc[i + 1]`, `dc[i]`, `dc[i - 1]`. Element `e` is reached by three iterations one after
//! the other, so `dc[e]` would be loaded, added to and stored three times in a row, each
//! load waiting for the store before it. Two forms avoid that:
//!
//! - A loop whose index rises (one whose reverse runs inside its forward sweep, and a
//!   reverse sweep whose iterations are [`independent`], which may run in either order)
//!   carries each iteration's contributions in delay lines and adds them to an element
//!   once the last iteration that reaches it is done ([`rise`]). No branch, no load and
//!   store of the same element twice: the compiler can vectorize it.
//! - A reverse sweep that must run falling keeps the window `dc[i - 1 ..= i + 1]` in
//!   locals that shift by one place per iteration ([`fall`]): the element no later
//!   iteration reaches is stored, the others shift, the next one is loaded.
//! - An independent reverse sweep that is linear with partials the same in every
//!   iteration (a linear stencil) runs element by element instead: see `gather`.
//!
//! This is a change of where the adjoint lives, not of what is added: each element's
//! contributions are added in the order the loop makes them (a reverse sweep run rising
//! adds them in the falling loop's order), to the value the element had before the loop,
//! so the sums have the same bits.

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
        // The window touches every element from `lo + min` to `hi - 1 + max`, so both ends
        // must be elements the forward loop reads: reads at offsets `min` and `max` in every
        // iteration, not only in a branch (`if i + 1 < n { .. x[i + 1] .. }` reaches no
        // element past the end, where a window's last flush would).
        let read_always = |c: i64| {
            body.stmts.iter().any(|s| {
                matches!(s, Stmt::Let { op: Op::Project { base: b, path, .. }, .. }
                    if *b == base && offset(path, &offsets) == Some(c))
            })
        };
        if !read_always(min) || !read_always(max) {
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

/// The offset from the index of the element a projection `path` starts at, if it starts at
/// one (`x[i + c]...`).
fn offset(path: &[Proj], offsets: &HashMap<VarId, i64>) -> Option<i64> {
    match path {
        [Proj::Index(Operand::Var(o)), ..] => offsets.get(o).copied(),
        _ => None,
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
                out.push((*base, offset(path, offsets)));
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
pub(crate) fn at(base: TokenStream, c: i64) -> TokenStream {
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
    /// A reverse sweep whose iterations are [`independent`] runs them rising instead,
    /// taking its saved values from this stack's tail in the order they were pushed.
    pub rising: Option<Option<TokenStream>>,
}

/// A loop with windows, around its emitted `for` head and body. A loop whose index rises
/// (one whose reverse runs inside its forward sweep, or a reverse sweep whose iterations
/// are [`independent`]) carries its contributions in delay lines ([`rise`]); a reverse
/// sweep that must run falling keeps the window in registers that shift ([`fall`]).
pub fn wrap(
    windows: &[Window],
    adj: &dyn Fn(VarId) -> TokenStream,
    rt: &TokenStream,
    counted: &Counted,
    head: TokenStream,
    body: TokenStream,
) -> TokenStream {
    if windows.is_empty() {
        return quote!(#head { #body });
    }
    match (&counted.rising, counted.falling) {
        (Some(tape), _) => rise(windows, adj, rt, counted, Rise::Reverse(tape), body),
        (None, false) => rise(windows, adj, rt, counted, Rise::Forward(head), body),
        (None, true) => fall(windows, adj, rt, counted, head, body),
    }
}

/// A reverse sweep counting down: element `e` enters the window (taken out of the array)
/// at the first iteration that reaches it, `e - min`, has its contributions added in the
/// registers, and leaves at `e - max`. Each element is loaded and stored once, and the
/// additions chain through registers.
fn fall(
    windows: &[Window],
    adj: &dyn Fn(VarId) -> TokenStream,
    rt: &TokenStream,
    counted: &Counted,
    head: TokenStream,
    body: TokenStream,
) -> TokenStream {
    let Counted { lo, hi, index, .. } = counted;
    let first = quote!((#hi - 1));
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
        let leave_at = at(index.clone(), w.min + n as i64 - 1);
        let rl = &w.regs[n - 1];
        step.extend(quote!(#d[#leave_at] = #rt::take_piece(&mut #rl);));
        let mut shift = TokenStream::new();
        for k in (1..n).rev() {
            let (to, from) = (&w.regs[k], &w.regs[k - 1]);
            shift.extend(quote!(#to = #rt::take_piece(&mut #from);));
        }
        let re = &w.regs[0];
        let t = take(at(quote!((#index - 1)), w.min));
        shift.extend(quote!(#re = #t;));
        let mut rest = TokenStream::new();
        for (k, r) in w.regs.iter().enumerate().take(n - 1) {
            let a = at(index.clone(), w.min + k as i64);
            rest.extend(quote!(#d[#a] = #rt::take_piece(&mut #r);));
        }
        step.extend(quote!(if __grad_last { #rest } else { #shift }));
    }
    // `head` is `for <pattern> in <range>`; the window steps after each iteration's body.
    quote! {
        if #lo < #hi {
            #load
            #head {
                #body
                let __grad_last = #index == #lo;
                #step
            }
        }
    }
}

/// How a loop with delay lines runs.
enum Rise<'a> {
    /// A loop whose reverse runs inside its forward sweep, with its own head: element
    /// `e`'s contributions come in the order of the iterations, largest offset first.
    Forward(TokenStream),
    /// A reverse sweep run rising: the falling loop's order is smallest offset first. With
    /// the stack whose tail holds its saved values, if it saved any.
    Reverse(&'a Option<TokenStream>),
}

/// A loop over `i` rising, with delay lines instead of a window.
///
/// Element `e` is reached by iterations `e - max`, ..., `e - min`. Each iteration's
/// contributions start from zero in registers of their own (`w_k` for offset `min + k`),
/// and delay lines carry them forward: `h_k_j` is what iteration `i - j` added at offset
/// `min + k`. At the end of iteration `i`, element `i + min` has had all its contributions
/// and receives them, in the order the loop it stands for adds them: this loop's own order
/// (largest offset first), or for a reverse sweep the falling loop's (smallest first).
/// After the loop the elements past `hi - 1 + min` receive what the delay lines still hold.
///
/// The registers start at `-0.0`, the identity of addition, so each element's sum has the
/// bits of a window's that takes the element out and puts it back. There is no branch in
/// the loop and nothing goes from one iteration to the next through memory: the carried
/// registers are fixed-order recurrences, which the compiler vectorizes where the body
/// allows (it neither hoists bounds checks nor vectorizes when the index falls).
fn rise(
    windows: &[Window],
    adj: &dyn Fn(VarId) -> TokenStream,
    rt: &TokenStream,
    counted: &Counted,
    rise: Rise<'_>,
    body: TokenStream,
) -> TokenStream {
    let Counted { lo, hi, index, .. } = counted;
    let ascending = matches!(rise, Rise::Reverse(_));
    let (mut before, mut start, mut end, mut after) = (
        TokenStream::new(),
        TokenStream::new(),
        TokenStream::new(),
        TokenStream::new(),
    );
    for w in windows {
        let d = adj(w.base);
        let width = w.regs.len();
        let zero = format_ident!("__grad_zero_{}", w.regs[0]);
        let first = at(quote!((#hi - 1)), w.min);
        before.extend(quote!(let #zero = #rt::zero_piece(&#d[#first]);));
        // h[k][j - 1]: the contribution at offset min + k from iteration i - j.
        let h: Vec<Vec<Ident>> = (0..width)
            .map(|k| {
                (1..=k)
                    .map(|j| format_ident!("__grad_delay_{}_{}_{}", k, j, w.regs[0]))
                    .collect()
            })
            .collect();
        for r in h.iter().flatten() {
            before.extend(quote!(let mut #r = ::core::clone::Clone::clone(&#zero);));
        }
        for r in &w.regs {
            start.extend(quote!(let mut #r = ::core::clone::Clone::clone(&#zero);));
        }
        // Element i + min's contributions: offset min + k from iteration i - k.
        let done = at(index.clone(), w.min);
        let mut parts: Vec<&Ident> = std::iter::once(&w.regs[0])
            .chain(h.iter().skip(1).map(|row| &row[row.len() - 1]))
            .collect();
        if !ascending {
            parts.reverse();
        }
        for r in parts {
            end.extend(quote!(#rt::accumulate(&mut #d[#done], #r);));
        }
        for (row, r) in h.iter().zip(&w.regs).skip(1) {
            for j in (1..row.len()).rev() {
                let (to, from) = (&row[j], &row[j - 1]);
                end.extend(quote!(#to = #from;));
            }
            let newest = &row[0];
            end.extend(quote!(#newest = #r;));
        }
        // Element hi - 1 + min + m still lacks, for each k >= m, what iteration
        // hi - 1 - (k - m) added at offset min + k: h[k][k - m].
        for m in 1..width {
            let e = at(quote!((#hi - 1)), w.min + m as i64);
            let mut parts: Vec<&Ident> = h
                .iter()
                .enumerate()
                .skip(m)
                .map(|(k, row)| &row[k - m])
                .collect();
            if !ascending {
                parts.reverse();
            }
            for r in parts {
                after.extend(quote!(#rt::accumulate(&mut #d[#e], #r);));
            }
        }
    }
    let head = match rise {
        Rise::Forward(head) => head,
        Rise::Reverse(None) => quote!(for #index in #lo..#hi),
        // With saved values, the loop runs over them (one exit, which the compiler needs
        // to vectorize; a `zip` with the range has two where the values are not `Copy`).
        Rise::Reverse(Some(stack)) => {
            before.extend(quote!(let __grad_tape = #rt::stack_tail(&mut #stack, #hi - #lo);));
            start = quote!(let #index = #lo + __grad_j; #start);
            quote!(for (__grad_j, __grad_saved) in ::core::iter::Iterator::enumerate(
                ::core::iter::IntoIterator::into_iter(__grad_tape)
            ))
        }
    };
    quote! {
        if #lo < #hi {
            #before
            #head {
                #start
                #body
                #end
            }
            #after
        }
    }
}

/// Whether a windowed loop's reverse may run its iterations in either order: the forward
/// body is straight-line code whose only carried values are arrays written element by
/// element at `i + c` and never read in the loop, and whose other contributions go to the
/// windowed arrays or to values of the iteration itself. Then iteration `i`'s reverse
/// reads and writes nothing that another iteration's does but the windowed adjoints, which
/// [`rise`] adds in the falling loop's order: the order the iterations run in does not
/// change a bit of the result, and running them with the index rising lets the compiler
/// check bounds once and vectorize (it does neither for a falling index).
pub fn independent(
    an: &Analysis<'_>,
    body: &Block,
    carried: &[Carried],
    windows: &[Window],
) -> bool {
    // The index offsets `find` read from this body (every window of a loop has them all).
    let Some(offsets) = windows.first().map(|w| &w.offsets) else {
        return false;
    };
    // The carried arrays' versions: the value an iteration starts with, and each write.
    let mut versions: Vec<VarId> = Vec::new();
    for c in carried.iter().filter(|c| an.func.vars[c.out].active) {
        versions.push(c.inner);
    }
    let mut inside = Vec::new();
    body.stmts
        .iter()
        .for_each(|s| an.defined_inside(s, &mut inside));
    let windowed = |v: VarId| windows.iter().any(|w| w.base == v);
    for s in &body.stmts {
        let Stmt::Let { var, op } = s else {
            return false;
        };
        match op {
            Op::Call { .. } => return false,
            Op::Write {
                base, path, push, ..
            } => {
                let at_offset = matches!(
                    path.first(),
                    Some(Proj::Index(Operand::Var(o))) if offsets.contains_key(o)
                );
                if *push || !at_offset || !versions.contains(base) {
                    return false;
                }
                versions.push(*var);
            }
            Op::Project { base, .. } | Op::Borrow(base) | Op::Deref(base)
                if versions.contains(base) =>
            {
                return false;
            }
            Op::Use(Operand::Var(v)) if versions.contains(v) => return false,
            _ => {}
        }
        let mut targets = Vec::new();
        an.targets(s, &mut targets);
        if targets
            .iter()
            .any(|t| !inside.contains(t) && !windowed(*t) && !versions.contains(t))
        {
            return false;
        }
    }
    // Each carried array ends the iteration as one of its versions.
    carried
        .iter()
        .filter(|c| an.func.vars[c.out].active)
        .all(|c| matches!(c.next, Operand::Var(n) if versions.contains(&n)))
}
