//! Group `parallel`: P1, one training step of the digits MLP (64 → 64 relu → 10, softmax
//! cross-entropy, f32, gradient and Adam step) at batch sizes from 32 to 8192 images, as the
//! generated gradient of the whole batch on one thread, and as `grad::parallel::sum` over 8
//! shards on pools of 1 and 2 threads. Hand-written and tape variants would only repeat the
//! `tensor` group's comparison: the question here is what a second thread buys.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion};
use grad::optim::Adam;
use grad::{Differentiable, Tangent, Tensor, differentiable, parallel};

const PIXELS: usize = 64;
const HIDDEN: usize = 64;
const CLASSES: usize = 10;
/// Shards per batch: more than the threads of a small machine, so that 1, 2, 4 and 8
/// threads all get equal work, and fixed, so that the result does not depend on them.
const SHARDS: usize = 8;

#[derive(Differentiable, Clone)]
pub struct Mlp {
    w1: Tensor<f32>,
    b1: Tensor<f32>,
    w2: Tensor<f32>,
    b2: Tensor<f32>,
}

impl Mlp {
    fn new() -> Self {
        Mlp {
            w1: Tensor::randn(&[PIXELS, HIDDEN], 1) * (2.0 / PIXELS as f32).sqrt(),
            b1: Tensor::zeros(&[HIDDEN]),
            w2: Tensor::randn(&[HIDDEN, CLASSES], 2) * (2.0 / HIDDEN as f32).sqrt(),
            b2: Tensor::zeros(&[CLASSES]),
        }
    }

    #[differentiable(wrt(self))]
    fn loss(&self, x: &Tensor<f32>, labels: &[usize]) -> f32 {
        let h = (x.matmul(&self.w1) + &self.b1).relu();
        grad::nn::cross_entropy(&(h.matmul(&self.w2) + &self.b2), labels)
    }
}

/// A batch of `rows` random images with labels, whole and cut into [`SHARDS`] shards.
struct Batch {
    x: Tensor<f32>,
    labels: Vec<usize>,
    shards: Vec<(Tensor<f32>, Vec<usize>)>,
}

fn batch(rows: usize) -> Batch {
    let x = Tensor::rand_uniform(&[rows, PIXELS], 0.0, 1.0, 3);
    let labels: Vec<usize> = (0..rows).map(|i| (i * 7) % CLASSES).collect();
    let per = rows.div_ceil(SHARDS);
    let shards = (0..rows)
        .step_by(per)
        .map(|start| {
            let n = per.min(rows - start);
            let xs = x.as_slice()[start * PIXELS..(start + n) * PIXELS].to_vec();
            let xs = Tensor::from_vec(xs, &[n, PIXELS]).expect("rows of 64");
            (xs, labels[start..start + n].to_vec())
        })
        .collect();
    Batch { x, labels, shards }
}

/// The batch's mean loss and gradient as a sum over its shards, each weighted by its share.
fn sharded_grad(model: &Mlp, b: &Batch) -> (f32, MlpTangent) {
    let total = b.labels.len() as f32;
    parallel::sum(&b.shards, |(x, labels)| {
        let share = labels.len() as f32 / total;
        let (loss, mut g) = model.loss_grad(x, labels);
        g.scale(f64::from(share));
        (loss * share, g)
    })
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("parallel");
    group.sample_size(30);
    let (one, two) = (pool(1), pool(2));
    for rows in [32, 128, 512, 2048, 8192] {
        let b = batch(rows);
        let mut model = Mlp::new();
        let mut opt = Adam::new(1e-3);
        // Every variant runs inside a pool, so the kernels' own splitting of large matrix
        // products sees the same thread count as the shards do.
        group.bench_with_input(
            BenchmarkId::new("P1_mlp_step/generated", rows),
            &b,
            |bn, b| {
                bn.iter(|| {
                    one.install(|| {
                        let (loss, g) = model.loss_grad(black_box(&b.x), &b.labels);
                        opt.step(&mut model, &g);
                        black_box(loss)
                    })
                })
            },
        );
        for (name, pool) in [("threads_1", &one), ("threads_2", &two)] {
            group.bench_with_input(
                BenchmarkId::new(format!("P1_mlp_step/{name}"), rows),
                &b,
                |bn, b| {
                    bn.iter(|| {
                        pool.install(|| {
                            let (loss, g) = sharded_grad(&model, black_box(b));
                            opt.step(&mut model, &g);
                            black_box(loss)
                        })
                    })
                },
            );
        }
    }
    group.finish();
}
