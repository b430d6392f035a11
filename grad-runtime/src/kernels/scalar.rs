//! The kernel bodies, written once as generic `#[inline(always)]` loops: instantiated as-is
//! (module [`portable`]) they are the scalar fallback and the oracle the other paths are
//! tested against; the instruction-set modules instantiate them under target features.
//!
//! ```
//! use grad::kernels::{self, Isa, scalar};
//!
//! let x: Vec<f32> = (1..=1000).map(|i| i as f32).collect();
//! // The oracle: the same body with no target features.
//! assert_eq!(scalar::portable::sum(&x), 500_500.0);
//! assert_eq!(kernels::with_isa(Isa::Scalar, || kernels::sum(&x)), 500_500.0);
//! ```

use super::math::{MathFn, VecMath};
use crate::real::Real;
use core::mem::MaybeUninit;

/// The bodies instantiated with no target features: the portable path.
pub mod portable {
    crate::kernels::isa_wrappers!(false);
}

/// Independent accumulators in reductions: 64 lanes keep four 512-bit (or eight 256-bit)
/// `f32` vector additions in flight, enough to hide the add latency.
const ACC: usize = 64;

/// Elements summed with one set of accumulators before block sums are combined pairwise.
pub(crate) const BLOCK: usize = 4096;

/// `a * b + c`, fused where the instruction set has FMA.
#[inline(always)]
pub fn madd<T: Real, const FMA: bool>(a: T, b: T, c: T) -> T {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// `out[i] = f(x[i])`.
#[inline(always)]
pub fn map1<T: Copy, F: Fn(T) -> T>(x: &[T], out: &mut [T], f: F) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = f(v);
    }
}

/// `out[i] = f(x[i])` into uninitialized memory.
#[inline(always)]
pub fn map1_uninit<T: Copy, F: Fn(T) -> T>(x: &[T], out: &mut [MaybeUninit<T>], f: F) {
    for (o, &v) in out.iter_mut().zip(x) {
        o.write(f(v));
    }
}

/// `out[i] = f(a[i], b[i])` into uninitialized memory.
#[inline(always)]
pub fn map2_uninit<T: Copy, F: Fn(T, T) -> T>(a: &[T], b: &[T], out: &mut [MaybeUninit<T>], f: F) {
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        o.write(f(a, b));
    }
}

/// `x[i] = f(x[i])`.
#[inline(always)]
pub fn map1_in_place<T: Copy, F: Fn(T) -> T>(x: &mut [T], f: F) {
    for v in x.iter_mut() {
        *v = f(*v);
    }
}

/// `out[i] = f(a[i], b[i])`.
#[inline(always)]
pub fn map2<T: Copy, F: Fn(T, T) -> T>(a: &[T], b: &[T], out: &mut [T], f: F) {
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = f(a, b);
    }
}

/// `a[i] = f(a[i], b[i])`.
#[inline(always)]
pub fn map2_in_place<T: Copy, F: Fn(T, T) -> T>(a: &mut [T], b: &[T], f: F) {
    for (a, &b) in a.iter_mut().zip(b) {
        *a = f(*a, b);
    }
}

/// `a[i] = f(a[i], b[i], c[i])`.
#[inline(always)]
pub fn map3_in_place<T: Copy, F: Fn(T, T, T) -> T>(a: &mut [T], b: &[T], c: &[T], f: F) {
    for ((a, &b), &c) in a.iter_mut().zip(b).zip(c) {
        *a = f(*a, b, c);
    }
}

/// `a[i] = f(a[i], b[i], c[i], d[i])`.
#[inline(always)]
pub fn map4_in_place<T: Copy, F: Fn(T, T, T, T) -> T>(
    a: &mut [T],
    b: &[T],
    c: &[T],
    d: &[T],
    f: F,
) {
    for (((a, &b), &c), &d) in a.iter_mut().zip(b).zip(c).zip(d) {
        *a = f(*a, b, c, d);
    }
}

/// Sum of a short slice by recursive halving.
pub fn pairwise<T: Real>(x: &[T]) -> T {
    if x.len() <= 8 {
        let mut s = T::ZERO;
        for &v in x {
            s += v;
        }
        return s;
    }
    let (lo, hi) = x.split_at(x.len() / 2);
    pairwise(lo) + pairwise(hi)
}

/// `Σ x[i]` over at most [`BLOCK`] elements, in [`ACC`] accumulators.
#[inline(always)]
pub(crate) fn block_sum<T: Real>(x: &[T]) -> T {
    if x.len() < ACC {
        // The accumulators would all be +0, whose pairwise sum is +0: the same bits
        // without 63 additions (a quarter of a one-element tensor's primal and gradient).
        return T::ZERO + pairwise(x);
    }
    let mut acc = [T::ZERO; ACC];
    let chunks = x.chunks_exact(ACC);
    let tail = chunks.remainder();
    for c in chunks {
        for j in 0..ACC {
            acc[j] += c[j];
        }
    }
    pairwise(&acc) + pairwise(tail)
}

/// Block sums combined pairwise as they arrive, like a binary counter: after `2^k` blocks
/// the level-`k` slot holds their sum. Iterative rather than recursive, so the whole
/// reduction inlines into each instruction set's wrapper.
pub(crate) struct Cascade<T> {
    levels: [T; 64],
    count: u64,
}

impl<T: Real> Cascade<T> {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Cascade {
            levels: [T::ZERO; 64],
            count: 0,
        }
    }
    #[inline(always)]
    pub(crate) fn push(&mut self, mut s: T) {
        let mut level = 0;
        while (self.count >> level) & 1 == 1 {
            s = self.levels[level] + s;
            level += 1;
        }
        self.levels[level] = s;
        self.count += 1;
    }
    #[inline(always)]
    pub(crate) fn total(&self) -> T {
        let mut t = T::ZERO;
        for level in 0..64 {
            if (self.count >> level) & 1 == 1 {
                t = self.levels[level] + t;
            }
        }
        t
    }
}

/// `Σ x[i]`: blocks of 4096 summed in 64 accumulators, blocks combined pairwise.
#[inline(always)]
pub fn sum<T: Real, const FMA: bool>(x: &[T]) -> T {
    if x.len() <= BLOCK {
        return block_sum(x);
    }
    let mut cascade = Cascade::new();
    for block in x.chunks(BLOCK) {
        cascade.push(block_sum(block));
    }
    cascade.total()
}

/// `Σ a[i] b[i]` over at most [`BLOCK`] elements.
#[inline(always)]
fn block_dot<T: Real, const FMA: bool>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::ZERO; ACC];
    let ca = a.chunks_exact(ACC);
    let cb = b.chunks_exact(ACC);
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (a, b) in ca.zip(cb) {
        for j in 0..ACC {
            acc[j] = madd::<T, FMA>(a[j], b[j], acc[j]);
        }
    }
    let mut tail = T::ZERO;
    for (&a, &b) in ta.iter().zip(tb) {
        tail = madd::<T, FMA>(a, b, tail);
    }
    pairwise(&acc) + tail
}

/// `Σ a[i] b[i]`, blocked as [`sum`].
#[inline(always)]
pub fn dot<T: Real, const FMA: bool>(a: &[T], b: &[T]) -> T {
    if a.len() <= BLOCK {
        return block_dot::<T, FMA>(a, b);
    }
    let mut cascade = Cascade::new();
    for (a, b) in a.chunks(BLOCK).zip(b.chunks(BLOCK)) {
        cascade.push(block_dot::<T, FMA>(a, b));
    }
    cascade.total()
}

/// `y[i] = Σ_l a[i·rs + l]·x[l]`, plus `beta·y[i]` unless `beta` is 0, for each row `i`
/// of a row-major matrix: one short dot product per row, in 16 accumulators (the blocked
/// [`dot`] reduces 64 accumulators per call, which costs more than the products of a row
/// of a few hundred). Four rows at a time, each with its own accumulators, so that four
/// chains of multiply-adds overlap: one row at a time waited on its chain (T2's 1024 × 100
/// took 20 µs, now 16; 32 × 100 in L1 went from 15.7 to 9.3 ns a row). Every row adds in
/// the same order either way.
#[inline(always)]
pub fn gemv_rows<T: Real, const FMA: bool>(a: &[T], rs: usize, x: &[T], beta: T, y: &mut [T]) {
    let k = x.len();
    let row = |i: usize| &a[i * rs..i * rs + k];
    let full = k / GEMV_ACC * GEMV_ACC;
    let (tx, quads) = (&x[full..], y.len() / 4 * 4);
    for (q, yq) in y[..quads].chunks_exact_mut(4).enumerate() {
        let (r0, r1, r2, r3) = (row(4 * q), row(4 * q + 1), row(4 * q + 2), row(4 * q + 3));
        let mut a0 = [T::ZERO; GEMV_ACC];
        let mut a1 = [T::ZERO; GEMV_ACC];
        let mut a2 = [T::ZERO; GEMV_ACC];
        let mut a3 = [T::ZERO; GEMV_ACC];
        for c in (0..full).step_by(GEMV_ACC) {
            let xc = &x[c..c + GEMV_ACC];
            let (c0, c1) = (&r0[c..c + GEMV_ACC], &r1[c..c + GEMV_ACC]);
            let (c2, c3) = (&r2[c..c + GEMV_ACC], &r3[c..c + GEMV_ACC]);
            for j in 0..GEMV_ACC {
                a0[j] = madd::<T, FMA>(c0[j], xc[j], a0[j]);
                a1[j] = madd::<T, FMA>(c1[j], xc[j], a1[j]);
                a2[j] = madd::<T, FMA>(c2[j], xc[j], a2[j]);
                a3[j] = madd::<T, FMA>(c3[j], xc[j], a3[j]);
            }
        }
        yq[0] = finish_row::<T, FMA>(a0, &r0[full..], tx, beta, yq[0]);
        yq[1] = finish_row::<T, FMA>(a1, &r1[full..], tx, beta, yq[1]);
        yq[2] = finish_row::<T, FMA>(a2, &r2[full..], tx, beta, yq[2]);
        yq[3] = finish_row::<T, FMA>(a3, &r3[full..], tx, beta, yq[3]);
    }
    for (i, yi) in y.iter_mut().enumerate().skip(quads) {
        let r = row(i);
        let mut acc = [T::ZERO; GEMV_ACC];
        for c in (0..full).step_by(GEMV_ACC) {
            for j in 0..GEMV_ACC {
                acc[j] = madd::<T, FMA>(r[c + j], x[c + j], acc[j]);
            }
        }
        *yi = finish_row::<T, FMA>(acc, &r[full..], tx, beta, *yi);
    }
}

/// The accumulators of one row of [`gemv_rows`].
const GEMV_ACC: usize = 16;

/// One row of [`gemv_rows`] from its accumulators: the tail's products in a chain, the
/// accumulators added pairwise, then `beta·y`.
#[inline(always)]
fn finish_row<T: Real, const FMA: bool>(
    mut acc: [T; GEMV_ACC],
    ta: &[T],
    tx: &[T],
    beta: T,
    y: T,
) -> T {
    let mut tail = T::ZERO;
    for (&p, &q) in ta.iter().zip(tx) {
        tail = madd::<T, FMA>(p, q, tail);
    }
    let mut w = GEMV_ACC;
    while w > 1 {
        w /= 2;
        for j in 0..w {
            acc[j] += acc[j + w];
        }
    }
    let d = acc[0] + tail;
    if beta == T::ZERO { d } else { d + beta * y }
}

/// `y[i] += Σ_l x[l]·a[l·cs + i]`: a matrix stored transposed (column `l` is the stored
/// row `l`) times `x`, four columns per pass over `y`.
#[inline(always)]
pub fn gemv_cols<T: Real, const FMA: bool>(a: &[T], cs: usize, x: &[T], y: &mut [T]) {
    let m = y.len();
    let col = |l: usize| &a[l * cs..l * cs + m];
    let mut l = 0;
    while l + 4 <= x.len() {
        let (c0, c1, c2, c3) = (col(l), col(l + 1), col(l + 2), col(l + 3));
        let (x0, x1, x2, x3) = (x[l], x[l + 1], x[l + 2], x[l + 3]);
        for i in 0..m {
            let v = madd::<T, FMA>(x0, c0[i], y[i]);
            let v = madd::<T, FMA>(x1, c1[i], v);
            let v = madd::<T, FMA>(x2, c2[i], v);
            y[i] = madd::<T, FMA>(x3, c3[i], v);
        }
        l += 4;
    }
    for (j, &xl) in x.iter().enumerate().skip(l) {
        let c = col(j);
        for i in 0..m {
            y[i] = madd::<T, FMA>(xl, c[i], y[i]);
        }
    }
}

/// The largest element; NaN if any element is NaN; `-inf` when empty.
#[inline(always)]
pub fn max<T: Real, const FMA: bool>(x: &[T]) -> T {
    let mut acc = [-T::INFINITY; ACC];
    let mut nan = [false; ACC];
    let chunks = x.chunks_exact(ACC);
    let tail = chunks.remainder();
    for c in chunks {
        for j in 0..ACC {
            acc[j] = if c[j] > acc[j] { c[j] } else { acc[j] };
            nan[j] |= c[j].is_nan();
        }
    }
    let mut m = -T::INFINITY;
    let mut any_nan = false;
    for (&a, &n) in acc.iter().zip(&nan) {
        m = if a > m { a } else { m };
        any_nan |= n;
    }
    for &v in tail {
        m = if v > m { v } else { m };
        any_nan |= v.is_nan();
    }
    if any_nan { T::NAN } else { m }
}

/// Applies the vectorized function `f` to every element in place.
#[inline(always)]
pub fn math_in_place<T: VecMath, const FMA: bool>(f: MathFn, x: &mut [T]) {
    match f {
        MathFn::Exp => map1_in_place(x, T::vexp::<FMA>),
        MathFn::Ln => map1_in_place(x, T::vln::<FMA>),
        MathFn::Tanh => map1_in_place(x, T::vtanh::<FMA>),
        MathFn::Sigmoid => map1_in_place(x, T::vsigmoid::<FMA>),
    }
}
