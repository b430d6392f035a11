//! What reverse and forward emission share: how a value, an operand, a primitive's marker
//! and a call's target are written.

use crate::ast::Function;
use crate::ir::*;
use crate::names;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::Ident;

pub struct Emit<'a> {
    pub f: &'a Function,
    pub func: &'a Func,
    /// `#krate::__private`.
    pub rt: TokenStream,
    /// For a value made by `&x` of a local: `x`. Rule calls read `&x` directly, so that a
    /// pullback never captures a reference to the forward sweep's locals.
    pub borrow_of: Vec<Option<VarId>>,
    /// For a value made by `&local.f[i]`: the place, re-borrowed where a rule reads it, for
    /// the same reason.
    pub reborrow: Vec<Option<(VarId, Vec<Proj>)>>,
    /// For an array of references (`[&a, &b]`, see [`Func::ref_array_parts`]): its parts,
    /// which rule calls read again in place of the array.
    pub ref_arrays: Vec<Option<Vec<VarId>>>,
    /// In the boxed `_vjp` helper of a function that calls itself: the helper, which its
    /// recursive calls call (see `recursion`).
    pub self_vjp: Option<Ident>,
}

/// The referent of every `Borrow`, the place of every borrowed projection of a local, and the
/// parts of every array of references, in a block, by the borrowing value.
pub fn borrows(
    func: &Func,
    b: &Block,
    out: &mut Vec<Option<VarId>>,
    places: &mut Vec<Option<(VarId, Vec<Proj>)>>,
    arrays: &mut Vec<Option<Vec<VarId>>>,
) {
    for s in &b.stmts {
        match s {
            Stmt::Let { var, op } if func.ref_array_parts(op).is_some() => {
                arrays[*var] = func.ref_array_parts(op);
            }
            Stmt::Let {
                var,
                op: Op::Borrow(x),
            } => out[*var] = Some(*x),
            Stmt::Let {
                var,
                op:
                    Op::Project {
                        base,
                        path,
                        borrow: true,
                    },
                // A place of a local, or of a parameter owned by the function (`x: Vec<f64>`,
                // `x: [f64; 3]`): a pullback that moved the owner cannot also keep a borrow of it.
            } if func.vars[*base].param.is_none() || !func.vars[*base].is_ref => {
                places[*var] = Some((*base, path.clone()))
            }
            // An alias of a borrow (`stop_gradient(&a)`) is the same borrow.
            Stmt::Let {
                var,
                op: Op::Use(Operand::Var(x)),
            } => {
                out[*var] = out[*x];
                places[*var] = places[*x].clone();
                arrays[*var] = arrays[*x].clone();
            }
            Stmt::Let { .. } | Stmt::Effect { .. } => {}
            Stmt::If { arms, .. } => arms
                .iter()
                .for_each(|a| borrows(func, a, out, places, arrays)),
            Stmt::Match { arms, .. } => arms
                .iter()
                .for_each(|a| borrows(func, &a.body, out, places, arrays)),
            Stmt::For { body, .. } => borrows(func, body, out, places, arrays),
            Stmt::While {
                cond_block, body, ..
            } => {
                borrows(func, cond_block, out, places, arrays);
                borrows(func, body, out, places, arrays);
            }
        }
    }
}

impl Emit<'_> {
    pub fn info(&self, v: VarId) -> &VarInfo {
        &self.func.vars[v]
    }

    pub fn active(&self, v: VarId) -> bool {
        self.func.vars[v].active
    }

    pub fn operand_active(&self, o: &Operand) -> bool {
        o.var().is_some_and(|v| self.active(v))
    }

    /// The identifier of a value (a parameter keeps its own name).
    pub fn name(&self, v: VarId) -> Ident {
        let info = self.info(v);
        match info.param {
            Some(i) => self.f.params[i].name.clone(),
            None => names::value(info, v),
        }
    }

    /// An operand as a value expression.
    pub fn val(&self, o: &Operand) -> TokenStream {
        match o {
            Operand::Var(v) => self.name(*v).to_token_stream(),
            Operand::Const(c) => c.clone(),
        }
    }

    /// Whether `v` was made by borrowing a local (`&h`, `&h.0[i]`): such a value is taken
    /// again from the local wherever it is passed on.
    fn borrows_local(&self, v: VarId) -> bool {
        self.borrow_of[v].is_some() || self.reborrow[v].is_some()
    }

    /// The parts of an array of references, which `v` is or borrows.
    pub fn ref_array(&self, v: VarId) -> Option<&[VarId]> {
        let a = self.borrow_of[v].unwrap_or(v);
        self.ref_arrays[a].as_deref()
    }

    /// An operand by reference (a value that holds a reference is passed as it is; an array of
    /// references is written again from its parts).
    pub fn by_ref(&self, o: &Operand) -> TokenStream {
        match o {
            Operand::Var(v) if self.ref_array(*v).is_some() => {
                let parts = self.ref_array(*v).unwrap_or_default();
                let p = parts.iter().map(|&p| self.var_ref(p));
                quote!(&[#(#p),*])
            }
            Operand::Var(v) if self.borrow_of[*v].is_some() => {
                self.var_ref(self.borrow_of[*v].unwrap_or(*v))
            }
            Operand::Var(v) if self.reborrow[*v].is_some() => {
                let (base, path) = self.reborrow[*v].clone().unwrap_or_default();
                let b = self.name(self.borrow_of[base].unwrap_or(base));
                let p = self.path(&path);
                quote!(&#b #p)
            }
            Operand::Var(v) if self.info(*v).is_ref => self.name(*v).to_token_stream(),
            Operand::Var(v) => {
                let n = self.name(*v);
                quote!(&#n)
            }
            Operand::Const(c) => quote!(&#c),
        }
    }

    pub fn var_ref(&self, v: VarId) -> TokenStream {
        self.by_ref(&Operand::Var(v))
    }

    /// A clone of a value (for values used again later; free for scalars).
    pub fn cloned(&self, o: &Operand) -> TokenStream {
        match o {
            // A reference is copied; one to a local's place is taken again from the local.
            Operand::Var(v) if self.info(*v).is_ref => self.by_ref(o),
            Operand::Var(_) => {
                let r = self.by_ref(o);
                quote!(::core::clone::Clone::clone(#r))
            }
            Operand::Const(c) => c.clone(),
        }
    }

    /// The marker value of a primitive: `__private::op::Powi(n)`.
    pub fn marker(&self, prim: &Prim, span: Span) -> TokenStream {
        let rt = &self.rt;
        let m = Ident::new(prim.marker, span);
        if let Some(g) = &prim.generic {
            return quote_spanned!(span=> #rt::op::#m::<#g>::OP);
        }
        if prim.extra.is_empty() {
            quote_spanned!(span=> #rt::op::#m)
        } else {
            // `reshape(&[2, 3])` gives its marker an owned shape.
            let owned = prim.marker == "Reshape";
            let extra: Vec<TokenStream> = prim
                .extra
                .iter()
                .map(|e| {
                    let v = self.val(e);
                    if owned {
                        quote!(::core::convert::Into::into(#v))
                    } else {
                        v
                    }
                })
                .collect();
            quote_spanned!(span=> #rt::op::#m(#(#extra),*))
        }
    }

    /// `&shape_of(x)`.
    pub fn shape(&self, o: &Operand, saved_shapes: &[VarId]) -> TokenStream {
        if let Operand::Var(v) = o
            && saved_shapes.contains(v)
        {
            let s = names::shape(self.info(*v), *v);
            return quote!(&#s);
        }
        let rt = &self.rt;
        let r = self.by_ref(o);
        quote!(&#rt::shape_of(#r))
    }

    /// The forward computation of a `let` (not a call), as an expression.
    pub fn fwd_expr(&self, op: &Op) -> TokenStream {
        match op {
            Op::Use(o) => self.cloned(o),
            Op::Opaque { tokens, .. } => tokens.clone(),
            Op::Prim { prim, args, span } => {
                let m = self.marker(prim, *span);
                let a: Vec<TokenStream> = args.iter().map(|a| self.by_ref(a)).collect();
                quote_spanned!(*span=> #m.fwd(#(#a),*))
            }
            Op::Project { base, path, borrow } => {
                // A place of a borrowed local (`w[k]` of `let w = &v`) is read from the local
                // itself: the reverse sweep of a loop has the local, never the borrow.
                let b = self.name(self.borrow_of[*base].unwrap_or(*base));
                let p = self.path(path);
                if *borrow {
                    quote!(&#b #p)
                } else {
                    // A read out of a place copies (or, for a tensor, clones) the element.
                    quote!(::core::clone::Clone::clone(&#b #p))
                }
            }
            Op::Borrow(v) => {
                let n = self.name(*v);
                quote!(&#n)
            }
            Op::Deref(v) => {
                // `*v` for a `Copy` value; a clone for any other (a `Tensor`, a `DVector`).
                let n = self.var_ref(*v);
                quote!(::core::clone::Clone::clone(#n))
            }
            Op::Build { kind, parts } => {
                let e: Vec<TokenStream> = parts.iter().map(|e| self.cloned(e)).collect();
                self.build(kind, &e, false)
            }
            Op::Call { .. } => quote!(()),
            Op::Write {
                base,
                path,
                value,
                push,
                moves,
            } => {
                let b = if *moves {
                    self.name(*base).to_token_stream()
                } else {
                    self.cloned(&Operand::Var(*base))
                };
                self.written(b, path, *push, self.cloned(value))
            }
        }
    }

    /// `base` with `value` written at `path`, or pushed: the forward of [`Op::Write`], and
    /// its tangent over the base's tangent.
    pub fn written(
        &self,
        base: TokenStream,
        path: &[Proj],
        push: bool,
        value: TokenStream,
    ) -> TokenStream {
        let w = names::aux("written", 0);
        if push {
            quote!({ let mut #w = #base; #w.push(#value); #w })
        } else {
            let p = self.path(path);
            quote!({ let mut #w = #base; #w #p = #value; #w })
        }
    }

    /// A value built from `parts` (values, or tangents for the tangent of the value).
    pub fn build(&self, kind: &Build, parts: &[TokenStream], tangent: bool) -> TokenStream {
        match kind {
            Build::Tuple => quote!((#(#parts,)*)),
            Build::Array => quote!([#(#parts),*]),
            Build::Repeat(n) => {
                let p = &parts[0];
                quote!([#p; #n])
            }
            Build::Vec => quote!(::std::vec![#(#parts),*]),
            Build::VecRepeat(n) => {
                let (p, n) = (&parts[0], self.val(n));
                quote!(::std::vec![#p; #n])
            }
            Build::Struct(path, fields) => {
                let path = if tangent {
                    crate::names::tangent_struct(path)
                } else {
                    path.clone()
                };
                quote!(#path { #(#fields: #parts),* })
            }
            Build::Matrix { ctor, slice, .. } => {
                if *slice {
                    quote!(#ctor(&[#(#parts),*]))
                } else {
                    quote!(#ctor(#(#parts),*))
                }
            }
        }
    }

    /// A `for` loop's range as the user wrote it, over its evaluated bounds.
    pub fn range(&self, r: &RangeSpec) -> TokenStream {
        let (lo, hi) = (self.val(&r.lo), self.val(&r.hi));
        let mut t = if r.inclusive {
            quote!((#lo..=#hi))
        } else {
            quote!((#lo..#hi))
        };
        for op in &r.ops {
            t = match op {
                RangeOp::Rev => quote!(#t.rev()),
                RangeOp::StepBy(k) => {
                    let k = self.val(k);
                    quote!(#t.step_by(#k))
                }
            };
        }
        t
    }

    /// `.f[i]...`
    pub fn path(&self, path: &[Proj]) -> TokenStream {
        path.iter()
            .map(|p| match p {
                Proj::Field(m) => quote!(.#m),
                Proj::Index(i) => {
                    let i = self.val(i);
                    quote!([#i])
                }
            })
            .collect()
    }

    /// A call of `callee` with `_vjp` or `_jvp` appended (`g_vjp(args)`, `recv.m_vjp(args)`),
    /// or of the primal itself when `suffix` is empty.
    pub fn call(
        &self,
        callee: &Callee,
        args: &[CallArg],
        suffix: &str,
        extra: &[TokenStream],
        span: Span,
    ) -> TokenStream {
        // By value, an argument is cloned: the adjoint may still read it (free for scalars).
        // A value made by `&local` is re-borrowed from the local, which is what a reverse
        // sweep that calls again has kept.
        let arg = |a: &CallArg| match a.operand {
            Operand::Var(v) if a.by_ref && self.ref_array(v).is_some() => self.by_ref(&a.operand),
            _ if a.by_ref => {
                let t = self.val(&a.operand);
                quote!(&#t)
            }
            Operand::Var(v) if self.borrows_local(v) => self.by_ref(&a.operand),
            _ => self.cloned(&a.operand),
        };
        match callee {
            Callee::Path(path) => {
                let mut path = path.clone();
                if let Some(last) = path.segments.last_mut()
                    && !suffix.is_empty()
                {
                    last.ident = self.suffixed(&last.ident, callee, args, suffix);
                }
                let a: Vec<TokenStream> = args.iter().map(arg).collect();
                quote_spanned!(span=> #path(#(#a,)* #(#extra),*))
            }
            Callee::Fused(fused) if suffix.is_empty() => self.fused(fused, args, None, false),
            // Only `_grad` and `_vjp` fuse, and their reverse sweep calls `fused` itself.
            Callee::Fused(_) => quote_spanned!(span=> ::core::compile_error!(
                "internal error of #[differentiable]: a fused region outside the reverse sweep"
            )),
            Callee::Method(m) => {
                let m = if suffix.is_empty() {
                    m.clone()
                } else {
                    self.suffixed(m, callee, args, suffix)
                };
                let recv = match args[0].operand {
                    Operand::Var(v) if self.borrows_local(v) => {
                        let r = self.by_ref(&args[0].operand);
                        quote!((#r))
                    }
                    _ => self.val(&args[0].operand),
                };
                let a: Vec<TokenStream> = args[1..].iter().map(arg).collect();
                quote_spanned!(span=> #recv.#m(#(#a,)* #(#extra),*))
            }
        }
    }

    /// A fused region's value (`dy: None`), or its inputs' cotangents given the result's
    /// `dy`, or (`both`, a sum or mean) the value and the cotangents in one loop: the
    /// runtime's `fuse` loops over the kernel, each input lent as an operator's operand is,
    /// one that is not differentiated wrapped in `fuse::Data`.
    pub fn fused(
        &self,
        f: &Fused,
        args: &[CallArg],
        dy: Option<TokenStream>,
        both: bool,
    ) -> TokenStream {
        let rt = &self.rt;
        let a = args.iter().map(|a| {
            let x = self.by_ref(&a.operand);
            match a.operand {
                Operand::Var(v) if self.active(v) => x,
                _ => quote!(#rt::fuse::Data(#x)),
            }
        });
        let (kernel, name) = (&f.kernel, &f.name);
        let which = match (f.fold, dy.is_some()) {
            (Fold::Sum, true) if both => "fwd_bwd_sum",
            (Fold::Mean, true) if both => "fwd_bwd_mean",
            (Fold::None, false) => "fwd",
            (Fold::Sum, false) => "fwd_sum",
            (Fold::Mean, false) => "fwd_mean",
            (Fold::None, true) => "bwd",
            (Fold::Sum, true) => "bwd_sum",
            (Fold::Mean, true) => "bwd_mean",
        };
        let which = Ident::new(which, Span::call_site());
        let dy = dy.map(|d| quote!(, #d));
        quote!(#rt::fuse::#which(&#kernel, #name, (#(#a,)*) #dy))
    }

    /// The branch-record enum of `n` arms: `__GradArms2::A1(saved)`.
    pub fn arm_enum(n: usize) -> Ident {
        names::local(format!("__GradArms{n}"), Span::call_site())
    }

    pub fn arm_variant(k: usize) -> Ident {
        format_ident!("A{}", k)
    }

    /// The definition of the branch-record enum of `n` arms.
    pub fn arm_enum_def(n: usize) -> TokenStream {
        let name = Self::arm_enum(n);
        let params: Vec<Ident> = (0..n).map(|k| format_ident!("T{}", k)).collect();
        let variants: Vec<Ident> = (0..n).map(Self::arm_variant).collect();
        quote!(enum #name<#(#params),*> { #(#variants(#params)),* })
    }
}

/// Branch-record arities used in a block (for the enum definitions).
pub fn arm_arities(b: &Block, out: &mut Vec<usize>) {
    for s in &b.stmts {
        match s {
            Stmt::If { arms, .. } => {
                if !out.contains(&arms.len()) {
                    out.push(arms.len());
                }
                arms.iter().for_each(|a| arm_arities(a, out));
            }
            Stmt::Match { arms, .. } => {
                if !out.contains(&arms.len()) {
                    out.push(arms.len());
                }
                arms.iter().for_each(|a| arm_arities(&a.body, out));
            }
            Stmt::For { body, .. } => arm_arities(body, out),
            Stmt::While {
                cond_block, body, ..
            } => {
                arm_arities(cond_block, out);
                arm_arities(body, out);
            }
            Stmt::Let { .. } | Stmt::Effect { .. } => {}
        }
    }
}

/// The user's names an effect mentions, bound to clones of their values.
pub fn effect(e: &Emit<'_>, tokens: &TokenStream, binds: &[(Ident, VarId)]) -> TokenStream {
    let lets = binds.iter().map(|(user, v)| {
        let r = e.var_ref(*v);
        quote!(#[allow(unused_variables)] let #user = ::core::clone::Clone::clone(#r);)
    });
    quote!({ #(#lets)* #tokens; })
}

/// Every value defined inside a block (at any depth), to tell a branch's own values (moved
/// out at its end) from outer ones (cloned).
pub fn defined_in(func: &Func, b: &Block) -> Vec<VarId> {
    let an = crate::activity::Analysis::new(func);
    let mut out = Vec::new();
    for s in &b.stmts {
        an.defined_inside(s, &mut out);
    }
    out
}

/// A value leaving a block: moved if the block made it, cloned otherwise.
pub fn leaving(e: &Emit<'_>, o: &Operand, inside: &[VarId]) -> TokenStream {
    match o {
        Operand::Var(v) if inside.contains(v) => e.val(o),
        _ => e.cloned(o),
    }
}
