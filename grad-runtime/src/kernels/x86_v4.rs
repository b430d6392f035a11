//! The kernel bodies compiled for x86-64-v4: AVX-512 F/BW/DQ/VL with FMA.
//!
//! Each function is safe to call only where the CPU has the features, which
//! [`Isa::is_supported`](super::Isa::is_supported) tells; [`with_isa`](super::with_isa) runs the
//! dispatched kernels on this path instead.
//!
//! ```
//! use grad::kernels::{Isa, x86_v4};
//!
//! let (a, b) = ([1.0f32, 2.0, 3.0], [4.0f32, 5.0, 6.0]);
//! if Isa::Avx512.is_supported() {
//!     // SAFETY: this CPU has AVX-512.
//!     assert_eq!(unsafe { x86_v4::dot(&a, &b) }, 32.0);
//! }
//! ```

crate::kernels::isa_wrappers!(true, "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma");
