//! Gathered reverses: a windowed loop whose reverse iterations are independent, run one
//! element of the windowed adjoint at a time instead of one iteration at a time.
//!
//! `for i in 1..n - 1 { next[i] = c[i] + k * (c[i - 1] - 2.0 * c[i] + c[i + 1]); }` has a
//! reverse in which iteration `i` reads `dnext[i]` and adds to `dc[i - 1]`, `dc[i]` and
//! `dc[i + 1]`. The delay lines of [`window::rise`](crate::window) carry those
//! contributions from one iteration to the next; vectorized, the carried registers become
//! lane shuffles, a cost the hand-written adjoint `dc[e] = dnext[e] + k (dnext[e - 1] -
//! 2 dnext[e] + dnext[e + 1])` does not pay: it reads its neighbours from memory. A gather
//! does the same: element `e` runs one copy of the iteration body per offset `o`, at
//! `i = e - o`, and keeps the contribution that copy makes at `e`.
//!
//! A copy per offset would multiply the body's work by the window's width, so the body
//! runs on a unit cotangent and its result is scaled by the real one (see the runtime's
//! `rules::seed`): a reverse is linear in its cotangent, and where the partials do not
//! depend on the iteration the compiler hoists the copies' work out of the loop, leaving
//! one multiplication per offset. That is the condition under which the gather is chosen
//! ([`plan`]): one written element (one cotangent), nothing saved per iteration but
//! shapes, and nothing recomputed but index arithmetic.
//!
//! Each copy reads `dnext[i]` without taking it (a later copy reads it again), so the
//! written elements are zeroed after the loop, unless no later step of the reverse can read
//! them ([`zeroing_dead`]).
//!
//! Each element's contributions are added in the falling loop's order, smallest offset
//! first, as [`window::rise`](crate::window) adds them; the unit seed changes where the
//! cotangent enters the products, so the bits may differ from the delay lines' in the last
//! place.

use crate::activity::{Form, Needs};
use crate::ir::*;
use crate::window::{Counted, Window, at};
use proc_macro2::TokenStream;
use quote::quote;

/// What a gathered reverse needs to know about its loop's one write.
pub struct Gather<'a> {
    /// The written array's carried value.
    pub written: &'a Carried,
    /// The written element's offset from the index.
    pub offset: i64,
}

/// Whether a windowed loop whose reverse may run rising is run as a gather: one window,
/// one element written (at an offset from the index), nothing saved but shapes and
/// nothing recomputed but index arithmetic.
pub fn plan<'a>(
    body: &Block,
    carried: &'a [Carried],
    windows: &[Window],
    (saved, recompute): (&Needs, &[VarId]),
) -> Option<Gather<'a>> {
    let [w] = windows else { return None };
    if saved.0.iter().any(|(_, f)| *f != Form::Shape) {
        return None;
    }
    if recompute.iter().any(|v| !w.offsets.contains_key(v)) {
        return None;
    }
    let mut writes = body.stmts.iter().filter_map(|s| match s {
        Stmt::Let {
            op: Op::Write {
                base, path, push, ..
            },
            ..
        } => Some((*base, path, *push)),
        _ => None,
    });
    let (base, path, push) = writes.next()?;
    if writes.next().is_some() || push {
        return None;
    }
    let [Proj::Index(Operand::Var(o))] = path.as_slice() else {
        return None;
    };
    let offset = *w.offsets.get(o)?;
    carried
        .iter()
        .find(|c| c.inner == base)
        .map(|written| Gather { written, offset })
}

/// The indices at which a carried array's starting value was written in its block before
/// the loop, back to a value whose adjoint is dropped (an inactive one, such as
/// `vec![0.0; n]`). None where the chain leaves the block, passes anything but an
/// element write, or starts at an active value: then the whole adjoint is read later.
pub fn chain(
    stmts: &[Stmt],
    init: &Operand,
    active: &dyn Fn(VarId) -> bool,
) -> Option<Vec<Operand>> {
    let &Operand::Var(mut v) = init else {
        return None;
    };
    let mut at = Vec::new();
    while active(v) {
        let op = stmts.iter().find_map(|s| match s {
            Stmt::Let { var, op } if *var == v => Some(op),
            _ => None,
        })?;
        let Op::Write {
            base,
            path,
            push: false,
            ..
        } = op
        else {
            return None;
        };
        let [Proj::Index(i)] = path.as_slice() else {
            return None;
        };
        at.push(i.clone());
        v = *base;
    }
    Some(at)
}

/// Whether zeroing the written elements `lo + offset .. hi + offset` after a gathered loop
/// is dead: every later read of the array's adjoint (the reverse of an earlier element
/// write, in `chain`) is at an index provably outside that range, and the rest of the
/// adjoint is dropped.
pub fn zeroing_dead(chain: Option<&[Operand]>, range: &RangeSpec, offset: i64) -> bool {
    let Some(chain) = chain else { return false };
    let literal = |o: &Operand| match o {
        Operand::Const(t) => syn::parse2::<syn::LitInt>(t.clone())
            .ok()?
            .base10_parse::<i64>()
            .ok(),
        Operand::Var(_) => None,
    };
    chain.iter().all(|j| {
        // Below the first zeroed element, or at or above the end of the range.
        let below =
            matches!((literal(j), literal(&range.lo)), (Some(j), Some(lo)) if j < lo + offset);
        let above_literal =
            matches!((literal(j), literal(&range.hi)), (Some(j), Some(hi)) if j >= hi + offset);
        let at_end =
            offset <= 0 && matches!((j, &range.hi), (Operand::Var(a), Operand::Var(b)) if a == b);
        below || above_literal || at_end
    })
}

/// The gathered loop. `d` is the windowed adjoint, `fresh` where it was made zero for this
/// loop (nothing has reached it yet), `tape` the stack whose tail holds the iterations'
/// saved shapes (if any), `zero` the written array's adjoint and the written offset where
/// the written elements must be zeroed after the loop.
pub fn emit(
    w: &Window,
    (d, fresh): (TokenStream, bool),
    rt: &TokenStream,
    counted: &Counted,
    tape: Option<&TokenStream>,
    zero: Option<(TokenStream, i64)>,
    body: &TokenStream,
) -> TokenStream {
    let Counted { lo, hi, index, .. } = counted;
    let width = w.regs.len();
    let spread = width - 1;
    let first = at(quote!((#hi - 1)), w.min);
    let zero_reg = quote!(__grad_gather_zero);
    let mut before = quote! {
        use #rt::Factor as _;
        let #zero_reg = #rt::zero_piece(&#d[#first]);
    };
    if let Some(stack) = tape {
        before.extend(quote!(let __grad_tape = #rt::stack_tail(&mut #stack, #hi - #lo);));
    }
    let regs = &w.regs;
    // Element `j + min`: copy `k` runs iteration `j - k`, whose contribution at offset
    // `min + k` lands there. Smallest offset first, as the falling loop adds them.
    let copies = |guarded: bool| {
        let mut out = TokenStream::new();
        for (k, reg) in regs.iter().enumerate() {
            let i = at(quote!(__grad_j), -(k as i64));
            let saved =
                tape.map(|_| quote!(let __grad_saved = #rt::saved_at(&__grad_tape, #index - #lo);));
            let copy = quote! {{
                let #index = #i;
                #saved
                #(let mut #regs = ::core::clone::Clone::clone(&#zero_reg);)*
                #body
                #rt::accumulate(&mut __grad_acc, __grad_factor.apply(#reg));
            }};
            if guarded && k == 0 {
                out.extend(quote!(if __grad_j < #hi #copy));
            } else if guarded {
                out.extend(quote!(if __grad_j >= #lo + #k && __grad_j - #k < #hi #copy));
            } else {
                out.extend(copy);
            }
        }
        out
    };
    // The element's sum is kept in a local: stores into the adjoint would keep the compiler
    // from holding the other arrays' elements in registers. An adjoint made zero for this
    // loop is not read: the sum starts from `-0.0`, which adding folds away, so the element
    // is its contributions' sum. That is the bits of adding them into the zero element but
    // for the sign of a zero sum: `-0.0` where every contribution is `-0.0`, not `0.0`.
    let e = at(quote!(__grad_j), w.min);
    let start = if fresh {
        zero_reg.clone()
    } else {
        quote!(#d[#e])
    };
    let (edges, interior) = (copies(true), copies(false));
    let (edges, interior) = [edges, interior]
        .map(|copies| {
            quote! {
                let mut __grad_acc = ::core::clone::Clone::clone(&#start);
                #copies
                #d[#e] = __grad_acc;
            }
        })
        .into();
    let zeroing = zero.map(|(dw, offset)| {
        let e = at(quote!(__grad_j), offset);
        quote!(for __grad_j in #lo..#hi { #rt::set_zero(&mut #dw[#e]); })
    });
    quote! {
        if #lo < #hi {
            #before
            // The elements all of whose iterations run: `lo + spread .. hi`, or none.
            let (__grad_mid_lo, __grad_mid_hi) = if #lo + #spread <= #hi {
                (#lo + #spread, #hi)
            } else {
                (#hi + #spread, #hi + #spread)
            };
            for __grad_j in (#lo..__grad_mid_lo).chain(__grad_mid_hi..#hi + #spread) {
                #edges
            }
            for __grad_j in __grad_mid_lo..__grad_mid_hi {
                #interior
            }
            #zeroing
        }
    }
}
