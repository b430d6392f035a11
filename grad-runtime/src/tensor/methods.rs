//! The inherent methods of tensors, named as the primitives of `#[differentiable]` code;
//! each calls its rule's forward part, so plain code and generated code compute alike.

use super::Tensor;
use crate::real::Real;
use crate::rules::Binary;
use crate::rules::op;

macro_rules! pointwise_methods {
    ($($(#[$doc:meta])* $name:ident: $op:expr;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> Tensor<T> {
            $op.fwd(self)
        }
    )*};
}

impl<T: Real> Tensor<T> {
    pointwise_methods! {
        /// `e^x` elementwise (vectorized, ≤ 2 ulp).
        exp: op::Exp;
        /// `ln x` elementwise (vectorized, ≤ 2 ulp).
        ln: op::Ln;
        /// `√x` elementwise.
        sqrt: op::Sqrt;
        /// `sin x` elementwise.
        sin: op::Sin;
        /// `cos x` elementwise.
        cos: op::Cos;
        /// `tan x` elementwise.
        tan: op::Tan;
        /// `tanh x` elementwise (vectorized, ≤ 4 ulp).
        tanh: op::Tanh;
        /// `|x|` elementwise.
        abs: op::Abs;
        /// `1 / (1 + e^-x)` elementwise (vectorized, ≤ 4 ulp).
        sigmoid: op::Sigmoid;
        /// `max(x, 0)` elementwise.
        relu: op::Relu;
    }

    /// `x^n` elementwise for an integer `n`.
    pub fn powi(&self, n: i32) -> Tensor<T> {
        op::Powi(n).fwd(self)
    }

    /// `x` limited to `[lo, hi]` elementwise.
    pub fn clamp(&self, lo: T, hi: T) -> Tensor<T> {
        op::Clamp(lo, hi).fwd(self)
    }

    /// `x^e` elementwise, `e` a scalar or a tensor (broadcast).
    ///
    /// # Panics
    /// If `other` is a tensor whose shape does not broadcast with `x`'s.
    pub fn powf(&self, other: impl Operand<T>) -> Tensor<T> {
        other.apply(op::Powf, self)
    }

    /// The larger of `x` and `other` elementwise (`other` a scalar or a broadcast tensor);
    /// `x` on ties, so the gradient goes to `x` there.
    ///
    /// # Panics
    /// If `other` is a tensor whose shape does not broadcast with `x`'s.
    pub fn max(&self, other: impl Operand<T>) -> Tensor<T> {
        other.apply(op::Max, self)
    }

    /// The smaller of `x` and `other` elementwise; `x` on ties, so the gradient goes to `x`
    /// there.
    ///
    /// # Panics
    /// If `other` is a tensor whose shape does not broadcast with `x`'s.
    pub fn min(&self, other: impl Operand<T>) -> Tensor<T> {
        other.apply(op::Min, self)
    }

    /// The sum of every element (blocked, pairwise-combined: error `O(log n)` ulp).
    pub fn sum(&self) -> T {
        op::Sum.fwd(self)
    }

    /// The mean of every element (NaN for an empty tensor).
    pub fn mean(&self) -> T {
        op::Mean.fwd(self)
    }

    /// The sum along `axis`, which is removed (numpy's `keepdims=False`).
    ///
    /// ```
    /// use grad::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// assert_eq!(x.sum_axis(0).to_vec(), vec![5.0, 7.0, 9.0]);
    /// assert_eq!(x.sum_axis(1).to_vec(), vec![6.0, 15.0]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is not below `self.ndim()`.
    pub fn sum_axis(&self, axis: usize) -> Tensor<T> {
        op::SumAxis(axis).fwd(self)
    }

    /// The mean along `axis`, which is removed.
    ///
    /// # Panics
    /// If `axis` is not below `self.ndim()`.
    pub fn mean_axis(&self, axis: usize) -> Tensor<T> {
        op::MeanAxis(axis).fwd(self)
    }

    /// The maximum along `axis`, which is removed (NaN where a NaN occurs). In
    /// `#[differentiable]` code the gradient goes to the first maximal element of each slice.
    ///
    /// # Panics
    /// If `axis` is not below `self.ndim()`.
    pub fn max_axis(&self, axis: usize) -> Tensor<T> {
        op::MaxAxis(axis).fwd(self)
    }

    /// The matrix product with numpy's rules for 1-d and 2-d operands: `(m, k)·(k, n)` is
    /// `(m, n)`, `(m, k)·(k)` is `(m)`, `(k)·(k, n)` is `(n)`, and `(k)·(k)` a 0-d tensor.
    ///
    /// ```
    /// use grad::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    /// let v = Tensor::from([1.0, -1.0]);
    /// assert_eq!(a.matmul(&v).to_vec(), vec![-1.0, -1.0]);
    /// assert_eq!(a.matmul(&a).to_vec(), vec![7.0, 10.0, 15.0, 22.0]);
    /// ```
    ///
    /// # Panics
    /// If an operand has more than 2 dimensions or the inner dimensions differ.
    pub fn matmul(&self, other: &Tensor<T>) -> Tensor<T> {
        op::Matmul.fwd(self, other)
    }

    /// The inner product of two 1-d tensors.
    ///
    /// # Panics
    /// If either is not 1-d or their lengths differ.
    pub fn dot(&self, other: &Tensor<T>) -> T {
        op::Dot.fwd(self, other)
    }

    /// The transpose of a 2-d tensor (a copy).
    ///
    /// # Panics
    /// If the tensor is not 2-d.
    pub fn t(&self) -> Tensor<T> {
        op::Transpose.fwd(self)
    }

    /// The transpose of a 2-d tensor (a copy); the same as [`Tensor::t`].
    ///
    /// # Panics
    /// If the tensor is not 2-d.
    pub fn transpose(&self) -> Tensor<T> {
        op::Transpose.fwd(self)
    }

    /// The same elements, in the same row-major order, under `shape` (a copy).
    ///
    /// # Panics
    /// If `shape` has not as many elements as the tensor.
    pub fn reshape(&self, shape: &[usize]) -> Tensor<T> {
        op::Reshape(shape.to_vec()).fwd(self)
    }

    /// The `len` slices along `axis` from `start` on (PyTorch's `narrow`), a copy.
    ///
    /// ```
    /// use grad::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// let y = x.narrow(1, 1, 2);
    /// assert_eq!(y.shape(), &[2, 2]);
    /// assert_eq!(y.to_vec(), vec![2.0, 3.0, 5.0, 6.0]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is out of range or `start + len` exceeds the axis' size.
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Tensor<T> {
        op::Narrow(axis, start, len).fwd(self)
    }

    /// The slices along `axis` at `indices`, in their order (PyTorch's `index_select`; with
    /// `axis` 0 on a table of rows, an embedding lookup). An index may repeat; in
    /// `#[differentiable]` code the gradients of its copies add up.
    ///
    /// ```
    /// use grad::Tensor;
    /// let table = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap();
    /// let rows = table.index_select(0, &[2, 0, 2]);
    /// assert_eq!(rows.shape(), &[3, 2]);
    /// assert_eq!(rows.to_vec(), vec![5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is out of range or an index is not below the axis' size.
    pub fn index_select(&self, axis: usize, indices: &[usize]) -> Tensor<T> {
        op::IndexSelect(axis, indices).fwd(self)
    }

    /// `e^x / Σ e^x` along `axis`, computed stably (the maximum is subtracted first); the
    /// shape is kept.
    ///
    /// ```
    /// use grad::Tensor;
    /// let p = Tensor::<f64>::from([0.0, 2.0_f64.ln()]).softmax(0);
    /// assert!((p.get(&[0]) - 1.0 / 3.0).abs() < 1e-15 && (p.get(&[1]) - 2.0 / 3.0).abs() < 1e-15);
    /// ```
    ///
    /// # Panics
    /// If `axis` is not below `self.ndim()`.
    pub fn softmax(&self, axis: usize) -> Tensor<T> {
        op::Softmax(axis).fwd(self)
    }

    /// `x - ln Σ e^x` along `axis`, computed stably; the shape is kept.
    ///
    /// # Panics
    /// If `axis` is not below `self.ndim()`.
    pub fn log_softmax(&self, axis: usize) -> Tensor<T> {
        op::LogSoftmax(axis).fwd(self)
    }
}

/// The right operand of [`Tensor::powf`], [`Tensor::max`], [`Tensor::min`]: a scalar, or
/// a tensor (owned or borrowed) that broadcasts with the receiver.
pub trait Operand<T: Real> {
    /// `op(x, self)`.
    fn apply<O>(self, op: O, x: &Tensor<T>) -> Tensor<T>
    where
        Tensor<T>: Binary<O, T, Output = Tensor<T>> + Binary<O, Tensor<T>, Output = Tensor<T>>;
}

impl<T: Real> Operand<T> for T {
    fn apply<O>(self, op: O, x: &Tensor<T>) -> Tensor<T>
    where
        Tensor<T>: Binary<O, T, Output = Tensor<T>> + Binary<O, Tensor<T>, Output = Tensor<T>>,
    {
        <Tensor<T> as Binary<O, T>>::fwd(&op, x, &self)
    }
}

impl<T: Real> Operand<T> for &Tensor<T> {
    fn apply<O>(self, op: O, x: &Tensor<T>) -> Tensor<T>
    where
        Tensor<T>: Binary<O, T, Output = Tensor<T>> + Binary<O, Tensor<T>, Output = Tensor<T>>,
    {
        <Tensor<T> as Binary<O, Tensor<T>>>::fwd(&op, x, self)
    }
}

impl<T: Real> Operand<T> for Tensor<T> {
    fn apply<O>(self, op: O, x: &Tensor<T>) -> Tensor<T>
    where
        Tensor<T>: Binary<O, T, Output = Tensor<T>> + Binary<O, Tensor<T>, Output = Tensor<T>>,
    {
        <Tensor<T> as Binary<O, Tensor<T>>>::fwd(&op, x, &self)
    }
}
