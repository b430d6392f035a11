//! Lowering of control flow: `if`, `match`, and loops with their carried variables.

use super::syntax::*;
use super::{Lower, is_unit, unit};
use crate::diag;
use crate::ir::*;
use crate::names;
use proc_macro2::Span;
use quote::{ToTokens, quote};
use syn::{Expr, Ident, Pat};

impl<'f> Lower<'f> {
    pub(super) fn lower_condition(&mut self, cond: &Expr, out: &mut Vec<Stmt>) -> Operand {
        if let Expr::Let(l) = strip(cond) {
            self.cx.error(l.let_token.span, diag::IF_LET);
            return Operand::Const(quote!(false));
        }
        let c = self.lower_expr(cond, out);
        if self.is_active(&c) {
            self.cx.error_at(cond, diag::ACTIVE_CONDITION);
        }
        c
    }

    /// Lowers arms that run one of them; merges the names they reassign, and their values,
    /// with phis. Returns the arms' blocks, the phis, and the value (or unit).
    pub(super) fn lower_arms(
        &mut self,
        arms: Vec<ArmSource<'_>>,
        span: Span,
    ) -> (Vec<Block>, Vec<Phi>, Operand) {
        let before = self.visible();
        let scopes_before = self.scopes.clone();
        let mut blocks = Vec::new();
        let mut tails = Vec::new();
        let mut ends = Vec::new();
        for arm in arms {
            self.scopes = scopes_before.clone();
            self.scopes.push(Vec::new());
            self.cse.push(Vec::new());
            let mut stmts = Vec::new();
            if let Some(binds) = &arm.binds {
                for (name, v) in binds {
                    self.bind(name, *v);
                }
            }
            let tail = match arm.body {
                ArmBody::Block(b) => self.lower_stmts(&b.stmts, &mut stmts, false),
                ArmBody::Expr(e) => Some(self.lower_expr(e, &mut stmts)),
                ArmBody::Empty => None,
            };
            self.scopes.pop();
            self.cse.pop();
            ends.push(self.visible());
            tails.push(tail.unwrap_or_else(unit));
            blocks.push(Block { stmts });
        }
        self.scopes = scopes_before;
        let mut phis = Vec::new();
        for (name, v0) in &before {
            let sources: Vec<VarId> = ends
                .iter()
                .map(|end| end.iter().find(|(n, _)| n == name).map_or(*v0, |(_, v)| *v))
                .collect();
            if sources.iter().all(|s| s == v0) {
                continue;
            }
            let active = sources.iter().any(|s| self.vars[*s].active);
            let is_ref = self.vars[*v0].is_ref;
            let out = self.new_var(name, self.vars[*v0].span, active, is_ref);
            phis.push(Phi {
                out,
                sources: sources.into_iter().map(Operand::Var).collect(),
            });
            self.assign(name, out);
        }
        let value = if tails.iter().all(is_unit) {
            unit()
        } else {
            let active = tails.iter().any(|t| self.is_active(t));
            let is_ref = tails
                .iter()
                .any(|t| t.var().is_some_and(|v| self.vars[v].is_ref));
            let out = self.temp(span, active, is_ref);
            phis.push(Phi {
                out,
                sources: tails,
            });
            Operand::Var(out)
        };
        (blocks, phis, value)
    }

    pub(super) fn lower_if(&mut self, i: &syn::ExprIf, out: &mut Vec<Stmt>) -> Operand {
        let cond = self.lower_condition(&i.cond, out);
        let else_body = match &i.else_branch {
            None => ArmBody::Empty,
            Some((_, e)) => match strip(e) {
                Expr::Block(b) if b.label.is_none() => ArmBody::Block(&b.block),
                other => ArmBody::Expr(other),
            },
        };
        let arms = vec![
            ArmSource {
                binds: None,
                body: ArmBody::Block(&i.then_branch),
            },
            ArmSource {
                binds: None,
                body: else_body,
            },
        ];
        let (arms, outs, value) = self.lower_arms(arms, i.if_token.span);
        let record = self.new_var("branch", i.if_token.span, false, false);
        out.push(Stmt::If {
            cond,
            arms,
            outs,
            record,
        });
        value
    }

    pub(super) fn lower_match(&mut self, m: &syn::ExprMatch, out: &mut Vec<Stmt>) -> Operand {
        if self.expr_active(&m.expr) {
            self.cx.error_at(&m.expr, diag::MATCH_ACTIVE);
        }
        let scrutinee_op = self.lower_expr(&m.expr, out);
        let mut scrutinee = self.operand_tokens(&scrutinee_op);
        // With guards, which arm runs is found first, by a non-differentiated `match` that
        // evaluates the guards; the arms then match `(arm, scrutinee)`, a guarded arm by
        // its number and an unguarded one by `_`, so that exhaustiveness reads as written.
        let guarded = m.arms.iter().any(|a| a.guard.is_some());
        if guarded {
            let arm_index = self.match_guards(m, &scrutinee_op, out);
            let idx = self.operand_tokens(&arm_index);
            scrutinee = quote!((#idx, #scrutinee));
        }
        let mut pats = Vec::new();
        let mut sources = Vec::new();
        for (i, arm) in m.arms.iter().enumerate() {
            let mut pat = arm.pat.clone();
            let mut binds = Vec::new();
            self.rename_pattern(&mut pat, &mut binds);
            let pat = match (&arm.guard, guarded) {
                (Some(_), _) => quote!((#i, #pat)),
                (None, true) => quote!((_, #pat)),
                (None, false) => pat.to_token_stream(),
            };
            pats.push((pat, binds.iter().map(|(_, v)| *v).collect()));
            sources.push(ArmSource {
                binds: Some(binds),
                body: match strip(&arm.body) {
                    Expr::Block(b) if b.label.is_none() => ArmBody::Block(&b.block),
                    other => ArmBody::Expr(other),
                },
            });
        }
        let (blocks, outs, value) = self.lower_arms(sources, m.match_token.span);
        let arms = pats
            .into_iter()
            .zip(blocks)
            .map(|((pat, binds), body)| MatchArm { pat, binds, body })
            .collect();
        let record = self.new_var("branch", m.match_token.span, false, false);
        out.push(Stmt::Match {
            scrutinee,
            arms,
            outs,
            record,
        });
        value
    }

    /// The number of the arm that a guarded `match` runs: `match s { P if g => 0, Q => 1 }`,
    /// not differentiated (guards are conditions; they may compare differentiated values).
    fn match_guards(
        &mut self,
        m: &syn::ExprMatch,
        scrutinee: &Operand,
        out: &mut Vec<Stmt>,
    ) -> Operand {
        let s = self.operand_tokens(scrutinee);
        let mut uses: Vec<Operand> = vec![scrutinee.clone()];
        let mut arms = Vec::new();
        for (i, arm) in m.arms.iter().enumerate() {
            let pat = &arm.pat;
            match &arm.guard {
                Some((if_token, g)) if self.mentions_closure(g) => {
                    // A closure is inlined, which an opaque guard cannot hold: the guard is
                    // evaluated before the `match` instead (guards are conditions without
                    // effects), which needs it not to read the arm's bindings.
                    let mut binds = Vec::new();
                    pattern_names(pat, &mut binds);
                    if mentions_any(g, &binds) {
                        self.cx.error_at(&**g, diag::CLOSURE_IN_GUARD);
                        arms.push(quote!(#pat => #i));
                        continue;
                    }
                    let c = self.lower_condition(g, out);
                    let t = self.operand_tokens(&c);
                    uses.push(c);
                    arms.push(quote!(#pat #if_token #t => #i));
                }
                Some((if_token, g)) => {
                    let mut g = (**g).clone();
                    let mut renamer = Renamer::new(self);
                    pattern_names(pat, &mut renamer.shadow);
                    syn::visit_mut::VisitMut::visit_expr_mut(&mut renamer, &mut g);
                    uses.extend(renamer.uses.into_iter().map(Operand::Var));
                    arms.push(quote!(#pat #if_token #g => #i));
                }
                None => arms.push(quote!(#pat => #i)),
            }
        }
        let tokens = quote!(match #s { #(#arms,)* });
        self.opaque_tokens(tokens, &uses, m.match_token.span, out)
    }

    /// Renames the bindings of a `match` pattern to fresh (inactive) values.
    pub(super) fn rename_pattern(&mut self, pat: &mut Pat, binds: &mut Vec<(String, VarId)>) {
        match pat {
            Pat::Ident(p) => {
                let name = p.ident.to_string();
                let looks_like_binding = name.starts_with(|c: char| c.is_lowercase() || c == '_');
                if looks_like_binding {
                    let v = self.new_var(&name, p.ident.span(), false, false);
                    p.ident = names::value(&self.vars[v], v);
                    binds.push((name, v));
                }
                if let Some((_, sub)) = &mut p.subpat {
                    self.rename_pattern(sub, binds);
                }
            }
            Pat::Tuple(t) => t
                .elems
                .iter_mut()
                .for_each(|p| self.rename_pattern(p, binds)),
            Pat::TupleStruct(t) => t
                .elems
                .iter_mut()
                .for_each(|p| self.rename_pattern(p, binds)),
            Pat::Struct(s) => {
                for f in s.fields.iter_mut() {
                    if f.colon_token.is_none() {
                        f.colon_token = Some(Default::default());
                    }
                    self.rename_pattern(&mut f.pat, binds);
                }
            }
            Pat::Or(o) => {
                // Every alternative binds the same names; rename them consistently.
                let mut first = Vec::new();
                for (k, case) in o.cases.iter_mut().enumerate() {
                    if k == 0 {
                        self.rename_pattern(case, &mut first);
                    } else {
                        rename_to(case, &first, &self.vars);
                    }
                }
                binds.extend(first);
            }
            Pat::Reference(r) => self.rename_pattern(&mut r.pat, binds),
            Pat::Slice(s) => s
                .elems
                .iter_mut()
                .for_each(|p| self.rename_pattern(p, binds)),
            Pat::Paren(p) => self.rename_pattern(&mut p.pat, binds),
            _ => {}
        }
    }

    /// Lowers a loop body (and `while` condition) once with the variables it reassigns
    /// carried: they are found by a first, speculative lowering, and their activity is
    /// iterated to a fixed point (a variable becomes active when its next value is).
    pub(super) fn lower_loop<R>(
        &mut self,
        index: Option<(&Ident, Span)>,
        assigned: Vec<String>,
        mut body: impl FnMut(&mut Self, &mut Vec<Stmt>) -> R,
    ) -> (Option<VarId>, Vec<Carried>, Vec<Stmt>, R) {
        let before = self.visible();
        let snapshot = self.clone();
        // The outer names that the body assigns to (found syntactically, so that nested
        // loops are lowered once each, not twice per level). A name that the body only
        // shadows and then assigns is carried unchanged, which is harmless.
        let reassigned: Vec<(String, VarId)> = before
            .iter()
            .filter(|(n, _)| assigned.contains(n))
            .cloned()
            .collect();
        let mut force_active: Vec<bool> = reassigned
            .iter()
            .map(|(_, v)| snapshot.vars[*v].active)
            .collect();
        loop {
            *self = snapshot.clone();
            let mut inners = Vec::new();
            for ((name, v0), active) in reassigned.iter().zip(&force_active) {
                let info = self.vars[*v0].clone();
                let inner = self.new_var(name, info.span, *active, info.is_ref);
                self.assign(name, inner);
                inners.push(inner);
            }
            self.scopes.push(Vec::new());
            self.cse.push(Vec::new());
            let index_var = index.map(|(name, span)| {
                let v = self.new_var(&name.to_string(), span, false, false);
                self.bind(&name.to_string(), v);
                v
            });
            let mut stmts = Vec::new();
            let r = body(self, &mut stmts);
            self.scopes.pop();
            self.cse.pop();
            let end = self.visible();
            let nexts: Vec<VarId> = reassigned
                .iter()
                .map(|(n, _)| end.iter().find(|(m, _)| m == n).unwrap().1)
                .collect();
            let grown: Vec<bool> = nexts
                .iter()
                .zip(&force_active)
                .map(|(n, a)| *a || self.vars[*n].active)
                .collect();
            if grown != force_active {
                force_active = grown;
                continue;
            }
            let mut carried = Vec::new();
            for (((name, v0), inner), next) in reassigned.iter().zip(inners).zip(nexts) {
                let info = self.vars[inner].clone();
                let out = self.new_var(name, info.span, info.active, info.is_ref);
                self.assign(name, out);
                carried.push(Carried {
                    init: Operand::Var(*v0),
                    inner,
                    next: Operand::Var(next),
                    out,
                });
            }
            return (index_var, carried, stmts, r);
        }
    }

    pub(super) fn lower_for(&mut self, f: &syn::ExprForLoop, out: &mut Vec<Stmt>) {
        if let Some(label) = &f.label {
            self.cx.error_at(label, diag::BLOCK_LABEL);
        }
        let index = match &*f.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                Some((&p.ident, p.ident.span()))
            }
            Pat::Wild(_) => None,
            other => {
                self.cx.error_at(other, diag::FOR_PATTERN);
                None
            }
        };
        // `grad::checkpoint(range, snapshots)`: the range, and the count evaluated after it.
        let (iterable, snapshots) = match crate::desugar::revolve::call(&f.expr) {
            None => (&*f.expr, None),
            Some(_) => match crate::desugar::revolve::parts(&f.expr) {
                Some((range, snapshots)) => (range, Some(snapshots)),
                // Reported by `desugar::revolve`.
                None => return,
            },
        };
        let Some(range) = self.lower_range(iterable, out) else {
            self.cx.error_at(iterable, diag::FOR_RANGE);
            return;
        };
        let snapshots = snapshots.map(|s| self.lower_expr(s, out));
        let assigned = assigned_names(&f.body.stmts);
        let (index, carried, stmts, ()) = self.lower_loop(index, assigned, |l, stmts| {
            l.lower_stmts(&f.body.stmts, stmts, false);
        });
        let stack = self.new_var("stack", f.for_token.span, false, false);
        if let Some(s) = snapshots {
            self.revolve.push((stack, s));
        }
        out.push(Stmt::For {
            index,
            range,
            body: Block { stmts },
            carried,
            stack,
        });
    }

    pub(super) fn lower_range(&mut self, e: &Expr, out: &mut Vec<Stmt>) -> Option<RangeSpec> {
        let mut ops = Vec::new();
        let mut cur = strip(e);
        while let Expr::MethodCall(m) = cur {
            match (m.method.to_string().as_str(), m.args.len()) {
                ("rev", 0) => ops.push((None, m)),
                ("step_by", 1) => ops.push((Some(&m.args[0]), m)),
                _ => return None,
            }
            cur = strip(&m.receiver);
        }
        let Expr::Range(r) = cur else { return None };
        let (Some(lo), Some(hi)) = (&r.start, &r.end) else {
            return None;
        };
        let lo = self.lower_expr(lo, out);
        let hi = self.lower_expr(hi, out);
        let mut range_ops = Vec::new();
        for (step, _) in ops.into_iter().rev() {
            range_ops.push(match step {
                None => RangeOp::Rev,
                Some(k) => RangeOp::StepBy(self.lower_expr(k, out)),
            });
        }
        // Range bounds are integers: like indices, they carry no gradient.
        Some(RangeSpec {
            lo,
            hi,
            inclusive: matches!(r.limits, syn::RangeLimits::Closed(_)),
            ops: range_ops,
        })
    }

    pub(super) fn lower_while(&mut self, w: &syn::ExprWhile, out: &mut Vec<Stmt>) {
        if let Some(label) = &w.label {
            self.cx.error_at(label, diag::BLOCK_LABEL);
        }
        if let Expr::Let(l) = strip(&w.cond) {
            self.cx.error(l.let_token.span, diag::WHILE_LET);
            return;
        }
        let mut assigned = assigned_names(&w.body.stmts);
        assigned.extend(assigned_names(&[syn::Stmt::Expr((*w.cond).clone(), None)]));
        let (_, carried, stmts, (cond_block, cond)) =
            self.lower_loop(None, assigned, |l, stmts| {
                let mut cond_stmts = Vec::new();
                // The condition's values are the iteration's own: the body may not reuse them.
                l.cse.push(Vec::new());
                let cond = l.lower_condition(&w.cond, &mut cond_stmts);
                l.cse.pop();
                l.lower_stmts(&w.body.stmts, stmts, false);
                (Block { stmts: cond_stmts }, cond)
            });
        let record = self.new_var("n", w.while_token.span, false, false);
        let stack = self.new_var("stack", w.while_token.span, false, false);
        out.push(Stmt::While {
            cond_block,
            cond,
            body: Block { stmts },
            carried,
            record,
            stack,
        });
    }
}

pub(super) enum ArmBody<'a> {
    Block(&'a syn::Block),
    Expr(&'a Expr),
    Empty,
}

pub(super) struct ArmSource<'a> {
    pub(super) binds: Option<Vec<(String, VarId)>>,
    pub(super) body: ArmBody<'a>,
}

/// A checkpointed loop runs at the top level of the function body, and holds no loop: its
/// reverse pass starts from the state its forward sweep kept, and reruns its body's forward
/// code, which keeps nothing (see `crate::revolve`).
pub(super) fn check_checkpointed(cx: &mut crate::ctxt::Ctxt, func: &Func) {
    fn walk(cx: &mut crate::ctxt::Ctxt, func: &Func, b: &Block, nested: bool) {
        for s in &b.stmts {
            match s {
                Stmt::For { body, stack, .. } if func.snapshots(*stack).is_some() => {
                    if nested {
                        cx.error(func.vars[*stack].span, diag::CHECKPOINT_INSIDE);
                    }
                    inner_loops(cx, func, body);
                }
                Stmt::For { body, .. } => walk(cx, func, body, true),
                Stmt::While {
                    cond_block, body, ..
                } => {
                    walk(cx, func, cond_block, true);
                    walk(cx, func, body, true);
                }
                Stmt::If { arms, .. } => arms.iter().for_each(|a| walk(cx, func, a, true)),
                Stmt::Match { arms, .. } => {
                    arms.iter().for_each(|a| walk(cx, func, &a.body, true));
                }
                Stmt::Let { .. } | Stmt::Effect { .. } => {}
            }
        }
    }
    fn inner_loops(cx: &mut crate::ctxt::Ctxt, func: &Func, b: &Block) {
        for s in &b.stmts {
            match s {
                Stmt::For { stack, .. } | Stmt::While { stack, .. } => {
                    cx.error(func.vars[*stack].span, diag::CHECKPOINT_NESTED);
                }
                Stmt::If { arms, .. } => arms.iter().for_each(|a| inner_loops(cx, func, a)),
                Stmt::Match { arms, .. } => {
                    arms.iter().for_each(|a| inner_loops(cx, func, &a.body));
                }
                Stmt::Let { .. } | Stmt::Effect { .. } => {}
            }
        }
    }
    walk(cx, func, &func.body, false);
}
