// Winograd F(2×2, 3×3) transforms (see kernels.h). The GEMMs between them are gemm.c's.
//
// Both tile transforms are separable: the 1-D transform along a row of tiles, then along the
// four rows of a tile row. Along a row the patches of neighbouring tiles overlap by two pixels,
// so the row is first split into its odd and even pixels; then every 1-D transform is a plain
// loop over tiles that the compiler vectorizes. The bodies are written once and compiled once
// per instruction set by the thin wrappers at the end.
#include "kernels.h"

enum { SPAN = 64 };  // tiles of a row transformed together (stack arrays of SPAN + 1)

void le4_winograd_f2_filter(size_t k, size_t c, const float *g, int flip, float *u) {
    const size_t plane = k * c;
    for (size_t kk = 0; kk < k; kk++)
        for (size_t cc = 0; cc < c; cc++) {
            const float *f = g + (kk * c + cc) * 9;
            float r[9];  // the filter, rotated by 180° for the input gradient
            for (int i = 0; i < 9; i++) r[i] = flip ? f[8 - i] : f[i];
            float t[4][3];  // G·r
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

// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
static inline __attribute__((always_inline)) void input_tiles(const float *x, size_t n, size_t c, size_t h,
                                                              size_t w, float *v, size_t ldv) {
    const size_t th = (h + 1) / 2, tw = (w + 1) / 2, plane = c * ldv;
    for (size_t b = 0; b < n; b++)
        for (size_t ch = 0; ch < c; ch++) {
            const float *img = x + (b * c + ch) * h * w;
            for (size_t ty = 0; ty < th; ty++)
                for (size_t t0 = 0; t0 < tw; t0 += SPAN) {
                    const size_t cnt = tw - t0 < SPAN ? tw - t0 : SPAN;
                    float t[4][4][SPAN];  // [patch row][Bᵀ row along x][tile]
                    for (int r = 0; r < 4; r++) {
                        // odd[i] = row[2(t0 + i) − 1], even[i] = row[2(t0 + i)], 0 outside the image
                        float odd[SPAN + 1], even[SPAN + 1];
                        const long iy = (long)(2 * ty + r) - 1;
                        if (iy < 0 || iy >= (long)h) {
                            for (size_t i = 0; i <= cnt; i++) odd[i] = even[i] = 0;
                        } else {
                            const float *row = img + iy * w;
                            for (size_t i = 0; i <= cnt; i++) {
                                const long xo = 2 * (long)(t0 + i) - 1, xe = xo + 1;
                                odd[i] = xo >= 0 && xo < (long)w ? row[xo] : 0;
                                even[i] = xe < (long)w ? row[xe] : 0;
                            }
                        }
                        for (size_t i = 0; i < cnt; i++) {
                            t[r][0][i] = odd[i] - odd[i + 1];
                            t[r][1][i] = even[i] + odd[i + 1];
                            t[r][2][i] = odd[i + 1] - even[i];
                            t[r][3][i] = even[i] - even[i + 1];
                        }
                    }
                    float *out = v + ch * ldv + (b * th + ty) * tw + t0;
                    for (int j = 0; j < 4; j++)
                        for (size_t i = 0; i < cnt; i++) {
                            out[(0 + j) * plane + i] = t[0][j][i] - t[2][j][i];
                            out[(4 + j) * plane + i] = t[1][j][i] + t[2][j][i];
                            out[(8 + j) * plane + i] = t[2][j][i] - t[1][j][i];
                            out[(12 + j) * plane + i] = t[1][j][i] - t[3][j][i];
                        }
                }
        }
}

// Aᵀ = [1 1 1 0; 0 1 −1 −1]
static inline __attribute__((always_inline)) void output_tiles(const float *m, size_t ldm, size_t n, size_t k,
                                                               size_t h, size_t w, const float *scale,
                                                               const float *shift, int relu, float *y) {
    const size_t th = (h + 1) / 2, tw = (w + 1) / 2, plane = k * ldm;
    for (size_t b = 0; b < n; b++)
        for (size_t ch = 0; ch < k; ch++) {
            const float a = scale ? scale[ch] : 1, s = shift ? shift[ch] : 0;
            float *img = y + (b * k + ch) * h * w;
            for (size_t ty = 0; ty < th; ty++)
                for (size_t t0 = 0; t0 < tw; t0 += SPAN) {
                    const size_t cnt = tw - t0 < SPAN ? tw - t0 : SPAN;
                    const float *in = m + ch * ldm + (b * th + ty) * tw + t0;
                    float r[2][4][SPAN];  // [output row][column of m][tile]
                    for (int j = 0; j < 4; j++)
                        for (size_t i = 0; i < cnt; i++) {
                            const float m0 = in[j * plane + i], m1 = in[(4 + j) * plane + i];
                            const float m2 = in[(8 + j) * plane + i], m3 = in[(12 + j) * plane + i];
                            r[0][j][i] = m0 + m1 + m2;
                            r[1][j][i] = m1 - m2 - m3;
                        }
                    for (int oy = 0; oy < 2; oy++) {
                        if (2 * ty + oy >= h) break;
                        float left[SPAN], right[SPAN];
                        for (size_t i = 0; i < cnt; i++) {
                            float l = a * (r[oy][0][i] + r[oy][1][i] + r[oy][2][i]) + s;
                            float rt = a * (r[oy][1][i] - r[oy][2][i] - r[oy][3][i]) + s;
                            left[i] = relu && l < 0 ? 0 : l;
                            right[i] = relu && rt < 0 ? 0 : rt;
                        }
                        float *row = img + (2 * ty + oy) * w + 2 * t0;
                        const size_t pairs = 2 * (t0 + cnt) <= w ? cnt : cnt - 1;  // odd w: last tile is half
                        for (size_t i = 0; i < pairs; i++) { row[2 * i] = left[i]; row[2 * i + 1] = right[i]; }
                        if (pairs < cnt) row[2 * pairs] = left[pairs];
                    }
                }
        }
}

#define LE4_WINOGRAD_VARIANT(suffix, target)                                                            \
    target static void input_##suffix(const float *x, size_t n, size_t c, size_t h, size_t w, float *v, \
                                      size_t ldv) {                                                     \
        input_tiles(x, n, c, h, w, v, ldv);                                                             \
    }                                                                                                   \
    target static void output_##suffix(const float *m, size_t ldm, size_t n, size_t k, size_t h,        \
                                       size_t w, const float *scale, const float *shift, int relu,      \
                                       float *y) {                                                      \
        output_tiles(m, ldm, n, k, h, w, scale, shift, relu, y);                                        \
    }

LE4_WINOGRAD_VARIANT(portable, )
LE4_WINOGRAD_VARIANT(avx2, __attribute__((target("avx2,fma"))))
LE4_WINOGRAD_VARIANT(avx512, __attribute__((target("avx512f"))))

void le4_winograd_f2_input(le4_isa isa, const float *x, size_t n, size_t c, size_t h, size_t w,
                           float *v, size_t ldv) {
    switch (isa) {
    case LE4_ISA_AVX512: input_avx512(x, n, c, h, w, v, ldv); break;
    case LE4_ISA_AVX2: input_avx2(x, n, c, h, w, v, ldv); break;
    default: input_portable(x, n, c, h, w, v, ldv);
    }
}

void le4_winograd_f2_output(le4_isa isa, const float *m, size_t ldm, size_t n, size_t k, size_t h,
                            size_t w, const float *scale, const float *shift, int relu, float *y) {
    switch (isa) {
    case LE4_ISA_AVX512: output_avx512(m, ldm, n, k, h, w, scale, shift, relu, y); break;
    case LE4_ISA_AVX2: output_avx2(m, ldm, n, k, h, w, scale, shift, relu, y); break;
    default: output_portable(m, ldm, n, k, h, w, scale, shift, relu, y);
    }
}
