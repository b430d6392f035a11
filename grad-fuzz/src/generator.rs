//! The random-program generator: deterministic, seeded, and within the differentiable subset.
//!
//! Every program is a `#[differentiable] fn fN(...) -> f64` over 2-4 `f64` parameters and,
//! sometimes, a slice `v: &[f64]` and an index `k: usize`. Two invariants make each program
//! checkable at any test point:
//!
//! - **Domains by construction.** Every primitive with a restricted domain is only applied to
//!   a form that lies in it whatever its input: `ln` and `sqrt` of `1.0 + e * e`, division by
//!   `2.0 + e.sin()`, `powf` of a positive base, `tan` of a sine, `asin` of `0.9 * e.tanh()`.
//!   No program can produce NaN, and none depends on the test points for that.
//! - **Magnitudes by bound tracking.** Every expression carries a static bound on its absolute
//!   value, computed from its parts (`|a * b| <= |a| |b|`, `|tanh| <= 1`, ...), given that
//!   parameters lie in `[-PARAM_BOUND, PARAM_BOUND]`. An expression asked for with a cap gets
//!   one whose bound is within it, shrinking an operand (`e * 0.25`, `e.tanh()`, a clamp) when
//!   needed. Loops keep their bounds as invariants: a variable assigned in a loop is either
//!   *carried* (every write keeps it within a fixed cap, e.g. `s = 0.5 * s + 0.5 * e`) or an
//!   *accumulator* (only `+=`/`-=` of a bounded step, never read inside the loop, so its bound
//!   after the loop is its start plus the trip count times the step). Values therefore stay
//!   moderate, which keeps `exp` finite and finite differences meaningful.
//!
//! The output is Rust source: the programs, each followed by its own text as a `&str`, and a
//! `cases()` table of adapters that call the primal and its three derivatives through one
//! flat calling convention (`grad_fuzz::check::Case`).

use crate::rng::Rng;
use crate::scope::{Blocks, Frame, Kind, Role, Scope, sum};
use std::fmt::Write as _;

/// Test points draw each scalar parameter and slice element from `[-PARAM_BOUND, PARAM_BOUND]`.
pub const PARAM_BOUND: f64 = 1.5;
/// Test points draw the `usize` parameter from `0..=MAX_INDEX`.
pub const MAX_INDEX: usize = 3;
/// Test points draw the slice's length from `MIN_LEN..=MAX_LEN`.
pub const MIN_LEN: usize = 3;
pub const MAX_LEN: usize = 6;

/// Whether programs take a slice parameter.
///
/// Formerly avoided, now generated (fixed macro bug, `tests/regressions.rs`, `slice_element_read_twice`): the same
/// slice element read twice (`let t = v[0]; .. v[0].sin()`, `(x + v[2]) * (x + v[2])`) fails
/// to compile (E0716, temporary value dropped while borrowed). Random programs do that so
/// often that no run of 300 compiles; so a program reads each index expression only once,
/// and a `let` never binds a bare element.
const SLICES: bool = true;

/// Whether tuples are bound whole (`let p = (e1, e2);`, read as `p.0`); destructuring
/// (`let (a, b) = (e1, e2);`) is always generated.
///
/// Formerly avoided, now generated (fixed macro bugs, `tests/regressions.rs`,
/// `tuple_field_in_branch`, `tuple_field_in_nested_loop`): a field read in a nested `if`
/// failed to compile (E0596), and one read again in a loop nested there with E0716 or E0425.
const TUPLE_VALUES: bool = true;

/// The bound asked of a `let`-bound value or an assigned one.
const CAP: f64 = 4.0;
/// How deep expressions nest (operators and calls).
const MAX_EXPR_DEPTH: usize = 3;

/// What a parameter is, which decides how test points and tangents are passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// `name: f64`, differentiated.
    Scalar,
    /// `v: &[f64]`, differentiated; its tangent is a slice, its cotangent a `Vec`.
    Slice,
    /// `k: usize`, not differentiated: `NoTangent` in both modes.
    Index,
    /// `name: &Tensor<f64>` of a fixed shape, differentiated; its tangent is a `&Tensor`, its
    /// cotangent a `Tensor` (tensor programs, `tensor_generator`).
    Tensor(Shape),
}

/// A tensor parameter's shape: `[n]` or `[m, n]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    dims: [usize; 2],
    ndim: usize,
}

impl Shape {
    /// The shape with these dims (one or two).
    pub fn of(dims: &[usize]) -> Self {
        let mut d = [0; 2];
        d[..dims.len()].copy_from_slice(dims);
        Shape {
            dims: d,
            ndim: dims.len(),
        }
    }

    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.ndim]
    }

    /// The element count.
    pub fn elements(&self) -> usize {
        self.dims().iter().product()
    }

    /// As Rust source: `[2, 3]`.
    pub fn text(&self) -> String {
        format!("{:?}", self.dims())
    }
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub kind: ParamKind,
}

/// One generated function and what callers and the checker need to know of it.
#[derive(Clone, Debug)]
pub struct Program {
    pub name: String,
    pub params: Vec<Param>,
    /// The function's source, attribute included.
    pub source: String,
    /// Earlier programs it calls, directly.
    pub calls: Vec<usize>,
    /// A bound on the absolute value it returns.
    pub ret_bound: f64,
    /// Whether it (or a callee) rounds a differentiated value through `f32`; such programs
    /// are checked with tolerances for single precision.
    pub relaxed: bool,
    /// Whether it (or a callee) calls `grad::stop_gradient`: its derivative then differs from
    /// the primal's finite differences by design, so only forward and reverse mode are compared.
    pub stops: bool,
}

impl Param {
    pub(crate) fn new(name: &str, kind: ParamKind) -> Self {
        Param {
            name: name.to_string(),
            kind,
        }
    }

    /// As the signature declares it: `x: f64`, `v: &[f64]`, `k: usize`, `t: &Tensor<f64>`.
    fn declaration(&self) -> String {
        let ty = match self.kind {
            ParamKind::Scalar => "f64",
            ParamKind::Slice => "&[f64]",
            ParamKind::Index => "usize",
            ParamKind::Tensor(_) => "&Tensor<f64>",
        };
        format!("{}: {ty}", self.name)
    }
}

impl Program {
    /// `#[differentiable] fn name(params) -> f64 { body }`, calling each of `calls` (which
    /// may repeat) and returning within `ret_bound`; neither relaxed nor stopping gradients
    /// until its generator says so.
    pub(crate) fn new(
        name: String,
        params: Vec<Param>,
        body: &str,
        mut calls: Vec<usize>,
        ret_bound: f64,
    ) -> Self {
        let sig = params
            .iter()
            .map(Param::declaration)
            .collect::<Vec<_>>()
            .join(", ");
        let source = format!("#[differentiable]\nfn {name}({sig}) -> f64 {{\n{body}}}\n");
        calls.sort_unstable();
        calls.dedup();
        Program {
            name,
            params,
            source,
            calls,
            ret_bound,
            relaxed: false,
            stops: false,
        }
    }
}

/// Generates `count` programs from `seed`; program `i` may call programs `0..i`.
pub fn generate(count: usize, seed: u64) -> Vec<Program> {
    programs(count, seed, "f", |rng, callees, name| {
        FnGen::new(rng, callees).function(name)
    })
}

/// `count` programs from `seed`, named `{prefix}0, {prefix}1, ...`, each written by `one`
/// from the stream and the programs before it (its callees) under its name.
pub(crate) fn programs(
    count: usize,
    seed: u64,
    prefix: &str,
    one: impl Fn(&mut Rng, &[Program], String) -> Program,
) -> Vec<Program> {
    let mut rng = Rng::new(seed);
    let mut programs: Vec<Program> = Vec::with_capacity(count);
    for i in 0..count {
        let program = one(&mut rng, &programs, format!("{prefix}{i}"));
        programs.push(program);
    }
    programs
}

/// The generated test source: programs, their texts, and the `cases()` table.
pub fn render(programs: &[Program], seed: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// @generated by grad-fuzz/build.rs: {} programs from seed {seed:#x}. Do not edit.\n",
        programs.len()
    );
    out.push_str(
        "#[allow(unused_imports)]\nuse grad::{NoTangent, Real, Tensor, differentiable};\n",
    );
    out.push_str("use grad_fuzz::check::{Case, Input, tensor};\n\n");
    let _ = writeln!(
        out,
        "/// The seed the programs came from; test points derive from it too."
    );
    let _ = writeln!(out, "pub const SEED: u64 = {seed:#x};\n");
    for (i, p) in programs.iter().enumerate() {
        out.push_str(&p.source);
        let _ = writeln!(
            out,
            "const {}_SRC: &str = r####\"{}\"####;\n",
            p.name.to_uppercase(),
            with_callees(programs, i)
        );
    }
    out.push_str("/// Every program, behind the checker's calling convention.\n");
    out.push_str("pub fn cases() -> Vec<Case> {\n    vec![\n");
    for p in programs {
        out.push_str(&adapter(p));
    }
    out.push_str("    ]\n}\n");
    out
}

/// The source of program `i` preceded by every program it reaches through calls, so that a
/// failure's printout compiles on its own.
fn with_callees(programs: &[Program], i: usize) -> String {
    let mut needed = vec![false; i + 1];
    let mut stack = vec![i];
    while let Some(j) = stack.pop() {
        if !needed[j] {
            needed[j] = true;
            stack.extend(programs[j].calls.iter().copied());
        }
    }
    let mut s = String::new();
    for (j, n) in needed.iter().enumerate() {
        if *n {
            s.push_str(&programs[j].source);
        }
    }
    s
}

/// One `Case { .. }` entry: closures that spread `Input`'s flat scalars `x`, slice `v`,
/// tensors `t` and index `k` over the program's parameters, and gather gradients back in the
/// same order (scalars in declaration order, then the slice's elements, then each tensor's).
fn adapter(p: &Program) -> String {
    let mut args = Vec::new();
    let mut tangents = Vec::new();
    let mut slots = Vec::new();
    let mut gathered = Vec::new();
    let mut tensors = Vec::new();
    let mut make = String::new();
    let mut scalars = 0;
    let mut slice = false;
    let mut index = false;
    let mut offset = 0;
    for param in &p.params {
        match param.kind {
            ParamKind::Scalar => {
                args.push(format!("a.x[{scalars}]"));
                tangents.push(format!("d[{scalars}]"));
                slots.push(format!("g{scalars}"));
                gathered.push(format!("g{scalars}"));
                scalars += 1;
            }
            ParamKind::Slice => {
                slice = true;
                args.push("&a.v".into());
                tangents.push("&d[a.x.len()..a.x.len() + a.v.len()]".into());
                slots.push("gv".into());
            }
            ParamKind::Index => {
                index = true;
                args.push("a.k".into());
                tangents.push("NoTangent".into());
                slots.push("NoTangent".into());
            }
            ParamKind::Tensor(shape) => {
                let j = tensors.len();
                let (len, dims) = (shape.elements(), shape.text());
                let _ = write!(make, "let t{j} = tensor(&a.t[{j}], &{dims}); ");
                args.push(format!("&t{j}"));
                tangents.push(format!(
                    "&tensor(&d[a.x.len() + a.v.len() + {offset}..][..{len}], &{dims})"
                ));
                slots.push(format!("gt{j}"));
                offset += len;
                tensors.push(dims);
            }
        }
    }
    let grad_slots: Vec<&String> = slots.iter().filter(|s| *s != "NoTangent").collect();
    let mut extend = String::from(if slice { " g.extend(gv);" } else { "" });
    for j in 0..tensors.len() {
        let _ = write!(extend, " g.extend(gt{j}.to_vec());");
    }
    let (args, tangents, slots) = (args.join(", "), tangents.join(", "), slots.join(", "));
    let grad_slots = grad_slots
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let gathered = gathered.join(", ");
    let tensors = tensors
        .iter()
        .map(|d| format!("&{d}"))
        .collect::<Vec<_>>()
        .join(", ");
    let name = &p.name;
    format!(
        "        Case {{
            name: \"{name}\",
            source: {upper}_SRC,
            scalars: {scalars},
            slice: {slice},
            tensors: &[{tensors}],
            index: {index},
            relaxed: {relaxed},
            stops: {stops},
            primal: |a: &Input| {{ {make}{name}({args}) }},
            grad: |a: &Input| {{
                {make}let (y, ({grad_slots})) = {name}_grad({args});
                #[allow(unused_mut)]
                let mut g = vec![{gathered}];{extend}
                (y, g)
            }},
            vjp: |a: &Input, w: f64| {{
                {make}let (y, pullback) = {name}_vjp({args});
                let ({slots}) = pullback(w);
                #[allow(unused_mut)]
                let mut g = vec![{gathered}];{extend}
                (y, g)
            }},
            jvp: |a: &Input, d: &[f64]| {{ {make}{name}_jvp({args}, {tangents}) }},
        }},\n",
        upper = name.to_uppercase(),
        relaxed = p.relaxed,
        stops = p.stops,
    )
}

// ---- expressions --------------------------------------------------------------------------

/// A generated expression: its text and a bound on its absolute value.
#[derive(Clone, Debug)]
struct Expr {
    text: String,
    bound: f64,
    /// Needs no parentheses as an operand or a method receiver.
    atomic: bool,
    /// Known to be `f64` without context. A float literal, or arithmetic of literals only,
    /// is `{float}`: Rust rejects a method call on it and needs a `let` to be annotated.
    typed: bool,
    /// Reads no variable (literals and functions of literals only).
    constant: bool,
}

impl Expr {
    fn atom(text: String, bound: f64) -> Self {
        Expr {
            text,
            bound,
            atomic: true,
            typed: true,
            constant: false,
        }
    }
    fn compound(text: String, bound: f64) -> Self {
        Expr {
            text,
            bound,
            atomic: false,
            typed: true,
            constant: false,
        }
    }
    /// The same, typed only if one of `parts` is, constant only if all are.
    fn typed_by(mut self, parts: &[&Expr]) -> Self {
        self.typed = parts.iter().any(|p| p.typed);
        self.constant = !parts.is_empty() && parts.iter().all(|p| p.constant);
        self
    }
    /// Safe in statement position (a block's tail, the left of a binary operator): an `if`,
    /// `match` or block there would end the expression early.
    fn leading(&self) -> String {
        if self.text.starts_with("if ")
            || self.text.starts_with("match ")
            || self.text.starts_with('{')
        {
            format!("({})", self.text)
        } else {
            self.text.clone()
        }
    }
    /// The text, parenthesized unless atomic.
    fn operand(&self) -> String {
        if self.atomic {
            self.text.clone()
        } else {
            format!("({})", self.text)
        }
    }
}

/// A float literal as Rust source (always with a decimal point; negatives parenthesized).
fn lit(v: f64) -> Expr {
    let text = if v < 0.0 {
        format!("({v:?})")
    } else {
        format!("{v:?}")
    };
    Expr {
        text,
        bound: v.abs(),
        atomic: true,
        typed: false,
        constant: true,
    }
}

/// Parenthesizes every compound subexpression (`x + (0.5 * 0.5)`).
///
/// Formerly avoided, now generated (fixed macro bug, `tests/regressions.rs`, `unparenthesized_constant_arithmetic`):
/// arithmetic on constants left unparenthesized inside an expression with a differentiated
/// value (`x - 0.5 * 0.5`, `z /= 1.0 + 2.0`, `m /= 1.5 + f64::cos(2.0)`) does not compile;
/// in parentheses it does.
fn guard(e: Expr) -> Expr {
    if e.atomic {
        e
    } else {
        Expr {
            text: format!("({})", e.text),
            atomic: true,
            ..e
        }
    }
}

/// The largest "round" factor at most `r` (`r > 0`), so that scaled bounds stay provable.
pub(crate) fn nice_factor(r: f64) -> f64 {
    const NICE: [f64; 14] = [
        1.0, 0.75, 0.5, 0.4, 0.3, 0.25, 0.2, 0.1, 0.05, 0.025, 0.01, 0.005, 0.002, 0.001,
    ];
    NICE.iter().copied().find(|&c| c <= r).unwrap_or(0.0005)
}

// ---- variables, scopes, loops -------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum VarKind {
    Real,
    /// A loop index or counter (or `k`): at most `max`, and `< v.len()` when `below_len`.
    Int {
        max: usize,
        below_len: bool,
    },
    /// A tuple of two reals with the bounds of its fields.
    Pair(f64, f64),
}

impl Kind for VarKind {
    fn is_value(&self) -> bool {
        *self == VarKind::Real
    }
    fn int_max(&self) -> Option<usize> {
        match *self {
            VarKind::Int { max, .. } => Some(max),
            _ => None,
        }
    }
}

/// The state of one function's generation.
struct FnGen<'a> {
    rng: &'a mut Rng,
    callees: &'a [Program],
    scope: Scope<VarKind>,
    has_slice: bool,
    has_index: bool,
    relaxed: bool,
    stops: bool,
    calls: Vec<usize>,
    /// Inside a `while` body: no nested loops.
    ///
    /// Formerly avoided, now generated (fixed macro bug, `tests/regressions.rs`, `while_counter_in_nested_for`):
    /// a `for` inside a `while` whose body reads the counter in differentiated code fails
    /// to compile (`cannot find value __grad_c_3`).
    in_while: bool,
    /// The accumulator that unused loop-body locals are added to (see `Var::accumulated`).
    sink: Option<usize>,
    /// Slice index expressions already read (see `SLICES`).
    indices: Vec<String>,
}

impl<'a> FnGen<'a> {
    fn new(rng: &'a mut Rng, callees: &'a [Program]) -> Self {
        FnGen {
            rng,
            callees,
            scope: Scope::new(),
            has_slice: false,
            has_index: false,
            relaxed: false,
            stops: false,
            calls: Vec::new(),
            in_while: false,
            sink: None,
            indices: Vec::new(),
        }
    }

    /// One whole function.
    fn function(mut self, name: String) -> Program {
        let mut params: Vec<Param> = ["x", "y", "z", "w"][..self.rng.between(2, 4)]
            .iter()
            .map(|n| Param::new(n, ParamKind::Scalar))
            .collect();
        if SLICES && self.rng.chance(0.45) {
            params.push(Param::new("v", ParamKind::Slice));
        }
        if self.rng.chance(0.45) {
            params.push(Param::new("k", ParamKind::Index));
        }
        // Shuffle, so that slots of every kind appear in every position.
        self.rng.shuffle(&mut params);
        for p in &params {
            match p.kind {
                ParamKind::Scalar => {
                    self.scope
                        .declare(&p.name, VarKind::Real, false, PARAM_BOUND);
                }
                ParamKind::Slice => self.has_slice = true,
                ParamKind::Tensor(_) => unreachable!("scalar programs take no tensor"),
                ParamKind::Index => {
                    self.has_index = true;
                    let kind = VarKind::Int {
                        max: MAX_INDEX,
                        below_len: false,
                    };
                    self.scope.declare("k", kind, false, MAX_INDEX as f64);
                }
            }
        }
        self.sink = Some(self.scope.declare_sink(VarKind::Real));
        self.scope.budget = self.rng.between(3, 14);
        let top = self.rng.between(2, 6);
        for _ in 0..top {
            self.statement();
        }
        let ret = self.final_expr();
        self.scope.tail(self.rng, &ret.text);
        Program {
            relaxed: self.relaxed,
            stops: self.stops,
            ..Program::new(name, params, &self.scope.out, self.calls, ret.bound)
        }
    }

    fn readable_reals(&self) -> Vec<(usize, f64)> {
        self.scope.readable(|k| *k == VarKind::Real)
    }

    // ---- expressions ----

    /// An expression whose absolute value is at most `cap`.
    fn expr(&mut self, cap: f64, depth: usize) -> Expr {
        let e = if depth == 0 || self.rng.chance(0.25) {
            self.leaf(cap)
        } else {
            self.node(cap, depth - 1)
        };
        let e = self.fit(e, cap);
        guard(e)
    }

    /// Shrinks `e` to a bound within `cap`, by a factor or a squashing primitive.
    fn fit(&mut self, e: Expr, cap: f64) -> Expr {
        if e.bound <= cap {
            return e;
        }
        match self.rng.below(6) {
            0 if cap >= 1.0 => self.method(e, "tanh", &[], 1.0),
            1 if cap >= 1.0 => self.method(e, "sin", &[], 1.0),
            2 if cap >= 1.0 => self.method(e, "sigmoid", &[], 1.0),
            3 if cap >= 1.6 => self.method(e, "atan", &[], std::f64::consts::FRAC_PI_2),
            4 => {
                let c = nice_factor(cap);
                let lo = lit(-c);
                self.method(e, "clamp", &[lo.text, format!("{c:?}")], c)
            }
            _ => {
                let c = nice_factor(cap / e.bound);
                Expr::compound(format!("{} * {c:?}", e.operand()), e.bound * c).typed_by(&[&e])
            }
        }
    }

    /// `recv.name(args)`, or `f64::name(recv, args)` (always for an untyped receiver).
    fn method(&mut self, recv: Expr, name: &str, args: &[String], bound: f64) -> Expr {
        let text = if !recv.typed || self.rng.chance(0.08) {
            let mut all = vec![recv.text];
            all.extend(args.iter().cloned());
            format!("f64::{name}({})", all.join(", "))
        } else {
            format!("{}.{name}({})", recv.operand(), args.join(", "))
        };
        let constant = recv.constant
            && args
                .iter()
                .all(|a| a.chars().all(|c| c.is_ascii_digit() || "().- ".contains(c)));
        Expr {
            constant,
            ..Expr::atom(text, bound)
        }
    }

    fn leaf(&mut self, cap: f64) -> Expr {
        let reals = self.readable_reals();
        let ints = self.scope.ints();
        let weights = [
            1.0,                                      // literal
            if reals.is_empty() { 0.0 } else { 6.0 }, // variable
            if self.has_slice { 2.0 } else { 0.0 },   // slice element
            if ints.is_empty() { 0.0 } else { 0.7 },  // integer cast
            if self.has_pairs() { 0.8 } else { 0.0 }, // tuple field
        ];
        match self.rng.weighted(&weights) {
            0 => {
                let mags = [0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0];
                let fitting: Vec<f64> = mags.iter().copied().filter(|m| *m <= cap).collect();
                let m = if fitting.is_empty() {
                    nice_factor(cap)
                } else {
                    *self.rng.pick(&fitting)
                };
                lit(if self.rng.chance(0.3) { -m } else { m })
            }
            1 => {
                let (id, bound) = self.scope.pick_unread(self.rng, &reals);
                self.scope.vars[id].used = true;
                Expr::atom(self.scope.vars[id].name.clone(), bound)
            }
            2 => {
                // Element expressions may repeat (see `SLICES`).
                let index = self.index_expr();
                self.indices.push(index.clone());
                Expr::atom(format!("v[{index}]"), PARAM_BOUND)
            }
            3 => {
                let id = *self.rng.pick(&ints);
                let VarKind::Int { max, .. } = self.scope.vars[id].kind else {
                    unreachable!()
                };
                let name = self.scope.vars[id].name.clone();
                if self.rng.chance(0.2) {
                    // Through f32 and back: exact for small integers.
                    Expr::compound(format!("({name} as f32) as f64"), max as f64)
                } else {
                    Expr::compound(format!("{name} as f64"), max as f64)
                }
            }
            _ => {
                let pairs = self.pairs();
                let id = *self.rng.pick(&pairs);
                let VarKind::Pair(b0, b1) = self.scope.vars[id].kind else {
                    unreachable!()
                };
                let field = self.rng.below(2);
                let b = if field == 0 { b0 } else { b1 };
                Expr::atom(format!("{}.{field}", self.scope.vars[id].name), b)
            }
        }
    }

    fn has_pairs(&self) -> bool {
        !self.pairs().is_empty()
    }

    /// Tuples whose fields may be read here: every visible one, in the block of its `let` or
    /// in any block nested below it.
    ///
    /// Formerly avoided, now generated (fixed macro bugs, `tests/regressions.rs`,
    /// `tuple_field_in_branch` and `tuple_field_in_nested_loop`): a field read in a block
    /// nested below the tuple's `let`, inside loops, failed to compile (E0596, E0716, E0425).
    fn pairs(&self) -> Vec<usize> {
        self.scope
            .visible()
            .into_iter()
            .filter(|&id| matches!(self.scope.vars[id].kind, VarKind::Pair(..)))
            .collect()
    }

    /// An in-range index into `v` (whose length is at least `MIN_LEN`).
    fn index_expr(&mut self) -> String {
        let ints = self.scope.ints();
        if ints.is_empty() || self.rng.chance(0.15) {
            return match self.rng.below(3) {
                0 => format!("{}", self.rng.below(MIN_LEN)),
                1 => "v.len() - 1".into(),
                _ => "v.len() / 2".into(),
            };
        }
        let id = *self.rng.pick(&ints);
        let name = self.scope.vars[id].name.clone();
        let VarKind::Int { below_len, .. } = self.scope.vars[id].kind else {
            unreachable!()
        };
        if below_len && self.rng.chance(0.5) {
            if self.rng.chance(0.3) {
                format!("v.len() - 1 - {name}")
            } else {
                name
            }
        } else {
            let other = *self.rng.pick(&ints);
            let other = self.scope.vars[other].name.clone();
            let e = match self.rng.below(4) {
                0 => name,
                1 => format!("{name} + 1"),
                2 => format!("{name} + {other}"),
                _ => format!("2 * {name} + {other}"),
            };
            if e.contains(' ') {
                format!("({e}) % v.len()")
            } else {
                format!("{e} % v.len()")
            }
        }
    }

    /// A positive denominator in `[lo, hi]` with `lo >= 0.5`, as an operand.
    fn denominator(&mut self, depth: usize) -> Expr {
        let c;
        let d = match self.rng.below(5) {
            0 => {
                let e = self.expr(3.0, depth);
                c = e.constant;
                format!("2.0 + {}", self.method(e, "sin", &[], 1.0).text)
            }
            1 => {
                let e = self.expr(2.0, depth);
                let t = e.operand();
                return guard(Expr::compound(format!("1.0 + {t} * {t}"), 5.0).typed_by(&[&e]));
            }
            2 => {
                let e = self.expr(CAP, depth);
                c = e.constant;
                format!("1.0 + {}", self.method(e, "abs", &[], CAP).text)
            }
            3 => {
                let e = self.expr(3.0, depth);
                c = e.constant;
                format!("1.5 + {}", self.method(e, "cos", &[], 1.0).text)
            }
            _ => {
                let e = self.expr(3.0, depth);
                c = e.constant;
                format!("1.0 + {}", self.method(e, "sigmoid", &[], 1.0).text)
            }
        };
        Expr {
            constant: c,
            ..Expr::compound(d, 5.0)
        }
    }

    fn node(&mut self, cap: f64, depth: usize) -> Expr {
        const PRODUCTIONS: [f64; 14] = [
            3.0,  // + -
            2.5,  // *
            1.2,  // /
            0.6,  // unary -
            5.0,  // one-input primitive
            1.5,  // two-input primitive
            1.0,  // call of an earlier program
            0.08, // stop_gradient: rare, since it turns off the finite-difference check, transitively
            0.4,  // cast
            0.3,  // if expression
            0.2,  // match expression
            0.2,  // block expression
            0.15, // rounding (piecewise constant)
            0.4,  // powf
        ];
        let mut w = PRODUCTIONS;
        if self.callees.is_empty() {
            w[6] = 0.0;
        }
        if !self.has_index {
            w[10] = 0.0;
        }
        match self.rng.weighted(&w) {
            0 => {
                let a = self.expr(cap / 2.0, depth);
                let b = self.expr(cap / 2.0, depth);
                let op = if self.rng.chance(0.5) { "+" } else { "-" };
                let b_text = if op == "-" {
                    b.operand()
                } else {
                    b.text.clone()
                };
                Expr::compound(format!("{} {op} {b_text}", a.leading()), a.bound + b.bound)
                    .typed_by(&[&a, &b])
            }
            1 => {
                let c = cap.sqrt();
                let a = self.expr(c, depth);
                let b = self.expr(c, depth);
                Expr::compound(
                    format!("{} * {}", a.operand(), b.operand()),
                    a.bound * b.bound,
                )
                .typed_by(&[&a, &b])
            }
            2 => {
                let a = self.expr(cap, depth);
                let d = self.denominator(depth.saturating_sub(1));
                Expr::compound(format!("{} / {}", a.operand(), d.operand()), a.bound / 0.5)
                    .typed_by(&[&a, &d])
            }
            3 => {
                let a = self.expr(cap, depth);
                Expr::compound(format!("-{}", a.operand()), a.bound).typed_by(&[&a])
            }
            4 => self.unary(cap, depth),
            5 => self.binary(cap, depth),
            6 => self.call(cap, depth),
            7 => {
                let a = self.expr(cap, depth);
                self.stops = true;
                Expr::atom(format!("grad::stop_gradient({})", a.text), a.bound).typed_by(&[&a])
            }
            8 => self.cast(cap, depth),
            9 => {
                let c = self.condition(depth);
                let a = self.expr(cap, depth);
                let b = self.expr(cap, depth);
                Expr::compound(
                    format!("if {c} {{ {} }} else {{ {} }}", a.text, b.text),
                    a.bound.max(b.bound),
                )
                .typed_by(&[&a, &b])
            }
            10 => {
                let a = self.expr(cap, depth);
                let b = self.expr(cap, depth);
                let c = self.expr(cap, depth);
                Expr::compound(
                    format!(
                        "match k {{ 0 => {}, 1 | 2 => {}, _ => {} }}",
                        a.text, b.text, c.text
                    ),
                    a.bound.max(b.bound).max(c.bound),
                )
                .typed_by(&[&a, &b, &c])
            }
            11 => {
                let a = self.expr(cap.sqrt(), depth);
                let t = self.scope.fresh_name("b");
                Expr::compound(
                    format!("{{ let {t} = {}; {t} * {t} }}", a.text),
                    a.bound * a.bound,
                )
                .typed_by(&[&a])
            }
            12 => {
                let a = self.expr((cap - 1.0).max(0.5), depth);
                let m = *self
                    .rng
                    .pick(&["floor", "ceil", "round", "trunc", "signum"]);
                let b = a.bound + 1.0;
                self.method(a, m, &[], b)
            }
            _ => self.powf(cap, depth),
        }
    }

    /// A one-input primitive, its argument shaped to lie in the primitive's domain.
    fn unary(&mut self, cap: f64, depth: usize) -> Expr {
        match self.rng.below(22) {
            0 => {
                let a = self.expr(cap.ln().clamp(0.25, 2.0), depth);
                let b = a.bound.exp();
                self.method(a, "exp", &[], b)
            }
            1 => {
                let ae = self.expr(3.0, depth);
                let a = ae.operand();
                let arg = Expr {
                    constant: ae.constant,
                    ..Expr::compound(format!("1.0 + ({a} * {a})"), 10.0)
                };
                self.method(arg, "ln", &[], 10f64.ln())
            }
            2 => {
                let ae = self.expr(3.0, depth);
                let a = ae.operand();
                let arg = Expr {
                    constant: ae.constant,
                    ..Expr::compound(format!("1.0 + ({a} * {a})"), 10.0)
                };
                self.method(arg, "sqrt", &[], 10f64.sqrt())
            }
            3 => {
                let n = *self.rng.pick(&[0, 1, 2, 2, 3, -1, -2]);
                if n < 0 {
                    let a = self.expr(3.0, depth);
                    let sin = self.method(a, "sin", &[], 1.0);
                    let base = Expr {
                        constant: sin.constant,
                        ..Expr::compound(format!("2.0 + {}", sin.text), 3.0)
                    };
                    self.method(base, "powi", &[n.to_string()], 1.0)
                } else {
                    let a = self.expr(cap.powf(1.0 / f64::from(n.max(1))), depth);
                    let b = a.bound.powi(n);
                    self.method(a, "powi", &[n.to_string()], b)
                }
            }
            4 => {
                let a = self.expr(3.0, depth);
                self.method(a, "sin", &[], 1.0)
            }
            5 => {
                let a = self.expr(3.0, depth);
                self.method(a, "cos", &[], 1.0)
            }
            6 => {
                // |sin| <= 1 < π/2: tan stays finite; tan(1) < 1.6.
                let a = self.expr(3.0, depth);
                let s = self.method(a, "sin", &[], 1.0);
                self.method(s, "tan", &[], 1.6)
            }
            7 => {
                let a = self.expr(CAP, depth);
                self.method(a, "tanh", &[], 1.0)
            }
            8 => {
                let a = self.expr(cap, depth);
                let b = a.bound;
                self.method(a, "abs", &[], b)
            }
            9 => {
                let a = self.expr(CAP, depth);
                self.method(a, "sigmoid", &[], 1.0)
            }
            10 => {
                let a = self.expr(cap, depth);
                let b = a.bound;
                self.method(a, "relu", &[], b)
            }
            11 => {
                let lo = -nice_factor(cap) * if self.rng.chance(0.5) { 1.0 } else { 0.5 };
                let hi = nice_factor(cap);
                let a = self.expr(CAP, depth);
                self.method(a, "clamp", &[lit(lo).text, lit(hi).text], hi.max(-lo))
            }
            12 => {
                let d = self.denominator(depth);
                self.method(d, "recip", &[], 2.0)
            }
            13 => {
                let a = self.expr(CAP, depth);
                let b = a.bound.min(std::f64::consts::FRAC_PI_2);
                self.method(a, "atan", &[], b)
            }
            14 => {
                let a = self.expr(cap.asinh().min(2.0), depth);
                let b = a.bound.sinh();
                self.method(a, "sinh", &[], b)
            }
            15 if cap >= 1.6 => {
                let a = self.expr(cap.acosh().min(2.0), depth);
                let b = a.bound.cosh();
                self.method(a, "cosh", &[], b)
            }
            16 if cap >= 1.6 => {
                let a = self.expr(CAP, depth);
                let t = self.method(a, "tanh", &[], 1.0);
                let arg = Expr {
                    constant: t.constant,
                    ..Expr::compound(format!("0.9 * {}", t.text), 0.9)
                };
                let m = if self.rng.chance(0.5) { "asin" } else { "acos" };
                self.method(arg, m, &[], std::f64::consts::PI)
            }
            17 => {
                let a = self.expr(2.0, depth);
                let m = if self.rng.chance(0.5) {
                    "exp2"
                } else {
                    "exp_m1"
                };
                // Both are at most e^|a|.
                let b = a.bound.exp();
                self.method(a, m, &[], b)
            }
            18 => {
                let ae = self.expr(3.0, depth);
                let a = ae.operand();
                let arg = Expr {
                    constant: ae.constant,
                    ..Expr::compound(format!("1.0 + ({a} * {a})"), 10.0)
                };
                let m = *self.rng.pick(&["log2", "log10", "cbrt"]);
                self.method(arg, m, &[], 10f64.log2())
            }
            19 => {
                let ae = self.expr(3.0, depth);
                let a = ae.operand();
                let arg = Expr {
                    constant: ae.constant,
                    ..Expr::compound(format!("({a} * {a})"), 9.0)
                };
                self.method(arg, "ln_1p", &[], 10f64.ln())
            }
            20 => {
                let a = self.expr(cap.min(2.0), depth);
                let b = a.bound.cbrt().max(a.bound);
                self.method(a, "cbrt", &[], b)
            }
            _ => {
                let a = self.expr(cap, depth);
                let b = a.bound;
                let c = a.constant;
                Expr {
                    constant: c,
                    ..Expr::compound(format!("{} as f64", a.operand()), b)
                }
            }
        }
    }

    /// A two-input primitive.
    fn binary(&mut self, cap: f64, depth: usize) -> Expr {
        match self.rng.below(4) {
            0 | 1 => {
                let a = self.expr(cap, depth);
                let b = self.expr(cap, depth);
                let m = if self.rng.chance(0.5) { "max" } else { "min" };
                let bound = a.bound.max(b.bound);
                self.method(a, m, &[b.text], bound)
            }
            2 => {
                let a = self.expr(cap / 2.0, depth);
                let b = self.expr(cap / 2.0, depth);
                let bound = a.bound + b.bound;
                self.method(a, "hypot", &[b.text], bound)
            }
            _ => {
                let a = self.expr(CAP, depth);
                let b = self.expr(CAP, depth);
                let e = self.method(a, "atan2", &[b.text], std::f64::consts::PI);
                self.fit(e, cap)
            }
        }
    }

    /// `base.powf(e)` with a positive base, its exponent bounded so that the result is within `cap`.
    fn powf(&mut self, cap: f64, depth: usize) -> Expr {
        let (base, lo, hi): (Expr, f64, f64) = match self.rng.below(4) {
            0 => {
                let a = self.expr(1.5, depth);
                let c = a.constant;
                let a = a.operand();
                let base = Expr::compound(format!("1.0 + ({a} * {a})"), 3.25);
                (
                    Expr {
                        constant: c,
                        ..base
                    },
                    1.0,
                    3.25,
                )
            }
            1 => {
                let a = self.expr(3.0, depth);
                let s = self.method(a, "sin", &[], 1.0);
                let base = Expr::compound(format!("1.5 + {}", s.text), 2.5);
                (
                    Expr {
                        constant: s.constant,
                        ..base
                    },
                    0.5,
                    2.5,
                )
            }
            2 => {
                let a = self.expr(CAP, depth);
                let s = self.method(a, "sigmoid", &[], 1.0);
                let base = Expr::compound(format!("0.5 + {}", s.text), 1.5);
                (
                    Expr {
                        constant: s.constant,
                        ..base
                    },
                    0.5,
                    1.5,
                )
            }
            _ => (
                Expr {
                    constant: true,
                    ..Expr::atom("2.0f64".into(), 2.0)
                },
                2.0,
                2.0,
            ),
        };
        // A constant compound base is an avoided shape (see `expr`): use the literal one.
        let (base, lo, hi) = if base.constant {
            (
                Expr {
                    constant: true,
                    ..Expr::atom("2.0f64".into(), 2.0)
                },
                2.0,
                2.0,
            )
        } else {
            (base, lo, hi)
        };
        // |base^e| <= max(hi, 1/lo)^|e|.
        let spread = hi.max(1.0 / lo).ln().max(1e-3);
        let e_cap = (cap.max(1.0).ln() / spread).clamp(0.1, 2.0);
        let e = if self.rng.chance(0.2) {
            lit(*self.rng.pick(&[0.5, 1.5, -0.5, 2.0]) * e_cap.min(1.0))
        } else {
            self.expr(e_cap, depth)
        };
        let bound = hi.max(1.0 / lo).powf(e.bound);
        let base = Expr {
            constant: base.constant,
            ..Expr::atom(base.operand(), base.bound)
        };
        self.method(base, "powf", &[e.text], bound)
    }

    /// Casts: identity `as f64`, or a round trip through `f32` (which makes the program relaxed).
    fn cast(&mut self, cap: f64, depth: usize) -> Expr {
        let a = self.expr(cap.min(3.0), depth);
        if a.constant {
            return a;
        }
        let b = a.bound;
        if self.rng.chance(0.1) {
            self.relaxed = true;
            match self.rng.below(3) {
                0 => Expr::compound(format!("{} as f32 as f64", a.operand()), b),
                1 => Expr::compound(
                    format!("({} as f32).sin() as f64", a.operand()),
                    1.0_f64.min(b),
                ),
                _ => Expr::compound(format!("({} as f32 * 0.5) as f64", a.operand()), b * 0.5),
            }
        } else {
            Expr::compound(format!("{} as f64", a.operand()), b)
        }
    }

    /// A call of an earlier program, its arguments within the parameter bound it assumes.
    fn call(&mut self, cap: f64, depth: usize) -> Expr {
        let usable: Vec<usize> = (0..self.callees.len())
            .filter(|&i| {
                self.callees[i]
                    .params
                    .iter()
                    .all(|p| p.kind != ParamKind::Slice || self.has_slice)
            })
            .collect();
        if usable.is_empty() {
            return self.unary(cap, depth);
        }
        let i = *self.rng.pick(&usable);
        let callee = self.callees[i].clone();
        let mut args = Vec::new();
        for p in &callee.params {
            args.push(match p.kind {
                ParamKind::Scalar => self.expr(PARAM_BOUND, depth.min(1)).text,
                ParamKind::Slice => "v".into(),
                ParamKind::Index => self.scope.small_int(self.rng, MAX_INDEX),
                ParamKind::Tensor(_) => unreachable!("scalar programs take no tensor"),
            });
        }
        self.calls.push(i);
        self.relaxed |= callee.relaxed;
        self.stops |= callee.stops;
        let e = Expr::atom(
            format!("{}({})", callee.name, args.join(", ")),
            callee.ret_bound,
        );
        self.fit(e, cap)
    }

    fn comparison(&mut self, depth: usize) -> String {
        self.comparison_inner(depth)
    }

    fn comparison_inner(&mut self, depth: usize) -> String {
        let op = *self.rng.pick(&["<", ">", "<=", ">="]);
        let ints = self.scope.ints();
        if !ints.is_empty() && self.rng.chance(0.3) {
            let id = *self.rng.pick(&ints);
            let name = self.scope.vars[id].name.clone();
            return match self.rng.below(3) {
                0 => format!("{name} % 2 == 0"),
                1 => format!("{name} {op} {}", self.rng.below(4)),
                _ => format!("{name} != 1"),
            };
        }
        let a = self.expr(CAP, depth);
        let b = if self.rng.chance(0.5) {
            lit(self.rng.uniform(-4.0, 4.0).round() / 4.0)
        } else {
            self.expr(CAP, depth)
        };
        format!("{} {op} {}", a.operand(), b.operand())
    }

    /// The returned expression: a sum of reads, preferring variables not read yet.
    fn final_expr(&mut self) -> Expr {
        let accumulators: Vec<(usize, f64)> = self
            .readable_reals()
            .into_iter()
            .filter(|(id, _)| self.scope.vars[*id].accumulated)
            .collect();
        let n = self.rng.between(1, 3) + accumulators.len();
        let mut terms = Vec::new();
        for (id, b) in accumulators {
            let e = Expr::atom(self.scope.vars[id].name.clone(), b);
            terms.push(self.fit(e, CAP / n as f64));
        }
        while terms.len() < n {
            let e = self.expr(CAP / n as f64, 1);
            terms.push(e);
        }
        // Constants last: `0.5 + 0.5 + x` would add constants to each other first.
        terms.sort_by_key(|t| t.constant);
        let (text, bound) = sum(terms.iter().map(|t| (t.leading(), t.bound)));
        Expr::compound(text, bound)
    }

    // ---- statements ----

    /// The name for a new real binding: fresh, or (sometimes) shadowing a visible real.
    fn binding_name(&mut self, prefix: &str) -> String {
        let reals: Vec<usize> = self
            .scope
            .visible()
            .into_iter()
            .filter(|&id| {
                let v = &self.scope.vars[id];
                v.kind == VarKind::Real && !v.pinned && !v.mutable
            })
            .collect();
        // Formerly avoided, now generated (a fixed macro bug): a `let`
        // in a loop body that shadows an outer name can fail to compile (E0425, cannot find
        // value `__grad_x_19`). Shadowing is generated outside loops only.
        self.scope.binding_name(self.rng, prefix, &reals)
    }

    /// A `let` initializer inside a loop: never a constant.
    ///
    /// Formerly avoided, now generated (fixed macro bug, `tests/regressions.rs`, `local_of_branch_read_in_loop`): a
    /// constant local (`let mut m2: f64 = 1.0;`) in a loop body or branch, read in a loop
    /// nested there, fails to compile (E0425, cannot find value `__grad_m2_5`).
    fn initializer(&mut self, cap: f64, depth: usize) -> Expr {
        self.expr(cap, depth)
    }

    fn let_mut(&mut self) {
        let e = if self.scope.frames.is_empty() && self.rng.chance(0.3) {
            lit(*self.rng.pick(&[0.0, 1.0, 0.5]))
        } else {
            let depth = self.rng.between(1, 2);
            self.initializer(CAP, depth)
        };
        let name = self.binding_name("m");
        let ty = if e.typed { "" } else { ": f64" };
        self.scope
            .line(&format!("let mut {name}{ty} = {};", e.text));
        self.scope.declare(&name, VarKind::Real, true, e.bound);
    }

    fn tuple_let(&mut self) {
        let a = self.expr(CAP, 2);
        let b = self.expr(CAP, 2);
        if self.rng.chance(0.5) {
            let (p, q) = (self.scope.fresh_name("a"), self.scope.fresh_name("b"));
            let ty = if a.typed && b.typed && self.rng.chance(0.8) {
                ""
            } else {
                ": (f64, f64)"
            };
            self.scope
                .line(&format!("let ({p}, {q}){ty} = ({}, {});", a.text, b.text));
            self.scope.declare(&p, VarKind::Real, false, a.bound);
            self.scope.declare(&q, VarKind::Real, false, b.bound);
        } else if TUPLE_VALUES {
            let p = self.scope.fresh_name("p");
            let ty = if a.typed && b.typed && self.rng.chance(0.8) {
                ""
            } else {
                ": (f64, f64)"
            };
            self.scope
                .line(&format!("let {p}{ty} = ({}, {});", a.text, b.text));
            self.scope
                .declare(&p, VarKind::Pair(a.bound, b.bound), false, 0.0);
        } else {
            let ty = if a.typed { "" } else { ": f64" };
            let p = self.scope.fresh_name("t");
            self.scope.line(&format!("let {p}{ty} = {};", a.text));
            self.scope.declare(&p, VarKind::Real, false, a.bound);
        }
    }

    /// A write to a mutable real that keeps the bound discipline of its role.
    fn assignment(&mut self) {
        let targets = self.scope.assignable();
        let id = *self.rng.pick(&targets);
        let name = self.scope.vars[id].name.clone();
        let depth = self.rng.between(1, 2);
        match self.scope.role(id) {
            None => match self.rng.below(5) {
                0 => {
                    let e = self.expr(CAP, depth);
                    self.scope.line(&format!("{name} = {};", e.text));
                    self.scope.vars[id].bound = e.bound;
                }
                1 | 2 => {
                    let e = self.expr(CAP, depth);
                    let op = if self.rng.chance(0.5) { "+=" } else { "-=" };
                    self.compound_assign(&name, op, &e);
                    self.scope.vars[id].bound += e.bound;
                }
                3 => {
                    let e = self.expr(1.5, depth);
                    self.compound_assign(&name, "*=", &e);
                    self.scope.vars[id].bound *= e.bound;
                }
                _ => {
                    let d = self.denominator(depth - 1);
                    self.compound_assign(&name, "/=", &d);
                    self.scope.vars[id].bound *= 2.0;
                }
            },
            Some(Role::Carried(cap)) => {
                self.scope.vars[id].accumulated = true;
                self.carried_assignment(id, cap, depth);
            }
            Some(Role::Accumulator(step)) => {
                let e = self.expr(step, depth);
                self.scope.vars[id].accumulated = true;
                let op = if self.rng.chance(0.7) { "+=" } else { "-=" };
                self.compound_assign(&name, op, &e);
                self.scope.grow(id, step);
            }
            Some(Role::ReadOnly) => unreachable!("read-only variables are not assignable"),
        }
    }

    /// A write to a carried variable that keeps it within `cap`.
    fn carried_assignment(&mut self, id: usize, cap: f64, depth: usize) {
        let name = self.scope.vars[id].name.clone();
        match self.rng.below(6) {
            0 => {
                let e = self.expr(cap, depth);
                self.scope.line(&format!("{name} = {};", e.text));
            }
            1 | 2 => {
                let a = *self.rng.pick(&[0.5, 0.25, 0.75, 0.9]);
                let e = self.expr(cap, depth);
                let b = 1.0 - a;
                self.scope.line(&format!(
                    "{name} = {a:?} * {name} + ({b:?} * {});",
                    e.operand()
                ));
            }
            3 => {
                let e = self.expr(1.0, depth);
                self.compound_assign(&name, "*=", &e);
            }
            4 => {
                let d = self.denominator(depth - 1);
                // A denominator >= 0.5 could double the value: halve it too.
                let twice = Expr::compound(format!("2.0 * {}", d.operand()), 10.0).typed_by(&[&d]);
                self.compound_assign(&name, "/=", &twice);
            }
            _ => {
                let e = self.expr(cap, depth);
                let m = if self.rng.chance(0.5) { "max" } else { "min" };
                self.scope
                    .line(&format!("{name} = {name}.{m}({});", e.text));
            }
        }
    }

    /// `name op= e`.
    fn compound_assign(&mut self, name: &str, op: &str, e: &Expr) {
        let e = guard(e.clone());
        self.scope.line(&format!("{name} {op} {};", e.text));
    }

    /// `let y = if c { ..; e } else { ..; e };` or the same with `match k`.
    fn let_block_expr(&mut self) {
        let before = self.scope.snapshot();
        let mut ends = Vec::new();
        let name = self.binding_name("t");
        let use_match = self.has_index && self.rng.chance(0.4);
        let mut bound: f64 = 0.0;
        let arms: Vec<String> = if use_match {
            vec!["0 | 3".into(), "_".into()]
        } else {
            vec![self.condition(1), String::new()]
        };
        // Annotated: a branch may end in a bare literal.
        if use_match {
            self.scope.open(&format!("let {name}: f64 = match k {{"));
        } else {
            self.scope
                .open(&format!("let {name}: f64 = if {} {{", arms[0]));
        }
        for (i, arm) in arms.iter().enumerate() {
            self.scope.restore(&before);
            if use_match {
                self.scope.line(&format!("{arm} => {{"));
                self.scope.indent += 1;
            } else if i > 0 {
                self.scope.between_blocks("} else {");
            }
            self.scope.scopes.push(Vec::new());
            self.body(0, 2);
            self.sink_unused();
            let e = self.expr(CAP, 2);
            bound = bound.max(e.bound);
            self.scope.line(&e.leading());
            self.scope.scopes.pop();
            if use_match {
                self.scope.indent -= 1;
                self.scope.line("}");
            }
            ends.push(self.scope.branch_end(&before));
        }
        self.scope.close("};");
        self.scope.join(&before, &ends, true);
        self.scope.declare(&name, VarKind::Real, false, bound);
    }

    /// Makes the sink an accumulator of the loop just entered.
    fn claim_sink(&mut self) {
        if let (Some(id), Some(frame)) = (self.sink, self.scope.frames.last_mut()) {
            frame.roles.retain(|(v, _)| *v != id);
            frame.roles.push((id, Role::Accumulator(1.0)));
        }
    }

    /// `for i in <range>`: a range form, its largest index, whether indices stay below
    /// `v.len()`, and the most iterations.
    fn for_loop(&mut self) {
        // Upper ends: (text, largest value, below v.len()).
        let mut ends: Vec<(String, usize, bool)> = vec![
            ("2".into(), 2, true),
            ("3".into(), 3, true),
            ("4".into(), 4, false),
        ];
        if self.has_index {
            ends.push(("k".into(), MAX_INDEX, true));
            ends.push(("k + 1".into(), MAX_INDEX + 1, false));
        }
        if self.has_slice {
            ends.push(("v.len()".into(), MAX_LEN, true));
            ends.push(("v.len() - 1".into(), MAX_LEN - 1, true));
        }
        for id in self.scope.ints() {
            if let VarKind::Int { max, below_len } = self.scope.vars[id].kind
                && self.scope.vars[id].name != "k"
            {
                ends.push((self.scope.vars[id].name.clone(), max, below_len));
            }
        }
        let (end, n, below) = self.rng.pick(&ends).clone();
        let end_op = if end.contains(' ') {
            format!("({end})")
        } else {
            end.clone()
        };
        let start = if self.rng.chance(0.2) { "1" } else { "0" };
        let (range, max, below_len) = match self.rng.below(7) {
            0 | 1 => (format!("{start}..{end}"), n.saturating_sub(1), below),
            2 => (
                format!("({start}..{end}).rev()"),
                n.saturating_sub(1),
                below,
            ),
            3 => (
                format!("({start}..{end}).step_by(2)"),
                n.saturating_sub(1),
                below,
            ),
            4 => (
                format!("({start}..{end}).rev().step_by(2)"),
                n.saturating_sub(1),
                below,
            ),
            5 => (
                format!("({start}..{end}).step_by(3).rev()"),
                n.saturating_sub(1),
                below,
            ),
            // An inclusive range reaches `end` itself: below the length only if `end` is.
            _ => (
                format!("{start}..={end_op}"),
                n,
                below && end != "k" && end != "3" && end != "v.len()",
            ),
        };
        let name = ["i", "j", "l"][self.scope.frames.len()];
        let name = if self.rng.chance(0.1) { "_" } else { name };
        self.open_loop(n + 1, &format!("for {name} in {range} {{"));
        if name != "_" {
            self.scope
                .declare(name, VarKind::Int { max, below_len }, false, max as f64);
        }
        self.close_loop(1, 4, None);
    }

    /// `while c < n && cond { ..; c += 1; }` with an integer counter.
    fn while_loop(&mut self) {
        let counter = self.scope.fresh_name("c");
        let (end, n) = match self.rng.below(3) {
            0 if self.has_slice => ("v.len()".to_string(), MAX_LEN),
            1 if self.has_index => ("k + 1".to_string(), MAX_INDEX + 1),
            _ => {
                let n = self.rng.between(1, 4);
                (n.to_string(), n)
            }
        };
        self.scope.line(&format!("let mut {counter} = 0;"));
        let extra = if self.rng.chance(0.3) {
            format!(" && {}", self.comparison(0))
        } else {
            String::new()
        };
        self.open_loop(n, &format!("while {counter} < {end}{extra} {{"));
        let below_len = end == "v.len()" || n <= MIN_LEN;
        let max = n.saturating_sub(1);
        self.scope
            .declare_counter(&counter, VarKind::Int { max, below_len });
        let outer = self.in_while;
        self.in_while = true;
        self.close_loop(1, 3, Some(&counter));
        self.in_while = outer;
    }
}

impl Blocks for FnGen<'_> {
    type VarKind = VarKind;
    const TIGHT_JOIN: bool = true;
    const KEEP_ENTRY: bool = false;

    fn scope(&mut self) -> &mut Scope<VarKind> {
        &mut self.scope
    }

    fn rng(&mut self) -> &mut Rng {
        self.rng
    }

    // Formerly avoided, now generated (fixed macro bug, `tests/regressions.rs`, `local_of_branch_read_in_loop`):
    // a constant `let` inside an `if` (or a `while` body), read in differentiated code in a
    // `for` nested there, fails to compile (E0425, cannot find value `__grad_t1_3`).
    // Loops are generated only where every enclosing block is a loop.
    fn any_statement(&mut self, can_nest: bool, can_loop: bool) {
        let weights = [
            3.0, // let
            2.0, // let mut
            if self.scope.assignable().is_empty() {
                0.0
            } else {
                3.5
            }, // assignment
            0.8, // tuple let
            if can_nest { 1.3 } else { 0.0 }, // if statement
            if can_nest && self.has_index { 0.6 } else { 0.0 }, // match statement
            if can_loop { 1.8 } else { 0.0 }, // for loop
            if can_loop { 0.5 } else { 0.0 }, // while loop
            if can_nest { 0.6 } else { 0.0 }, // let = if/match with blocks
            0.15, // debug_assert!
        ];
        match self.rng.weighted(&weights) {
            0 => self.let_stmt(),
            1 => self.let_mut(),
            2 => self.assignment(),
            3 => self.tuple_let(),
            4 => self.if_stmt(),
            5 => self.match_stmt(),
            6 => self.for_loop(),
            7 => self.while_loop(),
            8 => self.let_block_expr(),
            _ => {
                let reals = self.readable_reals();
                if let Some(&(id, _)) = reals.last() {
                    let name = self.scope.vars[id].name.clone();
                    self.scope
                        .line(&format!("debug_assert!({name}.is_finite());"));
                }
            }
        }
    }

    fn let_stmt(&mut self) {
        let depth = self.rng.between(1, MAX_EXPR_DEPTH);
        let e = self.initializer(CAP, depth);
        // Formerly avoided, now generated (fixed macro bug, `tests/regressions.rs`, `slice_element_read_twice`):
        // `let t = v[0];` and, later, a method on the same element (`v[0].sin()`) fails to
        // compile (E0716). A `let` never binds a bare slice element.

        let name = self.binding_name("t");
        let ty = if !e.typed || self.rng.chance(0.15) {
            ": f64"
        } else {
            ""
        };
        self.scope.line(&format!("let {name}{ty} = {};", e.text));
        let id = self.scope.declare(&name, VarKind::Real, false, e.bound);
        self.scope.vars[id].pinned = e.text.starts_with("v[");
    }

    /// A condition: comparisons of reals or integers, combined with `&&`, `||` and `!`.
    fn condition(&mut self, depth: usize) -> String {
        let c = self.comparison(depth.min(1));
        match self.rng.below(6) {
            0 => {
                let d = self.comparison(0);
                format!("{c} && {d}")
            }
            1 => {
                let d = self.comparison(0);
                format!("{c} || {d}")
            }
            2 => format!("!({c})"),
            _ => c,
        }
    }

    /// Adds the current block's unread locals to the sink.
    fn sink_unused(&mut self) {
        let Some(sink) = self.sink else { return };
        for (id, b) in self.scope.unread_locals() {
            self.scope.vars[id].used = true;
            let e = Expr::atom(self.scope.vars[id].name.clone(), b);
            let e = guard(self.fit(e, 1.0));
            self.scope.add_to_sink(sink, &e.text, e.bound);
        }
    }

    /// Gives every visible mutable real declared outside the new loop its role in it, and
    /// makes the sink an accumulator of it.
    fn enter_loop(&mut self, trips: usize) {
        let mut roles = Vec::new();
        for id in self.scope.visible() {
            let v = &self.scope.vars[id];
            if !v.mutable || v.kind != VarKind::Real {
                continue;
            }
            let role = match self.scope.role(id) {
                Some(Role::Accumulator(step)) => Role::Accumulator(step),
                Some(Role::ReadOnly) => Role::ReadOnly,
                Some(Role::Carried(cap)) => {
                    if self.rng.chance(0.7) {
                        Role::Carried(cap)
                    } else {
                        Role::ReadOnly
                    }
                }
                // Formerly avoided, now generated (fixed macro bug, `tests/regressions.rs`,
                // `dead_accumulator`): an accumulator of a nested block, never read after its
                // loop, whose step multiplies two differentiated values (`m += y * x`), failed
                // to compile (E0596). Those of nested blocks reach the result through the sink.
                None => match self.rng.below(10) {
                    0..=4 => Role::Carried(v.bound.max(1.0)),
                    5..=7 => Role::Accumulator(*self.rng.pick(&[1.0, 0.5])),
                    _ => Role::ReadOnly,
                },
            };
            roles.push((id, role));
        }
        self.scope.frames.push(Frame { trips, roles });
        self.claim_sink();
    }

    /// Sometimes a bare assignment as the arm's expression (`0 => m += x,`).
    fn match_arm(&mut self, pat: &str) {
        if self.rng.chance(0.4) && !self.scope.assignable().is_empty() {
            let mark = self.scope.out.len();
            self.assignment();
            let stmt = self.scope.out.split_off(mark);
            let stmt = stmt.trim().trim_end_matches(';').to_string();
            self.scope.line(&format!("{pat} => {stmt},"));
        } else {
            self.block_arm(pat);
        }
    }
}
