//! Reverse mode: the forward sweep that keeps what the adjoint needs, and the adjoint sweep
//! that visits statements backwards, initializing each adjoint with its first contribution.

use crate::activity::{Analysis, Form, Needs, op_inputs, stmt_reads};
use crate::ast;
use crate::donate;
use crate::emit::{Emit, arm_arities};
use crate::gather;
use crate::ir::*;
use crate::names;
use crate::recycle;
use crate::revolve;
use crate::stores;
use crate::window::{self, Window};
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use std::collections::HashMap;
use syn::Ident;

pub struct Rev<'a> {
    pub e: Emit<'a>,
    an: Analysis<'a>,
    /// The adjoint of each value, once it has had a contribution.
    adj: Vec<Option<Ident>>,
    /// Values bound only as their saved shape in the region being emitted.
    shapes: Vec<VarId>,
    /// Values whose kept layout (see `Form::Zeros`) is bound in the current loop body.
    layouts: Vec<VarId>,
    /// Per loop (by its stack id): what an iteration keeps, and what the reverse recomputes.
    loops: HashMap<VarId, (Needs, Vec<VarId>)>,
    /// Top-level loops whose reverse runs inside the forward sweep (`_grad` only).
    fused: Vec<VarId>,
    /// The fused sum or mean `_grad` returns, whose value and inputs' cotangents one loop
    /// of the forward sweep computes (see `plan_onepass`).
    onepass: Option<VarId>,
    /// Branch records and iteration counts.
    records: Vec<VarId>,
    /// Loops that run at most once per call with a literal trip count: their stack is an
    /// array on the call's stack frame instead of a `Vec`.
    fixed: HashMap<VarId, usize>,
    /// Parameters whose adjoint is a slice view of this vector, which is the cotangent.
    whole: HashMap<VarId, Ident>,
    /// Array adjoints kept in registers over the loops being emitted (see `window`).
    windows: Vec<Window>,
    /// Values kept whole on a loop's stack or in a branch's record, at the end of their
    /// block: a write of one copies it instead of moving it into the new version.
    kept: Vec<bool>,
    /// Per loop (by the written array's carried value): the indices its starting value was
    /// written at before the loop, back to a value whose adjoint is dropped (see
    /// `gather::chain`).
    chains: HashMap<VarId, Vec<Operand>>,
    /// The loop body being emitted is a gathered reverse's: an element write reads its
    /// cotangent as a seed instead of taking it (see `gather`).
    gather: bool,
    /// The element reads whose cotangent is stored, not added (see `stores`), in the loop
    /// body being emitted; and how many loops' reverses enclose it.
    stores: Vec<VarId>,
    depth: usize,
    /// The slots of the loops being emitted that recycle an adjoint row (see `recycle`).
    spares: Vec<Spare>,
    /// Reductions whose reverse is handed their input (see `donate`).
    donors: Vec<VarId>,
    fresh: usize,
}

/// A slot for the adjoint a loop's iteration lets go of, which the next makes its zero in.
struct Spare {
    slot: Ident,
    /// The carried value whose zero adjoint is made in the slot.
    zero: VarId,
    /// The value (a write's inactive base) whose adjoint is put there.
    dropped: VarId,
    used: bool,
}

impl<'a> Rev<'a> {
    /// `escape`: the adjoint sweep runs in a returned closure (`_vjp`), so no pullback may
    /// borrow the function's locals.
    pub fn new(e: Emit<'a>, escape: bool) -> Self {
        let func = e.func;
        let mut an = Analysis::new(func);
        an.recalled = recalled_calls(&e, &an, escape);
        let donors = donate::donors(&an);
        let mut rev = Rev {
            an,
            adj: vec![None; func.vars.len()],
            shapes: Vec::new(),
            layouts: Vec::new(),
            loops: HashMap::new(),
            fused: Vec::new(),
            onepass: None,
            records: Vec::new(),
            fixed: HashMap::new(),
            whole: HashMap::new(),
            windows: Vec::new(),
            kept: vec![false; func.vars.len()],
            chains: HashMap::new(),
            gather: false,
            stores: Vec::new(),
            depth: 0,
            spares: Vec::new(),
            donors,
            fresh: 0,
            e,
        };
        rev.plan_loops(&func.body, false);
        rev
    }

    fn plan_loops(&mut self, b: &Block, in_loop: bool) {
        for (at, s) in b.stmts.iter().enumerate() {
            match s {
                Stmt::For {
                    index,
                    body,
                    carried,
                    stack,
                    range,
                } => {
                    for c in carried {
                        let active = |v: VarId| self.e.active(v);
                        if let Some(ch) = gather::chain(&b.stmts[..at], &c.init, &active) {
                            self.chains.insert(c.inner, ch);
                        }
                    }
                    let plan = self.an.loop_saved(body, *index, carried);
                    self.keep(&plan.0);
                    self.loops.insert(*stack, plan);
                    if let Some(n) = literal_count(range).filter(|n| !in_loop && *n <= 64) {
                        self.fixed.insert(*stack, n);
                    }
                    self.plan_loops(body, true);
                }
                Stmt::While {
                    body,
                    carried,
                    stack,
                    record,
                    ..
                } => {
                    let plan = self.an.loop_saved(body, None, carried);
                    self.keep(&plan.0);
                    self.loops.insert(*stack, plan);
                    self.records.push(*record);
                    self.plan_loops(body, true);
                }
                Stmt::If { arms, record, .. } => {
                    self.records.push(*record);
                    for a in arms {
                        self.keep(&self.an.arm_saved(a, &[]));
                        self.plan_loops(a, in_loop);
                    }
                }
                Stmt::Match { arms, record, .. } => {
                    self.records.push(*record);
                    for a in arms {
                        self.keep(&self.an.arm_saved(&a.body, &a.binds));
                        self.plan_loops(&a.body, in_loop);
                    }
                }
                Stmt::Let { .. } | Stmt::Effect { .. } => {}
            }
        }
    }

    fn keep(&mut self, saved: &Needs) {
        // A kept layout or shape is read at the end of the block too.
        for (v, f) in &saved.0 {
            if *f != Form::Pullback {
                self.kept[*v] = true;
            }
        }
    }

    fn aux(&mut self, what: &str) -> Ident {
        self.fresh += 1;
        names::aux(what, self.fresh)
    }

    /// Enum definitions and stacks that both `_grad` and `_vjp` declare first.
    pub fn prelude(&self) -> TokenStream {
        let mut arities = Vec::new();
        arm_arities(&self.e.func.body, &mut arities);
        let enums = arities.into_iter().map(Emit::arm_enum_def);
        let mut stacks: Vec<&VarId> = self
            .loops
            .iter()
            .filter(|(k, (saved, _))| !saved.0.is_empty() && !self.fused.contains(k))
            .map(|(k, _)| k)
            .collect();
        stacks.sort();
        let stacks = stacks.into_iter().map(|k| {
            let s = names::value(self.e.info(*k), *k);
            match self.fixed.get(k) {
                Some(n) => {
                    let it = Self::fixed_counter(*k);
                    quote! {
                        let mut #s: [::core::option::Option<_>; #n] =
                            ::core::array::from_fn(|_| ::core::option::Option::None);
                        let mut #it: usize = 0;
                    }
                }
                None => quote!(let mut #s = ::std::vec::Vec::new();),
            }
        });
        quote!(#(#enums)* #(#stacks)*)
    }

    // ---- forward sweep ----------------------------------------------------------------

    fn saved_tuple(&self, saved: &Needs) -> TokenStream {
        let rt = &self.e.rt;
        let items = saved.0.iter().map(|(v, f)| match f {
            // A branch record or an iteration count is read by nothing but the reverse.
            Form::Value if self.records.contains(v) => self.e.name(*v).to_token_stream(),
            Form::Value => self.e.cloned(&Operand::Var(*v)),
            Form::Shape => {
                let r = self.e.var_ref(*v);
                quote!(#rt::shape_of(#r))
            }
            Form::Zeros => {
                let r = self.e.var_ref(*v);
                quote!({
                    use #rt::{ByLayout as _, ByZeros as _};
                    (&#rt::KeepZeros(#r)).keep()
                })
            }
            Form::Pullback => names::pullback(self.e.info(*v), *v).to_token_stream(),
        });
        quote!((#(#items,)*))
    }

    /// Binds a saved tuple's values (shapes under their shape names).
    fn saved_pattern(&mut self, saved: &Needs) -> TokenStream {
        let items: Vec<TokenStream> = saved
            .0
            .iter()
            .map(|(v, f)| match f {
                Form::Value => self.e.name(*v).to_token_stream(),
                Form::Shape => {
                    self.shapes.push(*v);
                    names::shape(self.e.info(*v), *v).to_token_stream()
                }
                Form::Zeros => {
                    self.layouts.push(*v);
                    names::layout(self.e.info(*v), *v).to_token_stream()
                }
                Form::Pullback => names::pullback(self.e.info(*v), *v).to_token_stream(),
            })
            .collect();
        quote!((#(#items,)*))
    }

    pub fn fwd_block(&mut self, b: &Block, out: &mut TokenStream) {
        for s in &b.stmts {
            self.fwd_stmt(s, out);
        }
    }

    pub(crate) fn fwd_let(&self, var: VarId, op: &Op, out: &mut TokenStream) {
        let name = self.e.name(var);
        match op {
            // Recalled in the reverse sweep: the primal gives the value.
            // The returned fused sum: its value, and its inputs' cotangents for the seed.
            Op::Call {
                callee: Callee::Fused(f),
                args,
                ..
            } if self.onepass == Some(var) => {
                let seed = self.adj[var].as_ref().map(|d| d.to_token_stream());
                let call = self.e.fused(f, args, seed, true);
                let ct = onepass_cotangents(var);
                out.extend(quote!(let (#name, #ct) = #call;));
            }
            Op::Call { callee, args, span } if self.an.recalled.contains(&var) => {
                let call = self.e.call(callee, args, "", &[], *span);
                out.extend(quote!(let #name = #call;));
            }
            Op::Call { callee, args, span } => {
                let pb = names::pullback(self.e.info(var), var);
                let call = self.e.call(callee, args, "vjp", &[], *span);
                out.extend(quote!(let (#name, #pb) = #call;));
            }
            // `sin x` and `cos x` at the first of the two, in one evaluation.
            Op::Prim { prim, args, .. } if self.an.pairs.partner(var).is_some() => {
                let Some(partner) = self.an.pairs.partner(var) else {
                    return;
                };
                if !self.an.pairs.is_first(var) {
                    return;
                }
                let other = self.e.name(partner);
                let (sin, cos) = if prim.marker == "Sin" {
                    (name, other)
                } else {
                    (other, name)
                };
                let rt = &self.e.rt;
                let x = self.e.by_ref(&args[0]);
                out.extend(quote!(let (#sin, #cos) = #rt::sin_cos(#x);));
            }
            Op::Write {
                base, moves: true, ..
            } if self.kept[*base] => {
                let mut copy = op.clone();
                if let Op::Write { moves, .. } = &mut copy {
                    *moves = false;
                }
                let x = self.e.fwd_expr(&copy);
                out.extend(quote!(let #name = #x;));
            }
            op => {
                let x = self.e.fwd_expr(op);
                out.extend(quote!(let #name = #x;));
            }
        }
    }

    pub(crate) fn fwd_stmt(&mut self, s: &Stmt, out: &mut TokenStream) {
        match s {
            Stmt::Let { var, op } => self.fwd_let(*var, op, out),
            Stmt::Effect { tokens, binds } => {
                out.extend(crate::emit::effect(&self.e, tokens, binds));
            }
            Stmt::If {
                cond,
                arms,
                outs,
                record,
            } => {
                let c = self.e.val(cond);
                let bodies: Vec<TokenStream> = arms
                    .iter()
                    .enumerate()
                    .map(|(k, a)| self.fwd_arm(a, &[], k, arms.len(), outs))
                    .collect();
                let lhs = self.arms_lhs(outs, *record);
                let (then, els) = (&bodies[0], &bodies[1]);
                out.extend(quote!(let #lhs = if #c { #then } else { #els };));
            }
            Stmt::Match {
                scrutinee,
                arms,
                outs,
                record,
            } => {
                let n = arms.len();
                let cases: Vec<TokenStream> = arms
                    .iter()
                    .enumerate()
                    .map(|(k, a)| {
                        let body = self.fwd_arm(&a.body, &a.binds, k, n, outs);
                        let pat = &a.pat;
                        quote!(#pat => { #body })
                    })
                    .collect();
                let lhs = self.arms_lhs(outs, *record);
                out.extend(quote!(let #lhs = match #scrutinee { #(#cases)* };));
            }
            Stmt::For {
                index,
                range,
                body,
                carried,
                stack,
            } => {
                if self.fused.contains(stack) {
                    self.fused_for(s, *index, range, body, carried, out);
                    return;
                }
                if let Some(n) = self.e.func.snapshots(*stack) {
                    return revolve::fwd(self, s, n, out);
                }
                let idx = self.index_pat(*index);
                let range_fwd = self.e.range(range);
                let (decl, take, give, finish) = self.carried_parts(carried, body);
                let fixed = self.fixed.contains_key(stack);
                let reserved = !self.loops[stack].0.0.is_empty() && range.ops.is_empty() && !fixed;
                let push = self.push(*stack, reserved);
                let reserve = if reserved {
                    let s = names::value(self.e.info(*stack), *stack);
                    let rt = &self.e.rt;
                    let (lo, hi, inc) = (
                        self.e.val(&range.lo),
                        self.e.val(&range.hi),
                        range.inclusive,
                    );
                    quote!(#rt::stack_reserve(&mut #s, #rt::range_len(#lo, #hi, #inc));)
                } else {
                    quote!()
                };
                let mut b = TokenStream::new();
                self.fwd_block(body, &mut b);
                out.extend(quote! {
                    #decl
                    #reserve
                    for #idx in #range_fwd {
                        #take
                        #b
                        #push
                        #give
                    }
                    #finish
                });
            }
            Stmt::While {
                cond_block,
                cond,
                body,
                carried,
                record,
                stack,
            } => {
                let (decl, take, give, finish) = self.carried_parts(carried, body);
                let restore = self.carried_restore(carried);
                let n = self.e.name(*record);
                let push = self.push(*stack, false);
                let mut cb = TokenStream::new();
                self.fwd_block(cond_block, &mut cb);
                let c = self.e.val(cond);
                let mut b = TokenStream::new();
                self.fwd_block(body, &mut b);
                out.extend(quote! {
                    #decl
                    let mut #n: usize = 0;
                    loop {
                        #take
                        #cb
                        if !(#c) {
                            #restore
                            break;
                        }
                        #b
                        #push
                        #give
                        #n += 1;
                    }
                    #finish
                });
            }
        }
    }

    /// The push of a loop's saved values; `reserved` where the loop reserved room for them
    /// before it (a `for` over a range: one push per iteration at most), so that no call
    /// that could grow the stack stays in the loop.
    pub(crate) fn push(&self, stack: VarId, reserved: bool) -> TokenStream {
        let (saved, _) = &self.loops[&stack];
        if saved.0.is_empty() {
            return quote!();
        }
        let s = names::value(self.e.info(stack), stack);
        let t = self.saved_tuple(saved);
        if self.fixed.contains_key(&stack) {
            let it = Self::fixed_counter(stack);
            return quote! {
                #s[#it] = ::core::option::Option::Some(#t);
                #it += 1;
            };
        }
        let rt = &self.e.rt;
        if reserved {
            quote!(#rt::stack_push_reserved(&mut #s, #t);)
        } else {
            quote!(#rt::stack_push(&mut #s, #t);)
        }
    }

    fn pop(&self, stack: VarId) -> TokenStream {
        let s = names::value(self.e.info(stack), stack);
        if self.fixed.contains_key(&stack) {
            let it = Self::fixed_counter(stack);
            return quote! {{
                #it -= 1;
                ::core::option::Option::unwrap(#s[#it].take())
            }};
        }
        quote!(::core::option::Option::unwrap(#s.pop()))
    }

    fn fixed_counter(stack: VarId) -> Ident {
        names::aux("top", stack)
    }

    pub(crate) fn index_pat(&self, index: Option<VarId>) -> TokenStream {
        match index {
            Some(i) => self.e.name(i).to_token_stream(),
            None => quote!(_),
        }
    }

    /// The carried variables as mutable locals: their declaration, the start and end of an
    /// iteration, and the values after the loop.
    pub(crate) fn carried_parts(
        &self,
        carried: &[Carried],
        body: &Block,
    ) -> (TokenStream, TokenStream, TokenStream, TokenStream) {
        let inside = crate::emit::defined_in(self.e.func, body);
        let (mut decl, mut take, mut give, mut finish) = (
            TokenStream::new(),
            TokenStream::new(),
            TokenStream::new(),
            TokenStream::new(),
        );
        for c in carried {
            let m = self.carried_mut(c);
            let init = match c.init {
                Operand::Var(v) if self.an.movable_init(v) => self.e.name(v).to_token_stream(),
                _ => self.e.cloned(&c.init),
            };
            let inner = self.e.name(c.inner);
            let next = crate::emit::leaving(&self.e, &c.next, &inside);
            let out = self.e.name(c.out);
            decl.extend(quote!(let mut #m = #init;));
            take.extend(quote!(let #inner = #m;));
            give.extend(quote!(#m = #next;));
            finish.extend(quote!(let #out = #m;));
        }
        (decl, take, give, finish)
    }

    fn carried_restore(&self, carried: &[Carried]) -> TokenStream {
        carried
            .iter()
            .map(|c| {
                let m = self.carried_mut(c);
                let inner = self.e.name(c.inner);
                quote!(#m = #inner;)
            })
            .collect()
    }

    pub(crate) fn carried_mut(&self, c: &Carried) -> Ident {
        let info = self.e.info(c.out);
        names::local(format!("__grad_{}_mut_{}", info.hint, c.out), info.span)
    }

    fn carried_adj(&self, c: &Carried) -> Ident {
        let info = self.e.info(c.out);
        names::local(format!("__grad_d_{}_mut_{}", info.hint, c.out), info.span)
    }

    /// The forward code of one arm: its statements, then its phi sources and its record.
    fn fwd_arm(
        &mut self,
        b: &Block,
        binds: &[VarId],
        k: usize,
        n: usize,
        outs: &[Phi],
    ) -> TokenStream {
        let mut body = TokenStream::new();
        self.fwd_block(b, &mut body);
        let rec = self.aux("record");
        let inside = crate::emit::defined_in(self.e.func, b);
        let srcs = outs
            .iter()
            .map(|p| crate::emit::leaving(&self.e, &p.sources[k], &inside));
        let saved = self.an.arm_saved(b, binds);
        let t = self.saved_tuple(&saved);
        let en = Emit::arm_enum(n);
        let var = Emit::arm_variant(k);
        // The record first: it clones values that the phi sources then move out.
        quote!(#body let #rec = #en::#var(#t); (#(#srcs,)* #rec))
    }

    fn arms_lhs(&self, outs: &[Phi], record: VarId) -> TokenStream {
        let names = outs.iter().map(|p| self.e.name(p.out));
        let r = self.e.name(record);
        quote!((#(#names,)* #r))
    }

    fn range_rev(&self, r: &RangeSpec) -> TokenStream {
        let (lo, hi) = (self.e.val(&r.lo), self.e.val(&r.hi));
        let base = if r.inclusive {
            quote!((#lo..=#hi))
        } else {
            quote!((#lo..#hi))
        };
        match r.ops.as_slice() {
            [] => quote!(#base.rev()),
            [RangeOp::Rev] => base,
            ops => {
                let rt = &self.e.rt;
                let ctor = if r.inclusive {
                    quote!(range_inclusive)
                } else {
                    quote!(range)
                };
                let mut t = quote!(#rt::Steps::#ctor(#lo, #hi));
                for op in ops {
                    t = match op {
                        RangeOp::Rev => quote!(#t.rev()),
                        RangeOp::StepBy(k) => {
                            let k = self.e.val(k);
                            quote!(#t.step_by(#k))
                        }
                    };
                }
                quote!(#t.rev())
            }
        }
    }

    // ---- adjoint sweep ----------------------------------------------------------------

    /// Adds `c` to `v`'s adjoint; the first contribution initializes it.
    fn contribute(&mut self, v: VarId, c: TokenStream, out: &mut TokenStream) {
        if !self.e.active(v) {
            return;
        }
        let rt = self.e.rt.clone();
        match &self.adj[v] {
            Some(d) => out.extend(quote!(#rt::accumulate(&mut #d, #c);)),
            None => {
                let d = names::deriv(self.e.info(v), v);
                out.extend(quote!(let mut #d = #c;));
                self.adj[v] = Some(d);
            }
        }
    }

    /// A zero adjoint for `v`: from its kept layout inside a loop's reverse, else from it;
    /// in a recycled adjoint where a loop being emitted keeps one for `v`.
    fn zeros(&mut self, v: VarId) -> TokenStream {
        let rt = &self.e.rt;
        let kept = self
            .layouts
            .contains(&v)
            .then(|| names::layout(self.e.info(v), v));
        let r = self.e.var_ref(v);
        if let Some(spare) = self.spares.iter_mut().find(|s| s.zero == v) {
            spare.used = true;
            let slot = &spare.slot;
            let kept = match kept {
                Some(l) => l.to_token_stream(),
                None => quote!({
                    use #rt::{ByLayout as _, ByZeros as _};
                    (&#rt::KeepZeros(#r)).keep()
                }),
            };
            return quote!(#rt::zeros_reusing(&#kept, &mut #slot));
        }
        match kept {
            Some(l) => quote!(#rt::zeros_from(&#l)),
            None => quote!(#rt::zero_tangent(#r)),
        }
    }

    /// Keeps the adjoint `d`, handed to the inactive `v`, where a loop being emitted makes
    /// its zeros in it.
    fn recycle(&mut self, v: VarId, d: &Ident, out: &mut TokenStream) {
        if let Some(spare) = self.spares.iter_mut().find(|s| s.dropped == v) {
            spare.used = true;
            let (rt, slot) = (&self.e.rt, &spare.slot);
            out.extend(quote!(#rt::recycle(&mut #slot, #d);));
        }
    }

    /// Initializes `v`'s adjoint to zero if nothing has reached it yet.
    fn ensure_adj(&mut self, v: VarId, out: &mut TokenStream) -> Ident {
        if let Some(d) = &self.adj[v] {
            return d.clone();
        }
        let d = names::deriv(self.e.info(v), v);
        let rt = &self.e.rt;
        let r = self.e.var_ref(v);
        let scalar_slice = self.e.info(v).param.is_some_and(|i| {
            let f = self.e.f;
            match &f.params[i].form {
                ast::Form::Slice(t) | ast::Form::VecOf(t) => ast::is_scalar_type(t, &f.type_params),
                _ => false,
            }
        });
        if scalar_slice {
            // The adjoint is used through a slice of exactly the parameter's length, so the
            // optimizer can drop the bounds checks of `dx[i]` wherever those of `x[i]` go.
            let whole = names::local(format!("{d}_whole"), self.e.info(v).span);
            out.extend(quote! {
                let mut #whole = #rt::zeros_like_slice(#r);
                let mut #d = &mut #whole[..(#r).len()];
            });
            self.whole.insert(v, whole);
        } else {
            let z = self.zeros(v);
            out.extend(quote!(let mut #d = #z;));
        }
        self.adj[v] = Some(d.clone());
        d
    }

    pub fn seed(&mut self, v: VarId, d: Ident) {
        self.adj[v] = Some(d);
    }

    /// The cotangent of a parameter at the end of the sweep, if it had any contribution.
    pub fn adjoint(&self, v: VarId) -> Option<&Ident> {
        self.whole.get(&v).or(self.adj[v].as_ref())
    }

    pub fn rev_block(&mut self, b: &Block, out: &mut TokenStream) {
        for s in b.stmts.iter().rev() {
            self.rev_stmt(s, out);
        }
    }

    fn rev_let(&mut self, var: VarId, op: &Op, out: &mut TokenStream) {
        if !self.e.active(var) {
            return;
        }
        // A written local hands its adjoint down to the version before even when nothing
        // reached this one: the reads of that version need an adjoint to add to, and it may
        // have been moved into this one.
        if let Op::Write { base, .. } = op
            && self.e.active(*base)
            && self.adj[var].is_none()
        {
            self.ensure_adj(var, out);
        }
        let Some(dv) = self.adj[var].take() else {
            return;
        };
        let rt = self.e.rt.clone();
        match op {
            Op::Use(Operand::Var(x)) | Op::Borrow(x) | Op::Deref(x) => {
                self.contribute(*x, dv.to_token_stream(), out)
            }
            Op::Use(Operand::Const(_)) | Op::Opaque { .. } => {}
            // `a * a` (or `&t * &t`): one rule for both factors (a scalar's is `dy * (2 a)`, as cheap as
            // `powi(2)`'s, where two partials added cost an operation more on the adjoint's
            // chain).
            Op::Prim { prim, args, span }
                if prim.kind == PrimKind::Bilinear
                    && prim.marker == "Mul"
                    && matches!(args.as_slice(), [Operand::Var(a), Operand::Var(b)]
                        if self.e.borrow_of[*a].unwrap_or(*a) == self.e.borrow_of[*b].unwrap_or(*b)) =>
            {
                let m = self.e.marker(prim, *span);
                let a = self.e.by_ref(&args[0]);
                let c = quote!(#m.bwd_square(#a, #dv));
                if let Some(x) = args[0].var() {
                    self.contribute(x, c, out);
                }
            }
            Op::Prim { prim, args, span } => {
                let m = self.e.marker(prim, *span);
                let active: Vec<usize> = (0..args.len())
                    .filter(|k| self.e.operand_active(&args[*k]))
                    .collect();
                for (n, k) in active.iter().enumerate() {
                    let dy = if n + 1 == active.len() {
                        dv.to_token_stream()
                    } else {
                        quote!(::core::clone::Clone::clone(&#dv))
                    };
                    let y = self.e.var_ref(var);
                    let partner = self.an.pairs.partner(var).map(|p| self.e.var_ref(p));
                    let c = match prim.kind {
                        PrimKind::Unary if partner.is_some() => {
                            let f = if prim.marker == "Sin" {
                                quote!(sin_bwd_by_cos)
                            } else {
                                quote!(cos_bwd_by_sin)
                            };
                            quote!(#rt::#f(#partner, #dy))
                        }
                        PrimKind::Unary => {
                            let x = self.e.by_ref(&args[0]);
                            quote!(#m.bwd(#x, #y, #dy))
                        }
                        PrimKind::Binary => {
                            let (a, b) = (self.e.by_ref(&args[0]), self.e.by_ref(&args[1]));
                            let f = quote::format_ident!("bwd_{}", k);
                            quote!(#m.#f(#a, #b, #y, #dy))
                        }
                        PrimKind::Bilinear if *k == 0 => {
                            let a = self.e.shape(&args[0], &self.shapes);
                            let b = self.e.by_ref(&args[1]);
                            quote!(#m.bwd_0_by(#a, #b, #dy))
                        }
                        PrimKind::Bilinear => {
                            let a = self.e.by_ref(&args[0]);
                            let b = self.e.shape(&args[1], &self.shapes);
                            quote!(#m.bwd_1_by(#a, #b, #dy))
                        }
                        PrimKind::Linear => match args[0] {
                            Operand::Var(x) if self.donors.contains(&var) => {
                                let x = self.e.name(x);
                                quote!(#m.bwd_from(#x, #dy))
                            }
                            _ => {
                                let x = self.e.shape(&args[0], &self.shapes);
                                quote!(#m.bwd(#x, #dy))
                            }
                        },
                        PrimKind::LinearBinary => {
                            let a = self.e.shape(&args[0], &self.shapes);
                            let b = self.e.shape(&args[1], &self.shapes);
                            let f = quote::format_ident!("bwd_{}", k);
                            quote!(#m.#f(#a, #b, #dy))
                        }
                    };
                    let target = args[*k].var().unwrap_or(var);
                    self.contribute(target, c, out);
                }
            }
            Op::Project { base, path, .. } => {
                if let Some((r, rest)) = self
                    .windows
                    .iter()
                    .rev()
                    .find_map(|w| w.register(*base, path))
                {
                    let p = self.e.path(rest);
                    out.extend(quote!(#rt::accumulate(&mut #r #p, #dv);));
                    return;
                }
                let d = self.ensure_adj(*base, out);
                let p = self.e.path(path);
                if self.stores.contains(&var) {
                    out.extend(quote!(#d #p = #dv;));
                } else if let Some(Proj::Field(syn::Member::Named(_))) = path.last() {
                    // A `#[no_grad]` field's adjoint is `()` and takes nothing (`fields.rs`
                    // in the runtime).
                    out.extend(quote!({
                        use #rt::{IntoNoGradField as _, IntoTangentField as _};
                        (&#rt::IntoField::new(&mut #d #p)).add(#dv);
                    }));
                } else {
                    out.extend(quote!(#rt::accumulate(&mut #d #p, #dv);));
                }
            }
            Op::Build { kind, parts } => {
                let names: Vec<Ident> = (0..parts.len()).map(|_| self.aux("part")).collect();
                let n = parts.len();
                match kind {
                    Build::Tuple => out.extend(quote!(let (#(#names,)*) = #dv;)),
                    Build::Array => {
                        out.extend(quote!(let [#(#names),*] = #rt::array_parts::<_, #n>(#dv);))
                    }
                    Build::Vec => {
                        out.extend(quote!(let [#(#names),*] = #rt::vec_parts::<_, #n>(#dv);))
                    }
                    Build::Struct(_, fields) => {
                        for (f, p) in fields.iter().zip(&names) {
                            out.extend(quote!(let #p = #dv.#f;));
                        }
                    }
                    Build::Matrix { column_major, .. } => {
                        let f = if *column_major {
                            quote!(column_major_parts)
                        } else {
                            quote!(row_major_parts)
                        };
                        out.extend(quote!(let [#(#names),*] = #rt::#f::<_, _, _, _, #n>(&#dv);));
                    }
                    Build::Repeat(_) | Build::VecRepeat(_) => {
                        // Every copy's adjoint flows back to the one part.
                        if let Operand::Var(x) = &parts[0]
                            && self.e.active(*x)
                        {
                            let d = self.ensure_adj(*x, out);
                            out.extend(quote! {
                                for __grad_piece in #dv {
                                    #rt::accumulate(&mut #d, __grad_piece);
                                }
                            });
                        }
                        return;
                    }
                }
                for (e, p) in parts.iter().zip(names) {
                    if let Operand::Var(x) = e {
                        self.contribute(*x, p.to_token_stream(), out);
                    }
                }
            }
            Op::Write {
                base,
                path,
                value,
                push,
                ..
            } => {
                // The new version's adjoint is the old one's, but at the written place, which
                // the written value takes (and leaves zero).
                let rest = self.aux("rest");
                let piece = self.aux("piece");
                if *push {
                    out.extend(quote! {
                        let mut #rest = #dv;
                        let #piece = #rt::pop_piece(&mut #rest);
                    });
                } else if self.gather {
                    // Read, not taken: each offset's copy of the body reads it again.
                    let p = self.e.path(path);
                    out.extend(quote! {
                        let mut #rest = #dv;
                        let (#piece, __grad_factor) = {
                            use #rt::{ByPiece as _, ByUnit as _};
                            (&#rt::SeedOf(&#rest #p)).seed()
                        };
                    });
                } else {
                    let p = self.e.path(path);
                    out.extend(quote! {
                        let mut #rest = #dv;
                        let #piece = #rt::take_piece(&mut #rest #p);
                    });
                }
                if let Operand::Var(x) = value {
                    self.contribute(*x, piece.to_token_stream(), out);
                }
                self.contribute(*base, rest.to_token_stream(), out);
                self.recycle(*base, &rest, out);
            }
            Op::Call { callee, args, span } => {
                let parts: Vec<Ident> = (0..args.len()).map(|_| self.aux("ct")).collect();
                let pat = if parts.len() == 1 {
                    parts[0].to_token_stream()
                } else {
                    quote!((#(#parts,)*))
                };
                if self.onepass == Some(var) {
                    let ct = onepass_cotangents(var);
                    out.extend(quote!(let #pat = #ct;));
                } else if let Callee::Fused(f) = callee {
                    let call = self.e.fused(f, args, Some(dv.to_token_stream()), false);
                    out.extend(quote!(let #pat = #call;));
                } else if self.an.recalled.contains(&var) {
                    let call = self.e.call(callee, args, "vjp", &[], *span);
                    out.extend(quote!(let #pat = (#call.1)(#dv);));
                } else {
                    let pb = names::pullback(self.e.info(var), var);
                    out.extend(quote!(let #pat = #pb(#dv);));
                }
                for (a, p) in args.iter().zip(parts) {
                    if let Operand::Var(x) = a.operand
                        && self.e.active(x)
                    {
                        // Spanned on the argument, so the error lands on what to change.
                        // (The block carries the argument's own span: a hygienic local's span
                        // would be reported at the attribute.)
                        let rt = Ident::new("__grad_rt", a.span);
                        let mut arg =
                            proc_macro2::Group::new(proc_macro2::Delimiter::Brace, quote!(#p));
                        arg.set_span(a.span);
                        let c = quote::quote_spanned!(a.span=> #rt::slot(#arg));
                        self.contribute(x, c, out);
                    }
                }
            }
        }
    }

    fn rev_stmt(&mut self, s: &Stmt, out: &mut TokenStream) {
        match s {
            Stmt::Let { var, op } => self.rev_let(*var, op, out),
            Stmt::Effect { .. } => {}
            Stmt::If {
                arms, outs, record, ..
            } => {
                let bodies: Vec<(&Block, &[VarId])> = arms.iter().map(|a| (a, &[][..])).collect();
                self.rev_arms(s, &bodies, outs, *record, out);
            }
            Stmt::Match {
                arms, outs, record, ..
            } => {
                let bodies: Vec<(&Block, &[VarId])> =
                    arms.iter().map(|a| (&a.body, &a.binds[..])).collect();
                self.rev_arms(s, &bodies, outs, *record, out);
            }
            Stmt::For {
                index,
                range,
                body,
                carried,
                stack,
            } => {
                if self.fused.contains(stack) {
                    self.fused_after(carried, out);
                    return;
                }
                if self.e.func.snapshots(*stack).is_some() {
                    return revolve::rev(self, s, out);
                }
                let idx = self.index_pat(*index);
                let r = self.range_rev(range);
                let head = quote!(for #idx in #r);
                let counted = Some((*index, range));
                self.rev_loop(s, (head, counted), body, carried, *stack, out);
            }
            Stmt::While {
                body,
                carried,
                record,
                stack,
                ..
            } => {
                let n = self.e.name(*record);
                let head = quote!(for _ in 0..#n);
                self.rev_loop(s, (head, None), body, carried, *stack, out);
            }
        }
    }

    /// Before a branch's or loop's reverse: false if no adjoint flows through it at all;
    /// otherwise the adjoints it adds to from outside are initialized first.
    fn enter(&mut self, s: &Stmt, out: &mut TokenStream) -> bool {
        let mut t = Vec::new();
        self.an.targets(s, &mut t);
        if t.is_empty() {
            return false;
        }
        self.pre_init(s, out);
        true
    }

    fn pre_init(&mut self, s: &Stmt, out: &mut TokenStream) {
        for v in self.an.pre_targets(s) {
            self.ensure_adj(v, out);
        }
    }

    fn rev_arms(
        &mut self,
        s: &Stmt,
        arms: &[(&Block, &[VarId])],
        outs: &[Phi],
        record: VarId,
        out: &mut TokenStream,
    ) {
        if !self.enter(s, out) {
            return;
        }
        let n = arms.len();
        let en = Emit::arm_enum(n);
        let before = self.adj.clone();
        let shapes_before = (self.shapes.len(), self.layouts.len());
        let mut cases = Vec::new();
        for (k, (b, binds)) in arms.iter().enumerate() {
            self.adj = before.clone();
            let saved = self.an.arm_saved(b, binds);
            let pat = self.saved_pattern(&saved);
            let mut body = TokenStream::new();
            for p in outs {
                if let (Some(d), Operand::Var(src)) = (before[p.out].clone(), &p.sources[k]) {
                    self.contribute(*src, d.to_token_stream(), &mut body);
                }
            }
            self.rev_block(b, &mut body);
            self.shapes.truncate(shapes_before.0);
            self.layouts.truncate(shapes_before.1);
            let var = Emit::arm_variant(k);
            cases.push(quote!(#en::#var(#pat) => { #body }));
        }
        self.adj = before;
        for p in outs {
            self.adj[p.out] = None;
        }
        let r = self.e.name(record);
        out.extend(quote!(match #r { #(#cases)* }));
    }

    pub(crate) fn rev_loop(
        &mut self,
        s: &Stmt,
        // The `for` head, and the index and range of a counted loop (for its windows).
        (head, counted): (TokenStream, Option<(Option<VarId>, &RangeSpec)>),
        body: &Block,
        carried: &[Carried],
        stack: VarId,
        out: &mut TokenStream,
    ) {
        // Which adjoints exist before the loop: one made for it is zero where it starts.
        let existed: Vec<bool> = self.adj.iter().map(Option::is_some).collect();
        if !self.enter(s, out) {
            return;
        }
        let windows = match counted {
            Some((index, range)) => self.windows_of(index, range, body),
            None => vec![],
        };
        let windows_before = self.windows.len();
        self.windows.extend(windows.iter().cloned());
        let live: Vec<&Carried> = carried.iter().filter(|c| self.e.active(c.out)).collect();
        let spares_before = self.spares.len();
        for c in &live {
            let active = |v: VarId| self.e.active(v);
            if let Some(dropped) = recycle::dropped(body, c, &active) {
                let slot = self.aux("spare");
                self.spares.push(Spare {
                    slot,
                    zero: c.inner,
                    dropped,
                    used: false,
                });
            }
        }
        for c in &live {
            let dc = self.carried_adj(c);
            let init = match self.adj[c.out].take() {
                Some(d) => d.to_token_stream(),
                None => self.zeros(c.out),
            };
            out.extend(quote!(let mut #dc = #init;));
        }
        let (saved, recompute) = self.loops[&stack].clone();
        // A windowed loop whose iterations do not depend on each other runs its reverse
        // with the index rising, its saved values taken from the stack's tail in order.
        let rising = match counted {
            Some((Some(_), _))
                if !windows.is_empty()
                    && !self.fixed.contains_key(&stack)
                    && window::independent(&self.an, body, carried, &windows) =>
            {
                let tape = (!saved.0.is_empty())
                    .then(|| names::value(self.e.info(stack), stack).to_token_stream());
                Some(tape)
            }
            _ => None,
        };
        // An independent loop whose reverse is linear with loop-invariant partials runs it
        // one element of the window at a time.
        let gathered = rising
            .as_ref()
            .and_then(|_| gather::plan(body, carried, &windows, (&saved, &recompute)));
        let before = self.adj.clone();
        let shapes_before = (self.shapes.len(), self.layouts.len());
        let mut b = TokenStream::new();
        if !saved.0.is_empty() {
            let pat = self.saved_pattern(&saved);
            let pop = match rising {
                Some(_) => quote!(__grad_saved),
                None => self.pop(stack),
            };
            b.extend(quote!(let #pat = #pop;));
        }
        for v in &recompute {
            if let Some(Stmt::Let { var, op }) = body
                .stmts
                .iter()
                .find(|s| matches!(s, Stmt::Let { var, .. } if var == v))
            {
                self.fwd_let(*var, op, &mut b);
            }
        }
        for c in &live {
            let dc = self.carried_adj(c);
            match &c.next {
                Operand::Var(n) if self.defined_in_body(body, c, *n) => {
                    let d = names::deriv(self.e.info(*n), *n);
                    b.extend(quote!(let mut #d = #dc;));
                    self.adj[*n] = Some(d);
                }
                Operand::Var(n) => self.contribute(*n, dc.to_token_stream(), &mut b),
                Operand::Const(_) => {}
            }
        }
        let stores = match counted {
            Some((Some(index), _)) if self.depth == 0 => {
                let fresh = |v: VarId| !existed[v] && self.whole.contains_key(&v);
                stores::stored(body, index, &fresh)
            }
            _ => Vec::new(),
        };
        let stores_before = std::mem::replace(&mut self.stores, stores);
        self.gather = gathered.is_some();
        self.depth += 1;
        self.rev_block(body, &mut b);
        self.depth -= 1;
        self.gather = false;
        self.stores = stores_before;
        for c in &live {
            let dc = self.carried_adj(c);
            match self.adj[c.inner].clone() {
                Some(d) => b.extend(quote!(#dc = #d;)),
                None => {
                    let z = self.zeros(c.inner);
                    b.extend(quote!(#dc = #z;));
                }
            }
        }
        self.adj = before;
        self.shapes.truncate(shapes_before.0);
        self.layouts.truncate(shapes_before.1);
        self.windows.truncate(windows_before);
        let wrapped = match (&gathered, counted, &rising) {
            (Some(g), Some((Some(index), range)), Some(tape)) => {
                let fresh = !existed[windows[0].base];
                let at = (index, range);
                self.gathered(g, (&windows[0], fresh), at, tape.as_ref(), &b)
            }
            _ => self.wrap_windows(&windows, counted, (true, rising), head, b),
        };
        // Each slot lives over the loop's reverse only: a row it still holds is freed after.
        let slots: Vec<Ident> = self
            .spares
            .drain(spares_before..)
            .filter(|s| s.used)
            .map(|s| s.slot)
            .collect();
        out.extend(quote!(#(let mut #slots = ::core::option::Option::None;)*));
        out.extend(wrapped);
        out.extend(quote!(#(::core::mem::drop(#slots);)*));
        for c in &live {
            if let Operand::Var(i) = c.init {
                let dc = self.carried_adj(c);
                self.contribute(i, dc.to_token_stream(), out);
                if !self.e.active(i) {
                    self.recycle(i, &dc, out);
                }
            }
        }
    }

    /// The loop's array adjoints that go in registers (see `window`).
    fn windows_of(&mut self, index: Option<VarId>, range: &RangeSpec, body: &Block) -> Vec<Window> {
        let found = window::find(&self.an, &self.e, index, range, body, &mut self.fresh);
        // Only adjoints that exist before the loop, as a name: they are taken from there.
        found
            .into_iter()
            .filter(|w| self.adj[w.base].is_some())
            .collect()
    }

    /// A gathered reverse (see `gather`): the loop over the window's elements, and the
    /// written elements zeroed after it where a later step could read them.
    fn gathered(
        &self,
        g: &gather::Gather<'_>,
        (w, fresh): (&Window, bool),
        (index, range): (VarId, &RangeSpec),
        tape: Option<&TokenStream>,
        body: &TokenStream,
    ) -> TokenStream {
        let d = self.adj[w.base]
            .as_ref()
            .map(|d| d.to_token_stream())
            .unwrap_or_default();
        let counted = window::Counted {
            lo: self.e.val(&range.lo),
            hi: self.e.val(&range.hi),
            index: self.e.name(index).to_token_stream(),
            falling: true,
            rising: None,
        };
        let chain = self.chains.get(&g.written.inner).map(Vec::as_slice);
        let zero = (!gather::zeroing_dead(chain, range, g.offset))
            .then(|| (self.carried_adj(g.written).to_token_stream(), g.offset));
        gather::emit(w, (d, fresh), &self.e.rt, &counted, tape, zero, body)
    }

    /// `head { body }`, with the windows loaded before it and stepped after each body.
    /// `falling` with `rising`: see [`window::Counted`].
    fn wrap_windows(
        &self,
        windows: &[Window],
        counted: Option<(Option<VarId>, &RangeSpec)>,
        (falling, rising): (bool, Option<Option<TokenStream>>),
        head: TokenStream,
        body: TokenStream,
    ) -> TokenStream {
        let Some((Some(index), range)) = counted else {
            return quote!(#head { #body });
        };
        let adj = |v: VarId| {
            self.adj[v]
                .as_ref()
                .map(|d| d.to_token_stream())
                .unwrap_or_default()
        };
        let counted = window::Counted {
            lo: self.e.val(&range.lo),
            hi: self.e.val(&range.hi),
            index: self.e.name(index).to_token_stream(),
            falling,
            rising,
        };
        window::wrap(windows, &adj, &self.e.rt, &counted, head, body)
    }

    fn defined_in_body(&self, body: &Block, c: &Carried, v: VarId) -> bool {
        if v == c.inner {
            return true;
        }
        let mut inside = Vec::new();
        for s in &body.stmts {
            self.an.defined_inside(s, &mut inside);
        }
        inside.contains(&v)
    }

    // ---- fused loops (`_grad`) --------------------------------------------------------

    /// Chooses the top-level `for` loops whose reverse can run inside the forward sweep: the
    /// function returns one of their carried values directly, every statement after them
    /// is inactive, and their carried values only accumulate.
    pub fn plan_fusion(&mut self) {
        let func = self.e.func;
        let Operand::Var(ret) = func.ret else { return };
        let stmts = &func.body.stmts;
        for (i, s) in stmts.iter().enumerate() {
            let Stmt::For {
                body,
                carried,
                stack,
                ..
            } = s
            else {
                continue;
            };
            let returns_carried = carried.iter().any(|c| c.out == ret);
            let rest_inactive = stmts[i + 1..].iter().all(|s| match s {
                Stmt::Let { var, .. } => !self.e.active(*var),
                Stmt::Effect { .. } => true,
                _ => false,
            });
            if returns_carried && rest_inactive && self.an.fusable(body, carried) {
                self.fused.push(*stack);
            }
        }
    }

    /// Chooses the fused sum or mean that `_grad` returns, when nothing else reads it: its
    /// cotangent is the seed (see `seed`), known before the forward sweep, so one loop there
    /// gives its value and its inputs' cotangents (`fuse::fwd_bwd_sum`) instead of one loop
    /// each way. Call after seeding the result.
    pub fn plan_onepass(&mut self) {
        let func = self.e.func;
        let Operand::Var(ret) = func.ret else { return };
        if self.adj[ret].is_none() {
            return;
        }
        let returned_fold = func.body.stmts.iter().any(|s| {
            matches!(s, Stmt::Let {
                var,
                op: Op::Call { callee: Callee::Fused(f), .. },
                ..
            } if *var == ret && f.fold != Fold::None)
        });
        let mut reads = Vec::new();
        for s in &func.body.stmts {
            stmt_reads(s, op_inputs, &mut reads);
        }
        if returned_fold && !reads.contains(&ret) {
            self.onepass = Some(ret);
        }
    }

    fn fused_for(
        &mut self,
        s: &Stmt,
        index: Option<VarId>,
        range: &RangeSpec,
        body: &Block,
        carried: &[Carried],
        out: &mut TokenStream,
    ) {
        self.pre_init(s, out);
        let idx = self.index_pat(index);
        let range_fwd = self.e.range(range);
        let (decl, take, give, finish) = self.carried_parts(carried, body);
        let windows = self.windows_of(index, range, body);
        let windows_before = self.windows.len();
        self.windows.extend(windows.iter().cloned());
        let mut b = TokenStream::new();
        self.fwd_block(body, &mut b);
        let before = self.adj.clone();
        for c in carried.iter().filter(|c| self.e.active(c.out)) {
            if let (Some(d), Operand::Var(n)) = (self.adj[c.out].clone(), &c.next) {
                let dn = names::deriv(self.e.info(*n), *n);
                b.extend(quote!(let mut #dn = #d;));
                self.adj[*n] = Some(dn);
            }
        }
        self.depth += 1;
        self.rev_block(body, &mut b);
        self.depth -= 1;
        self.adj = before;
        self.windows.truncate(windows_before);
        let head = quote!(for #idx in #range_fwd);
        let looped = self.wrap_windows(
            &windows,
            Some((index, range)),
            (false, None),
            head,
            quote!(#take #b #give),
        );
        out.extend(quote! {
            #decl
            #looped
            #finish
        });
    }

    /// After a fused loop, in the adjoint sweep: its carried inputs receive the (constant)
    /// carried adjoints.
    fn fused_after(&mut self, carried: &[Carried], out: &mut TokenStream) {
        for c in carried {
            if !self.e.active(c.out) {
                continue;
            }
            if let (Some(d), Operand::Var(i)) = (self.adj[c.out].take(), &c.init) {
                self.contribute(*i, d.to_token_stream(), out);
            }
        }
    }
}

/// The inputs' cotangents of the returned fused sum, from the forward sweep's one loop.
fn onepass_cotangents(var: VarId) -> Ident {
    names::aux("fused_ct", var)
}

/// The calls whose pullback would borrow a local past its end, which the reverse sweep
/// calls again (from saved arguments) instead of keeping the pullback.
///
/// A callee's `_vjp` taking `&X` returns a pullback that borrows the argument. Where that is
/// a local of this function (`g(&h)`, `g(&(a * b))`, `g(&t.0)`, a receiver `m.g()`), the
/// pullback may not be kept where it outlives the local: in `_vjp`'s returned closure (which
/// must own the local too), on a loop's stack or in a branch's record (the local ends with
/// its iteration or arm). Only a call at the top of `_grad`'s body, of locals defined there,
/// keeps its pullback.
fn recalled_calls(e: &Emit<'_>, an: &Analysis<'_>, escape: bool) -> Vec<VarId> {
    let func = e.func;
    let top = an.defs(&func.body);
    let lasting = |v: VarId| func.vars[v].param.is_some() || top.contains(&v);
    let mut out = Vec::new();
    for (var, op) in an.func_lets() {
        let Op::Call { callee, args, .. } = op else {
            continue;
        };
        if !func.vars[var].active {
            continue;
        }
        // A fused region's adjoint recomputes its forward values from its inputs anyway.
        if matches!(callee, Callee::Fused(_)) {
            out.push(var);
            continue;
        }
        let at_top = top.contains(&var);
        let owners = borrowed_locals(e, callee, args);
        if !owners.is_empty() && (escape || !at_top || !owners.into_iter().all(lasting)) {
            out.push(var);
        }
    }
    out
}

/// The locals a call lends to its callee: `&v` of an owned value, a value made by `&v` or
/// `&v.f[i]`, a method's owned receiver (borrowed by `&self`), and what the parts of an array
/// of references lend.
fn borrowed_locals(e: &Emit<'_>, callee: &Callee, args: &[CallArg]) -> Vec<VarId> {
    let mut out = Vec::new();
    for (k, a) in args.iter().enumerate() {
        let Operand::Var(v) = a.operand else { continue };
        if let Some(parts) = e.ref_array(v) {
            for &p in parts {
                let lent = e.borrow_of[p].or_else(|| e.reborrow[p].as_ref().map(|r| r.0));
                out.extend(lent);
            }
        } else if let Some(x) = e.borrow_of[v] {
            out.push(x);
        } else if let Some((base, _)) = &e.reborrow[v] {
            out.push(*base);
        } else if !e.info(v).is_ref && (a.by_ref || (k == 0 && matches!(callee, Callee::Method(_))))
        {
            out.push(v);
        }
    }
    out
}

/// The trip count of `a..b` / `a..=b` (optionally reversed) with integer literal bounds.
fn literal_count(r: &RangeSpec) -> Option<usize> {
    let lit = |o: &Operand| match o {
        Operand::Const(t) => syn::parse2::<syn::LitInt>(t.clone())
            .ok()
            .and_then(|l| l.base10_parse::<i128>().ok()),
        Operand::Var(_) => None,
    };
    if !r.ops.iter().all(|o| matches!(o, RangeOp::Rev)) {
        return None;
    }
    let n = lit(&r.hi)? - lit(&r.lo)? + i128::from(r.inclusive);
    usize::try_from(n.max(0)).ok()
}
