"""GEMM GFLOP/s of numpy (OpenBLAS) for the shapes of `cargo bench -- kernels/gemm`.

The reference beside grad's own GEMM numbers. Run it on the same machine, with OpenBLAS
free to pick its kernels (the environment here sets OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE for other tools; unset them for this one command only):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python3 benches/kernels/numpy_gemm.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 python3 benches/kernels/numpy_gemm.py

It prints, per dtype and shape, the median over repeated timed products (after a warm-up)
and the resulting GFLOP/s, counting 2·m·n·k floating-point operations per product.
"""

import os
import statistics
import time

import numpy as np


# (tag, m, k, n, A stored transposed, B stored transposed): benches/kernels/mod.rs's GEMM_SHAPES.
SHAPES = (
    ("1024", 1024, 1024, 1024, False, False),
    ("1024_at", 1024, 1024, 1024, True, False),
    ("1024_bt", 1024, 1024, 1024, False, True),
    ("128x784x256", 128, 784, 256, False, False),
    ("128x256x10", 128, 256, 10, False, False),
    ("784x128x256_at", 784, 128, 256, True, False),
    ("256x128x10_at", 256, 128, 10, True, False),
    ("128x10x256_bt", 128, 10, 256, False, True),
)


def median_seconds(f, min_time=1.0):
    f()  # warm-up: page-in and thread start-up
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_time or len(times) < 5:
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}, OPENBLAS_NUM_THREADS={threads}")
    for dtype in (np.float32, np.float64):
        for tag, m, k, n, at, bt in SHAPES:
            # A transposed operand is stored transposed and read through a view (`.T`), as
            # the backward pass does: numpy hands BLAS the transpose flag, no copy.
            a = rng.standard_normal((k, m) if at else (m, k)).astype(dtype)
            b = rng.standard_normal((n, k) if bt else (k, n)).astype(dtype)
            a, b = (a.T if at else a), (b.T if bt else b)
            out = np.empty((m, n), dtype=dtype)
            s = median_seconds(lambda: np.matmul(a, b, out=out))
            name = np.dtype(dtype).name
            print(f"gemm_{name}_{tag}: {s * 1e3:.4f} ms, {2 * m * n * k / s / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
