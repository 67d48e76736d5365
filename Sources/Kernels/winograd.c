// Winograd F(2×2, 3×3) transforms (see kernels.h). The GEMMs between them are gemm.c's.
//
// Each image is first turned channels-last (pixel by pixel, channels contiguous), so that a tile's
// transform is a handful of additions of whole channel vectors: the inner loops run over channels
// and the compiler vectorizes them. (Along rows, the tiles of the small feature maps here are
// too few, 4 to 16, for vectors.) The bodies are written once and compiled once per instruction
// set by the thin wrappers at the end.
#include "kernels.h"
#include "transpose8x8.h"

void le4_winograd_f2_filter(size_t k, size_t c, const float *g, int flip, float *u) {
    const size_t plane = k * c;
    for (size_t kk = 0; kk < k; kk++)
        for (size_t cc = 0; cc < c; cc++) {
            const float *f = g + (kk * c + cc) * 9;
            float r[9];  // the filter, rotated by 180° for the input gradient
            for (int i = 0; i < 9; i++) r[i] = flip ? f[8 - i] : f[i];
            float t[4][3];  // G·r, G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
            for (int j = 0; j < 3; j++) {
                t[0][j] = r[j];
                t[1][j] = 0.5f * (r[j] + r[3 + j] + r[6 + j]);
                t[2][j] = 0.5f * (r[j] - r[3 + j] + r[6 + j]);
                t[3][j] = r[6 + j];
            }
            float *out = u + (flip ? cc * k + kk : kk * c + cc);
            for (int i = 0; i < 4; i++) {  // (G·r)·Gᵀ
                out[(4 * i + 0) * plane] = t[i][0];
                out[(4 * i + 1) * plane] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
                out[(4 * i + 2) * plane] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
                out[(4 * i + 3) * plane] = t[i][2];
            }
        }
}

void le4_winograd_f2_filter_grad(size_t k, size_t c, const float *du, float *dg) {
    const size_t plane = k * c;
    for (size_t kk = 0; kk < k; kk++)
        for (size_t cc = 0; cc < c; cc++) {
            const float *in = du + kk * c + cc;
            float t[4][3];  // du·G, G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
            for (int i = 0; i < 4; i++) {
                const float d0 = in[4 * i * plane], d1 = in[(4 * i + 1) * plane];
                const float d2 = in[(4 * i + 2) * plane], d3 = in[(4 * i + 3) * plane];
                t[i][0] = d0 + 0.5f * (d1 + d2);
                t[i][1] = 0.5f * (d1 - d2);
                t[i][2] = 0.5f * (d1 + d2) + d3;
            }
            float *out = dg + (kk * c + cc) * 9;
            for (int j = 0; j < 3; j++) {  // Gᵀ·(du·G)
                out[j] = t[0][j] + 0.5f * (t[1][j] + t[2][j]);
                out[3 + j] = 0.5f * (t[1][j] - t[2][j]);
                out[6 + j] = 0.5f * (t[1][j] + t[2][j]) + t[3][j];
            }
        }
}

// One image channels-last, plus three spare pixels: zeros for the padding of the input, and the
// destinations of the output pixels of edge tiles that lie past the image.
size_t le4_winograd_f2_scratch(size_t c, size_t h, size_t w) { return (h * w + 3) * c; }

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

// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]; v = Bᵀ·d·B for one tile, all channels, in one
// pass: each of the 16 outputs is stored once.
static inline __attribute__((always_inline)) void input_tile(const float *d[4][4], size_t c, size_t plane,
                                                             float *restrict out) {
    for (size_t ch = 0; ch < c; ch++) {
        float t[4][4];  // Bᵀ·d
        for (int s = 0; s < 4; s++) {
            const float d0 = d[0][s][ch], d1 = d[1][s][ch], d2 = d[2][s][ch], d3 = d[3][s][ch];
            t[0][s] = d0 - d2;
            t[1][s] = d1 + d2;
            t[2][s] = d2 - d1;
            t[3][s] = d1 - d3;
        }
        for (int a = 0; a < 4; a++) {  // (Bᵀ·d)·B
            out[4 * a * plane + ch] = t[a][0] - t[a][2];
            out[(4 * a + 1) * plane + ch] = t[a][1] + t[a][2];
            out[(4 * a + 2) * plane + ch] = t[a][2] - t[a][1];
            out[(4 * a + 3) * plane + ch] = t[a][1] - t[a][3];
        }
    }
}

static inline __attribute__((always_inline)) void input_tiles(const float *x, size_t n, size_t c, size_t h, size_t w,
                                                              float *scratch, float *v, transpose_fn transpose) {
    const size_t th = (h + 1) / 2, tw = (w + 1) / 2, plane = n * th * tw * c;
    float *hwc = scratch, *zeros = scratch + h * w * c;
    for (size_t ch = 0; ch < c; ch++) zeros[ch] = 0;
    for (size_t b = 0; b < n; b++) {
        transpose(x + b * c * h * w, c, h * w, hwc);
        for (size_t ty = 0; ty < th; ty++)
            for (size_t tx = 0; tx < tw; tx++) {
                const float *d[4][4];
                for (int r = 0; r < 4; r++)
                    for (int s = 0; s < 4; s++) {
                        const long iy = (long)(2 * ty) - 1 + r, ix = (long)(2 * tx) - 1 + s;
                        d[r][s] = iy >= 0 && iy < (long)h && ix >= 0 && ix < (long)w ? hwc + (iy * w + ix) * c : zeros;
                    }
                input_tile(d, c, plane, v + ((b * th + ty) * tw + tx) * c);
            }
    }
}

// Aᵀ = [1 1 1 0; 0 1 −1 −1]; y = Aᵀ·m·A for one tile, all channels, then the epilogue.
static inline __attribute__((always_inline)) void output_tile(const float *restrict in, size_t plane, size_t k,
                                                              const float *restrict scale,
                                                              const float *restrict shift, int relu,
                                                              float *restrict o00, float *restrict o01,
                                                              float *restrict o10, float *restrict o11) {
    for (size_t ch = 0; ch < k; ch++) {
        float r0[4], r1[4];
        for (int j = 0; j < 4; j++) {
            const float m0 = in[j * plane + ch], m1 = in[(4 + j) * plane + ch];
            const float m2 = in[(8 + j) * plane + ch], m3 = in[(12 + j) * plane + ch];
            r0[j] = m0 + m1 + m2;
            r1[j] = m1 - m2 - m3;
        }
        const float a = scale ? scale[ch] : 1, s = shift ? shift[ch] : 0;
        float y00 = a * (r0[0] + r0[1] + r0[2]) + s, y01 = a * (r0[1] - r0[2] - r0[3]) + s;
        float y10 = a * (r1[0] + r1[1] + r1[2]) + s, y11 = a * (r1[1] - r1[2] - r1[3]) + s;
        if (relu) {
            y00 = y00 > 0 ? y00 : 0; y01 = y01 > 0 ? y01 : 0;
            y10 = y10 > 0 ? y10 : 0; y11 = y11 > 0 ? y11 : 0;
        }
        o00[ch] = y00; o01[ch] = y01; o10[ch] = y10; o11[ch] = y11;
    }
}

static inline __attribute__((always_inline)) void output_tiles(const float *m, size_t n, size_t k, size_t h,
                                                               size_t w, const float *scale, const float *shift,
                                                               int relu, float *scratch, float *y,
                                                               transpose_fn transpose) {
    const size_t th = (h + 1) / 2, tw = (w + 1) / 2, plane = n * th * tw * k, hw = h * w;
    float *hwc = scratch, *spare = scratch + hw * k;  // three spare pixels: one per corner that can fall outside
    for (size_t b = 0; b < n; b++) {
        for (size_t ty = 0; ty < th; ty++)
            for (size_t tx = 0; tx < tw; tx++) {
                const int down = 2 * ty + 1 < h, right = 2 * tx + 1 < w;
                float *o00 = hwc + ((2 * ty) * w + 2 * tx) * k;
                output_tile(m + ((b * th + ty) * tw + tx) * k, plane, k, scale, shift, relu, o00,
                            right ? o00 + k : spare, down ? o00 + w * k : spare + k,
                            down && right ? o00 + (w + 1) * k : spare + 2 * k);
            }
        transpose(hwc, hw, k, y + b * k * hw);
    }
}

// A = [1 0; 1 1; 1 −1; 0 −1]; w = A·e·Aᵀ for the 2×2 gradient block e of one tile, all channels.
static inline __attribute__((always_inline)) void output_grad_tiles(const float *dy, size_t n, size_t k, size_t h,
                                                                    size_t w, float *scratch, float *out,
                                                                    transpose_fn transpose) {
    const size_t th = (h + 1) / 2, tw = (w + 1) / 2, plane = n * th * tw * k;
    float *hwc = scratch, *zeros = scratch + h * w * k;
    for (size_t ch = 0; ch < k; ch++) zeros[ch] = 0;
    for (size_t b = 0; b < n; b++) {
        transpose(dy + b * k * h * w, k, h * w, hwc);
        for (size_t ty = 0; ty < th; ty++)
            for (size_t tx = 0; tx < tw; tx++) {
                const int down = 2 * ty + 1 < h, right = 2 * tx + 1 < w;
                const float *restrict e00 = hwc + ((2 * ty) * w + 2 * tx) * k;
                const float *restrict e01 = right ? e00 + k : zeros;
                const float *restrict e10 = down ? e00 + w * k : zeros;
                const float *restrict e11 = down && right ? e00 + (w + 1) * k : zeros;
                float *restrict o = out + ((b * th + ty) * tw + tx) * k;
                for (size_t ch = 0; ch < k; ch++) {
                    // rows of e·Aᵀ: (p, p + q, p − q, −q) for each row (p, q) of e
                    const float r0[4] = {e00[ch], e00[ch] + e01[ch], e00[ch] - e01[ch], -e01[ch]};
                    const float r1[4] = {e10[ch], e10[ch] + e11[ch], e10[ch] - e11[ch], -e11[ch]};
                    for (int j = 0; j < 4; j++) {  // A·(e·Aᵀ), column j
                        o[j * plane + ch] = r0[j];
                        o[(4 + j) * plane + ch] = r0[j] + r1[j];
                        o[(8 + j) * plane + ch] = r0[j] - r1[j];
                        o[(12 + j) * plane + ch] = -r1[j];
                    }
                }
            }
    }
}

#define LE4_WINOGRAD_VARIANT(suffix, target, transpose)                                                           \
    target static void input_##suffix(const float *x, size_t n, size_t c, size_t h, size_t w,            \
                                      float *scratch, float *v) {                                        \
        input_tiles(x, n, c, h, w, scratch, v, transpose_##transpose);                                   \
    }                                                                                                    \
    target static void output_##suffix(const float *m, size_t n, size_t k, size_t h, size_t w,           \
                                       const float *scale, const float *shift, int relu, float *scratch, \
                                       float *y) {                                                       \
        output_tiles(m, n, k, h, w, scale, shift, relu, scratch, y, transpose_##transpose);              \
    }                                                                                                    \
    target static void output_grad_##suffix(const float *dy, size_t n, size_t k, size_t h, size_t w,     \
                                            float *scratch, float *out) {                                \
        output_grad_tiles(dy, n, k, h, w, scratch, out, transpose_##transpose);                          \
    }

LE4_WINOGRAD_VARIANT(portable, , portable)
LE4_WINOGRAD_VARIANT(avx2, __attribute__((target("avx2,fma"))), avx2)
LE4_WINOGRAD_VARIANT(avx512, __attribute__((target("avx512f"))), avx2)

void le4_winograd_f2_input(le4_isa isa, const float *x, size_t n, size_t c, size_t h, size_t w,
                           float *scratch, float *v) {
    switch (isa) {
    case LE4_ISA_AVX512: input_avx512(x, n, c, h, w, scratch, v); break;
    case LE4_ISA_AVX2: input_avx2(x, n, c, h, w, scratch, v); break;
    default: input_portable(x, n, c, h, w, scratch, v);
    }
}

void le4_winograd_f2_output(le4_isa isa, const float *m, size_t n, size_t k, size_t h, size_t w,
                            const float *scale, const float *shift, int relu, float *scratch, float *y) {
    switch (isa) {
    case LE4_ISA_AVX512: output_avx512(m, n, k, h, w, scale, shift, relu, scratch, y); break;
    case LE4_ISA_AVX2: output_avx2(m, n, k, h, w, scale, shift, relu, scratch, y); break;
    default: output_portable(m, n, k, h, w, scale, shift, relu, scratch, y);
    }
}

void le4_winograd_f2_output_grad(le4_isa isa, const float *dy, size_t n, size_t k, size_t h, size_t w,
                                 float *scratch, float *out) {
    switch (isa) {
    case LE4_ISA_AVX512: output_grad_avx512(dy, n, k, h, w, scratch, out); break;
    case LE4_ISA_AVX2: output_grad_avx2(dy, n, k, h, w, scratch, out); break;
    default: output_grad_portable(dy, n, k, h, w, scratch, out);
    }
}
