//! Elementwise rules on tensors: every scalar pointwise and binary rule lifted to tensors
//! (with broadcasting and scalar operands on either side), `+ -`, `-x`, and `Differentiable`.
//!
//! Nothing here restates a derivative: the tensor rules read `ScalarUnary::df` and
//! `ScalarBinary::d0/d1`, so each primitive's derivative is still written once, in
//! [`pointwise`](super::pointwise) or [`binary`](super::binary).
//!
//! ```
//! use grad::{Tensor, differentiable};
//!
//! #[differentiable(wrt(row))]
//! fn shifted(x: &Tensor<f64>, row: &Tensor<f64>) -> f64 {
//!     (x + row).exp().sum()
//! }
//!
//! // The (3,) row is broadcast over the (2, 3) matrix, so its cotangent is summed back over
//! // the rows: d/drow = Σ_rows e^(x + row); with x and row zero, [2, 2, 2].
//! let (value, g) = shifted_grad(&Tensor::zeros(&[2, 3]), &Tensor::zeros(&[3]));
//! assert_eq!((value, g.to_vec()), (6.0, vec![2.0, 2.0, 2.0]));
//! ```

use super::binary::ScalarBinary;
use super::op::{Add, Atan2, Div, Hypot, Max, Min, Mul, Neg, Powf, Sub};
use super::pointwise::ScalarUnary;
use super::support::InactiveTangent;
use super::{Bilinear, Binary, Linear, LinearBinary, Shaped, SquareBwd, TangentOf, Unary};
use crate::differentiable::{Differentiable, Flat, FlatMut, Tangent};
use crate::kernels;
use crate::real::Real;
use crate::tensor::shape::{
    broadcast_or_panic, broadcast_to, broadcast_zip, same_shape, unbroadcast,
};
use crate::tensor::{Dims, Tensor};
use core::marker::PhantomData;
use std::borrow::Cow;

/// Panics unless a cotangent or tangent has the shape of the value it belongs to.
#[track_caller]
#[inline]
pub(crate) fn check_shape(op: &str, what: &str, expected: &[usize], got: &[usize]) {
    if !same_shape(expected, got) {
        shape_mismatch(op, what, expected, got);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn shape_mismatch(op: &str, what: &str, expected: &[usize], got: &[usize]) -> ! {
    panic!("{op}: the {what} has shape {got:?} but the value has shape {expected:?}")
}

impl<T: Real> Shaped for Tensor<T> {
    type Shape = Dims;
    fn shape_of(&self) -> Dims {
        self.dims_owned()
    }
}

impl<T: Real> Differentiable for Tensor<T> {
    type Tangent = Tensor<T>;
    fn zero_tangent(&self) -> Tensor<T> {
        Tensor::zeros_like(self)
    }
    fn move_along(&mut self, direction: &Tensor<T>) {
        check_shape("move_along", "direction", self.shape(), direction.shape());
        kernels::map2_in_place(self.as_mut_slice(), direction.as_slice(), |a, d| a + d);
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
        f(T::flat_mut(self.as_mut_slice()));
    }
    fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], Flat<'_>)) {
        f(name, self.shape(), T::flat(self.as_slice()));
    }
    fn visit_named_mut(
        &mut self,
        name: &mut String,
        f: &mut dyn FnMut(&str, &[usize], FlatMut<'_>),
    ) {
        let shape = self.dims_owned();
        f(name, &shape, T::flat_mut(self.as_mut_slice()));
    }
}

impl<T: Real> Tangent for Tensor<T> {
    /// `self += other` in `self`'s buffer.
    fn add_assign(&mut self, other: Tensor<T>) {
        check_shape("add_assign", "added tangent", self.shape(), other.shape());
        kernels::map2_in_place(self.as_mut_slice(), other.as_slice(), |a, b| a + b);
    }
    fn scale(&mut self, factor: f64) {
        let k = T::from_f64(factor);
        kernels::map1_in_place(self.as_mut_slice(), |a| a * k);
    }
    fn visit(&self, f: &mut dyn FnMut(Flat<'_>)) {
        f(T::flat(self.as_slice()));
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
        f(T::flat_mut(self.as_mut_slice()));
    }
    fn dot(&self, other: &Tensor<T>) -> f64 {
        check_shape("dot", "other tangent", self.shape(), other.shape());
        self.as_slice()
            .iter()
            .zip(other.as_slice())
            .map(|(a, b)| a.to_f64() * b.to_f64())
            .sum()
    }
}

impl<T: Real> InactiveTangent<Tensor<T>> for Tensor<T> {
    /// A zero tensor of `a`'s shape.
    fn of(a: &Tensor<T>) -> Self {
        Tensor::zeros_like(a)
    }
}

/// `y = f(x)` elementwise; `dx = dy ⊙ f'(x, y)` computed in `dy`'s buffer.
impl<T: Real, O: ScalarUnary<T> + Sync> Unary<O> for Tensor<T> {
    fn fwd(op: &O, x: &Tensor<T>) -> Tensor<T> {
        match op.vectorized() {
            Some(f) => {
                let mut y = x.clone();
                kernels::math_in_place(f, y.as_mut_slice());
                y
            }
            None => {
                let y = kernels::map1_new(x.as_slice(), |v| op.f(v));
                Tensor::from_parts(y, x.dims_owned())
            }
        }
    }
    fn bwd(op: &O, x: &Tensor<T>, y: &Tensor<T>, dy: Tensor<T>) -> Tensor<T> {
        check_shape("pointwise backward", "cotangent", x.shape(), dy.shape());
        times_partial(dy, x, y, |x, y| op.df(x, y))
    }
    fn jvp(op: &O, x: &Tensor<T>, y: &Tensor<T>, dx: &Tensor<T>) -> Tensor<T> {
        check_shape("pointwise tangent", "tangent", x.shape(), dx.shape());
        times_partial(dx.clone(), x, y, |x, y| op.df(x, y))
    }
}

/// `d ⊙ p(x, y)` in `d`'s buffer: a cotangent or tangent of `x`'s shape times the partial
/// derivative `p` read from the input `x` and the output `y` at each element.
fn times_partial<T: Real>(
    mut d: Tensor<T>,
    x: &Tensor<T>,
    y: &Tensor<T>,
    p: impl Fn(T, T) -> T + Sync + Send,
) -> Tensor<T> {
    kernels::map3_in_place(d.as_mut_slice(), x.as_slice(), y.as_slice(), |d, x, y| {
        d * p(x, y)
    });
    d
}

/// `∂y/∂a` (`first`) or `∂y/∂b` at every output element, times `d` (the output cotangent,
/// or the tangent broadcast to the output's shape), in `d`'s buffer.
fn partial_times<T: Real, O: ScalarBinary<T> + Sync>(
    op: &O,
    first: bool,
    a: &Tensor<T>,
    b: &Tensor<T>,
    y: &Tensor<T>,
    mut d: Tensor<T>,
) -> Tensor<T> {
    // Operands already of the output's shape (the common case) are read in place.
    let stretch = |x: &Tensor<T>| -> Tensor<T> { broadcast_to(x, y.shape()) };
    let a_full;
    let a = if same_shape(a.shape(), y.shape()) {
        a
    } else {
        a_full = stretch(a);
        &a_full
    };
    let b_full;
    let b = if same_shape(b.shape(), y.shape()) {
        b
    } else {
        b_full = stretch(b);
        &b_full
    };
    let out = d.as_mut_slice();
    if first {
        kernels::map4_in_place(
            out,
            a.as_slice(),
            b.as_slice(),
            y.as_slice(),
            |d, a, b, y| d * op.d0(a, b, y),
        );
    } else {
        kernels::map4_in_place(
            out,
            a.as_slice(),
            b.as_slice(),
            y.as_slice(),
            |d, a, b, y| d * op.d1(a, b, y),
        );
    }
    d
}

/// `y = op(a, b)` elementwise with broadcasting, for each elementwise marker `op` (listed,
/// not generic, so that `Matmul` and `Dot` can have their own tensor rules). Backward:
/// `da = unbroadcast(dy ⊙ ∂y/∂a)`, `db = unbroadcast(dy ⊙ ∂y/∂b)`; tangent: `∂y/∂a ⊙ da`
/// (`da` broadcast to `y`'s shape).
macro_rules! binary_tensor {
    ($($O:ident)*) => {$(
impl<T: Real> Binary<$O, Tensor<T>> for Tensor<T> {
    type Output = Tensor<T>;
    fn fwd(op: &$O, a: &Tensor<T>, b: &Tensor<T>) -> Tensor<T> {
        broadcast_zip("binary op", a, b, |a, b| op.f(a, b))
    }
    fn bwd_0(op: &$O, a: &Tensor<T>, b: &Tensor<T>, y: &Tensor<T>, dy: Tensor<T>) -> Tensor<T> {
        check_shape("binary backward", "cotangent", y.shape(), dy.shape());
        unbroadcast(partial_times(op, true, a, b, y, dy), a.shape())
    }
    fn bwd_1(op: &$O, a: &Tensor<T>, b: &Tensor<T>, y: &Tensor<T>, dy: Tensor<T>) -> Tensor<T> {
        check_shape("binary backward", "cotangent", y.shape(), dy.shape());
        unbroadcast(partial_times(op, false, a, b, y, dy), b.shape())
    }
    fn jvp_0(op: &$O, a: &Tensor<T>, b: &Tensor<T>, y: &Tensor<T>, da: &Tensor<T>) -> Tensor<T> {
        check_shape("binary tangent", "tangent", a.shape(), da.shape());
        partial_times(op, true, a, b, y, broadcast_to(da, y.shape()))
    }
    fn jvp_1(op: &$O, a: &Tensor<T>, b: &Tensor<T>, y: &Tensor<T>, db: &Tensor<T>) -> Tensor<T> {
        check_shape("binary tangent", "tangent", b.shape(), db.shape());
        partial_times(op, false, a, b, y, broadcast_to(db, y.shape()))
    }
}

/// `tensor ⊗ scalar`: the scalar is read in every element's partial, never broadcast to a
/// buffer; its cotangent is the sum over `y` of `dy ⊙ ∂y/∂b`.
impl<T: Real> Binary<$O, T> for Tensor<T> {
    type Output = Tensor<T>;
    fn fwd(op: &$O, a: &Tensor<T>, b: &T) -> Tensor<T> {
        let b = *b;
        let y = kernels::map1_new(a.as_slice(), |a| op.f(a, b));
        Tensor::from_parts(y, a.dims_owned())
    }
    fn bwd_0(op: &$O, a: &Tensor<T>, b: &T, y: &Tensor<T>, dy: Tensor<T>) -> Tensor<T> {
        check_shape("binary backward", "cotangent", y.shape(), dy.shape());
        let b = *b;
        times_partial(dy, a, y, |a, y| op.d0(a, b, y))
    }
    fn bwd_1(op: &$O, a: &Tensor<T>, b: &T, y: &Tensor<T>, dy: Tensor<T>) -> T {
        check_shape("binary backward", "cotangent", y.shape(), dy.shape());
        let b = *b;
        kernels::sum(times_partial(dy, a, y, |a, y| op.d1(a, b, y)).as_slice())
    }
    fn jvp_0(op: &$O, a: &Tensor<T>, b: &T, y: &Tensor<T>, da: &Tensor<T>) -> Tensor<T> {
        check_shape("binary tangent", "tangent", a.shape(), da.shape());
        let b = *b;
        times_partial(da.clone(), a, y, |a, y| op.d0(a, b, y))
    }
    fn jvp_1(op: &$O, a: &Tensor<T>, b: &T, y: &Tensor<T>, db: &T) -> Tensor<T> {
        let (b, db) = (*b, *db);
        let out = kernels::map2_new(a.as_slice(), y.as_slice(), |a, y| op.d1(a, b, y) * db);
        Tensor::from_parts(out, y.dims_owned())
    }
}

/// `scalar ⊗ tensor`: as `tensor ⊗ scalar`, the scalar on the left.
impl<T: Real> Binary<$O, Tensor<T>> for T {
    type Output = Tensor<T>;
    fn fwd(op: &$O, a: &T, b: &Tensor<T>) -> Tensor<T> {
        let a = *a;
        let y = kernels::map1_new(b.as_slice(), |b| op.f(a, b));
        Tensor::from_parts(y, b.dims_owned())
    }
    fn bwd_0(op: &$O, a: &T, b: &Tensor<T>, y: &Tensor<T>, dy: Tensor<T>) -> T {
        check_shape("binary backward", "cotangent", y.shape(), dy.shape());
        let a = *a;
        kernels::sum(times_partial(dy, b, y, |b, y| op.d0(a, b, y)).as_slice())
    }
    fn bwd_1(op: &$O, a: &T, b: &Tensor<T>, y: &Tensor<T>, dy: Tensor<T>) -> Tensor<T> {
        check_shape("binary backward", "cotangent", y.shape(), dy.shape());
        let a = *a;
        times_partial(dy, b, y, |b, y| op.d1(a, b, y))
    }
    fn jvp_0(op: &$O, a: &T, b: &Tensor<T>, y: &Tensor<T>, da: &T) -> Tensor<T> {
        let (a, da) = (*a, *da);
        let out = kernels::map2_new(b.as_slice(), y.as_slice(), |b, y| op.d0(a, b, y) * da);
        Tensor::from_parts(out, y.dims_owned())
    }
    fn jvp_1(op: &$O, a: &T, b: &Tensor<T>, y: &Tensor<T>, db: &Tensor<T>) -> Tensor<T> {
        check_shape("binary tangent", "tangent", b.shape(), db.shape());
        let a = *a;
        times_partial(db.clone(), b, y, |b, y| op.d1(a, b, y))
    }
}
    )*};
}

binary_tensor!(Mul Div Powf Max Min Atan2 Hypot);

/// `dy ⊙ x` (`x` broadcast to `dy`'s shape), in `dy`'s buffer when the shapes agree. `dy`
/// must have the product's shape: that of `other` broadcast with `x`.
fn times_other<T: Real>(mut dy: Tensor<T>, other: &[usize], x: &Tensor<T>) -> Tensor<T> {
    let y = broadcast_or_panic("product backward", other, x.shape());
    check_shape("product backward", "cotangent", &y, dy.shape());
    if same_shape(dy.shape(), x.shape()) {
        kernels::map2_in_place(dy.as_mut_slice(), x.as_slice(), |d, x| d * x);
        dy
    } else {
        broadcast_zip("product backward", &dy, x, |d, x| d * x)
    }
}

/// `a * b` elementwise: `da = unbroadcast(dy ⊙ b)` from `b` and `a`'s shape alone.
impl<T: Real> Bilinear<Mul, Tensor<T>> for Tensor<T> {
    fn bwd_0_by(_: &Mul, a: &Dims, b: &Tensor<T>, dy: Tensor<T>) -> Tensor<T> {
        unbroadcast(times_other(dy, a, b), a)
    }
    fn bwd_1_by(_: &Mul, a: &Tensor<T>, b: &Dims, dy: Tensor<T>) -> Tensor<T> {
        unbroadcast(times_other(dy, b, a), b)
    }
}

/// `t * t`: `dy ⊙ 2t`, one pass over the cotangent's own buffer (the two partials' sum has
/// the same bits: doubling is exact).
impl<T: Real> SquareBwd<Mul> for Tensor<T> {
    fn bwd_square(_: &Mul, a: &Tensor<T>, mut dy: Tensor<T>) -> Tensor<T> {
        check_shape("square backward", "cotangent", a.shape(), dy.shape());
        let two = T::from_f64(2.0);
        kernels::map2_in_place(dy.as_mut_slice(), a.as_slice(), |d, x| d * (two * x));
        dy
    }
}

/// `tensor * scalar`: `da = s·dy`, `ds = Σ dy ⊙ a`.
impl<T: Real> Bilinear<Mul, T> for Tensor<T> {
    fn bwd_0_by(_: &Mul, a: &Dims, s: &T, mut dy: Tensor<T>) -> Tensor<T> {
        check_shape("product backward", "cotangent", a, dy.shape());
        let s = *s;
        kernels::map1_in_place(dy.as_mut_slice(), |d| d * s);
        dy
    }
    fn bwd_1_by(_: &Mul, a: &Tensor<T>, _: &PhantomData<T>, dy: Tensor<T>) -> T {
        check_shape("product backward", "cotangent", a.shape(), dy.shape());
        kernels::dot(dy.as_slice(), a.as_slice())
    }
}

/// `scalar * tensor`: as `tensor * scalar`, the scalar on the left.
impl<T: Real> Bilinear<Mul, Tensor<T>> for T {
    fn bwd_0_by(_: &Mul, _: &PhantomData<T>, b: &Tensor<T>, dy: Tensor<T>) -> T {
        check_shape("product backward", "cotangent", b.shape(), dy.shape());
        kernels::dot(dy.as_slice(), b.as_slice())
    }
    fn bwd_1_by(_: &Mul, s: &T, b: &Dims, mut dy: Tensor<T>) -> Tensor<T> {
        check_shape("product backward", "cotangent", b, dy.shape());
        let s = *s;
        kernels::map1_in_place(dy.as_mut_slice(), |d| s * d);
        dy
    }
}

/// The shape a linear rule saves for an operand of a tensor op: a tensor's [`Dims`], or
/// `PhantomData` for a scalar, whose cotangent is the sum of the reduced tensor.
pub trait OperandShape<T: Real>: Clone {
    /// The operand's cotangent type.
    type Cotangent;
    /// The dims (`[]` for a scalar).
    fn dims(&self) -> &[usize];
    /// This operand's cotangent from a tensor already reduced to [`Self::dims`].
    fn from_reduced(t: Tensor<T>) -> Self::Cotangent;
    /// This operand's tangent as a tensor.
    fn tangent_tensor(t: &Self::Cotangent) -> Tensor<T>;
}

impl<T: Real> OperandShape<T> for Dims {
    type Cotangent = Tensor<T>;
    fn dims(&self) -> &[usize] {
        self
    }
    fn from_reduced(t: Tensor<T>) -> Tensor<T> {
        t
    }
    fn tangent_tensor(t: &Tensor<T>) -> Tensor<T> {
        t.clone()
    }
}

impl<T: Real> OperandShape<T> for PhantomData<T> {
    type Cotangent = T;
    fn dims(&self) -> &[usize] {
        &[]
    }
    fn from_reduced(t: Tensor<T>) -> T {
        t.item()
    }
    fn tangent_tensor(t: &T) -> Tensor<T> {
        Tensor::scalar(*t)
    }
}

/// A tensor or scalar operand seen as a tensor (a scalar as a 0-d tensor).
trait AsTensor<T: Real> {
    fn tensor(&self) -> Cow<'_, Tensor<T>>;
}

impl<T: Real> AsTensor<T> for Tensor<T> {
    fn tensor(&self) -> Cow<'_, Tensor<T>> {
        Cow::Borrowed(self)
    }
}

impl<T: Real> AsTensor<T> for T {
    fn tensor(&self) -> Cow<'_, Tensor<T>> {
        Cow::Owned(Tensor::scalar(*self))
    }
}

/// `y = a ± b` with broadcasting. Transposes: `da = unbroadcast(dy)`,
/// `db = ±unbroadcast(dy)`; tangents: `da` (or `±db`) broadcast to `y`'s shape.
macro_rules! linear_binary_tensor {
    ($($op:ident $name:literal $negate:literal: $A:ty, $B:ty;)*) => {$(
        impl<T: Real> LinearBinary<$op, $B> for $A {
            type Output = Tensor<T>;
            fn fwd(_: &$op, a: &$A, b: &$B) -> Tensor<T> {
                broadcast_zip($name, &a.tensor(), &b.tensor(), |x, y| if $negate { x - y } else { x + y })
            }
            fn bwd_0(_: &$op, a: &<$A as Shaped>::Shape, _: &<$B as Shaped>::Shape, dy: Tensor<T>) -> TangentOf<$A> {
                <<$A as Shaped>::Shape as OperandShape<T>>::from_reduced(unbroadcast(dy, OperandShape::<T>::dims(a)))
            }
            fn bwd_1(_: &$op, _: &<$A as Shaped>::Shape, b: &<$B as Shaped>::Shape, dy: Tensor<T>) -> TangentOf<$B> {
                let db = unbroadcast(dy, OperandShape::<T>::dims(b));
                <<$B as Shaped>::Shape as OperandShape<T>>::from_reduced(if $negate { -db } else { db })
            }
            fn jvp_0(_: &$op, a: &<$A as Shaped>::Shape, b: &<$B as Shaped>::Shape, da: &TangentOf<$A>) -> Tensor<T> {
                let shape = broadcast_or_panic($name, OperandShape::<T>::dims(a), OperandShape::<T>::dims(b));
                check_shape($name, "tangent", OperandShape::<T>::dims(a), <<$A as Shaped>::Shape as OperandShape<T>>::tangent_tensor(da).shape());
                broadcast_to(&<<$A as Shaped>::Shape as OperandShape<T>>::tangent_tensor(da), &shape)
            }
            fn jvp_1(_: &$op, a: &<$A as Shaped>::Shape, b: &<$B as Shaped>::Shape, db: &TangentOf<$B>) -> Tensor<T> {
                let shape = broadcast_or_panic($name, OperandShape::<T>::dims(a), OperandShape::<T>::dims(b));
                let db = <<$B as Shaped>::Shape as OperandShape<T>>::tangent_tensor(db);
                check_shape($name, "tangent", OperandShape::<T>::dims(b), db.shape());
                let d = broadcast_to(&db, &shape);
                if $negate { -d } else { d }
            }
        }
    )*};
}

linear_binary_tensor! {
    Add "add" false: Tensor<T>, Tensor<T>;
    Add "add" false: Tensor<T>, T;
    Add "add" false: T, Tensor<T>;
    Sub "sub" true: Tensor<T>, Tensor<T>;
    Sub "sub" true: Tensor<T>, T;
    Sub "sub" true: T, Tensor<T>;
}

/// `y = -x`; transpose `dx = -dy` in `dy`'s buffer.
impl<T: Real> Linear<Neg> for Tensor<T> {
    type Output = Tensor<T>;
    fn fwd(_: &Neg, x: &Tensor<T>) -> Tensor<T> {
        -x
    }
    fn bwd(_: &Neg, x: &Dims, dy: Tensor<T>) -> Tensor<T> {
        check_shape("neg backward", "cotangent", x, dy.shape());
        -dy
    }
    fn jvp(_: &Neg, x: &Dims, dx: &Tensor<T>) -> Tensor<T> {
        check_shape("neg tangent", "tangent", x, dx.shape());
        -dx
    }
}
