//! The CPU kernels behind tensors: the instruction set, detected once, and the one place that dispatches to it.
//!
//! # How a kernel is written
//!
//! Each kernel body is written once, as a generic `#[inline(always)]` function in
//! [`scalar`] (plain loops over slices with several independent accumulators, branch-free
//! math from [`math`]). Instantiated as-is it is the portable path; [`x86_v3`] (AVX2+FMA),
//! [`x86_v4`] (AVX-512) and `aarch64` (NEON) instantiate the same bodies inside thin
//! `#[target_feature]` wrappers, so the compiler vectorizes them for that instruction set
//! (the pattern of matrixmultiply and pulp). `dispatch!` is the only place that picks
//! a wrapper; every public function here reads the instruction set once, then splits work
//! above [`PAR_THRESHOLD`] elements over rayon's threads.
//!
//! The one exception is the matrix product with few columns (`narrow.rs`, behind
//! [`gemm::gemm`]): its micro-kernels are written with `core::arch` intrinsics per
//! instruction set, since auto-vectorized forms of its loops were not dependable.
//!
//! Tests and benchmarks force a path with [`with_isa`].
//!
//! ```
//! use grad::kernels::{self, Isa};
//!
//! let (a, b) = ([1.0f32, 2.0, 3.0], [4.0f32, 5.0, 6.0]);
//! let mut out = [0.0f32; 3];
//! kernels::map2(&a, &b, &mut out, |x, y| x * y + 1.0);
//! assert_eq!(out, [5.0, 11.0, 19.0]);
//! assert_eq!(kernels::dot(&a, &b), 32.0);
//! // The portable path, forced, computes the same.
//! assert_eq!(kernels::with_isa(Isa::Scalar, || kernels::dot(&a, &b)), 32.0);
//! assert!(Isa::supported().contains(&Isa::active()));
//! ```

#[cfg(target_arch = "aarch64")]
pub mod aarch64;
pub mod gemm;
pub mod math;
mod narrow;
pub mod scalar;
#[cfg(target_arch = "x86_64")]
pub mod x86_v3;
#[cfg(target_arch = "x86_64")]
pub mod x86_v4;

use crate::real::Real;
use rayon::prelude::*;
use std::cell::Cell;
use std::sync::OnceLock;

/// An instruction set the kernels are compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Portable code with no target features beyond the build's baseline.
    Scalar,
    /// x86-64 AVX2 with FMA (x86-64-v3).
    Avx2Fma,
    /// x86-64 AVX-512 F/BW/DQ/VL with FMA (x86-64-v4).
    Avx512,
    /// aarch64 Advanced SIMD.
    Neon,
}

impl Isa {
    /// Every instruction set, best last.
    pub const ALL: [Isa; 4] = [Isa::Scalar, Isa::Neon, Isa::Avx2Fma, Isa::Avx512];

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                Isa::Avx2Fma.is_supported()
                    && std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
            }
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The paths this CPU supports, [`Isa::Scalar`] first.
    pub fn supported() -> Vec<Isa> {
        Isa::ALL.into_iter().filter(|i| i.is_supported()).collect()
    }

    /// The best path of this CPU, detected on first use.
    pub fn detected() -> Isa {
        static DETECTED: OnceLock<Isa> = OnceLock::new();
        *DETECTED.get_or_init(|| *Isa::supported().last().unwrap_or(&Isa::Scalar))
    }

    /// The path kernels called from this thread take: the forced one inside [`with_isa`],
    /// else [`Isa::detected`].
    pub fn active() -> Isa {
        FORCED.with(Cell::get).unwrap_or_else(Isa::detected)
    }
}

thread_local! {
    static FORCED: Cell<Option<Isa>> = const { Cell::new(None) };
}

/// Runs `f` with every kernel it calls from this thread (and the workers they spawn) taking
/// the path `isa`: how tests compare each path with the scalar one, and benches measure them.
///
/// # Panics
/// If this CPU does not support `isa`.
pub fn with_isa<R>(isa: Isa, f: impl FnOnce() -> R) -> R {
    assert!(
        isa.is_supported(),
        "with_isa: this CPU does not support {isa:?}"
    );
    let previous = FORCED.with(|c| c.replace(Some(isa)));
    struct Restore(Option<Isa>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FORCED.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(previous);
    f()
}

/// Lengths up to which the element-wise maps run inline, on no particular instruction set:
/// for a few elements, finding the instruction set and calling into its function costs
/// more than the loop (a one-element tensor's product or its backward). The loop is the
/// same closure on the same elements, so the bits are those of any path.
pub const INLINE_MAX: usize = 8;

/// Elements per call below which work stays on the calling thread. Measured with
/// `cargo bench -- kernels/threshold` (an `f32` add, serial vs split in 32 Ki-element
/// tasks on two threads) on a 2-core AMD EPYC (Zen 5) shared with a compiling neighbour:
/// even at 2^16 (229 vs 227 GiB/s), split ahead from 2^17 (75 vs 79) and 2^18 (68 vs 72),
/// well ahead at 2^20 (75 vs 114).
pub const PAR_THRESHOLD: usize = 1 << 17;

/// Elements below which a reduction (`sum`, `dot`, `max`) stays on one thread. Reductions
/// only read, and one core's loads nearly saturate memory here: `cargo bench --
/// kernels/sum` measured 67 GiB/s serial vs 42 GiB/s split at 1e6 `f32`, and 31 vs 31
/// GiB/s at 1e7 (2-core Zen 5, shared).
pub const REDUCE_PAR_THRESHOLD: usize = 1 << 24;

/// The fewest elements a rayon task gets when work is split.
const PAR_CHUNK: usize = 1 << 15;

/// Elements per rayon task for `n` elements: one task per thread, at least [`PAR_CHUNK`].
/// Asked only once a kernel is to split: outside rayon's pool, `current_num_threads` goes
/// through the global registry's initialization check each time (a tenth of a one-element
/// tensor's gradient when every kernel asked first).
pub(crate) fn chunk_for(n: usize) -> usize {
    n.div_ceil(rayon::current_num_threads()).max(PAR_CHUNK)
}

/// Calls the body `$name` on the path `$isa`: the one dispatch point.
macro_rules! dispatch {
    ($isa:expr, $name:ident ($($arg:expr),* $(,)?)) => {
        match $isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Isa` other than `Scalar` is only active after `is_supported`
            // confirmed the CPU has its features (`Isa::detected` or `with_isa`).
            Isa::Avx512 => unsafe { x86_v4::$name($($arg),*) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Isa::Avx2Fma => unsafe { x86_v3::$name($($arg),*) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: as above.
            Isa::Neon => unsafe { aarch64::$name($($arg),*) },
            _ => scalar::portable::$name($($arg),*),
        }
    };
}
pub(crate) use dispatch;

/// Writes the wrappers of every kernel body for one instruction set: `#[target_feature]`
/// functions that instantiate the generic body (with `mul_add` fused when `$fma`).
macro_rules! isa_wrappers {
    ($fma:literal $(, $features:literal)?) => {
        use crate::kernels::scalar;
        use crate::real::Real;

        /// [`scalar::map1`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn map1<T: Copy, F: Fn(T) -> T>(x: &[T], out: &mut [T], f: F) {
            scalar::map1(x, out, f)
        }
        /// [`scalar::map1_uninit`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn map1_uninit<T: Copy, F: Fn(T) -> T>(x: &[T], out: &mut [core::mem::MaybeUninit<T>], f: F) {
            scalar::map1_uninit(x, out, f)
        }
        /// [`scalar::map2_uninit`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn map2_uninit<T: Copy, F: Fn(T, T) -> T>(
            a: &[T],
            b: &[T],
            out: &mut [core::mem::MaybeUninit<T>],
            f: F,
        ) {
            scalar::map2_uninit(a, b, out, f)
        }
        /// [`scalar::map1_in_place`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn map1_in_place<T: Copy, F: Fn(T) -> T>(x: &mut [T], f: F) {
            scalar::map1_in_place(x, f)
        }
        /// [`scalar::map2`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn map2<T: Copy, F: Fn(T, T) -> T>(a: &[T], b: &[T], out: &mut [T], f: F) {
            scalar::map2(a, b, out, f)
        }
        /// [`scalar::map2_in_place`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn map2_in_place<T: Copy, F: Fn(T, T) -> T>(a: &mut [T], b: &[T], f: F) {
            scalar::map2_in_place(a, b, f)
        }
        /// [`scalar::map3_in_place`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn map3_in_place<T: Copy, F: Fn(T, T, T) -> T>(a: &mut [T], b: &[T], c: &[T], f: F) {
            scalar::map3_in_place(a, b, c, f)
        }
        /// [`scalar::map4_in_place`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn map4_in_place<T: Copy, F: Fn(T, T, T, T) -> T>(
            a: &mut [T],
            b: &[T],
            c: &[T],
            d: &[T],
            f: F,
        ) {
            scalar::map4_in_place(a, b, c, d, f)
        }
        /// [`scalar::sum`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn sum<T: Real>(x: &[T]) -> T {
            scalar::sum::<T, $fma>(x)
        }
        /// [`scalar::dot`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn dot<T: Real>(a: &[T], b: &[T]) -> T {
            scalar::dot::<T, $fma>(a, b)
        }
        /// [`scalar::gemv_rows`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn gemv_rows<T: Real>(a: &[T], rs: usize, x: &[T], beta: T, y: &mut [T]) {
            scalar::gemv_rows::<T, $fma>(a, rs, x, beta, y)
        }
        /// [`scalar::gemv_cols`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn gemv_cols<T: Real>(a: &[T], cs: usize, x: &[T], y: &mut [T]) {
            scalar::gemv_cols::<T, $fma>(a, cs, x, y)
        }
        /// [`scalar::max`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn max<T: Real>(x: &[T]) -> T {
            scalar::max::<T, $fma>(x)
        }
        /// [`scalar::math_in_place`] for this instruction set.
        ///
        /// # Safety
        /// On the target-feature paths the CPU must have the features (see `Isa::is_supported`).
        $(#[target_feature(enable = $features)])?
        pub fn math_in_place<T: crate::kernels::math::VecMath>(
            f: crate::kernels::math::MathFn,
            x: &mut [T],
        ) {
            scalar::math_in_place::<T, $fma>(f, x)
        }
    };
}
pub(crate) use isa_wrappers;

use math::{MathFn, VecMath};

/// `out[i] = f(x[i])`.
///
/// # Panics
/// If the lengths differ.
pub fn map1<T, F>(x: &[T], out: &mut [T], f: F)
where
    T: Copy + Send + Sync,
    F: Fn(T) -> T + Sync + Send,
{
    assert_eq!(x.len(), out.len(), "map1: lengths differ");
    if x.len() <= INLINE_MAX {
        return scalar::map1(x, out, f);
    }
    let isa = Isa::active();
    if x.len() < PAR_THRESHOLD {
        return dispatch!(isa, map1(x, out, &f));
    }
    let chunk = chunk_for(x.len());
    out.par_chunks_mut(chunk)
        .zip(x.par_chunks(chunk))
        .for_each(|(o, x)| dispatch!(isa, map1(x, o, &f)));
}

/// A new vector of `f(x[i])`, written once (no zero-fill first).
pub fn map1_new<T, F>(x: &[T], f: F) -> Vec<T>
where
    T: Copy + Send + Sync + 'static,
    F: Fn(T) -> T + Sync + Send,
{
    let n = x.len();
    let mut out = crate::tensor::pool::take(n);
    let spare = &mut out.spare_capacity_mut()[..n];
    if n <= INLINE_MAX {
        scalar::map1_uninit(x, spare, &f);
    } else if n < PAR_THRESHOLD {
        dispatch!(Isa::active(), map1_uninit(x, spare, &f));
    } else {
        let isa = Isa::active();
        let chunk = chunk_for(n);
        spare
            .par_chunks_mut(chunk)
            .zip(x.par_chunks(chunk))
            .for_each(|(o, x)| dispatch!(isa, map1_uninit(x, o, &f)));
    }
    // SAFETY: `map1_uninit` wrote every one of the first `n` slots of `spare`, which are
    // the first `n` elements of `out`'s buffer (capacity >= n).
    unsafe { out.set_len(n) };
    out
}

/// A new vector of `f(a[i], b[i])`, written once (no zero-fill first).
///
/// # Panics
/// If the lengths differ.
pub fn map2_new<T, F>(a: &[T], b: &[T], f: F) -> Vec<T>
where
    T: Copy + Send + Sync + 'static,
    F: Fn(T, T) -> T + Sync + Send,
{
    assert_eq!(a.len(), b.len(), "map2_new: lengths differ");
    let n = a.len();
    let mut out = crate::tensor::pool::take(n);
    let spare = &mut out.spare_capacity_mut()[..n];
    if n <= INLINE_MAX {
        scalar::map2_uninit(a, b, spare, &f);
    } else if n < PAR_THRESHOLD {
        dispatch!(Isa::active(), map2_uninit(a, b, spare, &f));
    } else {
        let isa = Isa::active();
        let chunk = chunk_for(n);
        spare
            .par_chunks_mut(chunk)
            .zip(a.par_chunks(chunk).zip(b.par_chunks(chunk)))
            .for_each(|(o, (a, b))| dispatch!(isa, map2_uninit(a, b, o, &f)));
    }
    // SAFETY: `map2_uninit` wrote every one of the first `n` slots of `spare`, which are
    // the first `n` elements of `out`'s buffer (capacity >= n).
    unsafe { out.set_len(n) };
    out
}

/// `x[i] = f(x[i])`.
pub fn map1_in_place<T, F>(x: &mut [T], f: F)
where
    T: Copy + Send + Sync,
    F: Fn(T) -> T + Sync + Send,
{
    if x.len() <= INLINE_MAX {
        return scalar::map1_in_place(x, f);
    }
    let isa = Isa::active();
    if x.len() < PAR_THRESHOLD {
        return dispatch!(isa, map1_in_place(x, &f));
    }
    let chunk = chunk_for(x.len());
    x.par_chunks_mut(chunk)
        .for_each(|x| dispatch!(isa, map1_in_place(x, &f)));
}

/// `out[i] = f(a[i], b[i])`.
///
/// # Panics
/// If the lengths differ.
pub fn map2<T, F>(a: &[T], b: &[T], out: &mut [T], f: F)
where
    T: Copy + Send + Sync,
    F: Fn(T, T) -> T + Sync + Send,
{
    assert!(
        a.len() == out.len() && b.len() == out.len(),
        "map2: lengths differ"
    );
    if a.len() <= INLINE_MAX {
        return scalar::map2(a, b, out, f);
    }
    let isa = Isa::active();
    if a.len() < PAR_THRESHOLD {
        return dispatch!(isa, map2(a, b, out, &f));
    }
    let chunk = chunk_for(a.len());
    out.par_chunks_mut(chunk)
        .zip(a.par_chunks(chunk).zip(b.par_chunks(chunk)))
        .for_each(|(o, (a, b))| dispatch!(isa, map2(a, b, o, &f)));
}

/// `a[i] = f(a[i], b[i])`.
///
/// # Panics
/// If the lengths differ.
pub fn map2_in_place<T, F>(a: &mut [T], b: &[T], f: F)
where
    T: Copy + Send + Sync,
    F: Fn(T, T) -> T + Sync + Send,
{
    assert_eq!(a.len(), b.len(), "map2_in_place: lengths differ");
    if a.len() <= INLINE_MAX {
        return scalar::map2_in_place(a, b, f);
    }
    let isa = Isa::active();
    if a.len() < PAR_THRESHOLD {
        return dispatch!(isa, map2_in_place(a, b, &f));
    }
    let chunk = chunk_for(a.len());
    a.par_chunks_mut(chunk)
        .zip(b.par_chunks(chunk))
        .for_each(|(a, b)| dispatch!(isa, map2_in_place(a, b, &f)));
}

/// `a[i] = f(a[i], b[i], c[i])`: the shape of a fused backward kernel (`dy *= f'(x, y)`).
///
/// # Panics
/// If the lengths differ.
pub fn map3_in_place<T, F>(a: &mut [T], b: &[T], c: &[T], f: F)
where
    T: Copy + Send + Sync,
    F: Fn(T, T, T) -> T + Sync + Send,
{
    assert!(
        a.len() == b.len() && a.len() == c.len(),
        "map3_in_place: lengths differ"
    );
    if a.len() <= INLINE_MAX {
        return scalar::map3_in_place(a, b, c, f);
    }
    let isa = Isa::active();
    if a.len() < PAR_THRESHOLD {
        return dispatch!(isa, map3_in_place(a, b, c, &f));
    }
    let chunk = chunk_for(a.len());
    a.par_chunks_mut(chunk)
        .zip(b.par_chunks(chunk).zip(c.par_chunks(chunk)))
        .for_each(|(a, (b, c))| dispatch!(isa, map3_in_place(a, b, c, &f)));
}

/// `a[i] = f(a[i], b[i], c[i], d[i])`: a fused backward kernel of a two-input primitive.
///
/// # Panics
/// If the lengths differ.
pub fn map4_in_place<T, F>(a: &mut [T], b: &[T], c: &[T], d: &[T], f: F)
where
    T: Copy + Send + Sync,
    F: Fn(T, T, T, T) -> T + Sync + Send,
{
    assert!(
        a.len() == b.len() && a.len() == c.len() && a.len() == d.len(),
        "map4_in_place: lengths differ"
    );
    if a.len() <= INLINE_MAX {
        return scalar::map4_in_place(a, b, c, d, f);
    }
    let isa = Isa::active();
    if a.len() < PAR_THRESHOLD {
        return dispatch!(isa, map4_in_place(a, b, c, d, &f));
    }
    let chunk = chunk_for(a.len());
    a.par_chunks_mut(chunk)
        .zip(
            b.par_chunks(chunk)
                .zip(c.par_chunks(chunk).zip(d.par_chunks(chunk))),
        )
        .for_each(|(a, (b, (c, d)))| dispatch!(isa, map4_in_place(a, b, c, d, &f)));
}

/// `Σ x[i]`, blocked with many accumulators and block sums combined pairwise: the error
/// grows like `O(log n)` ulp rather than `O(n)`.
pub fn sum<T: Real>(x: &[T]) -> T {
    let isa = Isa::active();
    if x.len() < REDUCE_PAR_THRESHOLD {
        return dispatch!(isa, sum(x));
    }
    let chunk = chunk_for(x.len());
    let parts: Vec<T> = x
        .par_chunks(chunk)
        .map(|c| dispatch!(isa, sum(c)))
        .collect();
    scalar::pairwise(&parts)
}

/// `Σ a[i] b[i]`, accumulated as [`sum`].
///
/// # Panics
/// If the lengths differ.
pub fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    assert_eq!(a.len(), b.len(), "dot: lengths differ");
    let isa = Isa::active();
    if a.len() < REDUCE_PAR_THRESHOLD {
        return dispatch!(isa, dot(a, b));
    }
    let chunk = chunk_for(a.len());
    let parts: Vec<T> = a
        .par_chunks(chunk)
        .zip(b.par_chunks(chunk))
        .map(|(a, b)| dispatch!(isa, dot(a, b)))
        .collect();
    scalar::pairwise(&parts)
}

/// The largest element, NaN if any is NaN, `-inf` for an empty slice.
pub fn max<T: Real>(x: &[T]) -> T {
    let isa = Isa::active();
    if x.len() < REDUCE_PAR_THRESHOLD {
        return dispatch!(isa, max(x));
    }
    let chunk = chunk_for(x.len());
    let parts: Vec<T> = x
        .par_chunks(chunk)
        .map(|c| dispatch!(isa, max(c)))
        .collect();
    dispatch!(isa, max(&parts))
}

/// Applies the vectorized function `f` ([`math`]) to every element in place.
pub fn math_in_place<T: VecMath>(f: MathFn, x: &mut [T]) {
    let isa = Isa::active();
    if x.len() < PAR_THRESHOLD / 4 {
        return dispatch!(isa, math_in_place(f, x));
    }
    let chunk = chunk_for(x.len());
    x.par_chunks_mut(chunk)
        .for_each(|x| dispatch!(isa, math_in_place(f, x)));
}
