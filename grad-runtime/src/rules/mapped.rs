//! `a.map(f)` of an array or a nalgebra matrix of differentiated values, in differentiable
//! code. Lowering collects the mapped items into a `Vec` (a loop and `push`es, which it
//! differentiates as any), then [`rebuilt`] puts them back in the receiver's shape: its
//! derivatives move entries between the shaped value and the `Vec`. The receiver's shape
//! travels as a [`Like`], which is not differentiated.
//!
//! ```
//! use grad::NoTangent;
//! use grad::__private::{rebuilt_vjp, shape_like};
//! let a = [1.0f64, 2.0, 3.0];
//! let (y, back) = rebuilt_vjp(shape_like(&a), vec![2.0, 4.0, 6.0]);
//! assert_eq!(y, [2.0, 4.0, 6.0]);
//! assert_eq!(back([1.0, 0.5, 0.25]), (NoTangent, vec![1.0, 0.5, 0.25]));
//! ```

use crate::differentiable::NoTangent;
use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix, Scalar};
use std::marker::PhantomData;

/// The shape of a value that `map` was called on: its type and its dimensions (rows and
/// columns; an array's length is its rows). Not differentiated.
pub struct Like<S> {
    rows: usize,
    cols: usize,
    of: PhantomData<fn() -> S>,
}

impl<S> Clone for Like<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Like<S> {}

impl<S> Like<S> {
    /// The number of items.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<S> core::fmt::Debug for Like<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Like({} x {})", self.rows, self.cols)
    }
}

/// A value whose items `map` maps: an array, or a nalgebra matrix (column by column, as
/// nalgebra's `map` and linear indexing go).
#[diagnostic::on_unimplemented(
    message = "`map` of `{Self}` has no derivative in #[differentiable] code",
    label = "`map` here is an array's or a nalgebra matrix's",
    note = "for an iterator, end the chain where it is made (`.iter().map(..).sum()`, `.collect::<Vec<_>>()`); for an `Option`, match it"
)]
pub trait Mappable {
    /// Rows and columns.
    fn dims(&self) -> (usize, usize);
}

/// A [`Mappable`] whose items can be replaced by `U`s: `[T; N]` by `[U; N]`, a matrix of `T` by
/// the same-shaped matrix of `U`.
pub trait MappedAs<U>: Mappable {
    /// The value of the same shape with items `U`.
    type Out;
    /// The items, in order, in the shape `rows` by `cols`.
    fn rebuild(rows: usize, cols: usize, items: Vec<U>) -> Self::Out;
    /// The items of `out`, in order.
    fn items(out: Self::Out) -> Vec<U>;
}

impl<T, const N: usize> Mappable for [T; N] {
    fn dims(&self) -> (usize, usize) {
        (N, 1)
    }
}

impl<T, U, const N: usize> MappedAs<U> for [T; N] {
    type Out = [U; N];
    fn rebuild(_: usize, _: usize, items: Vec<U>) -> [U; N] {
        let n = items.len();
        items
            .try_into()
            .unwrap_or_else(|_| panic!("map: {n} items for an array of {N}"))
    }
    fn items(out: [U; N]) -> Vec<U> {
        out.into()
    }
}

impl<T: Scalar, R: Dim, C: Dim> Mappable for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    fn dims(&self) -> (usize, usize) {
        self.shape()
    }
}

impl<T: Scalar, U: Scalar, R: Dim, C: Dim> MappedAs<U> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Out = OMatrix<U, R, C>;
    fn rebuild(rows: usize, cols: usize, items: Vec<U>) -> OMatrix<U, R, C> {
        assert_eq!(
            items.len(),
            rows * cols,
            "map: {} items for a {rows} x {cols} matrix",
            items.len()
        );
        OMatrix::from_iterator_generic(R::from_usize(rows), C::from_usize(cols), items)
    }
    fn items(out: OMatrix<U, R, C>) -> Vec<U> {
        out.iter().cloned().collect()
    }
}

/// The shape of `s`, for [`rebuilt`].
pub fn shape_like<S: Mappable>(s: &S) -> Like<S> {
    let (rows, cols) = s.dims();
    Like {
        rows,
        cols,
        of: PhantomData,
    }
}

/// `items` in the shape of `like`: `a.map(f)` once the mapped items are collected.
pub fn rebuilt<S: MappedAs<U>, U>(like: Like<S>, items: Vec<U>) -> S::Out {
    S::rebuild(like.rows, like.cols, items)
}

/// [`rebuilt`]'s value and pullback: the cotangent's items, in order, are the items'.
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
pub fn rebuilt_vjp<S: MappedAs<U>, U>(
    like: Like<S>,
    items: Vec<U>,
) -> (S::Out, impl FnOnce(S::Out) -> (NoTangent, Vec<U>)) {
    (rebuilt(like, items), |d: S::Out| (NoTangent, S::items(d)))
}

/// [`rebuilt`]'s value and tangent: the items' tangent in the same shape.
pub fn rebuilt_jvp<S: MappedAs<U>, U>(
    like: Like<S>,
    items: Vec<U>,
    _: NoTangent,
    ditems: Vec<U>,
) -> (S::Out, S::Out) {
    (rebuilt(like, items), rebuilt(like, ditems))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DVector, Matrix2x3, Vector3};

    #[test]
    fn matrices_rebuild_column_by_column() {
        let m = Matrix2x3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
        let items: Vec<f64> = m.iter().map(|v| v * 10.0).collect();
        let (y, back) = rebuilt_vjp(shape_like(&m), items);
        assert_eq!(y, m.map(|v| v * 10.0));
        assert_eq!(back(m).1, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let d = DVector::from_vec(vec![1.0, 2.0]);
        let (y, dy) = rebuilt_jvp(shape_like(&d), vec![3.0, 4.0], NoTangent, vec![5.0, 6.0]);
        assert_eq!(
            (y, dy),
            (
                DVector::from_vec(vec![3.0, 4.0]),
                DVector::from_vec(vec![5.0, 6.0])
            )
        );
        let v = Vector3::new(1.0, 2.0, 3.0);
        assert_eq!(
            rebuilt(
                shape_like(&v),
                vec![[1.0f64; 2]; 3].into_iter().map(|a| a[0]).collect()
            ),
            Vector3::repeat(1.0)
        );
    }

    #[test]
    fn arrays_change_item_type() {
        let idx = [2usize, 0];
        let y: [f64; 2] = rebuilt(shape_like(&idx), vec![0.5, 1.5]);
        assert_eq!(y, [0.5, 1.5]);
        let (_, back) = rebuilt_vjp(shape_like(&[1.0f64; 0]), Vec::<f64>::new());
        assert_eq!(back([]).1, Vec::<f64>::new());
    }

    #[test]
    #[should_panic(expected = "map: 3 items for an array of 2")]
    fn a_wrong_count_names_both() {
        let _: [f64; 2] = rebuilt(shape_like(&[0.0f64; 2]), vec![1.0, 2.0, 3.0]);
    }
}
