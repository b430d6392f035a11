//! Rules of the linear-algebra and shape primitives: `matmul` and `dot` (bilinear: a part
//! per input), `transpose` and `reshape` (linear: only a transpose).
//!
//! ```
//! use grad::Tensor;
//! use grad::rules::op;
//!
//! // dot: y = a·b, da = dy·b, db = dy·a; its tangent part along da is <da, b>.
//! let (a, b) = (Tensor::from([1.0f64, 2.0]), Tensor::from([3.0, 4.0]));
//! let y = op::Dot.fwd(&a, &b);
//! assert_eq!(y, 11.0);
//! assert_eq!(op::Dot.bwd_0(&a, &b, &y, 2.0).to_vec(), vec![6.0, 8.0]);
//! assert_eq!(op::Dot.jvp_0(&a, &b, &y, &Tensor::from([1.0, 0.0])), 3.0);
//! ```

use super::op::{Dot, Matmul, Reshape, Transpose};
use super::tensor::check_shape;
use super::{Binary, Linear};
use crate::kernels;
use crate::kernels::gemm::{MatRef, gemm_uninit};
use crate::real::Real;
use crate::tensor::{Dims, Tensor, pool};

/// The operands of a matrix product as 2-d `(m, k) · (k, n)`, with numpy's promotion of
/// 1-d operands (`a` a row, `b` a column), and the result's shape with the promoted axes
/// removed again.
struct Product {
    m: usize,
    k: usize,
    n: usize,
    out: Dims,
}

fn product(op: &str, a: &[usize], b: &[usize]) -> Product {
    let (m, ka, a_vec) = match *a {
        [k] => (1, k, true),
        [m, k] => (m, k, false),
        _ => panic!("{op}: shapes {a:?} and {b:?}: only 1-d and 2-d operands are supported"),
    };
    let (kb, n, b_vec) = match *b {
        [k] => (k, 1, true),
        [k, n] => (k, n, false),
        _ => panic!("{op}: shapes {a:?} and {b:?}: only 1-d and 2-d operands are supported"),
    };
    assert!(
        ka == kb,
        "{op}: shapes {a:?} and {b:?} do not align ({ka} != {kb})"
    );
    let out = match (a_vec, b_vec) {
        (false, false) => Dims::from_slice(&[m, n]),
        (true, false) => Dims::from_slice(&[n]),
        (false, true) => Dims::from_slice(&[m]),
        (true, true) => Dims::new(),
    };
    Product { m, k: ka, n, out }
}

/// `C = A·B` for row-major `A` (`m × k`) and `B` (`k × n`) given as views, into a buffer the
/// product writes without zeroing it first.
fn matmul_into<T: Real>(m: usize, k: usize, n: usize, a: MatRef<T>, b: MatRef<T>) -> Vec<T> {
    let mut c = pool::take(m * n);
    gemm_uninit(m, k, n, a, b, &mut c.spare_capacity_mut()[..m * n]);
    // SAFETY: `gemm_uninit` wrote all `m·n` elements (`take` gave room for them).
    unsafe { c.set_len(m * n) };
    c
}

/// `Y = A·B` with numpy's rules for 1-d and 2-d operands.
///
/// Backward: `dA = dY·Bᵀ`, `dB = Aᵀ·dY` (the transposes are strided views, never copies);
/// tangent: `dY = dA·B + A·dB`, one part per input.
impl<T: Real> Binary<Matmul, Tensor<T>> for Tensor<T> {
    type Output = Tensor<T>;
    fn fwd(_: &Matmul, a: &Tensor<T>, b: &Tensor<T>) -> Tensor<T> {
        let p = product("matmul", a.shape(), b.shape());
        let c = matmul_into(
            p.m,
            p.k,
            p.n,
            MatRef::row_major(a.as_slice(), p.k),
            MatRef::row_major(b.as_slice(), p.n),
        );
        Tensor::from_parts(c, p.out)
    }
    fn bwd_0(_: &Matmul, a: &Tensor<T>, b: &Tensor<T>, _: &Tensor<T>, dy: Tensor<T>) -> Tensor<T> {
        let p = product("matmul", a.shape(), b.shape());
        check_shape("matmul backward", "cotangent", &p.out, dy.shape());
        // dA (m × k) = dY (m × n) · Bᵀ (n × k).
        let da = matmul_into(
            p.m,
            p.n,
            p.k,
            MatRef::row_major(dy.as_slice(), p.n),
            MatRef::transposed(b.as_slice(), p.n),
        );
        Tensor::from_parts(da, a.dims_owned())
    }
    fn bwd_1(_: &Matmul, a: &Tensor<T>, b: &Tensor<T>, _: &Tensor<T>, dy: Tensor<T>) -> Tensor<T> {
        let p = product("matmul", a.shape(), b.shape());
        check_shape("matmul backward", "cotangent", &p.out, dy.shape());
        // dB (k × n) = Aᵀ (k × m) · dY (m × n).
        let db = matmul_into(
            p.k,
            p.m,
            p.n,
            MatRef::transposed(a.as_slice(), p.k),
            MatRef::row_major(dy.as_slice(), p.n),
        );
        Tensor::from_parts(db, b.dims_owned())
    }
    fn jvp_0(
        op: &Matmul,
        a: &Tensor<T>,
        b: &Tensor<T>,
        _: &Tensor<T>,
        da: &Tensor<T>,
    ) -> Tensor<T> {
        check_shape("matmul tangent", "tangent", a.shape(), da.shape());
        <Tensor<T> as Binary<Matmul, Tensor<T>>>::fwd(op, da, b)
    }
    fn jvp_1(
        op: &Matmul,
        a: &Tensor<T>,
        b: &Tensor<T>,
        _: &Tensor<T>,
        db: &Tensor<T>,
    ) -> Tensor<T> {
        check_shape("matmul tangent", "tangent", b.shape(), db.shape());
        <Tensor<T> as Binary<Matmul, Tensor<T>>>::fwd(op, a, db)
    }
}

fn check_dot<T: Real>(a: &Tensor<T>, b: &Tensor<T>) {
    assert!(
        a.ndim() == 1 && b.ndim() == 1 && a.len() == b.len(),
        "dot: shapes {:?} and {:?} are not two 1-d tensors of one length",
        a.shape(),
        b.shape()
    );
}

/// `y = Σ a_i b_i` of two 1-d tensors. Backward: `da = dy·b`, `db = dy·a`; tangent:
/// `<da, b>` and `<a, db>`.
impl<T: Real> Binary<Dot, Tensor<T>> for Tensor<T> {
    type Output = T;
    fn fwd(_: &Dot, a: &Tensor<T>, b: &Tensor<T>) -> T {
        check_dot(a, b);
        kernels::dot(a.as_slice(), b.as_slice())
    }
    fn bwd_0(_: &Dot, a: &Tensor<T>, b: &Tensor<T>, _: &T, dy: T) -> Tensor<T> {
        check_dot(a, b);
        b * dy
    }
    fn bwd_1(_: &Dot, a: &Tensor<T>, b: &Tensor<T>, _: &T, dy: T) -> Tensor<T> {
        check_dot(a, b);
        a * dy
    }
    fn jvp_0(_: &Dot, a: &Tensor<T>, b: &Tensor<T>, _: &T, da: &Tensor<T>) -> T {
        check_shape("dot tangent", "tangent", a.shape(), da.shape());
        kernels::dot(da.as_slice(), b.as_slice())
    }
    fn jvp_1(_: &Dot, a: &Tensor<T>, b: &Tensor<T>, _: &T, db: &Tensor<T>) -> T {
        check_shape("dot tangent", "tangent", b.shape(), db.shape());
        kernels::dot(a.as_slice(), db.as_slice())
    }
}

/// The transpose of a row-major `rows × cols` matrix, copied in cache-sized tiles.
fn transpose_data<T: Real>(x: &[T], rows: usize, cols: usize) -> Vec<T> {
    const TILE: usize = 32;
    let mut out = pool::filled(rows * cols, T::ZERO);
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = x[r * cols + c];
                }
            }
        }
    }
    out
}

fn transposed<T: Real>(op: &str, x: &Tensor<T>) -> Tensor<T> {
    let [rows, cols] = *x.shape() else {
        panic!("{op}: a tensor of shape {:?} is not 2-d", x.shape())
    };
    Tensor::from_parts(
        transpose_data(x.as_slice(), rows, cols),
        Dims::from_slice(&[cols, rows]),
    )
}

/// `y = xᵀ` of a 2-d tensor. Transpose: `dx = dyᵀ`; tangent `dxᵀ`.
impl<T: Real> Linear<Transpose> for Tensor<T> {
    type Output = Tensor<T>;
    fn fwd(_: &Transpose, x: &Tensor<T>) -> Tensor<T> {
        transposed("transpose", x)
    }
    fn bwd(_: &Transpose, x: &Dims, dy: Tensor<T>) -> Tensor<T> {
        let dx = transposed("transpose backward", &dy);
        check_shape("transpose backward", "cotangent", x, dx.shape());
        dx
    }
    fn jvp(_: &Transpose, x: &Dims, dx: &Tensor<T>) -> Tensor<T> {
        check_shape("transpose tangent", "tangent", x, dx.shape());
        transposed("transpose tangent", dx)
    }
}

/// `y` = `x`'s elements under a new shape. Transpose: `dy` under `x`'s shape (no copy).
impl<T: Real> Linear<Reshape> for Tensor<T> {
    type Output = Tensor<T>;
    fn fwd(op: &Reshape, x: &Tensor<T>) -> Tensor<T> {
        let n: Option<usize> = op.0.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        assert!(
            n == Some(x.len()),
            "reshape: shape {:?} ({} elements) cannot become shape {:?}",
            x.shape(),
            x.len(),
            op.0
        );
        x.clone().with_shape(&op.0)
    }
    fn bwd(op: &Reshape, x: &Dims, dy: Tensor<T>) -> Tensor<T> {
        check_shape("reshape backward", "cotangent", &op.0, dy.shape());
        dy.with_shape(x)
    }
    fn jvp(op: &Reshape, x: &Dims, dx: &Tensor<T>) -> Tensor<T> {
        check_shape("reshape tangent", "tangent", x, dx.shape());
        dx.clone().with_shape(&op.0)
    }
}
