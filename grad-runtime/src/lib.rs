//! Runtime of `grad`: the `Differentiable` trait, scalar floats, tensors and their SIMD
//! kernels, and the derivative rule of every primitive that `#[differentiable]` code calls.

#![warn(missing_docs)]

pub mod check;
mod differentiable;
pub mod dual;
mod functions;
#[doc(hidden)]
pub mod fuse;
pub mod io;
pub mod jacobian;
pub mod kernels;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod nn;
pub mod optim;
pub mod parallel;
mod real;
pub mod revolve;
pub mod rules;
mod tensor;

pub use differentiable::{Differentiable, Flat, FlatMut, NoTangent, Tangent, in_field};
pub use dual::Dual;
pub use functions::{
    clamp, clamp_jvp, clamp_vjp, relu, relu_jvp, relu_vjp, sigmoid, sigmoid_jvp, sigmoid_vjp,
    stop_gradient,
};
#[cfg(feature = "ndarray")]
#[doc(no_inline)]
pub use ndarray;
pub use real::Real;
pub use revolve::checkpoint;
pub use tensor::{
    Dims, Operand, ShapeError, Tensor, broadcast_shapes, kept_buffer_bytes, release_buffers,
};

/// Everything generated code names. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::__tangent_struct as tangent_struct;
    pub use crate::differentiable::{
        Differentiable, NoTangent, Tangent, tangent_named, tangent_zero,
    };
    pub use crate::dual::{
        Cast, Dual, DualParts, Dualize, Order2, ToDuals, constants, dual_tangents, dual_values,
        dualize, dualize_constant, dualize_parts, dualize_slice, dualize_slice_constant, duals,
        grad_pullback, lift, lift_vjp, pair, pair_tangents, part_name, promote,
    };
    pub use crate::fuse;
    pub use crate::jacobian::{
        Jacobian, jacobian, jacobian_by_columns, jacobian_by_reused_rows, jacobian_by_rows,
        jacobian_reusing,
    };
    pub use crate::real::Real;
    pub use crate::revolve;
    pub use crate::rules::construct::{
        TensorData, mul_add, mul_add_jvp, mul_add_vjp, tensor_from, tensor_from_jvp,
        tensor_from_slice, tensor_from_slice_jvp, tensor_from_slice_vjp, tensor_from_vec,
        tensor_from_vec_jvp, tensor_from_vec_vjp, tensor_from_vjp,
    };
    pub use crate::rules::fields::{
        FieldTangent, IntoField, IntoNoGradField, IntoTangentField, NoGradFieldTangent,
        TangentField,
    };
    pub use crate::rules::inplace::{
        cleared, cleared_jvp, cleared_vjp, copied_from, copied_from_jvp, copied_from_vjp,
        dedup_positions, extended_from, extended_from_jvp, extended_from_vjp, filled, filled_jvp,
        filled_vjp, gathered, gathered_jvp, gathered_vjp, inserted, inserted_jvp, inserted_vjp,
        permuted, permuted_jvp, permuted_vjp, removed, removed_jvp, removed_vjp, resized,
        resized_jvp, resized_vjp, retained_positions, reversed, reversed_jvp, reversed_vjp,
        sort_permutation, swap_removed, swap_removed_jvp, swap_removed_vjp, swapped, swapped_jvp,
        swapped_vjp, truncated, truncated_jvp, truncated_vjp,
    };
    pub use crate::rules::mapped::{
        Like, Mappable, MappedAs, rebuilt, rebuilt_jvp, rebuilt_vjp, shape_like,
    };
    pub use crate::rules::op;
    pub use crate::rules::seed::{ByPiece, ByUnit, Factor, SeedOf};
    pub use crate::rules::sincos::{
        cos_bwd_by_sin, cos_jvp_by_sin, sin_bwd_by_cos, sin_cos, sin_jvp_by_cos,
    };
    pub use crate::rules::support::*;
    pub use crate::rules::zeros::{
        ByLayout, ByZeros, KeepZeros, recycle, zeros_from, zeros_reusing,
    };
    pub use crate::rules::{
        Binary, Linear, LinearBinary, ShapeOf, Shaped, TangentOf, Unary, UnaryOut,
    };
    pub use crate::tensor::Tensor;
    /// The bound of `order = 2` copies that compute with nalgebra values: nalgebra's
    /// `RealField` would do, but its methods (`sin`, `max`, ...) share `Real`'s names, and a
    /// method call on the float type would then be ambiguous; `SimdRealField`'s are `simd_*`.
    pub use ::nalgebra::SimdRealField as NalgebraField;
    #[cfg(feature = "serde")]
    pub use serde;
}

/// Writes the tangent struct that `#[derive(Differentiable)]` declares, with serde's
/// `Serialize` and `Deserialize` derived when this crate's `serde` feature is on: the
/// choice is made here, by the features `grad` was built with, not by the user's crate.
/// The derive passes the impls' bounds as `serialize = "..", deserialize = ".."`.
#[cfg(feature = "serde")]
#[doc(hidden)]
#[macro_export]
macro_rules! __tangent_struct {
    (serialize = $ser:tt, deserialize = $de:tt, $($item:tt)*) => {
        #[derive($crate::__private::serde::Serialize, $crate::__private::serde::Deserialize)]
        #[serde(crate = "::grad::__private::serde", bound(serialize = $ser, deserialize = $de))]
        $($item)*
    };
}

/// Without the `serde` feature, the tangent struct as declared.
#[cfg(not(feature = "serde"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __tangent_struct {
    (serialize = $ser:tt, deserialize = $de:tt, $($item:tt)*) => {
        $($item)*
    };
}
