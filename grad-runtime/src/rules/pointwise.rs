//! Scalar rules of the one-input primitives: the primal and its derivative, written once.
//!
//! ```
//! use grad::rules::op;
//! use grad::rules::pointwise::ScalarUnary;
//!
//! // sqrt's derivative from its output: 1 / (2y); at x = 4, 1/4.
//! let y = op::Sqrt.f(4.0f64);
//! assert_eq!((y, op::Sqrt.df(4.0, y)), (2.0, 0.25));
//! // PyTorch's kinks: relu'(0) = 0, abs'(0) = 0.
//! assert_eq!((op::Relu.df(0.0f64, 0.0), op::Abs.df(0.0f64, 0.0)), (0.0, 0.0));
//! ```

use super::op::*;
use super::{Linear, Shaped, TangentOf, Unary};
use crate::real::Real;
use core::marker::PhantomData;

/// A one-input primitive on scalars: the primal `f` and its derivative `df(x, y)`.
pub trait ScalarUnary<T: Real> {
    /// `y = f(x)`.
    fn f(&self, x: T) -> T;
    /// `dy/dx`, in terms of the input `x` and the output `y`.
    fn df(&self, x: T, y: T) -> T;
    /// The vectorized kernel that computes `f` over a tensor, if it has one (else tensors
    /// map `f` over their elements).
    #[inline(always)]
    fn vectorized(&self) -> Option<crate::kernels::math::MathFn> {
        None
    }
}

impl<T: Real, O: ScalarUnary<T>> Unary<O> for T {
    #[inline(always)]
    fn fwd(op: &O, x: &T) -> T {
        op.f(*x)
    }
    #[inline(always)]
    fn bwd(op: &O, x: &T, y: &T, dy: T) -> T {
        dy * op.df(*x, *y)
    }
    #[inline(always)]
    fn jvp(op: &O, x: &T, y: &T, dx: &T) -> T {
        op.df(*x, *y) * *dx
    }
}

macro_rules! pointwise_rules {
    ($($op:ident: |$x:ident| $f:expr, |$dx:pat_param, $dy:pat_param| $d:expr $(=> $kernel:ident)?;)*) => {$(
        impl<T: Real> ScalarUnary<T> for $op {
            #[inline(always)]
            fn f(&self, $x: T) -> T {
                $f
            }
            #[inline(always)]
            fn df(&self, $dx: T, $dy: T) -> T {
                $d
            }
            $(
            #[inline(always)]
            fn vectorized(&self) -> Option<crate::kernels::math::MathFn> {
                Some(crate::kernels::math::MathFn::$kernel)
            }
            )?
        }
    )*};
}

/// `1` where `c`, else `0`.
#[inline(always)]
fn indicator<T: Real>(c: bool) -> T {
    if c { T::ONE } else { T::ZERO }
}

pointwise_rules! {
    //      primal              dy/dx                       tensor kernel
    Exp:    |x| x.exp(),        |_x, y| y                   => Exp;
    Ln:     |x| x.ln(),         |x, _y| x.recip()           => Ln;
    Sqrt:   |x| x.sqrt(),       |_x, y| T::from_f64(0.5) / y;
    Sin:    |x| x.sin(),        |x, _y| x.cos();
    Cos:    |x| x.cos(),        |x, _y| -x.sin();
    Tan:    |x| x.tan(),        |_x, y| T::ONE + y * y;
    Tanh:   |x| x.tanh(),       |_x, y| T::ONE - y * y      => Tanh;
    Abs:    |x| x.abs(),        |x, _y| sign_or_zero(x);
    Sigmoid:|x| x.sigmoid(),    |_x, y| y * (T::ONE - y)    => Sigmoid;
    Relu:   |x| x.relu(),       |x, _y| if x.is_nan() { x } else { indicator(x > T::ZERO) };
    Recip:  |x| x.recip(),      |_x, y| -(y * y);
    Exp2:   |x| x.exp2(),       |_x, y| y * T::LN_2;
    Log2:   |x| x.log2(),       |x, _y| (x * T::LN_2).recip();
    Log10:  |x| x.log10(),      |x, _y| (x * T::LN_10).recip();
    Sinh:   |x| x.sinh(),       |x, _y| x.cosh();
    Cosh:   |x| x.cosh(),       |x, _y| x.sinh();
    Asin:   |x| x.asin(),       |x, _y| (T::ONE - x * x).sqrt().recip();
    Acos:   |x| x.acos(),       |x, _y| -(T::ONE - x * x).sqrt().recip();
    Atan:   |x| x.atan(),       |x, _y| (T::ONE + x * x).recip();
    Cbrt:   |x| x.cbrt(),       |_x, y| (T::from_f64(3.0) * y * y).recip();
    Ln1p:   |x| x.ln_1p(),      |x, _y| (T::ONE + x).recip();
    ExpM1:  |x| x.exp_m1(),     |_x, y| y + T::ONE;
    Floor:  |x| x.floor(),      |x, _y| zero_keeping_nan(x);
    Ceil:   |x| x.ceil(),       |x, _y| zero_keeping_nan(x);
    Round:  |x| x.round(),      |x, _y| zero_keeping_nan(x);
    Trunc:  |x| x.trunc(),      |x, _y| zero_keeping_nan(x);
    Signum: |x| x.signum(),     |x, _y| zero_keeping_nan(x);
}

/// `abs'`: the sign of `x`, `0` at `±0`, NaN at NaN.
#[inline(always)]
pub(crate) fn sign_or_zero<T: Real>(x: T) -> T {
    if x > T::ZERO {
        T::ONE
    } else if x < T::ZERO {
        -T::ONE
    } else if x.is_nan() {
        x
    } else {
        T::ZERO
    }
}

/// The derivative of a piecewise-constant function: `0`, NaN at NaN.
#[inline(always)]
fn zero_keeping_nan<T: Real>(x: T) -> T {
    if x.is_nan() { x } else { T::ZERO }
}

impl<T: Real> ScalarUnary<T> for Powi {
    #[inline(always)]
    fn f(&self, x: T) -> T {
        x.powi(self.0)
    }
    /// `n x^(n-1)`, and `0` for `n = 0`.
    #[inline(always)]
    fn df(&self, x: T, _y: T) -> T {
        match self.0 {
            0 => T::ZERO,
            n => T::from_f64(f64::from(n)) * x.powi(n - 1),
        }
    }
}

impl<T: Real> ScalarUnary<T> for Clamp<T> {
    #[inline(always)]
    fn f(&self, x: T) -> T {
        x.clamp(self.0, self.1)
    }
    /// `1` where `lo <= x <= hi` (boundaries included, as PyTorch), else `0`.
    #[inline(always)]
    fn df(&self, x: T, _y: T) -> T {
        indicator(x >= self.0 && x <= self.1)
    }
}

impl<T: Real> Shaped for T {
    type Shape = PhantomData<T>;
    #[inline(always)]
    fn shape_of(&self) -> PhantomData<T> {
        PhantomData
    }
}

impl<T: Real> Linear<Neg> for T {
    type Output = T;
    #[inline(always)]
    fn fwd(_: &Neg, x: &T) -> T {
        -*x
    }
    #[inline(always)]
    fn bwd(_: &Neg, _: &PhantomData<T>, dy: T) -> T {
        -dy
    }
    #[inline(always)]
    fn jvp(_: &Neg, _: &PhantomData<T>, dx: &T) -> T {
        -*dx
    }
}

macro_rules! cast_rules {
    ($($from:ident -> $to:ident),*) => {$(
        impl Linear<CastTo<$to>> for $from {
            type Output = $to;
            #[inline(always)]
            fn fwd(_: &CastTo<$to>, x: &$from) -> $to {
                *x as $to
            }
            #[inline(always)]
            fn bwd(_: &CastTo<$to>, _: &PhantomData<$from>, dy: $to) -> TangentOf<$from> {
                dy as $from
            }
            #[inline(always)]
            fn jvp(_: &CastTo<$to>, _: &PhantomData<$from>, dx: &$from) -> $to {
                *dx as $to
            }
        }
    )*};
}
cast_rules!(f32 -> f32, f32 -> f64, f64 -> f32, f64 -> f64);

/// `n as f32` / `n as f64` of an integer read from a differentiated struct: a constant.
macro_rules! integer_cast_rules {
    ($($from:ident)*) => {$(
        impl Shaped for $from {
            type Shape = PhantomData<$from>;
            #[inline(always)]
            fn shape_of(&self) -> PhantomData<$from> {
                PhantomData
            }
        }
        integer_cast_rules!(@to $from f32);
        integer_cast_rules!(@to $from f64);
    )*};
    (@to $from:ident $to:ident) => {
        impl Linear<CastTo<$to>> for $from {
            type Output = $to;
            #[inline(always)]
            fn fwd(_: &CastTo<$to>, x: &$from) -> $to {
                *x as $to
            }
            #[inline(always)]
            fn bwd(_: &CastTo<$to>, _: &PhantomData<$from>, _: $to) {}
            #[inline(always)]
            fn jvp(_: &CastTo<$to>, _: &PhantomData<$from>, _: &()) -> $to {
                0.0
            }
        }
    };
}
integer_cast_rules!(u8 u16 u32 u64 usize i8 i16 i32 i64 isize);
