//! A counting global allocator: the peak heap of one call, for the memory table, and the
//! allocations one call makes on its own thread, for the scalar group's allocation check.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

pub struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // Per thread, so that a test measuring one call is not disturbed by the tests running
    // beside it. Const-initialised `Cell`s have no destructor: reading them from inside
    // the allocator never allocates and never fails, even while the thread exits.
    static THREAD_ALLOCS: Cell<usize> = const { Cell::new(0) };
    static THREAD_BYTES: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call forwards to the system allocator with the same arguments; the counters
// are only statistics and never affect what is allocated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
            THREAD_ALLOCS.with(|n| n.set(n.get() + 1));
            THREAD_BYTES.with(|n| n.set(n.get() + layout.size()));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from `alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Relaxed);
    }
}

/// The peak heap, above what was live before, of running `f` once, starting from an empty
/// buffer pool (the buffers the pool keeps during the call count as live: they are).
pub fn peak_of<R>(f: impl FnOnce() -> R) -> usize {
    grad::release_buffers();
    let base = CURRENT.load(Relaxed);
    PEAK.store(base, Relaxed);
    let r = f();
    let peak = PEAK.load(Relaxed) - base;
    drop(r);
    peak
}

/// What one call allocated on the calling thread: `GlobalAlloc::realloc`'s default,
/// which this allocator keeps, counts a growth as one more allocation of the new size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(
    dead_code,
    reason = "tests/activity.rs includes this file for `peak_of` only"
)]
pub struct Allocations {
    pub count: usize,
    pub bytes: usize,
}

/// The allocations made by running `f` once on this thread, its result included (dropped
/// after counting).
#[allow(
    dead_code,
    reason = "tests/activity.rs includes this file for `peak_of` only"
)]
pub fn allocations_of<R>(f: impl FnOnce() -> R) -> Allocations {
    let (count, bytes) = (THREAD_ALLOCS.get(), THREAD_BYTES.get());
    let r = f();
    let counted = Allocations {
        count: THREAD_ALLOCS.get() - count,
        bytes: THREAD_BYTES.get() - bytes,
    };
    drop(r);
    counted
}
