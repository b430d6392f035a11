//! Closures bound by `let` and called in the body: inlined at each call, their body lowered
//! in the scope the closure was written in (so a name it captures means what it meant
//! there, as a `move` closure's copy would), with its parameters bound to the arguments.
//! A closure is never a runtime value of the derivatives, so it may not escape: any use
//! other than a call is an error.

use super::syntax::*;
use super::{Lower, unit};
use crate::diag;
use crate::ir::*;
use syn::spanned::Spanned;
use syn::{Expr, Pat};

/// A closure as written, and the names visible where it was written.
#[derive(Clone)]
pub(super) struct ClosureDef {
    pub(super) var: VarId,
    pub(super) closure: syn::ExprClosure,
    pub(super) scopes: Vec<Vec<(String, VarId)>>,
}

impl<'f> Lower<'f> {
    /// `let name = |params| body;`: records the closure under `name`.
    pub(super) fn define_closure(&mut self, pat: &Pat, c: &syn::ExprClosure) {
        let Pat::Ident(p) = pat else {
            self.cx.error_at(pat, diag::PATTERN_LET);
            return;
        };
        if let Some(a) = &c.asyncness {
            self.cx.error(a.span, diag::ASYNC_EXPR);
            return;
        }
        if let Some(span) = crate::desugar::first_return(&c.body) {
            self.cx.error(span, diag::CLOSURE_RETURN);
        }
        // A closure that assigns to what it captures would need the assignment to outlive
        // the inlined body (an `FnMut`): say so rather than lose the write.
        let mut locals = Vec::new();
        c.inputs.iter().for_each(|p| pattern_names(p, &mut locals));
        let body = [syn::Stmt::Expr((*c.body).clone(), None)];
        let captured_writes: Vec<String> = assigned_names(&body)
            .into_iter()
            .filter(|n| !locals.contains(n) && !declared_in(&c.body, n))
            .collect();
        if !captured_writes.is_empty() {
            self.cx.error_at(&c.body, diag::CLOSURE_MUTATES);
        }
        let name = p.ident.to_string();
        let var = self.new_var(&name, p.ident.span(), false, false);
        self.closures.push(ClosureDef {
            var,
            closure: c.clone(),
            scopes: self.scopes.clone(),
        });
        self.bind(&name, var);
    }

    /// The closure a name stands for, if it stands for one.
    pub(super) fn closure_of(&self, e: &Expr) -> Option<ClosureDef> {
        let Expr::Path(p) = strip(e) else { return None };
        let v = self.lookup(&p.path.get_ident()?.to_string())?;
        self.closures.iter().find(|d| d.var == v).cloned()
    }

    /// Whether an expression names a closure anywhere (so it cannot be emitted as written).
    pub(super) fn mentions_closure(&self, e: &Expr) -> bool {
        struct Finder<'a, 'f>(&'a Lower<'f>, bool);
        impl<'a> syn::visit::Visit<'a> for Finder<'_, '_> {
            fn visit_expr_path(&mut self, p: &'a syn::ExprPath) {
                if let Some(id) = p.path.get_ident()
                    && let Some(v) = self.0.lookup(&id.to_string())
                {
                    self.1 |= self.0.closures.iter().any(|d| d.var == v);
                }
            }
        }
        if self.closures.is_empty() {
            return false;
        }
        let mut f = Finder(self, false);
        syn::visit::Visit::visit_expr(&mut f, e);
        f.1
    }

    /// `g(args)` of a closure `g`: its body, inlined.
    pub(super) fn inline_closure(
        &mut self,
        def: ClosureDef,
        call: &syn::ExprCall,
        out: &mut Vec<Stmt>,
    ) -> Operand {
        let c = &def.closure;
        if call.args.len() != c.inputs.len() {
            let name = quote::ToTokens::to_token_stream(&call.func).to_string();
            self.cx
                .error_at(call, diag::wrong_arity(&name, c.inputs.len()));
            return unit();
        }
        let args: Vec<Operand> = call.args.iter().map(|a| self.lower_expr(a, out)).collect();
        let caller = std::mem::replace(&mut self.scopes, def.scopes.clone());
        self.scopes.push(Vec::new());
        for (pat, arg) in c.inputs.iter().zip(args) {
            let (pat, ty) = match pat {
                Pat::Type(pt) => (&*pt.pat, Some((*pt.ty).clone())),
                p => (p, None),
            };
            self.bind_pattern(pat, arg, ty, out);
        }
        let value = self.lower_expr(&c.body, out);
        self.scopes = caller;
        value
    }

    /// A closure named anywhere but in a call: it would have to exist at run time.
    pub(super) fn closure_escapes(&mut self, e: &Expr) {
        self.cx.error(e.span(), diag::CLOSURE_ESCAPES);
    }
}

/// Whether `name` is bound by a `let` inside `body`.
fn declared_in(body: &Expr, name: &str) -> bool {
    struct Finder<'n>(&'n str, bool);
    impl<'a> syn::visit::Visit<'a> for Finder<'_> {
        fn visit_local(&mut self, l: &'a syn::Local) {
            let mut names = Vec::new();
            pattern_names(&l.pat, &mut names);
            self.1 |= names.iter().any(|n| n == self.0);
            syn::visit::visit_local(self, l);
        }
    }
    let mut f = Finder(name, false);
    syn::visit::Visit::visit_expr(&mut f, body);
    f.1
}
