// SGEMM micro-kernel, 6×16 tile, AVX2 + FMA: 12 accumulators of 8 floats, two B vectors and one
// broadcast of A fill 15 of the 16 ymm registers. Per k: 2 loads, 6 broadcasts, 12 FMAs.
#include <immintrin.h>
#include "sgemm_ukernels.h"

__attribute__((target("avx2,fma")))
void le4_sgemm_6x16_avx2(size_t kc, const float *a, const float *b, float *c, size_t ldc,
                         size_t rows, size_t cols, int accumulate) {
    __m256 acc[6][2];
    for (int i = 0; i < 6; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (size_t k = 0; k < kc; k++, a += 6, b += 16) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        for (int i = 0; i < 6; i++) {
            __m256 ai = _mm256_broadcast_ss(a + i);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    // Lane j of half h is stored when 8h + j < cols.
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cols), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cols - 8), lane);
    for (int i = 0; i < 6; i++) {
        if ((size_t)i >= rows) break;
        float *ci = c + i * ldc;
        if (cols == 16) {
            if (accumulate) {
                acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(ci));
                acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(ci + 8));
            }
            _mm256_storeu_ps(ci, acc[i][0]);
            _mm256_storeu_ps(ci + 8, acc[i][1]);
        } else {
            if (accumulate) {
                acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_maskload_ps(ci, m0));
                acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_maskload_ps(ci + 8, m1));
            }
            _mm256_maskstore_ps(ci, m0, acc[i][0]);
            _mm256_maskstore_ps(ci + 8, m1, acc[i][1]);
        }
    }
}
