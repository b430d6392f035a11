//! nalgebra's owned matrices and vectors as differentiable values, and the rules of the
//! primitives they support, with nalgebra's meaning (`*` of two matrices is the matrix product).
//!
//! Every owned matrix `OMatrix<T, R, C>` (`Vector3<f64>`, `Matrix3<f32>`, `DVector<f64>`,
//! `DMatrix<f64>`, ...) is its own tangent type; its shape, for linear rules, is nalgebra's
//! `(R, C)` pair (zero-sized for fixed sizes). The operands of a binary primitive share their
//! dimension types (`Matrix3 · Vector3` and `DMatrix · DVector`, not `Matrix3 · DVector`);
//! sizes known only at run time are checked, and a mismatch panics naming the operation and
//! both shapes, as nalgebra does. The matrix product also asks `T: SimdRealField` (as nalgebra's
//! own does; `f32` and `f64` are).
//!
//! | primitive | operands | rule |
//! |---|---|---|
//! | `a + b`, `a - b` | same type | linear: `da = dy`, `db = ±dy` |
//! | `-a` | any | linear: `da = -dy` |
//! | `a * b` | matrix · matrix or vector | `dA = dY·Bᵀ`, `dB = Aᵀ·dY` |
//! | `s * a`, `a * s` | scalar and matrix | `da = s·dy`, `ds = Σ dy∘a` |
//! | `a / s` | matrix by scalar | `da = dy / s`, `ds = -Σ dy∘y / s` |
//! | `a.dot(&b)` | same type, to a scalar | `da = dy·b`, `db = dy·a` |
//! | `a.component_mul(&b)` | same type | `da = dy∘b`, `db = dy∘a` |
//! | `a.cross(&b)` | 3-vectors | `da = b × dy`, `db = dy × a` |
//! | `a.norm()` | any, to a scalar | `da = dy·a/‖a‖` (0 at `a = 0`) |
//! | `a.norm_squared()` | any, to a scalar | `da = 2 dy·a` |
//! | `a.sum()`, `a.mean()` | any, to a scalar | linear: `da = dy` (`dy / n`) everywhere |
//! | `a.transpose()` | any | linear: `da = dyᵀ` |
//!
//! Field access `v.x` and indexing `v[i]`, `m[(i, j)]` need no rule: generated code reads
//! and accumulates through nalgebra's `Deref`/`Index` and `DerefMut`/`IndexMut`.
//!
//! ```
//! use grad::differentiable;
//! use grad::nalgebra::{Matrix2, Vector2};
//!
//! #[differentiable(wrt(x))]
//! fn quadratic(a: &Matrix2<f64>, x: &Vector2<f64>) -> f64 {
//!     x.dot(&(a * x))
//! }
//!
//! // d/dx xᵀAx = (A + Aᵀ)x, in x's own type.
//! let a = Matrix2::new(1.0, 2.0, 0.0, 3.0);
//! let x = Vector2::new(1.0, -1.0);
//! let (value, g) = quadratic_grad(&a, &x);
//! // Ax = [-1, -3], so the value is 2; (A + Aᵀ)x = [[2, 2], [2, 6]]·[1, -1] = [0, -4].
//! assert_eq!(value, 2.0);
//! assert_eq!(g, Vector2::new(0.0, -4.0));
//! ```

use super::op::{
    Add, ComponentMul, Cross, Div, Dot, Mean, Mul, Neg, Norm, NormSquared, Sub, Sum, Transpose,
};
use super::support::InactiveTangent;
use super::tensor::check_shape;
use super::{Bilinear, Binary, Linear, LinearBinary, Shaped, SquareBwd, UnaryOut};
use crate::differentiable::{Differentiable, Flat, FlatMut, Tangent};
use crate::real::Real;
use ::nalgebra::allocator::Allocator;
use ::nalgebra::{DefaultAllocator, Dim, OMatrix, SimdRealField};
use core::marker::PhantomData;

/// Panics unless two matrices (or a matrix and a shape) have the same number of rows and columns.
#[track_caller]
fn check_dims(op: &str, what: &str, expected: (usize, usize), got: (usize, usize)) {
    check_shape(op, what, &[expected.0, expected.1], &[got.0, got.1]);
}

/// `(rows, cols)` of an `(R, C)` shape.
fn dims<R: Dim, C: Dim>((r, c): &(R, C)) -> (usize, usize) {
    (r.value(), c.value())
}

/// `Σ a_i b_i` over every element of two buffers of one length.
fn inner<T: Real>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).fold(T::ZERO, |s, (&a, &b)| s + a * b)
}

/// `a`'s buffer with every element replaced by `f(a_i, b_i)`.
fn zip_with<T: Real, R: Dim, C: Dim>(
    mut a: OMatrix<T, R, C>,
    b: &OMatrix<T, R, C>,
    f: impl Fn(T, T) -> T,
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    for (x, &y) in a.as_mut_slice().iter_mut().zip(b.as_slice()) {
        *x = f(*x, y);
    }
    a
}

impl<T: Real, R: Dim, C: Dim> Shaped for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// nalgebra's dimension pair: zero-sized for fixed sizes, the lengths for `Dyn`.
    type Shape = (R, C);
    fn shape_of(&self) -> (R, C) {
        self.shape_generic()
    }
}

impl<T: Real, R: Dim, C: Dim> Differentiable for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Tangent = OMatrix<T, R, C>;
    fn zero_tangent(&self) -> Self {
        let (r, c) = self.shape_generic();
        OMatrix::from_element_generic(r, c, T::ZERO)
    }
    fn move_along(&mut self, direction: &Self) {
        self.add_assign(direction.clone());
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
        f(T::flat_mut(self.as_mut_slice()));
    }
    /// Shape `[rows, columns]`, the elements copied into row-major order.
    fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], Flat<'_>)) {
        let (r, c) = self.shape();
        let rows: Vec<T> = (0..r)
            .flat_map(|i| (0..c).map(move |j| self[(i, j)]))
            .collect();
        f(name, &[r, c], T::flat(&rows));
    }
    /// Shape `[rows, columns]`, through a row-major copy written back afterwards.
    fn visit_named_mut(
        &mut self,
        name: &mut String,
        f: &mut dyn FnMut(&str, &[usize], FlatMut<'_>),
    ) {
        let (r, c) = self.shape();
        let mut rows: Vec<T> = (0..r)
            .flat_map(|i| (0..c).map(|j| self[(i, j)]).collect::<Vec<_>>())
            .collect();
        f(name, &[r, c], T::flat_mut(&mut rows));
        for (k, v) in rows.into_iter().enumerate() {
            self[(k / c, k % c)] = v;
        }
    }
}

impl<T: Real, R: Dim, C: Dim> Tangent for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    fn add_assign(&mut self, other: Self) {
        check_dims("add_assign", "added tangent", self.shape(), other.shape());
        for (a, &b) in self.as_mut_slice().iter_mut().zip(other.as_slice()) {
            *a += b;
        }
    }
    fn scale(&mut self, factor: f64) {
        let k = T::from_f64(factor);
        self.as_mut_slice().iter_mut().for_each(|a| *a *= k);
    }
    fn visit(&self, f: &mut dyn FnMut(Flat<'_>)) {
        f(T::flat(self.as_slice()));
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
        f(T::flat_mut(self.as_mut_slice()));
    }
    fn dot(&self, other: &Self) -> f64 {
        check_dims("dot", "other tangent", self.shape(), other.shape());
        self.as_slice()
            .iter()
            .zip(other.as_slice())
            .map(|(a, b)| a.to_f64() * b.to_f64())
            .sum()
    }
}

impl<T: Real, R: Dim, C: Dim> InactiveTangent<OMatrix<T, R, C>> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// A zero matrix of `a`'s shape.
    fn of(a: &OMatrix<T, R, C>) -> Self {
        a.zero_tangent()
    }
}

/// `y = a ± b` of one shape. Transposes: `da = dy`, `db = ±dy`; tangents `da`, `±db`.
macro_rules! linear_binary_matrix {
    ($($op:ident $name:literal $negate:literal;)*) => {$(
        impl<T: Real, R: Dim, C: Dim> LinearBinary<$op, OMatrix<T, R, C>> for OMatrix<T, R, C>
        where
            DefaultAllocator: Allocator<R, C>,
        {
            type Output = OMatrix<T, R, C>;
            fn fwd(_: &$op, a: &Self, b: &Self) -> Self {
                check_dims($name, "second operand", a.shape(), b.shape());
                zip_with(a.clone(), b, |x, y| if $negate { x - y } else { x + y })
            }
            fn bwd_0(_: &$op, a: &(R, C), _: &(R, C), dy: Self) -> Self {
                check_dims(concat!($name, " backward"), "cotangent", dims(a), dy.shape());
                dy
            }
            fn bwd_1(_: &$op, _: &(R, C), b: &(R, C), dy: Self) -> Self {
                check_dims(concat!($name, " backward"), "cotangent", dims(b), dy.shape());
                if $negate { negated(dy) } else { dy }
            }
            fn jvp_0(_: &$op, a: &(R, C), _: &(R, C), da: &Self) -> Self {
                check_dims(concat!($name, " tangent"), "tangent", dims(a), da.shape());
                da.clone()
            }
            fn jvp_1(_: &$op, _: &(R, C), b: &(R, C), db: &Self) -> Self {
                check_dims(concat!($name, " tangent"), "tangent", dims(b), db.shape());
                if $negate { negated(db.clone()) } else { db.clone() }
            }
        }
    )*};
}

linear_binary_matrix! {
    Add "add" false;
    Sub "sub" true;
}

/// `-x` in `x`'s buffer.
fn negated<T: Real, R: Dim, C: Dim>(mut x: OMatrix<T, R, C>) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    x.as_mut_slice().iter_mut().for_each(|v| *v = -*v);
    x
}

/// `y = -x`. Transpose: `dx = -dy` in `dy`'s buffer; tangent `-dx`.
impl<T: Real, R: Dim, C: Dim> Linear<Neg> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    fn fwd(_: &Neg, x: &Self) -> Self {
        negated(x.clone())
    }
    fn bwd(_: &Neg, x: &(R, C), dy: Self) -> Self {
        check_dims("neg backward", "cotangent", dims(x), dy.shape());
        negated(dy)
    }
    fn jvp(_: &Neg, x: &(R, C), dx: &Self) -> Self {
        check_dims("neg tangent", "tangent", dims(x), dx.shape());
        negated(dx.clone())
    }
}

/// `Y = A·B`, nalgebra's matrix product (a vector is a one-column matrix, so this is also
/// matrix · vector).
///
/// Backward: `dA = dY·Bᵀ`, `dB = Aᵀ·dY`; tangent: `dY = dA·B + A·dB`, one part per input.
impl<T, R1, C1, C2> Binary<Mul, OMatrix<T, C1, C2>> for OMatrix<T, R1, C1>
where
    T: Real + SimdRealField,
    R1: Dim,
    C1: Dim,
    C2: Dim,
    DefaultAllocator: Allocator<R1, C1> + Allocator<C1, C2> + Allocator<R1, C2> + Allocator<C2, C1>,
{
    type Output = OMatrix<T, R1, C2>;
    fn fwd(_: &Mul, a: &Self, b: &OMatrix<T, C1, C2>) -> OMatrix<T, R1, C2> {
        a * b
    }
    fn bwd_0(
        op: &Mul,
        a: &Self,
        b: &OMatrix<T, C1, C2>,
        _: &OMatrix<T, R1, C2>,
        dy: OMatrix<T, R1, C2>,
    ) -> Self {
        <Self as Bilinear<Mul, OMatrix<T, C1, C2>>>::bwd_0_by(op, &a.shape_generic(), b, dy)
    }
    fn bwd_1(
        op: &Mul,
        a: &Self,
        b: &OMatrix<T, C1, C2>,
        _: &OMatrix<T, R1, C2>,
        dy: OMatrix<T, R1, C2>,
    ) -> OMatrix<T, C1, C2> {
        <Self as Bilinear<Mul, OMatrix<T, C1, C2>>>::bwd_1_by(op, a, &b.shape_generic(), dy)
    }
    fn jvp_0(
        _: &Mul,
        a: &Self,
        b: &OMatrix<T, C1, C2>,
        _: &OMatrix<T, R1, C2>,
        da: &Self,
    ) -> OMatrix<T, R1, C2> {
        check_dims("matrix product tangent", "tangent", a.shape(), da.shape());
        da * b
    }
    fn jvp_1(
        _: &Mul,
        a: &Self,
        b: &OMatrix<T, C1, C2>,
        _: &OMatrix<T, R1, C2>,
        db: &OMatrix<T, C1, C2>,
    ) -> OMatrix<T, R1, C2> {
        check_dims("matrix product tangent", "tangent", b.shape(), db.shape());
        a * db
    }
}

/// `s·b` for every element.
fn scale_fwd<T: Real, R: Dim, C: Dim>(s: T, b: &OMatrix<T, R, C>) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    b.map(|v| s * v)
}

fn scale_bwd_scalar<T: Real, R: Dim, C: Dim>(b: &OMatrix<T, R, C>, dy: &OMatrix<T, R, C>) -> T
where
    DefaultAllocator: Allocator<R, C>,
{
    check_dims(
        "scalar product backward",
        "cotangent",
        b.shape(),
        dy.shape(),
    );
    inner(dy.as_slice(), b.as_slice())
}

/// `Y = s·B` elementwise. Backward: `dB = s·dY`, `ds = Σ dY∘B`; tangent `ds·B` and `s·dB`.
impl<T: Real, R: Dim, C: Dim> Binary<Mul, OMatrix<T, R, C>> for T
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    fn fwd(_: &Mul, s: &T, b: &OMatrix<T, R, C>) -> OMatrix<T, R, C> {
        scale_fwd(*s, b)
    }
    fn bwd_0(
        _: &Mul,
        _: &T,
        b: &OMatrix<T, R, C>,
        _: &OMatrix<T, R, C>,
        dy: OMatrix<T, R, C>,
    ) -> T {
        scale_bwd_scalar(b, &dy)
    }
    fn bwd_1(
        _: &Mul,
        s: &T,
        b: &OMatrix<T, R, C>,
        _: &OMatrix<T, R, C>,
        dy: OMatrix<T, R, C>,
    ) -> OMatrix<T, R, C> {
        scaled(*s, &b.shape_generic(), dy)
    }
    fn jvp_0(
        _: &Mul,
        _: &T,
        b: &OMatrix<T, R, C>,
        _: &OMatrix<T, R, C>,
        ds: &T,
    ) -> OMatrix<T, R, C> {
        scale_fwd(*ds, b)
    }
    fn jvp_1(
        _: &Mul,
        s: &T,
        b: &OMatrix<T, R, C>,
        _: &OMatrix<T, R, C>,
        db: &OMatrix<T, R, C>,
    ) -> OMatrix<T, R, C> {
        check_dims("scalar product tangent", "tangent", b.shape(), db.shape());
        scale_fwd(*s, db)
    }
}

/// `Y = A·s` elementwise. Backward: `dA = s·dY`, `ds = Σ dY∘A`; tangent `s·dA` and `ds·A`.
impl<T: Real, R: Dim, C: Dim> Binary<Mul, T> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    fn fwd(_: &Mul, a: &Self, s: &T) -> Self {
        scale_fwd(*s, a)
    }
    fn bwd_0(_: &Mul, a: &Self, s: &T, _: &Self, dy: Self) -> Self {
        scaled(*s, &a.shape_generic(), dy)
    }
    fn bwd_1(_: &Mul, a: &Self, _: &T, _: &Self, dy: Self) -> T {
        scale_bwd_scalar(a, &dy)
    }
    fn jvp_0(_: &Mul, a: &Self, s: &T, _: &Self, da: &Self) -> Self {
        check_dims("scalar product tangent", "tangent", a.shape(), da.shape());
        scale_fwd(*s, da)
    }
    fn jvp_1(_: &Mul, a: &Self, _: &T, _: &Self, ds: &T) -> Self {
        scale_fwd(*ds, a)
    }
}

/// The matrix product from the other input and this one's dimensions.
impl<T, R1, C1, C2> Bilinear<Mul, OMatrix<T, C1, C2>> for OMatrix<T, R1, C1>
where
    T: Real + SimdRealField,
    R1: Dim,
    C1: Dim,
    C2: Dim,
    DefaultAllocator: Allocator<R1, C1> + Allocator<C1, C2> + Allocator<R1, C2> + Allocator<C2, C1>,
{
    fn bwd_0_by(_: &Mul, a: &(R1, C1), b: &OMatrix<T, C1, C2>, dy: OMatrix<T, R1, C2>) -> Self {
        check_dims(
            "matrix product backward",
            "cotangent",
            (a.0.value(), b.ncols()),
            dy.shape(),
        );
        dy * b.transpose()
    }
    fn bwd_1_by(_: &Mul, a: &Self, b: &(C1, C2), dy: OMatrix<T, R1, C2>) -> OMatrix<T, C1, C2> {
        check_dims(
            "matrix product backward",
            "cotangent",
            (a.nrows(), b.1.value()),
            dy.shape(),
        );
        a.tr_mul(&dy)
    }
}

/// `s·dY` in `dY`'s buffer, `dY` of the dimensions `dims`.
fn scaled<T: Real, R: Dim, C: Dim>(
    s: T,
    dims: &(R, C),
    mut dy: OMatrix<T, R, C>,
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    check_dims(
        "scalar product backward",
        "cotangent",
        (dims.0.value(), dims.1.value()),
        dy.shape(),
    );
    dy.as_mut_slice().iter_mut().for_each(|d| *d = s * *d);
    dy
}

/// `A·A` of a square matrix: the two partials' sum, `dY·Aᵀ + Aᵀ·dY`.
impl<T, D> SquareBwd<Mul> for OMatrix<T, D, D>
where
    T: Real + SimdRealField,
    D: Dim,
    DefaultAllocator: Allocator<D, D>,
{
}

/// `s·B` from the other input and this one's dimensions.
impl<T: Real, R: Dim, C: Dim> Bilinear<Mul, OMatrix<T, R, C>> for T
where
    DefaultAllocator: Allocator<R, C>,
{
    fn bwd_0_by(_: &Mul, _: &PhantomData<T>, b: &OMatrix<T, R, C>, dy: OMatrix<T, R, C>) -> T {
        scale_bwd_scalar(b, &dy)
    }
    fn bwd_1_by(_: &Mul, s: &T, b: &(R, C), dy: OMatrix<T, R, C>) -> OMatrix<T, R, C> {
        scaled(*s, b, dy)
    }
}

/// `A·s` from the other input and this one's dimensions.
impl<T: Real, R: Dim, C: Dim> Bilinear<Mul, T> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    fn bwd_0_by(_: &Mul, a: &(R, C), s: &T, dy: Self) -> Self {
        scaled(*s, a, dy)
    }
    fn bwd_1_by(_: &Mul, a: &Self, _: &PhantomData<T>, dy: Self) -> T {
        scale_bwd_scalar(a, &dy)
    }
}

/// `Y = A / s` for every element. Backward: `dA = dY / s`, `ds = -Σ dY∘A / s² = -Σ dY∘Y / s`;
/// tangent: `dA / s` and `-ds·Y / s`.
impl<T: Real, R: Dim, C: Dim> Binary<Div, T> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    fn fwd(_: &Div, a: &Self, s: &T) -> Self {
        let s = *s;
        a.map(|v| v / s)
    }
    fn bwd_0(_: &Div, a: &Self, s: &T, _: &Self, mut dy: Self) -> Self {
        check_dims(
            "scalar division backward",
            "cotangent",
            a.shape(),
            dy.shape(),
        );
        let s = *s;
        dy.as_mut_slice().iter_mut().for_each(|d| *d /= s);
        dy
    }
    fn bwd_1(_: &Div, a: &Self, s: &T, y: &Self, dy: Self) -> T {
        check_dims(
            "scalar division backward",
            "cotangent",
            a.shape(),
            dy.shape(),
        );
        -inner(dy.as_slice(), y.as_slice()) / *s
    }
    fn jvp_0(_: &Div, a: &Self, s: &T, _: &Self, da: &Self) -> Self {
        check_dims("scalar division tangent", "tangent", a.shape(), da.shape());
        let s = *s;
        da.map(|v| v / s)
    }
    fn jvp_1(_: &Div, _: &Self, s: &T, y: &Self, ds: &T) -> Self {
        let k = -*ds / *s;
        y.map(|v| k * v)
    }
}

/// `y = Σ a_i b_i` (vectors, or matrices of one shape elementwise, as nalgebra's `dot`).
/// Backward: `da = dy·b`, `db = dy·a`; tangent `<da, b>` and `<a, db>`.
impl<T: Real, R: Dim, C: Dim> Binary<Dot, OMatrix<T, R, C>> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    fn fwd(_: &Dot, a: &Self, b: &Self) -> T {
        check_dims("dot", "second operand", a.shape(), b.shape());
        inner(a.as_slice(), b.as_slice())
    }
    fn bwd_0(_: &Dot, _: &Self, b: &Self, _: &T, dy: T) -> Self {
        scale_fwd(dy, b)
    }
    fn bwd_1(_: &Dot, a: &Self, _: &Self, _: &T, dy: T) -> Self {
        scale_fwd(dy, a)
    }
    fn jvp_0(_: &Dot, a: &Self, b: &Self, _: &T, da: &Self) -> T {
        check_dims("dot tangent", "tangent", a.shape(), da.shape());
        inner(da.as_slice(), b.as_slice())
    }
    fn jvp_1(_: &Dot, a: &Self, b: &Self, _: &T, db: &Self) -> T {
        check_dims("dot tangent", "tangent", b.shape(), db.shape());
        inner(a.as_slice(), db.as_slice())
    }
}

/// `y = a∘b` (the elementwise product). Backward: `da = dy∘b`, `db = dy∘a` in `dy`'s
/// buffer; tangent `da∘b` and `a∘db`.
impl<T: Real, R: Dim, C: Dim> Binary<ComponentMul, OMatrix<T, R, C>> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    fn fwd(_: &ComponentMul, a: &Self, b: &Self) -> Self {
        check_dims("component_mul", "second operand", a.shape(), b.shape());
        zip_with(a.clone(), b, |x, y| x * y)
    }
    fn bwd_0(_: &ComponentMul, _: &Self, b: &Self, _: &Self, dy: Self) -> Self {
        check_dims("component_mul backward", "cotangent", b.shape(), dy.shape());
        zip_with(dy, b, |d, b| d * b)
    }
    fn bwd_1(_: &ComponentMul, a: &Self, _: &Self, _: &Self, dy: Self) -> Self {
        check_dims("component_mul backward", "cotangent", a.shape(), dy.shape());
        zip_with(dy, a, |d, a| d * a)
    }
    fn jvp_0(_: &ComponentMul, a: &Self, b: &Self, _: &Self, da: &Self) -> Self {
        check_dims("component_mul tangent", "tangent", a.shape(), da.shape());
        zip_with(da.clone(), b, |d, b| d * b)
    }
    fn jvp_1(_: &ComponentMul, a: &Self, b: &Self, _: &Self, db: &Self) -> Self {
        check_dims("component_mul tangent", "tangent", b.shape(), db.shape());
        zip_with(db.clone(), a, |d, a| d * a)
    }
}

/// The components of a 3-vector (a column or a row), or a panic naming the shape.
#[track_caller]
fn three<T: Real, R: Dim, C: Dim>(op: &str, v: &OMatrix<T, R, C>) -> [T; 3]
where
    DefaultAllocator: Allocator<R, C>,
{
    match (v.shape(), v.as_slice()) {
        ((3, 1) | (1, 3), &[x, y, z]) => [x, y, z],
        (shape, _) => panic!("{op}: an operand of shape {shape:?} is not a 3-vector"),
    }
}

/// `a × b` of two 3-vectors, in a matrix of `like`'s type.
fn cross_of<T: Real, R: Dim, C: Dim>(
    like: &OMatrix<T, R, C>,
    [a0, a1, a2]: [T; 3],
    [b0, b1, b2]: [T; 3],
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut y = like.clone();
    y.as_mut_slice()
        .copy_from_slice(&[a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0]);
    y
}

/// `y = a × b` of two 3-vectors. `<dy, da × b> = <b × dy, da>` and
/// `<dy, a × db> = <dy × a, db>` (the scalar triple product is cyclic), so backward is
/// `da = b × dy`, `db = dy × a`; tangent `da × b` and `a × db`.
impl<T: Real, R: Dim, C: Dim> Binary<Cross, OMatrix<T, R, C>> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    fn fwd(_: &Cross, a: &Self, b: &Self) -> Self {
        check_dims("cross", "second operand", a.shape(), b.shape());
        cross_of(a, three("cross", a), three("cross", b))
    }
    fn bwd_0(_: &Cross, a: &Self, b: &Self, _: &Self, dy: Self) -> Self {
        check_dims("cross backward", "cotangent", a.shape(), dy.shape());
        cross_of(a, three("cross", b), three("cross backward", &dy))
    }
    fn bwd_1(_: &Cross, a: &Self, b: &Self, _: &Self, dy: Self) -> Self {
        check_dims("cross backward", "cotangent", b.shape(), dy.shape());
        cross_of(b, three("cross backward", &dy), three("cross", a))
    }
    fn jvp_0(_: &Cross, a: &Self, b: &Self, _: &Self, da: &Self) -> Self {
        check_dims("cross tangent", "tangent", a.shape(), da.shape());
        cross_of(a, three("cross tangent", da), three("cross", b))
    }
    fn jvp_1(_: &Cross, a: &Self, b: &Self, _: &Self, db: &Self) -> Self {
        check_dims("cross tangent", "tangent", b.shape(), db.shape());
        cross_of(a, three("cross", a), three("cross tangent", db))
    }
}

/// `y = ‖x‖ = sqrt(Σ x_i²)` (the Frobenius norm of a matrix, as nalgebra's `norm`).
/// Backward: `dx = dy·x / y`; tangent `<x, dx> / y`. At `x = 0` the gradient is 0
/// (PyTorch's convention: a subgradient).
impl<T: Real, R: Dim, C: Dim> UnaryOut<Norm> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    fn fwd(_: &Norm, x: &Self) -> T {
        Real::sqrt(inner(x.as_slice(), x.as_slice()))
    }
    fn bwd(_: &Norm, x: &Self, y: &T, dy: T) -> Self {
        if *y == T::ZERO {
            return x.zero_tangent();
        }
        let y = *y;
        x.map(|v| v * dy / y)
    }
    fn jvp(_: &Norm, x: &Self, y: &T, dx: &Self) -> T {
        check_dims("norm tangent", "tangent", x.shape(), dx.shape());
        if *y == T::ZERO {
            return T::ZERO;
        }
        inner(x.as_slice(), dx.as_slice()) / *y
    }
}

/// `y = Σ x_i²`. Backward: `dx = 2 dy·x`; tangent `2 <x, dx>`.
impl<T: Real, R: Dim, C: Dim> UnaryOut<NormSquared> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    fn fwd(_: &NormSquared, x: &Self) -> T {
        inner(x.as_slice(), x.as_slice())
    }
    fn bwd(_: &NormSquared, x: &Self, _: &T, dy: T) -> Self {
        scale_fwd(dy + dy, x)
    }
    fn jvp(_: &NormSquared, x: &Self, _: &T, dx: &Self) -> T {
        check_dims("norm_squared tangent", "tangent", x.shape(), dx.shape());
        let d = inner(x.as_slice(), dx.as_slice());
        d + d
    }
}

/// `y = Σ x`. Transpose: `dx = dy` everywhere; tangent `Σ dx`.
impl<T: Real, R: Dim, C: Dim> Linear<Sum> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    fn fwd(_: &Sum, x: &Self) -> T {
        x.as_slice().iter().fold(T::ZERO, |s, &v| s + v)
    }
    fn bwd(_: &Sum, &(r, c): &(R, C), dy: T) -> Self {
        OMatrix::from_element_generic(r, c, dy)
    }
    fn jvp(op: &Sum, x: &(R, C), dx: &Self) -> T {
        check_dims("sum tangent", "tangent", dims(x), dx.shape());
        <Self as Linear<Sum>>::fwd(op, dx)
    }
}

/// `y = Σ x / n` (0 for an empty matrix, as nalgebra's `mean`). Transpose: `dx = dy / n`
/// everywhere; tangent `Σ dx / n`.
impl<T: Real, R: Dim, C: Dim> Linear<Mean> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    fn fwd(_: &Mean, x: &Self) -> T {
        if x.is_empty() {
            return T::ZERO;
        }
        <Self as Linear<Sum>>::fwd(&Sum, x) / T::from_f64(x.len() as f64)
    }
    fn bwd(_: &Mean, &(r, c): &(R, C), dy: T) -> Self {
        let n = r.value() * c.value();
        OMatrix::from_element_generic(r, c, dy / T::from_f64(n as f64))
    }
    fn jvp(op: &Mean, x: &(R, C), dx: &Self) -> T {
        check_dims("mean tangent", "tangent", dims(x), dx.shape());
        <Self as Linear<Mean>>::fwd(op, dx)
    }
}

/// `y = xᵀ`. Transpose: `dx = dyᵀ`; tangent `dxᵀ`.
impl<T: Real, R: Dim, C: Dim> Linear<Transpose> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C> + Allocator<C, R>,
{
    type Output = OMatrix<T, C, R>;
    fn fwd(_: &Transpose, x: &Self) -> OMatrix<T, C, R> {
        x.transpose()
    }
    fn bwd(_: &Transpose, x: &(R, C), dy: OMatrix<T, C, R>) -> Self {
        let (r, c) = dims(x);
        check_dims("transpose backward", "cotangent", (c, r), dy.shape());
        dy.transpose()
    }
    fn jvp(_: &Transpose, x: &(R, C), dx: &Self) -> OMatrix<T, C, R> {
        check_dims("transpose tangent", "tangent", dims(x), dx.shape());
        dx.transpose()
    }
}
