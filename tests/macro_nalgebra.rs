//! nalgebra matrices and vectors in differentiable functions: every rule (`+ - * /`, `-x`,
//! matrix products, `dot norm norm_squared cross component_mul transpose sum mean`), field
//! access `v.x` and indexing `v[i]`, `m[(i, j)]`, on fixed and dynamic sizes in f64 and f32,
//! against central finite differences (in f64) and between modes (`<jvp(v), w> = <v, vjp(w)>`),
//! and two robot-arm kinematics functions with hand-written derivatives of rotation matrices.

use grad::check::gradcheck;
use grad::nalgebra::{DMatrix, DVector, Matrix2x3, Matrix3, Matrix3x2, Vector2, Vector3};
use grad::{Differentiable, NoTangent, Tangent, differentiable};

// ---- helpers -------------------------------------------------------------------------------

/// Deterministic values in [-1, 1] (a small LCG), so that every test sees fixed inputs.
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

fn v3(seed: u64) -> Vector3<f64> {
    Vector3::from_vec(values(3, seed))
}

fn m3(seed: u64) -> Matrix3<f64> {
    Matrix3::from_vec(values(9, seed))
}

fn dvec(n: usize, seed: u64) -> DVector<f64> {
    DVector::from_vec(values(n, seed))
}

fn dmat(r: usize, c: usize, seed: u64) -> DMatrix<f64> {
    DMatrix::from_vec(r, c, values(r * c, seed))
}

fn close(a: f64, b: f64, tol: f64) {
    assert!(
        (a - b).abs() <= tol * (1.0 + b.abs()),
        "{a} vs {b} (tolerance {tol})"
    );
}

/// Checks a two-argument scalar function's `_grad` against central differences in each
/// argument, and forward mode against reverse: `f_jvp(a, b, da, db) = <ga, da> + <gb, db>`.
macro_rules! check2 {
    ($f:ident, $grad:ident, $jvp:ident, $a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        let (val, (ga, gb)) = $grad(&a, &b);
        close(val, $f(&a, &b), 1e-14);
        gradcheck(|a: &_| $f(a, &b), &a, &ga, 1e-7, 1e-6).unwrap();
        gradcheck(|b: &_| $f(&a, b), &b, &gb, 1e-7, 1e-6).unwrap();
        // Directions: the arguments themselves, scaled (any fixed direction would do).
        let (mut da, mut db) = (a.clone(), b.clone());
        Tangent::scale(&mut da, 0.7);
        Tangent::scale(&mut db, -1.3);
        let (val2, t) = $jvp(&a, &b, &da, &db);
        assert_eq!(val, val2);
        close(t, Tangent::dot(&ga, &da) + Tangent::dot(&gb, &db), 1e-12);
    }};
}

// ---- one function per rule, fixed sizes, f64 ----------------------------------------------

#[differentiable]
fn add_sub_neg(a: &Vector3<f64>, b: &Vector3<f64>) -> f64 {
    let c = a + b - (-a) * 0.5;
    let d = -(b - a);
    c.dot(&d)
}

#[differentiable]
fn mat_mat(a: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
    let c = a * b;
    (c * a).sum()
}

/// A square matrix times itself: one value as both factors, whose adjoint is
/// `dY·Aᵀ + Aᵀ·dY`, not a scalar square's `2 A dY`.
#[differentiable]
fn mat_square(a: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
    let s = a * a;
    (s * b).sum()
}

#[differentiable]
fn dyn_square(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let c = a * b;
    let s = &c * &c;
    s.norm_squared()
}

#[differentiable]
fn mat_vec(m: &Matrix3<f64>, v: &Vector3<f64>) -> f64 {
    let w = m * v;
    w.dot(&w)
}

#[differentiable]
fn rectangular(a: &Matrix2x3<f64>, b: &Matrix3x2<f64>) -> f64 {
    // (2×3)·(3×2) then (3×2)·(2×2): the shapes of dA = dY·Bᵀ and dB = Aᵀ·dY differ.
    let c = a * b;
    (b * c).norm_squared()
}

#[differentiable]
fn scalar_products(v: &Vector3<f64>, s: f64) -> f64 {
    let a = v * s;
    let b = s * v;
    let c = v / s;
    let d = 2.0 * v - v * 3.0 + v / 4.0;
    a.dot(&b) + c.sum() + d.norm()
}

#[differentiable]
fn cross_and_component(a: &Vector3<f64>, b: &Vector3<f64>) -> f64 {
    let c = a.cross(b);
    let d = a.component_mul(&c);
    d.sum() + c.cross(a).norm() + b.component_mul(b).dot(a)
}

#[differentiable]
fn norms(a: &Matrix3<f64>, v: &Vector3<f64>) -> f64 {
    a.norm() * v.norm() + a.norm_squared() / (1.0 + v.norm_squared())
}

#[differentiable]
fn transpose_sum_mean(a: &Matrix2x3<f64>, m: &Matrix3<f64>) -> f64 {
    let t = a.transpose();
    let p = m * t;
    p.sum() + (a * m).mean() + (p.transpose() * p).transpose().sum()
}

#[differentiable]
fn fields_and_indices(v: &Vector3<f64>, m: &Matrix3<f64>) -> f64 {
    // `v.x` reads through nalgebra's `Deref`; `m[(i, j)]` and `v[i]` through `Index`.
    let w = m * v;
    let mut s = v.x * w.y - v.z * w.x + m[(1, 2)] * v[1];
    for i in 0..3 {
        s += w[i] * m[(i, i)];
    }
    s + m.m12 * v.y
}

#[test]
fn each_rule_on_fixed_sizes_against_finite_differences_and_forward_mode() {
    check2!(add_sub_neg, add_sub_neg_grad, add_sub_neg_jvp, v3(1), v3(2));
    check2!(mat_mat, mat_mat_grad, mat_mat_jvp, m3(3), m3(4));
    check2!(mat_vec, mat_vec_grad, mat_vec_jvp, m3(5), v3(6));
    check2!(mat_square, mat_square_grad, mat_square_jvp, m3(17), m3(18));
    check2!(
        dyn_square,
        dyn_square_grad,
        dyn_square_jvp,
        dmat(3, 3, 19),
        dmat(3, 3, 30)
    );
    check2!(
        rectangular,
        rectangular_grad,
        rectangular_jvp,
        Matrix2x3::from_vec(values(6, 7)),
        Matrix3x2::from_vec(values(6, 8))
    );
    check2!(
        cross_and_component,
        cross_and_component_grad,
        cross_and_component_jvp,
        v3(9),
        v3(10)
    );
    check2!(norms, norms_grad, norms_jvp, m3(11), v3(12));
    check2!(
        transpose_sum_mean,
        transpose_sum_mean_grad,
        transpose_sum_mean_jvp,
        Matrix2x3::from_vec(values(6, 13)),
        m3(14)
    );
    check2!(
        fields_and_indices,
        fields_and_indices_grad,
        fields_and_indices_jvp,
        v3(15),
        m3(16)
    );
}

#[test]
fn scalar_times_vector_in_both_orders() {
    let (v, s) = (v3(17), 0.8);
    let (val, (gv, gs)) = scalar_products_grad(&v, s);
    close(val, scalar_products(&v, s), 1e-14);
    gradcheck(|v: &_| scalar_products(v, s), &v, &gv, 1e-7, 1e-6).unwrap();
    gradcheck(|s: &f64| scalar_products(&v, *s), &s, &gs, 1e-7, 1e-6).unwrap();
    let dv = v3(18);
    let (_, t) = scalar_products_jvp(&v, s, &dv, 0.4);
    close(t, Tangent::dot(&gv, &dv) + gs * 0.4, 1e-12);
}

// ---- dynamic sizes ---------------------------------------------------------------------------

#[differentiable(wrt(w, b))]
fn least_squares(w: &DMatrix<f64>, b: &DVector<f64>, x: &DVector<f64>, y: &DVector<f64>) -> f64 {
    let r = w * x + b - y;
    r.norm_squared() / 2.0 + 0.1 * w.norm()
}

#[differentiable]
fn dynamic_rules(a: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
    let u = a.transpose() * v;
    let c = u.component_mul(&u);
    let s = v.dot(v);
    let d = a.clone() / s;
    (a * u).sum() * s - c.mean() + d.norm() + (-v).norm_squared() + v[0] * a[(1, 2)]
}

#[differentiable]
fn dynamic_cross(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    let c = a.cross(b) - b;
    c.norm() + c.dot(a) * 3.0
}

#[test]
fn dynamic_sizes_against_finite_differences_and_forward_mode() {
    check2!(
        dynamic_rules,
        dynamic_rules_grad,
        dynamic_rules_jvp,
        dmat(4, 3, 20),
        dvec(4, 21)
    );
    check2!(
        dynamic_cross,
        dynamic_cross_grad,
        dynamic_cross_jvp,
        dvec(3, 22),
        dvec(3, 23)
    );
    let (w, b, x, y) = (dmat(5, 3, 24), dvec(5, 25), dvec(3, 26), dvec(5, 27));
    let (val, (gw, gb)) = least_squares_grad(&w, &b, &x, &y);
    close(val, least_squares(&w, &b, &x, &y), 1e-14);
    assert_eq!((gw.shape(), gb.shape()), ((5, 3), (5, 1)));
    gradcheck(|w: &_| least_squares(w, &b, &x, &y), &w, &gw, 1e-7, 1e-6).unwrap();
    gradcheck(|b: &_| least_squares(&w, b, &x, &y), &b, &gb, 1e-7, 1e-6).unwrap();
    // d/db (|r|²/2) = r, where r = w·x + b - y.
    let r = &w * &x + &b - &y;
    assert!((&gb - &r).norm() < 1e-12);
    let (dw, db) = (dmat(5, 3, 28), dvec(5, 29));
    let (_, t) = least_squares_jvp(&w, &b, &x, &y, &dw, &db, NoTangent, NoTangent);
    close(t, Tangent::dot(&gw, &dw) + Tangent::dot(&gb, &db), 1e-12);
}

#[test]
#[should_panic(
    expected = "cross: the second operand has shape [2, 1] but the value has shape [3, 1]"
)]
fn dynamic_shape_mismatch_names_the_operation_and_both_shapes() {
    // nalgebra's own `cross` would panic too; the generated gradient panics in the rule.
    let _ = dynamic_cross_grad(&dvec(3, 1), &dvec(2, 2));
}

// ---- f32: the f32 gradient against finite differences of the same function in f64 ----------

#[differentiable]
fn kinetic32(m: &Matrix3<f32>, v: &Vector3<f32>) -> f32 {
    let w = m * v;
    w.dot(&w) / 2.0 + w.cross(v).norm() - (m.transpose() * m).sum() * 0.25 + v.x * w.z
}

#[differentiable]
fn kinetic64(m: &Matrix3<f64>, v: &Vector3<f64>) -> f64 {
    let w = m * v;
    w.dot(&w) / 2.0 + w.cross(v).norm() - (m.transpose() * m).sum() * 0.25 + v.x * w.z
}

#[differentiable]
fn dynamic32(w: &DMatrix<f32>, x: &DVector<f32>) -> f32 {
    let y = w * x;
    y.component_mul(&y).sum().sqrt() + (w.transpose() / 3.0).norm_squared() + x[1]
}

#[differentiable]
fn dynamic64(w: &DMatrix<f64>, x: &DVector<f64>) -> f64 {
    let y = w * x;
    y.component_mul(&y).sum().sqrt() + (w.transpose() / 3.0).norm_squared() + x[1]
}

#[test]
fn f32_gradients_match_f64_finite_differences() {
    let (m, v) = (m3(30), v3(31));
    let (m32, v32): (Matrix3<f32>, Vector3<f32>) = (m.cast(), v.cast());
    // The f64 twin evaluated at exactly the f32 point.
    let (m, v) = (m32.cast::<f64>(), v32.cast::<f64>());
    let (val, (gm, gv)) = kinetic32_grad(&m32, &v32);
    close(f64::from(val), kinetic64(&m, &v), 1e-5);
    gradcheck(|m: &_| kinetic64(m, &v), &m, &gm.cast(), 1e-5, 1e-4).unwrap();
    gradcheck(|v: &_| kinetic64(&m, v), &v, &gv.cast(), 1e-5, 1e-4).unwrap();
    let (dm, dv) = (m3(32).cast::<f32>(), v3(33).cast::<f32>());
    let (_, t) = kinetic32_jvp(&m32, &v32, &dm, &dv);
    close(
        f64::from(t),
        Tangent::dot(&gm, &dm) + Tangent::dot(&gv, &dv),
        1e-5,
    );

    let (w32, x32): (DMatrix<f32>, DVector<f32>) = (dmat(3, 4, 34).cast(), dvec(4, 35).cast());
    let (w, x) = (w32.clone().cast::<f64>(), x32.clone().cast::<f64>());
    let (_, (gw, gx)) = dynamic32_grad(&w32, &x32);
    gradcheck(|w: &_| dynamic64(w, &x), &w, &gw.cast(), 1e-5, 1e-4).unwrap();
    gradcheck(|x: &_| dynamic64(&w, x), &x, &gx.cast(), 1e-5, 1e-4).unwrap();
}

// ---- kinks, loops, branches, parameters structs ----------------------------------------------

#[differentiable]
fn norm_only(v: &Vector3<f64>) -> f64 {
    v.norm()
}

#[test]
fn norm_gradient_at_zero_is_zero() {
    // PyTorch's convention: a subgradient, 0, rather than 0/0.
    let z = Vector3::zeros();
    let (val, g) = norm_only_grad(&z);
    assert_eq!((val, g), (0.0, Vector3::zeros()));
    assert_eq!(norm_only_jvp(&z, &v3(1)), (0.0, 0.0));
    // Elsewhere: d|v|/dv = v/|v|.
    let v = Vector3::new(3.0, 0.0, 4.0);
    assert_eq!(norm_only_grad(&v), (5.0, Vector3::new(0.6, 0.0, 0.8)));
}

#[differentiable]
fn power_iteration(m: &Matrix3<f64>, v0: &Vector3<f64>) -> f64 {
    // A matrix-valued parameter and a vector carried through a loop and a branch.
    let mut v = *v0;
    let mut acc = Vector3::zeros();
    for _ in 0..4 {
        let w = m * v;
        v = w / w.norm();
        if v.x < 0.0 {
            v = -v;
        }
        acc += v * 0.5;
    }
    v.dot(&(m * v)) + acc.sum()
}

#[test]
fn loops_and_branches_carry_nalgebra_values() {
    // A symmetric matrix, so that the Rayleigh quotient is smooth in it.
    let a = m3(40);
    let m = a + a.transpose();
    check2!(
        power_iteration,
        power_iteration_grad,
        power_iteration_jvp,
        m,
        v3(41)
    );
}

#[derive(Differentiable, Clone, Debug)]
struct Pose {
    rotation: Matrix3<f64>,
    translation: Vector3<f64>,
}

impl Pose {
    /// Sum of squared distances from the transformed points to their targets.
    #[differentiable(wrt(self))]
    fn fit(&self, points: &[Vector3<f64>], targets: &[Vector3<f64>]) -> f64 {
        let mut loss = 0.0;
        for k in 0..points.len() {
            let r = self.rotation * points[k] + self.translation - targets[k];
            loss += r.norm_squared();
        }
        loss
    }
}

#[test]
fn struct_with_nalgebra_fields_is_a_parameter() {
    let pose = Pose {
        rotation: m3(50),
        translation: v3(51),
    };
    let points: Vec<_> = (0..4).map(|k| v3(52 + k)).collect();
    let targets: Vec<_> = (0..4).map(|k| v3(60 + k)).collect();
    let (val, g) = pose.fit_grad(&points, &targets);
    close(val, pose.fit(&points, &targets), 1e-14);
    // d/dt Σ|R p + t - q|² = 2 Σ (R p + t - q).
    let expected: Vector3<f64> = (0..4)
        .map(|k| 2.0 * (pose.rotation * points[k] + pose.translation - targets[k]))
        .sum();
    assert!((g.translation - expected).norm() < 1e-12);
    gradcheck(|p: &Pose| p.fit(&points, &targets), &pose, &g, 1e-7, 1e-6).unwrap();
}

// ---- robot kinematics ------------------------------------------------------------------------
//
// A constructor such as `Matrix3::new(c, -s, ...)` with differentiated entries has no rule;
// a small function with a hand-written `_vjp` and `_jvp` beside it (the custom-derivative
// extension point) builds the value instead.

/// The rotation by `t` about z.
fn rot_z(t: f64) -> Matrix3<f64> {
    let (s, c) = t.sin_cos();
    Matrix3::new(c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0)
}

/// `d rot_z / dt`.
fn d_rot_z(t: f64) -> Matrix3<f64> {
    let (s, c) = t.sin_cos();
    Matrix3::new(-s, -c, 0.0, c, -s, 0.0, 0.0, 0.0, 0.0)
}

fn rot_z_vjp(t: f64) -> (Matrix3<f64>, impl FnOnce(Matrix3<f64>) -> f64) {
    // dt = <dR, dR/dt>.
    (rot_z(t), move |d: Matrix3<f64>| d.dot(&d_rot_z(t)))
}

fn rot_z_jvp(t: f64, dt: f64) -> (Matrix3<f64>, Matrix3<f64>) {
    (rot_z(t), d_rot_z(t) * dt)
}

/// The rotation by `t` about y.
fn rot_y(t: f64) -> Matrix3<f64> {
    let (s, c) = t.sin_cos();
    Matrix3::new(c, 0.0, s, 0.0, 1.0, 0.0, -s, 0.0, c)
}

/// `d rot_y / dt`.
fn d_rot_y(t: f64) -> Matrix3<f64> {
    let (s, c) = t.sin_cos();
    Matrix3::new(-s, 0.0, c, 0.0, 0.0, 0.0, -c, 0.0, -s)
}

fn rot_y_vjp(t: f64) -> (Matrix3<f64>, impl FnOnce(Matrix3<f64>) -> f64) {
    (rot_y(t), move |d: Matrix3<f64>| d.dot(&d_rot_y(t)))
}

fn rot_y_jvp(t: f64, dt: f64) -> (Matrix3<f64>, Matrix3<f64>) {
    (rot_y(t), d_rot_y(t) * dt)
}

/// The tip of a 3-joint arm: a base turning about z (`q[0]`), a shoulder and an elbow
/// pitching about y (`q[1]`, `q[2]`), and links of lengths `links` along each frame's x.
#[differentiable(wrt(q))]
fn tip(q: &Vector3<f64>, links: &Vector3<f64>) -> Vector3<f64> {
    let x = Vector3::x();
    let shoulder = rot_z(q[0]) * rot_y(q[1]);
    let elbow = shoulder * rot_y(q[2]);
    x * links.x + shoulder * x * links.y + elbow * x * links.z
}

/// Squared distance from the arm's tip to a target: the inverse-kinematics objective.
#[differentiable(wrt(q))]
fn reach(q: &Vector3<f64>, links: &Vector3<f64>, target: &Vector3<f64>) -> f64 {
    (tip(q, links) - target).norm_squared()
}

/// The unit vector at angle `a` in the plane.
fn dir(a: f64) -> Vector2<f64> {
    Vector2::new(a.cos(), a.sin())
}

fn dir_vjp(a: f64) -> (Vector2<f64>, impl FnOnce(Vector2<f64>) -> f64) {
    (dir(a), move |d: Vector2<f64>| {
        -d.x * a.sin() + d.y * a.cos()
    })
}

fn dir_jvp(a: f64, da: f64) -> (Vector2<f64>, Vector2<f64>) {
    (dir(a), Vector2::new(-a.sin(), a.cos()) * da)
}

/// The tip of a planar 3-link arm with relative joint angles `q`.
#[differentiable(wrt(q))]
fn planar_tip(q: &Vector3<f64>, links: &Vector3<f64>) -> Vector2<f64> {
    let a1 = q[0];
    let a2 = a1 + q[1];
    let a3 = a2 + q[2];
    dir(a1) * links[0] + dir(a2) * links[1] + dir(a3) * links[2]
}

#[test]
fn arm_tip_jacobian_forward_and_reverse_agree_with_finite_differences() {
    let links = Vector3::new(0.3, 1.0, 0.7);
    let q = Vector3::new(0.4, -0.6, 1.1);
    let (p, pb) = tip_vjp(&q, &links);
    assert_eq!(p, tip(&q, &links));
    for k in 0..3 {
        // Row k of the Jacobian, by reverse mode, against finite differences of p[k].
        let w = Vector3::ith(k, 1.0);
        let (_, pb) = tip_vjp(&q, &links);
        let (row, NoTangent) = pb(w);
        gradcheck(|q: &Vector3<f64>| tip(q, &links)[k], &q, &row, 1e-7, 1e-6).unwrap();
    }
    // <jvp(v), w> = <v, vjp(w)> for a direction v and a cotangent w.
    let (v, w) = (v3(70), v3(71));
    let (_, jv) = tip_jvp(&q, &links, &v, NoTangent);
    let (vjp_w, _) = pb(w);
    close(Tangent::dot(&jv, &w), Tangent::dot(&v, &vjp_w), 1e-12);

    let (p, pb) = planar_tip_vjp(&q, &links);
    // At q, the planar tip's x is Σ l_k cos(a_k) with a = (0.4, -0.2, 0.9).
    let expected = 0.3 * 0.4f64.cos() + 1.0 * (-0.2f64).cos() + 0.7 * 0.9f64.cos();
    close(p.x, expected, 1e-15);
    let w2 = Vector2::new(0.3, -0.8);
    let (_, jv) = planar_tip_jvp(&q, &links, &v, NoTangent);
    let (vjp_w, _) = pb(w2);
    close(Tangent::dot(&jv, &w2), Tangent::dot(&v, &vjp_w), 1e-12);
    gradcheck(
        |q: &Vector3<f64>| planar_tip(q, &links).dot(&w2),
        &q,
        &vjp_w,
        1e-7,
        1e-6,
    )
    .unwrap();
}

#[test]
fn inverse_kinematics_by_gradient_descent_reaches_the_target() {
    let links = Vector3::new(0.3, 1.0, 0.7);
    // A reachable target: the tip at some other configuration.
    let target = tip(&Vector3::new(-0.5, 0.3, 0.8), &links);
    let mut q = Vector3::new(0.1, 0.1, 0.1);
    let (start, g) = reach_grad(&q, &links, &target);
    gradcheck(|q: &_| reach(q, &links, &target), &q, &g, 1e-7, 1e-6).unwrap();
    // Forward mode through `tip_jvp`, whose `links` slot is `NoTangent`.
    let v = v3(72);
    let (_, t) = reach_jvp(&q, &links, &target, &v, NoTangent, NoTangent);
    close(t, Tangent::dot(&g, &v), 1e-12);
    let mut opt = grad::optim::Adam::new(0.05);
    for _ in 0..500 {
        let (_, g) = reach_grad(&q, &links, &target);
        opt.step(&mut q, &g);
    }
    let end = reach(&q, &links, &target);
    assert!(start > 0.1 && end < 1e-8, "from {start} to {end}");
}
