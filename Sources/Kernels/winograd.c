// Winograd convolution transforms, F(m×m, 3×3) for m = 2 to 6 (see kernels.h). The GEMMs
// between them are gemm.c's.
//
// Each image is first turned channels-last (pixel by pixel, channels contiguous), so that a tile's
// transform is a few multiply-adds of whole channel vectors: the inner loops run over channels and
// the compiler vectorizes them. (Along rows, the tiles of the small feature maps here are too few,
// 2 to 16, for vectors.) The 2-D transforms are 1-D transforms along columns, then rows; the 1-D
// transforms are written out with their common subexpressions (as in NNPACK and ncnn: about half
// the operations of the plain matrix product for F(4×4)). Each body is compiled per tile size and
// instruction set by the wrappers at the end.
#include "kernels.h"
#include "kernel_variants.h"
#include "transpose8x8.h"
#include "vfloat.h"

// F(m×m, 3×3): input tile α = m + 2, output tile m, and G (α×3), the filter transform.
typedef struct {
    int m, a;
    float g[8][3];
} transforms;

static const transforms F2 = {2, 4, {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}}};

// Interpolation points 0, 1, −1, 2 and ∞: the integer Bᵀ and Aᵀ of the five-point choices.
static const transforms F3 = {
    3, 5,
    {{1.f / 2, 0, 0}, {-1.f / 2, -1.f / 2, -1.f / 2}, {-1.f / 6, 1.f / 6, -1.f / 6}, {1.f / 6, 1.f / 3, 2.f / 3},
     {0, 0, 1}},
};

// Interpolation points 0, ±1, ±2 and ∞ (Lavin and Gray's choice).
static const transforms F4 = {
    4, 6,
    {{1.f / 4, 0, 0}, {-1.f / 6, -1.f / 6, -1.f / 6}, {-1.f / 6, 1.f / 6, -1.f / 6},
     {1.f / 24, 1.f / 12, 1.f / 6}, {1.f / 24, -1.f / 12, 1.f / 6}, {0, 0, 1}},
};

// Interpolation points 0, ±1, ±2, 1/2 and ∞; the row of 1/2 is scaled by 1/16 here and its column
// of Aᵀ by 16, so that Aᵀ is integer.
static const transforms F5 = {
    5, 7,
    {{-1.f / 2, 0, 0}, {-1.f / 3, -1.f / 3, -1.f / 3}, {1.f / 9, -1.f / 9, 1.f / 9}, {1.f / 36, 1.f / 18, 1.f / 9},
     {-1.f / 60, 1.f / 30, -1.f / 15}, {2.f / 45, 1.f / 45, 1.f / 90}, {0, 0, 1}},
};

// Interpolation points 0, ±1, ±2, ±1/2 and ∞ (NNPACK's and ncnn's F(6×6) for float); the rows of
// ±1/2 are scaled by 1/32 here and their columns of Aᵀ by 32, so that Aᵀ is integer.
static const transforms F6 = {
    6, 8,
    {{1, 0, 0}, {-2.f / 9, -2.f / 9, -2.f / 9}, {-2.f / 9, 2.f / 9, -2.f / 9}, {1.f / 90, 1.f / 45, 2.f / 45},
     {1.f / 90, -1.f / 45, 2.f / 45}, {1.f / 45, 1.f / 90, 1.f / 180}, {1.f / 45, -1.f / 90, 1.f / 180}, {0, 0, 1}},
};

// The tile transforms work on 16 channels at a time as one vfloat, and on the last c mod 16
// channels one by one: each transform is written once as a macro over the element type. (Written
// as plain loops over channels, the 36-point transforms of F(4×4) were left scalar by the
// auto-vectorizer.)

// The 1-D transforms, for a vector type (16 channels) and for float (one channel): t = Bᵀ·d
// (α → α), r = Aᵀ·m (α → m), w = A·e (m → α), with
//   F(2×2): Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  Aᵀ = [1 1 1 0; 0 1 −1 −1]
//   F(3×3): Bᵀ = [2 −1 −2 1 0; 0 −2 −1 1 0; 0 2 −3 1 0; 0 −1 0 1 0; 0 2 −1 −2 1],
//           Aᵀ = [1 1 1 1 0; 0 1 −1 2 0; 0 1 1 4 1]
//   F(4×4): Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0;
//                 0 4 0 −5 0 1],  Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
//   F(5×5): Bᵀ = [−2 4 5/2 −5 −1/2 1 0; 0 2 −2 −9/2 1/2 1 0; 0 −2 6 −7/2 −3/2 1 0; 0 1 −3/2 −2 3/2 1 0;
//                 0 −1 5/2 0 −5/2 1 0; 0 4 0 −5 0 1 0; 0 −2 4 5/2 −5 −1/2 1],
//           Aᵀ = [1 1 1 1 1 16 0; 0 1 −1 2 −2 8 0; 0 1 1 4 4 4 0; 0 1 −1 8 −8 2 0; 0 1 1 16 16 1 1]
//   F(6×6): Bᵀ = [1 0 −21/4 0 21/4 0 −1 0; 0 1 1 −17/4 −17/4 1 1 0; 0 −1 1 17/4 −17/4 −1 1 0;
//                 0 1/2 1/4 −5/2 −5/4 2 1 0; 0 −1/2 1/4 5/2 −5/4 −2 1 0; 0 2 4 −5/2 −5 1/2 1 0;
//                 0 −2 4 5/2 −5 −1/2 1 0; 0 −1 0 21/4 0 −21/4 0 1],
//           Aᵀ = [1 1 1 1 1 32 32 0; 0 1 −1 2 −2 16 −16 0; 0 1 1 4 4 8 8 0; 0 1 −1 8 −8 4 −4 0;
//                 0 1 1 16 16 2 2 0; 0 1 −1 32 −32 1 −1 1]
#define TRANSFORMS_1D(type, sfx)                                                                   \
    static inline __attribute__((always_inline)) void bt_##sfx(int m, const type *d, type *t) {   \
        if (m == 2) {                                                                              \
            t[0] = d[0] - d[2]; t[1] = d[1] + d[2]; t[2] = d[2] - d[1]; t[3] = d[1] - d[3];        \
            return;                                                                                \
        }                                                                                          \
        if (m == 3) {                                                                              \
            const type d31 = d[3] - d[1], d12 = d[1] - d[2];                                       \
            t[0] = 2 * (d[0] - d[2]) + d31; t[1] = d31 - (d[1] + d[2]); t[2] = d31 + 3 * d12;       \
            t[3] = d31; t[4] = (d[4] - d[2]) - 2 * d31;                                            \
            return;                                                                                \
        }                                                                                          \
        if (m == 5) { /* the points are not symmetric (1/2 without −1/2): Bᵀ row by row */         \
            t[5] = 4 * d[1] - 5 * d[3] + d[5];                                                     \
            t[0] = t[5] - 2 * d[0] + 2.5f * d[2] - 0.5f * d[4];                                    \
            t[1] = 2 * d[1] - 2 * d[2] - 4.5f * d[3] + 0.5f * d[4] + d[5];                         \
            t[2] = 6 * d[2] - 2 * d[1] - 3.5f * d[3] - 1.5f * d[4] + d[5];                         \
            t[3] = d[1] - 1.5f * d[2] - 2 * d[3] + 1.5f * d[4] + d[5];                             \
            t[4] = 2.5f * (d[2] - d[4]) - d[1] + d[5];                                             \
            t[6] = 4 * d[2] - 2 * d[1] + 2.5f * d[3] - 5 * d[4] - 0.5f * d[5] + d[6];              \
            return;                                                                                \
        }                                                                                          \
        if (m == 6) { /* rows 1 and 2, 3 and 4, 5 and 6 share their even and odd halves */         \
            const type e1 = d[2] + d[6] - 4.25f * d[4], o1 = d[1] + d[5] - 4.25f * d[3];           \
            const type e3 = d[6] + 0.25f * d[2] - 1.25f * d[4], o3 = 0.5f * d[1] - 2.5f * d[3] + 2 * d[5]; \
            const type e5 = d[6] + 4 * (d[2] - 1.25f * d[4]), o5 = 2 * d[1] - 2.5f * d[3] + 0.5f * d[5]; \
            t[0] = (d[0] - d[6]) + 5.25f * (d[4] - d[2]);                                          \
            t[1] = e1 + o1; t[2] = e1 - o1; t[3] = e3 + o3; t[4] = e3 - o3; t[5] = e5 + o5; t[6] = e5 - o5; \
            t[7] = (d[7] - d[1]) + 5.25f * (d[3] - d[5]);                                          \
            return;                                                                                \
        }                                                                                          \
        /* F(4×4) */                                                                               \
        const type s12 = d[1] + d[2], d12 = d[1] - d[2], d42 = d[4] - d[2], d13 = d[1] - d[3];    \
        t[0] = 4 * d[0] - 5 * d[2] + d[4];                                                         \
        t[1] = (d[3] + d[4]) - 4 * s12;                                                            \
        t[2] = (d[4] - d[3]) + 4 * d12;                                                            \
        t[3] = d42 - 2 * d13;                                                                      \
        t[4] = d42 + 2 * d13;                                                                      \
        t[5] = 4 * d[1] - 5 * d[3] + d[5];                                                         \
    }                                                                                              \
    static inline __attribute__((always_inline)) void at_##sfx(int m, const type *v, type *r) {   \
        if (m == 2) {                                                                              \
            r[0] = v[0] + v[1] + v[2]; r[1] = v[1] - v[2] - v[3];                                  \
            return;                                                                                \
        }                                                                                          \
        if (m == 3) {                                                                              \
            const type s12 = v[1] + v[2];                                                          \
            r[0] = v[0] + s12 + v[3]; r[1] = (v[1] - v[2]) + 2 * v[3]; r[2] = s12 + 4 * v[3] + v[4]; \
            return;                                                                                \
        }                                                                                          \
        if (m == 5) {                                                                              \
            const type s1 = v[1] + v[2], d1 = v[1] - v[2], s3 = v[3] + v[4], d3 = v[3] - v[4];     \
            r[0] = v[0] + s1 + s3 + 16 * v[5]; r[1] = d1 + 2 * d3 + 8 * v[5]; r[2] = s1 + 4 * s3 + 4 * v[5]; \
            r[3] = d1 + 8 * d3 + 2 * v[5]; r[4] = s1 + 16 * s3 + v[5] + v[6];                     \
            return;                                                                                \
        }                                                                                          \
        if (m == 6) {                                                                              \
            const type s1 = v[1] + v[2], d1 = v[1] - v[2], s3 = v[3] + v[4], d3 = v[3] - v[4];     \
            const type s5 = v[5] + v[6], d5 = v[5] - v[6];                                         \
            r[0] = v[0] + s1 + s3 + 32 * s5; r[1] = d1 + 2 * d3 + 16 * d5; r[2] = s1 + 4 * s3 + 8 * s5; \
            r[3] = d1 + 8 * d3 + 4 * d5; r[4] = s1 + 16 * s3 + 2 * s5; r[5] = d1 + 32 * d3 + d5 + v[7]; \
            return;                                                                                \
        }                                                                                          \
        /* F(4×4) */                                                                               \
        const type s12 = v[1] + v[2], d12 = v[1] - v[2], s34 = v[3] + v[4], d34 = v[3] - v[4];    \
        r[0] = v[0] + s12 + s34;                                                                   \
        r[1] = d12 + 2 * d34;                                                                      \
        r[2] = s12 + 4 * s34;                                                                      \
        r[3] = d12 + 8 * d34 + v[5];                                                               \
    }                                                                                              \
    static inline __attribute__((always_inline)) void a_##sfx(int m, const type *e, type *w) {    \
        if (m == 2) {                                                                              \
            w[0] = e[0]; w[1] = e[0] + e[1]; w[2] = e[0] - e[1]; w[3] = -e[1];                     \
            return;                                                                                \
        }                                                                                          \
        if (m == 3) {                                                                              \
            const type s02 = e[0] + e[2];                                                          \
            w[0] = e[0]; w[1] = s02 + e[1]; w[2] = s02 - e[1]; w[3] = e[0] + 2 * e[1] + 4 * e[2];  \
            w[4] = e[2];                                                                           \
            return;                                                                                \
        }                                                                                          \
        if (m == 5) {                                                                              \
            const type se = e[0] + e[2] + e[4], so = e[1] + e[3];                                  \
            const type ce = e[0] + 4 * e[2] + 16 * e[4], co = 2 * e[1] + 8 * e[3];                 \
            w[0] = e[0]; w[1] = se + so; w[2] = se - so; w[3] = ce + co; w[4] = ce - co;           \
            w[5] = 16 * e[0] + 8 * e[1] + 4 * e[2] + 2 * e[3] + e[4]; w[6] = e[4];                 \
            return;                                                                                \
        }                                                                                          \
        if (m == 6) {                                                                              \
            const type se = e[0] + e[2] + e[4], so = e[1] + e[3] + e[5];                           \
            const type ce = e[0] + 4 * e[2] + 16 * e[4], co = 2 * e[1] + 8 * e[3] + 32 * e[5];    \
            const type he = 32 * e[0] + 8 * e[2] + 2 * e[4], ho = 16 * e[1] + 4 * e[3] + e[5];    \
            w[0] = e[0]; w[1] = se + so; w[2] = se - so; w[3] = ce + co; w[4] = ce - co;           \
            w[5] = he + ho; w[6] = he - ho; w[7] = e[5];                                           \
            return;                                                                                \
        }                                                                                          \
        /* F(4×4) */                                                                               \
        const type s02 = e[0] + e[2], s13 = e[1] + e[3], c = e[0] + 4 * e[2], d = 2 * e[1] + 8 * e[3]; \
        w[0] = e[0]; w[1] = s02 + s13; w[2] = s02 - s13; w[3] = c + d; w[4] = c - d; w[5] = e[3]; \
    }
TRANSFORMS_1D(vfloat, v)
TRANSFORMS_1D(vfloat8, v8)
TRANSFORMS_1D(float, s)

static const transforms *of_tile(size_t m) { return m == 6 ? &F6 : m == 5 ? &F5 : m == 4 ? &F4 : m == 3 ? &F3 : &F2; }

size_t le4_winograd_points(size_t m) { return (size_t)(of_tile(m)->a * of_tile(m)->a); }

// The filter transforms work on 16 neighbouring filters at a time as one vfloat, a shorter run at
// the end through zero lanes; with the tile size fixed per variant, G's entries are constants.
// Done filter by filter in scalar code, they took 2 % of a cifar-fast training step (AMD EPYC
// Zen 4, AVX-512).

// v[ξ] = (G·r·Gᵀ)[ξ] for the taps r of 3×3 filters: 9α + 3α² multiply-adds instead of 9α².
static inline __attribute__((always_inline)) void filter_tile(const transforms *T, const vfloat r[9], vfloat *v) {
    const int a = T->a;
    vfloat t[8][3];  // G·r
    for (int i = 0; i < a; i++)
        for (int q = 0; q < 3; q++) t[i][q] = T->g[i][0] * r[q] + T->g[i][1] * r[3 + q] + T->g[i][2] * r[6 + q];
    for (int i = 0; i < a; i++)
        for (int j = 0; j < a; j++) v[i * a + j] = t[i][0] * T->g[j][0] + t[i][1] * T->g[j][1] + t[i][2] * T->g[j][2];
}

// o = Gᵀ·d·G for the α×α gradient d of transformed filters.
static inline __attribute__((always_inline)) void filter_grad_tile(const transforms *T, const vfloat *d, vfloat o[9]) {
    const int a = T->a;
    vfloat t[8][3];  // d·G
    for (int i = 0; i < a; i++)
        for (int q = 0; q < 3; q++) {
            vfloat s = d[i * a] * T->g[0][q];
            for (int j = 1; j < a; j++) s += d[i * a + j] * T->g[j][q];
            t[i][q] = s;
        }
    for (int p = 0; p < 3; p++)
        for (int q = 0; q < 3; q++) {
            vfloat s = T->g[0][p] * t[0][q];
            for (int i = 1; i < a; i++) s += T->g[i][p] * t[i][q];
            o[3 * p + q] = s;
        }
}

// u[ξ][row][j] (see kernels.h): each row's run of filters 16 at a time, so that each point is
// stored as one run of 16 floats (stored one by one, a plane apart, the transform took 6 % of a
// cifar-fast training step).
static inline __attribute__((always_inline)) void filters_all(const transforms *T, size_t k0, size_t k1, size_t k,
                                                              size_t c, const float *g, int flip, float *u) {
    const size_t points = (size_t)(T->a * T->a), plane = k * c;
    // Rows of u (filters, or flipped, channels), and the run of each row this thread fills.
    const size_t rows0 = flip ? 0 : k0, rows1 = flip ? c : k1, run0 = flip ? k0 : 0, run1 = flip ? k1 : c;
    const size_t rowLength = flip ? k : c;
    for (size_t row = rows0; row < rows1; row++) {
        float *out = u + row * rowLength;
        for (size_t j = run0; j < run1; j += VLANES) {
            const size_t lanes = run1 - j < VLANES ? run1 - j : VLANES;
            float taps[9][VLANES];  // tap t of the filters j + l, gathered from their 9 floats each
            for (size_t l = 0; l < lanes; l++) {
                const float *f = g + ((flip ? j + l : row) * c + (flip ? row : j + l)) * 9;
                for (int t = 0; t < 9; t++) taps[t][l] = f[flip ? 8 - t : t];
            }
            for (size_t l = lanes; l < VLANES; l++)
                for (int t = 0; t < 9; t++) taps[t][l] = 0;
            vfloat r[9], v[64];
            for (int t = 0; t < 9; t++) r[t] = LOAD(vfloat, taps[t]);
            filter_tile(T, r, v);
            for (size_t xi = 0; xi < points; xi++) store_first(out + xi * plane + j, &v[xi], lanes);
        }
    }
}

// dg for the filters k0 ≤ kk < k1 (see kernels.h), 16 channels at a time: the points of 16
// neighbouring filters are runs of 16 floats in du.
static inline __attribute__((always_inline)) void filter_grads_all(const transforms *T, size_t k0, size_t k1,
                                                                   size_t k, size_t c, const float *du, float *dg) {
    const size_t points = (size_t)(T->a * T->a), plane = k * c;
    for (size_t kk = k0; kk < k1; kk++) {
        const float *in = du + kk * c;
        float *out = dg + kk * c * 9;
        for (size_t cc = 0; cc < c; cc += VLANES) {
            const size_t lanes = c - cc < VLANES ? c - cc : VLANES;
            vfloat d[64], o[9];
            for (size_t xi = 0; xi < points; xi++) load_first(&d[xi], in + xi * plane + cc, lanes);
            filter_grad_tile(T, d, o);
            float taps[9][VLANES];
            for (int t = 0; t < 9; t++) STORE(vfloat, taps[t], o[t]);
            for (size_t l = 0; l < lanes; l++)  // filter cc + l's 9 taps are contiguous in dg
                for (int t = 0; t < 9; t++) out[(cc + l) * 9 + t] = taps[t][l];
        }
    }
}

// One image channels-last, plus spare pixels: zeros for the padding of the input, and the
// destinations of the output pixels of edge tiles that lie past the tiled region (one each).
size_t le4_winograd_scratch(size_t m, size_t c, size_t h, size_t w) { return (h * w + m * m) * c; }

// dst[j·rows + i] = src[i·cols + j] for i < rows, j < cols.
typedef void (*transpose_fn)(const float *src, size_t rows, size_t cols, float *dst);

static void transpose_portable(const float *src, size_t rows, size_t cols, float *dst) {
    for (size_t i0 = 0; i0 < rows; i0 += 8)  // 8×8 blocks stay in cache
        for (size_t j0 = 0; j0 < cols; j0 += 8)
            for (size_t i = i0; i < i0 + 8 && i < rows; i++)
                for (size_t j = j0; j < j0 + 8 && j < cols; j++) dst[j * rows + i] = src[i * cols + j];
}

// Whole 8×8 blocks in registers, the ragged edges as in the portable version.
__attribute__((target("avx2"))) static void transpose_avx2(const float *src, size_t rows, size_t cols, float *dst) {
    const size_t rows8 = rows & ~(size_t)7, cols8 = cols & ~(size_t)7;
    for (size_t i0 = 0; i0 < rows8; i0 += 8)
        for (size_t j0 = 0; j0 < cols8; j0 += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + (i0 + i) * cols + j0);
            le4_transpose8x8(r);
            for (int j = 0; j < 8; j++) _mm256_storeu_ps(dst + (j0 + j) * rows + i0, r[j]);
        }
    for (size_t i = 0; i < rows; i++)
        for (size_t j = i < rows8 ? cols8 : 0; j < cols; j++) dst[j * rows + i] = src[i * cols + j];
}

// p[i][j] = the channel vector of pixel (y0 + i, x0 + j) of a channels-last image w pixels wide,
// or `zeros` outside rows < h and columns < w_in, for i, j < span.
static inline __attribute__((always_inline)) void patch(const float *hwc, const float *zeros, size_t h, size_t w_in,
                                                        size_t w, size_t c, long y0, long x0, int span,
                                                        const float *p[8][8]) {
    for (int i = 0; i < span; i++)
        for (int j = 0; j < span; j++) {
            const long y = y0 + i, x = x0 + j;
            p[i][j] = y >= 0 && y < (long)h && x >= 0 && x < (long)w_in ? hwc + (y * (long)w + x) * (long)c : zeros;
        }
}

// v = Bᵀ·d·B for one tile at channel ch (d: α×α pointers to channel vectors); each of the α²
// outputs is stored once.
#define INPUT_TILE(type, sfx)                                                                                    \
    static inline __attribute__((always_inline)) void input_tile_##sfx(const transforms *T, const float *d[8][8], \
                                                                       size_t ch, size_t plane, float *out) {    \
        const int a = T->a;                                                                                      \
        type t[8][8]; /* t[s] = Bᵀ·(column s of d) */                                                            \
        for (int s = 0; s < a; s++) {                                                                            \
            type col[8];                                                                                         \
            for (int r = 0; r < a; r++) col[r] = LOAD(type, d[r][s] + ch);                                       \
            bt_##sfx(T->m, col, t[s]);                                                                           \
        }                                                                                                        \
        for (int i = 0; i < a; i++) { /* row i of (Bᵀ·d)·B = Bᵀ·(row i of Bᵀ·d) */                               \
            type row[8], v[8];                                                                                   \
            for (int s = 0; s < a; s++) row[s] = t[s][i];                                                        \
            bt_##sfx(T->m, row, v);                                                                              \
            for (int j = 0; j < a; j++) STORE(type, out + (size_t)(i * a + j) * plane + ch, v[j]);               \
        }                                                                                                        \
    }
INPUT_TILE(vfloat, v)
INPUT_TILE(vfloat8, v8)
INPUT_TILE(float, s)

// y = Aᵀ·M·A for one tile at channel ch, then the epilogue; o[i][j] receives output pixel (i, j).
#define OUTPUT_TILE(type, sfx)                                                                                   \
    static inline __attribute__((always_inline)) void output_tile_##sfx(                                         \
        const transforms *T, const float *in, size_t plane, size_t ch, const float *scale, const float *shift,   \
        int relu, float *o[6][6]) {                                                                              \
        const int a = T->a, m = T->m;                                                                            \
        type t[8][6]; /* t[j] = Aᵀ·(column j of M) */                                                            \
        for (int j = 0; j < a; j++) {                                                                            \
            type col[8];                                                                                         \
            for (int r = 0; r < a; r++) col[r] = LOAD(type, in + (size_t)(r * a + j) * plane + ch);             \
            at_##sfx(m, col, t[j]);                                                                              \
        }                                                                                                        \
        const type zero = {0};                                                                                   \
        const type sc = scale ? LOAD(type, scale + ch) : zero + 1, sh = shift ? LOAD(type, shift + ch) : zero;  \
        for (int i = 0; i < m; i++) { /* row i of (Aᵀ·M)·A = Aᵀ·(row i of Aᵀ·M) */                               \
            type row[8], y[6];                                                                                   \
            for (int j = 0; j < a; j++) row[j] = t[j][i];                                                        \
            at_##sfx(m, row, y);                                                                                 \
            for (int j = 0; j < m; j++) {                                                                        \
                type v = sc * y[j] + sh;                                                                         \
                if (relu) v = __builtin_elementwise_max(v, zero);                                                \
                STORE(type, o[i][j] + ch, v);                                                                    \
            }                                                                                                    \
        }                                                                                                        \
    }
OUTPUT_TILE(vfloat, v)
OUTPUT_TILE(vfloat8, v8)
OUTPUT_TILE(float, s)

// 2×2 max pooling, stride 2, of one channels-last image hwc [h − h mod 2][w − w mod 2][k] (the
// part of an h×w image that the windows take) into y [k][h/2][w/2] and, unless NULL, argmax: each
// window's maximum, with maxpool2x2.c's order on ties (the better of the top pair, of the bottom
// pair, then of the two; the first on ties), and its index in the full-size image [k][h][w] plus
// index_base. Vectors run across 16 channels; their lanes are stored to 16 planes, a quarter of
// the image's size, instead of transposing.
static inline __attribute__((always_inline)) void pool_hwc(const float *hwc, size_t h, size_t w, size_t k,
                                                           int32_t index_base, float *y, int32_t *argmax) {
    const size_t ow = w / 2, out = (h / 2) * ow, in = h * w, row = w & ~(size_t)1;  // row: hwc's width
    for (size_t py = 0; py < h / 2; py++)
        for (size_t px = 0; px < ow; px++) {
            const size_t i0 = 2 * py * w + 2 * px, o = py * ow + px;  // the window's top-left pixel; the output
            const float *tl = hwc + (2 * py * row + 2 * px) * k, *tr = tl + k, *bl = tl + row * k, *br = bl + k;
            size_t ch = 0;
            for (; ch + VLANES <= k; ch += VLANES) {
                const vfloat a = LOAD(vfloat, tl + ch), b = LOAD(vfloat, tr + ch);
                const vfloat c = LOAD(vfloat, bl + ch), d = LOAD(vfloat, br + ch);
                const vmask right_t = b > a, right_b = d > c;  // a true lane is −1
                const vfloat top = (vfloat)((right_t & (vmask)b) | (~right_t & (vmask)a));
                const vfloat bottom = (vfloat)((right_b & (vmask)d) | (~right_b & (vmask)c));
                const vmask lower = bottom > top;
                const vfloat best = (vfloat)((lower & (vmask)bottom) | (~lower & (vmask)top));
                for (int l = 0; l < VLANES; l++) y[(ch + l) * out + o] = best[l];
                if (!argmax) continue;
                const vmask it = (vmask){0} + (int32_t)i0 - right_t, ib = (vmask){0} + (int32_t)(i0 + w) - right_b;
                const vmask at = (lower & ib) | (~lower & it);
                for (int l = 0; l < VLANES; l++) argmax[(ch + l) * out + o] = index_base + (int32_t)((ch + l) * in) + at[l];
            }
            for (; ch < k; ch++) {
                const int right_t = tr[ch] > tl[ch], right_b = br[ch] > bl[ch];
                const float top = right_t ? tr[ch] : tl[ch], bottom = right_b ? br[ch] : bl[ch];
                const int lower = bottom > top;
                y[ch * out + o] = lower ? bottom : top;
                if (argmax)
                    argmax[ch * out + o] =
                        index_base + (int32_t)(ch * in + (lower ? i0 + w + (size_t)right_b : i0 + (size_t)right_t));
            }
        }
}

// The output transform of n images into y, through each image's channels-last block in scratch:
// transposed to y [n][k][h][w], or with `pool` pooled into y [n][k][h/2][w/2] (pool_hwc); with
// `pool`, mm holds the tiles of the image's even part only.
static inline __attribute__((always_inline)) void output_tiles(const transforms *T, const float *mm, size_t n,
                                                               size_t k, size_t h, size_t w, const float *scale,
                                                               const float *shift, int relu, float *scratch,
                                                               float *y, transpose_fn transpose, int pool,
                                                               int32_t *argmax, int32_t index_base) {
    const size_t oh = pool ? h & ~(size_t)1 : h, ow = pool ? w & ~(size_t)1 : w;  // the rows and columns tiled
    const size_t m = (size_t)T->m, th = (oh + m - 1) / m, tw = (ow + m - 1) / m, plane = n * th * tw * k;
    float *hwc = scratch, *spare = scratch + oh * ow * k;
    for (size_t b = 0; b < n; b++) {
        for (size_t ty = 0; ty < th; ty++)
            for (size_t tx = 0; tx < tw; tx++) {
                float *o[6][6];
                for (size_t i = 0; i < m; i++)
                    for (size_t j = 0; j < m; j++) {
                        const size_t oy = m * ty + i, ox = m * tx + j;
                        o[i][j] = oy < oh && ox < ow ? hwc + (oy * ow + ox) * k : spare + (i * m + j) * k;
                    }
                const float *in = mm + ((b * th + ty) * tw + tx) * k;
                size_t ch = 0;
                for (; ch + 16 <= k; ch += 16) output_tile_v(T, in, plane, ch, scale, shift, relu, o);
                for (; ch + 8 <= k; ch += 8) output_tile_v8(T, in, plane, ch, scale, shift, relu, o);
                for (; ch < k; ch++) output_tile_s(T, in, plane, ch, scale, shift, relu, o);
            }
        if (!pool) {
            transpose(hwc, h * w, k, y + b * k * h * w);
            continue;
        }
        const size_t pooled = k * (h / 2) * (w / 2);
        pool_hwc(hwc, h, w, k, index_base + (int32_t)(b * k * h * w), y + b * pooled, argmax ? argmax + b * pooled : 0);
    }
}

// w = A·e·Aᵀ for the m×m gradient block e of one tile (pointers to channel vectors) at channel ch.
#define OUTPUT_GRAD_TILE(type, sfx)                                                                              \
    static inline __attribute__((always_inline)) void output_grad_tile_##sfx(                                    \
        const transforms *T, const float *e[8][8], size_t ch, size_t plane, float *out) {                       \
        const int a = T->a, m = T->m;                                                                            \
        type t[6][8]; /* t[i] = A·(row i of e): row i of e·Aᵀ */                                                 \
        for (int i = 0; i < m; i++) {                                                                            \
            type row[6];                                                                                         \
            for (int s = 0; s < m; s++) row[s] = LOAD(type, e[i][s] + ch);                                      \
            a_##sfx(m, row, t[i]);                                                                               \
        }                                                                                                        \
        for (int j = 0; j < a; j++) { /* column j of A·(e·Aᵀ) */                                                 \
            type col[6], w[8];                                                                                   \
            for (int r = 0; r < m; r++) col[r] = t[r][j];                                                        \
            a_##sfx(m, col, w);                                                                                  \
            for (int i = 0; i < a; i++) STORE(type, out + (size_t)(i * a + j) * plane + ch, w[i]);               \
        }                                                                                                        \
    }
OUTPUT_GRAD_TILE(vfloat, v)
OUTPUT_GRAD_TILE(vfloat8, v8)
OUTPUT_GRAD_TILE(float, s)

// The input transform (grad 0: α×α patches from one pixel before each tile, the padding) or the
// output-gradient transform (grad 1: the tile's own m×m pixels, zero past oh×ow) of every tile of
// the output rows < oh and columns < ow of n images src [n][c][h][w], into out[(ξ·T + t)·c + ch].
static inline __attribute__((always_inline)) void gather_tiles(const transforms *T, int grad, const float *src,
                                                               size_t n, size_t c, size_t h, size_t w, size_t oh,
                                                               size_t ow, float *scratch, float *out,
                                                               transpose_fn transpose) {
    const size_t m = (size_t)T->m, th = (oh + m - 1) / m, tw = (ow + m - 1) / m, plane = n * th * tw * c;
    const long before = grad ? 0 : 1;
    float *hwc = scratch, *zeros = scratch + h * w * c;
    for (size_t ch = 0; ch < c; ch++) zeros[ch] = 0;
    for (size_t b = 0; b < n; b++) {
        transpose(src + b * c * h * w, c, h * w, hwc);
        for (size_t ty = 0; ty < th; ty++)
            for (size_t tx = 0; tx < tw; tx++) {
                const float *p[8][8];
                patch(hwc, zeros, grad ? oh : h, grad ? ow : w, w, c, (long)(m * ty) - before, (long)(m * tx) - before,
                      grad ? T->m : T->a, p);
                float *o = out + ((b * th + ty) * tw + tx) * c;
                size_t ch = 0;
                for (; ch + 16 <= c; ch += 16) {
                    if (grad) output_grad_tile_v(T, p, ch, plane, o);
                    else input_tile_v(T, p, ch, plane, o);
                }
                for (; ch + 8 <= c; ch += 8) {  // 8 channels in the scalar tile were 0.9 % of a cifar-fast step
                    if (grad) output_grad_tile_v8(T, p, ch, plane, o);
                    else input_tile_v8(T, p, ch, plane, o);
                }
                for (; ch < c; ch++) {
                    if (grad) output_grad_tile_s(T, p, ch, plane, o);
                    else input_tile_s(T, p, ch, plane, o);
                }
            }
    }
}

// One function per tile size and instruction set, so that each body is compiled with constant
// transforms and the target's vectors.
#define LE4_WINOGRAD_VARIANT(name, F, target, transpose)                                                  \
    target static void filter_##name(size_t k0, size_t k1, size_t k, size_t c, const float *g, int flip,  \
                                     float *u) {                                                         \
        filters_all(&F, k0, k1, k, c, g, flip, u);                                                       \
    }                                                                                                    \
    target static void filter_grad_##name(size_t k0, size_t k1, size_t k, size_t c, const float *du,     \
                                          float *dg) {                                                   \
        filter_grads_all(&F, k0, k1, k, c, du, dg);                                                      \
    }                                                                                                    \
    target static void input_##name(const float *x, size_t n, size_t c, size_t h, size_t w, size_t oh,   \
                                    size_t ow, float *scratch, float *v) {                               \
        gather_tiles(&F, 0, x, n, c, h, w, oh, ow, scratch, v, transpose_##transpose);                   \
    }                                                                                                    \
    target static void output_##name(const float *m, size_t n, size_t k, size_t h, size_t w,             \
                                     const float *scale, const float *shift, int relu, float *scratch,   \
                                     float *y) {                                                         \
        output_tiles(&F, m, n, k, h, w, scale, shift, relu, scratch, y, transpose_##transpose, 0, 0, 0); \
    }                                                                                                    \
    target static void output_pool_##name(const float *m, size_t n, size_t k, size_t h, size_t w,        \
                                          const float *shift, float *scratch, float *y, int32_t *argmax, \
                                          int32_t base) {                                                \
        output_tiles(&F, m, n, k, h, w, 0, shift, 0, scratch, y, transpose_##transpose, 1, argmax, base); \
    }                                                                                                    \
    target static void output_grad_##name(const float *dy, size_t n, size_t k, size_t h, size_t w,       \
                                          size_t oh, size_t ow, float *scratch, float *out) {            \
        gather_tiles(&F, 1, dy, n, k, h, w, oh, ow, scratch, out, transpose_##transpose);                \
    }

// Each instruction set's entries pick the variant of tile size m.
#define LE4_WINOGRAD_PICK(op, isa, m) \
    ((m) == 6   ? op##_f6_##isa                                                                        \
     : (m) == 5 ? op##_f5_##isa                                                                        \
     : (m) == 4 ? op##_f4_##isa                                                                        \
     : (m) == 3 ? op##_f3_##isa                                                                        \
                : op##_f2_##isa)
#define LE4_WINOGRAD_ENTRIES(isa)                                                                        \
    void le4_winograd_filter_##isa(size_t m, size_t k0, size_t k1, size_t k, size_t c, const float *g,    \
                                   int flip, float *u) {                                                 \
        LE4_WINOGRAD_PICK(filter, isa, m)(k0, k1, k, c, g, flip, u);                                     \
    }                                                                                                    \
    void le4_winograd_filter_grad_##isa(size_t m, size_t k0, size_t k1, size_t k, size_t c,              \
                                        const float *du, float *dg) {                                    \
        LE4_WINOGRAD_PICK(filter_grad, isa, m)(k0, k1, k, c, du, dg);                                    \
    }                                                                                                    \
    void le4_winograd_input_##isa(size_t m, const float *x, size_t n, size_t c, size_t h, size_t w,      \
                                  size_t oh, size_t ow, float *scratch, float *v) {                      \
        LE4_WINOGRAD_PICK(input, isa, m)(x, n, c, h, w, oh, ow, scratch, v);                             \
    }                                                                                                    \
    void le4_winograd_output_##isa(size_t m, const float *mm, size_t n, size_t k, size_t h, size_t w,    \
                                   const float *scale, const float *shift, int relu, float *scratch,     \
                                   float *y) {                                                           \
        LE4_WINOGRAD_PICK(output, isa, m)(mm, n, k, h, w, scale, shift, relu, scratch, y);               \
    }                                                                                                    \
    void le4_winograd_output_pool_##isa(size_t m, const float *mm, size_t n, size_t k, size_t h,         \
                                        size_t w, const float *shift, float *scratch, float *y,          \
                                        int32_t *argmax, int32_t index_base) {                           \
        LE4_WINOGRAD_PICK(output_pool, isa, m)(mm, n, k, h, w, shift, scratch, y, argmax, index_base);   \
    }                                                                                                    \
    void le4_winograd_output_grad_##isa(size_t m, const float *dy, size_t n, size_t k, size_t h,         \
                                        size_t w, size_t oh, size_t ow, float *scratch, float *out) {    \
        LE4_WINOGRAD_PICK(output_grad, isa, m)(dy, n, k, h, w, oh, ow, scratch, out);                    \
    }

#define LE4_WINOGRAD_SET(name, ENUM, detect, target, helpers)                                             \
    LE4_WINOGRAD_VARIANT(f2_##name, F2, target, helpers)                                                  \
    LE4_WINOGRAD_VARIANT(f3_##name, F3, target, helpers)                                                  \
    LE4_WINOGRAD_VARIANT(f4_##name, F4, target, helpers)                                                  \
    LE4_WINOGRAD_VARIANT(f5_##name, F5, target, helpers)                                                  \
    LE4_WINOGRAD_VARIANT(f6_##name, F6, target, helpers)                                                  \
    LE4_WINOGRAD_ENTRIES(name)

LE4_ISA_LIST(LE4_WINOGRAD_SET)
