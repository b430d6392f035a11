//! Programs that combine constructs in the ways that stress lowering: nested carried
//! values, tuples through calls and loops, block expressions, shadowing inside loops.

mod common;

use common::{close, close_all, fd, fd_slice};
use grad::differentiable;

#[differentiable]
fn pair(x: f64, y: f64) -> (f64, f64) {
    (x * y, x - y.exp())
}

#[differentiable]
fn uses_pair(x: f64, y: f64) -> f64 {
    let (a, b) = pair(x, y);
    let p = pair(b, a);
    a * p.0 + p.1
}

#[differentiable]
fn nested_carry(x: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..x.len() {
        let mut inner = x[i];
        for _ in 0..3 {
            inner = inner * 0.5 + total * 0.1;
            total += inner;
        }
    }
    total
}

#[differentiable]
fn tuple_carry(x: &[f64]) -> f64 {
    let mut p = (0.0, 1.0);
    for i in 0..x.len() {
        p = (p.0 + x[i] * p.1, p.1 * x[i].cos());
    }
    p.0 + p.1
}

#[differentiable]
fn blocks_and_shadowing(x: f64, n: usize) -> f64 {
    let y = {
        let t = x * 2.0;
        t + 1.0
    };
    let mut acc = y;
    for k in 0..n {
        let acc2 = acc * x;
        let x = acc2 + k as f64;
        acc = x.sin();
    }
    if n > 1 {
        acc += y;
    }
    match n {
        0 => acc *= 2.0,
        1 => acc = acc.exp(),
        _ => {}
    }
    acc
}

#[differentiable]
fn calls_in_while(x: f64) -> f64 {
    let mut v = x;
    let mut k = 0;
    while k < 4 {
        let (a, _) = pair(v, 0.5);
        v = a + v.tanh();
        k += 1;
    }
    v
}

#[differentiable]
fn generic_where<T>(x: T, y: T) -> T
where
    T: grad::Real,
{
    let mut s = x;
    for _ in 0..3 {
        s = s * y + x;
    }
    s
}

#[test]
fn tricky_programs() {
    let (x, y) = (0.7, 0.3);
    let (v, (dx, dy)) = uses_pair_grad(x, y);
    close(v, uses_pair(x, y), 1e-14);
    close(dx, fd(|x| uses_pair(x, y), x), 1e-6);
    close(dy, fd(|y| uses_pair(x, y), y), 1e-6);
    let (_, t) = uses_pair_jvp(x, y, 1.0, 0.0);
    close(t, dx, 1e-12);

    let xs = [0.4, -0.3, 0.8];
    for (f, g) in [
        (
            nested_carry as fn(&[f64]) -> f64,
            nested_carry_grad as fn(&[f64]) -> (f64, Vec<f64>),
        ),
        (tuple_carry, tuple_carry_grad),
    ] {
        let (v, d) = g(&xs);
        close(v, f(&xs), 1e-14);
        close_all(&d, &fd_slice(f, &xs), 1e-6);
    }
    let (_, t) = tuple_carry_jvp(&xs, &[1.0, 0.0, 0.0]);
    close(t, tuple_carry_grad(&xs).1[0], 1e-12);

    for n in 0..4 {
        let (v, d) = blocks_and_shadowing_grad(0.6, n);
        close(v, blocks_and_shadowing(0.6, n), 1e-14);
        close(d, fd(|x| blocks_and_shadowing(x, n), 0.6), 1e-6);
    }
    let (v, d) = calls_in_while_grad(0.2);
    close(v, calls_in_while(0.2), 1e-14);
    close(d, fd(calls_in_while, 0.2), 1e-6);
    let (_, t) = calls_in_while_jvp(0.2, 1.0);
    close(t, d, 1e-12);

    // s = ((x y + x) y + x) y + x: ∂x = y³ + y² + y + 1, ∂y = 3xy² + 2xy + x
    let (_, (dx, dy)) = generic_where_grad(2.0, 0.5);
    close(dx, 0.125 + 0.25 + 0.5 + 1.0, 1e-15);
    close(dy, 3.0 * 2.0 * 0.25 + 2.0 * 2.0 * 0.5 + 2.0, 1e-15);
}

#[differentiable]
fn norm2(v: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..v.len() {
        s += v[i] * v[i];
    }
    s
}

#[differentiable]
fn slice_to_call(v: &[f64]) -> f64 {
    // The slice's adjoint gets element contributions and a whole cotangent from a call.
    let mut s = norm2(v);
    for i in 0..v.len() {
        s += v[i].sin();
    }
    s * v[0]
}

#[test]
fn slice_adjoint_receives_a_call_cotangent() {
    let v = [0.5, -1.0, 2.0];
    let (val, g) = slice_to_call_grad(&v);
    close(val, slice_to_call(&v), 1e-14);
    close_all(&g, &fd_slice(slice_to_call, &v), 1e-6);
}

/// A model with a count: its tangent has a unit field for it (what the derive will write).
struct Poly {
    coef: [f64; 3],
    degree: usize,
}

struct PolyTangent {
    coef: [f64; 3],
    degree: (),
}

impl Clone for PolyTangent {
    fn clone(&self) -> Self {
        PolyTangent {
            coef: self.coef,
            degree: (),
        }
    }
}

impl grad::Tangent for PolyTangent {
    fn add_assign(&mut self, o: Self) {
        grad::Tangent::add_assign(&mut self.coef, o.coef);
    }
    fn scale(&mut self, f: f64) {
        grad::Tangent::scale(&mut self.coef, f);
    }
    fn visit(&self, f: &mut dyn FnMut(grad::Flat<'_>)) {
        grad::Tangent::visit(&self.coef, f);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(grad::FlatMut<'_>)) {
        grad::Tangent::visit_mut(&mut self.coef, f);
    }
}

impl grad::Differentiable for Poly {
    type Tangent = PolyTangent;
    fn zero_tangent(&self) -> PolyTangent {
        PolyTangent {
            coef: [0.0; 3],
            degree: (),
        }
    }
    fn move_along(&mut self, d: &PolyTangent) {
        grad::Differentiable::move_along(&mut self.coef, &d.coef);
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(grad::FlatMut<'_>)) {
        grad::Differentiable::visit_params_mut(&mut self.coef, f);
    }
    fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], grad::Flat<'_>)) {
        grad::in_field(name, "coef", |name| {
            grad::Differentiable::visit_named(&self.coef, name, f)
        });
    }
}

impl Poly {
    /// Σ_{k <= degree} coef[k] x^k, scaled by the degree: the count indexes, bounds a loop
    /// and is cast, with no gradient.
    #[differentiable(wrt(self, x))]
    fn eval(&self, x: f64) -> f64 {
        let mut s = 0.0;
        for k in 0..self.degree + 1 {
            s += self.coef[k] * x.powi(k as i32);
        }
        s * (self.degree as f64)
    }
}

#[test]
fn integer_fields_carry_no_gradient() {
    let p = Poly {
        coef: [1.0, 2.0, 3.0],
        degree: 2,
    };
    // eval = 2 (1 + 2x + 3x²): ∂coef = 2 (1, x, x²), ∂x = 2 (2 + 6x)
    let (v, (dp, dx)) = p.eval_grad(0.5);
    close(v, p.eval(0.5), 1e-15);
    close_all(&dp.coef, &[2.0, 1.0, 0.5], 1e-15);
    close(dx, 2.0 * (2.0 + 3.0), 1e-15);
    let dir = PolyTangent {
        coef: [1.0, 0.0, 0.0],
        degree: (),
    };
    let (_, t) = p.eval_jvp(0.5, &dir, 1.0);
    close(t, 2.0 + dx, 1e-15);
}

/// A model with a float the derive marks `#[no_grad]`: its tangent field is `()`, so the
/// generated code must neither add to it nor read a tangent from it.
#[derive(Clone, grad::Differentiable)]
struct Scaled {
    w: Vec<f64>,
    #[no_grad]
    scale: f64,
    b: f64,
}

impl Scaled {
    /// scale · Σ (w_i x_i + b)² + scale: the held-fixed float is read as a factor, in a
    /// loop and on its own.
    #[differentiable(wrt(self, x))]
    fn loss(&self, x: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..x.len() {
            let r = self.w[i] * x[i] + self.b;
            s += self.scale * r * r;
        }
        s + self.scale
    }
}

/// The same reads from a free function taking the model by reference.
#[differentiable]
fn scaled_loss(m: &Scaled, k: f64) -> f64 {
    m.scale * m.b * k + m.scale.sin()
}

#[test]
fn float_no_grad_fields_carry_no_gradient() {
    let m = Scaled {
        w: vec![0.5, -1.5],
        scale: 3.0,
        b: 0.25,
    };
    let x = [2.0, 0.75];
    let (v, (dm, dx)) = m.loss_grad(&x);
    close(v, m.loss(&x), 1e-15);
    // ∂w_i = 2 scale r_i x_i, ∂b = 2 scale Σ r_i, ∂x_i = 2 scale r_i w_i; scale gets none.
    let r: Vec<f64> = (0..2).map(|i| m.w[i] * x[i] + m.b).collect();
    let dw: Vec<f64> = (0..2).map(|i| 2.0 * m.scale * r[i] * x[i]).collect();
    close_all(&dm.w, &dw, 1e-14);
    close(dm.b, 2.0 * m.scale * (r[0] + r[1]), 1e-14);
    let dx_expect: Vec<f64> = (0..2).map(|i| 2.0 * m.scale * r[i] * m.w[i]).collect();
    close_all(&dx, &dx_expect, 1e-14);
    let () = dm.scale;
    // Forward mode along b and x_0: the field held fixed moves with a zero tangent.
    let dir = ScaledTangent {
        w: vec![0.0, 0.0],
        scale: (),
        b: 1.0,
    };
    let (_, t) = m.loss_jvp(&x, &dir, &[1.0, 0.0]);
    close(t, dm.b + dx[0], 1e-14);
    let (_, (dm, dk)) = scaled_loss_grad(&m, 2.0);
    close(dm.b, m.scale * 2.0, 1e-15);
    close(dk, m.scale * m.b, 1e-15);
    let along_k = fd(|k| scaled_loss(&m, k), 2.0);
    let (_, t) = scaled_loss_jvp(
        &m,
        2.0,
        &ScaledTangent {
            w: vec![0.0; 2],
            scale: (),
            b: 0.0,
        },
        1.0,
    );
    close(t, along_k, 1e-8);
}

#[differentiable]
#[allow(clippy::clone_on_copy)]
fn cloned(x: f64, v: &[f64]) -> f64 {
    // `clone` is the identity: its derivative passes the gradient through.
    let y = x.clone();
    let w = v.to_owned();
    y * y + w[0]
}

#[test]
fn clone_is_the_identity() {
    // ∂x = 2x, ∂v = (1, 0)
    let (_, (dx, dv)) = cloned_grad(3.0, &[1.0, 2.0]);
    assert_eq!((dx, dv), (6.0, vec![1.0, 0.0]));
}
