//! `grad::parallel::sum`: the same bits on pools of 1, 2 and 3 threads and on every run,
//! the gradient of the whole batch when shards are weighted, the documented tree order,
//! tangents added in place, and a clear panic when there is nothing to sum.

mod common;

use common::floats;
use grad::{Differentiable, Tangent, Tensor, differentiable, parallel};
use std::sync::Mutex;

/// A small tanh network with a squared-error loss, in f64.
#[derive(Differentiable, Clone, Debug)]
struct Net {
    w1: Tensor<f64>,
    b1: Tensor<f64>,
    w2: Tensor<f64>,
}

impl Net {
    #[differentiable(wrt(self))]
    fn loss(&self, x: &Tensor<f64>, y: &Tensor<f64>) -> f64 {
        let h = (x.matmul(&self.w1) + &self.b1).tanh();
        grad::nn::mse(&h.matmul(&self.w2), y)
    }
}

fn net() -> Net {
    Net {
        w1: Tensor::rand_uniform(&[6, 8], -1.0, 1.0, 11),
        b1: Tensor::rand_uniform(&[8], -0.5, 0.5, 12),
        w2: Tensor::rand_uniform(&[8, 3], -1.0, 1.0, 13),
    }
}

/// `rows` rows of inputs and targets, split into shards of at most `per_shard` rows.
struct Batch {
    x: Tensor<f64>,
    y: Tensor<f64>,
    shards: Vec<(Tensor<f64>, Tensor<f64>)>,
}

fn batch(rows: usize, per_shard: usize) -> Batch {
    let x = Tensor::rand_uniform(&[rows, 6], -1.0, 1.0, 21);
    let y = Tensor::rand_uniform(&[rows, 3], -1.0, 1.0, 22);
    let shards = (0..rows)
        .step_by(per_shard)
        .map(|start| {
            let n = per_shard.min(rows - start);
            let xs = x.as_slice()[start * 6..(start + n) * 6].to_vec();
            let ys = y.as_slice()[start * 3..(start + n) * 3].to_vec();
            (
                Tensor::from_vec(xs, &[n, 6]).unwrap(),
                Tensor::from_vec(ys, &[n, 3]).unwrap(),
            )
        })
        .collect();
    Batch { x, y, shards }
}

/// The mean loss of the whole batch as a sum over shards: each shard's mean weighted by its
/// share of the rows.
fn sharded_grad(model: &Net, b: &Batch) -> (f64, NetTangent) {
    let total = b.x.shape()[0] as f64;
    parallel::sum(&b.shards, |(x, y)| {
        let (loss, mut g) = model.loss_grad(x, y);
        let share = x.shape()[0] as f64 / total;
        g.scale(share);
        (loss * share, g)
    })
}

fn bits<T: Tangent>(t: &T) -> Vec<u64> {
    let mut out = Vec::new();
    t.visit(&mut |flat| match flat {
        grad::Flat::F32(s) => out.extend(s.iter().map(|v| u64::from(v.to_bits()))),
        grad::Flat::F64(s) => out.extend(s.iter().map(|v| v.to_bits())),
    });
    out
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

#[test]
fn sum_has_the_same_bits_on_1_2_and_3_threads_and_every_run() {
    let model = net();
    // Shard counts that are powers of two and not, more and fewer than the threads.
    for (rows, per_shard) in [(40, 40), (40, 20), (40, 13), (64, 4), (70, 9)] {
        let b = batch(rows, per_shard);
        let (want_loss, want_g) = pool(1).install(|| sharded_grad(&model, &b));
        for threads in [1, 2, 3] {
            let pool = pool(threads);
            for run in 0..5 {
                let (loss, g) = pool.install(|| sharded_grad(&model, &b));
                assert_eq!(
                    loss.to_bits(),
                    want_loss.to_bits(),
                    "loss, {} shards, {threads} threads, run {run}",
                    b.shards.len()
                );
                assert_eq!(
                    bits(&g),
                    bits(&want_g),
                    "gradient, {} shards, {threads} threads, run {run}",
                    b.shards.len()
                );
            }
        }
    }
}

#[test]
fn weighted_shards_sum_to_the_gradient_of_the_whole_batch() {
    let model = net();
    for (rows, per_shard) in [(40, 40), (40, 13), (70, 9)] {
        let b = batch(rows, per_shard);
        let (want_loss, want_g) = model.loss_grad(&b.x, &b.y);
        let (loss, g) = pool(2).install(|| sharded_grad(&model, &b));
        assert!((loss - want_loss).abs() <= 1e-12 * want_loss.abs());
        // Relative to the largest component: shards change only the order of the additions.
        let (got, want) = (floats(&g), floats(&want_g));
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(scale > 0.0);
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-12 * scale,
                "component {i}: sharded {a}, whole batch {b}"
            );
        }
    }
}

#[test]
fn sum_adds_in_the_documented_pairwise_order() {
    // Four shards a, b, c, d = 1, 1e16, -1e16, 1. The tree adds (a + b) + (c + d):
    // 1 + 1e16 rounds to 1e16 and -1e16 + 1 to -1e16 (the spacing of doubles there is 2),
    // so the sum is exactly 0. Left to right, ((a + b) + c) + d = (1e16 - 1e16) + 1 = 1.
    let shards = [1.0f64, 1e16, -1e16, 1.0];
    for threads in [1, 2, 3] {
        let (value, tangent) = pool(threads).install(|| parallel::sum(&shards, |&v| (v, [v])));
        assert_eq!((value, tangent), (0.0, [0.0]), "{threads} threads");
    }
    // Three shards: the split is [a] and [b, c], so the sum is a + (b + c):
    // 1e16 + (1 + 1) = 1e16 + 2, where left to right (1e16 + 1) + 1 = 1e16.
    let (value, _) = parallel::sum(&[1e16f64, 1.0, 1.0], |&v| (v, ()));
    assert_eq!(value, 1e16 + 2.0);
}

#[test]
fn tangents_are_added_into_the_first_shards_buffer() {
    // The result's buffer is the one the first shard's gradient was computed in: the sums
    // are formed in place, and no shard's gradient is copied.
    let first = Mutex::new(None);
    let shards: Vec<usize> = (0..5).collect();
    let (count, g) = pool(2).install(|| {
        parallel::sum(&shards, |&i| {
            let g = Tensor::<f64>::full(&[1000], i as f64);
            if i == 0 {
                *first.lock().unwrap() = Some(g.as_slice().as_ptr() as usize);
            }
            (1.0f64, g)
        })
    });
    assert_eq!(count, 5.0);
    // 0 + 1 + 2 + 3 + 4 in every component.
    assert!(g.as_slice().iter().all(|&v| v == 10.0));
    assert_eq!(Some(g.as_slice().as_ptr() as usize), *first.lock().unwrap());
}

#[test]
#[should_panic(expected = "grad::parallel::sum: no shards to sum over")]
fn sum_over_no_shards_panics_with_a_clear_message() {
    let shards: [f64; 0] = [];
    let _ = parallel::sum(&shards, |&v| (v, v));
}
