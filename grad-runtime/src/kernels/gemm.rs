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
/// multiply-adds.
///
/// # Panics
/// If a view does not fit its storage.
pub fn gemm<T: Gemm>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<T>,
    b: MatRef<T>,
    beta: T,
    c: &mut [T],
) {
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
