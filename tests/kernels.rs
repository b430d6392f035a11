//! The SIMD kernels through the facade: every instruction-set path this CPU supports against
//! plain f64 references (lengths 0, 1, around the vector widths and `INLINE_MAX`, thousands,
//! unaligned sub-slices, and above the threading threshold), and the vectorized math's ulp
//! error.
//!
//! `GRAD_ULP_SWEEP` sets the number of points of the dense ulp sweeps (default 2^20);
//! `GRAD_KERNEL_LARGE=1` adds a length above `REDUCE_PAR_THRESHOLD` (threaded reductions).

use grad::kernels::math::MathFn;
use grad::kernels::{self, Isa};

/// Lengths around every vector width (4, 8, 16 lanes; 64-lane accumulators), the inline
/// maps' limit, thousands, and one above `PAR_THRESHOLD` so the threaded split runs too.
fn lengths() -> Vec<usize> {
    let mut v = vec![0, 1, 2, 3];
    for w in [4, 8, 16, 32, 64, 128, 4096] {
        v.extend([w - 1, w, w + 1]);
    }
    v.extend([kernels::INLINE_MAX, kernels::INLINE_MAX + 1]);
    v.extend([3001, 10_007, kernels::PAR_THRESHOLD + 1001]);
    if std::env::var("GRAD_KERNEL_LARGE").is_ok() {
        // The threaded reductions: slow in debug builds, so opt-in.
        v.push(kernels::REDUCE_PAR_THRESHOLD + 1001);
    }
    v
}

fn data(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    grad::Tensor::<f64>::rand_uniform(&[n], lo, hi, seed).to_vec()
}

/// Every supported path; the test body runs once per path with that path forced.
fn each_path(mut f: impl FnMut(Isa)) {
    let paths = Isa::supported();
    assert!(paths.contains(&Isa::Scalar));
    for isa in paths {
        kernels::with_isa(isa, || f(isa));
    }
}

#[test]
fn detection_is_consistent() {
    assert!(Isa::detected().is_supported());
    assert_eq!(Isa::active(), Isa::detected());
    kernels::with_isa(Isa::Scalar, || assert_eq!(Isa::active(), Isa::Scalar));
    assert_eq!(Isa::active(), Isa::detected());
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        assert!(Isa::supported().contains(&Isa::Avx512));
    }
}

#[test]
fn elementwise_kernels_match_reference_on_every_path() {
    each_path(|isa| {
        for n in lengths() {
            for offset in [0, 1, 3] {
                let a32: Vec<f32> = data(n + offset, 1, -3.0, 3.0)
                    .iter()
                    .map(|&v| v as f32)
                    .collect();
                let b32: Vec<f32> = data(n + offset, 2, 0.5, 3.0)
                    .iter()
                    .map(|&v| v as f32)
                    .collect();
                let (a, b) = (&a32[offset..], &b32[offset..]);
                let mut out = vec![0.0f32; n + offset];
                let o = &mut out[offset..];
                kernels::map2(a, b, o, |x, y| x * y + x / y);
                for i in 0..n {
                    let want = a[i] * b[i] + a[i] / b[i];
                    assert_eq!(o[i], want, "{isa:?} n={n} offset={offset} i={i}");
                }
                let fresh = kernels::map2_new(a, b, |x, y| x * y + x / y);
                assert_eq!(fresh.as_slice(), &o[..], "{isa:?} map2_new n={n}");
                let fresh = kernels::map1_new(a, |x| x * 3.0 - 1.0);
                assert!(
                    fresh.iter().zip(a).all(|(&r, &x)| r == x * 3.0 - 1.0),
                    "{isa:?} map1_new n={n}"
                );
                let mut c = a.to_vec();
                kernels::map3_in_place(&mut c, a, b, |d, x, y| d * x - y);
                for i in 0..n {
                    assert_eq!(c[i], a[i] * a[i] - b[i], "{isa:?} n={n}");
                }
                // The one- and two-input maps and the four-input one (inline up to
                // `INLINE_MAX` elements, on the path above it).
                let mut m = vec![0.0f32; n];
                kernels::map1(a, &mut m, |x| x * 3.0 - 1.0);
                assert_eq!(m, fresh, "{isa:?} map1 n={n}");
                let mut m = a.to_vec();
                kernels::map1_in_place(&mut m, |x| x * 3.0 - 1.0);
                assert_eq!(m, fresh, "{isa:?} map1_in_place n={n}");
                let mut m = a.to_vec();
                kernels::map2_in_place(&mut m, b, |x, y| x * y + x / y);
                assert_eq!(m, o, "{isa:?} map2_in_place n={n}");
                let mut m = a.to_vec();
                kernels::map4_in_place(&mut m, a, b, b, |d, x, y, z| d * x - y / z);
                for i in 0..n {
                    assert_eq!(m[i], a[i] * a[i] - b[i] / b[i], "{isa:?} map4 n={n}");
                }
            }
        }
    });
}

#[test]
fn reductions_match_reference_on_every_path() {
    each_path(|isa| {
        for n in lengths() {
            for offset in [0, 1] {
                let x64 = data(n + offset, 3, -1.0, 2.0);
                let y64 = data(n + offset, 4, -1.0, 1.0);
                let x: Vec<f32> = x64[offset..].iter().map(|&v| v as f32).collect();
                let y: Vec<f32> = y64[offset..].iter().map(|&v| v as f32).collect();
                let exact: f64 = x.iter().map(|&v| f64::from(v)).sum();
                let abs: f64 = x.iter().map(|&v| f64::from(v).abs()).sum();
                // Blocked summation: each of 64 accumulators adds at most 4096/64 = 64
                // terms in a block, blocks combine pairwise: error ≤ (64 + log2 n) ε Σ|x|.
                let bound = (64.0 + (n.max(2) as f64).log2()) * f64::from(f32::EPSILON) * abs;
                let got = f64::from(kernels::sum(&x));
                assert!(
                    (got - exact).abs() <= bound,
                    "{isa:?} sum n={n}: {got} vs {exact}"
                );
                let exact_dot: f64 = x
                    .iter()
                    .zip(&y)
                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                    .sum();
                let abs_dot: f64 = x
                    .iter()
                    .zip(&y)
                    .map(|(&a, &b)| (f64::from(a) * f64::from(b)).abs())
                    .sum();
                let got = f64::from(kernels::dot(&x, &y));
                assert!(
                    (got - exact_dot).abs()
                        <= (65.0 + (n.max(2) as f64).log2()) * f64::from(f32::EPSILON) * abs_dot,
                    "{isa:?} dot n={n}"
                );
                let want_max = x.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                assert_eq!(kernels::max(&x), want_max, "{isa:?} max n={n}");
                let x64s = &x64[offset..];
                let exact64 = neumaier_sum(x64s);
                let bound64 = (64.0 + (n.max(2) as f64).log2())
                    * f64::EPSILON
                    * x64s.iter().map(|v| v.abs()).sum::<f64>();
                assert!(
                    (kernels::sum(x64s) - exact64).abs() <= bound64 + 1e-300,
                    "{isa:?} sum64 n={n}"
                );
            }
        }
        let mut with_nan = vec![1.0f32; 100];
        with_nan[77] = f32::NAN;
        assert!(kernels::max(&with_nan).is_nan(), "{isa:?}");
        assert_eq!(kernels::max::<f32>(&[]), f32::NEG_INFINITY);
    });
}

/// Neumaier's compensated sum: an f64 reference accurate to about one rounding, where a
/// plain running sum of millions of terms is not.
fn neumaier_sum(x: &[f64]) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for &v in x {
        let t = s + v;
        c += if s.abs() >= v.abs() {
            (s - t) + v
        } else {
            (v - t) + s
        };
        s = t;
    }
    s + c
}

/// The distance in units in the last place between two floats (0 for two NaNs).
fn ulp32(a: f32, b: f32) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    let ord = |x: f32| {
        let bits = x.to_bits() as i32;
        if bits < 0 {
            -i64::from(bits & i32::MAX)
        } else {
            i64::from(bits)
        }
    };
    ord(a).abs_diff(ord(b))
}

fn ulp64(a: f64, b: f64) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    let ord = |x: f64| {
        let bits = x.to_bits() as i64;
        if bits < 0 {
            -i128::from(bits & i64::MAX)
        } else {
            i128::from(bits)
        }
    };
    ord(a).abs_diff(ord(b)) as u64
}

fn sweep_points() -> usize {
    std::env::var("GRAD_ULP_SWEEP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 20)
}

/// A dense sweep of `[lo, hi]` plus the edges: zeros, denormals, ±large, ±inf, NaN.
fn sweep(lo: f64, hi: f64) -> Vec<f64> {
    let n = sweep_points();
    let mut v: Vec<f64> = (0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
        .collect();
    v.extend([
        0.0,
        -0.0,
        1e-310,
        -1e-310,
        1e-40,
        -1e-40,
        5e-324,
        1e-300,
        1.0,
        -1.0,
        0.625,
        -0.625,
        88.7,
        89.5,
        -87.3,
        -103.9,
        -104.5,
        709.7,
        710.0,
        -745.0,
        -746.0,
        1e30,
        -1e30,
        1e300,
        -1e300,
        f64::MAX,
        f64::MIN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ]);
    v
}

fn sigmoid64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        x.exp() / (1.0 + x.exp())
    }
}

/// The largest ulp error of `f` on every path, over the sweep, for `f32` (against the
/// f64 function, rounded: a correctly rounded reference up to 2^-29 relative) and `f64`
/// (against std's f64 function, itself within about 1 ulp).
fn max_ulp(f: MathFn, lo: f64, hi: f64, reference: fn(f64) -> f64) -> (u64, u64) {
    max_ulp_at(f, &sweep(lo, hi), reference)
}

/// [`max_ulp`] over the points `xs`.
fn max_ulp_at(f: MathFn, xs: &[f64], reference: fn(f64) -> f64) -> (u64, u64) {
    let (mut worst32, mut worst64) = (0, 0);
    each_path(|isa| {
        let mut y32: Vec<f32> = xs.iter().map(|&v| v as f32).collect();
        kernels::math_in_place(f, &mut y32);
        for (&x, &y) in xs.iter().zip(&y32) {
            let x32 = x as f32;
            let e = ulp32(y, reference(f64::from(x32)) as f32);
            assert!(
                e != u64::MAX,
                "{isa:?} {f:?}({x32:e}) = {y:e}: NaN mismatch"
            );
            worst32 = worst32.max(e);
        }
        let mut y64 = xs.to_vec();
        kernels::math_in_place(f, &mut y64);
        for (&x, &y) in xs.iter().zip(&y64) {
            let e = ulp64(y, reference(x));
            assert!(e != u64::MAX, "{isa:?} {f:?}({x:e}) = {y:e}: NaN mismatch");
            worst64 = worst64.max(e);
        }
    });
    (worst32, worst64)
}

/// exp: ≤ 2 ulp (f32 and f64), the bound stated in `kernels::math`.
#[test]
fn exp_error_is_within_bound() {
    let (e32, e64) = max_ulp(MathFn::Exp, -110.0, 90.0, f64::exp);
    eprintln!("exp max ulp: f32 {e32}, f64 {e64}");
    assert!(e32 <= 2 && e64 <= 2, "exp: f32 {e32} ulp, f64 {e64} ulp");
    let (_, e64) = max_ulp(MathFn::Exp, -750.0, 712.0, f64::exp);
    assert!(e64 <= 2, "exp f64 wide: {e64} ulp");
}

/// ln: ≤ 2 ulp.
#[test]
fn ln_error_is_within_bound() {
    let (e32, e64) = max_ulp(MathFn::Ln, 0.0, 10.0, f64::ln);
    let (w32, w64) = max_ulp(MathFn::Ln, -1.0, 1e6, f64::ln);
    eprintln!("ln max ulp: f32 {} f64 {}", e32.max(w32), e64.max(w64));
    assert!(
        e32.max(w32) <= 2 && e64.max(w64) <= 2,
        "ln: f32 {e32}/{w32}, f64 {e64}/{w64}"
    );
}

/// tanh: ≤ 4 ulp.
#[test]
fn tanh_error_is_within_bound() {
    let (e32, e64) = max_ulp(MathFn::Tanh, -12.0, 12.0, f64::tanh);
    eprintln!("tanh max ulp: f32 {e32}, f64 {e64}");
    assert!(e32 <= 4 && e64 <= 4, "tanh: f32 {e32} ulp, f64 {e64} ulp");
}

/// tanh where it is hardest: near 0, where `tanh x ≈ x - x³/3` and the `f64` kernel's
/// `-M / (M + 2)` (`M = e^{-2x} - 1`) must keep x's relative accuracy down to the denormals
/// (2^20 points log-spaced over `1e-320 ≤ |x| ≤ 1`, both signs); densely across the cut at
/// `|x| = 20` above which it returns ±1, and out to ±40. Same bound, ≤ 4 ulp; measured
/// (`f64`): 3 ulp near 0 and over `[-40, 40]`, 1 across the cut.
#[test]
fn tanh_near_zero_and_past_its_cut_is_within_bound() {
    let n = sweep_points();
    let mut near0: Vec<f64> = (0..n / 2)
        .map(|i| 10f64.powf(-320.0 + 320.0 * i as f64 / (n / 2 - 1) as f64))
        .collect();
    near0.extend(near0.clone().iter().map(|&v| -v));
    let (e32, e64) = max_ulp_at(MathFn::Tanh, &near0, f64::tanh);
    eprintln!("tanh near 0 max ulp: f32 {e32}, f64 {e64}");
    assert!(
        e32 <= 4 && e64 <= 4,
        "tanh near 0: f32 {e32} ulp, f64 {e64} ulp"
    );
    let (e32, e64) = max_ulp(MathFn::Tanh, 19.0, 21.0, f64::tanh);
    let (w32, w64) = max_ulp(MathFn::Tanh, -40.0, 40.0, f64::tanh);
    eprintln!("tanh at the cut max ulp: f64 {e64}, to ±40: {w64}");
    assert!(
        e32.max(w32) <= 4 && e64.max(w64) <= 4,
        "tanh large: f32 {e32}/{w32}, f64 {e64}/{w64} ulp"
    );
    // Exact where it can be: the sign of zero, x itself for denormal x (and the smallest
    // normal), ±1 and NaN.
    each_path(|isa| {
        let mut t = [
            0.0f64,
            -0.0,
            5e-324,
            -5e-324,
            1e-310,
            -2.2e-308,
            f64::INFINITY,
            f64::NEG_INFINITY,
            21.0,
            -1e300,
            f64::NAN,
        ];
        let x = t;
        kernels::math_in_place(MathFn::Tanh, &mut t);
        for (&x, &y) in x[..6].iter().zip(&t[..6]) {
            assert_eq!(y.to_bits(), x.to_bits(), "{isa:?} tanh({x:e}) = {y:e}");
        }
        assert_eq!(t[6..10], [1.0, -1.0, 1.0, -1.0], "{isa:?}");
        assert!(t[10].is_nan(), "{isa:?}");
    });
}

/// sigmoid: ≤ 4 ulp.
#[test]
fn sigmoid_error_is_within_bound() {
    let (e32, e64) = max_ulp(MathFn::Sigmoid, -110.0, 40.0, sigmoid64);
    eprintln!("sigmoid max ulp: f32 {e32}, f64 {e64}");
    assert!(
        e32 <= 4 && e64 <= 4,
        "sigmoid: f32 {e32} ulp, f64 {e64} ulp"
    );
}

#[test]
fn math_kernels_handle_every_length_and_alignment() {
    each_path(|isa| {
        for n in lengths() {
            for offset in [0, 1, 3] {
                let x = data(n + offset, 11, -20.0, 20.0);
                for (f, reference) in [
                    (MathFn::Exp, f64::exp as fn(f64) -> f64),
                    (MathFn::Tanh, f64::tanh),
                    (MathFn::Sigmoid, sigmoid64),
                ] {
                    let mut y: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                    kernels::math_in_place(f, &mut y[offset..]);
                    for i in 0..offset {
                        assert_eq!(y[i], x[i] as f32, "{isa:?} {f:?} wrote outside its slice");
                    }
                    for i in offset..n + offset {
                        let want = reference(f64::from(x[i] as f32)) as f32;
                        assert!(
                            ulp32(y[i], want) <= 4,
                            "{isa:?} {f:?} n={n} offset={offset} i={i}"
                        );
                    }
                }
            }
        }
    });
}

#[test]
fn math_special_values() {
    each_path(|isa| {
        let mut x = [
            0.0f32,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -1.0,
        ];
        kernels::math_in_place(MathFn::Ln, &mut x);
        assert_eq!(
            &x[..3],
            &[f32::NEG_INFINITY, f32::NEG_INFINITY, f32::INFINITY],
            "{isa:?}"
        );
        assert!(x[3].is_nan() && x[4].is_nan() && x[5].is_nan(), "{isa:?}");
        let mut e = [f64::NEG_INFINITY, f64::INFINITY, f64::NAN, 0.0];
        kernels::math_in_place(MathFn::Exp, &mut e);
        assert_eq!((e[0], e[1], e[3]), (0.0, f64::INFINITY, 1.0), "{isa:?}");
        assert!(e[2].is_nan());
        let mut t = [f32::INFINITY, f32::NEG_INFINITY, -0.0];
        kernels::math_in_place(MathFn::Tanh, &mut t);
        assert_eq!(t, [1.0, -1.0, -0.0], "{isa:?}");
        let mut s = [f64::NEG_INFINITY, f64::INFINITY, 0.0];
        kernels::math_in_place(MathFn::Sigmoid, &mut s);
        assert_eq!(s, [0.0, 1.0, 0.5], "{isa:?}");
    });
}

#[test]
fn gemm_transposed_views_match_naive() {
    use grad::kernels::gemm::{MatRef, gemm};
    let (m, k, n) = (37, 53, 29);
    let a = data(m * k, 5, -1.0, 1.0);
    let b = data(k * n, 6, -1.0, 1.0);
    let naive = |at: &dyn Fn(usize, usize) -> f64, bt: &dyn Fn(usize, usize) -> f64| {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|l| at(i, l) * bt(l, j)).sum();
            }
        }
        c
    };
    let mut c = vec![0.0; m * n];
    gemm(
        m,
        k,
        n,
        MatRef::row_major(&a, k),
        MatRef::row_major(&b, n),
        0.0,
        &mut c,
    );
    let want = naive(&|i, l| a[i * k + l], &|l, j| b[l * n + j]);
    assert!(c.iter().zip(&want).all(|(x, y)| (x - y).abs() < 1e-12));
    // A·Bᵀ with B stored as n × k, and Aᵀ·B with A stored as k × m.
    let bt = data(n * k, 7, -1.0, 1.0);
    gemm(
        m,
        k,
        n,
        MatRef::row_major(&a, k),
        MatRef::transposed(&bt, k),
        0.0,
        &mut c,
    );
    let want = naive(&|i, l| a[i * k + l], &|l, j| bt[j * k + l]);
    assert!(c.iter().zip(&want).all(|(x, y)| (x - y).abs() < 1e-12));
    let at = data(k * m, 8, -1.0, 1.0);
    gemm(
        m,
        k,
        n,
        MatRef::transposed(&at, m),
        MatRef::row_major(&b, n),
        0.0,
        &mut c,
    );
    let want = naive(&|i, l| at[l * m + i], &|l, j| b[l * n + j]);
    assert!(c.iter().zip(&want).all(|(x, y)| (x - y).abs() < 1e-12));
}

/// Every operand shape that broadcasts to `out`: each suffix of `out` (ranks 0 to 3) with
/// any subset of its axes set to 1.
fn operand_shapes(out: &[usize]) -> Vec<Vec<usize>> {
    let mut shapes = Vec::new();
    for rank in 0..=out.len() {
        let suffix = &out[out.len() - rank..];
        for ones in 0..1usize << rank {
            let shape = (0..rank)
                .map(|ax| if ones >> ax & 1 == 1 { 1 } else { suffix[ax] })
                .collect();
            shapes.push(shape);
        }
    }
    shapes
}

/// The element of `x` that broadcasting sends to the position `idx` of a result of rank
/// `idx.len()`: leading axes missing, axes of length 1 stretched.
fn broadcast_get(x: &grad::Tensor<f64>, idx: &[usize]) -> f64 {
    let pad = idx.len() - x.ndim();
    let own: Vec<usize> = (0..x.ndim())
        .map(|ax| if x.shape()[ax] == 1 { 0 } else { idx[pad + ax] })
        .collect();
    x.get(&own)
}

/// The multi-index of the flat position `flat` in `shape` (C order).
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for ax in (0..shape.len()).rev() {
        idx[ax] = flat % shape[ax];
        flat /= shape[ax];
    }
    idx
}

/// Broadcasting on every path, every pair of operand ranks 0..=3, rows crossing the vector
/// widths: the binary operators (row kernels, a scalar operand, a stretched axis), the
/// in-place operators, and the backward reduction that sums a broadcast cotangent back to
/// an operand's shape. Elementwise results are one IEEE operation each, so they must equal
/// the reference bit for bit; the reduction sums in another order (relative 1e-13).
#[test]
fn broadcasting_matches_reference_on_every_path_and_rank() {
    use grad::__private::op;
    use grad::Tensor;
    each_path(|isa| {
        for inner in [0, 1, 3, 7, 8, 9, 17, 33] {
            let shapes = operand_shapes(&[2, 3, inner]);
            for (i, sa) in shapes.iter().enumerate() {
                for (j, sb) in shapes.iter().enumerate() {
                    let a = Tensor::<f64>::rand_uniform(sa, -2.0, 2.0, i as u64);
                    let b = Tensor::<f64>::rand_uniform(sb, 0.5, 2.0, 100 + j as u64);
                    let shape = grad::broadcast_shapes(sa, sb).expect("suffix shapes broadcast");
                    let n: usize = shape.iter().product();
                    let at = |f: usize| unravel(f, &shape);
                    let want: Vec<f64> = (0..n)
                        .map(|f| broadcast_get(&a, &at(f)) * broadcast_get(&b, &at(f)))
                        .collect();
                    let y = &a * &b;
                    let case = format!("{isa:?}: {sa:?} * {sb:?}");
                    assert_eq!(y.shape(), shape.as_slice(), "{case}");
                    assert_eq!(y.as_slice(), want.as_slice(), "{case}");
                    if shape.as_slice() == sa.as_slice() {
                        let mut c = a.clone();
                        c -= &b;
                        let want: Vec<f64> = (0..n)
                            .map(|f| a.as_slice()[f] - broadcast_get(&b, &at(f)))
                            .collect();
                        assert_eq!(c.as_slice(), want.as_slice(), "{isa:?}: {sa:?} -= {sb:?}");
                    }
                    // d(a * b)/da against a cotangent dy: Σ over the positions that read a[k].
                    let dy = Tensor::<f64>::rand_uniform(&shape, -1.0, 1.0, 7);
                    let da = op::Mul.bwd_0(&a, &b, &y, dy.clone());
                    assert_eq!(da.shape(), sa.as_slice(), "{case}: backward");
                    let mut want = vec![0.0; a.len()];
                    for f in 0..n {
                        let idx = at(f);
                        let pad = idx.len() - a.ndim();
                        let k = (0..a.ndim()).fold(0, |k, ax| {
                            let i = if sa[ax] == 1 { 0 } else { idx[pad + ax] };
                            k * sa[ax] + i
                        });
                        want[k] += dy.as_slice()[f] * broadcast_get(&b, &idx);
                    }
                    for (k, (&g, &w)) in da.as_slice().iter().zip(&want).enumerate() {
                        assert!(
                            (g - w).abs() <= 1e-13 * w.abs().max(1.0),
                            "{case}: backward [{k}] {g} against {w}"
                        );
                    }
                }
            }
        }
    });
}
