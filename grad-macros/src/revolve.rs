//! The reverse pass of a `for` loop over `grad::checkpoint(range, snapshots)`: binomial
//! checkpointing (Griewank and Walther's Revolve), instead of a stack of every iteration's
//! saved values.
//!
//! The loop-carried state (the variables the body assigns, as a tuple) is what is kept. The
//! forward sweep makes the schedule (`revolve::Schedule`, a pure function of the step count
//! and the snapshot count) and runs the loop keeping nothing but the snapshots of the
//! schedule's first stretch (`Schedule::descent`: the states it would store on its way from
//! step 0 to the last step) and the state before the last step. The reverse sweep is the
//! ordinary loop reverse (`Rev::rev_loop`: pop one iteration's saved values, run its
//! adjoint), under a head that, before each iteration, runs the schedule's actions up to its
//! next `Reverse`:
//!
//! ```text
//! while let Some(i) = {
//!     let mut found = None;
//!     while let Some(a) = sched.next() {
//!         match a {
//!             Store(k) => slots[k] = Some(state.clone()),
//!             Restore(k) => state = slots[k].clone(),
//!             Advance(from, to) => { /* steps from..to, keeping nothing */ }
//!             Reverse(k) => { /* step k from the state, pushing its saved values */
//!                             found = Some(index of k); break; }
//!         }
//!     }
//!     found
//! } { /* the iteration's adjoint, which pops them */ }
//! ```
//!
//! So the stack holds one iteration at a time, and besides it the reverse pass holds at most
//! `snapshots` states. Steps that run forward again run the body's primal code (calls to
//! the callee itself, not its `_vjp`). The loop runs at the top of the function body, with
//! no loop inside it (`lower::control::check_checkpointed`): the schedule and snapshots the
//! forward sweep hands over are then locals of the function (moved into `_vjp`'s
//! pullback), and the body's rerun keeps nothing on another loop's stack.

use crate::ir::*;
use crate::names;
use crate::reverse::Rev;
use proc_macro2::{Span, TokenStream};
use quote::quote;

/// The locals a checkpointed loop's forward sweep hands to its reverse sweep.
struct Names {
    state: syn::Ident,
    slots: syn::Ident,
    sched: syn::Ident,
    steps: syn::Ident,
}

fn names_of(stack: VarId) -> Names {
    Names {
        state: names::aux("revolve_state", stack),
        slots: names::aux("revolve_slots", stack),
        sched: names::aux("revolve_schedule", stack),
        steps: names::aux("revolve_steps", stack),
    }
}

/// The loop in the forward sweep: run keeping nothing but the descent's snapshots and the
/// state before the last step.
pub(crate) fn fwd(rev: &mut Rev<'_>, s: &Stmt, snapshots: &Operand, out: &mut TokenStream) {
    let Stmt::For {
        index,
        range,
        body,
        carried,
        stack,
    } = s
    else {
        return;
    };
    let rt = rev.e.rt.clone();
    let Names {
        state,
        slots,
        sched,
        steps,
    } = names_of(*stack);
    let idx = rev.index_pat(*index);
    let (decl, take, give, finish) = rev.carried_parts(carried, body);
    let ms: Vec<syn::Ident> = carried.iter().map(|c| rev.carried_mut(c)).collect();
    let mut b = TokenStream::new();
    plain_block(rev, body, &mut b);
    let (lo, hi, inclusive) = (rev.e.val(&range.lo), rev.e.val(&range.hi), range.inclusive);
    let range = rev.e.range(range);
    let n = rev.e.val(snapshots);
    let local = |n: &str| names::local(format!("__grad_revolve_{n}_{stack}"), Span::call_site());
    let (len, descent, k, slot) = (local("len"), local("descent"), local("k"), local("slot"));
    let copy = quote!((#(::core::clone::Clone::clone(&#ms),)*));
    out.extend(quote! {
        #decl
        let #steps = #range;
        let #len = #rt::range_len(#lo, #hi, #inclusive);
        let mut #sched = #rt::revolve::Schedule::new(#len, #n);
        let mut #state = ::core::option::Option::None;
        let mut #slots = #rt::revolve::snapshot_slots(#n, &#state);
        let mut #descent = #sched.descent();
        for (#k, #idx) in ::core::iter::Iterator::enumerate(::core::clone::Clone::clone(&#steps)) {
            if let ::core::option::Option::Some(#slot) = #descent.slot(#k) {
                #slots[#slot] = ::core::option::Option::Some(#copy);
            }
            if #k + 1 == #len {
                #state = ::core::option::Option::Some(#copy);
            }
            #take
            #b
            #give
        }
        #finish
    });
}

/// The loop in the reverse sweep: the ordinary loop reverse under the schedule's head.
pub(crate) fn rev(rev: &mut Rev<'_>, s: &Stmt, out: &mut TokenStream) {
    let Stmt::For {
        index,
        body,
        carried,
        stack,
        ..
    } = s
    else {
        return;
    };
    let rt = rev.e.rt.clone();
    let Names {
        state,
        slots,
        sched,
        steps,
    } = names_of(*stack);
    let idx = rev.index_pat(*index);
    let found = match index {
        Some(i) => {
            let i = rev.e.name(*i);
            quote!(#i)
        }
        None => quote!(()),
    };
    let (_, take, give, _) = rev.carried_parts(carried, body);
    let ms: Vec<syn::Ident> = carried.iter().map(|c| rev.carried_mut(c)).collect();
    let mut plain = TokenStream::new();
    plain_block(rev, body, &mut plain);
    let mut taped = TokenStream::new();
    rev.fwd_block(body, &mut taped);
    let push = rev.push(*stack, false);
    let local = |n: &str| names::local(format!("__grad_revolve_{n}"), Span::call_site());
    let (a, f, k) = (local("action"), local("found"), local("k"));
    let (from, to) = (local("from"), local("to"));
    let action = quote!(#rt::revolve::Action);
    let at = match index {
        Some(_) => quote!(let #idx = #rt::revolve::step_index(&#steps, #k);),
        None => quote!(),
    };
    let head = quote! {
        while let ::core::option::Option::Some(#idx) = {
            let mut #f = ::core::option::Option::None;
            while let ::core::option::Option::Some(#a) = ::core::iter::Iterator::next(&mut #sched) {
                match #a {
                    #action::Store(#k) => {
                        #slots[#k] = ::core::option::Option::Some(
                            ::core::clone::Clone::clone(#rt::revolve::state_ref(&#state)),
                        );
                    }
                    #action::Restore(#k) => {
                        #state = #rt::revolve::restore(&#slots, #k);
                    }
                    #action::Advance(#from, #to) => {
                        let (#(mut #ms,)*) = #rt::revolve::state(#state.take());
                        for #idx in #rt::revolve::step_range(&#steps, #from, #to) {
                            #take
                            #plain
                            #give
                        }
                        #state = ::core::option::Option::Some((#(#ms,)*));
                    }
                    #action::Reverse(#k) => {
                        let (#(mut #ms,)*) = #rt::revolve::state(#state.take());
                        #at
                        #take
                        #taped
                        #push
                        #f = ::core::option::Option::Some(#found);
                        break;
                    }
                }
            }
            #f
        }
    };
    rev.rev_loop(s, (head, None), body, carried, *stack, out);
}

/// The body's primal code: calls of the callees themselves, not their `_vjp`. (A branch
/// still makes its record, which the iteration drops.)
fn plain_block(rev: &mut Rev<'_>, b: &Block, out: &mut TokenStream) {
    for s in &b.stmts {
        match s {
            Stmt::Let {
                var,
                op: Op::Call { callee, args, span },
            } => {
                let name = rev.e.name(*var);
                let call = rev.e.call(callee, args, "", &[], *span);
                out.extend(quote!(let #name = #call;));
            }
            Stmt::Let { var, op } => rev.fwd_let(*var, op, out),
            s => rev.fwd_stmt(s, out),
        }
    }
}
