//! Forward mode: each statement's tangent is written right after it.

use crate::emit::{Emit, effect};
use crate::ir::*;
use crate::names;
use crate::pairs::Pairs;
use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::Ident;

pub struct Fwd<'a> {
    pub e: Emit<'a>,
    /// The tangent of each active value, once written.
    tan: Vec<Option<Ident>>,
    /// Tangents that hold a reference (`&[f64]` parameters, `&place`).
    tan_ref: Vec<bool>,
    /// Values whose tangent something reads: only those get one (an integer field of a
    /// differentiated struct used as an index never needs a tangent).
    need: Vec<bool>,
    /// `sin x` and `cos x` computed together (see `pairs`).
    pairs: Pairs,
}

impl<'a> Fwd<'a> {
    pub fn new(e: Emit<'a>) -> Self {
        let n = e.func.vars.len();
        let need = needed_tangents(e.func);
        Fwd {
            pairs: Pairs::of(e.func),
            e,
            tan: vec![None; n],
            tan_ref: vec![false; n],
            need,
        }
    }

    /// A parameter whose type is syntactically never differentiated.
    fn inactive_typed(&self, v: VarId) -> bool {
        self.e.info(v).param.is_some_and(|i| {
            let p = &self.e.f.params[i];
            !p.is_self && crate::ast::form_is_inactive(&p.form)
        })
    }

    /// Active and read by something that needs its tangent.
    fn wants(&self, v: VarId) -> bool {
        self.e.active(v) && self.need[v]
    }

    /// Gives a parameter its tangent argument.
    pub fn seed(&mut self, v: VarId, name: Ident, is_ref: bool) {
        self.tan[v] = Some(name);
        self.tan_ref[v] = is_ref;
    }

    fn tname(&self, v: VarId) -> Ident {
        self.tan[v]
            .clone()
            .unwrap_or_else(|| names::deriv(self.e.info(v), v))
    }

    /// An operand's tangent by reference.
    fn tref(&self, o: &Operand) -> TokenStream {
        let rt = &self.e.rt;
        match o {
            Operand::Var(v) if self.e.active(*v) => {
                let t = self.tname(*v);
                if self.tan_ref[*v] {
                    t.to_token_stream()
                } else {
                    quote!(&#t)
                }
            }
            _ => {
                let r = self.e.by_ref(o);
                quote!(&#rt::zero_tangent(#r))
            }
        }
    }

    /// An operand's tangent as an owned value (zero for a constant).
    pub fn tval(&self, o: &Operand) -> TokenStream {
        let rt = &self.e.rt;
        match o {
            Operand::Var(v) if self.e.active(*v) => {
                let t = self.tname(*v);
                if self.tan_ref[*v] {
                    quote!(::core::clone::Clone::clone(#t))
                } else {
                    quote!(::core::clone::Clone::clone(&#t))
                }
            }
            _ => {
                let r = self.e.by_ref(o);
                quote!(#rt::zero_tangent(#r))
            }
        }
    }

    pub fn block(&mut self, b: &Block, out: &mut TokenStream) {
        for s in &b.stmts {
            self.stmt(s, out);
        }
    }

    fn define(&mut self, v: VarId, value: TokenStream, is_ref: bool, out: &mut TokenStream) {
        let d = names::deriv(self.e.info(v), v);
        out.extend(quote!(let #d = #value;));
        self.tan[v] = Some(d);
        self.tan_ref[v] = is_ref;
    }

    fn let_(&mut self, var: VarId, op: &Op, out: &mut TokenStream) {
        let name = self.e.name(var);
        let rt = self.e.rt.clone();
        if let Op::Call { callee, args, span } = op {
            let targs: Vec<TokenStream> = args
                .iter()
                .map(|a| match &a.operand {
                    Operand::Var(v) if self.e.active(*v) => {
                        let t = self.tname(*v);
                        match (a.by_ref, self.tan_ref[*v]) {
                            (true, false) => quote!(&#t),
                            _ => t.to_token_stream(),
                        }
                    }
                    // A constant argument: `NoTangent` where its type can never be
                    // differentiated (an integer or `&[usize]` parameter), else a zero
                    // tangent, by reference where the argument is one (and `NoTangent`
                    // where the callee does not differentiate that parameter).
                    Operand::Var(v) if self.inactive_typed(*v) => quote!(#rt::NoTangent),
                    o if a.by_ref || o.var().is_some_and(|v| self.e.info(v).is_ref) => {
                        let r = self.e.by_ref(o);
                        quote!(#rt::inactive_ref(&#rt::zero_tangent(#r)))
                    }
                    o => {
                        let r = self.e.by_ref(o);
                        quote!(#rt::inactive_tangent(#r))
                    }
                })
                .collect();
            let call = self.e.call(callee, args, "jvp", &targs, *span);
            let d = names::deriv(self.e.info(var), var);
            out.extend(quote!(let (#name, #d) = #call;));
            self.tan[var] = Some(d);
            return;
        }
        // `sin x` and `cos x`: both at the first of the two, in one evaluation; each one's
        // tangent from the other's value.
        let partner = self.pairs.partner(var);
        if let (Some(p), Op::Prim { prim, args, .. }) = (partner, op) {
            let sin = prim.marker == "Sin";
            if self.pairs.is_first(var) {
                let other = self.e.name(p);
                let (s, c) = if sin {
                    (&name, &other)
                } else {
                    (&other, &name)
                };
                let x = self.e.by_ref(&args[0]);
                out.extend(quote!(let (#s, #c) = #rt::sin_cos(#x);));
            }
            if self.wants(var) && self.e.operand_active(&args[0]) {
                let dx = self.tref(&args[0]);
                let pv = self.e.var_ref(p);
                let f = if sin {
                    quote!(sin_jvp_by_cos)
                } else {
                    quote!(cos_jvp_by_sin)
                };
                self.define(var, quote!(#rt::#f(#pv, #dx)), false, out);
            }
            return;
        }
        let x = self.e.fwd_expr(op);
        out.extend(quote!(let #name = #x;));
        if !self.wants(var) {
            return;
        }
        match op {
            Op::Use(o) => {
                // A reference's tangent is passed on as the reference it is.
                let by_ref = o.var().is_some_and(|v| self.tan_ref[v]);
                let t = if by_ref {
                    self.tname(o.var().unwrap_or(var)).to_token_stream()
                } else {
                    self.tval(o)
                };
                self.define(var, t, by_ref, out);
            }
            Op::Borrow(x) => {
                let t = self.tref(&Operand::Var(*x));
                self.define(var, t, true, out);
            }
            Op::Deref(x) => {
                let t = self.tval(&Operand::Var(*x));
                self.define(var, t, false, out);
            }
            Op::Project { base, path, borrow } => {
                let t = self.tname(*base);
                let p = self.e.path(path);
                let t = if *borrow {
                    quote!(&#t #p)
                } else if let Some(Proj::Field(syn::Member::Named(_))) = path.last() {
                    // A `#[no_grad]` field's tangent is `()`: it moves with a zero of its
                    // value's type instead (`fields.rs` in the runtime). Named fields only:
                    // a tuple's `.0` may have a tangent whose type is not inferred yet, which
                    // the choice by auto-reference would take for `()`.
                    let x = self.e.name(*base);
                    quote!({
                        use #rt::{NoGradFieldTangent as _, TangentField as _};
                        (&#rt::FieldTangent(&#t #p, &#x #p)).get()
                    })
                } else {
                    quote!(::core::clone::Clone::clone(&#t #p))
                };
                self.define(var, t, *borrow, out);
            }
            Op::Build { kind, parts } => {
                // An array of references holds its parts' tangents by reference, as the callee
                // that takes it (`Tensor::cat_jvp`) takes them.
                let refs = self.e.ref_arrays[var].is_some();
                let t: Vec<TokenStream> = parts
                    .iter()
                    .map(|e| if refs { self.tref(e) } else { self.tval(e) })
                    .collect();
                let t = self.e.build(kind, &t, true);
                self.define(var, t, false, out);
            }
            Op::Prim { prim, args, span } => {
                let m = self.e.marker(prim, *span);
                let y = self.e.var_ref(var);
                let mut terms = Vec::new();
                for k in 0..args.len() {
                    if !self.e.operand_active(&args[k]) {
                        continue;
                    }
                    let dk = self.tref(&args[k]);
                    terms.push(match prim.kind {
                        PrimKind::Unary => {
                            let x = self.e.by_ref(&args[0]);
                            quote!(#m.jvp(#x, #y, #dk))
                        }
                        PrimKind::Binary | PrimKind::Bilinear => {
                            let (a, b) = (self.e.by_ref(&args[0]), self.e.by_ref(&args[1]));
                            let f = format_ident!("jvp_{}", k);
                            quote!(#m.#f(#a, #b, #y, #dk))
                        }
                        PrimKind::Linear => {
                            let x = self.e.shape(&args[0], &[]);
                            quote!(#m.jvp(#x, #dk))
                        }
                        PrimKind::LinearBinary => {
                            let a = self.e.shape(&args[0], &[]);
                            let b = self.e.shape(&args[1], &[]);
                            let f = format_ident!("jvp_{}", k);
                            quote!(#m.#f(#a, #b, #dk))
                        }
                    });
                }
                let mut sum = terms.remove(0);
                for t in terms {
                    sum = quote!(#rt::tangent_sum(#sum, #t));
                }
                self.define(var, sum, false, out);
            }
            Op::Write {
                base,
                path,
                value,
                push,
                moves,
            } => {
                // The base's tangent with the written place's set: moved where the base is. A
                // constant base (perhaps moved into the new version) has zeros of the new
                // version's shape.
                let tv = self.tval(value);
                let w = names::aux("written", 0);
                let p = self.e.path(path);
                let t = if !self.e.active(*base) {
                    let zeros = {
                        let r = self.e.var_ref(var);
                        quote!(#rt::zero_tangent(#r))
                    };
                    if *push {
                        quote!({ let mut #w = #zeros; let __grad_last = #w.len() - 1; #w[__grad_last] = #tv; #w })
                    } else {
                        quote!({ let mut #w = #zeros; #w #p = #tv; #w })
                    }
                } else {
                    let tb = if *moves && !self.tan_ref[*base] {
                        self.tname(*base).to_token_stream()
                    } else {
                        self.tval(&Operand::Var(*base))
                    };
                    self.e.written(tb, path, *push, tv)
                };
                self.define(var, t, false, out);
            }
            Op::Opaque { .. } | Op::Call { .. } => {}
        }
    }

    fn stmt(&mut self, s: &Stmt, out: &mut TokenStream) {
        match s {
            Stmt::Let { var, op } => self.let_(*var, op, out),
            Stmt::Effect { tokens, binds } => out.extend(effect(&self.e, tokens, binds)),
            Stmt::If {
                cond, arms, outs, ..
            } => {
                let c = self.e.val(cond);
                let then = self.arm(&arms[0], 0, outs);
                let els = self.arm(&arms[1], 1, outs);
                let lhs = self.phi_lhs(outs);
                out.extend(quote!(let #lhs = if #c { #then } else { #els };));
            }
            Stmt::Match {
                scrutinee,
                arms,
                outs,
                ..
            } => {
                let cases: Vec<TokenStream> = arms
                    .iter()
                    .enumerate()
                    .map(|(k, a)| {
                        let body = self.arm(&a.body, k, outs);
                        let pat = &a.pat;
                        quote!(#pat => { #body })
                    })
                    .collect();
                let lhs = self.phi_lhs(outs);
                out.extend(quote!(let #lhs = match #scrutinee { #(#cases)* };));
            }
            Stmt::For {
                index,
                range,
                body,
                carried,
                ..
            } => {
                let idx = match index {
                    Some(i) => self.e.name(*i).to_token_stream(),
                    None => quote!(_),
                };
                let r = self.e.range(range);
                let (decl, take, finish) = self.carried(carried);
                let mut b = TokenStream::new();
                self.block(body, &mut b);
                let give = self.give(carried, body);
                out.extend(quote! {
                    #decl
                    for #idx in #r { #take #b #give }
                    #finish
                });
            }
            Stmt::While {
                cond_block,
                cond,
                body,
                carried,
                ..
            } => {
                let (decl, take, finish) = self.carried(carried);
                let mut cb = TokenStream::new();
                self.block(cond_block, &mut cb);
                let c = self.e.val(cond);
                let restore = self.restore(carried);
                let mut b = TokenStream::new();
                self.block(body, &mut b);
                let give = self.give(carried, body);
                out.extend(quote! {
                    #decl
                    loop {
                        #take
                        #cb
                        if !(#c) { #restore break; }
                        #b
                        #give
                    }
                    #finish
                });
            }
        }
    }

    fn arm(&mut self, b: &Block, k: usize, outs: &[Phi]) -> TokenStream {
        let mut body = TokenStream::new();
        self.block(b, &mut body);
        let mut vals = Vec::new();
        let inside = crate::emit::defined_in(self.e.func, b);
        // Tangents first: a constant's zero tangent reads the value that then moves out.
        for (i, p) in outs.iter().enumerate() {
            if self.wants(p.out) {
                let d = names::aux("phi_tangent", i);
                let t = self.tval(&p.sources[k]);
                body.extend(quote!(let #d = #t;));
            }
        }
        for (i, p) in outs.iter().enumerate() {
            vals.push(crate::emit::leaving(&self.e, &p.sources[k], &inside));
            if self.wants(p.out) {
                vals.push(names::aux("phi_tangent", i).to_token_stream());
            }
        }
        quote!(#body (#(#vals,)*))
    }

    fn phi_lhs(&mut self, outs: &[Phi]) -> TokenStream {
        let mut names = Vec::new();
        for p in outs {
            names.push(self.e.name(p.out));
            if self.wants(p.out) {
                let d = names::deriv(self.e.info(p.out), p.out);
                self.tan[p.out] = Some(d.clone());
                names.push(d);
            }
        }
        quote!((#(#names,)*))
    }

    fn mut_names(&self, c: &Carried) -> (Ident, Ident) {
        let info = self.e.info(c.out);
        (
            names::local(format!("__grad_{}_mut_{}", info.hint, c.out), info.span),
            names::local(format!("__grad_d_{}_mut_{}", info.hint, c.out), info.span),
        )
    }

    fn carried(&mut self, carried: &[Carried]) -> (TokenStream, TokenStream, TokenStream) {
        let (mut decl, mut take, mut finish) =
            (TokenStream::new(), TokenStream::new(), TokenStream::new());
        for c in carried {
            let (m, dm) = self.mut_names(c);
            let init = self.e.cloned(&c.init);
            let inner = self.e.name(c.inner);
            let out = self.e.name(c.out);
            decl.extend(quote!(let mut #m = #init;));
            take.extend(quote!(let #inner = #m;));
            finish.extend(quote!(let #out = #m;));
            if self.wants(c.out) {
                let dinit = self.tval(&c.init);
                let di = names::deriv(self.e.info(c.inner), c.inner);
                let dout = names::deriv(self.e.info(c.out), c.out);
                decl.extend(quote!(let mut #dm = #dinit;));
                take.extend(quote!(let #di = #dm;));
                finish.extend(quote!(let #dout = #dm;));
                self.tan[c.inner] = Some(di);
                self.tan[c.out] = Some(dout);
            }
        }
        (decl, take, finish)
    }

    fn give(&self, carried: &[Carried], body: &Block) -> TokenStream {
        let inside = crate::emit::defined_in(self.e.func, body);
        let mut t = TokenStream::new();
        for c in carried {
            let (m, dm) = self.mut_names(c);
            let next = crate::emit::leaving(&self.e, &c.next, &inside);
            // The tangent first: a constant's zero tangent reads the value that then moves.
            // A tangent made in this iteration, and carried by this variable alone, moves
            // (a copy per iteration would cost a whole row for a written `Vec`).
            if self.wants(c.out) {
                let dn = match c.next {
                    Operand::Var(v)
                        if inside.contains(&v)
                            && self.e.active(v)
                            && !self.tan_ref[v]
                            && self.tan[v].is_some()
                            && carried.iter().filter(|d| d.next.var() == Some(v)).count() == 1 =>
                    {
                        self.tname(v).to_token_stream()
                    }
                    _ => self.tval(&c.next),
                };
                t.extend(quote!(#dm = #dn;));
            }
            t.extend(quote!(#m = #next;));
        }
        t
    }

    fn restore(&self, carried: &[Carried]) -> TokenStream {
        let mut t = TokenStream::new();
        for c in carried {
            let (m, dm) = self.mut_names(c);
            let inner = self.e.name(c.inner);
            t.extend(quote!(#m = #inner;));
            if self.wants(c.out) {
                let di = self.tname(c.inner);
                t.extend(quote!(#dm = #di;));
            }
        }
        t
    }
}

/// Which values need a tangent: the result, and, backwards, whatever a needed tangent is
/// computed from (calls pass tangents for all their active arguments). Iterated to a fixed
/// point through loops.
fn needed_tangents(func: &Func) -> Vec<bool> {
    let mut need = vec![false; func.vars.len()];
    if let Operand::Var(r) = func.ret {
        need[r] = true;
    }
    loop {
        let before = need.clone();
        mark_block(func, &func.body, &mut need);
        if need == before {
            return need;
        }
    }
}

fn mark_block(func: &Func, b: &Block, need: &mut Vec<bool>) {
    let mark = |o: &Operand, need: &mut Vec<bool>| {
        if let Operand::Var(v) = o
            && func.vars[*v].active
        {
            need[*v] = true;
        }
    };
    for s in &b.stmts {
        match s {
            Stmt::Let { var, op } => match op {
                Op::Call { args, .. } => args.iter().for_each(|a| mark(&a.operand, need)),
                _ if !need[*var] => {}
                Op::Use(o) => mark(o, need),
                Op::Borrow(v) | Op::Deref(v) => mark(&Operand::Var(*v), need),
                Op::Project { base, .. } => mark(&Operand::Var(*base), need),
                Op::Prim { args, .. } => args.iter().for_each(|a| mark(a, need)),
                Op::Build { parts, .. } => parts.iter().for_each(|e| mark(e, need)),
                Op::Write { base, value, .. } => {
                    mark(&Operand::Var(*base), need);
                    mark(value, need);
                }
                Op::Opaque { .. } => {}
            },
            Stmt::Effect { .. } => {}
            Stmt::If { arms, outs, .. } => {
                arms.iter().for_each(|a| mark_block(func, a, need));
                for p in outs {
                    if need[p.out] {
                        p.sources.iter().for_each(|o| mark(o, need));
                    }
                }
            }
            Stmt::Match { arms, outs, .. } => {
                arms.iter().for_each(|a| mark_block(func, &a.body, need));
                for p in outs {
                    if need[p.out] {
                        p.sources.iter().for_each(|o| mark(o, need));
                    }
                }
            }
            Stmt::For { body, carried, .. } | Stmt::While { body, carried, .. } => {
                mark_block(func, body, need);
                for c in carried {
                    if need[c.out] || need[c.inner] {
                        need[c.out] = true;
                        need[c.inner] = true;
                        mark(&c.init, need);
                        mark(&c.next, need);
                    }
                }
            }
        }
    }
}
