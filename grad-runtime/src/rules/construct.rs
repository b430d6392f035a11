//! Tensors built from differentiated values: `Tensor::from_vec(v, &shape).unwrap()` and
//! `Tensor::from_slice(&v, &shape).unwrap()` (or `.expect("..")`) of differentiated
//! scalars, `Tensor::from(v)` of a `Vec` or an array of them, and `Tensor::scalar(x)`;
//! and `a.mul_add(b, c)`, a float method of three operands.
//!
//! The derivatives move entries between the tensor and the data: the pullback hands the
//! cotangent's buffer back as the data's cotangent (a `Vec`, as for any slice or `Vec`
//! parameter), and the tangent is the data's tangent laid out in the same shape.

use super::tensor::check_shape;
use crate::differentiable::NoTangent;
use crate::real::Real;
use crate::tensor::Tensor;

/// `Tensor::from_vec(data, shape)` unwrapped, in differentiable code: a shape error panics
/// with `what` (the message of the `expect` written, or `unwrap`'s) and the error, which
/// names `from_vec` and both sizes.
pub fn tensor_from_vec<T: Real>(data: Vec<T>, shape: &[usize], what: &str) -> Tensor<T> {
    Tensor::from_vec(data, shape).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// [`tensor_from_vec`]'s value and pullback: the cotangent's entries, moved into a `Vec`.
///
/// ```
/// use grad::{NoTangent, Tensor};
/// use grad::__private::tensor_from_vec_vjp;
/// let (y, back) = tensor_from_vec_vjp(vec![1.0, 2.0, 3.0, 4.0], &[2, 2], "unwrap");
/// assert_eq!(y.shape(), &[2, 2]);
/// let (d, NoTangent, NoTangent) = back(Tensor::from_vec(vec![5.0, 6.0, 7.0, 8.0], &[2, 2]).unwrap());
/// assert_eq!(d, vec![5.0, 6.0, 7.0, 8.0]);
/// ```
///
/// # Panics
/// As [`tensor_from_vec`]; the pullback, if the cotangent has not the tensor's shape.
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
pub fn tensor_from_vec_vjp<T: Real>(
    data: Vec<T>,
    shape: &[usize],
    what: &str,
) -> (
    Tensor<T>,
    impl FnOnce(Tensor<T>) -> (Vec<T>, NoTangent, NoTangent) + use<T>,
) {
    let y = tensor_from_vec(data, shape, what);
    let dims = y.dims_owned();
    (y, move |dy: Tensor<T>| {
        check_shape("from_vec backward", "cotangent", &dims, dy.shape());
        (dy.into_vec(), NoTangent, NoTangent)
    })
}

/// [`tensor_from_vec`]'s value and tangent: the data's tangent in the same shape.
///
/// # Panics
/// As [`tensor_from_vec`]; also if the tangent's length is not the data's.
pub fn tensor_from_vec_jvp<T: Real>(
    data: Vec<T>,
    shape: &[usize],
    what: &str,
    ddata: Vec<T>,
    _: NoTangent,
    _: NoTangent,
) -> (Tensor<T>, Tensor<T>) {
    same_length("from_vec tangent", data.len(), ddata.len());
    let y = tensor_from_vec(data, shape, what);
    let dy = Tensor::from_parts(ddata, y.dims_owned());
    (y, dy)
}

/// `Tensor::from_slice(data, shape)` unwrapped, in differentiable code (see
/// [`tensor_from_vec`]).
pub fn tensor_from_slice<T: Real>(data: &[T], shape: &[usize], what: &str) -> Tensor<T> {
    Tensor::from_slice(data, shape).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// [`tensor_from_slice`]'s value and pullback: the cotangent's entries, moved into a `Vec`
/// (a slice's cotangent).
///
/// # Panics
/// As [`tensor_from_slice`]; the pullback, if the cotangent has not the tensor's shape.
#[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
pub fn tensor_from_slice_vjp<T: Real>(
    data: &[T],
    shape: &[usize],
    what: &str,
) -> (
    Tensor<T>,
    impl FnOnce(Tensor<T>) -> (Vec<T>, NoTangent, NoTangent) + use<T>,
) {
    let y = tensor_from_slice(data, shape, what);
    let dims = y.dims_owned();
    (y, move |dy: Tensor<T>| {
        check_shape("from_slice backward", "cotangent", &dims, dy.shape());
        (dy.into_vec(), NoTangent, NoTangent)
    })
}

/// [`tensor_from_slice`]'s value and tangent: the data's tangent in the same shape.
///
/// # Panics
/// As [`tensor_from_slice`]; also if the tangent's length is not the data's.
pub fn tensor_from_slice_jvp<T: Real>(
    data: &[T],
    shape: &[usize],
    what: &str,
    ddata: &[T],
    _: NoTangent,
    _: NoTangent,
) -> (Tensor<T>, Tensor<T>) {
    same_length("from_slice tangent", data.len(), ddata.len());
    let y = tensor_from_slice(data, shape, what);
    let dy = Tensor::from_parts(ddata.to_vec(), y.dims_owned());
    (y, dy)
}

/// The data `Tensor::from(data)` makes a vector of: a `Vec` or an array of reals, which
/// is its own tangent type.
pub trait TensorData<T: Real>: Into<Tensor<T>> {
    /// The data's cotangent from the vector's.
    fn from_cotangent(dy: Tensor<T>) -> Self;
}

impl<T: Real> TensorData<T> for Vec<T> {
    fn from_cotangent(dy: Tensor<T>) -> Self {
        dy.into_vec()
    }
}

impl<T: Real, const N: usize> TensorData<T> for [T; N] {
    fn from_cotangent(dy: Tensor<T>) -> Self {
        core::array::from_fn(|i| dy.as_slice()[i])
    }
}

/// `Tensor::from(data)` of differentiated data, in differentiable code: a vector.
pub fn tensor_from<T: Real, X: TensorData<T>>(data: X) -> Tensor<T> {
    data.into()
}

/// [`tensor_from`]'s value and pullback: the cotangent's entries as the data's type.
///
/// ```
/// use grad::Tensor;
/// use grad::__private::tensor_from_vjp;
/// let (y, back) = tensor_from_vjp([1.0, 2.0]);
/// assert_eq!(y.shape(), &[2]);
/// assert_eq!(back(Tensor::from([3.0, 4.0])), [3.0, 4.0]);
/// ```
///
/// # Panics
/// The pullback, if the cotangent has not the vector's shape.
pub fn tensor_from_vjp<T: Real, X: TensorData<T>>(
    data: X,
) -> (Tensor<T>, impl FnOnce(Tensor<T>) -> X) {
    let y: Tensor<T> = data.into();
    let n = y.len();
    (y, move |dy: Tensor<T>| {
        check_shape("from backward", "cotangent", &[n], dy.shape());
        X::from_cotangent(dy)
    })
}

/// [`tensor_from`]'s value and tangent: the data's tangent as a vector.
pub fn tensor_from_jvp<T: Real, X: TensorData<T>>(data: X, ddata: X) -> (Tensor<T>, Tensor<T>) {
    (data.into(), ddata.into())
}

fn same_length(op: &str, data: usize, tangent: usize) {
    assert!(
        data == tangent,
        "{op}: the tangent has {tangent} entries but the data has {data}"
    );
}

impl<T: Real> Tensor<T> {
    /// Value and pullback of [`Tensor::scalar`]: the cotangent's one entry.
    ///
    /// ```
    /// use grad::Tensor;
    /// let (y, back) = Tensor::scalar_vjp(2.5);
    /// assert_eq!(y.shape(), &[] as &[usize]);
    /// assert_eq!(back(Tensor::scalar(4.0)), 4.0);
    /// ```
    ///
    /// # Panics
    /// The pullback, if the cotangent is not a scalar tensor.
    pub fn scalar_vjp(value: T) -> (Tensor<T>, impl FnOnce(Tensor<T>) -> T + use<T>) {
        (Tensor::scalar(value), |dy: Tensor<T>| {
            check_shape("scalar backward", "cotangent", &[], dy.shape());
            dy.as_slice()[0]
        })
    }

    /// Value and tangent of [`Tensor::scalar`]: the tangent as a scalar tensor.
    ///
    /// ```
    /// use grad::Tensor;
    /// let (y, dy) = Tensor::scalar_jvp(2.5, 1.0);
    /// assert_eq!((y.to_vec(), dy.to_vec()), (vec![2.5], vec![1.0]));
    /// ```
    pub fn scalar_jvp(value: T, dvalue: T) -> (Tensor<T>, Tensor<T>) {
        (Tensor::scalar(value), Tensor::scalar(dvalue))
    }
}

/// `a.mul_add(b, c)`, `a * b + c` with one rounding, in differentiable code.
#[inline(always)]
pub fn mul_add<T: Real>(a: T, b: T, c: T) -> T {
    a.mul_add(b, c)
}

/// [`mul_add`]'s value and pullback: `(dy b, dy a, dy)`.
///
/// ```
/// use grad::__private::mul_add_vjp;
/// let (y, back) = mul_add_vjp(2.0, 3.0, 1.0);
/// assert_eq!((y, back(0.5)), (7.0, (1.5, 1.0, 0.5)));
/// ```
#[inline(always)]
pub fn mul_add_vjp<T: Real>(a: T, b: T, c: T) -> (T, impl FnOnce(T) -> (T, T, T)) {
    (a.mul_add(b, c), move |dy: T| (dy * b, dy * a, dy))
}

/// [`mul_add`]'s value and tangent: `da b + a db + dc`.
#[inline(always)]
pub fn mul_add_jvp<T: Real>(a: T, b: T, c: T, da: T, db: T, dc: T) -> (T, T) {
    (a.mul_add(b, c), da * b + a * db + dc)
}
