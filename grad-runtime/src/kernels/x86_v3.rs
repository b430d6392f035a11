//! The kernel bodies compiled for x86-64-v3: AVX2 with FMA.

crate::kernels::isa_wrappers!(true, "avx2,fma");
