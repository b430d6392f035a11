//! `Dual<F>` as a nalgebra scalar: `RealField` and the traits under it (simba's
//! `ComplexField` and `SimdValue`, num-traits' `Num`, `Signed` and `FromPrimitive`, approx's
//! comparisons), so that `Vector3<Dual<f64>>` and `OMatrix<Dual<f64>, R, C>` support what
//! nalgebra's matrices of floats do (products, `dot`, `norm`, `cross`, ...) and `f_hvp` can
//! run a function of nalgebra values on duals.
//!
//! Every function carries its derivative along the tangent, as [`Real`]'s methods on duals
//! do (most delegate to them); comparisons, rounding and the sign functions look at the
//! value alone, as the differentiated program's do.
//!
//! ```
//! use grad::Dual;
//! use nalgebra::Vector2;
//!
//! // ‖(3, 4) + t (1, 0)‖ at t = 0: 5, and its derivative along t is 3/5.
//! let v = Vector2::new(Dual::new(3.0f64, 1.0), Dual::new(4.0, 0.0));
//! let n = v.norm();
//! assert_eq!(n.re, 5.0);
//! assert!((n.eps - 0.6).abs() < 1e-15);
//! ```

use super::{Dual, DualParts, FloatRun, ToDuals, same_shape};
use crate::real::Real;
use ::approx::{AbsDiffEq, RelativeEq, UlpsEq};
use ::nalgebra::allocator::Allocator;
use ::nalgebra::{ComplexField, DefaultAllocator, Dim, OMatrix, RealField, SimdValue};
use ::num_traits::{FromPrimitive, Num, One, Signed, Zero};
use ::simba::scalar::SubsetOf;
use core::ops::{Rem, RemAssign};

impl<F: Real> Zero for Dual<F> {
    fn zero() -> Self {
        Dual::constant(F::ZERO)
    }
    fn is_zero(&self) -> bool {
        self.re == F::ZERO
    }
}

impl<F: Real> One for Dual<F> {
    fn one() -> Self {
        Dual::constant(F::ONE)
    }
}

/// `a % b = a - b·trunc(a/b)`: `∂/∂a = 1`, `∂/∂b = -trunc(a/b)` (the quotient is flat).
impl<F: Real> Rem for Dual<F> {
    type Output = Self;
    fn rem(self, b: Self) -> Self {
        let q = (self.re / b.re).trunc();
        Dual::new(self.re - b.re * q, self.eps - b.eps * q)
    }
}

impl<F: Real> RemAssign for Dual<F> {
    fn rem_assign(&mut self, b: Self) {
        *self = *self % b;
    }
}

impl<F: Real> Num for Dual<F> {
    type FromStrRadixErr = <f64 as Num>::FromStrRadixErr;
    /// A constant read as an `f64`.
    fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        <f64 as Num>::from_str_radix(s, radix).map(|v| Dual::constant(F::from_f64(v)))
    }
}

impl<F: Real> Signed for Dual<F> {
    fn abs(&self) -> Self {
        Real::abs(*self)
    }
    fn abs_sub(&self, other: &Self) -> Self {
        if self.re <= other.re {
            Dual::constant(F::ZERO)
        } else {
            *self - *other
        }
    }
    fn signum(&self) -> Self {
        Real::signum(*self)
    }
    fn is_positive(&self) -> bool {
        self.re > F::ZERO
    }
    fn is_negative(&self) -> bool {
        self.re < F::ZERO
    }
}

impl<F: Real> FromPrimitive for Dual<F> {
    fn from_i64(n: i64) -> Option<Self> {
        Some(Dual::constant(F::from_f64(n as f64)))
    }
    fn from_u64(n: u64) -> Option<Self> {
        Some(Dual::constant(F::from_f64(n as f64)))
    }
    fn from_f64(n: f64) -> Option<Self> {
        Some(Dual::constant(F::from_f64(n)))
    }
}

/// A scalar is one lane.
impl<F: Real> SimdValue for Dual<F> {
    const LANES: usize = 1;
    type Element = Self;
    type SimdBool = bool;
    fn splat(val: Self) -> Self {
        val
    }
    fn extract(&self, _: usize) -> Self {
        *self
    }
    unsafe fn extract_unchecked(&self, _: usize) -> Self {
        *self
    }
    fn replace(&mut self, _: usize, val: Self) {
        *self = val;
    }
    unsafe fn replace_unchecked(&mut self, _: usize, val: Self) {
        *self = val;
    }
    fn select(self, cond: bool, other: Self) -> Self {
        if cond { self } else { other }
    }
}

impl<F: Real> ::simba::scalar::Field for Dual<F> {}

impl<F: Real> SubsetOf<Dual<F>> for Dual<F> {
    fn to_superset(&self) -> Self {
        *self
    }
    fn from_superset_unchecked(element: &Self) -> Self {
        *element
    }
    fn is_in_subset(_: &Self) -> bool {
        true
    }
}

macro_rules! floats_into_duals {
    ($($t:ty)*) => {$(
        /// A float is a constant dual; a dual's float is its value.
        impl<F: Real> SubsetOf<Dual<F>> for $t {
            fn to_superset(&self) -> Dual<F> {
                Dual::constant(F::from_f64(f64::from(*self)))
            }
            fn from_superset_unchecked(element: &Dual<F>) -> $t {
                element.re.to_f64() as $t
            }
            fn is_in_subset(_: &Dual<F>) -> bool {
                true
            }
        }
    )*};
}
floats_into_duals!(f32 f64);

/// Tolerances are the float's, on the values.
impl<F: Real + RealField> AbsDiffEq for Dual<F> {
    type Epsilon = Self;
    fn default_epsilon() -> Self {
        Dual::constant(F::default_epsilon())
    }
    fn abs_diff_eq(&self, other: &Self, epsilon: Self) -> bool {
        self.re.abs_diff_eq(&other.re, epsilon.re)
    }
}

impl<F: Real + RealField> RelativeEq for Dual<F> {
    fn default_max_relative() -> Self {
        Dual::constant(F::default_max_relative())
    }
    fn relative_eq(&self, other: &Self, epsilon: Self, max_relative: Self) -> bool {
        self.re.relative_eq(&other.re, epsilon.re, max_relative.re)
    }
}

impl<F: Real + RealField> UlpsEq for Dual<F> {
    fn default_max_ulps() -> u32 {
        F::default_max_ulps()
    }
    fn ulps_eq(&self, other: &Self, epsilon: Self, max_ulps: u32) -> bool {
        self.re.ulps_eq(&other.re, epsilon.re, max_ulps)
    }
}

impl<F: Real + RealField> ComplexField for Dual<F> {
    type RealField = Self;
    fn from_real(re: Self) -> Self {
        re
    }
    fn real(self) -> Self {
        self
    }
    fn imaginary(self) -> Self {
        Dual::constant(F::ZERO)
    }
    fn modulus(self) -> Self {
        Real::abs(self)
    }
    fn modulus_squared(self) -> Self {
        self * self
    }
    /// `0` or `π`, flat.
    fn argument(self) -> Self {
        let pi = <F as Real>::from_f64(core::f64::consts::PI);
        self.flat_part(if self.re >= F::ZERO { F::ZERO } else { pi })
    }
    fn norm1(self) -> Self {
        Real::abs(self)
    }
    fn scale(self, factor: Self) -> Self {
        self * factor
    }
    fn unscale(self, factor: Self) -> Self {
        self / factor
    }
    fn floor(self) -> Self {
        Real::floor(self)
    }
    fn ceil(self) -> Self {
        Real::ceil(self)
    }
    fn round(self) -> Self {
        Real::round(self)
    }
    fn trunc(self) -> Self {
        Real::trunc(self)
    }
    /// `x - trunc(x)`: the tangent passes.
    fn fract(self) -> Self {
        Dual::new(self.re - Real::trunc(self.re), self.eps)
    }
    fn mul_add(self, a: Self, b: Self) -> Self {
        Real::mul_add(self, a, b)
    }
    fn abs(self) -> Self {
        Real::abs(self)
    }
    fn hypot(self, other: Self) -> Self {
        Real::hypot(self, other)
    }
    fn recip(self) -> Self {
        Real::recip(self)
    }
    fn conjugate(self) -> Self {
        self
    }
    fn sin(self) -> Self {
        Real::sin(self)
    }
    fn cos(self) -> Self {
        Real::cos(self)
    }
    fn sin_cos(self) -> (Self, Self) {
        Real::sin_cos(self)
    }
    fn tan(self) -> Self {
        Real::tan(self)
    }
    fn asin(self) -> Self {
        Real::asin(self)
    }
    fn acos(self) -> Self {
        Real::acos(self)
    }
    fn atan(self) -> Self {
        Real::atan(self)
    }
    fn sinh(self) -> Self {
        Real::sinh(self)
    }
    fn cosh(self) -> Self {
        Real::cosh(self)
    }
    fn tanh(self) -> Self {
        Real::tanh(self)
    }
    /// `d asinh x = 1 / sqrt(x² + 1)`.
    fn asinh(self) -> Self {
        let x = self.re;
        let d = Real::recip(Real::sqrt(x * x + F::ONE));
        self.chain(<F as ComplexField>::asinh(x), d)
    }
    /// `d acosh x = 1 / sqrt(x² - 1)`.
    fn acosh(self) -> Self {
        let x = self.re;
        let d = Real::recip(Real::sqrt(x * x - F::ONE));
        self.chain(<F as ComplexField>::acosh(x), d)
    }
    /// `d atanh x = 1 / (1 - x²)`.
    fn atanh(self) -> Self {
        let x = self.re;
        self.chain(<F as ComplexField>::atanh(x), Real::recip(F::ONE - x * x))
    }
    fn log(self, base: Self) -> Self {
        Real::ln(self) / Real::ln(base)
    }
    fn log2(self) -> Self {
        Real::log2(self)
    }
    fn log10(self) -> Self {
        Real::log10(self)
    }
    fn ln(self) -> Self {
        Real::ln(self)
    }
    fn ln_1p(self) -> Self {
        Real::ln_1p(self)
    }
    fn sqrt(self) -> Self {
        Real::sqrt(self)
    }
    fn exp(self) -> Self {
        Real::exp(self)
    }
    fn exp2(self) -> Self {
        Real::exp2(self)
    }
    fn exp_m1(self) -> Self {
        Real::exp_m1(self)
    }
    fn powi(self, n: i32) -> Self {
        Real::powi(self, n)
    }
    fn powf(self, n: Self) -> Self {
        Real::powf(self, n)
    }
    fn powc(self, n: Self) -> Self {
        Real::powf(self, n)
    }
    fn cbrt(self) -> Self {
        Real::cbrt(self)
    }
    fn is_finite(&self) -> bool {
        Real::is_finite(*self)
    }
    fn try_sqrt(self) -> Option<Self> {
        (self.re >= F::ZERO).then(|| Real::sqrt(self))
    }
}

impl<F: Real + RealField> RealField for Dual<F> {
    fn is_sign_positive(&self) -> bool {
        self.re.is_sign_positive()
    }
    fn is_sign_negative(&self) -> bool {
        self.re.is_sign_negative()
    }
    /// `|x|` with `sign`'s sign: the tangent is `x`'s times the signs' product (`sign`'s
    /// own tangent does not enter: the sign is flat in it).
    fn copysign(self, sign: Self) -> Self {
        let y = self.re.copysign(sign.re);
        let same = (y >= F::ZERO) == (self.re >= F::ZERO);
        Dual::new(y, if same { self.eps } else { -self.eps })
    }
    fn max(self, other: Self) -> Self {
        Real::max(self, other)
    }
    fn min(self, other: Self) -> Self {
        Real::min(self, other)
    }
    fn clamp(self, min: Self, max: Self) -> Self {
        Real::clamp(self, min, max)
    }
    fn atan2(self, other: Self) -> Self {
        Real::atan2(self, other)
    }
    fn min_value() -> Option<Self> {
        F::min_value().map(Dual::constant)
    }
    fn max_value() -> Option<Self> {
        F::max_value().map(Dual::constant)
    }
    fn pi() -> Self {
        Dual::constant(F::pi())
    }
    fn two_pi() -> Self {
        Dual::constant(F::two_pi())
    }
    fn frac_pi_2() -> Self {
        Dual::constant(F::frac_pi_2())
    }
    fn frac_pi_3() -> Self {
        Dual::constant(F::frac_pi_3())
    }
    fn frac_pi_4() -> Self {
        Dual::constant(F::frac_pi_4())
    }
    fn frac_pi_6() -> Self {
        Dual::constant(F::frac_pi_6())
    }
    fn frac_pi_8() -> Self {
        Dual::constant(F::frac_pi_8())
    }
    fn frac_1_pi() -> Self {
        Dual::constant(F::frac_1_pi())
    }
    fn frac_2_pi() -> Self {
        Dual::constant(F::frac_2_pi())
    }
    fn frac_2_sqrt_pi() -> Self {
        Dual::constant(F::frac_2_sqrt_pi())
    }
    fn e() -> Self {
        Dual::constant(F::e())
    }
    fn log2_e() -> Self {
        Dual::constant(F::log2_e())
    }
    fn log10_e() -> Self {
        Dual::constant(F::log10_e())
    }
    fn ln_2() -> Self {
        Dual::constant(F::ln_2())
    }
    fn ln_10() -> Self {
        Dual::constant(F::ln_10())
    }
}

/// A nalgebra matrix or vector: `x + ε v` of each element.
///
/// # Panics
/// `duals_along`, where `v` and `self` differ in shape (only matrices sized at run time can).
impl<F: Real, R: Dim, C: Dim> ToDuals for OMatrix<F, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Duals = OMatrix<Dual<F>, R, C>;
    fn duals_along(&self, v: &Self, name: &str) -> Self::Duals {
        same_shape(name, self.shape(), v.shape());
        self.zip_map(v, Dual::new)
    }
    fn constant_duals(&self) -> Self::Duals {
        self.map(Dual::constant)
    }
}

impl<F: Real, R: Dim, C: Dim> DualParts for OMatrix<Dual<F>, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Part = OMatrix<F, R, C>;
    fn values(&self) -> OMatrix<F, R, C> {
        self.map(|d| d.re)
    }
    fn tangents(&self) -> OMatrix<F, R, C> {
        self.map(|d| d.eps)
    }
}

impl<F: Real, R: Dim, C: Dim> FloatRun for OMatrix<F, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    fn push_floats(&self, out: &mut Vec<f64>) {
        self.as_slice().push_floats(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::nalgebra::{Matrix2, Vector3};

    /// `(value, d/dt)` of `f(x + t)` at `t = 0`, and the same by a central difference.
    fn check(what: &str, f: impl Fn(Dual<f64>) -> Dual<f64>, g: impl Fn(f64) -> f64, x: f64) {
        let y = f(Dual::new(x, 1.0));
        let h = 1e-6;
        let fd = (g(x + h) - g(x - h)) / (2.0 * h);
        assert!(
            f64::abs(y.re - g(x)) <= 1e-15 * f64::abs(g(x)).max(1.0),
            "{what} value"
        );
        assert!(
            f64::abs(y.eps - fd) <= 1e-8 * f64::abs(fd).max(1.0),
            "{what}: {} against {fd}",
            y.eps
        );
    }

    #[test]
    fn functions_of_their_own_carry_their_derivatives() {
        check("asinh", ComplexField::asinh, f64::asinh, -0.7);
        check("acosh", ComplexField::acosh, f64::acosh, 1.8);
        check("atanh", ComplexField::atanh, f64::atanh, 0.35);
        check("fract", ComplexField::fract, f64::fract, 2.25);
        check("rem", |x| x % Dual::constant(0.75), |x| x % 0.75, 2.1);
        check("rem by", |x| Dual::constant(2.1) % x, |x| 2.1 % x, 0.75);
        check(
            "log base 3",
            |x| x.log(Dual::constant(3.0)),
            |x| x.log(3.0),
            1.7,
        );
        check(
            "copysign",
            |x| x.copysign(Dual::constant(-1.0)),
            |x| x.copysign(-1.0),
            0.4,
        );
        check(
            "abs_sub",
            |x| Signed::abs_sub(&x, &Dual::constant(0.5)),
            |x| (x - 0.5).max(0.0),
            0.9,
        );
    }

    #[test]
    fn nalgebra_values_of_duals() {
        // d/dt of ‖a + t u‖², a·(M (a + t u)) and (a × b)·e₃ along u, by hand.
        let (a, u) = (Vector3::new(1.0, -2.0, 0.5), Vector3::new(0.3, 0.1, -1.0));
        let ad = a.zip_map(&u, Dual::new);
        let n = ad.norm_squared();
        assert_eq!((n.re, n.eps), (a.norm_squared(), 2.0 * a.dot(&u)));
        let m = Matrix2::new(1.0, 2.0, 3.0, 4.0).map(Dual::constant);
        let v = ::nalgebra::Vector2::new(Dual::new(1.0, 1.0), Dual::new(-1.0, 0.0));
        let y = (m * v).dot(&v);
        // vᵀ M v with v = (1 + t, -1): d/dt = (M + Mᵀ) v · (1, 0) = 2·1 + (2 + 3)·(-1) = -3.
        assert_eq!((y.re, y.eps), (1.0 - 2.0 - 3.0 + 4.0, -3.0));
        let b = Vector3::new(
            Dual::constant(0.0),
            Dual::constant(1.0),
            Dual::constant(0.0),
        );
        let c = ad.cross(&b);
        // (a × e₂)_z = a_x, so its derivative along u is u_x.
        assert_eq!((c.z.re, c.z.eps), (a.x, u.x));
        let unit = ad.normalize();
        assert!(f64::abs(unit.norm().re - 1.0) < 1e-15 && f64::abs(unit.norm().eps) < 1e-15);
    }
}
