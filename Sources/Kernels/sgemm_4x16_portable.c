// SGEMM micro-kernels, 4×16 tile, plain C: the path for CPUs without AVX2, and the reference
// the SIMD kernels are tested against. Compilers vectorize the j loops with the baseline SSE2.
#include "sgemm_ukernels.h"

// The tile with A(i, k) = a[i·rs + k·cs] and B(k, j) = b[k·16 + j] (a packed panel).
static inline void tile_4x16(size_t kc, const float *a, size_t rs, size_t cs, const float *b, float *c,
                             size_t ldc, size_t rows, size_t cols, int accumulate) {
    float acc[4][16] = {{0}};
    for (size_t k = 0; k < kc; k++, a += cs, b += 16)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 16; j++) acc[i][j] += a[i * rs] * b[j];
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

static void le4_sgemm_4x16_portable(size_t kc, const float *a, size_t a_step, const float *b, float *c,
                             size_t ldc, size_t rows, size_t cols, int accumulate) {
    tile_4x16(kc, a, 1, a_step, b, c, ldc, rows, cols, accumulate);
}

static void le4_sgemm_4x16_portable_rows(size_t kc, const float *a, size_t lda, const float *b, float *c,
                                  size_t ldc, size_t cols, int accumulate) {
    tile_4x16(kc, a, lda, 1, b, c, ldc, 4, cols, accumulate);
}

const le4_sgemm_tile le4_sgemm_tile_portable = {4, 16, 256, 128, 2048, le4_sgemm_4x16_portable, le4_sgemm_4x16_portable_rows};
