//! Lowering: the syn body → the SSA-like IR, with activity decided as values are made and
//! every construct outside the differentiable subset reported where it stands.

use crate::ast::Function;
use crate::check;
use crate::ctxt::Ctxt;
use crate::diag;
use crate::ir::*;
use crate::names;
use crate::prims;
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{BinOp, Expr, Ident, Pat, UnOp};

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
    f: &'f Function,
}

fn unit() -> Operand {
    Operand::Const(quote!(()))
}

fn is_unit(op: &Operand) -> bool {
    matches!(op, Operand::Const(t) if t.to_string() == "()")
}

/// Lowers the function's body.
pub fn lower(cx: Ctxt, f: &Function) -> (Ctxt, Func) {
    let mut l = Lower {
        cx,
        vars: Vec::new(),
        scopes: vec![Vec::new()],
        cse: vec![Vec::new()],
        f,
    };
    let mut params = Vec::new();
    for (i, p) in f.params.iter().enumerate() {
        let v = l.new_var(&p.name.to_string(), p.name.span(), p.active, p.is_ref);
        l.vars[v].param = Some(i);
        l.bind(&p.name.to_string(), v);
        params.push(v);
    }
    let mut stmts = Vec::new();
    let ret = l.lower_stmts(&f.item.block.stmts, &mut stmts, true);
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
    let func = Func {
        vars: l.vars,
        body: Block { stmts },
        ret,
        params,
    };
    (l.cx, func)
}

impl<'f> Lower<'f> {
    fn new_var(&mut self, hint: &str, span: Span, active: bool, is_ref: bool) -> VarId {
        self.vars.push(VarInfo {
            hint: hint.to_owned(),
            span,
            active,
            is_ref,
            param: None,
        });
        self.vars.len() - 1
    }

    fn temp(&mut self, span: Span, active: bool, is_ref: bool) -> VarId {
        self.new_var("t", span, active, is_ref)
    }

    fn lookup(&self, name: &str) -> Option<VarId> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    fn bind(&mut self, name: &str, v: VarId) {
        self.scopes.last_mut().unwrap().push((name.to_owned(), v));
    }

    /// Rebinds `name` where it was declared; false if it is not a local.
    fn assign(&mut self, name: &str, v: VarId) -> bool {
        for scope in self.scopes.iter_mut().rev() {
            if let Some(slot) = scope.iter_mut().rev().find(|(n, _)| n == name) {
                slot.1 = v;
                return true;
            }
        }
        false
    }

    /// Every visible name with its current value, innermost binding only.
    fn visible(&self) -> Vec<(String, VarId)> {
        let mut out: Vec<(String, VarId)> = Vec::new();
        for (n, v) in self.scopes.iter().rev().flat_map(|s| s.iter().rev()) {
            if !out.iter().any(|(m, _)| m == n) {
                out.push((n.clone(), *v));
            }
        }
        out
    }

    fn is_active(&self, op: &Operand) -> bool {
        op.var().is_some_and(|v| self.vars[v].active)
    }

    /// The tokens that stand for an operand in emitted code.
    pub fn operand_tokens(&self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) => self.var_tokens(*v),
            Operand::Const(t) => t.clone(),
        }
    }

    fn var_tokens(&self, v: VarId) -> TokenStream {
        self.var_ident(v).to_token_stream()
    }

    fn var_ident(&self, v: VarId) -> Ident {
        let info = &self.vars[v];
        match info.param {
            Some(i) => self.f.params[i].name.clone(),
            None => names::value(info, v),
        }
    }

    fn var_expr(&self, v: VarId) -> Expr {
        Expr::Path(syn::ExprPath {
            attrs: Vec::new(),
            qself: None,
            path: self.var_ident(v).into(),
        })
    }

    fn push_let(&mut self, out: &mut Vec<Stmt>, var: VarId, op: Op) -> Operand {
        let key = match &op {
            Op::Project { base, path, borrow } => Some(self.project_key(*base, path, *borrow)),
            Op::Opaque {
                tokens,
                cheap: true,
                ..
            } => Some(format!("opaque {tokens}")),
            _ => None,
        };
        if let Some(key) = key {
            if let Some(v) = self.cse_lookup(&key) {
                return Operand::Var(v);
            }
            self.cse.last_mut().unwrap().push((key, var));
        }
        out.push(Stmt::Let { var, op });
        Operand::Var(var)
    }

    // ---- statements -------------------------------------------------------------------

    /// Lowers statements; returns the value of the tail expression (or of a final `return`).
    fn lower_stmts(
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

    fn lower_local(&mut self, local: &syn::Local, out: &mut Vec<Stmt>) {
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
        let value = self.lower_expr(&init.expr, out);
        self.bind_pattern(pat, value, ty, out);
    }

    fn bind_placeholders(&mut self, pat: &Pat) {
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

    /// Binds a `let` pattern (a name, `_`, or nested tuples of those) to a value.
    fn bind_pattern(
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
                        if self.vars[old].param.is_none() && self.vars[old].hint == "t" {
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
            Pat::Tuple(pt) => {
                let base = match value {
                    Operand::Var(v) => v,
                    Operand::Const(c) => {
                        let v = self.temp(c.span(), false, false);
                        self.push_let(out, v, Op::Use(Operand::Const(c)));
                        v
                    }
                };
                for (i, p) in pt.elems.iter().enumerate() {
                    if matches!(p, Pat::Wild(_)) {
                        continue;
                    }
                    let active = self.vars[base].active;
                    let t = self.temp(p.span(), active, false);
                    let member = syn::Member::Unnamed(syn::Index {
                        index: i as u32,
                        span: p.span(),
                    });
                    self.push_let(
                        out,
                        t,
                        Op::Project {
                            base,
                            path: vec![Proj::Field(member)],
                            borrow: false,
                        },
                    );
                    self.bind_pattern(p, Operand::Var(t), None, out);
                }
            }
            other => self.cx.error_at(other, diag::PATTERN_LET),
        }
    }

    fn lower_effect(&mut self, mac: &syn::Macro, out: &mut Vec<Stmt>) {
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

    // ---- expressions ------------------------------------------------------------------

    /// Whether an expression depends on a differentiated value (through something other
    /// than a comparison, a non-differentiated method, `stop_gradient` or an integer cast).
    fn expr_active(&self, e: &Expr) -> bool {
        match e {
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|id| self.lookup(&id.to_string()))
                .is_some_and(|v| self.vars[v].active),
            Expr::Lit(_) => false,
            Expr::Paren(p) => self.expr_active(&p.expr),
            Expr::Group(g) => self.expr_active(&g.expr),
            Expr::Binary(b) if is_comparison(&b.op) => false,
            Expr::Binary(b) if is_int_literal(&b.left) || is_int_literal(&b.right) => false,
            Expr::Binary(b) => self.expr_active(&b.left) || self.expr_active(&b.right),
            Expr::Unary(u) if matches!(u.op, UnOp::Not(_)) => false,
            Expr::Unary(u) => self.expr_active(&u.expr),
            Expr::Cast(c) => !prims::is_integer_type(&c.ty) && self.expr_active(&c.expr),
            Expr::Field(f) => self.expr_active(&f.base),
            Expr::Index(i) => self.expr_active(&i.expr),
            Expr::Reference(r) => self.expr_active(&r.expr),
            Expr::Tuple(t) => t.elems.iter().any(|e| self.expr_active(e)),
            Expr::Array(a) => a.elems.iter().any(|e| self.expr_active(e)),
            Expr::Repeat(r) => self.expr_active(&r.expr),
            Expr::MethodCall(m) => {
                !prims::NONDIFF_METHODS.contains(&m.method.to_string().as_str())
                    && (self.expr_active(&m.receiver) || m.args.iter().any(|a| self.expr_active(a)))
            }
            Expr::Call(c) => {
                !is_stop_gradient(&c.func) && c.args.iter().any(|a| self.expr_active(a))
            }
            _ => true,
        }
    }

    /// Lowers an expression to an operand, appending the statements that compute it.
    fn lower_expr(&mut self, e: &Expr, out: &mut Vec<Stmt>) -> Operand {
        // `stop_gradient(y)` is inactive but lowered as a call: it is a reference where its
        // argument is one (`stop_gradient(&a)`, of a `&Tensor` parameter).
        let stop = matches!(strip(e), Expr::Call(c) if is_stop_gradient(&c.func));
        if is_simple(e) && !self.expr_active(e) && !stop {
            return self.opaque(e, out);
        }
        match e {
            Expr::Lit(l) => Operand::Const(l.to_token_stream()),
            Expr::Path(p) => self.lower_path(p),
            Expr::Paren(p) => self.lower_expr(&p.expr, out),
            Expr::Group(g) => self.lower_expr(&g.expr, out),
            Expr::Binary(b) => self.lower_binary(b, out),
            Expr::Unary(u) => self.lower_unary(u, out),
            Expr::Cast(c) => self.lower_cast(c, out),
            Expr::MethodCall(m) => self.lower_method(m, out),
            Expr::Call(c) => self.lower_call(c, out),
            Expr::Field(_) | Expr::Index(_) => self.lower_place(e, false, out),
            Expr::Reference(r) => {
                if let Some(m) = &r.mutability {
                    self.cx.error(m.span, diag::MUT_BORROW);
                    return unit();
                }
                if is_place(&r.expr) && !matches!(strip(&r.expr), Expr::Path(_)) {
                    return self.lower_place(&r.expr, true, out);
                }
                let inner = self.lower_expr(&r.expr, out);
                match inner {
                    Operand::Var(v) => {
                        let t = self.temp(r.span(), self.vars[v].active, true);
                        self.push_let(out, t, Op::Borrow(v))
                    }
                    Operand::Const(c) => Operand::Const(quote!(&#c)),
                }
            }
            Expr::Tuple(t) => {
                let elems: Vec<Operand> = t.elems.iter().map(|e| self.lower_expr(e, out)).collect();
                if elems.is_empty() {
                    return unit();
                }
                let active = elems.iter().any(|o| self.is_active(o));
                if !active {
                    let toks: Vec<TokenStream> =
                        elems.iter().map(|o| self.operand_tokens(o)).collect();
                    return self.opaque_tokens(quote!((#(#toks,)*)), &elems, t.span(), out);
                }
                let v = self.temp(t.span(), true, false);
                self.push_let(out, v, Op::Tuple(elems))
            }
            Expr::Array(a) => {
                self.cx.error_at(a, diag::ARRAY_LIT);
                unit()
            }
            Expr::Repeat(r) => {
                self.cx.error_at(r, diag::ARRAY_LIT);
                unit()
            }
            Expr::If(i) => self.lower_if(i, out),
            Expr::Match(m) => self.lower_match(m, out),
            Expr::Block(b) => {
                if let Some(label) = &b.label {
                    self.cx.error_at(label, diag::BLOCK_LABEL);
                }
                self.lower_block_expr(&b.block, out)
            }
            Expr::ForLoop(f) => {
                self.lower_for(f, out);
                unit()
            }
            Expr::While(w) => {
                self.lower_while(w, out);
                unit()
            }
            Expr::Assign(a) => {
                self.lower_assign(&a.left, None, &a.right, out);
                unit()
            }
            other => {
                check::unsupported_expr(&mut self.cx, other);
                unit()
            }
        }
    }

    fn lower_block_expr(&mut self, block: &syn::Block, out: &mut Vec<Stmt>) -> Operand {
        self.scopes.push(Vec::new());
        let tail = self.lower_stmts(&block.stmts, out, false);
        self.scopes.pop();
        tail.unwrap_or_else(unit)
    }

    fn lower_path(&mut self, p: &syn::ExprPath) -> Operand {
        if let Some(id) = p.path.get_ident()
            && let Some(v) = self.lookup(&id.to_string())
        {
            return Operand::Var(v);
        }
        Operand::Const(p.to_token_stream())
    }

    /// An inactive expression, emitted as written with its locals renamed.
    fn opaque(&mut self, e: &Expr, out: &mut Vec<Stmt>) -> Operand {
        // `&g(..)` of a computed value: the value as a local of its own, then borrowed, so
        // that a loop's stack or a pullback keeps the value, never a reference to a
        // temporary of one statement.
        if let Expr::Reference(r) = strip(e)
            && r.mutability.is_none()
            && !is_place(&r.expr)
        {
            return match self.opaque(&r.expr, out) {
                Operand::Var(v) => {
                    let t = self.temp(r.span(), false, true);
                    self.push_let(out, t, Op::Borrow(v))
                }
                Operand::Const(c) => Operand::Const(quote!(&#c)),
            };
        }
        let mut e = e.clone();
        let mut renamer = Renamer {
            l: self,
            uses: Vec::new(),
        };
        renamer.visit_expr_mut(&mut e);
        let uses = renamer.uses;
        if uses.is_empty() {
            // Parenthesized, so that `&` or a method call applies to all of it (`&(0.5 * 0.5)`).
            return match &e {
                Expr::Lit(_) | Expr::Path(_) | Expr::Paren(_) => {
                    Operand::Const(e.to_token_stream())
                }
                _ => Operand::Const(quote!((#e))),
            };
        }
        if let (Expr::Path(_), [v]) = (&e, uses.as_slice()) {
            return Operand::Var(*v);
        }
        // `&xs[k]` holds a reference, which is passed on as it is (not borrowed again).
        let is_ref = matches!(strip(&e), Expr::Reference(_));
        let t = self.temp(e.span(), false, is_ref);
        let cheap = !has_call(&e);
        self.push_let(
            out,
            t,
            Op::Opaque {
                tokens: e.to_token_stream(),
                uses,
                cheap,
            },
        )
    }

    /// An inactive value computed from already-lowered operands.
    fn opaque_tokens(
        &mut self,
        tokens: TokenStream,
        operands: &[Operand],
        span: Span,
        out: &mut Vec<Stmt>,
    ) -> Operand {
        let uses: Vec<VarId> = operands.iter().filter_map(Operand::var).collect();
        if uses.is_empty() {
            return Operand::Const(quote!((#tokens)));
        }
        let cheap = syn::parse2::<Expr>(tokens.clone()).is_ok_and(|e| !has_call(&e));
        let t = self.temp(span, false, false);
        self.push_let(
            out,
            t,
            Op::Opaque {
                tokens,
                uses,
                cheap,
            },
        )
    }

    fn prim(&mut self, prim: Prim, args: Vec<Operand>, span: Span, out: &mut Vec<Stmt>) -> Operand {
        let active = args.iter().any(|a| self.is_active(a));
        let t = self.temp(span, active, false);
        self.push_let(
            out,
            t,
            Op::Prim {
                prim: Box::new(prim),
                args,
                span,
            },
        )
    }

    fn lower_binary(&mut self, b: &syn::ExprBinary, out: &mut Vec<Stmt>) -> Operand {
        if let Some(op) = compound_op(&b.op) {
            self.lower_assign(&b.left, Some(op), &b.right, out);
            return unit();
        }
        let left = self.lower_expr(&b.left, out);
        let right = self.lower_expr(&b.right, out);
        // An integer literal makes the operation integer arithmetic (Rust never infers an
        // integer literal as a float), which carries no gradient.
        let integer = is_int_literal(&b.left) || is_int_literal(&b.right);
        let active = !integer && (self.is_active(&left) || self.is_active(&right));
        let (marker, kind) = match arith(&b.op) {
            Some(mk) if active => mk,
            _ => {
                // A comparison of differentiated values is a plain boolean.
                if active && !is_comparison(&b.op) {
                    self.cx.error_at(&b.op, diag::BITWISE_ACTIVE);
                }
                let (l, r, op) = (
                    self.operand_tokens(&left),
                    self.operand_tokens(&right),
                    &b.op,
                );
                return self.opaque_tokens(quote!(#l #op #r), &[left, right], b.span(), out);
            }
        };
        let prim = Prim {
            marker,
            generic: None,
            extra: vec![],
            kind,
        };
        self.prim(prim, vec![left, right], b.op.span(), out)
    }

    fn lower_unary(&mut self, u: &syn::ExprUnary, out: &mut Vec<Stmt>) -> Operand {
        let inner = self.lower_expr(&u.expr, out);
        let active = self.is_active(&inner);
        match (&u.op, active, &inner) {
            (UnOp::Neg(_), true, _) => {
                let prim = Prim {
                    marker: "Neg",
                    generic: None,
                    extra: vec![],
                    kind: PrimKind::Linear,
                };
                self.prim(prim, vec![inner], u.span(), out)
            }
            (UnOp::Deref(_), true, Operand::Var(v)) => {
                let t = self.temp(u.span(), true, false);
                self.push_let(out, t, Op::Deref(*v))
            }
            _ => {
                let (op, x) = (&u.op, self.operand_tokens(&inner));
                self.opaque_tokens(quote!(#op #x), &[inner], u.span(), out)
            }
        }
    }

    fn lower_cast(&mut self, c: &syn::ExprCast, out: &mut Vec<Stmt>) -> Operand {
        let inner = self.lower_expr(&c.expr, out);
        if self.is_active(&inner) && !prims::is_integer_type(&c.ty) {
            if !prims::is_float_type(&c.ty) {
                self.cx.error_at(&c.ty, diag::CAST_TARGET);
                return unit();
            }
            let prim = Prim {
                marker: "CastTo",
                generic: Some((*c.ty).clone()),
                extra: vec![],
                kind: PrimKind::Linear,
            };
            return self.prim(prim, vec![inner], c.as_token.span, out);
        }
        let (x, ty) = (self.operand_tokens(&inner), &c.ty);
        self.opaque_tokens(quote!(#x as #ty), &[inner], c.span(), out)
    }

    /// `x.m(args)`: a primitive, a non-differentiated method, or a user method with `m_vjp`.
    fn lower_method(&mut self, m: &syn::ExprMethodCall, out: &mut Vec<Stmt>) -> Operand {
        let name = m.method.to_string();
        let receiver = self.lower_receiver(&m.receiver, out);
        let args: Vec<&Expr> = m.args.iter().collect();
        if let Some(p) = prims::method_prim(&name) {
            return self.lower_method_prim(p, &m.method, receiver, &args, m.span(), out);
        }
        let lowered: Vec<CallArg> = args.iter().map(|a| self.lower_call_arg(a, out)).collect();
        let active =
            self.is_active(&receiver) || lowered.iter().any(|a| self.is_active(&a.operand));
        if prims::NONDIFF_METHODS.contains(&name.as_str()) || !active {
            let r = self.operand_tokens(&receiver);
            let a: Vec<TokenStream> = lowered.iter().map(|a| self.arg_tokens(a)).collect();
            let method = &m.method;
            let turbofish = &m.turbofish;
            let mut ops = vec![receiver];
            ops.extend(lowered.into_iter().map(|a| a.operand));
            return self.opaque_tokens(quote!(#r.#method #turbofish(#(#a),*)), &ops, m.span(), out);
        }
        // `x.clone()` is `x`'s value: its derivative is the identity.
        if matches!(name.as_str(), "clone" | "to_owned") && lowered.is_empty() {
            if let Operand::Var(v) = receiver {
                let active = self.vars[v].active;
                // Of a `&X` parameter or a borrowed place (`p.0.clone()`), an owned `X` (as
                // Rust's `clone` gives): it may be reassigned an owned value later, in a loop
                // or a branch, and a callee's pullback borrowing it must not borrow the place.
                // (A slice parameter's `to_owned` stays the identity on the slice: its tangent
                // is a `Vec` already.)
                let other_param = self.vars[v]
                    .param
                    .is_some_and(|i| !matches!(self.f.params[i].form, crate::ast::Form::Ref(_)));
                if self.vars[v].is_ref && !other_param {
                    let t = self.temp(m.method.span(), active, false);
                    return self.push_let(out, t, Op::Deref(v));
                }
                let t = self.temp(m.method.span(), active, self.vars[v].is_ref);
                return self.push_let(out, t, Op::Use(Operand::Var(v)));
            }
            return receiver;
        }
        if prims::NO_RULE_METHODS.contains(&name.as_str()) {
            self.cx.error(m.method.span(), diag::no_rule(&name));
            return unit();
        }
        let mut call_args = vec![CallArg {
            operand: receiver,
            by_ref: false,
            span: m.receiver.span(),
        }];
        call_args.extend(lowered);
        let t = self.temp(m.method.span(), true, false);
        self.push_let(
            out,
            t,
            Op::Call {
                callee: Callee::Method(m.method.clone()),
                args: call_args,
                span: m.method.span(),
            },
        )
    }

    /// A method receiver: a place is borrowed rather than copied out.
    fn lower_receiver(&mut self, e: &Expr, out: &mut Vec<Stmt>) -> Operand {
        let e = strip(e);
        if is_place(e) && !matches!(e, Expr::Path(_)) && self.expr_active(e) {
            return self.lower_place(e, true, out);
        }
        self.lower_expr(e, out)
    }

    fn lower_method_prim(
        &mut self,
        p: &prims::MethodPrim,
        method: &Ident,
        receiver: Operand,
        args: &[&Expr],
        span: Span,
        out: &mut Vec<Stmt>,
    ) -> Operand {
        let diff_args = match p.kind {
            PrimKind::Binary | PrimKind::LinearBinary => 1,
            PrimKind::Unary | PrimKind::Linear => 0,
        };
        if args.len() != diff_args + p.extra {
            self.cx.error(
                method.span(),
                diag::wrong_arity(p.method, diff_args + p.extra),
            );
            return unit();
        }
        let mut operands = vec![receiver];
        for a in &args[..diff_args] {
            let o = self.lower_receiver(a, out);
            operands.push(o);
        }
        let mut extra = Vec::new();
        for a in &args[diff_args..] {
            let o = self.lower_expr(a, out);
            if self.is_active(&o) {
                self.cx
                    .error_at(*a, diag::nondiff_arg(p.method, p.extra_what));
            }
            extra.push(o);
        }
        let active = operands.iter().any(|o| self.is_active(o));
        if !active {
            let r = self.operand_tokens(&operands[0]);
            let rest: Vec<TokenStream> = operands[1..]
                .iter()
                .chain(&extra)
                .map(|o| self.operand_tokens(o))
                .collect();
            let mut all = operands.clone();
            all.extend(extra);
            return self.opaque_tokens(quote!(#r.#method(#(#rest),*)), &all, span, out);
        }
        let prim = Prim {
            marker: p.marker,
            generic: None,
            extra,
            kind: p.kind,
        };
        self.prim(prim, operands, method.span(), out)
    }

    fn lower_call_arg(&mut self, a: &Expr, out: &mut Vec<Stmt>) -> CallArg {
        let span = a.span();
        match strip(a) {
            Expr::Reference(r) if r.mutability.is_none() => {
                if is_place(&r.expr) && !matches!(strip(&r.expr), Expr::Path(_)) {
                    CallArg {
                        operand: self.lower_place(&r.expr, true, out),
                        by_ref: false,
                        span,
                    }
                } else {
                    CallArg {
                        operand: self.lower_expr(&r.expr, out),
                        by_ref: true,
                        span,
                    }
                }
            }
            other => CallArg {
                operand: self.lower_expr(other, out),
                by_ref: false,
                span,
            },
        }
    }

    fn arg_tokens(&self, a: &CallArg) -> TokenStream {
        let t = self.operand_tokens(&a.operand);
        if a.by_ref { quote!(&#t) } else { t }
    }

    /// `g(args)`: `stop_gradient`, `f64::exp(x)`, or a function with `g_vjp` beside it.
    fn lower_call(&mut self, c: &syn::ExprCall, out: &mut Vec<Stmt>) -> Operand {
        let Expr::Path(fp) = strip(&c.func) else {
            check::unsupported_expr(&mut self.cx, &c.func);
            return unit();
        };
        let path = &fp.path;
        if is_stop_gradient(&c.func) {
            if c.args.len() != 1 {
                self.cx.error_at(c, diag::wrong_arity("stop_gradient", 1));
                return unit();
            }
            let inner = self.lower_expr(&c.args[0], out);
            return match inner {
                Operand::Var(v) => {
                    let is_ref = self.vars[v].is_ref;
                    let t = self.temp(c.span(), false, is_ref);
                    self.push_let(out, t, Op::Use(Operand::Var(v)))
                }
                konst => konst,
            };
        }
        // `f64::exp(x)`, `T::max(a, b)`: a primitive in function-call form.
        if path.segments.len() >= 2 && fp.qself.is_none() {
            let first = &path.segments[0].ident;
            let last = &path.segments.last().unwrap().ident;
            let is_float_path = first == "f32"
                || first == "f64"
                || self.f.type_params.iter().any(|t| t == first)
                || first == "Self";
            if let Some(p) = prims::method_prim(&last.to_string()).filter(|_| is_float_path) {
                if c.args.is_empty() {
                    self.cx.error(last.span(), diag::wrong_arity(p.method, 1));
                    return unit();
                }
                let receiver = self.lower_receiver(&c.args[0], out);
                let rest: Vec<&Expr> = c.args.iter().skip(1).collect();
                return self.lower_method_prim(p, last, receiver, &rest, c.span(), out);
            }
        }
        let args: Vec<CallArg> = c.args.iter().map(|a| self.lower_call_arg(a, out)).collect();
        if !args.iter().any(|a| self.is_active(&a.operand)) {
            let toks: Vec<TokenStream> = args.iter().map(|a| self.arg_tokens(a)).collect();
            let ops: Vec<Operand> = args.into_iter().map(|a| a.operand).collect();
            return self.opaque_tokens(quote!(#fp(#(#toks),*)), &ops, c.span(), out);
        }
        let span = path.segments.last().unwrap().ident.span();
        let t = self.temp(span, true, false);
        self.push_let(
            out,
            t,
            Op::Call {
                callee: Callee::Path(path.clone()),
                args,
                span,
            },
        )
    }

    /// `base.f[i]...`: a projection of a local, or of a temporary holding any other base.
    fn lower_place(&mut self, e: &Expr, borrow: bool, out: &mut Vec<Stmt>) -> Operand {
        let mut path = Vec::new();
        let mut cur = strip(e);
        let mut index_exprs = Vec::new();
        loop {
            match cur {
                Expr::Field(f) => {
                    path.push(Proj::Field(f.member.clone()));
                    cur = strip(&f.base);
                }
                Expr::Index(i) => {
                    index_exprs.push((path.len(), &*i.index));
                    path.push(Proj::Index(unit()));
                    cur = strip(&i.expr);
                }
                _ => break,
            }
        }
        let base = match self.lower_expr(cur, out) {
            Operand::Var(v) => v,
            Operand::Const(c) => {
                let t = self.temp(c.span(), false, false);
                self.push_let(out, t, Op::Use(Operand::Const(c)));
                t
            }
        };
        // Indices are evaluated base-first, as Rust does. An index is an integer, so one
        // read from a differentiated struct (`v[self.k]`) carries no gradient: it is used as
        // it is, and nothing flows back into it.
        for (at, ie) in index_exprs.into_iter().rev() {
            let o = self.lower_expr(ie, out);
            path[at] = Proj::Index(o);
        }
        path.reverse();
        let active = self.vars[base].active;
        // The same place read the other way (by value / borrowed) is the same value: derive
        // this read from it, so the place's adjoint is accumulated once.
        let other = self.cse_lookup(&Self::project_key(self, base, &path, !borrow));
        if let Some(o) = other {
            let t = self.temp(e.span(), active, borrow);
            let op = if borrow { Op::Borrow(o) } else { Op::Deref(o) };
            return self.push_let(out, t, op);
        }
        let t = self.temp(e.span(), active, borrow);
        self.push_let(out, t, Op::Project { base, path, borrow })
    }

    fn project_key(&self, base: VarId, path: &[Proj], borrow: bool) -> String {
        format!(
            "project {base} {borrow} {}",
            path.iter()
                .map(|p| match p {
                    Proj::Field(m) => format!(".{}", m.to_token_stream()),
                    Proj::Index(o) => format!("[{}]", self.operand_tokens(o)),
                })
                .collect::<String>()
        )
    }

    fn cse_lookup(&self, key: &str) -> Option<VarId> {
        self.cse
            .iter()
            .flatten()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    }

    // ---- assignment -------------------------------------------------------------------

    fn lower_assign(
        &mut self,
        lhs: &Expr,
        op: Option<(&'static str, PrimKind, BinOp)>,
        rhs: &Expr,
        out: &mut Vec<Stmt>,
    ) {
        let name = match strip(lhs) {
            Expr::Path(p) if p.path.get_ident().is_some() => p.path.get_ident().unwrap().clone(),
            Expr::Index(_) | Expr::Field(_) => {
                self.cx.error_at(lhs, diag::ASSIGN_PLACE);
                return;
            }
            Expr::Unary(u) if matches!(u.op, UnOp::Deref(_)) => {
                self.cx.error_at(lhs, diag::DEREF_WRITE);
                return;
            }
            other => {
                self.cx.error_at(other, diag::UNKNOWN_VAR_ASSIGN);
                return;
            }
        };
        let Some(old) = self.lookup(&name.to_string()) else {
            self.cx.error(name.span(), diag::UNKNOWN_VAR_ASSIGN);
            return;
        };
        let value = self.lower_expr(rhs, out);
        let new = match op {
            None => value,
            Some((marker, kind, binop)) => {
                let left = Operand::Var(old);
                let active =
                    !is_int_literal(rhs) && (self.is_active(&left) || self.is_active(&value));
                // `%=`, `^=`, `<<=`, ... have no rule (an empty marker): same error as `%`.
                if active && marker.is_empty() {
                    self.cx.error_at(&binop, diag::BITWISE_ACTIVE);
                }
                if active && !marker.is_empty() {
                    let prim = Prim {
                        marker,
                        generic: None,
                        extra: vec![],
                        kind,
                    };
                    self.prim(prim, vec![left, value], binop.span(), out)
                } else {
                    let (l, r) = (self.operand_tokens(&left), self.operand_tokens(&value));
                    let plain = plain_op(&binop);
                    self.opaque_tokens(quote!(#l #plain #r), &[left, value], lhs.span(), out)
                }
            }
        };
        let v = match new {
            Operand::Var(v) => v,
            Operand::Const(c) => {
                let v = self.new_var(&name.to_string(), name.span(), false, false);
                self.push_let(out, v, Op::Use(Operand::Const(c)));
                v
            }
        };
        let v = if self.vars[v].hint == "t" {
            self.vars[v].hint = name.to_string();
            v
        } else {
            v
        };
        self.assign(&name.to_string(), v);
    }

    // ---- control flow -----------------------------------------------------------------

    fn lower_condition(&mut self, cond: &Expr, out: &mut Vec<Stmt>) -> Operand {
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
    fn lower_arms(
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

    fn lower_if(&mut self, i: &syn::ExprIf, out: &mut Vec<Stmt>) -> Operand {
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

    fn lower_match(&mut self, m: &syn::ExprMatch, out: &mut Vec<Stmt>) -> Operand {
        if self.expr_active(&m.expr) {
            self.cx.error_at(&m.expr, diag::MATCH_ACTIVE);
        }
        let scrutinee = self.lower_expr(&m.expr, out);
        let scrutinee = self.operand_tokens(&scrutinee);
        let mut pats = Vec::new();
        let mut sources = Vec::new();
        for arm in &m.arms {
            if let Some((if_token, _)) = &arm.guard {
                self.cx.error(if_token.span, diag::MATCH_GUARD);
            }
            let mut pat = arm.pat.clone();
            let mut binds = Vec::new();
            self.rename_pattern(&mut pat, &mut binds);
            pats.push((
                pat.to_token_stream(),
                binds.iter().map(|(_, v)| *v).collect(),
            ));
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

    /// Renames the bindings of a `match` pattern to fresh (inactive) values.
    fn rename_pattern(&mut self, pat: &mut Pat, binds: &mut Vec<(String, VarId)>) {
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
    fn lower_loop<R>(
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

    fn lower_for(&mut self, f: &syn::ExprForLoop, out: &mut Vec<Stmt>) {
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
        let Some(range) = self.lower_range(&f.expr, out) else {
            self.cx.error_at(&f.expr, diag::FOR_RANGE);
            return;
        };
        let assigned = assigned_names(&f.body.stmts);
        let (index, carried, stmts, ()) = self.lower_loop(index, assigned, |l, stmts| {
            l.lower_stmts(&f.body.stmts, stmts, false);
        });
        let stack = self.new_var("stack", f.for_token.span, false, false);
        out.push(Stmt::For {
            index,
            range,
            body: Block { stmts },
            carried,
            stack,
        });
    }

    fn lower_range(&mut self, e: &Expr, out: &mut Vec<Stmt>) -> Option<RangeSpec> {
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

    fn lower_while(&mut self, w: &syn::ExprWhile, out: &mut Vec<Stmt>) {
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

enum ArmBody<'a> {
    Block(&'a syn::Block),
    Expr(&'a Expr),
    Empty,
}

struct ArmSource<'a> {
    binds: Option<Vec<(String, VarId)>>,
    body: ArmBody<'a>,
}

/// Renames the locals an opaque expression mentions to their current values.
struct Renamer<'a, 'f> {
    l: &'a Lower<'f>,
    uses: Vec<VarId>,
}

impl VisitMut for Renamer<'_, '_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Path(p) = e
            && p.qself.is_none()
            && let Some(id) = p.path.get_ident()
            && let Some(v) = self.l.lookup(&id.to_string())
        {
            if !self.uses.contains(&v) {
                self.uses.push(v);
            }
            *e = self.l.var_expr(v);
            return;
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}

fn rename_to(pat: &mut Pat, binds: &[(String, VarId)], vars: &[VarInfo]) {
    match pat {
        Pat::Ident(p) => {
            if let Some((_, v)) = binds.iter().find(|(n, _)| p.ident == n) {
                p.ident = names::value(&vars[*v], *v);
            }
            if let Some((_, sub)) = &mut p.subpat {
                rename_to(sub, binds, vars);
            }
        }
        Pat::Tuple(t) => t.elems.iter_mut().for_each(|p| rename_to(p, binds, vars)),
        Pat::TupleStruct(t) => t.elems.iter_mut().for_each(|p| rename_to(p, binds, vars)),
        Pat::Struct(s) => {
            for f in s.fields.iter_mut() {
                if f.colon_token.is_none() {
                    f.colon_token = Some(Default::default());
                }
                rename_to(&mut f.pat, binds, vars);
            }
        }
        Pat::Or(o) => o.cases.iter_mut().for_each(|p| rename_to(p, binds, vars)),
        Pat::Reference(r) => rename_to(&mut r.pat, binds, vars),
        Pat::Slice(s) => s.elems.iter_mut().for_each(|p| rename_to(p, binds, vars)),
        Pat::Paren(p) => rename_to(&mut p.pat, binds, vars),
        _ => {}
    }
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        e => e,
    }
}

fn is_int_literal(e: &Expr) -> bool {
    matches!(
        strip(e),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(_),
            ..
        })
    )
}

fn is_place(e: &Expr) -> bool {
    match strip(e) {
        Expr::Path(p) => p.path.get_ident().is_some(),
        Expr::Field(f) => is_place(&f.base),
        Expr::Index(i) => is_place(&i.expr),
        _ => false,
    }
}

/// An expression that may be emitted as written: no control flow, no blocks, no
/// constructs outside the subset.
fn is_simple(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) | Expr::Path(_) => true,
        Expr::Paren(p) => is_simple(&p.expr),
        Expr::Group(g) => is_simple(&g.expr),
        Expr::Binary(b) => {
            compound_op(&b.op).is_none() && is_simple(&b.left) && is_simple(&b.right)
        }
        Expr::Unary(u) => is_simple(&u.expr),
        Expr::Cast(c) => is_simple(&c.expr),
        Expr::Field(f) => is_simple(&f.base),
        Expr::Index(i) => is_simple(&i.expr) && is_simple(&i.index),
        Expr::Reference(r) => r.mutability.is_none() && is_simple(&r.expr),
        Expr::Tuple(t) => t.elems.iter().all(is_simple),
        Expr::Array(a) => a.elems.iter().all(is_simple),
        Expr::Repeat(r) => is_simple(&r.expr),
        Expr::MethodCall(m) => is_simple(&m.receiver) && m.args.iter().all(is_simple),
        Expr::Call(c) => is_simple(&c.func) && c.args.iter().all(is_simple),
        _ => false,
    }
}

/// Every name assigned to (`x = ...`, `x += ...`) anywhere in some statements.
fn assigned_names(stmts: &[syn::Stmt]) -> Vec<String> {
    struct Finder(Vec<String>);
    impl Finder {
        fn target(&mut self, e: &Expr) {
            if let Expr::Path(p) = strip(e)
                && let Some(id) = p.path.get_ident()
            {
                let name = id.to_string();
                if !self.0.contains(&name) {
                    self.0.push(name);
                }
            }
        }
    }
    impl<'a> syn::visit::Visit<'a> for Finder {
        fn visit_expr_assign(&mut self, a: &'a syn::ExprAssign) {
            self.target(&a.left);
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'a syn::ExprBinary) {
            if compound_op(&b.op).is_some() {
                self.target(&b.left);
            }
            syn::visit::visit_expr_binary(self, b);
        }
    }
    let mut f = Finder(Vec::new());
    for s in stmts {
        syn::visit::Visit::visit_stmt(&mut f, s);
    }
    f.0
}

/// Whether an expression calls anything (so recomputing it may cost more than keeping it).
fn has_call(e: &Expr) -> bool {
    struct Finder(bool);
    impl<'a> syn::visit::Visit<'a> for Finder {
        fn visit_expr_call(&mut self, _: &'a syn::ExprCall) {
            self.0 = true;
        }
        fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
            if !prims::NONDIFF_METHODS.contains(&m.method.to_string().as_str()) {
                self.0 = true;
            }
            syn::visit::visit_expr_method_call(self, m);
        }
    }
    let mut f = Finder(false);
    syn::visit::Visit::visit_expr(&mut f, e);
    f.0
}

fn is_comparison(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::Lt(_)
            | BinOp::Le(_)
            | BinOp::Gt(_)
            | BinOp::Ge(_)
            | BinOp::Eq(_)
            | BinOp::Ne(_)
            | BinOp::And(_)
            | BinOp::Or(_)
    )
}

fn arith(op: &BinOp) -> Option<(&'static str, PrimKind)> {
    Some(match op {
        BinOp::Add(_) => ("Add", PrimKind::LinearBinary),
        BinOp::Sub(_) => ("Sub", PrimKind::LinearBinary),
        BinOp::Mul(_) => ("Mul", PrimKind::Binary),
        BinOp::Div(_) => ("Div", PrimKind::Binary),
        _ => return None,
    })
}

/// `+=` and friends: the arithmetic they do, and the operator itself.
fn compound_op(op: &BinOp) -> Option<(&'static str, PrimKind, BinOp)> {
    let plain = match op {
        BinOp::AddAssign(t) => BinOp::Add(syn::Token![+](t.spans[0])),
        BinOp::SubAssign(t) => BinOp::Sub(syn::Token![-](t.spans[0])),
        BinOp::MulAssign(t) => BinOp::Mul(syn::Token![*](t.spans[0])),
        BinOp::DivAssign(t) => BinOp::Div(syn::Token![/](t.spans[0])),
        BinOp::RemAssign(t) => BinOp::Rem(syn::Token![%](t.spans[0])),
        BinOp::BitXorAssign(t) => BinOp::BitXor(syn::Token![^](t.spans[0])),
        BinOp::BitAndAssign(t) => BinOp::BitAnd(syn::Token![&](t.spans[0])),
        BinOp::BitOrAssign(t) => BinOp::BitOr(syn::Token![|](t.spans[0])),
        BinOp::ShlAssign(t) => BinOp::Shl(syn::Token![<<](t.spans[0])),
        BinOp::ShrAssign(t) => BinOp::Shr(syn::Token![>>](t.spans[0])),
        _ => return None,
    };
    match arith(&plain) {
        Some((marker, kind)) => Some((marker, kind, plain)),
        None => Some(("", PrimKind::Unary, plain)),
    }
}

fn plain_op(op: &BinOp) -> BinOp {
    *op
}

fn is_stop_gradient(func: &Expr) -> bool {
    matches!(strip(func), Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == prims::STOP_GRADIENT))
}

fn is_effect(mac: &syn::Macro) -> bool {
    mac.path
        .segments
        .last()
        .is_some_and(|s| prims::EFFECT_MACROS.contains(&s.ident.to_string().as_str()))
}

/// Identifiers a macro's tokens mention, including inline format arguments (`{x}`, `{x:?}`).
fn collect_mentions(tokens: TokenStream, out: &mut Vec<(String, Span)>) {
    for tt in tokens {
        match tt {
            TokenTree::Ident(id) => out.push((id.to_string(), id.span())),
            TokenTree::Group(g) => collect_mentions(g.stream(), out),
            TokenTree::Literal(lit) => {
                let s = lit.to_string();
                if !s.starts_with('"') {
                    continue;
                }
                let mut rest = s.as_str();
                while let Some(open) = rest.find('{') {
                    rest = &rest[open + 1..];
                    if rest.starts_with('{') {
                        rest = &rest[1..];
                        continue;
                    }
                    let end = rest.find(['}', ':']).unwrap_or(rest.len());
                    let name = rest[..end].trim();
                    if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        out.push((name.to_owned(), lit.span()));
                    }
                }
            }
            TokenTree::Punct(_) => {}
        }
    }
}
