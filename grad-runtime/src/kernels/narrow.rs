//! Matrix products with few columns (`C = A·B + βC` with `n ≤` [`NARROW_MAX`]), by explicit
//! AVX-512 and AVX2 micro-kernels.
//!
//! A packed GEMM's micro-kernel tiles `C` 8 or 16 columns wide, so a product of 10 columns
//! (a classifier's last layer, `h·W2`, and its weight gradient `hᵀ·∂pre2`) fills little of
//! its second tile and still pays for packing both operands. Here a tile is `R` rows of `C`
//! by all its columns, held in vector registers along the row (the last vector masked):
//! each step of the depth loads one row of `B` (contiguous, never packed) and adds it,
//! times each of the `R` elements of `A`'s column broadcast, into the `R` rows. Nothing is
//! packed and no lane sum is reduced; `A` is read in place, whether stored by rows or by
//! columns.
//!
//! The kernels are written with `core::arch` intrinsics, not the portable bodies the other
//! kernels vectorize through: auto-vectorized forms of these loops kept their accumulators
//! in memory at some column counts (README, kernel table). One generic tile, over a
//! [`Lanes`] trait of the few vector operations it needs, is instantiated per instruction
//! set and element type inside a `#[target_feature]` function.
//!
//! Each element of `C` is summed in the order of the depth, in blocks of [`KC`] added into
//! `C` in turn, whatever the thread count (threads take contiguous parts of the rows, and a
//! row's sums do not depend on the tile it falls in).

use super::Isa;
use super::gemm::MatRef;
use crate::real::Real;
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// The most columns a product may have to take the narrow kernels: two AVX-512 vectors of
/// `f64`, one of `f32`. From 16 columns on a packed micro-kernel fills its tiles.
pub const NARROW_MAX: usize = 16;

/// The depth of one block: `KC` rows of `B` (at most 16 KiB of `f32` or 32 KiB of `f64`)
/// stay in the L1 cache while every tile of rows passes over them.
const KC: usize = 256;

/// A narrow product, `product_f32` or `product_f64`: `C = A·B + beta·C` on up to the
/// given threads, or `false`, touching nothing, where the kernels do not apply.
///
/// Unsafe for `C`: where `beta != 0` its first `m·n` elements must be initialized (with
/// `beta == 0` none is read and every one is written); the caller has checked that the
/// views fit their storage and `C` holds `m × n`.
pub(super) type Product<T> =
    unsafe fn(usize, usize, usize, MatRef<T>, MatRef<T>, T, &mut [MaybeUninit<T>], usize) -> bool;

#[cfg(target_arch = "x86_64")]
pub(super) use x86::{product_f32, product_f64};

/// Off x86-64 no narrow kernel is written: the packed product runs.
#[cfg(not(target_arch = "x86_64"))]
macro_rules! none {
    ($($fname:ident: $t:ty),*) => {$(
        /// # Safety
        /// None needed (nothing is done); unsafe to match the x86-64 function.
        #[allow(clippy::too_many_arguments)]
        pub(super) unsafe fn $fname(
            _: usize,
            _: usize,
            _: usize,
            _: MatRef<$t>,
            _: MatRef<$t>,
            _: $t,
            _: &mut [MaybeUninit<$t>],
            _: usize,
        ) -> bool {
            false
        }
    )*};
}
#[cfg(not(target_arch = "x86_64"))]
none!(product_f32: f32, product_f64: f64);

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    use core::arch::x86_64::*;

    /// The vector operations a tile needs, for one instruction set and element type. Every
    /// method is `unsafe`: the CPU must have the instruction set, and pointers must be valid
    /// for the lanes the method touches (all of them, or the mask's).
    pub(super) trait Lanes {
        /// The element type.
        type T: Real;
        /// A vector of [`Self::W`] elements.
        type V: Copy;
        /// Which lanes a masked load or store touches.
        type M: Copy;
        /// Lanes per vector.
        const W: usize;
        /// The mask of the first `count` lanes, `1 ≤ count ≤ W`.
        unsafe fn mask(count: usize) -> Self::M;
        unsafe fn zero() -> Self::V;
        /// `*p` in every lane.
        unsafe fn splat(p: *const Self::T) -> Self::V;
        /// `a·b + c`, fused.
        unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
        /// `W` lanes from `p`.
        unsafe fn loadu(p: *const Self::T) -> Self::V;
        /// The masked lanes from `p`, zero in the others (which are not read).
        unsafe fn load(p: *const Self::T, m: Self::M) -> Self::V;
        /// The masked lanes of `v` to `p` (the others are not written).
        unsafe fn store(p: *mut Self::T, m: Self::M, v: Self::V);
    }

    macro_rules! lanes {
        ($name:ident, $t:ty, $v:ty, $m:ty, $w:literal,
         mask: |$c:ident| $mask:expr, zero: $zero:ident, splat: $splat:ident,
         fma: $fma:ident, loadu: $loadu:ident, load: |$lp:ident, $lm:ident| $load:expr,
         store: |$sp:ident, $sm:ident, $sv:ident| $store:expr) => {
            pub(super) struct $name;
            impl Lanes for $name {
                type T = $t;
                type V = $v;
                type M = $m;
                const W: usize = $w;
                #[inline(always)]
                #[allow(unused_unsafe)] // the AVX-512 masks are integer arithmetic
                unsafe fn mask($c: usize) -> $m {
                    // SAFETY: the intrinsics only compute; see the trait.
                    unsafe { $mask }
                }
                #[inline(always)]
                unsafe fn zero() -> $v {
                    // SAFETY: see the trait.
                    unsafe { $zero() }
                }
                #[inline(always)]
                unsafe fn splat(p: *const $t) -> $v {
                    // SAFETY: `p` is valid for one element (the trait's contract).
                    unsafe { $splat(*p) }
                }
                #[inline(always)]
                unsafe fn fma(a: $v, b: $v, c: $v) -> $v {
                    // SAFETY: see the trait.
                    unsafe { $fma(a, b, c) }
                }
                #[inline(always)]
                unsafe fn loadu(p: *const $t) -> $v {
                    // SAFETY: `p` is valid for `W` elements.
                    unsafe { $loadu(p) }
                }
                #[inline(always)]
                unsafe fn load($lp: *const $t, $lm: $m) -> $v {
                    // SAFETY: `p` is valid for the masked lanes; masked-off lanes are
                    // neither read nor faulted on.
                    unsafe { $load }
                }
                #[inline(always)]
                unsafe fn store($sp: *mut $t, $sm: $m, $sv: $v) {
                    // SAFETY: `p` is valid for writes of the masked lanes only.
                    unsafe { $store }
                }
            }
        };
    }

    lanes!(Avx512F32, f32, __m512, __mmask16, 16,
        mask: |c| ((1u32 << c) - 1) as u16, zero: _mm512_setzero_ps, splat: _mm512_set1_ps,
        fma: _mm512_fmadd_ps, loadu: _mm512_loadu_ps, load: |p, m| _mm512_maskz_loadu_ps(m, p),
        store: |p, m, v| _mm512_mask_storeu_ps(p, m, v));
    lanes!(Avx512F64, f64, __m512d, __mmask8, 8,
        mask: |c| ((1u32 << c) - 1) as u8, zero: _mm512_setzero_pd, splat: _mm512_set1_pd,
        fma: _mm512_fmadd_pd, loadu: _mm512_loadu_pd, load: |p, m| _mm512_maskz_loadu_pd(m, p),
        store: |p, m, v| _mm512_mask_storeu_pd(p, m, v));
    lanes!(Avx2F32, f32, __m256, __m256i, 8,
        mask: |c| _mm256_cmpgt_epi32(_mm256_set1_epi32(c as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
        zero: _mm256_setzero_ps, splat: _mm256_set1_ps,
        fma: _mm256_fmadd_ps, loadu: _mm256_loadu_ps, load: |p, m| _mm256_maskload_ps(p, m),
        store: |p, m, v| _mm256_maskstore_ps(p, m, v));
    lanes!(Avx2F64, f64, __m256d, __m256i, 4,
        mask: |c| _mm256_cmpgt_epi64(_mm256_set1_epi64x(c as i64),
            _mm256_setr_epi64x(0, 1, 2, 3)),
        zero: _mm256_setzero_pd, splat: _mm256_set1_pd,
        fma: _mm256_fmadd_pd, loadu: _mm256_loadu_pd, load: |p, m| _mm256_maskload_pd(p, m),
        store: |p, m, v| _mm256_maskstore_pd(p, m, v));

    /// One tile: rows `skip..R` of `C` (row stride `n`, at `c`) from `R` rows of `A` (at `a`,
    /// element `(r, l)` at `a + r·a_rs + l·a_cs`) and `depth` rows of `B` (at `b`, stride
    /// `b_rs`, `n` contiguous elements each), plus `factor·C` unless `factor` is zero (then
    /// `C` is not read). The first `skip` rows are computed and dropped: a last tile that
    /// overlaps the one before it.
    ///
    /// # Safety
    /// The CPU has `L`'s instruction set; the `R × depth` elements of `A`, the `depth × n`
    /// of `B` and the `(R - skip) × n` of `C` are valid (`C` for writes, and initialized
    /// where `factor != 0`);
    /// `(NV - 1)·W < n ≤ NV·W`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile<L: Lanes, const R: usize, const NV: usize>(
        a: *const L::T,
        a_rs: usize,
        a_cs: usize,
        depth: usize,
        b: *const L::T,
        b_rs: usize,
        n: usize,
        c: *mut L::T,
        skip: usize,
        factor: L::T,
    ) {
        // SAFETY: every pointer below stays inside the regions the caller vouches for: rows
        // `r < R` and `l < depth` of `A`, lanes `v·W..` of `B`'s rows, masked to `n` in the
        // last vector (whole vectors before it), and rows `skip..R` of `C`.
        unsafe {
            let full = L::mask(L::W);
            let tail = L::mask(n - (NV - 1) * L::W);
            let mut acc = [[L::zero(); NV]; R];
            for l in 0..depth {
                let bl = b.add(l * b_rs);
                let mut row = [L::zero(); NV];
                for (v, x) in row.iter_mut().enumerate() {
                    let p = bl.add(v * L::W);
                    *x = if v + 1 == NV {
                        L::load(p, tail)
                    } else {
                        L::loadu(p)
                    };
                }
                let al = a.add(l * a_cs);
                for (r, acc) in acc.iter_mut().enumerate() {
                    let x = L::splat(al.add(r * a_rs));
                    for v in 0..NV {
                        acc[v] = L::fma(x, row[v], acc[v]);
                    }
                }
            }
            let read = factor != L::T::ZERO;
            let f = L::splat(&factor);
            for (r, acc) in acc.iter().enumerate().skip(skip) {
                for (v, &sum) in acc.iter().enumerate() {
                    let m = if v + 1 == NV { tail } else { full };
                    let p = c.add(r * n + v * L::W);
                    let out = if read {
                        L::fma(f, L::load(p, m), sum)
                    } else {
                        sum
                    };
                    L::store(p, m, out);
                }
            }
        }
    }

    /// `C = A·B + beta·C` for `m ≥ R` rows, tile by tile, depth block by depth block.
    ///
    /// # Safety
    /// The CPU has `L`'s instruction set; `a` and `b` fit `m × k` and `k × n` with
    /// `a.cs == 1` or `a.rs == 1`, and `b.cs == 1` (or `n == 1`); `c` holds `m × n`,
    /// initialized where `beta != 0`; `(NV - 1)·W < n ≤ NV·W`; `m ≥ R`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn blocks<L: Lanes, const R: usize, const NV: usize>(
        m: usize,
        k: usize,
        n: usize,
        a: MatRef<L::T>,
        b: MatRef<L::T>,
        beta: L::T,
        c: &mut [MaybeUninit<L::T>],
    ) {
        if k == 0 {
            // No depth: C = beta·C, with beta == 0 ignoring C.
            for x in &mut c[..m * n] {
                x.write(if beta == L::T::ZERO {
                    L::T::ZERO
                } else {
                    // SAFETY: `c` is initialized where `beta != 0`.
                    beta * unsafe { x.assume_init() }
                });
            }
            return;
        }
        let (ap, bp, cp) = (
            a.data.as_ptr(),
            b.data.as_ptr(),
            c.as_mut_ptr().cast::<L::T>(),
        );
        let mut k0 = 0;
        while k0 < k {
            let depth = KC.min(k - k0);
            let factor = if k0 == 0 { beta } else { L::T::ONE };
            let mut i0 = 0;
            while i0 < m {
                // A last tile of fewer than R rows starts R rows from the end instead and
                // keeps only its rows past the previous tile.
                let (start, skip) = if i0 + R <= m {
                    (i0, 0)
                } else {
                    (m - R, i0 + R - m)
                };
                // SAFETY: rows `start..start + R ≤ m` of A and depth `k0..k0 + depth ≤ k`
                // lie inside `a.data` (it fits `m × k`, and `m ≥ R` bounds `a.rs`; a stride
                // along a depth of one is only ever multiplied by 0); rows `k0..` of B
                // inside `b.data` with `n` contiguous elements each (one element where
                // `n == 1`, whatever `b.cs`); rows `start + skip..start + R` of C inside
                // `c`, which holds `m × n`, and a depth block after the first reads only
                // elements the first wrote (the same tiles); the caller vouches for the
                // rest.
                unsafe {
                    let tile_a = ap.add(start * a.rs + k0 * a.cs);
                    let tile_b = bp.add(k0 * b.rs);
                    let tile_c = cp.add(start * n);
                    if a.cs == 1 {
                        tile::<L, R, NV>(
                            tile_a, a.rs, 1, depth, tile_b, b.rs, n, tile_c, skip, factor,
                        );
                    } else {
                        tile::<L, R, NV>(
                            tile_a, 1, a.cs, depth, tile_b, b.rs, n, tile_c, skip, factor,
                        );
                    }
                }
                i0 = start + R;
            }
            k0 += depth;
        }
    }

    /// For one instruction set and element type, a module of two functions: `rows(nv)`,
    /// the rows per tile when a row of `C` takes `nv` vectors (`None` past the widest
    /// tile), and `run`, [`blocks`] with that tile shape under the instruction set's target
    /// features. The table `nv => rows` is the one place the tile shapes are chosen: as
    /// many accumulators as the registers hold beside a row of `B` and a broadcast.
    macro_rules! entry {
        ($name:ident, $l:ty, $features:literal; $($nv:literal => $r:literal),*) => {
            mod $name {
                use super::*;
                pub(super) type L = $l;
                type T = <$l as Lanes>::T;

                pub(super) fn rows(nv: usize) -> Option<usize> {
                    match nv {
                        $($nv => Some($r),)*
                        _ => None,
                    }
                }

                /// # Safety
                /// As [`blocks`], with `m ≥ rows(n.div_ceil(W))`.
                #[target_feature(enable = $features)]
                pub(super) unsafe fn run(
                    m: usize,
                    k: usize,
                    n: usize,
                    a: MatRef<T>,
                    b: MatRef<T>,
                    beta: T,
                    c: &mut [MaybeUninit<T>],
                ) {
                    match n.div_ceil(<$l>::W) {
                        // SAFETY: the caller's contract, with this tile shape.
                        $($nv => unsafe { blocks::<$l, $r, $nv>(m, k, n, a, b, beta, c) },)*
                        _ => unreachable!("narrow: {n} columns are wider than every tile"),
                    }
                }
            }
        };
    }

    // AVX-512 (32 registers): one vector per row of C, 16 rows; two, 8 rows (16
    // accumulators cover the FMA latency on two ports with under one load per FMA).
    entry!(avx512_f32, Avx512F32, "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"; 1 => 16);
    entry!(avx512_f64, Avx512F64, "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"; 1 => 16, 2 => 8);
    // AVX2 (16 registers): 12 accumulators, and at most two vectors a row (`f64` past 8
    // columns goes to the packed product: three and four vectors of 4 lanes measured at
    // 0.46–0.75 of the crate's AVX-512 kernels here, a comparison too unfavourable to the
    // AVX2 kernels to decide on; two vectors measured 0.8–1.7).
    entry!(avx2_f32, Avx2F32, "avx2,fma"; 1 => 12, 2 => 6);
    entry!(avx2_f64, Avx2F64, "avx2,fma"; 1 => 12, 2 => 6);

    /// The narrow product for one element type, on the AVX-512 and AVX2 modules given.
    macro_rules! typed {
        ($fname:ident, $t:ty, $v4:ident, $v3:ident) => {
            /// A [`Product`] on this type.
            ///
            /// # Safety
            /// As [`Product`].
            #[allow(clippy::too_many_arguments)]
            pub(crate) unsafe fn $fname(
                m: usize,
                k: usize,
                n: usize,
                a: MatRef<$t>,
                b: MatRef<$t>,
                beta: $t,
                c: &mut [MaybeUninit<$t>],
                threads: usize,
            ) -> bool {
                let by_rows_or_columns = a.cs == 1 || a.rs == 1;
                if n == 0 || n > NARROW_MAX || (n > 1 && b.cs != 1) || !by_rows_or_columns {
                    return false;
                }
                type Run = unsafe fn(
                    usize,
                    usize,
                    usize,
                    MatRef<$t>,
                    MatRef<$t>,
                    $t,
                    &mut [MaybeUninit<$t>],
                );
                let (run, rows): (Run, _) = match Isa::active() {
                    Isa::Avx512 => ($v4::run, $v4::rows(n.div_ceil(<$v4::L as Lanes>::W))),
                    Isa::Avx2Fma => ($v3::run, $v3::rows(n.div_ceil(<$v3::L as Lanes>::W))),
                    _ => return false,
                };
                let Some(rows) = rows.filter(|&r| m >= r) else {
                    return false;
                };
                // Threads take contiguous parts of at least `rows` rows each.
                let parts = threads.min(m / rows).max(1);
                let c = &mut c[..m * n];
                if parts == 1 {
                    // SAFETY: the path is active, so the CPU has it (`Isa::active`); the
                    // caller checked that `a`, `b` and `c` fit the product and vouches
                    // that `c` is initialized where `beta != 0`; the tests above give
                    // `b.cs == 1` (or one column), `n` within the tile and `m ≥ rows`.
                    unsafe { run(m, k, n, a, b, beta, c) };
                    return true;
                }
                let mut pieces = Vec::with_capacity(parts);
                let (mut rest, mut i0) = (c, 0);
                for p in 0..parts {
                    let rows_p = (m - i0) / (parts - p);
                    let (head, tail) = rest.split_at_mut(rows_p * n);
                    // With no depth A is never read (and its storage may be empty).
                    let a_p = MatRef {
                        data: a.data.get(i0 * a.rs..).unwrap_or(&[]),
                        ..a
                    };
                    pieces.push((rows_p, a_p, head));
                    (rest, i0) = (tail, i0 + rows_p);
                }
                pieces.into_par_iter().for_each(|(rows_p, a_p, c_p)| {
                    // SAFETY: as above, for rows `i0..i0 + rows_p` of A and C, with
                    // `rows_p ≥ m / parts ≥ rows`.
                    unsafe { run(rows_p, k, n, a_p, b, beta, c_p) }
                });
                true
            }
        };
    }

    typed!(product_f32, f32, avx512_f32, avx2_f32);
    typed!(product_f64, f64, avx512_f64, avx2_f64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::with_isa;

    /// `product` into an initialized `c`, on views the tests made to fit.
    #[allow(clippy::too_many_arguments)]
    fn call<T: Real>(
        product: Product<T>,
        m: usize,
        k: usize,
        n: usize,
        a: MatRef<T>,
        b: MatRef<T>,
        beta: T,
        c: &mut [T],
        threads: usize,
    ) -> bool {
        assert!(c.len() >= m * n);
        let c = c as *mut [T] as *mut [MaybeUninit<T>];
        // SAFETY: `c` is initialized and the product writes only values into it; every
        // test's views fit their storage.
        unsafe { product(m, k, n, a, b, beta, &mut *c, threads) }
    }

    fn values(n: usize, seed: f64) -> Vec<f64> {
        (0..n).map(|i| ((i as f64 + seed) * 0.61).sin()).collect()
    }

    /// `Σ_l a(i, l)·b(l, j)` and `Σ_l |a(i, l)·b(l, j)|` in f64.
    fn reference<T: Real>(
        m: usize,
        k: usize,
        n: usize,
        a: MatRef<T>,
        b: MatRef<T>,
    ) -> (Vec<f64>, Vec<f64>) {
        let (mut sum, mut bound) = (vec![0.0; m * n], vec![0.0; m * n]);
        for i in 0..m {
            for j in 0..n {
                for l in 0..k {
                    let p =
                        a.data[i * a.rs + l * a.cs].to_f64() * b.data[l * b.rs + j * b.cs].to_f64();
                    sum[i * n + j] += p;
                    bound[i * n + j] += p.abs();
                }
            }
        }
        (sum, bound)
    }

    /// Every narrow product on every instruction set this CPU has, against the definition:
    /// `A` by rows and by columns, `beta` 0 (with `C` NaN, to be ignored) and not, operands
    /// one element into their storage (no view aligned), `C` between two sentinels that must
    /// survive (the masked stores of the last vector), rows one either side of each tile's
    /// height and past it (the overlapping last tile), columns 1 to 16 (every mask), depths
    /// 0, 1, 5 and one past a depth block.
    fn matches_the_definition<T: Real>(product: Product<T>) {
        let eps = if size_of::<T>() == 4 {
            f32::EPSILON as f64
        } else {
            f64::EPSILON
        };
        let round = |v: Vec<f64>| -> Vec<T> { v.into_iter().map(T::from_f64).collect() };
        let mut ran = 0;
        for isa in Isa::supported() {
            for n in 1..=NARROW_MAX {
                for m in [3, 5, 6, 7, 8, 9, 12, 13, 16, 17, 27] {
                    let deep = [3, 8, 10, 16].contains(&n) && m > 12;
                    for k in [0, 1, 5].into_iter().chain(deep.then_some(KC + 1)) {
                        let a = round(values(m * k + 1, 1.0));
                        let b = round(values(k * n + 1, 2.0));
                        for by_columns in [false, true] {
                            let av = if by_columns {
                                MatRef::transposed(&a[1..], m)
                            } else {
                                MatRef::row_major(&a[1..], k)
                            };
                            let bv = MatRef::row_major(&b[1..], n);
                            let (sum, bound) = reference(m, k, n, av, bv);
                            for beta in [0.0, 0.5] {
                                let sentinel = T::from_f64(7.0);
                                let mut c: Vec<T> = if beta == 0.0 {
                                    vec![T::NAN; m * n + 2]
                                } else {
                                    round(values(m * n + 2, 3.0))
                                };
                                (c[0], c[m * n + 1]) = (sentinel, sentinel);
                                let c0 = c.clone();
                                let beta_t = T::from_f64(beta);
                                let out = &mut c[1..m * n + 1];
                                let took = with_isa(isa, || {
                                    call(product, m, k, n, av, bv, beta_t, out, 1)
                                });
                                if m == 27 {
                                    // Past every tile's height: taken wherever the tables
                                    // have a tile for `n` columns.
                                    let wide_avx2_f64 =
                                        isa == Isa::Avx2Fma && size_of::<T>() == 8 && n > 8;
                                    let vector = matches!(isa, Isa::Avx512 | Isa::Avx2Fma);
                                    let expected =
                                        vector && !wide_avx2_f64 && cfg!(target_arch = "x86_64");
                                    assert_eq!(took, expected, "{isa:?} {m}x{k}x{n}");
                                }
                                if !took {
                                    continue;
                                }
                                ran += 1;
                                for i in 0..m * n {
                                    let old = if beta == 0.0 {
                                        0.0
                                    } else {
                                        beta * c0[1 + i].to_f64()
                                    };
                                    let want = sum[i] + old;
                                    let tol = (k as f64 + 2.0) * eps * (bound[i] + old.abs());
                                    let got = c[1 + i].to_f64();
                                    assert!(
                                        (got - want).abs() <= tol,
                                        "{isa:?} {m}x{k}x{n} by_columns={by_columns} beta={beta} [{i}]: {got} vs {want}"
                                    );
                                }
                                assert!(
                                    c[0] == sentinel && c[m * n + 1] == sentinel,
                                    "{isa:?} {m}x{k}x{n}: wrote outside C"
                                );
                            }
                        }
                    }
                }
            }
        }
        // The vector paths take these products (rows at least a tile's height); on a CPU
        // with neither, none ran, and the packed product covers them.
        let vector = Isa::supported()
            .iter()
            .any(|i| matches!(i, Isa::Avx512 | Isa::Avx2Fma));
        assert_eq!(ran > 0, vector && cfg!(target_arch = "x86_64"));
    }

    #[test]
    fn narrow_products_match_the_definition_f32() {
        matches_the_definition::<f32>(product_f32);
    }

    #[test]
    fn narrow_products_match_the_definition_f64() {
        matches_the_definition::<f64>(product_f64);
    }

    #[test]
    fn products_the_kernels_do_not_fit_are_declined() {
        let a = values(64 * 64, 1.0);
        let mut c = vec![0.0; 64 * 64];
        let row = MatRef::row_major(&a, 64);
        type Case<'a> = (&'a str, usize, usize, MatRef<'a, f64>, MatRef<'a, f64>);
        let cases: [Case; 5] = [
            ("17 columns", 32, 17, row, row),
            ("B by columns", 32, 10, row, MatRef::transposed(&a, 64)),
            (
                "A with two strides",
                32,
                10,
                MatRef {
                    data: &a,
                    rs: 2,
                    cs: 64,
                },
                row,
            ),
            ("fewer rows than a tile", 2, 10, row, row),
            ("no columns", 32, 0, row, row),
        ];
        for isa in Isa::supported() {
            for (what, m, n, av, bv) in cases {
                let ran = with_isa(isa, || call(product_f64, m, 16, n, av, bv, 0.0, &mut c, 1));
                assert!(!ran, "{isa:?}: {what} took the narrow kernels");
            }
            // 8 columns: one AVX-512 vector of `f64`, two of AVX2.
            let ran = with_isa(isa, || {
                call(product_f64, 32, 16, 8, row, row, 0.0, &mut c, 1)
            });
            let vector = matches!(isa, Isa::Avx512 | Isa::Avx2Fma);
            assert_eq!(ran, vector && cfg!(target_arch = "x86_64"), "{isa:?}");
        }
    }

    #[test]
    fn threads_split_rows_with_the_same_bits() {
        // 301 rows over 2 threads: parts of 150 and 151 rows, each ending in an
        // overlapping tile; a depth of two blocks; 10 columns (8 on AVX2 `f64`), on every
        // vector path.
        const M: usize = 301;
        const K: usize = 2 * KC + 3;
        fn on<T: Real>(
            product: Product<T>,
            isa: Isa,
            threads: usize,
            (n, av, bv): (usize, MatRef<T>, MatRef<T>),
        ) -> Vec<T> {
            let mut c = vec![T::ZERO; M * n];
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .expect("a pool");
            let took = pool.install(|| {
                with_isa(isa, || {
                    call(product, M, K, n, av, bv, T::ZERO, &mut c, threads)
                })
            });
            assert!(took, "{isa:?}: the narrow kernels declined {M}x{K}x{n}");
            c
        }
        fn check<T: Real>(product: Product<T>) {
            for isa in Isa::supported() {
                if !matches!(isa, Isa::Avx512 | Isa::Avx2Fma) || !cfg!(target_arch = "x86_64") {
                    continue;
                }
                let n = if isa == Isa::Avx2Fma && size_of::<T>() == 8 {
                    8
                } else {
                    10
                };
                let a: Vec<T> = values(M * K, 4.0).into_iter().map(T::from_f64).collect();
                let b: Vec<T> = values(K * n, 5.0).into_iter().map(T::from_f64).collect();
                let bv = MatRef::row_major(&b, n);
                for av in [MatRef::row_major(&a, K), MatRef::transposed(&a, M)] {
                    let one = on(product, isa, 1, (n, av, bv));
                    let two = on(product, isa, 2, (n, av, bv));
                    let same = one
                        .iter()
                        .zip(&two)
                        .all(|(x, y)| x.to_f64().to_bits() == y.to_f64().to_bits());
                    assert!(
                        same,
                        "{isa:?}: 1 and 2 threads differ (A rs={}, cs={})",
                        av.rs, av.cs
                    );
                    let (sum, bound) = reference(M, K, n, av, bv);
                    let eps = if size_of::<T>() == 4 {
                        f32::EPSILON as f64
                    } else {
                        f64::EPSILON
                    };
                    for i in 0..M * n {
                        let tol = (K as f64 + 2.0) * eps * bound[i];
                        assert!((one[i].to_f64() - sum[i]).abs() <= tol, "{isa:?} [{i}]");
                    }
                }
            }
        }
        check::<f32>(product_f32);
        check::<f64>(product_f64);
    }

    #[test]
    fn views_with_odd_strides_match_the_definition() {
        // One column of B with any column stride; A of depth one with a huge column
        // stride (never multiplied by more than 0); A whose strides are both 1 (element
        // (i, l) at i + l).
        let data = values(4096, 6.0);
        let (m, n) = (20, 1);
        let cases: [(&str, usize, MatRef<f64>, MatRef<f64>); 3] = [
            (
                "n = 1, B's column stride 1000",
                7,
                MatRef::row_major(&data, 7),
                MatRef {
                    data: &data,
                    rs: 1,
                    cs: 1000,
                },
            ),
            (
                "k = 1, A's column stride 2^40",
                1,
                MatRef {
                    data: &data,
                    rs: 1,
                    cs: 1 << 40,
                },
                MatRef::row_major(&data, n),
            ),
            (
                "A's strides both 1",
                9,
                MatRef {
                    data: &data,
                    rs: 1,
                    cs: 1,
                },
                MatRef::row_major(&data[100..], n),
            ),
        ];
        for isa in Isa::supported() {
            for (what, k, av, bv) in cases {
                let mut c = vec![f64::NAN; m * n];
                let took = with_isa(isa, || call(product_f64, m, k, n, av, bv, 0.0, &mut c, 1));
                let vector = matches!(isa, Isa::Avx512 | Isa::Avx2Fma);
                assert_eq!(
                    took,
                    vector && cfg!(target_arch = "x86_64"),
                    "{isa:?} {what}"
                );
                if !took {
                    continue;
                }
                let (sum, _) = reference(m, k, n, av, bv);
                for i in 0..m * n {
                    assert!(
                        (c[i] - sum[i]).abs() <= 1e-14,
                        "{isa:?} {what} [{i}]: {} vs {}",
                        c[i],
                        sum[i]
                    );
                }
            }
        }
    }
}
