//! The kernel bodies compiled for aarch64 Advanced SIMD (NEON, which has FMA).

crate::kernels::isa_wrappers!(true, "neon");
