//! Exits: `break` (with a value out of `loop`), `continue`, labels, `loop` and early
//! `return`, rewritten as boolean flags and `while` loops.
//!
//! An exit sets its flag (and, for `return e` or `break e`, a value) and the statements after
//! it run under `if !flag { .. }`. A loop that an exit may leave early becomes a `while`
//! whose condition reads the flags, so the loop runs exactly the iterations the original
//! ran, and so does the reverse sweep, which replays a `while` by its iteration count. A
//! loop whose only exit is its own `continue` stays as it is, the flag reset per iteration.
//! The body's value, when something may return early, is `if ret { retv } else { value }`.

use super::Fresh;
use crate::ast::Function;
use crate::ctxt::Ctxt;
use crate::diag;
use proc_macro2::Span;
use quote::quote;
use syn::{Block, Expr, Ident, Stmt, parse_quote};

pub fn rewrite(cx: &mut Ctxt, f: &Function, fresh: &mut Fresh, block: &mut Block) {
    // A final `return e;` is the body's value.
    if let Some(Stmt::Expr(Expr::Return(r), _)) = block.stmts.last() {
        let value = r
            .expr
            .as_deref()
            .cloned()
            .unwrap_or_else(|| parse_quote!(()));
        *block.stmts.last_mut().expect("a last statement") = Stmt::Expr(value, None);
    }
    if !has_exit(&Expr::Block(syn::ExprBlock {
        attrs: Vec::new(),
        label: None,
        block: block.clone(),
    })) {
        return;
    }
    let ret = has_return(block).then(|| (fresh.name("ret"), fresh.name("retv")));
    let mut ex = Exits {
        cx,
        fresh,
        loops: Vec::new(),
        ret: ret.clone(),
        valued: Vec::new(),
    };
    let stmts = std::mem::take(&mut block.stmts);
    let (mut stmts, _) = ex.stmts(stmts, true);
    if let Some((flag, value)) = ret {
        let ty = &f.ret;
        let mut head: Vec<Stmt> = vec![
            parse_quote!(let mut #flag = false;),
            parse_quote!(let mut #value: #ty = ::core::default::Default::default();),
        ];
        head.append(&mut stmts);
        stmts = head;
    }
    block.stmts = stmts;
}

/// The flags of one loop being rewritten.
struct LoopFlags {
    label: Option<String>,
    brk: Ident,
    cont: Ident,
    /// Where `break value` puts its value.
    value: Ident,
}

/// Flags an exit may have set, each with the span of one exit that sets it.
type Raised = Vec<(Ident, Span)>;

fn union(a: &mut Raised, b: Raised) {
    for (f, s) in b {
        if !a.iter().any(|(g, _)| *g == f) {
            a.push((f, s));
        }
    }
}

struct Exits<'a> {
    cx: &'a mut Ctxt,
    fresh: &'a mut Fresh,
    loops: Vec<LoopFlags>,
    ret: Option<(Ident, Ident)>,
    /// The `value`s of the loops a `break value` has left.
    valued: Vec<Ident>,
}

impl Exits<'_> {
    /// A block's statements; `fn_body`: the function's body, whose value may be returned
    /// early.
    fn stmts(&mut self, stmts: Vec<Stmt>, fn_body: bool) -> (Vec<Stmt>, Raised) {
        let mut out = Vec::new();
        let mut raised = Raised::new();
        let mut rest = stmts.into_iter();
        while let Some(stmt) = rest.next() {
            let (new, r) = self.stmt(stmt);
            out.extend(new);
            if r.is_empty() {
                continue;
            }
            let remaining: Vec<Stmt> = rest.by_ref().collect();
            let (inner, r2) = self.stmts(remaining, fn_body);
            let cond = not_any(&r);
            union(&mut raised, r);
            union(&mut raised, r2);
            if fn_body && let Some((flag, value)) = &self.ret {
                // The body's value: what an early `return` left, or the rest's own value.
                let tail = if ends_in_value(&inner) {
                    quote!(if #flag { #value } else { #(#inner)* })
                } else {
                    quote!(#value)
                };
                if ends_in_value(&inner) {
                    out.push(Stmt::Expr(parse_quote!(#tail), None));
                } else {
                    if !inner.is_empty() {
                        out.push(Stmt::Expr(parse_quote!(if #cond { #(#inner)* }), None));
                    }
                    out.push(Stmt::Expr(parse_quote!(#value), None));
                }
            } else if !inner.is_empty() {
                out.push(Stmt::Expr(parse_quote!(if #cond { #(#inner)* }), None));
            }
            break;
        }
        (out, raised)
    }

    fn stmt(&mut self, stmt: Stmt) -> (Vec<Stmt>, Raised) {
        match stmt {
            Stmt::Local(mut l) => {
                if let Some(init) = &mut l.init {
                    let e = std::mem::replace(&mut *init.expr, parse_quote!(()));
                    let (e, r) = self.expr(e, true);
                    *init.expr = e;
                    self.no_escape(&r);
                }
                (vec![Stmt::Local(l)], Raised::new())
            }
            Stmt::Expr(e, semi) => {
                // A `loop` that ends a block gives the block its value (`break value`).
                let used = semi.is_none() && matches!(e, Expr::Loop(_));
                let (e, r) = self.expr(e, used);
                (vec![Stmt::Expr(e, semi)], r)
            }
            other => (vec![other], Raised::new()),
        }
    }

    /// Reports exits that would leave an expression whose value is used.
    fn no_escape(&mut self, r: &Raised) {
        if let Some((_, span)) = r.first() {
            self.cx.error(*span, diag::EXIT_IN_VALUE);
        }
    }

    fn expr(&mut self, e: Expr, used: bool) -> (Expr, Raised) {
        if !has_exit(&e) {
            return (e, Raised::new());
        }
        match e {
            Expr::Break(b) => {
                let span = b.break_token.span;
                let Some(l) = self.target(b.label.as_ref(), span) else {
                    return (parse_quote!({}), Raised::new());
                };
                let (brk, value) = (l.brk.clone(), l.value.clone());
                let e = match b.expr {
                    Some(v) => {
                        self.valued.push(value.clone());
                        parse_quote!({ #value = #v; #brk = true; })
                    }
                    None => parse_quote!({ #brk = true; }),
                };
                (e, vec![(brk, span)])
            }
            Expr::Continue(c) => {
                let span = c.continue_token.span;
                let Some(l) = self.target(c.label.as_ref(), span) else {
                    return (parse_quote!({}), Raised::new());
                };
                let cont = l.cont.clone();
                (parse_quote!({ #cont = true; }), vec![(cont, span)])
            }
            Expr::Return(r) => {
                let span = r.return_token.span;
                let Some((flag, value)) = self.ret.clone() else {
                    return (Expr::Return(r), Raised::new());
                };
                let v = r.expr.map_or_else(|| parse_quote!(()), |e| *e);
                (
                    parse_quote!({ #value = #v; #flag = true; }),
                    vec![(flag, span)],
                )
            }
            Expr::Block(mut b) if b.label.is_none() => {
                let stmts = std::mem::take(&mut b.block.stmts);
                let (stmts, r) = self.stmts(stmts, false);
                b.block.stmts = stmts;
                if used {
                    self.no_escape(&r);
                }
                (Expr::Block(b), r)
            }
            Expr::If(mut i) => {
                let mut r = Raised::new();
                let stmts = std::mem::take(&mut i.then_branch.stmts);
                let (stmts, r1) = self.stmts(stmts, false);
                i.then_branch.stmts = stmts;
                union(&mut r, r1);
                if let Some((_, els)) = &mut i.else_branch {
                    let e = std::mem::replace(&mut **els, parse_quote!({}));
                    let (e, r2) = self.expr(e, used);
                    **els = e;
                    union(&mut r, r2);
                }
                if used {
                    self.no_escape(&r);
                }
                (Expr::If(i), r)
            }
            Expr::Match(mut m) => {
                let mut r = Raised::new();
                for arm in &mut m.arms {
                    let e = std::mem::replace(&mut *arm.body, parse_quote!(()));
                    let (e, r1) = self.expr(e, used);
                    // An arm that was `break` or `return` is now a block of statements.
                    *arm.body = e;
                    arm.comma.get_or_insert_with(Default::default);
                    union(&mut r, r1);
                }
                if used {
                    self.no_escape(&r);
                }
                (Expr::Match(m), r)
            }
            Expr::Paren(p) => {
                let (e, r) = self.expr(*p.expr, used);
                (e, r)
            }
            Expr::ForLoop(f) => {
                let label = f.label.as_ref().map(|l| l.name.ident.to_string());
                let pat = (*f.pat).clone();
                let iter = (*f.expr).clone();
                self.lp(Kind::For(pat, iter), label, f.body, used)
            }
            Expr::While(w) => {
                let label = w.label.as_ref().map(|l| l.name.ident.to_string());
                let cond = (*w.cond).clone();
                self.lp(Kind::While(cond), label, w.body, used)
            }
            Expr::Loop(l) => {
                let label = l.label.as_ref().map(|l| l.name.ident.to_string());
                self.lp(Kind::Loop, label, l.body, used)
            }
            other => {
                // An exit inside an operand, an argument, a `let` value: its value is used.
                if let Some(span) = first_exit(&other) {
                    self.cx.error(span, diag::EXIT_IN_VALUE);
                }
                (other, Raised::new())
            }
        }
    }

    /// The loop an exit with this label (or none: the innermost) leaves.
    fn target(&mut self, label: Option<&syn::Lifetime>, span: Span) -> Option<&LoopFlags> {
        let found = match label {
            None => self.loops.last(),
            Some(l) => {
                let name = l.ident.to_string();
                self.loops
                    .iter()
                    .rev()
                    .find(|f| f.label.as_deref() == Some(name.as_str()))
            }
        };
        if found.is_none() {
            // rustc reports an unknown label or an exit outside a loop on the function as
            // written; say it here too, so the derivatives add no error of their own.
            self.cx.error(span, diag::EXIT_OUTSIDE_LOOP);
        }
        found
    }

    /// A loop: rewritten as a `while` if an exit may end it early, else kept with its own
    /// `continue` flag reset per iteration.
    fn lp(&mut self, kind: Kind, label: Option<String>, body: Block, used: bool) -> (Expr, Raised) {
        let flags = LoopFlags {
            label,
            brk: self.fresh.name("brk"),
            cont: self.fresh.name("cont"),
            value: self.fresh.name("broke"),
        };
        let (brk, cont, value) = (flags.brk.clone(), flags.cont.clone(), flags.value.clone());
        self.loops.push(flags);
        let (stmts, raised) = self.stmts(body.stmts, false);
        self.loops.pop();
        let breaks = raised.iter().any(|(f, _)| *f == brk);
        let continues = raised.iter().any(|(f, _)| *f == cont);
        let escaping: Raised = raised
            .into_iter()
            .filter(|(f, _)| *f != brk && *f != cont)
            .collect();
        let reset = continues.then(|| quote!(let mut #cont = false;));
        if !breaks && escaping.is_empty() && !matches!(kind, Kind::Loop) {
            let e = match kind {
                Kind::For(pat, iter) => {
                    parse_quote!(for #pat in #iter { #reset #(#stmts)* })
                }
                Kind::While(cond) => parse_quote!(while #cond { #reset #(#stmts)* }),
                Kind::Loop => unreachable!("`loop` is matched out above"),
            };
            return (e, Raised::new());
        }
        let mut stop = vec![quote!(!#brk)];
        stop.extend(escaping.iter().map(|(f, _)| quote!(!#f)));
        // A `loop` whose value is used but that no `break value` leaves ends only by an early
        // `return` (`loop { if done { return acc; } .. }` ending the body): its value is never
        // read, so it is the return value's, which has a type.
        let (value_decl, value_out) = match &self.ret {
            Some((_, retv)) if used && !self.valued.contains(&value) => (None, Some(quote!(#retv))),
            _ => (
                used.then(|| quote!(let mut #value = ::core::default::Default::default();)),
                used.then(|| quote!(#value)),
            ),
        };
        let e: Expr = match kind {
            Kind::Loop => parse_expr(quote! {{
                let mut #brk = false;
                #value_decl
                while #(#stop)&&* { #reset #(#stmts)* }
                #value_out
            }}),
            Kind::While(cond) => parse_expr(quote! {{
                let mut #brk = false;
                while #(#stop)&&* && (#cond) { #reset #(#stmts)* }
            }}),
            Kind::For(pat, iter) => {
                let Some((lo, n)) = count_of(&iter) else {
                    // The iterator pass turns every `for` it can exit early into `lo..hi`;
                    // `revolve` has reported a checkpointed loop's exits.
                    if super::revolve::call(&iter).is_none() {
                        self.cx.error_at(&iter, diag::FOR_ITER);
                    }
                    return (parse_quote!({}), Raised::new());
                };
                let k = self.fresh.name("it");
                parse_expr(quote! {{
                    let mut #brk = false;
                    let mut #k = #lo;
                    while #(#stop)&&* && #k < #n {
                        let #pat = #k;
                        #k += 1;
                        #reset
                        #(#stmts)*
                    }
                }})
            }
        };
        (e, escaping)
    }
}

enum Kind {
    For(syn::Pat, Expr),
    While(Expr),
    Loop,
}

fn parse_expr(tokens: proc_macro2::TokenStream) -> Expr {
    syn::parse2(tokens).expect("generated loop parses")
}

/// `lo..hi`: `lo` and `hi`.
fn count_of(iter: &Expr) -> Option<(Expr, Expr)> {
    match iter {
        Expr::Range(r) if matches!(r.limits, syn::RangeLimits::HalfOpen(_)) => {
            Some((r.start.as_deref()?.clone(), r.end.as_deref()?.clone()))
        }
        _ => None,
    }
}

/// `!a && !b`.
fn not_any(r: &Raised) -> proc_macro2::TokenStream {
    let flags = r.iter().map(|(f, _)| quote!(!#f));
    quote!(#(#flags)&&*)
}

/// Whether the statements end in an expression with a value (no semicolon, and not a
/// construct whose type is `()`).
fn ends_in_value(stmts: &[Stmt]) -> bool {
    match stmts.last() {
        Some(Stmt::Expr(e, None)) => {
            !matches!(e, Expr::ForLoop(_) | Expr::While(_))
                && !matches!(e, Expr::If(i) if i.else_branch.is_none())
        }
        _ => false,
    }
}

/// Whether an expression holds a `break`, `continue`, `return` or `loop` (outside closures).
pub fn has_exit(e: &Expr) -> bool {
    first_exit(e).is_some() || has_loop(e)
}

fn first_exit(e: &Expr) -> Option<Span> {
    struct Finder(Option<Span>);
    impl<'a> syn::visit::Visit<'a> for Finder {
        fn visit_expr_break(&mut self, b: &'a syn::ExprBreak) {
            self.0.get_or_insert(b.break_token.span);
        }
        fn visit_expr_continue(&mut self, c: &'a syn::ExprContinue) {
            self.0.get_or_insert(c.continue_token.span);
        }
        fn visit_expr_return(&mut self, r: &'a syn::ExprReturn) {
            self.0.get_or_insert(r.return_token.span);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    }
    let mut f = Finder(None);
    syn::visit::Visit::visit_expr(&mut f, e);
    f.0
}

fn has_loop(e: &Expr) -> bool {
    struct Finder(bool);
    impl<'a> syn::visit::Visit<'a> for Finder {
        fn visit_expr_loop(&mut self, _: &'a syn::ExprLoop) {
            self.0 = true;
        }
        fn visit_label(&mut self, _: &'a syn::Label) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    }
    let mut f = Finder(false);
    syn::visit::Visit::visit_expr(&mut f, e);
    f.0
}

/// Whether the body returns anywhere but at its end (a final `return` is its value by now).
fn has_return(block: &Block) -> bool {
    block.stmts.iter().any(|s| match s {
        Stmt::Expr(e, _) => first_return(e).is_some(),
        Stmt::Local(l) => l
            .init
            .as_ref()
            .is_some_and(|i| first_return(&i.expr).is_some()),
        _ => false,
    })
}

/// The first `return` in an expression, outside the closures in it (a closure's `return`
/// leaves the closure).
pub fn first_return(e: &Expr) -> Option<Span> {
    struct Finder(Option<Span>);
    impl<'a> syn::visit::Visit<'a> for Finder {
        fn visit_expr_return(&mut self, r: &'a syn::ExprReturn) {
            self.0.get_or_insert(r.return_token.span);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    }
    let mut f = Finder(None);
    syn::visit::Visit::visit_expr(&mut f, e);
    f.0
}

/// Whether a loop body may leave its loop other than by its own `continue`: then the
/// iterator pass gives the loop a counted form that `exits` can turn into a `while`.
pub fn may_leave(body: &Block) -> bool {
    struct Finder(bool);
    impl<'a> syn::visit::Visit<'a> for Finder {
        fn visit_expr_break(&mut self, _: &'a syn::ExprBreak) {
            self.0 = true;
        }
        fn visit_expr_return(&mut self, _: &'a syn::ExprReturn) {
            self.0 = true;
        }
        fn visit_expr_continue(&mut self, c: &'a syn::ExprContinue) {
            self.0 |= c.label.is_some();
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
    }
    let mut f = Finder(false);
    syn::visit::Visit::visit_block(&mut f, body);
    f.0
}
