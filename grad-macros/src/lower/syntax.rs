//! Syntactic questions about syn expressions that lowering asks, and the renaming of the
//! locals an opaque expression mentions.

use super::Lower;
use crate::ir::*;
use crate::names;
use crate::prims;
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::visit_mut::VisitMut;
use syn::{BinOp, Expr, Pat};

/// Renames the locals an opaque expression mentions to their current values.
pub(super) struct Renamer<'a, 'f> {
    pub(super) l: &'a Lower<'f>,
    pub(super) uses: Vec<VarId>,
    /// Names bound inside the expression (closure parameters, match-arm bindings, `let`s
    /// of inner blocks), which are not the function's locals.
    pub(super) shadow: Vec<String>,
}

impl<'a, 'f> Renamer<'a, 'f> {
    pub(super) fn new(l: &'a Lower<'f>) -> Self {
        Renamer {
            l,
            uses: Vec::new(),
            shadow: Vec::new(),
        }
    }

    fn scoped(&mut self, names: Vec<String>, visit: impl FnOnce(&mut Self)) {
        let depth = self.shadow.len();
        self.shadow.extend(names);
        visit(self);
        self.shadow.truncate(depth);
    }
}

impl VisitMut for Renamer<'_, '_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Path(p) = e
            && p.qself.is_none()
            && let Some(id) = p.path.get_ident()
            && !self.shadow.iter().any(|s| id == s)
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

    fn visit_expr_closure_mut(&mut self, c: &mut syn::ExprClosure) {
        let mut names = Vec::new();
        c.inputs.iter().for_each(|p| pattern_names(p, &mut names));
        self.scoped(names, |r| r.visit_expr_mut(&mut c.body));
    }

    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        let mut names = Vec::new();
        pattern_names(&arm.pat, &mut names);
        self.scoped(names, |r| {
            if let Some((_, g)) = &mut arm.guard {
                r.visit_expr_mut(g);
            }
            r.visit_expr_mut(&mut arm.body);
        });
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        let depth = self.shadow.len();
        for stmt in &mut b.stmts {
            self.visit_stmt_mut(stmt);
            if let syn::Stmt::Local(l) = stmt {
                pattern_names(&l.pat, &mut self.shadow);
            }
        }
        self.shadow.truncate(depth);
    }
}

/// Whether an expression names any of `names`.
pub(super) fn mentions_any(e: &Expr, names: &[String]) -> bool {
    struct Finder<'n>(&'n [String], bool);
    impl<'a> syn::visit::Visit<'a> for Finder<'_> {
        fn visit_expr_path(&mut self, p: &'a syn::ExprPath) {
            if let Some(id) = p.path.get_ident() {
                self.1 |= self.0.iter().any(|n| id == n);
            }
        }
    }
    let mut f = Finder(names, false);
    syn::visit::Visit::visit_expr(&mut f, e);
    f.1
}

/// The names a pattern binds (an identifier pattern starting in lower case or `_`; others
/// are constants or unit variants).
pub(super) fn pattern_names(pat: &Pat, out: &mut Vec<String>) {
    match pat {
        Pat::Ident(p) => {
            let name = p.ident.to_string();
            if name.starts_with(|c: char| c.is_lowercase() || c == '_') {
                out.push(name);
            }
            if let Some((_, sub)) = &p.subpat {
                pattern_names(sub, out);
            }
        }
        Pat::Tuple(t) => t.elems.iter().for_each(|p| pattern_names(p, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| pattern_names(p, out)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| pattern_names(&f.pat, out)),
        Pat::Or(o) => o.cases.iter().for_each(|p| pattern_names(p, out)),
        Pat::Reference(r) => pattern_names(&r.pat, out),
        Pat::Slice(s) => s.elems.iter().for_each(|p| pattern_names(p, out)),
        Pat::Paren(p) => pattern_names(&p.pat, out),
        Pat::Type(t) => pattern_names(&t.pat, out),
        _ => {}
    }
}

pub(super) fn rename_to(pat: &mut Pat, binds: &[(String, VarId)], vars: &[VarInfo]) {
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

pub(super) fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        e => e,
    }
}

pub(super) fn is_int_literal(e: &Expr) -> bool {
    matches!(
        strip(e),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(_),
            ..
        })
    )
}

/// A range expression (`a..b`, `..`, `a..=b`): as an index, a sub-slice.
pub(super) fn is_range(e: &Expr) -> bool {
    matches!(strip(e), Expr::Range(_))
}

pub(super) fn is_place(e: &Expr) -> bool {
    match strip(e) {
        Expr::Path(p) => p.path.get_ident().is_some(),
        Expr::Field(f) => is_place(&f.base),
        Expr::Index(i) => is_place(&i.expr),
        _ => false,
    }
}

/// An expression that may be emitted as written: no control flow, no blocks, no
/// constructs outside the subset.
pub(super) fn is_simple(e: &Expr) -> bool {
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
        // Emitted as written when nothing in it is differentiated (`x.iter().any(|v| ..)`).
        Expr::Closure(_) => true,
        _ => false,
    }
}

/// The runtime function that writes an in-place method's new version of its receiver:
/// `reverse()`, `swap(i, j)`, `fill(e)`, `copy_from_slice(src)`, and of a `Vec`
/// `extend_from_slice(src)`, `truncate(n)`, `clear()`, `insert(i, e)`, `remove(i)`,
/// `swap_remove(i)`, `resize(n, e)`.
pub(super) fn inplace_runtime_fn(m: &syn::ExprMethodCall) -> Option<&'static str> {
    Some(match (m.method.to_string().as_str(), m.args.len()) {
        ("reverse", 0) => "reversed",
        ("swap", 2) => "swapped",
        ("fill", 1) => "filled",
        ("copy_from_slice", 1) => "copied_from",
        ("extend_from_slice", 1) => "extended_from",
        ("truncate", 1) => "truncated",
        ("clear", 0) => "cleared",
        ("insert", 2) => "inserted",
        ("remove", 1) => "removed",
        ("swap_remove", 1) => "swap_removed",
        ("resize", 2) => "resized",
        _ => return None,
    })
}

/// A method that removes an element and returns it (`remove(i)`, `swap_remove(i)`): its value
/// is the element read before the new version is made.
pub(super) fn returns_removed(m: &syn::ExprMethodCall) -> bool {
    matches!(m.method.to_string().as_str(), "remove" | "swap_remove") && m.args.len() == 1
}

/// A method that changes its receiver, which the lowering writes as a new version of it:
/// `push(e)` and the in-place methods of [`inplace_runtime_fn`].
pub(super) fn is_mutating(m: &syn::ExprMethodCall) -> bool {
    (m.method == "push" && m.args.len() == 1) || inplace_runtime_fn(m).is_some()
}

/// Every name assigned to (`x = ...`, `x += ...`, `(a, b) = ...`, `v.push(e)`, ...) anywhere
/// in some statements.
pub(super) fn assigned_names(stmts: &[syn::Stmt]) -> Vec<String> {
    struct Finder(Vec<String>);
    impl Finder {
        fn target(&mut self, e: &Expr) {
            // `c[i] = e` and `p.x = e` make a new version of `c`, `p`.
            let e = match strip(e) {
                Expr::Index(i) => return self.target(&i.expr),
                Expr::Field(f) => return self.target(&f.base),
                // `(a, b) = ...`, `[a, b] = ...`.
                Expr::Tuple(t) => return t.elems.iter().for_each(|e| self.target(e)),
                Expr::Array(a) => return a.elems.iter().for_each(|e| self.target(e)),
                e => e,
            };
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
        fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
            if is_mutating(m) {
                self.target(&m.receiver);
            }
            syn::visit::visit_expr_method_call(self, m);
        }
    }
    let mut f = Finder(Vec::new());
    for s in stmts {
        syn::visit::Visit::visit_stmt(&mut f, s);
    }
    f.0
}

/// Whether an expression calls anything (so recomputing it may cost more than keeping it).
pub(super) fn has_call(e: &Expr) -> bool {
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

pub(super) fn is_comparison(op: &BinOp) -> bool {
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

pub(super) fn arith(op: &BinOp) -> Option<(&'static str, PrimKind)> {
    Some(match op {
        BinOp::Add(_) => ("Add", PrimKind::LinearBinary),
        BinOp::Sub(_) => ("Sub", PrimKind::LinearBinary),
        BinOp::Mul(_) => ("Mul", PrimKind::Bilinear),
        BinOp::Div(_) => ("Div", PrimKind::Binary),
        _ => return None,
    })
}

/// `+=` and friends: the arithmetic they do, and the operator itself.
pub(super) fn compound_op(op: &BinOp) -> Option<(&'static str, PrimKind, BinOp)> {
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

/// A runtime function whose result is not differentiated, called where a desugaring wrote
/// it: `sort_permutation` (the indices that sort a `Vec`, for `v.sort_by(cmp)`),
/// `max_position` and `min_position` (the position `max_by` / `min_by` select), `shape_like`
/// (the shape `a.map(f)` puts its items back in), `retained_positions` and `dedup_positions`
/// (the elements `retain` and `dedup` keep).
pub(super) fn is_nondiff_runtime_fn(func: &Expr) -> bool {
    const NONDIFF: &[&str] = &[
        "sort_permutation",
        "max_position",
        "min_position",
        "find_position",
        "find_position_or_end",
        "nth_position",
        "shape_like",
        "retained_positions",
        "dedup_positions",
    ];
    matches!(strip(func), Expr::Path(p)
        if p.path.segments.len() == 2
            && p.path.segments[0].ident == crate::names::runtime()
            && NONDIFF.iter().any(|n| p.path.segments[1].ident == n))
}

pub(super) fn is_stop_gradient(func: &Expr) -> bool {
    matches!(strip(func), Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == prims::STOP_GRADIENT))
}

pub(super) fn is_effect(mac: &syn::Macro) -> bool {
    mac.path
        .segments
        .last()
        .is_some_and(|s| prims::EFFECT_MACROS.contains(&s.ident.to_string().as_str()))
}

/// Identifiers a macro's tokens mention, including inline format arguments (`{x}`, `{x:?}`).
pub(super) fn collect_mentions(tokens: TokenStream, out: &mut Vec<(String, Span)>) {
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
