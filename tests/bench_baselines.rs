//! Checks the scalar benchmark baselines (`benches/scalar/`): the hand-written and tape
//! gradients of S1..S8 against central finite differences of the primal and against each
//! other, at the bench input and at three other points per case; and that the iterator
//! forms of S3 allocate no more than its index form.

// The bench sources, compiled here exactly as the bench binary compiles them.
#[path = "../benches/alloc.rs"]
#[allow(dead_code, reason = "`peak_of` is the tensor group's, unused here")]
mod alloc;
#[path = "../benches/scalar/cases.rs"]
mod cases;
#[path = "../benches/scalar/tape.rs"]
mod tape;

use alloc::{Allocations, allocations_of};
use cases::*;
use tape::*;

/// Counts the allocations of each thread, for `iterator_forms_allocate_like_index_form`.
#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// Relative tolerance of a gradient against central differences, measured against the
/// gradient's scale `max(1, max_i |g_i|)` (a per-component relative test would demand
/// the impossible of components that are zero, as at a minimum).
///
/// Why 1e-6: with h = 1e-6 max(1, |x|) the central difference errs by the truncation
/// term h^2 |f'''| / 6 (about 1e-12 of the scale for these smooth functions) plus
/// rounding, about eps |f| / h = 2.2e-10 |f| per evaluation, and a sum of m terms can
/// round differently in each of the two evaluations, up to about sqrt(m) eps |f| / h.
/// The worst point here is S3 at n = 1000 (|f| = 9.6e3, scale 3.0e2): that estimate
/// gives 2e-7 of the scale, and 6e-9 is measured; every other point measures below 1e-9.
/// 1e-6 keeps headroom over the estimate while still failing any wrong partial (a
/// dropped or mis-signed term moves a component by a sizeable fraction of the scale).
const FD_RTOL: f64 = 1e-6;

/// Hand-written against tape: both are exact derivatives of the same function that differ
/// only in the order of floating-point operations, so they agree to a few ulp of the scale.
const EXACT_RTOL: f64 = 1e-12;

/// Central differences of `f` at `x`, step 1e-6 max(1, |x_i|) per coordinate.
fn central_difference(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    let mut probe = x.to_vec();
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * x[i].abs().max(1.0);
            probe[i] = x[i] + h;
            let up = f(&probe);
            probe[i] = x[i] - h;
            let down = f(&probe);
            probe[i] = x[i];
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// Asserts `max_i |got_i - want_i| <= rtol * max(1, max_i |want_i|)`.
fn assert_close(what: &str, got: &[f64], want: &[f64], rtol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let scale = want.iter().fold(1.0_f64, |m, w| m.max(w.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= rtol * scale,
            "{what}: component {i} is {g}, expected {w} (scale {scale}, rtol {rtol})"
        );
    }
}

/// Checks one case at one point: values agree, both gradients match central differences
/// of the primal and each other.
fn check(
    case: &str,
    x: &[f64],
    primal: impl Fn(&[f64]) -> f64,
    handwritten: (f64, Vec<f64>),
    tape: (f64, Vec<f64>),
    generated: (f64, Vec<f64>),
) {
    let what = |variant: &str| format!("{case} at {x:?}: {variant}");
    let value = primal(x);
    let fd = central_difference(&primal, x);
    assert_close(
        &what("handwritten value"),
        &[handwritten.0],
        &[value],
        EXACT_RTOL,
    );
    assert_close(&what("tape value"), &[tape.0], &[value], EXACT_RTOL);
    assert_close(
        &what("handwritten vs finite differences"),
        &handwritten.1,
        &fd,
        FD_RTOL,
    );
    assert_close(&what("tape vs finite differences"), &tape.1, &fd, FD_RTOL);
    assert_close(
        &what("tape vs handwritten"),
        &tape.1,
        &handwritten.1,
        EXACT_RTOL,
    );
    assert_close(
        &what("generated value"),
        &[generated.0],
        &[value],
        EXACT_RTOL,
    );
    assert_close(
        &what("generated vs handwritten"),
        &generated.1,
        &handwritten.1,
        EXACT_RTOL,
    );
}

/// Deterministic points in [lo, hi): splitmix64, so the test needs no random crate.
fn seeded(n: usize, lo: f64, hi: f64, mut seed: u64) -> Vec<f64> {
    (0..n)
        .map(|_| {
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            lo + (hi - lo) * (z >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

#[test]
fn s1_scale_exact_at_bench_input() {
    // 5 * 5 = 25; d(5a)/da = 5. Both are exact in f64.
    let a = s1_input();
    assert_eq!(s1_scale(a), 25.0);
    assert_eq!(s1_scale_handwritten(a), (25.0, 5.0));
    assert_eq!(s1_scale_tape(a), (25.0, 5.0));
}

#[test]
fn s1_scale_gradients() {
    for a in [s1_input(), -3.0, 0.0, 1234.5] {
        let (v, g) = s1_scale_handwritten(a);
        let (tv, tg) = s1_scale_tape(a);
        let (gv, gg) = s1_scale_grad(a);
        check(
            "S1",
            &[a],
            |p| s1_scale(p[0]),
            (v, vec![g]),
            (tv, vec![tg]),
            (gv, vec![gg]),
        );
    }
}

#[test]
fn s2_rosenbrock_at_bench_input() {
    // a = 1 - x = 2.2, b = y - x^2 = 1 - 1.44 = -0.44; f = a^2 + 100 b^2 = 4.84 + 19.36 = 24.2
    // df/dx = -2a - 400 x b = -4.4 - 211.2 = -215.6;  df/dy = 200 b = -88
    let (x, y) = s2_input();
    let (v, (dx, dy)) = s2_rosenbrock_handwritten(x, y);
    assert_close("S2 value", &[v], &[24.2], EXACT_RTOL);
    assert_close("S2 gradient", &[dx, dy], &[-215.6, -88.0], EXACT_RTOL);
}

#[test]
fn s2_rosenbrock_gradients() {
    // (1, 1) is the minimum: value 0, gradient (0, 0).
    for (x, y) in [s2_input(), (1.0, 1.0), (0.0, 0.0), (2.0, -1.0)] {
        let (v, (dx, dy)) = s2_rosenbrock_handwritten(x, y);
        let (tv, (tx, ty)) = s2_rosenbrock_tape(x, y);
        let (gv, (gx, gy)) = s2_rosenbrock_grad(x, y);
        check(
            "S2",
            &[x, y],
            |p| s2_rosenbrock(p[0], p[1]),
            (v, vec![dx, dy]),
            (tv, vec![tx, ty]),
            (gv, vec![gx, gy]),
        );
    }
}

#[test]
fn s3_rosenbrock_gradients() {
    let points = [
        s3_input(),
        seeded(7, -2.0, 2.0, 42),
        // The minimum: value 0 and every partial 0.
        vec![1.0; 5],
        // n = 2 is S2 at (-1.2, 1): value 24.2, gradient (-215.6, -88).
        vec![-1.2, 1.0],
    ];
    for x in &points {
        check(
            "S3",
            x,
            s3_rosenbrock,
            s3_rosenbrock_handwritten(x),
            s3_rosenbrock_tape(x),
            s3_rosenbrock_grad(x),
        );
    }
    let (v, g) = s3_rosenbrock_handwritten(&[-1.2, 1.0]);
    assert_close(
        "S3 as S2",
        &[v, g[0], g[1]],
        &[24.2, -215.6, -88.0],
        EXACT_RTOL,
    );
    let (v, g) = s3_rosenbrock_handwritten(&[1.0; 5]);
    assert_eq!((v, g), (0.0, vec![0.0; 5]));
}

#[test]
fn s3_rosenbrock_short_slices() {
    // No pair of neighbours: the sum is empty, value 0, gradient 0 for each entry.
    for x in [&[][..], &[0.7][..]] {
        assert_eq!(s3_rosenbrock(x), 0.0);
        assert_eq!(s3_rosenbrock_handwritten(x), (0.0, vec![0.0; x.len()]));
        assert_eq!(s3_rosenbrock_tape(x), (0.0, vec![0.0; x.len()]));
        assert_eq!(s3_rosenbrock_grad(x), (0.0, vec![0.0; x.len()]));
    }
}

/// The iterator forms of S3, each with its generated gradient.
type S3Form = (
    &'static str,
    fn(&[f64]) -> f64,
    fn(&[f64]) -> (f64, Vec<f64>),
);

const S3_ITERATOR_FORMS: [S3Form; 3] = [
    (
        "S3w windows",
        s3w_rosenbrock_windows,
        s3w_rosenbrock_windows_grad,
    ),
    ("S3z zip", s3z_rosenbrock_zip, s3z_rosenbrock_zip_grad),
    ("S3m chain", s3m_rosenbrock_chain, s3m_rosenbrock_chain_grad),
];

#[test]
fn s3_iterator_forms_gradients() {
    let points = [
        s3_input(),
        seeded(7, -2.0, 2.0, 42),
        vec![1.0; 5],
        vec![-1.2, 1.0],
    ];
    for (form, primal, generated) in S3_ITERATOR_FORMS {
        for x in &points {
            // The same terms added in the same order: the index form's value, to the bit.
            assert_eq!(primal(x), s3_rosenbrock(x), "{form} at {x:?}");
            check(
                form,
                x,
                primal,
                s3_rosenbrock_handwritten(x),
                s3_rosenbrock_tape(x),
                generated(x),
            );
            assert_close(
                &format!("{form} at {x:?}: generated vs index form's generated"),
                &generated(x).1,
                &s3_rosenbrock_grad(x).1,
                EXACT_RTOL,
            );
        }
    }
}

#[test]
fn s3_iterator_forms_short_slices() {
    // `windows(2)` of fewer than two values and `zip` with an empty `skip(1)` yield
    // nothing: value 0, gradient 0 for each entry.
    for (form, primal, generated) in S3_ITERATOR_FORMS {
        for x in [&[][..], &[0.7][..]] {
            assert_eq!(primal(x), 0.0, "{form} at {x:?}");
            assert_eq!(generated(x), (0.0, vec![0.0; x.len()]), "{form} at {x:?}");
        }
    }
}

#[test]
fn iterator_forms_allocate_like_index_form() {
    let x = s3_input();
    // Once before counting, so that nothing allocated lazily on a first call counts.
    let _ = s3_rosenbrock_grad(&x);
    let index = allocations_of(|| s3_rosenbrock_grad(&x));
    let gradient = Allocations {
        count: 1,
        bytes: x.len() * size_of::<f64>(),
    };
    // The index form's gradient allocates at least its result.
    assert!(
        index.count >= gradient.count && index.bytes >= gradient.bytes,
        "S3 index form: {index:?}"
    );
    for (form, _, generated) in S3_ITERATOR_FORMS {
        let _ = generated(&x);
        let got = allocations_of(|| generated(&x));
        assert!(
            got.count <= index.count && got.bytes <= index.bytes,
            "{form}: {got:?}, the index form {index:?}"
        );
    }
    // S6 allocates the gradient and nothing else, like the hand-written one.
    let (w, x, y) = s6_input();
    let _ = s6_dot_loss_grad(&w, &x, y);
    let generated = allocations_of(|| s6_dot_loss_grad(&w, &x, y));
    let handwritten = allocations_of(|| s6_dot_loss_handwritten(&w, &x, y));
    assert_eq!(handwritten, gradient, "S6 handwritten");
    assert!(
        generated.count <= handwritten.count && generated.bytes <= handwritten.bytes,
        "S6 generated: {generated:?}, handwritten {handwritten:?}"
    );
}

fn s6_check(w: &[f64], x: &[f64], y: f64) {
    check(
        "S6",
        w,
        |w| s6_dot_loss(w, x, y),
        s6_dot_loss_handwritten(w, x, y),
        s6_dot_loss_tape(w, x, y),
        s6_dot_loss_grad(w, x, y),
    );
}

#[test]
fn s6_dot_loss_by_hand() {
    // w = (1, 2), x = (3, 4), y = 10: w . x = 11, r = 1, loss 1; d/dw = 2 r x = (6, 8).
    let want = (1.0, vec![6.0, 8.0]);
    assert_eq!(
        s6_dot_loss_handwritten(&[1.0, 2.0], &[3.0, 4.0], 10.0),
        want
    );
    assert_eq!(s6_dot_loss_grad(&[1.0, 2.0], &[3.0, 4.0], 10.0), want);
    // `zip` stops at the shorter: w_2 takes no part, its partial is 0.
    let want = (1.0, vec![6.0, 8.0, 0.0]);
    assert_eq!(
        s6_dot_loss_handwritten(&[1.0, 2.0, 5.0], &[3.0, 4.0], 10.0),
        want
    );
    assert_eq!(s6_dot_loss_grad(&[1.0, 2.0, 5.0], &[3.0, 4.0], 10.0), want);
}

#[test]
fn s6_dot_loss_gradients() {
    let (w, x, y) = s6_input();
    s6_check(&w, &x, y);
    s6_check(&seeded(7, -2.0, 2.0, 1), &seeded(7, -2.0, 2.0, 2), 0.3);
    // A perfect fit: r = 0, value 0 and gradient 0. w . x = 1 * 2 + 0.5 * 4 = 4.
    s6_check(&[1.0, 0.5], &[2.0, 4.0], 4.0);
    // More weights than features.
    s6_check(&seeded(5, -1.0, 1.0, 3), &seeded(3, -1.0, 1.0, 4), -1.0);
    // Nothing to add: w . x = 0, loss y^2, gradient 0.
    s6_check(&[], &[], 2.0);
}

fn s4_on_slice(p: &[f64]) -> f64 {
    s4_black_scholes(p[0], p[1], p[2], p[3], p[4])
}

fn s4_tuple_to_vec((v, (a, b, c, d, e)): (f64, (f64, f64, f64, f64, f64))) -> (f64, Vec<f64>) {
    (v, vec![a, b, c, d, e])
}

#[test]
fn s4_black_scholes_against_textbook() {
    // With the exact normal CDF (Python's math.erf), at S=100, K=105, r=0.05, sigma=0.2, T=1:
    // d1 = (ln(100/105) + 0.07) / 0.2 = 0.1060492, d2 = d1 - 0.2 = -0.0939508,
    // C = S N(d1) - K e^{-rT} N(d2) = 8.0213522;
    // dC/dS = N(d1) = 0.5422283;  dC/dK = -e^{-rT} N(d2) = -0.4400141;
    // dC/dr = K T e^{-rT} N(d2) = 46.201481;  dC/dsigma = S phi(d1) sqrt T = 39.670524;
    // dC/dT = S phi(d1) sigma / (2 sqrt T) + r K e^{-rT} N(d2) = 6.2771264.
    // A-S 7.1.26 errs by < 1.5e-7 in erf, so N by < 7.5e-8 and C by < (S + K) 7.5e-8 =
    // 1.6e-5; the sensitivities move by the error of the approximation's derivative,
    // 1.6e-6 of the scale (dC/dr, ~46) measured, so 1e-4 of the scale bounds both.
    let (s, k, r, sigma, t) = s4_input();
    let (v, g) = s4_tuple_to_vec(s4_black_scholes_handwritten(s, k, r, sigma, t));
    assert!((v - 8.0213522).abs() < 2e-5, "price {v}");
    let textbook = [0.5422283, -0.4400141, 46.201481, 39.670524, 6.2771264];
    assert_close("S4 against textbook greeks", &g, &textbook, 1e-4);
}

#[test]
fn s4_black_scholes_gradients() {
    let points = [
        s4_input(),
        // Deep in the money: d1, d2 > 0.
        (150.0, 100.0, 0.03, 0.3, 2.0),
        // Out of the money: d1, d2 < 0, the `if` of erf takes the odd branch for both.
        (80.0, 120.0, 0.01, 0.25, 0.5),
        // d1 = 0.392 > 0 > d2 = -0.474, far from the 2e-9 jump of erf at 0.
        (100.0, 110.0, 0.02, 0.5, 3.0),
    ];
    for (s, k, r, sigma, t) in points {
        check(
            "S4",
            &[s, k, r, sigma, t],
            s4_on_slice,
            s4_tuple_to_vec(s4_black_scholes_handwritten(s, k, r, sigma, t)),
            s4_tuple_to_vec(s4_black_scholes_tape(s, k, r, sigma, t)),
            s4_tuple_to_vec(s4_black_scholes_grad(s, k, r, sigma, t)),
        );
    }
}

#[test]
fn s5_arm_straight() {
    // theta = 0: the arm lies along x, x = sum L = 3.6, y = 0, so
    // loss = (3.6 - 1.5)^2 + (0 - 1.2)^2 = 4.41 + 1.44 = 5.85.
    // dloss/dphi_k = 2 L_k (ey cos 0 - ex sin 0) = -2.4 L_k, and dloss/dtheta_j sums k >= j:
    // suffix sums of L are 3.6, 2.6, 1.8, 1.2, 0.7, 0.3.
    let (v, g) = s5_arm_handwritten(&[0.0; 6]);
    assert_close("S5 value", &[v], &[5.85], EXACT_RTOL);
    let want = [3.6, 2.6, 1.8, 1.2, 0.7, 0.3].map(|l| -2.4 * l);
    assert_close("S5 gradient", &g, &want, EXACT_RTOL);
}

#[test]
fn s5_arm_gradients() {
    let points = [
        s5_input(),
        [0.0; 6],
        [-0.5, 1.0, -1.5, 2.0, 0.3, -0.7],
        [3.0, -2.0, 0.1, 0.0, 1.2, 2.5],
    ];
    for theta in &points {
        let (v, g) = s5_arm_handwritten(theta);
        let (tv, tg) = s5_arm_tape(theta);
        let (gv, gg) = s5_arm_grad(theta);
        check(
            "S5",
            theta,
            |p| s5_arm(&p.try_into().expect("six angles")),
            (v, g.to_vec()),
            (tv, tg.to_vec()),
            (gv, gg.to_vec()),
        );
    }
}

fn s7_check(u0: &[f64], k: f64, steps: usize) {
    check(
        &format!("S7 (k {k}, {steps} steps)"),
        u0,
        |u| s7_heat(u, k, steps),
        s7_heat_handwritten(u0, k, steps),
        s7_heat_tape(u0, k, steps),
        s7_heat_grad(u0, k, steps),
    );
}

#[test]
fn s7_heat_by_hand() {
    // Three cells, one step: c' = (u0, u1 + k (u0 - 2 u1 + u2), u2). With u = (1, 2, 4) and
    // k = 0.25: c' = (1, 2.25, 4), loss 1 + 2 * 2.25^2 + 3 * 16 = 59.125.
    // dloss/dc' = 2 (i + 1) c' = (2, 9, 24); A^T of it: (2 + 9k, 9 (1 - 2k), 24 + 9k)
    // = (4.25, 4.5, 26.25).
    let want = (59.125, vec![4.25, 4.5, 26.25]);
    let u0 = [1.0, 2.0, 4.0];
    assert_eq!(s7_heat(&u0, 0.25, 1), want.0);
    assert_eq!(s7_heat_handwritten(&u0, 0.25, 1), want);
    assert_eq!(s7_heat_tape(&u0, 0.25, 1), want);
    assert_eq!(s7_heat_grad(&u0, 0.25, 1), want);
    // No step: the loss of u0 itself, gradient 2 (i + 1) u0.
    let want = (1.0 + 8.0 + 48.0, vec![2.0, 8.0, 24.0]);
    assert_eq!(s7_heat_handwritten(&u0, 0.25, 0), want);
    assert_eq!(s7_heat_grad(&u0, 0.25, 0), want);
}

#[test]
fn s7_heat_gradients() {
    // Small rows and few steps against central differences, every edge case of the
    // reverse stencil: no interior cell (1, 2), one (3), two (4), and more.
    for n in [1, 2, 3, 4, 5, 9] {
        let u0 = seeded(n, 0.0, 2.0, n as u64);
        for (k, steps) in [(0.25, 1), (0.2, 3), (0.45, 6)] {
            s7_check(&u0, k, steps);
        }
    }
    // The bench input: 1000 cells, 100 steps.
    let (u0, k, steps) = s7_input();
    s7_check(&u0, k, steps);
}

#[test]
fn s8_oscillator_gradients() {
    // Every variant against finite differences and the hand-written adjoint; the
    // checkpointed one also against the stored-states one, at step counts with a full
    // schedule (more steps than C(32 + 1, 32) = 33) and without.
    let (k0, c0, _) = s8_input();
    for (k, c, n) in [(k0, c0, 1000), (0.5, 1.5, 20), (3.0, 0.0, 1)] {
        let pair = |(v, (dk, dc)): (f64, (f64, f64))| (v, vec![dk, dc]);
        let primal = |p: &[f64]| s8_oscillator(p[0], p[1], n);
        let stored = pair(s8_oscillator_grad(k, c, n));
        let checkpointed = pair(s8_oscillator_checkpointed_grad(k, c, n));
        let case = format!("S8 ({n} steps)");
        check(
            &case,
            &[k, c],
            primal,
            pair(s8_oscillator_handwritten(k, c, n)),
            pair(s8_oscillator_tape(k, c, n)),
            stored.clone(),
        );
        check(
            &format!("{case}, checkpointed"),
            &[k, c],
            primal,
            pair(s8_oscillator_handwritten(k, c, n)),
            pair(s8_oscillator_tape(k, c, n)),
            checkpointed.clone(),
        );
        assert_eq!(s8_oscillator_checkpointed(k, c, n), stored.0);
        assert_close(&case, &checkpointed.1, &stored.1, 1e-12);
    }
}
