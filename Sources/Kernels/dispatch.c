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

// One row per instruction set: its variant of every op.
#define LE4_KERNELS_ROW(ISA, isa)                                                                            \
    [ISA] = {ISA,                                                                                            \
             le4_sgemm_##isa, le4_sgemm_packed_b_size_##isa, le4_sgemm_pack_b_##isa, le4_sgemm_prepacked_##isa, \
             le4_winograd_input_##isa, le4_winograd_output_##isa, le4_winograd_output_grad_##isa,            \
             le4_conv3x3_forward_##isa, le4_conv3x3_filter_grad_##isa, le4_maxpool2x2_##isa,                 \
             le4_bn_sums_##isa, le4_bn_normalize_##isa, le4_bn_gradient_sums_##isa, le4_bn_input_grad_##isa}

static const le4_kernels tables[] = {
    LE4_KERNELS_ROW(LE4_ISA_PORTABLE, portable),
    LE4_KERNELS_ROW(LE4_ISA_AVX2, avx2),
    LE4_KERNELS_ROW(LE4_ISA_AVX512, avx512),
};

const le4_kernels *le4_kernels_for(le4_isa isa) {
    return &tables[(size_t)isa < sizeof tables / sizeof tables[0] ? isa : LE4_ISA_PORTABLE];
}
