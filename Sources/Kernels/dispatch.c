// Run-time choice of instruction set, and the table of each set's kernels. One binary runs on
// any x86-64 CPU: the SIMD kernels are compiled with per-function target attributes and only
// called where the CPU has them.
#include "kernels.h"
#include "kernel_variants.h"

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

// One row per instruction set: its variant of every op, by field name.
#define LE4_TABLE_ENTRY(op, set) .op = le4_##op##_##set,
#define LE4_KERNELS_ROW(ISA, set) [ISA] = {.isa = ISA, LE4_KERNEL_OPS(LE4_TABLE_ENTRY, set)}

static const le4_kernels tables[] = {
    LE4_KERNELS_ROW(LE4_ISA_PORTABLE, portable),
    LE4_KERNELS_ROW(LE4_ISA_AVX2, avx2),
    LE4_KERNELS_ROW(LE4_ISA_AVX512, avx512),
};

const le4_kernels *le4_kernels_for(le4_isa isa) {
    return &tables[(size_t)isa < sizeof tables / sizeof tables[0] ? isa : LE4_ISA_PORTABLE];
}
