//! `sin` and `cos` of one value, as generated code pairs them: both from one `sin_cos`
//! evaluation, and each one's backward rule from the other's value (`d sin x = cos x dx`,
//! `d cos x = -sin x dx`), so the reverse sweep evaluates no transcendental again.

use super::TangentOf;
use super::tensor::check_shape;
use crate::differentiable::Differentiable;
use crate::kernels;
use crate::real::Real;
use crate::tensor::Tensor;

/// Values whose `sin` and `cos` generated code computes together.
pub trait SinCos: Differentiable + Sized {
    /// `(sin x, cos x)`.
    fn sin_cos_fwd(&self) -> (Self, Self);
    /// The backward rule of `sin x`, from `cos x`: `dy · cos x`.
    fn sin_bwd_by_cos(cos: &Self, dy: TangentOf<Self>) -> TangentOf<Self>;
    /// The backward rule of `cos x`, from `sin x`: `-dy · sin x`.
    fn cos_bwd_by_sin(sin: &Self, dy: TangentOf<Self>) -> TangentOf<Self>;
    /// The tangent of `sin x`, from `cos x`: `cos x · dx`.
    fn sin_jvp_by_cos(cos: &Self, dx: &TangentOf<Self>) -> TangentOf<Self>;
    /// The tangent of `cos x`, from `sin x`: `-sin x · dx`.
    fn cos_jvp_by_sin(sin: &Self, dx: &TangentOf<Self>) -> TangentOf<Self>;
}

impl<T: Real> SinCos for T {
    #[inline(always)]
    fn sin_cos_fwd(&self) -> (T, T) {
        self.sin_cos()
    }
    #[inline(always)]
    fn sin_bwd_by_cos(cos: &T, dy: T) -> T {
        dy * *cos
    }
    #[inline(always)]
    fn cos_bwd_by_sin(sin: &T, dy: T) -> T {
        -(dy * *sin)
    }
    #[inline(always)]
    fn sin_jvp_by_cos(cos: &T, dx: &T) -> T {
        *cos * *dx
    }
    #[inline(always)]
    fn cos_jvp_by_sin(sin: &T, dx: &T) -> T {
        -(*sin * *dx)
    }
}

impl<T: Real> SinCos for Tensor<T> {
    fn sin_cos_fwd(&self) -> (Tensor<T>, Tensor<T>) {
        let (sin, cos): (Vec<T>, Vec<T>) = self.as_slice().iter().map(|x| x.sin_cos()).unzip();
        (
            Tensor::from_parts(sin, self.dims_owned()),
            Tensor::from_parts(cos, self.dims_owned()),
        )
    }
    fn sin_bwd_by_cos(cos: &Tensor<T>, mut dy: Tensor<T>) -> Tensor<T> {
        check_shape("sin backward", "cotangent", cos.shape(), dy.shape());
        kernels::map2_in_place(dy.as_mut_slice(), cos.as_slice(), |d, c| d * c);
        dy
    }
    fn cos_bwd_by_sin(sin: &Tensor<T>, mut dy: Tensor<T>) -> Tensor<T> {
        check_shape("cos backward", "cotangent", sin.shape(), dy.shape());
        kernels::map2_in_place(dy.as_mut_slice(), sin.as_slice(), |d, s| -(d * s));
        dy
    }
    fn sin_jvp_by_cos(cos: &Tensor<T>, dx: &Tensor<T>) -> Tensor<T> {
        check_shape("sin tangent", "tangent", cos.shape(), dx.shape());
        Self::sin_bwd_by_cos(cos, dx.clone())
    }
    fn cos_jvp_by_sin(sin: &Tensor<T>, dx: &Tensor<T>) -> Tensor<T> {
        check_shape("cos tangent", "tangent", sin.shape(), dx.shape());
        Self::cos_bwd_by_sin(sin, dx.clone())
    }
}

/// `(sin x, cos x)` in one evaluation.
#[inline(always)]
pub fn sin_cos<V: SinCos>(x: &V) -> (V, V) {
    x.sin_cos_fwd()
}

/// The backward rule of `sin x` from `cos x`.
#[inline(always)]
pub fn sin_bwd_by_cos<V: SinCos>(cos: &V, dy: TangentOf<V>) -> TangentOf<V> {
    V::sin_bwd_by_cos(cos, dy)
}

/// The backward rule of `cos x` from `sin x`.
#[inline(always)]
pub fn cos_bwd_by_sin<V: SinCos>(sin: &V, dy: TangentOf<V>) -> TangentOf<V> {
    V::cos_bwd_by_sin(sin, dy)
}

/// The tangent of `sin x` from `cos x`.
#[inline(always)]
pub fn sin_jvp_by_cos<V: SinCos>(cos: &V, dx: &TangentOf<V>) -> TangentOf<V> {
    V::sin_jvp_by_cos(cos, dx)
}

/// The tangent of `cos x` from `sin x`.
#[inline(always)]
pub fn cos_jvp_by_sin<V: SinCos>(sin: &V, dx: &TangentOf<V>) -> TangentOf<V> {
    V::cos_jvp_by_sin(sin, dx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Unary;
    use crate::rules::op::{Cos, Sin};

    #[test]
    fn paired_rules_agree_with_the_single_ones() {
        for x in [-2.5_f64, -0.3, 0.0, 0.7, 3.0] {
            let (s, c) = sin_cos(&x);
            assert_eq!((s, c), (x.sin(), x.cos()));
            let dy = 1.75;
            assert_eq!(sin_bwd_by_cos(&c, dy), Unary::bwd(&Sin, &x, &s, dy));
            assert_eq!(cos_bwd_by_sin(&s, dy), Unary::bwd(&Cos, &x, &c, dy));
            assert_eq!(sin_jvp_by_cos(&c, &dy), Unary::jvp(&Sin, &x, &s, &dy));
            assert_eq!(cos_jvp_by_sin(&s, &dy), Unary::jvp(&Cos, &x, &c, &dy));
        }
        let t = Tensor::from_vec(vec![0.1_f32, -1.2, 2.0, 0.0, 5.5], &[5]).unwrap();
        let (s, c) = sin_cos(&t);
        let dy = Tensor::from_vec(vec![1.0_f32, 2.0, -0.5, 3.0, 0.25], &[5]).unwrap();
        assert_eq!(
            sin_bwd_by_cos(&c, dy.clone()).as_slice(),
            Unary::bwd(&Sin, &t, &s, dy.clone()).as_slice()
        );
        assert_eq!(
            cos_bwd_by_sin(&s, dy.clone()).as_slice(),
            Unary::bwd(&Cos, &t, &c, dy).as_slice()
        );
    }
}
