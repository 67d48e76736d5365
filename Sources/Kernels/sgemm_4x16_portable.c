// SGEMM micro-kernel, 4×16 tile, plain C: the path for CPUs without AVX2, and the reference
// the SIMD kernels are tested against. Compilers vectorize the j loops with the baseline SSE2.
#include "sgemm_ukernels.h"

void le4_sgemm_4x16_portable(size_t kc, const float *a, const float *b, float *c, size_t ldc,
                             size_t rows, size_t cols, int accumulate) {
    float acc[4][16] = {{0}};
    for (size_t k = 0; k < kc; k++, a += 4, b += 16)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 16; j++) acc[i][j] += a[i] * b[j];
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}
