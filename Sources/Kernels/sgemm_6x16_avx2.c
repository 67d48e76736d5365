// SGEMM micro-kernels, 6×16 tile, AVX2 + FMA: 12 accumulators of 8 floats, two B vectors and one
// broadcast of A fill 15 of the 16 ymm registers. Per k: 2 loads, 6 broadcasts, 12 FMAs.
#include <immintrin.h>
#include "sgemm_ukernels.h"

// The tile with A(i, k) = a[i·rs + k·cs] and B(k, j) = b[k·16 + j] (a packed panel); inlined into
// each entry point, so that the row stride rs is a constant.
__attribute__((target("avx2,fma"), always_inline)) static inline void tile_6x16(
    size_t kc, const float *a, size_t rs, size_t cs, const float *b, float *c, size_t ldc, size_t rows,
    size_t cols, int accumulate) {
    // Every loop over i is unrolled in full so that acc lives in registers.
    __m256 acc[6][2];
    _Pragma("clang loop unroll(full)") for (int i = 0; i < 6; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    le4_prefetch_c_tile(c, ldc, rows, cols);
    for (size_t k = 0; k < kc; k++, a += cs, b += 16) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        _Pragma("clang loop unroll(full)") for (int i = 0; i < 6; i++) {
            __m256 ai = _mm256_broadcast_ss(a + i * rs);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    if (rows == 6 && cols == 16) {
        _Pragma("clang loop unroll(full)") for (int i = 0; i < 6; i++) {
            float *ci = c + i * ldc;
            if (accumulate) {
                acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(ci));
                acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(ci + 8));
            }
            _mm256_storeu_ps(ci, acc[i][0]);
            _mm256_storeu_ps(ci + 8, acc[i][1]);
        }
        return;
    }
    // An edge tile goes through a small array: masked stores (vmaskmovps) are microcoded and slow
    // on AMD's cores.
    float tile[6][16];
    _Pragma("clang loop unroll(full)") for (int i = 0; i < 6; i++) {
        _mm256_storeu_ps(tile[i], acc[i][0]);
        _mm256_storeu_ps(tile[i] + 8, acc[i][1]);
    }
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + tile[i][j] : tile[i][j];
}

__attribute__((target("avx2,fma")))
static void le4_sgemm_6x16_avx2(size_t kc, const float *a, size_t a_step, const float *b, float *c,
                         size_t ldc, size_t rows, size_t cols, int accumulate) {
    tile_6x16(kc, a, 1, a_step, b, c, ldc, rows, cols, accumulate);
}

__attribute__((target("avx2,fma")))
static void le4_sgemm_6x16_avx2_rows(size_t kc, const float *a, size_t lda, const float *b, float *c,
                              size_t ldc, size_t cols, int accumulate) {
    tile_6x16(kc, a, lda, 1, b, c, ldc, 6, cols, accumulate);
}

const le4_sgemm_tile le4_sgemm_tile_avx2 = {6, 16, 256, 144, 4096, le4_sgemm_6x16_avx2, le4_sgemm_6x16_avx2_rows};
