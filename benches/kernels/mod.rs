//! Group `kernels`: GEMM GFLOP/s (grad's products are the `gemm` crate's, or grad's own
//! narrow kernels at most 16 columns wide, with the crate beside them as `gemm_crate`)
//! beside matrixmultiply on the same strided views (numpy's OpenBLAS on the same shapes via
//! `numpy_gemm.py`), at 1024³ and the T3 MLP's forward and backward shapes; elementwise
//! and reduction GB/s beside a plain copy, vectorized math beside a loop of std's
//! functions, and the threading threshold.
//!
//! Thread counts are pinned with a rayon pool per measurement (`_t1`, `_t2`); GEMM
//! throughput is reported as elements/s = FLOP/s (2mnk per product), memory kernels as
//! bytes moved per second (an add reads two arrays and writes one).

use criterion::{BenchmarkId, Criterion, Throughput};
use grad::Tensor;
use grad::kernels::gemm::{MatRef, gemm};
use grad::kernels::{Isa, with_isa};
use std::hint::black_box;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

/// matrixmultiply called directly on the same strided views: the reference that nalgebra's
/// products use.
trait MmGemm: Sized {
    fn mm(m: usize, k: usize, n: usize, a: MatRef<Self>, b: MatRef<Self>, c: &mut [Self]);
}

/// Whether every element of a `rows × cols` view lies inside its storage.
fn fits<T>(v: MatRef<T>, rows: usize, cols: usize) -> bool {
    rows == 0 || cols == 0 || (rows - 1) * v.rs + (cols - 1) * v.cs < v.data.len()
}

macro_rules! mm_gemm {
    ($t:ty, $f:ident) => {
        impl MmGemm for $t {
            fn mm(m: usize, k: usize, n: usize, a: MatRef<$t>, b: MatRef<$t>, c: &mut [$t]) {
                assert!(fits(a, m, k) && fits(b, k, n) && c.len() >= m * n);
                // SAFETY: the assert bounds every index of the strided operands and of `c`.
                unsafe {
                    matrixmultiply::$f(
                        m,
                        k,
                        n,
                        1.0,
                        a.data.as_ptr(),
                        a.rs as isize,
                        a.cs as isize,
                        b.data.as_ptr(),
                        b.rs as isize,
                        b.cs as isize,
                        0.0,
                        c.as_mut_ptr(),
                        n as isize,
                        1,
                    )
                }
            }
        }
    };
}
mm_gemm!(f32, sgemm);
mm_gemm!(f64, dgemm);

/// Rows of `C` split in two blocks (multiples of 16 rows) over rayon's threads: how grad
/// ran a product on two threads before it used the `gemm` crate's own split.
fn row_split<T: Copy + Send + Sync>(
    m: usize,
    n: usize,
    a: MatRef<T>,
    c: &mut [T],
    f: impl Fn(usize, MatRef<T>, &mut [T]) + Sync,
) {
    use rayon::prelude::*;
    let rows = m.div_ceil(2).next_multiple_of(16);
    c[..m * n]
        .par_chunks_mut(rows * n)
        .enumerate()
        .for_each(|(i, c)| {
            let data = &a.data[(i * rows * a.rs).min(a.data.len())..];
            f(c.len() / n, MatRef { data, ..a }, c)
        });
}

/// The shapes measured: 1024³ and the T3 MLP's products (784-256-10, a batch of 128), with
/// which operand the backward pass reads transposed from its stored matrix.
///
/// | tag | product | stored as |
/// |---|---|---|
/// | `128x784x256` | forward `x·W1` | row-major |
/// | `128x256x10` | forward `h·W2` | row-major |
/// | `784x128x256_at` | `∂W1 = xᵀ·∂pre1` | `x` 128×784 |
/// | `256x128x10_at` | `∂W2 = hᵀ·∂pre2` | `h` 128×256 |
/// | `128x10x256_bt` | `∂h = ∂pre2·W2ᵀ` | `W2` 256×10 |
const GEMM_SHAPES: [(&str, usize, usize, usize, bool, bool); 8] = [
    ("1024", 1024, 1024, 1024, false, false),
    ("1024_at", 1024, 1024, 1024, true, false),
    ("1024_bt", 1024, 1024, 1024, false, true),
    ("128x784x256", 128, 784, 256, false, false),
    ("128x256x10", 128, 256, 10, false, false),
    ("784x128x256_at", 784, 128, 256, true, false),
    ("256x128x10_at", 256, 128, 10, true, false),
    ("128x10x256_bt", 128, 10, 256, false, true),
];

fn bench_gemm<T: grad::Real + MmGemm>(c: &mut Criterion, dtype: &str) {
    let mut group = c.benchmark_group("kernels");
    let (one, two) = (pool(1), pool(2));
    for (tag, m, k, n, at, bt) in GEMM_SHAPES {
        let a = Tensor::<T>::randn(&[m, k], 1).into_vec();
        let b = Tensor::<T>::randn(&[k, n], 2).into_vec();
        let av = if at {
            MatRef::transposed(&a, m)
        } else {
            MatRef::row_major(&a, k)
        };
        let bv = if bt {
            MatRef::transposed(&b, k)
        } else {
            MatRef::row_major(&b, n)
        };
        let mut out = vec![T::ZERO; m * n];
        group.throughput(Throughput::Elements((2 * m * n * k) as u64));
        let id = format!("gemm_{dtype}_{tag}_t1");
        group.bench_function(BenchmarkId::new(&id, "grad"), |bch| {
            one.install(|| {
                bch.iter(|| {
                    gemm(m, k, n, av, bv, T::ZERO, &mut out);
                    black_box(&out);
                })
            })
        });
        if n <= 16 {
            // The `gemm` crate's packed product, which the narrow kernels replace here (the
            // portable path declines them; the crate picks its own instruction set).
            group.bench_function(BenchmarkId::new(&id, "gemm_crate"), |bch| {
                one.install(|| {
                    with_isa(Isa::Scalar, || {
                        bch.iter(|| {
                            gemm(m, k, n, av, bv, T::ZERO, &mut out);
                            black_box(&out);
                        })
                    })
                })
            });
        }
        group.bench_function(BenchmarkId::new(&id, "matrixmultiply"), |bch| {
            bch.iter(|| {
                T::mm(m, k, n, av, bv, &mut out);
                black_box(&out);
            })
        });
        if tag == "1024" || tag == "128x784x256" {
            let id = format!("gemm_{dtype}_{tag}_t2");
            group.bench_function(BenchmarkId::new(&id, "grad"), |bch| {
                two.install(|| {
                    bch.iter(|| {
                        gemm(m, k, n, av, bv, T::ZERO, &mut out);
                        black_box(&out);
                    })
                })
            });
            group.bench_function(BenchmarkId::new(&id, "matrixmultiply_row_split"), |bch| {
                two.install(|| {
                    bch.iter(|| {
                        row_split(m, n, av, &mut out, |mr, a, c| T::mm(mr, k, n, a, bv, c));
                        black_box(&out);
                    })
                })
            });
        }
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
