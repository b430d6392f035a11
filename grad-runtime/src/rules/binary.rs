//! Scalar rules of the two-input primitives: the primal and its partial derivatives, written once.
//!
//! ```
//! use grad::rules::binary::ScalarBinary;
//! use grad::rules::op;
//!
//! // atan2(a, b): ∂/∂a = b / (a² + b²), ∂/∂b = -a / (a² + b²); at (1, 1) they are ±1/2.
//! let (a, b) = (1.0f64, 1.0);
//! let y = op::Atan2.f(a, b);
//! assert!((y - std::f64::consts::FRAC_PI_4).abs() < 1e-15);
//! assert!((op::Atan2.d0(a, b, y) - 0.5).abs() < 1e-15);
//! assert!((op::Atan2.d1(a, b, y) + 0.5).abs() < 1e-15);
//! ```

use super::op::*;
use super::{Bilinear, Binary, LinearBinary, SquareBwd};
use crate::real::Real;
use core::marker::PhantomData;

/// A two-input primitive on scalars: the primal and its partial derivatives.
pub trait ScalarBinary<T: Real> {
    /// `y = f(a, b)`.
    fn f(&self, a: T, b: T) -> T;
    /// `∂y/∂a`, in terms of the inputs and the output.
    fn d0(&self, a: T, b: T, y: T) -> T;
    /// `∂y/∂b`, in terms of the inputs and the output.
    fn d1(&self, a: T, b: T, y: T) -> T;
}

impl<T: Real, O: ScalarBinary<T>> Binary<O, T> for T {
    type Output = T;
    #[inline(always)]
    fn fwd(op: &O, a: &T, b: &T) -> T {
        op.f(*a, *b)
    }
    #[inline(always)]
    fn bwd_0(op: &O, a: &T, b: &T, y: &T, dy: T) -> T {
        dy * op.d0(*a, *b, *y)
    }
    #[inline(always)]
    fn bwd_1(op: &O, a: &T, b: &T, y: &T, dy: T) -> T {
        dy * op.d1(*a, *b, *y)
    }
    #[inline(always)]
    fn jvp_0(op: &O, a: &T, b: &T, y: &T, da: &T) -> T {
        op.d0(*a, *b, *y) * *da
    }
    #[inline(always)]
    fn jvp_1(op: &O, a: &T, b: &T, y: &T, db: &T) -> T {
        op.d1(*a, *b, *y) * *db
    }
}

macro_rules! binary_rules {
    ($($op:ident: |$a:ident, $b:ident| $f:expr, |$a0:pat_param, $b0:pat_param, $y0:pat_param| $d0:expr,
        |$a1:pat_param, $b1:pat_param, $y1:pat_param| $d1:expr;)*) => {$(
        impl<T: Real> ScalarBinary<T> for $op {
            #[inline(always)]
            fn f(&self, $a: T, $b: T) -> T {
                $f
            }
            #[inline(always)]
            fn d0(&self, $a0: T, $b0: T, $y0: T) -> T {
                $d0
            }
            #[inline(always)]
            fn d1(&self, $a1: T, $b1: T, $y1: T) -> T {
                $d1
            }
        }
    )*};
}

/// Whether `a.max(b)` (`a.min(b)` when `min`) chose `a`: on ties it did, and a NaN loses,
/// as in `f64::max`.
#[inline(always)]
fn first_chosen<T: Real>(a: T, b: T, min: bool) -> bool {
    b.is_nan() || !a.is_nan() && if min { a <= b } else { a >= b }
}

#[inline(always)]
fn indicator<T: Real>(c: bool) -> T {
    if c { T::ONE } else { T::ZERO }
}

binary_rules! {
    //     primal                  ∂y/∂a                                 ∂y/∂b
    Mul:   |a, b| a * b,           |_, b, _| b,                          |a, _, _| a;
    Div:   |a, b| a / b,           |_, b, _| b.recip(),                  |_, b, y| -y * b.recip();
    Max:   |a, b| a.max(b),        |a, b, _| indicator(first_chosen(a, b, false)),
                                   |a, b, _| indicator(!first_chosen(a, b, false));
    Min:   |a, b| a.min(b),        |a, b, _| indicator(first_chosen(a, b, true)),
                                   |a, b, _| indicator(!first_chosen(a, b, true));
    Atan2: |a, b| a.atan2(b),      |a, b, _| b / (a * a + b * b),        |a, b, _| -a / (a * a + b * b);
    Hypot: |a, b| a.hypot(b),      |a, _, y| a / y,                      |_, b, y| b / y;
    // PyTorch's conventions: ∂/∂a is 0 where b = 0; ∂/∂b is 0 where a = 0 and b >= 0.
    Powf:  |a, b| a.powf(b),       |a, b, _| if b == T::ZERO { T::ZERO } else { b * a.powf(b - T::ONE) },
                                   |a, b, y| if a == T::ZERO && b >= T::ZERO { T::ZERO } else { y * a.ln() };
}

impl<T: Real> Bilinear<Mul, T> for T {
    #[inline(always)]
    fn bwd_0_by(_: &Mul, _: &PhantomData<T>, b: &T, dy: T) -> T {
        dy * *b
    }
    #[inline(always)]
    fn bwd_1_by(_: &Mul, a: &T, _: &PhantomData<T>, dy: T) -> T {
        dy * *a
    }
}

impl<T: Real> SquareBwd<Mul> for T {
    #[inline(always)]
    fn bwd_square(_: &Mul, a: &T, dy: T) -> T {
        // `powi(2)`'s rule to the letter, so the two forms compile alike (a negation that
        // follows folds into the constant).
        dy * (T::from_f64(2.0) * *a)
    }
}

macro_rules! linear_binary_rules {
    ($($op:ident: |$a:ident, $b:ident| $f:expr, |$d:ident| $transpose:expr;)*) => {$(
        impl<T: Real> LinearBinary<$op, T> for T {
            type Output = T;
            #[inline(always)]
            fn fwd(_: &$op, $a: &T, $b: &T) -> T {
                let ($a, $b) = (*$a, *$b);
                $f
            }
            #[inline(always)]
            fn bwd_0(_: &$op, _: &PhantomData<T>, _: &PhantomData<T>, dy: T) -> T {
                dy
            }
            #[inline(always)]
            fn bwd_1(_: &$op, _: &PhantomData<T>, _: &PhantomData<T>, $d: T) -> T {
                $transpose
            }
            #[inline(always)]
            fn jvp_0(_: &$op, _: &PhantomData<T>, _: &PhantomData<T>, da: &T) -> T {
                *da
            }
            #[inline(always)]
            fn jvp_1(_: &$op, _: &PhantomData<T>, _: &PhantomData<T>, db: &T) -> T {
                let $d = *db;
                $transpose
            }
        }
    )*};
}

linear_binary_rules! {
    //    primal          how b's tangent enters
    Add: |a, b| a + b, |d| d;
    Sub: |a, b| a - b, |d| -d;
}
