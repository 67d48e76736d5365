// The SGEMM micro-kernels gemm.c drives (internal to the Kernels target).
//
// Each computes one MR×NR tile of C from packed panels:
//   acc[i][j] = Σ_k a[k·MR + i] · b[k·NR + j]     (a: MR rows of A, k-major; b: NR columns of B)
//   c[i·ldc + j] = acc[i][j]                       when accumulate is 0,
//   c[i·ldc + j] += acc[i][j]                      otherwise,
// for i < rows ≤ MR and j < cols ≤ NR only: edge tiles of C are written in place, so nothing
// outside C is touched. Panels are zero-padded; prepacked ones need not be 64-byte aligned.
//
// The `_rows` kernels read a full MR-row panel of A in place instead, a[i·lda + k], for A whose
// rows lie close together: packing (an 8×8 register transpose per 64 values) cost a third of the
// kernel's own time on the Winograd GEMMs, whose A rows are 32 to 256 floats. They add the same
// products in the same order, so both give identical results.
#ifndef LE4NN_SGEMM_UKERNELS_H
#define LE4NN_SGEMM_UKERNELS_H

#include <stddef.h>

typedef void (*le4_sgemm_ukernel)(size_t kc, const float *a, const float *b, float *c, size_t ldc,
                                  size_t rows, size_t cols, int accumulate);
typedef void (*le4_sgemm_rows_ukernel)(size_t kc, const float *a, size_t lda, const float *b, float *c,
                                       size_t ldc, size_t cols, int accumulate);

void le4_sgemm_4x16_portable(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t rows, size_t cols, int accumulate);
void le4_sgemm_6x16_avx2(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t rows, size_t cols, int accumulate);
void le4_sgemm_12x32_avx512(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t rows, size_t cols, int accumulate);
void le4_sgemm_4x16_portable_rows(size_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc, size_t cols, int accumulate);
void le4_sgemm_6x16_avx2_rows(size_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc, size_t cols, int accumulate);
void le4_sgemm_12x32_avx512_rows(size_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc, size_t cols, int accumulate);

#endif
