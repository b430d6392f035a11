//! Generated code names everything by absolute path and its locals by mixed-site hygiene:
//! it compiles beside user items that shadow the prelude, and gives the right gradients.

#[allow(dead_code)]
mod shadowed {
    use grad::differentiable;

    // Names the generated code must not pick up.
    type Result = ();
    type Option = ();
    type Vec = ();
    type Box = ();
    type Clone = ();
    type FnOnce = ();

    #[differentiable]
    pub fn cube(x: f64) -> f64 {
        x * x * x
    }

    /// sum_{i < n} x^i, by a loop with a carried variable.
    #[differentiable(wrt(x))]
    pub fn powers(x: f64, n: usize) -> f64 {
        let mut s = 0.0;
        let mut p = 1.0;
        for _i in 0..n {
            s += p;
            p *= x;
        }
        s
    }

    /// Raw identifiers as a parameter and as a loop-carried variable: x^n.
    #[differentiable(wrt(r#in))]
    pub fn raw(r#in: f64, n: usize) -> f64 {
        let mut r#type = 1.0;
        for _i in 0..n {
            r#type *= r#in;
        }
        assert!(r#type.is_finite(), "{}", r#type);
        r#type
    }

    /// A branch, and a call of another differentiable function.
    #[differentiable]
    pub fn piecewise(x: f64, y: f64) -> f64 {
        // The call stays outside the branch: a call inside an arm does not compile yet
        // (its pullback is not kept in the branch record; see the report of ui-tests).
        let x3 = cube(x);
        let c = if x > 0.0 { x3 } else { -x };
        let v = c * y;
        v + y.sin()
    }

    /// Checkpointed, with a parameter held by value (kept by the pullback, cloned for the
    /// value), and a caller of it.
    #[differentiable(checkpoint)]
    pub fn scaled(p: [f64; 2], k: f64) -> f64 {
        p[0] * p[1] * k
    }

    #[differentiable]
    pub fn scaled_twice(x: f64) -> f64 {
        let a = scaled([x, 2.0], x);
        scaled([a, x], 0.5)
    }
}

use shadowed::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn cube_gradient() {
    // d/dx x^3 = 3x^2 = 12 at x = 2
    let (v, d) = cube_grad(2.0);
    assert!(close(v, 8.0) && close(d, 12.0), "{v} {d}");
    let (_, t) = cube_jvp(2.0, 1.0);
    assert!(close(t, 12.0), "{t}");
}

#[test]
fn loop_gradient() {
    // s = 1 + x + x^2 + x^3, ds/dx = 1 + 2x + 3x^2 = 1 + 1 + 0.75 = 2.75 at x = 0.5
    let (v, d) = powers_grad(0.5, 4);
    assert!(close(v, 1.875), "{v}");
    assert!(close(d, 2.75), "{d}");
    let (_, t) = powers_jvp(0.5, 4, 1.0, grad::NoTangent);
    assert!(close(t, 2.75), "{t}");
}

#[test]
fn raw_identifier_gradient() {
    // d/dx x^3 = 3x^2 = 12 at x = 2
    let (v, d) = raw_grad(2.0, 3);
    assert!(close(v, 8.0) && close(d, 12.0), "{v} {d}");
    let (_, t) = raw_jvp(2.0, 3, 1.0, grad::NoTangent);
    assert!(close(t, 12.0), "{t}");
}

#[test]
fn branch_and_call_gradient() {
    // x > 0: f = x^3 y + sin y, df/dx = 3x^2 y = 3*4*3 = 36, df/dy = x^3 + cos y = 8 + cos 3
    let (v, (dx, dy)) = piecewise_grad(2.0, 3.0);
    assert!(close(v, 24.0 + 3f64.sin()), "{v}");
    assert!(close(dx, 36.0), "{dx}");
    assert!(close(dy, 8.0 + 3f64.cos()), "{dy}");
    // x < 0: f = -x y + sin y, df/dx = -y = -3, df/dy = -x + cos y = 1.5 + cos 3
    let (_, (dx, dy)) = piecewise_grad(-1.5, 3.0);
    assert!(close(dx, -3.0), "{dx}");
    assert!(close(dy, 1.5 + 3f64.cos()), "{dy}");
    let (_, t) = piecewise_jvp(-1.5, 3.0, 1.0, 0.0);
    assert!(close(t, -3.0), "{t}");
}

#[test]
fn checkpointed_call_gradient() {
    // a = 2x², f = 0.5·a·x = x³, df/dx = 3x² = 12 at x = 2
    let (v, d) = scaled_twice_grad(2.0);
    assert!(close(v, 8.0) && close(d, 12.0), "{v} {d}");
}
