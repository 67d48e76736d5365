// Packed SGEMM (the Goto/BLIS scheme): C is computed in NC-column, KC-deep, MC-row blocks; each
// block of B and of A is first copied ("packed") into NR-column and MR-row panels laid out in the
// order the micro-kernel reads them, so the kernel streams both from contiguous, aligned memory
// and keeps one MR×NR tile of C in registers for KC steps. A B block of KC×NC stays in L2/L3, an
// A block of MC×KC in L2, one B panel of KC×NR in L1. Single-threaded: le4nn splits work across
// threads above this call, so each thread runs its own GEMM on its own packing buffers.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"
#include "sgemm_ukernels.h"

typedef struct {
    size_t mr, nr, kc, mc, nc;
    le4_sgemm_ukernel kernel;
} gemm_config;

// Indexed by le4_isa. MC and NC are multiples of MR and NR.
static const gemm_config configs[] = {
    [LE4_ISA_PORTABLE] = {4, 16, 256, 128, 2048, le4_sgemm_4x16_portable},
    [LE4_ISA_AVX2] = {6, 16, 256, 144, 4096, le4_sgemm_6x16_avx2},
    [LE4_ISA_AVX512] = {12, 32, 256, 144, 4096, le4_sgemm_12x32_avx512},
};

// Per-thread packing buffers of MC×KC + KC×NC floats, freed when the thread ends.
static pthread_key_t buffer_key;
static pthread_once_t buffer_once = PTHREAD_ONCE_INIT;
static void make_buffer_key(void) { pthread_key_create(&buffer_key, free); }

static float *packing_buffer(void) {
    pthread_once(&buffer_once, make_buffer_key);
    float *buf = pthread_getspecific(buffer_key);
    if (!buf) {
        size_t most = 0;
        for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
            size_t n = configs[i].mc * configs[i].kc + configs[i].kc * configs[i].nc;
            if (n > most) most = n;
        }
        buf = aligned_alloc(64, most * sizeof(float));
        if (buf) pthread_setspecific(buffer_key, buf);
    }
    return buf;
}

// pa[(i / MR)·MR·kc + k·MR + i % MR] = A(i, k) for i < mc, k < kc; rows past mc are zero.
static void pack_a(size_t mr, size_t mc, size_t kc, const float *a, size_t lda, int trans, float *pa) {
    for (size_t p = 0; p < mc; p += mr, pa += mr * kc) {
        size_t rows = mc - p < mr ? mc - p : mr;
        if (rows < mr) memset(pa, 0, mr * kc * sizeof(float));
        for (size_t i = 0; i < rows; i++) {
            if (trans) {
                const float *src = a + p + i;  // A(i, k) = a[k·lda + i]
                for (size_t k = 0; k < kc; k++) pa[k * mr + i] = src[k * lda];
            } else {
                const float *src = a + (p + i) * lda;
                for (size_t k = 0; k < kc; k++) pa[k * mr + i] = src[k];
            }
        }
    }
}

// pb[(j / NR)·NR·kc + k·NR + j % NR] = B(k, j) for k < kc, j < nc; columns past nc are zero.
static void pack_b(size_t nr, size_t nc, size_t kc, const float *b, size_t ldb, int trans, float *pb) {
    for (size_t p = 0; p < nc; p += nr, pb += nr * kc) {
        size_t cols = nc - p < nr ? nc - p : nr;
        if (trans) {  // B(k, j) = b[j·ldb + k]
            if (cols < nr) memset(pb, 0, nr * kc * sizeof(float));
            for (size_t j = 0; j < cols; j++) {
                const float *src = b + (p + j) * ldb;
                for (size_t k = 0; k < kc; k++) pb[k * nr + j] = src[k];
            }
        } else {
            // Loops rather than memcpy/memset: the rows are 16 or 32 floats, shorter than a call.
            for (size_t k = 0; k < kc; k++) {
                const float *src = b + k * ldb + p;
                float *dst = pb + k * nr;
                for (size_t j = 0; j < cols; j++) dst[j] = src[j];
                for (size_t j = cols; j < nr; j++) dst[j] = 0;
            }
        }
    }
}

// Without packing buffers (allocation failed): correct, slow.
static void sgemm_unpacked(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float *a, size_t lda,
                           const float *b, size_t ldb, float beta, float *c, size_t ldc) {
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float s = 0;
            for (size_t p = 0; p < k; p++)
                s += (trans_a ? a[p * lda + i] : a[i * lda + p]) * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
            c[i * ldc + j] = s + (beta == 0 ? 0 : beta * c[i * ldc + j]);
        }
}

void le4_sgemm(le4_isa isa, int trans_a, int trans_b, size_t m, size_t n, size_t k,
               const float *a, size_t lda, const float *b, size_t ldb,
               float beta, float *c, size_t ldc) {
    if (m == 0 || n == 0) return;
    if (beta != 0 && beta != 1)
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) c[i * ldc + j] *= beta;
    if (k == 0) {
        if (beta == 0)
            for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(float));
        return;
    }
    float *buf = packing_buffer();
    if (!buf) { sgemm_unpacked(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc); return; }
    const gemm_config *cf = &configs[isa];
    const size_t mr = cf->mr, nr = cf->nr;
    float *pa = buf, *pb = buf + cf->mc * cf->kc;

    for (size_t jc = 0; jc < n; jc += cf->nc) {
        size_t nc = n - jc < cf->nc ? n - jc : cf->nc;
        for (size_t pc = 0; pc < k; pc += cf->kc) {
            size_t kc = k - pc < cf->kc ? k - pc : cf->kc;
            int accumulate = pc > 0 || beta != 0;
            pack_b(nr, nc, kc, trans_b ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, trans_b, pb);
            for (size_t ic = 0; ic < m; ic += cf->mc) {
                size_t mc = m - ic < cf->mc ? m - ic : cf->mc;
                pack_a(mr, mc, kc, trans_a ? a + pc * lda + ic : a + ic * lda + pc, lda, trans_a, pa);
                for (size_t jr = 0; jr < nc; jr += nr) {
                    size_t cols = nc - jr < nr ? nc - jr : nr;
                    for (size_t ir = 0; ir < mc; ir += mr) {
                        size_t rows = mc - ir < mr ? mc - ir : mr;
                        cf->kernel(kc, pa + ir * kc, pb + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc,
                                   rows, cols, accumulate);
                    }
                }
            }
        }
    }
}
