// The SGEMM micro-kernels gemm.c drives (internal to the Kernels target).
//
// Each computes one MR×NR tile of C:
//   acc[i][j] = Σ_k A(i, k) · B(k, j),   A(i, k) = a[k·a_step + i],   B(k, j) = b[k·NR + j]
//   c[i·ldc + j] = acc[i][j]             when accumulate is 0,
//   c[i·ldc + j] += acc[i][j]            otherwise,
// for i < rows ≤ MR and j < cols ≤ NR only: edge tiles of C are written in place, so nothing
// outside C is touched. B is a packed panel (zero-padded; prepacked ones need not be 64-byte
// aligned); A a packed panel (a_step MR) or full MR columns of a transposed A in place (a_step lda).
//
// The `_rows` kernels read A(i, k) = a[i·lda + k] instead: a full MR-row panel of a row-major A
// in place. Reading A in place saves packing it, which cost a third of the kernel's own time on
// the Winograd GEMMs (32 to 256 deep, with rows 32 to 256 floats apart). Every kernel adds the
// same products in the same order, so packed and in-place operands give identical results.
#ifndef LE4NN_SGEMM_UKERNELS_H
#define LE4NN_SGEMM_UKERNELS_H

#include <stddef.h>
#include "kernels.h"

typedef void (*le4_sgemm_ukernel)(size_t kc, const float *a, size_t a_step, const float *b, float *c, size_t ldc,
                                  size_t rows, size_t cols, int accumulate);
typedef void (*le4_sgemm_rows_ukernel)(size_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc,
                                       size_t cols, int accumulate);

/// One instruction set's micro-kernels and the blocking gemm.c drives them with: MR×NR tiles of C,
/// and blocks of KC (depth), MC (rows of A) and NC (columns of B) sized for its caches; MC and NC
/// must be multiples of MR and NR.
typedef struct {
    size_t mr, nr, kc, mc, nc;
    le4_sgemm_ukernel kernel;
    le4_sgemm_rows_ukernel kernel_rows;
} le4_sgemm_tile;

/// Fetches the rows × cols tile of C at c for writing, every cache line of every row, so that the
/// lines arrive while the kernel's k loop runs: in a training step C is cold (the Winograd
/// products, the filter gradient's sums), and without this the tile's stores waited for it.
/// cifar-fast's training steps took 5.5 % longer without it (AVX2, AMD EPYC Zen 3; steps
/// alternating between the two in one process, warm-up excluded).
static inline __attribute__((always_inline)) void le4_prefetch_c_tile(float *c, size_t ldc, size_t rows, size_t cols) {
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j += 16) __builtin_prefetch(c + i * ldc + j, 1, 3);
        __builtin_prefetch(c + i * ldc + cols - 1, 1, 3);  // the last line, when c is not 64-byte aligned
    }
}

// Each set's micro-kernel file (sgemm_<MR>x<NR>_<name>.c) defines its le4_sgemm_tile_<name>.
#define LE4_DECLARE_SGEMM_TILE(name, ENUM, detect, target, helpers) extern const le4_sgemm_tile le4_sgemm_tile_##name;
LE4_ISA_LIST(LE4_DECLARE_SGEMM_TILE)

#endif
