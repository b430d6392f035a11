//! Rules of `softmax(axis)` and `log_softmax(axis)`, computed stably (the maximum along the
//! axis is subtracted before exponentiating).
//!
//! ```
//! use grad::{Tensor, differentiable};
//!
//! #[differentiable]
//! fn first_probability(x: &Tensor<f64>) -> f64 {
//!     x.softmax(0).get(&[0])
//! }
//!
//! // p = softmax([0, 0]) = [1/2, 1/2]; dp₀/dx = p₀(e₀ - p) = [1/4, -1/4].
//! let (p, g) = first_probability_grad(&Tensor::from([0.0, 0.0]));
//! assert_eq!((p, g.to_vec()), (0.5, vec![0.25, -0.25]));
//! ```

use super::UnaryOut;
use super::op::{LogSoftmax, Softmax};
use super::tensor::check_shape;
use crate::kernels;
use crate::kernels::math::MathFn;
use crate::real::Real;
use crate::tensor::shape::axis_split;
use crate::tensor::{Tensor, pool};

/// Calls `f` on every line along `axis` of `x`, with the matching line of `out` to fill.
/// Contiguous lines (the last axis) are passed directly; others are gathered and scattered.
fn for_each_line<T: Real>(
    op: &str,
    shape: &[usize],
    axis: usize,
    x: &[T],
    out: &mut [T],
    mut f: impl FnMut(&[T], &mut [T]),
) {
    let (outer, n, inner) = axis_split(op, shape, axis);
    if n == 0 {
        return;
    }
    if inner == 1 {
        for (xs, os) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
            f(xs, os);
        }
        return;
    }
    let (mut line, mut res) = (vec![T::ZERO; n], vec![T::ZERO; n]);
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| (o * n + k) * inner + i;
            for k in 0..n {
                line[k] = x[at(k)];
            }
            f(&line, &mut res);
            for k in 0..n {
                out[at(k)] = res[k];
            }
        }
    }
}

/// `out = x - max(x)`, then `e^out` in place; returns `Σ e^out`.
fn shifted_exp<T: Real>(x: &[T], out: &mut [T]) -> T {
    let m = kernels::max(x);
    // A line of -inf (or containing +inf) would give NaN from inf - inf; numpy and PyTorch
    // return NaN there too, so no special case.
    kernels::map1(x, out, |v| v - m);
    kernels::math_in_place(MathFn::Exp, out);
    kernels::sum(out)
}

/// `y = e^x / Σ_axis e^x`. Backward: `dx = y ⊙ (dy - Σ_axis(dy ⊙ y))`; tangent:
/// `dy = y ⊙ (dx - Σ_axis(dx ⊙ y))` (the Jacobian `diag(y) - y yᵀ` is symmetric).
impl<T: Real> UnaryOut<Softmax> for Tensor<T> {
    type Output = Tensor<T>;
    fn fwd(op: &Softmax, x: &Tensor<T>) -> Tensor<T> {
        let mut y = Tensor::zeros_like(x);
        for_each_line(
            "softmax",
            x.shape(),
            op.0,
            x.as_slice(),
            y.as_mut_slice(),
            |x, y| {
                let s = shifted_exp(x, y);
                kernels::map1_in_place(y, |v| v / s);
            },
        );
        y
    }
    fn bwd(op: &Softmax, x: &Tensor<T>, y: &Tensor<T>, dy: Tensor<T>) -> Tensor<T> {
        check_shape("softmax backward", "cotangent", x.shape(), dy.shape());
        softmax_jvp_like("softmax backward", op.0, y, &dy)
    }
    fn jvp(op: &Softmax, x: &Tensor<T>, y: &Tensor<T>, dx: &Tensor<T>) -> Tensor<T> {
        check_shape("softmax tangent", "tangent", x.shape(), dx.shape());
        softmax_jvp_like("softmax tangent", op.0, y, dx)
    }
}

/// Calls `f(at)` for every line along `axis`, `at(k)` giving the flat index of its `k`-th
/// element, and the line's length.
fn for_each_index_line(
    op: &str,
    shape: &[usize],
    axis: usize,
    mut f: impl FnMut(&dyn Fn(usize) -> usize, usize),
) {
    let (outer, n, inner) = axis_split(op, shape, axis);
    for o in 0..outer {
        for i in 0..inner {
            f(&|k| (o * n + k) * inner + i, n);
        }
    }
}

/// `y ⊙ (d - Σ_axis(d ⊙ y))`.
fn softmax_jvp_like<T: Real>(op: &str, axis: usize, y: &Tensor<T>, d: &Tensor<T>) -> Tensor<T> {
    let (ys, ds) = (y.as_slice(), d.as_slice());
    let mut out = pool::filled(ys.len(), T::ZERO);
    for_each_index_line(op, y.shape(), axis, |at, n| {
        let mut s = T::ZERO;
        for k in 0..n {
            s += ds[at(k)] * ys[at(k)];
        }
        for k in 0..n {
            out[at(k)] = ys[at(k)] * (ds[at(k)] - s);
        }
    });
    Tensor::from_parts(out, y.dims_owned())
}

/// `y = x - ln Σ_axis e^x`. Backward: `dx = dy - softmax(x) ⊙ Σ_axis dy`; tangent:
/// `dy = dx - Σ_axis(softmax(x) ⊙ dx)`, with `softmax(x) = e^y`.
impl<T: Real> UnaryOut<LogSoftmax> for Tensor<T> {
    type Output = Tensor<T>;
    fn fwd(op: &LogSoftmax, x: &Tensor<T>) -> Tensor<T> {
        let mut y = Tensor::zeros_like(x);
        let mut tmp = Vec::new();
        for_each_line(
            "log_softmax",
            x.shape(),
            op.0,
            x.as_slice(),
            y.as_mut_slice(),
            |x, y| {
                tmp.resize(x.len(), T::ZERO);
                let s = shifted_exp(x, &mut tmp);
                let m = kernels::max(x);
                // (x - m) is exact for the large entries; subtracting ln s then rounds once.
                let ln_s = s.ln();
                kernels::map1(x, y, |v| (v - m) - ln_s);
            },
        );
        y
    }
    fn bwd(op: &LogSoftmax, x: &Tensor<T>, y: &Tensor<T>, dy: Tensor<T>) -> Tensor<T> {
        check_shape("log_softmax backward", "cotangent", x.shape(), dy.shape());
        let (ys, ds) = (y.as_slice(), dy.as_slice());
        let mut out = pool::filled(ys.len(), T::ZERO);
        for_each_index_line("log_softmax backward", y.shape(), op.0, |at, n| {
            let mut s = T::ZERO;
            for k in 0..n {
                s += ds[at(k)];
            }
            for k in 0..n {
                out[at(k)] = ds[at(k)] - ys[at(k)].exp() * s;
            }
        });
        Tensor::from_parts(out, y.dims_owned())
    }
    fn jvp(op: &LogSoftmax, x: &Tensor<T>, y: &Tensor<T>, dx: &Tensor<T>) -> Tensor<T> {
        check_shape("log_softmax tangent", "tangent", x.shape(), dx.shape());
        let (ys, ds) = (y.as_slice(), dx.as_slice());
        let mut out = pool::filled(ys.len(), T::ZERO);
        for_each_index_line("log_softmax tangent", y.shape(), op.0, |at, n| {
            let mut s = T::ZERO;
            for k in 0..n {
                s += ys[at(k)].exp() * ds[at(k)];
            }
            for k in 0..n {
                out[at(k)] = ds[at(k)] - s;
            }
        });
        Tensor::from_parts(out, y.dims_owned())
    }
}
