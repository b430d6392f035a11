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
    /// `s · dy/dx`: a cotangent or tangent `s` through the derivative. A primitive whose
    /// derivative has a constant factor overrides it to apply the factor to `s` first, so
    /// that where `s` is a constant (a loss's weight, a seed of one) the two constants fold
    /// into one multiplication.
    #[inline(always)]
    fn scale(&self, x: T, y: T, s: T) -> T {
        s * self.df(x, y)
    }
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
        op.scale(*x, *y, dy)
    }
    #[inline(always)]
    fn jvp(op: &O, x: &T, y: &T, dx: &T) -> T {
        op.scale(*x, *y, *dx)
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
    /// `n x^(n-1)`, and `0` for `n = 0`: [`scale`](ScalarUnary::scale) of one (`1 · n`
    /// is exact, so the bits are those of `n x^(n-1)`).
    #[inline(always)]
    fn df(&self, x: T, y: T) -> T {
        self.scale(x, y, T::ONE)
    }
    /// `(s n) x^(n-1)`: with `s` a constant the compiler folds `s n` into one. For
    /// `(b).powi(2)` under a weight of 100 that is `200 b`, one multiplication where
    /// `100 (2 b)` is two, and what `100 * b * b`'s adjoint costs: the forms agree in speed.
    /// For `n` a power of two the result is the same but where `s n` overflows; for other
    /// `n` it may differ in the last place, as any order of the two products may.
    #[inline(always)]
    fn scale(&self, x: T, _y: T, s: T) -> T {
        match self.0 {
            0 => s * T::ZERO,
            n => s * T::from_f64(f64::from(n)) * x.powi(n - 1),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::op::Powi;

    /// `Powi`'s adjoint and tangent scale by `n` first: the same value as `s · n x^(n-1)`,
    /// to the bit where `n` is a power of two and within an ulp elsewhere; `0` for `n = 0`
    /// with NaN kept; and against a central difference in f64.
    #[test]
    fn powi_scales_by_n_first() {
        let xs = [-2.5, -1.0, -0.3, 0.0, 0.7, 1.0, 3.25];
        let ss = [1.0, -100.0, 0.125, 7.0];
        for n in -3..=5 {
            for &x in &xs {
                if n < 0 && x == 0.0 {
                    continue;
                }
                for &s in &ss {
                    let y = x.powi(n);
                    let got = <f64 as Unary<Powi>>::bwd(&Powi(n), &x, &y, s);
                    let tangent = <f64 as Unary<Powi>>::jvp(&Powi(n), &x, &y, &s);
                    assert_eq!(got.to_bits(), tangent.to_bits(), "n {n}, x {x}, s {s}");
                    let want = match n {
                        0 => s * 0.0,
                        n => s * (f64::from(n) * x.powi(n - 1)),
                    };
                    if n == 0 || n.unsigned_abs().is_power_of_two() {
                        assert_eq!(got, want, "n {n}, x {x}, s {s}");
                    } else {
                        assert!(
                            (got - want).abs() <= want.abs() * f64::EPSILON,
                            "n {n}, x {x}"
                        );
                    }
                    let h = 1e-6;
                    let fd = s * ((x + h).powi(n) - (x - h).powi(n)) / (2.0 * h);
                    assert!(
                        (got - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                        "n {n}, x {x}: {got} vs {fd}"
                    );
                }
            }
        }
        let nan = <f64 as Unary<Powi>>::bwd(&Powi(0), &1.0, &1.0, f64::NAN);
        assert!(nan.is_nan());
    }
}
