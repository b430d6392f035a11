//! Lowering of expressions: arithmetic, primitives, calls, places and assignment.

use super::syntax::*;
use super::{Lower, unit};
use crate::check;
use crate::diag;
use crate::ir::*;
use crate::prims;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{BinOp, Expr, Ident, UnOp};

impl<'f> Lower<'f> {
    // ---- expressions ------------------------------------------------------------------

    /// Whether an expression depends on a differentiated value (through something other
    /// than a comparison, a non-differentiated method, `stop_gradient` or an integer cast).
    pub(super) fn expr_active(&self, e: &Expr) -> bool {
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
            Expr::Struct(s) => s.fields.iter().any(|f| self.expr_active(&f.expr)),
            Expr::MethodCall(m) => {
                !prims::NONDIFF_METHODS.contains(&m.method.to_string().as_str())
                    && (self.expr_active(&m.receiver) || m.args.iter().any(|a| self.expr_active(a)))
            }
            Expr::Call(c) => {
                !is_stop_gradient(&c.func)
                    && !is_nondiff_runtime_fn(&c.func)
                    && (c.args.iter().any(|a| self.expr_active(a))
                        || (!matches!(strip(&c.func), Expr::Path(_)) && self.expr_active(&c.func)))
            }
            // A closure is as active as what its body reads.
            Expr::Closure(c) => self.expr_active(&c.body),
            _ => true,
        }
    }

    /// Lowers an expression to an operand, appending the statements that compute it.
    pub(super) fn lower_expr(&mut self, e: &Expr, out: &mut Vec<Stmt>) -> Operand {
        // `stop_gradient(y)` is inactive but lowered as a call: it is a reference where its
        // argument is one (`stop_gradient(&a)`, of a `&Tensor` parameter).
        let stop = matches!(strip(e), Expr::Call(c) if is_stop_gradient(&c.func));
        // A push (or `reverse`, `swap`, ...) makes a new version of its `Vec` even of
        // constants (see `lower_push`, `lower_inplace`).
        let push = matches!(strip(e), Expr::MethodCall(m) if is_mutating(m));
        if is_simple(e) && !self.expr_active(e) && !stop && !push && !self.mentions_closure(e) {
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
            // A stray `grad::checkpoint(..)`, reported by `desugar::revolve`.
            Expr::Call(_) if crate::desugar::revolve::call(e).is_some() => unit(),
            Expr::Call(c) => self.lower_call(c, out),
            Expr::Index(i) if is_range(&i.index) => self.lower_sub_slice(i, out),
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
                self.push_let(
                    out,
                    v,
                    Op::Build {
                        kind: Build::Tuple,
                        parts: elems,
                    },
                )
            }
            Expr::Array(a) => self.lower_array(a, out),
            Expr::Repeat(r) => self.lower_repeat(r, out),
            Expr::Struct(s) => self.lower_struct(s, out),
            Expr::Macro(m) if m.mac.path.is_ident("vec") => self.lower_vec(&m.mac, out),
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

    pub(super) fn lower_block_expr(&mut self, block: &syn::Block, out: &mut Vec<Stmt>) -> Operand {
        self.scopes.push(Vec::new());
        let tail = self.lower_stmts(&block.stmts, out, false);
        self.scopes.pop();
        tail.unwrap_or_else(unit)
    }

    pub(super) fn lower_path(&mut self, p: &syn::ExprPath) -> Operand {
        if let Some(id) = p.path.get_ident()
            && let Some(v) = self.lookup(&id.to_string())
        {
            if self.closures.iter().any(|d| d.var == v) {
                self.closure_escapes(&Expr::Path(p.clone()));
                return unit();
            }
            return Operand::Var(v);
        }
        Operand::Const(p.to_token_stream())
    }

    /// An inactive expression, emitted as written with its locals renamed.
    pub(super) fn opaque(&mut self, e: &Expr, out: &mut Vec<Stmt>) -> Operand {
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
        let mut renamer = Renamer::new(self);
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
    pub(super) fn opaque_tokens(
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

    pub(super) fn prim(
        &mut self,
        prim: Prim,
        args: Vec<Operand>,
        span: Span,
        out: &mut Vec<Stmt>,
    ) -> Operand {
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

    pub(super) fn lower_binary(&mut self, b: &syn::ExprBinary, out: &mut Vec<Stmt>) -> Operand {
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

    pub(super) fn lower_unary(&mut self, u: &syn::ExprUnary, out: &mut Vec<Stmt>) -> Operand {
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

    pub(super) fn lower_cast(&mut self, c: &syn::ExprCast, out: &mut Vec<Stmt>) -> Operand {
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
    pub(super) fn lower_method(&mut self, m: &syn::ExprMethodCall, out: &mut Vec<Stmt>) -> Operand {
        let name = m.method.to_string();
        if name == "push" && self.lower_push(m, out) {
            return unit();
        }
        if let Some(value) = self.lower_inplace(m, out) {
            return value;
        }
        // (On a local the function owns: a parameter's or a user type's method of that name
        // may well be differentiable.)
        if prims::UNSUPPORTED_MUTATORS.contains(&name.as_str())
            && self.owned_local(m).is_some()
            && self.expr_active(&m.receiver)
        {
            self.cx.error(m.method.span(), diag::mutator(&name));
            return unit();
        }
        // `map` of a receiver that is not an iterator (an array's, a matrix's).
        let of_iterator = matches!(strip(&m.receiver), Expr::MethodCall(r)
            if prims::ITER_METHODS.contains(&r.method.to_string().as_str()));
        if name == "map"
            && m.args.len() == 1
            && !of_iterator
            && (self.expr_active(&m.receiver) || self.expr_active(&m.args[0]))
        {
            return self.lower_array_map(m, out);
        }
        if prims::ITER_METHODS.contains(&name.as_str()) && self.expr_active(&m.receiver) {
            self.cx.error(m.method.span(), diag::ITER_UNCONSUMED);
            return unit();
        }
        if let Some(built) = self.lower_tensor_from_data(m, out) {
            return built;
        }
        if name == "mul_add" && m.args.len() == 2 {
            let mut args = vec![self.lower_call_arg(&m.receiver, out)];
            args.extend(m.args.iter().map(|a| self.lower_call_arg(a, out)));
            return self.lower_mul_add(args, m.span(), out);
        }
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
        // `x.to_vec()` of a slice: an owned copy, through the runtime's `to_vec` and its
        // derivatives (the identity), so that the copy may be written in place.
        if name == "to_vec" && lowered.is_empty() {
            let arg = CallArg {
                operand: receiver,
                by_ref: false,
                span: m.receiver.span(),
            };
            return self.runtime_call("to_vec", vec![arg], m.method.span(), out);
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
    pub(super) fn lower_receiver(&mut self, e: &Expr, out: &mut Vec<Stmt>) -> Operand {
        let e = strip(e);
        if is_place(e) && !matches!(e, Expr::Path(_)) && self.expr_active(e) {
            return self.lower_place(e, true, out);
        }
        self.lower_expr(e, out)
    }

    pub(super) fn lower_method_prim(
        &mut self,
        p: &prims::MethodPrim,
        method: &Ident,
        receiver: Operand,
        args: &[&Expr],
        span: Span,
        out: &mut Vec<Stmt>,
    ) -> Operand {
        let diff_args = match p.kind {
            PrimKind::Binary | PrimKind::Bilinear | PrimKind::LinearBinary => 1,
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
            // `&[i, j]` written out: the marker keeps the array itself, so that a pullback or
            // a loop's reverse sweep holds a value, not a reference to a temporary.
            let a = match strip(a) {
                Expr::Reference(r)
                    if r.mutability.is_none() && matches!(strip(&r.expr), Expr::Array(_)) =>
                {
                    &*r.expr
                }
                a => a,
            };
            let o = self.lower_expr(a, out);
            if self.is_active(&o) {
                self.cx
                    .error_at(a, diag::nondiff_arg(p.method, p.extra_what));
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

    pub(super) fn lower_call_arg(&mut self, a: &Expr, out: &mut Vec<Stmt>) -> CallArg {
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

    pub(super) fn arg_tokens(&self, a: &CallArg) -> TokenStream {
        let t = self.operand_tokens(&a.operand);
        if a.by_ref { quote!(&#t) } else { t }
    }

    /// `g(args)`: `stop_gradient`, `f64::exp(x)`, or a function with `g_vjp` beside it.
    pub(super) fn lower_call(&mut self, c: &syn::ExprCall, out: &mut Vec<Stmt>) -> Operand {
        let Expr::Path(fp) = strip(&c.func) else {
            check::unsupported_expr(&mut self.cx, &c.func);
            return unit();
        };
        if let Some(def) = self.closure_of(&c.func) {
            return self.inline_closure(def, c, out);
        }
        if let Some(built) = self
            .lower_matrix_ctor(c, out)
            .or_else(|| self.lower_vector_from_data(c, out))
        {
            return built;
        }
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
            if is_float_path && last == "mul_add" && c.args.len() == 3 {
                let args = c.args.iter().map(|a| self.lower_call_arg(a, out)).collect();
                return self.lower_mul_add(args, c.span(), out);
            }
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

    /// `a.mul_add(b, c)` (or `f64::mul_add(a, b, c)`): the runtime's `mul_add`, whose
    /// derivatives are `a * b + c`'s; as written where nothing in it is differentiated.
    fn lower_mul_add(&mut self, args: Vec<CallArg>, span: Span, out: &mut Vec<Stmt>) -> Operand {
        if !args.iter().any(|a| self.is_active(&a.operand)) {
            let t: Vec<TokenStream> = args.iter().map(|a| self.arg_tokens(a)).collect();
            let ops: Vec<Operand> = args.into_iter().map(|a| a.operand).collect();
            let (a, b, c) = (&t[0], &t[1], &t[2]);
            return self.opaque_tokens(quote!(#a.mul_add(#b, #c)), &ops, span, out);
        }
        self.runtime_call("mul_add", args, span, out)
    }

    /// `base.f[i]...`: a projection of a local, or of a temporary holding any other base.
    pub(super) fn lower_place(&mut self, e: &Expr, borrow: bool, out: &mut Vec<Stmt>) -> Operand {
        let mut path = Vec::new();
        let mut cur = strip(e);
        let mut index_exprs = Vec::new();
        loop {
            match cur {
                Expr::Field(f) => {
                    path.push(Proj::Field(f.member.clone()));
                    cur = strip(&f.base);
                }
                // A sub-slice (`x[a..b]`) is a value of its own, the place's base.
                Expr::Index(i) if !is_range(&i.index) => {
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
        // A sub-slice itself (`x[a..b]`, `&x[a..b]`): its value, or a borrow of it.
        if path.is_empty() {
            if !borrow {
                return Operand::Var(base);
            }
            let t = self.temp(e.span(), active, true);
            return self.push_let(out, t, Op::Borrow(base));
        }
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

    pub(super) fn project_key(&self, base: VarId, path: &[Proj], borrow: bool) -> String {
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

    pub(super) fn cse_lookup(&self, key: &str) -> Option<VarId> {
        self.cse
            .iter()
            .flatten()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    }

    // ---- assignment -------------------------------------------------------------------

    pub(super) fn lower_assign(
        &mut self,
        lhs: &Expr,
        op: Option<(&'static str, PrimKind, BinOp)>,
        rhs: &Expr,
        out: &mut Vec<Stmt>,
    ) {
        let name = match strip(lhs) {
            Expr::Path(p) if p.path.get_ident().is_some() => p.path.get_ident().unwrap().clone(),
            Expr::Index(_) | Expr::Field(_) => {
                self.lower_write(lhs, op, rhs, out);
                return;
            }
            Expr::Tuple(_) | Expr::Array(_) if op.is_none() => {
                let value = self.lower_expr(rhs, out);
                let base = self.materialize(value, out);
                self.assign_parts(lhs, base, out);
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
            Some(op) => self.compound(Operand::Var(old), op, value, rhs, lhs.span(), out),
        };
        let v = match new {
            Operand::Var(v) => v,
            Operand::Const(c) => {
                let v = self.new_var(&name.to_string(), name.span(), false, false);
                self.push_let(out, v, Op::Use(Operand::Const(c)));
                v
            }
        };
        let v = if self.vars[v].hint == "t" && !self.spelled.borrow().contains(&v) {
            self.vars[v].hint = name.to_string();
            v
        } else {
            v
        };
        self.assign(&name.to_string(), v);
    }

    /// `(a, b) = value` or `[a, b] = value` (nested too, `_` skipped): each name takes its
    /// part of the value, every part read before any name changes.
    fn assign_parts(&mut self, lhs: &Expr, base: VarId, out: &mut Vec<Stmt>) {
        let (elems, array) = match strip(lhs) {
            Expr::Tuple(t) => (&t.elems, false),
            Expr::Array(a) => (&a.elems, true),
            other => {
                self.cx.error_at(other, diag::UNKNOWN_VAR_ASSIGN);
                return;
            }
        };
        let mut parts = Vec::new();
        for (i, e) in elems.iter().enumerate() {
            if matches!(strip(e), Expr::Infer(_)) {
                continue;
            }
            let t = self.project_part(base, i, array, e.span(), out);
            parts.push((e, t));
        }
        for (e, t) in parts {
            match strip(e) {
                Expr::Path(p) if p.path.get_ident().is_some() => {
                    let name = p
                        .path
                        .get_ident()
                        .map(|i| i.to_string())
                        .unwrap_or_default();
                    if self.lookup(&name).is_none() {
                        self.cx.error_at(e, diag::UNKNOWN_VAR_ASSIGN);
                        continue;
                    }
                    self.assign(&name, t);
                }
                Expr::Tuple(_) | Expr::Array(_) => self.assign_parts(e, t, out),
                other => self.cx.error_at(other, diag::DESTRUCTURE_PART),
            }
        }
    }

    /// `left op rhs` of a compound assignment (`x += e`, `c[i] *= e`), `value` being `rhs`
    /// lowered: a primitive where a side is differentiated, else the plain operation.
    pub(super) fn compound(
        &mut self,
        left: Operand,
        (marker, kind, binop): (&'static str, PrimKind, BinOp),
        value: Operand,
        rhs: &Expr,
        span: Span,
        out: &mut Vec<Stmt>,
    ) -> Operand {
        let active = !is_int_literal(rhs) && (self.is_active(&left) || self.is_active(&value));
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
            self.opaque_tokens(quote!(#l #binop #r), &[left, value], span, out)
        }
    }
}
