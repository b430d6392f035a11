//! Rules of the reductions: `sum`, `mean` (whole tensor to a scalar) and `sum_axis`,
//! `mean_axis`, `max_axis` (one axis removed, numpy's `keepdims=False`).
//!
//! ```
//! use grad::Tensor;
//! use grad::rules::{ShapeOf, Shaped, op};
//!
//! // sum_axis is linear: its backward part reads only x's shape and spreads dy back
//! // along the removed axis.
//! let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
//! let y = op::SumAxis(1).fwd(&x);
//! assert_eq!(y.to_vec(), vec![6.0, 15.0]);
//! let shape: ShapeOf<Tensor<f64>> = ShapeOf(x.shape_of());
//! let dx = op::SumAxis(1).bwd(&shape, Tensor::from([1.0, 10.0]));
//! assert_eq!(dx.to_vec(), vec![1.0, 1.0, 1.0, 10.0, 10.0, 10.0]);
//! ```

use super::op::{MaxAxis, Mean, MeanAxis, Sum, SumAxis};
use super::tensor::check_shape;
use super::{Linear, UnaryOut};
use crate::kernels;
use crate::real::Real;
use crate::tensor::shape::{axis_split, remove_axis};
use crate::tensor::{Dims, Tensor, pool};

/// `y = Σ x`. Transpose: `dx = dy · 1` (every element gets `dy`); tangent `Σ dx`.
impl<T: Real> Linear<Sum> for Tensor<T> {
    type Output = T;
    fn fwd(_: &Sum, x: &Tensor<T>) -> T {
        kernels::sum(x.as_slice())
    }
    fn bwd(_: &Sum, x: &Dims, dy: T) -> Tensor<T> {
        Tensor::full(x, dy)
    }
    fn bwd_from(_: &Sum, mut x: Tensor<T>, dy: T) -> Tensor<T> {
        x.as_mut_slice().fill(dy);
        x
    }
    fn jvp(_: &Sum, x: &Dims, dx: &Tensor<T>) -> T {
        check_shape("sum tangent", "tangent", x, dx.shape());
        kernels::sum(dx.as_slice())
    }
}

/// `y = Σ x / n`. Transpose: `dx = dy / n` everywhere; tangent `Σ dx / n`.
impl<T: Real> Linear<Mean> for Tensor<T> {
    type Output = T;
    fn fwd(_: &Mean, x: &Tensor<T>) -> T {
        kernels::sum(x.as_slice()) / T::from_f64(x.len() as f64)
    }
    fn bwd(_: &Mean, x: &Dims, dy: T) -> Tensor<T> {
        let n: usize = x.iter().product();
        Tensor::full(x, dy / T::from_f64(n as f64))
    }
    fn bwd_from(_: &Mean, mut x: Tensor<T>, dy: T) -> Tensor<T> {
        let n = T::from_f64(x.len() as f64);
        x.as_mut_slice().fill(dy / n);
        x
    }
    fn jvp(_: &Mean, x: &Dims, dx: &Tensor<T>) -> T {
        check_shape("mean tangent", "tangent", x, dx.shape());
        kernels::sum(dx.as_slice()) / T::from_f64(dx.len() as f64)
    }
}

/// `Σ_k x[o, k, i]` into `out[o, i]`.
fn sum_along<T: Real>(x: &[T], (outer, n, inner): (usize, usize, usize)) -> Vec<T> {
    let mut out = pool::filled(outer * inner, T::ZERO);
    if inner == 1 {
        for (o, row) in out.iter_mut().zip(x.chunks_exact(n.max(1))) {
            *o = if n == 0 { T::ZERO } else { kernels::sum(row) };
        }
        return out;
    }
    for o in 0..outer {
        let acc = &mut out[o * inner..(o + 1) * inner];
        for k in 0..n {
            let row = &x[(o * n + k) * inner..(o * n + k + 1) * inner];
            kernels::map2_in_place(acc, row, |a, v| a + v);
        }
    }
    out
}

/// `dy[o, i] * scale` repeated along the axis `k`: the transpose of `sum_along`.
fn spread_along<T: Real>(dy: &[T], (outer, n, inner): (usize, usize, usize), scale: T) -> Vec<T> {
    let mut out = pool::filled(outer * n * inner, T::ZERO);
    for o in 0..outer {
        let src = &dy[o * inner..(o + 1) * inner];
        for k in 0..n {
            let dst = &mut out[(o * n + k) * inner..(o * n + k + 1) * inner];
            kernels::map1(src, dst, |v| v * scale);
        }
    }
    out
}

/// `y[o, i] = Σ_k x[o, k, i]`. Transpose: `dx[o, k, i] = dy[o, i]`; tangent `sum_axis(dx)`.
impl<T: Real> Linear<SumAxis> for Tensor<T> {
    type Output = Tensor<T>;
    fn fwd(op: &SumAxis, x: &Tensor<T>) -> Tensor<T> {
        let split = axis_split("sum_axis", x.shape(), op.0);
        Tensor::from_parts(sum_along(x.as_slice(), split), remove_axis(x.shape(), op.0))
    }
    fn bwd(op: &SumAxis, x: &Dims, dy: Tensor<T>) -> Tensor<T> {
        check_shape(
            "sum_axis backward",
            "cotangent",
            &remove_axis(x, op.0),
            dy.shape(),
        );
        let split = axis_split("sum_axis", x, op.0);
        Tensor::from_parts(spread_along(dy.as_slice(), split, T::ONE), x.clone())
    }
    fn jvp(op: &SumAxis, x: &Dims, dx: &Tensor<T>) -> Tensor<T> {
        check_shape("sum_axis tangent", "tangent", x, dx.shape());
        <Tensor<T> as Linear<SumAxis>>::fwd(op, dx)
    }
}

/// `y[o, i] = Σ_k x[o, k, i] / n`. Transpose: `dx[o, k, i] = dy[o, i] / n`.
impl<T: Real> Linear<MeanAxis> for Tensor<T> {
    type Output = Tensor<T>;
    fn fwd(op: &MeanAxis, x: &Tensor<T>) -> Tensor<T> {
        let split = axis_split("mean_axis", x.shape(), op.0);
        let mut y = sum_along(x.as_slice(), split);
        let n = T::from_f64(split.1 as f64);
        kernels::map1_in_place(&mut y, |v| v / n);
        Tensor::from_parts(y, remove_axis(x.shape(), op.0))
    }
    fn bwd(op: &MeanAxis, x: &Dims, dy: Tensor<T>) -> Tensor<T> {
        check_shape(
            "mean_axis backward",
            "cotangent",
            &remove_axis(x, op.0),
            dy.shape(),
        );
        let split = axis_split("mean_axis", x, op.0);
        let scale = T::ONE / T::from_f64(split.1 as f64);
        Tensor::from_parts(spread_along(dy.as_slice(), split, scale), x.clone())
    }
    fn jvp(op: &MeanAxis, x: &Dims, dx: &Tensor<T>) -> Tensor<T> {
        check_shape("mean_axis tangent", "tangent", x, dx.shape());
        <Tensor<T> as Linear<MeanAxis>>::fwd(op, dx)
    }
}

/// For every `(o, i)`, the first `k` whose element equals `y[o, i]` (or is NaN when `y` is):
/// where `max_axis` sends its gradient.
fn argmax_along<T: Real>(x: &[T], y: &[T], (outer, n, inner): (usize, usize, usize)) -> Vec<usize> {
    let mut at = vec![0; outer * inner];
    for o in 0..outer {
        for i in 0..inner {
            let m = y[o * inner + i];
            at[o * inner + i] = (0..n)
                .find(|&k| {
                    let v = x[(o * n + k) * inner + i];
                    v == m || (m.is_nan() && v.is_nan())
                })
                .unwrap_or(0);
        }
    }
    at
}

/// `y[o, i] = max_k x[o, k, i]` (NaN if any is NaN). Backward: `dy[o, i]` goes to the first
/// maximal `k` (PyTorch's convention on ties), zero elsewhere; tangent: `dx` at that `k`.
///
/// # Panics
/// If the axis is empty (the maximum of nothing is undefined).
impl<T: Real> UnaryOut<MaxAxis> for Tensor<T> {
    type Output = Tensor<T>;
    fn fwd(op: &MaxAxis, x: &Tensor<T>) -> Tensor<T> {
        let (outer, n, inner) = axis_split("max_axis", x.shape(), op.0);
        assert!(
            n > 0,
            "max_axis: axis {} of shape {:?} is empty",
            op.0,
            x.shape()
        );
        let xs = x.as_slice();
        let mut y = pool::filled(outer * inner, T::ZERO);
        if inner == 1 {
            for (o, row) in y.iter_mut().zip(xs.chunks_exact(n)) {
                *o = kernels::max(row);
            }
        } else {
            for o in 0..outer {
                let acc = &mut y[o * inner..(o + 1) * inner];
                acc.copy_from_slice(&xs[o * n * inner..(o * n + 1) * inner]);
                for k in 1..n {
                    let row = &xs[(o * n + k) * inner..(o * n + k + 1) * inner];
                    kernels::map2_in_place(
                        acc,
                        row,
                        |m, v| if v > m || v.is_nan() { v } else { m },
                    );
                }
            }
        }
        Tensor::from_parts(y, remove_axis(x.shape(), op.0))
    }
    fn bwd(op: &MaxAxis, x: &Tensor<T>, y: &Tensor<T>, dy: Tensor<T>) -> Tensor<T> {
        check_shape("max_axis backward", "cotangent", y.shape(), dy.shape());
        let split @ (_, n, inner) = axis_split("max_axis", x.shape(), op.0);
        let at = argmax_along(x.as_slice(), y.as_slice(), split);
        let mut dx = Tensor::zeros_like(x);
        let d = dx.as_mut_slice();
        for (j, (&k, &g)) in at.iter().zip(dy.as_slice()).enumerate() {
            let (o, i) = (j / inner, j % inner);
            d[(o * n + k) * inner + i] = g;
        }
        dx
    }
    fn jvp(op: &MaxAxis, x: &Tensor<T>, y: &Tensor<T>, dx: &Tensor<T>) -> Tensor<T> {
        check_shape("max_axis tangent", "tangent", x.shape(), dx.shape());
        let split @ (_, n, inner) = axis_split("max_axis", x.shape(), op.0);
        let at = argmax_along(x.as_slice(), y.as_slice(), split);
        let d = dx.as_slice();
        let out = at
            .iter()
            .enumerate()
            .map(|(j, &k)| d[(j / inner * n + k) * inner + j % inner])
            .collect();
        Tensor::from_parts(out, y.dims_owned())
    }
}
