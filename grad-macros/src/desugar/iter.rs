//! Iterators: a `for` over a collection or an adaptor chain, and a chain ending in `sum`,
//! `product` or `fold`, rewritten as a loop over `0..len` that indexes the collection.
//!
//! A chain is read into a tree of positional adaptors over a source (a slice, `Vec` or
//! array, a range, `windows`, `chunks`), which gives the element at loop position `k` as
//! an expression: `x.iter().rev().zip(y)` at `k` is `(&x[n - 1 - k], &y[k])`. `map` folds
//! into that expression; `filter` (and any `map` after it) becomes an `if` around the rest
//! of the iteration. Closures of adaptors are inlined: their parameters are bound with
//! `let`. A window or chunk is not a value but a view of its slice: `w[i]` reads
//! `x[start + i]` and `w.len()` is its length, so no slice is ever built for it. An item of
//! `iter_mut()` (or of `&mut x`) is a place: `*v` becomes `x[k]`, read or written, so writes
//! through it are element writes, which lowering knows; `chain.for_each(f)` is a `for`.

use super::{By, Fresh, is_place, is_std_fn, strip, taken, unwrapped, visit_vec_values};
use crate::ast::{Form, Function};
use crate::ctxt::Ctxt;
use crate::diag;
use crate::names;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident, Pat, Type, parse_quote};

mod select;
mod steps;

use steps::{STEPS, Step};

/// The marker a view of a slice stands as until the chain that iterates it is read (or,
/// if nothing iterates it, until it becomes the slice itself).
const VIEW_MARKER: &str = "__grad_view";

pub fn rewrite(cx: &mut Ctxt, f: &Function, fresh: &mut Fresh, block: &mut syn::Block) {
    let refs = f
        .params
        .iter()
        .filter(|p| p.is_ref || matches!(p.form, Form::Slice(_) | Form::Ref(_)))
        .map(|p| p.name.to_string())
        .collect();
    let mut it = Iters {
        cx,
        mut_misuse: Default::default(),
        f,
        fresh,
        refs,
        hint: None,
    };
    // The body's value has the function's result type.
    let n = block.stmts.len();
    for (i, stmt) in block.stmts.iter_mut().enumerate() {
        if i + 1 == n && matches!(stmt, syn::Stmt::Expr(_, None)) {
            it.hint = Some(f.ret.clone());
        }
        it.visit_stmt_mut(stmt);
    }
    for tokens in it.mut_misuse.take() {
        it.cx.error_at(&tokens, diag::ITER_MUT_USE);
    }
    Unmark.visit_block_mut(block);
}

struct Iters<'a> {
    cx: &'a mut Ctxt,
    /// Uses of an `iter_mut` item other than `*v` and `v.method()`, found while inlining
    /// (where `cx` is not at hand), reported at the end.
    mut_misuse: std::cell::RefCell<Vec<TokenStream>>,
    f: &'a Function,
    fresh: &'a mut Fresh,
    /// Locals known to hold references, so that `for v in x` binds `&x[k]`, not `x[k]`.
    refs: Vec<String>,
    /// The type that the expression about to be visited must have, where the source says it
    /// (a `let` annotation, the function's result).
    hint: Option<Type>,
}

/// A window or chunk of a slice: `len` items of `base` from `start`.
#[derive(Clone)]
struct View {
    base: Expr,
    start: Expr,
    len: Expr,
}

/// An element of an iterator at one loop position.
#[derive(Clone)]
enum Elem {
    /// A value.
    Val(Expr),
    /// A reference to this expression (a place, usually).
    Ref(Expr),
    /// A mutable reference to this place (an item of `iter_mut`).
    Mut(Expr),
    View(Box<View>),
    Tuple(Vec<Elem>),
}

/// A sequence of positions: how many, and what the adaptors make of position `k`.
struct Seq {
    node: Node,
    /// A local holding the number of items.
    len: Expr,
    /// The item type where the source says it (a parameter `&[f64]`) and no adaptor changed it.
    item_ty: Option<Type>,
}

enum Node {
    /// A slice, `Vec` or array, its items by reference or by value.
    Slice {
        place: Expr,
        by_ref: bool,
        /// `iter_mut()` or `&mut x`: the items are places to write.
        by_mut: bool,
    },
    /// A range from `lo`.
    Range {
        lo: Expr,
    },
    Windows {
        base: Expr,
        size: Expr,
        total: Expr,
    },
    Chunks {
        base: Expr,
        size: Expr,
        total: Expr,
    },
    View(View),
    Skip(Box<Seq>, Expr),
    Take(Box<Seq>),
    Rev(Box<Seq>),
    StepBy(Box<Seq>, Expr),
    Enumerate(Box<Seq>),
    Zip(Box<Seq>, Box<Seq>),
    Map(Box<Seq>, Expr),
    Copied(Box<Seq>, bool),
}

/// A whole chain: the locals it needs first, its positions, and its steps.
struct Chain {
    prelude: Vec<syn::Stmt>,
    seq: Seq,
    steps: Vec<Step>,
}

/// How reading a chain went.
enum Read {
    /// Not an iterator this module knows; left to lowering.
    No,
    Yes(Box<Chain>),
    /// An iterator, but with something unsupported, already reported.
    Failed,
}

const POSITIONAL: &[&str] = &[
    "enumerate",
    "zip",
    "skip",
    "take",
    "rev",
    "step_by",
    "copied",
    "cloned",
];

/// Iterator methods that end a chain and have no rewrite (or, for `select::SELECTIONS`, none unless
/// unwrapped at once): each is named in its error.
const UNSUPPORTED_END: &[&str] = &[
    "max",
    "min",
    "max_by",
    "min_by",
    "max_by_key",
    "min_by_key",
    "reduce",
    "last",
    "nth",
    "find",
    "find_map",
    "try_fold",
    "partition",
    "unzip",
    "sum_by",
];

/// Adaptors with no rewrite.
const UNSUPPORTED_ADAPTOR: &[&str] = &[
    "scan",
    "flat_map",
    "flatten",
    "chain",
    "map_while",
    "peekable",
    "cycle",
    "inspect",
    "filter_map",
    "fuse",
    "rchunks",
    "array_windows",
    "step",
];

fn ident_of(e: &Expr) -> Option<String> {
    match strip(e) {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

/// `Vec<E>`, `[E; N]`, `[E]` and references to them: `E`, where it is a float type.
fn item_type(ty: &Type, f: &Function) -> Option<Type> {
    let inner = match ty {
        Type::Reference(r) => return item_type(&r.elem, f),
        Type::Slice(s) => (*s.elem).clone(),
        Type::Array(a) => (*a.elem).clone(),
        Type::Path(p) => {
            let last = p.path.segments.last()?;
            if last.ident != "Vec" {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            match args.args.first()? {
                syn::GenericArgument::Type(t) => t.clone(),
                _ => return None,
            }
        }
        _ => return None,
    };
    crate::ast::is_scalar_type(&inner, &f.type_params).then_some(inner)
}

impl Iters<'_> {
    fn rt(&self) -> Ident {
        names::runtime()
    }

    fn is_ref_expr(&self, e: &Expr) -> bool {
        match strip(e) {
            Expr::Reference(_) => true,
            Expr::Path(_) => ident_of(e).is_some_and(|n| self.refs.contains(&n)),
            _ => false,
        }
    }

    /// Binds `e` to a fresh local in the prelude and returns the local.
    fn local(&mut self, what: &str, e: Expr, pre: &mut Vec<syn::Stmt>) -> Expr {
        let name = self.fresh.name(what);
        pre.push(parse_quote!(let #name = #e;));
        parse_quote!(#name)
    }

    // ---- reading chains ---------------------------------------------------------------

    /// Reads `e` as an iterator. `into`: `e` is where an `IntoIterator` is taken (a `for`
    /// loop's iterable, `zip`'s argument), so a bare collection or `&collection` counts.
    fn read(&mut self, e: &Expr, into: bool, pre: &mut Vec<syn::Stmt>) -> Read {
        let e = strip(e);
        match e {
            Expr::MethodCall(m) => self.read_method(m, into, pre),
            Expr::Range(r) => self.read_range(r, pre),
            Expr::Call(c) if is_view_marker(&c.func) => match view_of_marker(c) {
                Some(v) => {
                    let len = v.len.clone();
                    Read::Yes(Box::new(Chain {
                        prelude: Vec::new(),
                        seq: Seq {
                            node: Node::View(v),
                            len,
                            item_ty: None,
                        },
                        steps: Vec::new(),
                    }))
                }
                None => Read::No,
            },
            Expr::Reference(r) if into && r.mutability.is_none() => self.source(&r.expr, true, pre),
            Expr::Reference(r) if into => self.source_mut(&r.expr, pre),
            Expr::Path(_) if into && ident_of(e).is_some() => {
                let by_ref = self.is_ref_expr(e);
                self.source(e, by_ref, pre)
            }
            Expr::Field(_) | Expr::Index(_) if into && is_place(e) => self.source(e, false, pre),
            Expr::Call(c) if is_std_fn(&c.func, "iter", "zip") && c.args.len() == 2 => {
                match self.read(&c.args[0], true, pre) {
                    Read::Yes(chain) if chain.steps.is_empty() => self.zip(chain, &c.args[1], pre),
                    Read::Yes(_) => {
                        self.cx.error_at(&c.args[0], diag::ZIP_FILTER);
                        Read::Failed
                    }
                    Read::No => {
                        self.cx.error_at(&c.args[0], diag::ZIP_ARG);
                        Read::Failed
                    }
                    Read::Failed => Read::Failed,
                }
            }
            _ => Read::No,
        }
    }

    fn read_range(&mut self, r: &syn::ExprRange, pre: &mut Vec<syn::Stmt>) -> Read {
        let rt = self.rt();
        let Some(lo) = &r.start else {
            self.cx.error_at(r, diag::ITER_RANGE);
            return Read::Failed;
        };
        let lo = self.local("lo", (**lo).clone(), pre);
        let len: Expr = match (&r.end, &r.limits) {
            (Some(hi), syn::RangeLimits::HalfOpen(_)) => {
                parse_quote!(#rt::range_len(#lo, #hi, false))
            }
            (Some(hi), syn::RangeLimits::Closed(_)) => parse_quote!(#rt::range_len(#lo, #hi, true)),
            (None, _) => parse_quote!(#rt::range_from_len(#lo)),
        };
        let len = self.local("n", len, pre);
        Read::Yes(Box::new(Chain {
            prelude: Vec::new(),
            seq: Seq {
                node: Node::Range { lo },
                len,
                item_ty: None,
            },
            steps: Vec::new(),
        }))
    }

    /// A collection iterated from `e`, by reference or by value.
    fn source(&mut self, e: &Expr, by_ref: bool, pre: &mut Vec<syn::Stmt>) -> Read {
        if let Expr::Call(c) = strip(e)
            && is_view_marker(&c.func)
        {
            return self.read(e, true, pre);
        }
        let item_ty = ident_of(e)
            .and_then(|n| self.f.params.iter().find(|p| p.name == n))
            .and_then(|p| match &p.form {
                Form::Slice(t) | Form::VecOf(t) | Form::Array(t, _) => {
                    crate::ast::is_scalar_type(t, &self.f.type_params).then(|| t.clone())
                }
                Form::Ref(t) | Form::Value(t) => item_type(t, self.f),
                Form::Scalar(_) => None,
            });
        let place = if is_place(e) {
            strip(e).clone()
        } else {
            self.local("src", strip(e).clone(), pre)
        };
        self.slice_chain(place, by_ref, false, item_ty, pre)
    }

    /// The chain of a collection's items, from `place`.
    fn slice_chain(
        &mut self,
        place: Expr,
        by_ref: bool,
        by_mut: bool,
        item_ty: Option<Type>,
        pre: &mut Vec<syn::Stmt>,
    ) -> Read {
        let len = self.local("n", parse_quote!(#place.len()), pre);
        Read::Yes(Box::new(Chain {
            prelude: Vec::new(),
            seq: Seq {
                node: Node::Slice {
                    place,
                    by_ref,
                    by_mut,
                },
                len,
                item_ty,
            },
            steps: Vec::new(),
        }))
    }

    /// A collection iterated by `iter_mut()` or `&mut x`: `x` must be a place (a local, a
    /// field, an element), since its items are written where they are.
    fn source_mut(&mut self, e: &Expr, pre: &mut Vec<syn::Stmt>) -> Read {
        if !is_place(e) {
            self.cx.error_at(e, diag::ITER_MUT_PLACE);
            return Read::Failed;
        }
        self.slice_chain(strip(e).clone(), true, true, None, pre)
    }

    /// `chain.zip(other)` and `std::iter::zip(chain, other)`, `chain` without a `filter`.
    fn zip(&mut self, mut chain: Box<Chain>, other: &Expr, pre: &mut Vec<syn::Stmt>) -> Read {
        let other = match self.read(other, true, pre) {
            Read::Yes(c) if c.steps.is_empty() => c.seq,
            Read::Yes(_) => {
                self.cx.error_at(other, diag::ZIP_FILTER);
                return Read::Failed;
            }
            Read::No => {
                self.cx.error_at(other, diag::ZIP_ARG);
                return Read::Failed;
            }
            Read::Failed => return Read::Failed,
        };
        let (a, b) = (&chain.seq.len, &other.len);
        let len = self.local("n", parse_quote!(::core::cmp::min(#a, #b)), pre);
        let placeholder = Seq {
            node: Node::Range {
                lo: parse_quote!(0),
            },
            len: len.clone(),
            item_ty: None,
        };
        let inner = std::mem::replace(&mut chain.seq, placeholder);
        chain.seq = Seq {
            node: Node::Zip(Box::new(inner), Box::new(other)),
            len,
            item_ty: None,
        };
        Read::Yes(chain)
    }

    fn read_method(
        &mut self,
        m: &syn::ExprMethodCall,
        into: bool,
        pre: &mut Vec<syn::Stmt>,
    ) -> Read {
        let name = m.method.to_string();
        let rt = self.rt();
        match (name.as_str(), m.args.len()) {
            ("iter_mut", 0) => {
                // `iter_mut` of an iterator is refused as any unknown adaptor is, by lowering.
                return self.source_mut(&m.receiver, pre);
            }
            ("iter" | "into_iter", 0) => {
                // `into_iter` of an iterator is the iterator.
                match self.read(&m.receiver, false, pre) {
                    Read::No => {}
                    other => return other,
                }
                let by_ref = name == "iter" || self.is_ref_expr(&m.receiver);
                return self.source(&m.receiver, by_ref, pre);
            }
            ("windows" | "chunks" | "chunks_exact", 1) => {
                let base = if is_place(&m.receiver) {
                    strip(&m.receiver).clone()
                } else {
                    self.local("src", strip(&m.receiver).clone(), pre)
                };
                // A literal size stays one, so that the reads of a window are `x[j - 1]`,
                // `x[j]`: the offsets the lowering's delay lines recognise.
                let size = if int_lit(&m.args[0]).is_some_and(|n| n >= 1) {
                    m.args[0].clone()
                } else {
                    self.local("size", m.args[0].clone(), pre)
                };
                let total = self.local("total", parse_quote!(#base.len()), pre);
                let (node, len): (Node, Expr) = if name == "windows" {
                    (
                        Node::Windows {
                            base: base.clone(),
                            size: size.clone(),
                            total: total.clone(),
                        },
                        parse_quote!(#rt::windows_len(#total, #size)),
                    )
                } else {
                    // `chunks_exact` is `chunks` without the last, shorter one.
                    let count: Expr = if name == "chunks" {
                        parse_quote!(#rt::chunks_len(#total, #size))
                    } else {
                        parse_quote!(#rt::chunks_exact_len(#total, #size))
                    };
                    (
                        Node::Chunks {
                            base,
                            size: size.clone(),
                            total: total.clone(),
                        },
                        count,
                    )
                };
                let len = self.local("n", len, pre);
                return Read::Yes(Box::new(Chain {
                    prelude: Vec::new(),
                    seq: Seq {
                        node,
                        len,
                        item_ty: None,
                    },
                    steps: Vec::new(),
                }));
            }
            _ => {}
        }
        let known = POSITIONAL.contains(&name.as_str())
            || name == "map"
            || STEPS.contains(&name.as_str())
            || UNSUPPORTED_ADAPTOR.contains(&name.as_str());
        if !known {
            return Read::No;
        }
        let mut chain = match self.read(&m.receiver, into, pre) {
            Read::Yes(c) => c,
            other => return other,
        };
        if UNSUPPORTED_ADAPTOR.contains(&name.as_str()) {
            self.cx.error(m.method.span(), diag::iter_adaptor(&name));
            return Read::Failed;
        }
        let arity = match name.as_str() {
            "enumerate" | "rev" | "copied" | "cloned" => 0,
            _ => 1,
        };
        if m.args.len() != arity {
            self.cx
                .error(m.method.span(), diag::wrong_arity(&name, arity));
            return Read::Failed;
        }
        if !chain.steps.is_empty() && (name == "copied" || name == "cloned") {
            chain.steps.push(Step::Deref(name == "cloned"));
            return Read::Yes(chain);
        }
        let is_step = STEPS.contains(&name.as_str());
        if let Some(first) = chain.steps.first()
            && name != "map"
            && !is_step
        {
            self.cx
                .error(m.method.span(), diag::iter_after_step(&name, first.name()));
            return Read::Failed;
        }
        if is_step || (name == "map" && !chain.steps.is_empty()) {
            let arg = m.args[0].clone();
            chain.steps.push(match name.as_str() {
                "filter" => Step::Filter(arg),
                "take_while" => Step::TakeWhile(arg, self.flag("taking", pre)),
                "skip_while" => Step::SkipWhile(arg, self.flag("skipping", pre)),
                _ => Step::Map(arg),
            });
            return Read::Yes(chain);
        }
        let inner = Box::new(chain.seq);
        let prev = inner.len.clone();
        let item_ty = inner.item_ty.clone();
        let (node, len, item_ty) = match name.as_str() {
            "map" => (Node::Map(inner, m.args[0].clone()), prev, None),
            "enumerate" => (Node::Enumerate(inner), prev, None),
            "rev" => (Node::Rev(inner), prev, item_ty),
            "copied" | "cloned" => (Node::Copied(inner, name == "cloned"), prev, item_ty),
            "skip" => {
                // A literal count stays one, as a window's size does (`x[j - 1]`, `x[j]`).
                let n = if int_lit(&m.args[0]).is_some_and(|n| n >= 0) {
                    m.args[0].clone()
                } else {
                    self.local("skip", m.args[0].clone(), pre)
                };
                let len = self.local("n", parse_quote!(#prev.saturating_sub(#n)), pre);
                (Node::Skip(inner, n), len, item_ty)
            }
            "take" => {
                let a = &m.args[0];
                let len = self.local("n", parse_quote!(::core::cmp::min(#prev, #a)), pre);
                (Node::Take(inner), len, item_ty)
            }
            "step_by" => {
                let s = self.local("step", m.args[0].clone(), pre);
                let len = self.local("n", parse_quote!(#rt::step_len(#prev, #s)), pre);
                (Node::StepBy(inner, s), len, item_ty)
            }
            "zip" => {
                chain.seq = *inner;
                return self.zip(chain, &m.args[0], pre);
            }
            _ => unreachable!("every positional adaptor is matched above"),
        };
        chain.seq = Seq { node, len, item_ty };
        Read::Yes(chain)
    }

    // ---- elements -----------------------------------------------------------------------

    /// The item of `seq` at position `k`.
    fn elem(&self, seq: &Seq, k: Expr) -> Elem {
        let rt = self.rt();
        match &seq.node {
            Node::Slice {
                place,
                by_ref,
                by_mut,
            } => {
                let p: Expr = parse_quote!(#place[#k]);
                match (by_mut, by_ref) {
                    (true, _) => Elem::Mut(p),
                    (false, true) => Elem::Ref(p),
                    (false, false) => Elem::Val(p),
                }
            }
            Node::Range { lo } => Elem::Val(parse_quote!(#rt::range_at(#lo, #k))),
            Node::Windows { base, size, .. } => Elem::View(Box::new(View {
                base: base.clone(),
                start: k,
                len: size.clone(),
            })),
            Node::Chunks { base, size, total } => {
                let start: Expr = parse_quote!((#k * #size));
                Elem::View(Box::new(View {
                    base: base.clone(),
                    len: parse_quote!(::core::cmp::min(#size, #total - #start)),
                    start,
                }))
            }
            Node::View(v) => {
                let (base, start) = (&v.base, &v.start);
                Elem::Ref(parse_quote!(#base[#start + #k]))
            }
            Node::Skip(s, n) => {
                let k = folded(&k, n).unwrap_or_else(|| parse_quote!((#k + #n)));
                self.elem(s, k)
            }
            Node::Take(s) => self.elem(s, k),
            Node::Rev(s) => {
                let n = &s.len;
                self.elem(s, parse_quote!((#n - 1 - #k)))
            }
            Node::StepBy(s, step) => self.elem(s, parse_quote!((#k * #step))),
            Node::Enumerate(s) => Elem::Tuple(vec![Elem::Val(k.clone()), self.elem(s, k)]),
            Node::Zip(a, b) => Elem::Tuple(vec![self.elem(a, k.clone()), self.elem(b, k)]),
            Node::Map(s, f) => {
                let item = self.elem(s, k);
                Elem::Val(self.apply(f, vec![item]))
            }
            Node::Copied(s, clone) => deref(self.elem(s, k), *clone),
        }
    }

    /// `f(items...)` with a closure inlined: its parameters bound by `let`, its body after.
    fn apply(&self, f: &Expr, items: Vec<Elem>) -> Expr {
        match strip(f) {
            Expr::Closure(c) if c.inputs.len() == items.len() => {
                let mut stmts: Vec<syn::Stmt> = Vec::new();
                let mut bound = Bindings::default();
                for (pat, item) in c.inputs.iter().zip(items) {
                    bind(pat, item, &mut stmts, &mut bound);
                }
                let mut body = (*c.body).clone();
                self.substitute(&bound, |v| v.visit_expr_mut(&mut body));
                let span = c.body.span();
                syn::parse2(quote_spanned!(span=> { #(#stmts)* #body })).unwrap_or(body)
            }
            other => {
                let args = items.iter().map(elem_expr);
                parse_quote!(#other(#(#args),*))
            }
        }
    }

    /// Checks a closure given to an adaptor: its parameter count, and that it does not
    /// return early (its `return` would leave the function once inlined).
    fn check_closure(&mut self, f: &Expr, adaptor: &str, n: usize) -> bool {
        if let Expr::Closure(c) = strip(f) {
            if c.inputs.len() != n {
                let (a, b) = (&c.or1_token, &c.or2_token);
                self.cx
                    .error_at(&quote!(#a #b), diag::closure_params(adaptor, n));
                return false;
            }
            let mut bad = BadPattern(None);
            for p in &c.inputs {
                bad.check(p);
            }
            if let Some(tokens) = bad.0 {
                self.cx.error_at(&tokens, diag::ITER_PATTERN);
                return false;
            }
            if let Some(r) = super::first_return(&c.body) {
                self.cx.error(r, diag::CLOSURE_RETURN);
                return false;
            }
        }
        true
    }

    fn check_chain(&mut self, chain: &Chain) -> bool {
        let mut ok = true;
        fn maps(seq: &Seq, out: &mut Vec<Expr>) {
            match &seq.node {
                Node::Map(s, f) => {
                    out.push(f.clone());
                    maps(s, out);
                }
                Node::Skip(s, _)
                | Node::Take(s)
                | Node::Rev(s)
                | Node::StepBy(s, _)
                | Node::Enumerate(s)
                | Node::Copied(s, _) => maps(s, out),
                Node::Zip(a, b) => {
                    maps(a, out);
                    maps(b, out);
                }
                _ => {}
            }
        }
        let mut fs = Vec::new();
        maps(&chain.seq, &mut fs);
        for f in fs {
            ok &= self.check_closure(&f, "map", 1);
        }
        for s in &chain.steps {
            ok &= match s {
                Step::Filter(f) | Step::TakeWhile(f, _) | Step::SkipWhile(f, _) => {
                    self.check_closure(f, s.name(), 1)
                }
                Step::Map(f) => self.check_closure(f, "map", 1),
                Step::Deref(_) => true,
            };
        }
        ok
    }

    /// The statements of one iteration: the steps over the item at `k`, then `finish`.
    /// The statements of one iteration at loop variable `j`: the steps over the item, then
    /// `finish`.
    fn iteration(
        &mut self,
        chain: &Chain,
        j: &Ident,
        finish: impl FnOnce(&mut Self, Elem) -> Vec<syn::Stmt>,
    ) -> Vec<syn::Stmt> {
        let (lo, _) = self.bounds(&chain.seq);
        let k: Expr = if is_zero(&lo) {
            parse_quote!(#j)
        } else {
            parse_quote!((#j - #lo))
        };
        let item = self.elem(&chain.seq, k);
        self.steps(&chain.steps, item, finish)
    }

    /// The range of the loop variable `j`, the position being `j - lo`. Where every source
    /// is read at a position plus a constant offset (slices, `skip`, `windows`, a `zip` of
    /// those), `lo` is the largest offset and `hi` is bounded by that source's length, so
    /// the optimizer sees the reads `x[j - 1]`, `x[j]` in bounds as in a hand-written index
    /// loop (counting from 0 instead left a bounds check, and a stall, in every iteration).
    fn bounds(&self, seq: &Seq) -> (Expr, Expr) {
        let n = &seq.len;
        match reach(seq) {
            Some((off, len)) if !is_zero(&off) => {
                (off.clone(), parse_quote!(::core::cmp::min(#n + #off, #len)))
            }
            Some((_, len)) => (parse_quote!(0), parse_quote!(::core::cmp::min(#n, #len))),
            None => (parse_quote!(0), n.clone()),
        }
    }

    /// Runs `visit` with the substitution of what `bound` binds (views, `iter_mut` places),
    /// keeping any misuse of a place to report.
    fn substitute(&self, bound: &Bindings, visit: impl FnOnce(&mut ViewSubst)) {
        let mut subst = ViewSubst {
            views: &bound.views,
            muts: &bound.muts,
            misuse: Vec::new(),
        };
        visit(&mut subst);
        self.mut_misuse.borrow_mut().extend(subst.misuse);
    }

    // ---- rewrites -----------------------------------------------------------------------

    /// `for pat in chain { body }` → `{ prelude; for j in lo..hi { let pat = item; body } }`.
    fn rewrite_for(&mut self, f: &syn::ExprForLoop) -> Option<Expr> {
        // A loop this pass wrote, or a range that lowering iterates directly (unless an exit
        // may end it early: then it is counted, for `exits` to turn into a `while`).
        let generated =
            matches!(&*f.pat, Pat::Ident(p) if p.ident.to_string().starts_with("__grad_"));
        // (A checkpointed loop is kept as written: lowering reads its range.)
        let checkpointed = super::revolve::call(&f.expr).is_some();
        if generated
            || checkpointed
            || (is_plain_range(&f.expr) && !super::exits::may_leave(&f.body))
        {
            return None;
        }
        let mut pre = Vec::new();
        let chain = match self.read(&f.expr, true, &mut pre) {
            Read::Yes(c) => c,
            Read::No => {
                self.cx.error_at(&f.expr, diag::FOR_ITER);
                return Some(parse_quote!({}));
            }
            Read::Failed => return Some(parse_quote!({})),
        };
        let mut bad = BadPattern(None);
        bad.check(&f.pat);
        if let Some(tokens) = bad.0 {
            self.cx.error_at(&tokens, diag::ITER_PATTERN);
            return Some(parse_quote!({}));
        }
        if !self.check_chain(&chain) {
            return Some(parse_quote!({}));
        }
        let k = self.fresh.name("k");
        let (lo, hi) = self.bounds(&chain.seq);
        let body = f.body.clone();
        let pat = (*f.pat).clone();
        let stmts = self.iteration(&chain, &k, |it, item| {
            let mut stmts = Vec::new();
            let mut bound = Bindings::default();
            bind(&pat, item, &mut stmts, &mut bound);
            let mut body = body;
            it.substitute(&bound, |v| v.visit_block_mut(&mut body));
            it.refs.extend(bound.refs);
            stmts.extend(body.stmts);
            stmts
        });
        let label = &f.label;
        let for_token = f.for_token;
        let prelude = pre.iter().chain(&chain.prelude);
        Some(parse_quote!({
            #(#prelude)*
            #label #for_token #k in #lo..#hi { #(#stmts)* }
        }))
    }

    /// `chain.for_each(|pat| body)` → `for pat in chain { body }`, rewritten as such.
    fn rewrite_for_each(&mut self, m: &syn::ExprMethodCall) -> Option<Expr> {
        let f = &m.args[0];
        if !self.check_closure(f, "for_each", 1) {
            return Some(parse_quote!(()));
        }
        let (pat, body): (Pat, syn::Block) = match strip(f) {
            Expr::Closure(c) => {
                let body = match &*c.body {
                    Expr::Block(b) if b.label.is_none() => b.block.clone(),
                    body => parse_quote!({ #body; }),
                };
                (c.inputs[0].clone(), body)
            }
            f => (
                parse_quote!(__for_each_item),
                parse_quote!({ #f(__for_each_item); }),
            ),
        };
        let expr = &m.receiver;
        let for_loop: syn::ExprForLoop = parse_quote!(for #pat in #expr #body);
        // (A plain range is a loop lowering reads as it is.)
        Some(
            self.rewrite_for(&for_loop)
                .unwrap_or(Expr::ForLoop(for_loop)),
        )
    }

    /// `v.extend(chain)` → `for k in .. { v.push(item); }`, each item by value.
    fn rewrite_extend(&mut self, m: &syn::ExprMethodCall) -> Option<Expr> {
        let mut pre = Vec::new();
        let chain = match self.read(&m.args[0], true, &mut pre) {
            Read::Yes(c) => c,
            Read::No => return None,
            Read::Failed => return Some(parse_quote!(())),
        };
        if !self.check_chain(&chain) {
            return Some(parse_quote!(()));
        }
        let v = &m.receiver;
        let k = self.fresh.name("k");
        let stmts = self.iteration(&chain, &k, |_, item| {
            let item = match item {
                Elem::Ref(e) | Elem::Mut(e) => Elem::Val(e),
                other => other,
            };
            let e = elem_expr(&item);
            vec![parse_quote!(#v.push(#e);)]
        });
        let (lo, hi) = self.bounds(&chain.seq);
        let prelude = pre.iter().chain(&chain.prelude);
        Some(parse_quote!({
            #(#prelude)*
            for #k in #lo..#hi { #(#stmts)* }
        }))
    }

    /// `chain.sum()`, `chain.product()`, `chain.fold(init, f)` → a block with a loop.
    fn rewrite_reduction(&mut self, m: &syn::ExprMethodCall, hint: Option<Type>) -> Option<Expr> {
        let name = m.method.to_string();
        let reduction = matches!(
            (name.as_str(), m.args.len()),
            ("sum" | "product", 0) | ("fold", 2)
        );
        let reduction = reduction || (name == "collect" && m.args.is_empty());
        let unsupported = UNSUPPORTED_END.contains(&name.as_str());
        if !reduction && !unsupported {
            return None;
        }
        let mut pre = Vec::new();
        let chain = match self.read(&m.receiver, false, &mut pre) {
            Read::Yes(c) => c,
            Read::No => return None,
            Read::Failed => return Some(parse_quote!(())),
        };
        if unsupported {
            self.cx.error(m.method.span(), diag::iter_end(&name));
            return Some(parse_quote!(()));
        }
        if name == "collect" && !collects_vec(m, hint.as_ref()) {
            self.cx.error(m.method.span(), diag::COLLECT);
            return Some(parse_quote!(()));
        }
        if !self.check_chain(&chain)
            || (name == "fold" && !self.check_closure(&m.args[1], "fold", 2))
        {
            return Some(parse_quote!(()));
        }
        let ty = turbofish_type(m).or(hint.clone()).or_else(|| {
            (name != "fold")
                .then(|| chain.seq.item_ty.clone())
                .flatten()
        });
        let acc = self.fresh.name("acc");
        let k = self.fresh.name("k");
        let rt = self.rt();
        let span = m.method.span();
        let ty = if name == "collect" {
            turbofish_type(m).or(hint)
        } else {
            ty
        };
        let n_items = chain.seq.len.clone();
        let init: Expr = match name.as_str() {
            // `Iterator::sum` of floats starts at `-0.0`, the identity of addition, so that a
            // sum of nothing or of negative zeros only is `-0.0` (floats and the float type
            // parameters, which are `Real`); of anything else (an integer, a tensor) at its
            // `Default`.
            "sum" => match &ty {
                Some(ty) if crate::ast::is_scalar_type(ty, &self.f.type_params) => {
                    syn::parse2(quote_spanned!(span=> #rt::sum_start::<#ty>()))
                }
                _ => syn::parse2(quote_spanned!(span=> ::core::default::Default::default())),
            }
            .expect("a sum's start parses"),
            "collect" => parse_quote!(::std::vec::Vec::with_capacity(#n_items)),
            "product" => syn::parse2(quote_spanned!(span=> #rt::one())).expect("a call parses"),
            _ => m.args[0].clone(),
        };
        let decl: syn::Stmt = match &ty {
            Some(ty) => parse_quote!(let mut #acc: #ty = #init;),
            None => parse_quote!(let mut #acc = #init;),
        };
        let f = m.args.get(1).cloned();
        let op = name.clone();
        let stmts = self.iteration(&chain, &k, |it, item| {
            let e = match op.as_str() {
                "sum" => {
                    let v = elem_expr(&item);
                    quote!(#acc += #v;)
                }
                "product" => {
                    let v = elem_expr(&item);
                    quote!(#acc *= #v;)
                }
                "collect" => {
                    let v = elem_expr(&item);
                    quote!(#acc.push(#v);)
                }
                _ => {
                    let f = f.expect("fold has two arguments");
                    let v = it.apply(&f, vec![Elem::Val(parse_quote!(#acc)), item]);
                    quote!(#acc = #v;)
                }
            };
            vec![syn::parse2(e).expect("an assignment parses")]
        });
        let (lo, hi) = self.bounds(&chain.seq);
        let prelude = pre.iter().chain(&chain.prelude);
        Some(parse_quote!({
            #(#prelude)*
            #decl
            for #k in #lo..#hi { #(#stmts)* }
            #acc
        }))
    }
}

impl VisitMut for Iters<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        let hint = self.hint.take();
        let new = match &*e {
            Expr::ForLoop(f) => self.rewrite_for(f),
            Expr::MethodCall(m) if m.method == "for_each" && m.args.len() == 1 => {
                self.rewrite_for_each(m)
            }
            Expr::MethodCall(m)
                if m.method == "extend" && m.args.len() == 1 && is_place(&m.receiver) =>
            {
                self.rewrite_extend(m)
            }
            Expr::MethodCall(m) => self
                .rewrite_selection(e)
                .or_else(|| self.rewrite_reduction(m, hint)),
            // `match sel { Some(p) => .., None => .. }` (and `if let`, a `match` by now).
            Expr::Match(_) => self.rewrite_selection(e),
            _ => None,
        };
        if let Some(new) = new {
            *e = new;
        }
        visit_mut::visit_expr_mut(self, e);
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        visit_vec_values(self, m);
    }

    fn visit_local_mut(&mut self, l: &mut syn::Local) {
        if let Pat::Type(pt) = &l.pat {
            self.hint = Some((*pt.ty).clone());
        }
        if let (Pat::Ident(p), Some(init)) = (&l.pat, &l.init)
            && matches!(strip(&init.expr), Expr::Reference(_))
        {
            self.refs.push(p.ident.to_string());
        }
        if let Some(init) = &mut l.init {
            self.visit_expr_mut(&mut init.expr);
            if let Some((_, diverge)) = &mut init.diverge {
                self.visit_expr_mut(diverge);
            }
        }
        self.hint = None;
    }

    fn visit_expr_return_mut(&mut self, r: &mut syn::ExprReturn) {
        if let Some(e) = &mut r.expr {
            self.hint = Some(self.f.ret.clone());
            self.visit_expr_mut(e);
        }
    }
}

/// Where a sequence reads its sources at the position plus a constant offset: the largest
/// offset, and the length of the source read there.
fn reach(seq: &Seq) -> Option<(Expr, Expr)> {
    match &seq.node {
        Node::Slice { .. } => Some((parse_quote!(0), seq.len.clone())),
        Node::Windows { size, total, .. } => Some((
            match int_lit(size) {
                Some(n) if n >= 1 => lit(n - 1),
                _ => parse_quote!((#size - 1)),
            },
            total.clone(),
        )),
        Node::Skip(s, n) => {
            let (off, len) = reach(s)?;
            Some((
                match (int_lit(&off), int_lit(n)) {
                    (Some(0), _) => n.clone(),
                    (Some(a), Some(b)) => lit(a + b),
                    _ => parse_quote!((#off + #n)),
                },
                len,
            ))
        }
        Node::Take(s) | Node::Enumerate(s) | Node::Map(s, _) | Node::Copied(s, _) => reach(s),
        Node::Zip(a, b) => match (reach(a), reach(b)) {
            (Some(ra), Some(rb)) if is_zero(&ra.0) => Some(rb),
            (Some(ra), Some(rb)) if is_zero(&rb.0) => Some(ra),
            _ => None,
        },
        Node::Range { .. }
        | Node::Chunks { .. }
        | Node::View(_)
        | Node::Rev(_)
        | Node::StepBy(..) => None,
    }
}

/// The value of an integer literal, parenthesized or not, or of a sum or difference of
/// such (`(2 - 1)`).
fn int_lit(e: &Expr) -> Option<i128> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        }) => n.base10_parse().ok(),
        Expr::Paren(p) => int_lit(&p.expr),
        Expr::Binary(b) => {
            let (l, r) = (int_lit(&b.left)?, int_lit(&b.right)?);
            match b.op {
                syn::BinOp::Add(_) => l.checked_add(r),
                syn::BinOp::Sub(_) => l.checked_sub(r),
                _ => None,
            }
        }
        _ => None,
    }
}

/// An unsuffixed integer literal (`usize` where it indexes).
fn lit(n: i128) -> Expr {
    let n = syn::LitInt::new(&n.to_string(), proc_macro2::Span::call_site());
    parse_quote!(#n)
}

/// `start + idx` with the constants folded where both are known: a window's `(j - 1) + 0`
/// and `(j - 1) + 1` are `j - 1` and `j`, the forms an index loop reads.
fn offset(start: &Expr, idx: &Expr) -> Expr {
    folded(start, idx).unwrap_or_else(|| parse_quote!(#start + #idx))
}

/// `(j - l) + c` as `j`, `(j + d)` or `(j - d)` where `l` and `c` are integer literals.
fn folded(start: &Expr, idx: &Expr) -> Option<Expr> {
    let inner = match start {
        Expr::Paren(p) => &*p.expr,
        e => e,
    };
    if let (Expr::Binary(b), Some(c)) = (inner, int_lit(idx))
        && matches!(b.op, syn::BinOp::Sub(_))
        && let Some(l) = int_lit(&b.right)
        && l >= 0
        && c >= 0
    {
        let j = &b.left;
        return Some(match c - l {
            0 => parse_quote!(#j),
            d if d > 0 => {
                let d = lit(d);
                parse_quote!((#j + #d))
            }
            d => {
                let d = lit(-d);
                parse_quote!((#j - #d))
            }
        });
    }
    None
}

fn is_zero(e: &Expr) -> bool {
    matches!(e, Expr::Lit(l) if quote!(#l).to_string() == "0")
}

/// `collect` into a `Vec`: a turbofish `::<Vec<_>>` or a `Vec<..>` the context gives.
fn collects_vec(m: &syn::ExprMethodCall, hint: Option<&Type>) -> bool {
    let is_vec = |t: &Type| matches!(t, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Vec"));
    turbofish_type(m)
        .as_ref()
        .map_or_else(|| hint.is_some_and(is_vec), is_vec)
}

/// `lo..hi`, with `rev()` and `step_by(k)`: lowering iterates it directly.
fn is_plain_range(e: &Expr) -> bool {
    match strip(e) {
        Expr::Range(r) => r.start.is_some() && r.end.is_some(),
        Expr::MethodCall(m) => {
            matches!(
                (m.method.to_string().as_str(), m.args.len()),
                ("rev", 0) | ("step_by", 1)
            ) && is_plain_range(&m.receiver)
        }
        _ => false,
    }
}

fn turbofish_type(m: &syn::ExprMethodCall) -> Option<Type> {
    let t = m.turbofish.as_ref()?;
    match t.args.first()? {
        syn::GenericArgument::Type(ty) if !matches!(ty, Type::Infer(_)) => Some(ty.clone()),
        _ => None,
    }
}

/// The item as an expression.
fn elem_expr(item: &Elem) -> Expr {
    match item {
        Elem::Val(e) => e.clone(),
        Elem::Ref(e) => parse_quote!(&#e),
        Elem::Mut(e) => parse_quote!(&mut #e),
        Elem::View(v) => view_marker(v),
        Elem::Tuple(items) => {
            let items = items.iter().map(elem_expr);
            parse_quote!((#(#items,)*))
        }
    }
}

/// `&item`, as `filter`'s predicate receives it.
fn borrow(item: Elem) -> Elem {
    match item {
        Elem::Val(e) => Elem::Ref(e),
        Elem::Ref(e) | Elem::Mut(e) => Elem::Ref(parse_quote!(&#e)),
        Elem::Tuple(items) => Elem::Tuple(items.into_iter().map(borrow).collect()),
        view => view,
    }
}

/// The `i`th argument of `f` when `f` receives `&item` (a `filter`'s predicate, a
/// comparison): a tuple item (of `enumerate`, `zip`) borrowed whole, `&(k, &x[k])`, as
/// `Iterator` passes it, unless the closure destructures it (`|(i, v)|`, `|&(i, v)|`), which
/// binds its parts borrowed one by one.
fn borrow_for(f: &Expr, i: usize, item: Elem) -> Elem {
    let destructures = match strip(f) {
        Expr::Closure(c) => c.inputs.iter().nth(i).is_some_and(|p| {
            let p = match p {
                Pat::Type(pt) => &*pt.pat,
                p => p,
            };
            !matches!(p, Pat::Ident(_) | Pat::Wild(_))
        }),
        _ => false,
    };
    match item {
        Elem::Tuple(_) if !destructures => Elem::Ref(elem_expr(&item)),
        other => borrow(other),
    }
}

/// `copied()` / `cloned()`: the item by value.
fn deref(item: Elem, clone: bool) -> Elem {
    match item {
        Elem::Ref(e) | Elem::Mut(e) if clone => Elem::Val(parse_quote!(#e.clone())),
        Elem::Ref(e) | Elem::Mut(e) => Elem::Val(e),
        Elem::Val(e) => Elem::Val(parse_quote!(*#e)),
        other => other,
    }
}

/// What binding a pattern to an item leaves besides `let`s: the names that are views (of a
/// window or chunk), that hold references, and that are `iter_mut` places.
#[derive(Default)]
struct Bindings {
    views: Vec<(String, View)>,
    refs: Vec<String>,
    muts: Vec<(String, Expr)>,
}

/// Binds a loop or closure pattern to an item: `let` statements, and the names to substitute.
fn bind(pat: &Pat, item: Elem, stmts: &mut Vec<syn::Stmt>, b: &mut Bindings) {
    match (pat, item) {
        (Pat::Type(pt), item) => bind(&pt.pat, item, stmts, b),
        (Pat::Paren(p), item) => bind(&p.pat, item, stmts, b),
        (Pat::Wild(_), _) => {}
        (Pat::Ident(p), Elem::View(v)) => b.views.push((p.ident.to_string(), *v)),
        (Pat::Ident(p), Elem::Mut(e)) => b.muts.push((p.ident.to_string(), e)),
        (Pat::Ident(p), item) => {
            if matches!(item, Elem::Ref(_)) {
                b.refs.push(p.ident.to_string());
            }
            let e = elem_expr(&item);
            stmts.push(parse_quote!(let #p = #e;));
        }
        (Pat::Tuple(t), Elem::Tuple(items)) if t.elems.len() == items.len() => {
            for (p, i) in t.elems.iter().zip(items) {
                bind(p, i, stmts, b);
            }
        }
        (Pat::Reference(r), Elem::Ref(e) | Elem::Mut(e)) => bind(&r.pat, Elem::Val(e), stmts, b),
        (Pat::Reference(r), Elem::Val(e)) => bind(&r.pat, Elem::Val(parse_quote!(*#e)), stmts, b),
        (Pat::Reference(r), Elem::Tuple(items)) => {
            let items = items
                .into_iter()
                .map(|i| match i {
                    Elem::Ref(e) | Elem::Mut(e) => Elem::Val(e),
                    Elem::Val(e) => Elem::Val(parse_quote!(*#e)),
                    other => other,
                })
                .collect();
            bind(&r.pat, Elem::Tuple(items), stmts, b)
        }
        (pat, item) => {
            // A tuple pattern against a computed value (a `map` that returns a pair):
            // destructure it with `let`, which lowering reads.
            let e = elem_expr(&item);
            stmts.push(parse_quote!(let #pat = #e;));
        }
    }
}

/// Finds the first pattern that an iterator binding cannot take.
struct BadPattern(Option<TokenStream>);

impl BadPattern {
    fn check(&mut self, pat: &Pat) {
        if self.0.is_some() {
            return;
        }
        match pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {}
            Pat::Wild(_) => {}
            Pat::Type(t) => self.check(&t.pat),
            Pat::Paren(p) => self.check(&p.pat),
            Pat::Reference(r) if r.mutability.is_none() => self.check(&r.pat),
            Pat::Tuple(t) => t.elems.iter().for_each(|p| self.check(p)),
            other => self.0 = Some(other.to_token_stream()),
        }
    }
}

fn view_marker(v: &View) -> Expr {
    let marker = Ident::new(VIEW_MARKER, proc_macro2::Span::call_site());
    let (base, start, len) = (&v.base, &v.start, &v.len);
    parse_quote!(#marker(#base, #start, #len))
}

fn is_view_marker(f: &Expr) -> bool {
    matches!(strip(f), Expr::Path(p) if p.path.is_ident(VIEW_MARKER))
}

fn view_of_marker(c: &syn::ExprCall) -> Option<View> {
    let mut args = c.args.iter().cloned();
    Some(View {
        base: args.next()?,
        start: args.next()?,
        len: args.next()?,
    })
}

/// Reads of a view: `w[i]` → `base[start + i]`, `w.len()` → its length, and any other use
/// of `w` → the view's marker (which a chain iterates, or which becomes the slice).
///
/// Uses of an `iter_mut` item `v` of place `p`: `*v` → `p` (read or written), `v.method()` →
/// `p.method()`; any other use is collected in `misuse`.
struct ViewSubst<'v> {
    views: &'v [(String, View)],
    muts: &'v [(String, Expr)],
    misuse: Vec<TokenStream>,
}

/// What the name `e` is bound to in `bound`, the latest binding first.
fn bound_to<'b, T>(bound: &'b [(String, T)], e: &Expr) -> Option<&'b T> {
    super::latest(bound, &ident_of(e)?)
}

impl ViewSubst<'_> {
    fn view(&self, e: &Expr) -> Option<&View> {
        bound_to(self.views, e)
    }

    fn place(&self, e: &Expr) -> Option<&Expr> {
        bound_to(self.muts, e)
    }
}

impl VisitMut for ViewSubst<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if self.views.is_empty() && self.muts.is_empty() {
            return;
        }
        if let Expr::Unary(u) = &*e
            && matches!(u.op, syn::UnOp::Deref(_))
            && let Some(p) = self.place(&u.expr)
        {
            *e = p.clone();
            return;
        }
        if let Expr::MethodCall(m) = e
            && let Some(p) = self.place(&m.receiver)
        {
            *m.receiver = p.clone();
            m.args.iter_mut().for_each(|a| self.visit_expr_mut(a));
            return;
        }
        if self.place(e).is_some() {
            self.misuse.push(e.to_token_stream());
            return;
        }
        let new: Option<Expr> = match &*e {
            Expr::Index(i) => self.view(&i.expr).map(|v| {
                let (base, idx) = (&v.base, offset(&v.start, &i.index));
                parse_quote!(#base[#idx])
            }),
            Expr::MethodCall(m) if m.method == "len" && m.args.is_empty() => {
                self.view(&m.receiver).map(|v| {
                    let len = &v.len;
                    parse_quote!((#len))
                })
            }
            Expr::Path(_) => self.view(e).map(view_marker),
            _ => None,
        };
        match new {
            // The index expression may read views too.
            Some(mut n) => {
                if let Expr::Index(i) = &mut n {
                    self.visit_expr_mut(&mut i.index);
                }
                *e = n;
            }
            None => visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        if !self.views.is_empty() || !self.muts.is_empty() {
            visit_vec_values(self, m);
        }
    }
}

/// What is left of the view markers, that no chain iterated: the slice itself.
struct Unmark;

impl VisitMut for Unmark {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        visit_mut::visit_expr_mut(self, e);
        if let Expr::Call(c) = &*e
            && is_view_marker(&c.func)
            && let Some(v) = view_of_marker(c)
        {
            let (base, start, len) = (&v.base, &v.start, &v.len);
            *e = parse_quote!((&#base[#start..#start + #len]));
        }
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        visit_vec_values(self, m);
    }
}
