// Direct 3×3 convolution, stride 1, padding 1, for inputs of few channels (see kernels.h). The
// first layer of a net sees 1 or 3 channels: as im2col and a GEMM its products are 9 or 27 deep,
// so the GEMM spends its time packing; here each output row is computed in vectors of 16 pixels
// from a zero-padded copy of the image, 9·C multiply-adds per vector.
#include <string.h>

#include "kernels.h"
#include "kernel_variants.h"
#include "vfloat.h"

// The padded copy of an image: each row holds the image row at columns 1…w, zeros around it, and
// is rounded up so that reading 16 lanes from column 16v + j (j ≤ 2) of any vector v stays inside.
static inline size_t vectors(size_t w) { return (w + VLANES - 1) / VLANES; }
static inline size_t padded_row(size_t w) { return (vectors(w) + 1) * VLANES; }

size_t le4_conv3x3_scratch(size_t c, size_t h, size_t w) { return c * (h + 2) * padded_row(w); }

// dst[0…n) = src[0…n) for the n < 16 lanes of a row's last, partial vector (rows of 28 end in 12),
// in fixed-size moves: a memcpy call per row end cost more than the row's arithmetic.
static inline __attribute__((always_inline)) void copy_lanes(float *dst, const float *src, size_t n) {
    size_t i = 0;
    if (n & 8) { __builtin_memcpy_inline(dst, src, 8 * sizeof(float)); i = 8; }
    if (n & 4) { __builtin_memcpy_inline(dst + i, src + i, 4 * sizeof(float)); i += 4; }
    if (n & 2) { __builtin_memcpy_inline(dst + i, src + i, 2 * sizeof(float)); i += 2; }
    if (n & 1) dst[i] = src[i];
}

// Lanes 0…n−1 of vector v of a row of w pixels.
static inline size_t lanes_of(size_t w, size_t v) { return w - v * VLANES < VLANES ? w - v * VLANES : VLANES; }

// Where vector v of a row of w pixels starts. In a row at least a vector wide the last vector ends
// at the row's end, overlapping the one before by (v·16 − start) lanes, so that every load and
// store is whole: partial ones went through a buffer whose reload stalled on the store before it.
static inline size_t start_of(size_t w, size_t v) {
    return w >= VLANES && (v + 1) * VLANES > w ? w - VLANES : v * VLANES;
}

// xp[ch][r][q] = x[ch][r − 1][q − 1], zero outside the image.
static inline __attribute__((always_inline)) void pad_image(const float *x, size_t c, size_t h, size_t w, float *xp) {
    const size_t row = padded_row(w), nv = vectors(w);
    memset(xp, 0, c * (h + 2) * row * sizeof(float));
    for (size_t ch = 0; ch < c; ch++)
        for (size_t r = 0; r < h; r++) {
            const float *src = x + (ch * h + r) * w;
            float *dst = xp + (ch * (h + 2) + r + 1) * row + 1;
            for (size_t v = 0; v < nv; v++) {
                const size_t n = lanes_of(w, v);
                if (n == VLANES) STORE(vfloat, dst + v * VLANES, LOAD(vfloat, src + v * VLANES));
                else copy_lanes(dst + v * VLANES, src + v * VLANES, n);
            }
        }
}

// y[kk][oh][ow] = Σ_{ch,i,j} g[kk][ch][i][j]·xp[ch][oh + i][ow + j], then the epilogue.
static inline __attribute__((always_inline)) void forward_body(const float *x, size_t c, size_t h, size_t w,
                                                               const float *g, size_t k, const float *scale,
                                                               const float *shift, int relu, float *xp, float *y) {
    const size_t row = padded_row(w), nv = vectors(w);
    const vfloat zero = {0};
    pad_image(x, c, h, w, xp);
    for (size_t oh = 0; oh < h; oh++)
        for (size_t v = 0; v < nv; v++) {
            // An overlapping last vector recomputes its first lanes and stores the same values again.
            const size_t ow = start_of(w, v), n = w >= VLANES ? VLANES : lanes_of(w, v);
            for (size_t kk = 0; kk < k; kk++) {
                const float *f = g + kk * c * 9;
                vfloat acc = zero;
                for (size_t ch = 0; ch < c; ch++)
                    for (int i = 0; i < 3; i++) {
                        const float *src = xp + (ch * (h + 2) + oh + i) * row + ow, *fi = f + ch * 9 + i * 3;
                        acc += fi[0] * LOAD(vfloat, src) + fi[1] * LOAD(vfloat, src + 1) + fi[2] * LOAD(vfloat, src + 2);
                    }
                acc = (scale ? scale[kk] : 1.0f) * acc + (shift ? shift[kk] : 0.0f);
                if (relu) acc = __builtin_elementwise_max(acc, zero);
                float *dst = y + (kk * h + oh) * w + ow;
                if (n == VLANES) {
                    STORE(vfloat, dst, acc);
                } else {
                    float lanes[VLANES];
                    STORE(vfloat, lanes, acc);
                    copy_lanes(dst, lanes, n);
                }
            }
        }
}

// dg[kk][ch][i][j] += Σ_{oh,ow} dy[kk][oh][ow]·xp[ch][oh + i][ow + j]: nine vector sums per filter
// plane. Lanes of dy that are not the vector's own are zeros, so they add nothing: past the end of
// a row narrower than a vector, and the lanes an overlapping last vector shares with the one before.
static inline __attribute__((always_inline)) void filter_grad_body(const float *x, size_t c, size_t h, size_t w,
                                                                   const float *dy, size_t k, float *xp, float *dg) {
    const size_t row = padded_row(w), nv = vectors(w);
    pad_image(x, c, h, w, xp);
    const vfloat zero = {0};
    vmask fresh;  // the lanes of the last vector not already counted by the one before
    for (int l = 0; l < VLANES; l++) fresh[l] = (size_t)l >= (nv - 1) * VLANES - start_of(w, nv - 1) ? -1 : 0;
    for (size_t kk = 0; kk < k; kk++)
        for (size_t ch = 0; ch < c; ch++) {
            vfloat acc[9];
            for (int t = 0; t < 9; t++) acc[t] = zero;
            for (size_t oh = 0; oh < h; oh++)
                for (size_t v = 0; v < nv; v++) {
                    const size_t ow = start_of(w, v);
                    const float *src = dy + (kk * h + oh) * w + ow;
                    vfloat d;
                    if (w < VLANES) {
                        float lanes[VLANES] = {0};
                        copy_lanes(lanes, src, w);
                        d = LOAD(vfloat, lanes);
                    } else {
                        d = LOAD(vfloat, src);
                        if (v == nv - 1) d = (vfloat)((vmask)d & fresh);
                    }
                    for (int i = 0; i < 3; i++) {
                        const float *p = xp + (ch * (h + 2) + oh + i) * row + ow;
                        acc[3 * i] += d * LOAD(vfloat, p);
                        acc[3 * i + 1] += d * LOAD(vfloat, p + 1);
                        acc[3 * i + 2] += d * LOAD(vfloat, p + 2);
                    }
                }
            float *out = dg + (kk * c + ch) * 9;
            for (int t = 0; t < 9; t++) {
                float s = 0;
                for (int l = 0; l < VLANES; l++) s += acc[t][l];
                out[t] += s;
            }
        }
}

#define LE4_CONV3X3_VARIANT(name, ENUM, detect, target, helpers)                                               \
    target void le4_conv3x3_forward_##name(const float *x, size_t c, size_t h, size_t w, const float *g,       \
                                      size_t k, const float *scale, const float *shift, int relu,              \
                                      float *scratch, float *y) {                                              \
        forward_body(x, c, h, w, g, k, scale, shift, relu, scratch, y);                                        \
    }                                                                                                          \
    target void le4_conv3x3_filter_grad_##name(const float *x, size_t c, size_t h, size_t w, const float *dy,  \
                                          size_t k, float *scratch, float *dg) {                               \
        filter_grad_body(x, c, h, w, dy, k, scratch, dg);                                                      \
    }

LE4_ISA_LIST(LE4_CONV3X3_VARIANT)
