//! The primitives as marker values; their inherent methods are what generated code calls.
//!
//! ```
//! use grad::rules::op;
//!
//! // powi carries its exponent: y = x³, dx = dy·3x², tangent 3x²·dx.
//! let p = op::Powi(3);
//! let y = p.fwd(&2.0f64);
//! assert_eq!((y, p.bwd(&2.0, &y, 1.0), p.jvp(&2.0, &y, &0.5)), (8.0, 12.0, 6.0));
//! ```

use super::{
    Bilinear, Binary, Linear, LinearBinary, ShapeOf, Shaped, SquareBwd, TangentOf, Unary, UnaryOut,
};
use crate::differentiable::Differentiable;
use core::marker::PhantomData;

macro_rules! unary_markers {
    ($($(#[$doc:meta])* $name:ident $(<$g:ident>)? $(($($field:ty),*))?;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name $(<$g>)? $(($(pub $field),*))?;

        impl $(<$g>)? $name $(<$g>)? {
            /// The forward part.
            #[inline(always)]
            pub fn fwd<V: Unary<Self>>(&self, x: &V) -> V {
                V::fwd(self, x)
            }
            /// The backward part.
            #[inline(always)]
            pub fn bwd<V: Unary<Self>>(&self, x: &V, y: &V, dy: TangentOf<V>) -> TangentOf<V> {
                V::bwd(self, x, y, dy)
            }
            /// The tangent part.
            #[inline(always)]
            pub fn jvp<V: Unary<Self>>(&self, x: &V, y: &V, dx: &TangentOf<V>) -> TangentOf<V> {
                V::jvp(self, x, y, dx)
            }
        }
    )*};
}

unary_markers! {
    /// `e^x`.
    Exp;
    /// Natural logarithm.
    Ln;
    /// Square root; `sqrt'(0) = inf`.
    Sqrt;
    /// Sine.
    Sin;
    /// Cosine.
    Cos;
    /// Tangent.
    Tan;
    /// Hyperbolic tangent.
    Tanh;
    /// Absolute value; `abs'(0) = 0`.
    Abs;
    /// `1 / (1 + e^-x)`.
    Sigmoid;
    /// `max(x, 0)`; `relu'(0) = 0`.
    Relu;
    /// `1 / x`.
    Recip;
    /// `2^x`.
    Exp2;
    /// Base-2 logarithm.
    Log2;
    /// Base-10 logarithm.
    Log10;
    /// Hyperbolic sine.
    Sinh;
    /// Hyperbolic cosine.
    Cosh;
    /// Arcsine.
    Asin;
    /// Arccosine.
    Acos;
    /// Arctangent.
    Atan;
    /// Cube root.
    Cbrt;
    /// `ln(1 + x)`.
    Ln1p;
    /// `e^x - 1`.
    ExpM1;
    /// Round down; derivative 0.
    Floor;
    /// Round up; derivative 0.
    Ceil;
    /// Round to nearest; derivative 0.
    Round;
    /// Round toward zero; derivative 0.
    Trunc;
    /// Sign; derivative 0.
    Signum;
    /// `x^n` for an integer `n`.
    Powi(i32);
    /// `x` limited to `[lo, hi]`; the gradient passes where `lo <= x <= hi`.
    Clamp<T>(T, T);
}

macro_rules! binary_markers {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name;

        impl $name {
            /// The forward part.
            #[inline(always)]
            pub fn fwd<A: Binary<Self, B>, B: Differentiable>(&self, a: &A, b: &B) -> A::Output {
                A::fwd(self, a, b)
            }
            /// The backward part for the first input.
            #[inline(always)]
            pub fn bwd_0<A: Binary<Self, B>, B: Differentiable>(
                &self, a: &A, b: &B, y: &A::Output, dy: TangentOf<A::Output>,
            ) -> TangentOf<A> {
                A::bwd_0(self, a, b, y, dy)
            }
            /// The backward part for the second input.
            #[inline(always)]
            pub fn bwd_1<A: Binary<Self, B>, B: Differentiable>(
                &self, a: &A, b: &B, y: &A::Output, dy: TangentOf<A::Output>,
            ) -> TangentOf<B> {
                A::bwd_1(self, a, b, y, dy)
            }
            /// The tangent part for the first input.
            #[inline(always)]
            pub fn jvp_0<A: Binary<Self, B>, B: Differentiable>(
                &self, a: &A, b: &B, y: &A::Output, da: &TangentOf<A>,
            ) -> TangentOf<A::Output> {
                A::jvp_0(self, a, b, y, da)
            }
            /// The tangent part for the second input.
            #[inline(always)]
            pub fn jvp_1<A: Binary<Self, B>, B: Differentiable>(
                &self, a: &A, b: &B, y: &A::Output, db: &TangentOf<B>,
            ) -> TangentOf<A::Output> {
                A::jvp_1(self, a, b, y, db)
            }
        }
    )*};
}

binary_markers! {
    /// `a * b` (for matrices, nalgebra's matrix product).
    Mul;
    /// `a / b`.
    Div;
    /// `a^b`.
    Powf;
    /// The larger of `a` and `b`; the first on ties.
    Max;
    /// The smaller of `a` and `b`; the first on ties.
    Min;
    /// `atan2(a, b)`: the angle of the point `(b, a)`.
    Atan2;
    /// `sqrt(a² + b²)`.
    Hypot;
}

impl Mul {
    /// The backward part for the first input, from the second input and the first's shape.
    #[inline(always)]
    pub fn bwd_0_by<A: Bilinear<Self, B>, B: Differentiable + Shaped>(
        &self,
        a: &ShapeOf<A>,
        b: &B,
        dy: TangentOf<A::Output>,
    ) -> TangentOf<A> {
        A::bwd_0_by(self, &a.0, b, dy)
    }
    /// The backward part for the second input, from the first input and the second's shape.
    #[inline(always)]
    pub fn bwd_1_by<A: Bilinear<Self, B>, B: Differentiable + Shaped>(
        &self,
        a: &A,
        b: &ShapeOf<B>,
        dy: TangentOf<A::Output>,
    ) -> TangentOf<B> {
        A::bwd_1_by(self, a, &b.0, dy)
    }
    /// The backward part of `a * a`, one value multiplied by itself: both partials at once.
    #[inline(always)]
    pub fn bwd_square<A: SquareBwd<Self>>(&self, a: &A, dy: TangentOf<A::Output>) -> TangentOf<A> {
        A::bwd_square(self, a, dy)
    }
}

macro_rules! linear_binary_markers {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name;

        impl $name {
            /// The forward part.
            #[inline(always)]
            pub fn fwd<A: LinearBinary<Self, B>, B: Differentiable + super::Shaped>(
                &self, a: &A, b: &B,
            ) -> A::Output {
                A::fwd(self, a, b)
            }
            /// The transpose for the first input.
            #[inline(always)]
            pub fn bwd_0<A: LinearBinary<Self, B>, B: Differentiable + super::Shaped>(
                &self, a: &ShapeOf<A>, b: &ShapeOf<B>, dy: TangentOf<A::Output>,
            ) -> TangentOf<A> {
                A::bwd_0(self, &a.0, &b.0, dy)
            }
            /// The transpose for the second input.
            #[inline(always)]
            pub fn bwd_1<A: LinearBinary<Self, B>, B: Differentiable + super::Shaped>(
                &self, a: &ShapeOf<A>, b: &ShapeOf<B>, dy: TangentOf<A::Output>,
            ) -> TangentOf<B> {
                A::bwd_1(self, &a.0, &b.0, dy)
            }
            /// The tangent part for the first input.
            #[inline(always)]
            pub fn jvp_0<A: LinearBinary<Self, B>, B: Differentiable + super::Shaped>(
                &self, a: &ShapeOf<A>, b: &ShapeOf<B>, da: &TangentOf<A>,
            ) -> TangentOf<A::Output> {
                A::jvp_0(self, &a.0, &b.0, da)
            }
            /// The tangent part for the second input.
            #[inline(always)]
            pub fn jvp_1<A: LinearBinary<Self, B>, B: Differentiable + super::Shaped>(
                &self, a: &ShapeOf<A>, b: &ShapeOf<B>, db: &TangentOf<B>,
            ) -> TangentOf<A::Output> {
                A::jvp_1(self, &a.0, &b.0, db)
            }
        }
    )*};
}

linear_binary_markers! {
    /// `a + b`.
    Add;
    /// `a - b`.
    Sub;
}

macro_rules! linear_markers {
    ($($(#[$doc:meta])* $name:ident $(<$g:ident>)? $(($($field:ty),*))?;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name $(<$g>)? $(($(pub $field),*))?;

        impl $(<$g>)? $name $(<$g>)? {
            /// The forward part.
            #[inline(always)]
            pub fn fwd<V: Linear<Self>>(&self, x: &V) -> V::Output {
                V::fwd(self, x)
            }
            /// The transpose.
            #[inline(always)]
            pub fn bwd<V: Linear<Self>>(&self, x: &ShapeOf<V>, dy: TangentOf<V::Output>) -> TangentOf<V> {
                V::bwd(self, &x.0, dy)
            }
            /// The tangent part.
            #[inline(always)]
            pub fn jvp<V: Linear<Self>>(&self, x: &ShapeOf<V>, dx: &TangentOf<V>) -> TangentOf<V::Output> {
                V::jvp(self, &x.0, dx)
            }
            /// The transpose from the input itself, whose storage it may reuse.
            #[inline(always)]
            pub fn bwd_from<V: Linear<Self>>(&self, x: V, dy: TangentOf<V::Output>) -> TangentOf<V> {
                V::bwd_from(self, x, dy)
            }
        }
    )*};
}

linear_markers! {
    /// `-x`.
    #[derive(Copy)]
    Neg;
    /// `x as T` between float types.
    #[derive(Copy)]
    CastTo<T>(PhantomData<T>);
}

impl<T> CastTo<T> {
    /// The cast to `T`.
    pub const OP: Self = CastTo(PhantomData);
}

linear_markers! {
    /// `Σ x`: every element of a tensor summed to a scalar.
    #[derive(Copy)]
    Sum;
    /// The mean of every element of a tensor, a scalar.
    #[derive(Copy)]
    Mean;
    /// The sum along an axis, which is removed (numpy's `keepdims=False`).
    #[derive(Copy)]
    SumAxis(usize);
    /// The mean along an axis, which is removed.
    #[derive(Copy)]
    MeanAxis(usize);
    /// The transpose of a 2-d tensor.
    #[derive(Copy)]
    Transpose;
    /// The same elements under a new shape with the same element count.
    Reshape(Vec<usize>);
}

linear_markers! {
    /// The element at an index (one coordinate per axis, `&[usize]`, an array or a `Vec`),
    /// a scalar.
    Get<I>(I);
    /// `Narrow(axis, start, len)`: the `len` slices along `axis` from `start` on.
    #[derive(Copy)]
    Narrow(usize, usize, usize);
    /// `IndexSelect(axis, indices)`: the slices along `axis` at `indices`, in their order
    /// (an embedding lookup); a repeated index repeats its slice.
    IndexSelect<I>(usize, I);
}

binary_markers! {
    /// The matrix product, with numpy's rules for 1-d and 2-d operands.
    Matmul;
    /// The inner product of two 1-d tensors, a scalar.
    Dot;
}

macro_rules! unary_out_markers {
    ($($(#[$doc:meta])* $name:ident $(($($field:ty),*))?;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name $(($(pub $field),*))?;

        impl $name {
            /// The forward part.
            #[inline(always)]
            pub fn fwd<V: UnaryOut<Self>>(&self, x: &V) -> V::Output {
                V::fwd(self, x)
            }
            /// The backward part.
            #[inline(always)]
            pub fn bwd<V: UnaryOut<Self>>(&self, x: &V, y: &V::Output, dy: TangentOf<V::Output>) -> TangentOf<V> {
                V::bwd(self, x, y, dy)
            }
            /// The tangent part.
            #[inline(always)]
            pub fn jvp<V: UnaryOut<Self>>(&self, x: &V, y: &V::Output, dx: &TangentOf<V>) -> TangentOf<V::Output> {
                V::jvp(self, x, y, dx)
            }
        }
    )*};
}

unary_out_markers! {
    /// The largest element along an axis, which is removed; the gradient goes to the first
    /// largest element.
    MaxAxis(usize);
    /// `e^x / Σ e^x` along an axis, computed stably.
    Softmax(usize);
    /// `x - ln Σ e^x` along an axis, computed stably.
    LogSoftmax(usize);
}

binary_markers! {
    /// The cross product of two 3-vectors.
    Cross;
    /// The elementwise (Hadamard) product of two matrices of one shape.
    ComponentMul;
}

unary_out_markers! {
    /// The Euclidean (for matrices, Frobenius) norm, a scalar; its gradient at 0 is 0.
    Norm;
    /// The squared Euclidean (for matrices, Frobenius) norm, a scalar.
    NormSquared;
}
