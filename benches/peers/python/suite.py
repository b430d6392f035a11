"""The Python peers of grad's peer comparison: PyTorch eager autograd and JAX jit.

What it measures: for each case of the comparison (scalar S1..S5, tensor T1..T4; the
definitions are in benches/scalar/cases.rs and benches/tensor/cases.rs), the time of one
call of the function's value alone ("primal") and of value and gradient together
("gradient"), all in float64 on the CPU:

- torch: eager PyTorch. The primal runs under ``torch.no_grad()``; the gradient makes
  fresh leaf tensors with ``requires_grad`` on every call, runs the forward and
  ``torch.autograd.grad``.
- jax: ``jax.jit(f)`` for the primal, ``jax.jit(jax.value_and_grad(f, argnums=...))`` for
  the gradient, ``block_until_ready`` on every output. Compilation happens in the
  agreement check and the warm-up, never inside a timed sample.

Each case is written as a user of the library would write it (torch / jax.numpy ops on
tensors, the library's loss functions where they compute the same function), not as a
transcription of the Rust loops: S3 and S5 are vectorized, S4's `if x < 0` is a `where`.

At 2 threads PyTorch's OpenMP workers spin while they wait; on a machine with other load
this inflates torch's multi-thread times many-fold, so take those rows from a quiet machine.

Before timing a case the runner computes value and gradient once and checks them against
the reference written by grad (manifest.json): a case that disagrees is reported with
"agree": false and is not timed. The protocol (data format, timing, threads) is shared
with the Rust runners; see benches/peers/README.md.

Run (normally the orchestrator does this, see benches/peers/README.md):

    python3 suite.py --system torch|jax --threads N --data DIR [--cases S1,T3]

DIR is written by ``grad-peers export DIR``. Output: one JSON object per case on stdout,

    {"case": "S2", "system": "torch", "threads": 1, "primal_ns": 1234.5,
     "grad_ns": 5678.9, "agree": true, "detail": "max rel err 3e-16"}

and logs on stderr. Scalar cases (S*) run at 1 thread only. PEERS_SECONDS (default 1.0)
is the minimum measuring time per measured function. Exit code 0 even when a case
disagrees; 2 for a usage error, 1 for unreadable data.

Install: ``pip install -r requirements.txt`` (torch, jax[cpu], numpy; CPU wheels suffice).
"""

import argparse
import contextlib
import json
import math
import os
import statistics
import sys
import time

# Agreement: |a - b| <= TOL * max(1, |b|) for the value, every `first` entry and every `sum`.
TOL = 1e-8

# Timing constants of the protocol.
WARMUP_CALLS = 3
WARMUP_SECONDS = 0.2
MIN_BATCH_SECONDS = 2e-3
MIN_SAMPLES = 20
MAX_SAMPLES = 200

# S5: link lengths and target of the planar arm.
S5_LINKS = [1.0, 0.8, 0.6, 0.5, 0.4, 0.3]
S5_TARGET = (1.5, 1.2)

# Abramowitz-Stegun 7.1.26: erf(z) ~ 1 - t (a1 + t (a2 + ...)) e^{-z^2}, t = 1 / (1 + p z).
AS_P = 0.3275911
AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
# Rust's FRAC_1_SQRT_2; sqrt is correctly rounded, so this is the same f64.
FRAC_1_SQRT_2 = math.sqrt(0.5)

# case -> (number of arguments, positions of integer arguments). The arguments come from
# the manifest in this order (the function's argument order); which are differentiated
# comes from the manifest's `wrt`.
CASES = {
    "S1": (1, ()),  # a
    "S2": (2, ()),  # x, y
    "S3": (1, ()),  # x [1000]
    "S4": (5, ()),  # s, k, r, sigma, t
    "S5": (1, ()),  # theta [6]
    "T1": (1, ()),  # a [1]
    "T2": (4, ()),  # w [100], b [], x [1024, 100], y [1024]
    "T3": (6, (5,)),  # w1, b1, w2, b2, x [128, 784], labels [128] (stored as f64)
    "T4": (1, ()),  # x [1_000_000]
}


def log(msg):
    print(f"suite.py: {msg}", file=sys.stderr, flush=True)


class DataError(Exception):
    """The data directory cannot be read or does not fit a case."""


# ---------------------------------------------------------------------------------------
# The cases: those written alike in both libraries once, then each library's own.


def shared_cases(xp, array):
    """The cases written the same way in PyTorch and JAX: `xp` is `torch` or `jax.numpy`
    (the same names: where, exp, sqrt, log, cos, sin, tanh, cumsum, sum), `array` makes an
    f64 array of a list."""

    def s1(a):
        return a * 5.0

    def s2(x, y):
        return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2

    def s3(x):
        # Vectorized over the 1000-vector, as a PyTorch or JAX user writes it (one op per
        # term over all i), while the Rust systems loop over i.
        head, tail = x[:-1], x[1:]
        return xp.sum((1.0 - head) ** 2 + 100.0 * (tail - head**2) ** 2)

    def erf(x):
        # The `if x < 0` of cases.rs as `where`: both branches are evaluated (cheap here),
        # and the gradient flows through the selected one.
        neg = x < 0.0
        z = xp.where(neg, -x, x)
        t = 1.0 / (1.0 + AS_P * z)
        a1, a2, a3, a4, a5 = AS_A
        poly = t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5))))
        e = 1.0 - poly * xp.exp(-(z * z))
        return xp.where(neg, -e, e)

    def norm_cdf(x):
        return 0.5 * (1.0 + erf(x * FRAC_1_SQRT_2))

    def s4(s, k, r, sigma, t):
        vol = sigma * xp.sqrt(t)
        d1 = (xp.log(s / k) + (r + 0.5 * sigma * sigma) * t) / vol
        d2 = d1 - vol
        return s * norm_cdf(d1) - k * xp.exp(-r * t) * norm_cdf(d2)

    links = array(S5_LINKS)

    def s5(theta):
        # Cumulative angles phi_k = theta_0 + ... + theta_k by cumsum over the 6 joints
        # (vectorized; the Rust systems loop over k).
        phi = xp.cumsum(theta, 0)
        x = xp.sum(links * xp.cos(phi))
        y = xp.sum(links * xp.sin(phi))
        return (x - S5_TARGET[0]) ** 2 + (y - S5_TARGET[1]) ** 2

    def t1(a):
        return xp.sum(a * 5.0)

    def t4(x):
        t = xp.tanh(x)
        return xp.sum(t * t * xp.exp(-x))

    return {"S1": s1, "S2": s2, "S3": s3, "S4": s4, "S5": s5, "T1": t1, "T4": t4}


def torch_cases(torch):
    F = torch.nn.functional

    def t2(w, b, x, y):
        # PyTorch's mean BCE with logits is the same function as grad's
        # mean(relu(z) - z y + ln(1 + e^{-|z|})) (another stable form of it).
        z = x @ w + b
        return F.binary_cross_entropy_with_logits(z, y)

    def t3(w1, b1, w2, b2, x, labels):
        h = torch.relu(x @ w1 + b1)
        logits = h @ w2 + b2
        return F.cross_entropy(logits, labels)

    cases = shared_cases(torch, lambda v: torch.tensor(v, dtype=torch.float64))
    return {**cases, "T2": t2, "T3": t3}


def torch_runner(torch, f, arrays, wrt, int_args):
    """(primal, gradient, to_numpy) for one case: closures of no arguments."""
    args = [
        torch.from_numpy(a.astype("int64") if i in int_args else a)
        for i, a in enumerate(arrays)
    ]

    def primal():
        # Called inside torch.no_grad() by the caller (check and timing loop).
        return f(*args)

    def gradient():
        full = list(args)
        leaves = []
        for i in wrt:
            leaf = args[i].detach().requires_grad_(True)
            full[i] = leaf
            leaves.append(leaf)
        loss = f(*full)
        grads = torch.autograd.grad(loss, leaves)
        return loss, grads

    def value_of(v):
        return float(v.detach().item())

    def grads_of(gs):
        return [g.detach().numpy() for g in gs]

    return primal, gradient, value_of, grads_of


# ---------------------------------------------------------------------------------------
# JAX's own cases and runner.


def jax_cases(jax, jnp):
    def t2(w, b, x, y):
        z = x @ w + b
        return jnp.mean(jax.nn.relu(z) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))

    def t3(w1, b1, w2, b2, x, labels):
        h = jax.nn.relu(x @ w1 + b1)
        logits = h @ w2 + b2
        lsm = jax.nn.log_softmax(logits, axis=-1)
        return -jnp.mean(jnp.take_along_axis(lsm, labels[:, None], axis=1))

    cases = shared_cases(jnp, lambda v: jnp.asarray(v, dtype=jnp.float64))
    return {**cases, "T2": t2, "T3": t3}


def jax_runner(jax, jnp, f, arrays, wrt, int_args):
    args = [
        jax.device_put(jnp.asarray(a.astype("int64") if i in int_args else a))
        for i, a in enumerate(arrays)
    ]
    jf = jax.jit(f)
    jg = jax.jit(jax.value_and_grad(f, argnums=tuple(wrt)))

    def primal():
        return jf(*args).block_until_ready()

    def gradient():
        return jax.block_until_ready(jg(*args))

    def value_of(v):
        return float(v)

    def grads_of(gs):
        return [jax.device_get(g) for g in gs]

    return primal, gradient, value_of, grads_of


# ---------------------------------------------------------------------------------------
# Data, agreement, timing.


def load_manifest(data_dir):
    path = os.path.join(data_dir, "manifest.json")
    try:
        with open(path) as fh:
            manifest = json.load(fh)
        return manifest["cases"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(f"cannot read {path}: {err}") from err


def load_case(np, data_dir, name, entry):
    """The case's input arrays in argument order and the argument positions of `wrt`."""
    try:
        inputs = entry["inputs"]
        arrays = []
        for inp in inputs:
            shape = tuple(int(d) for d in inp["shape"])
            path = os.path.join(data_dir, inp["file"])
            a = np.fromfile(path, dtype="<f8")
            if a.size != math.prod(shape):
                raise DataError(
                    f"{name}: {inp['file']} holds {a.size} values, shape {list(shape)} "
                    f"needs {math.prod(shape)}"
                )
            arrays.append(a.astype(np.float64).reshape(shape))
        names = [inp["name"] for inp in inputs]
        wrt = [names.index(w) for w in entry["wrt"]]
    except DataError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(f"{name}: cannot read its inputs: {err}") from err
    arity = CASES[name][0]
    if len(arrays) != arity:
        raise DataError(f"{name}: the manifest lists {len(arrays)} inputs, the case takes {arity}")
    return arrays, wrt


def check(np, entry, primal_value, value, grads):
    """(agree, detail) of the computed value and gradient against the manifest."""
    rows = [("value (primal)", primal_value, entry["value"]),
            ("value (with gradient)", value, entry["value"])]
    ref_grads = entry["grad"]
    if len(ref_grads) != len(grads):
        return False, f"{len(grads)} gradients, the manifest has {len(ref_grads)}"
    for ref, g in zip(ref_grads, grads):
        flat = np.asarray(g, dtype=np.float64).reshape(-1)
        first = ref["first"]
        if len(first) > flat.size:
            return False, f"grad {ref['name']}: {flat.size} entries, the manifest has more"
        for j, want in enumerate(first):
            rows.append((f"grad {ref['name']} first[{j}]", float(flat[j]), want))
        rows.append((f"grad {ref['name']} sum", float(flat.sum()), ref["sum"]))
    worst = 0.0
    bad = []
    for what, got, want in rows:
        try:
            want = float(want)  # null (grad's NaN) fails below: NaN never agrees
        except (TypeError, ValueError):
            want = math.nan
        err = abs(got - want) / max(1.0, abs(want))
        if not err <= TOL:  # also catches NaN
            bad.append(f"{what}: got {got!r}, grad has {want!r} (rel err {err:.3g})")
        elif err > worst:
            worst = err
    if bad:
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        return False, "; ".join(bad[:3]) + more
    return True, f"max rel err {worst:.3g}"


def measure(fn, seconds):
    """Per-call time of fn in ns (the median over samples of batch_time / k), k, the number
    of samples, and the cores kept busy (process CPU time over wall time while sampling)."""
    clock = time.perf_counter_ns
    # Warm-up: at least 3 calls and 0.2 s (JAX compiles in the first call, before this).
    start = clock()
    calls = 0
    while calls < WARMUP_CALLS or clock() - start < WARMUP_SECONDS * 1e9:
        fn()
        calls += 1
    # Batch size: double k from 1 until one batch takes at least 2 ms.
    k = 1
    while True:
        t0 = clock()
        for _ in range(k):
            fn()
        if clock() - t0 >= MIN_BATCH_SECONDS * 1e9:
            break
        k *= 2
    # Samples of one batch each until 20 samples and `seconds` are reached, or 200 samples.
    samples = []
    start = clock()
    cpu = time.process_time_ns()
    while len(samples) < MAX_SAMPLES:
        t0 = clock()
        for _ in range(k):
            fn()
        samples.append((clock() - t0) / k)
        if len(samples) >= MIN_SAMPLES and clock() - start >= seconds * 1e9:
            break
    cores = (time.process_time_ns() - cpu) / (clock() - start)
    return statistics.median(samples), k, len(samples), cores


# ---------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="PyTorch eager / JAX jit runner of grad's peer comparison."
    )
    p.add_argument("--system", required=True, choices=["torch", "jax"])
    p.add_argument("--threads", required=True, type=int)
    p.add_argument("--data", required=True, help="directory written by grad-peers export")
    p.add_argument("--cases", help="comma-separated subset, e.g. S1,T3 (default: all)")
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error("--threads must be at least 1")
    if args.cases is not None:
        wanted = [c.strip() for c in args.cases.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in CASES]
        if unknown or not wanted:
            p.error(f"unknown cases {unknown}; known: {','.join(CASES)}")
        args.cases = wanted
    seconds = os.environ.get("PEERS_SECONDS", "1.0")
    try:
        args.seconds = float(seconds)
    except ValueError:
        p.error(f"PEERS_SECONDS={seconds!r} is not a number")
    return args


def set_thread_env(n, system):
    """Thread settings of the protocol; must run before torch or jax is imported."""
    for var in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(n)
    if system == "jax":
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        if n == 1:
            flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
            old = os.environ.get("XLA_FLAGS", "").strip()
            os.environ["XLA_FLAGS"] = f"{old} {flags}".strip()
    # The variables and flags above are requests: JAX 0.10's XLA ignores its flags and ran
    # "1 thread" on every core (1.8 cores busy on T3's product). Pinning the process to n
    # CPUs is what holds every library to n cores.
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < n:
        raise SystemExit(f"suite.py: --threads {n} but only {len(cpus)} CPUs are available")
    os.sched_setaffinity(0, cpus[:n])


def main(argv):
    args = parse_args(argv)
    # Keep stdout for the JSON lines alone: whatever else writes to file descriptor 1
    # (a library's print, C code) goes to stderr.
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)

    # Before numpy, torch or jax is imported: their thread pools read the environment.
    set_thread_env(args.threads, args.system)
    import numpy as np

    try:
        manifest = load_manifest(args.data)
    except DataError as err:
        log(str(err))
        return 1
    names = args.cases if args.cases is not None else [c for c in CASES if c in manifest]
    missing = [c for c in names if c not in manifest]
    if missing:
        log(f"{args.data}/manifest.json has no case {','.join(missing)}")
        return 1
    for c in manifest:
        if c not in CASES:
            log(f"case {c} of the manifest is not implemented here; skipped")
    if args.threads != 1:
        scalar = [c for c in names if c.startswith("S")]
        if scalar:
            log(f"scalar cases run at 1 thread only; skipping {','.join(scalar)}")
        names = [c for c in names if not c.startswith("S")]

    if args.system == "torch":
        import torch

        torch.set_num_threads(args.threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError as err:
            log(f"torch.set_num_interop_threads(1): {err}")
        fns = torch_cases(torch)

        def runner(f, arrays, wrt, int_args):
            return torch_runner(torch, f, arrays, wrt, int_args)

        no_grad = torch.no_grad
        version = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    else:
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        fns = jax_cases(jax, jnp)

        def runner(f, arrays, wrt, int_args):
            return jax_runner(jax, jnp, f, arrays, wrt, int_args)

        no_grad = contextlib.nullcontext
        version = f"jax {jax.__version__} on {jax.devices()}, XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}"
    log(f"{version}; numpy {np.__version__}; PEERS_SECONDS={args.seconds}")

    for name in names:
        entry = manifest[name]
        try:
            arrays, wrt = load_case(np, args.data, name, entry)
        except DataError as err:
            log(str(err))
            return 1
        primal, gradient, value_of, grads_of = runner(fns[name], arrays, wrt, CASES[name][1])
        with no_grad():
            primal_value = value_of(primal())
        loss, grads = gradient()
        agree, detail = check(np, entry, primal_value, value_of(loss), grads_of(grads))
        line = {"case": name, "system": args.system, "threads": args.threads,
                "primal_ns": None, "grad_ns": None, "agree": agree, "detail": detail}
        if agree:
            with no_grad():
                line["primal_ns"], pk, pn, _ = measure(primal, args.seconds)
            line["grad_ns"], gk, gn, line["grad_cores"] = measure(gradient, args.seconds)
            log(f"{name}: primal {line['primal_ns']:.1f} ns (k={pk}, {pn} samples), "
                f"gradient {line['grad_ns']:.1f} ns (k={gk}, {gn} samples, "
                f"{line['grad_cores']:.2f} cores busy), {detail}")
        else:
            log(f"{name}: DISAGREES with grad: {detail}")
        out.write(json.dumps(line) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
