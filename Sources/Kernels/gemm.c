// Packed SGEMM (the Goto/BLIS scheme): C is computed in NC-column, KC-deep, MC-row blocks; each
// block of B and of A is first copied ("packed") into NR-column and MR-row panels laid out in the
// order the micro-kernel reads them, so the kernel streams both from contiguous memory
// and keeps one MR×NR tile of C in registers for KC steps. A B block of KC×NC stays in L2/L3, an
// A block of MC×KC in L2, one B panel of KC×NR in L1. Single-threaded: le4nn splits work across
// threads above this call, so each thread runs its own GEMM on its own packing buffers.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"
#include "kernel_variants.h"
#include "sgemm_ukernels.h"
#include "transpose8x8.h"

// Packing that transposes: dst[k·width + i] = src[i·ld + k] (see below).
typedef void (*panel_transpose_fn)(const float *src, size_t ld, size_t lines, size_t width, size_t kc, float *dst);
static void panel_transpose_portable(const float *src, size_t ld, size_t lines, size_t width, size_t kc, float *dst);
static void panel_transpose_avx2(const float *src, size_t ld, size_t lines, size_t width, size_t kc, float *dst);

// One instruction set's micro-kernels and blocking (its sgemm_*.c file), and its packing transpose.
typedef struct {
    const le4_sgemm_tile *t;
    panel_transpose_fn transpose;
} gemm_config;

// Indexed by le4_isa.
#define LE4_GEMM_CONFIG(name, ENUM, detect, target, helpers) [ENUM] = {&le4_sgemm_tile_##name, panel_transpose_##helpers},
static const gemm_config configs[] = {LE4_ISA_LIST(LE4_GEMM_CONFIG)};

// An A whose lines (rows, or columns of a transposed A) are at most this many floats apart is read
// in place by the kernels: an MR-row panel then spans at most 12 KiB, beside the B panel in L1.
// Only edge panels (fewer than MR rows) are packed. Farther apart (the affine layers' inputs),
// packing keeps the kernel's reads close together. B is always packed: the kernel reads a B panel
// once per MR rows of A, and read in place, its KC lines a power of two apart fall into a few L1
// sets (at 256 floats, 4 of 64) and evict each other. Packed, the filter gradient's 256×256×256
// products ran at 73–76 GFLOP/s instead of 62–66 (AMD EPYC Zen 3, AVX2).
static const size_t in_place_max_ld = 256;
// A transposed A (the Winograd filter gradient's) is read in place too: packing it when N ≥ 128
// ran the 256×256×256 products at 81 GFLOP/s instead of 72 in a standalone bench, where A is warm,
// but in the training step, where A arrives from the transform through L3, the copy cost more
// than it saved (panel_copy 2.3 → 5.0 % of a profile, the kernel 21.6 → 20.3 %).

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
            size_t n = configs[i].t->mc * configs[i].t->kc + configs[i].t->kc * configs[i].t->nc;
            if (n > most) most = n;
        }
        buf = aligned_alloc(64, most * sizeof(float));
        if (buf) pthread_setspecific(buffer_key, buf);
    }
    return buf;
}

// Packing copies lines (rows of A, columns of B) of a block into a panel dst[k·width + i],
// i < width (MR or NR), k < kc, with zeros for i ≥ lines. A line runs either across the
// source's rows (copy) or along one row (transpose).

// dst[k·width + i] = src[k·ld + i]. The lines are 4 to 32 floats, shorter than a library call is
// worth: no_builtin keeps clang from turning the loops back into memmove and memset calls (they
// were 7 % of a training profile).
__attribute__((no_builtin)) static void panel_copy(const float *restrict src, size_t ld, size_t lines, size_t width,
                                                   size_t kc, float *restrict dst) {
    for (size_t k = 0; k < kc; k++, dst += width, src += ld) {
        for (size_t i = 0; i < lines; i++) dst[i] = src[i];
        for (size_t i = lines; i < width; i++) dst[i] = 0;
    }
}

// dst[k·width + i] = src[i·ld + k]
static void panel_transpose_portable(const float *src, size_t ld, size_t lines, size_t width, size_t kc, float *dst) {
    for (size_t k = 0; k < kc; k++)
        for (size_t i = 0; i < width; i++) dst[k * width + i] = i < lines ? src[i * ld + k] : 0;
}

// d[0..<lanes] = the first lanes of v, for lanes 1 to 8, in 128-bit, 64-bit and 32-bit stores:
// masked stores (vmaskmovps) are microcoded and slow on AMD's cores.
__attribute__((target("avx2"), always_inline)) static inline void store_lanes(float *d, __m256 v, size_t lanes) {
    if (lanes == 8) { _mm256_storeu_ps(d, v); return; }
    __m128 part = _mm256_castps256_ps128(v);
    if (lanes >= 4) {
        _mm_storeu_ps(d, part);
        d += 4; lanes -= 4;
        part = _mm256_extractf128_ps(v, 1);
    }
    if (lanes >= 2) {
        _mm_storel_pi((__m64 *)d, part);
        d += 2; lanes -= 2;
        part = _mm_movehl_ps(part, part);
    }
    if (lanes == 1) _mm_store_ss(d, part);
}

// The same in 8×8 register transposes: 8 lines × 8 steps of k at a time; MR 6 and 12 leave
// panels of fewer than 8 lanes.
__attribute__((target("avx2"))) static void panel_transpose_avx2(const float *src, size_t ld, size_t lines,
                                                                 size_t width, size_t kc, float *dst) {
    const size_t kc8 = kc & ~(size_t)7;
    for (size_t i0 = 0; i0 < width; i0 += 8) {
        const size_t real = lines > i0 ? (lines - i0 < 8 ? lines - i0 : 8) : 0;
        const size_t lanes = width - i0 < 8 ? width - i0 : 8;
        for (size_t k0 = 0; k0 < kc8; k0 += 8) {
            __m256 r[8];
            for (size_t i = 0; i < 8; i++) r[i] = i < real ? _mm256_loadu_ps(src + (i0 + i) * ld + k0) : _mm256_setzero_ps();
            le4_transpose8x8(r);
            for (size_t k = 0; k < 8; k++) store_lanes(dst + (k0 + k) * width + i0, r[k], lanes);
        }
        for (size_t k = kc8; k < kc; k++)
            for (size_t i = 0; i < lanes; i++) dst[k * width + i0 + i] = i < real ? src[(i0 + i) * ld + k] : 0;
    }
}

// Rows i < mc of A(i, k) = a[i·lda + k] (a[k·lda + i] when trans) into MR-row panels.
static void pack_a(const gemm_config *cf, size_t mc, size_t kc, const float *a, size_t lda, int trans, float *pa) {
    const size_t mr = cf->t->mr;
    for (size_t p = 0; p < mc; p += mr, pa += mr * kc) {
        const size_t rows = mc - p < mr ? mc - p : mr;
        if (trans) panel_copy(a + p, lda, rows, mr, kc, pa);
        else cf->transpose(a + p * lda, lda, rows, mr, kc, pa);
    }
}

// Columns j < nc of B(k, j) = b[k·ldb + j] (b[j·ldb + k] when trans) into NR-column panels.
static void pack_b(const gemm_config *cf, size_t nc, size_t kc, const float *b, size_t ldb, int trans, float *pb) {
    const size_t nr = cf->t->nr;
    for (size_t p = 0; p < nc; p += nr, pb += nr * kc) {
        const size_t cols = nc - p < nr ? nc - p : nr;
        if (trans) cf->transpose(b + p * ldb, ldb, cols, nr, kc, pb);
        else panel_copy(b + p, ldb, cols, nr, kc, pb);
    }
}

// The depth of the KC blocks for a product k deep: k split evenly into as few blocks of at most KC
// as will do, so that no block is only a few steps deep (the filter gradient's 261-deep products
// had run as 256 + 5: a whole pass over C, and packing, for 5 steps).
static size_t depth_block(const gemm_config *cf, size_t k) {
    const size_t blocks = (k + cf->t->kc - 1) / cf->t->kc;
    return (k + blocks - 1) / blocks;
}

// Where block (jc, pc) of B starts in a prepacked B of depth k: blocks of NC columns follow each
// other, each holding its KC-deep blocks in turn, every one NR-column panels of its depth.
static size_t packed_block(const gemm_config *cf, size_t n, size_t k, size_t jc, size_t pc) {
    const size_t nc = n - jc < cf->t->nc ? n - jc : cf->t->nc;
    return jc * k + pc * ((nc + cf->t->nr - 1) / cf->t->nr * cf->t->nr);
}

// B(k, j), from the matrix or from its packed form.
static float b_at(const gemm_config *cf, const float *b, size_t ldb, int trans_b, const float *packed,
                  size_t n, size_t k, size_t p, size_t j) {
    if (!packed) return trans_b ? b[j * ldb + p] : b[p * ldb + j];
    const size_t kb = depth_block(cf, k), jc = j / cf->t->nc * cf->t->nc, pc = p / kb * kb, kc = k - pc < kb ? k - pc : kb;
    const size_t jr = (j - jc) / cf->t->nr * cf->t->nr;
    return packed[packed_block(cf, n, k, jc, pc) + jr * kc + (p - pc) * cf->t->nr + (j - jc - jr)];
}

// Without packing buffers (allocation failed): correct, slow.
static void sgemm_unpacked(const gemm_config *cf, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                           const float *a, size_t lda, const float *b, size_t ldb, const float *packed_b,
                           float beta, float *c, size_t ldc) {
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float s = 0;
            for (size_t p = 0; p < k; p++)
                s += (trans_a ? a[p * lda + i] : a[i * lda + p]) * b_at(cf, b, ldb, trans_b, packed_b, n, k, p, j);
            c[i * ldc + j] = s + (beta == 0 ? 0 : c[i * ldc + j]);
        }
}

static size_t packed_b_size(const gemm_config *cf, size_t n, size_t k) { return (n + cf->t->nr - 1) / cf->t->nr * cf->t->nr * k; }

static void pack_b_blocks(const gemm_config *cf, int trans_b, size_t n, size_t k, const float *b, size_t ldb, float *packed) {
    for (size_t jc = 0; jc < n; jc += cf->t->nc)
        for (size_t pc = 0, kb = depth_block(cf, k); pc < k; pc += kb) {
            const size_t nc = n - jc < cf->t->nc ? n - jc : cf->t->nc, kc = k - pc < kb ? k - pc : kb;
            pack_b(cf, nc, kc, trans_b ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, trans_b,
                   packed + packed_block(cf, n, k, jc, pc));
        }
}

// C = op(A)·op(B) + beta·C, B either given (b, ldb, trans_b) or prepacked (packed_b).
static void sgemm(const gemm_config *cf, int trans_a, int trans_b, size_t m, size_t n, size_t k, const float *a, size_t lda,
                  const float *b, size_t ldb, const float *packed_b, float beta, float *c, size_t ldc) {
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
    if (!buf) { sgemm_unpacked(cf, trans_a, trans_b, m, n, k, a, lda, b, ldb, packed_b, beta, c, ldc); return; }
    const size_t mr = cf->t->mr, nr = cf->t->nr;
    const int a_in_place = lda <= in_place_max_ld;
    float *pa = buf, *pb_buf = buf + cf->t->mc * cf->t->kc;

    for (size_t jc = 0; jc < n; jc += cf->t->nc) {
        size_t nc = n - jc < cf->t->nc ? n - jc : cf->t->nc;
        for (size_t pc = 0, kb = depth_block(cf, k); pc < k; pc += kb) {
            size_t kc = k - pc < kb ? k - pc : kb;
            int accumulate = pc > 0 || beta != 0;
            const float *pb = packed_b ? packed_b + packed_block(cf, n, k, jc, pc) : pb_buf;
            if (!packed_b) pack_b(cf, nc, kc, trans_b ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, trans_b, pb_buf);
            for (size_t ic = 0; ic < m; ic += cf->t->mc) {
                size_t mc = m - ic < cf->t->mc ? m - ic : cf->t->mc;
                // Rows below `a_packed_from` are read in place, the rest packed into pa.
                const size_t a_packed_from = a_in_place ? mc / mr * mr : 0;
                if (a_packed_from < mc)
                    pack_a(cf, mc - a_packed_from, kc,
                           trans_a ? a + pc * lda + ic + a_packed_from : a + (ic + a_packed_from) * lda + pc, lda, trans_a, pa);
                for (size_t jr = 0; jr < nc; jr += nr) {
                    size_t cols = nc - jr < nr ? nc - jr : nr;
                    const float *bj = pb + jr * kc;
                    for (size_t ir = 0; ir < mc; ir += mr) {
                        size_t rows = mc - ir < mr ? mc - ir : mr;
                        float *cij = c + (ic + ir) * ldc + jc + jr;
                        if (ir >= a_packed_from)
                            cf->t->kernel(kc, pa + (ir - a_packed_from) * kc, mr, bj, cij, ldc, rows, cols, accumulate);
                        else if (trans_a)
                            cf->t->kernel(kc, a + pc * lda + ic + ir, lda, bj, cij, ldc, rows, cols, accumulate);
                        else
                            cf->t->kernel_rows(kc, a + (ic + ir) * lda + pc, lda, bj, cij, ldc, cols, accumulate);
                    }
                }
            }
        }
    }
}

// Each instruction set's entries: the driver above with its configuration.
#define LE4_GEMM_ENTRIES(isa, ISA, detect, target, helpers)                                                    \
    void le4_sgemm_##isa(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float *a, size_t lda,   \
                         const float *b, size_t ldb, float beta, float *c, size_t ldc) {                       \
        sgemm(&configs[ISA], trans_a, trans_b, m, n, k, a, lda, b, ldb, NULL, beta, c, ldc);                   \
    }                                                                                                          \
    size_t le4_sgemm_packed_b_size_##isa(size_t n, size_t k) { return packed_b_size(&configs[ISA], n, k); }    \
    void le4_sgemm_pack_b_##isa(int trans_b, size_t n, size_t k, const float *b, size_t ldb, float *packed) {  \
        pack_b_blocks(&configs[ISA], trans_b, n, k, b, ldb, packed);                                           \
    }                                                                                                          \
    void le4_sgemm_prepacked_##isa(int trans_a, size_t m, size_t n, size_t k, const float *a, size_t lda,      \
                                   const float *packed_b, float beta, float *c, size_t ldc) {                  \
        sgemm(&configs[ISA], trans_a, 0, m, n, k, a, lda, NULL, 0, packed_b, beta, c, ldc);                    \
    }

LE4_ISA_LIST(LE4_GEMM_ENTRIES)
