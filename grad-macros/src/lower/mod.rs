//! Lowering: the syn body → the SSA-like IR, with activity decided as values are made and
//! every construct outside the differentiable subset reported where it stands.

mod build;
mod closure;
mod control;
mod expr;
mod syntax;
mod write;

use crate::ast::Function;
use crate::ctxt::Ctxt;
use crate::diag;
use crate::ir::*;
use crate::names;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Pat};
use syntax::*;

/// The lowering state. It is `Clone` so that a loop body can be lowered speculatively
/// (to learn which variables it reassigns) and then again for real.
#[derive(Clone)]
pub struct Lower<'f> {
    pub cx: Ctxt,
    pub vars: Vec<VarInfo>,
    scopes: Vec<Vec<(String, VarId)>>,
    /// Values already computed in the enclosing IR blocks, by what computes them: a second
    /// `x[i]` or `i - 1` names the first, so its adjoint is one accumulation, not two.
    cse: Vec<Vec<(String, VarId)>>,
    /// Closures bound by `let`, inlined where they are called.
    closures: Vec<closure::ClosureDef>,
    /// Values whose name was already written into tokens (an opaque expression's): a later
    /// `let` binding one keeps it under that name instead of renaming it after the user's.
    spelled: std::cell::RefCell<std::collections::HashSet<VarId>>,
    /// The checkpointed loops lowered so far (see `Func::revolve`).
    revolve: Vec<(VarId, Operand)>,
    f: &'f Function,
}

pub(super) fn unit() -> Operand {
    Operand::Const(quote!(()))
}

pub(super) fn is_unit(op: &Operand) -> bool {
    matches!(op, Operand::Const(t) if t.to_string() == "()")
}

/// Lowers the function's body.
pub fn lower(cx: Ctxt, f: &Function) -> (Ctxt, Func) {
    let mut l = Lower {
        cx,
        vars: Vec::new(),
        scopes: vec![Vec::new()],
        cse: vec![Vec::new()],
        closures: Vec::new(),
        spelled: Default::default(),
        revolve: Vec::new(),
        f,
    };
    let mut params = Vec::new();
    for (i, p) in f.params.iter().enumerate() {
        let v = l.new_var(&p.name.to_string(), p.name.span(), p.active, p.is_ref);
        l.vars[v].param = Some(i);
        l.bind(&p.name.to_string(), v);
        params.push(v);
    }
    let body = crate::desugar::body(&mut l.cx, f);
    let mut stmts = Vec::new();
    let ret = l.lower_stmts(&body.stmts, &mut stmts, true);
    let ret = match ret {
        Some(r) if !is_unit(&r) => r,
        _ => {
            let span = f
                .item
                .block
                .stmts
                .last()
                .map_or(f.item.block.brace_token.span.close(), |s| s.span());
            if !l.cx.has_errors() {
                l.cx.error(span, diag::NO_RETURN);
            }
            unit()
        }
    };
    let mut func = Func {
        vars: l.vars,
        body: Block { stmts },
        ret,
        params,
        revolve: l.revolve,
    };
    control::check_checkpointed(&mut l.cx, &func);
    write::settle_moves(&mut func);
    (l.cx, func)
}

impl<'f> Lower<'f> {
    pub(super) fn new_var(&mut self, hint: &str, span: Span, active: bool, is_ref: bool) -> VarId {
        self.vars.push(VarInfo {
            hint: hint.to_owned(),
            span,
            active,
            is_ref,
            param: None,
        });
        self.vars.len() - 1
    }

    pub(super) fn temp(&mut self, span: Span, active: bool, is_ref: bool) -> VarId {
        self.new_var("t", span, active, is_ref)
    }

    pub(super) fn lookup(&self, name: &str) -> Option<VarId> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    pub(super) fn bind(&mut self, name: &str, v: VarId) {
        self.scopes.last_mut().unwrap().push((name.to_owned(), v));
    }

    /// Rebinds `name` where it was declared; false if it is not a local.
    pub(super) fn assign(&mut self, name: &str, v: VarId) -> bool {
        for scope in self.scopes.iter_mut().rev() {
            if let Some(slot) = scope.iter_mut().rev().find(|(n, _)| n == name) {
                slot.1 = v;
                return true;
            }
        }
        false
    }

    /// Every visible name with its current value, innermost binding only.
    pub(super) fn visible(&self) -> Vec<(String, VarId)> {
        let mut out: Vec<(String, VarId)> = Vec::new();
        for (n, v) in self.scopes.iter().rev().flat_map(|s| s.iter().rev()) {
            if !out.iter().any(|(m, _)| m == n) {
                out.push((n.clone(), *v));
            }
        }
        out
    }

    pub(super) fn is_active(&self, op: &Operand) -> bool {
        op.var().is_some_and(|v| self.vars[v].active)
    }

    /// The tokens that stand for an operand in emitted code.
    pub fn operand_tokens(&self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) => self.var_tokens(*v),
            Operand::Const(t) => t.clone(),
        }
    }

    pub(super) fn var_tokens(&self, v: VarId) -> TokenStream {
        self.var_ident(v).to_token_stream()
    }

    pub(super) fn var_ident(&self, v: VarId) -> Ident {
        self.spelled.borrow_mut().insert(v);
        let info = &self.vars[v];
        match info.param {
            Some(i) => self.f.params[i].name.clone(),
            None => names::value(info, v),
        }
    }

    pub(super) fn var_expr(&self, v: VarId) -> Expr {
        Expr::Path(syn::ExprPath {
            attrs: Vec::new(),
            qself: None,
            path: self.var_ident(v).into(),
        })
    }

    pub(super) fn push_let(&mut self, out: &mut Vec<Stmt>, var: VarId, op: Op) -> Operand {
        // The same place, cheap expression or primitive of the same operands seen before is
        // the same value: `(1.0 - x) * (1.0 - x)` computes and differentiates `1.0 - x`
        // once. A primitive only within this block: a value of an enclosing block may be
        // one a loop's reverse sweep recomputes or an arm's reverse does not see.
        let (key, block_only) = match &op {
            Op::Project { base, path, borrow } => {
                (Some(self.project_key(*base, path, *borrow)), false)
            }
            Op::Opaque {
                tokens,
                cheap: true,
                ..
            } => (Some(format!("opaque {tokens}")), false),
            Op::Prim { prim, args, .. } => (Some(Self::prim_key(prim, args)), true),
            // `lift::<T, _>(n)`, second order's `n as f64` (`second.rs`): pure, so one per
            // value, as the first-order copy's cast is (a primitive). Two of the same value
            // multiplied are then a square, as in the first-order copy, and the gradient the
            // second-order copy computes rounds as `_grad`'s.
            Op::Call {
                callee: Callee::Path(p),
                args,
                ..
            } if p.segments.len() == 3
                && p.segments[1].ident == "__private"
                && p.segments[2].ident == "lift" =>
            {
                let operands: Vec<String> = args
                    .iter()
                    .map(|a| match &a.operand {
                        Operand::Var(v) => format!("v{v} {}", a.by_ref),
                        Operand::Const(t) => format!("c{t} {}", a.by_ref),
                    })
                    .collect();
                let key = format!("call {} ({})", p.to_token_stream(), operands.join(", "));
                (Some(key), true)
            }
            _ => (None, false),
        };
        if let Some(key) = key {
            let seen = if block_only {
                let block = self.cse.last().unwrap();
                block.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
            } else {
                self.cse_lookup(&key)
            };
            if let Some(v) = seen {
                return Operand::Var(v);
            }
            self.cse.last_mut().unwrap().push((key, var));
        }
        out.push(Stmt::Let { var, op });
        Operand::Var(var)
    }

    fn prim_key(prim: &Prim, args: &[Operand]) -> String {
        let operand = |o: &Operand| match o {
            Operand::Var(v) => format!("v{v}"),
            Operand::Const(t) => format!("c{t}"),
        };
        let generic = prim
            .generic
            .as_ref()
            .map(|t| t.to_token_stream().to_string());
        format!(
            "prim {} {generic:?} [{}] ({})",
            prim.marker,
            prim.extra
                .iter()
                .map(operand)
                .collect::<Vec<_>>()
                .join(", "),
            args.iter().map(operand).collect::<Vec<_>>().join(", ")
        )
    }

    // ---- statements -------------------------------------------------------------------

    /// Lowers statements; returns the value of the tail expression (or of a final `return`).
    pub(super) fn lower_stmts(
        &mut self,
        stmts: &[syn::Stmt],
        out: &mut Vec<Stmt>,
        fn_body: bool,
    ) -> Option<Operand> {
        let n = stmts.len();
        for (i, stmt) in stmts.iter().enumerate() {
            let last = i + 1 == n;
            match stmt {
                syn::Stmt::Local(local) => self.lower_local(local, out),
                syn::Stmt::Item(item) => self.cx.error_at(item, diag::ITEM_IN_BODY),
                // `vec![..]` as the body's value (a statement macro to syn).
                syn::Stmt::Macro(m) if m.mac.path.is_ident("vec") => {
                    let v = self.lower_vec(&m.mac, out);
                    if last && m.semi_token.is_none() {
                        return Some(v);
                    }
                }
                syn::Stmt::Macro(m) => self.lower_effect(&m.mac, out),
                syn::Stmt::Expr(Expr::Return(r), _) => {
                    if !(last && fn_body) {
                        self.cx.error(r.return_token.span, diag::RETURN_EARLY);
                    }
                    let value = match &r.expr {
                        Some(e) => self.lower_expr(e, out),
                        None => unit(),
                    };
                    if last {
                        return Some(value);
                    }
                }
                syn::Stmt::Expr(Expr::Macro(m), semi) if m.mac.path.is_ident("vec") => {
                    let v = self.lower_vec(&m.mac, out);
                    if last && semi.is_none() {
                        return Some(v);
                    }
                }
                syn::Stmt::Expr(Expr::Macro(m), _) => {
                    if last && !fn_body && is_effect(&m.mac) {
                        self.lower_effect(&m.mac, out);
                        return Some(unit());
                    }
                    self.lower_effect(&m.mac, out);
                }
                syn::Stmt::Expr(e, None) if last => return Some(self.lower_expr(e, out)),
                syn::Stmt::Expr(e, _) => {
                    self.lower_expr(e, out);
                }
            }
        }
        None
    }

    pub(super) fn lower_local(&mut self, local: &syn::Local, out: &mut Vec<Stmt>) {
        let Some(init) = &local.init else {
            self.cx.error_at(local, diag::LET_UNINIT);
            // Bind the names anyway, so their later uses report nothing more.
            self.bind_placeholders(&local.pat);
            return;
        };
        if let Some((else_token, _)) = &init.diverge {
            self.cx.error(else_token.span, diag::LET_ELSE);
            return;
        }
        let (pat, ty) = match &local.pat {
            Pat::Type(pt) => (&*pt.pat, Some((*pt.ty).clone())),
            p => (p, None),
        };
        if let Expr::Closure(c) = strip(&init.expr) {
            self.define_closure(pat, c);
            return;
        }
        // `let (a, b) = (e1, e2);` binds element-wise.
        if let (Pat::Tuple(pt), Expr::Tuple(et)) = (pat, strip(&init.expr))
            && pt.elems.len() == et.elems.len()
            && ty.is_none()
        {
            let values: Vec<Operand> = et.elems.iter().map(|e| self.lower_expr(e, out)).collect();
            for (p, v) in pt.elems.iter().zip(values) {
                self.bind_pattern(p, v, None, out);
            }
            return;
        }
        // So does `let (a, b) = { ..; (e1, e2) };` (a desugaring's `(i, &x[i])` among them):
        // the parts are never one value, so a tuple of an index and a reference need not be
        // differentiable as a whole.
        if let (Pat::Tuple(pt), Expr::Block(b)) = (pat, strip(&init.expr))
            && b.label.is_none()
            && ty.is_none()
            && let Some((syn::Stmt::Expr(tail, None), body)) = b.block.stmts.split_last()
            && let Expr::Tuple(et) = strip(tail)
            && pt.elems.len() == et.elems.len()
        {
            self.scopes.push(Vec::new());
            // (A block ending in a tuple has no tail among the statements before it.)
            let _ = self.lower_stmts(body, out, false);
            let values: Vec<Operand> = et.elems.iter().map(|e| self.lower_expr(e, out)).collect();
            self.scopes.pop();
            for (p, v) in pt.elems.iter().zip(values) {
                self.bind_pattern(p, v, None, out);
            }
            return;
        }
        let value = self.lower_expr(&init.expr, out);
        self.bind_pattern(pat, value, ty, out);
    }

    pub(super) fn bind_placeholders(&mut self, pat: &Pat) {
        match pat {
            Pat::Ident(p) => {
                let v = self.new_var(&p.ident.to_string(), p.ident.span(), false, false);
                self.bind(&p.ident.to_string(), v);
            }
            Pat::Type(t) => self.bind_placeholders(&t.pat),
            Pat::Tuple(t) => t.elems.iter().for_each(|p| self.bind_placeholders(p)),
            Pat::Paren(p) => self.bind_placeholders(&p.pat),
            _ => {}
        }
    }

    /// A call of the runtime's `f` (which has `f_vjp` and `f_jvp` beside it) on `args`: a
    /// differentiated value of its own.
    pub(super) fn runtime_call(
        &mut self,
        f: &str,
        args: Vec<CallArg>,
        span: Span,
        out: &mut Vec<Stmt>,
    ) -> Operand {
        let t = self.temp(span, true, false);
        self.push_let(out, t, runtime_call_op(f, args, span))
    }

    /// An operand as a value of its own: a constant becomes a `let`.
    pub(super) fn materialize(&mut self, o: Operand, out: &mut Vec<Stmt>) -> VarId {
        match o {
            Operand::Var(v) => v,
            Operand::Const(c) => {
                let v = self.temp(c.span(), false, false);
                self.push_let(out, v, Op::Use(Operand::Const(c)));
                v
            }
        }
    }

    /// Part `i` of a tuple (`base.i`) or an array (`base[i]`), as a value of its own.
    pub(super) fn project_part(
        &mut self,
        base: VarId,
        i: usize,
        array: bool,
        span: Span,
        out: &mut Vec<Stmt>,
    ) -> VarId {
        let active = self.vars[base].active;
        let t = self.temp(span, active, false);
        let part = if array {
            Proj::Index(Operand::Const(quote::quote!(#i)))
        } else {
            Proj::Field(syn::Member::Unnamed(syn::Index {
                index: i as u32,
                span,
            }))
        };
        self.push_let(
            out,
            t,
            Op::Project {
                base,
                path: vec![part],
                borrow: false,
            },
        );
        t
    }

    /// Binds a `let` pattern (a name, `_`, or nested tuples or arrays of those) to a value.
    pub(super) fn bind_pattern(
        &mut self,
        pat: &Pat,
        value: Operand,
        ty: Option<syn::Type>,
        out: &mut Vec<Stmt>,
    ) {
        match pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                let name = p.ident.to_string();
                let v = match (&value, ty) {
                    // A typed constant keeps its annotation so literals infer as written.
                    (Operand::Const(c), Some(ty)) => {
                        let v = self.new_var(&name, p.ident.span(), false, false);
                        let tokens =
                            quote_spanned!(c.span()=> { let __grad_typed: #ty = #c; __grad_typed });
                        out.push(Stmt::Let {
                            var: v,
                            op: Op::Opaque {
                                tokens,
                                uses: vec![],
                                cheap: true,
                            },
                        });
                        v
                    }
                    (Operand::Const(_), None) => {
                        let v = self.new_var(&name, p.ident.span(), false, false);
                        self.push_let(out, v, Op::Use(value.clone()));
                        v
                    }
                    (Operand::Var(v), _) => {
                        // A fresh name for the user's binding, so generated code reads like theirs.
                        let old = *v;
                        if self.vars[old].param.is_none()
                            && self.vars[old].hint == "t"
                            && !self.spelled.borrow().contains(&old)
                        {
                            self.vars[old].hint = name.clone();
                            self.vars[old].span = p.ident.span();
                            old
                        } else {
                            // `let y = x;` names the same value.
                            old
                        }
                    }
                };
                self.bind(&name, v);
            }
            Pat::Wild(_) => {}
            Pat::Paren(p) => self.bind_pattern(&p.pat, value, ty, out),
            // `let (a, b) = ..` and `let [a, b] = ..` (an array, without `..`): each part a
            // projection of the value.
            Pat::Tuple(_) | Pat::Slice(_) => {
                let (elems, array) = match pat {
                    Pat::Tuple(pt) => (&pt.elems, false),
                    Pat::Slice(ps) => (&ps.elems, true),
                    _ => return,
                };
                if let Some(rest) = elems.iter().find(|p| matches!(p, Pat::Rest(_))) {
                    self.cx.error_at(rest, diag::PATTERN_LET);
                    return;
                }
                let base = self.materialize(value, out);
                for (i, p) in elems.iter().enumerate() {
                    if matches!(p, Pat::Wild(_)) {
                        continue;
                    }
                    let t = self.project_part(base, i, array, p.span(), out);
                    self.bind_pattern(p, Operand::Var(t), None, out);
                }
            }
            other => self.cx.error_at(other, diag::PATTERN_LET),
        }
    }

    pub(super) fn lower_effect(&mut self, mac: &syn::Macro, out: &mut Vec<Stmt>) {
        if !is_effect(mac) {
            self.cx.error_at(&mac.path, diag::UNKNOWN_MACRO);
            return;
        }
        let mut binds = Vec::new();
        let mut mentioned = Vec::new();
        collect_mentions(mac.tokens.clone(), &mut mentioned);
        for (name, span) in mentioned {
            if binds.iter().any(|(i, _): &(Ident, VarId)| i == &name) {
                continue;
            }
            if let Some(v) = self.lookup(&name) {
                if self.vars[v].param.is_some() {
                    continue;
                }
                // A mention of `r#type` is a raw identifier: `Ident::new` panics on it.
                let user = match name.strip_prefix("r#") {
                    Some(raw) => Ident::new_raw(raw, span),
                    None => Ident::new(&name, span),
                };
                binds.push((user, v));
            }
        }
        out.push(Stmt::Effect {
            tokens: mac.to_token_stream(),
            binds,
        });
    }
}

/// `Op::Call` of the runtime's `f` on `args`.
fn runtime_call_op(f: &str, args: Vec<CallArg>, span: Span) -> Op {
    let rt = names::runtime();
    let f = Ident::new(f, span);
    Op::Call {
        callee: Callee::Path(syn::parse_quote!(#rt::#f)),
        args,
        span,
    }
}
