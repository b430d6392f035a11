//! Every parameter form of DESIGN §2 in every mode: for each form a function of it is
//! differentiated, called directly (`_grad`, `_vjp`, `_jvp`) and from another
//! differentiable function (through its `_vjp` and `_jvp`), and checked against central
//! finite differences in f64 and forward mode against reverse mode. Results of each form
//! (array, `Vec`, tuple, struct, tensor, nalgebra vector) are checked the same way.

// `&Vec<f64>` is one of the parameter forms under test.
#![allow(clippy::ptr_arg)]

mod common;

use common::{close, close_all, fd};
use grad::nalgebra::{DVector, Vector3};
use grad::{Differentiable, Tensor, differentiable};

#[derive(Differentiable, Clone, Debug)]
struct Pair {
    a: f64,
    b: f64,
}

// ---- one function per form ------------------------------------------------------------------

#[differentiable]
fn of_f64(x: f64) -> f64 {
    x * x.sin()
}
#[differentiable]
fn of_f32(x: f32) -> f32 {
    x * x.sin()
}
#[differentiable]
fn of_slice(x: &[f64]) -> f64 {
    x[0] * x[1].exp()
}
#[differentiable]
fn of_vec(x: Vec<f64>) -> f64 {
    x[0] * x[1].exp()
}
#[differentiable]
fn of_vec_ref(x: &Vec<f64>) -> f64 {
    x[0] * x[1].exp()
}
#[differentiable]
fn of_array(x: [f64; 2]) -> f64 {
    x[0] * x[1].exp()
}
#[differentiable]
fn of_array_ref(x: &[f64; 2]) -> f64 {
    x[0] * x[1].exp()
}
#[differentiable]
fn of_tensor(x: Tensor<f64>) -> f64 {
    (&x * &x).sum()
}
#[differentiable]
fn of_tensor_ref(x: &Tensor<f64>) -> f64 {
    (x * x).sum()
}
#[differentiable]
fn of_vector(x: Vector3<f64>) -> f64 {
    x.norm_squared()
}
#[differentiable]
fn of_vector_ref(x: &Vector3<f64>) -> f64 {
    x.norm_squared()
}
#[differentiable]
fn of_dvector_ref(x: &DVector<f64>) -> f64 {
    x.norm_squared()
}
#[differentiable]
fn of_struct(p: Pair) -> f64 {
    p.a * p.b
}
#[differentiable]
fn of_struct_ref(p: &Pair) -> f64 {
    p.a * p.b
}
#[differentiable]
fn of_tuple(p: (f64, f64)) -> f64 {
    p.0 * p.1
}
#[differentiable]
fn of_generic<T: grad::Real>(x: T, y: &[T]) -> T {
    x * y[0]
}

/// Every form passed on to its function: the callees' `_vjp` and `_jvp` compose.
#[differentiable]
fn calls_every_form(x: f64, y: f64) -> f64 {
    let v = vec![x, y];
    let a = [x, y];
    let t = of_f64(x)
        + of_slice(&v)
        + of_vec(v.clone())
        + of_vec_ref(&v)
        + of_array(a)
        + of_array_ref(&a)
        + of_vector(Vector3::new(x, y, 1.0))
        + of_struct(Pair { a: x, b: y })
        + of_struct_ref(&Pair { a: y, b: x })
        + of_tuple((x, y))
        + of_generic(x, &v);
    t * 0.5
}

#[test]
fn every_parameter_form_in_every_mode() {
    let (x, y) = (0.7, -0.4);
    // f(x, y) = x sin x + 5 x e^y + (x² + y² + 1) + 3xy + x², halved.
    let f = |x: f64, y: f64| {
        0.5 * (x * x.sin() + 5.0 * x * y.exp() + x * x + y * y + 1.0 + 3.0 * x * y + x * x)
    };
    let (v, (gx, gy)) = calls_every_form_grad(x, y);
    close(v, f(x, y), 1e-14);
    close(gx, fd(|x| f(x, y), x), 1e-6);
    close(gy, fd(|y| f(x, y), y), 1e-6);
    let (_, pb) = calls_every_form_vjp(x, y);
    let (px, py) = pb(2.0);
    close(px, 2.0 * gx, 1e-14);
    close(py, 2.0 * gy, 1e-14);
    let (_, t) = calls_every_form_jvp(x, y, 1.0, 0.5);
    close(t, gx + 0.5 * gy, 1e-12);

    // Each form directly: the gradient of x0 e^x1 is (e^x1, x0 e^x1).
    let want = [y.exp(), x * y.exp()];
    close_all(&of_slice_grad(&[x, y]).1, &want, 1e-15);
    close_all(&of_vec_grad(vec![x, y]).1, &want, 1e-15);
    close_all(&of_vec_ref_grad(&vec![x, y]).1, &want, 1e-15);
    close_all(&of_array_grad([x, y]).1, &want, 1e-15);
    close_all(&of_array_ref_grad(&[x, y]).1, &want, 1e-15);
    close_all(&of_slice_vjp(&[x, y]).1(1.0), &want, 1e-15);
    close_all(&of_vec_vjp(vec![x, y]).1(1.0), &want, 1e-15);
    close_all(&of_array_vjp([x, y]).1(1.0), &want, 1e-15);
    close_all(&of_array_ref_vjp(&[x, y]).1(1.0), &want, 1e-15);
    let dot = want[0] * 0.3 + want[1] * -0.2;
    close(of_slice_jvp(&[x, y], &[0.3, -0.2]).1, dot, 1e-15);
    close(of_vec_jvp(vec![x, y], vec![0.3, -0.2]).1, dot, 1e-15);
    close(of_vec_ref_jvp(&vec![x, y], &vec![0.3, -0.2]).1, dot, 1e-15);
    close(of_array_jvp([x, y], [0.3, -0.2]).1, dot, 1e-15);
    close(of_array_ref_jvp(&[x, y], &[0.3, -0.2]).1, dot, 1e-15);
    // Scalars: d(x sin x) = sin x + x cos x.
    let d = x.sin() + x * x.cos();
    close(of_f64_grad(x).1, d, 1e-15);
    close(of_f64_vjp(x).1(1.0), d, 1e-15);
    close(of_f64_jvp(x, 1.0).1, d, 1e-15);
    let d32 = of_f32_grad(0.7f32).1 as f64;
    close(d32, d, 1e-6);
    close(of_f32_jvp(0.7f32, 1.0).1 as f64, d, 1e-6);
    // Tensors, by value and by reference: d sum x² = 2x.
    let t = Tensor::from_vec(vec![0.5, -1.0, 2.0], &[3]).unwrap();
    assert_eq!(of_tensor_grad(t.clone()).1.to_vec(), vec![1.0, -2.0, 4.0]);
    assert_eq!(of_tensor_ref_grad(&t).1.to_vec(), vec![1.0, -2.0, 4.0]);
    assert_eq!(of_tensor_ref_vjp(&t).1(0.5).to_vec(), vec![0.5, -1.0, 2.0]);
    let dir = Tensor::from_vec(vec![1.0, 1.0, 1.0], &[3]).unwrap();
    assert_eq!(of_tensor_jvp(t.clone(), dir.clone()).1, 3.0);
    assert_eq!(of_tensor_ref_jvp(&t, &dir).1, 3.0);
    // nalgebra, by value and by reference: d |v|² = 2v.
    let v3 = Vector3::new(1.0, -2.0, 0.5);
    assert_eq!(of_vector_grad(v3).1, v3 * 2.0);
    assert_eq!(of_vector_ref_grad(&v3).1, v3 * 2.0);
    assert_eq!(of_vector_vjp(v3).1(1.0), v3 * 2.0);
    assert_eq!(of_vector_jvp(v3, Vector3::new(1.0, 0.0, 0.0)).1, 2.0);
    assert_eq!(of_vector_ref_jvp(&v3, &Vector3::new(0.0, 1.0, 0.0)).1, -4.0);
    let dv = DVector::from_vec(vec![1.0, 3.0]);
    assert_eq!(of_dvector_ref_grad(&dv).1, &dv * 2.0);
    assert_eq!(
        of_dvector_ref_jvp(&dv, &DVector::from_vec(vec![1.0, 1.0])).1,
        8.0
    );
    // Structs and tuples: d(ab) = (b, a).
    let p = Pair { a: 2.0, b: 3.0 };
    let g = of_struct_grad(p.clone()).1;
    assert_eq!((g.a, g.b), (3.0, 2.0));
    let g = of_struct_ref_vjp(&p).1(1.0);
    assert_eq!((g.a, g.b), (3.0, 2.0));
    assert_eq!(
        of_struct_jvp(p.clone(), PairTangent { a: 1.0, b: 1.0 }).1,
        5.0
    );
    assert_eq!(
        of_struct_ref_jvp(&p, &PairTangent { a: 1.0, b: 0.0 }).1,
        3.0
    );
    assert_eq!(of_tuple_grad((2.0, 3.0)).1, (3.0, 2.0));
    assert_eq!(of_tuple_jvp((2.0, 3.0), (1.0, 1.0)).1, 5.0);
    // Generic floats.
    assert_eq!(of_generic_grad(2.0f32, &[3.0f32]).1, (3.0, vec![2.0]));
}

/// Every form held constant by the caller (outside its `wrt`) and passed to a callee that
/// differentiates that parameter: forward mode hands the callee's `_jvp` a zero tangent of
/// the parameter's form (a `&[f64]` from a slice's `Vec` zero, a `&Tensor`, ...), reverse
/// mode drops the callee's cotangent for it.
#[differentiable(wrt(x))]
#[allow(clippy::too_many_arguments)]
fn calls_every_form_with_constants(
    x: f64,
    s: &[f64],
    v: Vec<f64>,
    a: [f64; 2],
    t: &Tensor<f64>,
    w: Vector3<f64>,
    d: &DVector<f64>,
    p: Pair,
) -> f64 {
    let c = of_slice(s)
        + of_vec(v.clone())
        + of_vec_ref(&v)
        + of_array(a)
        + of_array_ref(&a)
        + of_tensor_ref(t)
        + of_vector_ref(&w)
        + of_dvector_ref(d)
        + of_struct_ref(&p);
    x * c
}

#[test]
fn constant_arguments_of_every_form() {
    let (s, t) = (
        vec![0.5, -0.25],
        Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap(),
    );
    let (w, d) = (
        Vector3::new(1.0, 0.0, 2.0),
        DVector::from_vec(vec![3.0, 1.0]),
    );
    let p = Pair { a: 2.0, b: 1.5 };
    // c = 5 (0.5 e^-0.25) (slice, Vec, &Vec, array, &array) + |t|² + |w|² + |d|² + ab,
    // and f = x c: df/dx = c.
    let c = 5.0 * 0.5 * (-0.25f64).exp() + 5.0 + 5.0 + 10.0 + 3.0;
    let args = || (s.clone(), [s[0], s[1]], p.clone());
    let (v, a, q) = args();
    let (value, g) = calls_every_form_with_constants_grad(1.5, &s, v, a, &t, w, &d, q);
    close(value, 1.5 * c, 1e-14);
    close(g, c, 1e-14);
    let (v, a, q) = args();
    let (_, pb) = calls_every_form_with_constants_vjp(1.5, &s, v, a, &t, w, &d, q);
    close(pb(2.0).0, 2.0 * c, 1e-14);
    let (v, a, q) = args();
    let no = grad::NoTangent;
    let (_, dv) = calls_every_form_with_constants_jvp(
        1.5, &s, v, a, &t, w, &d, q, 0.5, no, no, no, no, no, no, no,
    );
    close(dv, 0.5 * c, 1e-14);
}

// ---- one function per result form -------------------------------------------------------------

#[differentiable]
fn to_array(x: f64, y: f64) -> [f64; 3] {
    [x * y, x + y, x]
}
#[differentiable]
fn to_vec(x: f64, y: f64) -> Vec<f64> {
    vec![x * y, x + y, x]
}
#[differentiable]
fn to_tuple(x: f64, y: f64) -> (f64, f64) {
    (x * y, x + y)
}
#[differentiable]
fn to_struct(x: f64, y: f64) -> Pair {
    Pair { a: x * y, b: x + y }
}
#[differentiable]
fn to_vector(x: f64, y: f64) -> Vector3<f64> {
    Vector3::new(x * y, x + y, x)
}
#[differentiable]
fn to_tensor(x: &Tensor<f64>, y: f64) -> Tensor<f64> {
    x * y
}

#[test]
fn every_result_form_in_both_modes() {
    let (x, y) = (2.0, 3.0);
    // J = [[y, x], [1, 1], [1, 0]]: the pullback of w is Jᵀw, the tangent along v is Jv.
    let w = [1.0, -1.0, 2.0];
    let jt_w = (y - 1.0 + 2.0, x - 1.0);
    let j_v = [y * 0.5 + x * 0.25, 0.75, 0.5];
    assert_eq!(to_array_vjp(x, y).1(w), jt_w);
    assert_eq!(to_array_jvp(x, y, 0.5, 0.25).1, j_v);
    assert_eq!(to_vec_vjp(x, y).1(w.to_vec()), jt_w);
    assert_eq!(to_vec_jvp(x, y, 0.5, 0.25).1, j_v.to_vec());
    assert_eq!(to_vector_vjp(x, y).1(Vector3::from(w)), jt_w);
    assert_eq!(to_vector_jvp(x, y, 0.5, 0.25).1, Vector3::from(j_v));
    assert_eq!(to_tuple_vjp(x, y).1((1.0, -1.0)), (y - 1.0, x - 1.0));
    assert_eq!(to_tuple_jvp(x, y, 0.5, 0.25).1, (j_v[0], j_v[1]));
    assert_eq!(
        to_struct_vjp(x, y).1(PairTangent { a: 1.0, b: -1.0 }),
        (y - 1.0, x - 1.0)
    );
    let t = to_struct_jvp(x, y, 0.5, 0.25).1;
    assert_eq!((t.a, t.b), (j_v[0], j_v[1]));
    // x y for a tensor x: the pullback of w is (w y, <w, x>).
    let tx = Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap();
    let tw = Tensor::from_vec(vec![1.0, -1.0], &[2]).unwrap();
    let (gx, gy) = to_tensor_vjp(&tx, 3.0).1(tw.clone());
    assert_eq!((gx.to_vec(), gy), (vec![3.0, -3.0], -1.0));
    let (_, t) = to_tensor_jvp(&tx, 3.0, &tw, 1.0);
    assert_eq!(t.to_vec(), vec![4.0, -1.0]);
}
