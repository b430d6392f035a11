//! `#[differentiable(order = 2)]` on nalgebra parameters: `f_hvp` against central differences
//! of `f_grad` along the direction, the Hessian's symmetry `<u, H v> = <v, H u>`, its value
//! and gradient against `f_grad`'s; fixed-size vectors and matrices by reference and by
//! value, sizes known at run time, a matrix built from a differentiated angle, data beside
//! the differentiated values; and `f_grad` of a function of vectors inside another loss.

mod common;

use common::{assert_close, assert_symmetric};
use grad::differentiable;
use nalgebra::{DMatrix, DVector, Matrix2, Matrix3, Vector2, Vector3};

/// Finite differences of the gradient with h = 1e-5 agree with the exact Hessian-vector
/// product to about h² |f'''| + ε |∇f| / h, well inside 1e-6 of its size here.
const H: f64 = 1e-5;
const FD_TOL: f64 = 1e-6;

fn difference(p: &[f64], m: &[f64]) -> Vec<f64> {
    p.iter().zip(m).map(|(p, m)| (p - m) / (2.0 * H)).collect()
}

// ---------------------------------------------------------------------------------------
// A spring between two points: norm, dot, difference; a scalar stiffness beside them.

#[differentiable(order = 2)]
fn spring(p: &Vector3<f64>, q: &Vector3<f64>, k: f64) -> f64 {
    let d = p - q;
    k * (d.norm() - 1.0).powi(2) + 0.1 * p.dot(q) + p.cross(q).norm_squared()
}

#[test]
fn spring_hvp_matches_differences_of_the_gradient() {
    let (p, q, k) = (
        Vector3::new(0.3, -1.2, 0.8),
        Vector3::new(1.1, 0.4, -0.2),
        2.5,
    );
    let (vp, vq, vk) = (
        Vector3::new(1.0, 0.5, -0.5),
        Vector3::new(-0.25, 1.0, 0.75),
        0.3,
    );
    let (y, (gp, gq, gk), (hp, hq, hk)) = spring_hvp(&p, &q, k, &vp, &vq, vk);
    let (y0, (gp0, gq0, gk0)) = spring_grad(&p, &q, k);
    assert_close("spring value", &[y], &[y0], 1e-14);
    assert_close("spring gradient p", gp.as_slice(), gp0.as_slice(), 1e-14);
    assert_close("spring gradient q", gq.as_slice(), gq0.as_slice(), 1e-14);
    assert_close("spring gradient k", &[gk], &[gk0], 1e-14);

    let grad_at = |s: f64| spring_grad(&(p + vp * s), &(q + vq * s), k + vk * s).1;
    let ((pp, pq, pk), (mp, mq, mk)) = (grad_at(H), grad_at(-H));
    assert_close(
        "spring H v (p)",
        hp.as_slice(),
        &difference(pp.as_slice(), mp.as_slice()),
        FD_TOL,
    );
    assert_close(
        "spring H v (q)",
        hq.as_slice(),
        &difference(pq.as_slice(), mq.as_slice()),
        FD_TOL,
    );
    assert_close("spring H v (k)", &[hk], &[(pk - mk) / (2.0 * H)], FD_TOL);

    // Symmetry over the whole 7-vector (p, q, k).
    let (up, uq, uk) = (
        Vector3::new(-0.6, 0.2, 0.9),
        Vector3::new(0.1, -0.8, 0.4),
        -0.7,
    );
    let (_, _, (hup, huq, huk)) = spring_hvp(&p, &q, k, &up, &uq, uk);
    let flat = |a: &Vector3<f64>, b: &Vector3<f64>, c: f64| -> Vec<f64> {
        a.iter().chain(b.iter()).copied().chain([c]).collect()
    };
    assert_symmetric(
        "spring",
        &flat(&up, &uq, uk),
        &flat(&hp, &hq, hk),
        &flat(&vp, &vq, vk),
        &flat(&hup, &huq, huk),
    );
}

// ---------------------------------------------------------------------------------------
// A rotation built from the differentiated angle (`Matrix2::new`), applied to a vector
// passed by value, against a fixed target.

#[differentiable(order = 2)]
fn rotate(theta: f64, v: Vector2<f64>) -> f64 {
    let (s, c) = (theta.sin(), theta.cos());
    let r = Matrix2::new(c, -s, s, c);
    let w = r * v;
    (w - Vector2::new(1.0, 0.5)).norm_squared() + 0.5 * v.norm_squared() * theta
}

#[test]
fn rotation_from_an_angle() {
    let (theta, v) = (0.7, Vector2::new(1.5, -0.4));
    let (vt, vv) = (1.0, Vector2::new(0.5, 2.0));
    let (y, (gt, gv), (ht, hv)) = rotate_hvp(theta, v, vt, vv);
    let (y0, (gt0, gv0)) = rotate_grad(theta, v);
    assert_close("rotate value", &[y], &[y0], 1e-14);
    assert_close(
        "rotate gradient",
        &[gt, gv.x, gv.y],
        &[gt0, gv0.x, gv0.y],
        1e-14,
    );
    // The first-order gradient itself against differences of the value (a chain of two
    // matrix operations, `r * v - c`, is not a fused elementwise region).
    let e = |k: usize| Vector2::from_fn(|i, _| if i == k { H } else { 0.0 });
    let fd = [
        (rotate(theta + H, v) - rotate(theta - H, v)) / (2.0 * H),
        (rotate(theta, v + e(0)) - rotate(theta, v - e(0))) / (2.0 * H),
        (rotate(theta, v + e(1)) - rotate(theta, v - e(1))) / (2.0 * H),
    ];
    assert_close(
        "rotate gradient by differences",
        &[gt0, gv0.x, gv0.y],
        &fd,
        FD_TOL,
    );
    let grad_at = |s: f64| rotate_grad(theta + vt * s, v + vv * s).1;
    let ((pt, pv), (mt, mv)) = (grad_at(H), grad_at(-H));
    assert_close(
        "rotate H v (theta)",
        &[ht],
        &[(pt - mt) / (2.0 * H)],
        FD_TOL,
    );
    assert_close(
        "rotate H v (v)",
        hv.as_slice(),
        &difference(pv.as_slice(), mv.as_slice()),
        FD_TOL,
    );
}

// ---------------------------------------------------------------------------------------
// Sizes known at run time: a quadratic form with a data matrix, by value.

#[differentiable(order = 2, wrt(x))]
fn quadratic(x: DVector<f64>, a: &DMatrix<f64>) -> f64 {
    0.5 * (a * &x).dot(&x) + x.norm() * x.sum()
}

#[test]
fn quadratic_form_of_a_dynamic_vector() {
    let a = DMatrix::from_row_slice(3, 3, &[2.0, 0.5, -0.3, 0.1, 1.5, 0.2, -0.4, 0.6, 3.0]);
    let x = DVector::from_vec(vec![0.4, -1.1, 0.9]);
    let v = DVector::from_vec(vec![1.0, 0.25, -0.5]);
    let (_, g, hv) = quadratic_hvp(x.clone(), &a, v.clone(), grad::NoTangent);
    let g0 = quadratic_grad(x.clone(), &a).1;
    assert_close("quadratic gradient", g.as_slice(), g0.as_slice(), 1e-14);
    let (p, m) = (
        quadratic_grad(&x + &v * H, &a).1,
        quadratic_grad(&x - &v * H, &a).1,
    );
    assert_close(
        "quadratic H v",
        hv.as_slice(),
        &difference(p.as_slice(), m.as_slice()),
        FD_TOL,
    );
}

#[test]
#[should_panic(expected = "the direction for `x` has shape (2, 1) where `x` has shape (3, 1)")]
fn a_direction_of_the_wrong_size_is_named() {
    let a = DMatrix::identity(3, 3);
    let x = DVector::from_vec(vec![0.4, -1.1, 0.9]);
    let _ = quadratic_hvp(x, &a, DVector::from_vec(vec![1.0, 0.0]), grad::NoTangent);
}

// ---------------------------------------------------------------------------------------
// `f_grad` of a function of matrices inside another loss: the squared gradient norm of a
// potential, differentiated against finite differences of the whole loss.

#[differentiable(order = 2)]
fn potential(m: &Matrix3<f64>, x: &Vector3<f64>) -> f64 {
    let y = m * x;
    y.dot(&y).sqrt() + (m.transpose() * m).sum() * 0.05
}

#[differentiable]
fn gradient_norm(m: &Matrix3<f64>, x: &Vector3<f64>) -> f64 {
    let (e, (gm, gx)) = potential_grad(m, x);
    e + gm.norm_squared() + 0.5 * gx.norm_squared()
}

#[test]
fn matrix_gradient_inside_a_loss() {
    let m = Matrix3::new(1.0, 0.2, -0.3, 0.4, 1.5, 0.1, -0.2, 0.3, 0.8);
    let x = Vector3::new(0.5, -0.7, 1.2);
    let (_, (gm, gx)) = gradient_norm_grad(&m, &x);
    let fd_m: Vec<f64> = (0..9)
        .map(|k| {
            let mut e = Matrix3::zeros();
            e[k] = H;
            (gradient_norm(&(m + e), &x) - gradient_norm(&(m - e), &x)) / (2.0 * H)
        })
        .collect();
    let fd_x: Vec<f64> = (0..3)
        .map(|k| {
            let mut e = Vector3::zeros();
            e[k] = H;
            (gradient_norm(&m, &(x + e)) - gradient_norm(&m, &(x - e))) / (2.0 * H)
        })
        .collect();
    assert_close("gradient norm, m", gm.as_slice(), &fd_m, FD_TOL);
    assert_close("gradient norm, x", gx.as_slice(), &fd_x, FD_TOL);
}

// ---------------------------------------------------------------------------------------
// Scalar methods of values that are not differentiated, beside nalgebra ones: the copy's
// float type is nalgebra's `SimdRealField` too, whose methods do not share `Real`'s names.

#[differentiable(order = 2, wrt(x))]
fn with_integer_data(x: &Vector2<f64>, n: usize) -> f64 {
    let c = (n as f64).sqrt();
    let d = f64::max(c, 1.5);
    x.norm_squared().powi(2) * c * d + x.x.sin()
}

#[test]
fn scalar_methods_beside_nalgebra_values() {
    let (x, v, n) = (Vector2::new(0.6, -0.3), Vector2::new(1.0, 0.5), 4);
    let (_, g, hv) = with_integer_data_hvp(&x, n, &v, grad::NoTangent);
    // f = 4 (x·x)² + sin x₀ (c = d = 2): H = 16 (x·x) I + 32 x xᵀ - sin x₀ e₀e₀ᵀ.
    let xx = x.dot(&x);
    let h = nalgebra::Matrix2::identity() * (16.0 * xx) + x * x.transpose() * 32.0
        - nalgebra::Matrix2::new(x.x.sin(), 0.0, 0.0, 0.0);
    let g_exact = x * (16.0 * xx) + Vector2::new(x.x.cos(), 0.0);
    assert_close(
        "integer data gradient",
        g.as_slice(),
        g_exact.as_slice(),
        1e-14,
    );
    assert_close("integer data H v", hv.as_slice(), (h * v).as_slice(), 1e-14);
}
