//! `Real`: the scalar float types (`f32`, `f64`) that generic differentiable code is written over.

use crate::differentiable::{Differentiable, Flat, FlatMut, Tangent};
use core::fmt::{Debug, Display};
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A scalar float: `f32` or `f64`.
///
/// Write generic differentiable functions over it (`fn f<T: grad::Real>(x: T) -> T`); its
/// methods mirror the inherent float methods and add `sigmoid`, `relu`.
pub trait Real:
    Copy
    + Default
    + PartialOrd
    + Debug
    + Display
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Differentiable<Tangent = Self>
    + Tangent
    + crate::kernels::math::VecMath
    + crate::kernels::gemm::Gemm
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// Not a number.
    const NAN: Self;
    /// Positive infinity.
    const INFINITY: Self;
    /// `ln 2`.
    const LN_2: Self;
    /// `ln 10`.
    const LN_10: Self;

    /// The nearest value to `v`.
    fn from_f64(v: f64) -> Self;
    /// The value as `f64` (exact).
    fn to_f64(self) -> f64;
    /// `max(0, x)`; NaN stays NaN.
    fn relu(self) -> Self;
    /// `1 / (1 + e^-x)`, computed without overflow for any `x`.
    fn sigmoid(self) -> Self;

    /// `self * a + b` with one rounding.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// A run of these values as a [`Flat`] view.
    fn flat(s: &[Self]) -> Flat<'_>;
    /// A run of these values as a [`FlatMut`] view.
    fn flat_mut(s: &mut [Self]) -> FlatMut<'_>;

    fn is_nan(self) -> bool;
    fn is_finite(self) -> bool;
    fn powi(self, n: i32) -> Self;
    fn powf(self, y: Self) -> Self;
    fn max(self, y: Self) -> Self;
    fn min(self, y: Self) -> Self;
    fn clamp(self, lo: Self, hi: Self) -> Self;
    fn atan2(self, x: Self) -> Self;
    fn hypot(self, y: Self) -> Self;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn sqrt(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    /// `(sin, cos)`, in one evaluation.
    fn sin_cos(self) -> (Self, Self);
    fn tan(self) -> Self;
    fn tanh(self) -> Self;
    fn abs(self) -> Self;
    fn recip(self) -> Self;
    fn exp2(self) -> Self;
    fn log2(self) -> Self;
    fn log10(self) -> Self;
    fn sinh(self) -> Self;
    fn cosh(self) -> Self;
    fn asin(self) -> Self;
    fn acos(self) -> Self;
    fn atan(self) -> Self;
    fn cbrt(self) -> Self;
    fn ln_1p(self) -> Self;
    fn exp_m1(self) -> Self;
    fn floor(self) -> Self;
    fn ceil(self) -> Self;
    fn round(self) -> Self;
    fn trunc(self) -> Self;
    fn signum(self) -> Self;
}

macro_rules! impl_real {
    ($($t:ident $flat:ident)*) => {$(
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NAN: Self = $t::NAN;
            const INFINITY: Self = $t::INFINITY;
            const LN_2: Self = core::$t::consts::LN_2;
            const LN_10: Self = core::$t::consts::LN_10;

            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn relu(self) -> Self {
                if self <= 0.0 { 0.0 } else { self }
            }
            #[inline(always)]
            fn sigmoid(self) -> Self {
                if self >= 0.0 {
                    1.0 / (1.0 + (-self).exp())
                } else {
                    let e = self.exp();
                    e / (1.0 + e)
                }
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self { $t::mul_add(self, a, b) }
            #[inline(always)]
            fn flat(s: &[Self]) -> Flat<'_> { Flat::$flat(s) }
            #[inline(always)]
            fn flat_mut(s: &mut [Self]) -> FlatMut<'_> { FlatMut::$flat(s) }
            #[inline(always)]
            fn is_nan(self) -> bool { $t::is_nan(self) }
            #[inline(always)]
            fn is_finite(self) -> bool { $t::is_finite(self) }
            #[inline(always)]
            fn powi(self, n: i32) -> Self { $t::powi(self, n) }
            #[inline(always)]
            fn powf(self, y: Self) -> Self { $t::powf(self, y) }
            #[inline(always)]
            fn max(self, y: Self) -> Self { $t::max(self, y) }
            #[inline(always)]
            fn min(self, y: Self) -> Self { $t::min(self, y) }
            #[inline(always)]
            fn clamp(self, lo: Self, hi: Self) -> Self { $t::clamp(self, lo, hi) }
            #[inline(always)]
            fn atan2(self, x: Self) -> Self { $t::atan2(self, x) }
            #[inline(always)]
            fn hypot(self, y: Self) -> Self { $t::hypot(self, y) }
            #[inline(always)]
            fn sin_cos(self) -> (Self, Self) { $t::sin_cos(self) }
            impl_real!(@unary $t: exp ln sqrt sin cos tan tanh abs recip exp2 log2 log10 sinh cosh
                asin acos atan cbrt ln_1p exp_m1 floor ceil round trunc signum);
        }
    )*};
    (@unary $t:ident: $($m:ident)*) => {$(
        #[inline(always)]
        fn $m(self) -> Self { $t::$m(self) }
    )*};
}
impl_real!(f32 F32 f64 F64);
