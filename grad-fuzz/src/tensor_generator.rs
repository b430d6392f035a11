//! The tensor-program generator: random `#[differentiable]` functions of `&Tensor<f64>`
//! parameters that return `f64`, within the supported subset, seeded and deterministic.
//!
//! Every program takes 1-3 tensors (each `[n]` or `[m, n]`, dims in `1..=MAX_DIM`),
//! sometimes 1-2 `f64` scalars and a `k: usize`, and returns an `f64` reduced from them
//! (`sum`, `mean`, `dot`, a 1-d `matmul`, `grad::nn` losses). The same two invariants as the
//! scalar generator's (see `generator`) make every program checkable at any point:
//!
//! - **Shapes by construction.** Every expression is generated for a target shape, from
//!   productions that are valid for it: a pointwise primitive of the same shape, a binary
//!   operator with a broadcast operand (a scalar, a row `[n]` or `[1, n]`, a column `[m, 1]`),
//!   `matmul` with an inner dim, a transpose, a reshape of as many elements, a reduction along
//!   an axis of a larger tensor, `softmax`/`log_softmax`. The program's dims are those of its
//!   parameters, so a tensor of any shape over them can always be built from a parameter.
//! - **Domains and magnitudes** as for scalars: `ln`/`sqrt` of `e.powi(2) + 1.0`, division by
//!   `e.sin() + 2.0` and the like, positive `powf` bases, and a static bound on every
//!   element's magnitude (`|Σ x| <= n max|x|`, `|A·B| <= k max|A| max|B|`), shrinking an
//!   operand where a bound would exceed its cap; loops keep carried values within a cap and
//!   accumulate bounded steps.
//!
//! Ownership follows what a person writes: parameters are `&Tensor` and used as they are,
//! owned locals are borrowed as operands (`&a * &b`), temporaries are consumed, and a local
//! is bound from a variable with `.clone()`.

use crate::generator::{
    MAX_INDEX, PARAM_BOUND, Param, ParamKind, Program, Shape, nice_factor, programs,
};
use crate::rng::Rng;
use crate::scope::{Blocks, Frame, Role, Scope, sum};

/// Tensor dims are drawn from `1..=MAX_DIM`: at most 4x4, so that finite differences over
/// every element stay cheap.
pub const MAX_DIM: usize = 4;
/// The bound asked of a `let`-bound value or an assigned one (every element).
const CAP: f64 = 4.0;
/// How deep expressions nest.
const MAX_EXPR_DEPTH: usize = 3;

/// Generates `count` tensor programs from `seed`, named `tf0, tf1, ...`; program `i` may call
/// programs `0..i`.
///
/// With `order2`, every program that `order = 2` takes carries it, so that its `_hvp` is
/// checked too (see [`Program::with_order2`]).
pub fn generate(count: usize, seed: u64, order2: bool) -> Vec<Program> {
    programs(count, seed, "tf", |rng, callees, name| {
        let program = Gen::new(rng, callees).function(name);
        if order2 {
            program.with_order2(callees)
        } else {
            program
        }
    })
}

// ---- types and expressions ----------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Ty {
    Real,
    Tensor(Vec<usize>),
}

/// How an expression's text is used where a tensor is expected.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Form {
    /// A `&Tensor` (a parameter, `stop_gradient(&a)`), or any real: used as it is.
    Ref,
    /// An owned tensor named by a place (a local `a`, a tuple field `p.0`): borrowed.
    Place,
    /// An owned temporary that needs no parentheses (a method call's result).
    Atom,
    /// Any other owned temporary (an operator's result, a block, an `if`).
    Temp,
}

#[derive(Clone, Debug)]
struct E {
    text: String,
    ty: Ty,
    /// A bound on the magnitude of every element.
    bound: f64,
    form: Form,
    /// A real literal, or arithmetic of literals only: `{float}` until context types it.
    untyped: bool,
}

impl E {
    fn new(text: String, ty: Ty, bound: f64, form: Form) -> Self {
        E {
            text,
            ty,
            bound,
            form,
            untyped: false,
        }
    }
    fn real(text: String, bound: f64, atomic: bool) -> Self {
        let form = if atomic { Form::Atom } else { Form::Temp };
        E::new(text, Ty::Real, bound, form)
    }
    fn is_tensor(&self) -> bool {
        matches!(self.ty, Ty::Tensor(_))
    }
    /// As an operand of `+ - * /`.
    fn operand(&self) -> String {
        match self.form {
            Form::Ref | Form::Atom => self.text.clone(),
            Form::Place if self.is_tensor() => format!("&{}", self.text),
            Form::Place => self.text.clone(),
            Form::Temp => format!("({})", self.text),
        }
    }
    /// As a `&Tensor` argument.
    fn arg(&self) -> String {
        match self.form {
            Form::Ref => self.text.clone(),
            Form::Place | Form::Atom => format!("&{}", self.text),
            Form::Temp => format!("&({})", self.text),
        }
    }
    /// As a method receiver.
    fn recv(&self) -> String {
        match self.form {
            Form::Temp => format!("({})", self.text),
            _ => self.text.clone(),
        }
    }
    /// As an owned value (a `let`'s or a branch's): variables of tensors are cloned.
    fn owned(&self) -> String {
        match (self.form, self.is_tensor()) {
            (Form::Ref | Form::Place, true) => format!("{}.clone()", self.text),
            _ => self.text.clone(),
        }
    }
    /// Safe at the start of a statement or a block's tail.
    fn leading(&self) -> String {
        let t = self.owned();
        if t.starts_with("if ") || t.starts_with("match ") || t.starts_with('{') {
            format!("({t})")
        } else {
            t
        }
    }
    /// `recv.m(args)` on a real, as `f64::m(recv, ..)` where the receiver is untyped.
    fn real_method(&self, m: &str, args: &[String], bound: f64) -> E {
        let text = if self.untyped {
            let mut all = vec![self.text.clone()];
            all.extend(args.iter().cloned());
            format!("f64::{m}({})", all.join(", "))
        } else {
            format!("{}.{m}({})", self.recv(), args.join(", "))
        };
        E::real(text, bound, true)
    }
    /// `recv.m(args)` on a tensor.
    fn method(&self, m: &str, args: &[String], ty: Ty, bound: f64) -> E {
        E::new(
            format!("{}.{m}({})", self.recv(), args.join(", ")),
            ty,
            bound,
            Form::Atom,
        )
    }
}

fn lit(v: f64) -> E {
    let text = if v < 0.0 {
        format!("({v:?})")
    } else {
        format!("{v:?}")
    };
    E {
        untyped: true,
        ..E::real(text, v.abs(), true)
    }
}

/// `a op b` for reals or tensors (numpy broadcasting): the result's type is the larger.
fn binop(a: &E, op: &str, b: &E, bound: f64) -> E {
    let ty = match (&a.ty, &b.ty) {
        (Ty::Real, Ty::Real) => Ty::Real,
        (Ty::Tensor(s), Ty::Real) | (Ty::Real, Ty::Tensor(s)) => Ty::Tensor(s.clone()),
        (Ty::Tensor(s), Ty::Tensor(t)) => Ty::Tensor(broadcast(s, t)),
    };
    E {
        untyped: a.untyped && b.untyped,
        ..E::new(
            format!("{} {op} {}", a.operand(), b.operand()),
            ty,
            bound,
            Form::Temp,
        )
    }
}

/// numpy's broadcast of two shapes known to be compatible.
fn broadcast(a: &[usize], b: &[usize]) -> Vec<usize> {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            let da = if i + a.len() >= n {
                a[i + a.len() - n]
            } else {
                1
            };
            let db = if i + b.len() >= n {
                b[i + b.len() - n]
            } else {
                1
            };
            da.max(db)
        })
        .collect()
}

// ---- variables ----------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Val(Ty),
    /// A tuple of two values, with their bounds.
    Pair(Ty, f64, Ty, f64),
    /// A loop index, a `while` counter or `k`: at most `max`.
    Int(usize),
}

impl crate::scope::Kind for Kind {
    fn is_value(&self) -> bool {
        matches!(self, Kind::Val(_))
    }
    fn int_max(&self) -> Option<usize> {
        match *self {
            Kind::Int(max) => Some(max),
            _ => None,
        }
    }
}

struct Gen<'a> {
    rng: &'a mut Rng,
    callees: &'a [Program],
    scope: Scope<Kind>,
    /// The dims of the parameters: every shape generated is over them.
    dims: Vec<usize>,
    has_index: bool,
    stops: bool,
    calls: Vec<usize>,
    sink: usize,
}

impl<'a> Gen<'a> {
    fn new(rng: &'a mut Rng, callees: &'a [Program]) -> Self {
        Gen {
            rng,
            callees,
            scope: Scope::new(),
            dims: Vec::new(),
            has_index: false,
            stops: false,
            calls: Vec::new(),
            sink: 0,
        }
    }

    fn function(mut self, name: String) -> Program {
        let mut params = Vec::new();
        let n_tensors = self.rng.between(1, 3);
        // A small pool of dims, so that parameters share some (and `matmul` has partners).
        let pool: Vec<usize> = (0..self.rng.between(1, 3))
            .map(|_| {
                if self.rng.chance(0.1) {
                    1
                } else {
                    self.rng.between(2, MAX_DIM)
                }
            })
            .collect();
        for t in ["x", "y", "z"][..n_tensors].iter() {
            let d1 = *self.rng.pick(&pool);
            let shape = if self.rng.chance(0.4) {
                vec![d1]
            } else {
                vec![d1, *self.rng.pick(&pool)]
            };
            params.push(Param::new(t, ParamKind::Tensor(Shape::of(&shape))));
        }
        for s in ["s", "r"][..self.rng.below(3)].iter() {
            params.push(Param::new(s, ParamKind::Scalar));
        }
        if self.rng.chance(0.4) {
            params.push(Param::new("k", ParamKind::Index));
        }
        self.rng.shuffle(&mut params);
        for p in &params {
            let id = match p.kind {
                ParamKind::Tensor(shape) => {
                    for &d in shape.dims() {
                        if !self.dims.contains(&d) {
                            self.dims.push(d);
                        }
                    }
                    self.scope.declare(
                        &p.name,
                        Kind::Val(Ty::Tensor(shape.dims().to_vec())),
                        false,
                        PARAM_BOUND,
                    )
                }
                ParamKind::Scalar => {
                    self.scope
                        .declare(&p.name, Kind::Val(Ty::Real), false, PARAM_BOUND)
                }
                ParamKind::Index => {
                    self.has_index = true;
                    self.scope
                        .declare("k", Kind::Int(MAX_INDEX), false, MAX_INDEX as f64)
                }
                ParamKind::Slice => unreachable!("tensor programs take no slice"),
            };
            self.scope.vars[id].param = true;
        }
        self.sink = self.scope.declare_sink(Kind::Val(Ty::Real));
        self.scope.budget = self.rng.between(3, 10);
        for _ in 0..self.rng.between(2, 5) {
            self.statement();
        }
        if self.rng.chance(0.3) {
            self.chain();
        }
        let ret = self.final_expr();
        self.scope.tail(self.rng, &ret.text);
        Program {
            stops: self.stops,
            ..Program::new(name, params, &self.scope.out, self.calls, ret.bound)
        }
    }

    /// Readable values of type `ty`, with their bounds.
    fn readable(&self, ty: &Ty) -> Vec<(usize, f64)> {
        self.scope.readable(|k| *k == Kind::Val(ty.clone()))
    }

    /// Readable tensors of any shape.
    fn tensors(&self) -> Vec<(usize, Vec<usize>, f64)> {
        self.scope
            .visible()
            .into_iter()
            .filter_map(|id| match &self.scope.vars[id].kind {
                Kind::Val(Ty::Tensor(s)) => self.scope.read_bound(id).map(|b| (id, s.clone(), b)),
                _ => None,
            })
            .collect()
    }

    /// A read of a variable.
    fn read(&mut self, id: usize, bound: f64) -> E {
        self.scope.vars[id].used = true;
        let v = &self.scope.vars[id];
        let Kind::Val(ty) = &v.kind else {
            unreachable!("a value")
        };
        let form = match ty {
            Ty::Real => Form::Atom,
            Ty::Tensor(_) if v.param => Form::Ref,
            Ty::Tensor(_) => Form::Place,
        };
        E::new(v.name.clone(), ty.clone(), bound, form)
    }

    /// Every shape over the program's dims.
    fn shapes(&self) -> Vec<Vec<usize>> {
        let mut out: Vec<Vec<usize>> = self.dims.iter().map(|&d| vec![d]).collect();
        for &a in &self.dims {
            for &b in &self.dims {
                out.push(vec![a, b]);
            }
        }
        out
    }

    fn any_shape(&mut self) -> Vec<usize> {
        let shapes = self.shapes();
        self.rng.pick(&shapes).clone()
    }

    // ---- tensor expressions ----

    /// A tensor of exactly `shape`, every element within `cap`.
    fn tensor(&mut self, shape: &[usize], cap: f64, depth: usize) -> E {
        let e = if depth == 0 || self.rng.chance(0.2) {
            self.tensor_leaf(shape, cap)
        } else {
            self.tensor_node(shape, cap, depth - 1)
        };
        debug_assert_eq!(e.ty, Ty::Tensor(shape.to_vec()), "{}", e.text);
        self.fit(e, cap)
    }

    /// Shrinks `e` (a tensor or a real) to within `cap`.
    fn fit(&mut self, e: E, cap: f64) -> E {
        if e.bound <= cap {
            return e;
        }
        let ty = e.ty.clone();
        let m = |e: &E, name: &str, args: &[String], b: f64| {
            if e.is_tensor() {
                e.method(name, args, ty.clone(), b)
            } else {
                e.real_method(name, args, b)
            }
        };
        match self.rng.below(5) {
            0 if cap >= 1.0 => m(&e, "tanh", &[], 1.0),
            1 if cap >= 1.0 => m(&e, "sigmoid", &[], 1.0),
            2 if cap >= 1.0 => m(&e, "sin", &[], 1.0),
            3 => {
                let c = nice_factor(cap);
                m(&e, "clamp", &[lit(-c).text, format!("{c:?}")], c)
            }
            _ => {
                let c = nice_factor(cap / e.bound);
                binop(&e, "*", &lit(c), e.bound * c)
            }
        }
    }

    /// A variable of `shape`, or one built from a variable of another shape.
    fn tensor_leaf(&mut self, shape: &[usize], cap: f64) -> E {
        let exact = self.readable(&Ty::Tensor(shape.to_vec()));
        let fields = self.pair_fields(&Ty::Tensor(shape.to_vec()));
        if !fields.is_empty() && self.rng.chance(0.3) {
            let (text, b) = self.rng.pick(&fields).clone();
            let e = E::new(text, Ty::Tensor(shape.to_vec()), b, Form::Place);
            return self.fit(e, cap);
        }
        if !exact.is_empty() && !self.rng.chance(0.1) {
            let (id, b) = self.scope.pick_unread(self.rng, &exact);
            let e = self.read(id, b);
            return self.fit(e, cap);
        }
        let ty = Ty::Tensor(shape.to_vec());
        let all = self.tensors();
        let n: usize = shape.iter().product();
        if let [a, b] = *shape {
            if let Some((id, _, bd)) = all
                .iter()
                .find(|(_, s, _)| s[..] == [b, a])
                .cloned()
                .filter(|_| self.rng.chance(0.7))
            {
                let v = self.read(id, bd);
                let m = if self.rng.chance(0.5) {
                    "t"
                } else {
                    "transpose"
                };
                return self.fit(v.method(m, &[], ty, bd), cap);
            }
            if let Some((id, _, bd)) = all
                .iter()
                .find(|(_, s, _)| s.iter().product::<usize>() == n && s[..] != *shape)
                .cloned()
                .filter(|_| self.rng.chance(0.5))
            {
                let v = self.read(id, bd);
                return self.fit(v.method("reshape", &[format!("&[{a}, {b}]")], ty, bd), cap);
            }
            // An outer product by broadcasting: `[a, 1] * [b]`.
            let c = cap.sqrt();
            let col = self.tensor_leaf(&[a], c);
            let col = col.method(
                "reshape",
                &[format!("&[{a}, 1]")],
                Ty::Tensor(vec![a, 1]),
                col.bound,
            );
            let row = self.tensor_leaf(&[b], c);
            let bound = col.bound * row.bound;
            return binop(&col, "*", &row, bound);
        }
        let a = shape[0];
        let mut from: Vec<(usize, Vec<usize>, f64)> = all
            .into_iter()
            .filter(|(_, s, _)| s.len() == 2 && (s[0] == a || s[1] == a || s[0] * s[1] == a))
            .collect();
        if from.is_empty() {
            // No 2-d tensor holds the dim: a 1-d one of that length does (each dim is a
            // parameter's, and a shadow keeps its type).
            from = exact
                .iter()
                .map(|&(id, b)| (id, shape.to_vec(), b))
                .collect();
        }
        assert!(!from.is_empty(), "no tensor with dim {a} is readable");
        let (id, s, bd) = self.rng.pick(&from).clone();
        let v = self.read(id, bd);
        let e = if s.len() == 1 {
            v
        } else if s[1] == a && (s[0] != a || self.rng.chance(0.5)) && s[0] * s[1] != a {
            v.method("mean_axis", &["0".into()], ty, bd)
        } else if s[0] == a && s[0] * s[1] != a {
            v.method("mean_axis", &["1".into()], ty, bd)
        } else {
            v.method("reshape", &[format!("&[{a}]")], ty, bd)
        };
        self.fit(e, cap)
    }

    fn tensor_node(&mut self, shape: &[usize], cap: f64, depth: usize) -> E {
        let two_d = shape.len() == 2;
        let weights = [
            4.0,                           // pointwise primitive
            3.0,                           // + - with a broadcast operand
            2.0,                           // * with a broadcast operand
            1.2,                           // / by a positive tensor or real
            2.0,                           // with a real operand
            1.5,                           // matmul
            if two_d { 0.8 } else { 0.0 }, // transpose
            0.6,                           // reshape
            if two_d { 0.0 } else { 1.2 }, // reduction along an axis
            0.8,                           // softmax / log_softmax
            1.0,                           // max / min
            0.6,                           // powf
            0.4,                           // unary minus
            0.3,                           // if expression
            0.2,                           // block expression
            0.04,                          // stop_gradient
            0.7,                           // narrow
            0.7,                           // index_select
        ];
        let ty = Ty::Tensor(shape.to_vec());
        match self.rng.weighted(&weights) {
            0 => self.pointwise(shape, cap, depth),
            1 => {
                let a = self.tensor(shape, cap / 2.0, depth);
                let b = self.broadcast_operand(shape, cap / 2.0, depth);
                let op = if self.rng.chance(0.5) { "+" } else { "-" };
                let bound = a.bound + b.bound;
                if self.rng.chance(0.3) {
                    binop(&b, op, &a, bound)
                } else {
                    binop(&a, op, &b, bound)
                }
            }
            2 => {
                let c = cap.sqrt();
                let a = self.tensor(shape, c, depth);
                let b = self.broadcast_operand(shape, c, depth);
                let bound = a.bound * b.bound;
                if self.rng.chance(0.3) {
                    binop(&b, "*", &a, bound)
                } else {
                    binop(&a, "*", &b, bound)
                }
            }
            3 => {
                let a = self.tensor(shape, cap / 2.0, depth);
                let d = self.denominator(shape, false, depth);
                let bound = a.bound / 0.5;
                binop(&a, "/", &d, bound)
            }
            4 => {
                let r = self.real(cap.sqrt().min(2.0), depth.min(1));
                match self.rng.below(5) {
                    0 => {
                        let t = self.tensor(shape, cap / r.bound.max(1.0), depth);
                        let b = t.bound * r.bound;
                        binop(&r, "*", &t, b)
                    }
                    1 => {
                        let t = self.tensor(shape, cap / r.bound.max(1.0), depth);
                        let b = t.bound * r.bound;
                        binop(&t, "*", &r, b)
                    }
                    2 => {
                        let t = self.tensor(shape, cap / 2.0, depth);
                        let op = if self.rng.chance(0.5) { "+" } else { "-" };
                        let r = self.fit(r, cap / 2.0);
                        let b = t.bound + r.bound;
                        if self.rng.chance(0.5) {
                            binop(&r, op, &t, b)
                        } else {
                            binop(&t, op, &r, b)
                        }
                    }
                    3 => {
                        let t = self.tensor(shape, cap / 2.0, depth);
                        let s = r.real_method("sin", &[], 1.0);
                        let d = binop(&lit(2.0), "+", &s, 3.0);
                        binop(&t, "/", &d, t.bound)
                    }
                    _ => {
                        let r = self.fit(r, cap / 2.0);
                        let d = self.denominator(shape, true, depth);
                        binop(&r, "/", &d, r.bound / 0.5)
                    }
                }
            }
            5 => self.matmul(shape, cap, depth),
            6 => {
                let (a, b) = (shape[0], shape[1]);
                let t = self.tensor(&[b, a], cap, depth);
                let m = if self.rng.chance(0.5) {
                    "t"
                } else {
                    "transpose"
                };
                let bound = t.bound;
                t.method(m, &[], ty, bound)
            }
            7 => {
                let n: usize = shape.iter().product();
                let from: Vec<Vec<usize>> = self
                    .shapes()
                    .into_iter()
                    .filter(|s| s.iter().product::<usize>() == n && s[..] != *shape)
                    .collect();
                if from.is_empty() {
                    return self.pointwise(shape, cap, depth);
                }
                let s = self.rng.pick(&from).clone();
                let t = self.tensor(&s, cap, depth);
                let bound = t.bound;
                t.method("reshape", &[format!("&{shape:?}")], ty, bound)
            }
            8 => {
                let a = shape[0];
                let p = *self.rng.pick(&self.dims.clone());
                let (src, axis) = if self.rng.chance(0.5) {
                    (vec![a, p], 1)
                } else {
                    (vec![p, a], 0)
                };
                match self.rng.below(3) {
                    0 => {
                        let t = self.tensor(&src, cap / p as f64, depth);
                        let b = t.bound * p as f64;
                        t.method("sum_axis", &[axis.to_string()], ty, b)
                    }
                    1 => {
                        let t = self.tensor(&src, cap, depth);
                        let b = t.bound;
                        t.method("mean_axis", &[axis.to_string()], ty, b)
                    }
                    _ => {
                        let t = self.tensor(&src, cap, depth);
                        let b = t.bound;
                        t.method("max_axis", &[axis.to_string()], ty, b)
                    }
                }
            }
            9 => {
                let axis = self.rng.below(shape.len());
                if self.rng.chance(0.5) {
                    let t = self.tensor(shape, CAP, depth);
                    t.method("softmax", &[axis.to_string()], ty, 1.0)
                } else {
                    // Every element is at least -(max - min) - ln n.
                    let t = self.tensor(shape, 1.5, depth);
                    let b = 2.0 * t.bound + (shape[axis] as f64).ln();
                    t.method("log_softmax", &[axis.to_string()], ty, b)
                }
            }
            10 => {
                let a = self.tensor(shape, cap, depth);
                let m = if self.rng.chance(0.5) { "max" } else { "min" };
                let b = if self.rng.chance(0.3) {
                    lit(*self.rng.pick(&[0.0, 0.5, -0.5]))
                } else {
                    self.broadcast_operand(shape, cap, depth)
                };
                let arg = if b.is_tensor() {
                    b.arg()
                } else {
                    b.text.clone()
                };
                let bound = a.bound.max(b.bound);
                a.method(m, &[arg], ty, bound)
            }
            11 => self.powf(shape, cap, depth),
            12 => {
                let a = self.tensor(shape, cap, depth);
                let bound = a.bound;
                E::new(format!("-{}", a.operand()), ty, bound, Form::Temp)
            }
            13 => {
                let c = self.condition(depth.min(1));
                let a = self.tensor(shape, cap, depth);
                let b = self.tensor(shape, cap, depth);
                let bound = a.bound.max(b.bound);
                E::new(
                    format!("if {c} {{ {} }} else {{ {} }}", a.owned(), b.owned()),
                    ty,
                    bound,
                    Form::Temp,
                )
            }
            14 => {
                let a = self.tensor(shape, cap.sqrt(), depth);
                let t = self.scope.fresh_name("b");
                let bound = a.bound * a.bound;
                E::new(
                    format!("{{ let {t} = {}; &{t} * &{t} }}", a.owned()),
                    ty,
                    bound,
                    Form::Temp,
                )
            }
            16 => self.narrow(shape, cap, depth),
            17 => self.index_select(shape, cap, depth),
            _ => {
                let a = self.tensor(shape, cap, depth);
                self.stops = true;
                let bound = a.bound;
                match a.form {
                    Form::Ref | Form::Place => E::new(
                        format!("grad::stop_gradient({})", a.arg()),
                        ty,
                        bound,
                        Form::Ref,
                    ),
                    _ => E::new(
                        format!("grad::stop_gradient({})", a.text),
                        ty,
                        bound,
                        Form::Atom,
                    ),
                }
            }
        }
    }

    /// An index below `d` (a `usize` expression): a literal, or an integer in scope (a loop
    /// index, a counter, `k`), as it is when it stays below `d`, else reduced `% d`
    /// (sometimes `(i * 3 + 1) % d`).
    fn index_below(&mut self, d: usize) -> String {
        let ints = self.scope.ints();
        if d == 1 || ints.is_empty() || self.rng.chance(0.35) {
            return self.rng.below(d).to_string();
        }
        let id = *self.rng.pick(&ints);
        let name = self.scope.vars[id].name.clone();
        let max = crate::scope::Kind::int_max(&self.scope.vars[id].kind).expect("an integer");
        match self.rng.below(3) {
            0 if max < d => name,
            1 => format!("({name} * 3 + 1) % {d}"),
            _ => format!("{name} % {d}"),
        }
    }

    /// The shape `shape` with its axis `axis` widened to a dim `>= shape[axis]` of the
    /// program's (there is always one: `shape[axis]` itself is).
    fn widened(&mut self, shape: &[usize], axis: usize) -> Vec<usize> {
        let len = shape[axis];
        let wider: Vec<usize> = self.dims.iter().copied().filter(|&d| d >= len).collect();
        let mut src = shape.to_vec();
        src[axis] = *self.rng.pick(&wider);
        src
    }

    /// `a.narrow(axis, start, len)` of a tensor as long or longer along `axis`, its start a
    /// literal or an integer in scope reduced to fit.
    fn narrow(&mut self, shape: &[usize], cap: f64, depth: usize) -> E {
        let axis = self.rng.below(shape.len());
        let src = self.widened(shape, axis);
        let len = shape[axis];
        let start = self.index_below(src[axis] - len + 1);
        let a = self.tensor(&src, cap, depth);
        let bound = a.bound;
        a.method(
            "narrow",
            &[axis.to_string(), start, len.to_string()],
            Ty::Tensor(shape.to_vec()),
            bound,
        )
    }

    /// `a.index_select(axis, &[..])` picking `shape[axis]` slices (repeats allowed) of a
    /// tensor with any dim along `axis`.
    fn index_select(&mut self, shape: &[usize], cap: f64, depth: usize) -> E {
        let axis = self.rng.below(shape.len());
        let mut src = shape.to_vec();
        src[axis] = *self.rng.pick(&self.dims.clone());
        let idx: Vec<String> = (0..shape[axis])
            .map(|_| self.index_below(src[axis]))
            .collect();
        let a = self.tensor(&src, cap, depth);
        let bound = a.bound;
        a.method(
            "index_select",
            &[axis.to_string(), format!("&[{}]", idx.join(", "))],
            Ty::Tensor(shape.to_vec()),
            bound,
        )
    }

    /// `a.get(&[i, j])`: one element of a tensor of any shape, at literal or computed indices.
    fn get(&mut self, cap: f64, depth: usize) -> E {
        let s = self.any_shape();
        let idx: Vec<String> = s.iter().map(|&d| self.index_below(d)).collect();
        let a = self.tensor(&s, cap, depth);
        let bound = a.bound;
        a.method("get", &[format!("&[{}]", idx.join(", "))], Ty::Real, bound)
    }

    /// A pointwise primitive of a tensor of `shape`, its argument shaped to lie in its domain.
    fn pointwise(&mut self, shape: &[usize], cap: f64, depth: usize) -> E {
        let ty = Ty::Tensor(shape.to_vec());
        match self.rng.below(13) {
            0 => {
                let a = self.tensor(shape, cap.ln().clamp(0.25, 2.0), depth);
                let b = a.bound.exp();
                a.method("exp", &[], ty, b)
            }
            1 | 2 => {
                let a = self.tensor(shape, 3.0, depth);
                let sq = a.method("powi", &["2".into()], ty.clone(), 9.0);
                let arg = binop(&sq, "+", &lit(1.0), 10.0);
                if self.rng.chance(0.5) {
                    arg.method("ln", &[], ty, 10f64.ln())
                } else {
                    arg.method("sqrt", &[], ty, 10f64.sqrt())
                }
            }
            3 => {
                let a = self.tensor(shape, CAP, depth);
                a.method("tanh", &[], ty, 1.0)
            }
            4 => {
                let a = self.tensor(shape, CAP, depth);
                a.method("sigmoid", &[], ty, 1.0)
            }
            5 => {
                let a = self.tensor(shape, CAP, depth);
                let m = if self.rng.chance(0.5) { "sin" } else { "cos" };
                a.method(m, &[], ty, 1.0)
            }
            6 => {
                let a = self.tensor(shape, cap, depth);
                let m = if self.rng.chance(0.5) { "abs" } else { "relu" };
                let b = a.bound;
                a.method(m, &[], ty, b)
            }
            7 => {
                let n = *self.rng.pick(&[2, 3, 1]);
                let a = self.tensor(shape, cap.powf(1.0 / n as f64), depth);
                let b = a.bound.powi(n);
                a.method("powi", &[n.to_string()], ty, b)
            }
            8 => {
                let n = *self.rng.pick(&[-1, -2]);
                let a = self.tensor(shape, CAP, depth);
                let s = a.method("sin", &[], ty.clone(), 1.0);
                let base = binop(&s, "+", &lit(2.0), 3.0);
                base.method("powi", &[n.to_string()], ty, 1.0)
            }
            9 => {
                let hi = nice_factor(cap);
                let lo = -hi * if self.rng.chance(0.5) { 1.0 } else { 0.5 };
                let a = self.tensor(shape, CAP, depth);
                a.method("clamp", &[lit(lo).text, lit(hi).text], ty, hi)
            }
            10 => {
                // |sin| <= 1 < π/2: tan stays finite; tan(1) < 1.6.
                let a = self.tensor(shape, CAP, depth);
                let s = a.method("sin", &[], ty.clone(), 1.0);
                s.method("tan", &[], ty, 1.6)
            }
            11 => {
                let a = self.tensor(shape, cap, depth);
                let b = a.bound;
                a.method("clone", &[], ty, b)
            }
            _ => {
                let a = self.tensor(shape, CAP, depth);
                let d = self.denominator(shape, false, depth.saturating_sub(1));
                let e = binop(&a, "/", &d, a.bound / 0.5);
                e.method("tanh", &[], ty, 1.0)
            }
        }
    }

    /// An operand that broadcasts to `shape` without changing it: the same shape, a row
    /// (`[n]` or `[1, n]`), a column `[m, 1]`, or a real.
    fn broadcast_operand(&mut self, shape: &[usize], cap: f64, depth: usize) -> E {
        let w = if shape.len() == 2 {
            [3.0, 1.5, 0.6, 0.8, 1.0]
        } else {
            [3.0, 0.0, 0.0, 0.0, 1.0]
        };
        match self.rng.weighted(&w) {
            0 => self.tensor(shape, cap, depth),
            1 => self.tensor(&shape[1..], cap, depth),
            2 => {
                let n = shape[1];
                let t = self.tensor(&[n], cap, depth);
                let b = t.bound;
                t.method(
                    "reshape",
                    &[format!("&[1, {n}]")],
                    Ty::Tensor(vec![1, n]),
                    b,
                )
            }
            3 => {
                let m = shape[0];
                let t = self.tensor(&[m], cap, depth);
                let b = t.bound;
                t.method(
                    "reshape",
                    &[format!("&[{m}, 1]")],
                    Ty::Tensor(vec![m, 1]),
                    b,
                )
            }
            _ => self.real(cap, depth.min(1)),
        }
    }

    /// A positive denominator (at least 0.5) that broadcasts to `shape` (of `shape` itself
    /// when `full`).
    fn denominator(&mut self, shape: &[usize], full: bool, depth: usize) -> E {
        let a = if full {
            self.tensor(shape, 3.0, depth)
        } else {
            self.broadcast_operand(shape, 3.0, depth)
        };
        let ty = a.ty.clone();
        let m = |e: &E, name: &str, b: f64| {
            if e.is_tensor() {
                e.method(name, &[], ty.clone(), b)
            } else {
                e.real_method(name, &[], b)
            }
        };
        match self.rng.below(4) {
            0 => binop(&m(&a, "sin", 1.0), "+", &lit(2.0), 3.0),
            1 => binop(&m(&a, "sigmoid", 1.0), "+", &lit(0.5), 1.5),
            2 => binop(&m(&a, "abs", a.bound), "+", &lit(1.0), a.bound + 1.0),
            _ => {
                let sq = if a.is_tensor() {
                    a.method("powi", &["2".into()], ty.clone(), 9.0)
                } else {
                    a.real_method("powi", &["2".into()], 9.0)
                };
                binop(&lit(1.0), "+", &sq, 10.0)
            }
        }
    }

    /// `a.matmul(&b)` giving `shape` (numpy's rules: a 1-d operand is a row or a column).
    fn matmul(&mut self, shape: &[usize], cap: f64, depth: usize) -> E {
        let k = *self.rng.pick(&self.dims.clone());
        let c = (cap / k as f64).sqrt();
        let (sa, sb) = match *shape {
            [m, n] => (vec![m, k], vec![k, n]),
            [n] if self.rng.chance(0.5) => (vec![k], vec![k, n]),
            [m] => (vec![m, k], vec![k]),
            _ => unreachable!(),
        };
        let a = self.tensor(&sa, c, depth);
        let b = self.tensor(&sb, c, depth);
        let bound = k as f64 * a.bound * b.bound;
        a.method("matmul", &[b.arg()], Ty::Tensor(shape.to_vec()), bound)
    }

    /// `base.powf(e)` with a positive base, `e` a real or a broadcast tensor.
    fn powf(&mut self, shape: &[usize], cap: f64, depth: usize) -> E {
        let ty = Ty::Tensor(shape.to_vec());
        let a = self.tensor(shape, CAP, depth);
        let (base, lo, hi) = if self.rng.chance(0.5) {
            let s = a.method("sigmoid", &[], ty.clone(), 1.0);
            (binop(&s, "+", &lit(0.5), 1.5), 0.5, 1.5)
        } else {
            let t = a.method("tanh", &[], ty.clone(), 1.0);
            let sq = t.method("powi", &["2".into()], ty.clone(), 1.0);
            (binop(&sq, "+", &lit(1.0), 2.0), 1.0, 2.0)
        };
        let spread = f64::max(hi, 1.0 / lo).ln();
        let e_cap = (cap.max(1.0).ln() / spread).clamp(0.1, 2.0);
        let e = self.broadcast_operand(shape, e_cap, depth);
        let arg = if e.is_tensor() {
            e.arg()
        } else {
            e.text.clone()
        };
        let bound = f64::max(hi, 1.0 / lo).powf(e.bound);
        base.method("powf", &[arg], ty, bound)
    }

    // ---- real expressions ----

    /// A real within `cap`.
    fn real(&mut self, cap: f64, depth: usize) -> E {
        let e = if depth == 0 || self.rng.chance(0.25) {
            self.real_leaf(cap)
        } else {
            self.real_node(cap, depth - 1)
        };
        self.fit(e, cap)
    }

    fn real_leaf(&mut self, cap: f64) -> E {
        let reals = self.readable(&Ty::Real);
        let ints = self.scope.ints();
        let pairs = self.pair_fields(&Ty::Real);
        let w = [
            1.0,
            if reals.is_empty() { 0.0 } else { 4.0 },
            if ints.is_empty() { 0.0 } else { 0.6 },
            if pairs.is_empty() { 0.0 } else { 1.0 },
            2.0,
        ];
        match self.rng.weighted(&w) {
            0 => {
                let m = *self.rng.pick(&[0.25, 0.5, 1.0, 1.5, 2.0]);
                let m = if m <= cap { m } else { nice_factor(cap) };
                lit(if self.rng.chance(0.3) { -m } else { m })
            }
            1 => {
                let (id, b) = self.scope.pick_unread(self.rng, &reals);
                self.read(id, b)
            }
            2 => {
                let id = *self.rng.pick(&ints);
                let Kind::Int(max) = self.scope.vars[id].kind else {
                    unreachable!()
                };
                E::real(
                    format!("{} as f64", self.scope.vars[id].name),
                    max as f64,
                    false,
                )
            }
            3 => {
                let (text, b) = self.rng.pick(&pairs).clone();
                E::real(text, b, true)
            }
            _ => {
                // A reduction of a tensor leaf.
                let s = self.any_shape();
                let t = self.tensor_leaf(&s, cap);
                let b = t.bound;
                t.real_method("mean", &[], b)
            }
        }
    }

    fn real_node(&mut self, cap: f64, depth: usize) -> E {
        let w = [
            3.0,                                             // sum / mean
            1.2,                                             // dot, 1-d matmul
            1.2,                                             // loss
            1.5,                                             // + -
            1.0,                                             // *
            1.0,                                             // one-input primitive
            if self.callees.is_empty() { 0.0 } else { 1.2 }, // call
            0.3,                                             // if expression
            0.02,                                            // stop_gradient
            1.2,                                             // get
        ];
        match self.rng.weighted(&w) {
            0 => {
                let s = self.any_shape();
                let n: usize = s.iter().product();
                if self.rng.chance(0.5) {
                    let t = self.tensor(&s, cap / n as f64, depth);
                    let b = t.bound * n as f64;
                    t.real_method("sum", &[], b)
                } else {
                    let t = self.tensor(&s, cap, depth);
                    let b = t.bound;
                    t.real_method("mean", &[], b)
                }
            }
            1 => {
                let n = *self.rng.pick(&self.dims.clone());
                let c = (cap / n as f64).sqrt();
                let a = self.tensor(&[n], c, depth);
                let b = self.tensor(&[n], c, depth);
                let bound = n as f64 * a.bound * b.bound;
                if self.rng.chance(0.7) {
                    a.real_method("dot", &[b.arg()], bound)
                } else {
                    // 1-d · 1-d is a 0-d tensor.
                    let p = a.method("matmul", &[b.arg()], Ty::Tensor(vec![]), bound);
                    p.real_method("sum", &[], bound)
                }
            }
            2 => self.loss(depth),
            3 => {
                let a = self.real(cap / 2.0, depth);
                let b = self.real(cap / 2.0, depth);
                let op = if self.rng.chance(0.5) { "+" } else { "-" };
                binop(&a, op, &b, a.bound + b.bound)
            }
            4 => {
                let a = self.real(cap.sqrt(), depth);
                let b = self.real(cap.sqrt(), depth);
                binop(&a, "*", &b, a.bound * b.bound)
            }
            5 => {
                let a = self.real(CAP, depth);
                match self.rng.below(4) {
                    0 => a.real_method("tanh", &[], 1.0),
                    1 => a.real_method("sin", &[], 1.0),
                    2 => {
                        let a = self.fit(a, 1.0);
                        a.real_method("exp", &[], 1f64.exp())
                    }
                    _ => {
                        let sq = binop(&a, "*", &a, a.bound * a.bound);
                        let arg = binop(&lit(1.0), "+", &sq, 1.0 + a.bound * a.bound);
                        let b = arg.bound.sqrt();
                        arg.real_method("sqrt", &[], b)
                    }
                }
            }
            6 => self.call(cap, depth),
            7 => {
                let c = self.condition(0);
                let a = self.real(cap, depth);
                let b = self.real(cap, depth);
                let bound = a.bound.max(b.bound);
                E::real(
                    format!("if {c} {{ {} }} else {{ {} }}", a.text, b.text),
                    bound,
                    false,
                )
            }
            9 => self.get(cap, depth),
            _ => {
                let a = self.real(cap, depth);
                self.stops = true;
                E::real(format!("grad::stop_gradient({})", a.text), a.bound, true)
            }
        }
    }

    /// A `grad::nn` loss of generated tensors.
    fn loss(&mut self, depth: usize) -> E {
        let s = self.any_shape();
        match self.rng.below(3) {
            0 => {
                let a = self.tensor(&s, 1.0, depth);
                let b = self.tensor(&s, 1.0, depth);
                let bound = (a.bound + b.bound).powi(2);
                E::real(
                    format!("grad::nn::mse({}, {})", a.arg(), b.arg()),
                    bound,
                    true,
                )
            }
            1 => {
                let a = self.tensor(&s, 2.0, depth);
                let b = self.tensor(&s, 1.0, depth);
                let bound = a.bound * (1.0 + b.bound) + 2f64.ln();
                E::real(
                    format!(
                        "grad::nn::binary_cross_entropy_with_logits({}, {})",
                        a.arg(),
                        b.arg()
                    ),
                    bound,
                    true,
                )
            }
            _ => {
                // One label per row (a 1-d tensor is one row), each below the class count.
                let classes = *s.last().expect("a dim");
                let rows = if s.len() == 2 { s[0] } else { 1 };
                let labels: Vec<String> = (0..rows)
                    .map(|_| self.rng.below(classes).to_string())
                    .collect();
                let a = self.tensor(&s, 1.5, depth);
                let bound = 2.0 * a.bound + (classes as f64).ln();
                E::real(
                    format!(
                        "grad::nn::cross_entropy({}, &[{}])",
                        a.arg(),
                        labels.join(", ")
                    ),
                    bound,
                    true,
                )
            }
        }
    }

    /// A call of an earlier tensor program whose shapes are over this program's dims.
    fn call(&mut self, cap: f64, depth: usize) -> E {
        let usable: Vec<usize> = (0..self.callees.len())
            .filter(|&i| {
                self.callees[i].params.iter().all(|p| match p.kind {
                    ParamKind::Tensor(s) => s.dims().iter().all(|d| self.dims.contains(d)),
                    _ => true,
                })
            })
            .collect();
        if usable.is_empty() {
            let s = self.any_shape();
            let t = self.tensor(&s, cap, depth);
            let b = t.bound;
            return t.real_method("mean", &[], b);
        }
        let i = *self.rng.pick(&usable);
        let callee = self.callees[i].clone();
        let mut args = Vec::new();
        for p in &callee.params {
            args.push(match p.kind {
                ParamKind::Tensor(s) => self.tensor(s.dims(), PARAM_BOUND, depth.min(1)).arg(),
                ParamKind::Scalar => self.real(PARAM_BOUND, depth.min(1)).text,
                ParamKind::Index => self.scope.small_int(self.rng, MAX_INDEX),
                ParamKind::Slice => unreachable!(),
            });
        }
        self.calls.push(i);
        self.stops |= callee.stops;
        let e = E::real(
            format!("{}({})", callee.name, args.join(", ")),
            callee.ret_bound,
            true,
        );
        self.fit(e, cap)
    }

    /// Readable tuple fields of type `ty`: their text and bound.
    fn pair_fields(&self, ty: &Ty) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        for id in self.scope.visible() {
            if let Kind::Pair(t0, b0, t1, b1) = &self.scope.vars[id].kind {
                let name = &self.scope.vars[id].name;
                if t0 == ty {
                    out.push((format!("{name}.0"), *b0));
                }
                if t1 == ty {
                    out.push((format!("{name}.1"), *b1));
                }
            }
        }
        out
    }

    /// The result: accumulators, unread values, and a random real, each within a share.
    fn final_expr(&mut self) -> E {
        let mut ids: Vec<usize> = self
            .scope
            .visible()
            .into_iter()
            .filter(|&id| {
                let v = &self.scope.vars[id];
                matches!(v.kind, Kind::Val(_)) && (v.accumulated || (!v.used && !v.param))
            })
            .collect();
        ids.sort_unstable();
        let n = ids.len() + self.rng.between(1, 2);
        let share = CAP / n as f64;
        let mut terms = Vec::new();
        for id in ids {
            let b = self.scope.vars[id].bound;
            let e = self.read(id, b);
            let e = if e.is_tensor() {
                let b = e.bound;
                e.real_method("mean", &[], b)
            } else {
                e
            };
            terms.push(self.fit(e, share));
        }
        while terms.len() < n {
            let e = self.real(share, 2);
            terms.push(e);
        }
        terms.sort_by_key(|t| t.untyped);
        let (text, bound) = sum(terms.iter().map(|t| (t.leading(), t.bound)));
        E::real(text, bound, false)
    }

    // ---- statements ----

    /// A chain of three to six pointwise operations on a tensor, bound at the top of the
    /// body and read by nothing else: the final expression folds it with `.mean()`, so the
    /// macro fuses the chain and its mean into one region (issue 13), which `_grad` runs in
    /// one loop when it is the whole result.
    fn chain(&mut self) {
        let tensors = self.tensors();
        if tensors.is_empty() {
            return;
        }
        let (id, shape, bound) = self.rng.pick(&tensors).clone();
        let ty = Ty::Tensor(shape);
        let mut e = self.read(id, bound).method("tanh", &[], ty.clone(), 1.0);
        for _ in 0..self.rng.between(2, 5) {
            let b = e.bound;
            e = match self.rng.below(6) {
                0 => e.method("sigmoid", &[], ty.clone(), 1.0),
                1 => e.method("sin", &[], ty.clone(), 1.0),
                2 if e.text.len() < 80 => binop(&e, "*", &e, b * b),
                2 => e.method("cos", &[], ty.clone(), 1.0),
                3 => e.method("exp", &[], ty.clone(), b.exp()),
                4 => binop(&e, "+", &lit(0.5), b + 0.5),
                _ => binop(&e, "*", &lit(-1.5), 1.5 * b),
            };
            if e.bound > CAP {
                e = e.method("tanh", &[], ty.clone(), 1.0);
            }
        }
        let name = self.scope.fresh_name("c");
        self.scope.line(&format!("let {name} = {};", e.owned()));
        self.scope.declare(&name, Kind::Val(ty), false, e.bound);
    }

    /// A value to bind: a tensor of some shape or a real.
    fn value(&mut self, depth: usize) -> E {
        if self.rng.chance(0.7) {
            let s = self.any_shape();
            self.tensor(&s, CAP, depth)
        } else {
            self.real(CAP, depth)
        }
    }

    /// A fresh name, or (sometimes) one shadowing a visible immutable value or parameter of
    /// the same type: every shape over the program's dims stays buildable from what is visible.
    fn binding_name(&mut self, prefix: &str, ty: &Ty) -> String {
        let names: Vec<usize> = self
            .scope
            .visible()
            .into_iter()
            .filter(|&id| {
                let v = &self.scope.vars[id];
                !v.mutable && v.kind == Kind::Val(ty.clone())
            })
            .collect();
        self.scope.binding_name(self.rng, prefix, &names)
    }

    fn let_mut(&mut self) {
        let depth = self.rng.between(1, 2);
        let e = self.value(depth);
        let name = self.scope.fresh_name("m");
        let ann = if e.untyped { ": f64" } else { "" };
        self.scope
            .line(&format!("let mut {name}{ann} = {};", e.owned()));
        self.scope
            .declare(&name, Kind::Val(e.ty.clone()), true, e.bound);
    }

    fn tuple_let(&mut self) {
        let a = self.value(2);
        let b = self.value(2);
        let tys = |e: &E| match &e.ty {
            Ty::Real => "f64".to_string(),
            Ty::Tensor(_) => "Tensor<f64>".to_string(),
        };
        let ann = if (a.untyped || b.untyped) || self.rng.chance(0.2) {
            format!(": ({}, {})", tys(&a), tys(&b))
        } else {
            String::new()
        };
        if self.rng.chance(0.5) {
            let (p, q) = (self.scope.fresh_name("a"), self.scope.fresh_name("b"));
            self.scope.line(&format!(
                "let ({p}, {q}){ann} = ({}, {});",
                a.owned(),
                b.owned()
            ));
            self.scope
                .declare(&p, Kind::Val(a.ty.clone()), false, a.bound);
            self.scope
                .declare(&q, Kind::Val(b.ty.clone()), false, b.bound);
        } else {
            let p = self.scope.fresh_name("p");
            self.scope
                .line(&format!("let {p}{ann} = ({}, {});", a.owned(), b.owned()));
            let kind = Kind::Pair(a.ty.clone(), a.bound, b.ty.clone(), b.bound);
            self.scope.declare(&p, kind, false, 0.0);
        }
    }

    /// A write that keeps the variable's role: any value outside loops, a value within the
    /// cap for a carried one, a bounded step for an accumulator.
    fn assignment(&mut self) {
        let targets = self.scope.assignable();
        let id = *self.rng.pick(&targets);
        let name = self.scope.vars[id].name.clone();
        let Kind::Val(ty) = self.scope.vars[id].kind.clone() else {
            unreachable!()
        };
        let depth = self.rng.between(1, 2);
        match self.scope.role(id) {
            Some(Role::Accumulator(step)) => {
                let e = self.same_ty_step(&ty, step, depth);
                let op = if self.rng.chance(0.7) { "+=" } else { "-=" };
                let rhs = if e.is_tensor() {
                    e.operand()
                } else {
                    e.text.clone()
                };
                self.scope.line(&format!("{name} {op} {rhs};"));
                self.scope.grow(id, step);
            }
            Some(Role::Carried(cap)) => self.carried_assignment(id, &ty, cap, depth),
            _ => {
                // Outside loops (or declared in this one): rebind freely.
                let e = self.of_ty(&ty, CAP, depth);
                if self.rng.chance(0.3) {
                    let e = self.fit(e, CAP / 2.0);
                    // `m += &m` would borrow `m` while it is written: a clone, as Rust needs.
                    let rhs = match (e.is_tensor(), e.form) {
                        (true, Form::Place) => format!("{}.clone()", e.text),
                        (true, _) => e.operand(),
                        _ => e.text.clone(),
                    };
                    self.scope.line(&format!("{name} += {rhs};"));
                    self.scope.vars[id].bound += e.bound;
                } else {
                    self.scope.line(&format!("{name} = {};", e.owned()));
                    self.scope.vars[id].bound = e.bound;
                }
            }
        }
    }

    fn of_ty(&mut self, ty: &Ty, cap: f64, depth: usize) -> E {
        match ty {
            Ty::Real => self.real(cap, depth),
            Ty::Tensor(s) => {
                let s = s.clone();
                self.tensor(&s, cap, depth)
            }
        }
    }

    /// A step for an accumulator of type `ty`: a tensor step may broadcast.
    fn same_ty_step(&mut self, ty: &Ty, step: f64, depth: usize) -> E {
        match ty {
            Ty::Real => self.real(step, depth),
            Ty::Tensor(s) => {
                let s = s.clone();
                self.broadcast_operand(&s, step, depth)
            }
        }
    }

    fn carried_assignment(&mut self, id: usize, ty: &Ty, cap: f64, depth: usize) {
        let name = self.scope.vars[id].name.clone();
        let var = self.read(id, cap);
        match self.rng.below(4) {
            0 => {
                let e = self.of_ty(ty, cap, depth);
                self.scope.line(&format!("{name} = {};", e.owned()));
            }
            1 => {
                // A convex mix keeps the cap.
                let a = *self.rng.pick(&[0.5, 0.25, 0.75]);
                let e = self.of_ty(ty, cap, depth);
                let left = binop(&var, "*", &lit(a), cap * a);
                let right = binop(&e, "*", &lit(1.0 - a), cap);
                let sum = binop(&left, "+", &right, cap);
                self.scope.line(&format!("{name} = {};", sum.text));
            }
            2 if cap >= 1.0 => {
                // `h = (h.matmul(w) + b).tanh()` and the like: squashed.
                let e = match ty {
                    Ty::Tensor(s) if s.len() == 2 && s[0] == s[1] && self.rng.chance(0.6) => {
                        let n = s[1];
                        let w = self.tensor(&[n, n], 1.0, depth);
                        let p = var.method("matmul", &[w.arg()], ty.clone(), n as f64 * cap);
                        let b = self.broadcast_operand(s, 1.0, depth.min(1));
                        binop(&p, "+", &b, p.bound + 1.0)
                    }
                    Ty::Tensor(s) if s.len() == 1 && self.rng.chance(0.6) => {
                        let n = s[0];
                        let w = self.tensor(&[n, n], 1.0, depth);
                        let p = var.method("matmul", &[w.arg()], ty.clone(), n as f64 * cap);
                        let b = self.broadcast_operand(s, 1.0, depth.min(1));
                        binop(&p, "+", &b, p.bound + 1.0)
                    }
                    _ => {
                        let e = self.of_ty(ty, CAP, depth);
                        binop(&var, "+", &e, cap + e.bound)
                    }
                };
                let t = if e.is_tensor() {
                    e.method("tanh", &[], ty.clone(), 1.0)
                } else {
                    e.real_method("tanh", &[], 1.0)
                };
                self.scope.line(&format!("{name} = {};", t.text));
            }
            _ => {
                let e = self.of_ty(ty, cap, depth);
                let m = if self.rng.chance(0.5) { "max" } else { "min" };
                let arg = if e.is_tensor() {
                    e.arg()
                } else {
                    e.text.clone()
                };
                let t = if var.is_tensor() {
                    var.method(m, &[arg], ty.clone(), cap)
                } else {
                    var.real_method(m, &[arg], cap)
                };
                self.scope.line(&format!("{name} = {};", t.text));
            }
        }
    }

    fn for_loop(&mut self) {
        let mut ends: Vec<(String, usize)> = vec![("2".into(), 2), ("3".into(), 3)];
        if self.has_index {
            ends.push(("k".into(), MAX_INDEX));
            ends.push(("k + 1".into(), MAX_INDEX + 1));
        }
        let (end, n) = self.rng.pick(&ends).clone();
        let range = match self.rng.below(4) {
            0 | 1 => format!("0..{end}"),
            2 => format!("(0..{end}).rev()"),
            _ => {
                let end = if end.contains(' ') {
                    format!("({end})")
                } else {
                    end
                };
                format!("1..={end}")
            }
        };
        let name = ["i", "j"][self.scope.frames.len()];
        let name = if self.rng.chance(0.3) { "_" } else { name };
        self.open_loop(n + 1, &format!("for {name} in {range} {{"));
        if name != "_" {
            self.scope.declare(name, Kind::Int(n), false, n as f64);
        }
        self.close_loop(1, 3, None);
    }

    fn while_loop(&mut self) {
        let counter = self.scope.fresh_name("c");
        let n = self.rng.between(1, 3);
        self.scope.line(&format!("let mut {counter} = 0;"));
        let extra = if self.rng.chance(0.3) {
            format!(" && {}", self.condition(0))
        } else {
            String::new()
        };
        self.open_loop(n, &format!("while {counter} < {n}{extra} {{"));
        self.scope.declare_counter(&counter, Kind::Int(n - 1));
        self.close_loop(1, 3, Some(&counter));
    }
}

impl Blocks for Gen<'_> {
    type VarKind = Kind;
    const TIGHT_JOIN: bool = false;
    const KEEP_ENTRY: bool = true;

    fn scope(&mut self) -> &mut Scope<Kind> {
        &mut self.scope
    }

    fn rng(&mut self) -> &mut Rng {
        self.rng
    }

    fn any_statement(&mut self, can_nest: bool, can_loop: bool) {
        let w = [
            3.0, // let
            1.5, // let mut
            if self.scope.assignable().is_empty() {
                0.0
            } else {
                3.0
            }, // assignment
            0.8, // tuple let
            if can_nest { 1.2 } else { 0.0 }, // if
            if can_nest && self.has_index { 0.4 } else { 0.0 }, // match
            if can_loop { 2.0 } else { 0.0 }, // for
            if can_loop { 0.4 } else { 0.0 }, // while
            0.1, // debug_assert!
        ];
        match self.rng.weighted(&w) {
            0 => self.let_stmt(),
            1 => self.let_mut(),
            2 => self.assignment(),
            3 => self.tuple_let(),
            4 => self.if_stmt(),
            5 => self.match_stmt(),
            6 => self.for_loop(),
            7 => self.while_loop(),
            _ => {
                let s = self.any_shape();
                let t = self.tensor_leaf(&s, CAP);
                self.scope
                    .line(&format!("debug_assert!({}.sum().is_finite());", t.recv()));
            }
        }
    }

    fn let_stmt(&mut self) {
        let depth = self.rng.between(1, MAX_EXPR_DEPTH);
        let e = self.value(depth);
        let name = self.binding_name("t", &e.ty);
        let ann = if e.untyped { ": f64" } else { "" };
        self.scope
            .line(&format!("let {name}{ann} = {};", e.owned()));
        self.scope
            .declare(&name, Kind::Val(e.ty.clone()), false, e.bound);
    }

    /// A condition on reals computed from tensors, or on integers.
    fn condition(&mut self, depth: usize) -> String {
        let op = *self.rng.pick(&["<", ">", "<=", ">="]);
        let ints = self.scope.ints();
        if !ints.is_empty() && self.rng.chance(0.25) {
            let id = *self.rng.pick(&ints);
            let name = self.scope.vars[id].name.clone();
            return match self.rng.below(2) {
                0 => format!("{name} % 2 == 0"),
                _ => format!("{name} {op} {}", self.rng.below(3)),
            };
        }
        let a = self.real(CAP, depth + 1);
        let c = if self.rng.chance(0.6) {
            lit(self.rng.uniform(-2.0, 2.0).round() / 2.0)
        } else {
            self.real(CAP, depth)
        };
        let s = format!("{} {op} {}", a.operand(), c.operand());
        if self.rng.chance(0.15) {
            format!("!({s})")
        } else {
            s
        }
    }

    /// Adds the current block's unread values to the sink (inside loops and branches), so
    /// that they reach the result and finite differences see them. For coverage only:
    /// programs without the sink (dead values in loops and branches) compile and pass
    /// (150 at each of two seeds).
    fn sink_unused(&mut self) {
        for (id, b) in self.scope.unread_locals() {
            let e = self.read(id, b);
            let e = if e.is_tensor() {
                e.real_method("mean", &[], b)
            } else {
                e
            };
            let e = self.fit(e, 1.0);
            self.scope.add_to_sink(self.sink, &e.text, e.bound);
        }
    }

    /// Gives every visible mutable value declared outside the new loop its role in it.
    fn enter_loop(&mut self, trips: usize) {
        let mut roles = Vec::new();
        for id in self.scope.visible() {
            let v = &self.scope.vars[id];
            if !v.mutable || !matches!(v.kind, Kind::Val(_)) {
                continue;
            }
            let role = if id == self.sink {
                Role::Accumulator(1.0)
            } else {
                match self.scope.role(id) {
                    Some(r) => r,
                    None => match self.rng.below(10) {
                        0..=5 => Role::Carried(v.bound.max(1.0)),
                        6..=7 => Role::Accumulator(*self.rng.pick(&[1.0, 0.5])),
                        _ => Role::ReadOnly,
                    },
                }
            };
            if matches!(role, Role::Carried(_) | Role::Accumulator(_)) && id != self.sink {
                self.scope.vars[id].accumulated = true;
            }
            roles.push((id, role));
        }
        self.scope.frames.push(Frame { trips, roles });
    }
}

#[cfg(test)]
mod tests {
    /// The generator's own invariants (every expression has the shape it was asked for,
    /// checked by `debug_assert`s) over many seeds, without compiling the programs.
    #[test]
    fn shapes_hold_over_many_seeds() {
        for seed in 0..300 {
            let programs = super::generate(20, seed, true);
            assert_eq!(programs.len(), 20);
        }
    }
}
