//! Values built from parts: array literals, `[e; n]`, `vec![..]`, struct literals and
//! nalgebra's fixed-size constructors. Each lowers to one [`Op::Build`] whose adjoint is cut
//! back into one piece per part, and whose tangent is built the same way from the parts'.
//! A value with no differentiated part is emitted as written. `a.map(f)` of an array or a
//! nalgebra matrix is its items mapped into a `Vec`, then put back in `a`'s shape.

use super::syntax::*;
use super::{Lower, unit};
use crate::diag;
use crate::ir::*;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{Expr, Token};

/// nalgebra's fixed-size matrix and vector aliases, whose `new` takes the entries in
/// row-major order.
fn is_fixed_matrix(name: &str) -> bool {
    let dims = |s: &str| {
        s.split('x')
            .all(|d| matches!(d, "1" | "2" | "3" | "4" | "5" | "6"))
    };
    ["Vector", "RowVector", "Matrix"].iter().any(|p| {
        name.strip_prefix(p)
            .is_some_and(|rest| !rest.is_empty() && dims(rest))
    }) || matches!(name, "SVector" | "SMatrix")
}

impl<'f> Lower<'f> {
    /// `a.map(f)` of a differentiated array or nalgebra matrix (the receiver is not an
    /// iterator: `desugar::iter` has rewritten every chain it knows) → `{ let src = a; let like
    /// = shape_like(&src); let g = f; let mut items = Vec::with_capacity(like.len()); for k in
    /// 0..like.len() { items.push(g(src[k])); } rebuilt(like, items) }`: a loop lowering
    /// differentiates as any, and the items put back in `a`'s shape by a runtime rule. A
    /// receiver with no such `map` (a type's own) is named by the rule's trait bound.
    pub(super) fn lower_array_map(
        &mut self,
        m: &syn::ExprMethodCall,
        out: &mut Vec<Stmt>,
    ) -> Operand {
        let rt = crate::names::runtime();
        let (recv, f) = (&m.receiver, &m.args[0]);
        let span = m.method.span();
        let src = syn::Ident::new("__grad_map_src", span);
        let g = syn::Ident::new("__grad_map_f", span);
        let items = syn::Ident::new("__grad_map_items", span);
        let k = syn::Ident::new("__grad_map_k", span);
        // A closure is bound and called (lowering inlines it); a path is called as it is.
        let (bind, call): (TokenStream, TokenStream) = match strip(f) {
            Expr::Closure(_) => (quote!(let #g = #f;), quote!(#g)),
            other => (quote!(), other.to_token_stream()),
        };
        let like = syn::Ident::new("__grad_map_like", span);
        let block: Expr = syn::parse2(quote::quote_spanned!(span=> {
            let #src = #recv;
            let #like = #rt::shape_like(&#src);
            #bind
            let mut #items = ::std::vec::Vec::with_capacity(#like.len());
            for #k in 0..#like.len() {
                #items.push(#call(#src[#k]));
            }
            #rt::rebuilt(#like, #items)
        }))
        .expect("a map's rewrite parses");
        self.lower_expr(&block, out)
    }

    /// Lowers the parts and builds: a `Build` where a part is differentiated, else the
    /// value as written over the parts.
    fn build(
        &mut self,
        kind: Build,
        parts: Vec<Operand>,
        written: impl FnOnce(&Self, &[TokenStream]) -> TokenStream,
        span: Span,
        out: &mut Vec<Stmt>,
    ) -> Operand {
        let active = parts.iter().any(|p| self.is_active(p));
        if !active {
            let toks: Vec<TokenStream> = parts.iter().map(|p| self.operand_tokens(p)).collect();
            let tokens = written(self, &toks);
            let mut uses = parts;
            uses.extend(kind.count().map(Operand::Var));
            return self.opaque_tokens(tokens, &uses, span, out);
        }
        let v = self.temp(span, true, false);
        self.push_let(out, v, Op::Build { kind, parts })
    }

    pub(super) fn lower_array(&mut self, a: &syn::ExprArray, out: &mut Vec<Stmt>) -> Operand {
        let parts = a.elems.iter().map(|e| self.lower_expr(e, out)).collect();
        self.build(Build::Array, parts, |_, p| quote!([#(#p),*]), a.span(), out)
    }

    pub(super) fn lower_repeat(&mut self, r: &syn::ExprRepeat, out: &mut Vec<Stmt>) -> Operand {
        let part = self.lower_expr(&r.expr, out);
        let n = r.len.to_token_stream();
        let count = n.clone();
        self.build(
            Build::Repeat(n),
            vec![part],
            move |_, p| {
                let p = &p[0];
                quote!([#p; #count])
            },
            r.span(),
            out,
        )
    }

    /// `vec![a, b]` and `vec![e; n]`.
    pub(super) fn lower_vec(&mut self, mac: &syn::Macro, out: &mut Vec<Stmt>) -> Operand {
        let span = mac.span();
        if let Ok(rep) = mac.parse_body_with(|input: syn::parse::ParseStream| {
            let e: Expr = input.parse()?;
            input.parse::<Token![;]>()?;
            let n: Expr = input.parse()?;
            Ok((e, n))
        }) {
            let part = self.lower_expr(&rep.0, out);
            let n = self.lower_expr(&rep.1, out);
            let count = n.clone();
            return self.build(
                Build::VecRepeat(n),
                vec![part],
                move |l, p| {
                    let (p, n) = (&p[0], l.operand_tokens(&count));
                    quote!(::std::vec![#p; #n])
                },
                span,
                out,
            );
        }
        match mac.parse_body_with(syn::punctuated::Punctuated::<Expr, Token![,]>::parse_terminated)
        {
            Ok(elems) => {
                let parts = elems.iter().map(|e| self.lower_expr(e, out)).collect();
                self.build(
                    Build::Vec,
                    parts,
                    |_, p| quote!(::std::vec![#(#p),*]),
                    span,
                    out,
                )
            }
            Err(e) => {
                self.cx.error(e.span(), diag::VEC_MACRO);
                unit()
            }
        }
    }

    pub(super) fn lower_struct(&mut self, s: &syn::ExprStruct, out: &mut Vec<Stmt>) -> Operand {
        if let Some(dots) = &s.dot2_token {
            self.cx.error_at(dots, diag::STRUCT_REST);
            return unit();
        }
        if s.qself.is_some() {
            self.cx.error_at(&s.path, diag::STRUCT_LIT);
            return unit();
        }
        let fields: Vec<syn::Member> = s.fields.iter().map(|f| f.member.clone()).collect();
        let parts = s
            .fields
            .iter()
            .map(|f| self.lower_expr(&f.expr, out))
            .collect();
        let path = s.path.clone();
        let written_path = path.clone();
        let written_fields = fields.clone();
        self.build(
            Build::Struct(path, fields),
            parts,
            move |_, p| quote!(#written_path { #(#written_fields: #p),* }),
            s.span(),
            out,
        )
    }

    /// `DVector::from_vec(v)` of a differentiated `Vec`, `Tensor::from(v)` of a differentiated
    /// `Vec` or array: the runtime's `dvector_from_vec` or `tensor_from`, whose derivatives
    /// move the entries between the two.
    pub(super) fn lower_vector_from_data(
        &mut self,
        c: &syn::ExprCall,
        out: &mut Vec<Stmt>,
    ) -> Option<Operand> {
        let Expr::Path(fp) = strip(&c.func) else {
            return None;
        };
        let segs = &fp.path.segments;
        let n = segs.len();
        let f = match (n >= 2).then(|| (&segs[n - 2].ident, &segs[n - 1].ident)) {
            Some((t, f)) if t == "DVector" && f == "from_vec" => "dvector_from_vec",
            Some((t, f)) if t == "Tensor" && f == "from" => "tensor_from",
            _ => return None,
        };
        if c.args.len() != 1 || !self.expr_active(&c.args[0]) {
            return None;
        }
        let v = self.lower_expr(&c.args[0], out);
        let arg = CallArg {
            operand: v,
            by_ref: false,
            span: c.args[0].span(),
        };
        Some(self.runtime_call(f, vec![arg], c.span(), out))
    }

    /// `x[a..b]` (any range) of a slice, `Vec` or array of floats: an owned copy of the
    /// elements, through the runtime's `sub_slice`, whose pullback puts the cotangent back
    /// at `a..b` of a zero cotangent of `x`. `&x[a..b]` borrows the copy. Of data that is
    /// not differentiated, the expression as written.
    pub(super) fn lower_sub_slice(&mut self, i: &syn::ExprIndex, out: &mut Vec<Stmt>) -> Operand {
        let Expr::Range(r) = strip(&i.index) else {
            return unit();
        };
        let base = self.lower_expr(&i.expr, out);
        let start = r.start.as_ref().map(|e| self.lower_expr(e, out));
        let end = r.end.as_ref().map(|e| self.lower_expr(e, out));
        let (a, b) = (
            start.as_ref().map(|o| self.operand_tokens(o)),
            end.as_ref().map(|o| self.operand_tokens(o)),
        );
        let limits = &r.limits;
        let bounds: Vec<Operand> = start.into_iter().chain(end).collect();
        if !self.is_active(&base) {
            let x = self.operand_tokens(&base);
            let mut uses = bounds;
            uses.push(base);
            return self.opaque_tokens(quote!(&#x[#a #limits #b]), &uses, i.span(), out);
        }
        let range = self.opaque_tokens(quote!(#a #limits #b), &bounds, r.span(), out);
        let args = vec![
            CallArg {
                operand: base,
                by_ref: true,
                span: i.expr.span(),
            },
            CallArg {
                operand: range,
                by_ref: false,
                span: r.span(),
            },
        ];
        self.runtime_call("sub_slice", args, i.span(), out)
    }

    /// `Tensor::from_vec(v, &shape).unwrap()` of differentiated data (or `.expect("..")`, or
    /// `from_slice(&v, ..)`): the runtime's `tensor_from_vec` (`tensor_from_slice`), whose
    /// derivatives move the entries between the data and the tensor. The `Result` is
    /// unwrapped where it is made, with the message written (`expect`) or `unwrap`'s.
    pub(super) fn lower_tensor_from_data(
        &mut self,
        m: &syn::ExprMethodCall,
        out: &mut Vec<Stmt>,
    ) -> Option<Operand> {
        let what: Expr = match (m.method.to_string().as_str(), m.args.len()) {
            ("unwrap", 0) => syn::parse_quote!("called `Result::unwrap()` on an `Err` value"),
            ("expect", 1) => m.args[0].clone(),
            _ => return None,
        };
        let Expr::Call(c) = strip(&m.receiver) else {
            return None;
        };
        let Expr::Path(fp) = strip(&c.func) else {
            return None;
        };
        let segs = &fp.path.segments;
        let n = segs.len();
        let runtime_fn = match segs.last().map(|s| s.ident.to_string()).as_deref() {
            Some("from_vec") => "tensor_from_vec",
            Some("from_slice") => "tensor_from_slice",
            _ => return None,
        };
        let is_it = fp.qself.is_none()
            && n >= 2
            && segs[n - 2].ident == "Tensor"
            && c.args.len() == 2
            && self.expr_active(&c.args[0]);
        if !is_it {
            return None;
        }
        let data = self.lower_call_arg(&c.args[0], out);
        let shape = self.lower_call_arg(&c.args[1], out);
        let what = self.lower_call_arg(&what, out);
        Some(self.runtime_call(runtime_fn, vec![data, shape, what], m.span(), out))
    }

    /// `Vector3::new(x, y, z)`, `Matrix2::from_row_slice(&[..])`: a nalgebra fixed-size
    /// constructor, if the call is one.
    pub(super) fn lower_matrix_ctor(
        &mut self,
        c: &syn::ExprCall,
        out: &mut Vec<Stmt>,
    ) -> Option<Operand> {
        let Expr::Path(fp) = strip(&c.func) else {
            return None;
        };
        let segs = &fp.path.segments;
        if segs.len() < 2 || fp.qself.is_some() {
            return None;
        }
        let ty = segs[segs.len() - 2].ident.to_string();
        let ctor = segs[segs.len() - 1].ident.to_string();
        if !is_fixed_matrix(&ty) {
            return None;
        }
        let (column_major, slice) = match ctor.as_str() {
            "new" => (false, false),
            "from_row_slice" => (false, true),
            "from_column_slice" => (true, true),
            _ => return None,
        };
        let elems: Vec<&Expr> = if slice {
            // The slice must be written out (`&[a, b, ..]`) for its parts to be known.
            match c.args.iter().next().map(strip) {
                Some(Expr::Reference(r)) if c.args.len() == 1 => match strip(&r.expr) {
                    Expr::Array(a) => a.elems.iter().collect(),
                    _ => return None,
                },
                _ => return None,
            }
        } else {
            c.args.iter().collect()
        };
        if !elems.iter().any(|e| self.expr_active(e)) {
            return None;
        }
        let parts = elems.iter().map(|e| self.lower_expr(e, out)).collect();
        let path = fp.path.clone();
        let written = path.clone();
        Some(self.build(
            Build::Matrix {
                ctor: path,
                column_major,
                slice,
            },
            parts,
            move |_, p| {
                if slice {
                    quote!(#written(&[#(#p),*]))
                } else {
                    quote!(#written(#(#p),*))
                }
            },
            c.span(),
            out,
        ))
    }
}
