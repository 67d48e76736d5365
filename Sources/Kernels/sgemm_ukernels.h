// The SGEMM micro-kernels gemm.c drives (internal to the Kernels target).
//
// Each computes one MR×NR tile of C from packed panels:
//   acc[i][j] = Σ_k a[k·MR + i] · b[k·NR + j]     (a: MR rows of A, k-major; b: NR columns of B)
//   c[i·ldc + j] = acc[i][j]                       when accumulate is 0,
//   c[i·ldc + j] += acc[i][j]                      otherwise,
// for i < rows ≤ MR and j < cols ≤ NR only: edge tiles of C are written in place, so nothing
// outside C is touched. Panels are zero-padded; prepacked ones need not be 64-byte aligned.
#ifndef LE4NN_SGEMM_UKERNELS_H
#define LE4NN_SGEMM_UKERNELS_H

#include <stddef.h>

typedef void (*le4_sgemm_ukernel)(size_t kc, const float *a, const float *b, float *c, size_t ldc,
                                  size_t rows, size_t cols, int accumulate);

void le4_sgemm_4x16_portable(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t rows, size_t cols, int accumulate);
void le4_sgemm_6x16_avx2(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t rows, size_t cols, int accumulate);
void le4_sgemm_12x32_avx512(size_t kc, const float *a, const float *b, float *c, size_t ldc, size_t rows, size_t cols, int accumulate);

#endif
