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
    /// Whether its source begins with a vector-valued helper that it calls.
    pub helper: bool,
    /// Whether it carries `#[differentiable(order = 2)]`, so that its `_hvp` is checked too
    /// (see [`Program::with_order2`]).
    pub order2: bool,
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
            helper: false,
            order2: false,
        }
    }

    /// The same program under `#[differentiable(order = 2)]`, where that attribute takes it:
    /// every parameter is `f64`, `&[f64]`, `&Tensor<f64>` or `usize`, it names no `f32`
    /// (an `order = 2` function has one float type; `as f32` round trips and `(k as f32)`
    /// name it), it calls no vector-valued helper (`order = 2` wants a scalar result, and a
    /// function's callees need `order = 2` too), and every program it calls has
    /// `order = 2`. Otherwise unchanged. Its first-order derivatives are still written and
    /// checked as before.
    pub fn with_order2(self, programs: &[Program]) -> Self {
        let callees = self.calls.iter().all(|&i| programs[i].order2);
        let takes = callees && !self.helper && !self.source.contains("f32");
        if !takes {
            return self;
        }
        Program {
            source: self
                .source
                .replacen("#[differentiable]", "#[differentiable(order = 2)]", 1),
            order2: true,
            ..self
        }
    }
}

/// Generates `count` programs from `seed`; program `i` may call programs `0..i`.
#[allow(dead_code)] // `build.rs` calls `generate_with`.
pub fn generate(count: usize, seed: u64) -> Vec<Program> {
    generate_with(count, seed, false, false)
}

/// The same, with `builds`: local arrays and `Vec`s built from active values, element
/// writes, pushes, `collect`, `to_vec` and a vector-valued helper per program (the default
/// run's programs; `GRAD_FUZZ_BUILDS=0` leaves them out); and with `order2`: every program
/// that `order = 2` takes carries it, so that its `_hvp` is checked too (see
/// [`Program::with_order2`]; the default run's, `GRAD_FUZZ_ORDER2=0` leaves it out). Neither
/// changes the random stream: the same seed gives the same bodies.
pub fn generate_with(count: usize, seed: u64, builds: bool, order2: bool) -> Vec<Program> {
    programs(count, seed, "f", |rng, callees, name| {
        let mut g = FnGen::new(rng, callees);
        g.builds = builds;
        let program = g.function(name);
        if order2 {
            program.with_order2(callees)
        } else {
            program
        }
    })
}

/// `count` programs from `seed`, named `{prefix}0, {prefix}1, ...` (`f32x`, `f64x`), each
/// written by `one` from the stream and the programs before it (its callees) under its name.
pub(crate) fn programs(
    count: usize,
    seed: u64,
    prefix: &str,
    one: impl Fn(&mut Rng, &[Program], String) -> Program,
) -> Vec<Program> {
    let mut rng = Rng::new(seed);
    let mut programs: Vec<Program> = Vec::with_capacity(count);
    for i in 0..count {
        // Not `f32` or `f64`: the order-2 copy reads those as the float type.
        let mut name = format!("{prefix}{i}");
        if name == "f32" || name == "f64" {
            name.push('x');
        }
        let program = one(&mut rng, &programs, name);
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
    // `_hvp` gives the gradient and `H d` in the gradient's form: the same slots, the second
    // set named `h..`.
    let hvp = if p.order2 {
        let hv_slots = grad_slots.replace('g', "h");
        let (hv_gathered, hv_extend) = (gathered.replace('g', "h"), extend.replace('g', "h"));
        format!(
            "Some(|a: &Input, d: &[f64]| {{
                {make}let (y, ({grad_slots}), ({hv_slots})) = {name}_hvp({args}, {tangents});
                #[allow(unused_mut)]
                let mut g = vec![{gathered}];{extend}
                #[allow(unused_mut)]
                let mut h = vec![{hv_gathered}];{hv_extend}
                (y, g, h)
            }})"
        )
    } else {
        "None".to_string()
    };
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
            hvp: {hvp},
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

/// The text of `e`, a literal suffixed `_f64` (so that a closure's accumulator is `f64`).
fn typed_text(e: &Expr) -> String {
    if e.typed {
        e.text.clone()
    } else if e.atomic
        && e.text
            .trim_matches(|c| c == '(' || c == ')')
            .parse::<f64>()
            .is_ok()
    {
        let t = e.text.trim_matches(|c| c == '(' || c == ')');
        if t.starts_with('-') {
            format!("({t}_f64)")
        } else {
            format!("{t}_f64")
        }
    } else {
        format!("({} as f64)", e.text)
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
    /// A `let`-bound closure `|u: f64| ..` of one real within `CLOSURE_ARG`, returning
    /// within `ret`.
    Closure {
        ret: f64,
    },
    /// A local array `[f64; N]` or `Vec<f64>` of at least `min` and at most `max` elements
    /// (`fixed`: exactly `min`, known statically), every element within the variable's bound.
    Arr {
        min: usize,
        max: usize,
        fixed: bool,
        vec: bool,
        /// Built or grown by `push` (or `vec![e; n]`): its length may be known only at run
        /// time.
        ///
        /// Formerly avoided, now generated (fixed macro bugs, `tests/regressions.rs`,
        /// `push_in_loop_in_loop`, `collect_of_constants`): such a `Vec` was read and written
        /// only in the function's top block.
        pushed: bool,
    },
}

/// Whether `Vec::new()` / `Vec::with_capacity(n)` with pushes, and `r.push(e)` on a local
/// `Vec`, are generated.
///
/// Formerly avoided, now generated (fixed macro bugs, `tests/regressions.rs`,
/// `push_in_loop_in_loop`, `collect_of_constants`): pushes failed to compile (E0596, cannot
/// borrow as mutable; with a `for _ in 0..2 { r.push(..) }` first, E0382).
const PUSHES: bool = true;

/// The bound a generated vector-valued helper (`fN_h(s: [f64; 2], a: f64) -> [f64; 2]`)
/// assumes of its inputs and keeps its outputs within, so that `s = fN_h(s, e)` carries an
/// array through a loop.
const HELPER_BOUND: f64 = 2.0;

/// The bound a `let`-bound closure assumes of its argument.
const CLOSURE_ARG: f64 = 2.0;

/// What an open loop accepts as an exit.
#[derive(Clone, Copy, Debug, PartialEq)]
enum LoopKind {
    /// `for`: `break` and `continue`.
    For,
    /// `while c < n { ..; c += 1; }`: `break` only (a `continue` would skip the counter's step).
    While,
    /// `let t = loop { c += 1; ..; if c >= n || .. { break e; } };`: `break e` and `continue`
    /// (the counter steps first); nothing leaves it for an outer loop.
    Value,
}

/// An open loop, for the `break`/`continue` statements inside it.
#[derive(Clone, Debug)]
struct LoopCtl {
    kind: LoopKind,
    /// `'oN`, on some outermost loops.
    label: Option<String>,
    /// For `LoopKind::Value`: the largest bound of a `break e` so far.
    value_bound: f64,
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
    /// The loops open at the current statement, innermost last; emptied inside a block
    /// whose value is used (`let t = if ..`), which no `break` may leave.
    loops: Vec<LoopCtl>,
    /// Whether an early `return` may be written here: not in a block whose value is used.
    returns_ok: bool,
    /// The largest bound of an early `return e`.
    early_bound: f64,
    /// Variables bound to `&f64` (iterator elements): read as `(*e)`.
    refs: Vec<usize>,
    /// The name of this program's vector-valued helper, if it has one.
    helper: Option<String>,
    /// Writing the elements of a `vec![..]` literal.
    ///
    /// Formerly avoided, now generated (fixed macro bug, `tests/regressions.rs`,
    /// `reduction_in_vec_literal`): a reduction `v.iter().map(..).sum::<f64>()` inside
    /// `vec![..]` was rejected; the flag is kept to say where a value lands.
    in_vec_literal: bool,
    /// Whether local arrays, `Vec`s and the helper are generated (see `generate_with`).
    builds: bool,
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
            loops: Vec::new(),
            returns_ok: true,
            early_bound: 0.0,
            refs: Vec::new(),
            helper: None,
            in_vec_literal: false,
            builds: false,
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
        let helper_src = if self.builds && self.rng.chance(0.25) {
            let h = format!("{name}_h");
            let src = self.helper_fn(&h);
            self.helper = Some(h);
            src
        } else {
            String::new()
        };
        self.sink = Some(self.scope.declare_sink(VarKind::Real));
        self.scope.budget = self.rng.between(3, 14);
        let top = self.rng.between(2, 6);
        for _ in 0..top {
            self.statement();
        }
        let ret = self.final_expr();
        self.scope.tail(self.rng, &ret.text);
        let program = Program::new(
            name,
            params,
            &self.scope.out,
            self.calls,
            ret.bound.max(self.early_bound),
        );
        Program {
            relaxed: self.relaxed,
            stops: self.stops,
            helper: self.helper.is_some(),
            source: helper_src + &program.source,
            ..program
        }
    }

    /// `#[differentiable] fn name(s: [f64; 2], a: f64) -> [f64; 2]`: a vector-valued
    /// function of an array, its body a few `let`s and an array literal, every element
    /// within `HELPER_BOUND` given inputs within it. Checked through the program calling it.
    fn helper_fn(&mut self, name: &str) -> String {
        let mut g = FnGen::new(&mut *self.rng, &[]);
        // Formerly avoided, now generated (fixed macro bug, `tests/regressions.rs`,
        // `method_on_array_parameter_element`): a method call on an element of the array
        // parameter (`s[0].atan()`) did not compile (E0597); the helper read its elements
        // into locals first. It now reads `s[i]` anywhere, as it reads a local array.
        g.scope.declare(
            "s",
            VarKind::Arr {
                min: 2,
                max: 2,
                fixed: true,
                vec: false,
                pushed: false,
            },
            false,
            HELPER_BOUND,
        );
        g.scope.declare("a", VarKind::Real, false, HELPER_BOUND);
        let lets = g.rng.below(3);
        for _ in 0..lets {
            g.let_stmt();
        }
        let e0 = g.expr(HELPER_BOUND, 2);
        let e1 = g.expr(HELPER_BOUND, 2);
        if g.rng.chance(0.3) {
            // The array mapped by a closure (`array.map`), each item kept within the bound.
            let w = g.scope.fresh_name("w");
            let body = g.in_closure_scope(&[(&w, VarKind::Real, HELPER_BOUND, false)], |g| {
                g.expr(HELPER_BOUND, 1)
            });
            g.scope.line(&format!(
                "[{}, {}].map(|{w}| {})",
                e0.text, e1.text, body.text
            ));
        } else {
            g.scope.line(&format!("[{}, {}]", e0.text, e1.text));
        }
        self.relaxed |= g.relaxed;
        self.stops |= g.stops;
        format!(
            "#[differentiable]\nfn {name}(s: [f64; 2], a: f64) -> [f64; 2] {{\n{}}}\n",
            g.scope.out
        )
    }

    /// Visible local arrays and Vecs whose elements may be read here (none in a `let`-bound
    /// closure's body), with the bounds of their elements.
    fn arrays(&self) -> Vec<(usize, f64)> {
        if self.scope.closure_mode {
            return Vec::new();
        }
        self.scope
            .visible()
            .into_iter()
            .filter(|&id| matches!(self.scope.vars[id].kind, VarKind::Arr { .. }))
            .map(|id| (id, self.scope.vars[id].bound))
            .collect()
    }

    /// Mutable visible arrays and Vecs, which may be written here.
    fn writable_arrays(&self) -> Vec<usize> {
        self.arrays()
            .into_iter()
            .map(|(id, _)| id)
            .filter(|&id| self.scope.vars[id].mutable)
            .collect()
    }

    /// Whether a write to variable `id` may raise its bound: no loop opened since its
    /// declaration (a write in a loop around it would have to hold the bound invariant).
    fn free(&self, id: usize) -> bool {
        self.scope.vars[id].loop_depth >= self.scope.frames.len()
    }

    /// An in-range index into array `id`: a literal below its shortest length, its last
    /// element, or an integer in scope, as it is when it stays below that length, else
    /// reduced (`(i * 3 + 1) % n`, `(i + j) % r.len()`).
    ///
    /// A write's index does not read the length: `r[r.len() - 1] += e` on a `Vec` borrows
    /// `r` mutably before the index is computed (E0502, in Rust itself); it reduces modulo
    /// the shortest length instead.
    fn array_index(&mut self, id: usize, write: bool) -> String {
        let VarKind::Arr {
            min, fixed, vec, ..
        } = self.scope.vars[id].kind
        else {
            unreachable!("an array")
        };
        let name = self.scope.vars[id].name.clone();
        let no_len = write && vec;
        let len = if fixed || no_len {
            min.to_string()
        } else {
            format!("{name}.len()")
        };
        let ints = self.scope.ints();
        if ints.is_empty() || self.rng.chance(0.3) {
            return match self.rng.below(3) {
                0 if !no_len => format!("{name}.len() - 1"),
                _ => self.rng.below(min).to_string(),
            };
        }
        let i = *self.rng.pick(&ints);
        let max = self.scope.vars[i].kind.int_max().expect("an integer");
        let i = self.scope.vars[i].name.clone();
        let j = *self.rng.pick(&ints);
        let j = self.scope.vars[j].name.clone();
        match self.rng.below(4) {
            0 if max < min => i,
            1 => format!("({i} * 3 + 1) % {len}"),
            2 => format!("({i} + {j}) % {len}"),
            _ => format!("{i} % {len}"),
        }
    }

    /// `r[idx]`, an element of a local array.
    fn array_read(&mut self, id: usize) -> Expr {
        self.scope.vars[id].used = true;
        let idx = self.array_index(id, false);
        let name = self.scope.vars[id].name.clone();
        Expr::atom(format!("{name}[{idx}]"), self.scope.vars[id].bound)
    }

    fn readable_reals(&self) -> Vec<(usize, f64)> {
        self.scope.readable(|k| *k == VarKind::Real)
    }

    /// How a read of variable `id` is written: its name, or `(*e)` for an `&f64`.
    fn read_text(&self, id: usize) -> String {
        let name = &self.scope.vars[id].name;
        if self.refs.contains(&id) {
            format!("(*{name})")
        } else {
            name.clone()
        }
    }

    /// Visible `let`-bound closures, with their result bounds.
    fn closures(&self) -> Vec<(usize, f64)> {
        self.scope
            .visible()
            .into_iter()
            .filter_map(|id| match self.scope.vars[id].kind {
                VarKind::Closure { ret } => Some((id, ret)),
                _ => None,
            })
            .collect()
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
            1.0,                                                // literal
            if reals.is_empty() { 0.0 } else { 6.0 },           // variable
            if self.has_slice { 2.0 } else { 0.0 },             // slice element
            if ints.is_empty() { 0.0 } else { 0.7 },            // integer cast
            if self.has_pairs() { 0.8 } else { 0.0 },           // tuple field
            if self.closures().is_empty() { 0.0 } else { 2.0 }, // closure call
            if self.arrays().is_empty() { 0.0 } else { 3.0 },   // array element
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
                Expr::atom(self.read_text(id), bound)
            }
            5 => self.closure_call(cap),
            6 => {
                let arrays = self.arrays();
                let (id, _) = self.scope.pick_unread(self.rng, &arrays);
                let e = self.array_read(id);
                self.fit(e, cap)
            }
            2 => {
                // Element expressions may repeat (see `SLICES`).
                let index = self.index_expr();
                self.indices.push(index.clone());
                // Now and then the same element through a sub-slice, whose pullback puts
                // its adjoint back into `v`'s.
                // Or through `get`, which may find nothing one past the end.
                let text = match self.rng.below(8) {
                    0 => format!("v[({index})..][0]"),
                    1 => format!("(&v[..({index}) + 1])[{index}]"),
                    2 => format!("v.get({index}).copied().unwrap_or(0.5)"),
                    3 => format!("v.get(({index}) + 1).copied().unwrap_or(-0.5)"),
                    _ => format!("v[{index}]"),
                };
                Expr::atom(text, PARAM_BOUND)
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
        const PRODUCTIONS: [f64; 15] = [
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
            0.5,  // iterator chain over the slice, ending in a reduction
        ];
        let mut w = PRODUCTIONS;
        if self.callees.is_empty() {
            w[6] = 0.0;
        }
        if !self.has_index {
            w[10] = 0.0;
        }
        if !self.has_slice {
            w[14] = 0.0;
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
            13 => self.powf(cap, depth),
            _ => self.reduction(cap, depth),
        }
    }

    /// Declares the closure parameters of a reduction in a new scope (`&f64` ones read as
    /// `(*e)`), runs `f`, and closes the scope.
    fn in_closure_scope<T>(
        &mut self,
        params: &[(&str, VarKind, f64, bool)],
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        self.scope.scopes.push(Vec::new());
        for &(name, kind, bound, is_ref) in params {
            let id = self.scope.declare(name, kind, false, bound);
            self.scope.vars[id].pinned = true;
            if is_ref {
                self.refs.push(id);
            }
        }
        let out = f(self);
        self.scope.scopes.pop();
        out
    }

    /// An iterator chain over `v` ending in `sum::<f64>()`, `product::<f64>()`, `fold` or a
    /// selection (`max_by`, `min_by`, `reduce`),
    /// its closure's body from the expression machinery, bounded by the slice's length times
    /// the body's bound (a sum), by 1 (a product of factors within 1) or by the fold's cap.
    fn reduction(&mut self, cap: f64, depth: usize) -> Expr {
        let depth = depth.min(1);
        let e = self.scope.fresh_name("e");
        let n = MAX_LEN as f64;
        // The source: (text, element name pattern, closure params).
        let mut src = "v.iter()".to_string();
        for _ in 0..self.rng.below(2) {
            let a = *self
                .rng
                .pick(&[".skip(1)", ".take(3)", ".rev()", ".step_by(2)"]);
            src.push_str(a);
        }
        let real = VarKind::Real;
        let (text, bound) = match self.rng.below(8) {
            0 | 1 => {
                // Now and then a prefix or a suffix chosen by the items' values.
                let step = match self.rng.below(6) {
                    0 => ".take_while(|w| **w < 0.9)",
                    1 => ".skip_while(|&&w| w > -0.6)",
                    _ => "",
                };
                let body = self
                    .in_closure_scope(&[(&e, real, PARAM_BOUND, true)], |g| g.expr(cap / n, depth));
                (
                    format!("{src}{step}.map(|{e}| {}).sum::<f64>()", body.text),
                    body.bound * n,
                )
            }
            2 => {
                // Indices from `enumerate` are below the slice's length.
                let i = self.scope.fresh_name("n");
                let idx = VarKind::Int {
                    max: MAX_LEN - 1,
                    below_len: true,
                };
                let params = [(i.as_str(), idx, 0.0, false), (&e, real, PARAM_BOUND, true)];
                let body = self.in_closure_scope(&params, |g| g.expr(cap / n, depth));
                (
                    format!(
                        "{src}.enumerate().map(|({i}, {e})| {}).sum::<f64>()",
                        body.text
                    ),
                    body.bound * n,
                )
            }
            3 => {
                let b = self.scope.fresh_name("e");
                let params = [
                    (e.as_str(), real, PARAM_BOUND, true),
                    (&b, real, PARAM_BOUND, true),
                ];
                let body = self.in_closure_scope(&params, |g| g.expr(cap / n, depth));
                (
                    format!(
                        "{src}.zip(v.iter().skip(1)).map(|({e}, {b})| {}).sum::<f64>()",
                        body.text
                    ),
                    body.bound * n,
                )
            }
            4 => {
                // Factors within 1: the product stays within 1.
                let body =
                    self.in_closure_scope(&[(&e, real, PARAM_BOUND, true)], |g| g.expr(1.0, depth));
                (
                    format!("{src}.map(|{e}| {}).product::<f64>()", body.text),
                    1.0,
                )
            }
            5 => {
                // A carried fold: every step keeps the accumulator within `c`.
                let c = cap.min(CAP);
                let init = self.expr(c, depth);
                let init = Expr::atom(typed_text(&init), init.bound);
                let acc = self.scope.fresh_name("acc");
                let a = *self.rng.pick(&[0.5, 0.25, 0.75]);
                let params = [
                    (acc.as_str(), real, c, false),
                    (&e, real, PARAM_BOUND, true),
                ];
                let body = self.in_closure_scope(&params, |g| g.expr(c, depth));
                (
                    format!(
                        "{src}.fold({}, |{acc}, {e}| {a:?} * {acc} + {:?} * {})",
                        init.text,
                        1.0 - a,
                        body.operand()
                    ),
                    c,
                )
            }
            7 => {
                // A selection, unwrapped (the source has an item: `MIN_LEN` is 3): the
                // largest or smallest mapped item, or a `reduce` to one by `f64::max` /
                // `f64::min`. The item is within the body's bound.
                let body =
                    self.in_closure_scope(&[(&e, real, PARAM_BOUND, true)], |g| g.expr(cap, depth));
                let (a, b) = (self.scope.fresh_name("a"), self.scope.fresh_name("b"));
                let end = match self.rng.below(4) {
                    0 => format!("max_by(|{a}, {b}| {a}.total_cmp({b}))"),
                    1 => format!("min_by(|{a}, {b}| {a}.total_cmp({b}))"),
                    2 => format!("max_by(|{a}, {b}| {b}.total_cmp({a}))"),
                    _ => format!("reduce({})", self.rng.pick(&["f64::max", "f64::min"])),
                };
                // Or with a default for the empty chain this never is.
                let taken = if self.rng.chance(0.3) {
                    "unwrap_or(0.0)"
                } else {
                    "unwrap()"
                };
                (
                    format!("{src}.map(|{e}| {}).{end}.{taken}", body.text),
                    body.bound.max(0.0),
                )
            }
            _ => {
                // An accumulating fold: the steps add up to at most `cap`.
                let acc = self.scope.fresh_name("acc");
                // The accumulator is not declared to the step: it does not read it.
                let body = self.in_closure_scope(&[(&e, real, PARAM_BOUND, true)], |g| {
                    g.expr(cap / (n + 1.0), depth)
                });
                let init = self.expr(cap / (n + 1.0), 0);
                let init = typed_text(&init);
                (
                    format!(
                        "{src}.fold({init}, |{acc}, {e}| {acc} + {})",
                        body.operand()
                    ),
                    cap,
                )
            }
        };
        let e = Expr::atom(text, bound);
        self.fit(e, cap)
    }

    /// `g(e)` or `g(g(e))` of a `let`-bound closure.
    fn closure_call(&mut self, cap: f64) -> Expr {
        let closures = self.closures();
        let (id, ret) = self.scope.pick_unread(self.rng, &closures);
        self.scope.vars[id].used = true;
        let name = self.scope.vars[id].name.clone();
        let arg = self.expr(CLOSURE_ARG, 1);
        let mut e = Expr::atom(format!("{name}({})", arg.text), ret);
        if self.rng.chance(0.3) {
            let inner = self.fit(e, CLOSURE_ARG);
            e = Expr::atom(format!("{name}({})", inner.text), ret);
        }
        self.fit(e, cap)
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
        let unread: Vec<usize> = self
            .arrays()
            .into_iter()
            .map(|(id, _)| id)
            .filter(|&id| !self.scope.vars[id].used)
            .collect();
        let n = self.rng.between(1, 3) + accumulators.len() + unread.len();
        let mut terms = Vec::new();
        for id in unread {
            let e = self.array_read(id);
            terms.push(self.fit(e, CAP / n as f64));
        }
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

    /// Declares a local array or Vec built by `array_let`.
    fn declare_array(&mut self, name: &str, kind: VarKind, mutable: bool, bound: f64) {
        self.scope.declare(name, kind, mutable, bound);
    }

    /// A local array or Vec built from active values: `[e1, e2, ..]`, `[e; n]`,
    /// `vec![e1, ..]`, `vec![e; n]` (`n` sometimes `v.len()` or `k + 1`), `Vec::new()` or
    /// `Vec::with_capacity(n)` and pushes (sometimes in a loop), a `collect` of a chain over
    /// the slice, `v.to_vec()`, or a call of the program's vector-valued helper.
    fn array_let(&mut self) {
        let name = self.scope.fresh_name("r");
        let arr = |min, max, vec| VarKind::Arr {
            min,
            max,
            fixed: min == max,
            vec,
            pushed: false,
        };
        // Formerly avoided, now generated (fixed macro bugs, `tests/regressions.rs`,
        // `repeat_after_return`, `collect_of_constants`): `[e; n]`, `vec![e; n]`, pushes,
        // `collect` and `to_vec` were made only in the top block.
        let top = 1.0;
        let w = [
            2.0,                                           // [a, b, c]
            top,                                           // [e; n]
            1.5,                                           // vec![a, b]
            top,                                           // vec![e; n]
            if PUSHES { 1.5 * top } else { 0.0 },          // Vec::new() + push
            if self.has_slice { top } else { 0.0 },        // collect
            if self.has_slice { 0.7 * top } else { 0.0 },  // to_vec
            if self.helper.is_some() { 2.0 } else { 0.0 }, // helper call
        ];
        match self.rng.weighted(&w) {
            0 | 2 => {
                let vec = self.rng.chance(0.5);
                let n = self.rng.between(2, 4);
                self.in_vec_literal = vec;
                let es: Vec<Expr> = (0..n).map(|_| self.expr(CAP, 2)).collect();
                self.in_vec_literal = false;
                let bound = es.iter().map(|e| e.bound).fold(0.0, f64::max);
                let items = es.iter().map(|e| e.text.clone()).collect::<Vec<_>>();
                let open = if vec { "vec![" } else { "[" };
                // A literal of untyped floats only would be `{float}`: annotate.
                let ty = if es.iter().any(|e| e.typed) {
                    String::new()
                } else if vec {
                    ": Vec<f64>".into()
                } else {
                    format!(": [f64; {n}]")
                };
                self.scope.line(&format!(
                    "let mut {name}{ty} = {open}{}];",
                    items.join(", ")
                ));
                self.declare_array(&name, arr(n, n, vec), true, bound);
            }
            1 | 3 => {
                let vec = self.rng.chance(0.5);
                self.in_vec_literal = vec;
                let e = self.expr(CAP, 2);
                self.in_vec_literal = false;
                let (len, min, max) = match self.rng.below(4) {
                    0 if vec && self.has_slice => ("v.len()".to_string(), MIN_LEN, MAX_LEN),
                    1 if vec && self.has_index => ("k + 1".to_string(), 1, MAX_INDEX + 1),
                    _ => {
                        let n = self.rng.between(1, 4);
                        (n.to_string(), n, n)
                    }
                };
                let open = if vec { "vec![" } else { "[" };
                let ty = if e.typed {
                    String::new()
                } else if vec {
                    ": Vec<f64>".into()
                } else {
                    format!(": [f64; {len}]")
                };
                self.scope
                    .line(&format!("let mut {name}{ty} = {open}{}; {len}];", e.text));
                let mut kind = arr(min, max, vec);
                if let VarKind::Arr { fixed, pushed, .. } = &mut kind {
                    // `vec![e; k + 1]` has a length known only at run time.
                    *fixed = min == max && len.parse::<usize>().is_ok();
                    *pushed = true;
                }
                self.declare_array(&name, kind, true, e.bound);
            }
            4 => {
                let ctor = if self.rng.chance(0.5) {
                    "Vec::new()".to_string()
                } else {
                    format!("Vec::with_capacity({})", self.rng.between(1, 4))
                };
                self.scope
                    .line(&format!("let mut {name}: Vec<f64> = {ctor};"));
                let mut bound: f64 = 0.0;
                let mut count = 0;
                // Formerly avoided, now generated (fixed macro bug, `tests/regressions.rs`,
                // `push_in_loop_in_loop`): pushes in a `for` were made only outside loops.
                if self.rng.chance(0.4) {
                    let n = self.rng.between(1, 3);
                    let e = self.expr(CAP, 2);
                    self.scope
                        .line(&format!("for _ in 0..{n} {{ {name}.push({}); }}", e.text));
                    bound = e.bound;
                    count += n;
                }
                for _ in 0..self.rng.between(1 - count.min(1), 3) {
                    let e = self.expr(CAP, 2);
                    self.scope.line(&format!("{name}.push({});", e.text));
                    bound = bound.max(e.bound);
                    count += 1;
                }
                let kind = VarKind::Arr {
                    min: count,
                    max: count,
                    fixed: true,
                    vec: true,
                    pushed: true,
                };
                self.declare_array(&name, kind, true, bound);
            }
            5 => {
                let e = self.scope.fresh_name("e");
                let (adapt, min, max) = match self.rng.below(3) {
                    0 => ("", MIN_LEN, MAX_LEN),
                    1 => (".rev()", MIN_LEN, MAX_LEN),
                    _ => (".skip(1)", MIN_LEN - 1, MAX_LEN - 1),
                };
                let body = self.in_closure_scope(&[(&e, VarKind::Real, PARAM_BOUND, true)], |g| {
                    g.expr(CAP, 2)
                });
                let chain = format!("v.iter(){adapt}.map(|{e}| {})", body.text);
                let mutable = self.rng.chance(0.5);
                let m = if mutable { "mut " } else { "" };
                if self.rng.chance(0.5) {
                    self.scope
                        .line(&format!("let {m}{name}: Vec<f64> = {chain}.collect();"));
                } else {
                    self.scope
                        .line(&format!("let {m}{name} = {chain}.collect::<Vec<_>>();"));
                }
                let kind = VarKind::Arr {
                    min,
                    max,
                    fixed: false,
                    vec: true,
                    pushed: true,
                };
                self.declare_array(&name, kind, mutable, body.bound);
            }
            6 => {
                self.scope.line(&format!("let mut {name} = v.to_vec();"));
                self.declare_array(&name, arr(MIN_LEN, MAX_LEN, true), true, PARAM_BOUND);
            }
            _ => {
                let call = self.helper_call(None);
                self.scope.line(&format!("let mut {name} = {call};"));
                self.declare_array(&name, arr(2, 2, false), true, HELPER_BOUND);
            }
        }
    }

    /// `fN_h(s, a)`: the state `s` an array of two variable `state` (if its elements are
    /// within the helper's bound) or an array literal built in place.
    fn helper_call(&mut self, state: Option<usize>) -> String {
        let h = self.helper.clone().expect("a helper");
        let s = match state {
            Some(id) if self.scope.vars[id].bound <= HELPER_BOUND => {
                self.scope.vars[id].used = true;
                self.scope.vars[id].name.clone()
            }
            _ => {
                let a = self.expr(HELPER_BOUND, 1);
                let b = self.expr(HELPER_BOUND, 1);
                format!("[{}, {}]", a.text, b.text)
            }
        };
        let a = self.expr(HELPER_BOUND, 1);
        format!("{h}({s}, {})", a.text)
    }

    /// A write to an element of a local array or Vec (`r[i] = e`, `r[i] op= e`, a mix of
    /// elements read before), a push onto a Vec, or a write of the whole array (a literal
    /// of its own elements, or the helper's step): within its bound where a loop opened
    /// since its declaration, else raising it.
    fn array_write(&mut self) {
        let targets = self.writable_arrays();
        let id = *self.rng.pick(&targets);
        // Formerly avoided, now generated (fixed macro bugs, `tests/regressions.rs`,
        // `dead_vec_in_branch_in_loop`, `write_in_else_if_in_match`): an array written last
        // and never read after (E0425) was left unread by its own write, so that the sink
        // read it; reads inside its own write now count, and it may stay dead.
        self.array_write_to(id);
    }

    fn array_write_to(&mut self, id: usize) {
        let VarKind::Arr {
            min,
            max,
            fixed,
            vec,
            ..
        } = self.scope.vars[id].kind
        else {
            unreachable!("an array")
        };
        let name = self.scope.vars[id].name.clone();
        let free = self.free(id);
        let bound = self.scope.vars[id].bound;
        let cap = if free { CAP } else { bound.min(CAP) };
        let depth = self.rng.between(1, 2);
        let w = [
            3.0,                                   // element write
            if PUSHES && vec { 0.8 } else { 0.0 }, // push
            if fixed { 0.8 } else { 0.0 },         // whole literal
            if fixed && !vec && min == 2 && self.helper.is_some() && (free || bound >= HELPER_BOUND)
            {
                2.0
            } else {
                0.0
            }, // helper step
            0.8,                                   // reverse, swap, fill
        ];
        match self.rng.weighted(&w) {
            0 => {
                let idx = self.array_index(id, true);
                let target = format!("{name}[{idx}]");
                match self.rng.below(7) {
                    0 | 1 => {
                        let e = self.expr(cap, depth);
                        self.scope.line(&format!("{target} = {};", e.text));
                        self.scope.vars[id].bound = bound.max(e.bound);
                    }
                    2 => {
                        // Overwrites an element with a mix of elements read before.
                        let a = *self.rng.pick(&[0.5, 0.25, 0.75]);
                        let other = self.array_read(id);
                        let e = self.expr(cap, depth);
                        self.scope.line(&format!(
                            "{target} = {a:?} * {} + {:?} * {};",
                            other.text,
                            1.0 - a,
                            e.operand()
                        ));
                        self.scope.vars[id].bound = bound.max(e.bound);
                    }
                    3 => {
                        let e = self.expr(1.0, depth);
                        self.compound_assign(&target, "*=", &e);
                    }
                    4 => {
                        let d = self.denominator(depth - 1);
                        let twice =
                            Expr::compound(format!("2.0 * {}", d.operand()), 10.0).typed_by(&[&d]);
                        self.compound_assign(&target, "/=", &twice);
                    }
                    _ if free => {
                        let e = self.expr(CAP, depth);
                        let op = if self.rng.chance(0.5) { "+=" } else { "-=" };
                        self.compound_assign(&target, op, &e);
                        self.scope.vars[id].bound = bound + e.bound;
                    }
                    _ => {
                        let e = self.expr(cap, depth);
                        let m = if self.rng.chance(0.5) { "max" } else { "min" };
                        self.scope
                            .line(&format!("{target} = {target}.{m}({});", e.text));
                    }
                }
            }
            1 => {
                let e = self.expr(cap, depth);
                self.scope.line(&format!("{name}.push({});", e.text));
                self.scope.vars[id].bound = bound.max(e.bound);
                // Its length is known only at run time now (a push in a loop or a branch).
                self.scope.vars[id].kind = VarKind::Arr {
                    min,
                    max: usize::MAX,
                    fixed: false,
                    vec,
                    pushed: true,
                };
                let _ = max;
            }
            2 => {
                let mut items = Vec::new();
                let mut b: f64 = 0.0;
                self.in_vec_literal = vec;
                for _ in 0..min {
                    let e = if self.rng.chance(0.5) {
                        self.array_read(id)
                    } else {
                        let a = *self.rng.pick(&[0.5, 0.25, 0.75]);
                        let other = self.array_read(id);
                        let e = self.expr(cap, 1);
                        Expr::compound(
                            format!("{a:?} * {} + {:?} * {}", other.text, 1.0 - a, e.operand()),
                            bound.max(e.bound),
                        )
                    };
                    b = b.max(e.bound);
                    items.push(e.text);
                }
                self.in_vec_literal = false;
                let open = if vec { "vec![" } else { "[" };
                self.scope
                    .line(&format!("{name} = {open}{}];", items.join(", ")));
                self.scope.vars[id].bound = b.max(if free { 0.0 } else { bound });
            }
            4 => match self.rng.below(if min == 0 { 2 } else { 4 }) {
                // A permutation (a reversal, a sort, a swap) keeps the bound (an empty `Vec` is
                // only reversed or sorted); `fill`
                // writes every element, as an element
                // write does one. The method borrows the array mutably before its arguments
                // run, so they read neither it (E0502/E0503 in Rust itself): the swap's
                // indices are literals, the fill's value a `let` of its own, as is what the
                // `iter_mut` loop mixes in (`|0.5 v + 0.5 f tanh(v)|` stays within both bounds).
                0 if self.rng.chance(0.5) => self.scope.line(&format!("{name}.reverse();")),
                0 => self.scope.line(&format!(
                    "{name}.sort_by(|a, b| {});",
                    self.rng
                        .pick(&["a.total_cmp(b)", "b.partial_cmp(a).unwrap()"])
                )),
                1 => {
                    let e = self.expr(cap, depth);
                    let f = self.scope.fresh_name("fv");
                    self.scope.line(&format!("let {f} = {};", e.text));
                    let v = self.scope.fresh_name("e");
                    self.scope.line(&format!(
                        "for {v} in {name}.iter_mut() {{ *{v} = 0.5 * *{v} + 0.5 * {f} * {v}.tanh(); }}"
                    ));
                    self.scope.vars[id].bound = bound.max(e.bound);
                }
                2 => {
                    let (i, j) = (self.rng.below(min), self.rng.below(min));
                    self.scope.line(&format!("{name}.swap({i}, {j});"));
                }
                _ => {
                    let e = self.expr(cap, depth);
                    let f = self.scope.fresh_name("fv");
                    self.scope.line(&format!("let {f} = {};", e.text));
                    self.scope.line(&format!("{name}.fill({f});"));
                    self.scope.vars[id].bound = bound.max(e.bound);
                }
            },
            _ => {
                let call = self.helper_call(Some(id));
                self.scope.line(&format!("{name} = {call};"));
                self.scope.vars[id].bound = if free {
                    HELPER_BOUND
                } else {
                    bound.max(HELPER_BOUND)
                };
            }
        }
    }

    /// `let y = if c { ..; e } else { ..; e };` or the same with `match k`.
    fn let_block_expr(&mut self) {
        // No exit leaves a block whose value is used.
        let loops = std::mem::take(&mut self.loops);
        let returns = std::mem::replace(&mut self.returns_ok, false);
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
        self.loops = loops;
        self.returns_ok = returns;
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
        for (id, _) in self.arrays() {
            if let VarKind::Arr { min, max, .. } = self.scope.vars[id].kind
                && max != usize::MAX
                && self.rng.chance(0.5)
            {
                let name = self.scope.vars[id].name.clone();
                // Indices below its length: below `v.len()` too when it is no longer.
                let _ = min;
                ends.push((format!("{name}.len()"), max, max <= MIN_LEN));
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
        let label = self.loop_label();
        let prefix = label.as_ref().map_or(String::new(), |l| format!("{l}: "));
        self.open_loop(n + 1, &format!("{prefix}for {name} in {range} {{"));
        if name != "_" {
            self.scope
                .declare(name, VarKind::Int { max, below_len }, false, max as f64);
        }
        self.loops.push(LoopCtl {
            kind: LoopKind::For,
            label,
            value_bound: 0.0,
        });
        self.close_loop(1, 4, None);
        self.loops.pop();
    }

    /// A label for a loop about to open: on some outermost loops only.
    fn loop_label(&mut self) -> Option<String> {
        if self.scope.frames.is_empty() && self.rng.chance(0.35) {
            Some(format!("'{}", self.scope.fresh_name("o")))
        } else {
            None
        }
    }

    /// `for` over the slice parameter, through a random adaptor chain: its elements (`&f64`,
    /// read as `(*e)`, or `f64` through `&e` and `copied`), an `enumerate` index, a `zip`
    /// with the slice's tail, or `windows(2)`/`chunks(n)` read as `w[0]`, `w[1]`, `c[0]`.
    fn iter_loop(&mut self) {
        let label = self.loop_label();
        let prefix = label.as_ref().map_or(String::new(), |l| format!("{l}: "));
        let mut chain = String::new();
        for _ in 0..self.rng.below(3) {
            let a = *self
                .rng
                .pick(&[".rev()", ".skip(1)", ".take(3)", ".step_by(2)"]);
            chain.push_str(a);
        }
        let e = self.scope.fresh_name("e");
        let real = VarKind::Real;
        // (name, kind, read through a reference)
        let mut vars: Vec<(String, VarKind, bool)> = Vec::new();
        let header = match self.rng.below(8) {
            0 => {
                vars.push((e.clone(), real, true));
                let src = *self.rng.pick(&["v", "v.iter()", "v.into_iter()"]);
                format!("for {e} in {src}")
            }
            1 => {
                vars.push((e.clone(), real, true));
                format!("for {e} in v.iter(){chain}")
            }
            2 => {
                vars.push((e.clone(), real, false));
                format!("for &{e} in v.iter(){chain}")
            }
            3 => {
                vars.push((e.clone(), real, false));
                format!("for {e} in v.iter(){chain}.copied()")
            }
            4 => {
                let n = self.scope.fresh_name("n");
                let idx = VarKind::Int {
                    max: MAX_LEN - 1,
                    below_len: true,
                };
                vars.push((n.clone(), idx, false));
                if self.rng.chance(0.5) {
                    vars.push((e.clone(), real, true));
                    format!("for ({n}, {e}) in v.iter(){chain}.enumerate()")
                } else {
                    vars.push((e.clone(), real, false));
                    format!("for ({n}, &{e}) in v.iter().enumerate(){chain}")
                }
            }
            5 => {
                let b = self.scope.fresh_name("e");
                vars.push((b.clone(), real, true));
                if self.rng.chance(0.3) {
                    format!("for (_, {b}) in v.iter(){chain}.zip(v.iter().skip(1))")
                } else {
                    vars.push((e.clone(), real, true));
                    format!("for ({e}, {b}) in v.iter(){chain}.zip(v.iter().skip(1))")
                }
            }
            6 => {
                let w = self.scope.fresh_name("w");
                vars.push((format!("{w}[0]"), real, false));
                vars.push((format!("{w}[1]"), real, false));
                format!("for {w} in v.windows(2)")
            }
            _ => {
                let c = self.scope.fresh_name("c");
                let size = self.rng.between(1, 3);
                let rev = if self.rng.chance(0.3) { ".rev()" } else { "" };
                vars.push((format!("{c}[0]"), real, false));
                format!("for {c} in v.chunks({size}){rev}")
            }
        };
        self.open_loop(MAX_LEN, &format!("{prefix}{header} {{"));
        for (name, kind, is_ref) in vars {
            let bound = match kind {
                VarKind::Int { max, .. } => max as f64,
                _ => PARAM_BOUND,
            };
            let id = self.scope.declare(&name, kind, false, bound);
            self.scope.vars[id].pinned = true;
            if is_ref {
                self.refs.push(id);
            }
        }
        self.loops.push(LoopCtl {
            kind: LoopKind::For,
            label,
            value_bound: 0.0,
        });
        self.close_loop(1, 4, None);
        self.loops.pop();
    }

    /// `let t: f64 = loop { c += 1; if c > n { break e; } ..; [if cond { break e; }] };`:
    /// the counter, stepped and tested first, ends it after `n` runs of the body whatever
    /// the conditions and the `continue`s inside (a test at the end would be skipped by them).
    fn value_loop(&mut self) {
        let counter = self.scope.fresh_name("c");
        let n = self.rng.between(1, 4);
        let name = self.scope.fresh_name("t");
        self.scope.line(&format!("let mut {counter} = 0;"));
        self.open_loop(n + 1, &format!("let {name}: f64 = loop {{"));
        self.scope.line(&format!("{counter} += 1;"));
        let first = self.expr(CAP, 2);
        self.scope
            .line(&format!("if {counter} > {n} {{ break {}; }}", first.text));
        // In the body the counter is at most `n`.
        let below_len = n < MIN_LEN;
        self.scope
            .declare_counter(&counter, VarKind::Int { max: n, below_len });
        self.loops.push(LoopCtl {
            kind: LoopKind::Value,
            label: None,
            value_bound: 0.0,
        });
        let returns = std::mem::replace(&mut self.returns_ok, false);
        self.body(1, 3);
        self.sink_unused();
        let mut bound = first.bound;
        if self.rng.chance(0.5) {
            let c = self.condition(0);
            let e = self.expr(CAP, 2);
            bound = bound.max(e.bound);
            self.scope.line(&format!("if {c} {{ break {}; }}", e.text));
        }
        self.returns_ok = returns;
        let ctl = self.loops.pop().expect("the value loop");
        self.scope.close("};");
        self.scope.exit_loop(Self::KEEP_ENTRY);
        self.scope
            .declare(&name, VarKind::Real, false, ctl.value_bound.max(bound));
    }

    /// `if cond { [a write;] break; }` (or `continue`, `break 'o`, `continue 'o`, `break e`),
    /// for the innermost loop or a labeled one around it.
    fn exit_stmt(&mut self) {
        let inner = self.loops.last().expect("a loop").clone();
        let mut exits: Vec<String> = Vec::new();
        match inner.kind {
            LoopKind::For => exits.extend(["break;".to_string(), "continue;".to_string()]),
            LoopKind::While => exits.push("break;".to_string()),
            LoopKind::Value => exits.push("continue;".to_string()),
        }
        if inner.kind != LoopKind::Value {
            for ctl in self.loops[..self.loops.len() - 1].iter().rev() {
                if ctl.kind == LoopKind::Value {
                    break;
                }
                if let Some(l) = &ctl.label {
                    exits.push(format!("break {l};"));
                    if ctl.kind == LoopKind::For {
                        exits.push(format!("continue {l};"));
                    }
                }
            }
        }
        let labeled: Vec<String> = exits.iter().filter(|e| e.contains('\'')).cloned().collect();
        let exit = if inner.kind == LoopKind::Value && self.rng.chance(0.6) {
            None
        } else if !labeled.is_empty() && self.rng.chance(0.5) {
            Some(self.rng.pick(&labeled).clone())
        } else {
            Some(self.rng.pick(&exits).clone())
        };
        let before = self.scope.snapshot();
        let cond = self.condition(1);
        self.scope.open(&format!("if {cond} {{"));
        if self.scope.can_nest() && !self.scope.assignable().is_empty() && self.rng.chance(0.3) {
            self.assignment();
        }
        match exit {
            Some(exit) => self.scope.line(&exit),
            None => {
                let e = self.expr(CAP, 2);
                let ctl = self.loops.last_mut().expect("a loop");
                ctl.value_bound = ctl.value_bound.max(e.bound);
                self.scope.line(&format!("break {};", e.text));
            }
        }
        let end = self.scope.branch_end(&before);
        self.scope.close("}");
        self.scope.join(&before, &[end], false);
    }

    /// `if cond { return e; }`, anywhere but in a block whose value is used.
    fn early_return(&mut self) {
        let cond = self.condition(1);
        let e = self.expr(CAP, 2);
        self.early_bound = self.early_bound.max(e.bound);
        self.scope.open(&format!("if {cond} {{"));
        self.scope.line(&format!("return {};", e.text));
        self.scope.close("}");
    }

    /// `let g = |u: f64| body;`, its body reading only immutable variables (see
    /// `Scope::closure_mode`); called later by `closure_call`.
    fn closure_let(&mut self) {
        let g = self.scope.fresh_name("g");
        let u = self.scope.fresh_name("u");
        let outer = std::mem::replace(&mut self.scope.closure_mode, true);
        let depth = self.rng.between(1, MAX_EXPR_DEPTH);
        let body = self.in_closure_scope(&[(&u, VarKind::Real, CLOSURE_ARG, false)], |g| {
            g.expr(CAP, depth)
        });
        self.scope.closure_mode = outer;
        if self.rng.chance(0.3) {
            self.scope
                .line(&format!("let {g} = |{u}: f64| -> f64 {{ {} }};", body.text));
        } else {
            self.scope
                .line(&format!("let {g} = |{u}: f64| {};", body.text));
        }
        self.scope
            .declare(&g, VarKind::Closure { ret: body.bound }, false, 0.0);
    }

    /// `match k { q if q > 2 => .., 0 => .., q if cond => .., _ => .. }`: guards on the
    /// integer and on comparisons of reals; arms bind `q` and read it.
    fn guarded_match(&mut self) {
        let before = self.scope.snapshot();
        let mut ends = Vec::new();
        self.scope.open("match k {");
        let q = self.scope.fresh_name("q");
        let r = self.rng.below(3);
        let cmp = self.comparison(0);
        let second = if self.rng.chance(0.5) {
            (format!("{q} if {cmp}"), true)
        } else {
            (format!("1 | 2 if {cmp}"), false)
        };
        let arms = [
            (format!("{q} if {q} > {r}"), true),
            ("0".to_string(), false),
            second,
            ("_".to_string(), false),
        ];
        for (pat, binds) in arms {
            self.scope.restore(&before);
            self.scope.line(&format!("{pat} => {{"));
            self.scope.indent += 1;
            self.scope.scopes.push(Vec::new());
            if binds {
                let kind = VarKind::Int {
                    max: MAX_INDEX,
                    below_len: false,
                };
                self.scope.declare(&q, kind, false, MAX_INDEX as f64);
            }
            self.body(1, 2);
            self.sink_unused();
            self.scope.scopes.pop();
            self.scope.indent -= 1;
            self.scope.line("}");
            ends.push(self.scope.branch_end(&before));
        }
        self.scope.close("}");
        self.scope.join(&before, &ends, true);
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
        let label = self.loop_label();
        let prefix = label.as_ref().map_or(String::new(), |l| format!("{l}: "));
        self.open_loop(n, &format!("{prefix}while {counter} < {end}{extra} {{"));
        let below_len = end == "v.len()" || n <= MIN_LEN;
        let max = n.saturating_sub(1);
        self.scope
            .declare_counter(&counter, VarKind::Int { max, below_len });
        let outer = self.in_while;
        self.in_while = true;
        self.loops.push(LoopCtl {
            kind: LoopKind::While,
            label,
            value_bound: 0.0,
        });
        self.close_loop(1, 3, Some(&counter));
        self.loops.pop();
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
            if can_loop && self.has_slice { 1.0 } else { 0.0 }, // for over the slice
            if can_loop { 0.4 } else { 0.0 }, // let = loop { .. break e; }
            if self.loops.is_empty() { 0.0 } else { 1.2 }, // if c { break/continue }
            if self.returns_ok { 0.3 } else { 0.0 }, // if c { return e; }
            0.5, // let g = |u: f64| ..;
            if can_nest && self.has_index { 0.4 } else { 0.0 }, // match guards
            if self.builds { 1.2 } else { 0.0 }, // let mut r = [..] / vec![..] / Vec::new() + push / collect / to_vec / helper
            if self.writable_arrays().is_empty() {
                0.0
            } else {
                3.0
            }, // r[i] = e, r[i] op= e, r.push(e), r = [..], r = fN_h(r, e)
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
            10 => self.iter_loop(),
            11 => self.value_loop(),
            12 => self.exit_stmt(),
            13 => self.early_return(),
            14 => self.closure_let(),
            15 => self.guarded_match(),
            16 => self.array_let(),
            17 => self.array_write(),
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
            let e = Expr::atom(self.read_text(id), b);
            let e = guard(self.fit(e, 1.0));
            self.scope.add_to_sink(sink, &e.text, e.bound);
        }
        // Arrays of this block not read yet: one element reaches the sink.
        let scope = self.scope.scopes.last().cloned().unwrap_or_default();
        for id in scope {
            let v = &self.scope.vars[id];
            if matches!(v.kind, VarKind::Arr { .. }) && !v.used {
                let e = self.array_read(id);
                let e = guard(self.fit(e, 1.0));
                self.scope.add_to_sink(sink, &e.text, e.bound);
            }
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
