//! `#[differentiable(jacobian)]`'s `f_jacobian` against central finite differences in f64,
//! on slice, array, `Vec`, tensor and nalgebra (fixed and dynamic) forms, wide (more inputs
//! than outputs, built from `_vjp` rows) and tall (fewer, from `_jvp` columns); its matrix
//! types (`SMatrix` only for fixed-size nalgebra vectors on both sides); the `forward` and
//! `reverse` variants; bodies that call other functions (whose rows rerun `_vjp`) and bodies
//! that do not (whose rows clone one forward pass's pullback); and the runtime's choice of
//! mode, by counting the calls it makes.

mod common;

use common::Rng;
use grad::jacobian::{jacobian, jacobian_by_columns, jacobian_by_rows, jacobian_reusing};
use grad::nalgebra::{DMatrix, DVector, SMatrix, Vector2, Vector3, Vector4};
use grad::{Differentiable, Tensor, differentiable};
use std::cell::Cell;

// ---- helpers -------------------------------------------------------------------------------

/// The central-difference Jacobian of `f` at `x`: `m` rows, one column per input.
fn fd_jacobian(f: impl Fn(&[f64]) -> Vec<f64>, x: &[f64]) -> DMatrix<f64> {
    let m = f(x).len();
    let mut j = DMatrix::zeros(m, x.len());
    for k in 0..x.len() {
        let h = 1e-6 * x[k].abs().max(1.0);
        let (mut up, mut down) = (x.to_vec(), x.to_vec());
        up[k] += h;
        down[k] -= h;
        let (fu, fd) = (f(&up), f(&down));
        for i in 0..m {
            j[(i, k)] = (fu[i] - fd[i]) / (2.0 * h);
        }
    }
    j
}

/// Asserts `got` (any nalgebra matrix) has `want`'s shape and entries to 1e-6 relative.
#[track_caller]
fn close<R: grad::nalgebra::Dim, C: grad::nalgebra::Dim, S>(
    got: &grad::nalgebra::Matrix<f64, R, C, S>,
    want: &DMatrix<f64>,
) where
    S: grad::nalgebra::RawStorage<f64, R, C>,
{
    assert_eq!(got.shape(), want.shape(), "Jacobian shape");
    for i in 0..want.nrows() {
        for k in 0..want.ncols() {
            let (g, w) = (got[(i, k)], want[(i, k)]);
            let scale = g.abs().max(w.abs()).max(1.0);
            assert!(
                (g - w).abs() <= 1e-6 * scale,
                "entry ({i}, {k}): got {g}, want {w}\ngot {got}want {want}"
            );
        }
    }
}

// ---- slices and Vecs -----------------------------------------------------------------------

/// Wide: five inputs, two outputs (a weighted sum of sines, and a product chain).
#[differentiable(jacobian)]
fn wide_slice(x: &[f64]) -> Vec<f64> {
    let mut s = 0.0;
    let mut p = 1.0;
    for i in 0..x.len() {
        s += (i as f64 + 1.0) * x[i].sin();
        p *= 1.0 + 0.5 * x[i];
    }
    vec![s, p]
}

/// Tall: two inputs, four outputs.
#[differentiable(jacobian)]
fn tall_slice(x: &[f64]) -> Vec<f64> {
    let a = x[0];
    let b = x[1];
    vec![a * b, a.exp() - b, (a - b).powi(3), b.tanh() * a]
}

#[test]
fn slices_wide_and_tall() {
    let mut rng = Rng::new(1);
    let x = rng.vec(5, -1.0, 1.0);
    let (v, j) = wide_slice_jacobian(&x);
    assert_eq!(v, wide_slice(&x));
    let j: DMatrix<f64> = j;
    close(&j, &fd_jacobian(wide_slice, &x));

    let x = rng.vec(2, -1.0, 1.0);
    let (v, j) = tall_slice_jacobian(&x);
    assert_eq!(v, tall_slice(&x));
    close(&j, &fd_jacobian(tall_slice, &x));
}

/// A `Vec` by value, differentiated with respect to it alone beside data (`c`, `n`): the
/// data are passed to every column's call.
#[differentiable(wrt(x), jacobian)]
fn vec_with_data(x: Vec<f64>, c: Vec<f64>, n: usize) -> Vec<f64> {
    let mut out = Vec::new();
    for i in 0..n {
        let k = i % x.len();
        out.push(c[i] * x[k] * x[k] + x[(k + 1) % x.len()]);
    }
    out
}

#[test]
fn vec_by_value_with_data_parameters() {
    let mut rng = Rng::new(2);
    let c = rng.vec(7, 0.5, 2.0);
    // Tall (3 inputs, 7 outputs) and wide (3 inputs, 2 outputs).
    for n in [7, 2] {
        let x = rng.vec(3, -1.0, 1.0);
        let (v, j) = vec_with_data_jacobian(x.clone(), c.clone(), n);
        assert_eq!(v, vec_with_data(x.clone(), c.clone(), n));
        close(
            &j,
            &fd_jacobian(|x| vec_with_data(x.to_vec(), c.clone(), n), &x),
        );
    }
}

// ---- arrays --------------------------------------------------------------------------------

/// Wide, fixed by the types: the rows are chosen at compile time.
#[differentiable(jacobian)]
fn wide_array(x: [f64; 4]) -> [f64; 2] {
    [x[0] * x[1] + x[2].cos(), x[3] / (1.0 + x[0] * x[0])]
}

/// Tall, by reference: the columns are chosen at compile time.
#[differentiable(jacobian)]
fn tall_array(x: &[f64; 2]) -> [f64; 3] {
    [x[0].sin(), x[0] * x[1], x[1].sqrt()]
}

#[test]
fn arrays_wide_and_tall() {
    let x = [0.3, -0.7, 1.1, 0.4];
    let (v, j) = wide_array_jacobian(x);
    assert_eq!(v, wide_array(x));
    // Arrays are not nalgebra vectors: the Jacobian is a `DMatrix`.
    let j: DMatrix<f64> = j;
    close(
        &j,
        &fd_jacobian(|x| wide_array(x.try_into().unwrap()).to_vec(), &x),
    );

    let x = [0.6, 1.3];
    let (v, j) = tall_array_jacobian(&x);
    assert_eq!(v, tall_array(&x));
    close(
        &j,
        &fd_jacobian(|x| tall_array(&x.try_into().unwrap()).to_vec(), &x),
    );
    // d(sin a, ab, sqrt b)/d(a, b) = [[cos a, 0], [b, a], [0, 1/(2 sqrt b)]]
    assert_eq!(j[(0, 1)], 0.0);
    assert_eq!(j[(1, 0)], 1.3);
    assert_eq!(j[(1, 1)], 0.6);
}

// ---- tensors -------------------------------------------------------------------------------

/// `tanh(W x)` with respect to `x`: wide where `W` has fewer rows than columns, tall
/// otherwise, which only the run time knows.
#[differentiable(wrt(x), jacobian)]
fn layer(w: &Tensor<f64>, x: &Tensor<f64>) -> Tensor<f64> {
    w.matmul(x).tanh()
}

/// A 2-d input: the columns are its elements in row-major order.
#[differentiable(jacobian)]
fn row_sums(x: &Tensor<f64>) -> Tensor<f64> {
    (x * x).sum_axis(1)
}

#[test]
fn tensors_wide_and_tall() {
    for (rows, cols, seed) in [(2, 5, 3), (6, 3, 4)] {
        let w = Tensor::<f64>::randn(&[rows, cols], seed);
        let x = Tensor::<f64>::randn(&[cols], seed + 10);
        let (v, j) = layer_jacobian(&w, &x);
        assert_eq!(v.to_vec(), layer(&w, &x).to_vec());
        let j: DMatrix<f64> = j;
        let f = |x: &[f64]| layer(&w, &Tensor::from(x.to_vec())).to_vec();
        close(&j, &fd_jacobian(f, x.as_slice()));
    }

    let x = Tensor::<f64>::randn(&[2, 3], 5);
    let (_, j) = row_sums_jacobian(&x);
    let f = |x: &[f64]| row_sums(&Tensor::from_vec(x.to_vec(), &[2, 3]).unwrap()).to_vec();
    close(&j, &fd_jacobian(f, x.as_slice()));
    // d(sum_k x_ik²)/dx_jk = 2 x_jk where i = j: row 0 reads the first three elements.
    assert_eq!(j[(0, 4)], 0.0);
    assert_eq!(j[(1, 4)], 2.0 * x.as_slice()[4]);
}

// ---- nalgebra ------------------------------------------------------------------------------

/// Polar coordinates lifted onto a paraboloid: tall, fixed-size on both sides.
#[differentiable(jacobian)]
fn lift(p: Vector2<f64>) -> Vector3<f64> {
    Vector3::new(p.x * p.y.cos(), p.x * p.y.sin(), p.x * p.x)
}

/// Wide, fixed-size on both sides, by reference.
#[differentiable(jacobian)]
fn project(p: &Vector4<f64>) -> Vector2<f64> {
    Vector2::new(p.x / p.w, (p.y + p.z) / p.w)
}

#[test]
fn fixed_nalgebra_vectors_give_smatrix() {
    let p = Vector2::new(1.5, 0.4);
    let (v, j): (Vector3<f64>, SMatrix<f64, 3, 2>) = lift_jacobian(p);
    assert_eq!(v, lift(p));
    let f = |x: &[f64]| lift(Vector2::from_column_slice(x)).as_slice().to_vec();
    close(&j, &fd_jacobian(f, p.as_slice()));

    let p = Vector4::new(0.3, -0.2, 0.9, 1.7);
    let (v, j): (Vector2<f64>, SMatrix<f64, 2, 4>) = project_jacobian(&p);
    assert_eq!(v, project(&p));
    let f = |x: &[f64]| project(&Vector4::from_column_slice(x)).as_slice().to_vec();
    close(&j, &fd_jacobian(f, p.as_slice()));
}

/// Dynamic nalgebra vectors: `A x` squared elementwise, `A` data.
#[differentiable(wrt(x), jacobian)]
fn squared_map(a: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
    let y = a * x;
    y.component_mul(&y)
}

/// An array in, a fixed nalgebra vector out: only one side is nalgebra, so a `DMatrix`.
#[differentiable(jacobian)]
fn mixed(x: &[f64; 3]) -> Vector2<f64> {
    Vector2::new(x[0] * x[1], x[2].exp())
}

#[test]
fn dynamic_and_mixed_nalgebra() {
    let mut rng = Rng::new(6);
    for (m, n) in [(2, 5), (5, 2)] {
        let a = DMatrix::from_vec(m, n, rng.vec(m * n, -1.0, 1.0));
        let x = DVector::from_vec(rng.vec(n, -1.0, 1.0));
        let (v, j) = squared_map_jacobian(&a, &x);
        assert_eq!(v, squared_map(&a, &x));
        let j: DMatrix<f64> = j;
        let f = |x: &[f64]| {
            squared_map(&a, &DVector::from_column_slice(x))
                .as_slice()
                .to_vec()
        };
        close(&j, &fd_jacobian(f, x.as_slice()));
    }

    let x = [0.5, -1.5, 0.25];
    let (_, j): (_, DMatrix<f64>) = mixed_jacobian(&x);
    let f = |x: &[f64]| mixed(&x.try_into().unwrap()).as_slice().to_vec();
    close(&j, &fd_jacobian(f, &x));
}

// ---- modes, methods, generic floats --------------------------------------------------------

/// `forward` writes `_jvp` only: the Jacobian comes from columns even when wide.
#[differentiable(forward, jacobian)]
fn forward_only(x: &[f64]) -> Vec<f64> {
    vec![x[0] * x[1] * x[2]]
}

/// `reverse` writes `_vjp` only: the Jacobian comes from rows even when tall.
#[differentiable(reverse, jacobian)]
fn reverse_only(x: f64) -> Vec<f64> {
    vec![x, x * x, x.sin()]
}

#[test]
fn forward_and_reverse_only() {
    let x = [2.0, 3.0, 5.0];
    let (_, j) = forward_only_jacobian(&x);
    close(&j, &fd_jacobian(forward_only, &x));
    assert_eq!(j.as_slice(), [15.0, 10.0, 6.0]);

    let (_, j) = reverse_only_jacobian(0.5);
    close(&j, &fd_jacobian(|x| reverse_only(x[0]), &[0.5]));
}

struct Arm {
    lengths: Vec<f64>,
}

impl Arm {
    /// A method: `f_jacobian` calls `Self::tip_jvp` / `Self::tip_vjp`.
    #[differentiable(wrt(angles), jacobian)]
    fn tip(&self, angles: &[f64]) -> Vec<f64> {
        let mut heading = 0.0;
        let mut x = 0.0;
        let mut y = 0.0;
        for k in 0..angles.len() {
            heading += angles[k];
            x += self.lengths[k] * heading.cos();
            y += self.lengths[k] * heading.sin();
        }
        vec![x, y]
    }
}

/// A generic float: the Jacobian has the result's element type.
#[differentiable(jacobian)]
fn generic<T: grad::Real>(x: Vector3<T>) -> Vector2<T> {
    Vector2::new(x.x * x.y, x.z.sin())
}

#[test]
fn methods_and_generic_floats() {
    let arm = Arm {
        lengths: vec![1.0, 0.8, 0.6],
    };
    let q = [0.3, -0.4, 0.9];
    let (_, j) = arm.tip_jacobian(&q);
    close(&j, &fd_jacobian(|q| arm.tip(q), &q));

    let (_, j): (_, SMatrix<f32, 2, 3>) = generic_jacobian(Vector3::new(1.0f32, 2.0, 0.0));
    assert_eq!(j, SMatrix::<f32, 2, 3>::new(2.0, 1.0, 0.0, 0.0, 0.0, 1.0));
}

/// A differentiable helper: a body that calls it has a pullback that holds `square`'s, which
/// cannot be cloned, so each row of `f_jacobian` calls `_vjp` again.
#[differentiable]
fn square(x: f64) -> f64 {
    x * x
}

#[differentiable(jacobian)]
fn through_a_call(x: &[f64]) -> Vec<f64> {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += square(x[i] - 0.5);
    }
    vec![s, square(x[0]) * x[1]]
}

#[differentiable(reverse, jacobian)]
fn through_a_call_reverse(x: &[f64]) -> Vec<f64> {
    vec![square(x[0]) * x[1], x[2]]
}

#[test]
fn bodies_that_call_functions() {
    let x = [0.3, -1.2, 2.0];
    let (v, j) = through_a_call_jacobian(&x);
    assert_eq!(v, through_a_call(&x));
    close(&j, &fd_jacobian(through_a_call, &x));
    let (_, j) = through_a_call_reverse_jacobian(&x);
    close(&j, &fd_jacobian(through_a_call_reverse, &x));
}

/// A struct without `Clone`, built in the body and kept by the pullback: the pullback may
/// not be cloned, so each row calls `_vjp`.
#[derive(Differentiable)]
struct Pair {
    a: f64,
    b: f64,
}

#[differentiable(jacobian)]
fn through_a_struct(x: &[f64]) -> Vec<f64> {
    let p = Pair {
        a: x[0] * x[1],
        b: x[2].sin(),
    };
    vec![p.a * p.b, p.b]
}

#[test]
fn a_pullback_that_cannot_be_cloned() {
    let x = [0.7, -0.4, 1.1];
    let (v, j) = through_a_struct_jacobian(&x);
    assert_eq!(v, through_a_struct(&x));
    close(&j, &fd_jacobian(through_a_struct, &x));
}

// ---- the choice of mode --------------------------------------------------------------------

/// `jacobian` with a linear map `y = A x` given as counting `jvp` and `vjp` closures: the
/// numbers of calls say which mode it chose.
fn counted(a: &DMatrix<f64>, x: &[f64]) -> (DMatrix<f64>, usize, usize) {
    let (jvps, vjps) = (Cell::new(0), Cell::new(0));
    let apply = |v: &[f64]| (a * DVector::from_column_slice(v)).as_slice().to_vec();
    let (_, j): (Vec<f64>, DMatrix<f64>) = jacobian(
        x,
        |dx: Vec<f64>| {
            jvps.set(jvps.get() + 1);
            (apply(x), apply(&dx))
        },
        || {
            vjps.set(vjps.get() + 1);
            (apply(x), |ct: Vec<f64>| {
                (a.transpose() * DVector::from_vec(ct)).as_slice().to_vec()
            })
        },
    );
    (j, jvps.get(), vjps.get())
}

#[test]
fn the_cheaper_mode_is_chosen() {
    let mut rng = Rng::new(7);
    // Wide (2 outputs, 6 inputs): two forward passes, each pullback used once.
    let a = DMatrix::from_vec(2, 6, rng.vec(12, -1.0, 1.0));
    let (j, jvps, vjps) = counted(&a, &rng.vec(6, -1.0, 1.0));
    assert_eq!((jvps, vjps), (0, 2));
    assert_eq!(j, a);
    // Tall (6 outputs, 2 inputs): the result's length is known only after a first forward
    // pass (a `Vec`), which is then not used; then one jvp per column.
    let a = DMatrix::from_vec(6, 2, rng.vec(12, -1.0, 1.0));
    let (j, jvps, vjps) = counted(&a, &rng.vec(2, -1.0, 1.0));
    assert_eq!((jvps, vjps), (2, 1));
    assert_eq!(j, a);
    // Square: rows.
    let a = DMatrix::from_vec(3, 3, rng.vec(9, -1.0, 1.0));
    let (_, jvps, vjps) = counted(&a, &rng.vec(3, -1.0, 1.0));
    assert_eq!((jvps, vjps), (0, 3));
}

#[test]
fn fixed_sizes_choose_without_a_trial_pass() {
    // [f64; 2] → [f64; 3]: columns, two jvps and no vjp.
    let vjps = Cell::new(0);
    let jvps = Cell::new(0);
    let x = [1.0, 2.0];
    let f = |x: &[f64; 2]| [x[0], x[1], x[0] * x[1]];
    let (_, j): ([f64; 3], DMatrix<f64>) = jacobian(
        &x,
        |d: [f64; 2]| {
            jvps.set(jvps.get() + 1);
            (f(&x), [d[0], d[1], d[0] * x[1] + x[0] * d[1]])
        },
        || {
            vjps.set(vjps.get() + 1);
            (f(&x), |c: [f64; 3]| {
                [c[0] + c[2] * x[1], c[1] + c[2] * x[0]]
            })
        },
    );
    assert_eq!((jvps.get(), vjps.get()), (2, 0));
    assert_eq!(
        j,
        DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 0.0, 1.0, 2.0, 1.0])
    );

    // The two single-mode builders agree with it.
    let (_, by_rows): ([f64; 3], DMatrix<f64>) = jacobian_by_rows(&x, || {
        (f(&x), |c: [f64; 3]| {
            [c[0] + c[2] * x[1], c[1] + c[2] * x[0]]
        })
    });
    let (_, by_columns): ([f64; 3], DMatrix<f64>) = jacobian_by_columns(&x, |d: [f64; 2]| {
        (f(&x), [d[0], d[1], d[0] * x[1] + x[0] * d[1]])
    });
    assert_eq!(by_rows, j);
    assert_eq!(by_columns, j);
}

#[test]
fn a_clonable_pullback_serves_every_row_from_one_forward_pass() {
    // y = (x0 x1, x1 + x2): three inputs and two outputs, so rows.
    let (forwards, pullbacks) = (Cell::new(0), Cell::new(0));
    let x = [1.0, 2.0, 3.0];
    let pullbacks_ref = &pullbacks;
    let (_, j): (Vec<f64>, DMatrix<f64>) = jacobian_reusing::<Vec<f64>, _, _, _>(
        vec![0.0; 3],
        |_: Vec<f64>| unreachable!("three inputs, two outputs: rows"),
        || {
            forwards.set(forwards.get() + 1);
            let pullback = move |c: Vec<f64>| {
                pullbacks_ref.set(pullbacks_ref.get() + 1);
                vec![c[0] * x[1], c[0] * x[0] + c[1], c[1]]
            };
            (vec![x[0] * x[1], x[1] + x[2]], pullback)
        },
    );
    assert_eq!((forwards.get(), pullbacks.get()), (1, 2));
    assert_eq!(
        j,
        DMatrix::from_row_slice(2, 3, &[2.0, 1.0, 0.0, 0.0, 1.0, 1.0])
    );
}

/// An empty input: a Jacobian with no columns, and the value.
#[test]
fn empty_input() {
    let (v, j) = wide_slice_jacobian(&[]);
    assert_eq!(v, vec![0.0, 1.0]);
    assert_eq!(j.shape(), (2, 0));
}
