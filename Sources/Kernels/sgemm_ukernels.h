// The SGEMM micro-kernels gemm.c drives (internal to the Kernels target).
//
// Each computes one MR×NR tile of C:
//   acc[i][j] = Σ_k A(i, k) · B(k, j),   A(i, k) = a[k·a_step + i],   B(k, j) = b[k·b_step + j]
//   c[i·ldc + j] = acc[i][j]             when accumulate is 0,
//   c[i·ldc + j] += acc[i][j]            otherwise,
// for i < rows ≤ MR and j < cols ≤ NR only: edge tiles of C are written in place, so nothing
// outside C is touched. A and B are packed panels (a_step MR, b_step NR; zero-padded, and
// prepacked ones need not be 64-byte aligned), or full MR rows and NR columns of the matrices
// themselves (a_step lda of a transposed A, b_step ldb).
//
// The `_rows` kernels read A(i, k) = a[i·lda + k] instead: a full MR-row panel of a row-major A
// in place. Reading operands in place saves packing them, which cost a third of the kernel's own
// time on the Winograd GEMMs (32 to 256 deep, with rows 32 to 256 floats apart). Every kernel adds
// the same products in the same order, so packed and in-place operands give identical results.
#ifndef LE4NN_SGEMM_UKERNELS_H
#define LE4NN_SGEMM_UKERNELS_H

#include <stddef.h>

typedef void (*le4_sgemm_ukernel)(size_t kc, const float *a, size_t a_step, const float *b, size_t b_step,
                                  float *c, size_t ldc, size_t rows, size_t cols, int accumulate);
typedef void (*le4_sgemm_rows_ukernel)(size_t kc, const float *a, size_t lda, const float *b, size_t b_step,
                                       float *c, size_t ldc, size_t cols, int accumulate);

void le4_sgemm_4x16_portable(size_t kc, const float *a, size_t a_step, const float *b, size_t b_step, float *c, size_t ldc, size_t rows, size_t cols, int accumulate);
void le4_sgemm_6x16_avx2(size_t kc, const float *a, size_t a_step, const float *b, size_t b_step, float *c, size_t ldc, size_t rows, size_t cols, int accumulate);
void le4_sgemm_12x32_avx512(size_t kc, const float *a, size_t a_step, const float *b, size_t b_step, float *c, size_t ldc, size_t rows, size_t cols, int accumulate);
void le4_sgemm_4x16_portable_rows(size_t kc, const float *a, size_t lda, const float *b, size_t b_step, float *c, size_t ldc, size_t cols, int accumulate);
void le4_sgemm_6x16_avx2_rows(size_t kc, const float *a, size_t lda, const float *b, size_t b_step, float *c, size_t ldc, size_t cols, int accumulate);
void le4_sgemm_12x32_avx512_rows(size_t kc, const float *a, size_t lda, const float *b, size_t b_step, float *c, size_t ldc, size_t cols, int accumulate);

#endif
