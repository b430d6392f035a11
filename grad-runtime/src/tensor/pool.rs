//! Recycled buffers for large tensors.
//!
//! A large allocation is served by the kernel with fresh pages (glibc maps anything above
//! its mmap threshold, and unmaps or trims it again when it is freed), and every fresh page
//! costs a fault on first touch: measured on T4 (`Σ tanh(x)² e^{-x}` over 10⁶ f64), 5 800
//! faults per primal call, about two thirds of the gradient's time. Tensor code frees and
//! requests buffers of the same sizes over and over (each operation of a training step,
//! every step), so a dropped tensor's buffer is kept here, per thread, and handed to the
//! next tensor of a size that fits.
//!
//! Only buffers of at least [`MIN_BYTES`] are kept (below that the allocator reuses memory
//! itself); at most [`MAX_BUFFERS`] and [`MAX_BYTES`] per thread, so the memory held back is
//! bounded (the longest-kept go first); [`release_buffers`] returns it at once, [`kept_buffer_bytes`] tells its size. A buffer taken from here is handed out
//! empty (`len() == 0`): callers write every element before reading it, or fill it.

use std::any::Any;
use std::cell::RefCell;

/// The smallest buffer kept, in bytes: glibc's default mmap threshold.
pub const MIN_BYTES: usize = 128 * 1024;
/// The most buffers kept per thread.
pub const MAX_BUFFERS: usize = 16;
/// The most bytes kept per thread.
pub const MAX_BYTES: usize = 256 << 20;

/// One thread's kept buffers, oldest first, each a `Vec<T>` of some element type behind
/// `dyn Any`, with its size in bytes.
#[derive(Default)]
struct Pool {
    free: Vec<(usize, Box<dyn Any>)>,
    bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::default();
}

fn bytes_of<T>(capacity: usize) -> usize {
    capacity * size_of::<T>()
}

/// An empty vector with room for `n` elements: a kept buffer of capacity between `n` and
/// `2n` if there is one (the smallest such), a new allocation otherwise.
pub(crate) fn take<T: Copy + 'static>(n: usize) -> Vec<T> {
    if bytes_of::<T>(n) >= MIN_BYTES {
        let kept = POOL.try_with(|pool| {
            let mut pool = pool.try_borrow_mut().ok()?;
            let fits = |v: &Vec<T>| v.capacity() >= n && v.capacity() / 2 <= n;
            let (at, _) = pool
                .free
                .iter()
                .enumerate()
                .filter_map(|(i, (_, b))| b.downcast_ref::<Vec<T>>().map(|v| (i, v)))
                .filter(|(_, v)| fits(v))
                .min_by_key(|(_, v)| v.capacity())?;
            let (bytes, buffer) = pool.free.remove(at);
            pool.bytes -= bytes;
            let mut v = *buffer.downcast::<Vec<T>>().ok()?;
            v.clear();
            Some(v)
        });
        if let Ok(Some(v)) = kept {
            return v;
        }
    }
    Vec::with_capacity(n)
}

/// `n` copies of `value`, in a kept buffer if one fits.
pub(crate) fn filled<T: Copy + 'static>(n: usize, value: T) -> Vec<T> {
    let mut v = take(n);
    v.resize(n, value);
    v
}

/// A copy of `x`, in a kept buffer if one fits.
pub(crate) fn copied<T: Copy + 'static>(x: &[T]) -> Vec<T> {
    let mut v = take(x.len());
    v.extend_from_slice(x);
    v
}

/// `f` of each element of `x`, in a kept buffer if one fits.
pub(crate) fn mapped<A, B: Copy + 'static>(x: &[A], f: impl FnMut(&A) -> B) -> Vec<B> {
    let mut v = take(x.len());
    v.extend(x.iter().map(f));
    v
}

/// Keeps `v`'s buffer for a later [`take`] if it is large enough, making room by freeing
/// the longest-kept buffers (so a workload that moves to other sizes is not stuck with the
/// old ones); frees it at once if it is small or larger than the whole pool.
pub(crate) fn give<T: Copy + 'static>(v: Vec<T>) {
    let bytes = bytes_of::<T>(v.capacity());
    if !(MIN_BYTES..=MAX_BYTES).contains(&bytes) {
        return;
    }
    // Outside a thread's lifetime (its locals being destroyed) the buffer is simply freed.
    let _ = POOL.try_with(|pool| {
        let Ok(mut pool) = pool.try_borrow_mut() else {
            return;
        };
        while pool.free.len() >= MAX_BUFFERS || pool.bytes + bytes > MAX_BYTES {
            let (old, _) = pool.free.remove(0);
            pool.bytes -= old;
        }
        pool.bytes += bytes;
        pool.free.push((bytes, Box::new(v)));
    });
}

/// Frees the tensor buffers this thread keeps for reuse (see the `Tensor` docs); returns
/// the bytes freed.
pub fn release_buffers() -> usize {
    POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let bytes = pool.bytes;
        *pool = Pool::default();
        bytes
    })
    .unwrap_or(0)
}

/// The bytes of tensor buffers this thread keeps for reuse.
pub fn kept_buffer_bytes() -> usize {
    POOL.try_with(|pool| pool.borrow().bytes).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIG: usize = MIN_BYTES / 8 + 1;

    #[test]
    fn a_given_buffer_is_taken_again_empty() {
        release_buffers();
        let v = vec![7.0f64; BIG];
        let ptr = v.as_ptr();
        give(v);
        assert_eq!(kept_buffer_bytes(), BIG * 8);
        let w: Vec<f64> = take(BIG);
        assert_eq!(w.as_ptr(), ptr);
        assert!(w.is_empty() && w.capacity() >= BIG);
        assert_eq!(kept_buffer_bytes(), 0);
    }

    #[test]
    fn filled_from_a_kept_buffer_has_no_stale_values() {
        release_buffers();
        give(vec![7.0f64; BIG]);
        assert_eq!(filled(BIG, 0.0f64), vec![0.0; BIG]);
        give(vec![7.0f64; BIG]);
        let x: Vec<f64> = (0..BIG).map(|i| i as f64).collect();
        assert_eq!(copied(&x), x);
    }

    #[test]
    fn small_mismatched_and_other_type_requests_get_new_buffers() {
        release_buffers();
        give(vec![1.0f64; 10]);
        assert_eq!(kept_buffer_bytes(), 0, "below MIN_BYTES nothing is kept");
        give(vec![1.0f64; 4 * BIG]);
        let small: Vec<f64> = take(BIG);
        assert!(
            small.capacity() < 4 * BIG,
            "more than twice the request is not handed out"
        );
        let other: Vec<f32> = take(2 * BIG);
        drop(other);
        assert_eq!(
            kept_buffer_bytes(),
            4 * BIG * 8,
            "the f64 buffer is kept for f64 requests"
        );
        assert_eq!(release_buffers(), 4 * BIG * 8);
        assert_eq!(kept_buffer_bytes(), 0);
    }

    #[test]
    fn the_pool_is_bounded_and_keeps_the_newest() {
        release_buffers();
        for _ in 0..MAX_BUFFERS + 5 {
            give(vec![0.0f64; BIG]);
        }
        assert_eq!(kept_buffer_bytes(), MAX_BUFFERS * BIG * 8);
        give(vec![0u8; MAX_BYTES + 1]);
        assert_eq!(
            kept_buffer_bytes(),
            MAX_BUFFERS * BIG * 8,
            "too large to keep"
        );
        let newest = vec![0.0f64; 4 * BIG];
        let ptr = newest.as_ptr();
        give(newest);
        assert_eq!(
            kept_buffer_bytes(),
            (MAX_BUFFERS - 1) * BIG * 8 + 4 * BIG * 8
        );
        let taken: Vec<f64> = take(4 * BIG);
        assert_eq!(taken.as_ptr(), ptr, "the oldest made room");
        drop(taken);
        give(vec![0u8; MAX_BYTES]);
        assert_eq!(kept_buffer_bytes(), MAX_BYTES, "everything older made room");
        release_buffers();
    }
}
