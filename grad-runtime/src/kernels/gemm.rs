//! The matrix product `C = A·B (+ βC)` on strided operands, from the `gemm` crate's packed
//! micro-kernels (AVX-512 where the CPU has it), on rayon's threads when large. Products of
//! at most 16 columns whose `B` has contiguous rows take unpacked AVX-512 or AVX2 kernels of
//! grad's own instead (`narrow.rs`), where a packed tile of 8 or 16 columns is mostly
//! padding.
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
use super::{Isa, PAR_THRESHOLD, dispatch, narrow, scalar};
#[cfg(target_arch = "x86_64")]
use super::{x86_v3, x86_v4};
use crate::real::Real;
use rayon::prelude::*;
use std::mem::MaybeUninit;

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
    /// Whether every element of a `rows × cols` view lies inside `data`, computed without
    /// overflow (a wrapped `(rows - 1) * rs` would pass a view that does not fit).
    fn fits(&self, rows: usize, cols: usize) -> bool {
        if rows == 0 || cols == 0 {
            return true;
        }
        let last = (rows - 1)
            .checked_mul(self.rs)
            .zip((cols - 1).checked_mul(self.cs))
            .and_then(|(r, c)| r.checked_add(c));
        last.is_some_and(|last| last < self.data.len())
    }
    /// The row and column strides as the `gemm` crate takes them. A stride along an extent of
    /// at most one is never multiplied by a non-zero index, so it is passed as 1; any other
    /// stride times its extent minus one is below `data.len()` (checked by [`Self::fits`]),
    /// which is at most `isize::MAX`, so the cast is exact.
    fn strides(&self, rows: usize, cols: usize) -> (isize, isize) {
        let s = |extent: usize, stride: usize| if extent <= 1 { 1 } else { stride as isize };
        (s(rows, self.rs), s(cols, self.cs))
    }
}

/// Multiply-adds (`m·n·k`) below which a product stays on one thread. At 2^22 a product
/// takes about 40 µs on one core, far above rayon's hand-off cost; `cargo bench --
/// kernels/gemm` (`_t1` vs `_t2`) measures the split on the shapes that matter.
pub const GEMM_PAR_THRESHOLD: usize = 1 << 22;

/// The element types with a GEMM.
pub trait Gemm: Copy + Send + Sync + 'static {
    /// `C = A·B + beta·C` on one thread, `C` row-major `m × n`; `beta == 0` ignores `C`'s
    /// contents.
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

    /// [`Self::gemm_serial`] on up to `threads` of the current rayon pool. The default runs
    /// on this thread; `f32` and `f64` split the product as the `gemm` crate does.
    ///
    /// # Panics
    /// If a view does not fit its storage.
    #[allow(clippy::too_many_arguments)]
    fn gemm_threads(
        m: usize,
        k: usize,
        n: usize,
        a: MatRef<Self>,
        b: MatRef<Self>,
        beta: Self,
        c: &mut [Self],
        threads: usize,
    ) {
        let _ = threads;
        Self::gemm_serial(m, k, n, a, b, beta, c);
    }

    /// `C = A·B` on up to `threads` threads into `c`, uninitialized, writing each of its
    /// first `m·n` elements; returns `false`, writing nothing, where the type has no such
    /// path (the default), and [`gemm_uninit`] fills `c` with zeros for
    /// [`Self::gemm_threads`] instead. `f32` and `f64` write the product straight into `c`.
    /// Only this crate can override it (its last parameter's type cannot be named outside
    /// it), since [`gemm_uninit`] trusts `true` to mean every element was written.
    ///
    /// # Panics
    /// If a view does not fit its storage.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    fn gemm_uninit_threads(
        m: usize,
        k: usize,
        n: usize,
        a: MatRef<Self>,
        b: MatRef<Self>,
        c: &mut [MaybeUninit<Self>],
        threads: usize,
        _: sealed::Only,
    ) -> bool {
        let _ = (m, k, n, a, b, c, threads);
        false
    }
}

mod sealed {
    /// A token only this crate can make or name: a trait method that takes it can be
    /// overridden here and nowhere else.
    #[derive(Clone, Copy, Debug)]
    pub struct Only;
}

/// `c` as a slice of possibly uninitialized elements, for the product functions that take
/// one.
///
/// # Safety
/// Nothing written through the result may be uninitialized: `c` is read as `T` afterwards.
unsafe fn as_uninit<T>(c: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout, and the caller writes only initialized
    // values.
    unsafe { &mut *(c as *mut [T] as *mut [MaybeUninit<T>]) }
}

/// `C = A·B + beta·C` on `threads` of the current rayon pool (1: this thread only): by the
/// `narrow` kernels for a product of few columns, else by the `gemm` crate. Both take their
/// blocking from `m`, `n` and `k` alone and split whole blocks of `C` over threads, so
/// every element is summed in the same order whatever the thread count, and the result
/// does not depend on it.
///
/// # Safety
/// Where `beta != 0`, `c`'s first `m·n` elements are initialized (with `beta == 0` none
/// is read, and every one is written).
///
/// # Panics
/// If a view does not fit its storage.
#[allow(clippy::too_many_arguments)]
unsafe fn crate_gemm<T: Real>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<T>,
    b: MatRef<T>,
    beta: T,
    c: &mut [MaybeUninit<T>],
    threads: usize,
    narrow: narrow::Product<T>,
) {
    assert!(
        a.fits(m, k) && b.fits(k, n) && holds(c.len(), m, n),
        "gemm: view out of bounds"
    );
    // SAFETY: the views fit (checked above) and `c` is initialized where `beta != 0` (the
    // caller's contract).
    if m == 0 || n == 0 || unsafe { narrow(m, k, n, a, b, beta, c, threads) } {
        return;
    }
    let ((a_rs, a_cs), (b_rs, b_cs)) = (a.strides(m, k), b.strides(k, n));
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: `fits` checked that every element the product reads, `data[i*rs + j*cs]` for
    // `i < rows, j < cols`, is inside `a.data` and `b.data`, and `c` holds the `m × n`
    // row-major output (row stride `n`, which fits `isize` as `c.len()` does); `strides`
    // gives the same offsets for those indices. `c` is exclusively borrowed and the shared
    // operands are not written; it is read only where `beta != 0`, where it is initialized
    // (this function's contract). The crate dispatches on `T`'s type id (`f32`, `f64`, and
    // a panic for any other type, never a reinterpretation). With `read_dst` false
    // (`beta == 0`) the crate writes `C` without reading it; otherwise it computes
    // `beta·C + 1·A·B`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr().cast::<T>(),
            1,
            n as isize,
            beta != T::ZERO,
            a.data.as_ptr(),
            a_cs,
            a_rs,
            b.data.as_ptr(),
            b_cs,
            b_rs,
            beta,
            T::ONE,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// The `Gemm` of `f32` and `f64`: [`crate_gemm`] with the type's narrow kernels.
macro_rules! float_gemm {
    ($($t:ty: $narrow:path),*) => {$(
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
                Self::gemm_threads(m, k, n, a, b, beta, c, 1);
            }
            fn gemm_threads(
                m: usize,
                k: usize,
                n: usize,
                a: MatRef<$t>,
                b: MatRef<$t>,
                beta: $t,
                c: &mut [$t],
                threads: usize,
            ) {
                // SAFETY: `c` is initialized, and the product writes only values into it.
                unsafe { crate_gemm(m, k, n, a, b, beta, as_uninit(c), threads, $narrow) };
            }
            fn gemm_uninit_threads(
                m: usize,
                k: usize,
                n: usize,
                a: MatRef<$t>,
                b: MatRef<$t>,
                c: &mut [MaybeUninit<$t>],
                threads: usize,
                _: sealed::Only,
            ) -> bool {
                // SAFETY: with `beta == 0`, `c` is only written.
                unsafe { crate_gemm(m, k, n, a, b, 0.0, c, threads, $narrow) };
                true
            }
        }
    )*};
}

float_gemm!(f32: narrow::product_f32, f64: narrow::product_f64);

/// `C = A·B + beta·C` with `A` `m × k`, `B` `k × n`, `C` row-major `m × n`, on all of the
/// current rayon pool's threads when the product has at least [`GEMM_PAR_THRESHOLD`]
/// multiply-adds (with the same result as on one). A product with one column (`n == 1`) or
/// one row (`m == 1`) goes to [`gemv`] when its vector operand is contiguous.
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
        a.fits(m, k) && b.fits(k, n) && holds(c.len(), m, n),
        "gemm: view out of bounds"
    );
    if column_gemv(k, n, b) {
        return gemv(m, k, a, &b.data[..k.min(b.data.len())], beta, &mut c[..m]);
    }
    if row_gemv(m, k, a) {
        // Cᵀ = Bᵀ·Aᵀ, with Aᵀ the column.
        let bt = MatRef {
            data: b.data,
            rs: b.cs,
            cs: b.rs,
        };
        return gemv(n, k, bt, &a.data[..k.min(a.data.len())], beta, &mut c[..n]);
    }
    T::gemm_threads(m, k, n, a, b, beta, c, threads_for(m, k, n));
}

/// Whether [`gemm()`] hands a product of one column to [`gemv`]: its vector `B` contiguous.
fn column_gemv<T>(k: usize, n: usize, b: MatRef<T>) -> bool {
    n == 1 && (k <= 1 || b.rs == 1)
}

/// Whether [`gemm()`] hands a product of one row to [`gemv`] (as `Cᵀ = Bᵀ·Aᵀ`): its vector
/// `A` contiguous.
fn row_gemv<T>(m: usize, k: usize, a: MatRef<T>) -> bool {
    m == 1 && (k <= 1 || a.cs == 1)
}

/// Whether a `C` of `len` elements holds `m × n` (false where `m·n` overflows: a view with
/// a zero stride fits any `m`).
fn holds(len: usize, m: usize, n: usize) -> bool {
    m.checked_mul(n).is_some_and(|mn| len >= mn)
}

/// The threads a product of `m·n·k` multiply-adds runs on: all of the current pool's from
/// [`GEMM_PAR_THRESHOLD`] on, else one.
fn threads_for(m: usize, k: usize, n: usize) -> usize {
    if m.saturating_mul(n).saturating_mul(k) < GEMM_PAR_THRESHOLD {
        1
    } else {
        rayon::current_num_threads()
    }
}

/// `C = A·B` into `c`, whose first `m·n` elements need not be initialized and are all
/// written: the output of a product straight into a fresh buffer, with no zero-fill first
/// (for `f32` and `f64`; other types, and the vector products [`gemm()`] hands to [`gemv`],
/// fill `c` with zeros first). Threads as [`gemm()`].
///
/// ```
/// use grad::kernels::gemm::{MatRef, gemm_uninit};
///
/// let (a, b) = ([1.0f64, 2.0, 3.0, 4.0], [1.0, 0.0, 1.0, 1.0]);
/// let mut c = Vec::with_capacity(4);
/// gemm_uninit(2, 2, 2, MatRef::row_major(&a, 2), MatRef::row_major(&b, 2), &mut c.spare_capacity_mut()[..4]);
/// // SAFETY: `gemm_uninit` wrote all 4 elements.
/// unsafe { c.set_len(4) };
/// assert_eq!(c, [3.0, 2.0, 7.0, 4.0]);
/// ```
///
/// # Panics
/// If a view does not fit its storage or `c` is shorter than `m·n`.
pub fn gemm_uninit<T: Real>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<T>,
    b: MatRef<T>,
    c: &mut [MaybeUninit<T>],
) {
    assert!(
        a.fits(m, k) && b.fits(k, n) && holds(c.len(), m, n),
        "gemm: view out of bounds"
    );
    let c = &mut c[..m * n];
    let vector = column_gemv(k, n, b) || row_gemv(m, k, a);
    if vector || !T::gemm_uninit_threads(m, k, n, a, b, c, threads_for(m, k, n), sealed::Only) {
        c.iter_mut().for_each(|x| _ = x.write(T::ZERO));
        // SAFETY: every element was just written.
        let c = unsafe { &mut *(c as *mut [MaybeUninit<T>] as *mut [T]) };
        gemm(m, k, n, a, b, T::ZERO, c);
    }
}

/// Multiply-adds (`rows·k`) from which [`gemv`] splits rows over rayon's threads.
const GEMV_PAR_THRESHOLD: usize = 1 << 20;

/// `y = A·x + beta·y` for `A` `rows × k` and contiguous `x` and `y`: a matrix-vector product
/// without packing `A` (a GEMM packs the whole matrix, a pass over memory as long as the
/// product itself). A row-major `A` is a dot product per row; a transposed one (the
/// backward pass's `Xᵀ·d`, a vector-matrix product on the stored matrix) adds `x[l]` times
/// each stored row `l` into `y`, four rows per pass. `beta == 0` ignores `y`'s contents.
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

    /// `C = A·B + beta·C` in `T` against [`naive`] in f64 on the same (rounded) values, for
    /// every extent in `dims` and every layout of `A` and `B` (row-major or a transposed
    /// view). Operands and `C` start one element into their storage, so no view is aligned;
    /// where `beta` is 0, `C` starts as NaN and must be ignored. The tolerance is the
    /// standard bound of a `k`-term dot product, `(k + 2)·ε·(Σ|a||b| + |beta·c|)`.
    fn products_match_the_definition<T: Real>(dims: &[usize]) {
        fn view<U>(data: &[U], rows: usize, cols: usize, transposed: bool) -> MatRef<'_, U> {
            if transposed {
                MatRef::transposed(data, rows)
            } else {
                MatRef::row_major(data, cols)
            }
        }
        let eps = if size_of::<T>() == 4 {
            f32::EPSILON as f64
        } else {
            f64::EPSILON
        };
        let round = |v: Vec<f64>| -> Vec<T> { v.into_iter().map(T::from_f64).collect() };
        let wide = |v: &[T]| -> Vec<f64> { v.iter().map(|x| x.to_f64()).collect() };
        for &m in dims {
            for &k in dims {
                for &n in dims {
                    let a = round(values(m * k + 1, 1.0));
                    let b = round(values(k * n + 1, 2.0));
                    let (a64, b64) = (wide(&a), wide(&b));
                    let a_abs: Vec<f64> = a64.iter().map(|x| x.abs()).collect();
                    let b_abs: Vec<f64> = b64.iter().map(|x| x.abs()).collect();
                    for beta in [0.0, 0.5] {
                        let c0: Vec<T> = if beta == 0.0 {
                            vec![T::NAN; m * n + 1]
                        } else {
                            round(values(m * n + 1, 3.0))
                        };
                        let c64 = wide(&c0[1..]);
                        let c_abs: Vec<f64> = c64.iter().map(|x| x.abs()).collect();
                        for (at, bt) in [(false, false), (true, false), (false, true), (true, true)]
                        {
                            let (av, bv) = (view(&a[1..], m, k, at), view(&b[1..], k, n, bt));
                            let (av64, bv64) =
                                (view(&a64[1..], m, k, at), view(&b64[1..], k, n, bt));
                            let want = naive(m, k, n, av64, bv64, beta, &c64);
                            let (a_abs, b_abs) =
                                (view(&a_abs[1..], m, k, at), view(&b_abs[1..], k, n, bt));
                            let bound = naive(m, k, n, a_abs, b_abs, beta, &c_abs);
                            let mut c = c0.clone();
                            gemm(m, k, n, av, bv, T::from_f64(beta), &mut c[1..]);
                            let mut s = c0.clone();
                            T::gemm_serial(m, k, n, av, bv, T::from_f64(beta), &mut s[1..]);
                            for i in 0..m * n {
                                let tol = (k as f64 + 2.0) * eps * bound[i];
                                for (what, got) in [("gemm", c[1 + i]), ("gemm_serial", s[1 + i])] {
                                    assert!(
                                        (got.to_f64() - want[i]).abs() <= tol,
                                        "{what} {m}x{k}x{n} at={at} bt={bt} beta={beta} [{i}]: \
                                         {got:?} vs {}",
                                        want[i]
                                    );
                                }
                            }
                            assert!(
                                c[0].to_f64().to_bits() == c0[0].to_f64().to_bits(),
                                "the element before C was written"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn matrix_products_match_the_definition_at_edge_shapes_f32() {
        // 0, 1, and one either side of the AVX-512 (16 lanes), AVX2 (8) and SSE/NEON (4)
        // widths, and of twice the widest (the micro-kernels' row tiles are lane multiples).
        products_match_the_definition::<f32>(&[0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33]);
    }

    #[test]
    fn matrix_products_match_the_definition_at_edge_shapes_f64() {
        // f64: 8 lanes in AVX-512, 4 in AVX2, 2 in SSE/NEON.
        products_match_the_definition::<f64>(&[0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33]);
    }

    #[test]
    fn a_product_into_an_uninitialized_buffer_is_the_product() {
        // The buffer's old contents are NaN: a path that read them would show it. Shapes
        // for each path: vector products (one column, one row), narrow (10 columns, rows
        // by and past a tile), packed (17 and 40 columns), and the empty ones.
        fn check<T: Real>() {
            let shapes = [
                (5, 7, 1),
                (1, 7, 5),
                (16, 9, 10),
                (37, 300, 10),
                (16, 0, 10),
                (20, 1, 10),
                (20, 9, 17),
            ];
            let more = [(33, 40, 40), (0, 3, 4), (4, 0, 4), (4, 3, 0)];
            for (m, k, n) in shapes.into_iter().chain(more) {
                let a: Vec<T> = values(m * k, 1.0).into_iter().map(T::from_f64).collect();
                let b: Vec<T> = values(k * n, 2.0).into_iter().map(T::from_f64).collect();
                for av in [MatRef::row_major(&a, k), MatRef::transposed(&a, m)] {
                    let bv = MatRef::row_major(&b, n);
                    let mut want = vec![T::ZERO; m * n];
                    gemm(m, k, n, av, bv, T::ZERO, &mut want);
                    let mut c = vec![T::NAN; m * n];
                    c.clear();
                    gemm_uninit(m, k, n, av, bv, &mut c.spare_capacity_mut()[..m * n]);
                    // SAFETY: `gemm_uninit` wrote all `m·n` elements.
                    unsafe { c.set_len(m * n) };
                    let same = c.iter().zip(&want);
                    assert!(
                        same.clone()
                            .all(|(x, y)| x.to_f64().to_bits() == y.to_f64().to_bits()),
                        "{m}x{k}x{n} (A rs={}, cs={}): {:?} vs {:?}",
                        av.rs,
                        av.cs,
                        &c[..c.len().min(4)],
                        &want[..want.len().min(4)]
                    );
                }
            }
        }
        check::<f32>();
        check::<f64>();
        check::<crate::Dual<f64>>();
    }

    #[test]
    fn a_large_product_has_the_same_result_on_one_and_two_threads() {
        // 128·1024·64 = 2^23 multiply-adds, above GEMM_PAR_THRESHOLD: two threads split it;
        // k = 1024 is longer than one of the crate's depth blocks, so each element is a sum
        // of partial sums, whose grouping must not follow the thread count.
        fn on<T: Real>(threads: usize, at: bool, a: &[T], b: &[T]) -> Vec<T> {
            let (m, k, n) = (128, 1024, 64);
            let av = if at {
                MatRef::transposed(a, m)
            } else {
                MatRef::row_major(a, k)
            };
            let mut c = vec![T::ZERO; m * n];
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a rayon pool");
            pool.install(|| gemm(m, k, n, av, MatRef::row_major(b, n), T::ZERO, &mut c));
            c
        }
        fn check<T: Real>() {
            let a: Vec<T> = values(128 * 1024, 6.0)
                .into_iter()
                .map(T::from_f64)
                .collect();
            let b: Vec<T> = values(1024 * 64, 7.0)
                .into_iter()
                .map(T::from_f64)
                .collect();
            for at in [false, true] {
                let one = on(1, at, &a, &b);
                let two = on(2, at, &a, &b);
                assert!(
                    one.iter()
                        .zip(&two)
                        .all(|(x, y)| x.to_f64().to_bits() == y.to_f64().to_bits()),
                    "at={at}: 1 and 2 threads differ"
                );
            }
        }
        check::<f32>();
        check::<f64>();
    }

    #[test]
    #[should_panic(expected = "view out of bounds")]
    fn a_result_whose_size_overflows_is_out_of_bounds() {
        // A zero row stride fits any number of rows; 2^62·4 wraps to 0 in usize, which an
        // unchecked `c.len() >= m·n` would accept.
        let a = [1.0f64];
        let b = [1.0f64; 4];
        let tall = MatRef {
            data: &a,
            rs: 0,
            cs: 1,
        };
        f64::gemm_serial(1 << 62, 1, 4, tall, MatRef::row_major(&b, 4), 0.0, &mut []);
    }

    #[test]
    #[should_panic(expected = "view out of bounds")]
    fn a_view_whose_extent_overflows_is_out_of_bounds() {
        // (3 - 1)·(2^63) wraps to 0 in usize: the view must still be rejected.
        let a = [1.0f64; 4];
        let huge = MatRef {
            data: &a,
            rs: 1 << 63,
            cs: 1,
        };
        let mut c = [0.0; 6];
        gemm(3, 2, 2, huge, MatRef::row_major(&a, 2), 0.0, &mut c);
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
