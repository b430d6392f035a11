//! The kernel bodies compiled for x86-64-v3: AVX2 with FMA.
//!
//! Each function is safe to call only where the CPU has the features, which
//! [`Isa::is_supported`](super::Isa::is_supported) tells; [`with_isa`](super::with_isa) runs the
//! dispatched kernels on this path instead.
//!
//! ```
//! use grad::kernels::{Isa, x86_v3};
//!
//! let (a, b) = ([1.0f32, 2.0, 3.0], [4.0f32, 5.0, 6.0]);
//! if Isa::Avx2Fma.is_supported() {
//!     // SAFETY: this CPU has AVX2 and FMA.
//!     assert_eq!(unsafe { x86_v3::dot(&a, &b) }, 32.0);
//! }
//! ```

crate::kernels::isa_wrappers!(true, "avx2,fma");
