//! Data parallelism on one machine: one gradient per shard on rayon's pool, summed in a
//! fixed order so that the result does not depend on the number of threads.
//!
//! ```
//! use grad::parallel;
//!
//! // Least squares `L(w) = Σ (w xᵢ - yᵢ)²` over 1000 points, in shards of 100 points.
//! // Each shard returns its part of the loss and of `dL/dw = Σ 2 (w xᵢ - yᵢ) xᵢ`.
//! let points: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64 / 1000.0, 0.5)).collect();
//! let shards: Vec<&[(f64, f64)]> = points.chunks(100).collect();
//! let w = 2.0;
//! let (loss, dw) = parallel::sum(&shards, |shard| {
//!     shard.iter().fold((0.0, 0.0), |(l, g), &(x, y)| {
//!         let r = w * x - y;
//!         (l + r * r, g + 2.0 * r * x)
//!     })
//! });
//!
//! // The same bits on one thread as on however many the global pool has.
//! let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
//! let on_one = one.install(|| {
//!     parallel::sum(&shards, |shard| {
//!         shard.iter().fold((0.0, 0.0), |(l, g), &(x, y)| {
//!             let r = w * x - y;
//!             (l + r * r, g + 2.0 * r * x)
//!         })
//!     })
//! });
//! assert_eq!((loss.to_bits(), dw.to_bits()), (on_one.0.to_bits(), on_one.1.to_bits()));
//! ```

use crate::differentiable::Tangent;

/// Runs `f` on every shard on rayon's thread pool (the one that is current: the global pool,
/// or a pool's `install`) and returns the sum of the values and the sum of the tangents that
/// `f` returned.
///
/// The sums are formed in a fixed pairwise tree over the shard indices: the shards are split
/// into halves `[0, n/2)` and `[n/2, n)`, each half is summed the same way, and the right
/// half's sum is added into the left half's with [`Tangent::add_assign`] (in place, so no
/// tangent is copied: each shard's own gradient is the only buffer it allocates). The tree
/// depends on the number of shards alone, never on the threads, so the result has the same
/// bits for 1, 2 or any number of threads and on every run, provided `f` is itself
/// deterministic (grad's kernels are, except reductions of more than 2²⁴ elements, which
/// split their work by thread count).
///
/// The value `R` is any tangent type too: the loss `f32` or `f64`, or a tuple of several.
/// Gradients of a *mean* over a batch are the sum over shards of each shard's mean weighted
/// by its share of the batch; `f` applies the weight (`g.scale(len / total)`).
///
/// # Panics
///
/// If `shards` is empty: there is no value to return, since the zero of a tangent needs
/// the shape of the value it belongs to. Also if `f` panics on some shard (the panic is
/// passed on), or if two shards return tangents of different shapes.
pub fn sum<S, R, G, F>(shards: &[S], f: F) -> (R, G)
where
    S: Sync,
    R: Tangent + Send,
    G: Tangent + Send,
    F: Fn(&S) -> (R, G) + Sync,
{
    assert!(
        !shards.is_empty(),
        "grad::parallel::sum: no shards to sum over; give at least one shard"
    );
    tree(shards, &f)
}

/// The sum over non-empty `shards`: left half, right half, then right added into left.
fn tree<S, R, G, F>(shards: &[S], f: &F) -> (R, G)
where
    S: Sync,
    R: Tangent + Send,
    G: Tangent + Send,
    F: Fn(&S) -> (R, G) + Sync,
{
    if let [shard] = shards {
        return f(shard);
    }
    let (left, right) = shards.split_at(shards.len() / 2);
    let ((mut value, mut tangent), (right_value, right_tangent)) =
        rayon::join(|| tree(left, f), || tree(right, f));
    value.add_assign(right_value);
    tangent.add_assign(right_tangent);
    (value, tangent)
}
