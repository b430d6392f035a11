//! `Real`: the scalar float types (`f32`, `f64`) that generic differentiable code is written over.

use crate::differentiable::{Differentiable, Flat, FlatMut, Tangent};
use core::fmt::{Debug, Display};
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A scalar float: `f32` or `f64`.
///
/// Write generic differentiable functions over it (`fn f<T: grad::Real>(x: T) -> T`); its
/// methods mirror the inherent float methods and add `sigmoid`, `relu`.
///
/// ```
/// use grad::{Real, differentiable};
///
/// #[differentiable]
/// fn softplus<T: Real>(x: T) -> T {
///     (T::ONE + x.exp()).ln()
/// }
///
/// // softplus(0) = ln 2, and softplus'(x) = sigmoid(x) = 1/2 at 0, in either precision.
/// let (y, dy) = softplus_grad(0.0f64);
/// assert!((y - 2.0f64.ln()).abs() < 1e-15 && dy == 0.5);
/// assert_eq!(softplus_grad(0.0f32).1, 0.5);
/// ```
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

    /// Whether the value is NaN (never differentiated).
    fn is_nan(self) -> bool;
    /// Whether the value is neither infinite nor NaN (never differentiated).
    fn is_finite(self) -> bool;
    /// `selfⁿ` for an integer `n`; `d/dx xⁿ = n xⁿ⁻¹`.
    fn powi(self, n: i32) -> Self;
    /// `self^y`; `d/dx = y x^(y-1)`, `d/dy = x^y ln x`.
    fn powf(self, y: Self) -> Self;
    /// The larger of `self` and `y`; on a tie the gradient goes to `self`. If one is NaN, the other.
    fn max(self, y: Self) -> Self;
    /// The smaller of `self` and `y`; on a tie the gradient goes to `self`. If one is NaN, the other.
    fn min(self, y: Self) -> Self;
    /// `self` limited to `[lo, hi]`; the gradient passes where `lo <= self <= hi`.
    ///
    /// # Panics
    /// If `lo > hi` or either bound is NaN, as the std method does.
    fn clamp(self, lo: Self, hi: Self) -> Self;
    /// The angle of the point `(x, self)` in radians, in `[-π, π]`: `self` is the ordinate.
    fn atan2(self, x: Self) -> Self;
    /// `√(self² + y²)` without intermediate overflow.
    fn hypot(self, y: Self) -> Self;
    /// `eˣ`.
    fn exp(self) -> Self;
    /// The natural logarithm; `d/dx = 1/x`. NaN below 0, `-∞` at 0.
    fn ln(self) -> Self;
    /// The square root; `d/dx = 1/(2√x)`, infinite at 0. NaN below 0.
    fn sqrt(self) -> Self;
    /// The sine of an angle in radians.
    fn sin(self) -> Self;
    /// The cosine of an angle in radians.
    fn cos(self) -> Self;
    /// `(sin, cos)`, in one evaluation.
    fn sin_cos(self) -> (Self, Self);
    /// The tangent of an angle in radians.
    fn tan(self) -> Self;
    /// The hyperbolic tangent; `d/dx = 1 - tanh²x`.
    fn tanh(self) -> Self;
    /// The absolute value; `abs'(0) = 0`.
    fn abs(self) -> Self;
    /// `1 / self`.
    fn recip(self) -> Self;
    /// `2ˣ`.
    fn exp2(self) -> Self;
    /// The base-2 logarithm.
    fn log2(self) -> Self;
    /// The base-10 logarithm.
    fn log10(self) -> Self;
    /// The hyperbolic sine.
    fn sinh(self) -> Self;
    /// The hyperbolic cosine.
    fn cosh(self) -> Self;
    /// The arcsine in radians, in `[-π/2, π/2]`; NaN outside `[-1, 1]`.
    fn asin(self) -> Self;
    /// The arccosine in radians, in `[0, π]`; NaN outside `[-1, 1]`.
    fn acos(self) -> Self;
    /// The arctangent in radians, in `[-π/2, π/2]`.
    fn atan(self) -> Self;
    /// The cube root (defined for negative values too).
    fn cbrt(self) -> Self;
    /// `ln(1 + x)`, accurate for `x` near 0.
    fn ln_1p(self) -> Self;
    /// `eˣ - 1`, accurate for `x` near 0.
    fn exp_m1(self) -> Self;
    /// The largest integer `<= self`; its derivative is 0.
    fn floor(self) -> Self;
    /// The smallest integer `>= self`; its derivative is 0.
    fn ceil(self) -> Self;
    /// The nearest integer, halves away from 0; its derivative is 0.
    fn round(self) -> Self;
    /// The integer part, towards 0; its derivative is 0.
    fn trunc(self) -> Self;
    /// `1` for positive values and `+0`, `-1` for negative values and `-0`, NaN for NaN; its derivative is 0.
    fn signum(self) -> Self;
    /// The total order of IEEE 754 (`f64::total_cmp`); a dual number is ordered by its value.
    /// So `v.sort_by(|a, b| a.total_cmp(b))` reads the same in generic and second-order code.
    fn total_cmp(&self, other: &Self) -> core::cmp::Ordering;
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
            #[inline(always)]
            fn total_cmp(&self, other: &Self) -> core::cmp::Ordering { $t::total_cmp(self, other) }
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
