//! The matrix product `C = A·B (+ βC)` on strided operands, from matrixmultiply's packed
//! micro-kernels, split by rows of `C` over rayon's threads when large.
//!
//! Operands are described by a slice and row/column strides, so the transposed products
//! the backward pass needs (`A·Bᵀ`, `Aᵀ·B`) read the stored matrix with swapped strides
//! and never materialize a transpose.
//!
//! ```
//! use grad::kernels::gemm::{MatRef, gemm};
//!
//! // C = A·Bᵀ with A = [[1, 2], [3, 4]] and B = [[1, 0], [1, 1]]: Bᵀ read through strides.
//! let (a, b) = ([1.0f64, 2.0, 3.0, 4.0], [1.0, 0.0, 1.0, 1.0]);
//! let mut c = [0.0; 4];
//! gemm(2, 2, 2, MatRef::row_major(&a, 2), MatRef::transposed(&b, 2), 0.0, &mut c);
//! assert_eq!(c, [1.0, 3.0, 3.0, 7.0]);
//! ```

#[cfg(target_arch = "aarch64")]
use super::aarch64;
use super::{Isa, PAR_THRESHOLD, dispatch, scalar};
#[cfg(target_arch = "x86_64")]
use super::{x86_v3, x86_v4};
use crate::real::Real;
use rayon::prelude::*;

/// A read-only strided matrix view: element `(i, j)` is `data[i * rs + j * cs]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    /// The storage.
    pub data: &'a [T],
    /// The row stride.
    pub rs: usize,
    /// The column stride.
    pub cs: usize,
}

impl<'a, T> MatRef<'a, T> {
    /// A row-major `rows × cols` matrix.
    pub fn row_major(data: &'a [T], cols: usize) -> Self {
        MatRef {
            data,
            rs: cols,
            cs: 1,
        }
    }
    /// The transpose of a row-major matrix with `cols` columns, without copying.
    pub fn transposed(data: &'a [T], cols: usize) -> Self {
        MatRef {
            data,
            rs: 1,
            cs: cols,
        }
    }
    /// Whether every element of a `rows × cols` view lies inside `data`.
    fn fits(&self, rows: usize, cols: usize) -> bool {
        rows == 0 || cols == 0 || (rows - 1) * self.rs + (cols - 1) * self.cs < self.data.len()
    }
    /// The view from row `r` on.
    fn rows_from(self, r: usize) -> Self {
        MatRef {
            data: &self.data[(r * self.rs).min(self.data.len())..],
            ..self
        }
    }
}

/// Multiply-adds (`m·n·k`) below which a product stays on one thread. At 2^22 a product
/// takes about 40 µs on one core, far above rayon's hand-off cost; `cargo bench --
/// kernels/gemm` (`_t1` vs `_t2`) measures the split on the shapes that matter.
pub const GEMM_PAR_THRESHOLD: usize = 1 << 22;

/// The element types with a GEMM.
pub trait Gemm: Copy + Send + Sync + 'static {
    /// `C = A·B + beta·C` on one thread, `C` row-major `m × n`.
    ///
    /// # Panics
    /// If a view does not fit its storage.
    fn gemm_serial(
        m: usize,
        k: usize,
        n: usize,
        a: MatRef<Self>,
        b: MatRef<Self>,
        beta: Self,
        c: &mut [Self],
    );
}

macro_rules! gemm_impl {
    ($t:ty, $f:ident) => {
        impl Gemm for $t {
            fn gemm_serial(
                m: usize,
                k: usize,
                n: usize,
                a: MatRef<$t>,
                b: MatRef<$t>,
                beta: $t,
                c: &mut [$t],
            ) {
                assert!(
                    a.fits(m, k) && b.fits(k, n) && c.len() >= m * n,
                    "gemm: view out of bounds"
                );
                if m == 0 || n == 0 {
                    return;
                }
                // SAFETY: `fits` checked that every index the product reads, `i*rs + j*cs`
                // for `i < rows, j < cols`, is inside `a.data` and `b.data`, and that `c`
                // holds the `m × n` row-major output; the strides fit `isize` because they
                // index into live slices; `c` is exclusively borrowed.
                unsafe {
                    matrixmultiply::$f(
                        m,
                        k,
                        n,
                        1.0,
                        a.data.as_ptr(),
                        a.rs as isize,
                        a.cs as isize,
                        b.data.as_ptr(),
                        b.rs as isize,
                        b.cs as isize,
                        beta,
                        c.as_mut_ptr(),
                        n as isize,
                        1,
                    );
                }
            }
        }
    };
}
gemm_impl!(f32, sgemm);
gemm_impl!(f64, dgemm);

/// `C = A·B + beta·C` with `A` `m × k`, `B` `k × n`, `C` row-major `m × n`; rows of `C`
/// are split over rayon's threads when the product has more than [`GEMM_PAR_THRESHOLD`]
/// multiply-adds. A product with one column (`n == 1`) or one row (`m == 1`) goes to
/// [`gemv`] when its vector operand is contiguous.
///
/// # Panics
/// If a view does not fit its storage.
pub fn gemm<T: Real>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<T>,
    b: MatRef<T>,
    beta: T,
    c: &mut [T],
) {
    assert!(
        a.fits(m, k) && b.fits(k, n) && c.len() >= m * n,
        "gemm: view out of bounds"
    );
    if n == 1 && (k <= 1 || b.rs == 1) {
        return gemv(m, k, a, &b.data[..k.min(b.data.len())], beta, &mut c[..m]);
    }
    if m == 1 && (k <= 1 || a.cs == 1) {
        // Cᵀ = Bᵀ·Aᵀ, with Aᵀ the column.
        let bt = MatRef {
            data: b.data,
            rs: b.cs,
            cs: b.rs,
        };
        return gemv(n, k, bt, &a.data[..k.min(a.data.len())], beta, &mut c[..n]);
    }
    let threads = rayon::current_num_threads();
    if m * n * k < GEMM_PAR_THRESHOLD || threads < 2 || m < 2 * 16 || n == 0 {
        return T::gemm_serial(m, k, n, a, b, beta, c);
    }
    // Row blocks that are multiples of 16 keep the micro-kernel's row panels full.
    let rows = m.div_ceil(threads).next_multiple_of(16);
    c[..m * n]
        .par_chunks_mut(rows * n)
        .enumerate()
        .for_each(|(i, c)| {
            let r0 = i * rows;
            let mr = c.len() / n;
            T::gemm_serial(mr, k, n, a.rows_from(r0), b, beta, c);
        });
}

/// Multiply-adds (`rows·k`) from which [`gemv`] splits rows over rayon's threads.
const GEMV_PAR_THRESHOLD: usize = 1 << 20;

/// `y = A·x + beta·y` for `A` `rows × k` and contiguous `x` and `y`: a matrix-vector product
/// without packing `A` (a GEMM packs the whole matrix, a pass over memory as long as the
/// product itself). A row-major `A` is a dot product per row; a transposed one (the
/// backward pass's `Xᵀ·d`, a vector-matrix product on the stored matrix) adds `x[l]` times
/// each stored row `l` into `y`, three rows per pass. `beta == 0` ignores `y`'s contents.
///
/// # Panics
/// If `A` does not fit its storage, `x` is shorter than `k` or `y` than `rows`.
pub fn gemv<T: Real>(rows: usize, k: usize, a: MatRef<T>, x: &[T], beta: T, y: &mut [T]) {
    assert!(
        a.fits(rows, k) && x.len() >= k && y.len() >= rows,
        "gemv: view out of bounds"
    );
    let (x, y) = (&x[..k], &mut y[..rows]);
    let by_rows = a.cs == 1;
    let by_cols = !by_rows && a.rs == 1 && rows < PAR_THRESHOLD;
    if k == 0 || by_cols {
        if beta == T::ZERO {
            y.fill(T::ZERO);
        } else {
            y.iter_mut().for_each(|v| *v = beta * *v);
        }
    }
    if rows == 0 || k == 0 {
        return;
    }
    let isa = Isa::active();
    if by_rows {
        // Rows in blocks of 64, over rayon's threads when the product is large.
        let block = |(c, yc): (usize, &mut [T])| {
            let rows_on = &a.data[c * 64 * a.rs..];
            dispatch!(isa, gemv_rows(rows_on, a.rs, x, beta, yc));
        };
        if rows * k >= GEMV_PAR_THRESHOLD && rows >= 128 {
            y.par_chunks_mut(64).enumerate().for_each(block);
        } else {
            y.chunks_mut(64).enumerate().for_each(block);
        }
    } else if by_cols {
        dispatch!(isa, gemv_cols(a.data, a.cs, x, y));
    } else {
        T::gemm_serial(rows, k, 1, a, MatRef::row_major(x, 1), beta, y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `C = A·B + beta·C` by the definition, in f64.
    fn naive(
        m: usize,
        k: usize,
        n: usize,
        a: MatRef<f64>,
        b: MatRef<f64>,
        beta: f64,
        c: &[f64],
    ) -> Vec<f64> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = if beta == 0.0 {
                    0.0
                } else {
                    beta * c[i * n + j]
                };
                for l in 0..k {
                    s += a.data[i * a.rs + l * a.cs] * b.data[l * b.rs + j * b.cs];
                }
                out[i * n + j] = s;
            }
        }
        out
    }

    fn values(n: usize, seed: f64) -> Vec<f64> {
        (0..n).map(|i| ((i as f64 + seed) * 0.61).sin()).collect()
    }

    #[test]
    fn vector_products_match_the_definition_at_edge_lengths_and_offsets() {
        // Lengths around the SIMD widths (2, 4, 8 lanes) and the three-rows step; operands
        // one element into their storage, so no view starts aligned.
        let lens = [0usize, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 33, 100];
        for &rows in &lens {
            for &k in &lens {
                for beta in [0.0, 0.5] {
                    let store = values(rows * k + 1, 1.0);
                    let a = &store[1..];
                    let xs = values(k + 1, 2.0);
                    let x = &xs[1..];
                    // y starts as NaN where beta is 0: it must be ignored.
                    let y0: Vec<f64> = if beta == 0.0 {
                        vec![f64::NAN; rows]
                    } else {
                        values(rows, 3.0)
                    };
                    for (what, view) in [
                        ("row-major", MatRef::row_major(a, k)),
                        ("transposed", MatRef::transposed(a, rows)),
                    ] {
                        let col = MatRef::row_major(x, 1);
                        let want = naive(rows, k, 1, view, col, beta, &y0);
                        let mut y = y0.clone();
                        gemm(rows, k, 1, view, col, beta, &mut y);
                        let mut yt = y0.clone();
                        // The same product as a row: yᵀ = xᵀ·Aᵀ.
                        let at = MatRef {
                            data: view.data,
                            rs: view.cs,
                            cs: view.rs,
                        };
                        gemm(1, k, rows, MatRef::row_major(x, k), at, beta, &mut yt);
                        for i in 0..rows {
                            let tol = 1e-13 * (k as f64 + 1.0);
                            assert!(
                                (y[i] - want[i]).abs() <= tol,
                                "{what} {rows}x{k} beta={beta} [{i}]: {} vs {}",
                                y[i],
                                want[i]
                            );
                            assert!(
                                (yt[i] - want[i]).abs() <= tol,
                                "{what} row form {rows}x{k} beta={beta} [{i}]: {} vs {}",
                                yt[i],
                                want[i]
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_long_matrix_vector_product_splits_over_threads_with_the_same_result() {
        let (rows, k) = (4096, 300);
        let a = values(rows * k, 4.0);
        let x = values(k, 5.0);
        let col = MatRef::row_major(&x, 1);
        let want = naive(rows, k, 1, MatRef::row_major(&a, k), col, 0.0, &[]);
        let mut y = vec![0.0; rows];
        gemm(rows, k, 1, MatRef::row_major(&a, k), col, 0.0, &mut y);
        for i in 0..rows {
            assert!(
                (y[i] - want[i]).abs() <= 1e-12,
                "[{i}]: {} vs {}",
                y[i],
                want[i]
            );
        }
    }
}
