//! `grad::checkpoint(range, snapshots)` as a `for` loop's iterable: recognized, and checked
//! where it is written, before the other rewrites see the loop. The loop itself is kept as
//! written (the other rewrites leave it alone), and lowering reads its range and snapshot
//! count (`parts`); the reverse pass runs it under the Revolve schedule (`crate::revolve`).

use crate::ctxt::Ctxt;
use crate::diag;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, ExprCall};

/// A call of `checkpoint` (`grad::checkpoint`, `::grad::checkpoint`, or `checkpoint`
/// imported), whatever its arguments.
pub fn call(e: &Expr) -> Option<&ExprCall> {
    let Expr::Call(c) = strip(e) else { return None };
    is_checkpoint(c).then_some(c)
}

fn is_checkpoint(c: &ExprCall) -> bool {
    let Expr::Path(p) = &*c.func else {
        return false;
    };
    p.qself.is_none()
        && p.path
            .segments
            .last()
            .is_some_and(|last| last.ident == "checkpoint" && last.arguments.is_none())
}

/// The range `lo..hi` / `lo..=hi` and the snapshot count of a well-formed checkpoint call.
pub fn parts(e: &Expr) -> Option<(&Expr, &Expr)> {
    let c = call(e)?;
    let [range, snapshots] = [c.args.first()?, c.args.get(1)?];
    (c.args.len() == 2 && is_range(range)).then_some((strip(range), snapshots))
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        e => e,
    }
}

fn is_range(e: &Expr) -> bool {
    matches!(strip(e), Expr::Range(r) if r.start.is_some() && r.end.is_some())
}

/// Reports every checkpoint call that is not the iterable of a `for` loop, or whose
/// arguments are not a range and a count, and every early exit from a checkpointed loop.
pub fn check(cx: &mut Ctxt, block: &syn::Block) {
    Checker { cx }.visit_block(block);
}

struct Checker<'a> {
    cx: &'a mut Ctxt,
}

impl<'a> Visit<'a> for Checker<'_> {
    fn visit_expr_for_loop(&mut self, f: &'a syn::ExprForLoop) {
        let Some(c) = call(&f.expr) else {
            return visit::visit_expr_for_loop(self, f);
        };
        if c.args.len() != 2 {
            self.cx.error_at(c, diag::CHECKPOINT_ARITY);
        } else if !is_range(&c.args[0]) {
            self.cx.error_at(&c.args[0], diag::CHECKPOINT_RANGE);
        }
        // The arguments, and the body (a stray call, a nested checkpointed loop).
        for a in &c.args {
            self.visit_expr(a);
        }
        let mut exits = Exits(Vec::new());
        exits.visit_block(&f.body);
        for (span, what) in exits.0 {
            self.cx.error(span, diag::checkpoint_exit(what));
        }
        self.visit_block(&f.body);
    }

    fn visit_expr_call(&mut self, c: &'a ExprCall) {
        if is_checkpoint(c) {
            self.cx.error_at(&c.func, diag::CHECKPOINT_PLACE);
        }
        visit::visit_expr_call(self, c);
    }
}

/// The exits that would leave a checkpointed loop's iteration other than at its end
/// (`continue` to this loop is fine: the iteration still ends).
struct Exits(Vec<(Span, &'static str)>);

impl<'a> Visit<'a> for Exits {
    fn visit_expr_break(&mut self, b: &'a syn::ExprBreak) {
        self.0.push((b.break_token.span, "break"));
    }
    fn visit_expr_return(&mut self, r: &'a syn::ExprReturn) {
        self.0.push((r.return_token.span, "return"));
    }
    fn visit_expr_try(&mut self, t: &'a syn::ExprTry) {
        self.0.push((t.question_token.span(), "?"));
        visit::visit_expr_try(self, t);
    }
    fn visit_expr_continue(&mut self, c: &'a syn::ExprContinue) {
        if c.label.is_some() {
            self.0.push((c.continue_token.span, "continue 'label"));
        }
    }
    // A closure's `return` leaves the closure only.
    fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
}
