//! Broadcasting: the shape rule, elementwise combination of broadcast operands, and
//! `unbroadcast`, the one place cotangents are reduced back to an input's shape.

use super::{Dims, Tensor, pool};
use crate::kernels;
use crate::real::Real;

/// Whether two shapes are equal, compared in line: `==` on slices calls `bcmp`, a call
/// that costs more than comparing the few dimensions a shape has (7.5% of a one-element
/// tensor's gradient, where every rule compares shapes).
#[inline]
pub(crate) fn same_shape(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The numpy broadcast of two shapes, or `None` if they do not broadcast.
///
/// ```
/// use grad::broadcast_shapes;
/// assert_eq!(broadcast_shapes(&[4, 1, 3], &[2, 1]).unwrap().as_slice(), &[4, 2, 3]);
/// assert!(broadcast_shapes(&[2, 3], &[2]).is_none());
/// ```
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Dims> {
    let rank = a.len().max(b.len());
    let mut out = Dims::with_capacity(rank);
    for i in 0..rank {
        let da = if i + a.len() >= rank {
            a[i + a.len() - rank]
        } else {
            1
        };
        let db = if i + b.len() >= rank {
            b[i + b.len() - rank]
        } else {
            1
        };
        out.push(match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        });
    }
    Some(out)
}

/// The broadcast shape of `a` and `b`, panicking with a message naming `op` and both shapes.
pub(crate) fn broadcast_or_panic(op: &str, a: &[usize], b: &[usize]) -> Dims {
    broadcast_shapes(a, b)
        .unwrap_or_else(|| panic!("{op}: shapes {a:?} and {b:?} do not broadcast"))
}

/// Strides of `shape` (row-major) seen from an output of rank `rank`: 0 along broadcast axes.
fn broadcast_strides(shape: &[usize], out: &[usize]) -> Dims {
    let pad = out.len() - shape.len();
    let mut strides = Dims::from_elem(0, out.len());
    let mut s = 1;
    for i in (0..shape.len()).rev() {
        strides[pad + i] = if shape[i] == 1 && out[pad + i] != 1 {
            0
        } else {
            s
        };
        s *= shape[i];
    }
    strides
}

/// One row (along the last axis) of a broadcast operand: where it starts and whether it
/// advances (`true`) or repeats one element (`false`).
#[derive(Clone, Copy)]
struct Row {
    at: usize,
    unit: bool,
}

/// Calls `f(row, a_row, b_row)` for every row of the output shape `out` (rows of the last
/// axis; a 0-d output has one row of one element).
fn for_each_row(out: &[usize], a: &[usize], b: &[usize], mut f: impl FnMut(usize, Row, Row)) {
    let sa = broadcast_strides(a, out);
    let sb = broadcast_strides(b, out);
    let rank = out.len();
    let inner = if rank == 0 { 1 } else { out[rank - 1] };
    if inner == 0 {
        return;
    }
    let rows: usize = out.iter().take(rank.saturating_sub(1)).product();
    let unit_a = rank == 0 || sa[rank - 1] == 1;
    let unit_b = rank == 0 || sb[rank - 1] == 1;
    let mut index = Dims::from_elem(0, rank.saturating_sub(1));
    let (mut at_a, mut at_b) = (0usize, 0usize);
    for r in 0..rows {
        f(
            r,
            Row {
                at: at_a,
                unit: unit_a,
            },
            Row {
                at: at_b,
                unit: unit_b,
            },
        );
        // Advance the multi-index over the leading axes, updating the offsets.
        for ax in (0..rank.saturating_sub(1)).rev() {
            index[ax] += 1;
            at_a += sa[ax];
            at_b += sb[ax];
            if index[ax] < out[ax] {
                break;
            }
            at_a -= sa[ax] * out[ax];
            at_b -= sb[ax] * out[ax];
            index[ax] = 0;
        }
    }
}

/// `f(a, b)` elementwise with numpy broadcasting into a new tensor.
///
/// # Panics
/// If the shapes do not broadcast; the message names `op` and both shapes.
pub(crate) fn broadcast_zip<T, F>(op: &str, a: &Tensor<T>, b: &Tensor<T>, f: F) -> Tensor<T>
where
    T: Real,
    F: Fn(T, T) -> T + Sync + Send,
{
    if same_shape(a.shape(), b.shape()) {
        let out = kernels::map2_new(a.as_slice(), b.as_slice(), f);
        return Tensor::from_parts(out, a.dims_owned());
    }
    let shape = broadcast_or_panic(op, a.shape(), b.shape());
    let (x, y) = (a.as_slice(), b.as_slice());
    if b.len() == 1 && a.shape().len() == shape.len() {
        let s = y[0];
        return Tensor::from_parts(kernels::map1_new(x, |v| f(v, s)), shape);
    }
    if a.len() == 1 && b.shape().len() == shape.len() {
        let s = x[0];
        return Tensor::from_parts(kernels::map1_new(y, |v| f(s, v)), shape);
    }
    let n: usize = shape.iter().product();
    let mut out = pool::filled(n, T::ZERO);
    let inner = shape.last().copied().unwrap_or(1);
    for_each_row(&shape, a.shape(), b.shape(), |r, ra, rb| {
        let o = &mut out[r * inner..(r + 1) * inner];
        match (ra.unit, rb.unit) {
            (true, true) => {
                kernels::map2(&x[ra.at..ra.at + inner], &y[rb.at..rb.at + inner], o, &f)
            }
            (true, false) => {
                let s = y[rb.at];
                kernels::map1(&x[ra.at..ra.at + inner], o, |v| f(v, s));
            }
            (false, true) => {
                let s = x[ra.at];
                kernels::map1(&y[rb.at..rb.at + inner], o, |v| f(s, v));
            }
            (false, false) => o.fill(f(x[ra.at], y[rb.at])),
        }
    });
    Tensor::from_parts(out, shape)
}

/// `a = f(a, b)` elementwise, `b` broadcast to `a`'s shape, reusing `a`'s buffer.
///
/// # Panics
/// If `b` does not broadcast to `a`'s shape; the message names `op` and both shapes.
pub(crate) fn zip_assign<T, F>(op: &str, a: &mut Tensor<T>, b: &Tensor<T>, f: F)
where
    T: Real,
    F: Fn(T, T) -> T + Sync + Send,
{
    if same_shape(a.shape(), b.shape()) {
        return kernels::map2_in_place(a.as_mut_slice(), b.as_slice(), f);
    }
    let shape = broadcast_or_panic(op, a.shape(), b.shape());
    assert!(
        shape.as_slice() == a.shape(),
        "{op}: shape {:?} cannot take the result of broadcasting with {:?}",
        a.shape(),
        b.shape()
    );
    let y = b.as_slice();
    if b.len() == 1 {
        let s = y[0];
        return kernels::map1_in_place(a.as_mut_slice(), |v| f(v, s));
    }
    let inner = shape.last().copied().unwrap_or(1);
    let ashape = a.dims_owned();
    let x = a.as_mut_slice();
    for_each_row(&shape, &ashape, b.shape(), |r, _, rb| {
        let o = &mut x[r * inner..(r + 1) * inner];
        if rb.unit {
            kernels::map2_in_place(o, &y[rb.at..rb.at + inner], &f);
        } else {
            let s = y[rb.at];
            kernels::map1_in_place(o, |v| f(v, s));
        }
    });
}

/// `x` repeated to the shape `shape`, which it must broadcast to.
pub(crate) fn broadcast_to<T: Real>(x: &Tensor<T>, shape: &[usize]) -> Tensor<T> {
    if same_shape(x.shape(), shape) {
        return x.clone();
    }
    let mut out = Tensor::zeros(shape);
    zip_assign("broadcast_to", &mut out, x, |_, v| v);
    out
}

/// The cotangent `dy` of a broadcast result reduced (summed) back to an input of shape
/// `shape`, as JAX's `_unbroadcast`: the axes that broadcasting added or stretched from 1
/// are summed. Returns `dy` itself, untouched, when the shapes already agree; a 0-d
/// `shape` gets the sum of all of `dy`.
pub(crate) fn unbroadcast<T: Real>(dy: Tensor<T>, shape: &[usize]) -> Tensor<T> {
    if same_shape(dy.shape(), shape) {
        return dy;
    }
    let n: usize = shape.iter().product();
    if n == 1 {
        return Tensor::from_parts(vec![kernels::sum(dy.as_slice())], Dims::from_slice(shape));
    }
    let out_shape = dy.dims_owned();
    let mut out = pool::filled(n, T::ZERO);
    let inner = out_shape.last().copied().unwrap_or(1);
    let d = dy.as_slice();
    // Rows of `dy` against rows of the target (`a` = target, as the broadcast operand).
    for_each_row(&out_shape, shape, &out_shape, |r, rt, _| {
        let row = &d[r * inner..(r + 1) * inner];
        if rt.unit {
            kernels::map2_in_place(&mut out[rt.at..rt.at + inner], row, |o, v| o + v);
        } else {
            out[rt.at] += kernels::sum(row);
        }
    });
    Tensor::from_parts(out, Dims::from_slice(shape))
}

/// `shape` seen around `axis` as `(outer, n, inner)`: the element `(o, k, i)` is at
/// `(o * n + k) * inner + i`.
///
/// # Panics
/// If `axis` is not an axis of `shape`; the message names `op`.
pub(crate) fn axis_split(op: &str, shape: &[usize], axis: usize) -> (usize, usize, usize) {
    assert!(
        axis < shape.len(),
        "{op}: axis {axis} is out of range for a tensor of shape {shape:?}"
    );
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    (outer, shape[axis], inner)
}

/// `shape` without `axis`.
pub(crate) fn remove_axis(shape: &[usize], axis: usize) -> Dims {
    shape
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != axis)
        .map(|(_, &d)| d)
        .collect()
}
