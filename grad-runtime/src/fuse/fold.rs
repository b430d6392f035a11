//! The order a fused fold adds in: the unfused `sum`'s (`kernels::sum`), so that a fused
//! sum has the primal's bits. A region of `n` elements runs in items (`fold_items`): the
//! unfused sum's segments, long ones split into blocks for rayon's threads; each item puts
//! the sums of its blocks of [`SUM_BLOCK`] elements in a [`BlockSums`], and `fold_total`
//! adds them as the unfused sum does: per segment a cascade, then the segments.

use super::{BLOCK, PAR_MIN, SUM_BLOCK};
use crate::kernels::{self, scalar};
use crate::real::Real;

/// Where a folded loop puts its blocks' sums: a `Vec`, or the one slot of a region that is
/// one block (a `Vec` there would be an allocation for one value).
pub(super) trait BlockSums<T> {
    fn push_sum(&mut self, sum: T);
}

impl<T> BlockSums<T> for Vec<T> {
    #[inline(always)]
    fn push_sum(&mut self, sum: T) {
        self.push(sum);
    }
}

impl<T> BlockSums<T> for Option<T> {
    #[inline(always)]
    fn push_sum(&mut self, sum: T) {
        debug_assert!(self.is_none(), "one block, one sum");
        *self = Some(sum);
    }
}

/// The pieces a folded loop runs in, as `(segment, start, length)`: the unfused `sum`'s
/// segments of `0..n` (see [`segments`]), those of [`PAR_MIN`] elements or more split into
/// blocks of [`BLOCK`] for rayon's threads.
pub(super) fn fold_items(n: usize) -> Vec<(usize, usize, usize)> {
    let (seg, _) = segments(n);
    let mut items = Vec::new();
    for (s, start) in (0..n).step_by(seg).enumerate() {
        let len = seg.min(n - start);
        let step = if len >= PAR_MIN { BLOCK } else { len };
        for lo in (start..start + len).step_by(step) {
            items.push((s, lo, step.min(start + len - lo)));
        }
    }
    items
}

/// The sum of `0..n` from the sums of blocks of [`SUM_BLOCK`] each item of [`fold_items`]
/// produced, items in order: per segment a cascade, then the segments combined, as the
/// unfused `sum` adds.
pub(super) fn fold_total<'a, T: Real>(
    n: usize,
    done: impl IntoIterator<Item = (usize, &'a [T])>,
) -> T {
    let (seg, whole) = segments(n);
    let mut totals = Vec::new();
    let mut sums = Vec::new();
    let mut done = done.into_iter().peekable();
    while let Some((s, v)) = done.next() {
        sums.extend_from_slice(v);
        if done.peek().is_none_or(|next| next.0 != s) {
            totals.push(segment_total(&sums, seg.min(n - s * seg)));
            sums.clear();
        }
    }
    combine(&totals, whole)
}

/// The unfused `sum`'s segments of `0..n`: their length, and whether there is one
/// (below `REDUCE_PAR_THRESHOLD` elements); segments longer than that are added pairwise.
fn segments(n: usize) -> (usize, bool) {
    if n < kernels::REDUCE_PAR_THRESHOLD {
        (n.max(1), true)
    } else {
        (kernels::chunk_for(n), false)
    }
}

/// A segment's total from the sums of its blocks of [`SUM_BLOCK`], in the unfused order.
fn segment_total<T: Real>(sums: &[T], len: usize) -> T {
    if len <= SUM_BLOCK {
        sums.first().copied().unwrap_or(T::ZERO)
    } else {
        let mut c = scalar::Cascade::new();
        sums.iter().for_each(|&s| c.push(s));
        c.total()
    }
}

/// The whole sum from the segments' totals.
fn combine<T: Real>(totals: &[T], whole: bool) -> T {
    match totals {
        [] => scalar::block_sum(&[]),
        [t] if whole => *t,
        _ => scalar::pairwise(totals),
    }
}
