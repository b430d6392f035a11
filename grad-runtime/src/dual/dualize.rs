//! Structs (and tuples) as parameters of `order = 2` functions: [`Dualize`], a value's twin
//! with every float replaced by a type parameter.
//!
//! The copy that `order = 2` differentiates is generic over its float type `T`, so a struct
//! parameter `p: &Params` must become a struct whose floats are `T`. `#[derive(Differentiable)]`
//! writes that twin, `__ParamsOrder2<T>`, each field's type `<F as Dualize>::Over<T>`, and
//! implements `Dualize` for `Params` with `Over<T> = __ParamsOrder2<T>`; the copy names it
//! `<Params as Dualize>::Over<T>`. This module implements it for the fields' types: floats,
//! integers, `Vec`s and arrays, tuples, tensors and nalgebra matrices.
//!
//! `f_hvp` converts the parameter into the twin over duals (`x + ε v` at every float) and
//! splits the twin's gradient back into the gradient and the Hessian-vector product, both in
//! the struct's own tangent type.

use super::{Dual, Order2, same_length, same_shape};
use crate::differentiable::{Differentiable, Flat, Tangent};
use crate::real::Real;
use crate::tensor::{Tensor, pool};
use ::nalgebra::allocator::Allocator;
use ::nalgebra::{DefaultAllocator, Dim, OMatrix};

/// A value whose floats can be replaced by another float type (duals, for `f_hvp`).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of an `order = 2` function",
    label = "`f_hvp` has no copy of `{Self}` over dual numbers",
    note = "derive `Differentiable` for the struct (`#[derive(Differentiable)]` writes its copy over duals); structs with type parameters are not supported under `order = 2` yet"
)]
pub trait Dualize: Differentiable {
    /// The same value with every float of type `T`.
    type Over<T: Order2>: Differentiable + Clone;
    /// `x + ε v` at every float (`name` names the parameter in panics).
    ///
    /// # Panics
    /// Where `v` and `self` differ in length or shape somewhere.
    fn duals_along<F: Real>(&self, v: &Self::Tangent, name: &str) -> Self::Over<Dual<F>>;
    /// Constant duals (tangent zero) at every float.
    fn constant_duals<F: Real>(&self) -> Self::Over<Dual<F>>;
    /// A gradient over duals split into its values and its tangents, each in this value's
    /// tangent type.
    fn dual_parts<F: Real>(
        g: &<Self::Over<Dual<F>> as Differentiable>::Tangent,
    ) -> (Self::Tangent, Self::Tangent);
}

/// The name of a part of a parameter in panics: `p.layers`, `p.layers[2]`.
#[doc(hidden)]
pub fn part_name(name: &str, part: impl core::fmt::Display) -> String {
    format!("{name}.{part}")
}

/// `x + ε v` of a struct or tuple parameter (see [`Dualize`]).
#[doc(hidden)]
pub fn dualize<F: Real, X: Dualize>(x: &X, v: &X::Tangent, name: &str) -> X::Over<Dual<F>> {
    x.duals_along::<F>(v, name)
}

/// Constant duals of a struct or tuple parameter that is not differentiated.
#[doc(hidden)]
pub fn dualize_constant<F: Real, X: Dualize>(x: &X) -> X::Over<Dual<F>> {
    x.constant_duals::<F>()
}

/// `x + ε v` of a slice of structs or tuples, as a `Vec` of twins.
#[doc(hidden)]
pub fn dualize_slice<F: Real, X: Dualize>(
    x: &[X],
    v: &[X::Tangent],
    name: &str,
) -> Vec<X::Over<Dual<F>>> {
    same_length(name, x.len(), v.len());
    x.iter()
        .zip(v)
        .enumerate()
        .map(|(i, (x, v))| x.duals_along::<F>(v, &format!("{name}[{i}]")))
        .collect()
}

/// Constant duals of a slice of structs or tuples that is not differentiated.
#[doc(hidden)]
pub fn dualize_slice_constant<F: Real, X: Dualize>(x: &[X]) -> Vec<X::Over<Dual<F>>> {
    x.iter().map(X::constant_duals::<F>).collect()
}

/// The gradient and Hessian-vector parts of a struct or tuple parameter's gradient.
#[doc(hidden)]
pub fn dualize_parts<F: Real, X: Dualize>(
    g: &<X::Over<Dual<F>> as Differentiable>::Tangent,
) -> (X::Tangent, X::Tangent) {
    X::dual_parts::<F>(g)
}

/// `<a, b>` of two tangents of one type, accumulated in `f64`.
#[doc(hidden)]
pub fn pair_tangents<T: Tangent>(a: &T, b: &T) -> f64 {
    let floats = |t: &T| {
        let mut out = Vec::new();
        t.visit(&mut |run| match run {
            Flat::F32(s) => out.extend(s.iter().map(|&x| f64::from(x))),
            Flat::F64(s) => out.extend_from_slice(s),
        });
        out
    };
    let (x, y) = (floats(a), floats(b));
    x.iter().zip(&y).map(|(a, b)| a * b).sum()
}

macro_rules! dualize_floats {
    ($($f:ident)*) => {$(
        impl Dualize for $f {
            type Over<T: Order2> = T;
            fn duals_along<F: Real>(&self, v: &$f, _: &str) -> Dual<F> {
                Dual::new(F::from_f64(f64::from(*self)), F::from_f64(f64::from(*v)))
            }
            fn constant_duals<F: Real>(&self) -> Dual<F> {
                Dual::constant(F::from_f64(f64::from(*self)))
            }
            fn dual_parts<F: Real>(g: &Dual<F>) -> ($f, $f) {
                (g.re.to_f64() as $f, g.eps.to_f64() as $f)
            }
        }
    )*};
}
dualize_floats!(f32 f64);

macro_rules! dualize_same {
    ($($t:ident)*) => {$(
        impl Dualize for $t {
            type Over<T: Order2> = $t;
            fn duals_along<F: Real>(&self, _: &(), _: &str) -> $t {
                *self
            }
            fn constant_duals<F: Real>(&self) -> $t {
                *self
            }
            fn dual_parts<F: Real>(_: &()) -> ((), ()) {
                ((), ())
            }
        }
    )*};
}
dualize_same!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize bool);

impl<X: Dualize> Dualize for Vec<X> {
    type Over<T: Order2> = Vec<X::Over<T>>;
    fn duals_along<F: Real>(&self, v: &Vec<X::Tangent>, name: &str) -> Self::Over<Dual<F>> {
        dualize_slice::<F, X>(self, v, name)
    }
    fn constant_duals<F: Real>(&self) -> Self::Over<Dual<F>> {
        dualize_slice_constant::<F, X>(self)
    }
    fn dual_parts<F: Real>(
        g: &<Self::Over<Dual<F>> as Differentiable>::Tangent,
    ) -> (Vec<X::Tangent>, Vec<X::Tangent>) {
        g.iter().map(X::dual_parts::<F>).unzip()
    }
}

impl<X: Dualize, const N: usize> Dualize for [X; N] {
    type Over<T: Order2> = [X::Over<T>; N];
    fn duals_along<F: Real>(&self, v: &[X::Tangent; N], name: &str) -> Self::Over<Dual<F>> {
        core::array::from_fn(|i| self[i].duals_along::<F>(&v[i], &format!("{name}[{i}]")))
    }
    fn constant_duals<F: Real>(&self) -> Self::Over<Dual<F>> {
        core::array::from_fn(|i| self[i].constant_duals::<F>())
    }
    fn dual_parts<F: Real>(
        g: &<Self::Over<Dual<F>> as Differentiable>::Tangent,
    ) -> ([X::Tangent; N], [X::Tangent; N]) {
        let parts: [_; N] = core::array::from_fn(|i| X::dual_parts::<F>(&g[i]));
        (parts.clone().map(|p| p.0), parts.map(|p| p.1))
    }
}

macro_rules! dualize_tuples {
    ($(($($x:ident $i:tt),+))*) => {$(
        impl<$($x: Dualize),+> Dualize for ($($x,)+) {
            type Over<T: Order2> = ($($x::Over<T>,)+);
            fn duals_along<F: Real>(&self, v: &Self::Tangent, name: &str) -> Self::Over<Dual<F>> {
                ($(self.$i.duals_along::<F>(&v.$i, &part_name(name, $i)),)+)
            }
            fn constant_duals<F: Real>(&self) -> Self::Over<Dual<F>> {
                ($(self.$i.constant_duals::<F>(),)+)
            }
            fn dual_parts<F: Real>(
                g: &<Self::Over<Dual<F>> as Differentiable>::Tangent,
            ) -> (Self::Tangent, Self::Tangent) {
                let parts = ($($x::dual_parts::<F>(&g.$i),)+);
                (($(parts.$i.0.clone(),)+), ($(parts.$i.1,)+))
            }
        }
    )*};
}
dualize_tuples! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, G 5)
}

macro_rules! dualize_containers {
    ($($f:ident)*) => {$(
        /// # Panics
        /// `duals_along`, where the direction's shape differs from the tensor's.
        impl Dualize for Tensor<$f> {
            type Over<T: Order2> = Tensor<T>;
            fn duals_along<F: Real>(&self, v: &Tensor<$f>, name: &str) -> Tensor<Dual<F>> {
                same_shape(name, self.shape(), v.shape());
                let mut v = v.as_slice().iter();
                let data = pool::mapped(self.as_slice(), |x| {
                    x.duals_along::<F>(v.next().unwrap_or(x), name)
                });
                Tensor::from_parts(data, self.dims_owned())
            }
            fn constant_duals<F: Real>(&self) -> Tensor<Dual<F>> {
                let data = pool::mapped(self.as_slice(), |x| x.constant_duals::<F>());
                Tensor::from_parts(data, self.dims_owned())
            }
            fn dual_parts<F: Real>(g: &Tensor<Dual<F>>) -> (Tensor<$f>, Tensor<$f>) {
                let part = |f: fn(&Dual<F>) -> F| {
                    let data = pool::mapped(g.as_slice(), |d| f(d).to_f64() as $f);
                    Tensor::from_parts(data, g.dims_owned())
                };
                (part(|d| d.re), part(|d| d.eps))
            }
        }

        /// # Panics
        /// `duals_along`, where the direction's shape differs from the matrix's.
        impl<R: Dim, C: Dim> Dualize for OMatrix<$f, R, C>
        where
            DefaultAllocator: Allocator<R, C>,
        {
            type Over<T: Order2> = OMatrix<T, R, C>;
            fn duals_along<F: Real>(&self, v: &Self, name: &str) -> OMatrix<Dual<F>, R, C> {
                same_shape(name, self.shape(), v.shape());
                self.zip_map(v, |x, v| x.duals_along::<F>(&v, name))
            }
            fn constant_duals<F: Real>(&self) -> OMatrix<Dual<F>, R, C> {
                self.map(|x| x.constant_duals::<F>())
            }
            fn dual_parts<F: Real>(g: &OMatrix<Dual<F>, R, C>) -> (Self, Self) {
                (
                    g.map(|d| d.re.to_f64() as $f),
                    g.map(|d| d.eps.to_f64() as $f),
                )
            }
        }
    )*};
}
dualize_containers!(f32 f64);
