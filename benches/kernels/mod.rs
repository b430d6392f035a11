//! Group `kernels`: GEMM GFLOP/s beside matrixmultiply (numpy's OpenBLAS via
//! `numpy_gemm.py`), elementwise and reduction GB/s beside a plain copy, vectorized math
//! beside a loop of std's functions, and the threading threshold.
//!
//! Thread counts are pinned with a rayon pool per measurement (`_t1`, `_t2`); GEMM
//! throughput is reported as elements/s = FLOP/s (2mnk per product), memory kernels as
//! bytes moved per second (an add reads two arrays and writes one).

use criterion::{BenchmarkId, Criterion, Throughput};
use grad::Tensor;
use grad::kernels::gemm::{MatRef, gemm};
use std::hint::black_box;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

/// matrixmultiply called directly: the reference that nalgebra's products use.
fn mm_reference<T: MmGemm>(m: usize, k: usize, n: usize, a: &[T], b: &[T], c: &mut [T]) {
    T::mm(m, k, n, a, b, c);
}

trait MmGemm: Sized {
    fn mm(m: usize, k: usize, n: usize, a: &[Self], b: &[Self], c: &mut [Self]);
}

impl MmGemm for f32 {
    fn mm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
        assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
        // SAFETY: the asserts above bound every index of the row-major operands.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                k as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                n as isize,
                1,
            )
        }
    }
}

impl MmGemm for f64 {
    fn mm(m: usize, k: usize, n: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
        assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
        // SAFETY: the asserts above bound every index of the row-major operands.
        unsafe {
            matrixmultiply::dgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                k as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                n as isize,
                1,
            )
        }
    }
}

fn bench_gemm<T: grad::Real + MmGemm>(c: &mut Criterion, dtype: &str) {
    let mut group = c.benchmark_group("kernels");
    for (m, k, n, tag) in [(1024, 1024, 1024, "1024"), (128, 784, 256, "128x784x256")] {
        let a = Tensor::<T>::randn(&[m, k], 1).into_vec();
        let b = Tensor::<T>::randn(&[k, n], 2).into_vec();
        let mut out = vec![T::ZERO; m * n];
        group.throughput(Throughput::Elements((2 * m * n * k) as u64));
        for threads in [1, 2] {
            let p = pool(threads);
            let id = format!("gemm_{dtype}_{tag}_t{threads}");
            group.bench_function(BenchmarkId::new(&id, "grad"), |bch| {
                p.install(|| {
                    bch.iter(|| {
                        gemm(
                            m,
                            k,
                            n,
                            MatRef::row_major(&a, k),
                            MatRef::row_major(&b, n),
                            T::ZERO,
                            &mut out,
                        );
                        black_box(&out);
                    })
                })
            });
        }
        let id = format!("gemm_{dtype}_{tag}_t1");
        group.bench_function(BenchmarkId::new(&id, "matrixmultiply"), |bch| {
            bch.iter(|| {
                mm_reference(m, k, n, &a, &b, &mut out);
                black_box(&out);
            })
        });
        // The backward products on strided views: A·Bᵀ (n × k stored) and Aᵀ·B.
        let p = pool(1);
        let bt = Tensor::<T>::randn(&[n, k], 3).into_vec();
        group.bench_function(BenchmarkId::new(&id, "grad_a_bt"), |bch| {
            p.install(|| {
                bch.iter(|| {
                    gemm(
                        m,
                        k,
                        n,
                        MatRef::row_major(&a, k),
                        MatRef::transposed(&bt, k),
                        T::ZERO,
                        &mut out,
                    );
                    black_box(&out);
                })
            })
        });
        let at = Tensor::<T>::randn(&[k, m], 4).into_vec();
        group.bench_function(BenchmarkId::new(&id, "grad_at_b"), |bch| {
            p.install(|| {
                bch.iter(|| {
                    gemm(
                        m,
                        k,
                        n,
                        MatRef::transposed(&at, m),
                        MatRef::row_major(&b, n),
                        T::ZERO,
                        &mut out,
                    );
                    black_box(&out);
                })
            })
        });
    }
    group.finish();
}

fn bench_memory(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels");
    for (n, tag) in [(1_000_000usize, "1e6"), (10_000_000, "1e7")] {
        let a = Tensor::<f32>::randn(&[n], 1);
        let b = Tensor::<f32>::randn(&[n], 2);
        let bytes = 4 * n as u64;
        group.throughput(Throughput::Bytes(2 * bytes));
        group.bench_function(
            BenchmarkId::new(format!("copy_f32_{tag}"), "to_vec"),
            |bch| bch.iter(|| black_box(a.to_vec())),
        );
        let mut out = vec![0.0f32; n];
        group.bench_function(
            BenchmarkId::new(format!("copy_into_f32_{tag}"), "copy_from_slice"),
            |bch| {
                bch.iter(|| {
                    out.copy_from_slice(a.as_slice());
                    black_box(&out);
                })
            },
        );
        group.throughput(Throughput::Bytes(3 * bytes));
        group.bench_function(
            BenchmarkId::new(format!("add_into_f32_{tag}"), "grad"),
            |bch| {
                bch.iter(|| {
                    grad::kernels::map2(a.as_slice(), b.as_slice(), &mut out, |x, y| x + y);
                    black_box(&out);
                })
            },
        );
        group.bench_function(
            BenchmarkId::new(format!("mul_into_f32_{tag}"), "grad"),
            |bch| {
                bch.iter(|| {
                    grad::kernels::map2(a.as_slice(), b.as_slice(), &mut out, |x, y| x * y);
                    black_box(&out);
                })
            },
        );
        group.bench_function(BenchmarkId::new(format!("add_f32_{tag}"), "grad"), |bch| {
            bch.iter(|| black_box(&a + &b))
        });
        group.bench_function(BenchmarkId::new(format!("mul_f32_{tag}"), "grad"), |bch| {
            bch.iter(|| black_box(&a * &b))
        });
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function(BenchmarkId::new(format!("sum_f32_{tag}"), "grad"), |bch| {
            bch.iter(|| black_box(a.sum()))
        });
        let one = pool(1);
        group.bench_function(
            BenchmarkId::new(format!("sum_f32_{tag}"), "grad_t1"),
            |bch| one.install(|| bch.iter(|| black_box(a.sum()))),
        );
        group.bench_function(
            BenchmarkId::new(format!("sum_f32_{tag}"), "std_iter"),
            |bch| bch.iter(|| black_box(a.as_slice().iter().sum::<f32>())),
        );
    }
    group.finish();
}

fn bench_math(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels");
    let n = 1_000_000;
    let x = Tensor::<f32>::rand_uniform(&[n], -10.0, 10.0, 5);
    group.throughput(Throughput::Elements(n as u64));
    let one = pool(1);
    type Pair = (
        &'static str,
        fn(&Tensor<f32>) -> Tensor<f32>,
        fn(f32) -> f32,
    );
    let fns: [Pair; 3] = [
        ("exp", |t| t.exp(), f32::exp),
        ("tanh", |t| t.tanh(), f32::tanh),
        ("sigmoid", |t| t.sigmoid(), |v| 1.0 / (1.0 + (-v).exp())),
    ];
    for (name, vectorized, scalar) in fns {
        let id = format!("{name}_f32_1e6_t1");
        group.bench_function(BenchmarkId::new(&id, "grad"), |bch| {
            one.install(|| bch.iter(|| black_box(vectorized(&x))))
        });
        group.bench_function(BenchmarkId::new(&id, "std_loop"), |bch| {
            bch.iter(|| {
                black_box(
                    x.as_slice()
                        .iter()
                        .map(|&v| scalar(v))
                        .collect::<Vec<f32>>(),
                )
            })
        });
    }
    group.finish();
}

/// `add` at sizes around `PAR_THRESHOLD`, on 1 and 2 threads: where splitting starts to pay.
fn bench_threshold(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels");
    let (one, two) = (pool(1), pool(2));
    for log in [14, 16, 17, 18, 20] {
        let n = 1usize << log;
        let a = vec![1.0f32; n];
        let b = vec![2.0f32; n];
        let mut out = vec![0.0f32; n];
        group.throughput(Throughput::Bytes(12 * n as u64));
        // Serial: one thread. Split: the kernel's own chunking (32 Ki elements per task)
        // on two threads, applied at every size so the crossover is visible.
        group.bench_function(
            BenchmarkId::new(format!("threshold_add_2e{log}"), "serial"),
            |bch| {
                one.install(|| {
                    bch.iter(|| {
                        grad::kernels::map2(&a, &b, &mut out, |x, y| x + y);
                        black_box(&out);
                    })
                })
            },
        );
        group.bench_function(
            BenchmarkId::new(format!("threshold_add_2e{log}"), "split_t2"),
            |bch| {
                two.install(|| {
                    bch.iter(|| {
                        use rayon::prelude::*;
                        out.par_chunks_mut(1 << 15)
                            .zip(a.par_chunks(1 << 15).zip(b.par_chunks(1 << 15)))
                            .for_each(|(o, (a, b))| grad::kernels::map2(a, b, o, |x, y| x + y));
                        black_box(&out);
                    })
                })
            },
        );
    }
    group.finish();
}

pub fn bench(c: &mut Criterion) {
    bench_gemm::<f32>(c, "f32");
    bench_gemm::<f64>(c, "f64");
    bench_memory(c);
    bench_math(c);
    bench_threshold(c);
}
