//! The `#[differentiable]` attribute: reads a function and writes its adjoint and tangent code.

#![warn(missing_docs)]

mod activity;
mod ast;
mod attr;
mod check;
mod checkpoint;
mod ctxt;
mod derive;
mod desugar;
mod diag;
mod donate;
mod emit;
mod expand;
mod fallback;
mod forward;
mod fuse;
mod gather;
mod impls;
mod ir;
mod jacobian;
mod lower;
mod names;
mod pairs;
mod prims;
mod recursion;
mod recycle;
mod reverse;
mod revolve;
mod second;
mod site;
mod stores;
#[cfg(test)]
mod tests;
mod window;

use proc_macro::TokenStream;

/// Writes `f_grad`, `f_vjp` and `f_jvp` beside a function; on an `impl` block, beside each
/// method marked `#[differentiable(..)]` (for a trait impl, in an inherent `impl` of the
/// type). Use it through the `grad` crate (`grad::differentiable`), whose docs list the
/// supported subset of Rust and the signatures.
///
/// - `f_grad(args) -> (value, gradient)`: reverse mode, for a scalar (`f32`, `f64` or
///   generic float) result; the gradient is the bare cotangent of the one differentiated
///   parameter, or a tuple of them in declaration order.
/// - `f_vjp(args) -> (value, pullback)`: the pullback takes the result's cotangent and
///   returns one cotangent per parameter (`grad::NoTangent` for those not differentiated).
/// - `f_jvp(args, tangents) -> (value, tangent)`: forward mode, one tangent per parameter.
/// - with `jacobian`, `f_jacobian(args) -> (value, jacobian)`: for one differentiated
///   vector parameter and a vector result (slices, `Vec`s, arrays, `Tensor`s, nalgebra
///   column vectors), the Jacobian with rows = the result's components and columns = the
///   parameter's, in flat order: an nalgebra `SMatrix` when both sides are fixed-size
///   nalgebra vectors, a `DMatrix` otherwise. It is built from `f_jvp` columns or `f_vjp`
///   rows, whichever are fewer.
/// - with `order = 2`, `f_hvp(args, directions) -> (value, gradient, hessian_times_v)`: for a
///   scalar result, the Hessian times a direction `v` (given as `f_jvp` takes tangents, one
///   per parameter), by forward mode over reverse mode on dual numbers (`grad::Dual`);
///   value and gradient are `f_grad`'s. Parameters may be `f64`/`f32` scalars, `&[f64]`,
///   `Vec<f64>`, `[f64; N]`, `&[f64; N]` (of `f32` too) and integer, `bool` or `&str` data;
///   tensors, nalgebra types, structs, methods and generic functions are not supported yet
///   (a compile error says so). Functions it calls need `order = 2` too. `f_grad_vjp` and
///   `f_grad_jvp` are written as well, so `f_grad` may be called inside another
///   differentiable function.
/// - with `checkpoint`, `f_vjp` keeps nothing of the forward pass: its pullback holds only the
///   arguments and runs `f`'s forward sweep again when called, so a caller's reverse pass
///   keeps each call's inputs instead of its intermediate values. Arguments held by value
///   are kept by the pullback and cloned for the value (their types must be `Clone`).
///
/// In the body, `for i in grad::checkpoint(lo..hi, snapshots) { .. }` makes that loop's
/// reverse pass keep at most `snapshots` copies of the variables it assigns and rerun the
/// steps between them (binomial checkpointing; see `grad::checkpoint`).
///
/// Arguments, comma-separated: `wrt(x, y)` (which parameters; by default all except those
/// of integer, `bool`, `char`, `&str` type or slices, arrays and `Vec`s of those),
/// `reverse` (only `_grad` and `_vjp`), `forward` (only `_jvp`), `order = 2` (also
/// `f_hvp`; `order = 1` is the default), `jacobian` (also `f_jacobian`), `checkpoint` (a `_vjp` whose pullback recomputes; not with `forward`),
/// `crate = path` (where the runtime is, `::grad` by default). A construct outside the
/// supported subset is a compile error spanned on it, never a panic of the macro.
///
/// ```
/// use grad::differentiable;
///
/// #[differentiable(wrt(x))]
/// fn f(x: f64, y: f64) -> f64 {
///     x * x * y + x.sin()
/// }
///
/// // df/dx = 2xy + cos x; at (0, 5): 0 + 1.
/// let (value, dx) = f_grad(0.0, 5.0);
/// assert_eq!((value, dx), (0.0, 1.0));
/// // The same derivative in forward mode, along dx = 2 (y is not differentiated).
/// let (_, dv) = f_jvp(0.0, 5.0, 2.0, grad::NoTangent);
/// assert_eq!(dv, 2.0);
/// // And as a pullback, with the result's cotangent 3.
/// let (_, pullback) = f_vjp(0.0, 5.0);
/// let (dx, grad::NoTangent) = pullback(3.0);
/// assert_eq!(dx, 3.0);
///
/// #[differentiable(order = 2)]
/// fn g(x: &[f64]) -> f64 {
///     x[0] * x[0] * x[1]
/// }
///
/// // ∇g = (2 x0 x1, x0²), H = [[2 x1, 2 x0], [2 x0, 0]]; at (1, 3) along v = (1, 0):
/// // H v = (6, 2).
/// let (value, gradient, hv) = g_hvp(&[1.0, 3.0], &[1.0, 0.0]);
/// assert_eq!((value, gradient, hv), (3.0, vec![6.0, 1.0], vec![6.0, 2.0]));
/// ```
///
/// On methods, `self` is a parameter (`wrt(self)`), and its gradient is the struct's
/// `<Name>Tangent` (see [`macro@Differentiable`]).
#[proc_macro_attribute]
pub fn differentiable(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::differentiable_at(args.into(), item.into(), &site::attribute_in_trait_impl).into()
}

/// Derives `grad::Differentiable` for a struct, with a tangent struct `<Name>Tangent` that
/// has the same field names. `#[no_grad]` marks fields that get no gradient (their tangent
/// field is `()`).
///
/// The tangent struct is what a `#[differentiable(wrt(self))]` method's `_grad` returns and
/// what `grad::optim` steps the struct by; it implements `grad::Tangent` (and, with `grad`'s
/// default feature `serde`, serde's `Serialize` and `Deserialize`). Every field that is not
/// `#[no_grad]` must itself be `Differentiable`; tuple structs and generic structs work too.
/// The tangent struct is `Differentiable` itself (its own tangent), so that a gradient
/// holding one can be differentiated again (`energy_grad(&s, x)` inside another loss).
///
/// For a struct without type parameters the derive also writes a hidden twin of the
/// struct over a generic float (`__AffineOrder2<T>`), through which a
/// `#[differentiable(order = 2)]` function takes the struct as a parameter and `f_hvp` runs
/// it on dual numbers; `#[no_grad]` fields of floats become constants there, other
/// `#[no_grad]` fields are cloned.
///
/// ```
/// use grad::{Differentiable, Tensor, differentiable};
///
/// #[derive(Differentiable, Clone)]
/// struct Affine {
///     w: Tensor<f64>,
///     b: f64,
///     #[no_grad]
///     steps: u64,
/// }
///
/// impl Affine {
///     #[differentiable(wrt(self))]
///     fn loss(&self, x: &Tensor<f64>) -> f64 {
///         let y = x.dot(&self.w) + self.b;
///         y * y
///     }
/// }
///
/// let model = Affine { w: Tensor::from([1.0, 2.0]), b: 0.5, steps: 0 };
/// let x = Tensor::from([4.0, -1.0]);
/// let (loss, g): (f64, AffineTangent) = model.loss_grad(&x);
/// // y = 4 - 2 + 0.5 = 2.5, loss = y²; d/dw = 2y·x = [20, -5], d/db = 2y = 5.
/// assert_eq!(loss, 6.25);
/// assert_eq!((g.w.to_vec(), g.b, g.steps), (vec![20.0, -5.0], 5.0, ()));
/// ```
#[proc_macro_derive(Differentiable, attributes(no_grad))]
pub fn derive_differentiable(input: TokenStream) -> TokenStream {
    derive::derive(input.into()).into()
}
