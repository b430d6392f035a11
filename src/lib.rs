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
//! `#[differentiable(forward)]` only `_jvp`.
//!
//! Cotangent and tangent types: `f32`→`f32`, `f64`→`f64`, `&[T]` and `Vec<T>`→`Vec<T>`,
//! `[T; N]`→`[T; N]`, nalgebra matrices and vectors (`grad::nalgebra`) → the same type, any
//! other `X` or `&X` → `<X as Differentiable>::Tangent`. The tangent
//! arguments of `_jvp` take the parameter's form (`&[f64]`→`&[f64]`).
//!
//! # Custom derivatives
//!
//! A call `g(x)` inside a differentiable body is differentiated through `g_vjp` (reverse)
//! and `g_jvp` (forward), whoever wrote them: the attribute, or a person who wants a
//! cheaper or more stable derivative. See `examples/quickstart.rs`.

//!
//! # Features
//!
//! - `serde` (default): `Serialize`/`Deserialize` for [`Tensor`] (as `{"shape", "data"}`),
//!   the derived `<Name>Tangent` structs and the optimizers with their state.
//! - `ndarray`: [`Tensor`] from any `ndarray` array, into `ArrayD` and, where the ranks
//!   agree, `Array0`..`Array6`; `ndarray` is re-exported as `grad::ndarray`.
//!
//! [`io`] saves and loads parameters as safetensors files, whatever the features.

pub use grad_macros::{Differentiable, differentiable};
pub use grad_runtime::*;
pub use nalgebra;
