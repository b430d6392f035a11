//! Items in the body that name things: `const`, `static` and `use`. The derivatives are other
//! functions, so the body's items are not in their scope; the names are replaced by what
//! they stand for instead, in the block that declares them (Rust's own scope for them):
//!
//! - `const K: f64 = 2.5;` and `static K: f64 = 2.5;` → every `K` is `(2.5)` (an array
//!   length too: `[0.0; N]`);
//! - `use std::f64::consts::PI;` (also `use a::{b, c as d};`) → every path starting with
//!   `PI` starts with `std::f64::consts::PI`, in expressions and in types.
//!
//! Other items (`fn`, `struct`, a glob `use a::*`) are left for lowering to refuse.

use syn::visit_mut::{self, VisitMut};
use syn::{Expr, parse_quote};

pub fn rewrite(block: &mut syn::Block) {
    Items::default().visit_block_mut(block);
}

/// What a name stands for.
#[derive(Clone)]
enum Meaning {
    Value(Expr),
    Path(syn::Path),
}

#[derive(Default)]
struct Items {
    /// The names in scope, innermost last.
    names: Vec<(String, Meaning)>,
}

impl Items {
    fn lookup(&self, name: &syn::Ident) -> Option<&Meaning> {
        super::latest(&self.names, &name.to_string())
    }

    /// The names a `use` tree brings in, with the paths they stand for; `None` where it has
    /// a glob.
    fn use_tree(
        prefix: &mut Vec<syn::Ident>,
        tree: &syn::UseTree,
        out: &mut Vec<(String, Meaning)>,
    ) -> Option<()> {
        let path = |prefix: &[syn::Ident], last: &syn::Ident| -> syn::Path {
            let segs = prefix.iter().chain(std::iter::once(last));
            parse_quote!(#(#segs)::*)
        };
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.clone());
                let r = Self::use_tree(prefix, &p.tree, out);
                prefix.pop();
                r
            }
            syn::UseTree::Name(n) if n.ident == "self" => {
                let last = prefix.last()?.clone();
                let p = path(&prefix[..prefix.len() - 1], &last);
                out.push((last.to_string(), Meaning::Path(p)));
                Some(())
            }
            syn::UseTree::Name(n) => {
                out.push((n.ident.to_string(), Meaning::Path(path(prefix, &n.ident))));
                Some(())
            }
            syn::UseTree::Rename(r) => {
                out.push((r.rename.to_string(), Meaning::Path(path(prefix, &r.ident))));
                Some(())
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    Self::use_tree(prefix, t, out)?;
                }
                Some(())
            }
            syn::UseTree::Glob(_) => None,
        }
    }

    /// The names an item declares, if it is one this pass replaces.
    fn declared(&mut self, item: &syn::Item) -> Option<Vec<(String, Meaning)>> {
        match item {
            syn::Item::Const(c) => {
                let mut e = (*c.expr).clone();
                self.visit_expr_mut(&mut e);
                Some(vec![(
                    c.ident.to_string(),
                    Meaning::Value(parse_quote!((#e))),
                )])
            }
            syn::Item::Static(s) if matches!(s.mutability, syn::StaticMutability::None) => {
                let mut e = (*s.expr).clone();
                self.visit_expr_mut(&mut e);
                Some(vec![(
                    s.ident.to_string(),
                    Meaning::Value(parse_quote!((#e))),
                )])
            }
            syn::Item::Use(u) if u.leading_colon.is_none() => {
                let mut out = Vec::new();
                Self::use_tree(&mut Vec::new(), &u.tree, &mut out)?;
                Some(out)
            }
            _ => None,
        }
    }

    /// `path` with its first segment replaced by what it stands for.
    fn rebase(&self, path: &mut syn::Path) -> Option<Expr> {
        if path.leading_colon.is_some() {
            return None;
        }
        let first = path.segments.first()?;
        match self.lookup(&first.ident)?.clone() {
            Meaning::Value(e) if path.segments.len() == 1 => Some(e),
            Meaning::Value(_) => None,
            Meaning::Path(full) => {
                let mut segs: Vec<syn::PathSegment> = full.segments.into_iter().collect();
                if let Some(last) = segs.last_mut() {
                    last.arguments = first.arguments.clone();
                }
                segs.extend(path.segments.iter().skip(1).cloned());
                path.segments = segs.into_iter().collect();
                None
            }
        }
    }
}

impl VisitMut for Items {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        let scope = self.names.len();
        let mut kept = Vec::with_capacity(b.stmts.len());
        for stmt in std::mem::take(&mut b.stmts) {
            if let syn::Stmt::Item(item) = &stmt
                && let Some(names) = self.declared(item)
            {
                self.names.extend(names);
                continue;
            }
            kept.push(stmt);
        }
        b.stmts = kept;
        for stmt in &mut b.stmts {
            self.visit_stmt_mut(stmt);
        }
        self.names.truncate(scope);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Path(p) = e
            && p.qself.is_none()
            && let Some(value) = self.rebase(&mut p.path)
        {
            *e = value;
            return;
        }
        visit_mut::visit_expr_mut(self, e);
    }

    fn visit_type_path_mut(&mut self, t: &mut syn::TypePath) {
        if t.qself.is_none() {
            self.rebase(&mut t.path);
        }
        visit_mut::visit_type_path_mut(self, t);
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        super::visit_vec_values(self, m);
    }
}
