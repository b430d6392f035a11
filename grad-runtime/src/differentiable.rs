//! The `Differentiable` trait: what a value's tangent is, and vector-space operations on tangents.

/// A read-only flat view of some parameters, in the order a value visits them.
#[derive(Debug)]
pub enum Flat<'a> {
    /// A run of `f32` components.
    F32(&'a [f32]),
    /// A run of `f64` components.
    F64(&'a [f64]),
}

/// A mutable flat view of some parameters, in the order a value visits them.
#[derive(Debug)]
pub enum FlatMut<'a> {
    /// A run of `f32` components.
    F32(&'a mut [f32]),
    /// A run of `f64` components.
    F64(&'a mut [f64]),
}

/// A value that has a tangent space: scalars, tensors, containers and parameter structs.
///
/// Tangents (forward mode) and cotangents (reverse mode) of a value share the type
/// `Self::Tangent`. Implemented for `f32`, `f64`, [`Tensor`](crate::Tensor), slices, `Vec`s,
/// arrays and tuples of differentiable values, and nalgebra's matrices; integers and `bool`
/// have the tangent `()`. `#[derive(Differentiable)]` implements it for a struct of such
/// fields, with a tangent struct `<Name>Tangent` of the same field names.
///
/// ```
/// use grad::{Differentiable, Tensor};
///
/// #[derive(Differentiable, Clone)]
/// struct Layer {
///     w: Tensor<f64>,
///     b: f64,
/// }
///
/// let mut layer = Layer { w: Tensor::from([1.0, 2.0]), b: 0.5 };
/// // The zero tangent has the value's shapes.
/// let mut t: LayerTangent = layer.zero_tangent();
/// assert_eq!((t.w.to_vec(), t.b), (vec![0.0, 0.0], 0.0));
/// // Moving along a tangent adds it, field by field.
/// t.w = Tensor::from([0.5, -1.0]);
/// t.b = 1.0;
/// layer.move_along(&t);
/// assert_eq!((layer.w.to_vec(), layer.b), (vec![1.5, 1.0], 1.5));
/// // The parameters by field path, as `grad::io` saves them.
/// let mut names = Vec::new();
/// layer.visit_named(&mut String::new(), &mut |name, shape, _| {
///     names.push((name.to_string(), shape.to_vec()))
/// });
/// assert_eq!(names, [("w".to_string(), vec![2]), ("b".to_string(), vec![])]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not differentiable",
    label = "no tangent type for `{Self}`",
    note = "implement `grad::Differentiable` for it, or leave the parameter out of `wrt(...)`"
)]
pub trait Differentiable {
    /// The type of this value's tangents and cotangents.
    type Tangent: Tangent;

    /// The zero tangent at this value (same shape, all zeros).
    fn zero_tangent(&self) -> Self::Tangent;

    /// Moves the value along a tangent: `self += direction`.
    ///
    /// # Panics
    /// Where the tangent's shape differs from the value's (a `Vec` or tensor of another
    /// length or shape).
    fn move_along(&mut self, direction: &Self::Tangent);

    /// Calls `f` on each flat run of the value's differentiable components, mutably, in the
    /// order in which [`Tangent::visit`] visits a tangent's (optimizers update through it).
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>));

    /// Calls `f(name, shape, values)` on each parameter: a scalar, a tensor or a matrix,
    /// named by its field path below `name` (`layers.0.w`; see [`in_field`]), with its
    /// row-major shape and elements. Saving ([`crate::io`]) reads parameters through it.
    ///
    /// ```
    /// use grad::{Differentiable, Flat, Tensor};
    ///
    /// let params = (Tensor::<f32>::zeros(&[2, 3]), vec![1.5f64]);
    /// let mut seen = Vec::new();
    /// params.visit_named(&mut String::new(), &mut |name, shape, values| {
    ///     let n = match values { Flat::F32(s) => s.len(), Flat::F64(s) => s.len() };
    ///     seen.push((name.to_string(), shape.to_vec(), n));
    /// });
    /// assert_eq!(seen, [("0".to_string(), vec![2, 3], 6), ("1.0".to_string(), vec![], 1)]);
    /// ```
    fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], Flat<'_>));

    /// [`Differentiable::visit_named`], mutably: the same names, shapes and row-major
    /// elements in the same order. Loading ([`crate::io`]) writes parameters through it.
    ///
    /// The provided method pairs `visit_named`'s names and shapes with the runs of
    /// `visit_params_mut`, so it is right for any value whose two visits agree in order and
    /// layout; a value stored in another layout (nalgebra's column-major matrices)
    /// overrides it.
    fn visit_named_mut(
        &mut self,
        name: &mut String,
        f: &mut dyn FnMut(&str, &[usize], FlatMut<'_>),
    ) {
        let mut named = Vec::new();
        self.visit_named(name, &mut |n, shape, _| {
            named.push((n.to_string(), shape.to_vec()))
        });
        let mut runs = named.iter();
        self.visit_params_mut(&mut |flat| {
            let (n, shape) = runs
                .next()
                .expect("visit_named_mut: visit_params_mut visits more runs than visit_named");
            f(n, shape, flat);
        });
    }
}

/// A tangent's zero: the same shape, every component `0`. For the `Differentiable` impl
/// that `#[derive(Differentiable)]` writes for a tangent struct.
#[doc(hidden)]
pub fn tangent_zero<T: Tangent>(t: &T) -> T {
    let mut zero = t.clone();
    zero.visit_mut(&mut |run| match run {
        FlatMut::F32(s) => s.fill(0.0),
        FlatMut::F64(s) => s.fill(0.0),
    });
    zero
}

/// A tangent's components as named parameters of flat shape `[len]`, consecutive runs of
/// one float type joined: `name`, or `name.0`, `name.1`, .. where `f32` and `f64` runs
/// alternate. For the `Differentiable` impl that `#[derive(Differentiable)]` writes for a
/// tangent struct.
#[doc(hidden)]
pub fn tangent_named<T: Tangent>(
    t: &T,
    name: &mut String,
    f: &mut dyn FnMut(&str, &[usize], Flat<'_>),
) {
    enum Run {
        F32(Vec<f32>),
        F64(Vec<f64>),
    }
    let mut runs: Vec<Run> = Vec::new();
    t.visit(&mut |run| match (run, runs.last_mut()) {
        (Flat::F32(s), Some(Run::F32(v))) => v.extend_from_slice(s),
        (Flat::F64(s), Some(Run::F64(v))) => v.extend_from_slice(s),
        (Flat::F32(s), _) => runs.push(Run::F32(s.to_vec())),
        (Flat::F64(s), _) => runs.push(Run::F64(s.to_vec())),
    });
    let one = runs.len() == 1;
    for (k, run) in runs.iter().enumerate() {
        let (len, flat) = match run {
            Run::F32(v) => (v.len(), Flat::F32(v)),
            Run::F64(v) => (v.len(), Flat::F64(v)),
        };
        if one {
            f(name, &[len], flat);
        } else {
            in_field(name, k, |name| f(name, &[len], flat));
        }
    }
}

/// Runs `visit` with `field` appended to the path `name` (after a `.` unless `name` is
/// empty), then restores `name`: how a [`Differentiable`] value names its parts in
/// [`Differentiable::visit_named`].
///
/// ```
/// let mut name = String::from("layers");
/// grad::in_field(&mut name, 0, |name| {
///     grad::in_field(name, "w", |name| assert_eq!(name, "layers.0.w"));
/// });
/// assert_eq!(name, "layers");
/// ```
pub fn in_field(
    name: &mut String,
    field: impl core::fmt::Display,
    visit: impl FnOnce(&mut String),
) {
    use core::fmt::Write;
    let len = name.len();
    if len > 0 {
        name.push('.');
    }
    // Writing into a `String` cannot fail.
    let _ = write!(name, "{field}");
    visit(name);
    name.truncate(len);
}

/// The vector-space operations on tangents that generated code and optimizers use.
///
/// Implemented for `f32`, `f64`, [`Tensor`](crate::Tensor), `Vec`s, arrays and tuples of
/// tangents, `()`, nalgebra's matrices and every derived `<Name>Tangent`.
///
/// ```
/// use grad::{Tangent, Tensor};
///
/// // Two gradients of (a tensor, a scalar), added and averaged.
/// let mut g = (Tensor::<f64>::from([1.0, 2.0]), 3.0f64);
/// g.add_assign((Tensor::from([3.0, 4.0]), 5.0));
/// g.scale(0.5);
/// assert_eq!((g.0.to_vec(), g.1), (vec![2.0, 3.0], 4.0));
/// assert_eq!(g.dot(&g), 4.0 + 9.0 + 16.0);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tangent type",
    note = "tangents are `f32`, `f64`, `Vec`s, arrays and tuples of tangents, or a `...Tangent` struct"
)]
pub trait Tangent: Clone {
    /// `self += other`. Takes `other` by value so implementations can reuse its buffer.
    ///
    /// # Panics
    /// Where the shapes differ (a `Vec` or tensor of another length or shape).
    fn add_assign(&mut self, other: Self);

    /// `self *= factor`.
    fn scale(&mut self, factor: f64);

    /// Calls `f` on each flat run of components, in a fixed order.
    fn visit(&self, f: &mut dyn FnMut(Flat<'_>));

    /// Calls `f` on each flat run of components mutably, in the order of [`Tangent::visit`].
    fn visit_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>));

    /// `self`, leaving zeros in its place: the adjoint at a place that a write covered.
    fn take(&mut self) -> Self {
        let taken = self.clone();
        crate::rules::support::set_zero(self);
        taken
    }

    /// A tangent shaped like `self` with every component `-0.0`, the identity of addition
    /// (`-0.0 + x` is `x` bit for bit, where `0.0 + -0.0` is `0.0`): what a sum of
    /// contributions starts from so that it equals the same contributions added in order.
    /// Floats return the constant, so that adding it folds away in generated loops.
    fn negative_zero(&self) -> Self {
        let mut zero = self.clone();
        zero.visit_mut(&mut |flat| match flat {
            FlatMut::F32(s) => s.fill(-0.0),
            FlatMut::F64(s) => s.fill(-0.0),
        });
        zero
    }

    /// The Euclidean inner product `<self, other>`, accumulated in `f64`.
    fn dot(&self, other: &Self) -> f64 {
        flatten(self)
            .iter()
            .zip(flatten(other))
            .map(|(a, b)| a * b)
            .sum()
    }
}

/// A tangent's components in visiting order, widened to `f64`.
pub(crate) fn flatten<T: Tangent>(t: &T) -> Vec<f64> {
    let mut out = Vec::new();
    t.visit(&mut |flat| match flat {
        Flat::F32(s) => out.extend(s.iter().map(|&v| f64::from(v))),
        Flat::F64(s) => out.extend_from_slice(s),
    });
    out
}

/// The tangent slot of a parameter that is not differentiated.
///
/// `_vjp` pullbacks return it for such parameters, and `_jvp` takes it for them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NoTangent;

macro_rules! scalar_differentiable {
    ($($t:ident => $flat:ident),*) => {$(
        impl Differentiable for $t {
            type Tangent = $t;
            #[inline(always)]
            fn zero_tangent(&self) -> $t {
                0.0
            }
            #[inline(always)]
            fn move_along(&mut self, direction: &$t) {
                *self += *direction;
            }
            fn visit_params_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
                f(FlatMut::$flat(std::slice::from_mut(self)));
            }
            fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], Flat<'_>)) {
                f(name, &[], Flat::$flat(std::slice::from_ref(self)));
            }
            fn visit_named_mut(
                &mut self,
                name: &mut String,
                f: &mut dyn FnMut(&str, &[usize], FlatMut<'_>),
            ) {
                f(name, &[], FlatMut::$flat(std::slice::from_mut(self)));
            }
        }

        impl Tangent for $t {
            #[inline(always)]
            fn add_assign(&mut self, other: $t) {
                *self += other;
            }
            #[inline(always)]
            fn scale(&mut self, factor: f64) {
                *self = (*self as f64 * factor) as $t;
            }
            fn visit(&self, f: &mut dyn FnMut(Flat<'_>)) {
                f(Flat::$flat(std::slice::from_ref(self)));
            }
            fn visit_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
                f(FlatMut::$flat(std::slice::from_mut(self)));
            }
            fn dot(&self, other: &$t) -> f64 {
                *self as f64 * *other as f64
            }
            #[inline(always)]
            fn take(&mut self) -> $t {
                core::mem::replace(self, 0.0)
            }
            #[inline(always)]
            fn negative_zero(&self) -> $t {
                -0.0
            }
        }
    )*};
}
scalar_differentiable!(f32 => F32, f64 => F64);

impl<T: Differentiable> Differentiable for [T] {
    type Tangent = Vec<T::Tangent>;
    fn zero_tangent(&self) -> Self::Tangent {
        self.iter().map(T::zero_tangent).collect()
    }
    fn move_along(&mut self, direction: &Self::Tangent) {
        assert_eq!(
            self.len(),
            direction.len(),
            "move_along: a slice of length {} moved along a tangent of length {}",
            self.len(),
            direction.len()
        );
        for (x, d) in self.iter_mut().zip(direction) {
            x.move_along(d);
        }
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
        self.iter_mut().for_each(|x| x.visit_params_mut(f));
    }
    fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], Flat<'_>)) {
        for (i, x) in self.iter().enumerate() {
            in_field(name, i, |name| x.visit_named(name, f));
        }
    }
    fn visit_named_mut(
        &mut self,
        name: &mut String,
        f: &mut dyn FnMut(&str, &[usize], FlatMut<'_>),
    ) {
        for (i, x) in self.iter_mut().enumerate() {
            in_field(name, i, |name| x.visit_named_mut(name, f));
        }
    }
}

impl<T: Differentiable> Differentiable for Vec<T> {
    type Tangent = Vec<T::Tangent>;
    fn zero_tangent(&self) -> Self::Tangent {
        self.as_slice().zero_tangent()
    }
    fn move_along(&mut self, direction: &Self::Tangent) {
        self.as_mut_slice().move_along(direction);
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
        self.as_mut_slice().visit_params_mut(f);
    }
    fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], Flat<'_>)) {
        self.as_slice().visit_named(name, f);
    }
    fn visit_named_mut(
        &mut self,
        name: &mut String,
        f: &mut dyn FnMut(&str, &[usize], FlatMut<'_>),
    ) {
        self.as_mut_slice().visit_named_mut(name, f);
    }
}

impl<T: Tangent> Tangent for Vec<T> {
    fn add_assign(&mut self, other: Self) {
        assert_eq!(
            self.len(),
            other.len(),
            "tangent add: lengths {} and {} differ",
            self.len(),
            other.len()
        );
        for (a, b) in self.iter_mut().zip(other) {
            a.add_assign(b);
        }
    }
    fn scale(&mut self, factor: f64) {
        self.iter_mut().for_each(|a| a.scale(factor));
    }
    fn visit(&self, f: &mut dyn FnMut(Flat<'_>)) {
        self.iter().for_each(|a| a.visit(f));
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
        self.iter_mut().for_each(|a| a.visit_mut(f));
    }
}

impl<T: Differentiable, const N: usize> Differentiable for [T; N] {
    type Tangent = [T::Tangent; N];
    fn zero_tangent(&self) -> Self::Tangent {
        std::array::from_fn(|i| self[i].zero_tangent())
    }
    fn move_along(&mut self, direction: &Self::Tangent) {
        for (x, d) in self.iter_mut().zip(direction) {
            x.move_along(d);
        }
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
        self.iter_mut().for_each(|x| x.visit_params_mut(f));
    }
    fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], Flat<'_>)) {
        for (i, x) in self.iter().enumerate() {
            in_field(name, i, |name| x.visit_named(name, f));
        }
    }
    fn visit_named_mut(
        &mut self,
        name: &mut String,
        f: &mut dyn FnMut(&str, &[usize], FlatMut<'_>),
    ) {
        for (i, x) in self.iter_mut().enumerate() {
            in_field(name, i, |name| x.visit_named_mut(name, f));
        }
    }
}

impl<T: Tangent, const N: usize> Tangent for [T; N] {
    fn add_assign(&mut self, other: Self) {
        for (a, b) in self.iter_mut().zip(other) {
            a.add_assign(b);
        }
    }
    fn scale(&mut self, factor: f64) {
        self.iter_mut().for_each(|a| a.scale(factor));
    }
    fn visit(&self, f: &mut dyn FnMut(Flat<'_>)) {
        self.iter().for_each(|a| a.visit(f));
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
        self.iter_mut().for_each(|a| a.visit_mut(f));
    }
}

/// Integers have no tangent space: their tangent is `()`. They appear as values in
/// differentiable code when read from a differentiated struct (`self.n`), where they index
/// and count but carry no gradient.
macro_rules! integer_differentiable {
    ($($t:ident)*) => {$(
        impl Differentiable for $t {
            type Tangent = ();
            #[inline(always)]
            fn zero_tangent(&self) {}
            #[inline(always)]
            fn move_along(&mut self, _: &()) {}
            fn visit_params_mut(&mut self, _: &mut dyn FnMut(FlatMut<'_>)) {}
            fn visit_named(&self, _: &mut String, _: &mut dyn FnMut(&str, &[usize], Flat<'_>)) {}
            fn visit_named_mut(&mut self, _: &mut String, _: &mut dyn FnMut(&str, &[usize], FlatMut<'_>)) {}
        }
    )*};
}
integer_differentiable!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize bool);

impl Differentiable for () {
    type Tangent = ();
    fn zero_tangent(&self) {}
    fn move_along(&mut self, _: &()) {}
    fn visit_params_mut(&mut self, _: &mut dyn FnMut(FlatMut<'_>)) {}
    fn visit_named(&self, _: &mut String, _: &mut dyn FnMut(&str, &[usize], Flat<'_>)) {}
    fn visit_named_mut(&mut self, _: &mut String, _: &mut dyn FnMut(&str, &[usize], FlatMut<'_>)) {}
}

impl Tangent for () {
    fn add_assign(&mut self, _: ()) {}
    fn scale(&mut self, _: f64) {}
    fn visit(&self, _: &mut dyn FnMut(Flat<'_>)) {}
    fn visit_mut(&mut self, _: &mut dyn FnMut(FlatMut<'_>)) {}
}

macro_rules! tuple_differentiable {
    ($(($($t:ident $i:tt),+))*) => {$(
        impl<$($t: Differentiable),+> Differentiable for ($($t,)+) {
            type Tangent = ($($t::Tangent,)+);
            fn zero_tangent(&self) -> Self::Tangent {
                ($(self.$i.zero_tangent(),)+)
            }
            fn move_along(&mut self, direction: &Self::Tangent) {
                $(self.$i.move_along(&direction.$i);)+
            }
            fn visit_params_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
                $(self.$i.visit_params_mut(f);)+
            }
            fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], Flat<'_>)) {
                $(in_field(name, $i, |name| self.$i.visit_named(name, f));)+
            }
            fn visit_named_mut(&mut self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], FlatMut<'_>)) {
                $(in_field(name, $i, |name| self.$i.visit_named_mut(name, f));)+
            }
        }

        impl<$($t: Tangent),+> Tangent for ($($t,)+) {
            fn add_assign(&mut self, other: Self) {
                $(self.$i.add_assign(other.$i);)+
            }
            fn scale(&mut self, factor: f64) {
                $(self.$i.scale(factor);)+
            }
            fn visit(&self, f: &mut dyn FnMut(Flat<'_>)) {
                $(self.$i.visit(f);)+
            }
            fn visit_mut(&mut self, f: &mut dyn FnMut(FlatMut<'_>)) {
                $(self.$i.visit_mut(f);)+
            }
        }
    )*};
}
tuple_differentiable! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
}
