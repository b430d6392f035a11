//! Free functions usable inside differentiable code, each with its `_vjp` and `_jvp`.

use crate::differentiable::NoTangent;
use crate::real::Real;
use crate::rules::op;

/// `x`'s value with a zero derivative: no gradient flows through it.
///
/// Inside `#[differentiable]` code, `grad::stop_gradient(e)` marks `e` as a constant
/// (PyTorch's `detach`, JAX's `lax.stop_gradient`); outside it, it is the identity. It is
/// also how a call passes an active value where the callee does not differentiate, which
/// is otherwise a compile error.
///
/// ```
/// use grad::{differentiable, stop_gradient};
///
/// #[differentiable]
/// fn f(x: f64) -> f64 {
///     x * stop_gradient(x)
/// }
///
/// // x · c with c = x held constant: df/dx = c = 3, not 2x = 6.
/// assert_eq!(f_grad(3.0), (9.0, 3.0));
/// ```
#[inline(always)]
pub fn stop_gradient<T>(x: T) -> T {
    x
}

macro_rules! scalar_function {
    ($($(#[$doc:meta])* $name:ident $vjp:ident $jvp:ident: $op:expr;)*) => {$(
        $(#[$doc])*
        #[inline(always)]
        pub fn $name<T: Real>(x: T) -> T {
            $op.fwd(&x)
        }

        #[doc = concat!("Value and pullback of [`", stringify!($name), "`].")]
        #[inline(always)]
        pub fn $vjp<T: Real>(x: T) -> (T, impl FnOnce(T) -> T) {
            let y = $op.fwd(&x);
            (y, move |dy| $op.bwd(&x, &y, dy))
        }

        #[doc = concat!("Value and tangent of [`", stringify!($name), "`].")]
        #[inline(always)]
        pub fn $jvp<T: Real>(x: T, dx: T) -> (T, T) {
            let y = $op.fwd(&x);
            (y, $op.jvp(&x, &y, &dx))
        }
    )*};
}

scalar_function! {
    /// `1 / (1 + e^-x)`, computed without overflow; its derivative is `σ(x)(1 - σ(x))`.
    ///
    /// ```
    /// let (y, back) = grad::sigmoid_vjp(0.0f64);
    /// assert_eq!((y, back(1.0)), (0.5, 0.25));
    /// ```
    sigmoid sigmoid_vjp sigmoid_jvp: op::Sigmoid;
    /// `max(x, 0)`, with `relu'(0) = 0`.
    relu relu_vjp relu_jvp: op::Relu;
}

/// `x` limited to `[lo, hi]`; the gradient passes where `lo <= x <= hi`. The bounds are
/// not differentiated.
#[inline(always)]
pub fn clamp<T: Real>(x: T, lo: T, hi: T) -> T {
    op::Clamp(lo, hi).fwd(&x)
}

/// Value and pullback of [`clamp`]; the bounds get [`NoTangent`].
#[inline(always)]
pub fn clamp_vjp<T: Real>(x: T, lo: T, hi: T) -> (T, impl FnOnce(T) -> (T, NoTangent, NoTangent)) {
    let op = op::Clamp(lo, hi);
    let y = op.fwd(&x);
    (y, move |dy| (op.bwd(&x, &y, dy), NoTangent, NoTangent))
}

/// Value and tangent of [`clamp`].
#[inline(always)]
pub fn clamp_jvp<T: Real>(x: T, lo: T, hi: T, dx: T, _: NoTangent, _: NoTangent) -> (T, T) {
    let op = op::Clamp(lo, hi);
    let y = op.fwd(&x);
    (y, op.jvp(&x, &y, &dx))
}
