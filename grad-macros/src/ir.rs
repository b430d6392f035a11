//! The SSA-like IR: every value named once, reassignment making a new version, loops and
//! branches kept structured, each operation keeping its source span.

use proc_macro2::{Span, TokenStream};

pub type VarId = usize;

/// One SSA value.
#[derive(Clone, Debug)]
pub struct VarInfo {
    /// The user's name for it, or `t` for a temporary.
    pub hint: String,
    pub span: Span,
    /// Depends on a differentiated parameter.
    pub active: bool,
    /// Holds a reference (`&T` parameter, `&place`).
    pub is_ref: bool,
    /// The index of the parameter this value is, if it is one.
    pub param: Option<usize>,
}

/// An input of an operation.
#[derive(Clone, Debug)]
pub enum Operand {
    Var(VarId),
    /// A constant expression that mentions no local (a literal, a path to a `const`).
    Const(TokenStream),
}

impl Operand {
    pub fn var(&self) -> Option<VarId> {
        match self {
            Operand::Var(v) => Some(*v),
            Operand::Const(_) => None,
        }
    }
}

/// One step of a place expression: `.field` or `[index]`.
#[derive(Clone, Debug)]
pub enum Proj {
    Field(syn::Member),
    Index(Operand),
}

/// Which rule trait a primitive goes through (see the runtime's `rules` module).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimKind {
    Unary,
    Binary,
    /// Linear in each input separately (`a * b`): the rule for one input reads the other
    /// input's value and this one's shape only.
    Bilinear,
    Linear,
    LinearBinary,
}

/// A primitive with a rule in the runtime.
#[derive(Clone, Debug)]
pub struct Prim {
    /// The marker's name in `__private::op`.
    pub marker: &'static str,
    /// A type argument of the marker (`CastTo::<f64>`).
    pub generic: Option<syn::Type>,
    /// The marker's non-differentiated arguments (`Powi(n)`).
    pub extra: Vec<Operand>,
    pub kind: PrimKind,
}

/// What a call calls.
#[derive(Clone, Debug)]
pub enum Callee {
    /// A path: `g`, `module::g`, `Self::g`; `_vjp`/`_jvp` are appended to its last segment.
    Path(syn::Path),
    /// A method on the first argument.
    Method(syn::Ident),
    /// A fused region (`fuse`): the runtime's `fuse::fwd`/`bwd` with a kernel the macro writes.
    Fused(Box<Fused>),
}

/// A fused region's kernel and the reduction folded into its loop.
#[derive(Clone, Debug)]
pub struct Fused {
    /// The kernel's unit struct, written into `_grad`'s and `_vjp`'s bodies.
    pub kernel: syn::Ident,
    /// The region's operations, for messages (`fused tanh, mul`).
    pub name: String,
    pub fold: Fold,
}

/// A trailing reduction of a fused region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fold {
    None,
    Sum,
    Mean,
}

#[derive(Clone, Debug)]
pub struct CallArg {
    pub operand: Operand,
    /// Written `&arg` at the call.
    pub by_ref: bool,
    /// The argument as written, for errors about it.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Op {
    /// A copy of an operand (a constant given a name, or an alias).
    Use(Operand),
    /// A non-differentiated expression, emitted as written with its locals renamed.
    Opaque {
        tokens: TokenStream,
        uses: Vec<VarId>,
        /// Has no call in it, so a loop's reverse sweep may recompute it.
        cheap: bool,
    },
    Prim {
        prim: Box<Prim>,
        args: Vec<Operand>,
        span: Span,
    },
    /// `base.f[i]...`, or `&base.f[i]...` when `borrow`.
    Project {
        base: VarId,
        path: Vec<Proj>,
        borrow: bool,
    },
    /// `&v`.
    Borrow(VarId),
    /// `*v`.
    Deref(VarId),
    /// A value built from parts: a tuple, an array, a `Vec`, a struct, a matrix.
    Build { kind: Build, parts: Vec<Operand> },
    Call {
        callee: Callee,
        args: Vec<CallArg>,
        span: Span,
    },
    /// A local with one place set (`c[i] = e`, `p.x = e`), or with a value pushed at its end
    /// (`v.push(e)`: `push`, an empty `path`): a new version of the local. The old version
    /// is moved into the new one where nothing else takes it (`moves`), else copied.
    Write {
        base: VarId,
        path: Vec<Proj>,
        value: Operand,
        push: bool,
        moves: bool,
    },
}

/// How [`Op::Build`] puts its parts together; the parts' adjoints are the pieces of the
/// value's adjoint, and the value's tangent is built the same way from the parts' tangents.
#[derive(Clone, Debug)]
pub enum Build {
    /// `(a, b)`
    Tuple,
    /// `[a, b]`
    Array,
    /// `[e; n]`, `n` a constant expression.
    Repeat(TokenStream),
    /// `vec![a, b]`
    Vec,
    /// `vec![e; n]`, `n` a (non-differentiated) value.
    VecRepeat(Operand),
    /// `Path { f: a, g: b }`: the fields, in the parts' order.
    Struct(syn::Path, Vec<syn::Member>),
    /// A fixed-size nalgebra constructor, `Vector3::new(x, y, z)` or
    /// `Matrix2::from_row_slice(&[..])` (row-major parts), `from_column_slice` (column-major).
    Matrix {
        ctor: syn::Path,
        column_major: bool,
        slice: bool,
    },
}

impl Build {
    /// The non-differentiated value it reads besides its parts.
    pub fn count(&self) -> Option<VarId> {
        match self {
            Build::VecRepeat(n) => n.var(),
            _ => None,
        }
    }
}

/// A value merged where control flow joins: one source per arm.
#[derive(Clone, Debug)]
pub struct Phi {
    pub out: VarId,
    pub sources: Vec<Operand>,
}

/// A variable a loop reassigns.
#[derive(Clone, Debug)]
pub struct Carried {
    /// Its value before the loop.
    pub init: Operand,
    /// Its value at the start of an iteration.
    pub inner: VarId,
    /// Its value at the end of an iteration.
    pub next: Operand,
    /// Its value after the loop.
    pub out: VarId,
}

#[derive(Clone, Debug)]
pub enum RangeOp {
    Rev,
    StepBy(Operand),
}

/// `lo..hi` or `lo..=hi`, then `.rev()` / `.step_by(k)` in the written order.
#[derive(Clone, Debug)]
pub struct RangeSpec {
    pub lo: Operand,
    pub hi: Operand,
    pub inclusive: bool,
    pub ops: Vec<RangeOp>,
}

#[derive(Clone, Debug)]
pub struct MatchArm {
    /// The pattern, its bindings renamed.
    pub pat: TokenStream,
    /// The values the pattern binds.
    pub binds: Vec<VarId>,
    pub body: Block,
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub stmts: Vec<Stmt>,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    Let {
        var: VarId,
        op: Op,
    },
    /// `if cond { arms[0] } else { arms[1] }`.
    If {
        cond: Operand,
        arms: Vec<Block>,
        outs: Vec<Phi>,
        /// Which arm ran, with the values its reverse needs.
        record: VarId,
    },
    Match {
        scrutinee: TokenStream,
        arms: Vec<MatchArm>,
        outs: Vec<Phi>,
        record: VarId,
    },
    For {
        index: Option<VarId>,
        range: RangeSpec,
        body: Block,
        carried: Vec<Carried>,
        /// Names the stack of per-iteration values.
        stack: VarId,
    },
    While {
        cond_block: Block,
        cond: Operand,
        body: Block,
        carried: Vec<Carried>,
        /// The iteration count.
        record: VarId,
        stack: VarId,
    },
    /// A forward-only statement (`assert!`, `println!`): its tokens, and the user names it
    /// mentions with the values they stand for.
    Effect {
        tokens: TokenStream,
        binds: Vec<(syn::Ident, VarId)>,
    },
}

/// A lowered function body.
#[derive(Clone, Debug)]
pub struct Func {
    pub vars: Vec<VarInfo>,
    pub body: Block,
    pub ret: Operand,
    /// The value of each parameter, in order.
    pub params: Vec<VarId>,
    /// The `for` loops over `grad::checkpoint(range, snapshots)`, by their stack: the
    /// snapshot count (see `crate::revolve`).
    pub revolve: Vec<(VarId, Operand)>,
}

impl Func {
    /// The snapshot count of the checkpointed loop with this stack, if it is one.
    pub fn snapshots(&self, stack: VarId) -> Option<&Operand> {
        self.revolve
            .iter()
            .find(|(s, _)| *s == stack)
            .map(|(_, n)| n)
    }
}

impl Func {
    /// The parts of an array of references, `[&a, &b]` or `[a, b]` of `&T` parameters (what
    /// `Tensor::cat(&[&a, &b], 0)` takes). Such an array is written again from its parts
    /// wherever it is passed on, and what it lends is what its parts lend: held in a value, its
    /// one element type would tie the parts' lifetimes together (a `_vjp`'s returned closure
    /// could not name that lifetime) and would borrow locals that the closure must own.
    pub fn ref_array_parts(&self, op: &Op) -> Option<Vec<VarId>> {
        let Op::Build {
            kind: Build::Array,
            parts,
        } = op
        else {
            return None;
        };
        if parts.is_empty() {
            return None;
        }
        parts
            .iter()
            .map(|p| p.var().filter(|&v| self.vars[v].is_ref))
            .collect()
    }
}
