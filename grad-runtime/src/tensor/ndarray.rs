//! Conversions between `Tensor<T>` and `ndarray`'s arrays (feature `ndarray`): any array
//! (owned or a view, any rank or layout) into a tensor, a tensor into an `ArrayD`, and into
//! a fixed-rank `Array0`..`Array6` where the ranks agree.

use super::{Dims, ShapeError, Tensor};
use crate::real::Real;
use ndarray::{
    Array, ArrayBase, ArrayD, Data, Dimension, Ix0, Ix1, Ix2, Ix3, Ix4, Ix5, Ix6, IxDyn,
};

/// The array's elements in row-major (logical) order. An owned array in standard layout
/// gives up its buffer; any other array is copied.
impl<T: Real, S: Data<Elem = T>, D: Dimension> From<ArrayBase<S, D>> for Tensor<T> {
    fn from(a: ArrayBase<S, D>) -> Self {
        let shape = Dims::from_slice(a.shape());
        let a = a.into_owned();
        let data = if a.is_standard_layout() {
            let n = a.len();
            let (mut v, offset) = a.into_raw_vec_and_offset();
            let start = offset.unwrap_or(0);
            v.drain(..start);
            v.truncate(n);
            v
        } else {
            a.iter().copied().collect()
        };
        Tensor { data, shape }
    }
}

/// The tensor's shape and row-major data, its buffer moved, not copied.
impl<T: Real> From<Tensor<T>> for ArrayD<T> {
    fn from(t: Tensor<T>) -> Self {
        let shape = t.shape().to_vec();
        ArrayD::from_shape_vec(IxDyn(&shape), t.into_vec())
            .unwrap_or_else(|e| unreachable!("a tensor's data fills its shape: {e}"))
    }
}

/// A copy of the tensor's shape and data.
impl<T: Real> From<&Tensor<T>> for ArrayD<T> {
    fn from(t: &Tensor<T>) -> Self {
        ArrayD::from_shape_vec(IxDyn(t.shape()), t.to_vec())
            .unwrap_or_else(|e| unreachable!("a tensor's data fills its shape: {e}"))
    }
}

/// The error of a conversion into an array of rank `rank` from a tensor of `shape`.
fn rank_error(rank: usize, shape: &[usize]) -> ShapeError {
    ShapeError::new(
        "ndarray conversion",
        format!(
            "a tensor of shape {shape:?} (rank {}) is not a rank-{rank} array",
            shape.len()
        ),
    )
}

macro_rules! fixed_rank {
    ($($ix:ident $rank:literal),*) => {$(
        /// The tensor as an array of this rank (its buffer moved); an error naming both
        /// ranks if the tensor has another.
        impl<T: Real> TryFrom<Tensor<T>> for Array<T, $ix> {
            type Error = ShapeError;
            fn try_from(t: Tensor<T>) -> Result<Self, ShapeError> {
                if t.ndim() != $rank {
                    return Err(rank_error($rank, t.shape()));
                }
                let shape = t.shape().to_vec();
                ArrayD::from(t)
                    .into_dimensionality::<$ix>()
                    .map_err(|_| rank_error($rank, &shape))
            }
        }

        /// A copy of the tensor as an array of this rank; an error naming both ranks if the
        /// tensor has another.
        impl<T: Real> TryFrom<&Tensor<T>> for Array<T, $ix> {
            type Error = ShapeError;
            fn try_from(t: &Tensor<T>) -> Result<Self, ShapeError> {
                if t.ndim() != $rank {
                    return Err(rank_error($rank, t.shape()));
                }
                ArrayD::from(t)
                    .into_dimensionality::<$ix>()
                    .map_err(|_| rank_error($rank, t.shape()))
            }
        }
    )*};
}
fixed_rank!(Ix0 0, Ix1 1, Ix2 2, Ix3 3, Ix4 4, Ix5 5, Ix6 6);
