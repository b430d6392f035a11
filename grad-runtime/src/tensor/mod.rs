//! `Tensor<T>`: a contiguous row-major n-dimensional array of `f32` or `f64`, and its shape rules.

mod construct;
mod fmt;
mod methods;
#[cfg(feature = "ndarray")]
mod ndarray;
mod ops;
pub(crate) mod pool;
#[cfg(feature = "serde")]
mod serde;
pub(crate) mod shape;

use crate::real::Real;
use smallvec::SmallVec;

pub use methods::Operand;
pub use pool::{kept_buffer_bytes, release_buffers};
pub use shape::broadcast_shapes;

/// A tensor's dimensions, stored inline up to rank 4 (so saving a shape for a linear rule
/// does not allocate).
pub type Dims = SmallVec<[usize; 4]>;

/// An n-dimensional array of `f32` or `f64` in contiguous row-major storage.
///
/// Construct with [`Tensor::from_vec`], [`Tensor::zeros`], [`Tensor::randn`], `From` an
/// array or a `Vec`; combine with `+ - * /` (numpy broadcasting, scalars on either side,
/// on owned values or references) and the methods named as the primitives of
/// `#[differentiable]` code (`exp`, `sum`, `matmul`, `softmax`, ...). Shape errors in
/// operations panic with a message naming the operation and both shapes; constructors
/// from user data return [`ShapeError`]. `clone` copies the data.
///
/// Buffers of 128 KiB and more are recycled: a dropped tensor's buffer is kept by its
/// thread (at most 16 buffers, 256 MiB) for the next tensor that fits, since fresh large
/// allocations cost a page fault per 4 KiB on first touch. [`release_buffers`] frees them.
///
/// ```
/// use grad::{Tensor, differentiable};
///
/// // A (2, 3) matrix plus a (3,) row, broadcast as numpy does, then times a scalar.
/// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
/// let row = Tensor::from([10.0f32, 20.0, 30.0]);
/// let y = (&x + &row) * 2.0;
/// assert_eq!(y.shape(), &[2, 3]);
/// assert_eq!(y.to_vec(), vec![22.0, 44.0, 66.0, 28.0, 50.0, 72.0]);
/// // Data that does not fit the shape is an error, not a panic.
/// assert!(Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[2, 2]).is_err());
///
/// // The same methods inside a differentiable function: d/dw Σ (x·w)² = 2 xᵀ(x·w).
/// #[differentiable(wrt(w))]
/// fn energy(x: &Tensor<f64>, w: &Tensor<f64>) -> f64 {
///     x.matmul(w).powi(2).sum()
/// }
/// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// let w = Tensor::from([1.0, -1.0]);
/// let (e, dw) = energy_grad(&x, &w);
/// // x·w = [-1, -1], so e = 2 and dw = 2 xᵀ[-1, -1] = [-8, -12].
/// assert_eq!(e, 2.0);
/// assert_eq!(dw.to_vec(), vec![-8.0, -12.0]);
/// ```
#[derive(PartialEq)]
pub struct Tensor<T: Real = f32> {
    data: Vec<T>,
    shape: Dims,
}

impl<T: Real> Clone for Tensor<T> {
    fn clone(&self) -> Self {
        Tensor {
            data: pool::copied(&self.data),
            shape: self.dims_owned(),
        }
    }
}

/// The empty vector, shape `[0]`, as `Vec::default()` is empty: a placeholder that
/// allocates nothing (an early `return` from a tensor-valued function is written with one).
///
/// ```
/// use grad::Tensor;
/// let t = Tensor::<f64>::default();
/// assert_eq!((t.shape(), t.to_vec()), (&[0][..], vec![]));
/// ```
impl<T: Real> Default for Tensor<T> {
    fn default() -> Self {
        Tensor {
            data: Vec::new(),
            shape: [0].into_iter().collect(),
        }
    }
}

impl<T: Real> Drop for Tensor<T> {
    fn drop(&mut self) {
        pool::give(std::mem::take(&mut self.data));
    }
}

/// A shape that does not fit the data or the operation, from a constructor
/// ([`Tensor::from_vec`], [`Tensor::from_slice`], conversions from `ndarray`); its message
/// names the operation and both shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    op: &'static str,
    message: String,
}

impl ShapeError {
    pub(crate) fn new(op: &'static str, message: String) -> Self {
        ShapeError { op, message }
    }
}

impl core::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.op, self.message)
    }
}

impl std::error::Error for ShapeError {}

impl<T: Real> Tensor<T> {
    /// The tensor's dimensions (`[]` for a scalar tensor).
    #[inline]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of dimensions.
    #[inline]
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor has no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements in row-major order.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The elements in row-major order, mutably.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// A copy of the elements in row-major order.
    pub fn to_vec(&self) -> Vec<T> {
        self.data.clone()
    }

    /// The elements in row-major order, without copying.
    pub fn into_vec(mut self) -> Vec<T> {
        std::mem::take(&mut self.data)
    }

    /// The only element.
    ///
    /// # Panics
    /// If the tensor does not have exactly one element.
    pub fn item(&self) -> T {
        assert!(
            self.data.len() == 1,
            "item: a tensor of shape {:?} has {} elements, not 1",
            self.shape(),
            self.data.len()
        );
        self.data[0]
    }

    /// The element at `index` (one coordinate per dimension); in `#[differentiable]` code a
    /// primitive, whose gradient is zero but at `index`.
    ///
    /// ```
    /// use grad::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// assert_eq!(x.get(&[1, 0]), 4.0);
    /// ```
    ///
    /// # Panics
    /// If `index` has the wrong length or a coordinate is out of range.
    pub fn get(&self, index: &[usize]) -> T {
        crate::rules::op::Get(index).fwd(self)
    }

    /// An owned copy of the shape. `Dims::clone` goes through `SmallVec`'s generic
    /// `extend`, element by element with a capacity check each; `from_slice` copies the
    /// `usize`s at once, which the per-call cost of small tensors shows (T1: 8% of its
    /// gradient was shape clones).
    #[inline]
    pub(crate) fn dims_owned(&self) -> Dims {
        Dims::from_slice(&self.shape)
    }

    /// A tensor from parts already known to agree.
    pub(crate) fn from_parts(data: Vec<T>, shape: Dims) -> Self {
        debug_assert_eq!(data.len(), shape.iter().product::<usize>());
        Tensor { data, shape }
    }

    /// The same data under another shape with the same element count.
    pub(crate) fn with_shape(mut self, shape: &[usize]) -> Self {
        debug_assert_eq!(self.data.len(), shape.iter().product::<usize>());
        self.shape = Dims::from_slice(shape);
        self
    }
}
