//! NaN, ±inf, ±0 and subnormals through every scalar primitive's forward, backward and
//! tangent parts. The conventions (PyTorch's where it defines one):
//!
//! - NaN in gives NaN out and a NaN derivative, except where a rule masks: `clamp`'s
//!   derivative is 0 outside `[lo, hi]` (a NaN is outside), as PyTorch's mask gives.
//! - Kinks: `relu'(0) = 0`, `abs'(±0) = 0`, `sqrt'(0) = +inf`, `ln'(0) = +inf`; `max`/`min`
//!   send the gradient to the first argument on ties.
//! - `max`/`min` keep Rust's semantics for the value (a NaN argument loses), and the
//!   gradient follows the argument that was chosen. (PyTorch's `maximum` propagates the
//!   NaN instead; the generated code must compute what the user's function computes.)
//! - Infinities: derivatives are the limits the formulas give in IEEE arithmetic
//!   (`tanh'(±inf) = 0`, `exp'(+inf) = +inf`, `sqrt'(+inf) = 0`).

use grad::__private::op;
use grad::differentiable;

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;
/// A subnormal: half the smallest normal f64.
const SUB: f64 = f64::MIN_POSITIVE / 2.0;

/// Asserts `got` is `want`, where NaN equals NaN and the sign of zero matters only if asked.
#[track_caller]
fn same(what: &str, got: f64, want: f64) {
    let ok = (got.is_nan() && want.is_nan())
        || got == want
        || (got.is_finite() && want.is_finite() && (got - want).abs() <= 1e-12 * want.abs());
    assert!(ok, "{what}: got {got}, want {want}");
}

/// (name, forward, backward with dy = 1) of every one-input primitive.
fn unary(name: &str, x: f64) -> (f64, f64, f64) {
    macro_rules! go {
        ($m:expr) => {{
            let m = $m;
            let y = m.fwd(&x);
            let d = m.bwd(&x, &y, 1.0);
            let t = m.jvp(&x, &y, &1.0);
            (y, d, t)
        }};
    }
    match name {
        "exp" => go!(op::Exp),
        "ln" => go!(op::Ln),
        "sqrt" => go!(op::Sqrt),
        "sin" => go!(op::Sin),
        "cos" => go!(op::Cos),
        "tan" => go!(op::Tan),
        "tanh" => go!(op::Tanh),
        "abs" => go!(op::Abs),
        "sigmoid" => go!(op::Sigmoid),
        "relu" => go!(op::Relu),
        "recip" => go!(op::Recip),
        "floor" => go!(op::Floor),
        "powi3" => go!(op::Powi(3)),
        "clamp" => go!(op::Clamp(-1.0, 1.0)),
        other => panic!("no case {other}"),
    }
}

const ALL: &[&str] = &[
    "exp", "ln", "sqrt", "sin", "cos", "tan", "tanh", "abs", "sigmoid", "relu", "recip", "floor",
    "powi3", "clamp",
];

#[test]
fn nan_propagates_through_every_unary_primitive() {
    for name in ALL {
        let (y, d, t) = unary(name, NAN);
        same(&format!("{name}(NaN)"), y, NAN);
        // The tangent part is the same derivative applied to a tangent.
        same(&format!("{name}'(NaN) tangent"), t, d);
        if *name == "clamp" {
            same("clamp'(NaN) is masked", d, 0.0);
        } else {
            same(&format!("{name}'(NaN)"), d, NAN);
        }
    }
}

#[test]
fn infinities() {
    // (name, x, value, derivative)
    let cases = [
        ("exp", INF, INF, INF),
        ("exp", -INF, 0.0, 0.0),
        ("ln", INF, INF, 0.0),
        ("sqrt", INF, INF, 0.0),
        ("tanh", INF, 1.0, 0.0),
        ("tanh", -INF, -1.0, 0.0),
        ("sigmoid", INF, 1.0, 0.0),
        ("sigmoid", -INF, 0.0, 0.0),
        ("abs", -INF, INF, -1.0),
        ("relu", INF, INF, 1.0),
        ("relu", -INF, 0.0, 0.0),
        ("recip", INF, 0.0, -0.0),
        ("clamp", INF, 1.0, 0.0),
        ("powi3", -INF, -INF, INF),
        // sin and cos of ±inf are NaN, and so are their derivatives.
        ("sin", INF, NAN, NAN),
        ("cos", -INF, NAN, NAN),
    ];
    for (name, x, y, d) in cases {
        let (gy, gd, gt) = unary(name, x);
        same(&format!("{name}({x})"), gy, y);
        same(&format!("{name}'({x})"), gd, d);
        same(&format!("{name}'({x}) tangent"), gt, d);
    }
}

#[test]
fn signed_zeros_and_kinks() {
    let cases = [
        ("sqrt", 0.0, 0.0, INF),
        ("ln", 0.0, -INF, INF),
        ("abs", 0.0, 0.0, 0.0),
        ("abs", -0.0, 0.0, 0.0),
        ("relu", 0.0, 0.0, 0.0),
        ("relu", -0.0, 0.0, 0.0),
        ("sigmoid", 0.0, 0.5, 0.25),
        ("tanh", -0.0, -0.0, 1.0),
        ("exp", -0.0, 1.0, 1.0),
        ("recip", 0.0, INF, -INF),
        ("recip", -0.0, -INF, -INF),
        ("clamp", 1.0, 1.0, 1.0),
        ("clamp", -1.0, -1.0, 1.0),
    ];
    for (name, x, y, d) in cases {
        let (gy, gd, _) = unary(name, x);
        same(&format!("{name}({x})"), gy, y);
        same(&format!("{name}'({x})"), gd, d);
    }
    // Ties and NaN in max/min: the first argument wins a tie; a NaN argument loses.
    let y = op::Max.fwd(&2.0, &2.0);
    same("max tie ∂a", op::Max.bwd_0(&2.0, &2.0, &y, 1.0), 1.0);
    same("max tie ∂b", op::Max.bwd_1(&2.0, &2.0, &y, 1.0), 0.0);
    let y = op::Min.fwd(&NAN, &3.0);
    same("min(NaN, 3)", y, 3.0);
    same("min(NaN, 3) ∂a", op::Min.bwd_0(&NAN, &3.0, &y, 1.0), 0.0);
    same("min(NaN, 3) ∂b", op::Min.bwd_1(&NAN, &3.0, &y, 1.0), 1.0);
    // powf: PyTorch's masks at a zero base and a zero exponent.
    let y = op::Powf.fwd(&0.0, &2.0);
    same("0^2 ∂b", op::Powf.bwd_1(&0.0, &2.0, &y, 1.0), 0.0);
    let y = op::Powf.fwd(&0.0, &0.0);
    same("0^0 ∂a", op::Powf.bwd_0(&0.0, &0.0, &y, 1.0), 0.0);
    // Division by zero: value and derivatives are the IEEE limits.
    let y = op::Div.fwd(&1.0, &0.0);
    same("1/0", y, INF);
    same("∂a 1/0", op::Div.bwd_0(&1.0, &0.0, &y, 1.0), INF);
}

#[test]
fn subnormals() {
    // A subnormal input behaves as the tiny number it is: no flush to zero.
    let (y, d, _) = unary("exp", SUB);
    same("exp(sub)", y, 1.0);
    same("exp'(sub)", d, 1.0);
    let (y, d, _) = unary("ln", SUB);
    same("ln(sub)", y, SUB.ln());
    same("ln'(sub)", d, 1.0 / SUB);
    assert!(d.is_finite());
    let (_, d, _) = unary("sqrt", SUB);
    same("sqrt'(sub)", d, 0.5 / SUB.sqrt());
    let (y, d, _) = unary("relu", SUB);
    same("relu(sub)", y, SUB);
    same("relu'(sub)", d, 1.0);
    // The smallest subnormal's reciprocal overflows: ln' is +inf there.
    let tiny = f64::from_bits(1);
    assert_eq!(unary("ln", tiny).1, INF);
}

#[differentiable]
fn composed(x: f64, y: f64) -> f64 {
    (x * y).exp() + x.sqrt() * y.tanh()
}

#[test]
fn generated_code_propagates_nan_and_inf() {
    let (v, (dx, dy)) = composed_grad(NAN, 1.0);
    assert!(v.is_nan() && dx.is_nan() && dy.is_nan());
    // At x = 0 the sqrt kink gives an infinite ∂x (times tanh(1) > 0), ∂y finite.
    let (_, (dx, dy)) = composed_grad(0.0, 1.0);
    assert_eq!(dx, INF);
    same("∂y at x = 0", dy, 0.0 + 0.0 * (1.0 - 1f64.tanh().powi(2)));
    let (_, t) = composed_jvp(0.0, 1.0, 1.0, 0.0);
    assert_eq!(t, INF);
}
