//! `Dual<F>`: a value and its tangent along one direction, the scalar that second order
//! (`#[differentiable(order = 2)]`, `f_hvp`) runs the reverse sweep over.
//!
//! `f_hvp` is forward mode over reverse mode: the attribute writes a copy of the function
//! generic over its float type, differentiates it in reverse as usual, and runs that
//! gradient with every input a `Dual` whose tangent is the direction `v`. Each operation on
//! duals carries `d/dt` of its value along `x + t v`, so the gradient's tangent part is
//! `d/dt ∇f(x + t v) = H v`. The scalar rules (`rules::pointwise`, `rules::binary`) are
//! generic over [`Real`], so they apply to duals unchanged.
//!
//! ```
//! use grad::{Dual, Real};
//!
//! // d/dt (x + t)³ at x = 2 is 3·2² = 12.
//! let x = Dual::new(2.0f64, 1.0);
//! let y = x.powi(3);
//! assert_eq!((y.re, y.eps), (8.0, 12.0));
//! ```

mod dualize;
mod field;

pub use dualize::{
    Dualize, dualize, dualize_constant, dualize_parts, dualize_slice, dualize_slice_constant,
    pair_tangents, part_name,
};

use crate::differentiable::{Differentiable, Flat, FlatMut, Tangent};
use crate::kernels::gemm::{Gemm, MatRef};
use crate::kernels::math::VecMath;
use crate::real::Real;
use crate::tensor::{Tensor, pool};
use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A value `re` and its derivative `eps` along one direction: `re + eps·ε`, `ε² = 0`.
///
/// Comparisons (and so branches, `max`, `min`, `clamp`) look at `re` alone, as the
/// differentiated program's control flow follows values, never tangents.
#[derive(Clone, Copy, Default)]
#[repr(C)]
pub struct Dual<F> {
    /// The value.
    pub re: F,
    /// Its derivative along the direction.
    pub eps: F,
}

impl<F: Real> Dual<F> {
    /// `re + eps·ε`.
    #[inline(always)]
    pub fn new(re: F, eps: F) -> Self {
        Dual { re, eps }
    }

    /// A constant: tangent zero.
    #[inline(always)]
    pub fn constant(re: F) -> Self {
        Dual { re, eps: F::ZERO }
    }

    /// `f(re) + eps·f'(re)·ε`, given `f(re)` and `f'(re)`.
    #[inline(always)]
    fn chain(self, y: F, dy: F) -> Self {
        Dual {
            re: y,
            eps: self.eps * dy,
        }
    }

    /// A piecewise-constant function's dual: tangent zero, NaN at NaN (as its rule).
    #[inline(always)]
    fn flat_part(self, y: F) -> Self {
        Dual {
            re: y,
            eps: if self.re.is_nan() { self.re } else { F::ZERO },
        }
    }
}

/// Reinterprets duals as their components, `re` then `eps` of each in turn.
fn components<F: Real>(s: &[Dual<F>]) -> &[F] {
    // SAFETY: `Dual<F>` is `repr(C)` with two fields of the same type `F`, so it has no
    // padding, the alignment of `F`, and is laid out as `[F; 2]`; `s` covers `2 * s.len()`
    // values of `F`, borrowed for as long as `s` is.
    unsafe { core::slice::from_raw_parts(s.as_ptr().cast::<F>(), 2 * s.len()) }
}

/// As [`components`], mutably.
fn components_mut<F: Real>(s: &mut [Dual<F>]) -> &mut [F] {
    // SAFETY: as in `components`; the borrow of `s` is exclusive and moves into the result.
    unsafe { core::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<F>(), 2 * s.len()) }
}

impl<F: Real> PartialEq for Dual<F> {
    /// Equal values (the tangents are not compared).
    fn eq(&self, other: &Self) -> bool {
        self.re == other.re
    }
}

impl<F: Real> PartialOrd for Dual<F> {
    /// The values' order (the tangents are not compared).
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.re.partial_cmp(&other.re)
    }
}

impl<F: Real> fmt::Debug for Dual<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} + {:?}ε", self.re, self.eps)
    }
}

impl<F: Real> fmt::Display for Dual<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} + {}ε", self.re, self.eps)
    }
}

impl<F: Real> Add for Dual<F> {
    type Output = Self;
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        Dual::new(self.re + b.re, self.eps + b.eps)
    }
}

impl<F: Real> Sub for Dual<F> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        Dual::new(self.re - b.re, self.eps - b.eps)
    }
}

impl<F: Real> Mul for Dual<F> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        Dual::new(self.re * b.re, self.eps * b.re + self.re * b.eps)
    }
}

impl<F: Real> Div for Dual<F> {
    type Output = Self;
    /// `(a/b)' = (a' - (a/b) b') / b`.
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        let q = self.re / b.re;
        Dual::new(q, (self.eps - q * b.eps) / b.re)
    }
}

impl<F: Real> Neg for Dual<F> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Dual::new(-self.re, -self.eps)
    }
}

macro_rules! assign_ops {
    ($($tr:ident $m:ident $op:tt),*) => {$(
        impl<F: Real> $tr for Dual<F> {
            #[inline(always)]
            fn $m(&mut self, b: Self) {
                *self = *self $op b;
            }
        }
    )*};
}
assign_ops!(AddAssign add_assign +, SubAssign sub_assign -, MulAssign mul_assign *, DivAssign div_assign /);

impl<F: Real> core::iter::Sum for Dual<F> {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        // From `-0.0`, the identity of addition, as `Iterator::sum` of floats starts.
        iter.fold(-Self::ZERO, |a, b| a + b)
    }
}

impl<F: Real> core::iter::Product for Dual<F> {
    fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ONE, |a, b| a * b)
    }
}

impl<F: Real> Differentiable for Dual<F> {
    type Tangent = Self;
    #[inline(always)]
    fn zero_tangent(&self) -> Self {
        Self::ZERO
    }
    #[inline(always)]
    fn move_along(&mut self, direction: &Self) {
        *self += *direction;
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
        f(F::flat_mut(components_mut(core::slice::from_mut(self))));
    }
    fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], Flat<'_>)) {
        f(name, &[2], F::flat(components(core::slice::from_ref(self))));
    }
}

impl<F: Real> Tangent for Dual<F> {
    #[inline(always)]
    fn add_assign(&mut self, other: Self) {
        *self += other;
    }
    fn scale(&mut self, factor: f64) {
        self.re.scale(factor);
        self.eps.scale(factor);
    }
    fn visit(&self, f: &mut dyn FnMut(Flat<'_>)) {
        f(F::flat(components(core::slice::from_ref(self))));
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
        f(F::flat_mut(components_mut(core::slice::from_mut(self))));
    }
}

impl<F: Real> VecMath for Dual<F> {
    fn vexp<const FMA: bool>(self) -> Self {
        self.exp()
    }
    fn vln<const FMA: bool>(self) -> Self {
        self.ln()
    }
    fn vtanh<const FMA: bool>(self) -> Self {
        self.tanh()
    }
    fn vsigmoid<const FMA: bool>(self) -> Self {
        self.sigmoid()
    }
}

impl<F: Real> Gemm for Dual<F> {
    /// The textbook triple loop: tensors of duals are not a fast path.
    fn gemm_serial(
        m: usize,
        k: usize,
        n: usize,
        a: MatRef<Self>,
        b: MatRef<Self>,
        beta: Self,
        c: &mut [Self],
    ) {
        for i in 0..m {
            for j in 0..n {
                let mut s = Self::ZERO;
                for l in 0..k {
                    s += a.data[i * a.rs + l * a.cs] * b.data[l * b.rs + j * b.cs];
                }
                let c_ij = &mut c[i * n + j];
                *c_ij = if beta == Self::ZERO {
                    s
                } else {
                    s + beta * *c_ij
                };
            }
        }
    }
}

/// `1` where `c`, else `0`.
#[inline(always)]
fn indicator<F: Real>(c: bool) -> F {
    if c { F::ONE } else { F::ZERO }
}

impl<F: Real> Real for Dual<F> {
    const ZERO: Self = Dual {
        re: F::ZERO,
        eps: F::ZERO,
    };
    const ONE: Self = Dual {
        re: F::ONE,
        eps: F::ZERO,
    };
    const NAN: Self = Dual {
        re: F::NAN,
        eps: F::ZERO,
    };
    const INFINITY: Self = Dual {
        re: F::INFINITY,
        eps: F::ZERO,
    };
    const LN_2: Self = Dual {
        re: F::LN_2,
        eps: F::ZERO,
    };
    const LN_10: Self = Dual {
        re: F::LN_10,
        eps: F::ZERO,
    };

    #[inline(always)]
    fn total_cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.re.total_cmp(&other.re)
    }

    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        Self::constant(F::from_f64(v))
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self.re.to_f64()
    }
    #[inline(always)]
    fn relu(self) -> Self {
        // As `relu`'s rule: the tangent passes where `x > 0`, NaN stays NaN.
        if self.re.is_nan() {
            self
        } else {
            self.chain(self.re.relu(), indicator(self.re > F::ZERO))
        }
    }
    #[inline(always)]
    fn sigmoid(self) -> Self {
        let y = self.re.sigmoid();
        self.chain(y, y * (F::ONE - y))
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        Dual::new(
            self.re.mul_add(a.re, b.re),
            self.eps * a.re + self.re * a.eps + b.eps,
        )
    }
    fn flat(s: &[Self]) -> Flat<'_> {
        F::flat(components(s))
    }
    fn flat_mut(s: &mut [Self]) -> FlatMut<'_> {
        F::flat_mut(components_mut(s))
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        self.re.is_nan()
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        self.re.is_finite()
    }
    #[inline(always)]
    fn powi(self, n: i32) -> Self {
        let d = match n {
            0 => F::ZERO,
            n => F::from_f64(f64::from(n)) * self.re.powi(n - 1),
        };
        self.chain(self.re.powi(n), d)
    }
    /// A zero tangent contributes nothing, even where its partial derivative is infinite
    /// or NaN (`x^0.5` at 0, `ln x` of a negative base with a constant exponent).
    #[inline(always)]
    fn powf(self, y: Self) -> Self {
        let (a, b) = (self.re, y.re);
        let r = a.powf(b);
        let mut eps = F::ZERO;
        if self.eps != F::ZERO && b != F::ZERO {
            eps += self.eps * b * a.powf(b - F::ONE);
        }
        if y.eps != F::ZERO && !(a == F::ZERO && b >= F::ZERO) {
            eps += y.eps * r * a.ln();
        }
        Dual::new(r, eps)
    }
    #[inline(always)]
    fn max(self, y: Self) -> Self {
        // The first on ties, and the other where one is NaN: as `f64::max` and its rule.
        if y.re.is_nan() || !self.re.is_nan() && self.re >= y.re {
            self
        } else {
            y
        }
    }
    #[inline(always)]
    fn min(self, y: Self) -> Self {
        if y.re.is_nan() || !self.re.is_nan() && self.re <= y.re {
            self
        } else {
            y
        }
    }
    #[inline(always)]
    fn clamp(self, lo: Self, hi: Self) -> Self {
        // The float's `clamp` panics as the std method does where `lo > hi`.
        let re = self.re.clamp(lo.re, hi.re);
        let eps = if self.re < lo.re {
            lo.eps
        } else if self.re > hi.re {
            hi.eps
        } else {
            self.eps
        };
        Dual::new(re, eps)
    }
    #[inline(always)]
    fn atan2(self, x: Self) -> Self {
        let (a, b) = (self.re, x.re);
        let r2 = a * a + b * b;
        Dual::new(a.atan2(b), (self.eps * b - x.eps * a) / r2)
    }
    #[inline(always)]
    fn hypot(self, y: Self) -> Self {
        let h = self.re.hypot(y.re);
        Dual::new(h, (self.eps * self.re + y.eps * y.re) / h)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        let y = self.re.exp();
        self.chain(y, y)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        self.chain(self.re.ln(), self.re.recip())
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        let y = self.re.sqrt();
        self.chain(y, F::from_f64(0.5) / y)
    }
    #[inline(always)]
    fn sin(self) -> Self {
        let (s, c) = self.re.sin_cos();
        self.chain(s, c)
    }
    #[inline(always)]
    fn cos(self) -> Self {
        let (s, c) = self.re.sin_cos();
        self.chain(c, -s)
    }
    #[inline(always)]
    fn sin_cos(self) -> (Self, Self) {
        let (s, c) = self.re.sin_cos();
        (self.chain(s, c), self.chain(c, -s))
    }
    #[inline(always)]
    fn tan(self) -> Self {
        let y = self.re.tan();
        self.chain(y, F::ONE + y * y)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        let y = self.re.tanh();
        self.chain(y, F::ONE - y * y)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        self.chain(
            self.re.abs(),
            crate::rules::pointwise::sign_or_zero(self.re),
        )
    }
    #[inline(always)]
    fn recip(self) -> Self {
        let y = self.re.recip();
        self.chain(y, -(y * y))
    }
    #[inline(always)]
    fn exp2(self) -> Self {
        let y = self.re.exp2();
        self.chain(y, y * F::LN_2)
    }
    #[inline(always)]
    fn log2(self) -> Self {
        self.chain(self.re.log2(), (self.re * F::LN_2).recip())
    }
    #[inline(always)]
    fn log10(self) -> Self {
        self.chain(self.re.log10(), (self.re * F::LN_10).recip())
    }
    #[inline(always)]
    fn sinh(self) -> Self {
        self.chain(self.re.sinh(), self.re.cosh())
    }
    #[inline(always)]
    fn cosh(self) -> Self {
        self.chain(self.re.cosh(), self.re.sinh())
    }
    #[inline(always)]
    fn asin(self) -> Self {
        let x = self.re;
        self.chain(x.asin(), (F::ONE - x * x).sqrt().recip())
    }
    #[inline(always)]
    fn acos(self) -> Self {
        let x = self.re;
        self.chain(x.acos(), -(F::ONE - x * x).sqrt().recip())
    }
    #[inline(always)]
    fn atan(self) -> Self {
        let x = self.re;
        self.chain(x.atan(), (F::ONE + x * x).recip())
    }
    #[inline(always)]
    fn cbrt(self) -> Self {
        let y = self.re.cbrt();
        self.chain(y, (F::from_f64(3.0) * y * y).recip())
    }
    #[inline(always)]
    fn ln_1p(self) -> Self {
        self.chain(self.re.ln_1p(), (F::ONE + self.re).recip())
    }
    #[inline(always)]
    fn exp_m1(self) -> Self {
        let y = self.re.exp_m1();
        self.chain(y, y + F::ONE)
    }
    #[inline(always)]
    fn floor(self) -> Self {
        self.flat_part(self.re.floor())
    }
    #[inline(always)]
    fn ceil(self) -> Self {
        self.flat_part(self.re.ceil())
    }
    #[inline(always)]
    fn round(self) -> Self {
        self.flat_part(self.re.round())
    }
    #[inline(always)]
    fn trunc(self) -> Self {
        self.flat_part(self.re.trunc())
    }
    #[inline(always)]
    fn signum(self) -> Self {
        self.flat_part(self.re.signum())
    }
}

/// The scalar of the copy that `order = 2` differentiates: a [`Real`] that numbers of every
/// primitive type convert into ([`Cast`]), so that `e as f64` there reads `lift(e)`. A float
/// cast to the float type (`(x * y) as f64`) is the identity, its cotangent the scalar itself:
/// the bound says so, so that the copy's reverse pass, generic over this trait, can add it to
/// an adjoint.
#[doc(hidden)]
pub trait Order2:
    Real
    + core::iter::Sum
    + core::iter::Product
    + Cast<Self, Cotangent = Self>
    + Cast<f32>
    + Cast<f64>
    + Cast<u8>
    + Cast<u16>
    + Cast<u32>
    + Cast<u64>
    + Cast<usize>
    + Cast<i8>
    + Cast<i16>
    + Cast<i32>
    + Cast<i64>
    + Cast<isize>
{
}

impl<F: Real> Order2 for Dual<F> {}

/// `e as f64` inside the copy that `order = 2` differentiates, where every float is the
/// dual type: a number of another type becomes a constant, and a dual stays itself.
#[doc(hidden)]
pub trait Cast<E> {
    /// The cotangent of `E`.
    type Cotangent;
    /// `e` as this type.
    fn cast(e: E) -> Self;
    /// The transpose of `cast` (the identity for a dual, nothing for a constant).
    fn cast_back(dy: Self) -> Self::Cotangent;
}

impl<F: Real> Cast<Dual<F>> for Dual<F> {
    type Cotangent = Self;
    #[inline(always)]
    fn cast(e: Self) -> Self {
        e
    }
    #[inline(always)]
    fn cast_back(dy: Self) -> Self {
        dy
    }
}

macro_rules! cast_numbers {
    ($($n:ident)*) => {$(
        impl<F: Real> Cast<$n> for Dual<F> {
            type Cotangent = crate::NoTangent;
            #[inline(always)]
            fn cast(e: $n) -> Self {
                Dual::constant(F::from_f64(e as f64))
            }
            #[inline(always)]
            fn cast_back(_: Self) -> crate::NoTangent {
                crate::NoTangent
            }
        }
    )*};
}
cast_numbers!(u8 u16 u32 u64 usize i8 i16 i32 i64 isize f32 f64);

/// `e as f64` in the dual copy (see [`Cast`]).
#[doc(hidden)]
#[inline(always)]
pub fn lift<T: Cast<E>, E>(e: E) -> T {
    T::cast(e)
}

/// `lift`'s value and pullback, for a cast of a differentiated value.
#[doc(hidden)]
#[inline(always)]
pub fn lift_vjp<T: Cast<E>, E>(e: E) -> (T, impl FnOnce(T) -> T::Cotangent) {
    (T::cast(e), T::cast_back)
}

/// Floats, and arrays, slices and `Vec`s of them (nested), tensors and nalgebra matrices, as
/// `f_hvp` passes them: each float `x` becomes the dual `x + ε v` along the direction's float
/// at the same place, or a constant where the parameter is not differentiated.
#[doc(hidden)]
pub trait ToDuals {
    /// The same form over duals (a slice's is a `Vec`).
    type Duals;
    /// `x + ε v` at every place.
    ///
    /// # Panics
    /// Where `v` and `self` differ in length or shape at some level (`name` is the
    /// parameter's).
    fn duals_along(&self, v: &Self, name: &str) -> Self::Duals;
    /// Constant duals (tangent zero).
    fn constant_duals(&self) -> Self::Duals;
}

impl<F: Real> ToDuals for F {
    type Duals = Dual<F>;
    fn duals_along(&self, v: &F, _: &str) -> Dual<F> {
        Dual::new(*self, *v)
    }
    fn constant_duals(&self) -> Dual<F> {
        Dual::constant(*self)
    }
}

impl<T: ToDuals, const N: usize> ToDuals for [T; N] {
    type Duals = [T::Duals; N];
    fn duals_along(&self, v: &Self, name: &str) -> Self::Duals {
        core::array::from_fn(|i| self[i].duals_along(&v[i], name))
    }
    fn constant_duals(&self) -> Self::Duals {
        core::array::from_fn(|i| self[i].constant_duals())
    }
}

impl<T: ToDuals> ToDuals for [T] {
    type Duals = Vec<T::Duals>;
    fn duals_along(&self, v: &Self, name: &str) -> Vec<T::Duals> {
        same_length(name, self.len(), v.len());
        self.iter()
            .zip(v)
            .map(|(x, v)| x.duals_along(v, name))
            .collect()
    }
    fn constant_duals(&self) -> Vec<T::Duals> {
        self.iter().map(ToDuals::constant_duals).collect()
    }
}

impl<T: ToDuals> ToDuals for Vec<T> {
    type Duals = Vec<T::Duals>;
    fn duals_along(&self, v: &Self, name: &str) -> Vec<T::Duals> {
        self.as_slice().duals_along(v, name)
    }
    fn constant_duals(&self) -> Vec<T::Duals> {
        self.as_slice().constant_duals()
    }
}

/// A tensor: `x + ε v` of each element.
///
/// # Panics
/// `duals_along`, where `v` and `self` differ in shape.
impl<F: Real> ToDuals for Tensor<F> {
    type Duals = Tensor<Dual<F>>;
    fn duals_along(&self, v: &Self, name: &str) -> Tensor<Dual<F>> {
        same_shape(name, self.shape(), v.shape());
        let mut v = v.as_slice().iter();
        // Every call's duals in a recycled buffer: fresh pages for a data tensor of 10⁵
        // elements cost more than the whole conversion.
        let data = pool::mapped(self.as_slice(), |x| Dual::new(*x, *v.next().unwrap_or(x)));
        Tensor::from_parts(data, self.dims_owned())
    }
    fn constant_duals(&self) -> Tensor<Dual<F>> {
        let data = pool::mapped(self.as_slice(), |x| Dual::constant(*x));
        Tensor::from_parts(data, self.dims_owned())
    }
}

/// Panics where a direction's length differs from its parameter's (`name`).
fn same_length(name: &str, x: usize, v: usize) {
    assert_eq!(
        x, v,
        "the direction for `{name}` has length {v} where `{name}` has length {x}"
    );
}

/// Panics where a direction's shape differs from its parameter's (`name`).
fn same_shape<S: PartialEq + fmt::Debug>(name: &str, x: S, v: S) {
    assert_eq!(
        x, v,
        "the direction for `{name}` has shape {v:?} where `{name}` has shape {x:?}"
    );
}

/// `x + ε v` of a parameter of floats (see [`ToDuals`]).
#[doc(hidden)]
pub fn duals<X: ToDuals + ?Sized>(x: &X, v: &X, name: &str) -> X::Duals {
    x.duals_along(v, name)
}

/// Constant duals of a parameter of floats that is not differentiated.
#[doc(hidden)]
pub fn constants<X: ToDuals + ?Sized>(x: &X) -> X::Duals {
    x.constant_duals()
}

/// A gradient of duals split into its value part (the gradient) and its tangent part (the
/// Hessian times the direction), in the parameter's cotangent form.
#[doc(hidden)]
pub trait DualParts {
    /// The same form over the float type.
    type Part;
    /// The values.
    fn values(&self) -> Self::Part;
    /// The tangents.
    fn tangents(&self) -> Self::Part;
}

impl<F: Real> DualParts for Dual<F> {
    type Part = F;
    fn values(&self) -> F {
        self.re
    }
    fn tangents(&self) -> F {
        self.eps
    }
}

impl<D: DualParts> DualParts for Vec<D> {
    type Part = Vec<D::Part>;
    fn values(&self) -> Vec<D::Part> {
        self.iter().map(DualParts::values).collect()
    }
    fn tangents(&self) -> Vec<D::Part> {
        self.iter().map(DualParts::tangents).collect()
    }
}

impl<D: DualParts, const N: usize> DualParts for [D; N] {
    type Part = [D::Part; N];
    fn values(&self) -> [D::Part; N] {
        core::array::from_fn(|i| self[i].values())
    }
    fn tangents(&self) -> [D::Part; N] {
        core::array::from_fn(|i| self[i].tangents())
    }
}

impl<F: Real> DualParts for Tensor<Dual<F>> {
    type Part = Tensor<F>;
    fn values(&self) -> Tensor<F> {
        let data = pool::mapped(self.as_slice(), |d| d.re);
        Tensor::from_parts(data, self.dims_owned())
    }
    fn tangents(&self) -> Tensor<F> {
        let data = pool::mapped(self.as_slice(), |d| d.eps);
        Tensor::from_parts(data, self.dims_owned())
    }
}

/// The gradient part of a gradient of duals.
#[doc(hidden)]
pub fn dual_values<G: DualParts>(g: &G) -> G::Part {
    g.values()
}

/// The Hessian-vector part of a gradient of duals.
#[doc(hidden)]
pub fn dual_tangents<G: DualParts>(g: &G) -> G::Part {
    g.tangents()
}

/// A named constant (`const K: f64`, `static W: [f64; 3]`) read inside the copy that
/// `order = 2` differentiates: floats become the dual type `T`, integers and `bool`s stay.
#[doc(hidden)]
pub trait Promote<T> {
    /// The constant's type in the copy.
    type Out;
    /// The constant as that type.
    fn promote(self) -> Self::Out;
}

macro_rules! promote_floats {
    ($($f:ident)*) => {$(
        impl<T: Cast<$f>> Promote<T> for $f {
            type Out = T;
            #[inline(always)]
            fn promote(self) -> T {
                T::cast(self)
            }
        }
    )*};
}
promote_floats!(f32 f64);

macro_rules! promote_same {
    ($($n:ident)*) => {$(
        impl<T> Promote<T> for $n {
            type Out = $n;
            #[inline(always)]
            fn promote(self) -> $n {
                self
            }
        }
    )*};
}
promote_same!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize bool char);

impl<T, E: Promote<T>, const N: usize> Promote<T> for [E; N] {
    type Out = [E::Out; N];
    #[inline(always)]
    fn promote(self) -> Self::Out {
        self.map(E::promote)
    }
}

impl<'a, T> Promote<T> for &'a str {
    type Out = &'a str;
    #[inline(always)]
    fn promote(self) -> &'a str {
        self
    }
}

/// A named constant in the dual copy (see [`Promote`]).
#[doc(hidden)]
#[inline(always)]
pub fn promote<T, E: Promote<T>>(e: E) -> E::Out {
    e.promote()
}

/// Floats seen flat, in order: a scalar, arrays, slices and `Vec`s of them (nested), a
/// tensor, for [`pair`].
#[doc(hidden)]
pub trait FloatRun {
    /// Appends the floats, as `f64`.
    fn push_floats(&self, out: &mut Vec<f64>);
}

impl<F: Real> FloatRun for F {
    fn push_floats(&self, out: &mut Vec<f64>) {
        out.push(self.to_f64());
    }
}

impl<T: FloatRun> FloatRun for [T] {
    fn push_floats(&self, out: &mut Vec<f64>) {
        self.iter().for_each(|x| x.push_floats(out));
    }
}

impl<T: FloatRun> FloatRun for Vec<T> {
    fn push_floats(&self, out: &mut Vec<f64>) {
        self.as_slice().push_floats(out);
    }
}

impl<T: FloatRun, const N: usize> FloatRun for [T; N] {
    fn push_floats(&self, out: &mut Vec<f64>) {
        self.as_slice().push_floats(out);
    }
}

impl<F: Real> FloatRun for Tensor<F> {
    fn push_floats(&self, out: &mut Vec<f64>) {
        self.as_slice().push_floats(out);
    }
}

/// `<a, b>`, accumulated in `f64`: a gradient's part paired with a tangent's, for the value
/// tangent of `f_grad_jvp`.
#[doc(hidden)]
pub fn pair<A: FloatRun + ?Sized, B: FloatRun + ?Sized>(a: &A, b: &B) -> f64 {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    a.push_floats(&mut x);
    b.push_floats(&mut y);
    x.iter().zip(&y).map(|(a, b)| a * b).sum()
}

/// `dr g + hv`: the pullback of `f_grad`'s output `(r, g)` for the cotangent `(dr, dg)`
/// is `dr ∇f + H dg`, with `hv = H dg` (the Hessian is symmetric).
#[doc(hidden)]
pub fn grad_pullback<R: Real, T: Tangent>(dr: R, g: T, hv: T) -> T {
    let mut out = g;
    out.scale(dr.to_f64());
    out.add_assign(hv);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Products of dual matrices against the product of their parts, summed in `f64`, at
    /// edge sizes (empty, one, around the four-way split), with `A` and `B` read row-major
    /// and transposed, and `beta` zero and not.
    #[test]
    fn dual_gemm_matches_the_product_of_the_parts() {
        let value =
            |i: usize, s: f64| Dual::new((i as f64 * 0.37 + s).sin(), (i as f64 * 0.11 - s).cos());
        for (m, k, n) in [
            (0, 3, 2),
            (2, 0, 3),
            (1, 1, 1),
            (3, 3, 1),
            (2, 4, 2),
            (3, 5, 1),
            (4, 9, 3),
            (7, 8, 1),
        ] {
            let a: Vec<Dual<f64>> = (0..m * k).map(|i| value(i, 0.3)).collect();
            let b: Vec<Dual<f64>> = (0..k * n).map(|i| value(i, 1.7)).collect();
            for (ta, tb, beta) in [
                (false, false, 0.0),
                (true, false, 0.0),
                (false, true, 0.5),
                (true, true, -2.0),
            ] {
                // `A` stored as its transpose (k × m) where read transposed.
                let a_at = |i: usize, l: usize| if ta { a[l * m + i] } else { a[i * k + l] };
                let b_at = |l: usize, j: usize| if tb { b[j * k + l] } else { b[l * n + j] };
                let av = if ta {
                    MatRef::transposed(&a, m)
                } else {
                    MatRef::row_major(&a, k)
                };
                let bv = if tb {
                    MatRef::transposed(&b, k)
                } else {
                    MatRef::row_major(&b, n)
                };
                let c0: Vec<Dual<f64>> = (0..m * n).map(|i| value(i, 2.9)).collect();
                let mut c = c0.clone();
                Dual::gemm_serial(m, k, n, av, bv, Dual::constant(beta), &mut c);
                for i in 0..m {
                    for j in 0..n {
                        let (mut re, mut eps) = (beta * c0[i * n + j].re, beta * c0[i * n + j].eps);
                        for l in 0..k {
                            let (x, y) = (a_at(i, l), b_at(l, j));
                            re += x.re * y.re;
                            eps += x.re * y.eps + x.eps * y.re;
                        }
                        let got = c[i * n + j];
                        let what = format!("({m}, {k}, {n}) ta={ta} tb={tb} at ({i}, {j})");
                        assert!((got.re - re).abs() < 1e-13, "{what}: {} vs {re}", got.re);
                        assert!(
                            (got.eps - eps).abs() < 1e-13,
                            "{what}: {} vs {eps}",
                            got.eps
                        );
                    }
                }
            }
        }
    }
}
