//! A field's tangent in generated code, where the field may be `#[no_grad]`.
//!
//! The macro sees `self.scale` and knows neither the field's type nor whether the derive
//! marked it `#[no_grad]`, which gives it the tangent `()` whatever its value's type. The
//! two helpers here pick at compile time, by the auto-reference rule of method lookup (as
//! [`KeepZeros`](super::zeros::KeepZeros) does): a `()` tangent field takes no
//! contribution and has a zero tangent of the value's type; any other field is what it
//! always was, `accumulate(&mut d.field, c)` and `d.field.clone()`.

use core::cell::Cell;

use super::support::Accumulate;
use crate::differentiable::Differentiable;

/// The adjoint of a field, to add a contribution to:
/// `(&IntoField::new(&mut d.scale)).add(c)`.
pub struct IntoField<'a, T>(Cell<Option<&'a mut T>>);

impl<'a, T> IntoField<'a, T> {
    /// The place `&mut d.field`.
    #[inline(always)]
    pub fn new(place: &'a mut T) -> Self {
        IntoField(Cell::new(Some(place)))
    }
}

/// The preferred add: a `#[no_grad]` field's adjoint is `()` and drops every contribution.
pub trait IntoNoGradField {
    /// Drops `contribution`.
    #[inline(always)]
    fn add<C>(&self, contribution: C) {
        let _ = contribution;
    }
}

impl IntoNoGradField for IntoField<'_, ()> {}

/// The fallback add, one auto-reference further: `*place += contribution`.
pub trait IntoTangentField<C> {
    /// Adds `contribution` to the field's adjoint.
    fn add(&self, contribution: C);
}

impl<T: Accumulate<C>, C> IntoTangentField<C> for &IntoField<'_, T> {
    #[inline(always)]
    fn add(&self, contribution: C) {
        if let Some(place) = self.0.take() {
            place.accumulate(contribution);
        }
    }
}

/// A field's tangent in forward mode, from the tangent struct's field and the value's
/// field: `(&FieldTangent(&dx.scale, &x.scale)).get()`.
pub struct FieldTangent<'a, T, V: ?Sized>(pub &'a T, pub &'a V);

/// The preferred read: a `#[no_grad]` field moves with a zero tangent of its value's type.
pub trait NoGradFieldTangent<V: Differentiable + ?Sized> {
    /// The value's zero tangent.
    fn get(&self) -> V::Tangent;
}

impl<V: Differentiable + ?Sized> NoGradFieldTangent<V> for FieldTangent<'_, (), V> {
    #[inline(always)]
    fn get(&self) -> V::Tangent {
        self.1.zero_tangent()
    }
}

/// The fallback read, one auto-reference further: the tangent struct's field.
pub trait TangentField<T> {
    /// A copy of the field's tangent.
    fn get(&self) -> T;
}

impl<T: Clone, V: ?Sized> TangentField<T> for &FieldTangent<'_, T, V> {
    #[inline(always)]
    fn get(&self) -> T {
        self.0.clone()
    }
}

// Written as generated code writes them: the extra `&` is what makes the choice.
#[cfg(test)]
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[test]
    fn no_grad_fields_drop_contributions_and_move_with_zeros() {
        let mut unit = ();
        (&IntoField::new(&mut unit)).add(2.5f64);
        let mut d = 1.0f64;
        (&IntoField::new(&mut d)).add(2.5f64);
        assert_eq!(d, 3.5);
        let mut row = vec![1.0f64, 2.0];
        (&IntoField::new(&mut row)).add(vec![0.5, 0.25]);
        assert_eq!(row, [1.5, 2.25]);

        let value = [4.0f64, 5.0];
        assert_eq!((&FieldTangent(&(), &value)).get(), [0.0, 0.0]);
        assert_eq!((&FieldTangent(&[1.0, 2.0], &value)).get(), [1.0, 2.0]);
        assert_eq!((&FieldTangent(&(), &3.0f64)).get(), 0.0);
    }
}
