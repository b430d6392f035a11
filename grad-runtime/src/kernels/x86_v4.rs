//! The kernel bodies compiled for x86-64-v4: AVX-512 F/BW/DQ/VL with FMA.

crate::kernels::isa_wrappers!(true, "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma");
