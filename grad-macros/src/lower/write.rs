//! Local state written in place: `c[i] = e`, `c[i] op= e`, `p.x = e` on a local, and
//! `v.push(e)`. Each makes a new version of the local ([`Op::Write`]); the version before
//! is moved into it where nothing else takes it, so a loop of writes costs what it costs in
//! the function itself, and the adjoint is cut at the written place.

use super::syntax::*;
use super::{Lower, unit};
use crate::diag;
use crate::ir::*;
use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{BinOp, Expr};

impl<'f> Lower<'f> {
    /// `place = rhs` or `place op= rhs`, where `place` is a local with projections.
    pub(super) fn lower_write(
        &mut self,
        lhs: &Expr,
        op: Option<(&'static str, PrimKind, BinOp)>,
        rhs: &Expr,
        out: &mut Vec<Stmt>,
    ) {
        let mut path_exprs = Vec::new();
        let mut cur = strip(lhs);
        loop {
            match cur {
                Expr::Field(f) => {
                    path_exprs.push(Err(f.member.clone()));
                    cur = strip(&f.base);
                }
                Expr::Index(i) => {
                    path_exprs.push(Ok(&*i.index));
                    cur = strip(&i.expr);
                }
                _ => break,
            }
        }
        let Some(name) = (match cur {
            Expr::Path(p) => p.path.get_ident().cloned(),
            _ => None,
        }) else {
            self.cx.error_at(lhs, diag::ASSIGN_PLACE);
            return;
        };
        let Some(base) = self.lookup(&name.to_string()) else {
            self.cx.error(name.span(), diag::UNKNOWN_VAR_ASSIGN);
            return;
        };
        if self.vars[base].is_ref || self.vars[base].param.is_some_and(|_| name == "self") {
            self.cx.error_at(lhs, diag::WRITE_THROUGH_REF);
            return;
        }
        // Rust evaluates the assigned value first, then the place's indices.
        let value = self.lower_expr(rhs, out);
        path_exprs.reverse();
        let path: Vec<Proj> = path_exprs
            .into_iter()
            .map(|p| match p {
                Ok(index) => Proj::Index(self.lower_expr(index, out)),
                Err(member) => Proj::Field(member),
            })
            .collect();
        let value = match op {
            None => value,
            Some(op) => {
                let t = self.temp(lhs.span(), self.vars[base].active, false);
                let old = self.push_let(
                    out,
                    t,
                    Op::Project {
                        base,
                        path: path.clone(),
                        borrow: false,
                    },
                );
                self.compound(old, op, value, rhs, lhs.span(), out)
            }
        };
        self.write(&name.to_string(), base, path, value, false, lhs.span(), out);
    }

    /// The receiver of a method that changes it, where it is a local the function owns (not
    /// a parameter, not a reference): its name and current version.
    pub(super) fn owned_local(&self, m: &syn::ExprMethodCall) -> Option<(String, VarId)> {
        let Expr::Path(p) = strip(&m.receiver) else {
            return None;
        };
        let name = p.path.get_ident()?.to_string();
        let base = self.lookup(&name)?;
        let owned = !self.vars[base].is_ref && self.vars[base].param.is_none();
        owned.then_some((name, base))
    }

    /// `v.push(e)` on a local `v`.
    pub(super) fn lower_push(&mut self, m: &syn::ExprMethodCall, out: &mut Vec<Stmt>) -> bool {
        let Some((name, base)) = self.owned_local(m) else {
            return false;
        };
        if m.args.len() != 1 {
            return false;
        }
        // Inactive too (a `Vec` of constants, `collect`'s accumulator of them): the binding is
        // not `mut` in the generated code, so the push is a new version all the same.
        let value = self.lower_expr(&m.args[0], out);
        self.write(&name, base, Vec::new(), value, true, m.span(), out);
        true
    }

    /// `v.reverse()`, `v.swap(i, j)`, `v.fill(e)`, `v.copy_from_slice(src)`, and of a `Vec`
    /// `v.insert(i, e)`, `v.remove(i)`, ... (see `inplace_runtime_fn`) on a local `v`: a new
    /// version of `v`, through the runtime's `reversed`, `swapped`, `filled`, ..., whose
    /// derivatives move the adjoint as the method moved the elements. The call's value: the
    /// element `remove(i)` and `swap_remove(i)` return (read before the new version is made),
    /// else `()`. `None` where the call is not such a method.
    pub(super) fn lower_inplace(
        &mut self,
        m: &syn::ExprMethodCall,
        out: &mut Vec<Stmt>,
    ) -> Option<Operand> {
        let f = inplace_runtime_fn(m)?;
        let (name, base) = self.owned_local(m)?;
        let mut args = vec![CallArg {
            operand: Operand::Var(base),
            by_ref: true,
            span: m.receiver.span(),
        }];
        args.extend(m.args.iter().map(|a| self.lower_call_arg(a, out)));
        let value = if returns_removed(m) {
            let t = self.temp(m.span(), self.vars[base].active, false);
            let at = args[1].operand.clone();
            self.push_let(
                out,
                t,
                Op::Project {
                    base,
                    path: vec![Proj::Index(at)],
                    borrow: false,
                },
            )
        } else {
            unit()
        };
        let active = args.iter().any(|a| self.is_active(&a.operand));
        let v = self.new_var(&name, m.span(), active, false);
        if active {
            let call = super::runtime_call_op(f, args, m.span());
            out.push(Stmt::Let { var: v, op: call });
        } else {
            let rt = crate::names::runtime();
            let f = syn::Ident::new(f, m.method.span());
            let t: Vec<TokenStream> = args.iter().map(|a| self.arg_tokens(a)).collect();
            let ops: Vec<Operand> = args.into_iter().map(|a| a.operand).collect();
            let o = self.opaque_tokens(quote!(#rt::#f(#(#t),*)), &ops, m.span(), out);
            out.push(Stmt::Let {
                var: v,
                op: Op::Use(o),
            });
        }
        self.assign(&name, v);
        Some(value)
    }

    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        name: &str,
        base: VarId,
        path: Vec<Proj>,
        value: Operand,
        push: bool,
        span: proc_macro2::Span,
        out: &mut Vec<Stmt>,
    ) {
        // Another name for the same version (`let d = c;`) still reads it after the write:
        // then the write copies.
        let aliased = self.visible().iter().filter(|(_, v)| *v == base).count() > 1;
        let active = self.vars[base].active || self.is_active(&value);
        let v = self.new_var(name, span, active, false);
        out.push(Stmt::Let {
            var: v,
            op: Op::Write {
                base,
                path,
                value,
                push,
                moves: !aliased,
            },
        });
        self.assign(name, v);
    }
}

/// Lets a write move the version it writes only where nothing else takes that version:
/// every other use of it is a read of an element (`c[j]`) by value.
pub(super) fn settle_moves(func: &mut Func) {
    let mut takes = vec![0usize; func.vars.len()];
    let mut reads = Vec::new();
    for s in &func.body.stmts {
        crate::activity::stmt_reads(s, taken_by, &mut reads);
    }
    reads.extend(func.ret.var());
    for v in reads {
        takes[v] += 1;
    }
    set_moves(&mut func.body, &takes);
}

/// What an operation takes of the values it reads: all of them, but for an element read by
/// value (`c[j]`), which takes only its indices.
fn taken_by(op: &Op) -> Vec<VarId> {
    match op {
        Op::Project {
            borrow: false,
            path,
            ..
        } => path
            .iter()
            .filter_map(|p| match p {
                Proj::Index(o) => o.var(),
                Proj::Field(_) => None,
            })
            .collect(),
        op => crate::activity::op_inputs(op),
    }
}

fn set_moves(b: &mut Block, takes: &[usize]) {
    for s in &mut b.stmts {
        match s {
            Stmt::Let {
                op: Op::Write { base, moves, .. },
                ..
            } => *moves &= takes[*base] == 1,
            Stmt::Let { .. } | Stmt::Effect { .. } => {}
            Stmt::If { arms, .. } => arms.iter_mut().for_each(|a| set_moves(a, takes)),
            Stmt::Match { arms, .. } => arms.iter_mut().for_each(|a| set_moves(&mut a.body, takes)),
            Stmt::For { body, .. } => set_moves(body, takes),
            Stmt::While {
                cond_block, body, ..
            } => {
                set_moves(cond_block, takes);
                set_moves(body, takes);
            }
        }
    }
}
