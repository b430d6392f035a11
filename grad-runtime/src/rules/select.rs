//! Rules of element reads, slices and joins: `get`, `narrow`, `index_select` (linear: only a
//! transpose) and `Tensor::cat`, `Tensor::stack` with their hand-written `_vjp` and `_jvp`.
//!
//! Every one of them moves elements without arithmetic, so each transpose puts the cotangent
//! back where its elements came from: into zeros for `get` and `narrow`, added up for
//! `index_select` (a repeated index receives the sum of its rows' cotangents), split into
//! one cotangent per input for `cat` and `stack`.
//!
//! ```
//! use grad::{Tensor, differentiable};
//!
//! #[differentiable(wrt(table))]
//! fn lookup(table: &Tensor<f64>, ids: &[usize]) -> f64 {
//!     table.index_select(0, ids).sum()
//! }
//!
//! // Row 1 is read twice and row 0 never: its gradient is 2 per element, row 0's zero.
//! let table = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
//! let (value, g) = lookup_grad(&table, &[1, 1]);
//! assert_eq!((value, g.to_vec()), (14.0, vec![0.0, 0.0, 2.0, 2.0]));
//! ```

use super::Linear;
use super::op::{Get, IndexSelect, Narrow};
use super::tensor::check_shape;
use crate::differentiable::NoTangent;
use crate::kernels;
use crate::real::Real;
use crate::tensor::shape::axis_split;
use crate::tensor::{Dims, Tensor, pool};

/// The row-major offset of `index` in `shape`.
///
/// # Panics
/// If `index` has not one coordinate per axis or one is out of range; the message names `op`.
#[track_caller]
fn flat_index(op: &str, shape: &[usize], index: &[usize]) -> usize {
    assert!(
        index.len() == shape.len() && index.iter().zip(shape).all(|(i, n)| i < n),
        "{op}: index {index:?} is out of range for shape {shape:?}"
    );
    index.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i)
}

/// `shape` with `axis` resized to `len`.
fn with_axis(shape: &[usize], axis: usize, len: usize) -> Dims {
    let mut out = Dims::from_slice(shape);
    out[axis] = len;
    out
}

/// `y = x[index]`. Transpose: zeros of `x`'s shape with `dy` at `index`; tangent
/// `dx[index]`.
impl<T: Real, I: AsRef<[usize]>> Linear<Get<I>> for Tensor<T> {
    type Output = T;
    fn fwd(op: &Get<I>, x: &Tensor<T>) -> T {
        x.as_slice()[flat_index("get", x.shape(), op.0.as_ref())]
    }
    fn bwd(op: &Get<I>, x: &Dims, dy: T) -> Tensor<T> {
        let at = flat_index("get backward", x, op.0.as_ref());
        let mut dx = Tensor::zeros(x);
        dx.as_mut_slice()[at] = dy;
        dx
    }
    fn jvp(op: &Get<I>, x: &Dims, dx: &Tensor<T>) -> T {
        check_shape("get tangent", "tangent", x, dx.shape());
        dx.as_slice()[flat_index("get tangent", x, op.0.as_ref())]
    }
}

/// `(outer, n, inner)` of `shape` around `axis`, checking that `start..start + len` lies in
/// the axis.
#[track_caller]
fn narrow_split(op: &str, shape: &[usize], &Narrow(axis, start, len): &Narrow) -> [usize; 3] {
    let (outer, n, inner) = axis_split(op, shape, axis);
    assert!(
        start.checked_add(len).is_some_and(|end| end <= n),
        "{op}: start {start} and length {len} do not fit in axis {axis} (of size {n}) of \
         shape {shape:?}"
    );
    [outer, n, inner]
}

/// `y = x[.., start..start + len, ..]` along `axis`. Transpose: `dy` placed at
/// `start..start + len` in zeros of `x`'s shape; tangent: `dx` narrowed alike.
impl<T: Real> Linear<Narrow> for Tensor<T> {
    type Output = Tensor<T>;
    fn fwd(op: &Narrow, x: &Tensor<T>) -> Tensor<T> {
        let &Narrow(axis, start, len) = op;
        let [outer, n, inner] = narrow_split("narrow", x.shape(), op);
        let xs = x.as_slice();
        let mut y = pool::take(outer * len * inner);
        for o in 0..outer {
            let from = (o * n + start) * inner;
            y.extend_from_slice(&xs[from..from + len * inner]);
        }
        Tensor::from_parts(y, with_axis(x.shape(), axis, len))
    }
    fn bwd(op: &Narrow, x: &Dims, dy: Tensor<T>) -> Tensor<T> {
        let &Narrow(axis, start, len) = op;
        let [outer, n, inner] = narrow_split("narrow backward", x, op);
        check_shape(
            "narrow backward",
            "cotangent",
            &with_axis(x, axis, len),
            dy.shape(),
        );
        let mut dx = Tensor::zeros(x);
        let (d, g) = (dx.as_mut_slice(), dy.as_slice());
        let b = len * inner;
        for o in 0..outer {
            let to = (o * n + start) * inner;
            d[to..to + b].copy_from_slice(&g[o * b..(o + 1) * b]);
        }
        dx
    }
    fn jvp(op: &Narrow, x: &Dims, dx: &Tensor<T>) -> Tensor<T> {
        check_shape("narrow tangent", "tangent", x, dx.shape());
        <Tensor<T> as Linear<Narrow>>::fwd(op, dx)
    }
}

/// `(outer, n, inner)` of `shape` around `axis`, checking every index against the axis.
#[track_caller]
fn select_split(op: &str, shape: &[usize], axis: usize, indices: &[usize]) -> [usize; 3] {
    let (outer, n, inner) = axis_split(op, shape, axis);
    if let Some(bad) = indices.iter().find(|&&k| k >= n) {
        panic!(
            "{op}: index {bad} is out of range for axis {axis} (of size {n}) of shape {shape:?}"
        );
    }
    [outer, n, inner]
}

/// `y[o, j, i] = x[o, indices[j], i]` along `axis` (an embedding lookup when `x` is a table of
/// rows and `axis` is 0). Transpose: `dx[o, k, i] = Σ_{j : indices[j] = k} dy[o, j, i]`, so a
/// repeated index accumulates; tangent: `dx` gathered alike.
impl<T: Real, I: AsRef<[usize]>> Linear<IndexSelect<I>> for Tensor<T> {
    type Output = Tensor<T>;
    fn fwd(op: &IndexSelect<I>, x: &Tensor<T>) -> Tensor<T> {
        let (axis, indices) = (op.0, op.1.as_ref());
        let [outer, n, inner] = select_split("index_select", x.shape(), axis, indices);
        let xs = x.as_slice();
        let mut y = pool::take(outer * indices.len() * inner);
        for o in 0..outer {
            for &k in indices {
                let from = (o * n + k) * inner;
                y.extend_from_slice(&xs[from..from + inner]);
            }
        }
        Tensor::from_parts(y, with_axis(x.shape(), axis, indices.len()))
    }
    fn bwd(op: &IndexSelect<I>, x: &Dims, dy: Tensor<T>) -> Tensor<T> {
        let (axis, indices) = (op.0, op.1.as_ref());
        let [outer, n, inner] = select_split("index_select backward", x, axis, indices);
        check_shape(
            "index_select backward",
            "cotangent",
            &with_axis(x, axis, indices.len()),
            dy.shape(),
        );
        let mut dx = Tensor::zeros(x);
        let (d, g) = (dx.as_mut_slice(), dy.as_slice());
        for o in 0..outer {
            for (j, &k) in indices.iter().enumerate() {
                let to = (o * n + k) * inner;
                let from = (o * indices.len() + j) * inner;
                kernels::map2_in_place(&mut d[to..to + inner], &g[from..from + inner], |a, b| {
                    a + b
                });
            }
        }
        dx
    }
    fn jvp(op: &IndexSelect<I>, x: &Dims, dx: &Tensor<T>) -> Tensor<T> {
        check_shape("index_select tangent", "tangent", x, dx.shape());
        <Tensor<T> as Linear<IndexSelect<I>>>::fwd(op, dx)
    }
}

/// How a join lays its inputs out: the output's shape, and each input as `outer` blocks of
/// `block[i]` contiguous elements, the output being, for every `o`, input 0's block `o`,
/// then input 1's, and so on.
struct Join {
    out: Dims,
    outer: usize,
    block: Vec<usize>,
}

/// The layout of `Tensor::cat` along `axis`.
#[track_caller]
fn cat_layout(op: &str, shapes: &[&[usize]], axis: usize) -> Join {
    let Some(&first) = shapes.first() else {
        panic!("{op}: no tensors to concatenate");
    };
    assert!(
        axis < first.len(),
        "{op}: axis {axis} is out of range for tensors of shape {first:?}"
    );
    for &s in &shapes[1..] {
        let agree = s.len() == first.len()
            && s.iter()
                .zip(first)
                .enumerate()
                .all(|(d, (a, b))| d == axis || a == b);
        assert!(
            agree,
            "{op}: shapes {first:?} and {s:?} differ outside axis {axis}"
        );
    }
    let outer = first[..axis].iter().product();
    let inner: usize = first[axis + 1..].iter().product();
    let total = shapes.iter().map(|s| s[axis]).sum();
    Join {
        out: with_axis(first, axis, total),
        outer,
        block: shapes.iter().map(|s| s[axis] * inner).collect(),
    }
}

/// The layout of `Tensor::stack` along a new `axis`.
#[track_caller]
fn stack_layout(op: &str, shapes: &[&[usize]], axis: usize) -> Join {
    let Some(&first) = shapes.first() else {
        panic!("{op}: no tensors to stack");
    };
    assert!(
        axis <= first.len(),
        "{op}: axis {axis} is out of range for stacking tensors of shape {first:?} (at most \
         {})",
        first.len()
    );
    if let Some(s) = shapes.iter().find(|&&s| s != first) {
        panic!("{op}: shapes {first:?} and {s:?} differ");
    }
    let mut out = Dims::from_slice(first);
    out.insert(axis, shapes.len());
    Join {
        out,
        outer: first[..axis].iter().product(),
        block: vec![first[axis..].iter().product(); shapes.len()],
    }
}

/// The inputs' elements interleaved block by block as `layout` says.
fn join<T: Real>(parts: &[&Tensor<T>], layout: &Join) -> Tensor<T> {
    let step: usize = layout.block.iter().sum();
    let mut y = pool::take(layout.outer * step);
    for o in 0..layout.outer {
        for (t, &b) in parts.iter().zip(&layout.block) {
            y.extend_from_slice(&t.as_slice()[o * b..(o + 1) * b]);
        }
    }
    Tensor::from_parts(y, Dims::from_slice(&layout.out))
}

/// The transpose of [`join`]: `dy` cut back into one tensor per input, of the given shapes.
fn split<T: Real>(dy: &Tensor<T>, layout: &Join, shapes: Vec<Dims>) -> Vec<Tensor<T>> {
    let mut parts: Vec<Vec<T>> = layout
        .block
        .iter()
        .map(|&b| pool::take(layout.outer * b))
        .collect();
    let mut at = 0;
    let g = dy.as_slice();
    for _ in 0..layout.outer {
        for (p, &b) in parts.iter_mut().zip(&layout.block) {
            p.extend_from_slice(&g[at..at + b]);
            at += b;
        }
    }
    parts
        .into_iter()
        .zip(shapes)
        .map(|(p, s)| Tensor::from_parts(p, s))
        .collect()
}

/// Panics unless there is one tangent per tensor, each of its tensor's shape.
#[track_caller]
fn check_tangents<T: Real>(op: &str, tensors: &[&Tensor<T>], dtensors: &[&Tensor<T>]) {
    assert!(
        tensors.len() == dtensors.len(),
        "{op}: {} tangents for {} tensors",
        dtensors.len(),
        tensors.len()
    );
    for (t, d) in tensors.iter().zip(dtensors) {
        check_shape(op, "tangent", t.shape(), d.shape());
    }
}

fn shapes_of<'a, T: Real>(tensors: &[&'a Tensor<T>]) -> Vec<&'a [usize]> {
    tensors.iter().map(|t| t.shape()).collect()
}

impl<T: Real> Tensor<T> {
    /// The tensors joined along an existing `axis` (numpy's `concatenate`): every shape
    /// must agree outside `axis`, and the result's `axis` is the sum of theirs.
    ///
    /// ```
    /// use grad::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    /// let b = Tensor::from_vec(vec![5.0, 6.0], &[2, 1]).unwrap();
    /// let c = Tensor::cat(&[&a, &b], 1);
    /// assert_eq!(c.shape(), &[2, 3]);
    /// assert_eq!(c.to_vec(), vec![1.0, 2.0, 5.0, 3.0, 4.0, 6.0]);
    /// ```
    ///
    /// # Panics
    /// If `tensors` is empty, `axis` is out of range, or two shapes differ outside `axis`.
    pub fn cat(tensors: &[&Tensor<T>], axis: usize) -> Tensor<T> {
        join(tensors, &cat_layout("cat", &shapes_of(tensors), axis))
    }

    /// Value and pullback of [`Tensor::cat`]: the pullback cuts the output's cotangent back
    /// into one cotangent per tensor (`dtensors[i]` the slice of `dy` that tensor `i` filled),
    /// and `NoTangent` for the axis.
    ///
    /// ```
    /// use grad::{NoTangent, Tensor};
    /// let (a, b) = (Tensor::from([1.0, 2.0]), Tensor::from([3.0]));
    /// let (y, back) = Tensor::cat_vjp(&[&a, &b], 0);
    /// assert_eq!(y.to_vec(), vec![1.0, 2.0, 3.0]);
    /// let (d, NoTangent) = back(Tensor::from([10.0, 20.0, 30.0]));
    /// assert_eq!((d[0].to_vec(), d[1].to_vec()), (vec![10.0, 20.0], vec![30.0]));
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::cat`]; the pullback, if the cotangent has not the output's shape.
    #[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
    pub fn cat_vjp(
        tensors: &[&Tensor<T>],
        axis: usize,
    ) -> (
        Tensor<T>,
        impl FnOnce(Tensor<T>) -> (Vec<Tensor<T>>, NoTangent) + use<T>,
    ) {
        let layout = cat_layout("cat", &shapes_of(tensors), axis);
        let y = join(tensors, &layout);
        let shapes: Vec<Dims> = tensors.iter().map(|t| t.dims_owned()).collect();
        (y, move |dy: Tensor<T>| {
            check_shape("cat backward", "cotangent", &layout.out, dy.shape());
            (split(&dy, &layout, shapes), NoTangent)
        })
    }

    /// Value and tangent of [`Tensor::cat`]: the tangents joined as the tensors are
    /// (`dtensors[i]` is tensor `i`'s tangent; the axis has none).
    ///
    /// ```
    /// use grad::{NoTangent, Tensor};
    /// let (a, b) = (Tensor::from([1.0, 2.0]), Tensor::from([3.0]));
    /// let (da, db) = (Tensor::from([0.5, 0.0]), Tensor::from([-1.0]));
    /// let (y, dy) = Tensor::cat_jvp(&[&a, &b], 0, &[&da, &db], NoTangent);
    /// assert_eq!((y.to_vec(), dy.to_vec()), (vec![1.0, 2.0, 3.0], vec![0.5, 0.0, -1.0]));
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::cat`]; also if there is not one tangent of its tensor's shape per tensor.
    pub fn cat_jvp(
        tensors: &[&Tensor<T>],
        axis: usize,
        dtensors: &[&Tensor<T>],
        _: NoTangent,
    ) -> (Tensor<T>, Tensor<T>) {
        let layout = cat_layout("cat", &shapes_of(tensors), axis);
        check_tangents("cat tangent", tensors, dtensors);
        (join(tensors, &layout), join(dtensors, &layout))
    }

    /// The tensors joined along a new `axis` (numpy's `stack`): every shape must be the
    /// same, and the result has one more axis, of length `tensors.len()`, at `axis`
    /// (`0..=ndim`).
    ///
    /// ```
    /// use grad::Tensor;
    /// let (a, b) = (Tensor::from([1.0, 2.0]), Tensor::from([3.0, 4.0]));
    /// assert_eq!(Tensor::stack(&[&a, &b], 0).to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    /// let s = Tensor::stack(&[&a, &b], 1);
    /// assert_eq!(s.shape(), &[2, 2]);
    /// assert_eq!(s.to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    /// ```
    ///
    /// # Panics
    /// If `tensors` is empty, `axis` is greater than their rank, or two shapes differ.
    pub fn stack(tensors: &[&Tensor<T>], axis: usize) -> Tensor<T> {
        join(tensors, &stack_layout("stack", &shapes_of(tensors), axis))
    }

    /// Value and pullback of [`Tensor::stack`]: the pullback takes each tensor's cotangent
    /// out of the output's (`dtensors[i]` is `dy` at index `i` of `axis`), and `NoTangent`
    /// for the axis.
    ///
    /// ```
    /// use grad::{NoTangent, Tensor};
    /// let (a, b) = (Tensor::from([1.0, 2.0]), Tensor::from([3.0, 4.0]));
    /// let (_, back) = Tensor::stack_vjp(&[&a, &b], 1);
    /// let dy = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    /// let (d, NoTangent) = back(dy);
    /// assert_eq!((d[0].to_vec(), d[1].to_vec()), (vec![1.0, 3.0], vec![2.0, 4.0]));
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::stack`]; the pullback, if the cotangent has not the output's shape.
    #[allow(clippy::type_complexity)] // an `impl FnOnce` cannot be named by an alias
    pub fn stack_vjp(
        tensors: &[&Tensor<T>],
        axis: usize,
    ) -> (
        Tensor<T>,
        impl FnOnce(Tensor<T>) -> (Vec<Tensor<T>>, NoTangent) + use<T>,
    ) {
        let layout = stack_layout("stack", &shapes_of(tensors), axis);
        let y = join(tensors, &layout);
        let shapes: Vec<Dims> = tensors.iter().map(|t| t.dims_owned()).collect();
        (y, move |dy: Tensor<T>| {
            check_shape("stack backward", "cotangent", &layout.out, dy.shape());
            (split(&dy, &layout, shapes), NoTangent)
        })
    }

    /// Value and tangent of [`Tensor::stack`]: the tangents stacked as the tensors are.
    ///
    /// ```
    /// use grad::{NoTangent, Tensor};
    /// let (a, b) = (Tensor::from([1.0]), Tensor::from([2.0]));
    /// let (da, db) = (Tensor::from([0.1]), Tensor::from([0.2]));
    /// let (y, dy) = Tensor::stack_jvp(&[&a, &b], 0, &[&da, &db], NoTangent);
    /// assert_eq!(y.shape(), &[2, 1]);
    /// assert_eq!(dy.to_vec(), vec![0.1, 0.2]);
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::stack`]; also if there is not one tangent of its tensor's shape per
    /// tensor.
    pub fn stack_jvp(
        tensors: &[&Tensor<T>],
        axis: usize,
        dtensors: &[&Tensor<T>],
        _: NoTangent,
    ) -> (Tensor<T>, Tensor<T>) {
        let layout = stack_layout("stack", &shapes_of(tensors), axis);
        check_tangents("stack tangent", tensors, dtensors);
        (join(tensors, &layout), join(dtensors, &layout))
    }
}
