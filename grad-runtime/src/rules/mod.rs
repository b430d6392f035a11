//! The derivative rule of every primitive, and the conventions all rules share.
//!
//! # Conventions
//!
//! A primitive is a marker value in [`op`] (`op::Exp`, `op::Powi(n)`, `op::Clamp(lo, hi)`);
//! the values it carries are the primitive's non-differentiated arguments. Generated code
//! calls it through one of four traits, chosen by the primitive's shape, as JAX does:
//!
//! | trait | primitives | backward reads |
//! |---|---|---|
//! | [`Unary`] | `exp ln sqrt sin ... powi clamp` | the input `x` and output `y` |
//! | [`Binary`] | `* / powf max min atan2 hypot matmul dot cross component_mul` | both inputs and the output |
//! | [`Linear`] | `-x`, `as` casts | the input's [`Shaped::Shape`] only |
//! | [`LinearBinary`] | `+ -` | both inputs' shapes only |
//! | [`UnaryOut`] | `max_axis softmax log_softmax norm norm_squared` | the input `x` and output `y` (of another type or shape) |
//!
//! Tensor rules ([`tensor`], [`reduce`], [`linalg`], [`softmax`], [`select`]) and those of nalgebra's
//! matrices ([`nalgebra`](mod@nalgebra)) follow the same shapes;
//! bilinear ones (`mul`, `matmul`, `dot`) give a part per input, documented with its math
//! (`dA = dY·Bᵀ`), and every cotangent of a broadcast input is reduced back to that input's
//! shape by one helper (`unbroadcast`, JAX's `_unbroadcast`).
//!
//! Each trait has a forward part (`fwd`), a backward part per differentiable input
//! (`bwd` or `bwd_0`/`bwd_1`: inputs by reference, output cotangent by value, so that an
//! elementwise chain can reuse one buffer) and a tangent part per input (`jvp`,
//! `jvp_0`/`jvp_1`: a linear map of that input's tangent; forward mode sums the parts of
//! the active inputs). Linear rules read only shapes, so a loop's reverse sweep never keeps
//! a value alive for them.
//!
//! Scalar rules come from one table per family ([`pointwise`], [`binary`]): the primal
//! and its partial derivative written once, in terms of the inputs and the output.
//!
//! Semantics at kinks follow PyTorch: `relu'(0) = 0`, `abs'(0) = 0`, `max`/`min` send the
//! gradient to the first argument on ties, `sqrt'(0) = inf`, `clamp` passes the gradient
//! where `lo <= x <= hi`; NaN and infinity propagate.
//!
//! ```
//! use grad::Tensor;
//! use grad::rules::op;
//!
//! // tanh's rule, called as generated code calls it: y = tanh x, then the backward part
//! // dx = dy (1 - y²) and the tangent part (1 - y²) dx.
//! let x = 0.5f64;
//! let y = op::Tanh.fwd(&x);
//! assert!((op::Tanh.bwd(&x, &y, 2.0) - 2.0 * (1.0 - y * y)).abs() < 1e-15);
//! assert!((op::Tanh.jvp(&x, &y, &3.0) - 3.0 * (1.0 - y * y)).abs() < 1e-15);
//!
//! // The matrix product's parts: y = A·b, dA = dy·bᵀ, db = Aᵀ·dy.
//! let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
//! let b = Tensor::from([1.0, -1.0]);
//! let y = op::Matmul.fwd(&a, &b);
//! assert_eq!(y.to_vec(), vec![-1.0, -1.0]);
//! let dy = Tensor::from([1.0, 0.0]);
//! assert_eq!(op::Matmul.bwd_0(&a, &b, &y, dy.clone()).to_vec(), vec![1.0, -1.0, 0.0, 0.0]);
//! assert_eq!(op::Matmul.bwd_1(&a, &b, &y, dy).to_vec(), vec![1.0, 2.0]);
//! ```

pub mod binary;
#[doc(hidden)] // support of generated code, named through `__private`
pub mod construct;
#[doc(hidden)] // support of generated code, named through `__private`
pub mod fields;
#[doc(hidden)] // support of generated code, named through `__private`
pub mod inplace;
pub mod linalg;
#[doc(hidden)] // support of generated code, named through `__private`
pub mod mapped;
pub mod nalgebra;
pub mod op;
pub mod pointwise;
pub mod reduce;
#[doc(hidden)] // support of generated code, named through `__private`
pub mod seed;
pub mod select;
#[doc(hidden)] // support of generated code, named through `__private`
pub mod sincos;
pub mod softmax;
#[doc(hidden)] // support of generated code, named through `__private`
pub mod support;
pub mod tensor;
#[doc(hidden)] // support of generated code, named through `__private`
pub mod zeros;

use crate::differentiable::Differentiable;

/// The cotangent type of `T`.
pub type TangentOf<T> = <T as Differentiable>::Tangent;

/// What a linear rule needs to know of a value: its shape (and, through it, its type).
///
/// For scalars this is a zero-sized `PhantomData<Self>`.
pub trait Shaped {
    /// A description of the value's shape.
    type Shape: Clone;
    /// This value's shape.
    fn shape_of(&self) -> Self::Shape;
}

/// A value's shape, tagged with the value's type so that type inference can see through it.
pub struct ShapeOf<T: Shaped + ?Sized>(pub T::Shape);

impl<T: Shaped + ?Sized> Clone for ShapeOf<T> {
    fn clone(&self) -> Self {
        ShapeOf(self.0.clone())
    }
}

/// A scalar's shape (zero-sized) is `Copy`, and so is a loop's tuple of saved scalar
/// shapes: a reverse sweep that takes them from a `Vec` in order then iterates it by
/// index, with one exit, which the compiler can vectorize.
impl<T: Shaped + ?Sized> Copy for ShapeOf<T> where T::Shape: Copy {}

/// A primitive of one differentiable input: `y = op(x)`.
#[diagnostic::on_unimplemented(
    message = "the primitive `{O}` is not defined for `{Self}`",
    label = "no derivative rule for this operand type"
)]
pub trait Unary<O>: Differentiable + Sized {
    /// `y = op(x)`.
    fn fwd(op: &O, x: &Self) -> Self;
    /// `dx = dy * op'(x)`.
    fn bwd(op: &O, x: &Self, y: &Self, dy: TangentOf<Self>) -> TangentOf<Self>;
    /// `dy = op'(x) * dx`.
    fn jvp(op: &O, x: &Self, y: &Self, dx: &TangentOf<Self>) -> TangentOf<Self>;
}

/// A primitive of two differentiable inputs: `y = op(a, b)`.
#[diagnostic::on_unimplemented(
    message = "the primitive `{O}` is not defined for `{Self}` and `{Rhs}`",
    label = "no derivative rule for these operand types"
)]
pub trait Binary<O, Rhs: Differentiable>: Differentiable + Sized {
    /// The output type.
    type Output: Differentiable;
    /// `y = op(a, b)`.
    fn fwd(op: &O, a: &Self, b: &Rhs) -> Self::Output;
    /// `da = dy * ∂y/∂a`, reduced to `a`'s shape.
    fn bwd_0(
        op: &O,
        a: &Self,
        b: &Rhs,
        y: &Self::Output,
        dy: TangentOf<Self::Output>,
    ) -> TangentOf<Self>;
    /// `db = dy * ∂y/∂b`, reduced to `b`'s shape.
    fn bwd_1(
        op: &O,
        a: &Self,
        b: &Rhs,
        y: &Self::Output,
        dy: TangentOf<Self::Output>,
    ) -> TangentOf<Rhs>;
    /// `∂y/∂a · da`.
    fn jvp_0(
        op: &O,
        a: &Self,
        b: &Rhs,
        y: &Self::Output,
        da: &TangentOf<Self>,
    ) -> TangentOf<Self::Output>;
    /// `∂y/∂b · db`.
    fn jvp_1(
        op: &O,
        a: &Self,
        b: &Rhs,
        y: &Self::Output,
        db: &TangentOf<Rhs>,
    ) -> TangentOf<Self::Output>;
}

/// A linear primitive of one input, whose rules read only the input's shape.
#[diagnostic::on_unimplemented(
    message = "the primitive `{O}` is not defined for `{Self}`",
    label = "no derivative rule for this operand type"
)]
pub trait Linear<O>: Differentiable + Shaped + Sized {
    /// The output type.
    type Output: Differentiable;
    /// `y = op(x)`.
    fn fwd(op: &O, x: &Self) -> Self::Output;
    /// The transpose: `dx = opᵀ(dy)`.
    fn bwd(op: &O, x: &Self::Shape, dy: TangentOf<Self::Output>) -> TangentOf<Self>;
    /// `dy = op(dx)`.
    fn jvp(op: &O, x: &Self::Shape, dx: &TangentOf<Self>) -> TangentOf<Self::Output>;
    /// The transpose given the input itself, which nothing reads afterwards: the generated
    /// reverse sweep calls this where a temporary's last use is this rule, so that `dx` can
    /// be made in its storage (a tensor's `Σ` and `mean` fill it) instead of a new
    /// allocation. The default reads the shape and drops the value; an override returns
    /// what [`bwd`](Linear::bwd) returns, bit for bit.
    fn bwd_from(op: &O, x: Self, dy: TangentOf<Self::Output>) -> TangentOf<Self> {
        Self::bwd(op, &x.shape_of(), dy)
    }
}

/// A product: linear in each input separately (`a * b`), so the rule for one input reads the
/// other input's value and only this input's shape. The reverse sweep keeps no more: for
/// `2.0 * c[i]` it keeps nothing of `c`.
pub trait Bilinear<O, Rhs: Differentiable + Shaped>: Binary<O, Rhs> + Shaped {
    /// `da = dy * ∂y/∂a`, reduced to `a`'s shape, from `b`.
    fn bwd_0_by(op: &O, a: &Self::Shape, b: &Rhs, dy: TangentOf<Self::Output>) -> TangentOf<Self>;
    /// `db = dy * ∂y/∂b`, reduced to `b`'s shape, from `a`.
    fn bwd_1_by(op: &O, a: &Self, b: &Rhs::Shape, dy: TangentOf<Self::Output>) -> TangentOf<Rhs>;
}

/// A product of one value with itself (`a * a`): one rule for the value's adjoint where a
/// product of two values has two. The default adds the two partials; a scalar's is
/// `dy * (2 a)`, `powi(2)`'s rule, which has the bits of their sum (doubling is exact) and
/// one operation fewer on the adjoint's chain.
pub trait SquareBwd<O>: Bilinear<O, Self> + Differentiable + Sized {
    /// `da` of `y = a * a`.
    fn bwd_square(op: &O, a: &Self, dy: TangentOf<Self::Output>) -> TangentOf<Self> {
        let shape = a.shape_of();
        let mut da = Self::bwd_0_by(op, &shape, a, dy.clone());
        crate::differentiable::Tangent::add_assign(&mut da, Self::bwd_1_by(op, a, &shape, dy));
        da
    }
}

/// A primitive linear in each of two inputs separately (`a + b`, `a - b`), whose rules read
/// only the inputs' shapes.
#[diagnostic::on_unimplemented(
    message = "the primitive `{O}` is not defined for `{Self}` and `{Rhs}`",
    label = "no derivative rule for these operand types"
)]
pub trait LinearBinary<O, Rhs: Differentiable + Shaped>: Differentiable + Shaped + Sized {
    /// The output type.
    type Output: Differentiable;
    /// `y = op(a, b)`.
    fn fwd(op: &O, a: &Self, b: &Rhs) -> Self::Output;
    /// The transpose for `a`, reduced to `a`'s shape.
    fn bwd_0(
        op: &O,
        a: &Self::Shape,
        b: &Rhs::Shape,
        dy: TangentOf<Self::Output>,
    ) -> TangentOf<Self>;
    /// The transpose for `b`, reduced to `b`'s shape.
    fn bwd_1(
        op: &O,
        a: &Self::Shape,
        b: &Rhs::Shape,
        dy: TangentOf<Self::Output>,
    ) -> TangentOf<Rhs>;
    /// The part of `dy` due to `da`.
    fn jvp_0(
        op: &O,
        a: &Self::Shape,
        b: &Rhs::Shape,
        da: &TangentOf<Self>,
    ) -> TangentOf<Self::Output>;
    /// The part of `dy` due to `db`.
    fn jvp_1(
        op: &O,
        a: &Self::Shape,
        b: &Rhs::Shape,
        db: &TangentOf<Rhs>,
    ) -> TangentOf<Self::Output>;
}

/// A nonlinear primitive of one input whose output has another type or shape than the
/// input, or mixes elements: `y = op(x)` (`max_axis`, `softmax`, `log_softmax`).
#[diagnostic::on_unimplemented(
    message = "the primitive `{O}` is not defined for `{Self}`",
    label = "no derivative rule for this operand type"
)]
pub trait UnaryOut<O>: Differentiable + Sized {
    /// The output type.
    type Output: Differentiable;
    /// `y = op(x)`.
    fn fwd(op: &O, x: &Self) -> Self::Output;
    /// `dx = J(x)ᵀ dy`.
    fn bwd(op: &O, x: &Self, y: &Self::Output, dy: TangentOf<Self::Output>) -> TangentOf<Self>;
    /// `dy = J(x) dx`.
    fn jvp(op: &O, x: &Self, y: &Self::Output, dx: &TangentOf<Self>) -> TangentOf<Self::Output>;
}
