//! Fused elementwise regions: what `#[differentiable]` makes of a chain of pointwise
//! operations on tensors (`(tanh(x)² · e^{-x}).sum()`), one pass over the data forward and one
//! backward, with no tensor in between.
//!
//! The macro writes each region once as a [`Kernel`]: its element function and that
//! function's adjoint, generic over a [`Lane`], which is a plain scalar (`f32`, `f64`) or a
//! block of `W` elements ([`V`]) that the compiler keeps in SIMD registers. The functions here
//! run a kernel over its inputs: tensors are read in blocks, broadcast tensors are first
//! expanded to the result's shape, scalars are splatted, and a trailing `sum` or `mean` is
//! folded into the same loop. The adjoint recomputes the forward values it needs in
//! registers: it reads the inputs and the result's cotangent and writes one gradient per
//! differentiated input (reduced back to a broadcast input's shape).
//!
//! Exactness: the element functions use the same math as the unfused operations (the
//! vectorized `exp ln tanh sigmoid` kernels for tensors, `std`'s functions for scalars), so
//! the fused values equal the unfused ones up to the order of the additions in a fold and
//! the rounding of `mul_add`; `tests/fuse.rs` checks a few ulp.
//!
//! Large inputs are split over rayon's threads in blocks of a fixed size, and partial sums
//! are added in block order: the result has the same bits on any number of threads.

mod fold;

use crate::kernels::{Isa, scalar};
use crate::real::Real;
use crate::rules::op;
use crate::rules::pointwise::sign_or_zero;
use crate::tensor::shape::{broadcast_or_panic, broadcast_to, same_shape, unbroadcast};
use crate::tensor::{Dims, Tensor, pool};
use core::mem::MaybeUninit;
use core::ops::{Add, Div, Mul, Neg, Sub};
use fold::{BlockSums, fold_items, fold_total};
use rayon::prelude::*;

/// Values a kernel computes with: a scalar, or a block of elements in SIMD registers.
pub trait Lane:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// The element type.
    type Elem: Real;
    /// Every element `v`.
    fn splat(v: Self::Elem) -> Self;
    /// Every element the nearest value to `v` (a constant of the region).
    #[inline(always)]
    fn konst(v: f64) -> Self {
        Self::splat(Self::Elem::from_f64(v))
    }
    /// `e^x`.
    fn exp(self) -> Self;
    /// `ln x`.
    fn ln(self) -> Self;
    /// `tanh x`.
    fn tanh(self) -> Self;
    /// `1 / (1 + e^-x)`.
    fn sigmoid(self) -> Self;
    /// Any other one-input function of the elements, `Real`'s own.
    fn map(self, f: impl Fn(Self::Elem) -> Self::Elem) -> Self;
}

/// A scalar in a region all of whose inputs are scalars: `Real`'s (`std`'s) functions, as
/// the unfused scalar operations use.
#[derive(Clone, Copy, Debug)]
pub struct S<T>(pub T);

macro_rules! scalar_op {
    ($($tr:ident $m:ident $o:tt),*) => {$(
        impl<T: Real> $tr for S<T> {
            type Output = Self;
            #[inline(always)]
            fn $m(self, b: Self) -> Self {
                S(self.0 $o b.0)
            }
        }
    )*};
}
scalar_op!(Add add +, Sub sub -, Mul mul *, Div div /);

impl<T: Real> Neg for S<T> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        S(-self.0)
    }
}

impl<T: Real> Lane for S<T> {
    type Elem = T;
    #[inline(always)]
    fn splat(v: T) -> Self {
        S(v)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        S(self.0.exp())
    }
    #[inline(always)]
    fn ln(self) -> Self {
        S(self.0.ln())
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        S(self.0.tanh())
    }
    #[inline(always)]
    fn sigmoid(self) -> Self {
        S(self.0.sigmoid())
    }
    #[inline(always)]
    fn map(self, f: impl Fn(T) -> T) -> Self {
        S(f(self.0))
    }
}

/// `W` elements of a tensor, with the vectorized math of the tensor kernels (`FMA`: whether
/// `mul_add` is one instruction on the path compiled).
#[derive(Clone, Copy, Debug)]
pub struct V<T, const W: usize, const FMA: bool>(pub [T; W]);

macro_rules! lane_op {
    ($($tr:ident $m:ident $o:tt),*) => {$(
        impl<T: Real, const W: usize, const FMA: bool> $tr for V<T, W, FMA> {
            type Output = Self;
            #[inline(always)]
            fn $m(self, b: Self) -> Self {
                let mut o = self.0;
                for i in 0..W {
                    o[i] $o b.0[i];
                }
                V(o)
            }
        }
    )*};
}
lane_op!(Add add +=, Sub sub -=, Mul mul *=, Div div /=);

impl<T: Real, const W: usize, const FMA: bool> Neg for V<T, W, FMA> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        self.map(|v| -v)
    }
}

/// Lane methods that run the tensor kernels' vectorized math on every element (a plain loop,
/// not `array::map`, which is not always inlined: the element functions must be compiled
/// inside the caller's target features).
macro_rules! vectorized {
    ($($m:ident $v:ident),*) => {$(
        #[inline(always)]
        fn $m(self) -> Self {
            let mut o = self.0;
            for x in &mut o {
                *x = x.$v::<FMA>();
            }
            V(o)
        }
    )*};
}

impl<T: Real, const W: usize, const FMA: bool> Lane for V<T, W, FMA> {
    type Elem = T;
    #[inline(always)]
    fn splat(v: T) -> Self {
        V([v; W])
    }
    vectorized!(exp vexp, ln vln, tanh vtanh, sigmoid vsigmoid);
    #[inline(always)]
    fn map(self, f: impl Fn(T) -> T) -> Self {
        // A plain loop, not `array::map`, which is not always inlined: the element
        // functions must be compiled inside the caller's target features.
        let mut o = self.0;
        for v in &mut o {
            *v = f(*v);
        }
        V(o)
    }
}

/// A one-input pointwise primitive in a fused region: its value and its derivative, the
/// same formulas as its scalar rule (`rules::pointwise`).
pub trait Pointwise {
    /// `f(x)`.
    fn f<L: Lane>(&self, x: L) -> L;
    /// `f'(x)`, given `y = f(x)`.
    fn df<L: Lane>(&self, x: L, y: L) -> L;
}

macro_rules! pointwise {
    ($($op:ident: |$x:ident| $f:expr, |$dx:pat_param, $dy:pat_param| $d:expr;)*) => {$(
        impl Pointwise for op::$op {
            #[inline(always)]
            fn f<L: Lane>(&self, $x: L) -> L {
                $f
            }
            #[inline(always)]
            fn df<L: Lane>(&self, $dx: L, $dy: L) -> L {
                $d
            }
        }
    )*};
}

pointwise! {
    Exp:     |x| x.exp(),                      |_x, y| y;
    Ln:      |x| x.ln(),                       |x, _y| x.map(Real::recip);
    Tanh:    |x| x.tanh(),                     |_x, y| L::konst(1.0) - y * y;
    Sigmoid: |x| x.sigmoid(),                  |_x, y| y * (L::konst(1.0) - y);
    Sqrt:    |x| x.map(Real::sqrt),            |_x, y| L::konst(0.5) / y;
    Recip:   |x| x.map(Real::recip),           |_x, y| -(y * y);
    Sin:     |x| x.map(Real::sin),             |x, _y| x.map(Real::cos);
    Cos:     |x| x.map(Real::cos),             |x, _y| -x.map(Real::sin);
    Relu:    |x| x.map(Real::relu),            |x, _y| x.map(relu_d);
    Abs:     |x| x.map(Real::abs),             |x, _y| x.map(sign_or_zero);
}

impl Pointwise for op::Powi {
    #[inline(always)]
    fn f<L: Lane>(&self, x: L) -> L {
        let n = self.0;
        x.map(|v| v.powi(n))
    }
    /// `n x^(n-1)`, and `0` for `n = 0`.
    #[inline(always)]
    fn df<L: Lane>(&self, x: L, _y: L) -> L {
        match self.0 {
            0 => L::konst(0.0),
            n => L::konst(f64::from(n)) * x.map(|v| v.powi(n - 1)),
        }
    }
}

/// `relu'`: 1 above 0, 0 at and below, NaN at NaN (as the scalar rule).
#[inline(always)]
fn relu_d<T: Real>(x: T) -> T {
    if x.is_nan() {
        x
    } else if x > T::ZERO {
        T::ONE
    } else {
        T::ZERO
    }
}

/// `f(x)` of a pointwise primitive, in a kernel.
#[inline(always)]
pub fn f<P: Pointwise, L: Lane>(p: &P, x: L) -> L {
    p.f(x)
}

/// `f'(x)` of a pointwise primitive, given `y = f(x)`, in a kernel.
#[inline(always)]
pub fn df<P: Pointwise, L: Lane>(p: &P, x: L, y: L) -> L {
    p.df(x, y)
}

/// A fused region of `N` inputs, written by the macro: its element function and adjoint.
pub trait Kernel<const N: usize>: Sync {
    /// The region's value at one element (or block of elements) of its inputs.
    fn fwd<L: Lane>(&self, x: [L; N]) -> L;
    /// The adjoint: each input's cotangent at the element, given the result's `dy`
    /// (the forward values recomputed inside). Inputs that are not differentiated may get
    /// anything (their slots are not read).
    fn bwd<L: Lane>(&self, x: [L; N], dy: L) -> [L; N];
    /// The value and the adjoint at once, the forward values evaluated once for both (the
    /// macro's kernels override this; the default evaluates them twice).
    #[inline(always)]
    fn both<L: Lane>(&self, x: [L; N], dy: L) -> (L, [L; N]) {
        (self.fwd(x), self.bwd(x, dy))
    }
}

/// An input as the loops see it.
#[derive(Debug)]
pub enum Src<'a, T: Real> {
    /// A scalar, the same at every element.
    Scalar(T),
    /// A tensor, of the result's shape or broadcast to it.
    Tensor(&'a Tensor<T>),
}

impl<T: Real> Clone for Src<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Real> Copy for Src<'_, T> {}

/// A scalar region's value (`T`) or a tensor's.
pub trait Kind {
    /// The kind of a region with inputs of this kind and `B`: a tensor if either is.
    type Join<B: Kind>: Kind;
    /// The value of this kind with elements `T`.
    type Value<T: Real>;
    /// The value of a region all of whose inputs are scalars.
    fn scalar<T: Real>(v: T) -> Self::Value<T>;
    /// The value from its elements and shape.
    fn make<T: Real>(data: Vec<T>, dims: Dims) -> Self::Value<T>;
    /// The elements and shape of a value (a result's cotangent).
    fn view<T: Real>(v: &Self::Value<T>) -> Src<'_, T>;
}

/// The kind of a region all of whose inputs are scalars.
pub struct ScalarKind;
/// The kind of a region with a tensor input.
pub struct TensorKind;

impl Kind for ScalarKind {
    type Join<B: Kind> = B;
    fn scalar<T: Real>(v: T) -> T {
        v
    }
    type Value<T: Real> = T;
    fn make<T: Real>(data: Vec<T>, _: Dims) -> T {
        data.first().copied().unwrap_or(T::ZERO)
    }
    fn view<T: Real>(v: &T) -> Src<'_, T> {
        Src::Scalar(*v)
    }
}

impl Kind for TensorKind {
    type Join<B: Kind> = TensorKind;
    fn scalar<T: Real>(v: T) -> Tensor<T> {
        Tensor::scalar(v)
    }
    type Value<T: Real> = Tensor<T>;
    fn make<T: Real>(data: Vec<T>, dims: Dims) -> Tensor<T> {
        Tensor::from_parts(data, dims)
    }
    fn view<T: Real>(v: &Tensor<T>) -> Src<'_, T> {
        Src::Tensor(v)
    }
}

/// An input's cotangent as the loops produce it.
#[derive(Debug)]
pub enum Grad<T: Real> {
    /// Not differentiated.
    None,
    /// A scalar input's: the sum over the elements.
    Scalar(T),
    /// A tensor input's, of its shape.
    Tensor(Tensor<T>),
}

/// One input of a fused region: `&x` of a scalar or a tensor, or [`Data`] of one that is
/// not differentiated.
pub trait Arg {
    /// The element type.
    type Elem: Real;
    /// Scalar or tensor.
    type Kind: Kind;
    /// Its cotangent: `T`, `Tensor<T>`, or `()` when it is not differentiated.
    type Grad;
    /// Whether it is differentiated.
    const ACTIVE: bool;
    /// Its elements.
    fn src(&self) -> Src<'_, Self::Elem>;
    /// Its cotangent from what the loops produced.
    fn grad(g: Grad<Self::Elem>) -> Self::Grad;
}

impl<T: Real> Arg for &T {
    type Elem = T;
    type Kind = ScalarKind;
    type Grad = T;
    const ACTIVE: bool = true;
    #[inline(always)]
    fn src(&self) -> Src<'_, T> {
        Src::Scalar(**self)
    }
    #[inline(always)]
    fn grad(g: Grad<T>) -> T {
        match g {
            Grad::Scalar(v) => v,
            _ => T::ZERO,
        }
    }
}

impl<T: Real> Arg for &Tensor<T> {
    type Elem = T;
    type Kind = TensorKind;
    type Grad = Tensor<T>;
    const ACTIVE: bool = true;
    #[inline(always)]
    fn src(&self) -> Src<'_, T> {
        Src::Tensor(self)
    }
    #[inline(always)]
    fn grad(g: Grad<T>) -> Tensor<T> {
        match g {
            Grad::Tensor(t) => t,
            Grad::Scalar(v) => Tensor::scalar(v),
            Grad::None => Tensor::scalar(T::ZERO),
        }
    }
}

/// An input that is not differentiated: no cotangent is computed for it.
#[derive(Clone, Copy, Debug)]
pub struct Data<A>(pub A);

impl<A: Arg> Arg for Data<A> {
    type Elem = A::Elem;
    type Kind = A::Kind;
    type Grad = ();
    const ACTIVE: bool = false;
    #[inline(always)]
    fn src(&self) -> Src<'_, A::Elem> {
        self.0.src()
    }
    #[inline(always)]
    fn grad(_: Grad<A::Elem>) {}
}

/// The inputs of a region of `N` inputs, as a tuple of [`Arg`]s.
pub trait Args<const N: usize> {
    /// The element type, the same for all.
    type Elem: Real;
    /// A tensor if any input is one.
    type Kind: Kind;
    /// One cotangent per input: bare for one input, a tuple for several.
    type Grads;
    /// Which inputs are differentiated.
    const ACTIVE: [bool; N];
    /// The inputs' elements.
    fn srcs(&self) -> [Src<'_, Self::Elem>; N];
    /// The cotangents from what the loops produced.
    fn grads(g: [Grad<Self::Elem>; N]) -> Self::Grads;
}

// The tuple impls, by arity.
macro_rules! args_impls {
    ($($n:literal: A0 g0 0 $(, $a:ident $g:ident $i:tt)*;)*) => {$(
        impl<A0: Arg $(, $a: Arg<Elem = A0::Elem>)*> Args<$n> for (A0, $($a,)*) {
            type Elem = A0::Elem;
            type Kind = args_impls!(@kind A0 $($a)*);
            type Grads = args_impls!(@grads A0 $($a)*);
            const ACTIVE: [bool; $n] = [A0::ACTIVE $(, $a::ACTIVE)*];
            #[inline(always)]
            fn srcs(&self) -> [Src<'_, Self::Elem>; $n] {
                [self.0.src() $(, self.$i.src())*]
            }
            #[inline(always)]
            fn grads(g: [Grad<Self::Elem>; $n]) -> Self::Grads {
                let [g0 $(, $g)*] = g;
                args_impls!(@make A0 g0 $($a $g)*)
            }
        }
    )*};
    (@kind $a:ident) => { $a::Kind };
    (@kind $a:ident $($rest:ident)+) => { <$a::Kind as Kind>::Join<args_impls!(@kind $($rest)+)> };
    (@grads $a:ident) => { $a::Grad };
    (@grads $($a:ident)+) => { ($($a::Grad,)+) };
    (@make $a:ident $g:ident) => { $a::grad($g) };
    (@make $($a:ident $g:ident)+) => { ($($a::grad($g),)+) };
}

args_impls! {
    1: A0 g0 0;
    2: A0 g0 0, A1 g1 1;
    3: A0 g0 0, A1 g1 1, A2 g2 2;
    4: A0 g0 0, A1 g1 1, A2 g2 2, A3 g3 3;
    5: A0 g0 0, A1 g1 1, A2 g2 2, A3 g3 3, A4 g4 4;
    6: A0 g0 0, A1 g1 1, A2 g2 2, A3 g3 3, A4 g4 4, A5 g5 5;
    7: A0 g0 0, A1 g1 1, A2 g2 2, A3 g3 3, A4 g4 4, A5 g5 5, A6 g6 6;
    8: A0 g0 0, A1 g1 1, A2 g2 2, A3 g3 3, A4 g4 4, A5 g5 5, A6 g6 6, A7 g7 7;
}

/// The most inputs a fused region takes.
pub const MAX_INPUTS: usize = 8;

// ---- The loops ------------------------------------------------------------------------------
//
// The kernel is evaluated one element at a time (`V<T, 1, FMA>`) in plain loops over short
// blocks, which the compiler vectorizes as it does the tensor kernels' maps: every input is
// a slice in the loop (a scalar input reads a block-long buffer filled once), and the
// adjoint writes each input's cotangent through a slice chosen before the block (no branch
// in the loop): straight into the input's gradient buffer, or into a row of a block buffer
// on the stack that is summed (a scalar input's) or dropped after the block. A copy from the
// stack into the gradient after each block took a quarter of T4's gradient.

/// An input inside the loops: a splatted scalar, or a slice as long as the result.
#[derive(Clone, Copy)]
enum In<'a, T> {
    Splat(T),
    Full(&'a [T]),
}

impl<'a, T: Real> In<'a, T> {
    /// The part for elements `lo..lo + len`.
    fn part(self, lo: usize, len: usize) -> In<'a, T> {
        match self {
            In::Splat(v) => In::Splat(v),
            In::Full(s) => In::Full(&s[lo..lo + len]),
        }
    }
}

/// Where an input's cotangent goes: a buffer as long as the result, a running sum (a scalar
/// input's, or a one-element tensor's), or nowhere.
enum Sink<'a, T> {
    /// Written once per element, never read (see [`GradBufs`]).
    Buf(&'a mut [MaybeUninit<T>]),
    Acc,
    Skip,
}

/// Each input's row of cotangents for the inner block at `to..to + len`: its buffer's part
/// for a [`Sink::Buf`] (the loop writes the result straight there, with no copy after the
/// block), else the first `len` of its row of `scratch` (summed or dropped after the block).
#[inline(always)]
fn block_dsts<'s, T, const N: usize>(
    sinks: &'s mut [Sink<'_, T>; N],
    scratch: &'s mut [[MaybeUninit<T>; B]; N],
    to: usize,
    len: usize,
) -> [&'s mut [MaybeUninit<T>]; N] {
    let mut rows = sinks.iter_mut().zip(scratch.iter_mut());
    core::array::from_fn(|_| match rows.next() {
        Some((Sink::Buf(b), _)) => &mut b[to..to + len],
        Some((_, row)) => &mut row[..len],
        None => unreachable!("N sinks and N scratch rows"),
    })
}

/// Checks, once per inner block, that every input row and cotangent row is `len` long: the
/// adjoint loops then index them unchecked. With checked indexing LLVM kept up to 8
/// elements of every block of 256 for a scalar epilogue (the bounds checks' exit must run
/// in order), which cost T4's fused gradient a tenth of its time.
#[inline(always)]
fn rows_are_len<T, const N: usize>(xs: &[&[T]; N], dst: &[&mut [MaybeUninit<T>]; N], len: usize) {
    for j in 0..N {
        assert!(
            xs[j].len() == len && dst[j].len() == len,
            "fused loop: a row is not the block's length"
        );
    }
}

/// After an inner block of `len` elements: each [`Sink::Acc`] input's cotangents, which the
/// loop wrote into its row of `scratch`, added to its sum.
#[inline(always)]
fn add_block_sums<T: Real, const N: usize>(
    sinks: &[Sink<'_, T>; N],
    scratch: &[[MaybeUninit<T>; B]; N],
    len: usize,
    sums: &mut [T; N],
) {
    for j in 0..N {
        if let Sink::Acc = sinks[j] {
            // SAFETY: for a `Sink::Acc` input `block_dsts` gave the loop `scratch[j][..len]`,
            // and the loop wrote every one of its `len` elements before this call.
            let row = unsafe { written(&scratch[j][..len]) };
            sums[j] += block_total(row);
        }
    }
}

/// Elements per block when work is split over threads (fixed, so sums do not depend on the
/// thread count).
const BLOCK: usize = 1 << 14;

/// Elements from which a region's loop is split into blocks over rayon's threads. A fused
/// region does several elementwise operations per element (transcendental functions, most
/// often), so it pays to split earlier than a single memory-bound kernel.
const PAR_MIN: usize = 1 << 16;

/// Elements per block of the unfused `sum`, whose order a fold keeps.
const SUM_BLOCK: usize = scalar::BLOCK;

/// Elements per inner block: a few KiB per stream, in L1.
const B: usize = 256;

/// Each input's slice for the inner block at `at..at + len` (a scalar's from `splats`).
#[inline(always)]
fn block_srcs<'a, T: Real, const N: usize>(
    ins: &[In<'a, T>; N],
    splats: &'a Splats<T, N>,
    at: usize,
    len: usize,
) -> [&'a [T]; N] {
    let mut out: [&[T]; N] = [&[]; N];
    for j in 0..N {
        out[j] = match ins[j] {
            In::Splat(_) => splats.row(j, len),
            In::Full(s) => &s[at..at + len],
        };
    }
    out
}

/// Each splat input's value repeated over as much of an inner block as the region reads:
/// the loops read every input as a row. The rows are written only for splat inputs, and
/// only `min(n, B)` long: a region of a few elements would spend most of its time filling
/// (or zeroing) `B` elements per input.
struct Splats<T, const N: usize> {
    rows: [[MaybeUninit<T>; B]; N],
    filled: usize,
}

impl<T: Real, const N: usize> Splats<T, N> {
    /// The splat rows of `ins` for a region of `n` elements.
    #[inline(always)]
    fn new(ins: &[In<'_, T>; N], n: usize) -> Self {
        let filled = n.min(B);
        let mut rows = [[MaybeUninit::uninit(); B]; N];
        for j in 0..N {
            if let In::Splat(v) = ins[j] {
                for e in &mut rows[j][..filled] {
                    e.write(v);
                }
            }
        }
        Splats { rows, filled }
    }

    /// The first `len` elements of splat input `j`'s row.
    ///
    /// # Panics
    /// Past the filled part (a block longer than the region, a bug here).
    #[inline(always)]
    fn row(&self, j: usize, len: usize) -> &[T] {
        assert!(len <= self.filled, "a block past the region's splat rows");
        // SAFETY: `new` wrote the first `filled` elements of the row of every splat input,
        // and only splat inputs' rows are read (`block_srcs`).
        unsafe { written(&self.rows[j][..len]) }
    }
}

/// `out[i] = k.fwd(x[i])` over one inner block.
#[inline(always)]
fn fwd_inner<K: Kernel<N>, T: Real, S: Slot<T>, const N: usize, const FMA: bool>(
    k: &K,
    x: &[&[T]; N],
    out: &mut [S],
) {
    let len = out.len();
    let mut xs: [&[T]; N] = [&[]; N];
    for j in 0..N {
        xs[j] = &x[j][..len];
    }
    for i in 0..len {
        let mut e = [V::<T, 1, FMA>([T::ZERO]); N];
        for j in 0..N {
            e[j] = V([xs[j][i]]);
        }
        out[i].put(k.fwd(e).0[0]);
    }
}

/// A place a loop writes one value to: an element of an output, or of a block buffer left
/// uninitialized because every element is written before it is read.
trait Slot<T> {
    fn put(&mut self, v: T);
}

impl<T> Slot<T> for T {
    #[inline(always)]
    fn put(&mut self, v: T) {
        *self = v;
    }
}

impl<T> Slot<T> for MaybeUninit<T> {
    #[inline(always)]
    fn put(&mut self, v: T) {
        self.write(v);
    }
}

/// The values of a block buffer that a loop has written.
///
/// # Safety
/// Every element of `buf` has been written.
#[inline(always)]
unsafe fn written<T>(buf: &[MaybeUninit<T>]) -> &[T] {
    let buf: *const [MaybeUninit<T>] = buf;
    // SAFETY: the caller wrote every element; `MaybeUninit<T>` has `T`'s layout.
    unsafe { &*(buf as *const [T]) }
}

/// The sum of a block, with independent accumulators.
#[inline(always)]
fn block_total<T: Real>(x: &[T]) -> T {
    let mut acc = [T::ZERO; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for k in 0..8 {
            acc[k] += c[k];
        }
    }
    let mut tail = T::ZERO;
    for &v in chunks.remainder() {
        tail += v;
    }
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7])) + tail
}

/// The region's value into every element of `out` (left uninitialized by the caller: each
/// is written once).
#[inline(always)]
fn fwd_body<K: Kernel<N>, T: Real, const N: usize, const FMA: bool>(
    k: &K,
    ins: &[In<'_, T>; N],
    out: &mut [MaybeUninit<T>],
) {
    let splats = Splats::new(ins, out.len());
    for (b, o) in out.chunks_mut(B).enumerate() {
        let x = block_srcs(ins, &splats, b * B, o.len());
        fwd_inner::<K, T, _, N, FMA>(k, &x, o);
    }
}

/// The sums of the region's values over the blocks of [`SUM_BLOCK`] elements of `0..n`,
/// put in `out` in order: the blocks and the accumulators of the unfused `sum`.
#[inline(always)]
fn sum_body<K: Kernel<N>, T: Real, const N: usize, const FMA: bool>(
    k: &K,
    ins: &[In<'_, T>; N],
    n: usize,
    out: &mut impl BlockSums<T>,
) {
    let splats = Splats::new(ins, n);
    // Not zeroed: a call over a few elements would spend most of its time zeroing 32 KB.
    let mut tmp = [MaybeUninit::<T>::uninit(); SUM_BLOCK];
    let mut at = 0;
    while at < n {
        let blen = SUM_BLOCK.min(n - at);
        let mut o = 0;
        while o < blen {
            let len = B.min(blen - o);
            let x = block_srcs(ins, &splats, at + o, len);
            fwd_inner::<K, T, _, N, FMA>(k, &x, &mut tmp[o..o + len]);
            o += len;
        }
        // SAFETY: the loop above wrote `tmp[o..o + len]` for consecutive `o` from 0 to
        // `blen`, that is every element of `tmp[..blen]`.
        out.push_sum(scalar::block_sum(unsafe { written(&tmp[..blen]) }));
        at += blen;
    }
}

#[inline(always)]
fn bwd_body<K: Kernel<N>, T: Real, const N: usize, const FMA: bool>(
    k: &K,
    ins: &[In<'_, T>; N],
    dy: In<'_, T>,
    sinks: &mut [Sink<'_, T>; N],
    n: usize,
) -> [T; N] {
    let splats = Splats::new(ins, n);
    let dy_splat = Splats::new(&[dy], n);
    let mut scratch = [[MaybeUninit::uninit(); B]; N];
    let mut sums = [T::ZERO; N];
    let mut at = 0;
    while at < n {
        let len = B.min(n - at);
        let x = block_srcs(ins, &splats, at, len);
        let mut xs: [&[T]; N] = [&[]; N];
        for j in 0..N {
            xs[j] = &x[j][..len];
        }
        let [d] = block_srcs(&[dy], &dy_splat, at, len);
        let dst = block_dsts(sinks, &mut scratch, at, len);
        rows_are_len(&xs, &dst, len);
        assert_eq!(d.len(), len);
        for i in 0..len {
            let mut e = [V::<T, 1, FMA>([T::ZERO]); N];
            for j in 0..N {
                // SAFETY: i < len, and every row is `len` long (asserted above).
                e[j] = V([unsafe { *xs[j].get_unchecked(i) }]);
            }
            // SAFETY: as above.
            let dx = k.bwd(e, V([unsafe { *d.get_unchecked(i) }]));
            for j in 0..N {
                // SAFETY: as above.
                unsafe { dst[j].get_unchecked_mut(i).write(dx[j].0[0]) };
            }
        }
        add_block_sums(sinks, &scratch, len, &mut sums);
        at += len;
    }
    sums
}

/// The region's values and the inputs' cotangents over `0..n` in one loop, every element's
/// result cotangent `dy`: the values' sums per block of [`SUM_BLOCK`] pushed onto `out` (as
/// `sum_body` does), the cotangents into `sinks` (as `bwd_body` does).
#[inline(always)]
fn both_body<K: Kernel<N>, T: Real, const N: usize, const FMA: bool>(
    k: &K,
    ins: &[In<'_, T>; N],
    dy: T,
    sinks: &mut [Sink<'_, T>; N],
    n: usize,
    out: &mut impl BlockSums<T>,
) -> [T; N] {
    let splats = Splats::new(ins, n);
    let d = V::<T, 1, FMA>([dy]);
    // Not zeroed, as in `sum_body`.
    let mut vals = [MaybeUninit::<T>::uninit(); SUM_BLOCK];
    let mut scratch = [[MaybeUninit::uninit(); B]; N];
    let mut sums = [T::ZERO; N];
    let mut at = 0;
    while at < n {
        let blen = SUM_BLOCK.min(n - at);
        let mut o = 0;
        while o < blen {
            let len = B.min(blen - o);
            let x = block_srcs(ins, &splats, at + o, len);
            let mut xs: [&[T]; N] = [&[]; N];
            for j in 0..N {
                xs[j] = &x[j][..len];
            }
            let v = &mut vals[o..o + len];
            let dst = block_dsts(sinks, &mut scratch, at + o, len);
            rows_are_len(&xs, &dst, len);
            assert_eq!(v.len(), len);
            for i in 0..len {
                let mut e = [V::<T, 1, FMA>([T::ZERO]); N];
                for j in 0..N {
                    // SAFETY: i < len, and every row is `len` long (asserted above).
                    e[j] = V([unsafe { *xs[j].get_unchecked(i) }]);
                }
                let (y, dx) = k.both(e, d);
                // SAFETY: as above.
                unsafe { v.get_unchecked_mut(i).write(y.0[0]) };
                for j in 0..N {
                    // SAFETY: as above.
                    unsafe { dst[j].get_unchecked_mut(i).write(dx[j].0[0]) };
                }
            }
            add_block_sums(sinks, &scratch, len, &mut sums);
            o += len;
        }
        // SAFETY: the loop above wrote `vals[o..o + len]` for consecutive `o` from 0 to
        // `blen`, every element of `vals[..blen]`.
        out.push_sum(scalar::block_sum(unsafe { written(&vals[..blen]) }));
        at += blen;
    }
    sums
}

/// The four loop bodies compiled for one instruction set.
macro_rules! isa_loops {
    ($name:ident, $fma:literal $(, $features:literal)?) => {
        mod $name {
            use super::*;

            $(#[target_feature(enable = $features)])?
            pub(super) fn fwd<K: Kernel<N>, T: Real, const N: usize>(
                k: &K,
                ins: &[In<'_, T>; N],
                out: &mut [MaybeUninit<T>],
            ) {
                fwd_body::<K, T, N, $fma>(k, ins, out)
            }

            $(#[target_feature(enable = $features)])?
            pub(super) fn sum<K: Kernel<N>, T: Real, const N: usize>(
                k: &K,
                ins: &[In<'_, T>; N],
                n: usize,
                out: &mut impl BlockSums<T>,
            ) {
                sum_body::<K, T, N, $fma>(k, ins, n, out)
            }

            $(#[target_feature(enable = $features)])?
            pub(super) fn bwd<K: Kernel<N>, T: Real, const N: usize>(
                k: &K,
                ins: &[In<'_, T>; N],
                dy: In<'_, T>,
                sinks: &mut [Sink<'_, T>; N],
                n: usize,
            ) -> [T; N] {
                bwd_body::<K, T, N, $fma>(k, ins, dy, sinks, n)
            }

            $(#[target_feature(enable = $features)])?
            pub(super) fn both<K: Kernel<N>, T: Real, const N: usize>(
                k: &K,
                ins: &[In<'_, T>; N],
                dy: T,
                sinks: &mut [Sink<'_, T>; N],
                n: usize,
                out: &mut impl BlockSums<T>,
            ) -> [T; N] {
                both_body::<K, T, N, $fma>(k, ins, dy, sinks, n, out)
            }
        }
    };
}

isa_loops!(portable, false);
#[cfg(target_arch = "x86_64")]
isa_loops!(x86_v3, true, "avx2,fma");
#[cfg(target_arch = "x86_64")]
isa_loops!(x86_v4, true, "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma");
#[cfg(target_arch = "aarch64")]
isa_loops!(aarch64, true, "neon");

/// Calls one loop body on the path `$isa`.
macro_rules! on_isa {
    ($isa:expr, $body:ident ($($arg:expr),* $(,)?)) => {
        match $isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Isa` other than `Scalar` is only active after `is_supported`
            // confirmed the CPU has its features (`Isa::detected` or `with_isa`).
            Isa::Avx512 => unsafe { x86_v4::$body($($arg),*) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Isa::Avx2Fma => unsafe { x86_v3::$body($($arg),*) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: as above.
            Isa::Neon => unsafe { aarch64::$body($($arg),*) },
            _ => portable::$body($($arg),*),
        }
    };
}

// ---- What generated code calls --------------------------------------------------------------

/// The inputs laid out for the loops: the result's shape and length, each input as a
/// splat or a full-length slice, and the broadcast copies those slices borrow from.
struct Layout<T: Real, const N: usize> {
    dims: Dims,
    n: usize,
    expanded: [Option<Tensor<T>>; N],
}

impl<T: Real, const N: usize> Layout<T, N> {
    fn new(srcs: &[Src<'_, T>; N], name: &str) -> Self {
        let mut dims: Option<Dims> = None;
        for s in srcs {
            if let Src::Tensor(t) = s {
                dims = Some(match dims {
                    None => t.dims_owned(),
                    Some(d) => broadcast_or_panic(name, &d, t.shape()),
                });
            }
        }
        let dims = dims.unwrap_or_default();
        let n = dims.iter().product();
        let expanded = core::array::from_fn(|j| match srcs[j] {
            Src::Tensor(t) if t.len() != 1 && !same_shape(t.shape(), &dims) => {
                Some(broadcast_to(t, &dims))
            }
            _ => None,
        });
        Layout { dims, n, expanded }
    }

    fn ins<'a>(&'a self, srcs: &[Src<'a, T>; N]) -> [In<'a, T>; N] {
        core::array::from_fn(|j| match (&self.expanded[j], srcs[j]) {
            (Some(e), _) => In::Full(e.as_slice()),
            (None, Src::Scalar(v)) => In::Splat(v),
            (None, Src::Tensor(t)) if t.len() == 1 && self.n != 1 => In::Splat(t.as_slice()[0]),
            (None, Src::Tensor(t)) => In::Full(t.as_slice()),
        })
    }
}

/// The inputs when every one is a scalar: such a region is plain scalar code (`std`'s math,
/// no loop, no allocation).
#[inline(always)]
fn scalars<T: Real, const N: usize>(srcs: &[Src<'_, T>; N]) -> Option<[S<T>; N]> {
    let mut x = [S(T::ZERO); N];
    for j in 0..N {
        match srcs[j] {
            Src::Scalar(v) => x[j] = S(v),
            Src::Tensor(_) => return None,
        }
    }
    Some(x)
}

#[inline(always)]
fn scalar_grads<const N: usize, K: Kernel<N>, T: Real>(
    k: &K,
    x: [S<T>; N],
    dy: T,
    active: &[bool; N],
) -> [Grad<T>; N] {
    let dx = k.bwd(x, S(dy));
    let mut out = [const { Grad::None }; N];
    for j in 0..N {
        if active[j] {
            out[j] = Grad::Scalar(dx[j].0);
        }
    }
    out
}

fn blocks(n: usize) -> usize {
    n.div_ceil(BLOCK)
}

/// The region's value: a tensor of the inputs' broadcast shape, or a scalar when every
/// input is one.
///
/// # Panics
/// If the tensor inputs' shapes do not broadcast (the message names the region's operations).
pub fn fwd<const N: usize, K: Kernel<N>, A: Args<N>>(
    k: &K,
    name: &str,
    args: A,
) -> <A::Kind as Kind>::Value<A::Elem> {
    let srcs = args.srcs();
    if let Some(x) = scalars(&srcs) {
        return <A::Kind as Kind>::scalar(k.fwd(x).0);
    }
    let layout = Layout::new(&srcs, name);
    let ins = layout.ins(&srcs);
    let n = layout.n;
    // Not zeroed first: the loop writes every element.
    let mut out = pool::take(n);
    let spare = &mut out.spare_capacity_mut()[..n];
    let isa = Isa::active();
    if n >= PAR_MIN {
        spare.par_chunks_mut(BLOCK).enumerate().for_each(|(b, o)| {
            let part = ins.map(|i| i.part(b * BLOCK, o.len()));
            on_isa!(isa, fwd(k, &part, o));
        });
    } else {
        on_isa!(isa, fwd(k, &ins, spare));
    }
    // SAFETY: `take(n)` gave room for `n` elements and the loops above wrote every one
    // (`fwd_body` writes each element of the slice it is given, and the blocks cover
    // `0..n`).
    unsafe { out.set_len(n) };
    <A::Kind as Kind>::make(out, layout.dims)
}

/// The sum of the region's value over its elements: the region and a trailing `.sum()` in
/// one loop.
///
/// # Panics
/// As [`fwd`].
pub fn fwd_sum<const N: usize, K: Kernel<N>, A: Args<N>>(k: &K, name: &str, args: A) -> A::Elem {
    fwd_fold(k, name, args, false)
}

/// The region's sum, or (`mean`) its mean; a scalar region is its one value either way.
fn fwd_fold<const N: usize, K: Kernel<N>, A: Args<N>>(
    k: &K,
    name: &str,
    args: A,
    mean: bool,
) -> A::Elem {
    let srcs = args.srcs();
    if let Some(x) = scalars(&srcs) {
        return k.fwd(x).0;
    }
    let layout = Layout::new(&srcs, name);
    let ins = layout.ins(&srcs);
    let sum = sum_of(k, &ins, layout.n);
    if mean {
        sum / A::Elem::from_f64(layout.n as f64)
    } else {
        sum
    }
}

/// The sum of the region's values, added in the order of the unfused `sum`
/// (`kernels::sum`), so that a fused value has the primal's bits: blocks of
/// [`SUM_BLOCK`] in 64 accumulators, combined in a cascade (below
/// `REDUCE_PAR_THRESHOLD` elements; above it, per segment, the segments pairwise). The
/// blocks' sums are computed on rayon's threads, and combined in order.
fn sum_of<const N: usize, K: Kernel<N>, T: Real>(k: &K, ins: &[In<'_, T>; N], n: usize) -> T {
    let isa = Isa::active();
    if (1..=SUM_BLOCK).contains(&n) {
        // One block: its sum is the total (as `fold_total` finds), without the
        // bookkeeping's allocations (as the gradient's one-block path).
        let mut v = None;
        on_isa!(isa, sum(k, ins, n, &mut v));
        return v.expect("a block's sum");
    }
    let run = |&(s, lo, l): &(usize, usize, usize)| {
        let part = ins.map(|i| i.part(lo, l));
        let mut v = Vec::with_capacity(l.div_ceil(SUM_BLOCK));
        on_isa!(isa, sum(k, &part, l, &mut v));
        (s, v)
    };
    let items = fold_items(n);
    let done: Vec<(usize, Vec<T>)> = if n >= PAR_MIN {
        items.par_iter().map(run).collect()
    } else {
        items.iter().map(run).collect()
    };
    fold_total(n, done.iter().map(|(s, v)| (*s, &v[..])))
}

/// The mean of the region's value over its elements (NaN for none), in one loop.
///
/// # Panics
/// As [`fwd`].
pub fn fwd_mean<const N: usize, K: Kernel<N>, A: Args<N>>(k: &K, name: &str, args: A) -> A::Elem {
    fwd_fold(k, name, args, true)
}

/// The inputs' cotangents given the result's cotangent `dy`, the forward values recomputed.
///
/// # Panics
/// As [`fwd`]; and if `dy`'s shape is not the result's.
pub fn bwd<const N: usize, K: Kernel<N>, A: Args<N>>(
    k: &K,
    name: &str,
    args: A,
    dy: <A::Kind as Kind>::Value<A::Elem>,
) -> A::Grads {
    let srcs = args.srcs();
    let dy_src = <A::Kind as Kind>::view(&dy);
    if let (Some(x), Src::Scalar(d)) = (scalars(&srcs), dy_src) {
        return A::grads(scalar_grads(k, x, d, &A::ACTIVE));
    }
    let layout = Layout::new(&srcs, name);
    let dy_full;
    let dy_in = match dy_src {
        Src::Scalar(v) => In::Splat(v),
        Src::Tensor(t) if t.len() == 1 && layout.n != 1 => In::Splat(t.as_slice()[0]),
        Src::Tensor(t) if same_shape(t.shape(), &layout.dims) => In::Full(t.as_slice()),
        Src::Tensor(t) => {
            let b = broadcast_or_panic(name, t.shape(), &layout.dims);
            assert!(
                b[..] == layout.dims[..],
                "{name}: the cotangent's shape {:?} is not the result's {:?}",
                t.shape(),
                &layout.dims[..]
            );
            dy_full = broadcast_to(t, &layout.dims);
            In::Full(dy_full.as_slice())
        }
    };
    A::grads(backward(k, &srcs, &layout, dy_in, &A::ACTIVE))
}

/// The inputs' cotangents of the region's sum, given its cotangent `dy`.
///
/// # Panics
/// As [`fwd`].
pub fn bwd_sum<const N: usize, K: Kernel<N>, A: Args<N>>(
    k: &K,
    name: &str,
    args: A,
    dy: A::Elem,
) -> A::Grads {
    bwd_fold(k, name, args, dy, false)
}

/// The inputs' cotangents of the region's mean, given its cotangent `dy`.
///
/// # Panics
/// As [`fwd`].
pub fn bwd_mean<const N: usize, K: Kernel<N>, A: Args<N>>(
    k: &K,
    name: &str,
    args: A,
    dy: A::Elem,
) -> A::Grads {
    bwd_fold(k, name, args, dy, true)
}

/// The cotangents of the region's sum, or (`mean`) of its mean: every element's is `dy`,
/// or its share `dy / n`.
fn bwd_fold<const N: usize, K: Kernel<N>, A: Args<N>>(
    k: &K,
    name: &str,
    args: A,
    dy: A::Elem,
    mean: bool,
) -> A::Grads {
    let srcs = args.srcs();
    if let Some(x) = scalars(&srcs) {
        return A::grads(scalar_grads(k, x, dy, &A::ACTIVE));
    }
    let layout = Layout::new(&srcs, name);
    let each = if mean {
        dy / A::Elem::from_f64(layout.n as f64)
    } else {
        dy
    };
    A::grads(backward(k, &srcs, &layout, In::Splat(each), &A::ACTIVE))
}

fn backward<const N: usize, K: Kernel<N>, T: Real>(
    k: &K,
    srcs: &[Src<'_, T>; N],
    layout: &Layout<T, N>,
    dy: In<'_, T>,
    active: &[bool; N],
) -> [Grad<T>; N] {
    let ins = layout.ins(srcs);
    let n = layout.n;
    let mut bufs = GradBufs::new(&ins, n, active);
    let sink = |j: usize| if active[j] { Sink::Acc } else { Sink::Skip };
    let isa = Isa::active();
    let sums: [T; N] = if n >= PAR_MIN {
        let mut parts = bufs.parts().map(|b| b.map(|v| v.chunks_mut(BLOCK)));
        let work: Vec<(usize, [Sink<'_, T>; N])> = (0..blocks(n))
            .map(|b| {
                let sinks = core::array::from_fn(|j| match &mut parts[j] {
                    Some(it) => Sink::Buf(it.next().unwrap_or_default()),
                    None => sink(j),
                });
                (b, sinks)
            })
            .collect();
        let partial: Vec<[T; N]> = work
            .into_par_iter()
            .map(|(b, mut sinks)| {
                let len = BLOCK.min(n - b * BLOCK);
                let part = ins.map(|i| i.part(b * BLOCK, len));
                on_isa!(isa, bwd(k, &part, dy.part(b * BLOCK, len), &mut sinks, len))
            })
            .collect();
        partial.into_iter().fold([T::ZERO; N], |mut a, p| {
            for j in 0..N {
                a[j] += p[j];
            }
            a
        })
    } else {
        let mut sinks: [Sink<'_, T>; N] = core::array::from_fn(sink);
        for (s, b) in sinks.iter_mut().zip(bufs.parts()) {
            if let Some(b) = b {
                *s = Sink::Buf(b);
            }
        }
        on_isa!(isa, bwd(k, &ins, dy, &mut sinks, n))
    };
    // SAFETY: the blocks (or the one whole range) cover `0..n`, and `bwd_body` writes every
    // element of its block's sinks.
    let bufs = unsafe { bufs.written() };
    finish(srcs, layout, bufs, sums, active)
}

/// The cotangent buffers of a region's differentiated inputs read as full-length slices
/// (the others' cotangents are sums), taken without being filled: the loops write every
/// element once through `Sink::Buf`, which saves a pass over memory that zeroing them costs.
struct GradBufs<T, const N: usize> {
    bufs: [Option<Vec<T>>; N],
    n: usize,
}

impl<T: Real, const N: usize> GradBufs<T, N> {
    fn new(ins: &[In<'_, T>; N], n: usize, active: &[bool; N]) -> Self {
        let bufs = core::array::from_fn(|j| match ins[j] {
            In::Full(_) if active[j] => Some(pool::take(n)),
            _ => None,
        });
        GradBufs { bufs, n }
    }

    /// Each buffer's `n` elements, not yet written.
    fn parts(&mut self) -> [Option<&mut [MaybeUninit<T>]>; N] {
        let n = self.n;
        self.bufs
            .each_mut()
            .map(|b| b.as_mut().map(|v| &mut v.spare_capacity_mut()[..n]))
    }

    /// The buffers, `n` elements long.
    ///
    /// # Safety
    /// Every element of every part [`parts`](Self::parts) gave has been written.
    unsafe fn written(mut self) -> [Option<Vec<T>>; N] {
        for v in self.bufs.iter_mut().flatten() {
            // SAFETY: `pool::take(n)` gave a capacity of at least `n`, and the caller wrote
            // all `n` elements (`T: Copy`, so there is nothing to drop either way).
            unsafe { v.set_len(self.n) };
        }
        self.bufs
    }
}

/// The inputs' cotangents from the loops' buffers and sums: a broadcast input's summed back
/// to its shape, a scalar's (or a one-element tensor's) the sum.
fn finish<T: Real, const N: usize>(
    srcs: &[Src<'_, T>; N],
    layout: &Layout<T, N>,
    bufs: [Option<Vec<T>>; N],
    sums: [T; N],
    active: &[bool; N],
) -> [Grad<T>; N] {
    let mut bufs = bufs.into_iter();
    core::array::from_fn(|j| {
        let buf = bufs.next().flatten();
        if !active[j] {
            return Grad::None;
        }
        match (srcs[j], buf) {
            (Src::Tensor(t), Some(b)) => Grad::Tensor(unbroadcast(
                Tensor::from_parts(b, Dims::from_slice(&layout.dims)),
                t.shape(),
            )),
            (Src::Tensor(t), None) => Grad::Tensor(Tensor::full(t.shape(), sums[j])),
            (Src::Scalar(_), _) => Grad::Scalar(sums[j]),
        }
    })
}

/// The region's sum and the inputs' cotangents given the sum's cotangent `dy`, in one loop
/// (`fwd_sum` and `bwd_sum` at once): `_grad` calls it for the sum it returns, whose
/// cotangent is the seed, known before the forward sweep runs. The value has
/// [`fwd_sum`]'s bits.
///
/// # Panics
/// As [`fwd`].
pub fn fwd_bwd_sum<const N: usize, K: Kernel<N>, A: Args<N>>(
    k: &K,
    name: &str,
    args: A,
    dy: A::Elem,
) -> (A::Elem, A::Grads) {
    fwd_bwd_fold(k, name, args, dy, false)
}

/// The region's mean and the inputs' cotangents given its cotangent `dy`, in one loop.
///
/// # Panics
/// As [`fwd`].
pub fn fwd_bwd_mean<const N: usize, K: Kernel<N>, A: Args<N>>(
    k: &K,
    name: &str,
    args: A,
    dy: A::Elem,
) -> (A::Elem, A::Grads) {
    fwd_bwd_fold(k, name, args, dy, true)
}

fn fwd_bwd_fold<const N: usize, K: Kernel<N>, A: Args<N>>(
    k: &K,
    name: &str,
    args: A,
    dy: A::Elem,
    mean: bool,
) -> (A::Elem, A::Grads) {
    let srcs = args.srcs();
    if let Some(x) = scalars(&srcs) {
        return (k.fwd(x).0, A::grads(scalar_grads(k, x, dy, &A::ACTIVE)));
    }
    let layout = Layout::new(&srcs, name);
    let ins = layout.ins(&srcs);
    let n = layout.n;
    let each = if mean {
        dy / A::Elem::from_f64(n as f64)
    } else {
        dy
    };
    let active = &A::ACTIVE;
    let mut bufs = GradBufs::new(&ins, n, active);
    let isa = Isa::active();
    let mut rest = bufs.parts();
    let (total, acc) = if (1..=SUM_BLOCK).contains(&n) {
        // One block: one item, one segment, and its sum is the total (as `fold_total`
        // finds), without the bookkeeping's allocations, which a small region would spend
        // most of its time in.
        let mut sinks = next_sinks(&mut rest, n, active);
        let mut v = None;
        let acc = on_isa!(isa, both(k, &ins, each, &mut sinks, n, &mut v));
        (v.expect("a block's sum"), summed([acc]))
    } else {
        // `sum_of`'s pieces, each with its part of the cotangent buffers.
        let items: Vec<_> = fold_items(n)
            .into_iter()
            .map(|(s, lo, l)| (s, lo, l, next_sinks(&mut rest, l, active)))
            .collect();
        let run = |(s, lo, l, mut sinks): (usize, usize, usize, [Sink<'_, A::Elem>; N])| {
            let part = ins.map(|i| i.part(lo, l));
            let mut v = Vec::with_capacity(l.div_ceil(SUM_BLOCK));
            let acc = on_isa!(isa, both(k, &part, each, &mut sinks, l, &mut v));
            (s, v, acc)
        };
        // Per item: its segment, its blocks' sums, its sums of scalar inputs' cotangents.
        type Done<T, const N: usize> = (usize, Vec<T>, [T; N]);
        let done: Vec<Done<A::Elem, N>> = if n >= PAR_MIN {
            items.into_par_iter().map(run).collect()
        } else {
            items.into_iter().map(run).collect()
        };
        let total = fold_total(n, done.iter().map(|(s, v, _)| (*s, &v[..])));
        (total, summed(done.iter().map(|(_, _, a)| *a)))
    };
    let value = if mean {
        total / A::Elem::from_f64(n as f64)
    } else {
        total
    };
    // SAFETY: the items partition `0..n`, each given its range of every buffer, and
    // `both_body` writes every element of its item's sinks.
    let bufs = unsafe { bufs.written() };
    let grads = finish(&srcs, &layout, bufs, acc, active);
    (value, A::grads(grads))
}

/// The sinks of the next `l` elements: each cotangent buffer's next `l`, split off `rest`;
/// an active input without a buffer sums its cotangents.
fn next_sinks<'a, T, const N: usize>(
    rest: &mut [Option<&'a mut [MaybeUninit<T>]>; N],
    l: usize,
    active: &[bool; N],
) -> [Sink<'a, T>; N] {
    core::array::from_fn(|j| match rest[j].take() {
        Some(r) => {
            let (here, after) = r.split_at_mut(l);
            rest[j] = Some(after);
            Sink::Buf(here)
        }
        None if active[j] => Sink::Acc,
        None => Sink::Skip,
    })
}

/// The items' sums of scalar inputs' cotangents, added in order to zeros (so a lone
/// `-0.0` comes out `0.0`, whatever the number of items).
fn summed<T: Real, const N: usize>(items: impl IntoIterator<Item = [T; N]>) -> [T; N] {
    let mut acc = [T::ZERO; N];
    for a in items {
        for j in 0..N {
            acc[j] += a[j];
        }
    }
    acc
}
