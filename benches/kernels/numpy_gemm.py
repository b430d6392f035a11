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
        for m, k, n in ((1024, 1024, 1024), (128, 784, 256)):
            a = rng.standard_normal((m, k)).astype(dtype)
            b = rng.standard_normal((k, n)).astype(dtype)
            out = np.empty((m, n), dtype=dtype)
            s = median_seconds(lambda: np.matmul(a, b, out=out))
            print(f"gemm_{np.dtype(dtype).name}_{m}x{k}x{n}: {s * 1e3:.3f} ms, {2 * m * n * k / s / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
