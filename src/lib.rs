//! `grad`: exact gradients of ordinary Rust functions, written at compile time.
//!
//! Put `#[differentiable]` on a function and its reverse-mode (`_grad`, `_vjp`) and
//! forward-mode (`_jvp`) derivatives are generated beside it, as plain Rust with no
//! runtime tape:
//!
//! ```
//! use grad::differentiable;
//!
//! #[differentiable]
//! fn loss(a: f64) -> f64 {
//!     a * 5.0
//! }
//!
//! let (value, da) = loss_grad(5.0);
//! assert_eq!((value, da), (25.0, 5.0));
//! ```
//!
//! # What the attribute generates
//!
//! For `#[differentiable] fn f(x: A, y: B, k: usize) -> R`:
//!
//! | item | signature | meaning |
//! |---|---|---|
//! | `f_grad` | `fn f_grad(x: A, y: B, k: usize) -> (R, G)` | value and gradient with respect to the differentiated parameters (`R` a scalar float) |
//! | `f_vjp` | `fn f_vjp(x: A, y: B, k: usize) -> (R, impl FnOnce(R::Tangent) -> (TA, TB, NoTangent))` | value and pullback, one cotangent per parameter |
//! | `f_jvp` | `fn f_jvp(x: A, y: B, k: usize, dx: TA, dy: TB, dk: NoTangent) -> (R, R::Tangent)` | value and directional derivative |
//!
//! `G` is the bare cotangent when one parameter is differentiated and a tuple otherwise.
//! Parameters are differentiated unless their type is syntactically an integer, `bool`,
//! `char`, `&str` or a slice, array or `Vec` of those; `#[differentiable(wrt(x, y))]`
//! chooses them explicitly, `#[differentiable(reverse)]` writes only `_grad` and `_vjp`,
//! `#[differentiable(forward)]` only `_jvp`; `order = 2`, `jacobian` and `checkpoint` are
//! below.
//!
//! Cotangent and tangent types: `f32`→`f32`, `f64`→`f64`, `&[T]` and `Vec<T>`→`Vec<T>`,
//! `[T; N]`→`[T; N]`, nalgebra matrices and vectors (`grad::nalgebra`) → the same type, any
//! other `X` or `&X` → `<X as Differentiable>::Tangent`. The tangent
//! arguments of `_jvp` take the parameter's form (`&[f64]`→`&[f64]`).
//!
//! `#[differentiable(jacobian)]`, for one differentiated parameter and a vector result
//! (slices, `Vec`s, arrays, [`Tensor`]s, nalgebra column vectors), also writes
//! `f_jacobian(x: A, k: usize) -> (R, J)`: the value and the Jacobian, rows = the result's
//! components and columns = the input's, in flat order; `J` is `nalgebra::SMatrix<T, M, N>`
//! when both sides are fixed-size nalgebra vectors and `nalgebra::DMatrix<T>` otherwise
//! ([`jacobian::Jacobian`]). It is built from `f_jvp` columns when there are fewer inputs
//! than outputs and from `f_vjp` rows otherwise (see [`jacobian`]):
//!
//! ```
//! use grad::differentiable;
//! use grad::nalgebra::{SMatrix, Vector2, Vector3};
//!
//! #[differentiable(jacobian)]
//! fn lift(p: Vector2<f64>) -> Vector3<f64> {
//!     Vector3::new(p.x * p.y.cos(), p.x * p.y.sin(), p.x * p.x)
//! }
//!
//! // Two inputs, three outputs: two forward-mode columns.
//! let (value, j): (Vector3<f64>, SMatrix<f64, 3, 2>) = lift_jacobian(Vector2::new(2.0, 0.0));
//! assert_eq!(value, Vector3::new(2.0, 0.0, 4.0));
//! // d(r cos t, r sin t, r²)/d(r, t) at (2, 0) = [[1, 0], [0, 2], [4, 0]]
//! assert_eq!(j, SMatrix::<f64, 3, 2>::new(1.0, 0.0, 0.0, 2.0, 4.0, 0.0));
//! ```
//!
//! `#[differentiable(order = 2)]`, for a scalar result, also writes
//! `f_hvp(x: A, y: B, k: usize, vx: TA, vy: TB, vk: NoTangent) -> (R, G, G)`: the value, the
//! gradient (both exactly `f_grad`'s) and the Hessian times the direction `v`, whose parts
//! take the forms of `f_jvp`'s tangents. It is forward mode over reverse mode: the
//! attribute writes a hidden copy of `f` generic over its float type, differentiates it in
//! reverse, and runs that gradient on [`Dual`] numbers `x + ε v`, so the gradient's tangent
//! part is `H v`; it costs a few gradients and never forms the Hessian. Supported so far:
//! parameters of types `f64`/`f32`, `&[f64]`, `Vec<f64>`, `[f64; N]`, `&[f64; N]` (of `f32`
//! too) and integer, `bool` or `&str` data, over the whole scalar subset (loops, branches,
//! closures, iterator chains, named `const`s); tensors, nalgebra types, structs, methods
//! and generic functions are a compile error saying so. A function called from an
//! `order = 2` function needs `order = 2` itself (without it, rustc reports a missing
//! `__g_order2_vjp` at the call). With `order = 2`, `f_grad` is differentiable too:
//! `f_grad_vjp` (its pullback maps `(dr, dg)` to `dr ∇f + H dg`) and `f_grad_jvp` (the
//! tangent `(<∇f, v>, H v)`) are written, so `f_grad(..)` may be called inside another
//! `#[differentiable]` function (a loss on forces, a gradient penalty). A Newton step with
//! conjugate gradients needs only `f_hvp`:
//!
//! ```
//! use grad::differentiable;
//!
//! #[differentiable(order = 2)]
//! fn rosenbrock(x: &[f64]) -> f64 {
//!     let mut s = 0.0;
//!     for i in 1..x.len() {
//!         s += (1.0 - x[i - 1]).powi(2) + 100.0 * (x[i] - x[i - 1] * x[i - 1]).powi(2);
//!     }
//!     s
//! }
//!
//! // At the minimum (1, 1, 1) the gradient is 0 and H e₀ is the Hessian's first column:
//! // ∂²f/∂x₀² = 2 + 1200 x₀² - 400 x₁ = 802, ∂²f/∂x₁∂x₀ = -400 x₀.
//! let (value, gradient, hv) = rosenbrock_hvp(&[1.0; 3], &[1.0, 0.0, 0.0]);
//! assert_eq!((value, gradient), (0.0, vec![0.0; 3]));
//! assert_eq!(hv, vec![802.0, -400.0, 0.0]);
//! ```
//!
//! `#[differentiable(checkpoint)]` trades time for memory where other functions call `f`:
//! `f_vjp` computes the value keeping nothing, and its pullback holds only the arguments and
//! runs `f`'s forward sweep again when called (JAX's `jax.checkpoint`, PyTorch's
//! `torch.utils.checkpoint`). A caller's reverse pass over a loop of n calls then keeps n
//! inputs, not n times `f`'s intermediate values. Arguments held by value are kept by the
//! pullback and cloned once for the value, so their types must be `Clone`. `f_grad` and
//! `f_jvp` are unchanged; it does not combine with `forward`.
//!
//! ```
//! use grad::{Tensor, differentiable};
//!
//! #[differentiable(checkpoint)]
//! fn block(h: Tensor<f64>, w: &Tensor<f64>) -> Tensor<f64> {
//!     let a = h.matmul(w).tanh();
//!     let b = a.matmul(w).tanh();
//!     &h + &b
//! }
//!
//! #[differentiable(wrt(w))]
//! fn deep(h0: Tensor<f64>, w: &Tensor<f64>, n: usize) -> f64 {
//!     let mut h = h0;
//!     for _ in 0..n {
//!         h = block(h, w); // the reverse pass keeps each `h`, and reruns `block`
//!     }
//!     h.sum()
//! }
//!
//! let w = Tensor::from_vec(vec![0.5, -0.25, 0.125, 0.5], &[2, 2]).unwrap();
//! let (value, dw) = deep_grad(Tensor::ones(&[3, 2]), &w, 10);
//! assert!(value.is_finite() && dw.shape() == &[2, 2]);
//! ```
//!
//! [`checkpoint`] trades time for memory inside one loop: the reverse pass of
//! `for i in grad::checkpoint(0..n, s) { .. }` keeps at most `s` copies of the variables the
//! loop assigns, and runs the steps between them again, in the binomial schedule of
//! Griewank and Walther's Revolve. A million steps of an ODE with 32 snapshots keep 32
//! states instead of a million, and run each step forward at most 8 times in all.
//!
//! # Custom derivatives
//!
//! A call `g(x)` inside a differentiable body is differentiated through `g_vjp` (reverse)
//! and `g_jvp` (forward), whoever wrote them: the attribute, or a person who wants a
//! cheaper or more stable derivative. See also `examples/quickstart.rs`.
//!
//! ```
//! use grad::differentiable;
//!
//! /// `ln(1 + eˣ)` without overflow; its derivative is `sigmoid(x)`.
//! fn softplus(x: f64) -> f64 {
//!     x.max(0.0) + (-x.abs()).exp().ln_1p()
//! }
//! fn softplus_vjp(x: f64) -> (f64, impl FnOnce(f64) -> f64) {
//!     (softplus(x), move |d| d / (1.0 + (-x).exp()))
//! }
//! fn softplus_jvp(x: f64, dx: f64) -> (f64, f64) {
//!     (softplus(x), dx / (1.0 + (-x).exp()))
//! }
//!
//! #[differentiable]
//! fn loss(x: f64) -> f64 {
//!     2.0 * softplus(x)
//! }
//!
//! // d/dx 2 softplus(x) = 2 sigmoid(x): 1 at x = 0, in both modes; no overflow at 1000.
//! assert_eq!(loss_grad(0.0).1, 1.0);
//! assert_eq!(loss_jvp(0.0, 1.0).1, 1.0);
//! assert_eq!(loss_grad(1000.0), (2000.0, 2.0));
//! ```
//!
//! # Where things are
//!
//! - [`Tensor`]: the n-dimensional array of `f32`/`f64`, its constructors and the methods
//!   that are primitives of differentiable code; [`Real`] for generic scalar code.
//! - [`Differentiable`] and [`Tangent`]: what can be differentiated and what its gradient
//!   is; `#[derive(Differentiable)]` for parameter structs.
//! - [`optim`]: `Sgd`, `Adam`, `AdamW`, gradient clipping and loss scaling.
//! - [`nn`]: cross-entropy, mean squared error and binary cross-entropy losses.
//! - [`check`]: finite differences and `gradcheck`.
//! - [`io`]: parameters to and from safetensors files.
//! - [`parallel`] and, with the feature `mpi`, `mpi`: data parallelism over threads and
//!   processes.
//! - [`stop_gradient`], [`relu`], [`sigmoid`], [`clamp`]: free functions of differentiable
//!   code.
//! - [`rules`] and [`kernels`]: each primitive's derivative rule, and the SIMD kernels
//!   under tensors, for writing custom derivatives that are as fast.
//!
//! The README's "Coming from PyTorch or JAX" section maps `backward()`, `jax.grad`,
//! `jvp`, `vjp`, `stop_gradient`, `optimizer.step()` and data parallelism to grad.
//!
//! # More than one core, more than one machine
//!
//! A gradient is a plain value, so data parallelism is a sum of gradients over shards:
//! [`parallel::sum`] computes one per shard on rayon's threads and adds them in a fixed
//! order (the same bits for any thread count), and, with the feature `mpi`, `grad::mpi`
//! all-reduces gradients and broadcasts parameters across the ranks of `mpirun`:
//!
//! ```
//! use grad::{Tangent, Tensor, differentiable, parallel};
//!
//! #[differentiable(wrt(w))]
//! fn loss(w: &Tensor<f64>, x: &Tensor<f64>, y: &Tensor<f64>) -> f64 {
//!     grad::nn::mse(&x.matmul(w), y)
//! }
//!
//! let w = Tensor::from([0.5, -0.25]);
//! let x = Tensor::rand_uniform(&[100, 2], -1.0, 1.0, 1);
//! let y = Tensor::rand_uniform(&[100], -1.0, 1.0, 2);
//! // Four shards of 25 rows; each shard's mean counts for a quarter of the batch's.
//! let shards: Vec<(Tensor<f64>, Tensor<f64>)> = (0..4)
//!     .map(|k| {
//!         let xs = x.as_slice()[50 * k..50 * (k + 1)].to_vec();
//!         let ys = y.as_slice()[25 * k..25 * (k + 1)].to_vec();
//!         (Tensor::from_vec(xs, &[25, 2]).unwrap(), Tensor::from_vec(ys, &[25]).unwrap())
//!     })
//!     .collect();
//! let (value, g) = parallel::sum(&shards, |(xs, ys)| {
//!     let (value, mut g) = loss_grad(&w, xs, ys);
//!     g.scale(0.25);
//!     (value * 0.25, g)
//! });
//! let (whole, whole_g) = loss_grad(&w, &x, &y);
//! assert!((value - whole).abs() < 1e-12);
//! assert!((g.as_slice()[0] - whole_g.as_slice()[0]).abs() < 1e-12);
//! ```
//!
//! # Features
//!
//! - `serde` (default): `Serialize`/`Deserialize` for [`Tensor`] (as `{"shape", "data"}`),
//!   the derived `<Name>Tangent` structs and the optimizers with their state.
//! - `ndarray`: [`Tensor`] from any `ndarray` array, into `ArrayD` and, where the ranks
//!   agree, `Array0`..`Array6`; `ndarray` is re-exported as `grad::ndarray`.
//!
//! [`io`] saves and loads parameters as safetensors files, whatever the features.

#![warn(missing_docs)]

pub use grad_macros::{Differentiable, differentiable};
pub use grad_runtime::*;
pub use nalgebra;

/// The iterable of a `for` loop whose reverse pass is checkpointed: `range` itself,
/// unchanged, outside differentiation (the function as written iterates it as it is).
///
/// Inside a `#[differentiable]` function, the reverse pass (`f_grad`, `f_vjp`) of
/// `for i in grad::checkpoint(lo..hi, snapshots) { .. }` keeps at most `snapshots` copies
/// of the loop-carried state (the variables the body assigns, which must be `Clone`) and
/// one iteration's saved values, instead of every iteration's; it runs the steps between
/// the copies forward again as it needs them (binomial checkpointing: Griewank and
/// Walther's Revolve, [`revolve::Schedule`]). Besides the forward pass and the one run
/// that keeps what its adjoint needs, each step runs forward at most `r` times, the least
/// `r` with `C(snapshots + r, snapshots) >= hi - lo`: 6 for a million steps and 32
/// snapshots. The gradient is the one the plain loop gives (the arithmetic is the same).
/// A `snapshots` of 0 is taken as 1 (the state before the first step is always kept).
/// `f_jvp` runs the loop as it is.
///
/// The first argument must be written as a range, `lo..hi` or `lo..=hi`. The loop must be
/// at the top level of the function body, hold no loop itself (an iterator's `sum` or
/// `fold` is one; call a `#[differentiable]` function that loops instead), and not leave
/// early (`break`, `return`, `?`; `continue` is fine): the macro says so, spanned, where
/// it sees one. Side effects in the body (`println!`) run again with the steps.
///
/// ```
/// use grad::differentiable;
///
/// /// A damped oscillator x'' = -k x - x'/10, integrated with `n` explicit Euler steps.
/// #[differentiable(wrt(k))]
/// fn oscillator(k: f64, n: usize) -> f64 {
///     let (mut x, mut v) = (1.0, 0.0);
///     let h = 1e-3;
///     for _ in grad::checkpoint(0..n, 8) {
///         let a = -k * x - 0.1 * v;
///         x += h * v;
///         v += h * a;
///     }
///     x
/// }
///
/// // The reverse pass keeps 8 states of (x, v), not 10 000.
/// let (x, dk) = oscillator_grad(2.0, 10_000);
/// assert_eq!(x, oscillator(2.0, 10_000));
/// // Against a central finite difference of the function itself.
/// let e = 1e-6;
/// let fd = (oscillator(2.0 + e, 10_000) - oscillator(2.0 - e, 10_000)) / (2.0 * e);
/// assert!((dk - fd).abs() < 1e-6 * fd.abs().max(1.0));
/// ```
#[inline(always)]
pub fn checkpoint<R: Iterator>(range: R, snapshots: usize) -> R {
    grad_runtime::checkpoint(range, snapshots)
}
