// SGEMM micro-kernels, 12×32 tile, AVX-512: 24 accumulators of 16 floats, two B vectors and one
// broadcast of A take 27 of the 32 zmm registers. Per k: 2 loads, 12 broadcasts, 24 FMAs.
#include <immintrin.h>
#include "sgemm_ukernels.h"

// The tile with A(i, k) = a[i·rs + k·cs] and B(k, j) = b[k·32 + j] (a packed panel); inlined into
// each entry point, so that the row stride rs is a constant.
__attribute__((target("avx512f"), always_inline)) static inline void tile_12x32(
    size_t kc, const float *a, size_t rs, size_t cs, const float *b, float *c, size_t ldc, size_t rows,
    size_t cols, int accumulate) {
    // Every loop over i is unrolled in full so that acc lives in registers (otherwise clang keeps
    // it on the stack and zeroes it with a memset call per tile).
    __m512 acc[12][2];
    _Pragma("clang loop unroll(full)") for (int i = 0; i < 12; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    le4_prefetch_c_tile(c, ldc, rows, cols);
    for (size_t k = 0; k < kc; k++, a += cs, b += 32) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        _Pragma("clang loop unroll(full)") for (int i = 0; i < 12; i++) {
            __m512 ai = _mm512_set1_ps(a[i * rs]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    // Bit j of mask h is set when 16h + j < cols.
    const __mmask16 m0 = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    const __mmask16 m1 = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    _Pragma("clang loop unroll(full)") for (int i = 0; i < 12; i++) {
        if ((size_t)i >= rows) continue;
        float *ci = c + i * ldc;
        if (accumulate) {
            acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_maskz_loadu_ps(m0, ci));
            acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_maskz_loadu_ps(m1, ci + 16));
        }
        _mm512_mask_storeu_ps(ci, m0, acc[i][0]);
        _mm512_mask_storeu_ps(ci + 16, m1, acc[i][1]);
    }
}

__attribute__((target("avx512f")))
static void le4_sgemm_12x32_avx512(size_t kc, const float *a, size_t a_step, const float *b, float *c,
                            size_t ldc, size_t rows, size_t cols, int accumulate) {
    tile_12x32(kc, a, 1, a_step, b, c, ldc, rows, cols, accumulate);
}

__attribute__((target("avx512f")))
static void le4_sgemm_12x32_avx512_rows(size_t kc, const float *a, size_t lda, const float *b, float *c,
                                 size_t ldc, size_t cols, int accumulate) {
    tile_12x32(kc, a, lda, 1, b, c, ldc, 12, cols, accumulate);
}

const le4_sgemm_tile le4_sgemm_tile_avx512 = {12, 32, 256, 144, 4096, le4_sgemm_12x32_avx512, le4_sgemm_12x32_avx512_rows};
