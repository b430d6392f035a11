//! Checks the forms of S3, S4 and S5 that the `forms` bench group measures
//! (`benches/scalar/forms.rs`): at the bench input and at other points, every form of a
//! case computes the case's value and the hand-written gradient, and every form's
//! generated gradient agrees with every other form's. Not timed: the speed is the bench's.

// The bench sources, compiled here exactly as the bench binary compiles them.
#[path = "../benches/scalar/cases.rs"]
#[allow(dead_code, reason = "S1, S2, S6 and S7 have no forms")]
mod cases;
#[path = "../benches/scalar/forms.rs"]
mod forms;

mod common;

use cases::*;
use common::Rng;
use forms::*;

/// Relative tolerance between forms and against the hand-written gradient, measured
/// against the scale `max(1, max_i |want_i|)` of the expected vector, as in
/// `tests/bench_baselines.rs`. The forms are exact derivatives of the same function that
/// differ at most in the grouping of products (`100 b b` against `100 b^2`) and the order
/// of the adjoint's additions, so they agree to a few ulp of the scale.
const RTOL: f64 = 1e-12;

/// Asserts `max_i |got_i - want_i| <= RTOL * max(1, max_i |want_i|)`.
fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let scale = want.iter().fold(1.0_f64, |m, w| m.max(w.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= RTOL * scale,
            "{what}: component {i} is {g}, expected {w} (scale {scale}, rtol {RTOL})"
        );
    }
}

/// What each form of a case gave at one point: its name, its primal's value and its
/// generated value and gradient.
struct Outcome {
    name: &'static str,
    primal: f64,
    generated: (f64, Vec<f64>),
}

/// Checks the outcomes of all forms of `case` at one point against the case's primal value
/// and hand-written gradient there, and every form's gradient against every other's.
fn check_forms(case: &str, value: f64, handwritten: (f64, Vec<f64>), outcomes: &[Outcome]) {
    assert_close(
        &format!("{case}: hand-written value"),
        &[handwritten.0],
        &[value],
    );
    for o in outcomes {
        let what = |part: &str| format!("{case} {}: {part}", o.name);
        assert_close(&what("primal value"), &[o.primal], &[value]);
        assert_close(&what("generated value"), &[o.generated.0], &[value]);
        assert_close(
            &what("generated vs hand-written gradient"),
            &o.generated.1,
            &handwritten.1,
        );
        for other in outcomes {
            assert_close(
                &what(&format!("generated vs {}'s generated gradient", other.name)),
                &o.generated.1,
                &other.generated.1,
            );
        }
    }
}

#[test]
fn s3_forms_agree() {
    let mut rng = Rng::new(12);
    let points = [
        s3_input(),
        rng.vec(7, -2.0, 2.0),
        rng.vec(64, -1.0, 3.0),
        // The minimum: value 0 and every partial 0.
        vec![1.0; 5],
        // n = 2 is S2 at (-1.2, 1): value 24.2, gradient (-215.6, -88).
        vec![-1.2, 1.0],
        // One value, no pair: value 0, gradient 0. (Not n = 0: the `up` forms, like the
        // README's loop, compute `x.len() - 1`.)
        vec![0.7],
    ];
    for x in &points {
        let outcomes: Vec<Outcome> = S3_FORMS
            .iter()
            .map(|f| Outcome {
                name: f.name,
                primal: (f.primal)(x),
                generated: (f.generated)(x),
            })
            .collect();
        check_forms(
            &format!("S3 at n = {}", x.len()),
            s3_rosenbrock(x),
            s3_rosenbrock_handwritten(x),
            &outcomes,
        );
    }
}

#[test]
fn s3_forms_with_the_same_grouping_agree_to_the_bit() {
    // `powi(2)` multiplies the value by itself, so the value of each form whose term groups
    // as S3's (everything but the `mul` forms' `100 b b`) is S3's to the bit.
    let x = s3_input();
    let want = s3_rosenbrock(&x);
    for f in S3_FORMS.iter().filter(|f| !f.name.contains("_mul_")) {
        assert_eq!((f.primal)(&x), want, "S3 {}", f.name);
    }
}

#[test]
fn s4_forms_agree() {
    let points = [
        s4_input(),
        // Deep in the money: d1, d2 > 0, no early return.
        (150.0, 100.0, 0.03, 0.3, 2.0),
        // Out of the money: d1, d2 < 0, the early return taken for both.
        (80.0, 120.0, 0.01, 0.25, 0.5),
        // d1 = 0.392 > 0 > d2 = -0.474: one of each.
        (100.0, 110.0, 0.02, 0.5, 3.0),
    ];
    let as_vec = |(v, (a, b, c, d, e)): (f64, (f64, f64, f64, f64, f64))| (v, vec![a, b, c, d, e]);
    for (s, k, r, sigma, t) in points {
        let outcomes: Vec<Outcome> = S4_FORMS
            .iter()
            .map(|f| Outcome {
                name: f.name,
                primal: (f.primal)(s, k, r, sigma, t),
                generated: as_vec((f.generated)(s, k, r, sigma, t)),
            })
            .collect();
        check_forms(
            &format!("S4 at {:?}", (s, k, r, sigma, t)),
            s4_black_scholes(s, k, r, sigma, t),
            as_vec(s4_black_scholes_handwritten(s, k, r, sigma, t)),
            &outcomes,
        );
    }
}

#[test]
fn s5_forms_agree() {
    let points = [
        s5_input(),
        [0.0; 6],
        [-0.5, 1.0, -1.5, 2.0, 0.3, -0.7],
        [3.0, -2.0, 0.1, 0.0, 1.2, 2.5],
    ];
    for theta in &points {
        let outcomes: Vec<Outcome> = S5_FORMS
            .iter()
            .map(|f| {
                let (v, g) = (f.generated)(theta);
                Outcome {
                    name: f.name,
                    primal: (f.primal)(theta),
                    generated: (v, g.to_vec()),
                }
            })
            .collect();
        let (v, g) = s5_arm_handwritten(theta);
        check_forms(
            &format!("S5 at {theta:?}"),
            s5_arm(theta),
            (v, g.to_vec()),
            &outcomes,
        );
        // The angles are summed in the same order in both forms: the same value, to the bit.
        for f in &S5_FORMS {
            assert_eq!((f.primal)(theta), s5_arm(theta), "S5 {}", f.name);
        }
    }
}
