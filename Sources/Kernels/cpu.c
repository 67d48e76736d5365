// Run-time choice of instruction set. One binary runs on any x86-64 CPU: the SIMD kernels are
// compiled with per-function target attributes and only called where the CPU has them.
#include "kernels.h"

le4_isa le4_best_isa(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves the wider registers (XGETBV).
    if (__builtin_cpu_supports("avx512f")) return LE4_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return LE4_ISA_AVX2;
#endif
    return LE4_ISA_PORTABLE;
}

const char *le4_isa_name(le4_isa isa) {
    switch (isa) {
    case LE4_ISA_AVX512: return "avx512";
    case LE4_ISA_AVX2: return "avx2";
    default: return "portable";
    }
}
