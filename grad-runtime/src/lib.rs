//! Runtime of `grad`: the `Differentiable` trait, scalar floats, tensors and their SIMD
//! kernels, and the derivative rule of every primitive that `#[differentiable]` code calls.

pub mod check;
mod differentiable;
mod functions;
pub mod kernels;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod nn;
pub mod optim;
pub mod parallel;
mod real;
pub mod rules;
mod tensor;

pub use differentiable::{Differentiable, Flat, FlatMut, NoTangent, Tangent};
pub use functions::{
    clamp, clamp_jvp, clamp_vjp, relu, relu_jvp, relu_vjp, sigmoid, sigmoid_jvp, sigmoid_vjp,
    stop_gradient,
};
pub use real::Real;
pub use tensor::{
    Dims, Operand, ShapeError, Tensor, broadcast_shapes, kept_buffer_bytes, release_buffers,
};

/// Everything generated code names. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::differentiable::{Differentiable, NoTangent, Tangent};
    pub use crate::real::Real;
    pub use crate::rules::op;
    pub use crate::rules::support::*;
    pub use crate::rules::{
        Binary, Linear, LinearBinary, ShapeOf, Shaped, TangentOf, Unary, UnaryOut,
    };
    pub use crate::tensor::Tensor;
}
