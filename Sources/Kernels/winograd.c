// Winograd convolution transforms, F(2×2, 3×3) and F(4×4, 3×3) (see kernels.h). The GEMMs
// between them are gemm.c's.
//
// Each image is first turned channels-last (pixel by pixel, channels contiguous), so that a tile's
// transform is a few multiply-adds of whole channel vectors: the inner loops run over channels and
// the compiler vectorizes them. (Along rows, the tiles of the small feature maps here are too few,
// 2 to 16, for vectors.) The bodies are written once for any tile size m, with the transform
// matrices as constants, and compiled per tile size and instruction set by the wrappers at the
// end; the zero entries of the matrices drop out at compile time.
#include "kernels.h"
#include "transpose8x8.h"

// The transforms of F(m×m, 3×3): input tile α = m + 2, output tile m.
typedef struct {
    int m, a;
    float bt[6][6];  // Bᵀ, α×α
    float g[6][3];   // G, α×3
    float at[4][6];  // Aᵀ, m×α
} transforms;

static const transforms F2 = {
    2, 4,
    {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
    {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}},
    {{1, 1, 1, 0}, {0, 1, -1, -1}},
};

// Interpolation points 0, ±1, ±2 and ∞ (Lavin and Gray's choice).
static const transforms F4 = {
    4, 6,
    {{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
     {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}},
    {{1.f / 4, 0, 0}, {-1.f / 6, -1.f / 6, -1.f / 6}, {-1.f / 6, 1.f / 6, -1.f / 6},
     {1.f / 24, 1.f / 12, 1.f / 6}, {1.f / 24, -1.f / 12, 1.f / 6}, {0, 0, 1}},
    {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}},
};

static const transforms *of_tile(size_t m) { return m == 4 ? &F4 : &F2; }

size_t le4_winograd_points(size_t m) { return (size_t)(of_tile(m)->a * of_tile(m)->a); }

// Both filter transforms in two small products (G·r, then ·Gᵀ), 9α + 3α² multiply-adds per filter
// instead of 9α².
void le4_winograd_filter(size_t m, size_t k, size_t c, const float *g, int flip, float *u) {
    const transforms *T = of_tile(m);
    const int a = T->a;
    const size_t plane = k * c;
    for (size_t kk = 0; kk < k; kk++)
        for (size_t cc = 0; cc < c; cc++) {
            const float *f = g + (kk * c + cc) * 9;
            float r[9];  // the filter, rotated by 180° for the input gradient
            for (int i = 0; i < 9; i++) r[i] = flip ? f[8 - i] : f[i];
            float t[6][3];  // G·r
            for (int i = 0; i < a; i++)
                for (int q = 0; q < 3; q++) t[i][q] = T->g[i][0] * r[q] + T->g[i][1] * r[3 + q] + T->g[i][2] * r[6 + q];
            float *out = u + (flip ? cc * k + kk : kk * c + cc);
            for (int i = 0; i < a; i++)
                for (int j = 0; j < a; j++)  // (G·r·Gᵀ)[i][j]
                    out[(size_t)(i * a + j) * plane] = t[i][0] * T->g[j][0] + t[i][1] * T->g[j][1] + t[i][2] * T->g[j][2];
        }
}

void le4_winograd_filter_grad(size_t m, size_t k, size_t c, const float *du, float *dg) {
    const transforms *T = of_tile(m);
    const int a = T->a;
    const size_t plane = k * c;
    for (size_t kk = 0; kk < k; kk++)
        for (size_t cc = 0; cc < c; cc++) {
            const float *in = du + kk * c + cc;
            float t[6][3];  // du·G
            for (int i = 0; i < a; i++)
                for (int q = 0; q < 3; q++) {
                    float s = 0;
                    for (int j = 0; j < a; j++) s += in[(size_t)(i * a + j) * plane] * T->g[j][q];
                    t[i][q] = s;
                }
            float *out = dg + (kk * c + cc) * 9;
            for (int p = 0; p < 3; p++)
                for (int q = 0; q < 3; q++) {  // (Gᵀ·du·G)[p][q]
                    float s = 0;
                    for (int i = 0; i < a; i++) s += T->g[i][p] * t[i][q];
                    out[3 * p + q] = s;
                }
        }
}

// One image channels-last, plus spare pixels: zeros for the padding of the input, and the
// destinations of the output pixels of edge tiles that lie past the image (one each).
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

// The tile transforms work on 16 channels at a time as one vector value (a clang/GCC vector type:
// one zmm, two ymm or four xmm registers, as the target has), and on the last c mod 16 channels one
// by one: each transform is written once as a macro over the element type. (Written as plain loops
// over channels, the 36-point transforms of F(4×4) were left scalar by the auto-vectorizer.)
typedef float vfloat __attribute__((vector_size(64), aligned(4), may_alias));
#define LOAD(type, p) (*(const type *)(p))
#define STORE(type, p, v) (*(type *)(p) = (v))

// v = Bᵀ·d·B for one tile at channel ch (d: α×α pointers to channel vectors); each of the α²
// outputs is stored once.
#define INPUT_TILE(name, type)                                                                                   \
    static inline __attribute__((always_inline)) void name(const transforms *T, const float *d[6][6], size_t ch, \
                                                           size_t plane, float *out) {                           \
        const int a = T->a;                                                                                      \
        type t[6][6]; /* Bᵀ·d */                                                                                 \
        for (int i = 0; i < a; i++)                                                                              \
            for (int s = 0; s < a; s++) {                                                                        \
                type acc = {0};                                                                                  \
                for (int r = 0; r < a; r++)                                                                      \
                    if (T->bt[i][r] != 0) acc += T->bt[i][r] * LOAD(type, d[r][s] + ch);                         \
                t[i][s] = acc;                                                                                   \
            }                                                                                                    \
        for (int i = 0; i < a; i++)                                                                              \
            for (int j = 0; j < a; j++) { /* (Bᵀ·d)·B */                                                         \
                type acc = {0};                                                                                  \
                for (int s = 0; s < a; s++)                                                                      \
                    if (T->bt[j][s] != 0) acc += t[i][s] * T->bt[j][s];                                          \
                STORE(type, out + (size_t)(i * a + j) * plane + ch, acc);                                        \
            }                                                                                                    \
    }
INPUT_TILE(input_tile_v, vfloat)
INPUT_TILE(input_tile_s, float)

static inline __attribute__((always_inline)) void input_tiles(const transforms *T, const float *x, size_t n,
                                                              size_t c, size_t h, size_t w, float *scratch,
                                                              float *v, transpose_fn transpose) {
    const size_t m = (size_t)T->m, th = (h + m - 1) / m, tw = (w + m - 1) / m, plane = n * th * tw * c;
    float *hwc = scratch, *zeros = scratch + h * w * c;
    for (size_t ch = 0; ch < c; ch++) zeros[ch] = 0;
    for (size_t b = 0; b < n; b++) {
        transpose(x + b * c * h * w, c, h * w, hwc);
        for (size_t ty = 0; ty < th; ty++)
            for (size_t tx = 0; tx < tw; tx++) {
                const float *d[6][6];
                for (int r = 0; r < T->a; r++)
                    for (int s = 0; s < T->a; s++) {
                        const long iy = (long)(m * ty) - 1 + r, ix = (long)(m * tx) - 1 + s;
                        d[r][s] = iy >= 0 && iy < (long)h && ix >= 0 && ix < (long)w ? hwc + (iy * w + ix) * c : zeros;
                    }
                float *out = v + ((b * th + ty) * tw + tx) * c;
                size_t ch = 0;
                for (; ch + 16 <= c; ch += 16) input_tile_v(T, d, ch, plane, out);
                for (; ch < c; ch++) input_tile_s(T, d, ch, plane, out);
            }
    }
}

// y = Aᵀ·M·A for one tile at channel ch, then the epilogue; o[i][j] receives output pixel (i, j).
#define OUTPUT_TILE(name, type)                                                                                  \
    static inline __attribute__((always_inline)) void name(const transforms *T, const float *in, size_t plane,   \
                                                           size_t ch, const float *scale, const float *shift,    \
                                                           int relu, float *o[4][4]) {                           \
        const int a = T->a, m = T->m;                                                                            \
        type t[4][6]; /* Aᵀ·M */                                                                                 \
        for (int i = 0; i < m; i++)                                                                              \
            for (int j = 0; j < a; j++) {                                                                        \
                type acc = {0};                                                                                  \
                for (int r = 0; r < a; r++)                                                                      \
                    if (T->at[i][r] != 0) acc += T->at[i][r] * LOAD(type, in + (size_t)(r * a + j) * plane + ch); \
                t[i][j] = acc;                                                                                   \
            }                                                                                                    \
        const type zero = {0};                                                                                   \
        const type sc = scale ? LOAD(type, scale + ch) : zero + 1, sh = shift ? LOAD(type, shift + ch) : zero;  \
        for (int i = 0; i < m; i++)                                                                              \
            for (int j = 0; j < m; j++) { /* (Aᵀ·M)·A */                                                         \
                type acc = {0};                                                                                  \
                for (int s = 0; s < a; s++)                                                                      \
                    if (T->at[j][s] != 0) acc += t[i][s] * T->at[j][s];                                          \
                type y = sc * acc + sh;                                                                          \
                if (relu) y = __builtin_elementwise_max(y, zero);                                                \
                STORE(type, o[i][j] + ch, y);                                                                    \
            }                                                                                                    \
    }
OUTPUT_TILE(output_tile_v, vfloat)
OUTPUT_TILE(output_tile_s, float)

static inline __attribute__((always_inline)) void output_tiles(const transforms *T, const float *mm, size_t n,
                                                               size_t k, size_t h, size_t w, const float *scale,
                                                               const float *shift, int relu, float *scratch,
                                                               float *y, transpose_fn transpose) {
    const size_t m = (size_t)T->m, th = (h + m - 1) / m, tw = (w + m - 1) / m, plane = n * th * tw * k;
    float *hwc = scratch, *spare = scratch + h * w * k;
    for (size_t b = 0; b < n; b++) {
        for (size_t ty = 0; ty < th; ty++)
            for (size_t tx = 0; tx < tw; tx++) {
                float *o[4][4];
                for (size_t i = 0; i < m; i++)
                    for (size_t j = 0; j < m; j++) {
                        const size_t oy = m * ty + i, ox = m * tx + j;
                        o[i][j] = oy < h && ox < w ? hwc + (oy * w + ox) * k : spare + (i * m + j) * k;
                    }
                const float *in = mm + ((b * th + ty) * tw + tx) * k;
                size_t ch = 0;
                for (; ch + 16 <= k; ch += 16) output_tile_v(T, in, plane, ch, scale, shift, relu, o);
                for (; ch < k; ch++) output_tile_s(T, in, plane, ch, scale, shift, relu, o);
            }
        transpose(hwc, h * w, k, y + b * k * h * w);
    }
}

// w = A·e·Aᵀ for the m×m gradient block e of one tile (pointers to channel vectors) at channel ch.
#define OUTPUT_GRAD_TILE(name, type)                                                                             \
    static inline __attribute__((always_inline)) void name(const transforms *T, const float *e[4][4], size_t ch, \
                                                           size_t plane, float *out) {                           \
        const int a = T->a, m = T->m;                                                                            \
        type t[4][6]; /* e·Aᵀ */                                                                                 \
        for (int i = 0; i < m; i++)                                                                              \
            for (int j = 0; j < a; j++) {                                                                        \
                type acc = {0};                                                                                  \
                for (int s = 0; s < m; s++)                                                                      \
                    if (T->at[s][j] != 0) acc += LOAD(type, e[i][s] + ch) * T->at[s][j];                         \
                t[i][j] = acc;                                                                                   \
            }                                                                                                    \
        for (int i = 0; i < a; i++)                                                                              \
            for (int j = 0; j < a; j++) { /* A·(e·Aᵀ) */                                                         \
                type acc = {0};                                                                                  \
                for (int r = 0; r < m; r++)                                                                      \
                    if (T->at[r][i] != 0) acc += T->at[r][i] * t[r][j];                                          \
                STORE(type, out + (size_t)(i * a + j) * plane + ch, acc);                                        \
            }                                                                                                    \
    }
OUTPUT_GRAD_TILE(output_grad_tile_v, vfloat)
OUTPUT_GRAD_TILE(output_grad_tile_s, float)

static inline __attribute__((always_inline)) void output_grad_tiles(const transforms *T, const float *dy, size_t n,
                                                                    size_t k, size_t h, size_t w, float *scratch,
                                                                    float *out, transpose_fn transpose) {
    const size_t m = (size_t)T->m, th = (h + m - 1) / m, tw = (w + m - 1) / m, plane = n * th * tw * k;
    float *hwc = scratch, *zeros = scratch + h * w * k;
    for (size_t ch = 0; ch < k; ch++) zeros[ch] = 0;
    for (size_t b = 0; b < n; b++) {
        transpose(dy + b * k * h * w, k, h * w, hwc);
        for (size_t ty = 0; ty < th; ty++)
            for (size_t tx = 0; tx < tw; tx++) {
                const float *e[4][4];
                for (size_t i = 0; i < m; i++)
                    for (size_t j = 0; j < m; j++) {
                        const size_t oy = m * ty + i, ox = m * tx + j;
                        e[i][j] = oy < h && ox < w ? hwc + (oy * w + ox) * k : zeros;
                    }
                float *o = out + ((b * th + ty) * tw + tx) * k;
                size_t ch = 0;
                for (; ch + 16 <= k; ch += 16) output_grad_tile_v(T, e, ch, plane, o);
                for (; ch < k; ch++) output_grad_tile_s(T, e, ch, plane, o);
            }
    }
}

// One function per tile size and instruction set, so that each body is compiled with constant
// transforms and the target's vectors.
#define LE4_WINOGRAD_VARIANT(name, F, target, transpose)                                                  \
    target static void input_##name(const float *x, size_t n, size_t c, size_t h, size_t w,              \
                                    float *scratch, float *v) {                                          \
        input_tiles(&F, x, n, c, h, w, scratch, v, transpose_##transpose);                               \
    }                                                                                                    \
    target static void output_##name(const float *m, size_t n, size_t k, size_t h, size_t w,             \
                                     const float *scale, const float *shift, int relu, float *scratch,   \
                                     float *y) {                                                         \
        output_tiles(&F, m, n, k, h, w, scale, shift, relu, scratch, y, transpose_##transpose);          \
    }                                                                                                    \
    target static void output_grad_##name(const float *dy, size_t n, size_t k, size_t h, size_t w,       \
                                          float *scratch, float *out) {                                  \
        output_grad_tiles(&F, dy, n, k, h, w, scratch, out, transpose_##transpose);                      \
    }

LE4_WINOGRAD_VARIANT(f2_portable, F2, , portable)
LE4_WINOGRAD_VARIANT(f2_avx2, F2, __attribute__((target("avx2,fma"))), avx2)
LE4_WINOGRAD_VARIANT(f2_avx512, F2, __attribute__((target("avx512f"))), avx2)
LE4_WINOGRAD_VARIANT(f4_portable, F4, , portable)
LE4_WINOGRAD_VARIANT(f4_avx2, F4, __attribute__((target("avx2,fma"))), avx2)
LE4_WINOGRAD_VARIANT(f4_avx512, F4, __attribute__((target("avx512f"))), avx2)

// Picks the variant for tile size m and the instruction set.
#define LE4_WINOGRAD_DISPATCH(fn, m, isa, ...)                                                           \
    do {                                                                                                 \
        if (m == 4) {                                                                                    \
            if (isa == LE4_ISA_AVX512) fn##_f4_avx512(__VA_ARGS__);                                      \
            else if (isa == LE4_ISA_AVX2) fn##_f4_avx2(__VA_ARGS__);                                     \
            else fn##_f4_portable(__VA_ARGS__);                                                          \
        } else {                                                                                         \
            if (isa == LE4_ISA_AVX512) fn##_f2_avx512(__VA_ARGS__);                                      \
            else if (isa == LE4_ISA_AVX2) fn##_f2_avx2(__VA_ARGS__);                                     \
            else fn##_f2_portable(__VA_ARGS__);                                                          \
        }                                                                                                \
    } while (0)

void le4_winograd_input(le4_isa isa, size_t m, const float *x, size_t n, size_t c, size_t h, size_t w,
                        float *scratch, float *v) {
    LE4_WINOGRAD_DISPATCH(input, m, isa, x, n, c, h, w, scratch, v);
}

void le4_winograd_output(le4_isa isa, size_t m, const float *mm, size_t n, size_t k, size_t h, size_t w,
                         const float *scale, const float *shift, int relu, float *scratch, float *y) {
    LE4_WINOGRAD_DISPATCH(output, m, isa, mm, n, k, h, w, scale, shift, relu, scratch, y);
}

void le4_winograd_output_grad(le4_isa isa, size_t m, const float *dy, size_t n, size_t k, size_t h, size_t w,
                              float *scratch, float *out) {
    LE4_WINOGRAD_DISPATCH(output_grad, m, isa, dy, n, k, h, w, scratch, out);
}
