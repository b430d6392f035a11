//! Fusion: a chain of pointwise operations on tensors becomes one loop forward and one
//! backward (the runtime's `fuse` module), with no tensor in between.
//!
//! A region is a connected set of pointwise primitives (`exp ln tanh sigmoid sqrt recip sin
//! cos relu abs powi`, negation, `+ - * /`) at the top of the function body whose values are
//! read only inside it, except one: its result, which may be summed or averaged by a
//! trailing `.sum()`/`.mean()` that joins the loop. The region becomes a call of the
//! runtime's `fuse::fwd` with a kernel the macro writes here: the region's element function
//! and its adjoint, generic over the lane type. The reverse sweep calls `fuse::bwd`, which
//! recomputes the forward values in registers, so nothing of the region is kept.
//!
//! The macro does not know types, and `*` is a matrix product on nalgebra matrices, so an
//! operation joins a region only where its operands are known to be scalars or tensors:
//! the input and output of a pointwise function (those exist for scalars and tensors only),
//! constants, and what `+ - /` and negation combine with such values (`+` and `-` take two
//! of the same kind, a quotient's numerator fixes its denominator; a product of known
//! factors is known, and a known product has known factors).
//!
//! Only `_grad` and `_vjp` use the fused form; `_jvp` and the primal keep the operations.

use crate::activity::{op_inputs, stmt_reads};
use crate::ir::{
    Block, CallArg, Callee, Carried, Fold, Func, Fused, Op, Operand, Phi, Stmt, VarId,
};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use std::collections::HashMap;

/// The most inputs a region takes (the runtime's `fuse::MAX_INPUTS`).
const MAX_INPUTS: usize = 8;

/// Pointwise functions of one input with a lane rule (`fuse::Pointwise`).
const POINTWISE: &[&str] = &[
    "Exp", "Ln", "Tanh", "Sigmoid", "Sqrt", "Recip", "Sin", "Cos", "Relu", "Abs", "Powi",
];

/// Primitives whose result is known to be a scalar or a tensor whatever their inputs:
/// tensor-only operations, and reductions to a scalar.
const KNOWN_RESULT: &[&str] = &[
    "Matmul",
    "Dot",
    "Sum",
    "Mean",
    "SumAxis",
    "MeanAxis",
    "MaxAxis",
    "Softmax",
    "LogSoftmax",
    "Reshape",
    "Narrow",
    "IndexSelect",
    "Norm",
    "NormSquared",
];

/// Primitives whose result is one scalar (a reduction of a tensor or vector).
const SCALAR_RESULT: &[&str] = &["Dot", "Sum", "Mean", "Norm", "NormSquared"];

/// What a region's operation is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Pointwise,
    Neg,
    Add,
    Sub,
    Mul,
    Div,
}

fn kind_of(op: &Op) -> Option<Kind> {
    let Op::Prim { prim, args, .. } = op else {
        return None;
    };
    if prim.generic.is_some() {
        return None;
    }
    let k = match prim.marker {
        m if POINTWISE.contains(&m) => Kind::Pointwise,
        "Neg" => Kind::Neg,
        "Add" => Kind::Add,
        "Sub" => Kind::Sub,
        "Mul" => Kind::Mul,
        "Div" => Kind::Div,
        _ => return None,
    };
    let arity = if matches!(k, Kind::Pointwise | Kind::Neg) {
        1
    } else {
        2
    };
    // `powi(n)` with a literal `n` only (the kernel has no integer inputs).
    let extra_ok = prim
        .extra
        .iter()
        .all(|e| matches!(e, Operand::Const(c) if is_literal(c)))
        && (prim.extra.is_empty() || prim.marker == "Powi");
    (args.len() == arity && extra_ok).then_some(k)
}

/// Marks the values `block` computes from scalars alone: a constant bound to a name, an
/// element of a float row, a reduction to one value, a pointwise operation of scalars and
/// constants, a branch's result where every arm's is a scalar, and a loop's carried values
/// (see [`scalar_loop`]), nested blocks included.
fn scalar_values(block: &Block, rows: &[VarId], scalar: &mut [bool]) {
    for s in &block.stmts {
        match s {
            Stmt::Let { var, op } => {
                scalar[*var] = match op {
                    Op::Use(Operand::Var(x)) | Op::Deref(x) | Op::Borrow(x) => scalar[*x],
                    Op::Use(Operand::Const(_)) => true,
                    op if element_of_row(op, rows) => true,
                    Op::Prim { prim, .. } if SCALAR_RESULT.contains(&prim.marker) => true,
                    Op::Prim { args, .. } => {
                        kind_of(op).is_some()
                            && args.iter().all(|a| match a {
                                Operand::Var(v) => scalar[*v],
                                Operand::Const(_) => true,
                            })
                    }
                    _ => false,
                }
            }
            Stmt::If { arms, outs, .. } => {
                arms.iter().for_each(|a| scalar_values(a, rows, scalar));
                scalar_phis(outs, scalar);
            }
            Stmt::Match { arms, outs, .. } => {
                arms.iter()
                    .for_each(|a| scalar_values(&a.body, rows, scalar));
                scalar_phis(outs, scalar);
            }
            Stmt::For { body, carried, .. } => scalar_loop(&[body], carried, rows, scalar),
            Stmt::While {
                cond_block,
                body,
                carried,
                ..
            } => scalar_loop(&[cond_block, body], carried, rows, scalar),
            Stmt::Effect { .. } => {}
        }
    }
}

/// Marks a loop's values: its carried values are taken for scalars where they start as
/// ones, the body is marked, and a carried value that some iteration leaves other than a
/// scalar is unmarked and the body marked again, until nothing changes.
fn scalar_loop(blocks: &[&Block], carried: &[Carried], rows: &[VarId], scalar: &mut [bool]) {
    let is = |o: &Operand, scalar: &[bool]| match o {
        Operand::Var(v) => scalar[*v],
        Operand::Const(_) => true,
    };
    for c in carried {
        scalar[c.inner] = is(&c.init, scalar);
    }
    loop {
        blocks.iter().for_each(|b| scalar_values(b, rows, scalar));
        let mut changed = false;
        for c in carried {
            if scalar[c.inner] && !is(&c.next, scalar) {
                scalar[c.inner] = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for c in carried {
        scalar[c.out] = scalar[c.inner];
    }
}

/// `x[i]` of a slice, `Vec` or array of floats among the parameters.
fn element_of_row(op: &Op, rows: &[VarId]) -> bool {
    matches!(op, Op::Project { base, path, .. }
        if rows.contains(base) && matches!(path.as_slice(), [crate::ir::Proj::Index(_)]))
}

/// A branch's result is a scalar where it is one in every arm.
fn scalar_phis(outs: &[Phi], scalar: &mut [bool]) {
    for phi in outs {
        scalar[phi.out] = phi.sources.iter().all(|o| match o {
            Operand::Var(v) => scalar[*v],
            Operand::Const(_) => true,
        });
    }
}

/// The body with its regions fused, and the kernels' items; `None` when nothing fuses.
///
/// `scalars`: the parameters whose type is a float.
pub fn fuse(
    func: &Func,
    rt: &TokenStream,
    scalars: &[VarId],
    rows: &[VarId],
) -> Option<(Func, TokenStream)> {
    let stmts = &func.body.stmts;
    // Top-level `let`s: what each value is, and where.
    let mut def: HashMap<VarId, usize> = HashMap::new();
    for (i, s) in stmts.iter().enumerate() {
        if let Stmt::Let { var, .. } = s {
            def.insert(*var, i);
        }
    }
    // `&t` read as `t` (a borrow made to pass `t` to an operator).
    let alias = |v: VarId| -> VarId {
        match def.get(&v).map(|&i| &stmts[i]) {
            Some(Stmt::Let {
                op: Op::Borrow(t), ..
            }) => *t,
            _ => v,
        }
    };
    let kinds: Vec<Option<Kind>> = stmts
        .iter()
        .map(|s| match s {
            Stmt::Let { op, .. } => kind_of(op),
            _ => None,
        })
        .collect();
    let operands = |i: usize| -> Vec<Operand> {
        match &stmts[i] {
            Stmt::Let {
                op: Op::Prim { args, .. },
                ..
            } => args
                .iter()
                .map(|a| match a {
                    Operand::Var(v) => Operand::Var(alias(*v)),
                    c => c.clone(),
                })
                .collect(),
            _ => vec![],
        }
    };
    let var_of = |i: usize| match &stmts[i] {
        Stmt::Let { var, .. } => *var,
        _ => usize::MAX,
    };

    // Which values are known to be scalars or tensors.
    let mut known = vec![false; func.vars.len()];
    for s in stmts {
        if let Stmt::Let {
            var,
            op: Op::Prim { prim, .. },
        } = s
            && KNOWN_RESULT.contains(&prim.marker)
        {
            known[*var] = true;
        }
    }
    let is_known = |known: &[bool], o: &Operand| match o {
        Operand::Var(v) => known[*v],
        Operand::Const(_) => true,
    };
    loop {
        let mut changed = false;
        let mut set = |known: &mut Vec<bool>, v: VarId| {
            if !known[v] {
                known[v] = true;
                changed = true;
            }
        };
        for (i, k) in kinds.iter().enumerate() {
            let Some(k) = *k else { continue };
            let out = var_of(i);
            let ops = operands(i);
            let vars: Vec<VarId> = ops.iter().filter_map(Operand::var).collect();
            let all_known = ops.iter().all(|o| is_known(&known, o));
            let infer_all = match k {
                Kind::Pointwise => true,
                Kind::Neg | Kind::Add | Kind::Sub => {
                    known[out] || ops.iter().any(|o| is_known(&known, o))
                }
                Kind::Mul => known[out] || all_known,
                Kind::Div => known[out] || all_known || is_known(&known, &ops[0]),
            };
            if infer_all {
                set(&mut known, out);
                for v in vars {
                    set(&mut known, v);
                }
            }
        }
        if !changed {
            break;
        }
    }
    // Values known to be scalars: float parameters, reductions to one value, and what
    // operations of only such values and constants make. A region with tensors computes
    // every operation per element with the lane functions (the tensor kernels' own), where
    // the primal computes an operation of scalars with `std`'s: such operations stay
    // outside regions and their results enter as inputs, so fused values keep the
    // primal's bits.
    let mut scalar = vec![false; func.vars.len()];
    for &p in scalars {
        scalar[p] = true;
    }
    // (A borrow is marked as what it borrows, so the body reads through it as the regions'
    // operands, which see through borrows, do.)
    scalar_values(&func.body, rows, &mut scalar);
    let eligible: Vec<bool> = (0..stmts.len())
        .map(|i| {
            kinds[i].is_some()
                && !scalar[var_of(i)]
                && known[var_of(i)]
                && operands(i).iter().all(|o| is_known(&known, o))
        })
        .collect();

    // Every read of every value, as (reader, value): a top-level statement's index, or
    // `None` for the result and reads nested deeper.
    let mut reads: HashMap<VarId, Vec<Option<usize>>> = HashMap::new();
    for (i, s) in stmts.iter().enumerate() {
        let mut r = Vec::new();
        match s {
            Stmt::Let {
                op: Op::Borrow(_), ..
            } => {}
            Stmt::Let { .. } if kinds[i].is_some() => {
                r.extend(operands(i).iter().filter_map(Operand::var));
            }
            s => stmt_reads(s, op_inputs, &mut r),
        }
        for v in r {
            reads.entry(alias(v)).or_default().push(Some(i));
        }
    }
    if let Operand::Var(v) = func.ret {
        reads.entry(alias(v)).or_default().push(None);
    }
    // Regions: eligible operations joined through values only they read.
    let mut parent: Vec<usize> = (0..stmts.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let internal = |v: VarId| -> bool {
        def.get(&v).is_some_and(|&d| eligible[d])
            && reads
                .get(&v)
                .is_some_and(|rs| rs.iter().all(|r| r.is_some_and(|j| eligible[j])))
    };
    for i in (0..stmts.len()).filter(|&i| eligible[i]) {
        for v in operands(i).iter().filter_map(Operand::var) {
            if internal(v) {
                let (a, b) = (root(&mut parent, def[&v]), root(&mut parent, i));
                parent[a] = b;
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in (0..stmts.len()).filter(|&i| eligible[i]) {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.sort();

    let mut remove = vec![false; stmts.len()];
    let mut replace: HashMap<usize, Stmt> = HashMap::new();
    let mut items = TokenStream::new();
    for ops in groups {
        // One value read outside: the region's result.
        let outs: Vec<usize> = ops
            .iter()
            .copied()
            .filter(|&i| !internal(var_of(i)))
            .collect();
        let [out] = outs[..] else { continue };
        if !func.vars[var_of(out)].active {
            continue;
        }
        // A trailing `.sum()` / `.mean()` of the result joins the loop.
        let fold = fold_of(stmts, &reads, var_of(out));
        if ops.len() + usize::from(fold.is_some()) < 2 {
            continue;
        }
        // The values from outside, and constants that are not literals (`T::ONE`, a
        // `const`): the kernel is an item, which cannot name the function's generics.
        let mut inputs: Vec<Operand> = Vec::new();
        for &i in &ops {
            for o in operands(i) {
                let from_outside = match &o {
                    Operand::Var(v) => !(internal(*v) && ops.contains(&def[v])),
                    Operand::Const(c) => !is_literal(c),
                };
                if from_outside && !inputs.iter().any(|p| same(p, &o)) {
                    inputs.push(o);
                }
            }
        }
        if !inputs.iter().any(|o| o.var().is_some()) || inputs.len() > MAX_INPUTS {
            continue;
        }
        // One kernel per region fused so far.
        let kernel = format_ident!("__GradFuse{}", replace.len());
        let region: Vec<(VarId, &Op, Vec<Operand>)> = ops
            .iter()
            .filter_map(|&i| match &stmts[i] {
                Stmt::Let { var, op } => Some((*var, op, operands(i))),
                _ => None,
            })
            .collect();
        let (kernel_items, name) = kernel_item(rt, &kernel, &region, &inputs, var_of(out));
        items.extend(kernel_items);
        let (at, result, fold) = match fold {
            Some((i, f)) => {
                remove[out] = true;
                (i, var_of(i), f)
            }
            None => (out, var_of(out), Fold::None),
        };
        for &i in &ops {
            if i != at {
                remove[i] = true;
            }
        }
        let span = match &stmts[out] {
            Stmt::Let {
                op: Op::Prim { span, .. },
                ..
            } => *span,
            _ => Span::call_site(),
        };
        replace.insert(
            at,
            Stmt::Let {
                var: result,
                op: Op::Call {
                    callee: Callee::Fused(Box::new(Fused { kernel, name, fold })),
                    args: inputs
                        .iter()
                        .map(|o| CallArg {
                            operand: o.clone(),
                            by_ref: false,
                            span,
                        })
                        .collect(),
                    span,
                },
            },
        );
    }
    if replace.is_empty() {
        return None;
    }
    // Borrows that only fused operations read go with them.
    let gone = |j: usize| remove[j] || replace.contains_key(&j);
    let mut drop_borrow = Vec::new();
    for (i, s) in stmts.iter().enumerate() {
        let Stmt::Let {
            var,
            op: Op::Borrow(_),
        } = s
        else {
            continue;
        };
        let returned = matches!(func.ret, Operand::Var(v) if v == *var);
        let read_by_kept = stmts.iter().enumerate().any(|(j, s)| {
            let mut r = Vec::new();
            stmt_reads(s, op_inputs, &mut r);
            r.contains(var) && !gone(j)
        });
        if !returned && !read_by_kept {
            drop_borrow.push(i);
        }
    }
    for i in drop_borrow {
        remove[i] = true;
    }
    let mut out = func.clone();
    out.body = Block {
        stmts: stmts
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match replace.remove(&i) {
                Some(r) => Some(r),
                None if remove[i] => None,
                None => Some(s.clone()),
            })
            .collect(),
    };
    Some((out, items))
}

/// The statement and kind of a `.sum()`/`.mean()` that is the only read of `v`.
fn fold_of(
    stmts: &[Stmt],
    reads: &HashMap<VarId, Vec<Option<usize>>>,
    v: VarId,
) -> Option<(usize, Fold)> {
    let rs = reads.get(&v)?;
    let [Some(i)] = rs[..] else { return None };
    let Stmt::Let {
        op: Op::Prim { prim, args, .. },
        ..
    } = &stmts[i]
    else {
        return None;
    };
    if !prim.extra.is_empty() || args.len() != 1 || args[0].var() != Some(v) {
        return None;
    }
    match prim.marker {
        "Sum" => Some((i, Fold::Sum)),
        "Mean" => Some((i, Fold::Mean)),
        _ => None,
    }
}

/// The kernel's struct and `fuse::Kernel` impl, and the region's name for messages.
fn kernel_item(
    rt: &TokenStream,
    kernel: &proc_macro2::Ident,
    region: &[(VarId, &Op, Vec<Operand>)],
    inputs: &[Operand],
    out: VarId,
) -> (TokenStream, String) {
    let n = inputs.len();
    let xs: Vec<proc_macro2::Ident> = (0..n).map(|j| format_ident!("__x{}", j)).collect();
    let val = |o: &Operand| -> TokenStream {
        if let Some(j) = inputs.iter().position(|i| same(i, o)) {
            let x = &xs[j];
            return quote!(#x);
        }
        match o {
            Operand::Var(v) => {
                let id = format_ident!("__v{}", v);
                quote!(#id)
            }
            Operand::Const(c) => quote!(<L as #rt::fuse::Lane>::konst((#c) as f64)),
        }
    };
    let marker = |op: &Op| -> TokenStream {
        let Op::Prim { prim, .. } = op else {
            return TokenStream::new();
        };
        let m = proc_macro2::Ident::new(prim.marker, Span::call_site());
        if prim.extra.is_empty() {
            quote!(#rt::op::#m)
        } else {
            let e = prim.extra.iter().map(|e| match e {
                Operand::Const(c) => c.clone(),
                Operand::Var(_) => TokenStream::new(),
            });
            quote!(#rt::op::#m(#(#e),*))
        }
    };
    let mut fwd = TokenStream::new();
    let mut names = Vec::new();
    for (v, op, args) in region {
        let id = format_ident!("__v{}", v);
        let a: Vec<TokenStream> = args.iter().map(val).collect();
        let Some(k) = kind_of(op) else { continue };
        let e = match k {
            Kind::Pointwise => {
                let m = marker(op);
                let x = &a[0];
                quote!(#rt::fuse::f(&#m, #x))
            }
            Kind::Neg => {
                let x = &a[0];
                quote!(-#x)
            }
            Kind::Add => binop(&a, quote!(+)),
            Kind::Sub => binop(&a, quote!(-)),
            Kind::Mul => binop(&a, quote!(*)),
            Kind::Div => binop(&a, quote!(/)),
        };
        if let Op::Prim { prim, .. } = op {
            names.push(prim.marker.to_lowercase());
        }
        fwd.extend(quote!(let #id = #e;));
    }
    let y = format_ident!("__v{}", out);
    // The adjoint: contributions gathered from the last operation back.
    let mut terms: HashMap<VarId, Vec<TokenStream>> = HashMap::new();
    let mut bwd = TokenStream::new();
    for (v, op, args) in region.iter().rev() {
        let d = format_ident!("__d{}", v);
        let g = if *v == out {
            quote!(__dy)
        } else {
            let t = terms.remove(v).unwrap_or_default();
            let sum = sum_terms(rt, &t);
            bwd.extend(quote!(let #d = #sum;));
            quote!(#d)
        };
        let Some(k) = kind_of(op) else { continue };
        let a: Vec<TokenStream> = args.iter().map(val).collect();
        let me = format_ident!("__v{}", v);
        let mut add = |o: &Operand, t: TokenStream| {
            if let Operand::Var(x) = o {
                terms.entry(*x).or_default().push(t);
            }
        };
        match k {
            Kind::Pointwise => {
                let m = marker(op);
                let x = &a[0];
                add(&args[0], quote!(#g * #rt::fuse::df(&#m, #x, #me)));
            }
            Kind::Neg => add(&args[0], quote!(-#g)),
            Kind::Add => {
                add(&args[0], quote!(#g));
                add(&args[1], quote!(#g));
            }
            Kind::Sub => {
                add(&args[0], quote!(#g));
                add(&args[1], quote!(-#g));
            }
            Kind::Mul => {
                let (x0, x1) = (&a[0], &a[1]);
                add(&args[0], quote!(#g * #x1));
                add(&args[1], quote!(#g * #x0));
            }
            Kind::Div => {
                // The rule's partials (`rules/binary.rs`), rounded as it rounds them: `1 / b`
                // and `-y * (1 / b)`. The order-2 copy, which does not fuse, differentiates
                // through the rule, and its gradient must be `_grad`'s to the bit.
                let x1 = &a[1];
                let recip = quote!((<L as #rt::fuse::Lane>::konst(1.0) / #x1));
                add(&args[0], quote!(#g * #recip));
                add(&args[1], quote!(#g * (-#me * #recip)));
            }
        }
    }
    let dxs: Vec<TokenStream> = inputs
        .iter()
        .map(|o| {
            let t = o.var().and_then(|v| terms.get(&v));
            sum_terms(rt, t.map_or(&[][..], |t| &t[..]))
        })
        .collect();
    let name = format!("fused {}", names.join(", "));
    let n_lit = proc_macro2::Literal::usize_unsuffixed(n);
    let items = quote! {
        struct #kernel;
        impl #rt::fuse::Kernel<#n_lit> for #kernel {
            #[inline(always)]
            fn fwd<L: #rt::fuse::Lane>(&self, [#(#xs),*]: [L; #n_lit]) -> L {
                #fwd
                #y
            }
            #[inline(always)]
            fn bwd<L: #rt::fuse::Lane>(&self, [#(#xs),*]: [L; #n_lit], __dy: L) -> [L; #n_lit] {
                #fwd
                #bwd
                [#(#dxs),*]
            }
            #[inline(always)]
            fn both<L: #rt::fuse::Lane>(
                &self,
                [#(#xs),*]: [L; #n_lit],
                __dy: L,
            ) -> (L, [L; #n_lit]) {
                #fwd
                #bwd
                (#y, [#(#dxs),*])
            }
        }
    };
    (items, name)
}

/// A numeric literal, possibly negated or parenthesized: what a kernel may spell itself.
fn is_literal(c: &TokenStream) -> bool {
    fn lit(e: &syn::Expr) -> bool {
        match e {
            syn::Expr::Lit(l) => matches!(l.lit, syn::Lit::Float(_) | syn::Lit::Int(_)),
            syn::Expr::Unary(u) => matches!(u.op, syn::UnOp::Neg(_)) && lit(&u.expr),
            syn::Expr::Paren(p) => lit(&p.expr),
            syn::Expr::Group(g) => lit(&g.expr),
            _ => false,
        }
    }
    syn::parse2::<syn::Expr>(c.clone()).is_ok_and(|e| lit(&e))
}

/// The same input: one value, or constants spelled alike.
fn same(a: &Operand, b: &Operand) -> bool {
    match (a, b) {
        (Operand::Var(x), Operand::Var(y)) => x == y,
        (Operand::Const(x), Operand::Const(y)) => x.to_string() == y.to_string(),
        _ => false,
    }
}

fn binop(a: &[TokenStream], op: TokenStream) -> TokenStream {
    let (x, y) = (&a[0], &a[1]);
    quote!(#x #op #y)
}

fn sum_terms(rt: &TokenStream, t: &[TokenStream]) -> TokenStream {
    match t {
        [] => quote!(<L as #rt::fuse::Lane>::konst(0.0)),
        [one] => one.clone(),
        [first, rest @ ..] => quote!(#first #(+ #rest)*),
    }
}
