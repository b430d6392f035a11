//! Full Jacobians from `_jvp` columns or `_vjp` rows: the runtime half of
//! `#[differentiable(jacobian)]`'s `f_jacobian`.
//!
//! A Jacobian's rows are the result's components and its columns the input's, each in the
//! flat order in which [`Tangent::visit`] visits a tangent (a `Tensor`'s row-major order).
//! `f_jacobian` builds it column by column with the forward mode when the input has fewer
//! components than the result, and row by row with the reverse mode otherwise, so it costs
//! `min(inputs, outputs)` directional derivatives.
//!
//! `#[differentiable(jacobian)]` passes the function's own `_jvp` and `_vjp`; by hand:
//!
//! ```
//! use grad_runtime::jacobian::jacobian;
//! use nalgebra::{SMatrix, Vector2, Vector3};
//!
//! // (r, t) ↦ (r cos t, r sin t, r²) at (2, 0), with its forward and reverse derivatives.
//! let p = Vector2::new(2.0f64, 0.0);
//! let f = |p: &Vector2<f64>| Vector3::new(p.x * p.y.cos(), p.x * p.y.sin(), p.x * p.x);
//! let (c, s) = (p.y.cos(), p.y.sin());
//! let jvp = |d: Vector2<f64>| {
//!     let dv = Vector3::new(
//!         d.x * c - p.x * s * d.y,
//!         d.x * s + p.x * c * d.y,
//!         2.0 * p.x * d.x,
//!     );
//!     (f(&p), dv)
//! };
//! let vjp = || {
//!     let pullback = move |w: Vector3<f64>| {
//!         Vector2::new(w.x * c + w.y * s + 2.0 * p.x * w.z, p.x * (w.y * c - w.x * s))
//!     };
//!     (f(&p), pullback)
//! };
//! // Two inputs, three outputs, both fixed by the types: two `jvp` columns, an `SMatrix`.
//! let (value, j): (Vector3<f64>, SMatrix<f64, 3, 2>) = jacobian(&p, jvp, vjp);
//! assert_eq!(value, Vector3::new(2.0, 0.0, 4.0));
//! // d(r cos t, r sin t, r²)/d(r, t) at (2, 0) = [[1, 0], [0, 2], [4, 0]]
//! assert_eq!(j, SMatrix::<f64, 3, 2>::new(1.0, 0.0, 0.0, 2.0, 4.0, 0.0));
//! ```

use crate::differentiable::{Differentiable, Flat, FlatMut, Tangent};
use crate::real::Real;
use crate::tensor::Tensor;
use nalgebra::{Const, DMatrix, DVector, Dyn, SMatrix, SVector, Scalar};

/// A value that can be a Jacobian's input or result: a vector of floats, whose size is
/// known from its type where the type fixes it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a vector that `#[differentiable(jacobian)]` can take or return",
    note = "a Jacobian's input and result are slices, `Vec`s, arrays, `Tensor`s or nalgebra column vectors of `f32` or `f64` (or one `f32`/`f64` input)"
)]
pub trait JacobianVector: Differentiable {
    /// The element type; a Jacobian has its result's.
    type Elem: Real + Scalar;
    /// `Const<N>` for a fixed-size nalgebra vector, `Dyn` for everything else: the
    /// Jacobian is an `SMatrix` only when both sides are `Const`.
    type Dim;
    /// The number of components where the type fixes it.
    const LEN: Option<usize>;
}

impl<T: Real> JacobianVector for [T] {
    type Elem = T;
    type Dim = Dyn;
    const LEN: Option<usize> = None;
}

impl<T: Real> JacobianVector for Vec<T> {
    type Elem = T;
    type Dim = Dyn;
    const LEN: Option<usize> = None;
}

impl<T: Real, const N: usize> JacobianVector for [T; N] {
    type Elem = T;
    type Dim = Dyn;
    const LEN: Option<usize> = Some(N);
}

impl<T: Real> JacobianVector for Tensor<T> {
    type Elem = T;
    type Dim = Dyn;
    const LEN: Option<usize> = None;
}

impl<T: Real, const N: usize> JacobianVector for SVector<T, N> {
    type Elem = T;
    type Dim = Const<N>;
    const LEN: Option<usize> = Some(N);
}

impl<T: Real> JacobianVector for DVector<T> {
    type Elem = T;
    type Dim = Dyn;
    const LEN: Option<usize> = None;
}

macro_rules! scalar_input {
    ($($t:ty)*) => {$(
        /// One input: the Jacobian is a single column.
        impl JacobianVector for $t {
            type Elem = $t;
            type Dim = Dyn;
            const LEN: Option<usize> = Some(1);
        }
    )*};
}
scalar_input!(f32 f64);

/// The Jacobian's matrix type for a result of dimension `Self` and an input of dimension
/// `C`: `SMatrix<T, M, N>` for `Const<M>` and `Const<N>`, `DMatrix<T>` otherwise.
pub trait JacobianMatrix<C> {
    /// The matrix of elements `T`.
    type Matrix<T: Scalar>;
    /// The matrix of `m` rows and `n` columns from its entries in column-major order.
    fn from_column_major<T: Scalar>(m: usize, n: usize, entries: Vec<T>) -> Self::Matrix<T>;
}

impl<const M: usize, const N: usize> JacobianMatrix<Const<N>> for Const<M> {
    type Matrix<T: Scalar> = SMatrix<T, M, N>;
    fn from_column_major<T: Scalar>(m: usize, n: usize, entries: Vec<T>) -> SMatrix<T, M, N> {
        assert_eq!(
            (m, n),
            (M, N),
            "jacobian: a {m}x{n} Jacobian of a {M}-vector with respect to an {N}-vector"
        );
        SMatrix::from_column_slice(&entries)
    }
}

macro_rules! dynamic_jacobian {
    ($([$($g:tt)*] $r:ty, $c:ty;)*) => {$(
        impl<$($g)*> JacobianMatrix<$c> for $r {
            type Matrix<T: Scalar> = DMatrix<T>;
            fn from_column_major<T: Scalar>(m: usize, n: usize, entries: Vec<T>) -> DMatrix<T> {
                DMatrix::from_vec(m, n, entries)
            }
        }
    )*};
}
dynamic_jacobian! {
    [const M: usize] Const<M>, Dyn;
    [const N: usize] Dyn, Const<N>;
    [] Dyn, Dyn;
}

/// The Jacobian of a function from `X` to `R` (`f_jacobian`'s second result):
/// `SMatrix<T, M, N>` when both are fixed-size nalgebra vectors, `DMatrix<T>` otherwise,
/// with `T` the result's element type.
pub type Jacobian<X, R> = <<R as JacobianVector>::Dim as JacobianMatrix<
    <X as JacobianVector>::Dim,
>>::Matrix<<R as JacobianVector>::Elem>;

/// The number of components of a tangent.
fn flat_len<V: Tangent>(t: &V) -> usize {
    let mut n = 0;
    t.visit(&mut |run| {
        n += match run {
            Flat::F32(s) => s.len(),
            Flat::F64(s) => s.len(),
        }
    });
    n
}

/// `zero` with its component `k` set to one: the `k`-th basis tangent.
fn basis<V: Tangent>(zero: &V, k: usize) -> V {
    let mut e = zero.clone();
    let mut at = 0;
    e.visit_mut(&mut |run| {
        let len = match &run {
            FlatMut::F32(s) => s.len(),
            FlatMut::F64(s) => s.len(),
        };
        if (at..at + len).contains(&k) {
            match run {
                FlatMut::F32(s) => s[k - at] = 1.0,
                FlatMut::F64(s) => s[k - at] = 1.0,
            }
        }
        at += len;
    });
    e
}

/// Calls `put(k, component)` on each component of `t`, in flat order.
fn each<V: Tangent, T: Real>(t: &V, mut put: impl FnMut(usize, T)) {
    let mut k = 0;
    t.visit(&mut |run| match run {
        Flat::F32(s) => s.iter().for_each(|&v| {
            put(k, T::from_f64(f64::from(v)));
            k += 1;
        }),
        Flat::F64(s) => s.iter().for_each(|&v| {
            put(k, T::from_f64(v));
            k += 1;
        }),
    });
}

/// The Jacobian at `x`, one `jvp(e_j)` per input component `j` (its column): the forward
/// mode, for fewer inputs than outputs. `jvp` returns the value and the result's tangent.
pub fn jacobian_by_columns<X, R, F>(x: &X, jvp: F) -> (R, Jacobian<X, R>)
where
    X: JacobianVector + ?Sized,
    R: JacobianVector,
    R::Dim: JacobianMatrix<X::Dim>,
    F: FnMut(X::Tangent) -> (R, R::Tangent),
{
    columns::<X, R, F>(&x.zero_tangent(), jvp)
}

/// The columns, from `x`'s zero tangent.
fn columns<X, R, F>(zero: &X::Tangent, mut jvp: F) -> (R, Jacobian<X, R>)
where
    X: JacobianVector + ?Sized,
    R: JacobianVector,
    R::Dim: JacobianMatrix<X::Dim>,
    F: FnMut(X::Tangent) -> (R, R::Tangent),
{
    let n = flat_len(zero);
    if n == 0 {
        // No column to compute; one call for the value and the number of rows.
        let (value, dv) = jvp(zero.clone());
        let m = flat_len(&dv);
        return (value, R::Dim::from_column_major(m, 0, Vec::new()));
    }
    let mut entries: Vec<R::Elem> = Vec::new();
    let mut last = None;
    let mut m = 0;
    for j in 0..n {
        let (value, dv) = jvp(basis(zero, j));
        if j == 0 {
            m = flat_len(&dv);
            entries.reserve(m * n);
        }
        each(&dv, |_, v| entries.push(v));
        assert_eq!(
            entries.len(),
            m * (j + 1),
            "jacobian: the result changed its length between columns"
        );
        last = Some(value);
    }
    let value = last.expect("jacobian: at least one column");
    (value, R::Dim::from_column_major(m, n, entries))
}

/// The Jacobian at `x`, one pullback call per result component `i` (its row): the reverse
/// mode, for at least as many inputs as outputs. `vjp` runs the function's forward pass and
/// returns the value and a pullback from the result's cotangent to `x`'s. A pullback runs
/// once (it is `FnOnce`), so every row after the first runs `vjp` again;
/// [`jacobian_by_reused_rows`] runs the forward pass once where the pullback is `Clone`.
pub fn jacobian_by_rows<X, R, P, F>(x: &X, mut vjp: F) -> (R, Jacobian<X, R>)
where
    X: JacobianVector + ?Sized,
    R: JacobianVector,
    R::Dim: JacobianMatrix<X::Dim>,
    F: FnMut() -> (R, P),
    P: FnOnce(R::Tangent) -> X::Tangent,
{
    let zero = x.zero_tangent();
    let (value, pullback) = vjp();
    let mut first = Some(pullback);
    rows::<X, R>(&zero, value, |seed| match first.take() {
        Some(pullback) => pullback(seed),
        None => vjp().1(seed),
    })
}

/// The rows, from `x`'s zero tangent, the value, and `row`, which maps a basis cotangent of
/// the result to its row.
fn rows<X, R>(
    zero: &X::Tangent,
    value: R,
    mut row: impl FnMut(R::Tangent) -> X::Tangent,
) -> (R, Jacobian<X, R>)
where
    X: JacobianVector + ?Sized,
    R: JacobianVector,
    R::Dim: JacobianMatrix<X::Dim>,
{
    let n = flat_len(zero);
    let seed_zero = value.zero_tangent();
    let m = flat_len(&seed_zero);
    let mut entries = vec![<R::Elem as Real>::ZERO; m * n];
    for i in 0..m {
        let row = row(basis(&seed_zero, i));
        let mut len = 0;
        each(&row, |j, v| {
            assert!(j < n, "jacobian: a cotangent longer than the input");
            entries[j * m + i] = v;
            len += 1;
        });
        assert_eq!(len, n, "jacobian: a cotangent shorter than the input");
    }
    (value, R::Dim::from_column_major(m, n, entries))
}

/// The rows from one forward pass: `forward` returns the value, a pullback and, where the
/// pullback can be cloned, how; then each row runs a clone of it. Where it cannot, the first
/// row runs it and every other row runs `vjp` again.
fn reused_rows<X, R, P, Q, F>(
    zero: &X::Tangent,
    forward: impl FnOnce() -> (R, P, Option<fn(&P) -> P>),
    mut vjp: F,
) -> (R, Jacobian<X, R>)
where
    X: JacobianVector + ?Sized,
    R: JacobianVector,
    R::Dim: JacobianMatrix<X::Dim>,
    P: FnOnce(R::Tangent) -> X::Tangent,
    F: FnMut() -> (R, Q),
    Q: FnOnce(R::Tangent) -> X::Tangent,
{
    let (value, pullback, cloner) = forward();
    match cloner {
        Some(clone) => rows::<X, R>(zero, value, |seed| clone(&pullback)(seed)),
        None => {
            let mut first = Some(pullback);
            rows::<X, R>(zero, value, |seed| match first.take() {
                Some(pullback) => pullback(seed),
                None => vjp().1(seed),
            })
        }
    }
}

/// [`jacobian_by_rows`] from one forward pass, `forward`, whose pullback is cloned for
/// each row (a pullback that holds only data is `Clone`). `zero` is the input's zero
/// tangent.
pub fn jacobian_by_reused_rows<X, R, P>(
    zero: X::Tangent,
    forward: impl FnOnce() -> (R, P),
) -> (R, Jacobian<X, R>)
where
    X: JacobianVector + ?Sized,
    R: JacobianVector,
    R::Dim: JacobianMatrix<X::Dim>,
    P: FnOnce(R::Tangent) -> X::Tangent + Clone,
{
    reused_rows::<X, R, P, P, _>(&zero, cloning(forward), no_rerun)
}

/// `forward`, with the pullback's `clone`.
#[allow(clippy::type_complexity)]
fn cloning<R, P: Clone>(
    forward: impl FnOnce() -> (R, P),
) -> impl FnOnce() -> (R, P, Option<fn(&P) -> P>) {
    || {
        let (value, pullback) = forward();
        (value, pullback, Some(P::clone))
    }
}

/// The second forward pass that a cloned pullback makes needless.
fn no_rerun<R, P>() -> (R, P) {
    unreachable!("jacobian: a cloned pullback serves every row")
}

/// Whether to build from columns, where the types fix both sizes: a constant of the
/// instantiation.
const fn fixed_choice(n: Option<usize>, m: Option<usize>) -> Option<bool> {
    match (n, m) {
        (Some(n), Some(m)) => Some(n < m),
        _ => None,
    }
}

/// The Jacobian at `x` with whichever mode needs fewer calls: `jvp` columns for fewer
/// inputs than outputs, `vjp` rows otherwise. Where both sizes are fixed by the types the
/// choice is a constant of the instantiation; otherwise it is made at run time, and where
/// the result's length is known only by running the function, the first `vjp` call's
/// forward pass tells it (the rows use that pass; the columns do not, at the cost of one
/// forward pass).
pub fn jacobian<X, R, P, F, G>(x: &X, jvp: G, vjp: F) -> (R, Jacobian<X, R>)
where
    X: JacobianVector + ?Sized,
    R: JacobianVector,
    R::Dim: JacobianMatrix<X::Dim>,
    G: FnMut(X::Tangent) -> (R, R::Tangent),
    F: FnMut() -> (R, P),
    P: FnOnce(R::Tangent) -> X::Tangent,
{
    // The first forward pass and the later ones are the same `vjp`.
    let vjp = core::cell::RefCell::new(vjp);
    reusing::<X, R, P, P, _, G>(
        x.zero_tangent(),
        jvp,
        || {
            let (value, pullback) = (vjp.borrow_mut())();
            (value, pullback, None)
        },
        || (vjp.borrow_mut())(),
    )
}

/// [`jacobian`] with rows from one forward pass, `forward`, whose pullback is cloned for
/// each row (a pullback that holds only data is `Clone`). `zero` is the input's zero
/// tangent.
pub fn jacobian_reusing<X, R, P, G>(
    zero: X::Tangent,
    jvp: G,
    forward: impl FnOnce() -> (R, P),
) -> (R, Jacobian<X, R>)
where
    X: JacobianVector + ?Sized,
    R: JacobianVector,
    R::Dim: JacobianMatrix<X::Dim>,
    G: FnMut(X::Tangent) -> (R, R::Tangent),
    P: FnOnce(R::Tangent) -> X::Tangent + Clone,
{
    reusing::<X, R, P, P, _, G>(zero, jvp, cloning(forward), no_rerun)
}

/// The columns or the rows, whichever are fewer; the rows from `forward`'s pass, cloning its
/// pullback where `forward` says how, else calling `vjp` for each row after the first.
fn reusing<X, R, P, Q, F, G>(
    zero: X::Tangent,
    jvp: G,
    forward: impl FnOnce() -> (R, P, Option<fn(&P) -> P>),
    vjp: F,
) -> (R, Jacobian<X, R>)
where
    X: JacobianVector + ?Sized,
    R: JacobianVector,
    R::Dim: JacobianMatrix<X::Dim>,
    G: FnMut(X::Tangent) -> (R, R::Tangent),
    P: FnOnce(R::Tangent) -> X::Tangent,
    F: FnMut() -> (R, Q),
    Q: FnOnce(R::Tangent) -> X::Tangent,
{
    let n = flat_len(&zero);
    let by_columns = match const { fixed_choice(X::LEN, R::LEN) } {
        Some(by_columns) => by_columns,
        None => match R::LEN {
            Some(m) => n < m,
            None => {
                // Only running the function tells the result's length: the forward pass
                // that the rows would use tells it.
                let (value, pullback, cloner) = forward();
                if n < flat_len(&value.zero_tangent()) {
                    return columns::<X, R, G>(&zero, jvp);
                }
                return reused_rows::<X, R, P, Q, F>(&zero, || (value, pullback, cloner), vjp);
            }
        },
    };
    if by_columns {
        columns::<X, R, G>(&zero, jvp)
    } else {
        reused_rows::<X, R, P, Q, F>(&zero, forward, vjp)
    }
}
